/* SPDX-License-Identifier: ISC */
/* url: the parser and the transport policy (https, or http on loopback). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "url.h"

struct ucase {
	const char *in;
	int ok;           /* url_parse succeeds */
	const char *host; /* expected host */
	int port;
	int loopback;
	int upstream_ok; /* url_check_upstream succeeds */
	const char *why; /* part of the error when !ok */
};

#define BAD(in, why)                                                           \
	{                                                                      \
		in, 0, NULL, 0, 0, 0, why                                      \
	}

static const struct ucase cases[] = {
	/* Schemes, default and explicit ports. */
	{ "https://mcp.example.com/presto/mcp", 1, "mcp.example.com", 443, 0, 1,
	    NULL },
	{ "https://example.com", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com/", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com:8443", 1, "example.com", 8443, 0, 1, NULL },
	{ "https://example.com:443/", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com:80/", 1, "example.com", 80, 0, 1, NULL },
	{ "https://example.com:1/", 1, "example.com", 1, 0, 1, NULL },
	{ "https://example.com:65535/", 1, "example.com", 65535, 0, 1, NULL },
	{ "https://example.com:00443/", 1, "example.com", 443, 0, 1, NULL },
	{ "HTTPS://Mcp.Example.com:8443/x?y=1#z", 1, "Mcp.Example.com", 8443, 0,
	    1, NULL },
	{ "hTtP://localhost/", 1, "localhost", 80, 1, 1, NULL },
	{ "http://mcp.example.com/mcp", 1, "mcp.example.com", 80, 0, 0, NULL },
	{ "http://mcp.example.com:8080/mcp", 1, "mcp.example.com", 8080, 0, 0,
	    NULL },
	/* Path, query and fragment. */
	{ "https://example.com?q=1", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com#frag", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com:444?q", 1, "example.com", 444, 0, 1, NULL },
	{ "https://example.com/a/b?c=d&e=f#g", 1, "example.com", 443, 0, 1,
	    NULL },
	{ "https://example.com/a@b", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com/?u=a:b@c", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com#@evil.com", 1, "example.com", 443, 0, 1, NULL },
	{ "https://example.com/%41%20", 1, "example.com", 443, 0, 1, NULL },
	/* Loopback hosts. */
	{ "http://127.0.0.1:3000/mcp", 1, "127.0.0.1", 3000, 1, 1, NULL },
	{ "http://127.0.0.1/", 1, "127.0.0.1", 80, 1, 1, NULL },
	{ "http://127.5.6.7/mcp", 1, "127.5.6.7", 80, 1, 1, NULL },
	{ "http://127.255.255.255/", 1, "127.255.255.255", 80, 1, 1, NULL },
	{ "http://127.0.0.0/", 1, "127.0.0.0", 80, 1, 1, NULL },
	{ "http://localhost/mcp", 1, "localhost", 80, 1, 1, NULL },
	{ "http://localhost:8080", 1, "localhost", 8080, 1, 1, NULL },
	{ "http://LOCALHOST:1/", 1, "LOCALHOST", 1, 1, 1, NULL },
	{ "http://LocalHost./", 1, "LocalHost.", 80, 1, 1, NULL },
	{ "http://[::1]/", 1, "::1", 80, 1, 1, NULL },
	{ "http://[::1]:8080/mcp", 1, "::1", 8080, 1, 1, NULL },
	{ "https://[::1]", 1, "::1", 443, 1, 1, NULL },
	{ "https://localhost/", 1, "localhost", 443, 1, 1, NULL },
	/* Not loopback, whatever they look like. */
	{ "https://[2001:db8::1]/mcp", 1, "2001:db8::1", 443, 0, 1, NULL },
	{ "https://[2001:db8::1]:8443/", 1, "2001:db8::1", 8443, 0, 1, NULL },
	{ "http://[2001:db8::1]/mcp", 1, "2001:db8::1", 80, 0, 0, NULL },
	{ "http://[::2]/", 1, "::2", 80, 0, 0, NULL },
	{ "http://[::]/", 1, "::", 80, 0, 0, NULL },
	{ "http://128.0.0.1/", 1, "128.0.0.1", 80, 0, 0, NULL },
	{ "http://126.0.0.1/", 1, "126.0.0.1", 80, 0, 0, NULL },
	{ "http://10.0.0.1/", 1, "10.0.0.1", 80, 0, 0, NULL },
	{ "http://0.0.0.0/", 1, "0.0.0.0", 80, 0, 0, NULL },
	{ "http://1127.0.0.1/", 1, "1127.0.0.1", 80, 0, 0, NULL },
	{ "http://127.0.0.1.evil.com/", 1, "127.0.0.1.evil.com", 80, 0, 0,
	    NULL },
	{ "http://127.0.0.1./", 1, "127.0.0.1.", 80, 0, 0, NULL },
	{ "http://localhost.evil.com/", 1, "localhost.evil.com", 80, 0, 0,
	    NULL },
	{ "http://evil-localhost/", 1, "evil-localhost", 80, 0, 0, NULL },
	{ "http://localhostx/", 1, "localhostx", 80, 0, 0, NULL },
	{ "http://localhos/", 1, "localhos", 80, 0, 0, NULL },
	{ "http://localhost../", 1, "localhost..", 80, 0, 0, NULL },
	{ "http://127.0.0.256/", 1, "127.0.0.256", 80, 0, 0, NULL },
	{ "http://127.0.0.1000/", 1, "127.0.0.1000", 80, 0, 0, NULL },
	{ "http://127.0.0/", 1, "127.0.0", 80, 0, 0, NULL },
	{ "http://127.1/", 1, "127.1", 80, 0, 0, NULL },
	{ "http://127.0.0.1.1/", 1, "127.0.0.1.1", 80, 0, 0, NULL },
	{ "http://127..0.1/", 1, "127..0.1", 80, 0, 0, NULL },
	{ "http://127.0.0./", 1, "127.0.0.", 80, 0, 0, NULL },
	/*
	 * Not dotted quads as inet_pton() reads them, so a resolver may look
	 * them up as names: signs, leading zeros, hex, octal.
	 */
	{ "http://127.-0.0.1/", 1, "127.-0.0.1", 80, 0, 0, NULL },
	{ "http://127.+1.0.1/", 1, "127.+1.0.1", 80, 0, 0, NULL },
	{ "http://127.0.0.+1/", 1, "127.0.0.+1", 80, 0, 0, NULL },
	{ "http://127.0.0.099/", 1, "127.0.0.099", 80, 0, 0, NULL },
	{ "http://127.0.0.01/", 1, "127.0.0.01", 80, 0, 0, NULL },
	{ "http://127.00.0.1/", 1, "127.00.0.1", 80, 0, 0, NULL },
	{ "http://0127.0.0.1/", 1, "0127.0.0.1", 80, 0, 0, NULL },
	{ "http://0x7f.0.0.1/", 1, "0x7f.0.0.1", 80, 0, 0, NULL },
	{ "http://2130706433/", 1, "2130706433", 80, 0, 0, NULL },
	/* User info, refused even in the password-less form. */
	BAD("https://user:pass@example.com/", "user info"),
	BAD("https://user@example.com/", "user info"),
	BAD("https://@example.com/", "user info"),
	BAD("http://localhost@evil.com/", "user info"),
	BAD("http://evil.com@localhost/", "user info"),
	BAD("https://[::1]@evil.com/", "user info"),
	/* Spaces and control characters, anywhere. */
	BAD("https://exa mple.com/", "control"),
	BAD(" https://example.com/", "control"),
	BAD("https://example.com/ ", "control"),
	BAD("https://example.com/a b", "control"),
	BAD("https://example.com/\x01", "control"),
	BAD("https://example.com/\t", "control"),
	BAD("https://example.com\r\n/", "control"),
	BAD("https://example.com/\x7f", "control"),
	BAD("https://exam\x1fple.com/", "control"),
	/* Schemes other than http and https, and none at all. */
	BAD("ftp://example.com/", "https://"),
	BAD("example.com/mcp", "https://"),
	BAD("//example.com/", "https://"),
	BAD("https:example.com", "https://"),
	BAD("https:/example.com", "https://"),
	BAD("httpss://example.com", "https://"),
	BAD("ws://example.com", "https://"),
	BAD("file:///etc/passwd", "https://"),
	BAD("", "https://"),
	/* Ports. */
	BAD("https://example.com:0/", "port"),
	BAD("https://example.com:00/", "port"),
	BAD("https://example.com:65536/", "port"),
	BAD("https://example.com:99999/", "port"),
	BAD("https://example.com:4294967297/", "port"),
	BAD("https://example.com:8x/", "port"),
	BAD("https://example.com:x8/", "port"),
	BAD("https://example.com:/", "port"),
	BAD("https://example.com:", "port"),
	BAD("https://example.com:-1/", "port"),
	BAD("https://example.com:+443/", "port"),
	BAD("https://example.com:0x50/", "port"),
	BAD("https://example.com:80:80/", "port"),
	BAD("https://example.com::80/", "port"),
	BAD("http://[::1]:/", "port"),
	BAD("http://[::1]:0/", "port"),
	BAD("http://[::1]:65536/", "port"),
	BAD("http://[::1]:abc/", "port"),
	/* Hosts. */
	BAD("https:///mcp", "host"),
	BAD("https://", "host"),
	BAD("https://?q", "host"),
	BAD("https://#f", "host"),
	BAD("https://:443/", "host"),
	BAD("https://[]/", "host"),
	BAD("https://[]:443/", "host"),
	BAD("https://::1/", "host"),
	BAD("https://[::1/", "["),
	BAD("https://[::1", "["),
	BAD("https://[::1]x/", "]"),
	BAD("https://[::1]]/", "]"),
};

Test(url, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct ucase *c = &cases[i];
		char err[256] = "";
		struct url u;
		int rc = url_parse(c->in, &u, err, sizeof(err));

		cr_expect_eq(rc == 0, c->ok, "'%s': %s", c->in, err);
		if (rc == 0 && c->ok) {
			cr_expect_str_eq(u.host, c->host, "%s", c->in);
			cr_expect_eq(u.port, c->port, "%s", c->in);
			cr_expect_eq(u.loopback, c->loopback, "%s", c->in);
			cr_expect(strcmp(u.scheme, "https") == 0 ||
			        strcmp(u.scheme, "http") == 0,
			    "%s: scheme %s", c->in, u.scheme);
		} else if (rc != 0) {
			cr_expect(err[0] != '\0', "'%s': empty error", c->in);
			cr_expect(strchr(err, '\n') == NULL, "%s", err);
			if (c->why != NULL)
				cr_expect(strstr(err, c->why) != NULL,
				    "'%s': '%s' lacks '%s'", c->in, err,
				    c->why);
		}
		err[0] = '\0';
		rc = url_check_upstream(c->in, err, sizeof(err));
		cr_expect_eq(rc == 0, c->upstream_ok, "'%s': %s", c->in, err);
		if (rc != 0)
			cr_expect(err[0] != '\0', "'%s': empty error", c->in);
	}
}

Test(url, scheme_is_lower_case)
{
	char err[256];
	struct url u;

	cr_assert_eq(url_parse("HTTPS://example.com", &u, err, sizeof(err)), 0);
	cr_expect_str_eq(u.scheme, "https");
	cr_assert_eq(url_parse("HtTp://localhost", &u, err, sizeof(err)), 0);
	cr_expect_str_eq(u.scheme, "http");
}

Test(url, host_length_limit)
{
	char in[512], err[256];
	struct url u;

	/* 255 bytes fit in u.host, 256 do not. */
	memcpy(in, "https://", 8);
	memset(in + 8, 'a', 255);
	memcpy(in + 8 + 255, "/x", 3);
	cr_assert_eq(url_parse(in, &u, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(strlen(u.host), 255);
	memset(in + 8, 'a', 256);
	memcpy(in + 8 + 256, "/x", 3);
	cr_expect_eq(url_parse(in, &u, err, sizeof(err)), -1);
	cr_expect(err[0] != '\0');
	memset(in + 8, 'a', 400);
	memcpy(in + 8 + 400, ":443", 5);
	cr_expect_eq(url_parse(in, &u, err, sizeof(err)), -1);
}

Test(url, every_control_byte_is_refused)
{
	char in[64], err[256];
	struct url u;

	for (int c = 1; c < 0x80; c++) {
		if (c > ' ' && c != 0x7f)
			continue;
		/* In the host, in the path and in the port. */
		snprintf(in, sizeof(in), "https://exa%cmple.com/", c);
		cr_expect_eq(url_parse(in, &u, err, sizeof(err)), -1,
		    "0x%02x in host", c);
		snprintf(in, sizeof(in), "https://example.com/p%cq", c);
		cr_expect_eq(url_parse(in, &u, err, sizeof(err)), -1,
		    "0x%02x in path", c);
		snprintf(in, sizeof(in), "http://localhost:8%c/", c);
		cr_expect_eq(url_check_upstream(in, err, sizeof(err)), -1,
		    "0x%02x in port", c);
	}
}

Test(url, http_refusal_says_why)
{
	static const char *const remote[] = { "http://example.com/",
		"http://example.com:443/", "http://[2001:db8::1]/",
		"http://127.0.0.1.evil.com/", "http://localhost.evil.com/",
		"http://128.0.0.1/", "HTTP://EXAMPLE.COM/" };
	char err[256];

	for (size_t i = 0; i < sizeof(remote) / sizeof(*remote); i++) {
		err[0] = '\0';
		cr_expect_eq(url_check_upstream(remote[i], err, sizeof(err)),
		    -1, "%s", remote[i]);
		cr_expect(
		    strstr(err, "loopback") != NULL, "%s: %s", remote[i], err);
	}
	cr_assert_eq(
	    url_check_upstream("https://u@example.com/", err, sizeof(err)), -1);
	cr_expect(strstr(err, "user info") != NULL, "%s", err);
}

Test(url, https_is_accepted_anywhere)
{
	static const char *const ok[] = { "https://example.com/",
		"https://203.0.113.9:8443/mcp", "https://[2001:db8::1]/",
		"https://localhost/", "https://127.0.0.1/", "https://[::1]:1/",
		"https://a/" };
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		cr_expect_eq(url_check_upstream(ok[i], err, sizeof(err)), 0,
		    "%s: %s", ok[i], err);
}

Test(url, small_error_buffer)
{
	char err[8];
	struct url u;

	memset(err, 'X', sizeof(err));
	cr_expect_eq(url_parse("ftp://x", &u, err, sizeof(err)), -1);
	cr_expect_eq(strlen(err), sizeof(err) - 1); /* truncated, terminated */
	memset(err, 'X', sizeof(err));
	cr_expect_eq(url_check_upstream("http://x/", err, sizeof(err)), -1);
	cr_expect_eq(err[sizeof(err) - 1], '\0');
	cr_expect_eq(url_parse("ftp://x", &u, err, 1), -1);
	cr_expect_str_eq(err, "");
}

Test(url, failure_resets_output)
{
	char err[256];
	struct url u;

	cr_assert_eq(
	    url_parse("http://localhost:81/", &u, err, sizeof(err)), 0);
	cr_assert_eq(u.loopback, 1);
	cr_expect_eq(url_parse("ftp://localhost/", &u, err, sizeof(err)), -1);
	cr_expect_eq(u.loopback, 0, "stale loopback flag after a failure");
}

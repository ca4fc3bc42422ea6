/* SPDX-License-Identifier: ISC */
/* url: the parser and the transport policy (https, or http on loopback). */
#include <criterion/criterion.h>

#include <string.h>

#include "url.h"

struct ucase {
	const char *in;
	int ok;           /* url_parse succeeds */
	const char *host; /* expected host */
	int port;
	int loopback;
	int upstream_ok; /* url_check_upstream succeeds */
};

static const struct ucase cases[] = {
	{ "https://mcp.example.com/presto/mcp", 1, "mcp.example.com", 443, 0,
	    1 },
	{ "HTTPS://Mcp.Example.com:8443/x?y=1#z", 1, "Mcp.Example.com", 8443, 0,
	    1 },
	{ "http://127.0.0.1:3000/mcp", 1, "127.0.0.1", 3000, 1, 1 },
	{ "http://127.5.6.7/mcp", 1, "127.5.6.7", 80, 1, 1 },
	{ "http://localhost/mcp", 1, "localhost", 80, 1, 1 },
	{ "http://LOCALHOST:1/", 1, "LOCALHOST", 1, 1, 1 },
	{ "http://[::1]:8080/mcp", 1, "::1", 8080, 1, 1 },
	{ "https://[2001:db8::1]/mcp", 1, "2001:db8::1", 443, 0, 1 },
	{ "http://[2001:db8::1]/mcp", 1, "2001:db8::1", 80, 0, 0 },
	{ "http://mcp.example.com/mcp", 1, "mcp.example.com", 80, 0, 0 },
	{ "http://128.0.0.1/", 1, "128.0.0.1", 80, 0, 0 },
	{ "http://127.0.0.1.evil.com/", 1, "127.0.0.1.evil.com", 80, 0, 0 },
	{ "http://localhost.evil.com/", 1, "localhost.evil.com", 80, 0, 0 },
	{ "http://127.0.0.256/", 1, "127.0.0.256", 80, 0, 0 },
	{ "https://example.com", 1, "example.com", 443, 0, 1 },
	{ "https://user:pass@example.com/", 0, NULL, 0, 0, 0 },
	{ "https://example.com:0/", 0, NULL, 0, 0, 0 },
	{ "https://example.com:65536/", 0, NULL, 0, 0, 0 },
	{ "https://example.com:8x/", 0, NULL, 0, 0, 0 },
	{ "https://example.com:/", 0, NULL, 0, 0, 0 },
	{ "https:///mcp", 0, NULL, 0, 0, 0 },
	{ "https://exa mple.com/", 0, NULL, 0, 0, 0 },
	{ "https://example.com/\x01", 0, NULL, 0, 0, 0 },
	{ "ftp://example.com/", 0, NULL, 0, 0, 0 },
	{ "example.com/mcp", 0, NULL, 0, 0, 0 },
	{ "https://[::1/", 0, NULL, 0, 0, 0 },
	{ "https://[::1]x/", 0, NULL, 0, 0, 0 },
	{ "", 0, NULL, 0, 0, 0 },
};

Test(url, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct ucase *c = &cases[i];
		char err[256] = "";
		struct url u;
		int rc = url_parse(c->in, &u, err, sizeof(err));

		cr_expect_eq(rc == 0, c->ok, "%s: %s", c->in, err);
		if (rc == 0) {
			cr_expect_str_eq(u.host, c->host, "%s", c->in);
			cr_expect_eq(u.port, c->port, "%s", c->in);
			cr_expect_eq(u.loopback, c->loopback, "%s", c->in);
		} else {
			cr_expect(err[0] != '\0', "%s: empty error", c->in);
		}
		err[0] = '\0';
		rc = url_check_upstream(c->in, err, sizeof(err));
		cr_expect_eq(rc == 0, c->upstream_ok, "%s: %s", c->in, err);
		if (rc != 0)
			cr_expect(err[0] != '\0', "%s", c->in);
	}
}

Test(url, http_refusal_says_why)
{
	char err[256];

	cr_assert_eq(
	    url_check_upstream("http://example.com/", err, sizeof(err)), -1);
	cr_expect(strstr(err, "loopback") != NULL, "%s", err);
	cr_assert_eq(
	    url_check_upstream("https://u@example.com/", err, sizeof(err)), -1);
	cr_expect(strstr(err, "user info") != NULL, "%s", err);
}

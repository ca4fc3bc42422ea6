/* SPDX-License-Identifier: ISC */
/* endpoint: resolving a legacy server's endpoint event, same origin only. */
#include <criterion/criterion.h>

#include <string.h>

#include "endpoint.h"

struct ecase {
	const char *base;
	const char *ref;
	const char *want; /* resolved URL, or NULL when refused */
	const char *why;  /* part of the error when refused */
};

static const struct ecase cases[] = {
	/* What the TypeScript SDK's SSEServerTransport sends. */
	{ "http://127.0.0.1:3000/sse", "/messages?sessionId=abc",
	    "http://127.0.0.1:3000/messages?sessionId=abc", NULL },
	{ "https://mcp.example.com/a/sse", "messages?s=1",
	    "https://mcp.example.com/a/messages?s=1", NULL },
	{ "https://mcp.example.com/a/b/sse", "../m",
	    "https://mcp.example.com/a/m", NULL },
	{ "https://mcp.example.com/a/b/sse", "./m/./n/../o",
	    "https://mcp.example.com/a/b/m/o", NULL },
	{ "https://mcp.example.com/a/sse", "/../../x",
	    "https://mcp.example.com/x", NULL },
	{ "https://mcp.example.com/sse?k=v", "?sessionId=1",
	    "https://mcp.example.com/sse?sessionId=1", NULL },
	{ "https://mcp.example.com", "m", "https://mcp.example.com/m", NULL },
	{ "https://mcp.example.com/sse", "/m#frag", "https://mcp.example.com/m",
	    NULL },
	{ "https://mcp.example.com/sse", "  /m\r\n",
	    "https://mcp.example.com/m", NULL },
	/* Absolute and scheme-relative, same origin. */
	{ "https://mcp.example.com/sse", "https://MCP.example.com:443/m",
	    "https://MCP.example.com:443/m", NULL },
	{ "https://mcp.example.com/sse", "//mcp.example.com/m",
	    "https://mcp.example.com/m", NULL },
	{ "http://127.0.0.1:3000/sse", "http://127.0.0.1:3000/p?x=1",
	    "http://127.0.0.1:3000/p?x=1", NULL },
	/* Another origin: host, port, scheme. */
	{ "https://mcp.example.com/sse", "https://evil.example.com/m", NULL,
	    "another origin" },
	{ "https://mcp.example.com/sse", "//evil.example.com/m", NULL,
	    "another origin" },
	{ "http://127.0.0.1:3000/sse", "http://127.0.0.1:3001/m", NULL,
	    "another origin" },
	{ "http://127.0.0.1:3000/sse", "http://localhost:3000/m", NULL,
	    "another origin" },
	{ "https://mcp.example.com/sse", "http://mcp.example.com:443/m", NULL,
	    "another origin" },
	{ "https://mcp.example.com/sse", "ftp://mcp.example.com/m", NULL,
	    "another origin" },
	{ "https://mcp.example.com/sse", "https://user@mcp.example.com/m", NULL,
	    "another origin" },
	{ "https://mcp.example.com/sse", "javascript:alert(1)", NULL,
	    "another origin" },
	/* Junk. */
	{ "https://mcp.example.com/sse", "", NULL, "empty" },
	{ "https://mcp.example.com/sse", "   ", NULL, "empty" },
	{ "https://mcp.example.com/sse", "/a b", NULL, "spaces" },
	{ "https://mcp.example.com/sse", "/a\x01", NULL, "control" },
};

Test(endpoint, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ecase *c = &cases[i];
		char out[512] = "", err[256] = "";
		int rc = endpoint_resolve(c->base, c->ref, strlen(c->ref), out,
		    sizeof(out), err, sizeof(err));

		if (c->want) {
			cr_expect_eq(
			    rc, 0, "%s + %s: %s", c->base, c->ref, err);
			cr_expect_str_eq(
			    out, c->want, "%s + %s", c->base, c->ref);
		} else {
			cr_expect_eq(
			    rc, -1, "%s + %s gave %s", c->base, c->ref, out);
			cr_expect(strstr(err, c->why) != NULL, "%s + %s: %s",
			    c->base, c->ref, err);
		}
	}
}

Test(endpoint, not_nul_terminated)
{
	const char buf[] = "/messages?sessionId=1XXXX";
	char out[256], err[128];

	cr_assert_eq(endpoint_resolve("http://127.0.0.1:1/sse", buf, 21, out,
	                 sizeof(out), err, sizeof(err)),
	    0);
	cr_expect_str_eq(out, "http://127.0.0.1:1/messages?sessionId=1");
}

Test(endpoint, too_long_and_small_out)
{
	static char big[5000];
	char out[32], err[128];

	memset(big, 'a', sizeof(big) - 1);
	cr_expect_eq(endpoint_resolve("https://a.example/sse", big, strlen(big),
	                 out, sizeof(out), err, sizeof(err)),
	    -1);
	cr_expect_eq(endpoint_resolve("https://a.example/sse",
	                 "/a-rather-long-path-name", 24, out, sizeof(out), err,
	                 sizeof(err)),
	    -1);
	cr_expect(strstr(err, "too long") != NULL, "%s", err);
}

Test(endpoint, same_origin)
{
	cr_expect(endpoint_same_origin(
	    "https://a.example/x", "https://A.example:443/y"));
	cr_expect(
	    !endpoint_same_origin("https://a.example/x", "http://a.example/y"));
	cr_expect(!endpoint_same_origin(
	    "https://a.example/x", "https://a.example:8443/"));
	cr_expect(!endpoint_same_origin("https://a.example/x", "not a url"));
}

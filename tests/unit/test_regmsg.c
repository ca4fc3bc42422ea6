/* SPDX-License-Identifier: ISC */
/* regmsg: registry lists, remote choice and its safety rules, access, errors.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwipe.h"
#include "regmsg.h"

static char err[512];

static void
setup(void)
{
	jwipe_install();
}

TestSuite(regmsg, .init = setup);

#define OFF "\"io.modelcontextprotocol.registry/official\""

static const char page1[] =
    "{\"servers\":["
    "{\"server\":{\"name\":\"com.example.mcp/presto\",\"title\":\"Presto\","
    "\"description\":\"SQL\",\"version\":\"2.3.0\",\"remotes\":["
    "{\"type\":\"sse\",\"url\":\"https://mcp.example.com/presto/sse\"},"
    "{\"type\":\"streamable-http\",\"url\":\"https://mcp.example.com/presto/"
    "mcp\"}]},"
    "\"_meta\":{" OFF ":{\"status\":\"active\"},"
    "\"dev.mcp-bridge.registry/auth\":{\"resource\":\"https://"
    "mcp.example.com\"},"
    "\"dev.mcp-bridge.registry/access\":{\"allowed\":true}}},"
    "{\"server\":{\"name\":\"com.example.mcp/"
    "airflow\",\"description\":\"DAGs\","
    "\"version\":\"1.4.1\",\"remotes\":[{\"type\":\"streamable-http\","
    "\"url\":\"https://mcp.example.com/airflow/mcp\"}]},"
    "\"_meta\":{" OFF ":{\"status\":\"deprecated\",\"statusMessage\":"
    "\"Use com.example.mcp/orchestrator\"}}}"
    "],\"metadata\":{\"count\":2,\"nextCursor\":\"com.example.mcp/"
    "airflow:1.4.1\"}}";

Test(regmsg, page_fields_and_cursor)
{
	struct regmsg_page pg = { 0 };

	cr_assert_eq(
	    regmsg_page_parse(page1, strlen(page1), &pg, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(pg.n, 2);
	cr_assert_str_eq(pg.srv[0].name, "com.example.mcp/presto");
	cr_assert_str_eq(pg.srv[0].title, "Presto");
	cr_assert_str_eq(pg.srv[0].url, "https://mcp.example.com/presto/mcp");
	cr_assert_eq(pg.srv[0].sse, 0, "streamable-http preferred over sse");
	cr_assert_str_eq(pg.srv[0].resource, "https://mcp.example.com");
	cr_assert_eq(pg.srv[0].allowed, 1);
	cr_assert_eq(pg.srv[1].status, REGMSG_DEPRECATED);
	cr_assert_str_eq(
	    pg.srv[1].status_message, "Use com.example.mcp/orchestrator");
	cr_assert_eq(pg.srv[1].allowed, -1, "no access extension");
	cr_assert_str_eq(pg.next_cursor, "com.example.mcp/airflow:1.4.1");
	regmsg_page_clear(&pg);
}

Test(regmsg, pages_append)
{
	static const char p2[] =
	    "{\"servers\":[{\"server\":{\"name\":\"a.b/c\",\"remotes\":[{"
	    "\"type\":\"streamable-http\",\"url\":\"https://c.example/"
	    "mcp\"}]}}],"
	    "\"metadata\":{}}";
	struct regmsg_page pg = { 0 };

	cr_assert_eq(regmsg_page_parse(page1, strlen(page1), &pg, err, 512), 0);
	cr_assert_eq(regmsg_page_parse(p2, strlen(p2), &pg, err, 512), 0);
	cr_assert_eq(pg.n, 3);
	cr_assert_null(pg.next_cursor, "the end of the listing");
	cr_assert_eq(pg.srv[2].status, REGMSG_ACTIVE, "no _meta: active");
	regmsg_page_clear(&pg);
}

/* One server with `remotes` (JSON) -> its url or refusal. */
static void
one(const char *remotes, const char *url, const char *refused_part)
{
	char js[2048];
	struct regmsg_page pg = { 0 };

	snprintf(js, sizeof(js),
	    "{\"servers\":[{\"server\":{\"name\":\"com.example/x\","
	    "\"remotes\":%s}}]}",
	    remotes);
	cr_assert_eq(regmsg_page_parse(js, strlen(js), &pg, err, sizeof(err)),
	    0, "%s: %s", remotes, err);
	if (url) {
		cr_assert_str_eq(pg.srv[0].url, url);
		cr_assert_null(pg.srv[0].refused);
	} else {
		cr_assert_null(pg.srv[0].url, "%s", remotes);
		cr_assert(strstr(pg.srv[0].refused, refused_part) != NULL,
		    "%s: %s", remotes, pg.srv[0].refused);
	}
	regmsg_page_clear(&pg);
}

Test(regmsg, remote_safety)
{
	one("[{\"type\":\"streamable-http\",\"url\":\"http://mcp.example.com/"
	    "x\"}]",
	    NULL, "loopback");
	one("[{\"type\":\"streamable-http\",\"url\":\"http://127.0.0.1:9/"
	    "mcp\"}]",
	    "http://127.0.0.1:9/mcp", NULL);
	one("[{\"type\":\"streamable-http\",\"url\":\"https://"
	    "{tenant}.example.com/mcp\"}]",
	    NULL, "templated");
	one("[{\"type\":\"streamable-http\",\"url\":\"https://a.example/mcp\","
	    "\"headers\":[{\"name\":\"authorization\",\"isSecret\":true}]}]",
	    NULL, "Authorization");
	one("[{\"type\":\"streamable-http\",\"url\":\"https://u:p@a.example/"
	    "mcp\"}]",
	    NULL, "refused");
	one("[{\"type\":\"stdio\",\"url\":\"https://a.example/mcp\"}]", NULL,
	    "no remote");
	one("[]", NULL, "no remote");
	/* A bad streamable-http remote does not hide a good sse one. */
	one("[{\"type\":\"streamable-http\",\"url\":\"ftp://a.example/\"},"
	    "{\"type\":\"sse\",\"url\":\"https://a.example/sse\"}]",
	    "https://a.example/sse", NULL);
}

Test(regmsg, bad_pages)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"servers\":{}}",
		"{}",
		"{\"servers\":[],\"servers\":[]}",
	};
	/* Entries without a valid name are left out, not the page. */
	static const char *skipped[] = {
		"{\"servers\":[{\"server\":{\"name\":\"noslash\"}}]}",
		"{\"servers\":[{\"server\":{\"name\":\"a/b/c\"}}]}",
		"{\"servers\":[{\"server\":{\"name\":\"a_b/c\"}}]}",
		"{\"servers\":[{\"server\":{}}]}",
		"{\"servers\":[1]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct regmsg_page pg = { 0 };

		cr_assert_eq(regmsg_page_parse(
		                 bad[i], strlen(bad[i]), &pg, err, sizeof(err)),
		    -1, "accepted %s", bad[i]);
		cr_assert_eq(pg.n, 0);
		regmsg_page_clear(&pg);
	}
	for (size_t i = 0; i < sizeof(skipped) / sizeof(*skipped); i++) {
		struct regmsg_page pg = { 0 };

		cr_assert_eq(regmsg_page_parse(skipped[i], strlen(skipped[i]),
		                 &pg, err, sizeof(err)),
		    0, "refused %s", skipped[i]);
		cr_assert_eq(pg.n, 0);
		cr_assert_eq(pg.skipped, 1, "%s", skipped[i]);
		regmsg_page_clear(&pg);
	}
}

Test(regmsg, control_characters_cleaned)
{
	static const char js[] =
	    "{\"servers\":[{\"server\":{\"name\":\"a.b/c\",\"title\":"
	    "\"x\\u001b[31mred\",\"description\":\"\\u009b2J\"}}]}";
	struct regmsg_page pg = { 0 };

	cr_assert_eq(regmsg_page_parse(js, strlen(js), &pg, err, 512), 0);
	cr_assert_null(strchr(pg.srv[0].title, 0x1b));
	cr_assert_str_eq(pg.srv[0].title, "x?[31mred");
	cr_assert_str_eq(pg.srv[0].description, "?2J");
	regmsg_page_clear(&pg);
}

Test(regmsg, access)
{
	static const char yes[] = "{\"allowed\":true,\"via\":[\"group:eng\"]}";
	static const char no[] =
	    "{\"allowed\":false,\"reason\":\"group\",\"message\":\"only ads\","
	    "\"requestAccessUrl\":\"https://access.example.com/presto\"}";
	struct regmsg_access a;

	cr_assert_eq(regmsg_access_parse(yes, strlen(yes), &a, err, 512), 0);
	cr_assert_eq(a.allowed, 1);
	regmsg_access_clear(&a);
	cr_assert_eq(regmsg_access_parse(no, strlen(no), &a, err, 512), 0);
	cr_assert_eq(a.allowed, 0);
	cr_assert_str_eq(a.reason, "group");
	cr_assert_str_eq(a.request_url, "https://access.example.com/presto");
	regmsg_access_clear(&a);
	cr_assert_eq(
	    regmsg_access_parse("{\"allowed\":1}", 13, &a, err, 512), -1);
}

Test(regmsg, problem)
{
	char out[256];

	regmsg_problem("{\"title\":\"Forbidden\",\"status\":403,\"detail\":"
	               "\"not in group ads\"}",
	    62, 403, out, sizeof(out));
	cr_assert_str_eq(out, "HTTP 403: not in group ads");
	regmsg_problem(
	    "{\"error\":\"Server not found\"}", 28, 404, out, sizeof(out));
	cr_assert_str_eq(out, "HTTP 404: Server not found");
	regmsg_problem("<html>", 6, 502, out, sizeof(out));
	cr_assert_str_eq(out, "HTTP 502");
	cr_assert_str_eq(regmsg_short_name("com.example.mcp/presto"), "presto");
	cr_assert_str_eq(regmsg_short_name("plain"), "plain");
}

/* Hostile registry (issue 9): a bad entry is left out, not the listing. */
Test(regmsg, bad_names_left_out)
{
	const char *js =
	    "{\"servers\":[{\"server\":{\"name\":\"com.example/ok\"}},"
	    "{\"server\":{\"name\":\"com.example/bad\\u0001name\"}},"
	    "{\"server\":{\"name\":42}},{\"nothing\":1},"
	    "{\"server\":{\"name\":\"com.example/ok2\"}}]}";
	struct regmsg_page pg = { 0 };

	cr_assert_eq(regmsg_page_parse(js, strlen(js), &pg, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(pg.n, 2);
	cr_assert_eq(pg.skipped, 3);
	cr_assert_str_eq(pg.srv[0].name, "com.example/ok");
	cr_assert_str_eq(pg.srv[1].name, "com.example/ok2");
	regmsg_page_clear(&pg);
	cr_assert_eq(
	    regmsg_page_parse("{\"servers\":{}}", 14, &pg, err, sizeof(err)),
	    -1);
}

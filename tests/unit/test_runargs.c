/* SPDX-License-Identifier: ISC */
/* runargs: `mcp-bridge run` argument vectors checked offline. */
#include <criterion/criterion.h>

#include <string.h>

#include "runargs.h"

static char err[256];
static size_t bad;
static struct runargs r;

static int
check(size_t n, char **v)
{
	err[0] = '\0';
	return runargs_check(n, v, &r, &bad, err, sizeof(err));
}

#define CHECK(...)                                                             \
	({                                                                     \
		char *v_[] = { __VA_ARGS__ };                                  \
		check(sizeof(v_) / sizeof(v_[0]), v_);                         \
	})

Test(runargs, valid_forms)
{
	cr_assert_eq(
	    CHECK("run", "--url", "https://x.example/mcp"), 0, "%s", err);
	cr_assert_str_eq(r.url, "https://x.example/mcp");
	cr_assert_eq(
	    CHECK("run", "--url=http://127.0.0.1:9/mcp", "-H", "X-A: b",
	        "-Hx-b:c", "--conf", "c.json", "--connect-timeout", "5",
	        "--log-level=debug", "--refresh", "30"),
	    0, "%s", err);
	cr_assert_str_eq(r.config, "c.json", "prefix --conf");
	cr_assert_eq(r.config_i, 6);
	cr_assert_eq(
	    CHECK("run", "--server", "presto", "--header-file", "h", "--cacert",
	        "ca.pem", "--header", "Authorization: Bearer ${TOKEN}"),
	    0, "%s", err);
	cr_assert_str_eq(r.server, "presto");
	cr_assert_eq(r.header_file_i, 4);
	cr_assert_eq(r.cacert_i, 6);
	cr_assert_eq(r.literal_auth, 0);
	cr_assert_eq(CHECK("run", "-u", "https://x/mcp", "--header",
	                 "authorization: Bearer abc"),
	    0);
	cr_assert_eq(r.literal_auth, 1);
	cr_assert_eq(r.literal_auth_i, 4);
}

Test(runargs, refused_with_index)
{
	cr_assert_eq(CHECK("serve", "--url", "https://x/mcp"), -1);
	cr_assert_eq(bad, 0);
	cr_assert_eq(CHECK("run", "--urll", "x"), -1);
	cr_assert_eq(bad, 1);
	cr_assert_str_eq(err, "unknown option '--urll'");
	cr_assert_eq(CHECK("run", "--url", "ftp://x/mcp"), -1);
	cr_assert_eq(bad, 2);
	cr_assert(strncmp(err, "--url: ", 7) == 0, "%s", err);
	cr_assert_eq(CHECK("run", "--url", "http://example.com/mcp"), -1,
	    "plain http off loopback");
	cr_assert_eq(CHECK("run", "--header"), -1);
	cr_assert_str_eq(err, "--header needs a value");
	cr_assert_eq(CHECK("run", "--head", "x"), -1);
	cr_assert_str_eq(err, "ambiguous option '--head'");
	cr_assert_eq(CHECK("run", "--header", "Bad Name: secret-v"), -1);
	cr_assert_null(strstr(err, "secret-v"), "no header value: %s", err);
	cr_assert_eq(CHECK("run", "--header", "Content-Type: x"), -1);
	cr_assert_eq(CHECK("run", "--connect-timeout", "-1"), -1);
	cr_assert_eq(CHECK("run", "--request-timeout", "604801"), -1);
	cr_assert_eq(CHECK("run", "--refresh", "0"), -1);
	cr_assert_eq(CHECK("run", "--log-level", "loud"), -1);
	cr_assert_eq(CHECK("run", "--help"), -1);
	cr_assert_eq(CHECK("run", "-x"), -1);
	cr_assert_eq(
	    CHECK("run", "--url", "https://x/mcp", "Bearer sekrit"), -1);
	cr_assert_eq(bad, 3);
	cr_assert_str_eq(err, "unexpected argument", "never the value");
	cr_assert_eq(CHECK("run", "--", "--url"), -1);
	cr_assert_eq(
	    CHECK("run", "--url", "https://x/mcp", "--server", "s"), -1);
	cr_assert_eq(CHECK("run", "--config", ""), -1);
	cr_assert_eq(check(0, NULL), -1);
}

/* SPDX-License-Identifier: ISC */
/* tokset: the stored token set, its expiry arithmetic and its blob. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "jwipe.h"
#include "secret.h"
#include "tokset.h"

static char err[256];

static void
setup(void)
{
	jwipe_install();
}

TestSuite(tokset, .init = setup);

static struct secret *
S(const char *s)
{
	return secret_new(s, strlen(s));
}

Test(tokset, round_trip)
{
	struct tokset *t = tokset_new(), *u;
	struct secret *blob, *blob2;

	tokset_set_refresh(t, S("rt-1"));
	tokset_set_id(t, S("a.b.c"));
	cr_assert_eq(tokset_set_access(t, NULL, S("at-0"), 1000, 600), 0);
	cr_assert_eq(
	    tokset_set_access(t, "https://a.example", S("at-a"), 1000, 3600),
	    0);
	cr_assert_eq(
	    tokset_set_access(t, "https://b.example", S("at-b"), 1000, 0), 0);
	blob = tokset_dump(t);
	cr_assert_not_null(blob);
	u = tokset_parse(blob, err, sizeof(err));
	cr_assert_not_null(u, "%s", err);
	cr_assert_str_eq(secret_data(tokset_refresh(u)), "rt-1");
	cr_assert_str_eq(secret_data(tokset_id(u)), "a.b.c");
	cr_assert_str_eq(secret_data(tokset_access(u, NULL, 1000)), "at-0");
	cr_assert_str_eq(
	    secret_data(tokset_access(u, "https://a.example", 1000)), "at-a");
	cr_assert_eq(tokset_expires_at(u, "https://b.example"),
	    1000 + TOKSET_DEFAULT_LIFETIME_S, "no expires_in: the default");
	blob2 = tokset_dump(u);
	cr_assert(secret_eq(blob, blob2), "dump is stable");
	secret_free(&blob);
	secret_free(&blob2);
	tokset_free(&t);
	tokset_free(&u);
}

Test(tokset, expiry_and_refresh_time)
{
	struct tokset *t = tokset_new();

	tokset_set_access(t, NULL, S("short"), 1000, 300);
	tokset_set_access(t, "r", S("long"), 1000, 3600);
	cr_assert_not_null(tokset_access(t, NULL, 1299));
	cr_assert_null(tokset_access(t, NULL, 1300), "expired at the second");
	cr_assert_eq(tokset_refresh_at(t, NULL), 1300 - 60, "margin 60 s");
	cr_assert_eq(tokset_refresh_at(t, "r"), 4600 - 360, "margin 10 %%");
	cr_assert_eq(tokset_refresh_at(t, "none"), 0);
	tokset_drop_access(t, NULL);
	cr_assert_null(tokset_access(t, NULL, 1000));
	cr_assert_not_null(tokset_access(t, "r", 1000), "others kept");
	tokset_free(&t);
}

Test(tokset, audience_limit)
{
	struct tokset *t = tokset_new();
	char res[32];

	for (int i = 0; i < TOKSET_MAX_ACCESS; i++) {
		snprintf(res, sizeof(res), "r%d", i);
		cr_assert_eq(tokset_set_access(t, res, S("x"), 0, 60), 0);
	}
	cr_assert_eq(tokset_set_access(t, "one-more", S("x"), 0, 60), -1);
	cr_assert_eq(
	    tokset_set_access(t, "r0", S("y"), 0, 60), 0, "replace ok");
	tokset_free(&t);
}

static void
bad(const char *js)
{
	struct secret *b = S(js);
	struct tokset *t = tokset_parse(b, err, sizeof(err));

	cr_assert_null(t, "accepted %s", js);
	cr_assert_neq(err[0], '\0');
	secret_free(&b);
}

Test(tokset, refusals)
{
	bad("");
	bad("{\"v\":2,\"refresh_token\":\"x\",\"access\":[]}");
	bad("{\"refresh_token\":\"x\"}");
	bad("{\"v\":1,\"refresh_token\":\"x\\u0001\"}");
	bad("{\"v\":1,\"refresh_token\":\"\"}");
	bad("{\"v\":1,\"refresh_token\":\"a b\"}");
	bad("{\"v\":1,\"access\":[{\"resource\":null,\"token\":\"t\","
	    "\"lifetime\":60}]}");
	bad("{\"v\":1,\"access\":[{\"resource\":null,\"token\":\"t\","
	    "\"expires_at\":1,\"lifetime\":-5}]}");
	bad("{\"v\":1,\"access\":[{\"resource\":\"\",\"token\":\"t\","
	    "\"expires_at\":1,\"lifetime\":5}]}");
	bad("{\"v\":1,\"v\":1}");
	bad("{\"v\":1,\"access\":{}}");
}

Test(tokset, no_refresh_token)
{
	struct tokset *t = tokset_new(), *u;
	struct secret *b;

	tokset_set_access(t, NULL, S("only-at"), 10, 60);
	b = tokset_dump(t);
	u = tokset_parse(b, err, sizeof(err));
	cr_assert_not_null(u, "%s", err);
	cr_assert_null(tokset_refresh(u));
	cr_assert_null(tokset_id(u));
	secret_free(&b);
	tokset_free(&t);
	tokset_free(&u);
}

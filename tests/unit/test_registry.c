/* SPDX-License-Identifier: ISC */
/*
 * registry_db + registry_api (mcp-registryd) as pure functions, on the
 * fixture catalog in tests/fixtures/registry (alice: eng, mcp-users; bob:
 * finance; presto for eng/finance, ads for ads/finance, airflow for eng
 * and deprecated, old deleted, knowledge for everyone).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwipe.h"
#include "registry_api.h"
#include "registry_db.h"

static struct rdb *db;
static char err[512];
static const char *const alice_g[] = { "eng", "mcp-users" };
static const char *const bob_g[] = { "finance" };
static const struct rapi_user alice = { "alice", alice_g, 2 };
static const struct rapi_user bob = { "bob", bob_g, 1 };
static const struct rapi_conf conf = { "https://idp.example",
	"https://registry.example", "https://registry.example" };

static void
setup(void)
{
	jwipe_install();
	db = rdb_load(
	    FIXTURES "/catalog", FIXTURES "/policy.json", err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
}

static void
teardown(void)
{
	rdb_unref(&db);
}

TestSuite(registry, .init = setup, .fini = teardown);

static struct rapi_resp
req(const char *method, const char *path, const char *query,
    const struct rapi_user *u)
{
	struct rapi_req rq = { method, path, query, NULL, u, NULL, 1800000000 };
	struct rapi_resp r;

	rapi_handle(db, &conf, &rq, &r);
	return r;
}

Test(registry, db_order_and_policy)
{
	const char *via;

	cr_assert_eq(rdb_count(db), 6);
	cr_assert_str_eq(rdb_entry(db, 0)->name, "com.example.mcp/ads");
	long i = rdb_find(db, "com.example.mcp/presto");
	cr_assert_geq(i, 0);
	cr_assert_str_eq(rdb_entry(db, (size_t)i)->version, "2.3.0");
	cr_assert(rdb_entry(db, (size_t)i)->is_latest);
	cr_assert_str_eq(rdb_entry(db, (size_t)i + 1)->version, "2.2.0");
	cr_assert_not(rdb_entry(db, (size_t)i + 1)->is_latest);
	cr_assert(rdb_allowed(db, "com.example.mcp/presto", alice_g, 2, &via));
	cr_assert_str_eq(via, "eng");
	cr_assert_not(rdb_allowed(db, "com.example.mcp/ads", alice_g, 2, &via));
	cr_assert(rdb_allowed(db, "com.example.mcp/knowledge", NULL, 0, &via));
	cr_assert_not(rdb_allowed(db, "com.example.mcp/old", alice_g, 2, &via));
	cr_assert_gt(rdb_version_cmp("1.10.0", "1.9.9"), 0);
}

Test(registry, lists_differ_per_user)
{
	struct rapi_resp a =
	    req("GET", "/v0.1/servers", "version=latest", &alice);
	struct rapi_resp b =
	    req("GET", "/v0.1/servers", "version=latest", &bob);

	cr_assert_eq(a.status, 200);
	cr_assert(strstr(a.body, "com.example.mcp/presto") != NULL);
	cr_assert(strstr(a.body, "com.example.mcp/airflow") != NULL);
	cr_assert_null(strstr(a.body, "com.example.mcp/ads\""));
	cr_assert_null(strstr(a.body, "com.example.mcp/old"), "deleted");
	cr_assert(strstr(b.body, "com.example.mcp/ads\"") != NULL);
	cr_assert_null(strstr(b.body, "com.example.mcp/airflow"));
	cr_assert(strstr(a.body,
	              "\"statusMessage\":\"Use com.example.mcp/"
	              "orchestrator\"") != NULL);
	cr_assert(a.cache && a.cors && a.etag[0] == '"');
	rapi_resp_clear(&a);
	rapi_resp_clear(&b);
}

Test(registry, pagination_and_bad_queries)
{
	struct rapi_resp r = req("GET", "/v0.1/servers", "limit=1", &alice);
	char *c = strstr(r.body, "\"nextCursor\":\"");

	cr_assert_eq(r.status, 200);
	cr_assert_not_null(c);
	cr_assert(strstr(r.body, "\"count\":1") != NULL);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers", "limit=101", &alice);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(r.ctype, "application/problem+json");
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers", "cursor=zzz%3A1", &alice);
	cr_assert_eq(r.status, 400);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers", "updated_since=yesterday", &alice);
	cr_assert_eq(r.status, 400);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers",
	    "cursor=com.example.mcp%2Fpresto%3A2.2.0", &alice);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "\"count\":0") != NULL, "%s", r.body);
	rapi_resp_clear(&r);
}

Test(registry, details_access_and_errors)
{
	struct rapi_resp r;

	r = req("GET", "/v0.1/servers/com.example.mcp%2Fpresto/versions/latest",
	    NULL, &alice);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "\"version\":\"2.3.0\"") != NULL);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers/com.example.mcp%2Fads/versions", NULL,
	    &alice);
	cr_assert_eq(r.status, 403);
	cr_assert(strstr(r.body, "requestAccessUrl") != NULL);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers/com.example.mcp%2Fold/versions", NULL,
	    &alice);
	cr_assert_eq(r.status, 404);
	rapi_resp_clear(&r);
	r = req(
	    "GET", "/v0.1/servers/com.example.mcp%2Fads/access", NULL, &alice);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "\"allowed\":false") != NULL);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers/%zz/versions", NULL, &alice);
	cr_assert_eq(r.status, 404);
	rapi_resp_clear(&r);
	r = req("GET", "/v0.1/servers", NULL, NULL);
	cr_assert_eq(r.status, 401);
	cr_assert(strstr(r.www_auth,
	              "resource_metadata=\"https://registry."
	              "example/.well-known/oauth-protected-"
	              "resource\"") != NULL);
	cr_assert_null(strstr(r.www_auth, "invalid_token"));
	rapi_resp_clear(&r);
	r = req("DELETE", "/v0.1/servers", NULL, &alice);
	cr_assert_eq(r.status, 405);
	rapi_resp_clear(&r);
	r = req("OPTIONS", "/v0.1/servers", NULL, NULL);
	cr_assert_eq(r.status, 204);
	cr_assert(r.cors);
	rapi_resp_clear(&r);
	r = req("GET", "/admin", NULL, &alice);
	cr_assert_eq(r.status, 404);
	rapi_resp_clear(&r);
}

Test(registry, etag_304)
{
	struct rapi_req rq = { "GET", "/v0.1/servers", NULL, NULL, &alice, NULL,
		1800000000 };
	struct rapi_resp a, b;

	rapi_handle(db, &conf, &rq, &a);
	rq.if_none_match = a.etag;
	rapi_handle(db, &conf, &rq, &b);
	cr_assert_eq(b.status, 304);
	cr_assert_null(b.body);
	rq.user = &bob; /* another user's list has another tag */
	rapi_resp_clear(&b);
	rapi_handle(db, &conf, &rq, &b);
	cr_assert_eq(b.status, 200);
	rapi_resp_clear(&a);
	rapi_resp_clear(&b);
}

Test(registry, bad_catalogs_refused)
{
	char dir[] = "/tmp/regtest-XXXXXX", path[256];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.json", dir);
	f = fopen(path, "w");
	fputs("{\"name\":\"noslash\",\"description\":\"x\",\"version\":\"1\"}",
	    f);
	fclose(f);
	cr_assert_null(
	    rdb_load(dir, FIXTURES "/policy.json", err, sizeof(err)));
	cr_assert(strstr(err, "a.json: name") != NULL, "%s", err);
	f = fopen(path, "w");
	fputs(
	    "{\"name\":\"a.b/c\",\"description\":\"x\",\"version\":\"1\"}", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s.policy.json", dir);
	f = fopen(path, "w");
	fputs("{\"servers\":{\"a.b/c\":{\"status\":\"gone\"}}}", f);
	fclose(f);
	cr_assert_null(rdb_load(dir, path, err, sizeof(err)));
	cr_assert(strstr(err, "status: expected") != NULL, "%s", err);
}

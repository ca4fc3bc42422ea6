/* SPDX-License-Identifier: ISC */
/*
 * registry_api (mcp-registryd's HTTP API as a pure function): per-user
 * lists for alice (eng, mcp-users) and bob (finance), pagination, search,
 * updated_since, versions, 403/404/405, access, ETag/304, CORS, OPTIONS,
 * problem+json, 401 shapes, percent-decoded names, RFC 9728 metadata.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "jwipe.h"
#include "registry_api.h"
#include "registry_db.h"

#define OFF      "io.modelcontextprotocol.registry/official"
#define X_ACCESS "dev.mcp-bridge.registry/access"
#define X_AUTH   "dev.mcp-bridge.registry/auth"
#define OLD_TIME 1577836800 /* 2020-01-01T00:00:00Z */

static char dir[64], err[512];
static struct rdb *db;
static const struct rapi_conf conf = { "https://idp.example.com",
	"http://127.0.0.1/mcp-registry", "http://127.0.0.1:8080" };
static const char *const alice_g[] = { "eng", "mcp-users" };
static const char *const bob_g[] = { "finance" };
static const struct rapi_user alice = { "alice", alice_g, 2 };
static const struct rapi_user bob = { "bob", bob_g, 1 };

static const char policy[] =
    "{\"default\":{\"groups\":[\"*\"]},\"servers\":{"
    "\"com.example.mcp/presto\":{\"groups\":[\"ads\",\"finance\"],"
    "\"status\":\"active\",\"requestAccessUrl\":"
    "\"https://access.example.com/presto\",\"resource\":"
    "\"http://127.0.0.1:7001/mcp\"},"
    "\"com.example.mcp/airflow\":{\"groups\":[\"eng\"],\"status\":"
    "\"deprecated\",\"statusMessage\":\"Use com.example.mcp/orchestrator\"},"
    "\"com.example.mcp/wiki\":{\"groups\":[\"mcp-users\"]},"
    "\"com.example.mcp/old\":{\"status\":\"deleted\"}}}";

static void
wfile(const char *name, const char *text, time_t mtime)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
	if (mtime) {
		struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

		cr_assert_eq(utimes(path, tv), 0);
	}
}

static void
server(const char *name, const char *version, const char *desc, time_t mt)
{
	char file[128], js[1024];

	snprintf(file, sizeof(file), "catalog/%s-%s.json",
	    strchr(name, '/') + 1, version);
	snprintf(js, sizeof(js),
	    "{\"name\":\"%s\",\"version\":\"%s\",\"description\":\"%s\","
	    "\"remotes\":[{\"type\":\"streamable-http\",\"url\":"
	    "\"https://mcp.example.com/mcp\"}]}",
	    name, version, desc);
	wfile(file, js, mt);
}

static void
setup(void)
{
	char cat[96], pol[96];

	jwipe_install();
	strcpy(dir, "/tmp/test_regd_api.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cat, sizeof(cat), "%s/catalog", dir);
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	cr_assert_eq(mkdir(cat, 0700), 0);
	wfile("policy.json", policy, 0);
	server("com.example.mcp/presto", "2.2.0", "Read-only SQL", OLD_TIME);
	server("com.example.mcp/presto", "2.3.0", "Read-only SQL", 0);
	server("com.example.mcp/airflow", "1.4.1", "DAG runs", 0);
	server("com.example.mcp/knowledge", "1.0.0", "Company wiki search", 0);
	server("com.example.mcp/wiki", "0.9.0", "Team pages", 0);
	server("com.example.mcp/old", "0.1.0", "Retired", 0);
	db = rdb_load(cat, pol, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
}

static int
rm1(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
teardown(void)
{
	rdb_unref(&db);
	nftw(dir, rm1, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(regd_api, .init = setup, .fini = teardown);

/* -- helpers ------------------------------------------------------------ */

struct call {
	const char *method, *path, *query, *inm, *auth_error;
	const struct rapi_user *user;
};

static struct rapi_resp
call(struct call c)
{
	struct rapi_req rq = { c.method ? c.method : "GET", c.path, c.query,
		c.inm, c.user, c.auth_error, 1700000000 };
	struct rapi_resp r;

	rapi_handle(db, &conf, &rq, &r);
	return r;
}

static json_t *
body(const struct rapi_resp *r)
{
	json_error_t je;
	json_t *j;

	cr_assert_not_null(r->body);
	j = json_loadb(r->body, r->len, 0, &je);
	cr_assert_not_null(j, "bad JSON: %s: %.200s", je.text, r->body);
	return j;
}

/* GET as `u`, expecting `status`; the parsed body. */
static json_t *
get(const struct rapi_user *u, const char *path, const char *query, int status)
{
	struct rapi_resp r =
	    call((struct call){ .path = path, .query = query, .user = u });
	json_t *j;

	cr_assert_eq(r.status, status, "%s?%s: %d %s", path, query ? query : "",
	    r.status, r.body ? r.body : "");
	j = body(&r);
	rapi_resp_clear(&r);
	return j;
}

/* "name@version,..." of a ServerList, for one comparison. */
static void
names(json_t *list, char *out, size_t n)
{
	json_t *s;
	size_t i;

	out[0] = '\0';
	json_array_foreach(json_object_get(list, "servers"), i, s)
	{
		json_t *srv = json_object_get(s, "server");
		size_t l = strlen(out);

		snprintf(out + l, n - l, "%s%s@%s", i ? "," : "",
		    json_string_value(json_object_get(srv, "name")) + 16,
		    json_string_value(json_object_get(srv, "version")));
	}
}

static void
assert_list(const struct rapi_user *u, const char *query, const char *want)
{
	char got[1024];
	json_t *j = get(u, "/v0.1/servers", query, 200);

	names(j, got, sizeof(got));
	cr_assert_str_eq(got, want, "query %s", query ? query : "");
	cr_assert_eq(json_integer_value(json_object_get(
	                 json_object_get(j, "metadata"), "count")),
	    (json_int_t)json_array_size(json_object_get(j, "servers")));
	json_decref(j);
}

static void
assert_problem(const struct rapi_resp *r, int status, const char *detail)
{
	json_t *j = body(r);

	cr_assert_eq(r->status, status, "%d %s", r->status, r->body);
	cr_assert_str_eq(r->ctype, "application/problem+json");
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "type")), "about:blank");
	cr_assert_not_null(json_string_value(json_object_get(j, "title")));
	cr_assert_eq(json_integer_value(json_object_get(j, "status")), status);
	cr_assert_not_null(
	    strstr(json_string_value(json_object_get(j, "detail")), detail),
	    "%s", r->body);
	json_decref(j);
}

static void
expect_problem(const struct rapi_user *u, const char *method, const char *path,
    const char *query, int status, const char *detail)
{
	struct rapi_resp r = call((struct call){
	    .method = method, .path = path, .query = query, .user = u });

	assert_problem(&r, status, detail);
	rapi_resp_clear(&r);
}

/* -- lists -------------------------------------------------------------- */

Test(regd_api, alice_and_bob_see_different_servers)
{
	assert_list(&alice, NULL, "airflow@1.4.1,knowledge@1.0.0,wiki@0.9.0");
	assert_list(&bob, NULL, "knowledge@1.0.0,presto@2.3.0,presto@2.2.0");
	assert_list(&bob, "version=latest", "knowledge@1.0.0,presto@2.3.0");
	assert_list(&bob, "version=2.2.0", "presto@2.2.0");
}

Test(regd_api, deleted_never_listed)
{
	assert_list(&alice, "include_denied=true",
	    "airflow@1.4.1,knowledge@1.0.0,presto@2.3.0,presto@2.2.0,"
	    "wiki@0.9.0");
	assert_list(&bob, "search=old", "");
}

Test(regd_api, entry_meta)
{
	json_t *j = get(&alice, "/v0.1/servers", "search=airflow", 200);
	json_t *e = json_array_get(json_object_get(j, "servers"), 0);
	json_t *m = json_object_get(e, "_meta");
	json_t *off = json_object_get(m, OFF),
	       *acc = json_object_get(m, X_ACCESS);

	cr_assert_str_eq(
	    json_string_value(json_object_get(off, "status")), "deprecated");
	cr_assert_str_eq(
	    json_string_value(json_object_get(off, "statusMessage")),
	    "Use com.example.mcp/orchestrator");
	cr_assert(json_is_true(json_object_get(off, "isLatest")));
	cr_assert_not_null(
	    json_string_value(json_object_get(off, "publishedAt")));
	cr_assert_not_null(
	    json_string_value(json_object_get(off, "updatedAt")));
	cr_assert(json_is_true(json_object_get(acc, "allowed")));
	cr_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(acc, "via"), 0)),
	    "eng");
	cr_assert_null(json_object_get(m, X_AUTH));
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(e, "server"), "description")),
	    "DAG runs");
	json_decref(j);
}

Test(regd_api, auth_extension_and_denied_entries)
{
	json_t *j =
	    get(&bob, "/v0.1/servers", "search=presto&version=latest", 200);
	json_t *m = json_object_get(
	    json_array_get(json_object_get(j, "servers"), 0), "_meta");

	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(m, X_AUTH), "resource")),
	    "http://127.0.0.1:7001/mcp");
	json_decref(j);
	j = get(&alice, "/v0.1/servers",
	    "include_denied=true&search=presto&version=latest", 200);
	m = json_object_get(
	    json_object_get(
	        json_array_get(json_object_get(j, "servers"), 0), "_meta"),
	    X_ACCESS);
	cr_assert(json_is_false(json_object_get(m, "allowed")));
	cr_assert_str_eq(
	    json_string_value(json_object_get(m, "requestAccessUrl")),
	    "https://access.example.com/presto");
	json_decref(j);
}

Test(regd_api, pagination_to_the_end)
{
	char q[256], got[1024] = "";
	const char *cur = NULL;
	int pages = 0;

	do {
		json_t *j, *md;
		char one[256];

		snprintf(q, sizeof(q), "limit=1%s%s", cur ? "&cursor=" : "",
		    cur ? cur : "");
		j = get(&bob, "/v0.1/servers", q, 200);
		names(j, one, sizeof(one));
		strcat(got, pages++ ? "," : "");
		strcat(got, one);
		md = json_object_get(j, "metadata");
		cr_assert_eq(
		    json_integer_value(json_object_get(md, "count")), 1);
		free((char *)cur);
		cur = json_string_value(json_object_get(md, "nextCursor"))
		    ? strdup(
		          json_string_value(json_object_get(md, "nextCursor")))
		    : NULL;
		json_decref(j);
	} while (cur && pages < 10);
	cr_assert_eq(pages, 3);
	cr_assert_str_eq(got, "knowledge@1.0.0,presto@2.3.0,presto@2.2.0");
}

Test(regd_api, cursor_round_trip_percent_encoded)
{
	json_t *j = get(&bob, "/v0.1/servers", "limit=2", 200);
	const char *nc = json_string_value(
	    json_object_get(json_object_get(j, "metadata"), "nextCursor"));

	cr_assert_str_eq(nc, "com.example.mcp/presto:2.3.0");
	json_decref(j);
	assert_list(&bob, "limit=2&cursor=com.example.mcp%2Fpresto%3A2.3.0",
	    "presto@2.2.0");
}

Test(regd_api, limits)
{
	assert_list(
	    &bob, "limit=100", "knowledge@1.0.0,presto@2.3.0,presto@2.2.0");
	expect_problem(&bob, NULL, "/v0.1/servers", "limit=0", 400, "limit");
	expect_problem(&bob, NULL, "/v0.1/servers", "limit=101", 400, "limit");
	expect_problem(&bob, NULL, "/v0.1/servers", "limit=ten", 400, "limit");
	expect_problem(
	    &bob, NULL, "/v0.1/servers", "cursor=nope", 400, "cursor");
}

Test(regd_api, search_is_case_insensitive_on_name_and_description)
{
	assert_list(&bob, "search=sql", "presto@2.3.0,presto@2.2.0");
	assert_list(&bob, "search=KNOW", "knowledge@1.0.0");
	assert_list(&bob, "search=wiki+search", "knowledge@1.0.0");
	assert_list(&alice, "search=nothing-matches", "");
}

Test(regd_api, updated_since)
{
	assert_list(&bob, "updated_since=2021-01-01T00:00:00Z",
	    "knowledge@1.0.0,presto@2.3.0");
	assert_list(&bob, "updated_since=2019-06-01T00:00:00Z",
	    "knowledge@1.0.0,presto@2.3.0,presto@2.2.0");
	expect_problem(&bob, NULL, "/v0.1/servers", "updated_since=yesterday",
	    400, "updated_since");
	/* Signs and blanks are not digits (sscanf's %2d took "-1" and " 1"). */
	expect_problem(&bob, NULL, "/v0.1/servers",
	    "updated_since=2021-01-01T-1:-1:-1Z", 400, "updated_since");
	expect_problem(&bob, NULL, "/v0.1/servers",
	    "updated_since=2021-1-01T00:00:00Z", 400, "updated_since");
}

/* -- one server --------------------------------------------------------- */

Test(regd_api, versions_newest_first)
{
	char got[256];
	json_t *j = get(
	    &bob, "/v0.1/servers/com.example.mcp%2Fpresto/versions", NULL, 200);
	json_t *s1 = json_array_get(json_object_get(j, "servers"), 1);

	names(j, got, sizeof(got));
	cr_assert_str_eq(got, "presto@2.3.0,presto@2.2.0");
	cr_assert(json_is_false(json_object_get(
	    json_object_get(json_object_get(s1, "_meta"), OFF), "isLatest")));
	json_decref(j);
}

static void
assert_detail(const char *path, const char *version)
{
	json_t *j = get(&bob, path, NULL, 200);

	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(j, "server"), "version")),
	    version, "%s", path);
	cr_assert_not_null(json_object_get(j, "_meta"));
	json_decref(j);
}

Test(regd_api, detail_by_version_and_latest)
{
	assert_detail(
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions/2.2.0", "2.2.0");
	assert_detail(
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions/latest", "2.3.0");
	assert_detail(
	    "/v0.1/servers/com.example.mcp%2fpresto/versions/latest", "2.3.0");
	assert_detail(
	    "/v0.1/servers/com.example.mcp/presto/versions/latest", "2.3.0");
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions/9.9.9", NULL, 404,
	    "Version not found");
}

Test(regd_api, forbidden_carries_request_access_url)
{
	struct rapi_resp r = call((struct call){
	    .path = "/v0.1/servers/com.example.mcp%2Fpresto/versions/latest",
	    .user = &alice });
	json_t *j = body(&r);

	assert_problem(&r, 403, "not in a group");
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "requestAccessUrl")),
	    "https://access.example.com/presto");
	cr_assert_eq(r.cors, 1);
	json_decref(j);
	rapi_resp_clear(&r);
	expect_problem(&alice, NULL,
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions", NULL, 403,
	    "not in a group");
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fwiki/versions", NULL, 403,
	    "not in a group");
}

Test(regd_api, not_found_and_method)
{
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fnope/versions", NULL, 404,
	    "Server not found");
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fold/versions", NULL, 404,
	    "Server not found");
	expect_problem(&bob, NULL, "/v0.1/servers/com.example.mcp%2Fpresto/x",
	    NULL, 404, "no such endpoint");
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%zzpresto/versions", NULL, 404,
	    "no such endpoint");
	expect_problem(&bob, NULL, "/v0.1/servers/com.example.mcp%00/versions",
	    NULL, 404, "no such endpoint");
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions/", NULL, 404,
	    "no such endpoint");
	expect_problem(
	    &bob, NULL, "/v0.2/servers", NULL, 404, "no such endpoint");
	expect_problem(
	    &bob, NULL, "/v0.1/serversX", NULL, 404, "no such endpoint");
	expect_problem(&bob, "POST", "/v0.1/servers", NULL, 405, "only GET");
	expect_problem(&bob, "DELETE",
	    "/v0.1/servers/com.example.mcp%2Fpresto/versions", NULL, 405,
	    "only GET");
}

/* -- access pre-flight -------------------------------------------------- */

Test(regd_api, access_denied_and_allowed)
{
	json_t *j = get(
	    &alice, "/v0.1/servers/com.example.mcp%2Fpresto/access", NULL, 200);

	cr_assert(json_is_false(json_object_get(j, "allowed")));
	cr_assert_not_null(json_string_value(json_object_get(j, "reason")));
	cr_assert_not_null(json_string_value(json_object_get(j, "message")));
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "requestAccessUrl")),
	    "https://access.example.com/presto");
	cr_assert_str_eq(json_string_value(json_object_get(j, "expiresAt")),
	    "2023-11-14T22:14:20Z"); /* now + 60 s */
	json_decref(j);
	j = get(
	    &bob, "/v0.1/servers/com.example.mcp%2Fpresto/access", NULL, 200);
	cr_assert(json_is_true(json_object_get(j, "allowed")));
	cr_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(j, "via"), 0)),
	    "finance");
	json_decref(j);
	j = get(&bob, "/v0.1/servers/com.example.mcp%2Fknowledge/access", NULL,
	    200);
	cr_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(j, "via"), 0)),
	    "*");
	json_decref(j);
	expect_problem(&bob, NULL,
	    "/v0.1/servers/com.example.mcp%2Fnope/access", NULL, 404,
	    "Server not found");
	expect_problem(&bob, NULL, "/v0.1/servers/com.example.mcp%2Fold/access",
	    NULL, 404, "Server not found");
}

/* -- HTTP behaviour ----------------------------------------------------- */

Test(regd_api, etag_and_304)
{
	struct rapi_resp r =
	    call((struct call){ .path = "/v0.1/servers", .user = &bob });
	struct rapi_resp r2, r3, ra;
	char tag[24];

	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.etag[0], '"');
	cr_assert_eq(r.etag[strlen(r.etag) - 1], '"');
	cr_assert_eq(r.cache, 1);
	cr_assert_str_eq(r.ctype, "application/json");
	strcpy(tag, r.etag);
	r2 = call(
	    (struct call){ .path = "/v0.1/servers", .inm = tag, .user = &bob });
	cr_assert_eq(r2.status, 304);
	cr_assert_null(r2.body);
	cr_assert_eq(r2.len, 0);
	cr_assert_str_eq(r2.etag, tag);
	r3 = call((struct call){
	    .path = "/v0.1/servers", .inm = "\"other\"", .user = &bob });
	cr_assert_eq(r3.status, 200);
	ra = call((struct call){
	    .path = "/v0.1/servers", .inm = tag, .user = &alice });
	cr_assert_eq(ra.status, 200); /* alice's answer differs */
	cr_assert_str_neq(ra.etag, tag);
	rapi_resp_clear(&r);
	rapi_resp_clear(&r2);
	rapi_resp_clear(&r3);
	rapi_resp_clear(&ra);
}

Test(regd_api, options_preflight_without_token)
{
	struct rapi_resp r = call((struct call){ .method = "OPTIONS",
	    .path = "/v0.1/servers/com.example.mcp%2Fpresto/versions" });

	cr_assert_eq(r.status, 204);
	cr_assert_eq(r.cors, 1);
	cr_assert_null(r.body);
	cr_assert_eq(r.www_auth[0], '\0');
	rapi_resp_clear(&r);
	r = call((struct call){ .method = "OPTIONS", .path = "/v0.1/servers" });
	cr_assert_eq(r.status, 204);
	rapi_resp_clear(&r);
}

Test(regd_api, cors_only_on_servers)
{
	struct rapi_resp r =
	    call((struct call){ .path = "/v0.1/servers", .user = &alice });

	cr_assert_eq(r.cors, 1);
	rapi_resp_clear(&r);
	r = call(
	    (struct call){ .path = "/.well-known/oauth-protected-resource" });
	cr_assert_eq(r.cors, 0);
	rapi_resp_clear(&r);
	r = call((struct call){ .path = "/elsewhere", .user = &alice });
	cr_assert_eq(r.cors, 0);
	rapi_resp_clear(&r);
}

Test(regd_api, missing_token_401)
{
	struct rapi_resp r = call((struct call){ .path = "/v0.1/servers" });

	assert_problem(&r, 401, "an access token is required");
	cr_assert_not_null(strstr(r.www_auth, "Bearer realm=\"mcp-registry\""));
	cr_assert_not_null(strstr(r.www_auth,
	    "resource_metadata=\"http://127.0.0.1:8080/.well-known/"
	    "oauth-protected-resource\""));
	cr_assert_null(strstr(r.www_auth, "error="), "%s", r.www_auth);
	cr_assert_eq(r.etag[0], '\0');
	rapi_resp_clear(&r);
}

Test(regd_api, bad_token_401)
{
	struct rapi_resp r = call((struct call){
	    .path = "/v0.1/servers/com.example.mcp%2Fpresto/access",
	    .auth_error = "token expired" });

	assert_problem(&r, 401, "not valid");
	cr_assert_not_null(strstr(r.www_auth, "error=\"invalid_token\""));
	cr_assert_not_null(
	    strstr(r.www_auth, "error_description=\"token expired\""));
	cr_assert_not_null(strstr(r.www_auth, "realm=\"mcp-registry\""));
	rapi_resp_clear(&r);
}

Test(regd_api, protected_resource_metadata)
{
	struct rapi_resp r = call(
	    (struct call){ .path = "/.well-known/oauth-protected-resource" });
	json_t *j = body(&r);

	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "resource")),
	    "http://127.0.0.1/mcp-registry");
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(j, "authorization_servers"), 0)),
	    "https://idp.example.com");
	cr_assert_str_eq(
	    json_string_value(json_array_get(
	        json_object_get(j, "bearer_methods_supported"), 0)),
	    "header");
	json_decref(j);
	rapi_resp_clear(&r);
}

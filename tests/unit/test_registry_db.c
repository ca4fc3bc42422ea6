/* SPDX-License-Identifier: ISC */
/*
 * registry_db (mcp-registryd's catalog and policy): validation errors
 * naming the file and the key, version order, latest, lookups, the
 * default policy, group decisions, reference counting.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwipe.h"
#include "registry_db.h"

static char dir[64], cat[96], pol[96], err[512];

static void
wfile(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

/* catalog/<file> holds one server.json. */
static void
server(
    const char *file, const char *name, const char *version, const char *desc)
{
	char path[192], js[1024];

	snprintf(path, sizeof(path), "%s/%s", cat, file);
	snprintf(js, sizeof(js),
	    "{\"name\":\"%s\",\"version\":\"%s\",\"description\":\"%s\","
	    "\"remotes\":[{\"type\":\"streamable-http\",\"url\":"
	    "\"https://mcp.example.com/mcp\"}]}",
	    name, version, desc);
	wfile(path, js);
}

static void
raw(const char *file, const char *text)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", cat, file);
	wfile(path, text);
}

static const char policy[] =
    "{\"default\":{\"groups\":[\"*\"]},\"servers\":{"
    "\"com.example.mcp/presto\":{\"groups\":[\"ads\",\"finance\"],"
    "\"status\":\"active\",\"requestAccessUrl\":"
    "\"https://access.example.com/presto\",\"resource\":"
    "\"http://127.0.0.1:7001/mcp\"},"
    "\"com.example.mcp/airflow\":{\"groups\":[\"eng\"],\"status\":"
    "\"deprecated\",\"statusMessage\":\"Use com.example.mcp/orchestrator\"},"
    "\"com.example.mcp/old\":{\"status\":\"deleted\"}}}";

static void
setup(void)
{
	jwipe_install();
	strcpy(dir, "/tmp/test_regd_catalog.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cat, sizeof(cat), "%s/catalog", dir);
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	cr_assert_eq(mkdir(cat, 0700), 0);
	wfile(pol, policy);
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
	nftw(dir, rm1, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(regd_catalog, .init = setup, .fini = teardown);

static struct rdb *
load_ok(void)
{
	struct rdb *db = rdb_load(cat, pol, err, sizeof(err));

	cr_assert_not_null(db, "load failed: %s", err);
	return db;
}

static void
load_fails(const char *want1, const char *want2)
{
	struct rdb *db = rdb_load(cat, pol, err, sizeof(err));

	cr_assert_null(db);
	cr_assert_not_null(strstr(err, want1), "error: %s", err);
	if (want2)
		cr_assert_not_null(strstr(err, want2), "error: %s", err);
}

Test(regd_catalog, versions_newest_first_and_latest)
{
	struct rdb *db;
	long i;

	server("p1.json", "com.example.mcp/presto", "2.3.0", "SQL");
	server("p2.json", "com.example.mcp/presto", "2.10.0", "SQL");
	server("p3.json", "com.example.mcp/presto", "2.9.1", "SQL");
	server("a.json", "com.example.mcp/airflow", "1.4.1", "DAGs");
	db = load_ok();
	cr_assert_eq(rdb_count(db), 4);
	cr_assert_str_eq(rdb_entry(db, 0)->name, "com.example.mcp/airflow");
	i = rdb_find(db, "com.example.mcp/presto");
	cr_assert_eq(i, 1);
	cr_assert_str_eq(rdb_entry(db, 1)->version, "2.10.0");
	cr_assert_str_eq(rdb_entry(db, 2)->version, "2.9.1");
	cr_assert_str_eq(rdb_entry(db, 3)->version, "2.3.0");
	cr_assert_eq(rdb_entry(db, 1)->is_latest, 1);
	cr_assert_eq(rdb_entry(db, 2)->is_latest, 0);
	cr_assert_eq(rdb_entry(db, 0)->is_latest, 1);
	cr_assert_eq(rdb_find(db, "com.example.mcp/nope"), -1);
	cr_assert_null(rdb_entry(db, 4));
	rdb_unref(&db);
	cr_assert_null(db);
}

Test(regd_catalog, version_compare)
{
	cr_assert_lt(rdb_version_cmp("1.9.0", "1.10.0"), 0);
	cr_assert_gt(rdb_version_cmp("2.0.0", "1.99.99"), 0);
	cr_assert_eq(rdb_version_cmp("1.0.0", "1.0.0"), 0);
	cr_assert_lt(rdb_version_cmp("1.0", "1.0.1"), 0);
	cr_assert_gt(rdb_version_cmp("1.0.0-rc2", "1.0.0-rc1"), 0);
}

Test(regd_catalog, only_json_files_are_read)
{
	struct rdb *db;

	server("a.json", "com.example.mcp/a", "1.0.0", "A");
	raw("README.md", "not json");
	raw(".hidden.json", "{broken");
	db = load_ok();
	cr_assert_eq(rdb_count(db), 1);
	rdb_unref(&db);
}

Test(regd_catalog, bad_json_names_the_file_and_line)
{
	raw("bad.json", "{\n\"name\": \"com.example.mcp/a\",\n oops }");
	load_fails("bad.json:3", NULL);
}

Test(regd_catalog, bad_name)
{
	server("n.json", "no-slash", "1.0.0", "x");
	load_fails("n.json", "name: expected");
}

Test(regd_catalog, name_with_two_slashes)
{
	server("n.json", "com.example/a/b", "1.0.0", "x");
	load_fails("n.json", "name: expected");
}

Test(regd_catalog, name_with_underscore_in_namespace)
{
	server("n.json", "com_example/a", "1.0.0", "x");
	load_fails("n.json", "name: expected");
}

Test(regd_catalog, missing_version)
{
	raw("v.json", "{\"name\":\"com.example.mcp/a\",\"description\":\"x\"}");
	load_fails("v.json", "version: expected");
}

Test(regd_catalog, description_too_long)
{
	char d[102];

	memset(d, 'x', 101);
	d[101] = '\0';
	server("d.json", "com.example.mcp/a", "1.0.0", d);
	load_fails("d.json", "description: expected a string of 1-100");
}

Test(regd_catalog, empty_description)
{
	server("d.json", "com.example.mcp/a", "1.0.0", "");
	load_fails("d.json", "description: expected");
}

Test(regd_catalog, bad_remote_type)
{
	raw("r.json",
	    "{\"name\":\"com.example.mcp/a\",\"version\":\"1\","
	    "\"description\":\"x\",\"remotes\":[{\"type\":\"stdio\","
	    "\"url\":\"https://x\"}]}");
	load_fails("r.json", "remotes[].type: expected streamable-http or sse");
}

Test(regd_catalog, remote_without_url)
{
	raw("r.json",
	    "{\"name\":\"com.example.mcp/a\",\"version\":\"1\","
	    "\"description\":\"x\",\"remotes\":[{\"type\":\"sse\"}]}");
	load_fails("r.json", "remotes[].url");
}

Test(regd_catalog, remotes_not_an_array)
{
	raw("r.json",
	    "{\"name\":\"com.example.mcp/a\",\"version\":\"1\","
	    "\"description\":\"x\",\"remotes\":{}}");
	load_fails("r.json", "remotes: expected an array");
}

Test(regd_catalog, duplicate_version)
{
	server("a1.json", "com.example.mcp/a", "1.0.0", "x");
	server("a2.json", "com.example.mcp/a", "1.0.0", "y");
	load_fails("com.example.mcp/a version 1.0.0 appears twice", NULL);
}

Test(regd_catalog, missing_catalog_dir)
{
	struct rdb *db =
	    rdb_load("/nonexistent/catalog", pol, err, sizeof(err));

	cr_assert_null(db);
	cr_assert_not_null(strstr(err, "/nonexistent/catalog"), "%s", err);
}

Test(regd_catalog, policy_bad_status)
{
	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	wfile(
	    pol, "{\"servers\":{\"com.example.mcp/a\":{\"status\":\"gone\"}}}");
	load_fails("com.example.mcp/a", "status: expected active, deprecated");
}

Test(regd_catalog, policy_groups_not_strings)
{
	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	wfile(pol, "{\"servers\":{\"com.example.mcp/a\":{\"groups\":[1]}}}");
	load_fails("com.example.mcp/a.groups[0]: expected a string", NULL);
}

Test(regd_catalog, policy_bad_request_url)
{
	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	wfile(pol,
	    "{\"servers\":{\"com.example.mcp/a\":{\"requestAccessUrl\":"
	    "\"javascript:alert(1)\"}}}");
	load_fails("requestAccessUrl: expected an http(s) URL", NULL);
}

Test(regd_catalog, policy_servers_not_object)
{
	wfile(pol, "{\"servers\":[]}");
	load_fails("servers: expected an object", NULL);
}

Test(regd_catalog, policy_duplicate_key)
{
	wfile(pol, "{\"servers\":{\"a/b\":{},\"a/b\":{}}}");
	load_fails("policy.json:1", NULL);
}

Test(regd_catalog, policy_lookup_and_default)
{
	struct rdb *db;
	const struct rdb_policy *p;

	server("a.json", "com.example.mcp/airflow", "1.0.0", "x");
	db = load_ok();
	p = rdb_policy(db, "com.example.mcp/presto");
	cr_assert_eq(p->status, RDB_ACTIVE);
	cr_assert_eq(p->ngroups, 2);
	cr_assert_str_eq(p->request_url, "https://access.example.com/presto");
	cr_assert_str_eq(p->resource, "http://127.0.0.1:7001/mcp");
	p = rdb_policy(db, "com.example.mcp/airflow");
	cr_assert_eq(p->status, RDB_DEPRECATED);
	cr_assert_str_eq(p->status_message, "Use com.example.mcp/orchestrator");
	cr_assert_eq(
	    rdb_policy(db, "com.example.mcp/old")->status, RDB_DELETED);
	p = rdb_policy(db, "com.example.mcp/anything");
	cr_assert_eq(p->ngroups, 1);
	cr_assert_str_eq(p->groups[0], "*");
	cr_assert_null(p->request_url);
	rdb_unref(&db);
}

Test(regd_catalog, allowed_by_group)
{
	static const char *const alice[] = { "eng", "mcp-users" };
	static const char *const bob[] = { "finance" };
	struct rdb *db;
	const char *via;

	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	db = load_ok();
	cr_assert_eq(
	    rdb_allowed(db, "com.example.mcp/presto", alice, 2, &via), 0);
	cr_assert_null(via);
	cr_assert_eq(
	    rdb_allowed(db, "com.example.mcp/presto", bob, 1, &via), 1);
	cr_assert_str_eq(via, "finance");
	cr_assert_eq(
	    rdb_allowed(db, "com.example.mcp/airflow", alice, 2, &via), 1);
	cr_assert_str_eq(via, "eng");
	cr_assert_eq(
	    rdb_allowed(db, "com.example.mcp/airflow", bob, 1, &via), 0);
	cr_assert_eq(rdb_allowed(db, "com.example.mcp/a", bob, 1, &via), 1);
	cr_assert_str_eq(via, "*");
	cr_assert_eq(rdb_allowed(db, "com.example.mcp/a", NULL, 0, &via), 1);
	cr_assert_eq(rdb_allowed(db, "com.example.mcp/old", alice, 2, &via), 0);
	rdb_unref(&db);
}

Test(regd_catalog, no_default_means_nobody)
{
	static const char *const g[] = { "eng" };
	struct rdb *db;
	const char *via;

	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	wfile(pol, "{}");
	db = load_ok();
	cr_assert_eq(rdb_allowed(db, "com.example.mcp/a", g, 1, &via), 0);
	rdb_unref(&db);
}

Test(regd_catalog, reference_counting_keeps_the_old_db)
{
	struct rdb *db, *held;

	server("a.json", "com.example.mcp/a", "1.0.0", "x");
	db = load_ok();
	held = rdb_ref(db);
	rdb_unref(&db); /* "reload": the server drops its reference */
	cr_assert_null(db);
	cr_assert_eq(rdb_count(held), 1); /* still valid for the request */
	cr_assert_str_eq(rdb_entry(held, 0)->name, "com.example.mcp/a");
	rdb_unref(&held);
	rdb_unref(&held); /* NULL is fine */
}

Test(regd_catalog, entry_json_is_compact_server_json)
{
	struct rdb *db;

	raw("a.json",
	    "{\n  \"name\": \"com.example.mcp/a\",\n  \"title\": "
	    "\"A\",\n  \"version\": \"1.0.0\",\n  \"description\": "
	    "\"x\"\n}\n");
	db = load_ok();
	cr_assert_str_eq(rdb_entry(db, 0)->json,
	    "{\"name\":\"com.example.mcp/a\",\"title\":\"A\",\"version\":"
	    "\"1.0.0\",\"description\":\"x\"}");
	cr_assert_str_eq(rdb_entry(db, 0)->title, "A");
	cr_assert_gt(rdb_entry(db, 0)->published, 0);
	rdb_unref(&db);
}

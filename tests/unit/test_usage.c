/* SPDX-License-Identifier: ISC */
/*
 * usage: counters, histogram edges, quantiles, bounds, the document and
 * its parser, the state files (mode, atomic replace, dead processes,
 * corrupt files) and the status summary.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "usage.h"

/* A pid no process can have (above any pid_max, within the reader's
 * accepted range). */
#define DEAD_PID 2147483646L

static char err[256];
static char tmp[256];

static void
mktmp(void)
{
	cr_assert_gt(snprintf(tmp, sizeof(tmp), "/tmp/usage-test-XXXXXX"), 0);
	cr_assert_not_null(mkdtemp(tmp));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
rmtmp(void)
{
	chmod(tmp, 0700);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(usage, .init = mktmp, .fini = rmtmp);

static json_t *
load(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	cr_assert_not_null(j, "%s", text);
	return j;
}

static json_int_t
at(json_t *doc, const char *path)
{
	/* "server/tool/key" or "server/key" */
	char buf[256], *parts[4];
	int n = 0;
	json_t *o = json_object_get(doc, "servers");

	cr_assert_lt(snprintf(buf, sizeof(buf), "%s", path), (int)sizeof(buf));
	for (char *p = buf, *s; n < 4 && (s = strsep(&p, "/")) != NULL;)
		parts[n++] = s;
	o = json_object_get(o, parts[0]);
	if (n == 3)
		o = json_object_get(json_object_get(o, "tools"), parts[1]);
	cr_assert_not_null(o, "%s", path);
	return json_integer_value(json_object_get(o, parts[n - 1]));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_neq(fd, -1, "%s", path);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

Test(usage, record_counts_per_server_and_tool)
{
	struct usage *u = usage_new();
	json_t *doc;
	char *text;

	cr_assert_eq(usage_dirty(u), 0);
	usage_record(u, "presto", "query", 0, 40);
	usage_record(u, "presto", "query", 1, 400);
	usage_record(u, "presto", "tables", 0, 5);
	usage_record(u, "jira", "search", 0, 12000);
	cr_assert_eq(usage_dirty(u), 1);
	cr_assert_eq(usage_calls(u), 4);
	text = usage_json(u, 1234, 1000, 1060);
	doc = load(text);
	cr_assert_eq(json_integer_value(json_object_get(doc, "v")), 1);
	cr_assert_eq(json_integer_value(json_object_get(doc, "pid")), 1234);
	cr_assert_eq(json_integer_value(json_object_get(doc, "started")), 1000);
	cr_assert_eq(json_integer_value(json_object_get(doc, "updated")), 1060);
	cr_assert_eq(at(doc, "presto/calls"), 3);
	cr_assert_eq(at(doc, "presto/errors"), 1);
	cr_assert_eq(at(doc, "presto/ms_sum"), 445);
	cr_assert_eq(at(doc, "presto/ms_max"), 400);
	cr_assert_eq(at(doc, "presto/query/calls"), 2);
	cr_assert_eq(at(doc, "presto/query/errors"), 1);
	cr_assert_eq(at(doc, "presto/tables/ms_sum"), 5);
	cr_assert_eq(at(doc, "jira/search/ms_max"), 12000);
	cr_assert_eq(at(doc, "jira/search/p50"), 12000, "one call: its value");
	/* key order is fixed: the documented layout */
	cr_assert(strncmp(text,
	              "{\"v\":1,\"pid\":1234,\"started\":1000,"
	              "\"updated\":1060,\"servers\":{\"presto\":"
	              "{\"calls\":3,\"errors\":1,\"ms_sum\":445,"
	              "\"ms_max\":400,\"p50\":",
	              strlen("{\"v\":1,\"pid\":1234,\"started\":1000,"
	                     "\"updated\":1060,\"servers\":{\"presto\":"
	                     "{\"calls\":3,\"errors\":1,\"ms_sum\":445,"
	                     "\"ms_max\":400,\"p50\":")) == 0,
	    "%s", text);
	json_decref(doc);
	free(text);
	usage_free(&u);
	cr_assert_null(u);
	usage_free(&u);
	usage_free(NULL);
}

Test(usage, histogram_bucket_edges)
{
	/* upper bounds are inclusive: 10 is in bucket 0, 11 in bucket 1 */
	static const struct {
		int64_t ms;
		int bucket;
	} c[] = { { 0, 0 }, { 10, 0 }, { 11, 1 }, { 25, 1 }, { 26, 2 },
		{ 50, 2 }, { 51, 3 }, { 100, 3 }, { 250, 4 }, { 500, 5 },
		{ 1000, 6 }, { 2500, 7 }, { 5000, 8 }, { 10000, 9 },
		{ 30000, 10 }, { 30001, 11 }, { INT64_MAX, 11 } };
	struct usage *u = usage_new();
	json_t *doc, *hist;
	char *text;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		cr_assert_eq(usage_bucket(c[i].ms), c[i].bucket, "%lld ms",
		    (long long)c[i].ms);
	cr_assert_eq(usage_bounds[USAGE_NBUCKETS - 1], -1);
	usage_record(u, "s", "t", 0, -5); /* a clock step: counts as 0 */
	usage_record(u, "s", "t", 0, 10);
	usage_record(u, "s", "t", 0, 11);
	usage_record(u, "s", "t", 0, 30001);
	text = usage_json(u, 1, 0, 0);
	doc = load(text);
	hist = json_object_get(
	    json_object_get(
	        json_object_get(json_object_get(doc, "servers"), "s"), "tools"),
	    "t");
	hist = json_object_get(hist, "hist");
	cr_assert_eq(json_array_size(hist), USAGE_NBUCKETS);
	cr_assert_eq(json_integer_value(json_array_get(hist, 0)), 2);
	cr_assert_eq(json_integer_value(json_array_get(hist, 1)), 1);
	cr_assert_eq(json_integer_value(json_array_get(hist, 11)), 1);
	cr_assert_eq(at(doc, "s/t/ms_sum"), 10 + 11 + 30001);
	json_decref(doc);
	free(text);
	usage_free(&u);
}

Test(usage, quantiles_from_the_histogram)
{
	int64_t h[USAGE_NBUCKETS] = { 0 };

	cr_assert_eq(usage_quantile(h, 0.5, 0), 0, "empty");
	h[3] = 100; /* 100 calls in (50, 100] ms, slowest 90 ms */
	cr_assert_eq(usage_quantile(h, 0.5, 90), 70, "(50 + 40 * 50/100)");
	cr_assert_eq(usage_quantile(h, 0.95, 90), 88);
	cr_assert_eq(usage_quantile(h, 1.0, 90), 90, "capped at the max");
	h[0] = 900; /* now 90 % are fast */
	cr_assert_eq(usage_quantile(h, 0.5, 90), 6, "(0 + 10 * 500/900)");
	cr_assert_eq(usage_quantile(h, 0.95, 90), 70);
	memset(h, 0, sizeof(h));
	h[11] = 2; /* the open bucket: between 30 s and the max */
	cr_assert_eq(usage_quantile(h, 0.5, 50000), 40000);
	cr_assert_eq(usage_quantile(h, 0.95, 50000), 50000);
	h[0] = 1;
	h[11] = 0;
	cr_assert_eq(usage_quantile(h, 0.5, 3), 3, "one call of 3 ms");
}

Test(usage, names_are_validated)
{
	struct usage *u = usage_new();
	char longname[USAGE_MAX_NAME + 2];
	json_t *doc, *tools;
	char *text;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	usage_record(u, "s", "ok-\xc3\xa9", 0, 1);
	usage_record(u, "s", "\x1b[31mred", 0, 1);
	usage_record(u, "s", "c1-\xc2\x9b", 0, 1);
	usage_record(u, "s", "bad-\xff", 0, 1);
	usage_record(u, "s", "", 0, 1);
	usage_record(u, "s", NULL, 0, 1);
	usage_record(u, "s", longname, 0, 1);
	longname[USAGE_MAX_NAME] = '\0';
	usage_record(u, "s", longname, 0, 1); /* exactly the cap: kept */
	usage_record(u, "bad\n", "t", 0, 1);
	text = usage_json(u, 1, 0, 0);
	doc = load(text);
	tools = json_object_get(
	    json_object_get(json_object_get(doc, "servers"), "s"), "tools");
	cr_assert_eq(json_object_size(tools), 3, "%s", text);
	cr_assert_not_null(json_object_get(tools, "ok-\xc3\xa9"));
	cr_assert_not_null(json_object_get(tools, longname));
	cr_assert_eq(at(doc, "s/(other)/calls"), 6);
	cr_assert_eq(at(doc, "(other)/t/calls"), 1);
	json_decref(doc);
	free(text);
	usage_free(&u);
}

Test(usage, bounds_put_the_rest_under_other)
{
	struct usage *u = usage_new(), *v;
	struct usage_meta m;
	char name[32], *text;
	json_t *doc, *servers;
	size_t entries = 0;
	const char *k;
	json_t *sv;

	for (int i = 0; i < USAGE_MAX_SERVERS + 10; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		usage_record(u, name, "t", 0, 1);
	}
	for (int i = 0; i < USAGE_MAX_TOOLS + 10; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		usage_record(u, "s0", name, 0, 1);
	}
	/* more tools across servers than USAGE_MAX_ENTRIES */
	for (int s = 1; s < 20; s++)
		for (int i = 0; i < USAGE_MAX_TOOLS; i++) {
			char sn[16];

			snprintf(sn, sizeof(sn), "s%d", s);
			snprintf(name, sizeof(name), "x%d", i);
			usage_record(u, sn, name, 0, 1);
		}
	text = usage_json(u, 1, 0, 0);
	doc = load(text);
	servers = json_object_get(doc, "servers");
	cr_assert_eq(json_object_size(servers), USAGE_MAX_SERVERS + 1);
	cr_assert_eq(at(doc, "(other)/t/calls"), 10);
	cr_assert_eq(json_object_size(json_object_get(
	                 json_object_get(servers, "s0"), "tools")),
	    USAGE_MAX_TOOLS + 1);
	cr_assert_eq(at(doc, "s0/(other)/calls"), 11);
	json_object_foreach(servers, k, sv)
	{
		json_t *tools = json_object_get(sv, "tools");

		entries += json_object_size(tools) -
		    (json_object_get(tools, "(other)") != NULL);
	}
	cr_assert_eq(entries, USAGE_MAX_ENTRIES);
	cr_assert_eq(usage_calls(u),
	    USAGE_MAX_SERVERS + 10 + USAGE_MAX_TOOLS + 10 +
	        19 * USAGE_MAX_TOOLS);
	/* the largest document still parses, within the file cap */
	cr_assert_lt(strlen(text), USAGE_MAX_FILE);
	v = usage_parse(text, strlen(text), &m, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	usage_free(&v);
	json_decref(doc);
	free(text);
	usage_free(&u);
}

Test(usage, json_round_trip_through_the_parser)
{
	struct usage *u = usage_new(), *v;
	struct usage_meta m;
	char *a, *b;

	for (int i = 0; i < 50; i++)
		usage_record(u, i % 3 ? "presto" : "jira",
		    i % 2 ? "query" : "search", i % 7 == 0, i * 137);
	a = usage_json(u, 4321, 100, 200);
	v = usage_parse(a, strlen(a), &m, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	cr_assert_eq(m.pid, 4321);
	cr_assert_eq(m.started, 100);
	cr_assert_eq(m.updated, 200);
	cr_assert_eq(usage_calls(v), 50);
	b = usage_json(v, m.pid, m.started, m.updated);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	usage_free(&u);
	usage_free(&v);
}

#define H0 "[1,0,0,0,0,0,0,0,0,0,0,0]"
#define C1 "\"calls\":1,\"errors\":0,\"ms_sum\":5,\"ms_max\":5,\"hist\":" H0
#define DOC(servers)                                                           \
	"{\"v\":1,\"pid\":7,\"started\":1,\"updated\":2,\"servers\":" servers  \
	"}"

Test(usage, parser_rejects_bad_documents)
{
	static const struct {
		const char *doc, *why;
	} c[] = {
		{ "", "not JSON" },
		{ "[1]", "expected a JSON object" },
		{ "{\"v\":2,\"pid\":7,\"started\":1,\"updated\":2,"
		  "\"servers\":{}}",
		    "unsupported version" },
		{ "{\"v\":1,\"pid\":0,\"started\":1,\"updated\":2,"
		  "\"servers\":{}}",
		    "pid" },
		{ "{\"v\":1,\"pid\":7,\"started\":-1,\"updated\":2,"
		  "\"servers\":{}}",
		    "unix seconds" },
		{ "{\"v\":1,\"pid\":7,\"started\":1,\"updated\":2}",
		    "servers: expected an object" },
		{ DOC("{\"s\":{" C1 ",\"tools\":{\"t\":{" C1 "}}},"
		      "\"s\":{" C1 ",\"tools\":{\"t\":{" C1 "}}}}"),
		    "duplicate" },
		{ DOC("{\"s\":{\"calls\":1,\"errors\":0,\"ms_sum\":5,"
		      "\"ms_max\":5,\"hist\":[2,0,0,0,0,0,0,0,0,0,0,0],"
		      "\"tools\":{}}}"),
		    "hist does not add up to calls" },
		{ DOC("{\"s\":{\"calls\":1,\"errors\":2,\"ms_sum\":5,"
		      "\"ms_max\":5,\"hist\":" H0 ",\"tools\":{}}}"),
		    "errors > calls" },
		{ DOC("{\"s\":{\"calls\":1,\"errors\":0,\"ms_sum\":5,"
		      "\"ms_max\":50,\"hist\":" H0 ",\"tools\":{}}}"),
		    "ms_max" },
		{ DOC("{\"s\":{\"calls\":1,\"errors\":0,\"ms_sum\":5,"
		      "\"ms_max\":5,\"hist\":[1,0],\"tools\":{}}}"),
		    "hist must be an array of 12" },
		{ DOC("{\"s\":{\"calls\":-1,\"errors\":0,\"ms_sum\":5,"
		      "\"ms_max\":5,\"hist\":" H0 ",\"tools\":{}}}"),
		    "integers in" },
		{ DOC("{\"s\":{\"calls\":1.5,\"errors\":0,\"ms_sum\":5,"
		      "\"ms_max\":5,\"hist\":" H0 ",\"tools\":{}}}"),
		    "integers in" },
		{ DOC("{\"s\":{\"calls\":9007199254740992,\"errors\":0,"
		      "\"ms_sum\":5,\"ms_max\":5,\"hist\":" H0
		      ",\"tools\":{}}}"),
		    "integers in" },
		{ DOC("{\"s\":{" C1 ",\"tools\":{}}}"),
		    "not the sums of its tools" },
		{ DOC("{\"s\":{" C1 ",\"tools\":{\"t\":{" C1 "},\"u\":{" C1
		      "}}}}"),
		    "not the sums of its tools" },
		{ DOC("{\"s\":{" C1 "}}"), "tools must be an object" },
		{ DOC("{\"a\\u001bb\":{" C1 ",\"tools\":{\"t\":{" C1 "}}}}"),
		    "server name is not valid" },
		{ DOC("{\"s\":{" C1 ",\"tools\":{\"\":{" C1 "}}}}"),
		    "tool name is not valid" },
		{ DOC("{\"s\":[]}"), "servers.s: expected an object" },
		{ DOC("{\"s\":{" C1 ",\"tools\":{\"t\":{" C1 "}}}} junk"),
		    "not JSON" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct usage_meta m;
		struct usage *u = usage_parse(
		    c[i].doc, strlen(c[i].doc), &m, err, sizeof(err));

		cr_assert_null(u, "case %zu accepted: %s", i, c[i].doc);
		cr_assert(strstr(err, c[i].why) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, c[i].why);
	}
	/* and the good one those are made from */
	{
		const char *ok = DOC(
		    "{\"s\":{" C1 ",\"tools\":{\"t\":{" C1 ",\"p50\":999}}}}");
		struct usage_meta m;
		struct usage *u =
		    usage_parse(ok, strlen(ok), &m, err, sizeof(err));
		char *again;

		cr_assert_not_null(u, "%s", err);
		again = usage_json(u, m.pid, m.started, m.updated);
		cr_assert(strstr(again, "\"p50\":999") == NULL,
		    "p50 recomputed, not copied: %s", again);
		free(again);
		usage_free(&u);
	}
}

Test(usage, parser_enforces_the_server_bound)
{
	size_t cap = 1 << 20, n = 0;
	char *p = malloc(cap);
	struct usage_meta m;

	n += (size_t)snprintf(p + n, cap - n,
	    "{\"v\":1,\"pid\":7,\"started\":1,\"updated\":2,"
	    "\"servers\":{");
	for (int i = 0; i <= USAGE_MAX_SERVERS; i++)
		n += (size_t)snprintf(p + n, cap - n,
		    "%s\"s%d\":{" C1 ",\"tools\":{\"t\":{" C1 "}}}",
		    i ? "," : "", i);
	n += (size_t)snprintf(p + n, cap - n, "}}");
	cr_assert_lt(n, cap);
	cr_assert_null(usage_parse(p, n, &m, err, sizeof(err)));
	cr_assert(strstr(err, "too many servers"), "%s", err);
	free(p);
}

Test(usage, path_follows_xdg_runtime_dir)
{
	char out[512];

	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	cr_assert_eq(usage_path(42, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/run/user/1000/mcp-bridge/usage-42.json");
	unsetenv("XDG_RUNTIME_DIR");
	setenv("TMPDIR", "/var/tmp", 1);
	cr_assert_eq(usage_path(42, out, sizeof(out)), 0);
	snprintf(err, sizeof(err), "/var/tmp/mcp-bridge-%u/usage-42.json",
	    (unsigned)geteuid());
	cr_assert_str_eq(out, err);
	unsetenv("TMPDIR");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	cr_assert_eq(usage_path(42, out, sizeof(out)), 0);
	snprintf(err, sizeof(err), "/tmp/mcp-bridge-%u/usage-42.json",
	    (unsigned)geteuid());
	cr_assert_str_eq(out, err, "a relative XDG_RUNTIME_DIR is ignored");
	cr_assert_eq(usage_path(42, out, 10), -1, "too small");
}

Test(usage, write_is_0600_in_a_0700_dir_and_clears_dirty)
{
	struct usage *u = usage_new(), *v;
	struct usage_meta m;
	char dir[300], path[400], text[4096];
	struct stat st;
	ssize_t n;
	int fd;

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	cr_assert_eq(usage_path(getpid(), path, sizeof(path)), 0);
	snprintf(dir, sizeof(dir), "%s/mcp-bridge", tmp);
	usage_record(u, "presto", "query", 0, 33);
	cr_assert_eq(usage_write(u, path, getpid(), 10, 20), 0);
	cr_assert_eq(usage_dirty(u), 0);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	fd = open(path, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	v = usage_parse(text, (size_t)n, &m, err, sizeof(err));
	cr_assert_not_null(v, "%s", err);
	cr_assert_eq(m.pid, getpid());
	usage_free(&v);
	/* a second write replaces the file (no temporary left behind) */
	usage_record(u, "presto", "query", 0, 33);
	cr_assert_eq(usage_write(u, path, getpid(), 10, 30), 0);
	{
		int files = 0;
		char probe[512];

		for (int i = 0; i < 2; i++) {
			snprintf(probe, sizeof(probe), "%s.tmp%ld", path,
			    (long)getpid());
			files += access(probe, F_OK) == 0;
		}
		cr_assert_eq(files, 0);
	}
	usage_free(&u);
}

Test(usage, write_failure_keeps_dirty)
{
	struct usage *u = usage_new();
	char file[300], path[400];

	snprintf(file, sizeof(file), "%s/plain-file", tmp);
	write_file(file, "x", 0600);
	snprintf(path, sizeof(path), "%s/sub/usage-1.json", file);
	usage_record(u, "s", "t", 0, 1);
	cr_assert_eq(usage_write(u, path, 1, 0, 0), -1);
	cr_assert_eq(usage_dirty(u), 1, "the next tick retries");
	cr_assert_eq(usage_write(u, path, 1, 0, 0), -1, "logged once");
	usage_free(&u);
}

Test(usage, write_refuses_a_directory_others_may_write)
{
	struct usage *u = usage_new();
	char dir[300], path[400];

	snprintf(dir, sizeof(dir), "%s/open", tmp);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/usage-1.json", dir);
	usage_record(u, "s", "t", 0, 1);
	cr_assert_eq(usage_write(u, path, 1, 0, 0), -1);
	cr_assert_eq(access(path, F_OK), -1);
	usage_free(&u);
}

/* Writes a usage file for `pid` with `calls` calls into tmp/mcp-bridge. */
static void
put(long pid, int calls)
{
	struct usage *u = usage_new();
	char path[400];

	for (int i = 0; i < calls; i++)
		usage_record(
		    u, "presto", i % 2 ? "query" : "tables", i == 0, i * 10);
	snprintf(path, sizeof(path), "%s/mcp-bridge/usage-%ld.json", tmp, pid);
	cr_assert_eq(usage_write(u, path, pid, 100, 200), 0);
	usage_free(&u);
}

Test(usage, reader_keeps_live_removes_dead_skips_corrupt)
{
	char dir[300], path[400], *all;
	long live = getpid(), parent = getppid();
	json_t *arr;
	struct stat st;

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	snprintf(dir, sizeof(dir), "%s/mcp-bridge", tmp);
	put(live, 3);
	put(DEAD_PID, 5);
	put(1, 2); /* init: alive, and not ours (EPERM counts as alive) */
	/* a temporary file left by a writer that died */
	snprintf(path, sizeof(path), "%s/usage-%ld.json.tmp%ld", dir, live,
	    DEAD_PID);
	write_file(path, "{", 0600);
	/* corrupt files of live processes: skipped, kept */
	snprintf(path, sizeof(path), "%s/usage-%ld.json", dir, parent);
	write_file(path, "{\"v\":1,\"pid\":", 0600);
	/* not ours to read: other names */
	snprintf(path, sizeof(path), "%s/usage-007.json", dir);
	write_file(path, "{}", 0600);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "hello", 0600);

	all = usage_read_all();
	cr_assert_not_null(all);
	arr = load(all);
	cr_assert_eq(json_array_size(arr), 2, "%s", all);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(arr, 0), "pid")),
	    1, "ordered by pid");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(arr, 1), "pid")),
	    live);
	cr_assert_eq(json_integer_value(json_object_get(
	                 json_object_get(
	                     json_object_get(json_array_get(arr, 1), "servers"),
	                     "presto"),
	                 "calls")),
	    3);
	snprintf(path, sizeof(path), "%s/usage-%ld.json", dir, DEAD_PID);
	cr_assert_eq(stat(path, &st), -1, "the dead process's file is gone");
	snprintf(path, sizeof(path), "%s/usage-%ld.json.tmp%ld", dir, live,
	    DEAD_PID);
	cr_assert_eq(stat(path, &st), -1, "the stale temporary is gone");
	snprintf(path, sizeof(path), "%s/usage-%ld.json", dir, parent);
	cr_assert_eq(stat(path, &st), 0, "a live process's file stays");
	snprintf(path, sizeof(path), "%s/usage-007.json", dir);
	cr_assert_eq(stat(path, &st), 0, "not a usage file name: untouched");
	json_decref(arr);
	free(all);
}

Test(usage, reader_skips_a_file_whose_pid_does_not_match)
{
	char path[400], *all;
	struct usage *u = usage_new();

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	put(getpid(), 1);
	usage_record(u, "s", "t", 0, 1);
	snprintf(path, sizeof(path), "%s/mcp-bridge/usage-%ld.json", tmp,
	    (long)getppid());
	cr_assert_eq(usage_write(u, path, getpid(), 0, 0), 0);
	all = usage_read_all();
	cr_assert_not_null(all);
	cr_assert_eq(strstr(all, "\"s\""), NULL, "%s", all);
	free(all);
	usage_free(&u);
}

Test(usage, reader_missing_dir_and_unsafe_dir)
{
	char dir[300], *all;

	snprintf(dir, sizeof(dir), "%s/none", tmp);
	all = usage_read_dir(dir);
	cr_assert_str_eq(all, "[]");
	free(all);
	cr_assert_eq(chmod(tmp, 0777), 0);
	cr_assert_null(usage_read_dir(tmp), "others may write to it");
	cr_assert_eq(chmod(tmp, 0700), 0);
	all = usage_read_dir(tmp);
	cr_assert_str_eq(all, "[]");
	free(all);
}

Test(usage, reader_refuses_oversized_and_non_regular_files)
{
	char dir[300], path[400], *all;
	int fd;

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	snprintf(dir, sizeof(dir), "%s/mcp-bridge", tmp);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/usage-%ld.json", dir, (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_eq(ftruncate(fd, USAGE_MAX_FILE + 1), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/usage-%ld.json", dir, (long)getppid());
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	all = usage_read_all();
	cr_assert_str_eq(all, "[]");
	free(all);
}

Test(usage, summary_lines)
{
	char *all, *sum;

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	put(getpid(), 4);
	all = usage_read_all();
	sum = usage_summary(all, 100 + 3825, 5); /* started 100 */
	cr_assert_not_null(sum);
	snprintf(err, sizeof(err),
	    "bridge %ld: up 1h 03m, 4 calls, 1 error, 1 server\n"
	    "  presto__query: 2 calls, 0 errors, p50 10 ms, p95 30 ms\n"
	    "  presto__tables: 2 calls, 1 error, p50 10 ms, p95 20 ms\n",
	    (long)getpid());
	cr_assert_str_eq(sum, err);
	free(sum);
	sum = usage_summary(all, 0, 1);
	cr_assert(strstr(sum, "presto__query") && !strstr(sum, "tables"),
	    "top 1: %s", sum);
	free(sum);
	free(all);
	sum = usage_summary("[]", 0, 5);
	cr_assert_str_eq(sum, "");
	free(sum);
	cr_assert_null(usage_summary("{}", 0, 5));
	cr_assert_null(usage_summary("[1]", 0, 5));
}

/* SPDX-License-Identifier: ISC */
#include "usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fsx.h"
#include "log.h"
#include "str.h"
#include "usage_int.h"
#include "xmem.h"

const int64_t usage_bounds[USAGE_NBUCKETS] = { 10, 25, 50, 100, 250, 500, 1000,
	2500, 5000, 10000, 30000, -1 };

struct ctr {
	int64_t calls, errors, ms_sum, ms_max;
	int64_t hist[USAGE_NBUCKETS];
};

struct tool {
	char *name;
	struct ctr c;
};

struct server {
	char *name;
	struct ctr c; /* the sums of its tools */
	struct tool *tools;
	size_t ntools, cap;
	size_t named; /* tools other than USAGE_OTHER */
};

struct usage {
	struct server *sv;
	size_t nsv, cap;
	size_t named;   /* servers other than USAGE_OTHER */
	size_t entries; /* tools other than USAGE_OTHER, in all servers */
	int dirty;      /* recorded since the last write */
	int warned;     /* a write failure was logged */
};

/* -- counters ---------------------------------------------------------- */

int64_t
usage_sat_add(int64_t a, int64_t b)
{
	return a > USAGE_MAX_COUNT - b ? USAGE_MAX_COUNT : a + b;
}

int
usage_bucket(int64_t ms)
{
	int i = 0;

	while (i < USAGE_NBUCKETS - 1 && ms > usage_bounds[i])
		i++;
	return i;
}

static void
ctr_add(struct ctr *c, int error, int64_t ms)
{
	c->calls = usage_sat_add(c->calls, 1);
	c->errors = usage_sat_add(c->errors, error ? 1 : 0);
	c->ms_sum = usage_sat_add(c->ms_sum, ms);
	if (ms > c->ms_max)
		c->ms_max = ms;
	c->hist[usage_bucket(ms)] = usage_sat_add(c->hist[usage_bucket(ms)], 1);
}

/* Adds the counters of `b` to `a` (a server's sums of its tools). */
static void
ctr_sum(struct ctr *a, const struct ctr *b)
{
	a->calls = usage_sat_add(a->calls, b->calls);
	a->errors = usage_sat_add(a->errors, b->errors);
	a->ms_sum = usage_sat_add(a->ms_sum, b->ms_sum);
	if (b->ms_max > a->ms_max)
		a->ms_max = b->ms_max;
	for (int i = 0; i < USAGE_NBUCKETS; i++)
		a->hist[i] = usage_sat_add(a->hist[i], b->hist[i]);
}

/* 1 for a name kept as is: UTF-8, 1..USAGE_MAX_NAME bytes, no C0/C1
 * control characters (they reach a terminal in `status`). */
int
usage_name_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n == 0 || n > USAGE_MAX_NAME || !str_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static int
is_other(const char *name)
{
	return strcmp(name, USAGE_OTHER) == 0;
}

struct usage *
usage_new(void)
{
	return x_calloc(1, sizeof(struct usage));
}

void
usage_free(struct usage **up)
{
	struct usage *u = up ? *up : NULL;

	if (u == NULL)
		return;
	for (size_t i = 0; i < u->nsv; i++) {
		for (size_t j = 0; j < u->sv[i].ntools; j++)
			free(u->sv[i].tools[j].name);
		free(u->sv[i].tools);
		free(u->sv[i].name);
	}
	free(u->sv);
	free(u);
	*up = NULL;
}

static struct server *
server_find(struct usage *u, const char *name)
{
	for (size_t i = 0; i < u->nsv; i++)
		if (strcmp(u->sv[i].name, name) == 0)
			return &u->sv[i];
	return NULL;
}

/* Adds server `name` (absent); NULL when the bound forbids it. */
static struct server *
server_add(struct usage *u, const char *name)
{
	struct server *s;

	if (!is_other(name) && u->named >= USAGE_MAX_SERVERS)
		return NULL;
	if (u->nsv == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		u->sv = x_realloc(u->sv, u->cap * sizeof(*u->sv));
	}
	s = &u->sv[u->nsv++];
	memset(s, 0, sizeof(*s));
	s->name = x_strdup(name);
	u->named += !is_other(name);
	return s;
}

static struct tool *
tool_find(struct server *s, const char *name)
{
	for (size_t i = 0; i < s->ntools; i++)
		if (strcmp(s->tools[i].name, name) == 0)
			return &s->tools[i];
	return NULL;
}

/* Adds tool `name` (absent) to `s`; NULL when a bound forbids it. */
static struct tool *
tool_add(struct usage *u, struct server *s, const char *name)
{
	struct tool *t;
	int other = is_other(name);

	if (!other &&
	    (s->named >= USAGE_MAX_TOOLS || u->entries >= USAGE_MAX_ENTRIES))
		return NULL;
	if (s->ntools == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->tools = x_realloc(s->tools, s->cap * sizeof(*s->tools));
	}
	t = &s->tools[s->ntools++];
	memset(t, 0, sizeof(*t));
	t->name = x_strdup(name);
	s->named += !other;
	u->entries += !other;
	return t;
}

void
usage_record(struct usage *u, const char *server, const char *tool, int error,
    int64_t ms)
{
	struct server *s;
	struct tool *t;

	if (u == NULL)
		return;
	if (server == NULL || !usage_name_ok(server, strlen(server)))
		server = USAGE_OTHER;
	if (tool == NULL || !usage_name_ok(tool, strlen(tool)))
		tool = USAGE_OTHER;
	ms = ms < 0 ? 0 : ms > USAGE_MAX_COUNT ? USAGE_MAX_COUNT : ms;
	if ((s = server_find(u, server)) == NULL &&
	    (s = server_add(u, server)) == NULL &&
	    (s = server_find(u, USAGE_OTHER)) == NULL)
		s = server_add(u, USAGE_OTHER);
	if ((t = tool_find(s, tool)) == NULL &&
	    (t = tool_add(u, s, tool)) == NULL &&
	    (t = tool_find(s, USAGE_OTHER)) == NULL)
		t = tool_add(u, s, USAGE_OTHER);
	ctr_add(&t->c, error, ms);
	ctr_add(&s->c, error, ms);
	u->dirty = 1;
}

int
usage_dirty(const struct usage *u)
{
	return u->dirty;
}

int64_t
usage_calls(const struct usage *u)
{
	int64_t n = 0;

	for (size_t i = 0; i < u->nsv; i++)
		n = usage_sat_add(n, u->sv[i].c.calls);
	return n;
}

int64_t
usage_quantile(const int64_t hist[USAGE_NBUCKETS], double q, int64_t max)
{
	int64_t calls = 0, cum = 0, rank, lo, hi;
	double r;
	int i;

	for (i = 0; i < USAGE_NBUCKETS; i++)
		calls = usage_sat_add(calls, hist[i] > 0 ? hist[i] : 0);
	if (calls == 0 || !(q > 0))
		return 0;
	r = q >= 1 ? (double)calls : q * (double)calls;
	rank = (int64_t)r;
	rank += (double)rank < r; /* ceil */
	rank = rank < 1 ? 1 : rank > calls ? calls : rank;
	for (i = 0; i < USAGE_NBUCKETS - 1; i++) {
		if (hist[i] > 0 && cum + hist[i] >= rank)
			break;
		cum = usage_sat_add(cum, hist[i] > 0 ? hist[i] : 0);
	}
	lo = i == 0 ? 0 : usage_bounds[i - 1];
	hi = i == USAGE_NBUCKETS - 1 ? max : usage_bounds[i];
	hi = hi > max ? max : hi;
	if (hi <= lo || hist[i] <= 0)
		return hi > lo ? hi : lo > max ? max : lo;
	/* linear inside the bucket, rounded to the nearest ms */
	return lo +
	    (int64_t)((double)(hi - lo) * (double)(rank - cum) /
	            (double)hist[i] +
	        0.5);
}

/* -- the document -------------------------------------------------------- */

static json_t *
ctr_json(const struct ctr *c)
{
	json_t *h = json_array();

	for (int i = 0; i < USAGE_NBUCKETS; i++)
		json_array_append_new(h, json_integer(c->hist[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "calls",
	    (json_int_t)c->calls, "errors", (json_int_t)c->errors, "ms_sum",
	    (json_int_t)c->ms_sum, "ms_max", (json_int_t)c->ms_max, "p50",
	    (json_int_t)usage_quantile(c->hist, 0.50, c->ms_max), "p95",
	    (json_int_t)usage_quantile(c->hist, 0.95, c->ms_max), "hist", h);
}

static json_t *
server_json(const struct server *s)
{
	json_t *o = ctr_json(&s->c), *tools = json_object();

	for (size_t i = 0; i < s->ntools; i++)
		json_object_set_new(
		    tools, s->tools[i].name, ctr_json(&s->tools[i].c));
	json_object_set_new(o, "tools", tools);
	return o;
}

char *
usage_json(const struct usage *u, long pid, int64_t started, int64_t now)
{
	json_t *servers = json_object(), *doc;
	char *text;

	for (size_t i = 0; i < u->nsv; i++)
		json_object_set_new(
		    servers, u->sv[i].name, server_json(&u->sv[i]));
	doc = json_pack("{s:i, s:I, s:I, s:I, s:o}", "v", 1, "pid",
	    (json_int_t)pid, "started", (json_int_t)started, "updated",
	    (json_int_t)now, "servers", servers);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text == NULL) {
		log_error("usage: cannot encode the counters");
		abort(); /* only out of memory gets here (names are checked) */
	}
	return text;
}

/* -- the parser ---------------------------------------------------------- */

struct perr {
	char *buf;
	size_t sz;
};

/* Sets the error once (the first, innermost reason wins); returns -1. */
static int
fail(struct perr *e, const char *where, const char *what)
{
	if (e->buf[0] == '\0')
		str_fmt(e->buf, e->sz, "%s: %s", where, what);
	return -1;
}

/* An integer member in [0, USAGE_MAX_COUNT]. */
static int
get_count(const json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > USAGE_MAX_COUNT)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Reads and checks one COUNTERS object into `c`. */
static int
ctr_parse(const json_t *o, struct ctr *c, struct perr *e, const char *where)
{
	const json_t *h = json_object_get(o, "hist");
	int64_t sum = 0;
	int top = -1;

	if (!json_is_object(o))
		return fail(e, where, "expected an object");
	if (get_count(o, "calls", &c->calls) == -1 ||
	    get_count(o, "errors", &c->errors) == -1 ||
	    get_count(o, "ms_sum", &c->ms_sum) == -1 ||
	    get_count(o, "ms_max", &c->ms_max) == -1)
		return fail(e, where,
		    "calls, errors, ms_sum and ms_max must be integers in "
		    "[0, 2^53-1]");
	if (!json_is_array(h) || json_array_size(h) != USAGE_NBUCKETS)
		return fail(e, where, "hist must be an array of 12 counts");
	for (int i = 0; i < USAGE_NBUCKETS; i++) {
		json_t *v = json_array_get(h, (size_t)i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > USAGE_MAX_COUNT)
			return fail(e, where, "hist holds a bad count");
		c->hist[i] = json_integer_value(v);
		sum = usage_sat_add(sum, c->hist[i]);
		top = c->hist[i] ? i : top;
	}
	if (sum != c->calls)
		return fail(e, where, "hist does not add up to calls");
	if (c->errors > c->calls || c->ms_max > c->ms_sum)
		return fail(e, where, "errors > calls or ms_max > ms_sum");
	if (top == -1 ? c->ms_max != 0 || c->ms_sum != 0
	              : usage_bucket(c->ms_max) != top)
		return fail(e, where, "ms_max is not in the last used bucket");
	return 0;
}

/* 1 when a and b hold the same counters. */
static int
ctr_eq(const struct ctr *a, const struct ctr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static int
tools_parse(struct usage *u, struct server *s, const json_t *tools,
    struct perr *e, const char *where)
{
	struct ctr sum = { 0 };
	const char *k;
	size_t klen;
	json_t *v;

	if (!json_is_object(tools))
		return fail(e, where, "tools must be an object");
	json_object_keylen_foreach((json_t *)tools, k, klen, v)
	{
		struct tool *t;

		if (!usage_name_ok(k, klen) || strlen(k) != klen)
			return fail(e, where,
			    "a tool name is not valid (UTF-8, 1-128 bytes, no "
			    "control characters)");
		if (tool_find(s, k) || (t = tool_add(u, s, k)) == NULL)
			return fail(e, where, "too many tools");
		if (ctr_parse(v, &t->c, e, where) == -1)
			return -1;
		ctr_sum(&sum, &t->c);
	}
	if (!ctr_eq(&sum, &s->c))
		return fail(e, where, "not the sums of its tools' counters");
	return 0;
}

static int
servers_parse(struct usage *u, const json_t *servers, struct perr *e)
{
	const char *k;
	size_t klen;
	json_t *v;

	if (!json_is_object(servers))
		return fail(e, "servers", "expected an object");
	json_object_keylen_foreach((json_t *)servers, k, klen, v)
	{
		struct server *s;
		char where[USAGE_MAX_NAME + 16];

		if (!usage_name_ok(k, klen) || strlen(k) != klen)
			return fail(e, "servers",
			    "a server name is not valid (UTF-8, 1-128 bytes, "
			    "no control characters)");
		if (server_find(u, k) || (s = server_add(u, k)) == NULL)
			return fail(e, "servers", "too many servers");
		str_fmt(where, sizeof(where), "servers.%s", k);
		if (ctr_parse(v, &s->c, e, where) == -1 ||
		    tools_parse(u, s, json_object_get(v, "tools"), e, where) ==
		        -1)
			return -1;
	}
	return 0;
}

static int
meta_parse(const json_t *doc, struct usage_meta *m, struct perr *e)
{
	json_t *v = json_object_get(doc, "v"), *pid;

	if (!json_is_object(doc))
		return fail(e, "usage", "expected a JSON object");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return fail(e, "v", "unsupported version (expected 1)");
	pid = json_object_get(doc, "pid");
	if (!json_is_integer(pid) || json_integer_value(pid) < 1 ||
	    json_integer_value(pid) > 0x7fffffff)
		return fail(e, "pid", "expected a process id");
	m->pid = (long)json_integer_value(pid);
	if (get_count(doc, "started", &m->started) == -1 ||
	    get_count(doc, "updated", &m->updated) == -1)
		return fail(e, "started/updated", "expected unix seconds");
	return 0;
}

/* Replaces bytes that could upset a terminal (jansson quotes input). */
static void
printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

struct usage *
usage_parse(const char *text, size_t len, struct usage_meta *meta, char *err,
    size_t errsz)
{
	struct perr e = { err, errsz };
	struct usage *u = usage_new();
	json_error_t je;
	json_t *doc = NULL;

	err[0] = '\0';
	if (len > USAGE_MAX_FILE) {
		str_fmt(err, errsz, "larger than %u bytes", USAGE_MAX_FILE);
		goto bad;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		str_fmt(err, errsz, "not JSON: %s (line %d)", je.text, je.line);
		printable(err);
		goto bad;
	}
	if (meta_parse(doc, meta, &e) == -1 ||
	    servers_parse(u, json_object_get(doc, "servers"), &e) == -1)
		goto bad;
	json_decref(doc);
	return u;
bad:
	json_decref(doc);
	usage_free(&u);
	return NULL;
}

/* -- files --------------------------------------------------------------- */

/* 0 when `dir` is ours and others may not write to it; ENOENT passes
 * through errno. */
int
usage_dir_ok(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

int
usage_dir(char *out, size_t outsz)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	const char *tmp = getenv("TMPDIR");

	if (rt && rt[0] == '/')
		return str_fmt(out, outsz, "%s/mcp-bridge", rt) < 0 ? -1 : 0;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	return str_fmt(
	           out, outsz, "%s/mcp-bridge-%u", tmp, (unsigned)geteuid()) < 0
	    ? -1
	    : 0;
}

int
usage_path(long pid, char *out, size_t outsz)
{
	char dir[4096];

	if (usage_dir(dir, sizeof(dir)) == -1)
		return -1;
	return str_fmt(out, outsz, "%s/usage-%ld.json", dir, pid) < 0 ? -1 : 0;
}

int
usage_write(
    struct usage *u, const char *path, long pid, int64_t started, int64_t now)
{
	char *text = usage_json(u, pid, started, now);
	char *dir = x_strdup(path), *slash = strrchr(dir, '/');
	int rc = -1;

	if (slash && slash != dir) {
		*slash = '\0';
		if (fsx_mkdirs(dir) == -1 || usage_dir_ok(dir) == -1)
			goto out;
	}
	if (fsx_write_atomic(path, text, strlen(text)) == -1)
		goto out;
	rc = 0;
	u->dirty = 0;
out:
	if (rc == -1 && !u->warned) {
		log_warn("usage: cannot write %s: %s (counters not shown by "
		         "'mcp-bridge status')",
		    path, strerror(errno));
		u->warned = 1;
	}
	free(text);
	free(dir);
	return rc;
}

/* SPDX-License-Identifier: ISC */
#include "registry_api.h"

#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "str.h"
#include "xmem.h"

#define OFFICIAL "io.modelcontextprotocol.registry/official"
#define X_ACCESS "dev.mcp-bridge.registry/access"
#define X_AUTH   "dev.mcp-bridge.registry/auth"
#define PREFIX   "/v0.1/servers"
/* Largest response body built. */
#define BODY_MAX (64u * 1024 * 1024)

struct ctx {
	const struct rdb *db;
	const struct rapi_conf *c;
	const struct rapi_req *rq;
	struct rapi_resp *out;
};

static void
rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}

static void
set_body(struct rapi_resp *o, int status, const char *ctype, char *body)
{
	o->status = status;
	o->ctype = ctype;
	free(o->body);
	o->body = body;
	o->len = body ? strlen(body) : 0;
}

static void
problem(struct ctx *x, int status, const char *title, const char *detail,
    const char *request_url)
{
	json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank",
	    "title", title, "status", status, "detail", detail);

	if (request_url)
		json_object_set_new(
		    p, "requestAccessUrl", json_string(request_url));
	set_body(x->out, status, "application/problem+json",
	    json_dumps(p, JSON_COMPACT));
	json_decref(p);
}

/* -- query strings ------------------------------------------------------ */

static int
hexval(int c)
{
	return isdigit(c) ? c - '0'
	    : isxdigit(c) ? (tolower(c) - 'a' + 10)
	                  : -1;
}

/* Percent-decodes [p, p+n) into a new string; NULL if malformed or NUL. */
static char *
pct_decode(const char *p, size_t n, int plus)
{
	char *o = x_malloc(n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++, j++) {
		if (p[i] == '%') {
			if (i + 2 >= n || hexval((unsigned char)p[i + 1]) < 0 ||
			    hexval((unsigned char)p[i + 2]) < 0)
				goto bad;
			o[j] = (char)(hexval((unsigned char)p[i + 1]) * 16 +
			    hexval((unsigned char)p[i + 2]));
			i += 2;
		} else if (plus && p[i] == '+')
			o[j] = ' ';
		else
			o[j] = p[i];
		if (o[j] == '\0')
			goto bad;
	}
	o[j] = '\0';
	return o;
bad:
	free(o);
	return NULL;
}

/* Value of `key` in the query (new), or NULL. */
static char *
qget(const char *q, const char *key)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);

		if (len > kl && strncmp(q, key, kl) == 0 && q[kl] == '=')
			return pct_decode(q + kl + 1, len - kl - 1, 1);
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* -- entries ------------------------------------------------------------ */

static json_t *
meta(struct ctx *x, const struct rdb_entry *e, int allowed, const char *via)
{
	const struct rdb_policy *p = rdb_policy(x->db, e->name);
	static const char *const st[] = { "active", "deprecated", "deleted" };
	char when[32];
	json_t *m, *acc;

	rfc3339(e->published, when);
	m = json_pack("{s:{s:s, s:s, s:s, s:b}}", OFFICIAL, "status",
	    st[p->status], "publishedAt", when, "updatedAt", when, "isLatest",
	    e->is_latest);
	if (p->status_message)
		json_object_set_new(json_object_get(m, OFFICIAL),
		    "statusMessage", json_string(p->status_message));
	acc = json_pack("{s:b}", "allowed", allowed);
	if (via)
		json_object_set_new(acc, "via", json_pack("[s]", via));
	if (!allowed) {
		json_object_set_new(acc, "reason",
		    json_string("not in a group "
		                "allowed to use it"));
		if (p->request_url)
			json_object_set_new(acc, "requestAccessUrl",
			    json_string(p->request_url));
	}
	json_object_set_new(m, X_ACCESS, acc);
	if (p->resource)
		json_object_set_new(
		    m, X_AUTH, json_pack("{s:s}", "resource", p->resource));
	return m;
}

/* Appends {"server":...,"_meta":...} for entry e. */
static int
put_entry(struct ctx *x, struct buf *b, const struct rdb_entry *e, int allowed,
    const char *via)
{
	json_t *m = meta(x, e, allowed, via);
	char *ms = json_dumps(m, JSON_COMPACT);
	int rc = ms == NULL || buf_puts(b, "{\"server\":") ||
	    buf_puts(b, e->json) || buf_puts(b, ",\"_meta\":") ||
	    buf_puts(b, ms) || buf_puts(b, "}");

	free(ms);
	json_decref(m);
	return rc ? -1 : 0;
}

static int
user_allowed(struct ctx *x, const char *name, const char **via)
{
	const struct rapi_user *u = x->rq->user;

	return rdb_allowed(x->db, name, u->groups, u->ngroups, via);
}

static int
deleted(struct ctx *x, const char *name)
{
	return rdb_policy(x->db, name)->status == RDB_DELETED;
}

/* -- GET /v0.1/servers -------------------------------------------------- */

struct listq {
	long limit;
	char *cursor, *search, *since, *version;
	int include_denied;
	int64_t since_t;
};

/* `n` decimal digits at `s` (no sign, no blanks) into *out; 0 or -1. */
static int
digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SS" and whatever follows (zone, fraction). */
static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 };

	if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &tm.tm_year) || digits(s + 5, 2, &tm.tm_mon) ||
	    digits(s + 8, 2, &tm.tm_mday) || digits(s + 11, 2, &tm.tm_hour) ||
	    digits(s + 14, 2, &tm.tm_min) || digits(s + 17, 2, &tm.tm_sec) ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int
listq_parse(struct ctx *x, struct listq *q)
{
	const char *qs = x->rq->query;
	char *lim = qget(qs, "limit"), *den = qget(qs, "include_denied");
	long long n = 30;
	int rc = 0;

	memset(q, 0, sizeof(*q));
	q->cursor = qget(qs, "cursor");
	q->search = qget(qs, "search");
	q->since = qget(qs, "updated_since");
	q->version = qget(qs, "version");
	q->include_denied = den && strcmp(den, "true") == 0;
	if (lim && str_tonum(lim, 1, RAPI_MAX_LIMIT, &n) == -1) {
		problem(x, 400, "Bad Request", "limit must be 1 to 100", NULL);
		rc = -1;
	} else if (q->since && parse_time(q->since, &q->since_t) == -1) {
		problem(x, 400, "Bad Request",
		    "updated_since must be an RFC 3339 time", NULL);
		rc = -1;
	} else if (q->version && strcmp(q->version, "latest") != 0) {
		rc = 0; /* an exact version: filter below */
	}
	q->limit = (long)n;
	free(lim);
	free(den);
	return rc;
}

static void
listq_clear(struct listq *q)
{
	free(q->cursor);
	free(q->search);
	free(q->since);
	free(q->version);
}

static int
contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

/* Does entry e pass the filters? *allowed and *via filled. */
static int
matches(struct ctx *x, const struct listq *q, const struct rdb_entry *e,
    int *allowed, const char **via)
{
	if (deleted(x, e->name))
		return 0;
	*allowed = user_allowed(x, e->name, via);
	if (!*allowed && !q->include_denied)
		return 0;
	if (q->version && strcmp(q->version, "latest") == 0 && !e->is_latest)
		return 0;
	if (q->version && strcmp(q->version, "latest") != 0 &&
	    strcmp(q->version, e->version) != 0)
		return 0;
	if (q->search && !contains_nocase(e->name, q->search) &&
	    !contains_nocase(e->description, q->search))
		return 0;
	return !q->since || e->published >= q->since_t;
}

/* Index of the first entry after the cursor "name:version". */
static size_t
after_cursor(struct ctx *x, const char *cursor)
{
	size_t n = rdb_count(x->db);

	if (cursor == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct rdb_entry *e = rdb_entry(x->db, i);
		size_t nl = strlen(e->name);

		if (strncmp(cursor, e->name, nl) == 0 && cursor[nl] == ':' &&
		    strcmp(cursor + nl + 1, e->version) == 0)
			return i + 1;
	}
	return n + 1; /* unknown cursor */
}

static void
list(struct ctx *x)
{
	struct listq q;
	struct buf b;
	size_t i, count = 0, n = rdb_count(x->db);
	const struct rdb_entry *last = NULL;
	int more = 0;

	if (listq_parse(x, &q) == -1)
		goto out;
	if ((i = after_cursor(x, q.cursor)) > n) {
		problem(x, 400, "Bad Request", "unknown cursor", NULL);
		goto out;
	}
	buf_init(&b, BODY_MAX);
	(void)!buf_puts(&b, "{\"servers\":[");
	for (; i < n; i++) {
		const struct rdb_entry *e = rdb_entry(x->db, i);
		const char *via;
		int allowed;

		if (!matches(x, &q, e, &allowed, &via))
			continue;
		if (count == (size_t)q.limit) {
			more = 1;
			break;
		}
		if ((count++ && buf_puts(&b, ",")) ||
		    put_entry(x, &b, e, allowed, via))
			break;
		last = e;
	}
	(void)!buf_printf(&b, "],\"metadata\":{\"count\":%zu", count);
	if (more && last)
		(void)!buf_printf(
		    &b, ",\"nextCursor\":\"%s:%s\"", last->name, last->version);
	(void)!buf_puts(&b, "}}");
	set_body(x->out, 200, "application/json", buf_take(&b, NULL));
	x->out->cache = 1;
out:
	listq_clear(&q);
}

/* -- /v0.1/servers/{name}/... ------------------------------------------ */

/* Checks the caller may see `name`: 0, or -1 with the answer set. */
static int
visible(struct ctx *x, const char *name)
{
	const char *via;

	if (rdb_find(x->db, name) < 0 || deleted(x, name)) {
		problem(x, 404, "Not Found", "Server not found", NULL);
		return -1;
	}
	if (!user_allowed(x, name, &via)) {
		problem(x, 403, "Forbidden",
		    "you are not in a group allowed to use this server",
		    rdb_policy(x->db, name)->request_url);
		return -1;
	}
	return 0;
}

static void
versions(struct ctx *x, const char *name, const char *version)
{
	long i0 = rdb_find(x->db, name);
	size_t count = 0;
	const char *via = NULL;
	int ok;
	struct buf b;

	buf_init(&b, BODY_MAX);
	if (version == NULL)
		(void)!buf_puts(&b, "{\"servers\":[");
	for (size_t i = (size_t)i0; i < rdb_count(x->db); i++) {
		const struct rdb_entry *e = rdb_entry(x->db, i);

		if (strcmp(e->name, name) != 0)
			break;
		if (version && strcmp(version, "latest") == 0 && !e->is_latest)
			continue;
		if (version && strcmp(version, "latest") &&
		    strcmp(version, e->version))
			continue;
		if (count++ && buf_puts(&b, ","))
			break;
		ok = user_allowed(x, name, &via); /* sets via first */
		(void)put_entry(x, &b, e, ok, via);
		if (version)
			break;
	}
	if (version == NULL)
		(void)!buf_printf(&b, "],\"metadata\":{\"count\":%zu}}", count);
	if (version && count == 0) {
		buf_finish(&b);
		problem(x, 404, "Not Found", "Version not found", NULL);
		return;
	}
	set_body(x->out, 200, "application/json", buf_take(&b, NULL));
	x->out->cache = 1;
}

static void
access_check(struct ctx *x, const char *name)
{
	const struct rdb_policy *p = rdb_policy(x->db, name);
	const char *via;
	char exp[32];
	int ok;
	json_t *a;

	if (rdb_find(x->db, name) < 0 || p->status == RDB_DELETED) {
		problem(x, 404, "Not Found", "Server not found", NULL);
		return;
	}
	ok = user_allowed(x, name, &via);
	rfc3339(x->rq->now + 60, exp);
	a = json_pack("{s:b, s:s}", "allowed", ok, "expiresAt", exp);
	if (ok)
		json_object_set_new(a, "via", json_pack("[s]", via));
	else {
		json_object_set_new(a, "reason", json_string("group"));
		json_object_set_new(a, "message",
		    json_string("you are not in a group allowed to use it"));
		if (p->request_url)
			json_object_set_new(
			    a, "requestAccessUrl", json_string(p->request_url));
	}
	set_body(x->out, 200, "application/json", json_dumps(a, JSON_COMPACT));
	x->out->cache = 1;
	json_decref(a);
}

/* Splits "{name}/versions[/{v}]" or "{name}/access" and answers. */
static void
server_route(struct ctx *x, const char *rest)
{
	const char *acc = strstr(rest, "/access");
	const char *ver = strstr(rest, "/versions");
	char *name = NULL, *v = NULL;

	if (acc && acc[7] == '\0')
		name = pct_decode(rest, (size_t)(acc - rest), 0);
	else if (ver && (ver[9] == '\0' || ver[9] == '/')) {
		name = pct_decode(rest, (size_t)(ver - rest), 0);
		if (ver[9] == '/')
			v = pct_decode(ver + 10, strlen(ver + 10), 0);
	}
	if (name == NULL || (ver && ver[9] == '/' && (v == NULL || !*v))) {
		problem(x, 404, "Not Found", "no such endpoint", NULL);
	} else if (acc && acc[7] == '\0')
		access_check(x, name);
	else if (visible(x, name) == 0)
		versions(x, name, v);
	free(name);
	free(v);
}

/* -- dispatch ----------------------------------------------------------- */

static void
unauthorized(struct ctx *x)
{
	const char *why = x->rq->auth_error;

	str_fmt(x->out->www_auth, sizeof(x->out->www_auth),
	    "Bearer realm=\"mcp-registry\", resource_metadata=\"%s/.well-known/"
	    "oauth-protected-resource\"%s%s%s",
	    x->c->base_url,
	    why ? ", error=\"invalid_token\", "
	          "error_description=\""
	        : "",
	    why ? why : "", why ? "\"" : "");
	problem(x, 401, "Unauthorized",
	    why ? "the access token is not valid"
	        : "an access token is required",
	    NULL);
}

static void
etag(struct rapi_resp *o, const char *inm)
{
	char id[33];

	if (o->status != 200 || o->body == NULL)
		return;
	str_pair_id(o->body, "", id);
	snprintf(o->etag, sizeof(o->etag), "\"%.16s\"", id);
	if (inm && strstr(inm, o->etag)) {
		set_body(o, 304, NULL, NULL);
	}
}

static void
resource_metadata(struct ctx *x)
{
	json_t *m = json_pack("{s:s, s:[s], s:[s]}", "resource", x->c->resource,
	    "authorization_servers", x->c->issuer, "bearer_methods_supported",
	    "header");

	set_body(x->out, 200, "application/json", json_dumps(m, JSON_COMPACT));
	json_decref(m);
}

void
rapi_handle(const struct rdb *db, const struct rapi_conf *c,
    const struct rapi_req *rq, struct rapi_resp *out)
{
	struct ctx x = { db, c, rq, out };
	int servers = strncmp(rq->path, PREFIX, strlen(PREFIX)) == 0 &&
	    (rq->path[strlen(PREFIX)] == '\0' ||
	        rq->path[strlen(PREFIX)] == '/');

	memset(out, 0, sizeof(*out));
	out->cors = servers;
	if (strcmp(rq->path, "/.well-known/oauth-protected-resource") == 0)
		resource_metadata(&x);
	else if (!servers)
		problem(&x, 404, "Not Found", "no such endpoint", NULL);
	else if (strcmp(rq->method, "OPTIONS") == 0)
		set_body(out, 204, NULL, NULL);
	else if (strcmp(rq->method, "GET") != 0)
		problem(&x, 405, "Method Not Allowed", "only GET", NULL);
	else if (rq->user == NULL)
		unauthorized(&x);
	else if (rq->path[strlen(PREFIX)] == '\0')
		list(&x);
	else
		server_route(&x, rq->path + strlen(PREFIX) + 1);
	etag(out, rq->if_none_match);
}

void
rapi_resp_clear(struct rapi_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* SPDX-License-Identifier: ISC */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

/* Retry period while the token is being refreshed. */
#define TOKEN_POLL_MS 100
/* A registry request may take this long. */
#define REQUEST_TIMEOUT_MS (20 * 1000)

enum kind { K_LIST, K_ACCESS };

/* One page of the last listing: what If-None-Match and the cache need. */
struct page {
	char *cursor; /* cursor it was asked with, NULL for the first */
	char *etag;   /* its ETag, or NULL */
	char *body;   /* its body */
	size_t len;
};

struct creq {
	struct catalog *c;
	enum kind kind;
	struct http_req *req;
	struct buf resp;
	long status;
	char *etag;             /* ETag of the answer */
	long max_age;           /* Cache-Control max-age of the answer, or -1 */
	int retried;            /* already retried after a 401 */
	struct secret *sent;    /* the token sent */
	struct loop_timer *tmr; /* token wait / request timeout */
	int64_t wait_since;     /* loop time the token wait began */
	char *name;             /* access: the server */
	catalog_access_cb *acb; /* access: callback */
	void *aarg;
};

struct catalog {
	struct loop *loop;
	struct http *http;
	char *registry, *cache_path;
	const struct upstream_auth *auth;
	int include_denied;
	struct regmsg_page list; /* current servers */
	int stale;
	struct page old[CATALOG_MAX_PAGES]; /* last good listing */
	size_t nold;
	struct page cur[CATALOG_MAX_PAGES]; /* listing in progress */
	size_t ncur;
	struct regmsg_page next; /* servers of the listing in progress */
	int64_t fresh_until;     /* unix time the listing may be reused */
	int64_t fetched_at;      /* unix time of the listing, 0 if none */
	struct creq *lr;         /* list request, or NULL */
	struct creq *ar;         /* access request, or NULL */
	catalog_cb *cb;
	void *arg;
};

static void send_req(struct creq *q);
static int load_cache(struct catalog *c);

static void
page_clear(struct page *p)
{
	free(p->cursor);
	free(p->etag);
	free(p->body);
	memset(p, 0, sizeof(*p));
}

static void
pages_clear(struct page *p, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		page_clear(&p[i]);
	*n = 0;
}

struct catalog *
catalog_new(struct loop *l, struct http *h, const struct catalog_opts *o)
{
	struct catalog *c = x_calloc(1, sizeof(*c));
	size_t n;

	c->loop = l;
	c->http = h;
	c->registry = x_strdup(o->registry);
	n = strlen(c->registry);
	while (n > 0 && c->registry[n - 1] == '/')
		c->registry[--n] = '\0';
	c->cache_path = o->cache_path ? x_strdup(o->cache_path) : NULL;
	c->auth = o->auth;
	c->include_denied = o->include_denied;
	if (load_cache(c) == -1) /* ETags to revalidate, and a fallback */
		c->fetched_at = 0;
	return c;
}

static void
creq_free(struct creq *q)
{
	if (q == NULL)
		return;
	http_req_cancel(q->req);
	loop_timer_del(q->tmr);
	buf_finish(&q->resp);
	free(q->etag);
	free(q->name);
	secret_free(&q->sent);
	free(q);
}

void
catalog_free(struct catalog **cp)
{
	struct catalog *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	creq_free(c->lr);
	creq_free(c->ar);
	regmsg_page_clear(&c->list);
	regmsg_page_clear(&c->next);
	pages_clear(c->old, &c->nold);
	pages_clear(c->cur, &c->ncur);
	free(c->registry);
	free(c->cache_path);
	free(c);
	*cp = NULL;
}

const struct regmsg_page *
catalog_servers(const struct catalog *c)
{
	return &c->list;
}

int
catalog_stale(const struct catalog *c)
{
	return c->stale;
}

const struct regmsg_server *
catalog_find(const struct catalog *c, const char *name)
{
	const struct regmsg_server *hit = NULL;

	for (size_t i = 0; i < c->list.n; i++) {
		const struct regmsg_server *s = &c->list.srv[i];

		if (s->status == REGMSG_DELETED)
			continue;
		if (strcmp(s->name, name) == 0)
			return s;
		if (strcmp(regmsg_short_name(s->name), name) == 0) {
			if (hit)
				return NULL; /* ambiguous short name */
			hit = s;
		}
	}
	return hit;
}

/* Percent-encodes `s` (all but RFC 3986 unreserved) onto `b`. */
static int
encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			if (buf_append(b, s, 1) == -1)
				return -1;
		} else if (buf_append(b, e, 3) == -1)
			return -1;
	}
	return 0;
}

/* -- one request ------------------------------------------------------ */

static void req_done(struct creq *q, const char *err);

static void
on_head(void *arg, struct http_req *r, long status)
{
	struct creq *q = arg;
	const char *etag = http_req_resp_header(r, "etag");
	const char *cc = http_req_resp_header(r, "cache-control");
	const char *ma = cc ? strstr(cc, "max-age=") : NULL;

	q->status = status;
	free(q->etag);
	q->etag = etag && strlen(etag) < 256 ? x_strdup(etag) : NULL;
	q->max_age = ma ? strtol(ma + 8, NULL, 10) : -1;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct creq *q = arg;

	if (buf_append(&q->resp, p, n) == 0)
		return 0;
	q->req = NULL;
	req_done(q, "registry response too large");
	return -1;
}

static void
on_done(void *arg, const char *err)
{
	struct creq *q = arg;

	q->req = NULL;
	loop_timer_stop(q->tmr);
	req_done(q, err);
}

static const struct http_req_cbs creq_cbs = { on_head, on_body, on_done };

static void
on_timer(void *arg)
{
	struct creq *q = arg;

	if (q->req == NULL) { /* waiting for a token */
		send_req(q);
		return;
	}
	http_req_cancel(q->req);
	q->req = NULL;
	req_done(q, "no answer within 20 s");
}

/* The URL of q into b; 0 or -1. */
static int
req_url(struct creq *q, const char *cursor, struct buf *b)
{
	struct catalog *c = q->c;

	if (buf_puts(b, c->registry) == -1 ||
	    buf_puts(b, "/v0.1/servers") == -1)
		return -1;
	if (q->kind == K_ACCESS)
		return buf_puts(b, "/") || encode(b, q->name) ||
		    buf_puts(b, "/access");
	if (buf_puts(b, "?limit=100&version=latest") == -1 ||
	    (c->include_denied && buf_puts(b, "&include_denied=true") == -1))
		return -1;
	return cursor ? buf_puts(b, "&cursor=") || encode(b, cursor) : 0;
}

/* Gets a token: 0 go, 1 wait (timer armed), -1 failed (done called). */
static int
take_token(struct creq *q)
{
	const struct secret *tok = NULL;
	const char *why = NULL;
	int rc;

	secret_free(&q->sent);
	if (q->c->auth == NULL)
		return 0;
	rc = q->c->auth->bearer(q->c->auth->arg, &tok, &why);
	if (rc == 0) {
		q->sent = secret_new(secret_data(tok), secret_len(tok));
		return 0;
	}
	if (rc == 1 && loop_now_ms() - q->wait_since < CATALOG_TOKEN_WAIT_MS) {
		loop_timer_arm(q->tmr, TOKEN_POLL_MS);
		return 1;
	}
	req_done(q, why ? why : "no access token for the registry");
	return -1;
}

static void
add_headers(struct creq *q, const char *etag)
{
	char line[300];

	http_req_header(q->req, "Accept: application/json");
	if (etag && str_fmt(line, sizeof(line), "If-None-Match: %s", etag) > 0)
		http_req_header(q->req, line);
	if (q->sent) {
		char *h = x_asprintf(
		    "Authorization: Bearer %s", secret_data(q->sent));

		http_req_header(q->req, h);
		secret_wipe(h, strlen(h));
		free(h);
	}
}

static void
send_req(struct creq *q)
{
	struct catalog *c = q->c;
	size_t idx = c->ncur;
	const char *cursor = NULL, *etag = NULL;
	struct buf url;

	if (q->kind == K_LIST && idx > 0)
		cursor = c->next.next_cursor;
	if (q->kind == K_LIST && idx < c->nold &&
	    ((cursor == NULL && c->old[idx].cursor == NULL) ||
	        (cursor && c->old[idx].cursor &&
	            strcmp(cursor, c->old[idx].cursor) == 0)))
		etag = c->old[idx].etag;
	if (take_token(q) != 0)
		return;
	buf_init(&url, 8192);
	if (req_url(q, cursor, &url) == 0)
		q->req =
		    http_req_new(c->http, "GET", buf_data(&url), &creq_cbs, q);
	buf_finish(&url);
	if (q->req == NULL) {
		req_done(q, "cannot create a transfer");
		return;
	}
	buf_reset(&q->resp);
	q->status = 0;
	add_headers(q, etag);
	loop_timer_arm(q->tmr, REQUEST_TIMEOUT_MS);
	http_req_start(q->req);
}

static struct creq *
creq_new(struct catalog *c, enum kind k)
{
	struct creq *q = x_calloc(1, sizeof(*q));

	q->c = c;
	q->kind = k;
	buf_init(&q->resp, REGMSG_MAX_BODY);
	q->tmr = loop_timer_new(c->loop, on_timer, q);
	q->wait_since = loop_now_ms();
	return q;
}

/* 401 to the token we sent: refresh once, then ask again. 1 if so. */
static int
unauthorized(struct creq *q)
{
	const struct upstream_auth *a = q->c->auth;

	if (q->status != 401 || q->retried || a == NULL || q->sent == NULL)
		return 0;
	q->retried = 1;
	log_info("the registry refused the access token; refreshing it");
	a->rejected(a->arg, q->sent);
	q->wait_since = loop_now_ms();
	send_req(q);
	return 1;
}

/* -- the listing -------------------------------------------------------- */

static void
list_end(struct catalog *c, const char *why)
{
	catalog_cb *cb = c->cb;
	void *arg = c->arg;

	creq_free(c->lr);
	c->lr = NULL;
	c->cb = NULL;
	if (cb)
		cb(arg, why);
}

/* Saves the listing in the cache file (0600, temp + rename). */
static void
save_cache(struct catalog *c, long max_age)
{
	json_t *pages, *root;
	char *tmp;
	int fd;

	if (c->cache_path == NULL)
		return;
	pages = json_array();
	for (size_t i = 0; i < c->nold; i++)
		json_array_append_new(pages,
		    json_pack("{s:s?, s:s?, s:s%}", "cursor", c->old[i].cursor,
		        "etag", c->old[i].etag, "body", c->old[i].body,
		        c->old[i].len));
	root = json_pack("{s:i, s:s, s:I, s:I, s:o}", "v", 1, "registry",
	    c->registry, "fetched_at", (json_int_t)time(NULL), "max_age",
	    (json_int_t)max_age, "pages", pages);
	tmp = x_asprintf("%s.tmp%ld", c->cache_path, (long)getpid());
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || json_dumpfd(root, fd, JSON_COMPACT) == -1 ||
	    fsync(fd) == -1 || rename(tmp, c->cache_path) == -1) {
		log_warn(
		    "catalog cache %s: %s", c->cache_path, strerror(errno));
		unlink(tmp);
	}
	if (fd != -1)
		close(fd);
	free(tmp);
	json_decref(root);
}

/* Loads the cache file into c->old and c->list; 0 or -1. */
static int
load_cache(struct catalog *c)
{
	json_t *root, *pg;
	struct regmsg_page list = { 0 };
	char err[256];
	size_t i;

	if (c->cache_path == NULL ||
	    (root = json_load_file(
	         c->cache_path, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	c->fetched_at = json_integer_value(json_object_get(root, "fetched_at"));
	c->fresh_until = c->fetched_at +
	    json_integer_value(json_object_get(root, "max_age"));
	pages_clear(c->old, &c->nold);
	json_array_foreach(json_object_get(root, "pages"), i, pg)
	{
		const char *b = json_string_value(json_object_get(pg, "body"));

		if (b == NULL || i >= CATALOG_MAX_PAGES ||
		    regmsg_page_parse(b, strlen(b), &list, err, sizeof(err)))
			break;
		c->old[c->nold].body = x_strdup(b);
		c->old[c->nold].len = strlen(b);
		if (json_string_value(json_object_get(pg, "etag")))
			c->old[c->nold].etag = x_strdup(
			    json_string_value(json_object_get(pg, "etag")));
		c->old[c->nold].cursor =
		    json_string_value(json_object_get(pg, "cursor"))
		    ? x_strdup(json_string_value(json_object_get(pg, "cursor")))
		    : NULL;
		c->nold++;
	}
	json_decref(root);
	regmsg_page_clear(&c->list);
	c->list = list;
	return c->nold ? 0 : -1;
}

static void
list_failed(struct catalog *c, const char *why)
{
	char msg[512], when[32];
	time_t t = (time_t)c->fetched_at;

	regmsg_page_clear(&c->next);
	pages_clear(c->cur, &c->ncur);
	if (c->list.n > 0 && c->fetched_at > 0) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
		log_warn("registry unreachable (%s); using the catalog cached "
		         "at %s",
		    why, when);
		c->stale = 1;
		list_end(c, NULL);
		return;
	}
	str_fmt(msg, sizeof(msg), "registry %s: %s", c->registry, why);
	list_end(c, msg);
}

/* The listing is complete: it becomes the catalog. */
static void
list_complete(struct catalog *c, long max_age)
{
	pages_clear(c->old, &c->nold);
	memcpy(c->old, c->cur, sizeof(c->cur[0]) * c->ncur);
	c->nold = c->ncur;
	memset(c->cur, 0, sizeof(c->cur[0]) * c->ncur);
	c->ncur = 0;
	regmsg_page_clear(&c->list);
	c->list = c->next;
	memset(&c->next, 0, sizeof(c->next));
	if (c->list.skipped)
		log_warn("registry %s: %zu servers without a valid name left "
		         "out",
		    c->registry, c->list.skipped);
	c->stale = 0;
	c->fetched_at = (int64_t)time(NULL);
	c->fresh_until = max_age > 0 ? c->fetched_at + max_age : 0;
	save_cache(c, max_age);
	list_end(c, NULL);
}

/* Bytes of the pages of the listing in progress. */
static size_t
listing_bytes(const struct catalog *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ncur; i++)
		n += c->cur[i].len;
	return n;
}

/* A page arrived (200, or 304 = the old page of the same index). */
static void
list_page(struct creq *q)
{
	struct catalog *c = q->c;
	struct page *p = &c->cur[c->ncur];
	const char *cursor = c->ncur ? c->next.next_cursor : NULL;
	char err[300];

	p->cursor = cursor ? x_strdup(cursor) : NULL;
	if (q->status == 304 && c->ncur < c->nold) {
		p->body = x_strdup(c->old[c->ncur].body);
		p->len = c->old[c->ncur].len;
		p->etag = c->old[c->ncur].etag ? x_strdup(c->old[c->ncur].etag)
		                               : NULL;
	} else {
		p->body = buf_take(&q->resp, &p->len);
		p->etag = q->etag ? x_strdup(q->etag) : NULL;
	}
	c->ncur++;
	if (listing_bytes(c) > CATALOG_MAX_BYTES) {
		str_fmt(err, sizeof(err), "registry listing is over %u MiB",
		    CATALOG_MAX_BYTES / (1024 * 1024));
		list_failed(c, err);
		return;
	}
	if (regmsg_page_parse(p->body, p->len, &c->next, err, sizeof(err))) {
		list_failed(c, err);
		return;
	}
	if (c->next.next_cursor && c->next.next_cursor[0] &&
	    c->ncur < CATALOG_MAX_PAGES) {
		q->retried = 0;
		send_req(q);
		return;
	}
	list_complete(c, q->max_age);
}

static void access_done(struct creq *q, const char *err);

static void
req_done(struct creq *q, const char *err)
{
	char why[512];

	if (err == NULL && unauthorized(q))
		return;
	if (q->kind == K_ACCESS) {
		access_done(q, err);
		return;
	}
	if (err == NULL && (q->status == 200 || q->status == 304)) {
		list_page(q);
		return;
	}
	if (err)
		str_fmt(why, sizeof(why), "%s", err);
	else
		regmsg_problem(buf_data(&q->resp), buf_len(&q->resp), q->status,
		    why, sizeof(why));
	list_failed(q->c, why);
}

void
catalog_refresh(struct catalog *c, catalog_cb *cb, void *arg)
{
	if (c->lr != NULL) {
		cb(arg, "a catalog refresh is already running");
		return;
	}
	if (c->list.n > 0 && c->fresh_until > (int64_t)time(NULL)) {
		cb(arg, NULL); /* max-age still holds */
		return;
	}
	c->cb = cb;
	c->arg = arg;
	regmsg_page_clear(&c->next);
	pages_clear(c->cur, &c->ncur);
	c->lr = creq_new(c, K_LIST);
	send_req(c->lr);
}

/* -- access pre-flight -------------------------------------------------- */

static void
access_done(struct creq *q, const char *err)
{
	struct catalog *c = q->c;
	catalog_access_cb *cb = q->acb;
	void *arg = q->aarg;
	struct regmsg_access a;
	char why[512];
	int ok = 0;

	if (err)
		str_fmt(why, sizeof(why), "%s", err);
	else if (q->status == 200)
		ok = regmsg_access_parse(buf_data(&q->resp), buf_len(&q->resp),
		         &a, why, sizeof(why)) == 0;
	else
		regmsg_problem(buf_data(&q->resp), buf_len(&q->resp), q->status,
		    why, sizeof(why));
	c->ar = NULL;
	creq_free(q);
	cb(arg, ok ? &a : NULL, ok ? NULL : why);
	if (ok)
		regmsg_access_clear(&a);
}

void
catalog_access(
    struct catalog *c, const char *name, catalog_access_cb *cb, void *arg)
{
	struct creq *q;

	if (c->ar != NULL) {
		cb(arg, NULL, "an access check is already running");
		return;
	}
	q = c->ar = creq_new(c, K_ACCESS);
	q->name = x_strdup(name);
	q->acb = cb;
	q->aarg = arg;
	send_req(q);
}

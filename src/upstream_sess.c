/* SPDX-License-Identifier: ISC */
/*
 * upstream_sess: the session side of an upstream. The IDE's initialize
 * is kept and replayed (with a fresh id) when the server answers 404 to
 * a request carrying the session id; everything sent meanwhile is held
 * and retried once. The standalone GET stream is reopened after `retry`
 * (or with backoff after failures). upstream_close() sends the DELETE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "log.h"
#include "str.h"
#include "upstream_int.h"
#include "xmem.h"

/* The bridge's own re-initialization failed: fail what waited for it. */
void
up_reinit_failed(struct upstream *u, const char *why)
{
	u->reiniting = 0;
	u->lost = 1; /* the next request tries again */
	log_warn("re-initializing the hosted session failed: %s", why);
	for (struct post *q = u->posts, *n; q != NULL; q = n) {
		n = q->next;
		if (q->waiting)
			up_post_fail(q, RPC_UPSTREAM_ERROR,
			    "hosted server "
			    "session expired and could not be renewed");
	}
}

/* Starts the posts held until the session was established. */
void
up_release_held(struct upstream *u)
{
	/* notifications/initialized first: it precedes every request. */
	for (int pass = 0; pass < 2; pass++) {
		for (struct post *q = u->posts, *n; q != NULL; q = n) {
			n = q->next;
			if (q->waiting &&
			    (q->kind == UPSTREAM_INITIALIZED) == (pass == 0))
				up_post_start(q);
		}
	}
	up_modern_released(u);
}

void
up_capture_version(struct upstream *u, const char *js, struct rpc *msg)
{
	struct rpc_span sp = rpc_get(msg, "result", "protocolVersion", NULL);
	char v[sizeof(u->version)];

	if (rpc_span_str(js, sp, v, sizeof(v)) == NULL) {
		log_warn("hosted server's initialize result has no usable "
		         "protocolVersion");
		return;
	}
	for (const char *c = v; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		        (*c >= 'A' && *c <= 'Z') || *c == '-' || *c == '.'))
			return;
	memcpy(u->version, v, sizeof(v));
	log_info("hosted server speaks MCP %s", u->version);
}

void
up_finish_reinit(struct upstream *u)
{
	u->reiniting = 0;
	log_info("hosted session re-initialized; retrying held requests");
	up_release_held(u);
	up_open_getstream(u, 0);
}

static void
send_initialized(struct upstream *u, int internal)
{
	static const char m[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	                        "\"notifications/initialized\"}";
	struct post *p;

	p = up_post_new(
	    u, x_strdup(m), sizeof(m) - 1, -1, UPSTREAM_INITIALIZED);
	p->internal = internal;
	up_post_start(p);
}

/* A response to the bridge's own re-initialize. */
void
up_internal_answer(struct upstream *u, const char *js, struct rpc *msg)
{
	if (rpc_is_error(msg)) {
		up_reinit_failed(u, "initialize was refused");
		return;
	}
	up_capture_version(u, js, msg);
	send_initialized(u, 1);
}

void
up_capture_session(struct post *p, struct http_req *r)
{
	struct upstream *u = p->up;
	const char *sid = http_req_resp_header(r, "mcp-session-id");

	if (sid == NULL || p->kind != UPSTREAM_INITIALIZE)
		return;
	for (const char *c = sid; *c; c++)
		if (*c < 0x21 || *c > 0x7e) {
			log_warn("hosted server sent an invalid session id");
			return;
		}
	free(u->session);
	u->session = x_strdup(sid);
	u->gen++;
	u->lost = 0;
}

/* 404 on a request that carried the session id: the session expired. */
int
up_session_expired(struct post *p)
{
	struct upstream *u = p->up;

	if (p->status != 404 || !p->had_session || p->internal)
		return 0;
	http_req_cancel(p->req);
	p->req = NULL;
	if (p->is_getstream) {
		up_post_free(p);
		up_start_reinit(u);
		return 1;
	}
	if (p->retried)
		return 0;
	p->retried = 1;
	p->waiting = 1;
	log_info("hosted session expired (HTTP 404); re-initializing");
	up_start_reinit(u);
	return 1;
}

void
up_getstream_done(struct post *p, const char *err)
{
	struct upstream *u = p->up;
	int64_t delay;

	if (err == NULL && (p->status == 405 || p->status == 404)) {
		log_info("hosted server offers no standalone SSE stream "
		         "(HTTP %ld)",
		    p->status);
		up_post_free(p);
		return;
	}
	if (err != NULL || p->mode != MODE_SSE) {
		u->get_failures++;
		delay = BOUNDS_GET_BACKOFF_MIN_MS
		    << (u->get_failures < 8 ? u->get_failures : 8);
		if (delay > BOUNDS_GET_BACKOFF_MAX_MS)
			delay = BOUNDS_GET_BACKOFF_MAX_MS;
		if (u->get_failures == 1)
			log_warn("standalone SSE stream failed (%s); retrying",
			    err ? err : "bad response");
	} else {
		delay = up_retry_delay(p);
	}
	up_schedule_get(p, delay);
}

void
up_start_reinit(struct upstream *u)
{
	struct rpc_span sp;
	struct buf b;
	int64_t id;
	char num[24];

	if (u->reiniting || u->closing)
		return;
	u->reiniting = 1;
	free(u->session);
	u->session = NULL;
	u->gen++;
	if (u->get)
		up_post_free(u->get);
	if (u->init_body == NULL ||
	    rpc_parse(u->rpc, u->init_body, u->init_len) != 0 ||
	    (sp = rpc_id(u->rpc)).type == RPC_T_NONE) {
		up_reinit_failed(u, "no initialize request to replay");
		return;
	}
	id = upstream_next_id(u);
	snprintf(num, sizeof(num), "%lld", (long long)id);
	buf_init(&b, (size_t)-2);
	if (rpc_splice(u->init_body, u->init_len, sp, num, strlen(num), &b) ==
	    -1) {
		buf_finish(&b);
		up_reinit_failed(u, "cannot build initialize");
		return;
	}
	{
		size_t len;
		char *msg = buf_take(&b, &len);
		struct post *p =
		    up_post_new(u, msg, len, id, UPSTREAM_INITIALIZE);

		p->internal = 1;
		up_post_start(p);
	}
}

void
up_open_getstream(struct upstream *u, int64_t delay_ms)
{
	struct post *p;

	if (u->get || u->closing || u->legacy)
		return; /* legacy: everything comes on the one stream */
	p = up_post_new(u, NULL, 0, -1, UPSTREAM_NOTIFY);
	p->is_getstream = 1;
	u->get = p;
	if (delay_ms > 0)
		up_schedule_get(p, delay_ms);
	else
		up_get_start(p);
}

static void
reap_posts(void *arg)
{
	struct upstream *u = arg;

	for (struct post *p = u->posts, *n; p != NULL; p = n) {
		n = p->next;
		if (p->dead)
			up_post_destroy(p);
	}
}

struct upstream *
upstream_new(struct loop *l, struct http *h, const struct upstream_opts *o,
    const struct upstream_cbs *cbs, void *arg)
{
	struct upstream *u = x_calloc(1, sizeof(*u));

	u->loop = l;
	u->http = h;
	u->url = x_strdup(o->url);
	u->headers = o->headers;
	u->auth = o->auth;
	u->idle_ms = o->request_idle_ms;
	u->max_ms = o->request_max_ms;
	u->cbs = *cbs;
	u->arg = arg;
	u->rpc = rpc_new();
	u->reaper = loop_timer_new(l, reap_posts, u);
	u->pending = idmap_new();
	u->legacy = o->legacy_sse != 0;
	u->connect_ms =
	    o->connect_ms > 0 ? o->connect_ms : BOUNDS_CONNECT_TIMEOUT_MS;
	return u;
}

void
upstream_free(struct upstream **up)
{
	struct upstream *u;

	if (up == NULL || (u = *up) == NULL)
		return;
	while (u->posts)
		up_post_destroy(u->posts);
	up_modern_free(u);
	loop_timer_del(u->reaper);
	http_req_cancel(u->del);
	loop_timer_del(u->closed);
	rpc_free(&u->rpc);
	idmap_free(&u->pending);
	free(u->session);
	free(u->init_body);
	free(u->endpoint);
	free(u->url);
	free(u);
	*up = NULL;
}

int64_t
upstream_next_id(struct upstream *u)
{
	return ++u->next_id;
}

void
upstream_send(struct upstream *u, char *msg, size_t len, int64_t id,
    enum upstream_kind kind)
{
	struct post *p;

	if (u->closing) {
		free(msg);
		return;
	}
	if (kind == UPSTREAM_INITIALIZE) {
		free(u->init_body);
		u->init_body = x_memdup(msg, len);
		u->init_len = len;
	}
	if (kind != UPSTREAM_REQUEST && kind != UPSTREAM_INITIALIZE)
		id = -1;
	if (up_modern_send(u, msg, len, id, kind))
		return;
	p = up_post_new(u, msg, len, id, kind);
	up_post_start(p);
	/* A request waits for a stream that is between attempts: try now. */
	if (u->legacy && id >= 0 && p->waiting && !p->dead)
		up_legacy_connect(u, 1);
}

void
upstream_cancel(struct upstream *u, int64_t id)
{
	struct post *p = idmap_get(u->pending, id);

	if (p == NULL)
		return;
	if (p->kind == UPSTREAM_INITIALIZE && u->initializing) {
		u->initializing = 0;
		up_release_held(u);
	}
	up_post_free(p);
}

static void
on_closed_timer(void *arg)
{
	struct upstream *u = arg;

	u->cbs.on_closed(u->arg);
}

static void
del_head(void *arg, struct http_req *r, long status)
{
	if (status >= 300 && status != 405 && status != 404)
		log_info("DELETE of the hosted session: HTTP %ld", status);
}

static int
del_body(void *arg, const char *p, size_t n)
{
	return 0;
}

static void
del_done(void *arg, const char *err)
{
	struct upstream *u = arg;

	u->del = NULL;
	loop_timer_arm(u->closed, 0);
}

static const struct http_req_cbs del_cbs = {
	.on_head = del_head,
	.on_body = del_body,
	.on_done = del_done,
};

void
upstream_close(struct upstream *u)
{
	char line[BOUNDS_MAX_RESP_HEADER + 32];

	if (u->closing)
		return;
	u->closing = 1;
	for (struct post *p = u->posts; p != NULL; p = p->next)
		up_post_free(p);
	u->closed = loop_timer_new(u->loop, on_closed_timer, u);
	if (u->session == NULL ||
	    (u->del = http_req_new(u->http, "DELETE", u->url, &del_cbs, u)) ==
	        NULL) {
		loop_timer_arm(u->closed, 0);
		return;
	}
	snprintf(line, sizeof(line), "Mcp-Session-Id: %s", u->session);
	http_req_header(u->del, line);
	if (u->version[0]) {
		snprintf(
		    line, sizeof(line), "MCP-Protocol-Version: %s", u->version);
		http_req_header(u->del, line);
	}
	http_req_headers(u->del, u->headers);
	http_req_start(u->del);
}

const char *
upstream_version(const struct upstream *u)
{
	return u->version[0] ? u->version : NULL;
}

void
upstream_auth_ready(struct upstream *u)
{
	for (struct post *q = u->posts, *n; q != NULL; q = n) {
		n = q->next;
		if (!q->auth_wait || q->dead)
			continue;
		q->auth_wait = 0;
		if (q->is_legacy)
			up_legacy_start(q);
		else if (q->is_getstream || q->in_get)
			up_get_start(q);
		else
			up_post_start(q);
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * upstream: every message in flight is a `struct post`. A post owns its
 * body (kept for the one retry after a session re-initialization), its
 * current transfer (the POST, or the GET that resumes its stream), its
 * SSE parser and its timers. The standalone GET stream is a post too,
 * with no id. Posts waiting for a re-initialization sit in the list
 * without a transfer.
 */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "log.h"
#include "secret.h"
#include "str.h"
#include "upstream_int.h"
#include "xmem.h"

static const struct http_req_cbs post_cbs;

struct post *
up_post_new(struct upstream *u, char *body, size_t len, int64_t id,
    enum upstream_kind kind)
{
	struct post *p = x_calloc(1, sizeof(*p));

	p->up = u;
	p->body = body;
	p->len = len;
	p->id = id;
	p->kind = kind;
	p->wire = -1;
	buf_init(&p->json, BOUNDS_MAX_HTTP_BODY);
	p->prev = u->tail;
	if (u->tail)
		u->tail->next = p;
	else
		u->posts = p;
	u->tail = p;
	if (id >= 0 && !idmap_get(u->pending, id))
		idmap_put(u->pending, id, p);
	return p;
}

/*
 * Retires a post: it stops being pending, its transfer is cancelled and
 * its timers stopped at once, but its memory lives until the reaper runs
 * from the loop. Posts are retired from deep inside their own parsers'
 * callbacks (a response ends the stream that carried it), so freeing
 * them there would pull the parser out from under itself.
 */
void
up_post_free(struct post *p)
{
	struct upstream *u = p->up;

	if (p->dead)
		return;
	p->dead = 1;
	p->waiting = 0;
	if (p->id >= 0 && idmap_get(u->pending, p->id) == p)
		idmap_del(u->pending, p->id);
	if (u->get == p)
		u->get = NULL;
	if (u->lstream == p)
		u->lstream = NULL;
	up_modern_retire(p);
	http_req_cancel(p->req);
	p->req = NULL;
	if (p->idle)
		loop_timer_stop(p->idle);
	if (p->max)
		loop_timer_stop(p->max);
	if (p->resume)
		loop_timer_stop(p->resume);
	loop_timer_arm(u->reaper, 0);
}

/* Frees a post's memory now; only the reaper and upstream_free do. */
void
up_post_destroy(struct post *p)
{
	struct upstream *u = p->up;

	up_post_free(p);
	if (p->prev)
		p->prev->next = p->next;
	else
		u->posts = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		u->tail = p->prev;
	loop_timer_del(p->idle);
	loop_timer_del(p->max);
	loop_timer_del(p->resume);
	sse_free(&p->sse);
	up_modern_destroy(p);
	secret_free(&p->sent);
	buf_finish(&p->json);
	free(p->body);
	free(p);
}

/* Ends a post that will not be answered; tells the owner if it waits. */
void
up_post_fail(struct post *p, int code, const char *why)
{
	struct upstream *u = p->up;
	int report = p->id >= 0 && !p->answered && !p->internal;
	int reinit = p->internal && !p->answered && !p->mrtr && !p->listen;
	int init = p->kind == UPSTREAM_INITIALIZE && !p->internal;
	int64_t id = p->id;

	if (p->dead || up_modern_probe_failed(p, why))
		return;
	if (p->id < 0 && !p->is_getstream && !p->internal)
		log_warn("hosted server did not accept a message: %s", why);
	up_post_free(p);
	if (reinit)
		up_reinit_failed(u, why);
	if (report)
		u->cbs.on_fail(u->arg, id, code, why);
	if (init) {
		up_modern_forget(u);
		u->initializing = 0;
		up_release_held(u);
	}
}

static void
send_cancelled(struct upstream *u, int64_t id, const char *reason)
{
	char *msg = x_asprintf(
	    "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":%lld,"
	    "\"reason\":\"%s\"}}",
	    (long long)id, reason);

	upstream_send(u, msg, strlen(msg), -1, UPSTREAM_NOTIFY);
}

static void
on_timeout(struct post *p, int64_t ms)
{
	struct upstream *u = p->up;
	char why[128];
	int64_t id = p->id;
	/* The probe's id goes on with the initialize; ours are not sent. */
	int quiet = p->probe || p->internal;

	snprintf(why, sizeof(why),
	    "hosted server did not answer within "
	    "%lld s",
	    (long long)(ms / 1000));
	log_warn("request %lld: %s", (long long)id, why);
	up_post_fail(p, RPC_TIMEOUT_ERROR, why);
	if (!u->closing && !quiet)
		send_cancelled(u, id, "timeout");
}

static void
on_idle(void *arg)
{
	struct post *p = arg;

	on_timeout(p, p->up->idle_ms);
}

static void
on_max(void *arg)
{
	struct post *p = arg;

	on_timeout(p, p->up->max_ms);
}

static void
arm_timers(struct post *p)
{
	struct upstream *u = p->up;

	if (p->id < 0 || (p->internal && p->kind != UPSTREAM_INITIALIZE))
		return;
	if (u->idle_ms > 0) {
		if (p->idle == NULL)
			p->idle = loop_timer_new(u->loop, on_idle, p);
		loop_timer_arm(p->idle, u->idle_ms);
	}
	if (u->max_ms > 0 && p->max == NULL) {
		p->max = loop_timer_new(u->loop, on_max, p);
		loop_timer_arm(p->max, u->max_ms);
	}
}

/* The modern Mcp-* header lines of a post ("A\nB"). */
static void
add_xhdr(struct http_req *r, const char *x)
{
	char line[BOUNDS_MAX_RESP_HEADER + 32];

	while (x && *x) {
		size_t n = strcspn(x, "\n");

		if (n < sizeof(line)) {
			memcpy(line, x, n);
			line[n] = '\0';
			/* An empty value: libcurl sends "Name;" as "Name:". */
			if (n >= 2 && memcmp(line + n - 2, ": ", 2) == 0)
				memcpy(line + n - 2, ";", 2);
			http_req_header(r, line);
		}
		x += n + (x[n] == '\n');
	}
}

void
up_add_headers(struct post *p, struct http_req *r, const char *accept)
{
	struct upstream *u = p->up;
	char line[BOUNDS_MAX_RESP_HEADER + 32];

	http_req_header(r, accept);
	if (p->body)
		http_req_header(r, "Content-Type: application/json");
	if (u->version[0] && p->kind != UPSTREAM_INITIALIZE &&
	    u->era != UP_ERA_MODERN) {
		snprintf(
		    line, sizeof(line), "MCP-Protocol-Version: %s", u->version);
		http_req_header(r, line);
	}
	add_xhdr(r, p->xhdr);
	p->had_session = u->session != NULL && u->era != UP_ERA_MODERN;
	p->gen = u->gen;
	if (p->had_session) {
		snprintf(line, sizeof(line), "Mcp-Session-Id: %s", u->session);
		http_req_header(r, line);
	}
	http_req_headers(r, u->headers);
	if (p->sent) {
		char *h = x_asprintf(
		    "Authorization: Bearer %s", secret_data(p->sent));

		http_req_header(r, h);
		secret_wipe(h, strlen(h));
		free(h);
	}
}

/*
 * Takes the current bearer token for the next transfer of p: 0 go on,
 * 1 the post waits for upstream_auth_ready(), -1 the post failed.
 */
int
up_bearer(struct post *p)
{
	const struct upstream_auth *a = p->up->auth;
	const struct secret *tok = NULL;
	const char *why = NULL;
	char msg[512];
	int rc;

	secret_free(&p->sent);
	if (a == NULL)
		return 0;
	rc = a->bearer(a->arg, &tok, &why);
	if (rc == 0) {
		p->sent = secret_new(secret_data(tok), secret_len(tok));
		return 0;
	}
	if (rc == 1 || p->is_getstream) {
		p->auth_wait = 1;
		return 1;
	}
	str_fmt(msg, sizeof(msg), "no access token for the hosted server: %s",
	    why ? why : "not signed in");
	up_post_fail(p, RPC_UPSTREAM_ERROR, msg);
	return -1;
}

/* 401 to a token we sent: report it and send once more. 1 if handled. */
int
up_auth_rejected(struct post *p)
{
	const struct upstream_auth *a = p->up->auth;

	if (p->status != 401 || a == NULL || p->sent == NULL ||
	    (p->auth_retried && !p->is_getstream))
		return 0;
	http_req_cancel(p->req);
	p->req = NULL;
	p->auth_retried = 1;
	p->auth_wait = 1;
	log_info("hosted server refused the access token (HTTP 401); "
	         "refreshing it");
	a->rejected(a->arg, p->sent);
	return 1;
}

static void
reset_transfer(struct post *p)
{
	p->req = NULL;
	p->mode = MODE_NONE;
	p->status = 0;
	buf_reset(&p->json);
	if (p->sse)
		sse_reset(p->sse);
}

void
up_post_start(struct post *p)
{
	struct upstream *u = p->up;

	/* The session was lost and not renewed yet: renew it first. */
	if (u->lost && !u->reiniting && !p->internal &&
	    p->kind != UPSTREAM_INITIALIZE && !u->legacy)
		up_start_reinit(u);
	if ((u->reiniting || u->initializing) && !p->internal &&
	    p->kind != UPSTREAM_INITIALIZE) {
		p->waiting = 1; /* the session is not established yet */
		arm_timers(p);  /* the deadline runs while it waits */
		return;
	}
	p->waiting = 0;
	p->in_get = 0;
	if (p->kind == UPSTREAM_INITIALIZE && !p->internal)
		u->initializing = 1; /* before a wait for a token, too */
	if (u->legacy && u->endpoint == NULL) {
		p->waiting = 1; /* until the stream names the endpoint */
		up_legacy_connect(u, 0);
		return;
	}
	if (up_bearer(p) != 0)
		return;
	reset_transfer(p);
	p->req = http_req_new(
	    u->http, "POST", u->legacy ? u->endpoint : u->url, &post_cbs, p);
	if (p->req == NULL) {
		up_post_fail(p, RPC_INTERNAL_ERROR, "cannot create a transfer");
		return;
	}
	p->in_get = 0;
	up_add_headers(
	    p, p->req, "Accept: application/json, text/event-stream");
	http_req_body(p->req, p->body, p->len);
	arm_timers(p);
	http_req_start(p->req);
}

/* GET on the endpoint: the standalone stream, or a resumption. */
void
up_get_start(struct post *p)
{
	struct upstream *u = p->up;
	const char *last = p->sse ? sse_last_id(p->sse) : "";
	char line[512];

	p->in_get = 1;
	if (up_bearer(p) != 0)
		return;
	reset_transfer(p);
	p->req = http_req_new(u->http, "GET", u->url, &post_cbs, p);
	if (p->req == NULL) {
		up_post_fail(p, RPC_INTERNAL_ERROR, "cannot create a transfer");
		return;
	}
	p->in_get = 1;
	up_add_headers(p, p->req, "Accept: text/event-stream");
	if (last[0] &&
	    str_fmt(line, sizeof(line), "Last-Event-ID: %s", last) > 0)
		http_req_header(p->req, line);
	http_req_start(p->req);
}

/*
 * The session a post's stream belonged to is gone (expired and being
 * or been renewed): its Last-Event-ID means nothing on a new one. A
 * tools/call may have run, so it fails; anything else is sent once
 * more on the new session. 1 if handled.
 */
static int
stale(struct post *p)
{
	struct upstream *u = p->up;
	int call;

	if (!p->had_session || p->gen == u->gen || p->is_getstream)
		return 0;
	call = p->body && rpc_parse(u->rpc, p->body, p->len) == 0 &&
	    rpc_method_is(u->rpc, "tools/call");
	if (call || p->retried) {
		up_post_fail(p, RPC_UPSTREAM_ERROR,
		    "hosted session expired while the request was in flight "
		    "(not sent again: it may have run)");
		return 1;
	}
	p->retried = 1;
	sse_free(&p->sse);
	if (u->reiniting)
		p->waiting = 1;
	else
		up_post_start(p);
	return 1;
}

static void
on_resume_timer(void *arg)
{
	if (!stale(arg))
		up_get_start(arg);
}

/* Resumes the post's stream with GET + Last-Event-ID after `retry`. */
void
up_schedule_get(struct post *p, int64_t delay_ms)
{
	if (p->resume == NULL)
		p->resume = loop_timer_new(p->up->loop, on_resume_timer, p);
	loop_timer_arm(p->resume, delay_ms);
}

int64_t
up_retry_delay(const struct post *p)
{
	long ms = p->sse ? sse_retry_ms(p->sse) : -1;

	if (ms < 0)
		return BOUNDS_SSE_RETRY_MS;
	return ms > BOUNDS_SSE_RETRY_MAX_MS ? BOUNDS_SSE_RETRY_MAX_MS : ms;
}

/* Marks q answered; returns 1 if q was freed. */
static int
answer(struct post *q)
{
	q->answered = 1;
	idmap_del(q->up->pending, q->id);
	loop_timer_del(q->idle);
	loop_timer_del(q->max);
	q->idle = q->max = NULL;
	/* A resumed GET stays open after the response: stop reading it. */
	if (q->in_get || q->req == NULL) {
		up_post_free(q);
		return 1;
	}
	return 0;
}

/* The response to a modern request q (on p); -1 if p is done with. */
static int
modern_one(struct post *p, struct post *q, const char *js, size_t len)
{
	struct upstream *u = q->up;
	int64_t id = q->id;
	size_t n = 0;
	char *out;

	switch (up_modern_answer(q, js, len, &out, &n)) {
	case UPM_ROUND: /* q waits for the IDE, retries, or failed */
		if (!q->dead && q->req) {
			http_req_cancel(q->req);
			q->req = NULL;
		}
		return q == p ? -1 : 0;
	case UPM_LEGACY:
		q->answered = 1;
		up_post_free(q);
		up_modern_legacy_init(u, id);
		return q == p ? -1 : 0;
	case UPM_DROP:
		return 0;
	case UPM_DONE:
		return answer(q) && q == p ? -1 : 0;
	default:
		break;
	}
	if (rpc_parse(u->rpc, out, n) == 0)
		u->cbs.on_message(u->arg, out, n, u->rpc);
	free(out);
	if (q->kind == UPSTREAM_INITIALIZE) {
		u->initializing = 0;
		up_release_held(u);
	}
	return answer(q) && q == p ? -1 : 0;
}

/* Handles one message; returns -1 if the post `p` was freed. */
static int
handle_one(struct post *p, const char *js, size_t len)
{
	struct upstream *u = p->up;
	struct rpc *msg = u->rpc;
	struct post *q = NULL;
	int64_t id;

	if (rpc_parse(msg, js, len) != 0) {
		log_warn("hosted server sent an invalid message: %s",
		    rpc_reason(msg));
		return 0;
	}
	if (p->listen)
		return up_modern_listen_msg(p, js, len);
	if (rpc_kind(msg) == RPC_RESPONSE &&
	    rpc_span_int(js, rpc_id(msg), &id) == 0)
		q = idmap_get(u->pending, id);
	if (q == NULL && u->era == UP_ERA_PROBING &&
	    rpc_kind(msg) == RPC_RESPONSE)
		return 0; /* an id-less error to the probe (handled there) */
	if (q == NULL && u->era == UP_ERA_MODERN) {
		up_modern_message(p, js, len, msg);
		return 0;
	}
	if (q == NULL) {
		u->cbs.on_message(u->arg, js, len, msg);
		return 0;
	}
	if (q->probe || q->mrtr)
		return modern_one(p, q, js, len);
	if (q->internal) {
		up_internal_answer(u, js, msg);
		return answer(q) && q == p ? -1 : 0;
	}
	if (q->kind == UPSTREAM_INITIALIZE && !rpc_is_error(msg))
		up_capture_version(u, js, msg);
	u->cbs.on_message(u->arg, js, len, msg);
	if (q->kind == UPSTREAM_INITIALIZE) {
		u->initializing = 0;
		up_release_held(u);
	}
	return answer(q) && q == p ? -1 : 0;
}

/* Splits a JSON-RPC batch into messages; returns -1 if p was freed. */
static int
handle_batch(struct post *p, const char *js, size_t len)
{
	struct rpc_span items[64];
	size_t n = rpc_batch_len(p->up->rpc);

	if (n > sizeof(items) / sizeof(items[0])) {
		log_warn("hosted server sent a batch of %zu messages; "
		         "dropped",
		    n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = rpc_batch_item(p->up->rpc, i);
	for (size_t i = 0; i < n; i++)
		if (handle_one(p, js + items[i].off, items[i].len) == -1)
			return -1;
	return 0;
}

/* Delivers one JSON text (message or batch); -1 if p was freed. */
int
up_deliver(struct post *p, const char *js, size_t len)
{
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", js[i]))
		i++;
	if (i < len && js[i] == '[') {
		if (rpc_parse(p->up->rpc, js, len) != 0) {
			log_warn("hosted server sent an invalid batch: %s",
			    rpc_reason(p->up->rpc));
			return 0;
		}
		return handle_batch(p, js, len);
	}
	return handle_one(p, js, len);
}

static enum mode
mode_for(struct post *p, struct http_req *r)
{
	const char *ct = http_req_resp_header(r, "content-type");

	if (p->status < 200 || p->status >= 300)
		return MODE_ERROR;
	if (ct && strncasecmp(ct, "text/event-stream", 17) == 0) {
		if (p->sse == NULL)
			p->sse = sse_new(BOUNDS_MAX_SSE_EVENT);
		return MODE_SSE;
	}
	if (ct && strncasecmp(ct, "application/json", 16) == 0)
		return MODE_JSON;
	return MODE_IGNORE;
}

static void
on_head(void *arg, struct http_req *r, long status)
{
	struct post *p = arg;

	p->status = status;
	if (up_auth_rejected(p) || up_session_expired(p))
		return;
	if (status >= 200 && status < 300)
		up_capture_session(p, r);
	p->mode = mode_for(p, r);
	if (p->is_getstream && p->mode == MODE_SSE)
		p->up->get_failures = 0;
}

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct post *p = arg;

	if (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0) {
		log_debug("ignoring SSE event of another type");
		return 0;
	}
	if (p->idle)
		loop_timer_arm(p->idle, p->up->idle_ms);
	return up_deliver(p, ev->data, ev->data_len);
}

static int
on_body(void *arg, const char *data, size_t n)
{
	struct post *p = arg;
	int rc;

	/*
	 * A JSON body still arriving is the answer coming; on a stream only
	 * whole events count (on_event), so a slow-loris server trickling
	 * bytes cannot hold a request past --request-timeout.
	 */
	if (p->idle && p->mode != MODE_SSE)
		loop_timer_arm(p->idle, p->up->idle_ms);
	switch (p->mode) {
	case MODE_SSE:
		if ((rc = sse_feed(p->sse, data, n, on_event, p)) == 1)
			return -1; /* p was freed */
		if (rc == -1) {
			up_post_fail(p, RPC_UPSTREAM_ERROR,
			    "hosted server sent "
			    "an SSE event over the size limit");
			return -1;
		}
		return 0;
	case MODE_JSON:
		if (buf_append(&p->json, data, n) == -1) {
			up_post_fail(p, RPC_UPSTREAM_ERROR,
			    "hosted server's "
			    "response is over the size limit");
			return -1;
		}
		return 0;
	case MODE_ERROR:
		if (buf_len(&p->json) + n <= UPSTREAM_ERR_BODY)
			(void)!buf_append(&p->json, data, n);
		return 0;
	default:
		return 0;
	}
}

/* "hosted server returned HTTP 400: <the server's error message>" */
static void
error_reason(struct post *p, char *why, size_t sz)
{
	struct rpc *r = p->up->rpc;
	const char *js = buf_data(&p->json);
	struct rpc_span m;
	char msg[160];
	int n;

	n = snprintf(why, sz, "hosted server returned HTTP %ld", p->status);
	if (n < 0 || (size_t)n >= sz || buf_len(&p->json) == 0 ||
	    rpc_parse(r, js, buf_len(&p->json)) != 0 ||
	    rpc_kind(r) != RPC_RESPONSE || !rpc_is_error(r))
		return;
	m = rpc_get(r, "error", "message", NULL);
	if (m.type != RPC_T_STRING || m.len < 3)
		return;
	if (m.len - 2 >= sizeof(msg))
		m.len = sizeof(msg) + 1;
	memcpy(msg, js + m.off + 1, m.len - 2);
	msg[m.len - 2] = '\0';
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '\\')
			*c = ' ';
	snprintf(why + n, sz - (size_t)n, ": %s", msg);
}

static void
error_done(struct post *p)
{
	char why[256];

	if (!p->probe && up_legacy_fallback(p))
		return;
	/* The server may have put a JSON-RPC error for us in the body. */
	if (p->id >= 0 && buf_len(&p->json) > 0 &&
	    rpc_parse(p->up->rpc, buf_data(&p->json), buf_len(&p->json)) == 0 &&
	    rpc_kind(p->up->rpc) == RPC_RESPONSE) {
		if (up_deliver(p, buf_data(&p->json), buf_len(&p->json)) == -1)
			return;
		if (p->answered) {
			up_post_free(p);
			return;
		}
	}
	error_reason(p, why, sizeof(why));
	up_post_fail(p, RPC_UPSTREAM_ERROR, why);
}

/* The stream ended before the response: resume it or give up. */
static void
unanswered(struct post *p, const char *err)
{
	char why[384];

	if (stale(p))
		return;
	if (p->sse && sse_last_id(p->sse)[0] &&
	    p->resumes < BOUNDS_SSE_RESUME_TRIES) {
		p->resumes++;
		log_info(
		    "request %lld: stream dropped; resuming", (long long)p->id);
		up_schedule_get(p, up_retry_delay(p));
		return;
	}
	if (err && p->mode == MODE_NONE)
		snprintf(
		    why, sizeof(why), "cannot reach hosted server: %s", err);
	else if (err)
		snprintf(why, sizeof(why),
		    "connection to hosted server lost: "
		    "%s",
		    err);
	else
		snprintf(why, sizeof(why),
		    "hosted server ended the response "
		    "stream without answering");
	up_post_fail(p, RPC_UPSTREAM_ERROR, why);
}

static void
on_done(void *arg, const char *err)
{
	struct post *p = arg;

	p->req = NULL;
	if (p->is_getstream) {
		up_getstream_done(p, err);
		return;
	}
	if (p->listen) {
		up_modern_listen_done(p, err);
		return;
	}
	if (err == NULL && p->mode == MODE_ERROR) {
		error_done(p);
		return;
	}
	if (err == NULL && p->mode == MODE_JSON &&
	    up_deliver(p, buf_data(&p->json), buf_len(&p->json)) == -1)
		return;
	if (p->id >= 0 && !p->answered) {
		if (p->probe &&
		    up_modern_probe_failed(p, err ? err : "no answer"))
			return;
		if (err == NULL && !p->in_get &&
		    (p->status == 202 ||
		        (p->up->legacy && p->status >= 200 && p->status < 300)))
			return; /* the answer will come on a stream */
		unanswered(p, err);
		return;
	}
	if (err)
		log_warn(
		    "sending a message to the hosted server failed: %s", err);
	if (p->kind == UPSTREAM_INITIALIZED && err == NULL) {
		if (p->internal)
			up_finish_reinit(p->up);
		else
			up_open_getstream(p->up, 0);
	}
	up_post_free(p);
}

static const struct http_req_cbs post_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_done = on_done,
};

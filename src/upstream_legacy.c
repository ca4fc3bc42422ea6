/* SPDX-License-Identifier: ISC */
/*
 * upstream_legacy: the deprecated HTTP+SSE transport (2024-11-05).
 *
 * One post with no id, u->lstream, is the GET stream on the URL. Its
 * first event, `endpoint`, names the POST address (resolved against the
 * URL, same origin only); until it arrives every message is held. The
 * stream must name it within the connect timeout. Every `message` event
 * goes through the same delivery as a Streamable HTTP response, so
 * responses end their pending posts and anything else reaches the owner.
 *
 * The endpoint belongs to one server session: when the stream ends, the
 * requests already sent fail (their answers would have come on it), the
 * stream is reopened with backoff, and on the new endpoint the IDE's
 * initialize is replayed (as after a Streamable HTTP session expiry)
 * before the held messages go out. A stream that cannot be opened fails
 * what waits for it, so nothing waits forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "endpoint.h"
#include "log.h"
#include "str.h"
#include "upstream_int.h"
#include "xmem.h"

static const struct http_req_cbs stream_cbs;

static void
on_reconnect(void *arg)
{
	up_legacy_start(arg);
}

/* Why the stream ended, from what was seen of it. */
static void
lost_reason(struct post *s, const char *err, char *why, size_t sz)
{
	struct upstream *u = s->up;

	if (err && s->mode == MODE_NONE)
		str_fmt(why, sz, "cannot reach hosted server: %s", err);
	else if (err)
		str_fmt(why, sz,
		    "HTTP+SSE stream of the hosted server lost: %s", err);
	else if (s->mode == MODE_ERROR)
		str_fmt(why, sz,
		    "hosted server returned HTTP %ld to the HTTP+SSE "
		    "stream request",
		    s->status);
	else if (s->mode != MODE_SSE)
		str_fmt(why, sz,
		    "hosted server did not answer with an SSE stream "
		    "(HTTP+SSE transport)");
	else if (u->endpoint == NULL)
		str_fmt(why, sz,
		    "hosted server closed the HTTP+SSE stream before "
		    "its endpoint event");
	else
		str_fmt(why, sz, "hosted server closed the HTTP+SSE stream");
}

/*
 * The stream is gone (or never came up) with reason `why`. Requests
 * already posted fail; when no endpoint was ever named on this attempt,
 * the messages held for it fail too. Then the stream is retried later.
 */
static void
stream_lost(struct post *s, const char *why)
{
	struct upstream *u = s->up;
	int had = u->endpoint != NULL;
	int64_t delay;

	http_req_cancel(s->req);
	s->req = NULL;
	free(u->endpoint);
	u->endpoint = NULL;
	if (s->idle)
		loop_timer_stop(s->idle);
	if (had) {
		u->lfailures = 0;
		delay = BOUNDS_GET_BACKOFF_MIN_MS;
		log_warn("%s; reconnecting", why);
	} else {
		u->lfailures++;
		delay = BOUNDS_GET_BACKOFF_MIN_MS
		    << (u->lfailures < 8 ? u->lfailures - 1 : 7);
		if (delay > BOUNDS_GET_BACKOFF_MAX_MS)
			delay = BOUNDS_GET_BACKOFF_MAX_MS;
		if (u->lfailures == 1)
			log_warn("%s", why);
	}
	if (s->resume == NULL)
		s->resume = loop_timer_new(u->loop, on_reconnect, s);
	loop_timer_arm(s->resume, delay);
	for (struct post *q = u->posts, *n; q != NULL; q = n) {
		n = q->next;
		if (q->dead || q == s || q->id < 0 || q->answered)
			continue;
		if (!q->waiting || !had)
			up_post_fail(q, RPC_UPSTREAM_ERROR, why);
	}
}

static void
on_endpoint_wait(void *arg)
{
	struct post *s = arg;
	char why[160];

	str_fmt(why, sizeof(why),
	    "hosted server sent no endpoint event within %lld s "
	    "(HTTP+SSE transport)",
	    (long long)(s->up->connect_ms / 1000));
	stream_lost(s, why);
}

/* The stream named its endpoint: send what waited for it. */
static int
got_endpoint(struct post *s, const char *data, size_t len)
{
	struct upstream *u = s->up;
	char url[4200], err[256];

	if (u->endpoint) {
		log_debug("ignoring a second endpoint event");
		return 0;
	}
	if (endpoint_resolve(
	        u->url, data, len, url, sizeof(url), err, sizeof(err)) == -1) {
		log_error("hosted server (HTTP+SSE): %s", err);
		stream_lost(s, err);
		return -1;
	}
	u->endpoint = x_strdup(url);
	loop_timer_stop(s->idle);
	u->lfailures = 0;
	log_info("HTTP+SSE stream open; posting to %.*s",
	    (int)strcspn(url, "?#"), url);
	if (u->lconnects++ > 0 && u->version[0])
		up_start_reinit(u); /* a new endpoint is a new session */
	else
		up_release_held(u);
	return 0;
}

/*
 * Every answer comes on the one stream, so the idle timeout of a request
 * (--request-timeout) measures the stream's silence: any message on it
 * (progress, most often) restarts the idle timers of what is pending.
 */
static void
stream_active(struct upstream *u)
{
	if (u->idle_ms <= 0)
		return;
	for (struct post *q = u->posts; q != NULL; q = q->next)
		if (!q->dead && q->idle && q->id >= 0 && !q->answered &&
		    loop_timer_armed(q->idle))
			loop_timer_arm(q->idle, u->idle_ms);
}

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct post *s = arg;

	if (ev->type_len == 8 && memcmp(ev->type, "endpoint", 8) == 0)
		return got_endpoint(s, ev->data, ev->data_len);
	if (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0) {
		log_debug("ignoring SSE event of another type");
		return 0;
	}
	if (s->up->endpoint == NULL) {
		log_warn("hosted server sent a message before its endpoint "
		         "event; ignored");
		return 0;
	}
	stream_active(s->up);
	return up_deliver(s, ev->data, ev->data_len);
}

static void
on_head(void *arg, struct http_req *r, long status)
{
	struct post *s = arg;
	const char *ct = http_req_resp_header(r, "content-type");

	s->status = status;
	if (up_auth_rejected(s))
		return;
	if (status < 200 || status >= 300)
		s->mode = MODE_ERROR;
	else if (ct && strncasecmp(ct, "text/event-stream", 17) == 0)
		s->mode = MODE_SSE;
	else
		s->mode = MODE_IGNORE;
}

static int
on_body(void *arg, const char *data, size_t n)
{
	struct post *s = arg;
	int rc;

	if (s->mode != MODE_SSE)
		return 0;
	rc = sse_feed(s->sse, data, n, on_event, s);
	if (rc == 1)
		return -1; /* the stream was torn down by an event */
	if (rc == -1) {
		stream_lost(s,
		    "hosted server sent an SSE event over the size "
		    "limit");
		return -1;
	}
	return 0;
}

static void
on_done(void *arg, const char *err)
{
	struct post *s = arg;
	char why[384];

	s->req = NULL;
	lost_reason(s, err, why, sizeof(why));
	stream_lost(s, why);
}

static const struct http_req_cbs stream_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_done = on_done,
};

/* Opens (or reopens) the stream s: GET the URL, wait for `endpoint`. */
void
up_legacy_start(struct post *s)
{
	struct upstream *u = s->up;

	if (u->closing || s->dead)
		return;
	if (s->resume)
		loop_timer_stop(s->resume);
	s->in_get = 1;
	if (up_bearer(s) != 0)
		return; /* upstream_auth_ready() comes back here */
	s->mode = MODE_NONE;
	s->status = 0;
	if (s->sse == NULL)
		s->sse = sse_new(BOUNDS_MAX_SSE_EVENT);
	sse_reset(s->sse);
	s->req = http_req_new(u->http, "GET", u->url, &stream_cbs, s);
	if (s->req == NULL) {
		stream_lost(s, "cannot create a transfer");
		return;
	}
	up_add_headers(s, s->req, "Accept: text/event-stream");
	http_req_header(s->req, "Cache-Control: no-cache");
	if (s->idle == NULL)
		s->idle = loop_timer_new(u->loop, on_endpoint_wait, s);
	loop_timer_arm(s->idle, u->connect_ms);
	http_req_start(s->req);
}

/*
 * Makes sure the stream is open or opening. With `now`, a stream between
 * attempts (backing off after a failure) is tried at once.
 */
void
up_legacy_connect(struct upstream *u, int now)
{
	struct post *s = u->lstream;

	if (u->closing || !u->legacy || u->endpoint)
		return;
	if (s == NULL) {
		s = up_post_new(u, NULL, 0, -1, UPSTREAM_NOTIFY);
		s->is_getstream = 1;
		s->is_legacy = 1;
		u->lstream = s;
		up_legacy_start(s);
		return;
	}
	if (now && s->req == NULL && !s->auth_wait)
		up_legacy_start(s);
}

/*
 * The IDE's initialize POST got 404 or 405 with no JSON-RPC body and
 * there is no session: the server predates Streamable HTTP. Switches to
 * HTTP+SSE on the same URL and sends the initialize there. 1 if done.
 */
int
up_legacy_fallback(struct post *p)
{
	struct upstream *u = p->up;
	struct rpc *r = u->rpc;

	if (u->legacy || p->kind != UPSTREAM_INITIALIZE || p->internal ||
	    p->in_get || u->session || (p->status != 404 && p->status != 405))
		return 0;
	if (buf_len(&p->json) > 0 &&
	    rpc_parse(r, buf_data(&p->json), buf_len(&p->json)) == 0 &&
	    rpc_kind(r) == RPC_RESPONSE)
		return 0;
	log_info("hosted server answered initialize with HTTP %ld; trying "
	         "the legacy HTTP+SSE transport (2024-11-05)",
	    p->status);
	u->legacy = 1;
	buf_reset(&p->json);
	p->mode = MODE_NONE;
	p->status = 0;
	up_post_start(p);
	return 1;
}

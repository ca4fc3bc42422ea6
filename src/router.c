/* SPDX-License-Identifier: ISC */
/*
 * router: two id tables. `pending` maps the upstream id of each forwarded
 * IDE request to the IDE's raw id; `srvreq` maps the bridge id of each
 * server->client request to the server's raw id. Batches (2025-03-26)
 * are split into messages and their replies gathered into one array.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "idmap.h"
#include "log.h"
#include "rpc.h"
#include "router_int.h"
#include "xmem.h"

static void
handle(struct router *r, struct batch *b, const char *js, size_t len);

struct pend *
rt_pend_new(const char *raw, size_t len, struct batch *b)
{
	struct pend *q = x_calloc(1, sizeof(*q));

	q->id = x_memdup(raw, len);
	q->idlen = len;
	q->batch = b;
	return q;
}

void
rt_pend_free(struct pend *q)
{
	if (q == NULL)
		return;
	free(q->id);
	free(q);
}

/* The key of the entry of `m` sent with this raw id, or -1. */
int64_t
rt_pend_find(const struct idmap *m, const char *raw, size_t len)
{
	size_t pos = 0;
	int64_t key;
	void *val;

	while (idmap_next(m, &pos, &key, &val)) {
		const struct pend *q = val;

		if (q->idlen == len && memcmp(q->id, raw, len) == 0)
			return key;
	}
	return -1;
}

static void
batch_reply(struct router *r, struct batch *b, const char *msg, size_t len)
{
	if ((b->got++ > 0 && buf_append(&b->out, ",", 1) == -1) ||
	    buf_append(&b->out, msg, len) == -1)
		log_error("batch reply too large; reply dropped");
	if (--b->expect > 0)
		return;
	if (buf_append(&b->out, "]", 1) == 0)
		rt_out(r, buf_data(&b->out), buf_len(&b->out));
	buf_finish(&b->out);
	free(b);
}

/* Sends one reply to the IDE, or into its batch. */
void
rt_reply(struct router *r, struct batch *b, const char *msg, size_t len)
{
	if (b)
		batch_reply(r, b, msg, len);
	else
		rt_out(r, msg, len);
}

/* Every message for the IDE leaves here. */
void
rt_out(struct router *r, const char *msg, size_t len)
{
	if (r->rm && rm_output(r, msg, len))
		return;
	r->cbs.send(r->arg, msg, len);
}

void
rt_handle(struct router *r, const char *js, size_t len)
{
	handle(r, NULL, js, len);
}

void
rt_reply_error(struct router *r, struct batch *b, const char *id, size_t idlen,
    int code, const char *why)
{
	struct buf out;

	buf_init(&out, 65536);
	if (rpc_error_reply(&out, id, idlen, code, why) == 0)
		rt_reply(r, b, buf_data(&out), buf_len(&out));
	buf_finish(&out);
}

/* Replaces the bytes of `sp` in js with `rep`; result in r->scratch. */
int
rt_rewrite(struct router *r, const char *js, size_t len, struct rpc_span sp,
    const char *rep, size_t rlen)
{
	buf_reset(&r->scratch);
	if (rpc_splice(js, len, sp, rep, rlen, &r->scratch) == -1) {
		log_error("message too large to rewrite");
		return -1;
	}
	return 0;
}

/* -- the hosted side: one upstream or the aggregator ------------------- */

int
rt_has_peer(const struct router *r)
{
	return r->up != NULL || r->agg != NULL;
}

int64_t
rt_next_id(struct router *r)
{
	return r->agg ? agg_next_id(r->agg) : upstream_next_id(r->up);
}

void
rt_send(struct router *r, char *msg, size_t len, int64_t id,
    enum upstream_kind kind)
{
	if (r->agg)
		agg_send(r->agg, msg, len, id, kind);
	else
		upstream_send(r->up, msg, len, id, kind);
}

static void
rt_cancel(struct router *r, int64_t id)
{
	if (r->agg)
		agg_cancel(r->agg, id);
	else
		upstream_cancel(r->up, id);
}

static const char *
rt_version(const struct router *r)
{
	return r->agg ? agg_version(r->agg) : upstream_version(r->up);
}

/* -- IDE -> hosted server --------------------------------------------- */

static void
bad_input(struct router *r, struct batch *b, int code, const char *js)
{
	struct rpc_span id = rpc_id(r->rpc);
	const char *why = rpc_reason(r->rpc);

	log_warn("IDE sent a bad message: %s", why);
	if (code == RPC_PARSE_ERROR || id.type == RPC_T_NONE)
		rt_reply_error(r, b, NULL, 0, code, why);
	else
		rt_reply_error(r, b, js + id.off, id.len, code, why);
}

static void
pong(struct router *r, struct batch *b, const char *js, struct rpc_span id)
{
	struct buf out;

	buf_init(&out, 4096);
	if (buf_puts(&out, "{\"jsonrpc\":\"2.0\",\"id\":") == 0 &&
	    buf_append(&out, js + id.off, id.len) == 0 &&
	    buf_puts(&out, ",\"result\":{}}") == 0)
		rt_reply(r, b, buf_data(&out), buf_len(&out));
	buf_finish(&out);
}

/* Batches are allowed from the IDE's initialize until negotiated. */
static void
ide_version(struct router *r, const char *js)
{
	char v[32];
	struct rpc_span sp = rpc_get(r->rpc, "params", "protocolVersion", NULL);

	r->batches_ok = rpc_span_str(js, sp, v, sizeof(v)) != NULL &&
	    strcmp(v, "2025-03-26") == 0;
}

static void
forward_request(struct router *r, struct batch *b, const char *js, size_t len)
{
	struct rpc_span sp = rpc_id(r->rpc);
	enum upstream_kind kind = UPSTREAM_REQUEST;
	char num[24];
	int64_t id;
	size_t mlen;
	char *msg;

	if (rpc_method_is(r->rpc, "ping")) {
		pong(r, b, js, sp);
		return;
	}
	if (r->ra && ra_request(r, b, js, len))
		return;
	if (rpc_method_is(r->rpc, "initialize")) {
		kind = UPSTREAM_INITIALIZE;
		ide_version(r, js);
	}
	if (idmap_count(r->pending) >= BOUNDS_MAX_INFLIGHT) {
		rt_reply_error(r, b, js + sp.off, sp.len, RPC_INTERNAL_ERROR,
		    "too many requests in flight");
		return;
	}
	id = rt_next_id(r);
	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (rt_rewrite(r, js, len, sp, num, strlen(num)) == -1) {
		rt_reply_error(r, b, js + sp.off, sp.len, RPC_INTERNAL_ERROR,
		    "message too large");
		return;
	}
	idmap_put(r->pending, id, rt_pend_new(js + sp.off, sp.len, b));
	msg = buf_take(&r->scratch, &mlen);
	rt_send(r, msg, mlen, id, kind);
}

static void
ide_cancelled(struct router *r, const char *js, size_t len)
{
	struct rpc_span sp = rpc_get(r->rpc, "params", "requestId", NULL);
	struct pend *q;
	char num[24];
	int64_t id;

	if (sp.type == RPC_T_NONE ||
	    (id = rt_pend_find(r->pending, js + sp.off, sp.len)) == -1) {
		log_debug("IDE cancelled a request that is not in flight");
		return;
	}
	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (rt_rewrite(r, js, len, sp, num, strlen(num)) == 0) {
		size_t mlen;
		char *msg = buf_take(&r->scratch, &mlen);

		rt_send(r, msg, mlen, -1, UPSTREAM_NOTIFY);
	}
	rt_cancel(r, id);
	q = idmap_del(r->pending, id);
	if (q->batch) /* a batch still needs its slot filled */
		rt_reply_error(r, q->batch, q->id, q->idlen, RPC_INTERNAL_ERROR,
		    "request cancelled");
	rt_pend_free(q);
}

static void
forward_notification(struct router *r, const char *js, size_t len)
{
	enum upstream_kind kind = UPSTREAM_NOTIFY;

	if (rpc_method_is(r->rpc, "notifications/cancelled")) {
		ide_cancelled(r, js, len);
		return;
	}
	if (r->ra && ra_notification(r, js, len))
		return;
	if (rpc_method_is(r->rpc, "notifications/initialized"))
		kind = UPSTREAM_INITIALIZED;
	rt_send(r, x_memdup(js, len), len, -1, kind);
}

/* The IDE answers a server->client request. */
static void
forward_response(struct router *r, const char *js, size_t len)
{
	struct rpc_span sp = rpc_id(r->rpc);
	struct pend *s = NULL;
	int64_t id;

	if (rpc_span_int(js, sp, &id) == 0) {
		if (r->ra && ra_ide_response(r, js, len, id))
			return;
		s = idmap_del(r->srvreq, id);
	}
	if (s == NULL) {
		log_warn("IDE answered a request that is not pending; "
		         "dropped");
		return;
	}
	if (rt_rewrite(r, js, len, sp, s->id, s->idlen) == 0) {
		size_t mlen;
		char *msg = buf_take(&r->scratch, &mlen);

		rt_send(r, msg, mlen, -1, UPSTREAM_RESPONSE);
	}
	rt_pend_free(s);
}

static void handle_batch(struct router *r, const char *js, size_t len);

static void
handle(struct router *r, struct batch *b, const char *js, size_t len)
{
	int rc = rpc_parse(r->rpc, js, len);

	if (rc != 0) {
		bad_input(r, b, rc, js);
		return;
	}
	switch (rpc_kind(r->rpc)) {
	case RPC_BATCH:
		if (b == NULL)
			handle_batch(r, js, len);
		else
			rt_reply_error(r, b, NULL, 0, RPC_INVALID_REQUEST,
			    "batch inside a batch");
		break;
	case RPC_REQUEST:
		forward_request(r, b, js, len);
		break;
	case RPC_NOTIFICATION:
		forward_notification(r, js, len);
		break;
	case RPC_RESPONSE:
		forward_response(r, js, len);
		break;
	default:
		break;
	}
}

/* Replies a batch will produce: requests and invalid items. */
static size_t
batch_expect(struct router *r, const char *js, struct rpc_span *items, size_t n)
{
	size_t expect = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = rpc_parse(r->rpc, js + items[i].off, items[i].len);

		expect += rc != 0 || rpc_kind(r->rpc) == RPC_REQUEST ||
		    rpc_kind(r->rpc) == RPC_BATCH;
	}
	return expect;
}

static void
handle_batch(struct router *r, const char *js, size_t len)
{
	size_t n = rpc_batch_len(r->rpc), expect;
	struct rpc_span *items;
	struct batch *b = NULL;

	if (!r->batches_ok || n > ROUTER_MAX_BATCH) {
		log_warn("IDE sent a batch that is not allowed here");
		rt_reply_error(r, NULL, NULL, 0, RPC_INVALID_REQUEST,
		    n > ROUTER_MAX_BATCH ? "batch too large"
		                         : "JSON-RPC "
		                           "batches are only allowed in "
		                           "protocol revision 2025-03-26");
		return;
	}
	items = x_calloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = rpc_batch_item(r->rpc, i);
	if ((expect = batch_expect(r, js, items, n)) > 0) {
		b = x_calloc(1, sizeof(*b));
		b->expect = expect;
		buf_init(&b->out, (size_t)BOUNDS_MAX_LINE * 4);
		(void)!buf_append(&b->out, "[", 1);
	}
	for (size_t i = 0; i < n; i++)
		handle(r, b, js + items[i].off, items[i].len);
	free(items);
}

void
router_input(struct router *r, const char *line, size_t len)
{
	if (log_enabled(LOG_DEBUG))
		log_debug("IDE -> bridge: %zu bytes", len);
	if (rm_input(r, line, len))
		return;
	handle(r, NULL, line, len);
}

void
router_input_too_long(struct router *r, size_t len)
{
	char why[128];

	snprintf(why, sizeof(why),
	    "message of %zu bytes is over the %u-byte "
	    "limit; dropped",
	    len, BOUNDS_MAX_LINE);
	log_warn("IDE sent a %s", why);
	rt_reply_error(r, NULL, NULL, 0, RPC_INVALID_REQUEST, why);
}

/* -- hosted server -> IDE --------------------------------------------- */

static void
server_response(struct router *r, const char *js, size_t len, struct rpc *msg)
{
	struct rpc_span sp = rpc_id(msg);
	struct pend *q = NULL;
	const char *v;
	int64_t id;

	if (rpc_span_int(js, sp, &id) == 0) {
		if (r->ra && ra_server_response(r, js, len, msg, id))
			return;
		q = idmap_del(r->pending, id);
	}
	if (q == NULL) {
		log_debug("hosted server answered an unknown request; dropped");
		return;
	}
	if ((v = rt_version(r)) != NULL)
		r->batches_ok = strcmp(v, "2025-03-26") == 0;
	if (rt_rewrite(r, js, len, sp, q->id, q->idlen) == 0)
		rt_reply(
		    r, q->batch, buf_data(&r->scratch), buf_len(&r->scratch));
	else
		rt_reply_error(r, q->batch, q->id, q->idlen, RPC_INTERNAL_ERROR,
		    "response too large to relay");
	rt_pend_free(q);
}

static void
server_request(struct router *r, const char *js, size_t len, struct rpc *msg)
{
	struct rpc_span sp = rpc_id(msg);
	char num[24];
	int64_t id = ++r->next_srv_id;

	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (rt_rewrite(r, js, len, sp, num, strlen(num)) == -1)
		return;
	idmap_put(r->srvreq, id, rt_pend_new(js + sp.off, sp.len, NULL));
	rt_out(r, buf_data(&r->scratch), buf_len(&r->scratch));
}

static void
server_notification(
    struct router *r, const char *js, size_t len, struct rpc *msg)
{
	struct rpc_span sp;
	char num[24];
	int64_t id;

	if (!rpc_method_is(msg, "notifications/cancelled")) {
		rt_out(r, js, len); /* byte for byte */
		return;
	}
	sp = rpc_get(msg, "params", "requestId", NULL);
	if (sp.type == RPC_T_NONE ||
	    (id = rt_pend_find(r->srvreq, js + sp.off, sp.len)) == -1)
		return; /* nothing of the IDE's to cancel */
	rt_pend_free(idmap_del(r->srvreq, id));
	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (rt_rewrite(r, js, len, sp, num, strlen(num)) == 0)
		rt_out(r, buf_data(&r->scratch), buf_len(&r->scratch));
}

static void
on_message(void *arg, const char *js, size_t len, struct rpc *msg)
{
	struct router *r = arg;

	switch (rpc_kind(msg)) {
	case RPC_RESPONSE:
		server_response(r, js, len, msg);
		break;
	case RPC_REQUEST:
		server_request(r, js, len, msg);
		break;
	case RPC_NOTIFICATION:
		server_notification(r, js, len, msg);
		break;
	default:
		break;
	}
}

static void
on_fail(void *arg, int64_t id, int code, const char *why)
{
	struct router *r = arg;
	struct pend *q;

	if (r->ra && ra_fail(r, id, why))
		return;
	if ((q = idmap_del(r->pending, id)) == NULL)
		return;
	log_warn("request failed: %s", why);
	rt_reply_error(r, q->batch, q->id, q->idlen, code, why);
	rt_pend_free(q);
}

static void
on_closed(void *arg)
{
	struct router *r = arg;

	r->cbs.closed(r->arg);
}

static const struct upstream_cbs router_up_cbs = {
	.on_message = on_message,
	.on_fail = on_fail,
	.on_closed = on_closed,
};

/* -- public ----------------------------------------------------------- */

struct router *
router_new(struct loop *l, struct http *h, const struct upstream_opts *up,
    const struct router_auth *ra, const struct router_cbs *cbs, void *arg)
{
	struct router *r = x_calloc(1, sizeof(*r));
	struct upstream_opts uo = *up;

	r->loop = l;
	r->cbs = *cbs;
	r->arg = arg;
	r->rpc = rpc_new();
	r->pending = idmap_new();
	r->srvreq = idmap_new();
	buf_init(&r->scratch, (size_t)BOUNDS_MAX_LINE + 1024);
	r->http = h;
	if (ra) {
		r->ra = ra_new(r, ra);
		uo.auth = &r->ra->ua;
	}
	if (uo.url != NULL)
		r->up = upstream_new(l, h, &uo, &router_up_cbs, r);
	return r;
}

struct router *
router_new_agg(struct loop *l, struct http *h, const struct agg_opts *ao,
    const struct router_auth *ra, const struct router_cbs *cbs, void *arg)
{
	struct upstream_opts none = { 0 };
	struct router *r = router_new(l, h, &none, ra, cbs, arg);

	r->agg = agg_new(l, h, ao, &router_up_cbs, r);
	return r;
}

struct agg *
router_agg(struct router *r)
{
	return r->agg;
}

int
router_attach(
    struct router *r, const struct upstream_opts *up, const char *resource)
{
	struct upstream_opts uo = *up;

	if (rt_has_peer(r) || r->ra == NULL)
		return -1;
	free(r->ra->resource);
	r->ra->resource = resource ? x_strdup(resource) : NULL;
	uo.auth = &r->ra->ua;
	r->up = upstream_new(r->loop, r->http, &uo, &router_up_cbs, r);
	ra_attached(r);
	return 0;
}

static void
free_table(struct idmap **m, void (*fn)(void *))
{
	size_t pos = 0;
	int64_t key;
	void *val;

	while (idmap_next(*m, &pos, &key, &val))
		fn(val);
	idmap_free(m);
}

static void
free_ide_req(void *p)
{
	struct pend *q = p;

	/* A batch is freed with the last of its requests. */
	if (q->batch && --q->batch->expect == 0) {
		buf_finish(&q->batch->out);
		free(q->batch);
	}
	rt_pend_free(q);
}

static void
free_srv_req(void *p)
{
	rt_pend_free(p);
}

void
router_free(struct router **rp)
{
	struct router *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	upstream_free(&r->up);
	agg_free(&r->agg);
	ra_free(r);
	rm_free(r);
	free_table(&r->pending, free_ide_req);
	free_table(&r->srvreq, free_srv_req);
	rpc_free(&r->rpc);
	buf_finish(&r->scratch);
	free(r);
	*rp = NULL;
}

void
router_close(struct router *r)
{
	if (r->up)
		upstream_close(r->up);
	else if (r->agg)
		agg_close(r->agg);
	else
		r->cbs.closed(r->arg); /* no hosted session to end */
}

size_t
router_inflight(const struct router *r)
{
	return idmap_count(r->pending);
}

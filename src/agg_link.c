/* SPDX-License-Identifier: ISC */
/*
 * agg_link: one hosted server of the aggregator: connecting with the
 * IDE's initialize params, reconnecting with backoff after a failure,
 * and everything it sends: answers (relayed under the router's id),
 * its own requests to the IDE (aggregator-unique ids), notifications.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "log.h"
#include "str.h"
#include "usage.h"
#include "xmem.h"

static const char inited[] = "{\"jsonrpc\":\"2.0\",\"method\":"
                             "\"notifications/initialized\"}";

/* -- links ------------------------------------------------------------ */

static void
link_on_message(void *arg, const char *js, size_t len, struct rpc *msg);
static void link_on_fail(void *arg, int64_t id, int code, const char *why);
static void link_on_closed(void *arg);

static const struct upstream_cbs link_cbs = {
	.on_message = link_on_message,
	.on_fail = link_on_fail,
	.on_closed = link_on_closed,
};

void
agg_link_connect(struct link *l)
{
	struct agg *a = l->agg;
	struct upstream_opts uo = { l->url, a->headers, a->idle_ms, a->max_ms,
		l->auth, l->legacy_sse, 0 };
	struct fwd *f = x_calloc(1, sizeof(*f));
	json_t *msg;

	if (l->up == NULL)
		l->up = upstream_new(a->loop, a->http, &uo, &link_cbs, l);
	l->st = LS_CONNECTING;
	f->kind = FK_INIT;
	msg = json_pack(
	    "{s:s, s:O}", "method", "initialize", "params", a->init_params);
	if (agg_link_send(l, f, msg) == -1) {
		agg_fwd_free(f);
		l->st = LS_FAILED;
	}
	json_decref(msg);
}

static void
flush_queue(struct link *l, const char *why)
{
	struct agg *a = l->agg;
	struct fwd *f;

	while ((f = l->queue) != NULL) {
		l->queue = f->next;
		f->next = NULL;
		l->nqueued--;
		if (why)
			agg_unavailable(a, f, l);
		else
			agg_route_to(a, l, f);
	}
	l->tail = NULL;
}

static void
on_retry(void *arg)
{
	struct link *l = arg;

	if (l->agg->closing)
		return;
	upstream_free(&l->up);
	log_info("reconnecting to %s", l->id);
	agg_link_connect(l);
}

static void
link_fail(struct link *l, const char *why)
{
	struct agg *a = l->agg;

	str_fmt(l->why, sizeof(l->why), "%s", why);
	l->st = LS_FAILED;
	if (!l->warned++)
		log_warn("hosted server %s: %s (retrying in the background)",
		    l->id, why);
	else
		log_info("hosted server %s: %s", l->id, why);
	flush_queue(l, why);
	if (l->retry == NULL)
		l->retry = loop_timer_new(a->loop, on_retry, l);
	l->retry_ms = l->retry_ms == 0           ? AGG_RETRY_MIN_MS
	    : l->retry_ms * 2 > AGG_RETRY_MAX_MS ? AGG_RETRY_MAX_MS
	                                         : l->retry_ms * 2;
	loop_timer_arm(l->retry, l->retry_ms);
	al_link_changed(a);
}

static void
take_server_info(struct link *l, json_t *res)
{
	json_t *info = json_object_get(res, "serverInfo");
	const char *t = json_string_value(json_object_get(info, "title"));
	const char *ins =
	    json_string_value(json_object_get(res, "instructions"));

	if (t == NULL)
		t = json_string_value(json_object_get(info, "name"));
	free(l->stitle);
	l->stitle = t ? x_strdup(t) : NULL;
	free(l->instructions);
	l->instructions = ins ? x_strdup(ins) : NULL;
	json_decref(l->caps);
	l->caps = json_object_get(res, "capabilities");
	l->caps =
	    json_is_object(l->caps) ? json_incref(l->caps) : json_object();
}

static void
link_ready(struct link *l, json_t *res)
{
	struct agg *a = l->agg;
	static const char *const capname[AL_COUNT] = { "tools", "prompts",
		"resources", "resources" };

	take_server_info(l, res);
	l->st = LS_READY;
	l->why[0] = '\0';
	l->retry_ms = 0;
	if (l->warned)
		log_warn("hosted server %s is back", l->id);
	l->warned = 0;
	upstream_send(l->up, x_strdup(inited), sizeof(inited) - 1, -1,
	    UPSTREAM_INITIALIZED);
	for (int i = 0; i < AL_COUNT; i++)
		if (!json_object_get(l->caps, capname[i]) &&
		    l->lists[i].items == NULL)
			l->lists[i].items = json_array();
	/* Tools first: what the IDE waits for; the rest once they are in. */
	l->rest = 1;
	if (json_object_get(l->caps, "tools"))
		al_fetch(l, AL_TOOLS);
	else
		al_fetch_rest(l);
	flush_queue(l, NULL);
	al_link_changed(a);
}

static void
link_init_reply(struct link *l, struct rpc *msg, const char *js, size_t len)
{
	json_t *root, *res;
	char why[300];

	if (rpc_is_error(msg)) {
		str_fmt(why, sizeof(why), "initialize refused");
		root = json_loadb(js, len, 0, NULL);
		res =
		    json_object_get(json_object_get(root, "error"), "message");
		if (json_is_string(res))
			str_fmt(why, sizeof(why), "initialize refused: %.200s",
			    json_string_value(res));
		json_decref(root);
		link_fail(l, why);
		return;
	}
	root = json_loadb(js, len, 0, NULL);
	res = json_object_get(root, "result");
	if (!json_is_object(res)) {
		json_decref(root);
		link_fail(l, "initialize answered without a result object");
		return;
	}
	link_ready(l, res);
	json_decref(root);
}

/* -- what a link sends ------------------------------------------------- */

/* Resources fallback: "not found" from this server means "not mine". */
static int
probe_next(struct agg *a, struct fwd *f, struct rpc *msg, const char *js)
{
	int64_t code = 0;
	struct link *l;

	if (!f->probing || !rpc_is_error(msg) ||
	    rpc_span_int(js, rpc_get(msg, "error", "code", NULL), &code) ||
	    (code != -32002 && code != RPC_INVALID_PARAMS))
		return 0;
	while (f->probe < a->nlinks) {
		l = a->links[f->probe++];
		if (l->st == LS_READY &&
		    json_object_get(l->caps, "resources")) {
			agg_route_to(a, l, f);
			return 1;
		}
	}
	return 0;
}

static void
ide_reply(
    struct link *l, struct fwd *f, const char *js, size_t len, struct rpc *msg)
{
	struct agg *a = l->agg;
	char num[24];
	int err = rpc_is_error(msg);

	if (probe_next(a, f, msg, js))
		return;
	if (f->tool && a->usage) {
		struct rpc_span e = rpc_get(msg, "result", "isError", NULL);

		err = err ||
		    (e.type == RPC_T_BOOL && js[e.off] == 't'); /* true */
		usage_record(
		    a->usage, l->id, f->tool, err, loop_now_ms() - f->t0);
	}
	snprintf(num, sizeof(num), "%lld", (long long)f->agg_id);
	idmap_del(a->byagg, f->agg_id);
	agg_fwd_free(f);
	buf_reset(&a->scratch);
	if (rpc_splice(js, len, rpc_id(msg), num, strlen(num), &a->scratch) ==
	    -1) {
		agg_emit_error(a, strtoll(num, NULL, 10), RPC_INTERNAL_ERROR,
		    "response too large to relay");
		return;
	}
	agg_emit(a, buf_data(&a->scratch), buf_len(&a->scratch));
}

static void
link_response(struct link *l, const char *js, size_t len, struct rpc *msg)
{
	struct fwd *f = NULL;
	json_t *root;
	int64_t id;

	if (rpc_span_int(js, rpc_id(msg), &id) == 0)
		f = idmap_del(l->reqs, id);
	if (f == NULL)
		return;
	switch (f->kind) {
	case FK_IDE:
		ide_reply(l, f, js, len, msg);
		return;
	case FK_INIT:
		agg_fwd_free(f);
		link_init_reply(l, msg, js, len);
		return;
	case FK_LIST:
		root = json_loadb(js, len, 0, NULL);
		al_page(l, f, json_object_get(root, "result"),
		    rpc_is_error(msg) ? "the server refused the list" : NULL);
		json_decref(root);
		return;
	default:
		agg_fwd_free(f);
		return;
	}
}

/* A server->client request (elicitation, sampling, roots, ping). */
static void
link_request(struct link *l, const char *js, size_t len, struct rpc *msg)
{
	struct agg *a = l->agg;
	struct rpc_span sp = rpc_id(msg);
	struct srvreq *s = x_calloc(1, sizeof(*s));
	int64_t id = ++a->next_srv;
	char num[24];

	s->l = l;
	s->raw = x_memdup(js + sp.off, sp.len);
	s->rawlen = sp.len;
	idmap_put(a->srvreq, id, s);
	snprintf(num, sizeof(num), "%lld", (long long)id);
	buf_reset(&a->scratch);
	if (rpc_splice(js, len, sp, num, strlen(num), &a->scratch) == 0)
		agg_emit(a, buf_data(&a->scratch), buf_len(&a->scratch));
}

void
agg_srvreq_free(struct srvreq *s)
{
	if (s == NULL)
		return;
	free(s->raw);
	free(s);
}

/* The server cancels a request it sent to the IDE. */
static void
link_cancelled(struct link *l, const char *js, size_t len, struct rpc *msg)
{
	struct agg *a = l->agg;
	struct rpc_span sp = rpc_get(msg, "params", "requestId", NULL);
	size_t pos = 0;
	int64_t key;
	void *val;
	char num[24];

	while (idmap_next(a->srvreq, &pos, &key, &val)) {
		struct srvreq *s = val;

		if (s->l != l || s->rawlen != sp.len ||
		    memcmp(s->raw, js + sp.off, sp.len) != 0)
			continue;
		agg_srvreq_free(idmap_del(a->srvreq, key));
		snprintf(num, sizeof(num), "%lld", (long long)key);
		buf_reset(&a->scratch);
		if (rpc_splice(js, len, sp, num, strlen(num), &a->scratch) == 0)
			agg_emit(
			    a, buf_data(&a->scratch), buf_len(&a->scratch));
		return;
	}
}

static void
link_notification(struct link *l, const char *js, size_t len, struct rpc *msg)
{
	if (rpc_method_is(msg, "notifications/tools/list_changed"))
		al_fetch(l, AL_TOOLS);
	else if (rpc_method_is(msg, "notifications/prompts/list_changed"))
		al_fetch(l, AL_PROMPTS);
	else if (rpc_method_is(msg, "notifications/resources/list_changed")) {
		al_fetch(l, AL_RESOURCES);
		al_fetch(l, AL_TEMPLATES);
	} else if (rpc_method_is(msg, "notifications/cancelled"))
		link_cancelled(l, js, len, msg);
	else
		agg_emit(l->agg, js, len); /* progress, message, updated... */
}

static void
link_on_message(void *arg, const char *js, size_t len, struct rpc *msg)
{
	struct link *l = arg;

	if (l->st == LS_GONE)
		return; /* removed: its session is being ended */
	switch (rpc_kind(msg)) {
	case RPC_RESPONSE:
		link_response(l, js, len, msg);
		break;
	case RPC_REQUEST:
		link_request(l, js, len, msg);
		break;
	case RPC_NOTIFICATION:
		link_notification(l, js, len, msg);
		break;
	default:
		break;
	}
}

static void
link_on_fail(void *arg, int64_t id, int code, const char *why)
{
	struct link *l = arg;
	struct fwd *f = idmap_del(l->reqs, id);
	char text[512];

	if (f == NULL || l->st == LS_GONE)
		return;
	switch (f->kind) {
	case FK_IDE:
		str_fmt(
		    text, sizeof(text), "%s (hosted server %s)", why, l->id);
		agg_fail_ide(l->agg, f, code, text);
		return;
	case FK_INIT:
		agg_fwd_free(f);
		link_fail(l, why);
		return;
	case FK_LIST:
		al_page(l, f, NULL, why);
		return;
	default:
		agg_fwd_free(f);
		return;
	}
}

void
agg_closed_now(void *arg)
{
	struct agg *a = arg;

	al_cache_flush(a);
	a->cbs.on_closed(a->arg);
}

static void
link_on_closed(void *arg)
{
	struct link *l = arg;
	struct agg *a = l->agg;

	if (l->st == LS_GONE) { /* removed: freed from the loop, not here */
		l->closed = 1;
		agg_reap_soon(a);
		return;
	}
	if (a->open > 0 && --a->open == 0)
		agg_closed_now(a);
}

/* Forgets the server->client requests of `l` (keys first: no changes
 * to the table while iterating it). */
static void
drop_srvreqs(struct agg *a, const struct link *l)
{
	size_t n = idmap_count(a->srvreq), k = 0, pos = 0;
	int64_t *keys = x_calloc(n + 1, sizeof(*keys)), key;
	void *val;

	while (idmap_next(a->srvreq, &pos, &key, &val))
		if (((struct srvreq *)val)->l == l)
			keys[k++] = key;
	while (k > 0)
		agg_srvreq_free(idmap_del(a->srvreq, keys[--k]));
	free(keys);
}

/*
 * Ends everything of `l` but its upstream: queued and in-flight IDE
 * requests get `why` (NULL: dropped silently, the aggregator is being
 * freed), its own requests and server->client requests are forgotten.
 * The link is LS_GONE: what its upstream still reports is ignored.
 */
void
agg_link_detach(struct agg *a, struct link *l, const char *why)
{
	size_t pos = 0;
	int64_t key;
	void *val;

	l->st = LS_GONE;
	loop_timer_stop(l->retry);
	if (why) {
		str_fmt(l->why, sizeof(l->why), "%s", why);
		flush_queue(l, why);
	}
	while (idmap_next(l->reqs, &pos, &key, &val)) {
		struct fwd *f = val;

		if (f->kind == FK_IDE && why)
			agg_fail_ide(a, f, RPC_UPSTREAM_ERROR, why);
		else if (f->kind != FK_IDE)
			agg_fwd_free(f);
	}
	idmap_free(&l->reqs);
	l->reqs = idmap_new();
	drop_srvreqs(a, l);
}

/* Frees a link; in-flight IDE requests get `why`. */
void
agg_link_free(struct agg *a, struct link *l, const char *why)
{
	if (l->st != LS_GONE)
		agg_link_detach(a, l, why);
	idmap_free(&l->reqs);
	upstream_free(&l->up);
	loop_timer_del(l->retry);
	al_link_free_lists(l);
	json_decref(l->caps);
	free(l->instructions);
	free(l->stitle);
	free(l->id);
	free(l->name);
	free(l->title);
	free(l->url);
	free(l);
}

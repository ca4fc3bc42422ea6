/* SPDX-License-Identifier: ISC */
/*
 * agg: the links (one upstream per hosted server), the routing of the
 * IDE's requests to them, and the relaying of what they send back. The
 * lists, name maps and disk cache live in agg_list.c.
 *
 * Ownership: an IDE request's struct fwd is owned by a->byagg (keyed by
 * the router's id) and referenced from the link's `reqs` table or queue;
 * the aggregator's own requests (initialize, list pages, fan-outs) are
 * owned by the link's `reqs` table.
 */
#include "agg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "log.h"
#include "str.h"
#include "usage.h"
#include "xmem.h"

static const char *const versions[] = { "2025-11-25", "2025-06-18",
	"2025-03-26", "2024-11-05" };

/* -- emitting towards the router -------------------------------------- */

void
agg_emit(struct agg *a, const char *js, size_t len)
{
	if (rpc_parse(a->rpc, js, len) != 0) {
		log_error("internal: a relayed message does not parse");
		return;
	}
	a->cbs.on_message(a->arg, js, len, a->rpc);
}

static void
emit_owned(struct agg *a, json_t *msg)
{
	char *text;

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text == NULL) {
		log_error("out of memory building a message");
		return;
	}
	agg_emit(a, text, strlen(text));
	free(text);
}

/* A result for the router's request `id`; steals `result`. */
void
agg_emit_json(struct agg *a, int64_t id, json_t *result)
{
	emit_owned(a,
	    json_pack("{s:I, s:o}", "id", (json_int_t)id, "result",
	        result ? result : json_object()));
}

void
agg_emit_error(struct agg *a, int64_t id, int code, const char *why)
{
	emit_owned(a,
	    json_pack("{s:I, s:{s:i, s:s}}", "id", (json_int_t)id, "error",
	        "code", code, "message", why));
}

void
agg_notify(struct agg *a, const char *method)
{
	emit_owned(a, json_pack("{s:s}", "method", method));
}

/* -- requests and their bookkeeping ----------------------------------- */

void
agg_fwd_free(struct fwd *f)
{
	if (f == NULL)
		return;
	json_decref(f->req);
	free(f->tool);
	free(f);
}

struct link *
agg_link_by_id(const struct agg *a, const char *id)
{
	for (size_t i = 0; i < a->nlinks; i++)
		if (strcmp(a->links[i]->id, id) == 0)
			return a->links[i];
	return NULL;
}

/* Sends `msg` (borrowed) to `l` as request `f` with a fresh id. */
int64_t
agg_link_send(struct link *l, struct fwd *f, json_t *msg)
{
	int64_t id = upstream_next_id(l->up);
	char *text;

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	json_object_set_new(msg, "id", json_integer(id));
	if ((text = json_dumps(msg, JSON_COMPACT)) == NULL)
		return -1;
	f->l = l;
	f->link_id = id;
	f->t0 = loop_now_ms();
	idmap_put(l->reqs, id, f);
	upstream_send(l->up, text, strlen(text), id,
	    f->kind == FK_INIT ? UPSTREAM_INITIALIZE : UPSTREAM_REQUEST);
	return id;
}

/* Ends an IDE request with an error (it must be in a->byagg). */
void
agg_fail_ide(struct agg *a, struct fwd *f, int code, const char *why)
{
	int64_t id = f->agg_id;

	if (f->tool && a->usage)
		usage_record(a->usage, f->l ? f->l->id : USAGE_OTHER, f->tool,
		    1, loop_now_ms() - f->t0);
	idmap_del(a->byagg, id);
	agg_fwd_free(f);
	agg_emit_error(a, id, code, why);
}

void
agg_unavailable(struct agg *a, struct fwd *f, const struct link *l)
{
	char why[512];

	str_fmt(why, sizeof(why), "hosted server %s is unavailable: %s", l->id,
	    l->why[0] ? l->why : "not connected");
	agg_fail_ide(a, f, RPC_UPSTREAM_ERROR, why);
}

/* Sends an IDE request to `l` now, or queues it while `l` connects. */
void
agg_route_to(struct agg *a, struct link *l, struct fwd *f)
{
	f->l = l;
	if (l->st == LS_READY) {
		if (agg_link_send(l, f, f->req) == -1)
			agg_fail_ide(
			    a, f, RPC_INTERNAL_ERROR, "message too large");
		return;
	}
	if (l->st == LS_FAILED || l->st == LS_GONE) {
		agg_unavailable(a, f, l);
		return;
	}
	if (l->nqueued == AGG_MAX_QUEUED) {
		agg_fail_ide(a, f, RPC_UPSTREAM_ERROR,
		    "too many requests waiting for this server to connect");
		return;
	}
	f->t0 = loop_now_ms();
	if (l->tail)
		l->tail->next = f;
	else
		l->queue = f;
	l->tail = f;
	l->nqueued++;
}

void
agg_unqueue(struct link *l, struct fwd *f)
{
	struct fwd **pp = &l->queue, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			if (l->tail == f)
				l->tail = prev;
			l->nqueued--;
			f->next = NULL;
			return;
		}
}

/* -- the IDE's messages ----------------------------------------------- */

static const char *
pick_version(json_t *params)
{
	const char *want =
	    json_string_value(json_object_get(params, "protocolVersion"));

	for (size_t i = 0; want && i < sizeof(versions) / sizeof(*versions);
	     i++)
		if (strcmp(want, versions[i]) == 0)
			return versions[i];
	return versions[0];
}

static void
ide_initialize(struct agg *a, json_t *req, int64_t id)
{
	json_t *params = json_object_get(req, "params");
	char *ins;
	json_t *res;

	if (!json_is_object(params)) {
		agg_emit_error(a, id, RPC_INVALID_PARAMS,
		    "initialize needs a params object");
		return;
	}
	if (a->init_params == NULL) {
		a->init_params = json_incref(params);
		str_fmt(
		    a->version, sizeof(a->version), "%s", pick_version(params));
	}
	res = json_pack("{s:s, s:{s:{}, s:{s:b}, s:{s:b}, s:{s:b, s:b}, "
	                "s:{}}, s:{s:s, s:s, s:s}}",
	    "protocolVersion", a->version, "capabilities", "logging", "tools",
	    "listChanged", 1, "prompts", "listChanged", 1, "resources",
	    "listChanged", 1, "subscribe", 1, "completions", "serverInfo",
	    "name", "mcp-bridge", "title", "mcp-bridge", "version",
	    MCP_BRIDGE_VERSION);
	if ((ins = al_instructions(a)) != NULL)
		json_object_set_new(res, "instructions", json_string(ins));
	free(ins);
	agg_emit_json(a, id, res);
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i]->st == LS_IDLE)
			agg_link_connect(a->links[i]);
}

/* Which list a list method asks for, or -1. */
static int
list_of(const char *method)
{
	for (int i = 0; i < AL_COUNT; i++)
		if (strcmp(method, al_list_method((enum agg_list)i)) == 0)
			return i;
	return -1;
}

/* logging/setLevel goes to every connected server; answered at once. */
static void
fan_out(struct agg *a, json_t *req)
{
	for (size_t i = 0; i < a->nlinks; i++) {
		struct link *l = a->links[i];
		struct fwd *f;

		if (l->st != LS_READY || !json_object_get(l->caps, "logging"))
			continue;
		f = x_calloc(1, sizeof(*f));
		f->kind = FK_QUIET;
		if (agg_link_send(l, f, req) == -1)
			agg_fwd_free(f);
	}
}

static void
ide_request(struct agg *a, json_t *req, int64_t id)
{
	const char *method = json_string_value(json_object_get(req, "method"));
	json_t *params = json_object_get(req, "params");
	struct fwd *f;
	struct link *l;
	char err[400];
	int list;

	if (strcmp(method, "ping") == 0) {
		agg_emit_json(a, id, NULL);
		return;
	}
	if ((list = list_of(method)) >= 0) {
		al_serve(a, id, (enum agg_list)list,
		    json_string_value(json_object_get(params, "cursor")));
		return;
	}
	if (strcmp(method, "logging/setLevel") == 0) {
		fan_out(a, req);
		agg_emit_json(a, id, NULL);
		return;
	}
	f = x_calloc(1, sizeof(*f));
	f->kind = FK_IDE;
	f->agg_id = id;
	f->req = json_incref(req);
	f->t0 = loop_now_ms();
	idmap_put(a->byagg, id, f);
	if ((l = agg_route(a, method, f, err, sizeof(err))) == NULL)
		agg_fail_ide(a, f,
		    strncmp(err, "method", 6) == 0 ? RPC_METHOD_NOT_FOUND
		                                   : RPC_INVALID_PARAMS,
		    err);
	else
		agg_route_to(a, l, f);
}

/* The IDE cancels request `requestId` (the router's id). */
static void
ide_cancelled(struct agg *a, json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	json_t *rid = json_object_get(params, "requestId");
	struct fwd *f = json_is_integer(rid)
	    ? idmap_get(a->byagg, json_integer_value(rid))
	    : NULL;
	char *text;

	if (f == NULL || f->link_id == 0 || f->l == NULL ||
	    f->l->st != LS_READY)
		return; /* queued or parked: agg_cancel drops it */
	json_object_set_new(params, "requestId", json_integer(f->link_id));
	if ((text = json_dumps(msg, JSON_COMPACT)) != NULL)
		upstream_send(
		    f->l->up, text, strlen(text), -1, UPSTREAM_NOTIFY);
}

static void
broadcast(struct agg *a, const char *js, size_t len)
{
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i]->st == LS_READY)
			upstream_send(a->links[i]->up, x_memdup(js, len), len,
			    -1, UPSTREAM_NOTIFY);
}

static void
ide_notification(struct agg *a, json_t *msg, const char *js, size_t len)
{
	const char *method = json_string_value(json_object_get(msg, "method"));

	if (strcmp(method, "notifications/cancelled") == 0)
		ide_cancelled(a, msg);
	else if (strcmp(method, "notifications/roots/list_changed") == 0)
		broadcast(a, js, len);
	else
		log_debug("IDE notification %s not relayed (no single "
		          "server to send it to)",
		    method);
}

/* The IDE answers a server->client request. */
static void
ide_response(struct agg *a, struct rpc *msg, const char *js, size_t len)
{
	struct srvreq *s = NULL;
	int64_t id;

	if (rpc_span_int(js, rpc_id(msg), &id) == 0)
		s = idmap_del(a->srvreq, id);
	if (s == NULL)
		return;
	buf_reset(&a->scratch);
	if (s->l->st == LS_READY &&
	    rpc_splice(js, len, rpc_id(msg), s->raw, s->rawlen, &a->scratch) ==
	        0) {
		size_t n;
		char *m = buf_take(&a->scratch, &n);

		upstream_send(s->l->up, m, n, -1, UPSTREAM_RESPONSE);
	}
	agg_srvreq_free(s);
}

/* -- public ----------------------------------------------------------- */

int64_t
agg_next_id(struct agg *a)
{
	return ++a->next_id;
}

void
agg_send(
    struct agg *a, char *msg, size_t len, int64_t id, enum upstream_kind kind)
{
	json_t *root = NULL;

	if (kind == UPSTREAM_INITIALIZED)
		goto out; /* every link gets its own after its initialize */
	if (kind == UPSTREAM_RESPONSE) {
		if (rpc_parse(a->rpc_in, msg, len) == 0)
			ide_response(a, a->rpc_in, msg, len);
		goto out;
	}
	if (kind == UPSTREAM_REQUEST && rpc_parse(a->rpc_in, msg, len) == 0 &&
	    agg_fast_call(a, msg, len, id))
		goto out;
	root = json_loadb(msg, len, 0, NULL);
	if (!json_is_object(root) ||
	    !json_is_string(json_object_get(root, "method"))) {
		if (kind != UPSTREAM_NOTIFY)
			agg_emit_error(a, id, RPC_INVALID_REQUEST,
			    "not a JSON-RPC request");
		goto out;
	}
	if (kind == UPSTREAM_NOTIFY)
		ide_notification(a, root, msg, len);
	else if (kind == UPSTREAM_INITIALIZE)
		ide_initialize(a, root, id);
	else
		ide_request(a, root, id);
out:
	json_decref(root);
	free(msg);
}

void
agg_cancel(struct agg *a, int64_t id)
{
	struct fwd *f = idmap_del(a->byagg, id);
	struct parked **pp, *p;

	for (pp = &a->parked; (p = *pp) != NULL; pp = &p->next)
		if (p->agg_id == id) {
			*pp = p->next;
			free(p->cursor);
			free(p);
			break;
		}
	if (f == NULL)
		return;
	if (f->link_id && f->l) {
		idmap_del(f->l->reqs, f->link_id);
		upstream_cancel(f->l->up, f->link_id);
	} else if (f->l)
		agg_unqueue(f->l, f);
	agg_fwd_free(f);
}

void
agg_auth_ready(struct agg *a)
{
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i]->up)
			upstream_auth_ready(a->links[i]->up);
}

const char *
agg_version(const struct agg *a)
{
	return a->version[0] ? a->version : NULL;
}

int
agg_has(const struct agg *a, const char *id)
{
	return agg_link_by_id(a, id) != NULL;
}

void
agg_set_pending(struct agg *a, int pending)
{
	a->pending = pending;
	if (!pending)
		al_link_changed(a);
}

int
agg_add(struct agg *a, const struct agg_server *s)
{
	struct link *l;

	if (a->nlinks == AGG_MAX_LINKS || agg_link_by_id(a, s->id) ||
	    !names_id_ok(s->id)) {
		log_error("cannot add hosted server %s: %s", s->id,
		    a->nlinks == AGG_MAX_LINKS ? "too many servers"
		                               : "duplicate or invalid id");
		return -1;
	}
	l = x_calloc(1, sizeof(*l));
	l->agg = a;
	l->id = x_strdup(s->id);
	l->name = x_strdup(s->name ? s->name : s->id);
	l->title = s->title ? x_strdup(s->title) : NULL;
	l->url = x_strdup(s->url);
	l->auth = s->auth;
	l->legacy_sse = s->legacy_sse;
	l->reqs = idmap_new();
	a->links[a->nlinks++] = l;
	al_cache_load(a);
	if (a->init_params && !a->closing)
		agg_link_connect(l);
	al_link_changed(a);
	return 0;
}

void
agg_remove(struct agg *a, const char *id)
{
	char why[200];

	for (size_t i = 0; i < a->nlinks; i++) {
		struct link *l = a->links[i];

		if (strcmp(l->id, id) != 0)
			continue;
		log_info(
		    "hosted server %s left the registry; disconnecting", id);
		memmove(&a->links[i], &a->links[i + 1],
		    (a->nlinks - i - 1) * sizeof(a->links[0]));
		a->nlinks--;
		str_fmt(why, sizeof(why),
		    "hosted server %s is no longer in the registry", id);
		agg_link_detach(a, l, why);
		if (l->up && a->ndying < AGG_MAX_LINKS) {
			a->dying[a->ndying++] = l; /* DELETE its session */
			upstream_close(l->up);
		} else
			agg_link_free(a, l, NULL);
		al_link_changed(a);
		return;
	}
}

static void
reap(void *arg)
{
	struct agg *a = arg;

	for (size_t i = a->ndying; i-- > 0;)
		if (a->dying[i]->closed) {
			agg_link_free(a, a->dying[i], NULL);
			a->dying[i] = a->dying[--a->ndying];
		}
}

void
agg_reap_soon(struct agg *a)
{
	if (a->reap_timer == NULL)
		a->reap_timer = loop_timer_new(a->loop, reap, a);
	loop_timer_arm(a->reap_timer, 0);
}

int
agg_settled(const struct agg *a)
{
	for (int i = 0; i < AL_COUNT; i++)
		if (!al_settled(a, (enum agg_list)i))
			return 0;
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];

		if (l->st != LS_READY && l->st != LS_FAILED &&
		    !(l->st == LS_CONNECTING && l->warned))
			return 0;
	}
	return 1;
}

/* A NULL-ended copy of a NULL-ended string vector (NULL stays NULL). */
static char **
str_vec_dup(const char *const *v)
{
	size_t n = 0;
	char **out;

	if (v == NULL)
		return NULL;
	while (v[n])
		n++;
	out = x_calloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = x_strdup(v[i]);
	return out;
}

static void
str_vec_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void
on_park_timer(void *arg)
{
	al_park_check(arg);
}

struct agg *
agg_new(struct loop *l, struct http *h, const struct agg_opts *o,
    const struct upstream_cbs *cbs, void *arg)
{
	struct agg *a = x_calloc(1, sizeof(*a));

	a->loop = l;
	a->http = h;
	a->cbs = *cbs;
	a->arg = arg;
	a->headers = o->headers;
	a->idle_ms = o->request_idle_ms;
	a->max_ms = o->request_max_ms;
	a->wait_ms = o->list_wait_ms > 0 ? o->list_wait_ms : AGG_LIST_WAIT_MS;
	a->allow = str_vec_dup(o->allow);
	a->deny = str_vec_dup(o->deny);
	a->cache_path = o->cache_path ? x_strdup(o->cache_path) : NULL;
	a->usage = o->usage;
	a->byagg = idmap_new();
	a->srvreq = idmap_new();
	a->rpc = rpc_new();
	a->rpc_in = rpc_new();
	a->park_timer = loop_timer_new(l, on_park_timer, a);
	buf_init(&a->scratch, (size_t)64 * 1024 * 1024);
	for (int i = 0; i < AL_COUNT; i++)
		a->route[i] = json_object();
	return a;
}

void
agg_close(struct agg *a)
{
	a->closing = 1;
	for (size_t i = 0; i < a->nlinks; i++) {
		loop_timer_stop(a->links[i]->retry);
		if (a->links[i]->up) {
			a->open++;
			upstream_close(a->links[i]->up);
		}
	}
	if (a->open == 0) {
		a->closed_timer = loop_timer_new(a->loop, agg_closed_now, a);
		loop_timer_arm(a->closed_timer, 0);
	}
}

void
agg_free(struct agg **ap)
{
	struct agg *a;
	size_t pos = 0;
	int64_t key;
	void *val;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	al_cache_flush(a);
	while (a->nlinks > 0)
		agg_link_free(a, a->links[--a->nlinks], NULL);
	while (a->ndying > 0)
		agg_link_free(a, a->dying[--a->ndying], NULL);
	while (idmap_next(a->byagg, &pos, &key, &val))
		agg_fwd_free(val);
	idmap_free(&a->byagg);
	pos = 0;
	while (idmap_next(a->srvreq, &pos, &key, &val))
		agg_srvreq_free(val);
	idmap_free(&a->srvreq);
	while (a->parked) {
		struct parked *p = a->parked;

		a->parked = p->next;
		free(p->cursor);
		free(p);
	}
	for (int i = 0; i < AL_COUNT; i++)
		json_decref(a->route[i]);
	json_decref(a->init_params);
	json_decref(a->cache);
	loop_timer_del(a->park_timer);
	loop_timer_del(a->cache_timer);
	loop_timer_del(a->changed_timer);
	loop_timer_del(a->reap_timer);
	loop_timer_del(a->closed_timer);
	rpc_free(&a->rpc);
	rpc_free(&a->rpc_in);
	buf_finish(&a->scratch);
	str_vec_free(a->allow);
	str_vec_free(a->deny);
	free(a->cache_path);
	free(a);
	*ap = NULL;
}

/* SPDX-License-Identifier: ISC */
/*
 * upstream_mrtr: answers of a 2026-07-28 server for a legacy IDE.
 * Multi Round-Trip Requests: an input_required result becomes real
 * requests to the IDE (elicitation/create, sampling/createMessage,
 * roots/list); their answers go back in `inputResponses` with the exact
 * `requestState`, in a retry with a new id, round after round. Complete
 * results are cleaned for the IDE's era (tools with invalid
 * x-mcp-header annotations dropped, lists kept for their ttlMs); -32022
 * naming 2026-07-28 and -32020 (a tool's header set changed: tools/list
 * again) are retried once; the probe's answer decides the era.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bounds.h"
#include "era.h"
#include "log.h"
#include "str.h"
#include "upstream_int.h"
#include "xmem.h"

/* -- rounds (Multi Round-Trip Requests) ----------------------------- */

/* The Mcp-* headers of p for `msg`, with the tool's current paths. */
static void
set_headers(struct post *p, const json_t *msg)
{
	struct modern *m = p->up->mod;
	const char *name = json_string_value(
	    json_object_get(json_object_get(msg, "params"), "name"));
	const json_t *paths = NULL;
	json_t *lines;

	if (strcmp(p->mrtr->method, "tools/call") == 0 && name)
		paths = json_object_get(m->tools, name);
	if ((lines = era_request_headers(msg, paths)) == NULL)
		return; /* the first round's headers stay */
	free(p->xhdr);
	p->xhdr = up_header_block(lines);
	json_decref(lines);
}

static void
round_retry(struct post *p)
{
	struct upstream *u = p->up;
	struct mrtr *r = p->mrtr;
	json_t *msg = json_deep_copy(r->req);
	json_t *params = json_object_get(msg, "params");
	int64_t wire = upstream_next_id(u);
	char *body;

	json_object_set_new(msg, "id", json_integer(wire));
	if (json_object_size(r->in) > 0)
		json_object_set(params, "inputResponses", r->in);
	if (r->state)
		json_object_set(params, "requestState", r->state);
	body = json_dumps(msg, JSON_COMPACT);
	set_headers(p, msg);
	json_decref(msg);
	if (body == NULL) {
		up_post_fail(p, RPC_INTERNAL_ERROR, "cannot build the retry");
		return;
	}
	if (p->wire >= 0 && idmap_get(u->pending, p->wire) == p)
		idmap_del(u->pending, p->wire);
	p->wire = wire;
	idmap_put(u->pending, wire, p);
	free(p->body);
	p->body = body;
	p->len = strlen(body);
	p->resumes = 0;
	p->auth_retried = 0;
	json_decref(r->in);
	r->in = NULL;
	log_debug("request %lld: input round %d", (long long)p->id, r->rounds);
	up_post_start(p);
}

static void on_round_timer(void *arg);

/* Sends p again from the loop, with a new id. */
void
up_retry_soon(struct post *p)
{
	struct mrtr *r = p->mrtr;

	json_decref(r->want);
	r->want = NULL;
	if (r->timer == NULL)
		r->timer = loop_timer_new(p->up->loop, on_round_timer, p);
	if (p->idle)
		loop_timer_stop(p->idle);
	loop_timer_arm(r->timer, 0);
}

static void
on_round_timer(void *arg)
{
	struct post *p = arg;
	struct mrtr *r = p->mrtr;

	if (json_object_size(r->want) == 0) {
		round_retry(p);
		return;
	}
	up_post_fail(p, RPC_TIMEOUT_ERROR,
	    "the IDE did not answer the hosted server's question in time");
}

/* A server->client request for the IDE, for input `key`. */
static int
ask_ide(struct post *p, const char *key, const json_t *ir)
{
	struct upstream *u = p->up;
	struct modern *m = u->mod;
	const char *method = json_string_value(json_object_get(ir, "method"));
	json_t *params = json_object_get(ir, "params"), *req;
	char id[48];

	if (method == NULL ||
	    (strcmp(method, "elicitation/create") != 0 &&
	        strcmp(method, "sampling/createMessage") != 0 &&
	        strcmp(method, "roots/list") != 0))
		return -1;
	snprintf(
	    id, sizeof(id), "mcp-bridge-input-%lld", (long long)++m->next_in);
	req = json_pack(
	    "{s:s,s:s,s:s}", "jsonrpc", "2.0", "id", id, "method", method);
	params =
	    json_is_object(params) ? json_deep_copy(params) : json_object();
	/* 2025-11-25 needs an elicitationId on URL-mode elicitations. */
	if (strcmp(method, "elicitation/create") == 0 &&
	    json_is_string(json_object_get(params, "url")) &&
	    json_object_get(params, "elicitationId") == NULL)
		json_object_set_new(params, "elicitationId", json_string(id));
	json_object_set_new(req, "params", params);
	json_object_set_new(
	    m->inreq, id, json_pack("[I,s]", (json_int_t)p->id, key));
	json_object_set_new(p->mrtr->want, key, json_string(id));
	up_local_send(u, req);
	return 0;
}

/* An input_required result for p: ask the IDE, or retry. 0, or -1. */
static int
start_round(struct post *p, json_t *res)
{
	struct mrtr *r = p->mrtr;
	json_t *irs = json_object_get(res, "inputRequests"), *v;
	json_t *st = json_object_get(res, "requestState");
	const char *k;

	if (r == NULL || ++r->rounds > ERA_MAX_ROUNDS)
		return -1;
	if (st && !json_is_string(st))
		return -1;
	json_decref(r->state);
	r->state = json_incref(st);
	json_decref(r->want);
	r->want = json_object();
	json_decref(r->in);
	r->in = json_object();
	if (irs && !json_is_object(irs))
		return -1;
	json_object_foreach(irs, k, v) if (ask_ide(p, k, v) != 0) return -1;
	if (r->timer == NULL)
		r->timer = loop_timer_new(p->up->loop, on_round_timer, p);
	if (p->idle)
		loop_timer_stop(p->idle);
	/* Without questions the server asks for a plain retry. */
	loop_timer_arm(
	    r->timer, json_object_size(r->want) ? ERA_INPUT_WAIT_MS : 100);
	return 0;
}

/* The IDE answered one of the questions. */
void
up_ide_answer(struct upstream *u, json_t *msg)
{
	struct modern *m = u->mod;
	const char *id = json_string_value(json_object_get(msg, "id"));
	json_t *ref = id ? json_object_get(m->inreq, id) : NULL;
	json_t *res = json_object_get(msg, "result");
	struct post *p;
	const char *key;
	char why[256];

	if (ref == NULL) {
		log_warn(
		    "IDE answered a question that is not pending; dropped");
		return;
	}
	p = idmap_get(u->pending, json_integer_value(json_array_get(ref, 0)));
	key = json_string_value(json_array_get(ref, 1));
	if (p == NULL || p->mrtr == NULL || p->mrtr->want == NULL ||
	    json_object_get(p->mrtr->want, key) == NULL) {
		json_object_del(m->inreq, id);
		return; /* the request was cancelled or failed meanwhile */
	}
	if (!json_is_object(res)) {
		const char *em = json_string_value(
		    json_object_get(json_object_get(msg, "error"), "message"));

		str_fmt(why, sizeof(why),
		    "the IDE could not answer the hosted server's question: %s",
		    em ? em : "error");
		json_object_del(m->inreq, id);
		up_post_fail(p, RPC_INTERNAL_ERROR, why);
		return;
	}
	json_object_set(p->mrtr->in, key, res);
	json_object_del(p->mrtr->want, key);
	json_object_del(m->inreq, id);
	if (json_object_size(p->mrtr->want) == 0)
		loop_timer_arm(p->mrtr->timer, 0);
}

/* -- server -> IDE -------------------------------------------------- */

static void
cache_put(struct upstream *u, struct post *q, json_t *res)
{
	json_t *ttl = json_object_get(res, "ttlMs");
	json_int_t ms = json_is_integer(ttl) ? json_integer_value(ttl) : 0;
	char key[320];

	if (ms <= 0 || q->mrtr->rounds > 0)
		return;
	if (json_object_size(u->mod->cache) >= ERA_CACHE_MAX)
		json_object_clear(u->mod->cache);
	if (ms > ERA_CACHE_MAX_MS)
		ms = ERA_CACHE_MAX_MS;
	up_cache_key(q->mrtr->req, q->mrtr->method, key, sizeof(key));
	json_object_set_new(u->mod->cache, key,
	    json_pack("[I,O]", (json_int_t)(loop_now_ms() + ms), res));
}

/* Remembers the header parameters of every listed tool. */
static void
note_tools(struct upstream *u, json_t *res)
{
	json_t *tools = json_object_get(res, "tools"), *t, *hs;
	size_t i;

	json_array_foreach(tools, i, t)
	{
		const char *n = json_string_value(json_object_get(t, "name"));

		if (n && (hs = era_tool_headers(t)) != NULL)
			json_object_set_new(u->mod->tools, n, hs);
	}
}

static void
warn_dropped(struct upstream *u, json_t *dropped)
{
	size_t i;
	json_t *v;

	json_array_foreach(dropped, i, v)
	{
		const char *n = json_string_value(v);

		if (n == NULL || json_object_get(u->mod->warned, n))
			continue;
		json_object_set_new(u->mod->warned, n, json_true());
		log_warn("hosted tool '%.80s' left out: invalid x-mcp-header "
		         "annotation",
		    n);
	}
}

static void
complete_result(struct upstream *u, struct post *q, json_t *res)
{
	json_t *dropped = json_array();

	if (era_is_list(q->mrtr->method))
		cache_put(u, q, res);
	era_legacy_result(res, q->mrtr->method, dropped);
	warn_dropped(u, dropped);
	json_decref(dropped);
	if (strcmp(q->mrtr->method, "tools/list") == 0)
		note_tools(u, res);
}

static void
map_error(struct post *q, json_t *err)
{
	json_t *c = json_object_get(err, "code");

	/* Resource not found: -32602 in 2026-07-28, -32002 before. */
	if (strcmp(q->mrtr->method, "resources/read") == 0 &&
	    json_integer_value(c) == RPC_INVALID_PARAMS)
		json_object_set_new(err, "code", json_integer(-32002));
}

/*
 * -32022 naming 2026-07-28 among the supported versions: the server
 * changed its mind (or rejects a first try on purpose); one retry.
 */
static int
retry_version(struct post *q, json_t *err)
{
	json_t *sv = json_pack("{s:O*}", "supportedVersions",
	    json_object_get(json_object_get(err, "data"), "supported"));
	int ok = era_supports_modern(sv);

	json_decref(sv);
	if (json_integer_value(json_object_get(err, "code")) !=
	        ERA_UNSUPPORTED_VERSION ||
	    q->mrtr->retried || !ok)
		return 0;
	q->mrtr->retried = 1;
	log_info("hosted server refused MCP %s once; asking again", ERA_MODERN);
	up_retry_soon(q);
	return 1;
}

/* -32020: the tool's x-mcp-header set changed; list again, retry once. */
static int
refresh_tools(struct post *q, json_t *err)
{
	struct upstream *u = q->up;
	json_t *req;
	struct post *p;
	int64_t id;

	if (json_integer_value(json_object_get(err, "code")) !=
	        ERA_HEADER_MISMATCH ||
	    strcmp(q->mrtr->method, "tools/call") != 0 || q->mrtr->retried)
		return 0;
	q->mrtr->retried = 1;
	id = upstream_next_id(u);
	req = json_pack("{s:s,s:I,s:s,s:{}}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", "tools/list", "params");
	if (req == NULL || era_put_meta(req, u->mod->meta, NULL) != 0 ||
	    (p = up_modern_post(u, req, id, UPSTREAM_REQUEST, NULL)) == NULL) {
		json_decref(req);
		return 0;
	}
	log_info("hosted server says a header does not match (-32020); "
	         "listing its tools again");
	p->internal = 1;
	p->mrtr = up_mrtr_new(req, "tools/list");
	p->mrtr->waiter = q->id;
	if (q->idle)
		loop_timer_stop(q->idle);
	up_post_start(p);
	return 1;
}

/* A refreshed tools/list arrived: the call waiting for it goes again. */
static void
refreshed(struct post *q)
{
	struct post *w = idmap_get(q->up->pending, q->mrtr->waiter);

	if (w && w->mrtr && !w->dead)
		up_retry_soon(w);
}

/* The probe's answer: the era, and the IDE's InitializeResult. */
static int
probe_answer(struct post *q, json_t *j, char **out)
{
	struct upstream *u = q->up;
	json_t *res = json_object_get(j, "result");
	json_t *err = json_object_get(j, "error"), *ir;

	if (json_is_object(err) && retry_version(q, err))
		return UPM_ROUND;
	if (json_is_object(err) && era_modern_error(err)) {
		u->era = UP_ERA_MODERN;
		json_object_set_new(j, "id", json_integer(q->id));
		*out = json_dumps(j, JSON_COMPACT);
		return UPM_DELIVER;
	}
	if (!json_is_object(res) || !era_supports_modern(res))
		return UPM_LEGACY;
	u->era = UP_ERA_MODERN;
	up_era_remember(u->url, UP_ERA_MODERN);
	json_decref(u->mod->caps);
	u->mod->caps = json_incref(json_object_get(res, "capabilities"));
	ir = json_pack("{s:s,s:I,s:o}", "jsonrpc", "2.0", "id",
	    (json_int_t)q->id, "result",
	    era_init_result(res, u->mod->ide_version));
	*out = ir ? json_dumps(ir, JSON_COMPACT) : NULL;
	json_decref(ir);
	log_info("hosted server speaks MCP %s", ERA_MODERN);
	return UPM_DELIVER;
}

int
up_modern_answer(
    struct post *q, const char *js, size_t len, char **out, size_t *outlen)
{
	json_error_t e;
	json_t *j = json_loadb(js, len, 0, &e), *res, *err;
	const char *rt;
	int rc = UPM_DELIVER;

	*out = NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return UPM_DROP;
	}
	if (q->probe) {
		rc = probe_answer(q, j, out);
		goto out;
	}
	res = json_object_get(j, "result");
	err = json_object_get(j, "error");
	rt = json_string_value(json_object_get(res, "resultType"));
	if (rt && strcmp(rt, "input_required") == 0) {
		rc = UPM_ROUND; /* q waits, or has failed */
		if (start_round(q, res) != 0)
			up_post_fail(q, RPC_UPSTREAM_ERROR,
			    "hosted server asked for input the bridge cannot "
			    "relay");
		goto out;
	}
	if (json_is_object(err) &&
	    (retry_version(q, err) || refresh_tools(q, err))) {
		rc = UPM_ROUND;
		goto out;
	}
	if (json_is_object(res))
		complete_result(q->up, q, res);
	else if (json_is_object(err))
		map_error(q, err);
	if (q->internal) { /* the bridge's own tools/list */
		if (q->mrtr->waiter)
			refreshed(q);
		rc = UPM_DONE;
		goto out;
	}
	json_object_set_new(j, "id", json_integer(q->id));
	*out = json_dumps(j, JSON_COMPACT);
out:
	json_decref(j);
	if (*out)
		*outlen = strlen(*out);
	else if (rc == UPM_DELIVER)
		rc = UPM_DROP;
	if (rc == UPM_DELIVER && q->probe)
		snprintf(q->up->version, sizeof(q->up->version), "%s",
		    era_legacy_ok(q->up->mod->ide_version)
		        ? q->up->mod->ide_version
		        : ERA_LEGACY_LATEST);
	return rc;
}

/* Notifications on a request's stream go to the IDE as they are. */
void
up_modern_message(struct post *p, const char *js, size_t len, struct rpc *msg)
{
	if (rpc_kind(msg) == RPC_REQUEST) {
		log_warn("hosted server (2026-07-28) sent a request on a "
		         "stream; dropped");
		return;
	}
	p->up->cbs.on_message(p->up->arg, js, len, msg);
}

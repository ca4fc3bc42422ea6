/* SPDX-License-Identifier: ISC */
/*
 * upstream_modern: the upstream in front of a 2026-07-28 ("modern")
 * server, for a legacy IDE behind the router.
 *
 * The IDE's initialize is sent as server/discover first (the probe). A
 * DiscoverResult naming 2026-07-28 makes the upstream modern and is
 * answered to the IDE as an InitializeResult; anything else but a
 * modern error sends the IDE's initialize itself (a legacy server, and
 * from there HTTP+SSE if the POST is refused). The era is remembered
 * per origin for the process, and forgotten when a probe fails.
 *
 * Modern mode: every request gets the `_meta` built from the IDE's
 * initialize (version, capabilities, clientInfo, the log level set by
 * the IDE) and the Mcp-Method / Mcp-Name / Mcp-Param-* headers; ping,
 * logging/setLevel and resources/(un)subscribe are answered here. An
 * input_required result becomes real elicitation/create,
 * sampling/createMessage or roots/list requests to the IDE; their
 * answers go back in `inputResponses` with the exact `requestState` in
 * a retry with a new id, round after round (ERA_MAX_ROUNDS). List
 * results are kept for their ttlMs. subscriptions/listen streams carry
 * list_changed and resource updates; a lost stream is reopened and
 * followed by a list_changed, as events may have been missed.
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

/* -- era per origin ------------------------------------------------- */

static struct {
	char origin[256];
	enum up_era era;
} eras[ERA_ORIGINS];

static void
origin_of(const char *url, char *out, size_t sz)
{
	const char *p = strstr(url, "://");
	size_t n = p ? (size_t)(strcspn(p + 3, "/?#") + (size_t)(p + 3 - url))
	             : strlen(url);

	snprintf(out, sz, "%.*s", (int)n, url);
}

static enum up_era
era_cached(const char *url)
{
	char o[256];

	origin_of(url, o, sizeof(o));
	for (size_t i = 0; i < ERA_ORIGINS; i++)
		if (strcmp(eras[i].origin, o) == 0)
			return eras[i].era;
	return UP_ERA_UNKNOWN;
}

void
up_era_remember(const char *url, enum up_era e)
{
	char o[256];
	size_t i, free_slot = ERA_ORIGINS;

	origin_of(url, o, sizeof(o));
	for (i = 0; i < ERA_ORIGINS; i++) {
		if (strcmp(eras[i].origin, o) == 0)
			break;
		if (eras[i].origin[0] == '\0' && free_slot == ERA_ORIGINS)
			free_slot = i;
	}
	if (i == ERA_ORIGINS)
		i = free_slot == ERA_ORIGINS ? 0 : free_slot;
	snprintf(eras[i].origin, sizeof(eras[i].origin), "%s", o);
	eras[i].era = e;
}

/* The initialize failed: ask again next time. */
void
up_modern_forget(struct upstream *u)
{
	if (u->era == UP_ERA_LEGACY && !u->legacy) {
		up_era_remember(u->url, UP_ERA_UNKNOWN);
		u->era = UP_ERA_UNKNOWN;
	}
}

/* -- state ---------------------------------------------------------- */

static void flush_local(void *arg);

static struct modern *
mod_get(struct upstream *u)
{
	struct modern *m = u->mod;

	if (m)
		return m;
	m = x_calloc(1, sizeof(*m));
	m->tools = json_object();
	m->warned = json_object();
	m->cache = json_object();
	m->inreq = json_object();
	m->subs = json_object();
	m->local = json_array();
	m->flush = loop_timer_new(u->loop, flush_local, u);
	m->held_tail = &m->held;
	u->mod = m;
	return m;
}

static void
drop_held(struct modern *m)
{
	for (struct held *h = m->held, *n; h; h = n) {
		n = h->next;
		free(h->msg);
		free(h);
	}
	m->held = NULL;
	m->held_tail = &m->held;
}

void
up_modern_free(struct upstream *u)
{
	struct modern *m = u->mod;

	if (m == NULL)
		return;
	json_decref(m->meta);
	json_decref(m->caps);
	json_decref(m->tools);
	json_decref(m->warned);
	json_decref(m->cache);
	json_decref(m->inreq);
	json_decref(m->subs);
	json_decref(m->local);
	loop_timer_del(m->flush);
	loop_timer_del(m->relisten);
	drop_held(m);
	free(m->level);
	free(m);
	u->mod = NULL;
}

void
up_modern_retire(struct post *p)
{
	if (p->mrtr && p->mrtr->timer)
		loop_timer_stop(p->mrtr->timer);
	if (p->wire >= 0 && idmap_get(p->up->pending, p->wire) == p)
		idmap_del(p->up->pending, p->wire);
	if (p->up->mod && p->up->mod->listen == p)
		p->up->mod->listen = NULL;
}

void
up_modern_destroy(struct post *p)
{
	struct mrtr *r = p->mrtr;

	free(p->xhdr);
	if (r == NULL)
		return;
	json_decref(r->req);
	json_decref(r->in);
	json_decref(r->want);
	json_decref(r->state);
	loop_timer_del(r->timer);
	free(r->method);
	free(r);
	p->mrtr = NULL;
}

/* -- answers made here ---------------------------------------------- */

static void
flush_local(void *arg)
{
	struct upstream *u = arg;
	json_t *q = u->mod->local;
	size_t i;
	json_t *v;

	u->mod->local = json_array();
	json_array_foreach(q, i, v)
	{
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		if (rpc_parse(u->rpc, s, n) == 0)
			u->cbs.on_message(u->arg, s, n, u->rpc);
	}
	json_decref(q);
}

/* Queues a message for the owner; steals `msg`. */
void
up_local_send(struct upstream *u, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (s == NULL)
		return;
	json_array_append_new(u->mod->local, json_string(s));
	free(s);
	loop_timer_arm(u->mod->flush, 0);
}

void
up_local_result(struct upstream *u, int64_t id, json_t *result)
{
	up_local_send(u,
	    json_pack("{s:s,s:I,s:o}", "jsonrpc", "2.0", "id", (json_int_t)id,
	        "result", result));
}

void
up_local_error(struct upstream *u, int64_t id, int code, const char *why)
{
	up_local_send(u,
	    json_pack("{s:s,s:I,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
	        (json_int_t)id, "error", "code", code, "message", why));
}

/* -- posting -------------------------------------------------------- */

/* "A\nB\n..." from an array of header lines, with the version. */
char *
up_header_block(const json_t *lines)
{
	size_t i, n = sizeof("MCP-Protocol-Version: " ERA_MODERN);
	json_t *v;
	char *out;

	json_array_foreach((json_t *)lines, i, v) n +=
	    json_string_length(v) + 1;
	out = x_malloc(n);
	n = (size_t)snprintf(out, n, "MCP-Protocol-Version: %s", ERA_MODERN);
	json_array_foreach((json_t *)lines, i, v)
	{
		out[n++] = '\n';
		memcpy(out + n, json_string_value(v), json_string_length(v));
		n += json_string_length(v);
	}
	out[n] = '\0';
	return out;
}

/* A new post for `msg` (borrowed) with its Mcp-* headers, or NULL. */
struct post *
up_modern_post(struct upstream *u, json_t *msg, int64_t id,
    enum upstream_kind kind, const json_t *paths)
{
	json_t *lines = era_request_headers(msg, paths);
	char *body;
	struct post *p;

	if (lines == NULL)
		return NULL;
	body = json_dumps(msg, JSON_COMPACT);
	if (body == NULL) {
		json_decref(lines);
		return NULL;
	}
	p = up_post_new(u, body, strlen(body), id, kind);
	p->wire = -1;
	p->xhdr = up_header_block(lines);
	json_decref(lines);
	return p;
}

static void
start_probe(struct upstream *u, int64_t id)
{
	struct modern *m = mod_get(u);
	json_error_t e;
	json_t *init = json_loadb(u->init_body, u->init_len, 0, &e);
	json_t *params = json_object_get(init, "params"), *req;
	const char *v =
	    json_string_value(json_object_get(params, "protocolVersion"));
	struct post *p;

	json_decref(m->meta);
	m->meta = era_meta_from_init(params);
	snprintf(m->ide_version, sizeof(m->ide_version), "%s", v ? v : "");
	req = era_discover_request(id, m->meta);
	json_decref(init);
	if (m->meta == NULL || req == NULL ||
	    (p = up_modern_post(u, req, id, UPSTREAM_INITIALIZE, NULL)) ==
	        NULL) {
		json_decref(req);
		up_modern_legacy_init(u, id);
		return;
	}
	p->mrtr = up_mrtr_new(req, "server/discover");
	p->probe = 1;
	u->era = UP_ERA_PROBING;
	log_debug("asking the hosted server for its era (server/discover)");
	up_post_start(p);
}

/* Sends what the IDE sent while the era was unknown. */
static void
replay_held(struct upstream *u)
{
	struct modern *m = u->mod;
	struct held *h;

	if (m == NULL)
		return;
	h = m->held;
	m->held = NULL;
	m->held_tail = &m->held;
	while (h) {
		struct held *n = h->next;

		upstream_send(u, h->msg, h->len, h->id, h->kind);
		free(h);
		h = n;
	}
}

void
up_modern_legacy_init(struct upstream *u, int64_t id)
{
	struct post *p;

	u->era = UP_ERA_LEGACY;
	up_era_remember(u->url, UP_ERA_LEGACY);
	log_info("hosted server speaks a legacy MCP revision (initialize)");
	p = up_post_new(u, x_memdup(u->init_body, u->init_len), u->init_len, id,
	    UPSTREAM_INITIALIZE);
	up_post_start(p);
	replay_held(u);
}

int
up_modern_probe_failed(struct post *p, const char *why)
{
	struct upstream *u = p->up;
	int64_t id = p->id;

	if (!p->probe || p->answered || u->closing)
		return 0;
	log_debug("server/discover failed (%s); trying initialize", why);
	p->answered = 1;
	up_post_free(p);
	up_modern_legacy_init(u, id);
	return 1;
}

/* -- IDE -> server -------------------------------------------------- */

struct mrtr *
up_mrtr_new(json_t *req, const char *method)
{
	struct mrtr *r = x_calloc(1, sizeof(*r));

	r->req = req;
	r->method = x_strdup(method);
	return r;
}

/* "method\x1fcursor" for the list cache. */
void
up_cache_key(const json_t *msg, const char *method, char *out, size_t sz)
{
	const char *c = json_string_value(
	    json_object_get(json_object_get(msg, "params"), "cursor"));

	snprintf(out, sz, "%s\x1f%.200s", method, c ? c : "");
}

static int
cache_answer(
    struct upstream *u, const json_t *msg, const char *method, int64_t id)
{
	char key[320];
	json_t *e;

	up_cache_key(msg, method, key, sizeof(key));
	e = json_object_get(u->mod->cache, key);
	if (e == NULL)
		return 0;
	if (json_integer_value(json_array_get(e, 0)) < loop_now_ms()) {
		json_object_del(u->mod->cache, key);
		return 0;
	}
	up_local_result(u, id, json_deep_copy(json_array_get(e, 1)));
	return 1;
}

/* Requests the bridge answers itself; 1 if `method` was one. */
static int
local_request(
    struct upstream *u, const json_t *msg, const char *method, int64_t id)
{
	struct modern *m = u->mod;
	json_t *params = json_object_get(msg, "params");
	const char *s;

	if (strcmp(method, "ping") == 0) {
		up_local_result(u, id, json_object());
		return 1;
	}
	if (strcmp(method, "logging/setLevel") == 0) {
		s = json_string_value(json_object_get(params, "level"));
		if (s == NULL) {
			up_local_error(
			    u, id, RPC_INVALID_PARAMS, "level required");
			return 1;
		}
		free(m->level);
		m->level = x_strdup(s);
		up_local_result(u, id, json_object());
		return 1;
	}
	if (strcmp(method, "resources/subscribe") != 0 &&
	    strcmp(method, "resources/unsubscribe") != 0)
		return era_is_list(method) && cache_answer(u, msg, method, id);
	if ((s = json_string_value(json_object_get(params, "uri"))) == NULL) {
		up_local_error(u, id, RPC_INVALID_PARAMS, "uri required");
		return 1;
	}
	if (method[10] == 's')
		json_object_set_new(m->subs, s, json_true());
	else
		json_object_del(m->subs, s);
	up_local_result(u, id, json_object());
	up_start_listen(u);
	return 1;
}

static void
send_request(struct upstream *u, json_t *msg, int64_t id)
{
	struct modern *m = u->mod;
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *name = json_string_value(
	    json_object_get(json_object_get(msg, "params"), "name"));
	const json_t *paths = NULL;
	struct post *p;

	if (method == NULL) {
		up_local_error(u, id, RPC_INVALID_REQUEST, "no method");
		json_decref(msg);
		return;
	}
	if (local_request(u, msg, method, id)) {
		json_decref(msg);
		return;
	}
	if (era_put_meta(msg, m->meta, m->level) != 0) {
		up_local_error(
		    u, id, RPC_INVALID_PARAMS, "params must be an object");
		json_decref(msg);
		return;
	}
	if (strcmp(method, "tools/call") == 0 && name)
		paths = json_object_get(m->tools, name);
	if ((p = up_modern_post(u, msg, id, UPSTREAM_REQUEST, paths)) == NULL) {
		up_local_error(u, id, RPC_INVALID_PARAMS,
		    "an argument is too long for its HTTP header");
		json_decref(msg);
		return;
	}
	p->mrtr = up_mrtr_new(msg, method);
	up_post_start(p);
}

static void
modern_send(
    struct upstream *u, json_t *msg, int64_t id, enum upstream_kind kind)
{
	switch (kind) {
	case UPSTREAM_REQUEST:
		send_request(u, msg, id);
		return;
	case UPSTREAM_RESPONSE:
		up_ide_answer(u, msg);
		break;
	case UPSTREAM_INITIALIZED:
		up_start_listen(u);
		break;
	default:
		/*
		 * Notifications: a modern server takes none over HTTP.
		 * cancelled becomes closing the stream (upstream_cancel);
		 * roots/list_changed has no modern equivalent.
		 */
		break;
	}
	json_decref(msg);
}

int
up_modern_send(struct upstream *u, char *msg, size_t len, int64_t id,
    enum upstream_kind kind)
{
	json_error_t e;
	json_t *j;

	if (u->legacy || u->era == UP_ERA_LEGACY)
		return 0;
	if (kind == UPSTREAM_INITIALIZE) {
		if (era_cached(u->url) == UP_ERA_LEGACY) {
			u->era = UP_ERA_LEGACY;
			return 0;
		}
		free(msg); /* upstream_send kept the body in init_body */
		start_probe(u, id);
		return 1;
	}
	if (u->era == UP_ERA_UNKNOWN)
		return 0;
	if (u->era != UP_ERA_MODERN) {
		struct modern *m = mod_get(u);
		struct held *h = x_calloc(1, sizeof(*h));

		*h = (struct held){ msg, len, id, kind, NULL };
		*m->held_tail = h;
		m->held_tail = &h->next;
		return 1;
	}
	j = json_loadb(msg, len, 0, &e);
	free(msg);
	if (j == NULL) {
		if (id >= 0)
			up_local_error(u, id, RPC_PARSE_ERROR, "not JSON");
		return 1;
	}
	modern_send(u, j, id, kind);
	return 1;
}

void
up_modern_released(struct upstream *u)
{
	replay_held(u);
}

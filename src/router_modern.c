/* SPDX-License-Identifier: ISC */
/*
 * router_modern: the bridge as a 2026-07-28 ("modern") stdio server for
 * an IDE that sends server/discover or requests carrying
 * `_meta["io.modelcontextprotocol/protocolVersion"]`.
 *
 * The hosted side stays a legacy session (whatever era the server
 * speaks: the upstream translates again for a modern server). The first
 * modern message opens it with an initialize built from the IDE's
 * `_meta` (capabilities, clientInfo); server/discover is answered from
 * the InitializeResult. Each request loses its io.modelcontextprotocol/
 * `_meta` (a new log level becomes logging/setLevel) and goes through
 * the relay; each result gets resultType (and ttlMs/cacheScope where
 * the spec wants them). A server->client request (elicitation,
 * sampling, roots) during a request becomes an input_required result
 * with a requestState held here; the IDE's retry carries the answers,
 * which go to the server, and the request goes on under the retry's id.
 * subscriptions/listen is served from the session's list_changed and
 * resources/updated (resources/subscribe upstream per URI). An IDE that
 * sends initialize after discover (some do) is served as legacy from
 * then on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "era.h"
#include "log.h"
#include "router_int.h"
#include "xmem.h"

/* -- plumbing ------------------------------------------------------- */

void
rm_send_json(struct router *r, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (s)
		r->cbs.send(r->arg, s, strlen(s));
	free(s);
}

/* Feeds a legacy message to the relay as if the IDE had sent it. */
void
rm_feed(struct router *r, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (s)
		rt_handle(r, s, strlen(s));
	free(s);
}

char *
rm_id_text(const json_t *id)
{
	return json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
}

void
rm_reply_error(
    struct router *r, const json_t *id, int code, const char *why, json_t *data)
{
	json_t *e = json_pack("{s:i,s:s}", "code", code, "message", why);

	if (data)
		json_object_set_new(e, "data", data);
	rm_send_json(r,
	    json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "error", e));
}

void
rm_reply_result(struct router *r, const json_t *id, json_t *res)
{
	rm_send_json(r,
	    json_pack(
	        "{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", res));
}

static struct rmod *
rm_get(struct router *r)
{
	struct rmod *m = r->rm;

	if (m)
		return m;
	m = x_calloc(1, sizeof(*m));
	m->waiting = json_array();
	m->held = json_array();
	m->ids = json_object();
	m->listens = json_object();
	r->rm = m;
	log_info("IDE speaks MCP %s", ERA_MODERN);
	return m;
}

void
rm_hold_free(struct rmhold *h)
{
	free(h->ide_id);
	free(h->method);
	json_decref(h->asks);
	json_decref(h->queued);
	json_decref(h->final);
	loop_timer_del(h->timer);
	free(h);
}

void
rm_hold_unlink(struct router *r, struct rmhold *h)
{
	for (struct rmhold **pp = &r->rm->holds; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			return;
		}
}

void
rm_free(struct router *r)
{
	struct rmod *m = r->rm;

	if (m == NULL)
		return;
	while (m->holds) {
		struct rmhold *h = m->holds;

		m->holds = h->next;
		rm_hold_free(h);
	}
	json_decref(m->init);
	json_decref(m->waiting);
	json_decref(m->held);
	json_decref(m->ids);
	json_decref(m->listens);
	free(m->level);
	free(m);
	r->rm = NULL;
}

/* -- the hosted session --------------------------------------------- */

static void
start_session(struct router *r, const json_t *meta)
{
	struct rmod *m = r->rm;

	if (m->starting || m->init)
		return;
	m->starting = 1;
	rm_feed(r,
	    json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id", RM_INIT_ID,
	        "method", "initialize", "params",
	        era_init_from_meta(meta, ERA_LEGACY_LATEST)));
}

static json_t *
discover_result(struct rmod *m)
{
	json_t *dr = era_discover_result(m->init);

	return dr ? dr : json_object();
}

static int rm_request(struct router *r, json_t *j);

/* The session's initialize came back. */
static void
session_ready(struct router *r, json_t *msg)
{
	struct rmod *m = r->rm;
	json_t *res = json_object_get(msg, "result"), *held, *v;
	const char *why = json_string_value(
	    json_object_get(json_object_get(msg, "error"), "message"));
	size_t i;

	m->starting = 0;
	held = m->held;
	m->held = json_array();
	if (json_is_object(res)) {
		m->init = json_incref(res);
		rm_feed(r,
		    json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method",
		        "notifications/initialized"));
	}
	json_array_foreach(m->waiting, i, v)
	{
		if (m->init)
			rm_reply_result(r, v, discover_result(m));
		else
			rm_reply_error(r, v, RPC_UPSTREAM_ERROR,
			    why ? why : "hosted server refused the session",
			    NULL);
	}
	json_array_clear(m->waiting);
	json_array_foreach(held, i, v)
	{
		if (m->init)
			rm_request(r, json_incref(v));
		else
			rm_reply_error(r, json_object_get(v, "id"),
			    RPC_UPSTREAM_ERROR,
			    why ? why : "hosted server refused the session",
			    NULL);
	}
	json_decref(held);
}

/* A new log level in a request's _meta becomes logging/setLevel. */
static void
carry_level(struct router *r, const json_t *meta)
{
	struct rmod *m = r->rm;
	const char *l =
	    json_string_value(json_object_get(meta, ERA_META_LOGLEVEL));
	char id[48];

	if (l == NULL || (m->level && strcmp(m->level, l) == 0))
		return;
	free(m->level);
	m->level = x_strdup(l);
	snprintf(id, sizeof(id), "mcp-bridge:level:%lld", (long long)++m->next);
	rm_feed(r,
	    json_pack("{s:s,s:s,s:s,s:{s:s}}", "jsonrpc", "2.0", "id", id,
	        "method", "logging/setLevel", "params", "level", l));
}

/* -- results -------------------------------------------------------- */

/* A response to a modern request, made modern; steals j. */
void
rm_out_response(struct router *r, json_t *j)
{
	char *text = rm_id_text(json_object_get(j, "id"));
	const char *method =
	    text ? json_string_value(json_object_get(r->rm->ids, text)) : NULL;
	json_t *res = json_object_get(j, "result");
	json_t *err = json_object_get(j, "error");

	if (json_is_object(res))
		era_modern_result(res, method);
	/* Resource not found: -32002 before 2026-07-28, -32602 now. */
	if (json_is_object(err) && method &&
	    strcmp(method, "resources/read") == 0 &&
	    json_integer_value(json_object_get(err, "code")) == -32002)
		json_object_set_new(
		    err, "code", json_integer(RPC_INVALID_PARAMS));
	if (text)
		json_object_del(r->rm->ids, text);
	free(text);
	rm_send_json(r, j);
}

/* -- IDE -> bridge -------------------------------------------------- */

/* A modern request (steals j); 1 always: it is answered or relayed. */
static int
rm_request(struct router *r, json_t *j)
{
	struct rmod *m = r->rm;
	json_t *id = json_object_get(j, "id");
	json_t *params = json_object_get(j, "params"), *meta;
	const char *method = json_string_value(json_object_get(j, "method"));
	const char *state =
	    json_string_value(json_object_get(params, "requestState"));
	struct rmhold *h;
	char *text;

	if (m->init == NULL) { /* the session comes first */
		json_array_append(m->held, j);
		start_session(r, json_object_get(params, "_meta"));
		json_decref(j);
		return 1;
	}
	if (strcmp(method, "subscriptions/listen") == 0)
		rm_listen_start(r, j);
	else if (state && strncmp(state, RM_STATE, strlen(RM_STATE)) == 0) {
		if ((h = rm_hold_by_state(r, state)) == NULL)
			rm_reply_error(r, id, RPC_INVALID_PARAMS,
			    "requestState is unknown or expired", NULL);
		else
			rm_retry(r, j, h);
	} else {
		meta = era_take_meta(j);
		carry_level(r, meta);
		json_decref(meta);
		text = rm_id_text(id);
		if (text)
			json_object_set_new(m->ids, text, json_string(method));
		free(text);
		rm_feed(r, json_incref(j));
	}
	json_decref(j);
	return 1;
}

/* The version in a request's _meta: NULL if absent. */
static const char *
meta_version(const json_t *j)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(j, "params"), "_meta"),
	    ERA_META_VERSION));
}

/* initialize from an IDE that already discovered: legacy from now on. */
static int
late_initialize(struct router *r, json_t *j)
{
	struct rmod *m = r->rm;
	const char *v = json_string_value(
	    json_object_get(json_object_get(j, "params"), "protocolVersion"));
	json_t *res;

	m->legacy = 1;
	if (m->init == NULL)
		return 0; /* relayed as any initialize */
	res = json_deep_copy(m->init);
	json_object_set_new(res, "protocolVersion",
	    json_string(era_legacy_ok(v) ? v : ERA_LEGACY_LATEST));
	rm_reply_result(r, json_object_get(j, "id"), res);
	return 1;
}

static int
request(struct router *r, json_t *j)
{
	struct rmod *m = r->rm;
	const char *method = json_string_value(json_object_get(j, "method"));
	const char *v = meta_version(j);
	json_t *id = json_object_get(j, "id");

	if (strcmp(method, "initialize") == 0)
		return late_initialize(r, j);
	if (v == NULL && strcmp(method, "server/discover") != 0)
		return m->legacy
		    ? 0
		    : (rm_reply_error(r, id, RPC_INVALID_PARAMS,
		           "params._meta needs " ERA_META_VERSION, NULL),
		          1);
	if (v && strcmp(v, ERA_MODERN) != 0) {
		rm_reply_error(r, id, ERA_UNSUPPORTED_VERSION,
		    "unsupported protocol version",
		    json_pack("{s:[s],s:s}", "supported", ERA_MODERN,
		        "requested", v));
		return 1;
	}
	if (strcmp(method, "server/discover") != 0)
		return rm_request(r, json_incref(j));
	if (m->init)
		rm_reply_result(r, id, discover_result(m));
	else {
		json_array_append(m->waiting, id);
		start_session(
		    r, json_object_get(json_object_get(j, "params"), "_meta"));
	}
	return 1;
}

static int
notification(struct router *r, json_t *j)
{
	const char *method = json_string_value(json_object_get(j, "method"));
	json_t *rid =
	    json_object_get(json_object_get(j, "params"), "requestId");
	char *text;
	json_t *meta;

	if (r->rm->legacy)
		return 0;
	if (strcmp(method, "notifications/cancelled") == 0 && rid &&
	    (text = rm_id_text(rid)) != NULL) {
		int was = json_object_get(r->rm->listens, text) != NULL;

		json_object_del(r->rm->listens, text);
		json_object_del(r->rm->ids, text);
		free(text);
		if (was)
			return 1;
	}
	meta = era_take_meta(j);
	json_decref(meta);
	rm_feed(r, json_incref(j));
	return 1;
}

static int
has(const char *js, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (js[i] == needle[0] && memcmp(js + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Cheap look before parsing: legacy traffic never pays for jansson. */
static int
looks_modern(const char *js, size_t len)
{
	return has(js, len, "server/discover") ||
	    has(js, len, ERA_META_VERSION);
}

int
rm_input(struct router *r, const char *js, size_t len)
{
	json_error_t e;
	json_t *j;
	int rc = 0;

	if (r->rm == NULL && !looks_modern(js, len))
		return 0;
	if ((j = json_loadb(js, len, 0, &e)) == NULL || !json_is_object(j) ||
	    !json_is_string(json_object_get(j, "method"))) {
		json_decref(j);
		return 0; /* responses, batches, bad input: the relay's */
	}
	if (r->rm == NULL) {
		if (!json_object_get(j, "id") ||
		    (meta_version(j) == NULL &&
		        strcmp(json_string_value(json_object_get(j, "method")),
		            "server/discover") != 0)) {
			json_decref(j);
			return 0;
		}
		rm_get(r);
	}
	if (json_object_get(j, "id"))
		rc = request(r, j);
	else
		rc = notification(r, j);
	json_decref(j);
	return rc;
}

/* -- bridge -> IDE -------------------------------------------------- */

static int
response(struct router *r, json_t *j)
{
	const char *sid = json_string_value(json_object_get(j, "id"));
	struct rmhold *h;
	char *text;

	if (sid && strncmp(sid, "mcp-bridge:", 11) == 0) {
		if (strcmp(sid, RM_INIT_ID) == 0)
			session_ready(r, j);
		json_decref(j);
		return 1; /* the bridge's own requests */
	}
	if (r->rm->legacy) {
		json_decref(j);
		return 0;
	}
	text = rm_id_text(json_object_get(j, "id"));
	h = text ? rm_hold_by_ide(r, text) : NULL;
	free(text);
	if (h && json_object_size(h->asks) > 0) {
		json_decref(h->final);
		h->final = j; /* sent when the IDE retries */
		return 1;
	}
	rm_out_response(r, j);
	return 1;
}

int
rm_output(struct router *r, const char *js, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(js, len, 0, &e);
	const char *method = json_string_value(json_object_get(j, "method"));
	int rc;

	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	if (method == NULL)
		return response(r, j);
	if (r->rm->legacy) {
		json_decref(j);
		return 0;
	}
	if (json_object_get(j, "id")) {
		rm_server_question(r, j);
		json_decref(j);
		return 1;
	}
	if (strstr(method, "list_changed") ||
	    strcmp(method, "notifications/resources/updated") == 0) {
		rm_fan_out(r, j);
		return 1;
	}
	/* Progress and log messages belong to a request: as they are. */
	rc = strcmp(method, "notifications/progress") != 0 &&
	    strcmp(method, "notifications/message") != 0;
	json_decref(j);
	return rc;
}

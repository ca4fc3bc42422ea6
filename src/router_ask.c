/* SPDX-License-Identifier: ISC */
/*
 * router_ask: for an IDE speaking 2026-07-28, the server's questions
 * (elicitation, sampling, roots: legacy server->client requests) become
 * input_required results with a requestState held here; the IDE's retry
 * carries the answers, which go to the server, and the request goes on
 * under the retry's id. A question arriving while one is out waits for
 * the retry; an IDE that never retries gets its request cancelled after
 * RM_INPUT_WAIT_MS. Also subscriptions/listen, served from the legacy
 * session's list_changed and resources/updated notifications.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "era.h"
#include "log.h"
#include "router_int.h"
#include "xmem.h"

/* -- input_required for the server's questions ---------------------- */

struct rmhold *
rm_hold_by_state(struct router *r, const char *state)
{
	for (struct rmhold *h = r->rm->holds; h; h = h->next)
		if (strcmp(h->state, state) == 0)
			return h;
	return NULL;
}

struct rmhold *
rm_hold_by_ide(struct router *r, const char *id)
{
	for (struct rmhold *h = r->rm->holds; h; h = h->next)
		if (h->ide_id && strcmp(h->ide_id, id) == 0)
			return h;
	return NULL;
}

/* Answers the server's question `bid` (a bridge id) with an error. */
static void
refuse_question(struct router *r, json_int_t bid, const char *why)
{
	rm_feed(r,
	    json_pack("{s:s,s:I,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", bid,
	        "error", "code", RPC_INTERNAL_ERROR, "message", why));
}

/* The IDE never came back: the questions fail, the request is cancelled. */
static void
on_hold_timeout(void *arg)
{
	struct rmhold *h = arg;
	struct router *r = h->r;
	json_error_t e;
	json_t *id = json_loads(h->ide_id, JSON_DECODE_ANY, &e), *v;
	const char *k;

	log_warn("IDE did not retry an input_required request; cancelled");
	json_object_foreach(h->asks, k, v)
	    refuse_question(r, json_integer_value(v), "the IDE did not answer");
	rm_hold_unlink(r, h);
	if (id)
		rm_feed(r,
		    json_pack("{s:s,s:s,s:{s:o}}", "jsonrpc", "2.0", "method",
		        "notifications/cancelled", "params", "requestId", id));
	rm_hold_free(h);
}

/* Sends input_required for the questions in h->asks to the IDE. */
static void
ask(struct router *r, struct rmhold *h, json_t *irs)
{
	json_error_t e;
	json_t *id = json_loads(h->ide_id, JSON_DECODE_ANY, &e);

	json_object_del(r->rm->ids, h->ide_id);
	if (h->timer == NULL)
		h->timer = loop_timer_new(r->loop, on_hold_timeout, h);
	loop_timer_arm(h->timer, RM_INPUT_WAIT_MS);
	rm_send_json(r,
	    json_pack("{s:s,s:o,s:{s:s,s:o,s:s}}", "jsonrpc", "2.0", "id", id,
	        "result", "resultType", "input_required", "inputRequests", irs,
	        "requestState", h->state));
}

/* The outstanding modern request a question belongs to, or NULL. */
static const char *
question_target(struct router *r)
{
	const char *k;
	json_t *v;

	json_object_foreach(r->rm->ids, k, v)
	{
		const char *m = json_string_value(v);

		if (strcmp(m, "tools/call") == 0 ||
		    strcmp(m, "prompts/get") == 0 ||
		    strcmp(m, "resources/read") == 0)
			return k;
	}
	return NULL;
}

/* A server->client request (already under a bridge id). */
void
rm_server_question(struct router *r, json_t *req)
{
	json_int_t bid = json_integer_value(json_object_get(req, "id"));
	const char *method = json_string_value(json_object_get(req, "method"));
	json_t *params = json_object_get(req, "params"), *irs;
	const char *target;
	struct rmhold *h;
	char key[32];

	snprintf(key, sizeof(key), "q%lld", (long long)bid);
	json_object_del(req, "jsonrpc");
	json_object_del(req, "id");
	for (h = r->rm->holds; h; h = h->next) /* waiting for a retry */
		if (json_array_size(h->queued) < RM_MAX_QUEUED &&
		    json_object_size(h->asks) > 0) {
			json_array_append_new(
			    h->queued, json_pack("[s,I,O]", key, bid, req));
			return;
		}
	if ((target = question_target(r)) == NULL || method == NULL) {
		refuse_question(r, bid,
		    "the IDE (MCP 2026-07-28) takes no request outside a "
		    "tool call");
		return;
	}
	h = x_calloc(1, sizeof(*h));
	h->r = r;
	snprintf(h->state, sizeof(h->state), RM_STATE "%lld",
	    (long long)++r->rm->next);
	h->ide_id = x_strdup(target);
	h->method =
	    x_strdup(json_string_value(json_object_get(r->rm->ids, target)));
	h->asks = json_pack("{s:I}", key, bid);
	h->queued = json_array();
	h->next = r->rm->holds;
	r->rm->holds = h;
	irs = json_pack(
	    "{s:{s:s,s:O*}}", key, "method", method, "params", params);
	ask(r, h, irs);
}

/* The retry of a suspended request, with the IDE's answers. */
void
rm_retry(struct router *r, json_t *j, struct rmhold *h)
{
	json_t *id = json_object_get(j, "id"), *v, *irs;
	json_t *in =
	    json_object_get(json_object_get(j, "params"), "inputResponses");
	const char *k;
	char *text = rm_id_text(id);
	struct pend *q;
	int64_t up;

	json_object_foreach(h->asks, k, v)
	{
		json_t *a = json_object_get(in, k);

		if (json_is_object(a))
			rm_feed(r,
			    json_pack("{s:s,s:O,s:O}", "jsonrpc", "2.0", "id",
			        v, "result", a));
		else
			refuse_question(r, json_integer_value(v),
			    "the IDE sent no answer to this question");
	}
	json_object_clear(h->asks);
	/* The request goes on under the retry's id. */
	up = rt_pend_find(r->pending, h->ide_id, strlen(h->ide_id));
	if (up != -1 && (q = idmap_get(r->pending, up)) != NULL) {
		free(q->id);
		q->id = x_strdup(text);
		q->idlen = strlen(text);
	}
	json_object_set_new(r->rm->ids, text, json_string(h->method));
	free(h->ide_id);
	h->ide_id = text;
	if (h->final) { /* the server answered before the retry */
		json_t *f = h->final;

		h->final = NULL;
		json_object_set(f, "id", id);
		rm_out_response(r, f);
	} else if (json_array_size(h->queued) > 0) {
		size_t i;

		irs = json_object();
		json_array_foreach(h->queued, i, v)
		{
			const char *key =
			    json_string_value(json_array_get(v, 0));

			json_object_set(irs, key, json_array_get(v, 2));
			json_object_set(h->asks, key, json_array_get(v, 1));
		}
		json_array_clear(h->queued);
		ask(r, h, irs);
		return;
	}
	rm_hold_unlink(r, h);
	rm_hold_free(h);
}

/* -- subscriptions/listen ------------------------------------------- */

static int
cap(const struct rmod *m, const char *what, const char *flag)
{
	json_t *c =
	    json_object_get(json_object_get(m->init, "capabilities"), what);

	return json_is_true(json_object_get(c, flag));
}

void
rm_listen_start(struct router *r, json_t *j)
{
	struct rmod *m = r->rm;
	json_t *id = json_object_get(j, "id");
	json_t *want =
	    json_object_get(json_object_get(j, "params"), "notifications");
	json_t *got = json_object(), *uris, *v;
	static const char *const flags[][3] = {
		{ "toolsListChanged", "tools", "listChanged" },
		{ "promptsListChanged", "prompts", "listChanged" },
		{ "resourcesListChanged", "resources", "listChanged" },
	};
	char *text = rm_id_text(id), sid[48];
	size_t i;

	if (json_object_size(m->listens) >= RM_MAX_LISTENS) {
		rm_reply_error(
		    r, id, RPC_INTERNAL_ERROR, "too many listens", NULL);
		json_decref(got);
		free(text);
		return;
	}
	for (i = 0; i < 3; i++)
		if (json_is_true(json_object_get(want, flags[i][0])) &&
		    cap(m, flags[i][1], flags[i][2]))
			json_object_set_new(got, flags[i][0], json_true());
	uris = json_object_get(want, "resourceSubscriptions");
	if (json_is_array(uris) && cap(m, "resources", "subscribe")) {
		json_object_set(got, "resourceSubscriptions", uris);
		json_array_foreach(uris, i, v)
		{
			if (!json_is_string(v))
				continue;
			snprintf(sid, sizeof(sid), "mcp-bridge:sub:%lld",
			    (long long)++m->next);
			rm_feed(r,
			    json_pack("{s:s,s:s,s:s,s:{s:O}}", "jsonrpc", "2.0",
			        "id", sid, "method", "resources/subscribe",
			        "params", "uri", v));
		}
	}
	json_object_set_new(m->listens, text, json_pack("[O,O]", id, got));
	rm_send_json(r,
	    json_pack("{s:s,s:s,s:{s:o,s:{s:O}}}", "jsonrpc", "2.0", "method",
	        "notifications/subscriptions/acknowledged", "params",
	        "notifications", got, "_meta", ERA_META_SUBID, id));
	free(text);
}

/* Does listen filter `f` want notification `method` (`uri`)? */
static int
wants(const json_t *f, const char *method, const char *uri)
{
	json_t *uris = json_object_get(f, "resourceSubscriptions"), *v;
	size_t i;

	if (strcmp(method, "notifications/tools/list_changed") == 0)
		return json_is_true(json_object_get(f, "toolsListChanged"));
	if (strcmp(method, "notifications/prompts/list_changed") == 0)
		return json_is_true(json_object_get(f, "promptsListChanged"));
	if (strcmp(method, "notifications/resources/list_changed") == 0)
		return json_is_true(json_object_get(f, "resourcesListChanged"));
	json_array_foreach(uris, i, v) if (uri && json_is_string(v) &&
	    strcmp(json_string_value(v), uri) == 0) return 1;
	return 0;
}

/* A list_changed or resources/updated to every listen that wants it. */
void
rm_fan_out(struct router *r, json_t *j)
{
	const char *method = json_string_value(json_object_get(j, "method"));
	json_t *params = json_object_get(j, "params");
	const char *uri = json_string_value(json_object_get(params, "uri"));
	const char *k;
	json_t *v, *n;

	json_object_foreach(r->rm->listens, k, v)
	{
		if (!wants(json_array_get(v, 1), method, uri))
			continue;
		n = json_deep_copy(j);
		if (!json_is_object(json_object_get(n, "params")))
			json_object_set_new(n, "params", json_object());
		era_put_meta(n, NULL, NULL);
		json_object_set(
		    json_object_get(json_object_get(n, "params"), "_meta"),
		    ERA_META_SUBID, json_array_get(v, 0));
		rm_send_json(r, n);
	}
	json_decref(j);
}

/* SPDX-License-Identifier: ISC */
/*
 * router_auth: the session in sign-in mode.
 *
 * The bridge answers `initialize` at once with its own capabilities (it
 * cannot reach a hosted server without a token) and keeps the IDE's
 * request. With a token the hosted session is opened with that request;
 * the answer is swallowed and notifications/initialized sent by the
 * bridge. Signed out, the bridge itself answers lists (its sign-in tool
 * only), surfaces the device code, and once the user has approved sends
 * list_changed so the hosted tools appear without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "router_int.h"
#include "str.h"
#include "xmem.h"

/* Protocol revisions the bridge can answer initialize with. */
static const char *const versions[] = { "2025-11-25", "2025-06-18",
	"2025-03-26", "2024-11-05" };

/* JSON-RPC code of "not signed in" (implementation-defined range). */
#define RA_NOT_SIGNED_IN (-32001)

static int
bearer(void *arg, const struct secret **out, const char **why)
{
	struct rauth *ra = arg;

	return auth_bearer(ra->auth, ra->resource, out, why);
}

static void
rejected(void *arg, const struct secret *tok)
{
	struct rauth *ra = arg;

	auth_rejected(ra->auth, ra->resource, tok);
}

struct rauth *
ra_new(struct router *r, const struct router_auth *a)
{
	struct rauth *ra = x_calloc(1, sizeof(*ra));

	(void)r;
	ra->auth = a->auth;
	ra->resource = a->resource ? x_strdup(a->resource) : NULL;
	ra->issuer = x_strdup(a->issuer ? a->issuer : "your company");
	ra->ua.bearer = bearer;
	ra->ua.rejected = rejected;
	ra->ua.arg = ra;
	return ra;
}

void
ra_free(struct router *r)
{
	struct rauth *ra = r->ra;

	if (ra == NULL)
		return;
	for (size_t i = 0; i < ra->nwait; i++)
		rt_pend_free(ra->wait[i]);
	free(ra->resource);
	free(ra->issuer);
	free(ra->init);
	free(ra->unavailable);
	free(ra->user_code);
	free(ra->uri);
	free(ra);
	r->ra = NULL;
}

static int
signed_in(const struct router *r)
{
	return auth_state(r->ra->auth) == AUTH_SIGNED_IN;
}

/* Sends {"jsonrpc":"2.0","id":<raw>,"result":<res>}; steals res. */
static void
send_result(struct router *r, struct batch *b, const char *id, size_t idlen,
    json_t *res)
{
	char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
	struct buf out;

	json_decref(res);
	if (text == NULL) {
		rt_reply_error(
		    r, b, id, idlen, RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	buf_init(&out, strlen(text) + idlen + 64);
	if (buf_puts(&out, "{\"jsonrpc\":\"2.0\",\"id\":") == 0 &&
	    buf_append(&out, id, idlen) == 0 &&
	    buf_puts(&out, ",\"result\":") == 0 && buf_puts(&out, text) == 0 &&
	    buf_puts(&out, "}") == 0)
		rt_reply(r, b, buf_data(&out), buf_len(&out));
	buf_finish(&out);
	free(text);
}

/* Sends a message the bridge itself originates; steals msg. */
static void
send_own(struct router *r, json_t *msg)
{
	char *text;

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (text)
		rt_out(r, text, strlen(text));
	free(text);
}

static void
notify(struct router *r, const char *method, json_t *params)
{
	json_t *m = json_pack("{s:s}", "method", method);

	if (params)
		json_object_set_new(m, "params", params);
	send_own(r, m);
}

static void
tell(struct router *r, const char *level, const char *text)
{
	if (!r->ra->ide_ready)
		return;
	notify(r, "notifications/message",
	    json_pack("{s:s, s:s, s:s}", "level", level, "logger", "mcp-bridge",
	        "data", text));
}

static void
lists_changed(struct router *r)
{
	if (!r->ra->ide_ready)
		return;
	notify(r, "notifications/tools/list_changed", NULL);
	notify(r, "notifications/prompts/list_changed", NULL);
	notify(r, "notifications/resources/list_changed", NULL);
}

/* -- the IDE's initialize ------------------------------------------- */

static const char *
pick_version(const char *js, struct rpc *msg)
{
	char want[32];
	struct rpc_span sp = rpc_get(msg, "params", "protocolVersion", NULL);

	if (rpc_span_str(js, sp, want, sizeof(want)) != NULL)
		for (size_t i = 0; i < sizeof(versions) / sizeof(*versions);
		     i++)
			if (strcmp(want, versions[i]) == 0)
				return versions[i];
	return versions[0];
}

static json_t *
init_result(struct router *r, const char *version)
{
	char text[512];

	str_fmt(text, sizeof(text),
	    "Tools of the MCP servers hosted by %s, relayed by mcp-bridge.%s",
	    r->ra->issuer,
	    signed_in(r)
	        ? ""
	        : " You are not signed in yet: call the " ROUTER_SIGNIN_TOOL
	          " tool to sign in.");
	return json_pack(
	    "{s:s, s:{s:{}, s:{s:b}, s:{s:b}, s:{s:b, s:b}, s:{}}, "
	    "s:{s:s, s:s, s:s}, s:s}",
	    "protocolVersion", version, "capabilities", "logging", "tools",
	    "listChanged", 1, "prompts", "listChanged", 1, "resources",
	    "listChanged", 1, "subscribe", 1, "completions", "serverInfo",
	    "name", "mcp-bridge", "title", "mcp-bridge", "version",
	    MCP_BRIDGE_VERSION, "instructions", text);
}

/* Opens the hosted session with the IDE's initialize (new id). */
static void
start_upstream(struct router *r)
{
	struct rauth *ra = r->ra;
	struct rpc_span sp;
	char num[24];
	size_t mlen;
	char *msg;

	if (ra->up != UP_IDLE || ra->init == NULL || !rt_has_peer(r))
		return;
	if (rpc_parse(r->rpc, ra->init, ra->init_len) != 0)
		return;
	sp = rpc_id(r->rpc);
	ra->init_id = rt_next_id(r);
	snprintf(num, sizeof(num), "%lld", (long long)ra->init_id);
	if (rt_rewrite(r, ra->init, ra->init_len, sp, num, strlen(num)) == -1)
		return;
	msg = buf_take(&r->scratch, &mlen);
	ra->up = UP_STARTING;
	log_info("opening the hosted session");
	rt_send(r, msg, mlen, ra->init_id, UPSTREAM_INITIALIZE);
}

static void
ide_initialize(struct router *r, struct batch *b, const char *js, size_t len)
{
	struct rauth *ra = r->ra;
	struct rpc_span id = rpc_id(r->rpc);
	const char *v = pick_version(js, r->rpc);

	ra->ide_url = rpc_get(r->rpc, "params", "capabilities", "elicitation",
	                  "url", NULL)
	                  .type == RPC_T_OBJECT;
	r->batches_ok = strcmp(v, "2025-03-26") == 0;
	if (ra->init == NULL) {
		ra->init = x_memdup(js, len);
		ra->init_len = len;
	}
	send_result(r, b, js + id.off, id.len, init_result(r, v));
	ra->was_in = signed_in(r);
	if (signed_in(r))
		start_upstream(r);
	else {
		ra->listed = 1; /* the hosted lists come later: tell then */
		auth_login(ra->auth);
	}
}

/* -- the bridge's own answers while signed out ------------------------ */

static json_t *
signin_tool(const struct router *r)
{
	char desc[512];

	str_fmt(desc, sizeof(desc),
	    "Sign in to %s so that the company's MCP tools become available "
	    "here. Returns the web address to open and the code to confirm; "
	    "the tools appear once you approve.",
	    r->ra->issuer);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:{}}}", "name",
	    ROUTER_SIGNIN_TOOL, "title", "Sign in (mcp-bridge)", "description",
	    desc, "inputSchema", "type", "object", "properties");
}

static json_t *
text_result(const char *text, int error)
{
	return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text",
	    "text", text, "isError", error);
}

static void
code_text(const struct rauth *ra, char *out, size_t outsz)
{
	str_fmt(out, outsz,
	    "To sign in to %s, open %s in a browser and confirm the code %s. "
	    "The company's MCP tools appear here once you approve (or run "
	    "'mcp-bridge login' in a terminal).",
	    ra->issuer, ra->uri, ra->user_code);
}

/* Answers a sign-in tool call now if there is something to say. */
static int
signin_answer(struct router *r, struct batch *b, const char *id, size_t idlen)
{
	struct rauth *ra = r->ra;
	enum auth_state st = auth_state(ra->auth);
	char text[1024];

	if (st == AUTH_SIGNED_IN) {
		str_fmt(text, sizeof(text),
		    "You are signed in to %s; the hosted tools are available.",
		    ra->issuer);
		send_result(r, b, id, idlen, text_result(text, 0));
		return 1;
	}
	if (st == AUTH_SIGNING_IN && ra->user_code) {
		code_text(ra, text, sizeof(text));
		send_result(r, b, id, idlen, text_result(text, 0));
		return 1;
	}
	return 0;
}

static void
signin_call(struct router *r, struct batch *b, const char *id, size_t idlen)
{
	struct rauth *ra = r->ra;

	if (signin_answer(r, b, id, idlen))
		return;
	if (ra->nwait == ROUTER_MAX_SIGNIN_WAIT) {
		rt_reply_error(r, b, id, idlen, RPC_INTERNAL_ERROR,
		    "too many sign-in calls waiting");
		return;
	}
	ra->wait[ra->nwait++] = rt_pend_new(id, idlen, b);
	auth_login(ra->auth); /* the answer follows with the code */
}

static int
is_signin_call(struct router *r, const char *js)
{
	char name[64];
	struct rpc_span sp = rpc_get(r->rpc, "params", "name", NULL);

	return rpc_method_is(r->rpc, "tools/call") &&
	    rpc_span_str(js, sp, name, sizeof(name)) != NULL &&
	    strcmp(name, ROUTER_SIGNIN_TOOL) == 0;
}

static void
local_request(struct router *r, struct batch *b, const char *js)
{
	struct rpc_span sp = rpc_id(r->rpc);
	const char *id = js + sp.off;
	char why[512];

	if (rpc_method_is(r->rpc, "tools/list")) {
		r->ra->listed = 1;
		send_result(r, b, id, sp.len,
		    signed_in(r)
		        ? json_pack("{s:[]}", "tools")
		        : json_pack("{s:[o]}", "tools", signin_tool(r)));
	} else if (rpc_method_is(r->rpc, "prompts/list"))
		send_result(r, b, id, sp.len, json_pack("{s:[]}", "prompts"));
	else if (rpc_method_is(r->rpc, "resources/list"))
		send_result(r, b, id, sp.len, json_pack("{s:[]}", "resources"));
	else if (rpc_method_is(r->rpc, "resources/templates/list"))
		send_result(
		    r, b, id, sp.len, json_pack("{s:[]}", "resourceTemplates"));
	else if (rpc_method_is(r->rpc, "logging/setLevel"))
		send_result(r, b, id, sp.len, json_object());
	else if (signed_in(r)) {
		str_fmt(why, sizeof(why),
		    "the hosted server is not connected%s%s",
		    r->ra->unavailable ? ": " : " yet",
		    r->ra->unavailable ? r->ra->unavailable : "");
		rt_reply_error(r, b, id, sp.len, RPC_UPSTREAM_ERROR, why);
	} else {
		str_fmt(why, sizeof(why),
		    "not signed in to %s: call the " ROUTER_SIGNIN_TOOL
		    " tool or run 'mcp-bridge login'",
		    r->ra->issuer);
		rt_reply_error(r, b, id, sp.len, RA_NOT_SIGNED_IN, why);
	}
}

int
ra_request(struct router *r, struct batch *b, const char *js, size_t len)
{
	struct rpc_span sp = rpc_id(r->rpc);

	if (rpc_method_is(r->rpc, "initialize")) {
		ide_initialize(r, b, js, len);
		return 1;
	}
	if (is_signin_call(r, js)) {
		signin_call(r, b, js + sp.off, sp.len);
		return 1;
	}
	if (!signed_in(r) || !rt_has_peer(r)) {
		local_request(r, b, js);
		return 1;
	}
	start_upstream(r); /* requests wait in the upstream meanwhile */
	return 0;
}

int
ra_notification(struct router *r, const char *js, size_t len)
{
	struct rauth *ra = r->ra;

	(void)js;
	(void)len;
	if (rpc_method_is(r->rpc, "notifications/initialized")) {
		ra->ide_ready = 1;
		if (ra->user_code && !ra->told)
			router_auth_code(r, NULL);
		return 1; /* the bridge sends its own upstream */
	}
	return ra->up == UP_IDLE; /* no hosted session to tell */
}

int
ra_ide_response(struct router *r, const char *js, size_t len, int64_t id)
{
	struct rauth *ra = r->ra;

	char action[16];

	(void)len;
	if (ra->elicit_req == 0 || id != ra->elicit_req)
		return 0;
	ra->elicit_req = 0;
	if (rpc_span_str(js, rpc_get(r->rpc, "result", "action", NULL), action,
	        sizeof(action)) == NULL ||
	    strcmp(action, "accept") != 0)
		log_info("the IDE declined the sign-in page; the code stays "
		         "valid through the " ROUTER_SIGNIN_TOOL " tool");
	return 1;
}

int
ra_server_response(
    struct router *r, const char *js, size_t len, struct rpc *msg, int64_t id)
{
	struct rauth *ra = r->ra;
	static const char inited[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	                             "\"notifications/initialized\"}";

	(void)js;
	(void)len;
	if (ra->up != UP_STARTING || id != ra->init_id)
		return 0;
	if (rpc_is_error(msg)) {
		log_error("hosted server refused initialize");
		ra->up = UP_IDLE;
		return 1;
	}
	ra->up = UP_READY;
	rt_send(
	    r, x_strdup(inited), sizeof(inited) - 1, -1, UPSTREAM_INITIALIZED);
	if (ra->listed)
		lists_changed(r);
	ra->listed = 0;
	return 1;
}

int
ra_fail(struct router *r, int64_t id, const char *why)
{
	struct rauth *ra = r->ra;

	if (ra->up != UP_STARTING || id != ra->init_id)
		return 0;
	log_warn("hosted session not opened: %s", why);
	ra->up = UP_IDLE; /* the next request tries again */
	return 1;
}

/* -- auth events ----------------------------------------------------- */

static void
answer_waiters(struct router *r, const char *text, int error)
{
	struct rauth *ra = r->ra;

	for (size_t i = 0; i < ra->nwait; i++) {
		struct pend *q = ra->wait[i];

		send_result(
		    r, q->batch, q->id, q->idlen, text_result(text, error));
		rt_pend_free(q);
	}
	ra->nwait = 0;
}

static void
elicit(struct router *r)
{
	struct rauth *ra = r->ra;
	char msg[512];

	ra->elicit_req = ++r->next_srv_id;
	str_fmt(ra->elicit, sizeof(ra->elicit), "mcp-bridge-sign-in-%lld",
	    (long long)ra->elicit_req);
	str_fmt(msg, sizeof(msg),
	    "Sign in to %s to use its MCP tools. Confirm the code %s on the "
	    "page.",
	    ra->issuer, ra->user_code);
	send_own(r,
	    json_pack("{s:I, s:s, s:{s:s, s:s, s:s, s:s}}", "id",
	        (json_int_t)ra->elicit_req, "method", "elicitation/create",
	        "params", "mode", "url", "message", msg, "url", ra->uri,
	        "elicitationId", ra->elicit));
}

void
router_auth_code(struct router *r, const struct oamsg_device *d)
{
	struct rauth *ra = r->ra;
	char text[1024];

	if (ra == NULL)
		return;
	if (d) {
		free(ra->user_code);
		free(ra->uri);
		ra->user_code = x_strdup(d->user_code);
		ra->uri = x_strdup(d->verification_uri_complete
		        ? d->verification_uri_complete
		        : d->verification_uri);
		ra->told = 0;
		log_warn("not signed in: open %s and confirm the code %s",
		    ra->uri, ra->user_code);
	}
	code_text(ra, text, sizeof(text));
	answer_waiters(r, text, 0);
	if (!ra->ide_ready)
		return;
	ra->told = 1;
	if (ra->ide_url)
		elicit(r);
	else
		tell(r, "warning", text);
}

void
router_auth_state(struct router *r, enum auth_state st, const char *why)
{
	struct rauth *ra = r->ra;
	char text[700];

	int was_in;

	if (ra == NULL || st == AUTH_SIGNING_IN)
		return;
	was_in = ra->was_in;
	ra->was_in = st == AUTH_SIGNED_IN;
	free(ra->user_code);
	free(ra->uri);
	ra->user_code = ra->uri = NULL;
	if (st == AUTH_SIGNED_IN) {
		if (ra->elicit[0] && ra->ide_ready)
			notify(r, "notifications/elicitation/complete",
			    json_pack("{s:s}", "elicitationId", ra->elicit));
		ra->elicit[0] = '\0';
		str_fmt(text, sizeof(text), "Signed in to %s.", ra->issuer);
		tell(r, "info", text);
		answer_waiters(r, text, 0);
		if (ra->init && ra->up == UP_IDLE)
			start_upstream(r);
		else if (ra->up == UP_READY)
			lists_changed(r);
		return;
	}
	str_fmt(text, sizeof(text),
	    "Not signed in to %s: %s. Call the " ROUTER_SIGNIN_TOOL
	    " tool to sign in again.",
	    ra->issuer, why ? why : "signed out");
	answer_waiters(r, text, 1);
	tell(r, "warning", text);
	ra->listed = 1;
	lists_changed(r);
	if (was_in)
		auth_login(ra->auth); /* the IDE needs a new code */
}

void
router_auth_tokens(struct router *r)
{
	if (r->up)
		upstream_auth_ready(r->up);
	else if (r->agg)
		agg_auth_ready(r->agg);
}

void
ra_attached(struct router *r)
{
	free(r->ra->unavailable);
	r->ra->unavailable = NULL;
	r->ra->listed = 1; /* the IDE saw an empty list: tell it */
	if (signed_in(r))
		start_upstream(r);
}

void
router_unavailable(struct router *r, const char *why)
{
	struct rauth *ra = r->ra;
	char text[700];

	if (ra == NULL)
		return;
	if (ra->unavailable && strcmp(ra->unavailable, why) == 0)
		return; /* said already (the lookup is being retried) */
	free(ra->unavailable);
	ra->unavailable = x_strdup(why);
	str_fmt(text, sizeof(text), "No hosted server: %s", why);
	tell(r, "error", text);
}

/* SPDX-License-Identifier: ISC */
/*
 * cmd_tools: `mcp-bridge tools [--json]`, the merged tool set of every
 * hosted server `run` would serve, and where each tool comes from.
 *
 * It builds the same aggregator as `run`, opens every server, waits
 * until each has answered (or --timeout), prints, and ends the sessions.
 * Exit 0: every server answered; 1: some could not be reached (they are
 * listed with the reason); 2: usage or configuration error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agg.h"
#include "auth.h"
#include "bounds.h"
#include "cfg.h"
#include "cmd.h"
#include "cmd_agg.h"
#include "hdr.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "str.h"

/* Checks whether every server answered this often. */
#define TOOLS_POLL_MS 50

static const char tools_usage[] =
    "usage: mcp-bridge tools [--json] [--config FILE] [--timeout SEC]\n"
    "                        [--log-level L]\n"
    "Lists the tools `mcp-bridge run` serves from every hosted server of\n"
    "the config and registry, as the IDE sees them (<server>__<tool>),\n"
    "with the server each comes from. Servers that cannot be reached are\n"
    "listed with the reason. Exit 0: all servers answered; 1: some did\n"
    "not; 2: usage or configuration error.\n";

struct tools {
	struct loop *loop;
	struct http *http;
	struct cfg *cfg;
	struct auth *auth;
	struct agg *agg;
	struct cmd_agg *ca;
	struct hdrlist *headers;
	struct loop_timer *poll;
	int64_t deadline;
	int json, closed, timed_out;
	int signed_out; /* a registry is configured but nobody signed in */
	long long timeout_s;
};

static void
on_message(void *arg, const char *js, size_t len, struct rpc *msg)
{
	(void)arg; /* initialize's answer and notifications: not needed */
	(void)js;
	(void)len;
	(void)msg;
}

static void
on_fail(void *arg, int64_t id, int code, const char *why)
{
	(void)arg;
	log_debug("request %lld failed (%d): %s", (long long)id, code, why);
}

static void
on_closed(void *arg)
{
	struct tools *t = arg;

	t->closed = 1;
	loop_stop(t->loop);
}

static const struct upstream_cbs tools_cbs = { on_message, on_fail, on_closed };

static void
on_poll(void *arg)
{
	struct tools *t = arg;
	int done = agg_settled(t->agg) && !cmd_agg_waiting(t->ca);

	if (!done && loop_now_ms() < t->deadline) {
		loop_timer_arm(t->poll, TOOLS_POLL_MS);
		return;
	}
	t->timed_out = !done;
	loop_stop(t->loop);
}

static void
print_text(json_t *list)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		const char *name =
		    json_string_value(json_object_get(e, "name"));
		const char *d =
		    json_string_value(json_object_get(e, "description"));

		if (name == NULL) {
			printf("%-40s %-16s %s: %s\n", "(no tools)",
			    json_string_value(json_object_get(e, "server")),
			    json_string_value(json_object_get(e, "status")),
			    json_string_value(json_object_get(e, "error")));
			continue;
		}
		printf("%-40s %-16s %.*s\n", name,
		    json_string_value(json_object_get(e, "server")),
		    d ? (int)strcspn(d, "\r\n") : 0, d ? d : "");
	}
}

/* Prints the report; returns the exit code. */
static int
report(struct tools *t)
{
	char *text = agg_tools_report(t->agg);
	json_t *list = text ? json_loads(text, 0, NULL) : NULL;
	int missing = 0;
	size_t i;
	json_t *e;

	free(text);
	if (list == NULL)
		return CMD_FAIL;
	json_array_foreach(list, i, e) missing +=
	    json_object_get(e, "name") == NULL;
	if (t->json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
	} else
		print_text(list);
	if (t->timed_out)
		fprintf(stderr,
		    "mcp-bridge tools: not every server answered within "
		    "%lld s\n",
		    t->timeout_s);
	json_decref(list);
	return missing || t->timed_out || t->signed_out ? CMD_FAIL : CMD_OK;
}

static void
start(struct tools *t)
{
	static const char init[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	    "{},\"clientInfo\":{\"name\":\"mcp-bridge-tools\",\"version\":"
	    "\"" MCP_BRIDGE_VERSION "\"}}}";

	agg_send(t->agg, strdup(init), sizeof(init) - 1, agg_next_id(t->agg),
	    UPSTREAM_INITIALIZE);
	t->deadline = loop_now_ms() + t->timeout_s * 1000;
	t->poll = loop_timer_new(t->loop, on_poll, t);
	loop_timer_arm(t->poll, TOOLS_POLL_MS);
}

static void
on_tokens(void *arg)
{
	struct tools *t = arg;

	if (t->agg)
		agg_auth_ready(t->agg);
}

static const struct auth_cbs tools_auth_cbs = { NULL, NULL, on_tokens };

static int
open_auth(struct tools *t)
{
	struct auth_opts ao = { 0 };
	const char *store = cfg_token_store(t->cfg);
	char err[512], *scope;

	if (cfg_issuer(t->cfg) == NULL ||
	    hdrlist_has(t->headers, "Authorization"))
		return 0;
	scope = cmd_scope_string(t->cfg);
	ao.issuer = cfg_issuer(t->cfg);
	ao.client_id = cfg_client_id(t->cfg);
	ao.scope = scope;
	ao.resource = cfg_resource(t->cfg);
	ao.profile = cfg_profile(t->cfg);
	if (tokstore_kind_parse(store ? store : "keyring", &ao.store) == -1)
		ao.store = TOKSTORE_KEYRING;
	t->auth = auth_new(
	    t->loop, t->http, &ao, &tools_auth_cbs, t, err, sizeof(err));
	free(scope);
	if (t->auth == NULL) {
		fprintf(stderr, "mcp-bridge tools: %s\n", err);
		return -1;
	}
	t->signed_out =
	    auth_start(t->auth) != AUTH_SIGNED_IN && cfg_registry(t->cfg);
	if (t->signed_out)
		fprintf(stderr,
		    "mcp-bridge tools: not signed in: the "
		    "registry's servers need 'mcp-bridge login'\n");
	return 0;
}

static int
run(struct tools *t)
{
	struct http_opts ho = { cfg_cacert(t->cfg), BOUNDS_CONNECT_TIMEOUT_MS };
	struct agg_opts ao = { 0 };
	char *cache;
	int rc;

	t->loop = loop_new();
	if ((t->http = http_new(t->loop, &ho)) == NULL || open_auth(t) == -1)
		return CMD_FAIL;
	cache = cmd_agg_cache_path(t->cfg, t->auth);
	ao.headers = t->headers;
	ao.allow = cfg_tools_allow(t->cfg);
	ao.deny = cfg_tools_deny(t->cfg);
	ao.cache_path = cache;
	t->agg = agg_new(t->loop, t->http, &ao, &tools_cbs, t);
	free(cache);
	t->ca = cmd_agg_new(t->loop, t->http, t->cfg, t->auth, t->agg, 0);
	if (cmd_agg_start(t->ca) == -1)
		return CMD_USAGE;
	start(t);
	loop_run(t->loop);
	rc = report(t);
	agg_close(t->agg);
	loop_timer_arm(t->poll, BOUNDS_SHUTDOWN_MS); /* DELETEs, bounded */
	t->deadline = 0;
	if (!t->closed)
		loop_run(t->loop);
	return rc;
}

static const struct option tools_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "config", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse(struct tools *t, int argc, char **argv, const char **config)
{
	enum log_level lvl = LOG_WARN;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", tools_longopts, NULL)) != -1) {
		if (c == 'j')
			t->json = 1;
		else if (c == 'c')
			*config = optarg;
		else if ((c == 't' &&
		             str_tonum(optarg, 1, 3600, &t->timeout_s) == 0) ||
		    (c == 'l' && log_level_parse(optarg, &lvl) == 0))
			continue;
		else if (c == 'h') {
			fputs(tools_usage, stdout);
			return -1;
		} else
			return cmd_usage_error("tools",
			    "unknown option or bad value: '%s'",
			    argv[optind - 1]);
	}
	if (optind < argc)
		return cmd_usage_error(
		    "tools", "unexpected argument '%s'", argv[optind]);
	log_set_level(lvl);
	return 0;
}

int
cmd_tools(int argc, char **argv)
{
	struct tools t = { .timeout_s = 15 };
	const char *config = NULL;
	int rc;

	if ((rc = parse(&t, argc, argv, &config)) != 0)
		return rc == -1 ? CMD_OK : rc;
	if ((t.cfg = cmd_load_cfg("tools", config, NULL)) == NULL)
		return CMD_USAGE;
	t.headers = hdrlist_new();
	cmd_env_token(t.headers);
	rc = run(&t);
	loop_timer_del(t.poll);
	cmd_agg_free(&t.ca);
	agg_free(&t.agg);
	auth_free(&t.auth);
	http_free(&t.http);
	loop_free(&t.loop);
	hdrlist_free(&t.headers);
	cfg_free(&t.cfg);
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * cmd_run: `mcp-bridge run`, the IDE-facing bridge.
 *
 * Wires loop + chan (stdio) + router (session) + http (libcurl): chan's
 * lines go to router_input(), the router's replies go to chan_send(),
 * a full stdout queue pauses http. stdin EOF, SIGINT and SIGTERM end the
 * upstream session (DELETE) and exit 0 within BOUNDS_SHUTDOWN_MS plus
 * the time to flush stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "bounds.h"
#include "cfg.h"
#include "chan.h"
#include "cmd.h"
#include "cmd_agg.h"
#include "cmd_server.h"
#include "hdr.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "router.h"
#include "secret.h"
#include "str.h"
#include "url.h"
#include "usage.h"

struct run_opts {
	const char *url;         /* hosted server endpoint */
	const char *config;      /* --config FILE */
	const char *server;      /* --server NAME: from the registry */
	const char *resource;    /* the server's audience (config) */
	struct cfg *cfg;         /* effective configuration (owned) */
	char *scope;             /* scopes joined (owned) */
	int static_auth;         /* Authorization given: no sign-in */
	int level_set;           /* --log-level given */
	struct hdrlist *headers; /* extra headers (owned) */
	const char *cacert;      /* extra CA bundle */
	const char *log_file;    /* log destination instead of stderr */
	enum log_level level;
	long long connect_s; /* connect timeout */
	long long idle_s;    /* request idle timeout, 0 = none */
	long long max_s;     /* request hard limit, 0 = none */
	long long refresh_s; /* registry re-check interval */
	int aggregate;       /* many servers behind this session */
};

struct run {
	struct loop *loop;
	struct http *http;
	struct router *router;
	struct auth *auth;      /* company sign-in, or NULL */
	struct run_opts *o;     /* the options */
	struct cmd_server *one; /* --server: the registry lookup */
	struct cmd_agg *ca;     /* aggregate mode: fills the aggregator */
	struct usage *usage;    /* aggregate mode: call counters */
	struct loop_timer *usage_timer;
	char usage_path[512]; /* where they are written, or "" */
	int64_t started;      /* unix seconds */
	struct chan *chan;
	struct loop_timer *deadline; /* shutdown deadline */
	int stopping;                /* shutdown started */
	int closed;                  /* upstream session ended */
	int pauses;                  /* times stdout backpressure paused */
	int rc;                      /* exit code */
};

static const char run_usage[] =
    "usage: mcp-bridge run [--url URL | --server NAME] [--config FILE]\n"
    "                      [--refresh SEC]\n"
    "                      [--header 'Name: value']...\n"
    "                      [--header-file FILE] [--cacert FILE]\n"
    "                      [--log-level error|warn|info|debug] "
    "[--log-file FILE]\n"
    "                      [--connect-timeout SEC] [--request-timeout SEC]\n"
    "                      [--max-request-time SEC]\n"
    "\n"
    "Serves MCP on stdin/stdout and relays it to the hosted MCP server at\n"
    "URL (Streamable HTTP; https://, or http:// for loopback hosts), or to\n"
    "every server of the config and registry at once.\n"
    "\n"
    "  --url URL              hosted server endpoint (default: the one\n"
    "                         \"servers\" entry of the config)\n"
    "  --config FILE          configuration file (over system and user "
    "files)\n"
    "  --server NAME          the registry's server NAME (full or short "
    "name)\n"
    "                         (default: every server of the config and\n"
    "                         registry, tools named <server>__<tool>)\n"
    "  --refresh SEC          ask the registry again every SEC (default "
    "300)\n"
    "  --header 'N: v'        extra HTTP header; ${VAR} reads the "
    "environment\n"
    "  --header-file FILE     headers, one per line (keeps secrets out of "
    "argv)\n"
    "  --cacert FILE          extra PEM CA bundle (added to the system "
    "store)\n"
    "  --log-level LEVEL      error, warn (default), info or debug\n"
    "  --log-file FILE        log there instead of stderr\n"
    "  --connect-timeout SEC  connect timeout (default 10)\n"
    "  --request-timeout SEC  fail a request after SEC without any message "
    "on\n"
    "                         its stream (default 0: none)\n"
    "  --max-request-time SEC hard limit per request (default 3600; 0: "
    "none)\n"
    "\n"
    "Environment: MCP_BRIDGE_ACCESS_TOKEN is sent as a bearer token when "
    "no\n"
    "Authorization header is given. https_proxy, http_proxy and no_proxy "
    "are\n"
    "honoured.\n";

enum {
	OPT_HEADER_FILE = 256,
	OPT_CACERT,
	OPT_LOG_LEVEL,
	OPT_LOG_FILE,
	OPT_CONNECT,
	OPT_IDLE,
	OPT_MAX,
	OPT_CONFIG,
	OPT_SERVER,
	OPT_REFRESH,
};

static const struct option run_longopts[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "header", required_argument, NULL, 'H' },
	{ "header-file", required_argument, NULL, OPT_HEADER_FILE },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT },
	{ "request-timeout", required_argument, NULL, OPT_IDLE },
	{ "max-request-time", required_argument, NULL, OPT_MAX },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "refresh", required_argument, NULL, OPT_REFRESH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
seconds(const char *flag, const char *arg, long long *out)
{
	if (str_tonum(arg, 0, 7 * 24 * 3600, out) == -1)
		return cmd_usage_error("run",
		    "%s takes whole seconds (0 to "
		    "604800), not '%s'",
		    flag, arg);
	return 0;
}

/* Applies one option; returns 0, CMD_USAGE, or -1 for --help. */
static int
apply_opt(struct run_opts *o, int c, const char *arg)
{
	char err[256];

	switch (c) {
	case 'u':
		o->url = arg;
		return 0;
	case 'H':
		if (hdrlist_add_line(o->headers, arg, err, sizeof(err)) == -1)
			return cmd_usage_error("run", "--header: %s", err);
		return 0;
	case OPT_HEADER_FILE:
		if (hdrlist_load_file(o->headers, arg, err, sizeof(err)) == -1)
			return cmd_usage_error("run", "--header-file: %s", err);
		return 0;
	case OPT_CACERT:
		o->cacert = arg;
		return 0;
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &o->level) == -1)
			return cmd_usage_error("run",
			    "--log-level must be "
			    "error, warn, info or debug");
		o->level_set = 1;
		return 0;
	case OPT_LOG_FILE:
		o->log_file = arg;
		return 0;
	case OPT_CONFIG:
		o->config = arg;
		return 0;
	case OPT_SERVER:
		o->server = arg;
		return 0;
	case OPT_CONNECT:
		return seconds("--connect-timeout", arg, &o->connect_s);
	case OPT_IDLE:
		return seconds("--request-timeout", arg, &o->idle_s);
	case OPT_MAX:
		return seconds("--max-request-time", arg, &o->max_s);
	case OPT_REFRESH:
		if (seconds("--refresh", arg, &o->refresh_s) != 0)
			return CMD_USAGE;
		if (o->refresh_s == 0)
			return cmd_usage_error("run",
			    "--refresh must be at "
			    "least 1 second");
		return 0;
	case 'h':
		return -1;
	default:
		return CMD_USAGE;
	}
}

static int
check_cacert(const char *path)
{
	char line[256];
	int found = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return cmd_usage_error(
		    "run", "--cacert %s: %s", path, strerror(errno));
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
	fclose(f);
	if (!found)
		return cmd_usage_error("run",
		    "--cacert %s: no PEM certificate "
		    "in it",
		    path);
	return 0;
}

static int
parse_args(int argc, char **argv, struct run_opts *o)
{
	char err[256];
	int c, rc;

	opterr = 0;
	optind = 1;
	while (
	    (c = getopt_long(argc, argv, "u:H:h", run_longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return cmd_usage_error("run",
			    "unknown option or missing "
			    "value: '%s'",
			    argv[optind - 1]);
		if ((rc = apply_opt(o, c, optarg)) != 0)
			return rc;
	}
	if (optind < argc)
		return cmd_usage_error(
		    "run", "unexpected argument '%s'", argv[optind]);
	if (o->url && url_check_upstream(o->url, err, sizeof(err)) == -1)
		return cmd_usage_error("run", "--url: %s", err);
	if (o->cacert && check_cacert(o->cacert) != 0)
		return CMD_USAGE;
	return 0;
}

/*
 * No --url or --server: one static server is relayed as is; several, or
 * a registry, are aggregated behind this one session.
 */
static void
pick_servers(struct run_opts *o, const struct cfg *c)
{
	size_t nurl = 0, last = 0;

	for (size_t i = 0; i < cfg_server_count(c); i++)
		if (cfg_server_url(c, i) && cfg_server_enabled(c, i)) {
			nurl++;
			last = i;
		}
	if (o->url == NULL && o->server == NULL) {
		if (cfg_registry(c) || nurl > 1)
			o->aggregate = 1;
		else if (nurl == 1)
			o->url = cfg_server_url(c, last);
	}
	for (size_t i = 0; o->url && i < cfg_server_count(c); i++)
		if (cfg_server_url(c, i) &&
		    strcmp(o->url, cfg_server_url(c, i)) == 0)
			o->resource = cfg_server_resource(c, i);
}

/* Takes what the flags left open from the configuration. */
static int
apply_cfg(struct run_opts *o)
{
	struct cfg *c;

	if ((c = o->cfg = cmd_load_cfg("run", o->config, NULL)) == NULL)
		return CMD_USAGE;
	o->scope = cmd_scope_string(c);
	if (!o->level_set && cfg_log_level(c))
		log_level_parse(cfg_log_level(c), &o->level);
	if (o->cacert == NULL && cfg_cacert(c)) {
		o->cacert = cfg_cacert(c);
		if (check_cacert(o->cacert) != 0)
			return CMD_USAGE;
	}
	pick_servers(o, c);
	if (o->server &&
	    (o->url || !cfg_registry(c) || !cfg_issuer(c) || o->static_auth))
		return cmd_usage_error("run",
		    "--server needs a registry and a sign-in issuer in the "
		    "config, and no --url or static Authorization");
	if (o->url == NULL && o->server == NULL && !o->aggregate)
		return cmd_usage_error("run",
		    "--url is required (or \"servers\" entries or a "
		    "registry in the config)");
	if (o->aggregate && cfg_registry(c) &&
	    (!cfg_issuer(c) || o->static_auth))
		log_warn("the registry needs the company sign-in (an issuer, "
		         "no static Authorization); serving the static "
		         "servers only");
	if (cfg_issuer(c) && cfg_client_id(c) == NULL && !o->static_auth)
		return cmd_usage_error("run",
		    "%s: client_id is required with "
		    "an issuer",
		    cfg_origin(c, "issuer"));
	return 0;
}

/* -- wiring ----------------------------------------------------------- */

static void
stop_if_done(struct run *r)
{
	if (r->stopping && r->closed && chan_queued(r->chan) == 0)
		loop_stop(r->loop);
}

static void
on_deadline(void *arg)
{
	struct run *r = arg;

	log_info("shutdown deadline reached; exiting");
	loop_stop(r->loop);
}

static void
begin_shutdown(struct run *r, const char *why)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	log_info("shutting down: %s", why);
	chan_pause_input(r->chan, 1);
	r->deadline = loop_timer_new(r->loop, on_deadline, r);
	loop_timer_arm(r->deadline, BOUNDS_SHUTDOWN_MS);
	router_close(r->router);
}

static void
on_line(void *arg, enum frame_status st, const char *line, size_t len)
{
	struct run *r = arg;

	if (r->stopping)
		return;
	if (st == FRAME_TOO_LONG)
		router_input_too_long(r->router, len);
	else
		router_input(r->router, line, len);
}

static void
on_eof(void *arg)
{
	begin_shutdown(arg, "stdin closed");
}

static void
on_congestion(void *arg, int congested)
{
	struct run *r = arg;

	/* Warn the first time; later episodes are routine under load. */
	if (congested && r->pauses++ == 0)
		log_warn("the IDE is slow to read; pausing hosted servers");
	else if (congested)
		log_info("the IDE is slow to read; pausing hosted servers");
	http_pause(r->http, congested);
}

static void
on_dead(void *arg, const char *why)
{
	struct run *r = arg;

	log_error("stdout: %s", why);
	r->rc = CMD_FAIL;
	begin_shutdown(r, "stdout unusable");
	loop_stop(r->loop);
}

static void
on_signal(void *arg)
{
	begin_shutdown(arg, "signal");
}

static void
send_to_ide(void *arg, const char *msg, size_t len)
{
	struct run *r = arg;

	chan_send(r->chan, msg, len);
}

static void
on_closed(void *arg)
{
	struct run *r = arg;

	r->closed = 1;
	stop_if_done(r);
}

static void
before_poll(void *arg)
{
	stop_if_done(arg);
}

static const struct chan_cbs run_chan_cbs = {
	.on_line = on_line,
	.on_eof = on_eof,
	.on_congestion = on_congestion,
	.on_dead = on_dead,
};

static const struct router_cbs run_router_cbs = {
	.send = send_to_ide,
	.closed = on_closed,
};

static void
on_auth_state(void *arg, enum auth_state st, const char *why)
{
	struct run *r = arg;

	if (r->router)
		router_auth_state(r->router, st, why);
	if (r->one)
		cmd_server_resolve(r->one);
	if (r->ca)
		cmd_agg_auth_state(r->ca);
}

static void
on_auth_code(void *arg, const struct oamsg_device *d)
{
	struct run *r = arg;

	if (r->router)
		router_auth_code(r->router, d);
}

static void
on_auth_tokens(void *arg)
{
	struct run *r = arg;

	if (r->router)
		router_auth_tokens(r->router);
}

static const struct auth_cbs run_auth_cbs = {
	.state = on_auth_state,
	.code = on_auth_code,
	.tokens = on_auth_tokens,
};

/* Sign-in for the session when an issuer is configured; 0 or -1. */
static int
start_auth(struct run *r, struct run_opts *o, struct router_auth *ra)
{
	struct cfg *c = o->cfg;
	struct auth_opts ao = { 0 };
	const char *store = cfg_token_store(c);
	char err[512];

	ao.issuer = cfg_issuer(c);
	ao.client_id = cfg_client_id(c);
	ao.scope = o->scope;
	ao.resource = cfg_resource(c);
	ao.profile = cfg_profile(c);
	ao.watch_store = 1;
	if (tokstore_kind_parse(store ? store : "keyring", &ao.store) == -1)
		ao.store = TOKSTORE_KEYRING;
	r->auth =
	    auth_new(r->loop, r->http, &ao, &run_auth_cbs, r, err, sizeof(err));
	if (r->auth == NULL) {
		log_error("%s", err);
		return -1;
	}
	if (auth_start(r->auth) == AUTH_SIGNED_IN)
		log_info("signed in to %s (tokens in the %s)", ao.issuer,
		    auth_store_name(r->auth));
	ra->auth = r->auth;
	ra->resource = o->resource;
	ra->issuer = ao.issuer;
	return 0;
}

/* Counters go to a state file `mcp-bridge status` reads. */
#define USAGE_WRITE_MS 2000

static void
write_usage(struct run *r)
{
	if (r->usage_path[0] && usage_dirty(r->usage))
		usage_write(r->usage, r->usage_path, (long)getpid(), r->started,
		    (int64_t)time(NULL));
}

static void
on_usage_timer(void *arg)
{
	struct run *r = arg;

	write_usage(r);
	loop_timer_arm(r->usage_timer, USAGE_WRITE_MS);
}

static void
start_usage(struct run *r)
{
	r->usage = usage_new();
	r->started = (int64_t)time(NULL);
	if (usage_path((long)getpid(), r->usage_path, sizeof(r->usage_path)) ==
	    -1) {
		r->usage_path[0] = '\0';
		return;
	}
	r->usage_timer = loop_timer_new(r->loop, on_usage_timer, r);
	loop_timer_arm(r->usage_timer, USAGE_WRITE_MS);
}

static void
end_usage(struct run *r)
{
	if (r->usage_path[0])
		unlink(r->usage_path); /* only running bridges are shown */
	loop_timer_del(r->usage_timer);
	usage_free(&r->usage);
}

/* The aggregating router: every server of the config and registry. */
static int
serve_agg(struct run *r, struct run_opts *o, struct router_auth *ra)
{
	struct cfg *c = o->cfg;
	struct agg_opts ao = { 0 };
	char *cache = cmd_agg_cache_path(c, r->auth);
	int rc = -1;

	ao.headers = o->headers;
	ao.request_idle_ms = o->idle_s * 1000;
	ao.request_max_ms = o->max_s * 1000;
	ao.allow = cfg_tools_allow(c);
	ao.deny = cfg_tools_deny(c);
	ao.cache_path = cache;
	start_usage(r);
	ao.usage = r->usage;
	r->router =
	    router_new_agg(r->loop, r->http, &ao, ra, &run_router_cbs, r);
	r->ca = cmd_agg_new(r->loop, r->http, c, r->auth, router_agg(r->router),
	    o->refresh_s * 1000);
	if (r->ca && cmd_agg_start(r->ca) == 0)
		rc = 0;
	free(cache);
	return rc;
}

static int
serve(struct run_opts *o)
{
	struct http_opts ho = { o->cacert, o->connect_s * 1000 };
	struct upstream_opts uo = { o->url, o->headers, o->idle_s * 1000,
		o->max_s * 1000, NULL, 0, o->connect_s * 1000 };
	struct router_auth ra = { 0 };
	int use_auth = cfg_issuer(o->cfg) && !o->static_auth;
	struct run r = { 0 };

	r.o = o;
	r.loop = loop_new();
	if (loop_catch_signals(r.loop, on_signal, &r) == -1 ||
	    loop_hook_add(r.loop, before_poll, &r) == -1 ||
	    (r.http = http_new(r.loop, &ho)) == NULL ||
	    (use_auth && start_auth(&r, o, &ra) == -1)) {
		r.rc = CMD_FAIL;
		goto out;
	}
	if (o->aggregate
	        ? serve_agg(&r, o, use_auth ? &ra : NULL) == -1
	        : (r.router = router_new(r.loop, r.http, &uo,
	               use_auth ? &ra : NULL, &run_router_cbs, &r)) == NULL) {
		r.rc = CMD_FAIL;
		goto out;
	}
	r.chan =
	    chan_new(r.loop, STDIN_FILENO, STDOUT_FILENO, &run_chan_cbs, &r);
	if (r.auth && o->server) {
		r.one = cmd_server_new(
		    r.loop, r.http, o->cfg, r.auth, r.router, o->server, &uo);
		cmd_server_resolve(r.one);
	}
	/* The query may hold an API key: log the URL without it. */
	if (o->url)
		log_info("relaying stdio to %.*s", (int)strcspn(o->url, "?#"),
		    o->url);
	if (loop_run(r.loop) == -1)
		r.rc = CMD_FAIL;
out:
	router_free(&r.router);
	cmd_agg_free(&r.ca);
	end_usage(&r);
	cmd_server_free(&r.one);
	auth_free(&r.auth);
	chan_free(&r.chan);
	http_free(&r.http);
	loop_free(&r.loop);
	return r.rc;
}

int
cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	int rc;

	o.level = LOG_WARN;
	o.connect_s = BOUNDS_CONNECT_TIMEOUT_MS / 1000;
	o.idle_s = BOUNDS_REQUEST_IDLE_MS / 1000;
	o.max_s = BOUNDS_REQUEST_MAX_MS / 1000;
	o.refresh_s = CMD_AGG_REFRESH_MS / 1000;
	o.headers = hdrlist_new();
	if ((rc = parse_args(argc, argv, &o)) != 0) {
		if (rc == -1) {
			fputs(run_usage, stdout);
			rc = CMD_OK;
		}
		goto out;
	}
	cmd_env_token(o.headers);
	o.static_auth = hdrlist_has(o.headers, "Authorization");
	if ((rc = apply_cfg(&o)) != 0)
		goto out;
	log_set_level(o.level);
	if (o.log_file && log_open_file(o.log_file) == -1) {
		rc = CMD_FAIL;
		goto out;
	}
	rc = serve(&o);
	log_close();
out:
	hdrlist_free(&o.headers);
	cfg_free(&o.cfg);
	free(o.scope);
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * cmd_auth: `mcp-bridge login`, `logout` and `status`.
 *
 * login runs the device flow in the terminal: the address and code on
 * stderr (stdout stays clean for scripts), a QR code when stderr is a
 * terminal, the browser opened unless --no-browser or there is no
 * display, Ctrl-C cancels. The tokens go to the configured store; a
 * missing keyring is an error here (a login kept in memory would be
 * lost at exit). status exits 0 signed in, 1 not, 2 on error.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "catalog.h"
#include "cfg.h"
#include "cmd.h"
#include "fsx.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "oamsg.h"
#include "qr.h"
#include "secret.h"
#include "str.h"
#include "tokset.h"
#include "usage.h"
#include "xmem.h"

extern char **environ;

/* Busiest tools shown per bridge by plain `status`. */
#define STATUS_TOP_TOOLS 5

struct sess {
	const char *cmd; /* "login", "logout", "status" */
	struct cfg *cfg;
	struct loop *loop;
	struct http *http;
	struct auth *auth;
	char *scope;             /* space-separated scopes (owned) */
	int no_browser;          /* login --no-browser */
	int rc;                  /* exit code */
	struct catalog *cat;     /* servers: the catalog */
	struct upstream_auth ua; /* servers: token source */
	int json, all;           /* servers: output */
};

static const struct option auth_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "no-browser", no_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "all", no_argument, NULL, 'a' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char login_usage[] =
    "usage: mcp-bridge login [--no-browser] [--config FILE] "
    "[--log-level L]\n"
    "Signs in to the configured issuer with the OAuth device flow and\n"
    "keeps the tokens in the token store (the OS keyring by default).\n";
static const char logout_usage[] =
    "usage: mcp-bridge logout [--config FILE] [--log-level L]\n"
    "Revokes the refresh token at the issuer and deletes the stored\n"
    "tokens.\n";
static const char status_usage[] =
    "usage: mcp-bridge status [--json] [--config FILE] [--log-level L]\n"
    "Shows who is signed in, and the calls of the bridges running now\n"
    "(per server and tool: calls, errors, latency; --json: \"bridges\").\n"
    "Exit 0: signed in, 1: not, 2: error (the bridges never change it).\n";

static const char servers_usage[] =
    "usage: mcp-bridge servers [--json] [--all] [--config FILE] "
    "[--log-level L]\n"
    "Lists the hosted MCP servers the registry allows you to use.\n"
    "--all also shows servers that are not usable here (refused remotes,\n"
    "denials the registry reports) and why.\n";

struct args {
	const char *config;
	int no_browser, json, help, all;
	enum log_level level;
};

/* 0, or an exit code (usage error). */
static int
parse(const char *cmd, int argc, char **argv, int allowed, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->level = LOG_WARN;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", auth_longopts, NULL)) != -1) {
		if (c == 'c')
			a->config = optarg;
		else if (c == 'n' && (allowed & 1))
			a->no_browser = 1;
		else if (c == 'j' && (allowed & 2))
			a->json = 1;
		else if (c == 'a' && (allowed & 4))
			a->all = 1;
		else if (c == 'l' && log_level_parse(optarg, &a->level) == 0)
			continue;
		else if (c == 'h')
			a->help = 1;
		else
			return cmd_usage_error(cmd,
			    "unknown option or bad value: "
			    "'%s'",
			    argv[optind - 1]);
	}
	if (optind < argc)
		return cmd_usage_error(
		    cmd, "unexpected argument '%s'", argv[optind]);
	log_set_level(a->level);
	return 0;
}

/* Fills `o` from the config; 0, or -1 after a line on stderr. */
static int
auth_opts_from(struct sess *s, struct auth_opts *o)
{
	const char *store = cfg_token_store(s->cfg);

	memset(o, 0, sizeof(*o));
	if (cfg_issuer(s->cfg) == NULL || cfg_client_id(s->cfg) == NULL) {
		fprintf(stderr,
		    "mcp-bridge %s: no %s configured (set \"issuer\" and "
		    "\"client_id\" in the config, or MCP_BRIDGE_ISSUER and "
		    "MCP_BRIDGE_CLIENT_ID)\n",
		    s->cmd, cfg_issuer(s->cfg) ? "client_id" : "issuer");
		return -1;
	}
	o->issuer = cfg_issuer(s->cfg);
	o->client_id = cfg_client_id(s->cfg);
	o->scope = s->scope;
	o->resource = cfg_resource(s->cfg);
	o->profile = cfg_profile(s->cfg);
	if (tokstore_kind_parse(store ? store : "keyring", &o->store) == -1)
		o->store = TOKSTORE_KEYRING;
	o->strict_store = 1;
	return 0;
}

static void sess_state(void *arg, enum auth_state st, const char *why);
static void sess_code(void *arg, const struct oamsg_device *d);

static const struct auth_cbs sess_cbs = { sess_state, sess_code, NULL };

/* Builds loop, http and auth; 0, or an exit code. */
static int
sess_open(struct sess *s, const char *config)
{
	struct http_opts ho = { 0 };
	struct auth_opts ao;
	char err[512];

	if ((s->cfg = cmd_load_cfg(s->cmd, config, NULL)) == NULL)
		return CMD_USAGE;
	s->scope = cmd_scope_string(s->cfg);
	if (auth_opts_from(s, &ao) == -1)
		return CMD_USAGE;
	ho.cacert = cfg_cacert(s->cfg);
	s->loop = loop_new();
	if ((s->http = http_new(s->loop, &ho)) == NULL)
		return CMD_FAIL;
	s->auth =
	    auth_new(s->loop, s->http, &ao, &sess_cbs, s, err, sizeof(err));
	if (s->auth == NULL) {
		fprintf(stderr, "mcp-bridge %s: %s\n", s->cmd, err);
		return CMD_FAIL;
	}
	return 0;
}

static void
sess_close(struct sess *s)
{
	auth_free(&s->auth);
	http_free(&s->http);
	loop_free(&s->loop);
	cfg_free(&s->cfg);
	free(s->scope);
}

/* -- login ------------------------------------------------------------ */

static int
have_display(void)
{
#ifdef __APPLE__
	return 1;
#else
	return getenv("DISPLAY") != NULL || getenv("WAYLAND_DISPLAY") != NULL;
#endif
}

/* Opens `url` in the browser without waiting for it; quiet. */
static void
open_browser(const char *url)
{
#ifdef __APPLE__
	char *argv[] = { "open", (char *)url, NULL };
#else
	char *argv[] = { "xdg-open", (char *)url, NULL };
#endif
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		fprintf(stderr,
		    "(could not start %s; open the address "
		    "yourself)\n",
		    argv[0]);
	posix_spawn_file_actions_destroy(&fa);
}

static void
sess_code(void *arg, const struct oamsg_device *d)
{
	struct sess *s = arg;
	const char *url = d->verification_uri_complete
	    ? d->verification_uri_complete
	    : d->verification_uri;

	fprintf(stderr,
	    "To sign in to %s, open this address in a browser:\n\n"
	    "    %s\n\nand check that it shows the code:  %s\n\n",
	    cfg_issuer(s->cfg), url, d->user_code);
	if (isatty(STDERR_FILENO) && qr_print(stderr, url) == 0)
		fputc('\n', stderr);
	if (!s->no_browser && have_display())
		open_browser(url);
	fprintf(stderr,
	    "Waiting for you to approve (the code expires in %lld "
	    "minutes; Ctrl-C cancels)...\n",
	    (long long)((d->expires_in + 59) / 60));
}

static void
who(const struct auth *a, char *out, size_t outsz)
{
	const struct tokset *t = auth_tokens(a);
	const struct secret *id = t ? tokset_id(t) : NULL;
	struct oamsg_claims c;
	char err[64];

	str_fmt(out, outsz, "(no ID token)");
	if (id == NULL ||
	    oamsg_claims_parse(
	        secret_data(id), secret_len(id), &c, err, sizeof(err)) == -1)
		return;
	str_fmt(out, outsz, "%s%s%s",
	    c.email     ? c.email
	        : c.sub ? c.sub
	                : "?",
	    c.name ? " - " : "", c.name ? c.name : "");
	oamsg_claims_clear(&c);
}

static void
sess_state(void *arg, enum auth_state st, const char *why)
{
	struct sess *s = arg;
	char name[512];

	if (st == AUTH_SIGNING_IN || strcmp(s->cmd, "login") != 0)
		return;
	if (st == AUTH_SIGNED_IN) {
		who(s->auth, name, sizeof(name));
		fprintf(stderr,
		    "Signed in as %s (%s); tokens kept in the %s.\n", name,
		    cfg_issuer(s->cfg), auth_store_name(s->auth));
		s->rc = CMD_OK;
	} else {
		fprintf(stderr, "mcp-bridge login: %s\n", why ? why : "failed");
		s->rc = CMD_FAIL;
	}
	loop_stop(s->loop);
}

static void
on_interrupt(void *arg)
{
	struct sess *s = arg;

	fprintf(stderr, "mcp-bridge %s: cancelled\n", s->cmd);
	s->rc = CMD_FAIL;
	loop_stop(s->loop);
}

int
cmd_login(int argc, char **argv)
{
	struct sess s = { .cmd = "login", .rc = CMD_FAIL };
	struct args a;
	int rc;

	if ((rc = parse("login", argc, argv, 1, &a)) != 0 || a.help) {
		if (a.help)
			fputs(login_usage, stdout);
		return rc;
	}
	s.no_browser = a.no_browser;
	if (getenv("MCP_BRIDGE_ACCESS_TOKEN"))
		fprintf(stderr,
		    "note: MCP_BRIDGE_ACCESS_TOKEN is set; 'run' "
		    "uses it instead of this sign-in\n");
	if ((rc = sess_open(&s, a.config)) != 0)
		goto out;
	if (loop_catch_signals(s.loop, on_interrupt, &s) == -1)
		goto out;
	auth_relogin(s.auth);
	if (loop_run(s.loop) == -1)
		s.rc = CMD_FAIL;
	rc = s.rc;
out:
	sess_close(&s);
	return rc;
}

/* -- logout ----------------------------------------------------------- */

static void
logged_out(void *arg, int ok, const char *why)
{
	struct sess *s = arg;

	if (ok)
		fprintf(stderr,
		    "Signed out of %s: refresh token revoked, "
		    "stored tokens deleted.\n",
		    cfg_issuer(s->cfg));
	else
		fprintf(stderr, "mcp-bridge logout: %s\n", why);
	s->rc = ok ? CMD_OK : CMD_FAIL;
	loop_stop(s->loop);
}

int
cmd_logout(int argc, char **argv)
{
	struct sess s = { .cmd = "logout", .rc = CMD_FAIL };
	struct args a;
	int rc;

	if ((rc = parse("logout", argc, argv, 0, &a)) != 0 || a.help) {
		if (a.help)
			fputs(logout_usage, stdout);
		return rc;
	}
	if ((rc = sess_open(&s, a.config)) != 0)
		goto out;
	if (auth_start(s.auth) == AUTH_SIGNED_OUT) {
		fprintf(stderr, "Not signed in to %s; nothing to do.\n",
		    cfg_issuer(s.cfg));
		rc = CMD_OK;
		goto out;
	}
	if (loop_catch_signals(s.loop, on_interrupt, &s) == -1)
		goto out;
	auth_logout(s.auth, logged_out, &s);
	if (loop_run(s.loop) == -1)
		s.rc = CMD_FAIL;
	rc = s.rc;
out:
	sess_close(&s);
	return rc;
}

/* -- status ----------------------------------------------------------- */

static void
fmt_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_fmt(out, outsz, "unknown");
}

static json_t *
status_json(struct sess *s, const struct oamsg_claims *c, int in)
{
	const struct tokset *t = auth_tokens(s->auth);
	int64_t exp = t ? tokset_expires_at(t, NULL) : 0;
	json_t *g = json_array();
	char when[32];

	for (size_t i = 0; c && i < c->ngroups; i++)
		json_array_append_new(g, json_string(c->groups[i]));
	fmt_time(exp, when, sizeof(when));
	return json_pack("{s:b, s:s, s:s?, s:s?, s:s?, s:o, s:s?, s:I, s:b, "
	                 "s:s}",
	    "signed_in", in, "issuer", cfg_issuer(s->cfg), "sub",
	    c ? c->sub : NULL, "email", c ? c->email : NULL, "name",
	    c ? c->name : NULL, "groups", g, "expires_at", exp ? when : NULL,
	    "expires_in", (json_int_t)(exp ? exp - (int64_t)time(NULL) : 0),
	    "refresh_token", t && tokset_refresh(t) != NULL, "store",
	    auth_store_name(s->auth));
}

static void
status_text(struct sess *s, const struct oamsg_claims *c, int in)
{
	const struct tokset *t = auth_tokens(s->auth);
	int64_t exp = t ? tokset_expires_at(t, NULL) : 0;
	int64_t left = exp - (int64_t)time(NULL);
	char when[32];

	if (!in) {
		printf("not signed in to %s (run 'mcp-bridge login')\n"
		       "store:   %s\n",
		    cfg_issuer(s->cfg), auth_store_name(s->auth));
		return;
	}
	printf("signed in to %s\n", cfg_issuer(s->cfg));
	if (c) {
		printf("user:    %s%s%s%s (sub %s)\n", c->name ? c->name : "",
		    c->name ? " <" : "", c->email ? c->email : "-",
		    c->name ? ">" : "", c->sub ? c->sub : "?");
		printf("groups:  ");
		for (size_t i = 0; i < c->ngroups; i++)
			printf("%s%s", i ? ", " : "", c->groups[i]);
		printf("%s\n", c->ngroups ? "" : "(none)");
	}
	fmt_time(exp, when, sizeof(when));
	printf("access:  %s (%s)\n", when,
	    left > 0 ? "valid" : "expired; refreshed on next use");
	printf("refresh: %s\n", t && tokset_refresh(t) ? "present" : "absent");
	printf("store:   %s\n", auth_store_name(s->auth));
}

/* The usage documents of the running bridges (new; [] if unreadable). */
static json_t *
bridges_json(void)
{
	char *text = usage_read_all();
	json_t *a = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	if (json_is_array(a))
		return a;
	json_decref(a);
	return json_array();
}

/* Prints `j` (stolen) with the bridges added. */
static void
status_print(json_t *j)
{
	json_object_set_new(j, "bridges", bridges_json());
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(j);
}

/* One line per running bridge and its busiest tools. */
static void
bridges_text(void)
{
	char *all = usage_read_all();
	char *sum =
	    all ? usage_summary(all, time(NULL), STATUS_TOP_TOOLS) : NULL;
	json_t *a = all ? json_loads(all, 0, NULL) : NULL;

	if (sum == NULL)
		printf("bridges: unknown (see the message above)\n");
	else if (json_array_size(a) == 0)
		printf("bridges: none running\n");
	else
		printf("bridges: %zu running\n%s", json_array_size(a), sum);
	json_decref(a);
	free(sum);
	free(all);
}

static int
status_env(const char *issuer, int json)
{
	if (json)
		status_print(json_pack(
		    "{s:b, s:s}", "signed_in", 1, "source", "environment"));
	else {
		printf("using MCP_BRIDGE_ACCESS_TOKEN from the environment "
		       "(not refreshed, not stored)%s%s\n",
		    issuer ? "; issuer " : "", issuer ? issuer : "");
		bridges_text();
	}
	return CMD_OK;
}

int
cmd_status(int argc, char **argv)
{
	struct sess s = { .cmd = "status", .rc = CMD_USAGE };
	struct oamsg_claims c, *cp = NULL;
	const struct secret *id;
	struct args a;
	char err[64];
	int rc, in;

	if ((rc = parse("status", argc, argv, 2, &a)) != 0 || a.help) {
		if (a.help)
			fputs(status_usage, stdout);
		return rc;
	}
	if (getenv("MCP_BRIDGE_ACCESS_TOKEN"))
		return status_env(getenv("MCP_BRIDGE_ISSUER"), a.json);
	if (sess_open(&s, a.config) != 0) {
		rc = CMD_USAGE; /* 2: could not check; the bridges still show */
		if (a.json)
			status_print(json_pack("{s:n}", "signed_in"));
		else
			bridges_text();
		goto out;
	}
	in = auth_start(s.auth) == AUTH_SIGNED_IN;
	id = auth_tokens(s.auth) ? tokset_id(auth_tokens(s.auth)) : NULL;
	if (id &&
	    oamsg_claims_parse(
	        secret_data(id), secret_len(id), &c, err, sizeof(err)) == 0)
		cp = &c;
	if (a.json)
		status_print(status_json(&s, cp, in));
	else {
		status_text(&s, cp, in);
		bridges_text();
	}
	if (cp)
		oamsg_claims_clear(cp);
	rc = in ? CMD_OK : auth_last_error(s.auth)[0] ? CMD_USAGE : CMD_FAIL;
out:
	sess_close(&s);
	return rc;
}

/* -- servers ------------------------------------------------------------ */

static const char *
status_name(enum regmsg_status st)
{
	return st == REGMSG_DEPRECATED ? "deprecated"
	    : st == REGMSG_DELETED     ? "deleted"
	                               : "active";
}

/* Shown by default: usable (a remote, not deleted, not denied). */
static int
usable(const struct regmsg_server *v)
{
	return v->url && v->status != REGMSG_DELETED && v->allowed != 0;
}

static void
print_text(struct sess *s, const struct regmsg_page *pg)
{
	printf("%-16s %-24s %-10s %s\n", "ID", "TITLE", "STATUS", "URL");
	for (size_t i = 0; i < pg->n; i++) {
		const struct regmsg_server *v = &pg->srv[i];

		if (!s->all && !usable(v))
			continue;
		printf("%-16s %-24s %-10s %s\n", regmsg_short_name(v->name),
		    v->title ? v->title : "-", status_name(v->status),
		    v->url ? v->url : "-");
		if (v->status == REGMSG_DEPRECATED && v->status_message)
			printf("%16s deprecated: %s\n", "", v->status_message);
		if (v->refused)
			printf("%16s not usable: %s\n", "", v->refused);
		if (v->allowed == 0)
			printf("%16s denied: %s%s%s\n", "",
			    v->reason ? v->reason : "not allowed",
			    v->request_url ? "; request access at " : "",
			    v->request_url ? v->request_url : "");
	}
}

static json_t *
server_json(const struct regmsg_server *v)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, "
	                 "s:s?, s:s?, s:s?, s:o, s:s?, s:s?}",
	    "name", v->name, "id", regmsg_short_name(v->name), "title",
	    v->title, "description", v->description, "version", v->version,
	    "status", status_name(v->status), "statusMessage",
	    v->status_message, "url", v->url, "transport",
	    v->url ? (v->sse ? "sse" : "streamable-http") : NULL, "resource",
	    v->resource, "refused", v->refused, "allowed",
	    v->allowed < 0 ? json_null() : json_boolean(v->allowed), "reason",
	    v->reason, "requestAccessUrl", v->request_url);
}

static void
print_json(struct sess *s, const struct regmsg_page *pg)
{
	json_t *arr = json_array(), *root;

	for (size_t i = 0; i < pg->n; i++)
		if (s->all || usable(&pg->srv[i]))
			json_array_append_new(arr, server_json(&pg->srv[i]));
	root = json_pack("{s:s, s:b, s:o}", "registry", cfg_registry(s->cfg),
	    "stale", catalog_stale(s->cat), "servers", arr);
	json_dumpf(root, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(root);
}

static void
listed(void *arg, const char *why)
{
	struct sess *s = arg;

	if (why) {
		fprintf(stderr, "mcp-bridge servers: %s\n", why);
		s->rc = CMD_FAIL;
	} else {
		if (s->json)
			print_json(s, catalog_servers(s->cat));
		else
			print_text(s, catalog_servers(s->cat));
		s->rc = CMD_OK;
	}
	loop_stop(s->loop);
}

/* $XDG_CACHE_HOME/mcp-bridge/catalog-<id>.json (new), or NULL. */
char *
cmd_catalog_cache(
    const char *registry, const char *issuer, const char *kind, const char *sub)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	char id[33], *who, *dir;

	if (x && *x == '/')
		dir = x_asprintf("%s/mcp-bridge", x);
	else if (h && *h == '/')
		dir = x_asprintf("%s/.cache/mcp-bridge", h);
	else
		return NULL;
	who = x_asprintf("%s|%s", issuer ? issuer : "-", sub ? sub : "-");
	str_pair_id(registry, who, id);
	free(who);
	if (fsx_mkdirs(dir) == -1) {
		free(dir);
		return NULL;
	}
	who = x_asprintf(
	    "%s/catalog-%s%s%s.json", dir, id, *kind ? "-" : "", kind);
	free(dir);
	return who;
}

/* The signed-in user's subject (new), from the ID token; NULL if none. */
char *
cmd_subject(const struct auth *a)
{
	const struct tokset *t = auth_tokens(a);
	const struct secret *id = t ? tokset_id(t) : NULL;
	struct oamsg_claims c;
	char err[64], *sub = NULL;

	if (id &&
	    oamsg_claims_parse(
	        secret_data(id), secret_len(id), &c, err, sizeof(err)) == 0) {
		sub = c.sub ? x_strdup(c.sub) : NULL;
		oamsg_claims_clear(&c);
	}
	return sub;
}

struct catalog *
cmd_catalog_open(struct loop *l, struct http *h, const struct cfg *c,
    struct auth *a, struct upstream_auth *ua, int all)
{
	struct catalog_opts co = { 0 };
	char *sub = cmd_subject(a);
	char *cache = cmd_catalog_cache(
	    cfg_registry(c), cfg_issuer(c), all ? "all" : "", sub);
	struct catalog *cat;

	auth_token_source(a, ua);
	co.registry = cfg_registry(c);
	co.cache_path = cache;
	co.auth = ua;
	co.include_denied = all;
	cat = catalog_new(l, h, &co);
	free(cache);
	free(sub);
	return cat;
}

static int
servers_run(struct sess *s)
{

	if (cfg_registry(s->cfg) == NULL) {
		fprintf(stderr,
		    "mcp-bridge servers: no registry configured "
		    "(set \"registry\" in the config)\n");
		return CMD_USAGE;
	}
	if (auth_start(s->auth) != AUTH_SIGNED_IN) {
		fprintf(stderr,
		    "mcp-bridge servers: not signed in to %s (run "
		    "'mcp-bridge login')\n",
		    cfg_issuer(s->cfg));
		return CMD_FAIL;
	}
	s->cat =
	    cmd_catalog_open(s->loop, s->http, s->cfg, s->auth, &s->ua, s->all);
	s->rc = CMD_FAIL;
	catalog_refresh(s->cat, listed, s);
	if (s->rc == CMD_FAIL && loop_run(s->loop) == -1)
		return CMD_FAIL;
	return s->rc;
}

int
cmd_servers(int argc, char **argv)
{
	struct sess s = { .cmd = "servers", .rc = CMD_FAIL };
	struct args a;
	int rc;

	if ((rc = parse("servers", argc, argv, 2 | 4, &a)) != 0 || a.help) {
		if (a.help)
			fputs(servers_usage, stdout);
		return rc;
	}
	s.json = a.json;
	s.all = a.all;
	if ((rc = sess_open(&s, a.config)) == 0)
		rc = servers_run(&s);
	catalog_free(&s.cat);
	sess_close(&s);
	return rc;
}

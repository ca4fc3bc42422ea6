/* SPDX-License-Identifier: ISC */
/*
 * cmd_doctor: `mcp-bridge doctor [--json] [--offline] [--config FILE]`.
 *
 * One line per check, ✔ / ✘ (with the fix) / ⚠ / - (skipped): config
 * files, issuer discovery and its device flow, token store, sign-in (a
 * real refresh through auth, so the stored grant stays intact), registry
 * listing, initialize of each allowed server with its latency, and the
 * IDE configs that start mcp-bridge. The network checks run together on
 * the loop, each with its own deadline, so doctor never hangs.
 * --offline skips them. Exit 0: no problem; 1: problems; 2: could not run.
 * No token is ever printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "cmd_doctor_int.h"
#include "log.h"
#include "str.h"
#include "xmem.h"

static const char doctor_usage[] =
    "usage: mcp-bridge doctor [--json] [--offline] [--config FILE]\n"
    "Checks, one line each: the config files; issuer discovery and its\n"
    "device flow; the token store; the sign-in (refreshed now) or\n"
    "MCP_BRIDGE_ACCESS_TOKEN; the registry; that every allowed server\n"
    "answers initialize within 5 s; IDE configs that start mcp-bridge.\n"
    "  --json      a JSON report {checks:[{name, ok, status, detail, fix,\n"
    "              ms}], ok}\n"
    "  --offline   skip the checks that need the network\n"
    "  --config F  configuration file (over system and user files)\n"
    "Exit status: 0 no problem found, 1 problems found, 2 could not run.\n";

/* Appends to a capped buffer; past the cap the text is cut. */
void
cmd_doctor_put(struct buf *b, const char *s)
{
	if (buf_puts(b, s) == -1)
		return;
}

/* -- checks ----------------------------------------------------------- */

static void on_check_timer(void *arg);

struct check *
cmd_doctor_check_new(struct doctor *d, const char *name)
{
	struct check *c = x_calloc(1, sizeof(*c));

	c->d = d;
	c->name = x_strdup(name);
	c->ms = -1;
	d->c = x_realloc(d->c, (d->nc + 1) * sizeof(*d->c));
	d->c[d->nc++] = c;
	return c;
}

/* An asynchronous check: timed, with a deadline. */
struct check *
cmd_doctor_check_start(struct doctor *d, const char *name, int64_t limit,
    void (*expire)(struct check *))
{
	struct check *c = cmd_doctor_check_new(d, name);

	c->t0 = loop_now_ms();
	c->expire = expire;
	c->tmr = loop_timer_new(d->loop, on_check_timer, c);
	loop_timer_arm(c->tmr, limit);
	d->pending++;
	return c;
}

void
cmd_doctor_check_set(
    struct check *c, enum dst st, const char *detail, const char *fix)
{
	int was = c->st == D_PENDING && c->tmr;

	if (c->st != D_PENDING)
		return;
	c->st = st;
	c->detail = x_strdup(detail ? detail : "");
	c->fix = fix ? x_strdup(fix) : NULL;
	if (was) {
		c->ms = loop_now_ms() - c->t0;
		loop_timer_del(c->tmr);
		c->tmr = NULL;
		c->d->pending--;
		cmd_doctor_maybe_done(c->d);
	}
}

static void
on_check_timer(void *arg)
{
	struct check *c = arg;

	loop_timer_del(c->tmr);
	c->tmr = NULL;
	c->ms = loop_now_ms() - c->t0;
	c->d->pending--;
	c->expire(c); /* sets the result */
	if (c->st == D_PENDING)
		c->st = D_FAIL;
	cmd_doctor_maybe_done(c->d);
}

void
cmd_doctor_expire_net(struct check *c)
{
	char msg[128];

	str_fmt(
	    msg, sizeof(msg), "no answer within %d s", DOCTOR_NET_MS / 1000);
	cmd_doctor_check_set(c, D_FAIL, msg,
	    "check the network and proxy (https_proxy, no_proxy)");
}

/* -- config ----------------------------------------------------------- */

/* Validates one file if it exists; appends its name to `seen`. 0/-1. */
static int
config_file(
    const char *path, int must, struct buf *seen, char *err, size_t errsz)
{
	struct stat st;

	if (path == NULL || (!must && stat(path, &st) == -1))
		return 0;
	if (cfg_validate_file(path, err, errsz) == -1)
		return -1;
	if (buf_len(seen))
		cmd_doctor_put(seen, ", ");
	cmd_doctor_put(seen, path);
	return 0;
}

static void
check_config(struct doctor *d, const char *explicit_path)
{
	struct check *c = cmd_doctor_check_new(d, "config");
	const char *sys = getenv("MCP_BRIDGE_SYSTEM_CONFIG");
	const char *expl =
	    explicit_path ? explicit_path : getenv("MCP_BRIDGE_CONFIG");
	char *user = cmd_user_config(), err[512], msg[1024];
	struct buf seen;

	buf_init(&seen, 8192);
	if (config_file(sys ? sys : "/etc/mcp-bridge/config.json", 0, &seen,
	        err, sizeof(err)) == -1 ||
	    config_file(user, 0, &seen, err, sizeof(err)) == -1 ||
	    config_file(expl, 1, &seen, err, sizeof(err)) == -1) {
		cmd_doctor_check_set(c, D_FAIL, err,
		    "correct that value (check with 'mcp-bridge config "
		    "validate FILE')");
		goto out;
	}
	if ((d->cfg = cmd_load_cfg("doctor", explicit_path, NULL)) == NULL) {
		cmd_doctor_check_set(c, D_FAIL,
		    "the MCP_BRIDGE_* environment is invalid",
		    "correct or unset the variable named above");
		goto out;
	}
	if (cfg_issuer(d->cfg) && cfg_client_id(d->cfg) == NULL) {
		cmd_doctor_check_set(c, D_FAIL,
		    "an issuer is set but no client_id",
		    "set \"client_id\" (the bridge's public client id)");
		goto out;
	}
	str_fmt(msg, sizeof(msg), "%s%s",
	    buf_len(&seen) ? buf_data(&seen) : "no config files",
	    buf_len(&seen) ? ": valid" : " (defaults and environment)");
	if (!cfg_issuer(d->cfg) && !cfg_registry(d->cfg) &&
	    cfg_server_count(d->cfg) == 0)
		cmd_doctor_check_set(c, D_WARN, msg,
		    "nothing to connect to: set \"issuer\" and \"registry\", "
		    "or \"servers\"");
	else
		cmd_doctor_check_set(c, D_OK, msg, NULL);
out:
	buf_finish(&seen);
	free(user);
}

/* -- token store and sign-in -------------------------------------------- */

static enum tokstore_kind
store_kind(struct doctor *d)
{
	const char *s = cfg_token_store(d->cfg);
	enum tokstore_kind k;

	if (tokstore_kind_parse(s ? s : "keyring", &k) == -1)
		k = TOKSTORE_KEYRING;
	return k;
}

static void
check_store(struct doctor *d)
{
	struct check *c = cmd_doctor_check_new(d, "token store");
	struct tokstore_opts o = { .timeout_ms = DOCTOR_STORE_MS };
	struct tokstore *t;
	char err[256], msg[400];

	if (d->envtok) {
		cmd_doctor_check_set(
		    c, D_SKIP, "MCP_BRIDGE_ACCESS_TOKEN is used instead", NULL);
		return;
	}
	if (d->cfg == NULL || cfg_issuer(d->cfg) == NULL) {
		cmd_doctor_check_set(c, D_SKIP, "no issuer configured", NULL);
		return;
	}
	if ((t = tokstore_open(store_kind(d), &o, err, sizeof(err))) == NULL) {
		cmd_doctor_check_set(c, D_FAIL, err,
		    "unlock or install a Secret Service keyring "
		    "(gnome-keyring), or set \"token_store\": \"file\"");
		return;
	}
	str_fmt(msg, sizeof(msg), "%s", tokstore_name(t));
	if (store_kind(d) == TOKSTORE_MEMORY)
		cmd_doctor_check_set(c, D_WARN, msg,
		    "tokens are lost at exit: set \"token_store\" to "
		    "\"keyring\" or \"file\"");
	else
		cmd_doctor_check_set(c, D_OK, msg, NULL);
	tokstore_close(&t);
}

static void sign_state(void *arg, enum auth_state st, const char *why);
static void sign_tokens(void *arg);
static const struct auth_cbs doctor_auth_cbs = { sign_state, NULL,
	sign_tokens };

static int
auth_open(struct doctor *d, char *err, size_t errsz)
{
	struct auth_opts o = { 0 };

	o.issuer = cfg_issuer(d->cfg);
	o.client_id = cfg_client_id(d->cfg);
	o.scope = d->scope;
	o.resource = cfg_resource(d->cfg);
	o.profile = cfg_profile(d->cfg);
	o.store = store_kind(d);
	o.store_opts.timeout_ms = DOCTOR_STORE_MS;
	o.strict_store = 1;
	d->auth =
	    auth_new(d->loop, d->http, &o, &doctor_auth_cbs, d, err, errsz);
	return d->auth ? 0 : -1;
}

/* The sign-in, locally: 0 signed in, -1 not (check set). */
static int
sign_local(struct doctor *d)
{
	struct check *c = d->csign;
	char err[512], msg[700];

	if (auth_open(d, err, sizeof(err)) == -1) {
		cmd_doctor_check_set(
		    c, D_SKIP, "the token store cannot be used", NULL);
		return -1;
	}
	if (auth_start(d->auth) != AUTH_SIGNED_IN) {
		str_fmt(msg, sizeof(msg), "not signed in to %s%s%s",
		    cfg_issuer(d->cfg), *auth_last_error(d->auth) ? ": " : "",
		    auth_last_error(d->auth));
		cmd_doctor_check_set(c, D_FAIL, msg, "run 'mcp-bridge login'");
		return -1;
	}
	d->signed_in = 1;
	return 0;
}

static void
sign_result(struct doctor *d, enum dst st, const char *msg, const char *fix)
{
	cmd_doctor_check_set(d->csign, st, msg, fix);
	cmd_doctor_phase2(d);
}

static void
expire_sign(struct check *c)
{
	cmd_doctor_expire_net(c);
	cmd_doctor_phase2(c->d);
}

/* The refresh ended, or the tokens changed: decide. */
static void
sign_eval(struct doctor *d)
{
	const struct secret *tok;
	const char *why, *err = auth_last_error(d->auth);
	char msg[600];

	if (d->csign->st != D_PENDING)
		return;
	if (strcmp(err, d->snapshot) != 0 && *err) {
		sign_result(d, D_FAIL, err,
		    strstr(err, "invalid_grant") || strstr(err, "sign in")
		        ? "run 'mcp-bridge login'"
		        : "check that the issuer is reachable");
		return;
	}
	if (auth_bearer(d->auth, NULL, &tok, &why) == 0) {
		str_fmt(msg, sizeof(msg),
		    "signed in to %s; the token was refreshed (tokens in the "
		    "%s)",
		    cfg_issuer(d->cfg), auth_store_name(d->auth));
		sign_result(d, D_OK, msg, NULL);
	} else if (auth_state(d->auth) != AUTH_SIGNED_IN)
		sign_result(d, D_FAIL, why, "run 'mcp-bridge login'");
}

static void
sign_state(void *arg, enum auth_state st, const char *why)
{
	struct doctor *d = arg;

	if (st == AUTH_SIGNED_OUT && d->csign && d->csign->st == D_PENDING)
		sign_result(d, D_FAIL, why ? why : "signed out",
		    "run 'mcp-bridge login'");
}

static void
sign_tokens(void *arg)
{
	struct doctor *d = arg;

	if (d->csign && d->csign->st == D_PENDING && d->csign->tmr)
		sign_eval(d);
	for (size_t i = 0; i < d->nsrv; i++)
		if (d->srv[i]->up)
			upstream_auth_ready(d->srv[i]->up);
}

/* Forces one real refresh through auth (lock, store, rotation). */
static void
sign_refresh(struct doctor *d)
{
	const struct secret *tok;
	const char *why;
	int rc;

	str_fmt(
	    d->snapshot, sizeof(d->snapshot), "%s", auth_last_error(d->auth));
	rc = auth_bearer(d->auth, NULL, &tok, &why);
	if (rc == -1) {
		sign_result(d, D_FAIL, why, "run 'mcp-bridge login'");
		return;
	}
	if (rc == 0)
		auth_rejected(d->auth, NULL, tok); /* refresh it now */
}

/* -- the environment token ------------------------------------------------ */

static int
env_bearer(void *arg, const struct secret **out, const char **why)
{
	struct doctor *d = arg;

	*out = NULL;
	*why = "MCP_BRIDGE_ACCESS_TOKEN was refused (HTTP 401)";
	if (d->env_rejected)
		return -1;
	*out = d->envtok;
	return 0;
}

static void
env_rejected(void *arg, const struct secret *tok)
{
	struct doctor *d = arg;

	(void)tok;
	d->env_rejected = 1;
}

static void
take_env_token(struct doctor *d)
{
	char *t = getenv("MCP_BRIDGE_ACCESS_TOKEN");

	if (t == NULL || *t == '\0')
		return;
	d->envtok = secret_new(t, strlen(t));
	secret_wipe(t, strlen(t));
	unsetenv("MCP_BRIDGE_ACCESS_TOKEN");
	d->eua = (struct upstream_auth){ env_bearer, env_rejected, d };
}

/* -- report ------------------------------------------------------------------
 */

static const char *
st_name(enum dst st)
{
	return st == D_OK  ? "ok"
	    : st == D_WARN ? "warn"
	    : st == D_SKIP ? "skip"
	                   : "fail";
}

static int
all_ok(const struct doctor *d)
{
	for (size_t i = 0; i < d->nc; i++)
		if (d->c[i]->st == D_FAIL || d->c[i]->st == D_PENDING)
			return 0;
	return 1;
}

static void
print_json(const struct doctor *d)
{
	json_t *arr = json_array(), *root;

	for (size_t i = 0; i < d->nc; i++) {
		const struct check *c = d->c[i];

		json_array_append_new(arr,
		    json_pack("{s:s, s:b, s:s, s:s, s:s?, s:o}", "name",
		        c->name, "ok", c->st != D_FAIL, "status",
		        st_name(c->st), "detail", c->detail ? c->detail : "",
		        "fix", c->fix, "ms",
		        c->ms >= 0 ? json_integer(c->ms) : json_null()));
	}
	root = json_pack("{s:o, s:b}", "checks", arr, "ok", all_ok(d));
	json_dumpf(root, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(root);
}

static void
print_text(const struct doctor *d)
{
	for (size_t i = 0; i < d->nc; i++) {
		const struct check *c = d->c[i];
		const char *mark = c->st == D_OK ? "\u2714"
		    : c->st == D_WARN            ? "\u26a0"
		    : c->st == D_SKIP            ? "-"
		                                 : "\u2718";

		printf("%s %-12s %s", mark, c->name, c->detail);
		if (c->ms >= 0)
			printf(" [%lld ms]", (long long)c->ms);
		putchar('\n');
		if (c->fix && *c->fix)
			printf("  %-12s fix: %s\n", "", c->fix);
	}
	printf("%s\n",
	    all_ok(d) ? "no problems found"
	              : "problems found (see \u2718 above)");
}

/* -- main
 * ----------------------------------------------------------------------- */

static void
on_done_timer(void *arg)
{
	struct doctor *d = arg;

	if (d->pending == 0 && d->closing == 0)
		loop_stop(d->loop);
}

/* Stops the loop once nothing is pending, after the current callback
 * (which may still start the next checks). */
void
cmd_doctor_maybe_done(struct doctor *d)
{
	if (d->pending == 0 && d->closing == 0)
		loop_timer_arm(d->done, 0);
}

static void
doctor_free(struct doctor *d)
{
	for (size_t i = 0; i < d->nsrv; i++) {
		upstream_free(&d->srv[i]->up);
		hdrlist_free(&d->srv[i]->hdrs);
		free(d->srv[i]->url);
		free(d->srv[i]->resource);
		free(d->srv[i]);
	}
	free(d->srv);
	catalog_free(&d->cat);
	if (d->cache)
		unlink(d->cache);
	free(d->cache);
	oauth_free(&d->oauth);
	auth_free(&d->auth);
	for (size_t i = 0; i < d->nc; i++) {
		loop_timer_del(d->c[i]->tmr);
		free(d->c[i]->name);
		free(d->c[i]->detail);
		free(d->c[i]->fix);
		free(d->c[i]);
	}
	free(d->c);
	http_free(&d->http);
	loop_free(&d->loop);
	cfg_free(&d->cfg);
	secret_free(&d->envtok);
	free(d->scope);
}

static const struct option doctor_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "offline", no_argument, NULL, 'o' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 0, -1 for --help, or CMD_USAGE. */
static int
doctor_args(struct doctor *d, int argc, char **argv, const char **config)
{
	int ch;

	opterr = 0;
	optind = 1;
	while (
	    (ch = getopt_long(argc, argv, "h", doctor_longopts, NULL)) != -1) {
		if (ch == 'j')
			d->json = 1;
		else if (ch == 'o')
			d->offline = 1;
		else if (ch == 'c')
			*config = optarg;
		else if (ch == 'h')
			return -1;
		else
			return cmd_usage_error("doctor",
			    "unknown option or missing value: '%s'",
			    argv[optind - 1]);
	}
	if (optind < argc)
		return cmd_usage_error(
		    "doctor", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The checks that need no network, then the network ones started. */
static void
doctor_start(struct doctor *d)
{
	check_store(d);
	if (!d->envtok && cfg_issuer(d->cfg)) {
		d->csign = cmd_doctor_check_new(d, "sign-in");
		if (sign_local(d) == 0) {
			auth_token_source(d->auth, &d->rua);
			if (d->offline)
				cmd_doctor_check_set(d->csign, D_OK,
				    "signed in (not refreshed: --offline)",
				    NULL);
		}
	} else if (d->envtok)
		d->csign = cmd_doctor_check_new(d, "sign-in");
	else
		cmd_doctor_check_set(
		    d->csign = cmd_doctor_check_new(d, "sign-in"), D_SKIP,
		    "no issuer configured (static credentials)", NULL);
	if (d->offline) {
		if (d->envtok)
			cmd_doctor_check_set(d->csign, D_SKIP,
			    "MCP_BRIDGE_ACCESS_TOKEN set (not checked: "
			    "--offline)",
			    NULL);
		cmd_doctor_check_set(cmd_doctor_check_new(d, "network"), D_SKIP,
		    "issuer, registry and servers not checked (--offline)",
		    NULL);
		return;
	}
	if (cfg_issuer(d->cfg))
		cmd_doctor_discover(d);
	if (d->csign->st == D_PENDING && !d->envtok) {
		d->csign->t0 = loop_now_ms();
		d->csign->expire = expire_sign;
		d->csign->tmr =
		    loop_timer_new(d->loop, on_check_timer, d->csign);
		loop_timer_arm(d->csign->tmr, DOCTOR_NET_MS);
		d->pending++;
		sign_refresh(d);
	} else
		cmd_doctor_phase2(d);
	if (d->envtok && d->csign->st == D_PENDING && !cfg_registry(d->cfg))
		cmd_doctor_check_set(d->csign, D_WARN,
		    "MCP_BRIDGE_ACCESS_TOKEN set (not checked: no registry "
		    "configured)",
		    NULL);
}

int
cmd_doctor(int argc, char **argv)
{
	struct doctor d = { 0 };
	struct http_opts ho = { 0 };
	const char *config = NULL;
	int rc;

	if ((rc = doctor_args(&d, argc, argv, &config)) != 0) {
		if (rc == -1)
			fputs(doctor_usage, stdout);
		return rc == -1 ? CMD_OK : rc;
	}
	log_set_level(LOG_ERROR);
	take_env_token(&d);
	d.loop = loop_new();
	d.done = loop_timer_new(d.loop, on_done_timer, &d);
	check_config(&d, config);
	if (d.cfg) {
		d.scope = cmd_scope_string(d.cfg);
		ho.cacert = cfg_cacert(d.cfg);
		ho.connect_timeout_ms = DOCTOR_CONNECT_MS;
		if ((d.http = http_new(d.loop, &ho)) == NULL) {
			fprintf(
			    stderr, "mcp-bridge doctor: cannot start HTTP\n");
			doctor_free(&d);
			return CMD_USAGE;
		}
		doctor_start(&d);
	}
	if (d.pending && loop_run(d.loop) == -1) {
		doctor_free(&d);
		return CMD_USAGE;
	}
	cmd_doctor_ide(&d);
	if (d.json)
		print_json(&d);
	else
		print_text(&d);
	rc = all_ok(&d) ? CMD_OK : CMD_FAIL;
	doctor_free(&d);
	return rc;
}

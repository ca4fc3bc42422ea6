/* SPDX-License-Identifier: ISC */
/*
 * cmd_doctor_net: doctor's network checks: issuer discovery, the registry
 * listing, and initialize of every allowed server (each with a deadline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_doctor_int.h"
#include "rpc.h"
#include "str.h"
#include "xmem.h"

/* -- issuer discovery ------------------------------------------------------ */

static void
on_discovered(void *arg, struct oauth_result *r)
{
	struct doctor *d = arg;
	const struct oamsg_meta *m = oauth_meta(d->oauth);
	char msg[700], fix[400];

	d->disc = NULL;
	if (r->ok && m) {
		str_fmt(msg, sizeof(msg),
		    "%s: discovery works; device flow at %s",
		    cfg_issuer(d->cfg), m->device_ep);
		cmd_doctor_check_set(d->cdisc, D_OK, msg, NULL);
		return;
	}
	if (strstr(r->why, "device flow"))
		str_fmt(fix, sizeof(fix),
		    "enable the device authorization grant (RFC 8628) at the "
		    "IdP for client %s",
		    cfg_client_id(d->cfg));
	else if (strstr(r->why, "issuer"))
		str_fmt(fix, sizeof(fix),
		    "set \"issuer\" (%s) to exactly the issuer the IdP "
		    "announces",
		    cfg_origin(d->cfg, "issuer"));
	else
		str_fmt(fix, sizeof(fix),
		    "check \"issuer\" (%s) and that the IdP is reachable "
		    "(https_proxy, no_proxy)",
		    cfg_origin(d->cfg, "issuer"));
	cmd_doctor_check_set(d->cdisc, D_FAIL, r->why, fix);
}

static void
expire_disc(struct check *c)
{
	oauth_cancel(c->d->disc);
	c->d->disc = NULL;
	cmd_doctor_expire_net(c);
}

void
cmd_doctor_discover(struct doctor *d)
{
	struct oauth_opts o = { cfg_issuer(d->cfg), cfg_client_id(d->cfg),
		d->scope, cfg_resource(d->cfg) };

	d->cdisc =
	    cmd_doctor_check_start(d, "issuer", DOCTOR_NET_MS, expire_disc);
	d->oauth = oauth_new(d->loop, d->http, &o);
	d->disc = oauth_discover(d->oauth, on_discovered, d);
	if (d->cdisc->st != D_PENDING)
		d->disc = NULL; /* answered at once */
}

/* -- servers: initialize ------------------------------------------------------
 */

static int
srv_bearer(void *arg, const struct secret **out, const char **why)
{
	struct srv *s = arg;

	return auth_bearer(s->d->auth, s->resource, out, why);
}

static void
srv_rejected(void *arg, const struct secret *tok)
{
	struct srv *s = arg;

	auth_rejected(s->d->auth, s->resource, tok);
}

static void
srv_closed(void *arg)
{
	struct srv *s = arg;

	s->closing = 0;
	s->d->closing--;
	cmd_doctor_maybe_done(s->d);
}

static void
srv_end(struct srv *s)
{
	if (s->up == NULL || s->closing)
		return;
	s->closing = 1;
	s->d->closing++;
	upstream_close(s->up);
}

static void
srv_message(void *arg, const char *js, size_t len, struct rpc *msg)
{
	struct srv *s = arg;
	char ver[64] = "?", name[128] = "?", msg2[600];
	int64_t id;

	(void)len;
	if (rpc_kind(msg) != RPC_RESPONSE ||
	    rpc_span_int(js, rpc_id(msg), &id) == -1 || id != s->id ||
	    s->c->st != D_PENDING)
		return;
	if (rpc_is_error(msg)) {
		char m[300] = "?";

		rpc_span_str(
		    js, rpc_get(msg, "error", "message", NULL), m, sizeof(m));
		str_fmt(
		    msg2, sizeof(msg2), "%s: initialize failed: %s", s->url, m);
		cmd_doctor_check_set(s->c, D_FAIL, msg2,
		    "ask the server's owners; the bridge cannot use it");
	} else {
		rpc_span_str(js,
		    rpc_get(msg, "result", "protocolVersion", NULL), ver,
		    sizeof(ver));
		rpc_span_str(js,
		    rpc_get(msg, "result", "serverInfo", "name", NULL), name,
		    sizeof(name));
		str_fmt(msg2, sizeof(msg2),
		    "%s answered initialize in %lld ms (protocol %s, %s)",
		    s->url, (long long)(loop_now_ms() - s->c->t0), ver, name);
		cmd_doctor_check_set(s->c, D_OK, msg2, NULL);
	}
	srv_end(s);
}

static void
srv_fail(void *arg, int64_t id, int code, const char *why)
{
	struct srv *s = arg;
	char msg[600];

	(void)code;
	if (id != s->id)
		return;
	str_fmt(msg, sizeof(msg), "%s: %s", s->url, why);
	cmd_doctor_check_set(s->c, D_FAIL, msg,
	    strstr(why, "401") || strstr(why, "sign")
	        ? "check the sign-in and the server's audience"
	        : "check the URL and that the server is up");
}

static const struct upstream_cbs srv_cbs = { srv_message, srv_fail,
	srv_closed };

static struct srv *
srv_by_check(struct doctor *d, struct check *c)
{
	for (size_t i = 0; i < d->nsrv; i++)
		if (d->srv[i]->c == c)
			return d->srv[i];
	return NULL;
}

static void
expire_srv(struct check *c)
{
	struct srv *s = srv_by_check(c->d, c);
	char msg[600];

	str_fmt(msg, sizeof(msg), "%s: no answer to initialize within %d s",
	    s ? s->url : "?", DOCTOR_INIT_MS / 1000);
	cmd_doctor_check_set(
	    c, D_FAIL, msg, "check that the server is up and not overloaded");
	if (s)
		upstream_free(&s->up);
}

/* Starts the initialize of one server; `ua` NULL = no token. */
static void
srv_start(struct doctor *d, const char *name, const char *url,
    const char *resource, const struct upstream_auth *ua)
{
	struct upstream_opts o = { 0 };
	struct srv *s;
	char label[300], *body;

	for (size_t i = 0; i < d->nsrv; i++)
		if (strcmp(d->srv[i]->url, url) == 0)
			return; /* listed twice */
	str_fmt(label, sizeof(label), "server %s", name);
	if (d->nsrv == DOCTOR_MAX_SERVERS) {
		cmd_doctor_check_set(cmd_doctor_check_new(d, label), D_SKIP,
		    "not checked: too many", NULL);
		return;
	}
	s = x_calloc(1, sizeof(*s));
	s->d = d;
	s->url = x_strdup(url);
	s->resource = resource ? x_strdup(resource) : NULL;
	d->srv = x_realloc(d->srv, (d->nsrv + 1) * sizeof(*d->srv));
	d->srv[d->nsrv++] = s;
	s->c = cmd_doctor_check_start(d, label, DOCTOR_INIT_MS, expire_srv);
	if (ua == &d->rua) { /* signed in: this server's own audience */
		s->ua = (struct upstream_auth){ srv_bearer, srv_rejected, s };
		ua = &s->ua;
	}
	s->hdrs = hdrlist_new();
	o.url = s->url;
	o.headers = s->hdrs;
	o.request_max_ms = 0; /* our own deadline ends it */
	o.auth = ua;
	s->up = upstream_new(d->loop, d->http, &o, &srv_cbs, s);
	s->id = upstream_next_id(s->up);
	body =
	    x_asprintf("{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":"
	               "\"initialize\",\"params\":{\"protocolVersion\":"
	               "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{"
	               "\"name\":\"mcp-bridge-doctor\",\"version\":\"%s\"}}}",
	        (long long)s->id, MCP_BRIDGE_VERSION);
	upstream_send(s->up, body, strlen(body), s->id, UPSTREAM_INITIALIZE);
}

/* The token source for servers and the registry, or NULL with why. */
static const struct upstream_auth *
token_source(struct doctor *d, const char **why)
{
	*why = NULL;
	if (d->envtok)
		return &d->eua;
	if (cfg_issuer(d->cfg) == NULL)
		return NULL;
	if (d->signed_in && d->csign->st == D_OK)
		return &d->rua;
	*why = "not checked: needs a working sign-in";
	return NULL;
}

static void
static_servers(struct doctor *d)
{
	const struct upstream_auth *ua;
	const char *why, *url;
	char label[300];

	for (size_t i = 0; i < cfg_server_count(d->cfg); i++) {
		if ((url = cfg_server_url(d->cfg, i)) == NULL ||
		    !cfg_server_enabled(d->cfg, i))
			continue;
		ua = token_source(d, &why);
		if (why) {
			str_fmt(label, sizeof(label), "server %s",
			    cfg_server_name(d->cfg, i));
			cmd_doctor_check_set(
			    cmd_doctor_check_new(d, label), D_SKIP, why, NULL);
			continue;
		}
		srv_start(d, cfg_server_name(d->cfg, i), url,
		    cfg_server_resource(d->cfg, i), ua);
	}
}

/* -- registry -----------------------------------------------------------------
 */

static int
usable(const struct regmsg_server *v)
{
	return v->url && !v->refused && v->status != REGMSG_DELETED &&
	    v->allowed != 0;
}

static void
registry_servers(struct doctor *d, const struct regmsg_page *pg)
{
	char label[300];

	for (size_t i = 0; i < pg->n; i++) {
		const struct regmsg_server *v = &pg->srv[i];

		if (!usable(v))
			continue;
		if (d->envtok) {
			str_fmt(label, sizeof(label), "server %s",
			    regmsg_short_name(v->name));
			cmd_doctor_check_set(cmd_doctor_check_new(d, label),
			    D_SKIP,
			    "not checked: 'run --server' needs a sign-in, not "
			    "MCP_BRIDGE_ACCESS_TOKEN",
			    NULL);
			continue;
		}
		srv_start(d, regmsg_short_name(v->name), v->url, v->resource,
		    &d->rua);
	}
}

static void
on_listed(void *arg, const char *why)
{
	struct doctor *d = arg;
	const struct regmsg_page *pg = catalog_servers(d->cat);
	char msg[700], fix[400];
	size_t n = 0;

	if (why == NULL && catalog_stale(d->cat))
		why = "cannot be reached (only a cached list is available)";
	if (why) {
		str_fmt(msg, sizeof(msg), "%s: %s", cfg_registry(d->cfg), why);
		str_fmt(fix, sizeof(fix),
		    "check \"registry\" (%s) and that it is reachable",
		    cfg_origin(d->cfg, "registry"));
		if (d->env_rejected)
			str_fmt(fix, sizeof(fix),
			    "get a fresh MCP_BRIDGE_ACCESS_TOKEN, or unset it "
			    "and run 'mcp-bridge login'");
		cmd_doctor_check_set(d->creg, D_FAIL, msg, fix);
		if (d->envtok && d->csign->st == D_PENDING)
			cmd_doctor_check_set(d->csign,
			    d->env_rejected ? D_FAIL : D_SKIP,
			    d->env_rejected
			        ? "MCP_BRIDGE_ACCESS_TOKEN was refused by the "
			          "registry (HTTP 401)"
			        : "MCP_BRIDGE_ACCESS_TOKEN not checked: the "
			          "registry did not answer",
			    d->env_rejected ? fix : NULL);
		return;
	}
	for (size_t i = 0; i < pg->n; i++)
		n += usable(&pg->srv[i]);
	str_fmt(msg, sizeof(msg), "%s lists %zu server%s you may use",
	    cfg_registry(d->cfg), n, n == 1 ? "" : "s");
	cmd_doctor_check_set(d->creg, D_OK, msg, NULL);
	if (d->envtok && d->csign->st == D_PENDING)
		cmd_doctor_check_set(d->csign, D_OK,
		    "MCP_BRIDGE_ACCESS_TOKEN accepted by the registry", NULL);
	registry_servers(d, pg);
}

static void
expire_reg(struct check *c)
{
	catalog_free(&c->d->cat);
	cmd_doctor_expire_net(c);
	if (c->d->envtok && c->d->csign->st == D_PENDING)
		cmd_doctor_check_set(c->d->csign, D_SKIP,
		    "MCP_BRIDGE_ACCESS_TOKEN not checked: the registry did not "
		    "answer",
		    NULL);
}

static void
start_registry(struct doctor *d)
{
	struct catalog_opts o = { 0 };
	const struct upstream_auth *ua;
	const char *why;
	char *sub;

	if (cfg_registry(d->cfg) == NULL)
		return;
	ua = token_source(d, &why);
	if (ua == NULL) {
		cmd_doctor_check_set(cmd_doctor_check_new(d, "registry"),
		    D_SKIP, why ? why : "not checked: no sign-in configured",
		    NULL);
		return;
	}
	d->creg =
	    cmd_doctor_check_start(d, "registry", DOCTOR_NET_MS, expire_reg);
	o.registry = cfg_registry(d->cfg);
	o.auth = ua;
	/*
	 * A cache file of doctor's own, removed before and after the run, so
	 * the registry is really asked (catalog leaks its page list when it
	 * has no cache path at all).
	 */
	sub = d->auth ? cmd_subject(d->auth) : NULL;
	d->cache = cmd_catalog_cache(
	    cfg_registry(d->cfg), cfg_issuer(d->cfg), "doctor", sub);
	if (d->cache)
		unlink(d->cache);
	o.cache_path = d->cache;
	d->cat = catalog_new(d->loop, d->http, &o);
	free(sub);
	catalog_refresh(d->cat, on_listed, d);
}

/* After the sign-in check: the registry and the configured servers. */
void
cmd_doctor_phase2(struct doctor *d)
{
	if (d->phase2 || d->offline || d->cfg == NULL)
		return;
	d->phase2 = 1;
	start_registry(d);
	static_servers(d);
	cmd_doctor_maybe_done(d);
}

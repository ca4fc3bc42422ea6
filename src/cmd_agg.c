/* SPDX-License-Identifier: ISC */
#include "cmd_agg.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cmd.h"
#include "log.h"
#include "names.h"
#include "str.h"
#include "xmem.h"

/* Backoff while the registry cannot be reached and nothing is cached. */
#define RETRY_MIN_MS 2000
#define RETRY_MAX_MS (60 * 1000)

/* One server's token source: the sign-in, for its audience. */
struct src {
	struct auth *auth;
	char *resource;
	struct upstream_auth ua;
};

/* A server this filler added. */
struct added {
	char *id, *name;
	int registry; /* came from the registry listing */
};

struct cmd_agg {
	struct loop *loop;
	struct http *http;
	const struct cfg *cfg;
	struct auth *auth;
	struct agg *agg;
	struct catalog *cat;
	struct upstream_auth cat_ua;
	int64_t refresh_ms, retry_ms;
	struct loop_timer *timer;
	int asking, answered;
	struct src *src[AGG_MAX_LINKS * 2];
	size_t nsrc;
	struct added added[AGG_MAX_LINKS];
	size_t nadded;
};

static int
bearer(void *arg, const struct secret **out, const char **why)
{
	struct src *s = arg;

	return auth_bearer(s->auth, s->resource, out, why);
}

static void
rejected(void *arg, const struct secret *tok)
{
	struct src *s = arg;

	auth_rejected(s->auth, s->resource, tok);
}

/* A token source for `resource` (NULL: default audience), or NULL. */
static const struct upstream_auth *
source(struct cmd_agg *c, const char *resource)
{
	struct src *s;

	if (c->auth == NULL || c->nsrc == sizeof(c->src) / sizeof(c->src[0]))
		return NULL;
	s = x_calloc(1, sizeof(*s));
	s->auth = c->auth;
	s->resource = resource ? x_strdup(resource) : NULL;
	s->ua.bearer = bearer;
	s->ua.rejected = rejected;
	s->ua.arg = s;
	c->src[c->nsrc++] = s;
	return &s->ua;
}

/* `sse`: the server offers only the deprecated HTTP+SSE transport. */
static int
add(struct cmd_agg *c, const char *id, const char *name, const char *title,
    const char *url, const char *resource, int registry, int sse)
{
	struct agg_server s = { id, name, title, url, source(c, resource),
		sse };

	if (c->nadded == AGG_MAX_LINKS || agg_add(c->agg, &s) == -1)
		return -1;
	c->added[c->nadded].id = x_strdup(id);
	c->added[c->nadded].name = x_strdup(name);
	c->added[c->nadded++].registry = registry;
	return 0;
}

/* -- static servers ---------------------------------------------------- */

static int
add_static(struct cmd_agg *c)
{
	const struct cfg *cfg = c->cfg;
	size_t n = cfg_server_count(cfg), k = 0;
	const char **names = x_calloc(n + 1, sizeof(*names));
	const char **ids = x_calloc(n + 1, sizeof(*ids));
	char(*out)[NAMES_ID_MAX + 1] = x_calloc(n + 1, sizeof(*out));
	size_t *which = x_calloc(n + 1, sizeof(*which));
	char err[300];
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		if (cfg_server_url(cfg, i) && cfg_server_enabled(cfg, i)) {
			names[k] = cfg_server_name(cfg, i);
			ids[k] = cfg_server_id(cfg, i);
			which[k++] = i;
		}
	if (names_ids(names, ids, k, out, err, sizeof(err)) == -1) {
		log_error("servers: %s", err);
		goto out;
	}
	for (size_t j = 0; j < k; j++)
		add(c, out[j], names[j], NULL, cfg_server_url(cfg, which[j]),
		    cfg_server_resource(cfg, which[j]), 0, 0);
	rc = 0;
out:
	free(names);
	free(ids);
	free(out);
	free(which);
	return rc;
}

/* -- registry servers -------------------------------------------------- */

/* The config entry (without url) adjusting registry server `name`. */
static int
override(const struct cfg *cfg, const char *name)
{
	const char *slash = strrchr(name, '/');

	for (size_t i = 0; i < cfg_server_count(cfg); i++) {
		const char *n = cfg_server_name(cfg, i);

		if (cfg_server_url(cfg, i) == NULL &&
		    (strcmp(n, name) == 0 ||
		        (slash && strcmp(n, slash + 1) == 0)))
			return (int)i;
	}
	return -1;
}

/* 1 if registry server `s` should be served; logs why not once. */
static int
usable(const struct cmd_agg *c, const struct regmsg_server *s)
{
	int o = override(c->cfg, s->name);

	if (s->status == REGMSG_DELETED || s->allowed == 0 || s->url == NULL)
		return 0;
	if (o >= 0 && !cfg_server_enabled(c->cfg, (size_t)o))
		return 0;
	if (s->refused) {
		if (!c->answered)
			log_warn("hosted server %s left out: %s", s->name,
			    s->refused);
		return 0;
	}
	return 1;
}

static const struct added *
find_added(const struct cmd_agg *c, const char *name, int registry)
{
	for (size_t i = 0; i < c->nadded; i++)
		if (c->added[i].registry == registry &&
		    strcmp(c->added[i].name, name) == 0)
			return &c->added[i];
	return NULL;
}

static void
forget(struct cmd_agg *c, size_t i)
{
	agg_remove(c->agg, c->added[i].id);
	free(c->added[i].id);
	free(c->added[i].name);
	c->added[i] = c->added[--c->nadded];
}

/* Drops registry servers that left the listing. */
static void
drop_gone(struct cmd_agg *c, const struct regmsg_page *pg)
{
	for (size_t i = c->nadded; i-- > 0;) {
		int keep = 0;

		if (!c->added[i].registry)
			continue;
		for (size_t j = 0; j < pg->n && !keep; j++)
			keep = strcmp(pg->srv[j].name, c->added[i].name) == 0 &&
			    usable(c, &pg->srv[j]);
		if (!keep)
			forget(c, i);
	}
}

/*
 * Ids for every server: those already added keep theirs (passed as
 * explicit ids), new ones are derived among all names.
 */
static void
add_new(struct cmd_agg *c, const struct regmsg_page *pg)
{
	size_t n = c->nadded + pg->n, k = 0;
	const char **names = x_calloc(n + 1, sizeof(*names));
	const char **ids = x_calloc(n + 1, sizeof(*ids));
	char(*out)[NAMES_ID_MAX + 1] = x_calloc(n + 1, sizeof(*out));
	const struct regmsg_server **fresh = x_calloc(n + 1, sizeof(*fresh));
	char err[300];
	size_t first;

	for (size_t i = 0; i < c->nadded; i++, k++) {
		names[k] = c->added[i].name;
		ids[k] = c->added[i].id;
	}
	first = k;
	for (size_t j = 0; j < pg->n; j++) {
		const struct regmsg_server *s = &pg->srv[j];
		int o = override(c->cfg, s->name);

		if (!usable(c, s) || find_added(c, s->name, 1))
			continue;
		fresh[k] = s;
		names[k] = s->name;
		ids[k++] = o >= 0 ? cfg_server_id(c->cfg, (size_t)o) : NULL;
	}
	if (names_ids(names, ids, k, out, err, sizeof(err)) == -1)
		log_error("registry servers: %s", err);
	else
		for (size_t j = first; j < k; j++) {
			int o = override(c->cfg, fresh[j]->name);
			const char *res =
			    o >= 0 && cfg_server_resource(c->cfg, (size_t)o)
			    ? cfg_server_resource(c->cfg, (size_t)o)
			    : fresh[j]->resource;

			add(c, out[j], fresh[j]->name, fresh[j]->title,
			    fresh[j]->url, res, 1, fresh[j]->sse);
		}
	free(names);
	free(ids);
	free(out);
	free(fresh);
}

static void
arm(struct cmd_agg *c, int failed)
{
	int64_t ms = c->refresh_ms;

	if (failed) {
		c->retry_ms = c->retry_ms == 0       ? RETRY_MIN_MS
		    : c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
		                                     : c->retry_ms * 2;
		ms = c->retry_ms < ms ? c->retry_ms : ms;
	} else
		c->retry_ms = 0;
	loop_timer_arm(c->timer, ms);
}

static void
on_catalog(void *arg, const char *why)
{
	struct cmd_agg *c = arg;
	const struct regmsg_page *pg = catalog_servers(c->cat);

	c->asking = 0;
	if (why && (pg == NULL || pg->n == 0)) {
		log_warn("registry: %s (asking again later)", why);
		agg_set_pending(c->agg, 0);
		arm(c, 1);
		return;
	}
	if (why || catalog_stale(c->cat))
		log_warn("registry unreachable; serving the cached list%s%s",
		    why ? ": " : "", why ? why : "");
	drop_gone(c, pg);
	add_new(c, pg);
	c->answered = 1;
	agg_set_pending(c->agg, 0);
	arm(c, why != NULL);
}

static void
ask(struct cmd_agg *c)
{
	if (c->asking || cfg_registry(c->cfg) == NULL || c->auth == NULL ||
	    auth_state(c->auth) != AUTH_SIGNED_IN)
		return;
	if (c->cat == NULL)
		c->cat = cmd_catalog_open(
		    c->loop, c->http, c->cfg, c->auth, &c->cat_ua, 0);
	c->asking = 1;
	if (!c->answered)
		agg_set_pending(c->agg, 1);
	catalog_refresh(c->cat, on_catalog, c);
}

static void
on_timer(void *arg)
{
	ask(arg);
}

/* -- public ------------------------------------------------------------ */

struct cmd_agg *
cmd_agg_new(struct loop *l, struct http *h, const struct cfg *cfg,
    struct auth *auth, struct agg *agg, int64_t refresh_ms)
{
	struct cmd_agg *c = x_calloc(1, sizeof(*c));

	c->loop = l;
	c->http = h;
	c->cfg = cfg;
	c->auth = auth;
	c->agg = agg;
	c->refresh_ms = refresh_ms > 0 ? refresh_ms : CMD_AGG_REFRESH_MS;
	c->timer = loop_timer_new(l, on_timer, c);
	return c;
}

void
cmd_agg_free(struct cmd_agg **cp)
{
	struct cmd_agg *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	catalog_free(&c->cat);
	loop_timer_del(c->timer);
	for (size_t i = 0; i < c->nsrc; i++) {
		free(c->src[i]->resource);
		free(c->src[i]);
	}
	for (size_t i = 0; i < c->nadded; i++) {
		free(c->added[i].id);
		free(c->added[i].name);
	}
	free(c);
	*cp = NULL;
}

int
cmd_agg_start(struct cmd_agg *c)
{
	if (add_static(c) == -1)
		return -1;
	if (cfg_registry(c->cfg) && c->auth &&
	    auth_state(c->auth) != AUTH_SIGNED_IN)
		agg_set_pending(c->agg, 0); /* the sign-in tool is served */
	ask(c);
	return 0;
}

void
cmd_agg_auth_state(struct cmd_agg *c)
{
	ask(c);
}

int
cmd_agg_waiting(const struct cmd_agg *c)
{
	return cfg_registry(c->cfg) && c->auth && !c->answered;
}

char *
cmd_agg_cache_path(const struct cfg *cfg, struct auth *auth)
{
	char *sub = auth ? cmd_subject(auth) : NULL;
	const char *reg = cfg_registry(cfg);
	char *p = cmd_catalog_cache(
	    reg ? reg : "static", cfg_issuer(cfg), "tools", sub);

	free(sub);
	return p;
}

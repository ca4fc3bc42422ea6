/* SPDX-License-Identifier: ISC */
#include "cmd_server.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cmd.h"
#include "log.h"
#include "str.h"
#include "xmem.h"

struct cmd_server {
	struct loop *loop;
	struct http *http;
	const struct cfg *cfg;
	struct auth *auth;
	struct router *router;
	char *name;
	struct upstream_opts uo;
	struct catalog *cat;     /* the registry listing */
	struct upstream_auth ua; /* its token source */
	int resolving, resolved;
	struct loop_timer *retry; /* next lookup */
	int64_t retry_ms;         /* its current backoff */
};

/* Backoff of the registry lookup while the registry cannot be reached. */
#define RESOLVE_RETRY_MIN_MS 2000
#define RESOLVE_RETRY_MAX_MS (60 * 1000)

static void
unavailable(struct cmd_server *r, const char *why)
{
	log_error("%s", why);
	r->resolving = 0;
	router_unavailable(r->router, why);
}

static void
on_retry(void *arg)
{
	cmd_server_resolve(arg);
}

/* The registry could not answer: say why, then look again later. */
static void
unavailable_for_now(struct cmd_server *r, const char *why)
{
	unavailable(r, why);
	if (r->retry == NULL)
		r->retry = loop_timer_new(r->loop, on_retry, r);
	r->retry_ms = r->retry_ms == 0               ? RESOLVE_RETRY_MIN_MS
	    : r->retry_ms * 2 > RESOLVE_RETRY_MAX_MS ? RESOLVE_RETRY_MAX_MS
	                                             : r->retry_ms * 2;
	log_info("asking the registry again in %lld s",
	    (long long)(r->retry_ms / 1000));
	loop_timer_arm(r->retry, r->retry_ms);
}

static void
on_access(void *arg, const struct regmsg_access *a, const char *why)
{
	struct cmd_server *r = arg;
	const struct regmsg_server *s = catalog_find(r->cat, r->name);
	struct upstream_opts uo = r->uo;
	char msg[900];

	if (a == NULL) {
		str_fmt(msg, sizeof(msg),
		    "registry access check for %s failed: %s", r->name, why);
		unavailable_for_now(r, msg);
		return;
	}
	if (!a->allowed) {
		str_fmt(msg, sizeof(msg), "access to %s denied: %s%s%s%s%s",
		    s ? s->name : r->name,
		    a->reason ? a->reason : "not allowed",
		    a->message ? " (" : "", a->message ? a->message : "",
		    a->message ? ")" : "",
		    a->request_url ? "; request access at " : "");
		if (a->request_url)
			strncat(
			    msg, a->request_url, sizeof(msg) - strlen(msg) - 1);
		unavailable(r, msg);
		return;
	}
	if (s == NULL) {
		str_fmt(msg, sizeof(msg),
		    "server %s is not in your registry listing", r->name);
		unavailable(r, msg);
		return;
	}
	uo.url = s->url;
	uo.legacy_sse = s->sse;
	log_info("serving %s (%s%s) from the registry", s->name, s->url,
	    s->sse ? ", deprecated HTTP+SSE transport" : "");
	r->resolved = 1;
	loop_timer_del(r->retry);
	r->retry = NULL;
	router_attach(r->router, &uo, s->resource);
}

static void
on_catalog(void *arg, const char *why)
{
	struct cmd_server *r = arg;
	const struct regmsg_server *s;
	char msg[700];

	if (why) {
		unavailable_for_now(r, why);
		return;
	}
	if ((s = catalog_find(r->cat, r->name)) == NULL &&
	    strchr(r->name, '/')) {
		catalog_access(r->cat, r->name, on_access, r); /* why? */
		return;
	}
	if (s == NULL) {
		str_fmt(msg, sizeof(msg),
		    "the registry lists no server '%s' that you may use (see "
		    "'mcp-bridge servers --all')",
		    r->name);
		unavailable(r, msg);
		return;
	}
	if (s->refused) {
		str_fmt(msg, sizeof(msg), "server %s is not usable: %s",
		    s->name, s->refused);
		unavailable(r, msg);
		return;
	}
	if (s->status == REGMSG_DEPRECATED)
		log_warn("server %s is deprecated%s%s", s->name,
		    s->status_message ? ": " : "",
		    s->status_message ? s->status_message : "");
	catalog_access(r->cat, s->name, on_access, r);
}

/* Signed in: find the server in the registry (once). */
void
cmd_server_resolve(struct cmd_server *r)
{
	if (r->name == NULL || r->resolving || r->resolved ||
	    auth_state(r->auth) != AUTH_SIGNED_IN)
		return;
	r->resolving = 1;
	if (r->cat == NULL)
		r->cat = cmd_catalog_open(
		    r->loop, r->http, r->cfg, r->auth, &r->ua, 0);
	catalog_refresh(r->cat, on_catalog, r);
}

struct cmd_server *
cmd_server_new(struct loop *l, struct http *h, const struct cfg *cfg,
    struct auth *auth, struct router *router, const char *name,
    const struct upstream_opts *uo)
{
	struct cmd_server *r = x_calloc(1, sizeof(*r));

	r->loop = l;
	r->http = h;
	r->cfg = cfg;
	r->auth = auth;
	r->router = router;
	r->name = x_strdup(name);
	r->uo = *uo;
	return r;
}

void
cmd_server_free(struct cmd_server **sp)
{
	struct cmd_server *r;

	if (sp == NULL || (r = *sp) == NULL)
		return;
	loop_timer_del(r->retry);
	catalog_free(&r->cat);
	free(r->name);
	free(r);
	*sp = NULL;
}

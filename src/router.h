/* SPDX-License-Identifier: ISC */
/*
 * router: the bridge session between one IDE and the hosted server(s).
 *
 * It takes whole messages from the IDE (router_input), answers what it
 * answers itself (ping, malformed input), gives every forwarded request
 * a fresh upstream id and maps the answer back to the IDE's id (type and
 * bytes preserved), gives server->client requests (elicitation, sampling,
 * roots, ping) bridge-unique ids towards the IDE and maps the IDE's
 * answers back, and maps notifications/cancelled in both directions.
 * Messages are peeked with `rpc` and only the id bytes are rewritten.
 * It owns the upstreams and knows nothing of stdio: replies leave
 * through the `send` callback, so it can be tested without fds.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "agg.h"
#include "auth.h"
#include "http.h"
#include "loop.h"
#include "upstream.h"

struct router_cbs {
	/* One message for the IDE (borrowed for the call). */
	void (*send)(void *arg, const char *msg, size_t len);
	/* router_close() finished: the upstream session is ended. */
	void (*closed)(void *arg);
};

struct router;

/*
 * Sign-in mode. The bridge answers `initialize` itself and opens the
 * hosted session with the IDE's initialize once a token exists. Until
 * the user is signed in it serves a sign-in tool, surfaces the device
 * code (URL-mode elicitation when the IDE offers it, else a warning
 * notification) and sends list_changed when the hosted tools arrive.
 */
struct router_auth {
	struct auth *auth;    /* borrowed; must outlive the router */
	const char *resource; /* the server's audience (copied), or NULL */
	const char *issuer;   /* shown to the user (copied) */
};

/* Name of the bridge's own sign-in tool. */
#define ROUTER_SIGNIN_TOOL "mcp_bridge_sign_in"

/*
 * New router with one upstream built from `up` (copied; strings
 * borrowed). `ra` NULL: a plain relay (static or no credentials); else
 * copied. `cbs` is copied. NULL on failure.
 */
struct router *
router_new(struct loop *l, struct http *h, const struct upstream_opts *up,
    const struct router_auth *ra, const struct router_cbs *cbs, void *arg);

/*
 * New router in front of an aggregator of many hosted servers, made
 * from `ao` (see agg_new); add the servers with agg_add(router_agg(r)).
 * `ra` as for router_new().
 */
struct router *
router_new_agg(struct loop *l, struct http *h, const struct agg_opts *ao,
    const struct router_auth *ra, const struct router_cbs *cbs, void *arg);
/* The router's aggregator (borrowed), or NULL. */
struct agg *router_agg(struct router *r);

/*
 * Sign-in mode with no hosted server yet (`up->url` was NULL at
 * router_new: it comes from the registry once signed in). Attaches it;
 * `up` copied (strings borrowed), `resource` its token audience (copied,
 * NULL = default). 0, or -1 if one is attached already.
 */
int router_attach(
    struct router *r, const struct upstream_opts *up, const char *resource);
/* No hosted server can be attached: `why` (copied) answers requests. */
void router_unavailable(struct router *r, const char *why);

/* Events of `auth` for this session (the owner wires auth_cbs here). */
void router_auth_state(struct router *r, enum auth_state st, const char *why);
void router_auth_code(struct router *r, const struct oamsg_device *d);
void router_auth_tokens(struct router *r);

/* Frees the router and its upstreams; sets *rp to NULL; NULL is fine. */
void router_free(struct router **rp);

/*
 * One line from the IDE, already framed (borrowed). Never fails: bad
 * input is answered with a JSON-RPC error and logged once.
 */
void router_input(struct router *r, const char *line, size_t len);

/* A line over the size cap was dropped (`len` bytes). */
void router_input_too_long(struct router *r, size_t len);

/* Ends the upstream sessions; `closed` is called when done. */
void router_close(struct router *r);

/* Requests forwarded and not yet answered. */
size_t router_inflight(const struct router *r);

#endif

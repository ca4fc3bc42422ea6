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
 * New router with one upstream built from `up` (copied; strings
 * borrowed). `cbs` is copied. NULL on failure.
 */
struct router *router_new(struct loop *l, struct http *h,
    const struct upstream_opts *up, const struct router_cbs *cbs, void *arg);

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

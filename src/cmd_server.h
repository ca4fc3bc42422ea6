/* SPDX-License-Identifier: ISC */
/*
 * cmd_server: `run --server NAME`: once signed in, finds NAME (full or
 * short name) in the registry listing, warns if it is deprecated, asks
 * the registry's access pre-flight, and attaches it to the router with
 * its own token audience. While the registry cannot be reached (and
 * nothing is cached) the IDE is told once and the lookup is retried
 * (2 s doubling to 60 s).
 */
#ifndef CMD_SERVER_H
#define CMD_SERVER_H

#include "auth.h"
#include "cfg.h"
#include "http.h"
#include "loop.h"
#include "router.h"

struct cmd_server;

/*
 * New lookup of `name` (copied) for `router`; `uo` copied (its url is
 * set from the registry; strings borrowed); cfg, auth, router borrowed.
 */
struct cmd_server *cmd_server_new(struct loop *l, struct http *h,
    const struct cfg *cfg, struct auth *auth, struct router *router,
    const char *name, const struct upstream_opts *uo);
void cmd_server_free(struct cmd_server **sp);
/* Looks the server up if signed in and not done yet (call on changes). */
void cmd_server_resolve(struct cmd_server *r);

#endif

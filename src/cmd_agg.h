/* SPDX-License-Identifier: ISC */
/*
 * cmd_agg: fills an aggregator with the hosted servers a user may use:
 * the config's static `servers` (entries with a url) and, with a
 * registry, every usable server of the registry listing, asked again
 * every `refresh_ms` (servers that leave the listing are disconnected,
 * new ones connected). Config entries without a url adjust a registry
 * server by name (full or short): "id", "enabled": false, "resource".
 * Each server's bearer token comes from the sign-in for its audience.
 * Used by `run` and `tools`.
 */
#ifndef CMD_AGG_H
#define CMD_AGG_H

#include <stdint.h>

#include "agg.h"
#include "auth.h"
#include "cfg.h"
#include "http.h"
#include "loop.h"

/* Registry re-check interval by default. */
#define CMD_AGG_REFRESH_MS (5 * 60 * 1000)

struct cmd_agg;

/*
 * New filler for `agg` (borrowed), reading `cfg` (borrowed); `auth` may
 * be NULL (static credentials: no registry). NULL on failure (logged).
 */
struct cmd_agg *
cmd_agg_new(struct loop *l, struct http *h, const struct cfg *cfg,
    struct auth *auth, struct agg *agg, int64_t refresh_ms);
void cmd_agg_free(struct cmd_agg **cp);

/* Adds the static servers; asks the registry when signed in. 0 / -1. */
int cmd_agg_start(struct cmd_agg *c);
/* The sign-in state changed (asks the registry once signed in). */
void cmd_agg_auth_state(struct cmd_agg *c);
/* 1 while the registry has not answered once. */
int cmd_agg_waiting(const struct cmd_agg *c);
/* Tool-list cache path for this config and user (new), or NULL. */
char *cmd_agg_cache_path(const struct cfg *cfg, struct auth *auth);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * cmd_doctor_int: what the parts of `mcp-bridge doctor` share:
 * cmd_doctor.c (checks, config, store, sign-in, report), cmd_doctor_net.c
 * (issuer discovery, registry, servers), cmd_doctor_ide.c (IDE configs).
 */
#ifndef CMD_DOCTOR_INT_H
#define CMD_DOCTOR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "catalog.h"
#include "cfg.h"
#include "hdr.h"
#include "http.h"
#include "loop.h"
#include "oauth.h"
#include "secret.h"
#include "upstream.h"

/* Issuer discovery, the sign-in refresh and the registry listing. */
#define DOCTOR_NET_MS (10 * 1000)
/* Each server must answer initialize within this. */
#define DOCTOR_INIT_MS (5 * 1000)
/* One keyring call. */
#define DOCTOR_STORE_MS (5 * 1000)
/* TCP/TLS connect. */
#define DOCTOR_CONNECT_MS (5 * 1000)
/* Servers checked at most. */
#define DOCTOR_MAX_SERVERS 64

enum dst { D_PENDING, D_OK, D_FAIL, D_WARN, D_SKIP };

struct doctor;

struct check {
	struct doctor *d;
	char *name, *detail, *fix;
	enum dst st;
	int64_t t0, ms; /* ms < 0: not timed */
	struct loop_timer *tmr;
	void (*expire)(struct check *);
};

struct srv {
	struct doctor *d;
	struct check *c;
	char *url, *resource;
	struct upstream *up;
	struct hdrlist *hdrs; /* none, but upstream wants a list */
	struct upstream_auth ua;
	int64_t id;
	int closing;
};

struct doctor {
	struct loop *loop;
	struct http *http;
	struct cfg *cfg;
	char *scope;
	int offline, json, phase2;
	struct oauth *oauth;
	struct oauth_op *disc;
	struct check *cdisc, *csign, *creg;
	struct auth *auth;
	int signed_in;
	char snapshot[384];    /* auth_last_error() when the refresh began */
	struct secret *envtok; /* MCP_BRIDGE_ACCESS_TOKEN */
	int env_rejected;
	struct upstream_auth eua, rua;
	struct catalog *cat;
	char *cache;             /* its cache file, removed at the end */
	struct loop_timer *done; /* re-checks whether everything ended */
	struct check **c;
	size_t nc, pending;
	struct srv **srv;
	size_t nsrv, closing;
};

/* A check, in report order (new, owned by d), not timed. */
struct check *cmd_doctor_check_new(struct doctor *d, const char *name);
/* An asynchronous check: timed, failed by `expire` after `limit` ms. */
struct check *cmd_doctor_check_start(struct doctor *d, const char *name,
    int64_t limit, void (*expire)(struct check *));
/* Sets the result once (strings copied); ends a pending check. */
void cmd_doctor_check_set(
    struct check *c, enum dst st, const char *detail, const char *fix);
/* The result of a network check that got no answer in time. */
void cmd_doctor_expire_net(struct check *c);
/* Stops the loop after this round if nothing is pending. */
void cmd_doctor_maybe_done(struct doctor *d);
/* Appends to a capped buffer (cut past the cap). */
void cmd_doctor_put(struct buf *b, const char *s);

/* Starts issuer discovery (cmd_doctor_net.c). */
void cmd_doctor_discover(struct doctor *d);
/* Once the sign-in is known: registry and configured servers. */
void cmd_doctor_phase2(struct doctor *d);
/* The IDE config checks (cmd_doctor_ide.c), offline. */
void cmd_doctor_ide(struct doctor *d);

#endif

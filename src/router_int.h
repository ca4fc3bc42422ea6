/* SPDX-License-Identifier: ISC */
/*
 * router_int: private parts shared by router.c (the relay) and
 * router_auth.c (the session while the user is not signed in, and the
 * sign-in surfaced through MCP). Nothing outside the router includes it.
 */
#ifndef ROUTER_INT_H
#define ROUTER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agg.h"
#include "auth.h"
#include "buf.h"
#include "idmap.h"
#include "router.h"
#include "rpc.h"
#include "upstream.h"

#define ROUTER_MAX_BATCH 1024
/* Sign-in tool calls that may wait for the device code at once. */
#define ROUTER_MAX_SIGNIN_WAIT 16

struct batch {
	size_t expect;  /* replies still to come */
	size_t got;     /* replies gathered */
	struct buf out; /* "[" reply "," reply ... */
};

/* A request in flight, keyed in its table by the id it was sent with. */
struct pend {
	char *id;            /* the sender's raw id text (owned) */
	size_t idlen;        /* its length */
	struct batch *batch; /* IDE batch gathering the reply, or NULL */
};

/* Hosted session in auth mode (the bridge answered initialize). */
enum up_state {
	UP_IDLE = 0, /* not started: no token yet */
	UP_STARTING, /* the IDE's initialize is on its way */
	UP_READY,    /* initialized */
};

/* Sign-in state of the session (auth mode only). */
struct rauth {
	struct auth *auth;       /* borrowed */
	char *resource;          /* the server's audience, or NULL */
	char *issuer;            /* shown to the user */
	struct upstream_auth ua; /* token source given to the upstream */
	char *init;              /* the IDE's initialize (copy) */
	size_t init_len;
	int64_t init_id; /* upstream id of that initialize */
	enum up_state up;
	int ide_ready;         /* IDE sent notifications/initialized */
	int ide_url;           /* IDE accepts URL-mode elicitation */
	int listed;            /* the IDE saw the signed-out tool list */
	int told;              /* the current code was surfaced */
	int was_in;            /* last known state was signed in */
	char *user_code, *uri; /* current device code, or NULL */
	char elicit[48];       /* elicitationId sent, or "" */
	int64_t elicit_req;    /* bridge id of that request, or 0 */
	char *unavailable;     /* why no hosted server yet, or NULL */
	struct pend *wait[ROUTER_MAX_SIGNIN_WAIT]; /* sign-in tool calls */
	size_t nwait;
};

struct router {
	struct loop *loop;
	struct router_cbs cbs;
	void *arg;
	struct upstream *up;   /* the hosted server, or NULL */
	struct agg *agg;       /* or the aggregated servers, or NULL */
	struct rpc *rpc;       /* parser for IDE messages */
	struct idmap *pending; /* upstream id -> IDE request (struct pend) */
	struct idmap *srvreq;  /* bridge id -> server request (struct pend) */
	int64_t next_srv_id;   /* last bridge id given to the IDE */
	struct buf scratch;    /* rewritten messages */
	int batches_ok;        /* 2025-03-26 negotiated */
	struct rauth *ra;      /* auth mode, or NULL (plain relay) */
	struct http *http;     /* for a late upstream (router_attach) */
	struct rmod *rm;       /* a modern (2026-07-28) IDE, or NULL */
};

/* router.c */
struct pend *rt_pend_new(const char *raw, size_t len, struct batch *b);
void rt_pend_free(struct pend *q);
void rt_reply(struct router *r, struct batch *b, const char *msg, size_t len);
void rt_reply_error(struct router *r, struct batch *b, const char *id,
    size_t idlen, int code, const char *why);
int rt_rewrite(struct router *r, const char *js, size_t len, struct rpc_span sp,
    const char *rep, size_t rlen);
/* Every message to the IDE goes through rt_out (router_modern sees it). */
void rt_out(struct router *r, const char *msg, size_t len);
/* One IDE message, as if it came from stdin past router_modern. */
void rt_handle(struct router *r, const char *js, size_t len);
/* The key of the entry of `m` sent with raw id `raw`, or -1. */
int64_t rt_pend_find(const struct idmap *m, const char *raw, size_t len);

/* The hosted side: one upstream or the aggregator. */
int rt_has_peer(const struct router *r);
int64_t rt_next_id(struct router *r);
void rt_send(struct router *r, char *msg, size_t len, int64_t id,
    enum upstream_kind kind);

/*
 * router_modern.c: an IDE speaking 2026-07-28 on stdio. rm_input takes
 * what the IDE sends (1 if it did: translated into legacy messages fed
 * to rt_handle, or answered); rm_output what goes to the IDE (1 if it
 * sent or dropped it).
 */
/* How long the IDE has to come back with the answers. */
#define RM_INPUT_WAIT_MS (10 * 60 * 1000)
/* Server questions waiting for one request's retry, and listens. */
#define RM_MAX_QUEUED  16
#define RM_MAX_LISTENS 64

#define RM_INIT_ID "mcp-bridge:init"
#define RM_STATE   "mcp-bridge-state-"

/* A request suspended in input_required, until the IDE retries. */
struct rmhold {
	char state[48]; /* the requestState given to the IDE */
	char *ide_id;   /* the IDE's id that got input_required */
	char *method;   /* the request's method */
	json_t *asks;   /* input key -> bridge id of the server request */
	json_t *queued; /* questions that came after: [key, id, req] */
	json_t *final;  /* the result, if it came before the retry */
	struct loop_timer *timer;
	struct router *r;
	struct rmhold *next;
};

struct rmod {
	json_t *init;    /* the hosted session's InitializeResult */
	json_t *waiting; /* discover ids (JSON) waiting for it */
	json_t *held;    /* request texts waiting for it */
	int starting;    /* the session's initialize is out */
	int legacy;      /* the IDE sent initialize: legacy from now on */
	char *level;     /* log level last set upstream */
	json_t *ids;     /* outstanding modern requests: id text -> method */
	json_t *listens; /* listen id text -> [id, honoured filter] */
	struct rmhold *holds;
	int64_t next; /* for internal ids and states */
};

int rm_input(struct router *r, const char *js, size_t len);
int rm_output(struct router *r, const char *js, size_t len);
void rm_free(struct router *r);
void rm_send_json(struct router *r, json_t *msg); /* steals msg */
void rm_feed(struct router *r, json_t *msg);      /* steals msg */
char *rm_id_text(const json_t *id);               /* new */
void rm_reply_error(struct router *r, const json_t *id, int code,
    const char *why, json_t *data); /* steals data */
void rm_reply_result(struct router *r, const json_t *id, json_t *res);
void rm_hold_free(struct rmhold *h);
void rm_hold_unlink(struct router *r, struct rmhold *h);
void rm_out_response(struct router *r, json_t *j); /* steals j */
/* router_ask.c */
struct rmhold *rm_hold_by_state(struct router *r, const char *state);
struct rmhold *rm_hold_by_ide(struct router *r, const char *id);
void rm_server_question(struct router *r, json_t *req);
void rm_retry(struct router *r, json_t *j, struct rmhold *h);
void rm_listen_start(struct router *r, json_t *j);
void rm_fan_out(struct router *r, json_t *j); /* steals j */

/* router_auth.c: each returns 1 when it handled the message. */
int ra_request(struct router *r, struct batch *b, const char *js, size_t len);
int ra_notification(struct router *r, const char *js, size_t len);
int ra_ide_response(struct router *r, const char *js, size_t len, int64_t id);
int ra_server_response(
    struct router *r, const char *js, size_t len, struct rpc *msg, int64_t id);
int ra_fail(struct router *r, int64_t id, const char *why);
struct rauth *ra_new(struct router *r, const struct router_auth *a);
void ra_attached(struct router *r);
void ra_free(struct router *r);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * agg_int: private parts shared by agg.c (routing the IDE's messages),
 * agg_link.c (the hosted servers and what they send) and
 * agg_list.c (fetching, merging and serving the lists, the name maps,
 * the disk cache). Nothing outside the aggregator includes it.
 */
#ifndef AGG_INT_H
#define AGG_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "buf.h"
#include "idmap.h"
#include "names.h"
#include "rpc.h"

/* The lists a server has; index into link->lists and a->served. */
enum agg_list {
	AL_TOOLS = 0,
	AL_PROMPTS,
	AL_RESOURCES,
	AL_TEMPLATES,
	AL_COUNT
};

enum link_state {
	LS_IDLE = 0,   /* waiting for the IDE's initialize */
	LS_CONNECTING, /* our initialize is on its way */
	LS_READY,      /* initialized */
	LS_FAILED,     /* not reachable; retried later */
	LS_GONE,       /* removed; closing */
};

/* What a request sent to a link is. */
enum fwd_kind {
	FK_IDE = 0, /* the IDE's request, relayed */
	FK_INIT,    /* our initialize */
	FK_LIST,    /* one page of a list (fwd->list) */
	FK_QUIET,   /* answer ignored (logging/setLevel fan-out) */
};

struct link;

/* A request to a link, or an IDE request waiting for one. */
struct fwd {
	enum fwd_kind kind;
	struct link *l;     /* target (NULL while parked in a->parked) */
	int64_t agg_id;     /* the router's id (FK_IDE) */
	int64_t link_id;    /* the id sent to the link; 0 = not sent */
	enum agg_list list; /* FK_LIST: which list */
	json_t *req;        /* FK_IDE: the request (id rewritten on send) */
	char *tool;         /* tools/call: the server's tool name */
	int64_t t0;         /* sent at (ms) */
	size_t probe;       /* resources fallback: next link to ask */
	int probing;        /* resources fallback in progress */
	struct fwd *next;   /* queue of a connecting link */
};

/* One list of one server. */
struct alist {
	json_t *items;            /* live items (array), or NULL */
	json_t *cached;           /* from the disk cache, or NULL */
	uint64_t hitems, hcached; /* content hashes of those two */
	json_t *acc;              /* pages gathered so far */
	int fetching;             /* a page request is out */
	int again;                /* list_changed arrived while fetching */
	int pages;                /* pages fetched in this round */
};

struct link {
	struct agg *agg;
	char *id, *name, *title, *url;
	const struct upstream_auth *auth;
	int legacy_sse; /* HTTP+SSE (2024-11-05) server */
	struct upstream *up;
	enum link_state st;
	char why[300];            /* why it failed */
	int warned;               /* the failure was logged at warn */
	int64_t retry_ms;         /* next backoff */
	struct loop_timer *retry; /* reconnect */
	struct idmap *reqs;       /* link id -> struct fwd */
	struct fwd *queue, *tail; /* waiting for LS_READY */
	size_t nqueued;
	json_t *caps;       /* the server's capabilities */
	char *instructions; /* the server's, or NULL */
	char *stitle;       /* serverInfo.title or name */
	struct alist lists[AL_COUNT];
	int closing; /* upstream_close() called */
	int rest;    /* fetch prompts and resources once tools are in */
	int closed;  /* LS_GONE: its upstream finished closing */
};

/* A list request from the IDE waiting for servers. */
struct parked {
	int64_t agg_id;
	enum agg_list list;
	char *cursor;
	int64_t deadline; /* answer by then (loop_now_ms) */
	struct parked *next;
};

struct agg {
	struct loop *loop;
	struct http *http;
	struct upstream_cbs cbs;
	void *arg;
	const struct hdrlist *headers; /* borrowed */
	int64_t idle_ms, max_ms, wait_ms;
	char **allow, **deny; /* NULL-ended, owned */
	char *cache_path;
	json_t *cache; /* {"servers":{id:{...}}} from disk, or NULL */
	struct loop_timer *cache_timer;
	int cache_dirty;                  /* lists changed since the write */
	struct loop_timer *changed_timer; /* coalesces al_link_changed */
	struct usage *usage;
	struct link *links[AGG_MAX_LINKS];
	size_t nlinks;
	int pending;           /* the server set is not known yet */
	json_t *init_params;   /* the IDE's initialize params */
	char version[32];      /* answered to the IDE */
	int64_t next_id;       /* router-facing ids */
	int64_t next_srv;      /* ids of server->client requests */
	struct idmap *byagg;   /* agg id -> struct fwd (IDE requests) */
	struct idmap *srvreq;  /* srv id -> struct srvreq */
	struct parked *parked; /* list requests waiting */
	struct loop_timer *park_timer;
	int64_t park_deadline;
	json_t *route[AL_COUNT];   /* exposed name / uri -> server id */
	uint64_t served[AL_COUNT]; /* signature of what the IDE saw, 0 none */
	struct rpc *rpc;           /* parses what we emit */
	struct rpc *rpc_in;        /* peeks at what the router sends */
	struct buf scratch;
	int closing;
	size_t open;                       /* links still to report on_closed */
	struct link *dying[AGG_MAX_LINKS]; /* removed, ending their session */
	size_t ndying;
	struct loop_timer *reap_timer;
	struct loop_timer *closed_timer;
};

/* A server->client request relayed to the IDE. */
struct srvreq {
	struct link *l;
	char *raw; /* the server's raw id */
	size_t rawlen;
};

/* agg.c */
void agg_emit(struct agg *a, const char *js, size_t len);
void agg_emit_json(struct agg *a, int64_t id, json_t *result);
void agg_emit_error(struct agg *a, int64_t id, int code, const char *why);
void agg_notify(struct agg *a, const char *method);
int64_t agg_link_send(struct link *l, struct fwd *f, json_t *msg);
struct link *agg_link_by_id(const struct agg *a, const char *id);
void agg_fwd_free(struct fwd *f);

void agg_fail_ide(struct agg *a, struct fwd *f, int code, const char *why);
void agg_unavailable(struct agg *a, struct fwd *f, const struct link *l);
void agg_route_to(struct agg *a, struct link *l, struct fwd *f);
void agg_unqueue(struct link *l, struct fwd *f);

/* agg_route.c */
/* The server of an IDE request (names rewritten in f->req); NULL + err. */
struct link *agg_route(
    struct agg *a, const char *method, struct fwd *f, char *err, size_t errsz);
/* Sends a parsed (a->rpc_in) tools/call or prompts/get spliced; 1 or 0. */
int agg_fast_call(struct agg *a, const char *js, size_t len, int64_t id);

/* agg_link.c */
void agg_link_connect(struct link *l);
void agg_link_detach(struct agg *a, struct link *l, const char *why);
void agg_link_free(struct agg *a, struct link *l, const char *why);
void agg_reap_soon(struct agg *a);
void agg_srvreq_free(struct srvreq *s);
void agg_closed_now(void *arg);

/* agg_list.c */
void al_fetch(struct link *l, enum agg_list which);
void al_page(struct link *l, struct fwd *f, json_t *result, const char *why);
/* Something changed: lists are re-merged once, later in this loop pass. */
void al_link_changed(struct agg *a);
/* The rest of the lists of `l`, once its tools are in. */
void al_fetch_rest(struct link *l);
int al_serve(
    struct agg *a, int64_t agg_id, enum agg_list which, const char *cursor);
void al_park_check(struct agg *a);
int al_settled(const struct agg *a, enum agg_list which);
void al_rebuild(struct agg *a, enum agg_list which);
int
al_blocked(const struct agg *a, const char *exposed, char *why, size_t whysz);
void al_cache_load(struct agg *a);
void al_cache_save_soon(struct agg *a);
void al_cache_flush(struct agg *a);
void al_link_free_lists(struct link *l);
char *al_instructions(const struct agg *a);
const char *al_list_method(enum agg_list which);
const char *al_list_key(enum agg_list which);

#endif

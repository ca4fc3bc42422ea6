/* SPDX-License-Identifier: ISC */
/*
 * upstream_int: private parts shared by upstream.c (posts, transfers,
 * incoming messages) and upstream_sess.c (session: initialize replay,
 * the standalone GET stream, shutdown, the public constructor). Nothing
 * outside the upstream module may include this header.
 */
#ifndef UPSTREAM_INT_H
#define UPSTREAM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "idmap.h"
#include "loop.h"
#include "rpc.h"
#include "sse.h"
#include "upstream.h"

/* Bytes of an HTTP error body kept to look for a JSON-RPC error in it. */
#define UPSTREAM_ERR_BODY 65536

enum mode {
	MODE_NONE = 0, /* no body seen yet */
	MODE_JSON,     /* application/json: buffered, parsed at the end */
	MODE_SSE,      /* text/event-stream: parsed as it arrives */
	MODE_ERROR,    /* HTTP error: small body buffered for diagnosis */
	MODE_IGNORE,   /* anything else: drained */
};

struct post {
	struct upstream *up;       /* owner */
	struct post *prev, *next;  /* in up->posts */
	int64_t id;                /* awaited response, -1 for none */
	enum upstream_kind kind;   /* what the message is */
	char *body;                /* the message (owned), NULL for GET */
	size_t len;                /* bytes in body */
	struct http_req *req;      /* current transfer, or NULL */
	struct sse *sse;           /* SSE parser, kept across resumes */
	struct buf json;           /* JSON or error body */
	enum mode mode;            /* how the body is read */
	long status;               /* HTTP status of the current transfer */
	int answered;              /* the response for id arrived */
	int retried;               /* already retried after re-init */
	int resumes;               /* resumption attempts so far */
	int internal;              /* the bridge's own (re-init) message */
	int waiting;               /* held until re-init completes */
	int had_session;           /* the transfer carried Mcp-Session-Id */
	unsigned gen;              /* u->gen when the transfer started */
	int is_getstream;          /* the standalone GET stream */
	int is_legacy;             /* the HTTP+SSE stream (legacy mode) */
	int in_get;                /* the current transfer is a GET */
	int dead;                  /* retired; freed by the reaper */
	int auth_wait;             /* held until a token is ready */
	int auth_retried;          /* already resent after a 401 */
	struct secret *sent;       /* bearer token of the transfer, or NULL */
	struct loop_timer *idle;   /* idle timeout, NULL if none */
	struct loop_timer *max;    /* hard timeout, NULL if none */
	struct loop_timer *resume; /* delayed resume or reopen */
	/* Modern (2026-07-28) mode, upstream_modern.c: */
	char *xhdr;        /* extra header lines, '\n'-separated, or NULL */
	int64_t wire;      /* id of the current round on the wire, or -1 */
	int probe;         /* the server/discover probe */
	int listen;        /* a subscriptions/listen stream */
	struct mrtr *mrtr; /* a forwarded request's state, or NULL */
};

/* What the upstream knows of the server's protocol era. */
enum up_era {
	UP_ERA_UNKNOWN = 0, /* not probed yet */
	UP_ERA_PROBING,     /* server/discover in flight */
	UP_ERA_LEGACY,      /* initialize (2024-11-05 .. 2025-11-25) */
	UP_ERA_MODERN,      /* 2026-07-28 */
};

struct upstream {
	struct loop *loop;                /* the process loop */
	struct http *http;                /* shared libcurl client */
	char *url;                        /* endpoint */
	const struct hdrlist *headers;    /* user headers, borrowed */
	const struct upstream_auth *auth; /* token source, or NULL */
	int64_t idle_ms, max_ms;          /* request timeouts */
	struct upstream_cbs cbs;          /* owner's callbacks */
	void *arg;                        /* passed to them */
	struct rpc *rpc;                  /* parser for incoming messages */
	struct idmap *pending;            /* id -> post awaiting its response */
	struct post *posts;               /* every live post */
	int64_t next_id;                  /* last id handed out */
	char *session;                    /* Mcp-Session-Id, or NULL */
	unsigned gen;                     /* bumped when the session changes */
	int lost;                         /* a re-initialize failed: retry */
	char version[32];                 /* negotiated revision, or "" */
	char *init_body;                  /* the IDE's initialize request */
	size_t init_len;                  /* its length */
	int reiniting;                    /* a re-initialization is running */
	int initializing;          /* the IDE's initialize is in flight */
	struct post *tail;         /* last of u->posts (FIFO order) */
	struct post *get;          /* the standalone GET stream */
	int get_failures;          /* consecutive GET failures */
	int closing;               /* upstream_close() called */
	struct http_req *del;      /* the DELETE */
	struct loop_timer *closed; /* reports on_closed from the loop */
	struct loop_timer *reaper; /* frees retired posts */
	int legacy;                /* HTTP+SSE (2024-11-05) mode */
	char *endpoint;            /* legacy: where to POST, or NULL */
	struct post *lstream;      /* legacy: the SSE stream */
	int lfailures;             /* legacy: failed connects in a row */
	int lconnects;             /* legacy: endpoints received so far */
	int64_t connect_ms;        /* legacy: endpoint event wait */
	enum up_era era;           /* the server's era */
	struct modern *mod;        /* modern-mode state, or NULL */
};

/* upstream.c: posts and transfers. */
struct post *up_post_new(struct upstream *u, char *body, size_t len, int64_t id,
    enum upstream_kind kind);         /* steals body */
void up_post_free(struct post *p);    /* retire; memory freed later */
void up_post_destroy(struct post *p); /* free now */
void up_post_fail(struct post *p, int code, const char *why);
void up_post_start(struct post *p);
void up_get_start(struct post *p);
void up_schedule_get(struct post *p, int64_t delay_ms);
int64_t up_retry_delay(const struct post *p);
int up_bearer(struct post *p);
int up_auth_rejected(struct post *p);
void up_add_headers(struct post *p, struct http_req *r, const char *accept);
int up_deliver(struct post *p, const char *js, size_t len);

/* upstream_sess.c: the session. */
void up_reinit_failed(struct upstream *u, const char *why);
void up_release_held(struct upstream *u);
void up_capture_version(struct upstream *u, const char *js, struct rpc *msg);
void up_finish_reinit(struct upstream *u);
void up_internal_answer(struct upstream *u, const char *js, struct rpc *msg);
void up_capture_session(struct post *p, struct http_req *r);
int up_session_expired(struct post *p);
void up_start_reinit(struct upstream *u);
void up_open_getstream(struct upstream *u, int64_t delay_ms);
void up_getstream_done(struct post *p, const char *err);

/*
 * upstream_modern.c: 2026-07-28. up_modern_send returns 1 when it took
 * the message. up_modern_answer decides what the response `js` to post
 * q means: UPM_DELIVER with *out (malloc'd) to give the owner instead,
 * UPM_ROUND when q waits for the IDE's input or retries (its transfer
 * must stop), UPM_DROP, UPM_DONE (answered, nothing to deliver: the
 * bridge's own request), or UPM_LEGACY (the probe found a legacy server:
 * q is answered and the IDE's initialize goes out).
 */
enum { UPM_DELIVER, UPM_ROUND, UPM_DROP, UPM_LEGACY, UPM_DONE };
int up_modern_send(struct upstream *u, char *msg, size_t len, int64_t id,
    enum upstream_kind kind);
int up_modern_answer(
    struct post *q, const char *js, size_t len, char **out, size_t *outlen);
int up_modern_listen_msg(struct post *p, const char *js, size_t len);
void up_modern_listen_done(struct post *p, const char *err);
void up_modern_legacy_init(struct upstream *u, int64_t id);
int up_modern_probe_failed(struct post *p, const char *why);
void
up_modern_message(struct post *p, const char *js, size_t len, struct rpc *msg);
void up_modern_retire(struct post *p);
void up_modern_destroy(struct post *p);
void up_modern_free(struct upstream *u);
void up_modern_released(struct upstream *u);
void up_modern_forget(struct upstream *u);

/* upstream_modern.c, upstream_mrtr.c, upstream_listen.c: shared state. */
/* Input rounds one request may take. */
#define ERA_MAX_ROUNDS 16
/* How long the IDE (a human) has to answer a server's question. */
#define ERA_INPUT_WAIT_MS (10 * 60 * 1000)
/* Longest cached list result lifetime, and entries kept. */
#define ERA_CACHE_MAX_MS (10 * 60 * 1000)
#define ERA_CACHE_MAX    64
/* Listen stream back-off. */
#define ERA_LISTEN_RETRY_MS     1000
#define ERA_LISTEN_RETRY_MAX_MS 30000
/* Origins whose era is remembered. */
#define ERA_ORIGINS 32

struct mrtr {
	json_t *req;    /* the request as first sent, with _meta */
	char *method;   /* its method */
	json_t *in;     /* inputResponses of this round */
	json_t *want;   /* keys of this round still awaited */
	json_t *state;  /* requestState of this round, or NULL */
	int rounds;     /* rounds so far */
	int retried;    /* already retried after -32020 or -32022 */
	int64_t waiter; /* tools/list refresh: the call waiting for it */
	struct loop_timer *timer; /* the IDE's deadline, or a retry */
};

struct held {
	char *msg;
	size_t len;
	int64_t id;
	enum upstream_kind kind;
	struct held *next;
};

struct modern {
	json_t *meta; /* _meta for every request */
	json_t *caps; /* the server's capabilities */
	char ide_version[32];
	char *level;     /* logging/setLevel of the IDE, or NULL */
	json_t *tools;   /* tool name -> header paths */
	json_t *warned;  /* tool names already reported as dropped */
	json_t *cache;   /* "method cursor" -> [expiry, result] */
	json_t *inreq;   /* our id towards the IDE -> [post id, key] */
	json_t *subs;    /* subscribed resource URIs -> true */
	int64_t next_in; /* for those ids */
	json_t *local;   /* answers made here, sent from the loop */
	struct loop_timer *flush;
	struct post *listen; /* the current listen stream */
	int listen_fail;     /* failures in a row */
	int listen_off;      /* the server has no subscriptions/listen */
	int listen_lost;     /* list_changed owed after a lost stream */
	struct loop_timer *relisten;
	struct held *held, **held_tail; /* messages sent while probing */
};

void up_local_send(struct upstream *u, json_t *msg); /* steals msg */
void up_local_result(struct upstream *u, int64_t id, json_t *result);
void up_local_error(struct upstream *u, int64_t id, int code, const char *why);
char *up_header_block(const json_t *lines);
struct post *up_modern_post(struct upstream *u, json_t *msg, int64_t id,
    enum upstream_kind kind, const json_t *paths);
struct mrtr *up_mrtr_new(json_t *req, const char *method); /* steals req */
void up_cache_key(const json_t *msg, const char *method, char *out, size_t sz);
void up_era_remember(const char *url, enum up_era e);
void up_retry_soon(struct post *p);
void up_ide_answer(struct upstream *u, json_t *msg);
void up_start_listen(struct upstream *u);

/* upstream_legacy.c: the HTTP+SSE (2024-11-05) transport. */
void up_legacy_connect(struct upstream *u, int now);
void up_legacy_start(struct post *s);
int up_legacy_fallback(struct post *p);

#endif

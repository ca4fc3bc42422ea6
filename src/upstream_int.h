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

/* upstream_legacy.c: the HTTP+SSE (2024-11-05) transport. */
void up_legacy_connect(struct upstream *u, int now);
void up_legacy_start(struct post *s);
int up_legacy_fallback(struct post *p);

#endif

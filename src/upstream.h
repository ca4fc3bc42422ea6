/* SPDX-License-Identifier: ISC */
/*
 * upstream: one hosted MCP server over Streamable HTTP (2025-03-26 to
 * 2025-11-25).
 *
 * Each message is one POST with the required headers (Accept both,
 * Content-Type, MCP-Protocol-Version once negotiated, Mcp-Session-Id
 * once issued). A response comes back as application/json or as an SSE
 * stream; a stream that drops before the response is resumed with GET +
 * Last-Event-ID after the server's `retry`. After notifications/initialized
 * the standalone GET stream is opened (405 tolerated) and kept open, so
 * server-initiated requests and notifications arrive. HTTP 404 to a
 * request that carried a session id means the session expired: the
 * upstream re-initializes with the IDE's original initialize request,
 * sends notifications/initialized and retries the request once.
 *
 * With `legacy_sse` (or when the server answers the IDE's initialize
 * POST with 404 or 405 and no JSON-RPC body: the spec's backward
 * compatibility check) the upstream speaks the deprecated HTTP+SSE
 * transport (2024-11-05) instead: one GET stream on the URL whose first
 * event, `endpoint`, names where to POST (same origin only); every
 * message from the server arrives on that stream. A lost stream fails
 * every request sent and not answered, and is reopened with backoff; a
 * new endpoint means a new server session, so the IDE's initialize is
 * replayed there before anything else is sent.
 *
 * Every request sent with an id ends in exactly one of: a response
 * delivered through on_message, or on_fail. The upstream does not know
 * the IDE; ids are the upstream's own (upstream_next_id()).
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "hdr.h"
#include "http.h"
#include "loop.h"
#include "rpc.h"

enum upstream_kind {
	UPSTREAM_REQUEST = 0, /* a request: a response is awaited */
	UPSTREAM_INITIALIZE,  /* the IDE's initialize (kept for re-init) */
	UPSTREAM_NOTIFY,      /* a notification */
	UPSTREAM_INITIALIZED, /* notifications/initialized: opens GET */
	UPSTREAM_RESPONSE,    /* an answer to a server->client request */
};

struct secret;

/*
 * Where the bearer token comes from (a company sign-in). `bearer`
 * returns 0 and *out (borrowed for the call), 1 when the token is not
 * ready yet (upstream_auth_ready() follows), or -1 with *why. `rejected`
 * reports the token the server answered 401 to; the request is sent once
 * more after upstream_auth_ready().
 */
struct upstream_auth {
	int (*bearer)(void *arg, const struct secret **out, const char **why);
	void (*rejected)(void *arg, const struct secret *tok);
	void *arg;
};

struct upstream_opts {
	const char *url;                  /* endpoint; borrowed */
	const struct hdrlist *headers;    /* extra headers; borrowed */
	int64_t request_idle_ms;          /* 0 = no idle timeout */
	int64_t request_max_ms;           /* hard limit per request, 0 = none */
	const struct upstream_auth *auth; /* borrowed; NULL = none */
	int legacy_sse;     /* 1: HTTP+SSE (2024-11-05) from the start */
	int64_t connect_ms; /* legacy: wait for `endpoint`; 0 = default */
};

struct upstream_cbs {
	/*
	 * A message from the server: `js` (borrowed) parsed into `msg`
	 * (borrowed) - a response, a server->client request or a
	 * notification.
	 */
	void (*on_message)(
	    void *arg, const char *js, size_t len, struct rpc *msg);
	/* The request `id` gets no response: JSON-RPC `code` and reason. */
	void (*on_fail)(void *arg, int64_t id, int code, const char *why);
	/* upstream_close() finished. */
	void (*on_closed)(void *arg);
};

struct upstream;

/* New upstream; `o` and `cbs` are copied (strings borrowed). */
struct upstream *upstream_new(struct loop *l, struct http *h,
    const struct upstream_opts *o, const struct upstream_cbs *cbs, void *arg);

/* Cancels everything and frees; sets *up to NULL; NULL is fine. */
void upstream_free(struct upstream **up);

/* A fresh id for a request to this server. */
int64_t upstream_next_id(struct upstream *u);

/*
 * Sends one message. `id` is the request's id for UPSTREAM_REQUEST and
 * UPSTREAM_INITIALIZE, ignored otherwise. Steals `msg` (malloc'd).
 */
void upstream_send(struct upstream *u, char *msg, size_t len, int64_t id,
    enum upstream_kind kind);

/* Stops waiting for request `id` (the IDE cancelled it); no on_fail. */
void upstream_cancel(struct upstream *u, int64_t id);

/* Ends the session (DELETE, 405 ignored), then calls on_closed. */
void upstream_close(struct upstream *u);

/* Tokens changed: messages waiting for one are sent again. */
void upstream_auth_ready(struct upstream *u);

/* The negotiated protocol version, or NULL before initialize. */
const char *upstream_version(const struct upstream *u);

#endif

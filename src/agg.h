/* SPDX-License-Identifier: ISC */
/*
 * agg: many hosted servers behind one MCP session.
 *
 * The aggregator looks like one upstream to the router (the same send /
 * next_id / cancel / close calls and the same callbacks), and holds one
 * `upstream` per hosted server ("link"), all on the one loop. It answers
 * the IDE's initialize at once with the union of what it can relay, then
 * opens every link in parallel with the IDE's own initialize params.
 *
 * Tools and prompts are exposed as "<server id>__<name>" (names module);
 * resources keep their URIs and are routed by a URI -> server map built
 * from resources/list and templates (fallback: ask the servers in turn,
 * "not found" meaning "not mine"). Lists are every page of every server,
 * merged, paged again by the bridge past AGG_PAGE items. A list request
 * waits at most AGG_LIST_WAIT_MS for servers still connecting, answers
 * with what is ready (and what the disk cache remembers of the others),
 * and notifications/<list>/list_changed follows when the rest arrive. A
 * server that fails is left out, retried with backoff, and calls to its
 * tools get an error saying why. Ids are per link; server->client
 * requests (elicitation, sampling, roots, ping) get aggregator-unique ids
 * and the IDE's answers go back to the server that asked. Progress
 * tokens are the IDE's own and each request goes to one server, so
 * notifications/progress pass through unchanged.
 */
#ifndef AGG_H
#define AGG_H

#include <stddef.h>
#include <stdint.h>

#include "hdr.h"
#include "http.h"
#include "loop.h"
#include "upstream.h"

/* Longest wait of a list request for servers still connecting. */
#define AGG_LIST_WAIT_MS 3000
/* Items per page of the bridge's own list pagination. */
#define AGG_PAGE 1000
/* Pages followed per server and list; items kept per server and list. */
#define AGG_MAX_PAGES 100
#define AGG_MAX_ITEMS 10000
/* Hosted servers in one session. */
#define AGG_MAX_LINKS 256
/* Requests queued per server while it connects. */
#define AGG_MAX_QUEUED 256
/* Reconnect backoff of a failed server. */
#define AGG_RETRY_MIN_MS 2000
#define AGG_RETRY_MAX_MS (60 * 1000)

struct usage;

struct agg_server {
	const char *id;    /* exposed id, [A-Za-z0-9_-] (names_ids) */
	const char *name;  /* registry or config name */
	const char *title; /* shown to humans, or NULL */
	const char *url;   /* endpoint */
	const struct upstream_auth *auth; /* borrowed; NULL = none */
	int legacy_sse; /* 1: the deprecated HTTP+SSE transport */
};

struct agg_opts {
	const struct hdrlist *headers; /* extra headers; borrowed */
	int64_t request_idle_ms;       /* 0 = none */
	int64_t request_max_ms;        /* 0 = none */
	const char *const *allow;      /* globs on exposed names; NULL-ended */
	const char *const *deny;       /* globs on exposed names; NULL-ended */
	const char *cache_path;        /* tool-list cache, or NULL */
	int64_t list_wait_ms;          /* 0 = AGG_LIST_WAIT_MS */
	struct usage *usage;           /* call counters (borrowed), or NULL */
};

struct agg;

/* New aggregator; `o` copied (strings and arrays copied). */
struct agg *agg_new(struct loop *l, struct http *h, const struct agg_opts *o,
    const struct upstream_cbs *cbs, void *arg);
/* Cancels everything (no callbacks) and frees; NULL is fine. */
void agg_free(struct agg **ap);

/*
 * Adds a server (`s` copied; auth borrowed). It connects at once if the
 * IDE's initialize has arrived. 0, or -1 (duplicate id, too many).
 */
int agg_add(struct agg *a, const struct agg_server *s);
/* Disconnects and forgets server `id` (gone from the registry). */
void agg_remove(struct agg *a, const char *id);
/* 1 if server `id` is part of the session. */
int agg_has(const struct agg *a, const char *id);
/*
 * While `pending` is 1 the set of servers is not known yet (the registry
 * is being asked): list requests wait as for a connecting server.
 */
void agg_set_pending(struct agg *a, int pending);

/* The upstream-like side the router drives (see upstream.h). */
int64_t agg_next_id(struct agg *a);
void agg_send(
    struct agg *a, char *msg, size_t len, int64_t id, enum upstream_kind kind);
void agg_cancel(struct agg *a, int64_t id);
void agg_close(struct agg *a);
void agg_auth_ready(struct agg *a);
const char *agg_version(const struct agg *a);

/* 1 when every server is connected or has failed, with its lists. */
int agg_settled(const struct agg *a);
/*
 * The merged tool list with origins, for `mcp-bridge tools`: a JSON
 * array of {name, server, tool, title, description, status} plus one
 * {server, status, error} per server without tools (new string).
 */
char *agg_tools_report(struct agg *a);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * catalog: the hosted servers the registry says this user may use.
 *
 * Lists GET REGISTRY/v0.1/servers with the user's bearer token, following
 * metadata.nextCursor to the end; each page is revalidated with its ETag
 * (304 reuses it) and nothing is fetched while the registry's max-age
 * holds. The last good catalog is kept on disk (not secret: names and
 * URLs; 0600, written atomically, keyed by registry + issuer + subject)
 * and served, stale, when the registry cannot be reached. The token goes
 * to the registry origin only; remotes the bridge may not send it to are
 * marked refused by regmsg. 401 refreshes the token once and retries.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>

#include "http.h"
#include "loop.h"
#include "regmsg.h"
#include "upstream.h"

/* Pages followed at most (100 servers each). */
#define CATALOG_MAX_PAGES 100
/* Bytes of one listing, all pages together (each is kept for the cache). */
#define CATALOG_MAX_BYTES (32u * 1024 * 1024)
/* How long to wait for a token that is being refreshed. */
#define CATALOG_TOKEN_WAIT_MS (30 * 1000)

struct catalog_opts {
	const char *registry;   /* base URL (https, or http on loopback) */
	const char *cache_path; /* last good catalog, or NULL for none */
	const struct upstream_auth *auth; /* bearer token source (borrowed) */
	int include_denied; /* also list denied servers (our extension) */
};

struct catalog;

/* `why` is NULL on success (possibly stale: see catalog_stale()). */
typedef void catalog_cb(void *arg, const char *why);
/* `a` is NULL on failure, with `why`. */
typedef void
catalog_access_cb(void *arg, const struct regmsg_access *a, const char *why);

/* New catalog; `o` copied (strings copied, auth borrowed). */
struct catalog *
catalog_new(struct loop *l, struct http *h, const struct catalog_opts *o);
/* Cancels everything (no callbacks) and frees; NULL is fine. */
void catalog_free(struct catalog **cp);

/* Fetches (or revalidates) the whole list; one callback. */
void catalog_refresh(struct catalog *c, catalog_cb *cb, void *arg);

/* The servers (borrowed until the next refresh). */
const struct regmsg_page *catalog_servers(const struct catalog *c);
/* 1 when the list came from the disk cache after a failure. */
int catalog_stale(const struct catalog *c);
/*
 * A usable server by full name or short name (the part after '/'):
 * not deleted. NULL if none or ambiguous.
 */
const struct regmsg_server *
catalog_find(const struct catalog *c, const char *name);

/* Asks GET .../servers/{name}/access (the pre-flight); one callback. */
void catalog_access(
    struct catalog *c, const char *name, catalog_access_cb *cb, void *arg);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * auth: the user's company sign-in, shared by every bridge process.
 *
 * Holds the token set of (issuer, profile) and keeps it fresh: tokens
 * come from the store (keyring; memory when there is none, said once on
 * stderr), from the device flow, and from refreshes. A refresh runs
 * under a cross-process lock (plock), re-reads the store after taking
 * it (another window may have refreshed already), and stores the
 * rotated refresh token before the new access token is used. Access
 * tokens are refreshed when less than max(60 s, 10 %) of their lifetime
 * is left, and once more when a server answers 401 to one. Per-server
 * audiences (RFC 8707 resources) are minted from the same sign-in.
 * `invalid_grant` clears the store and the state becomes signed out.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "loop.h"
#include "oamsg.h"
#include "tokstore.h"
#include "upstream.h"

struct secret;
struct tokset;

/* Longest wait for another process's refresh lock. */
#define AUTH_LOCK_WAIT_MS (30 * 1000)
/* While signing in, the store is re-read this often (other windows). */
#define AUTH_STORE_WATCH_MS 2000
/* Backoff after a failed refresh (network, 5xx): first and last delay. */
#define AUTH_RETRY_MIN_MS 1000
#define AUTH_RETRY_MAX_MS (60 * 1000)

enum auth_state {
	AUTH_SIGNED_OUT = 0, /* no usable tokens */
	AUTH_SIGNING_IN,     /* a device flow is running */
	AUTH_SIGNED_IN,      /* a refresh token (or access token) is held */
};

struct auth_opts {
	const char *issuer;    /* borrowed, copied */
	const char *client_id; /* borrowed, copied */
	const char *scope;     /* space-separated, copied; NULL = none */
	const char *resource;  /* default audience resource, or NULL */
	const char *profile;   /* store key with the issuer ("default") */
	enum tokstore_kind store;
	struct tokstore_opts store_opts;
	int watch_store;  /* while signing in, adopt tokens another
	                     process stored */
	int strict_store; /* no keyring is an error, not memory */
};

struct auth_cbs {
	/* The state changed; `why` says why when it becomes signed out. */
	void (*state)(void *arg, enum auth_state st, const char *why);
	/* A device flow has codes to show (borrowed for the call). */
	void (*code)(void *arg, const struct oamsg_device *d);
	/* Access tokens changed or a wait ended: call auth_bearer() again. */
	void (*tokens)(void *arg);
};

struct auth;

/*
 * New auth: opens the store (a keyring that cannot be used falls back to
 * memory, with one warning). `o` and `cbs` copied. NULL with a reason.
 */
struct auth *auth_new(struct loop *l, struct http *h, const struct auth_opts *o,
    const struct auth_cbs *cbs, void *arg, char *err, size_t errsz);
/* Cancels everything (no callbacks) and frees; NULL is fine. */
void auth_free(struct auth **ap);

/* Reads the store: returns the state (no callback for this one). */
enum auth_state auth_start(struct auth *a);
enum auth_state auth_state(const struct auth *a);
/* Why the last sign-in or refresh failed ("" if none); borrowed. */
const char *auth_last_error(const struct auth *a);
/* Name of the store holding the tokens ("keyring (Secret Service)"). */
const char *auth_store_name(const struct auth *a);
/* The current token set, or NULL (borrowed). */
const struct tokset *auth_tokens(const struct auth *a);

/* Starts the device flow unless one runs or the user is signed in. */
void auth_login(struct auth *a);
/* Starts a new device flow even when signed in (`mcp-bridge login`). */
void auth_relogin(struct auth *a);

/*
 * The access token for `resource` (NULL = default audience):
 * 0 and *out (borrowed until the next auth call) = use it;
 * 1 = not ready, the `tokens` callback follows;
 * -1 = not available, *why (borrowed) says why.
 */
int auth_bearer(struct auth *a, const char *resource, const struct secret **out,
    const char **why);

/* A server answered 401 to `tok` (borrowed): refresh it once. */
void
auth_rejected(struct auth *a, const char *resource, const struct secret *tok);

/*
 * Fills `out` with a token source for the default audience backed by
 * auth_bearer()/auth_rejected() (for the registry client). `a` borrowed.
 */
void auth_token_source(struct auth *a, struct upstream_auth *out);

typedef void auth_done_cb(void *arg, int ok, const char *why);
/*
 * Logs out: under the lock (held until `cb`), deletes the stored tokens,
 * then revokes the refresh token (RFC 7009); no refresh starts meanwhile.
 * `cb` gets ok=1, or ok=0 with why (the tokens are deleted even when
 * revocation fails).
 */
void auth_logout(struct auth *a, auth_done_cb *cb, void *arg);

#endif

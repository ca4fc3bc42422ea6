/* SPDX-License-Identifier: ISC */
/*
 * oauth: the bridge's OAuth 2.0 client on the loop (public client).
 *
 * Discovery (OIDC, then RFC 8414 metadata; issuer checked), the RFC 8628
 * device flow with its polling rules, refresh (RFC 6749 6, optionally
 * with an RFC 8707 resource) and revocation (RFC 7009). Every operation
 * is one asynchronous object that ends in exactly one callback, unless
 * cancelled first. Bodies that carry secrets are wiped when freed; no
 * token, code or request body is ever logged.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "loop.h"
#include "oamsg.h"

struct secret;

/* Device flow: slowest poll interval reached by backing off (seconds). */
#define OAUTH_MAX_INTERVAL_S 60

struct oauth_opts {
	const char *issuer;    /* borrowed; copied */
	const char *client_id; /* borrowed; copied */
	const char *scope;     /* space-separated; copied; NULL = none */
	const char *resource;  /* default RFC 8707 resource; NULL = none */
};

/* The outcome of one operation; members may be stolen by the callback. */
struct oauth_result {
	int ok;                 /* 1: success, `tok` filled (token ops) */
	int transient;          /* network or server error: try again later */
	char error[64];         /* OAuth error code ("invalid_grant"), or "" */
	char why[384];          /* one line for the user when !ok */
	struct oamsg_token tok; /* on success of a token request */
};

typedef void oauth_cb(void *arg, struct oauth_result *r);

struct oauth_device_cbs {
	/* The codes to show the user (borrowed for the call). */
	void (*code)(void *arg, const struct oamsg_device *d);
	/* The flow ended: tokens, or why not. */
	oauth_cb *done;
};

struct oauth;
struct oauth_op;

/* New client; `o` copied. */
struct oauth *
oauth_new(struct loop *l, struct http *h, const struct oauth_opts *o);
/* Cancels every operation (no callbacks) and frees; NULL is fine. */
void oauth_free(struct oauth **op);

/*
 * Fetches and checks the metadata (cached after the first success);
 * `cb` gets ok=1 or the reason. The operation handle (borrowed, valid
 * until its callback) can be cancelled.
 */
struct oauth_op *oauth_discover(struct oauth *o, oauth_cb *cb, void *arg);

/* The metadata, after a successful discovery; NULL before. */
const struct oamsg_meta *oauth_meta(const struct oauth *o);

/* Starts the device flow; polls until tokens, denial or expiry. */
struct oauth_op *
oauth_device(struct oauth *o, const struct oauth_device_cbs *cbs, void *arg);

/*
 * Refresh grant with refresh token `rt` (borrowed for the call), for
 * `resource` (NULL = the default; copied).
 */
struct oauth_op *oauth_refresh(struct oauth *o, const struct secret *rt,
    const char *resource, oauth_cb *cb, void *arg);

/* Revokes refresh token `rt` (borrowed for the call). */
struct oauth_op *
oauth_revoke(struct oauth *o, const struct secret *rt, oauth_cb *cb, void *arg);

/*
 * Every starter above returns NULL when the operation ended before it
 * returned (its callback has already run: cached metadata, a transfer
 * that could not be created).
 */

/* Cancels an operation: no callback. NULL is fine. */
void oauth_cancel(struct oauth_op *op);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * registry_keys: the issuer's signing keys for mcp-registryd.
 *
 * Discovery (ISSUER/.well-known/openid-configuration, then RFC 8414
 * metadata; the issuer must match), then jwks_uri; the key set is cached
 * and fetched again when a token names an unknown kid, at most once per
 * RKEYS_REFETCH_MS. Blocking libcurl easy transfers (the server's worker
 * threads may wait), TLS verified, no redirects, capped in time and size.
 * Thread-safe.
 */
#ifndef REGISTRY_KEYS_H
#define REGISTRY_KEYS_H

#include <stddef.h>

#include "jwt.h"

/* Smallest delay between two fetches of the key set. */
#define RKEYS_REFETCH_MS (10 * 1000)

struct rkeys;

/* New; nothing fetched yet. `cacert` (extra CA bundle) may be NULL. */
struct rkeys *rkeys_new(const char *issuer, const char *cacert);
void rkeys_free(struct rkeys **kp);

/*
 * Verifies `tok` with the cached keys, fetching them when there are none
 * or the token's kid is unknown (rate-limited). Same contract as
 * jwt_verify(); a failed fetch gives JWT_UNKNOWN_KID with the reason.
 */
enum jwt_status rkeys_verify(struct rkeys *k, const char *tok, size_t n,
    const struct jwt_policy *p, struct jwt_claims *out, char *err,
    size_t errsz);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * jwt: validation of JWT access tokens (RFC 9068) signed as compact JWS
 * (RFC 7515), for a resource server such as mcp-registryd.
 *
 * Only ES256 and RS256 are accepted, and the key is chosen by "kid" from
 * a JWK Set whose key type must match the algorithm: "none", HMAC, PSS and
 * everything else fail, so no algorithm confusion is possible. The claims
 * a resource server needs (RFC 9068 4) are checked against an explicit
 * policy; the clock is a parameter, so the module is pure (no I/O, no
 * logging). It does not fetch keys: jwt_peek_kid() tells the caller when
 * a refetch of the JWKS may help.
 */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>
#include <stdint.h>

struct jwks;

/*
 * Parses a JWK Set document {"keys":[...]}: keeps EC P-256 keys (kty
 * "EC", crv "P-256", x, y) and RSA keys (kty "RSA", n, e; modulus
 * 2048..8192 bits) that have a "kid"; skips keys with "use" other than
 * "sig", unknown kty/crv, or "alg" other than ES256/RS256 (skipped, not
 * an error); at most 64 keys. New, or NULL with a reason in err (invalid
 * JSON, no usable key).
 */
struct jwks *jwks_parse(const char *js, size_t n, char *err, size_t errsz);
/* Frees; sets *kp to NULL; NULL is fine. */
void jwks_free(struct jwks **kp);
/* Number of usable keys kept. */
size_t jwks_count(const struct jwks *k);
/* 1 if a kept key has this kid, else 0. */
int jwks_has_kid(const struct jwks *k, const char *kid);

/* What the resource server requires; every pointer borrowed. */
struct jwt_policy {
	const char *issuer;       /* iss must equal it exactly */
	const char *audience;     /* aud (string or array) must contain it */
	int64_t leeway_s;         /* for exp/nbf/iat (e.g. 30) */
	const char *groups_claim; /* claim holding the groups array */
	int64_t now;              /* unix seconds (a parameter: pure) */
};

/* Claims of a valid token; every string new, free with jwt_claims_clear. */
struct jwt_claims {
	char *sub;       /* always set on JWT_OK */
	char *email;     /* NULL when absent or not a string */
	char *client_id; /* NULL when absent or not a string */
	char *scope;     /* NULL when absent or not a string */
	char **groups;   /* from groups_claim; non-strings skipped */
	size_t ngroups;  /* at most 256 */
	int64_t exp;     /* unix seconds */
};

enum jwt_status {
	JWT_OK = 0,
	JWT_MALFORMED,
	JWT_TOO_LARGE,
	JWT_BAD_TYP,
	JWT_BAD_ALG,
	JWT_UNKNOWN_KID,
	JWT_BAD_SIGNATURE,
	JWT_BAD_ISSUER,
	JWT_BAD_AUDIENCE,
	JWT_EXPIRED,
	JWT_NOT_YET_VALID,
};

/* Longest token accepted. */
#define JWT_MAX_LEN (16u * 1024)

/*
 * Verifies a compact JWS: header typ "at+jwt" (case-insensitive, also
 * "application/at+jwt"), alg ES256 or RS256 only (no "crit" header), the
 * key picked by kid (a key whose kty does not match the alg is
 * JWT_BAD_ALG), the signature (ES256: 64-byte r||s; RS256: PKCS#1 v1.5
 * SHA-256), then the claims: iss, aud, exp and sub required (exp + leeway
 * > now), nbf and iat optional (nbf - leeway <= now, iat - leeway <= now).
 * A missing or mistyped required claim other than iss/aud is
 * JWT_MALFORMED. Fills *out (may be NULL) only on JWT_OK; it is zeroed
 * otherwise, so jwt_claims_clear() is always safe. Never reads beyond n.
 * err gets a short reason without the token. `tok`, `k`, `p` borrowed.
 */
enum jwt_status jwt_verify(const char *tok, size_t n, const struct jwks *k,
    const struct jwt_policy *p, struct jwt_claims *out, char *err,
    size_t errsz);
/*
 * Copies the "kid" of the header into `kid` without verifying anything
 * (to decide a JWKS refetch): 0, or -1 (malformed, no kid, too long).
 */
int jwt_peek_kid(const char *tok, size_t n, char *kid, size_t kidsz);
/* Frees every string of `c` and zeroes it; a zeroed struct is fine. */
void jwt_claims_clear(struct jwt_claims *c);
/* Static text: "expired", "bad signature", ... */
const char *jwt_status_str(enum jwt_status s);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * tokset: the user's token set, as kept in the token store.
 *
 * One set per (issuer, profile): the refresh token, the ID token, and one
 * access token per audience (the default one, plus one per RFC 8707
 * resource minted from the same sign-in). It travels as one JSON blob so
 * that a rotation is one atomic replace:
 *
 *   {"v":1,"refresh_token":"..","id_token":"..","access":[
 *     {"resource":null,"token":"..","expires_at":1795376875,"lifetime":600}]}
 *
 * Expiry is the local clock at receipt plus expires_in (never read from
 * the token: RFC 9068 6). Pure: the clock is a parameter.
 */
#ifndef TOKSET_H
#define TOKSET_H

#include <stddef.h>
#include <stdint.h>

struct secret;
struct tokset;

/* Audiences kept per set (default + per-server resources). */
#define TOKSET_MAX_ACCESS 64
/* Refresh when less than max(this, 10 % of the lifetime) is left. */
#define TOKSET_MIN_MARGIN_S 60
/* Lifetime assumed when the server gave no expires_in. */
#define TOKSET_DEFAULT_LIFETIME_S 300

/* New empty set. */
struct tokset *tokset_new(void);
/* Wipes and frees; sets *tp to NULL; NULL is fine. */
void tokset_free(struct tokset **tp);

/* Parses a stored blob (borrowed); new set or NULL with a reason. */
struct tokset *tokset_parse(const struct secret *blob, char *err, size_t errsz);
/* Serialises; new secret, or NULL on failure. */
struct secret *tokset_dump(const struct tokset *t);

/* Replaces the refresh / ID token; steals `s` (NULL clears). */
void tokset_set_refresh(struct tokset *t, struct secret *s);
void tokset_set_id(struct tokset *t, struct secret *s);
/*
 * Sets the access token of `resource` (NULL = default audience; copied),
 * received at `now` (unix seconds) with `expires_in` (<= 0: unknown).
 * Steals `at`. 0, or -1 (and `at` freed) when TOKSET_MAX_ACCESS is hit or
 * `resource` is empty, longer than 2048 bytes or not UTF-8.
 */
int tokset_set_access(struct tokset *t, const char *resource, struct secret *at,
    int64_t now, int64_t expires_in);
/* Forgets the access token of `resource` (after a 401). */
void tokset_drop_access(struct tokset *t, const char *resource);

/* Borrowed; NULL when absent. */
const struct secret *tokset_refresh(const struct tokset *t);
const struct secret *tokset_id(const struct tokset *t);
/* Access token of `resource` still valid at `now`, or NULL. */
const struct secret *
tokset_access(const struct tokset *t, const char *resource, int64_t now);
/* Expiry (unix seconds) of the access token of `resource`, 0 if none. */
int64_t tokset_expires_at(const struct tokset *t, const char *resource);
/*
 * When the access token of `resource` should be refreshed (unix
 * seconds): expiry minus max(60 s, 10 % of its lifetime). 0 if none.
 */
int64_t tokset_refresh_at(const struct tokset *t, const char *resource);

#endif

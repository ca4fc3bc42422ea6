/* SPDX-License-Identifier: ISC */
/*
 * oamsg: the OAuth 2.0 / OpenID messages the bridge reads and writes,
 * as pure functions (no I/O): authorization server metadata (RFC 8414,
 * OIDC Discovery), the device authorization response (RFC 8628 3.2),
 * token responses and OAuth error bodies (RFC 6749 5.1/5.2), form
 * bodies (application/x-www-form-urlencoded) and the claims of an ID
 * token shown to the user.
 *
 * Everything that authenticates (device code, access, refresh and ID
 * tokens) is returned in a struct secret; strings meant for a terminal
 * (user code, URIs, error descriptions) are checked or cleaned so that a
 * hostile server cannot put control characters on the user's screen.
 * The ID token is decoded, not verified: it came straight from the token
 * endpoint over TLS (OIDC Core 3.1.3.7); the bridge only displays it.
 */
#ifndef OAMSG_H
#define OAMSG_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct secret;

/* Longest response body of an authorization server the bridge reads. */
#define OAMSG_MAX_BODY (256u * 1024)

/* Server metadata; every string new (free with oamsg_meta_clear()). */
struct oamsg_meta {
	char *issuer;
	char *device_ep; /* device_authorization_endpoint */
	char *token_ep;  /* token_endpoint */
	char *revoke_ep; /* revocation_endpoint, or NULL */
	char *jwks_uri;  /* jwks_uri, or NULL */
};

/*
 * Parses a metadata document. `issuer` must equal its "issuer" exactly
 * (RFC 8414 3.3); token and device endpoints are required; every
 * endpoint must be https (http only on loopback). 0 or -1 with a reason.
 */
int oamsg_meta_parse(const char *js, size_t n, const char *issuer,
    struct oamsg_meta *m, char *err, size_t errsz);
void oamsg_meta_clear(struct oamsg_meta *m);

/* Device authorization response; clear with oamsg_device_clear(). */
struct oamsg_device {
	struct secret *device_code;
	char *user_code;                 /* printable ASCII */
	char *verification_uri;          /* checked URL */
	char *verification_uri_complete; /* checked URL, or NULL */
	int64_t expires_in;              /* seconds */
	int64_t interval;                /* seconds; 5 when absent */
};

int oamsg_device_parse(
    const char *js, size_t n, struct oamsg_device *d, char *err, size_t errsz);
void oamsg_device_clear(struct oamsg_device *d);

/* Successful token response; clear with oamsg_token_clear(). */
struct oamsg_token {
	struct secret *access;   /* access_token */
	struct secret *refresh;  /* refresh_token, or NULL */
	struct secret *id_token; /* id_token, or NULL */
	int64_t expires_in;      /* seconds, or -1 when absent */
};

/* Parses a 200 token response (token_type must be Bearer). 0 or -1. */
int oamsg_token_parse(
    const char *js, size_t n, struct oamsg_token *t, char *err, size_t errsz);
void oamsg_token_clear(struct oamsg_token *t);

/*
 * Reads an OAuth error body {"error": code, "error_description": ...}.
 * Returns 0 and fills `code` (the error code, [\x20-\x7e] only) and
 * `desc` (cleaned, possibly truncated, "" when absent), or -1 when the
 * body is not an OAuth error.
 */
int oamsg_error_parse(const char *js, size_t n, char *code, size_t codesz,
    char *desc, size_t descsz);

/* Appends "key=value" (percent-encoded, '&' before all but the first). */
int oamsg_form_add(struct buf *b, const char *key, const char *val);

/* Claims of an ID token, for display; strings new, clear with below. */
struct oamsg_claims {
	char *iss, *sub, *email, *name; /* NULL when absent */
	char **groups;                  /* ngroups entries */
	size_t ngroups;
	int64_t exp; /* 0 when absent */
};

/*
 * Decodes the payload of a compact JWT (three base64url parts) without
 * verifying it. 0 or -1 with a reason.
 */
int oamsg_claims_parse(
    const char *jwt, size_t n, struct oamsg_claims *c, char *err, size_t errsz);
void oamsg_claims_clear(struct oamsg_claims *c);

/*
 * Copies `s` into `out` for display: control characters, DEL and
 * invalid UTF-8 become '?', and the copy is cut at `outsz - 1` bytes on
 * a character boundary. Returns `out`.
 */
char *oamsg_clean(const char *s, char *out, size_t outsz);

#endif

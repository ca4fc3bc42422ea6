/* SPDX-License-Identifier: ISC */
/*
 * registry_api: mcp-registryd's HTTP API as a pure function of the
 * request, the catalog and the caller's verified identity (the contract
 * is docs/registry-api.md): the official MCP Registry v0.1 read API with
 * per-user answers, the access pre-flight, problem+json errors, ETags,
 * CORS and the RFC 9728 protected-resource metadata.
 */
#ifndef REGISTRY_API_H
#define REGISTRY_API_H

#include <stddef.h>
#include <stdint.h>

#include "registry_db.h"

struct rapi_user {
	const char *sub;
	const char *const *groups;
	size_t ngroups;
};

struct rapi_req {
	const char *method;
	const char *path;             /* raw, percent-encoded */
	const char *query;            /* after '?', or NULL */
	const char *if_none_match;    /* or NULL */
	const struct rapi_user *user; /* NULL: no valid token */
	const char *auth_error; /* why a token was refused; NULL: none sent */
	int64_t now;            /* unix seconds */
};

struct rapi_conf {
	const char *issuer;   /* the authorization server */
	const char *resource; /* this registry's resource id (aud) */
	const char *base_url; /* e.g. http://127.0.0.1:8080 */
};

struct rapi_resp {
	int status;
	char *body; /* new (may be NULL for 204/304) */
	size_t len;
	const char *ctype;  /* static */
	char etag[24];      /* "" if none */
	int cors;           /* add the CORS headers */
	int cache;          /* add Cache-Control private + Vary */
	char www_auth[512]; /* WWW-Authenticate, or "" */
};

/* Longest page (limit=). */
#define RAPI_MAX_LIMIT 100

void rapi_handle(const struct rdb *db, const struct rapi_conf *c,
    const struct rapi_req *rq, struct rapi_resp *out);
void rapi_resp_clear(struct rapi_resp *r);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * cfg_int: the configuration's internals, shared by cfg.c (layers,
 * scalar keys, printing) and cfg_servers.c (the `servers` list and the
 * `tools` filter). Nothing outside cfg includes it.
 */
#ifndef CFG_INT_H
#define CFG_INT_H

#include <jansson.h>
#include <stddef.h>

#include "cfg.h"

enum cfg_type { T_STR, T_URL, T_ENUM, T_PATH, T_SCOPES, T_SERVERS, T_TOOLS };

enum cfg_key {
	K_ISSUER,
	K_CLIENT_ID,
	K_SCOPES,
	K_TOKEN_STORE,
	K_CACERT,
	K_LOG_LEVEL,
	K_REGISTRY,
	K_PROFILE,
	K_RESOURCE,
	K_SERVERS,
	K_TOOLS,
	K__MAX
};

struct cfg_keydef {
	const char *name; /* JSON key */
	const char *env;  /* environment variable */
	enum cfg_type type;
	const char *expect; /* for enums: space-separated choices */
	int secret;         /* printed as [redacted] */
};

struct cfg_server {
	char *name; /* [A-Za-z0-9_.-]{1,64} */
	char *url;
	char *id;       /* NULL if absent */
	char *resource; /* RFC 8707 audience, NULL if absent */
	int disabled;   /* "enabled": false */
};

struct cfg {
	char *val[K__MAX];    /* string keys; owned */
	char *origin[K__MAX]; /* owned */
	char **scopes;        /* owned */
	size_t nscopes;
	struct cfg_server *srv; /* owned */
	size_t nsrv;
	char **allow, **deny; /* tool globs, NULL-ended; owned */
};

/* One printable line into err (control characters become '?'). */
void cfg_seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_set_origin(struct cfg *c, enum cfg_key k, const char *origin);

/* cfg_servers.c */
void cfg_servers_clear(struct cfg *c);
void cfg_globs_free(char ***gp);
int cfg_set_servers_json(
    struct cfg *c, json_t *v, const char *origin, char *err, size_t errsz);
int cfg_set_tools_json(
    struct cfg *c, json_t *v, const char *origin, char *err, size_t errsz);
json_t *cfg_globs_json(char **g);

#endif

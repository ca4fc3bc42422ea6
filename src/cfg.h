/* SPDX-License-Identifier: ISC */
/*
 * cfg: the layered JSON configuration.  Layers, lowest first: built-in
 * defaults, system file, user file, --config file, MCP_BRIDGE_*
 * environment, command-line flags.  Each value remembers its origin.
 * Errors are one line: "<origin>: <key>: expected <what>".
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>
#include <stdio.h>

struct cfg;

struct cfg_sources {
	const char *system_path;   /* borrowed; missing file is fine */
	const char *user_path;     /* borrowed; missing file is fine */
	const char *explicit_path; /* borrowed; NULL or must exist */
	char *const *environ;      /* borrowed; NULL = none */
	const char *const *flags;  /* borrowed; "key=value", NULL-terminated */
};

/* New cfg, or NULL with a one-line error in err. */
struct cfg *cfg_load(const struct cfg_sources *src, char *err, size_t errsz);
/* Parses text as one layer named origin into c; 0/-1 (for tests). */
int cfg_apply_text(struct cfg *c, const char *text, const char *origin,
    char *err, size_t errsz);
/* New cfg holding only defaults. */
struct cfg *cfg_new(void);
/* Frees *cp and sets it to NULL; NULL-safe. */
void cfg_free(struct cfg **cp);

/* Getters: borrowed strings, valid while c lives; NULL if unset. */
const char *cfg_issuer(const struct cfg *c);
const char *cfg_client_id(const struct cfg *c);
size_t cfg_scope_count(const struct cfg *c);
const char *cfg_scope(const struct cfg *c, size_t i);
const char *cfg_token_store(const struct cfg *c);
const char *cfg_cacert(const struct cfg *c);
const char *cfg_log_level(const struct cfg *c);
const char *cfg_registry(const struct cfg *c);
const char *cfg_profile(const struct cfg *c);
size_t cfg_server_count(const struct cfg *c);
const char *cfg_server_name(const struct cfg *c, size_t i);
const char *cfg_server_url(const struct cfg *c, size_t i);
const char *cfg_server_id(const struct cfg *c, size_t i);
const char *cfg_server_resource(const struct cfg *c, size_t i);
/* servers[i].url may be NULL: the entry adjusts the registry's server. */
/* 0 when servers[i] says "enabled": false. */
int cfg_server_enabled(const struct cfg *c, size_t i);
/* tools.allow / tools.deny globs, NULL-ended; NULL when unset. */
const char *const *cfg_tools_allow(const struct cfg *c);
const char *const *cfg_tools_deny(const struct cfg *c);
/* Default RFC 8707 resource asked for at sign-in, or NULL. */
const char *cfg_resource(const struct cfg *c);
/* Origin of a top-level key ("default", a path, "env MCP_BRIDGE_X"...). */
const char *cfg_origin(const struct cfg *c, const char *key);

/* Prints the effective config with origins; 0/-1. */
int cfg_print(const struct cfg *c, FILE *f, int json);
/* Checks one file offline; 0/-1 with a one-line error. */
int cfg_validate_file(const char *path, char *err, size_t errsz);

#endif

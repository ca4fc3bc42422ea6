/* SPDX-License-Identifier: ISC */
/*
 * names: the names an aggregating bridge shows the IDE (pure).
 *
 * Every hosted server gets a short id derived from its registry name
 * (com.example.mcp/presto -> presto), or the one the config sets; ids use
 * [A-Za-z0-9_-] without "__", so "<id>__<tool>" splits back uniquely.
 * Two servers whose ids collide get a stable suffix (a hash of the full
 * name, not of the order they arrive in). Exposed names longer than
 * NAMES_MAX keep their start and end in a hash of the whole name, so they
 * stay within clients' 64-character tool-name limit and are the same at
 * every start.
 */
#ifndef NAMES_H
#define NAMES_H

#include <stddef.h>

/* Longest exposed tool or prompt name (what IDEs accept). */
#define NAMES_MAX 64
/* Longest server id. */
#define NAMES_ID_MAX 24
/* Separator between server id and tool name. */
#define NAMES_SEP "__"
/* Longest tool or prompt name taken from a hosted server (bytes). */
#define NAMES_TOOL_MAX 512

/*
 * Ids for `n` servers: `names` are registry names (or config names),
 * `explicit_ids[i]` (may be NULL, or hold NULLs) an id the config sets.
 * Writes out[i] (NAMES_ID_MAX + 1 bytes each). 0, or -1 when an explicit
 * id is invalid or two explicit ids are equal (`err` says which).
 */
int names_ids(const char *const *names, const char *const *explicit_ids,
    size_t n, char (*out)[NAMES_ID_MAX + 1], char *err, size_t errsz);

/* 1 if `id` is a valid server id. */
int names_id_ok(const char *id);

/*
 * 1 if a hosted server's tool or prompt name may be exposed: 1 to
 * NAMES_TOOL_MAX bytes of UTF-8 without control characters (C0, DEL, C1).
 */
int names_tool_ok(const char *name);

/*
 * The exposed name "<id>__<name>", hashed down to NAMES_MAX when longer.
 * `out` needs NAMES_MAX + 1 bytes. 0, or -1 for an invalid id.
 */
int names_expose(const char *id, const char *name, char *out, size_t outsz);

/*
 * Splits an exposed name that was not hashed: copies the id into `id`
 * (NAMES_ID_MAX + 1) and points *rest at the server's own name.
 * 0, or -1 when `exposed` has no separator. Hashed names need the
 * caller's reverse map.
 */
int names_split(const char *exposed, char *id, const char **rest);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * idecfg: where each IDE keeps its MCP servers, and the edits that add
 * or remove one entry there.
 *
 * The knowledge lives in data files, one per client (ide-configs/NAME.json,
 * installed under share/mcp-bridge/ide-configs): the config file per OS
 * and for projects, the format (JSON, JSONC, TOML), the key holding the
 * servers and the shape of an entry. This module loads and checks them
 * and edits config text in memory through jsoned (JSON/JSONC) and tomled
 * (TOML); reading and writing files is the caller's business.
 */
#ifndef IDECFG_H
#define IDECFG_H

#include <stddef.h>

enum idecfg_format {
	IDECFG_JSON = 0, /* JSON, or JSONC when comments are allowed */
	IDECFG_TOML,
};

enum idecfg_change {
	IDECFG_SAME = 0, /* the entry was already exactly so */
	IDECFG_ADDED,
	IDECFG_UPDATED, /* an entry of that name was replaced */
	IDECFG_REMOVED,
	IDECFG_ABSENT, /* nothing to remove */
};

struct idecfg;     /* one client */
struct idecfg_set; /* every client, sorted by id */

/*
 * Loads every *.json data file in `dir`. New set, or NULL with one line
 * in err naming the file, the key and what was expected.
 */
struct idecfg_set *idecfg_load(const char *dir, char *err, size_t errsz);
/* Frees *sp and sets it to NULL; NULL-safe. */
void idecfg_set_free(struct idecfg_set **sp);

size_t idecfg_count(const struct idecfg_set *s);
/* Borrowed, valid while the set lives. */
const struct idecfg *idecfg_at(const struct idecfg_set *s, size_t i);
/* The client called `id`, or NULL (borrowed). */
const struct idecfg *idecfg_find(const struct idecfg_set *s, const char *id);

/* Borrowed strings, valid while the set lives. */
const char *idecfg_id(const struct idecfg *c);
const char *idecfg_name(const struct idecfg *c);
const char *idecfg_source(const struct idecfg *c);
const char *idecfg_key(const struct idecfg *c);
/* The project-level file relative to the project, or NULL if none. */
const char *idecfg_project(const struct idecfg *c);
/* Advice to show after an edit, or NULL. */
const char *idecfg_notes(const struct idecfg *c);
enum idecfg_format idecfg_format(const struct idecfg *c);

/* "linux" or "macos": the key used in the data files' per-OS paths. */
const char *idecfg_os(void);

/*
 * The user-level config file on this OS, placeholders ($HOME,
 * $XDG_CONFIG_HOME, $CODEX_HOME) expanded (new), or NULL when the client
 * has none here or HOME is not an absolute path.
 */
char *idecfg_user_path(const struct idecfg *c);
/* dir + the project-level file (new), or NULL when there is none. */
char *idecfg_project_path(const struct idecfg *c, const char *dir);
/* 1 when one of the client's marker paths exists or its command is on PATH. */
int idecfg_installed(const struct idecfg *c);

/*
 * The text to paste into an empty config for an entry `name` running
 * `command` with `args` (new).
 */
char *idecfg_snippet(const struct idecfg *c, const char *name,
    const char *command, const char *const *args, size_t nargs);

/*
 * Adds (or replaces) entry `name` in config text [text, text+len). On 0,
 * *ch says what happened and *out is the new text (new; NULL when
 * IDECFG_SAME). -1 with "LINE:COL: what" in err when the text is
 * malformed; the caller then must leave the file alone.
 */
int idecfg_add(const struct idecfg *c, const char *text, size_t len,
    const char *name, const char *command, const char *const *args,
    size_t nargs, char **out, size_t *outlen, enum idecfg_change *ch, char *err,
    size_t errsz);

/* Removes entry `name`; as idecfg_add (IDECFG_REMOVED or IDECFG_ABSENT). */
int idecfg_remove(const struct idecfg *c, const char *text, size_t len,
    const char *name, char **out, size_t *outlen, enum idecfg_change *ch,
    char *err, size_t errsz);

/*
 * Calls fn(name, arg) for each entry whose text contains `needle`.
 * 0, or -1 with "LINE:COL: what" in err.
 */
int idecfg_mentions(const struct idecfg *c, const char *text, size_t len,
    const char *needle, void (*fn)(const char *name, void *arg), void *arg,
    char *err, size_t errsz);

/*
 * The data directory: $MCP_BRIDGE_IDE_CONFIGS, else the installed one,
 * else ../share/mcp-bridge/ide-configs next to the executable, else the
 * source tree's (new), or NULL when none exists.
 */
char *idecfg_default_dir(void);

/* This executable's absolute, resolved path (new), or NULL. */
char *idecfg_self_exe(void);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * tomled: a small, careful text edit of one table in a TOML file, the
 * `[TABLE.NAME]` entry of Codex's config.toml (`[mcp_servers.NAME]`).
 *
 * The whole file is checked against the TOML 1.0 syntax first (keys,
 * strings of the four kinds, numbers, dates, arrays across lines, inline
 * tables, comments) and the first error is reported with its line and
 * column. Edits replace, append or delete only the lines of that entry
 * (its header, its key/value lines and its sub-tables such as
 * `[mcp_servers.NAME.env]`); every other byte stays. An entry written
 * some other way (an inline table under `[TABLE]`, dotted keys) is
 * refused rather than duplicated. No values are re-serialised.
 */
#ifndef TOMLED_H
#define TOMLED_H

#include <stddef.h>

struct tomled_err {
	int line;      /* 1-based; 0 when not about a position */
	int col;       /* 1-based, in characters */
	char msg[128]; /* what was expected */
};

/* Validates; 0 or -1 with *err. */
int tomled_check(const char *text, size_t len, struct tomled_err *err);

/*
 * Makes [TABLE.NAME] hold exactly `body` (key = value lines, each ending
 * in "\n"). 1 and *out (new; free()) when the text changes, 0 when it
 * already holds exactly that (*out NULL), -1 with *err.
 */
int
tomled_set(const char *text, size_t len, const char *table, const char *name,
    const char *body, char **out, size_t *outlen, struct tomled_err *err);

/* Removes [TABLE.NAME] and its sub-tables: 1 with *out, 0 absent, -1. */
int tomled_remove(const char *text, size_t len, const char *table,
    const char *name, char **out, size_t *outlen, struct tomled_err *err);

/*
 * Calls fn(name, lines, n, arg) for each [TABLE.NAME] table with the
 * text of its lines. 0, or -1 with *err.
 */
int tomled_each(const char *text, size_t len, const char *table,
    void (*fn)(const char *name, const char *v, size_t n, void *arg), void *arg,
    struct tomled_err *err);

/* `s` as a TOML basic string, quotes included (new). */
char *tomled_string(const char *s);

/* `s` as a TOML key: bare when it can be, else quoted (new). */
char *tomled_key(const char *s);

#endif

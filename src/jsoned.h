/* SPDX-License-Identifier: ISC */
/*
 * jsoned: careful text-level edits of JSON and JSONC files (IDE configs).
 *
 * It validates the whole text first (strict JSON, or JSONC with comments
 * and, when allowed, trailing commas) and reports the first error with
 * its line and column. Edits touch only the bytes of the one member they
 * add, replace or remove: every other member, comment, blank line and the
 * file's indentation and line endings stay as they were. The document
 * must be an object; "KEY" is one of its members (itself an object) and
 * "NAME" a member of that. Nothing is re-serialised.
 *
 * Values handed in are JSON text indented with two spaces per level (as
 * jansson's JSON_INDENT(2) writes them); they are re-indented to match
 * the file. Duplicate names: the last one counts, as in most parsers.
 */
#ifndef JSONED_H
#define JSONED_H

#include <stddef.h>

struct jsoned_opts {
	int comments;        /* allow // and block comments (JSONC) */
	int trailing_commas; /* allow a comma before } and ] (VS Code, Zed) */
};

struct jsoned_err {
	int line;      /* 1-based */
	int col;       /* 1-based, in characters */
	char msg[128]; /* what was expected */
};

/* Validates text; 0, or -1 with *err. Empty or blank text is valid. */
int jsoned_check(const char *text, size_t len, const struct jsoned_opts *o,
    struct jsoned_err *err);

/*
 * Finds KEY.NAME; 1 and its value's span [*vstart, *vend), 0 when absent,
 * -1 with *err when the text is malformed or KEY is not an object.
 */
int jsoned_get(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, size_t *vstart, size_t *vend,
    struct jsoned_err *err);

/*
 * Sets KEY.NAME to `value` (adds KEY, or the whole document, as needed).
 * *out is the new text (new; free()). 0, or -1 with *err.
 */
int jsoned_set(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, const char *value, char **out,
    size_t *outlen, struct jsoned_err *err);

/*
 * Removes KEY.NAME (every occurrence). 1 and *out (new; free()) when it
 * was there, 0 when absent (*out NULL), -1 with *err.
 */
int jsoned_remove(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, char **out, size_t *outlen,
    struct jsoned_err *err);

/*
 * Calls fn(name, value, value_len, arg) for each member of KEY, in order.
 * 0 (also when KEY is absent), or -1 with *err.
 */
int jsoned_each(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key,
    void (*fn)(const char *name, const char *v, size_t vlen, void *arg),
    void *arg, struct jsoned_err *err);

/*
 * Copy of valid JSONC [p, p+n) as plain JSON: comments and trailing
 * commas become spaces (new; free()).
 */
char *jsoned_strip(const char *p, size_t n);

#endif

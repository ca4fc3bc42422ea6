/* SPDX-License-Identifier: ISC */
/*
 * jsoned_int: what jsoned.c (the validator) shares with jsoned_edit.c
 * (the edits). Private to the jsoned module.
 */
#ifndef JSONED_INT_H
#define JSONED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "jsoned.h"

#define NONE    SIZE_MAX
#define OUT_MAX (64u * 1024 * 1024)

struct member {
	char *name;    /* decoded key (new) */
	size_t kstart; /* offset of the key's opening quote */
	size_t vstart; /* value span */
	size_t vend;
	size_t comma; /* offset of the comma after the value, or NONE */
};

struct obj {
	size_t open;  /* offset of '{' */
	size_t close; /* offset of '}' */
	struct member *m;
	size_t n;
};

/* Frees the members of ob and zeroes it. */
void jsoned_obj_finish(struct obj *ob);

/* Line and column (characters, 1-based) of offset `at` in p. */
void jsoned_locate(const char *p, size_t at, int *line, int *col);

/*
 * Validates the document; fills root (new members) when it is an object.
 * 1 for an object, 0 for a blank document, -1 with *err.
 */
int jsoned_parse_doc(const char *text, size_t len, const struct jsoned_opts *o,
    struct obj *root, struct jsoned_err *err);

/* Members of the object at `at` of a text already validated. */
void jsoned_parse_at(const char *text, size_t len, const struct jsoned_opts *o,
    size_t at, struct obj *ob);

/* Index of the last member called `name`, or NONE. */
size_t jsoned_find_last(const struct obj *ob, const char *name);

#endif

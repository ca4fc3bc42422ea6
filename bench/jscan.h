/* SPDX-License-Identifier: ISC */
/*
 * jscan: a minimal scanner for the top level of one JSON object, shared
 * by the bench driver and the bench upstream. It finds the raw byte spans
 * of a few named members (robust to key order and whitespace) without
 * building a tree or unescaping anything. Not a validator.
 */
#ifndef BENCH_JSCAN_H
#define BENCH_JSCAN_H

#include <stddef.h>

/* A raw value in the caller's text; p == NULL when the key is absent. */
struct jspan {
	const char *p;
	size_t n;
};

/* One member to look for: `name` is compared with the raw key bytes. */
struct jkey {
	const char *name;
	struct jspan val;
};

/*
 * Scans the JSON object in [p, p+n) (leading whitespace allowed) and
 * fills keys[i].val for every member whose key equals keys[i].name (the
 * last one wins). Returns 0, or -1 if the text is not an object or is
 * truncated.
 */
int jscan_object(const char *p, size_t n, struct jkey *keys, size_t nkeys);

/* 1 if the span is the JSON string literal "s" (raw, with quotes). */
int jscan_is_str(struct jspan v, const char *s);

/* Pointer to the first non-whitespace byte in [p, end), or end. */
const char *jscan_ws(const char *p, const char *end);

#endif /* BENCH_JSCAN_H */

/* SPDX-License-Identifier: ISC */
/*
 * tomled_int: what tomled.c (the syntax check) shares with tomled_edit.c
 * (the edits). Private to the tomled module.
 */
#ifndef TOMLED_INT_H
#define TOMLED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tomled.h"

#define NONE    SIZE_MAX
#define OUT_MAX (64u * 1024 * 1024)
#define KEEP    3 /* key segments kept per header or key */

struct hdr {
	size_t start;  /* offset of the header line */
	char *k[KEEP]; /* first key segments, decoded (new) */
	size_t nk;     /* number of segments */
	size_t body;   /* offset just after the header line */
};

struct kv {
	size_t hdr;    /* index of the table it is in, or NONE (root) */
	size_t at;     /* offset of the key */
	char *k[KEEP]; /* first key segments (new) */
	size_t nk;
	size_t end; /* offset just after its line (or lines) */
};

struct tdoc {
	struct hdr *h;
	size_t nh;
	struct kv *kv;
	size_t nkv;
};

/*
 * Checks the syntax and records headers and keys in *d (new; free with
 * tomled_doc_free()). 0, or -1 with *err.
 */
int tomled_parse_doc(
    const char *text, size_t len, struct tdoc *d, struct tomled_err *err);

void tomled_doc_free(struct tdoc *d);

/* *err for offset `at` of text. */
void tomled_at_err(
    struct tomled_err *err, const char *text, size_t at, const char *msg);

#endif

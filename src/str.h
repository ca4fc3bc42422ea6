/* SPDX-License-Identifier: ISC */
/*
 * str: small string helpers (no catch-all util.c).
 */
#ifndef STR_H
#define STR_H

#include <stddef.h>

/*
 * Parses a decimal integer in [min, max] (whole string, no junk).
 * Returns 0 and sets *out, or -1.
 */
int str_tonum(const char *s, long long min, long long max, long long *out);

/* snprintf that returns -1 on error or truncation, else the length. */
int str_fmt(char *dst, size_t dstsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats an error into `dst` (truncated if need be) and returns -1. */
int str_fail(char *dst, size_t dstsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Case-insensitive ASCII comparison of `a` (length n) with C string `b`. */
int str_eq_nocase(const char *a, size_t n, const char *b);

/* Trims ASCII spaces and tabs from both ends of [*p, *p+*n). */
void str_trim(const char **p, size_t *n);

/* 1 if [p, p+n) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int str_utf8_valid(const char *p, size_t n);

/*
 * 32 hex digits naming the pair (a, b), e.g. for file names: two
 * differently seeded FNV-1a hashes. Not cryptographic. `out` >= 33.
 */
void str_pair_id(const char *a, const char *b, char out[33]);

/*
 * Decodes base64url (RFC 4648 5) strictly: no padding, no other
 * characters, canonical trailing bits. `out` needs n / 4 * 3 + 3 bytes.
 * 0 and *outlen, or -1.
 */
int
str_b64url_decode(const char *p, size_t n, unsigned char *out, size_t *outlen);

#endif

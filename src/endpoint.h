/* SPDX-License-Identifier: ISC */
/*
 * endpoint: the POST address of a legacy HTTP+SSE (2024-11-05) server.
 *
 * The server names it in the data of its first SSE event, `endpoint`,
 * usually as a path relative to the SSE URL ("/messages?sessionId=...").
 * It is resolved against the SSE URL (RFC 3986 5.2, dot segments
 * removed, fragment dropped) and accepted only when it has the same
 * origin (scheme, host, port) as the SSE URL: the bearer token goes to
 * that address, so a server must not be able to send it elsewhere.
 * Pure: no I/O.
 */
#ifndef ENDPOINT_H
#define ENDPOINT_H

#include <stddef.h>

/*
 * Resolves reference `ref` (length n, not NUL-terminated) against the
 * absolute http(s) URL `base` into `out`. Returns 0, or -1 with a
 * one-line reason in `err` (empty, spaces or control characters,
 * another origin, too long).
 */
int endpoint_resolve(const char *base, const char *ref, size_t n, char *out,
    size_t outsz, char *err, size_t errsz);

/* 1 if absolute URLs `a` and `b` parse and have the same origin. */
int endpoint_same_origin(const char *a, const char *b);

#endif

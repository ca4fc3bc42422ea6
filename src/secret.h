/* SPDX-License-Identifier: ISC */
/*
 * secret: a holder for tokens, header values and codes.
 *
 * The bytes are wiped (OPENSSL_cleanse) before the memory is freed, the
 * holder is never formatted with %s by this project, and comparison is
 * constant-time. Anything that would authenticate the user lives here.
 */
#ifndef SECRET_H
#define SECRET_H

#include <stddef.h>

struct secret;

/* New secret holding a copy of `n` bytes of `p` (NUL-terminated copy). */
struct secret *secret_new(const void *p, size_t n);

/* Wipes and frees `*sp` and sets it to NULL; NULL is fine. */
void secret_free(struct secret **sp);

/* Borrowed, NUL-terminated; valid until secret_free(). */
const char *secret_data(const struct secret *s);

size_t secret_len(const struct secret *s);

/* 1 if equal (constant time in the shorter length), 0 otherwise. */
int secret_eq(const struct secret *a, const struct secret *b);

/* Wipes `n` bytes at `p` (for stack copies). */
void secret_wipe(void *p, size_t n);

/*
 * For a process that holds secrets: no core dump (RLIMIT_CORE 0, soft
 * and hard, so children cannot raise it; visible in /proc/PID/limits)
 * and not dumpable (no ptrace or /proc/PID/environ for other processes
 * of the user). Best effort; never fails.
 */
void secret_protect_process(void);

#endif

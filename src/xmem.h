/* SPDX-License-Identifier: ISC */
/*
 * xmem: allocation wrappers that abort on out-of-memory.
 *
 * Memory policy: the bridge is a per-IDE child process that the IDE
 * restarts, and every size that comes from outside is capped before it is
 * allocated (bounds.h), so running out of memory is treated as fatal: log
 * one line and abort(). This removes hundreds of untestable branches.
 * Every function returns new memory the caller frees with free().
 */
#ifndef XMEM_H
#define XMEM_H

#include <stddef.h>

void *x_malloc(size_t n);
void *x_calloc(size_t nmemb, size_t size);
void *x_realloc(void *p, size_t n);
char *x_strdup(const char *s);
char *x_strndup(const char *s, size_t n);
/* Like x_strndup but for bytes that may contain NUL; always terminated. */
char *x_memdup(const void *p, size_t n);
/*
 * Logs one line ("out of memory (n bytes); aborting") on stderr and
 * aborts: also for a library that reports its own allocation failure.
 */
void x_oom(size_t n) __attribute__((noreturn));
char *x_asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), nonnull(1)));

#endif

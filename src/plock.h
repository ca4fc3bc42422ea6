/* SPDX-License-Identifier: ISC */
/*
 * plock: a cross-process lock (flock(2) on a file), for the token refresh
 * that several bridge processes (one per IDE window) share.
 *
 * The file lives in $XDG_RUNTIME_DIR/mcp-bridge/ (per user, in memory,
 * cleared at logout); without it, in $XDG_STATE_HOME/mcp-bridge/locks/
 * (default ~/.local/state); failing that, /tmp/mcp-bridge-<uid>/. Each
 * directory is created 0700 and refused when another user owns it or
 * others may write to it. plock_try() never blocks: the caller retries
 * from a timer. The kernel drops the lock when the process dies.
 */
#ifndef PLOCK_H
#define PLOCK_H

#include <stddef.h>

struct plock;

/*
 * Opens (creating) the lock file `name` (a file name, no '/'). New, or
 * NULL with a one-line reason in `err`.
 */
struct plock *plock_open(const char *name, char *err, size_t errsz);

/* 1 acquired (or already held by us), 0 held elsewhere, -1 error. */
int plock_try(struct plock *p);

/* Releases the lock if held. */
void plock_release(struct plock *p);

/* Path of the lock file (borrowed). */
const char *plock_path(const struct plock *p);

/* Releases, closes and frees; sets *pp to NULL; NULL is fine. */
void plock_close(struct plock **pp);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * loop: the one poll(2) loop of the process.
 *
 * Modules register file descriptors and one-shot monotonic timers with a
 * callback and a `void *arg`; before every poll the loop runs its hooks
 * (chan flushes stdout, http adds queued transfers). SIGINT and SIGTERM
 * are turned into a callback through a self-pipe, SIGPIPE is ignored.
 * Nothing else in the project calls poll(2) or sleeps.
 *
 * Re-entrancy: any callback may add or remove watches and timers,
 * including its own; removal takes effect at once (a removed watch is
 * never called again, even later in the same round).
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

#define LOOP_READ  0x1 /* readable (or EOF/hang-up) */
#define LOOP_WRITE 0x2 /* writable */

struct loop;
struct loop_watch;
struct loop_timer;

/* fd callback; `events` is a mask of LOOP_READ/LOOP_WRITE that fired. */
typedef void loop_fd_cb(void *arg, int fd, int events);
typedef void loop_cb(void *arg);

/* New loop. */
struct loop *loop_new(void);

/* Frees the loop and every watch, timer and hook still registered. */
void loop_free(struct loop **lp);

/* Watches `fd` for `events` (0 allowed); new watch owned by the loop. */
struct loop_watch *
loop_watch_add(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg);

/* Changes the events of a watch. */
void loop_watch_set(struct loop_watch *w, int events);

/* Removes a watch (does not close the fd); NULL is fine. */
void loop_watch_del(struct loop_watch *w);

/* New stopped timer owned by the loop until loop_timer_del(). */
struct loop_timer *loop_timer_new(struct loop *l, loop_cb *cb, void *arg);

/* (Re)arms the timer to fire once after `ms` (0 = next round). */
void loop_timer_arm(struct loop_timer *t, int64_t ms);

/* Stops the timer without freeing it; NULL is fine. */
void loop_timer_stop(struct loop_timer *t);

/* 1 if armed (0 for NULL). */
int loop_timer_armed(const struct loop_timer *t);

/* Stops and frees the timer; NULL is fine. */
void loop_timer_del(struct loop_timer *t);

/* Adds a hook run before every poll; returns 0 or -1 (too many). */
int loop_hook_add(struct loop *l, loop_cb *cb, void *arg);

/* Removes the hook registered with the same cb and arg. */
void loop_hook_del(struct loop *l, loop_cb *cb, void *arg);

/*
 * Catches SIGINT/SIGTERM (calls `cb` from the loop, not from the signal
 * handler) and ignores SIGPIPE. Returns 0 or -1.
 */
int loop_catch_signals(struct loop *l, loop_cb *cb, void *arg);

/* Runs until loop_stop(). Returns 0, or -1 if poll(2) failed. */
int loop_run(struct loop *l);

/* Makes loop_run() return after the current round. */
void loop_stop(struct loop *l);

/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * chan: the IDE side, stdin and stdout on the loop.
 *
 * stdin is read without blocking and cut into lines by `frame`; each line
 * goes to the owner's callback. stdout gets whole messages only, each one
 * compact and followed by "\n", written with writev() straight away when
 * the pipe has room and queued otherwise. The queue is bounded: above
 * BOUNDS_STDOUT_HIGH the owner is told to stop reading from hosted
 * servers (on_congestion(1)), below BOUNDS_STDOUT_LOW to resume; an IDE
 * that takes nothing for BOUNDS_STDOUT_STALL_MS is declared gone. Only
 * this module writes to stdout.
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>

#include "frame.h"
#include "loop.h"

struct chan_cbs {
	/* One line from the IDE (borrowed for the call). */
	void (*on_line)(
	    void *arg, enum frame_status st, const char *line, size_t len);
	/* stdin reached EOF (or failed). Called once. */
	void (*on_eof)(void *arg);
	/* The stdout queue crossed the high (1) or low (0) watermark. */
	void (*on_congestion)(void *arg, int congested);
	/* stdout is broken or stalled: the IDE is gone. Called once. */
	void (*on_dead)(void *arg, const char *why);
};

struct chan;

/*
 * New channel on `in` and `out` (made non-blocking; restored by
 * chan_free). `cbs` is copied; `arg` is passed to every callback.
 */
struct chan *chan_new(
    struct loop *l, int in, int out, const struct chan_cbs *cbs, void *arg);

/* Frees; sets *cp to NULL; NULL is fine. Unwritten output is lost. */
void chan_free(struct chan **cp);

/*
 * Queues one message (JSON text without the newline; compacted here if
 * it holds raw CR/LF). Returns 0, or -1 if stdout is dead or the hard
 * queue cap would be passed (the message is dropped and logged).
 */
int chan_send(struct chan *c, const char *msg, size_t len);

/* Bytes waiting for stdout. */
size_t chan_queued(const struct chan *c);

/* Stops (1) or resumes (0) reading stdin. */
void chan_pause_input(struct chan *c, int paused);

#endif

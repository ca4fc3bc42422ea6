/* SPDX-License-Identifier: ISC */
/*
 * frame: newline-delimited framing of the stdio channel (pure: no fds).
 *
 * Input: bytes as they arrive from stdin are cut into lines. "\n" and
 * "\r\n" both end a line; whitespace-only lines are skipped. A line is
 * delivered without its terminator. Complete lines inside one chunk are
 * delivered straight from the caller's memory (no copy); only a trailing
 * partial line is buffered. A line longer than the cap is never buffered
 * whole: its bytes are dropped up to the next newline and it is reported
 * once as FRAME_TOO_LONG. A line holding a NUL byte is reported as
 * FRAME_NUL.
 *
 * Output: frame_compact() turns a JSON text that contains raw CR/LF
 * (pretty-printed by a server) into one compact line.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>

enum frame_status {
	FRAME_OK = 0,   /* a complete line in (line, len) */
	FRAME_TOO_LONG, /* a line over the cap was dropped; len = its size */
	FRAME_NUL,      /* the line contains a NUL byte; (line, len) given */
};

/*
 * Called once per line. `line` is borrowed for the duration of the call.
 * The callback must not call frame_feed() or frame_free() on the same
 * frame. For FRAME_TOO_LONG, `line` is NULL and `len` the bytes dropped.
 */
typedef void
frame_cb(void *arg, enum frame_status st, const char *line, size_t len);

struct frame;

/* New framer for lines of at most `max_line` bytes (without "\r\n"). */
struct frame *frame_new(size_t max_line);

/* Frees; sets *fp to NULL; NULL is fine. */
void frame_free(struct frame **fp);

/* Feeds `n` bytes; calls `cb` for each line they complete. */
void frame_feed(
    struct frame *f, const char *data, size_t n, frame_cb *cb, void *arg);

/* At EOF: delivers a final line that had no terminator, if any. */
void frame_finish(struct frame *f, frame_cb *cb, void *arg);

/* Bytes held for an incomplete line (for tests and accounting). */
size_t frame_pending(const struct frame *f);

/* 1 if [p, p+n) contains CR or LF and must go through frame_compact(). */
int frame_needs_compact(const char *p, size_t n);

/*
 * Copies the JSON text [in, in+n) to `out` (room for n bytes) without
 * whitespace outside strings. Strings are copied verbatim (raw CR/LF can
 * not occur inside valid JSON strings). Returns the bytes written.
 */
size_t frame_compact(const char *in, size_t n, char *out);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * sse: incremental text/event-stream parser (pure: no fds, no curl).
 *
 * Follows the WHATWG "event stream interpretation": fields `data`
 * (several lines joined with "\n"), `event`, `id` (ignored if it contains
 * NUL; sets the last-event-id even for events that are not dispatched),
 * `retry` (ASCII digits only), comments (lines starting with ':') and
 * unknown fields ignored; lines end with CR, LF or CRLF, also when the CR
 * and LF arrive in different chunks; a UTF-8 BOM at the very start is
 * skipped. An event is dispatched on a blank line if its data is not
 * empty (a "priming" event with an id and empty data only updates the
 * last id). Bytes can arrive in chunks of any size, split anywhere.
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

struct sse_event {
	const char *type; /* borrowed; "message" when no event field */
	size_t type_len;
	const char *data; /* borrowed; NUL-terminated, lines joined by \n */
	size_t data_len;
	const char *id; /* borrowed; the last event id now in force */
	size_t id_len;  /* 0 if none */
};

/*
 * Called once per dispatched event; the pointers are valid only during
 * the call. Return 0 to go on, -1 to stop: sse_feed() then returns 1
 * at once and the rest of the chunk is not parsed.
 */
typedef int sse_cb(void *arg, const struct sse_event *ev);

struct sse;

/* New parser; an event whose data would exceed `max_event` is an error. */
struct sse *sse_new(size_t max_event);

/* Frees; sets *sp to NULL; NULL is fine. */
void sse_free(struct sse **sp);

/*
 * Parses `n` more bytes. Returns 0 when all were consumed, 1 when the
 * callback stopped, -1 when an event or a line exceeded `max_event` (the
 * stream is broken; the parser must be reset before reuse).
 */
int sse_feed(struct sse *p, const char *data, size_t n, sse_cb *cb, void *arg);

/* Reconnection time from the last valid `retry` field, or -1 if none. */
long sse_retry_ms(const struct sse *p);

/* Borrowed, NUL-terminated last event id ("" if none). */
const char *sse_last_id(const struct sse *p);

/*
 * Prepares for a new connection of the same logical stream: drops any
 * partial line and event, keeps the last id and retry (needed to resume).
 */
void sse_reset(struct sse *p);

#endif

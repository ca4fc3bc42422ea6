/* SPDX-License-Identifier: ISC */
/*
 * frame: lines are found with memchr(3). A line that is complete inside
 * the chunk is handed to the callback where it lies; only the tail of a
 * chunk is copied, into a buffer capped at max_line + 1 bytes (room for
 * the '\r' of a "\r\n" split across chunks). When that cap would be
 * passed the frame switches to discard mode: bytes are only counted
 * until the next '\n', then the line is reported once as too long.
 */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmem.h"

/* A held line longer than this gives its memory back once delivered. */
#define FRAME_KEEP_MEM (64u * 1024)

struct frame {
	struct buf part; /* the incomplete last line, capped at max + 1 */
	size_t max;      /* longest line, without "\r\n" */
	size_t dropped;  /* discard mode: bytes of the line dropped so far */
	int discard;     /* 1 while dropping an over-cap line */
	int last_cr;     /* discard mode: the last byte dropped was '\r' */
};

struct frame *
frame_new(size_t max_line)
{
	struct frame *f;

	f = x_calloc(1, sizeof(*f));
	f->max = max_line;
	buf_init(&f->part, max_line == (size_t)-1 ? max_line : max_line + 1);
	return f;
}

void
frame_free(struct frame **fp)
{
	if (fp == NULL || *fp == NULL)
		return;
	buf_finish(&(*fp)->part);
	free(*fp);
	*fp = NULL;
}

static int
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Hands one line (terminator removed up to its '\r') to the callback. */
static void
deliver(struct frame *f, const char *line, size_t len, frame_cb *cb, void *arg)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > f->max)
		cb(arg, FRAME_TOO_LONG, NULL, len);
	else if (is_blank(line, len))
		return;
	else if (memchr(line, '\0', len) != NULL)
		cb(arg, FRAME_NUL, line, len);
	else
		cb(arg, FRAME_OK, line, len);
}

/* Empties the held line, giving large allocations back. */
static void
drop_part(struct frame *f)
{
	if (buf_len(&f->part) > FRAME_KEEP_MEM)
		buf_finish(&f->part);
	else
		buf_reset(&f->part);
}

/* Counts [p, p+n) as dropped bytes of an over-cap line. */
static void
discard(struct frame *f, const char *p, size_t n)
{
	if (n == 0)
		return;
	f->dropped += n;
	f->last_cr = p[n - 1] == '\r';
}

/* Enters discard mode with the held bytes plus [p, p+n). */
static void
start_discard(struct frame *f, const char *p, size_t n)
{
	size_t held = buf_len(&f->part);

	f->last_cr = held > 0 && buf_data(&f->part)[held - 1] == '\r';
	f->dropped = held;
	f->discard = 1;
	drop_part(f);
	discard(f, p, n);
}

/* Reports the line dropped in discard mode and leaves that mode. */
static void
end_discard(struct frame *f, frame_cb *cb, void *arg)
{
	size_t len = f->dropped - (f->last_cr ? 1 : 0);

	f->discard = 0;
	f->dropped = 0;
	f->last_cr = 0;
	cb(arg, FRAME_TOO_LONG, NULL, len);
}

/* Keeps [p, p+n), the start of a line whose end has not arrived. */
static void
hold(struct frame *f, const char *p, size_t n)
{
	if (f->discard)
		discard(f, p, n);
	else if (buf_append(&f->part, p, n) == -1)
		start_discard(f, p, n);
}

/* Ends the held line with [p, p+n) (its '\n' excluded) and delivers it. */
static void
complete(struct frame *f, const char *p, size_t n, frame_cb *cb, void *arg)
{
	hold(f, p, n);
	if (f->discard) {
		end_discard(f, cb, arg);
		return;
	}
	deliver(f, buf_data(&f->part), buf_len(&f->part), cb, arg);
	drop_part(f);
}

void
frame_feed(struct frame *f, const char *data, size_t n, frame_cb *cb, void *arg)
{
	const char *p, *end, *nl;

	if (n == 0)
		return;
	p = data;
	end = data + n;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			hold(f, p, (size_t)(end - p));
			return;
		}
		if (f->discard || buf_len(&f->part) > 0)
			complete(f, p, (size_t)(nl - p), cb, arg);
		else
			deliver(f, p, (size_t)(nl - p), cb, arg);
		p = nl + 1;
	}
}

void
frame_finish(struct frame *f, frame_cb *cb, void *arg)
{
	if (f->discard)
		end_discard(f, cb, arg);
	else if (buf_len(&f->part) > 0)
		complete(f, NULL, 0, cb, arg);
}

size_t
frame_pending(const struct frame *f)
{
	return buf_len(&f->part);
}

int
frame_needs_compact(const char *p, size_t n)
{
	return memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL;
}

static int
is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of the string body at [p, p+n) up to and with its closing '"'. */
static size_t
string_span(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == '\\')
			i += 2;
		else if (p[i++] == '"')
			return i;
	}
	return n;
}

size_t
frame_compact(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, span;

	while (i < n) {
		if (is_json_ws(in[i])) {
			i++;
			continue;
		}
		out[o++] = in[i];
		if (in[i++] != '"')
			continue;
		span = string_span(in + i, n - i);
		memcpy(out + o, in + i, span);
		o += span;
		i += span;
	}
	return o;
}

/* SPDX-License-Identifier: ISC */
/*
 * sse: a line is found with two memchr(3) calls (the next LF is cached,
 * so a stream of bare CRs stays linear). A line complete inside the chunk
 * is parsed where it lies; only the tail of a chunk is copied. A CR that
 * ends a chunk leaves `skip_lf` set so that an LF opening the next chunk
 * is not taken for a second, blank line.
 *
 * The `id` field fills a pending buffer that becomes the last event id
 * at the next blank line, as in the WHATWG algorithm: an id seen in an
 * event that never completed (the connection dropped) is not used to
 * resume.
 */
#include "sse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmem.h"

/* A buffer longer than this gives its memory back once used. */
#define SSE_KEEP_MEM (64u * 1024)

struct sse {
	struct buf line;    /* the incomplete last line */
	struct buf data;    /* data of the event being built, lines joined */
	struct buf type;    /* event type; empty means "message" */
	struct buf id;      /* last event id buffer (pending) */
	struct buf last_id; /* last event id in force */
	size_t max;         /* cap on a line and on an event's data */
	long retry;         /* last valid retry, -1 if none */
	int has_data;       /* a data field was seen in this event */
	int id_set;         /* `id` changed since the last blank line */
	int skip_lf;        /* the previous byte was a CR ending a line */
	int bom;            /* BOM bytes matched; 3 once the start is past */
	int broken;         /* a cap was exceeded; sse_reset() needed */
};

static const char utf8_bom[3] = { '\xef', '\xbb', '\xbf' };

struct sse *
sse_new(size_t max_event)
{
	struct sse *p;

	p = x_calloc(1, sizeof(*p));
	p->max = max_event;
	p->retry = -1;
	buf_init(&p->line, max_event);
	buf_init(&p->data, max_event);
	buf_init(&p->type, max_event);
	buf_init(&p->id, max_event);
	buf_init(&p->last_id, max_event);
	return p;
}

void
sse_free(struct sse **sp)
{
	struct sse *p;

	if (sp == NULL || (p = *sp) == NULL)
		return;
	buf_finish(&p->line);
	buf_finish(&p->data);
	buf_finish(&p->type);
	buf_finish(&p->id);
	buf_finish(&p->last_id);
	free(p);
	*sp = NULL;
}

/* Empties `b`, giving large allocations back. */
static void
clear(struct buf *b)
{
	if (buf_len(b) > SSE_KEEP_MEM)
		buf_finish(b);
	else
		buf_reset(b);
}

/* Replaces the contents of `b` (the caps are equal: cannot fail). */
static void
set(struct buf *b, const char *p, size_t n)
{
	buf_reset(b);
	if (buf_append(b, p, n) == -1)
		abort();
}

static void
reset_event(struct sse *p)
{
	clear(&p->data);
	buf_reset(&p->type);
	p->has_data = 0;
}

/* Blank line: commits the id, dispatches, starts a new event. */
static int
dispatch(struct sse *p, sse_cb *cb, void *arg)
{
	struct sse_event ev;
	int rc = 0;

	if (p->id_set)
		set(&p->last_id, buf_data(&p->id), buf_len(&p->id));
	p->id_set = 0;
	if (buf_len(&p->data) > 0) {
		ev.type = buf_len(&p->type) ? buf_data(&p->type) : "message";
		ev.type_len = buf_len(&p->type) ? buf_len(&p->type) : 7;
		ev.data = buf_data(&p->data);
		ev.data_len = buf_len(&p->data);
		ev.id = buf_data(&p->last_id);
		ev.id_len = buf_len(&p->last_id);
		rc = cb(arg, &ev) == 0 ? 0 : 1;
	}
	reset_event(p);
	return rc;
}

static int
add_data(struct sse *p, const char *v, size_t n)
{
	if (p->has_data && buf_append(&p->data, "\n", 1) == -1)
		return -1;
	p->has_data = 1;
	return buf_append(&p->data, v, n);
}

static void
set_retry(struct sse *p, const char *v, size_t n)
{
	long ms = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return;
	for (size_t i = 0; i < n; i++)
		ms = ms > (LONG_MAX - 9) / 10 ? LONG_MAX
		                              : ms * 10 + (v[i] - '0');
	p->retry = ms;
}

static int
is_field(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

/* One field line (not blank, not a comment). */
static int
field(struct sse *p, const char *s, size_t n)
{
	const char *colon, *v = "";
	size_t nl = n, vl = 0;

	if ((colon = memchr(s, ':', n)) != NULL) {
		nl = (size_t)(colon - s);
		v = colon + 1;
		vl = n - nl - 1;
		if (vl > 0 && *v == ' ') {
			v++;
			vl--;
		}
	}
	if (is_field(s, nl, "data"))
		return add_data(p, v, vl);
	if (is_field(s, nl, "event"))
		set(&p->type, v, vl);
	else if (is_field(s, nl, "id") && memchr(v, '\0', vl) == NULL) {
		set(&p->id, v, vl);
		p->id_set = 1;
	} else if (is_field(s, nl, "retry"))
		set_retry(p, v, vl);
	return 0;
}

/* One complete line; returns 0, 1 (callback stop) or -1 (too big). */
static int
line(struct sse *p, const char *s, size_t n, sse_cb *cb, void *arg)
{
	if (n > p->max)
		return -1;
	if (n == 0)
		return dispatch(p, cb, arg);
	if (s[0] == ':')
		return 0;
	return field(p, s, n);
}

/* Ends the line [s, s+n), joined to any held start of it. */
static int
end_line(struct sse *p, const char *s, size_t n, sse_cb *cb, void *arg)
{
	int rc;

	if (buf_len(&p->line) == 0)
		return line(p, s, n, cb, arg);
	if (buf_append(&p->line, s, n) == -1)
		return -1;
	rc = line(p, buf_data(&p->line), buf_len(&p->line), cb, arg);
	clear(&p->line);
	return rc;
}

/*
 * Skips a UTF-8 BOM at the start of the stream, even split over chunks;
 * sets *used to the bytes of `s` it took. Returns -1 if a partial BOM
 * that turned out to be data overflows the line.
 */
static int
skip_bom(struct sse *p, const char *s, size_t n, size_t *used)
{
	size_t i = 0;

	while (p->bom < 3 && i < n && s[i] == utf8_bom[p->bom]) {
		p->bom++;
		i++;
	}
	*used = i;
	if (p->bom == 3 || i == n)
		return 0;
	/* Not a BOM: the bytes matched so far start the first line. */
	if (buf_append(&p->line, utf8_bom, (size_t)p->bom) == -1)
		return -1;
	p->bom = 3;
	return 0;
}

/* Index of the first CR or LF at or after i; *lf caches the next LF. */
static size_t
find_eol(const char *s, size_t n, size_t i, size_t *lf)
{
	const char *q;

	if (*lf <= i) {
		q = memchr(s + i, '\n', n - i);
		*lf = q ? (size_t)(q - s) : n;
	}
	q = memchr(s + i, '\r', *lf - i);
	return q ? (size_t)(q - s) : *lf;
}

static int
feed(struct sse *p, const char *s, size_t n, sse_cb *cb, void *arg)
{
	size_t i = 0, lf = 0, eol;
	int rc;

	while (i < n) {
		if (p->skip_lf) {
			p->skip_lf = 0;
			i += s[i] == '\n';
			continue;
		}
		eol = find_eol(s, n, i, &lf);
		if (eol == n)
			return buf_append(&p->line, s + i, n - i);
		p->skip_lf = s[eol] == '\r';
		rc = end_line(p, s + i, eol - i, cb, arg);
		i = eol + 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
sse_feed(struct sse *p, const char *data, size_t n, sse_cb *cb, void *arg)
{
	size_t used = 0;
	int rc = -1;

	if (p->broken)
		return -1;
	if (n == 0)
		return 0;
	if (p->bom < 3 && skip_bom(p, data, n, &used) == -1)
		goto out;
	rc = feed(p, data + used, n - used, cb, arg);
out:
	if (rc == -1)
		p->broken = 1;
	return rc;
}

long
sse_retry_ms(const struct sse *p)
{
	return p->retry;
}

const char *
sse_last_id(const struct sse *p)
{
	return buf_data(&p->last_id);
}

void
sse_reset(struct sse *p)
{
	clear(&p->line);
	reset_event(p);
	set(&p->id, buf_data(&p->last_id), buf_len(&p->last_id));
	p->id_set = 0;
	p->skip_lf = 0;
	p->bom = 0;
	p->broken = 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for frame: the input is fed in chunks whose sizes
 * come from its first byte; every line must equal what one-shot feeding
 * gives, and every delivered line is run through frame_compact.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"

struct seen {
	struct buf log; /* status, length and bytes of every line */
};

static void
on_line(void *arg, enum frame_status st, const char *line, size_t len)
{
	struct seen *s = arg;
	char *out;
	size_t n;

	(void)!buf_printf(&s->log, "%d:%zu:", (int)st, len);
	if (line == NULL)
		return;
	(void)!buf_append(&s->log, line, len);
	if (frame_needs_compact(line, len)) {
		out = malloc(len ? len : 1);
		n = frame_compact(line, len, out);
		if (n > len)
			abort();
		free(out);
	}
}

static void
feed(const uint8_t *d, size_t n, size_t chunk, struct seen *s)
{
	struct frame *f = frame_new(64);

	for (size_t i = 0; i < n; i += chunk)
		frame_feed(f, (const char *)d + i,
		    n - i < chunk ? n - i : chunk, on_line, s);
	frame_finish(f, on_line, s);
	frame_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a, b;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	buf_init(&a.log, 1u << 24);
	buf_init(&b.log, 1u << 24);
	feed(data + 1, size - 1, size, &a);
	feed(data + 1, size - 1, chunk, &b);
	if (buf_len(&a.log) != buf_len(&b.log) ||
	    memcmp(buf_data(&a.log), buf_data(&b.log), buf_len(&a.log)) != 0)
		abort(); /* chunking changed what was delivered */
	buf_finish(&a.log);
	buf_finish(&b.log);
	return 0;
}

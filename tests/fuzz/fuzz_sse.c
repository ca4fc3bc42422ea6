/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for sse: the stream is parsed once whole and once in
 * chunks sized by its first byte; both must dispatch the same events and
 * end with the same last id and retry.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct buf *log = arg;

	if (ev->data[ev->data_len] != '\0')
		abort(); /* data must stay NUL-terminated */
	(void)!buf_printf(log, "[%zu:", ev->type_len);
	(void)!buf_append(log, ev->type, ev->type_len);
	(void)!buf_printf(log, "|%zu:", ev->data_len);
	(void)!buf_append(log, ev->data, ev->data_len);
	(void)!buf_printf(log, "|%zu:", ev->id_len);
	(void)!buf_append(log, ev->id, ev->id_len);
	(void)!buf_puts(log, "]");
	return 0;
}

static void
parse(const uint8_t *d, size_t n, size_t chunk, struct buf *log)
{
	struct sse *p = sse_new(256);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i += chunk)
		rc = sse_feed(p, (const char *)d + i,
		    n - i < chunk ? n - i : chunk, on_event, log);
	(void)!buf_printf(
	    log, "rc=%d id=%s retry=%ld", rc, sse_last_id(p), sse_retry_ms(p));
	sse_reset(p);
	sse_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 13 + 1;
	buf_init(&a, 1u << 24);
	buf_init(&b, 1u << 24);
	parse(data + 1, size - 1, size, &a);
	parse(data + 1, size - 1, chunk, &b);
	if (buf_len(&a) != buf_len(&b) ||
	    memcmp(buf_data(&a), buf_data(&b), buf_len(&a)) != 0)
		abort(); /* chunking changed the events */
	buf_finish(&a);
	buf_finish(&b);
	return 0;
}

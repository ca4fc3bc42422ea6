/* SPDX-License-Identifier: ISC */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"
#include "sse.h"

/* Every event seen, as text: "[type|data|id]" with \n, \r, \0 escaped. */
struct rec {
	struct buf out;
	const char *stop_on; /* return -1 for an event with this data */
	int events;
};

static int
on_event(void *arg, const struct sse_event *ev)
{
	struct rec *r = arg;

	r->events++;
	cr_assert_gt(ev->data_len, 0);
	cr_assert_eq(ev->data[ev->data_len], '\0');
	cr_assert_eq(ev->id[ev->id_len], '\0');
	cr_assert_eq(buf_puts(&r->out, "["), 0);
	put_escaped(&r->out, ev->type, ev->type_len);
	cr_assert_eq(buf_puts(&r->out, "|"), 0);
	put_escaped(&r->out, ev->data, ev->data_len);
	cr_assert_eq(buf_puts(&r->out, "|"), 0);
	put_escaped(&r->out, ev->id, ev->id_len);
	cr_assert_eq(buf_puts(&r->out, "]"), 0);
	if (r->stop_on && strcmp(ev->data, r->stop_on) == 0)
		return -1;
	return 0;
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 1u << 24);
}

struct result {
	char *events;
	char *last_id;
	long retry;
	int rc;
};

static void
result_free(struct result *res)
{
	free(res->events);
	free(res->last_id);
}

/*
 * Feeds `in` (n bytes) in chunks of `chunk` (0: at once), or split in two
 * at `at` when chunk is SIZE_MAX; stops at the first non-zero return.
 */
static struct result
run(size_t max, const char *in, size_t n, size_t chunk, size_t at,
    const char *stop_on)
{
	struct sse *p = sse_new(max);
	struct result res;
	struct rec r;
	size_t i = 0;
	int first = 1;

	rec_init(&r);
	r.stop_on = stop_on;
	res.rc = 0;
	if (chunk == 0)
		chunk = n ? n : 1;
	while (i < n && res.rc == 0) {
		size_t k = n - i < chunk ? n - i : chunk;

		if (chunk == SIZE_MAX) /* at == 0 feeds an empty chunk first */
			k = first ? at : n - i;
		first = 0;
		res.rc = sse_feed(p, in + i, k, on_event, &r);
		i += k;
	}
	res.events = buf_take(&r.out, NULL);
	res.last_id = strdup(sse_last_id(p));
	res.retry = sse_retry_ms(p);
	sse_free(&p);
	cr_assert_null(p);
	return res;
}

struct scase {
	const char *in;
	size_t n;   /* 0: strlen(in) */
	size_t max; /* 0: 64 */
	const char *stop_on;
	const char *want;
	const char *last_id;
	long retry;
	int rc;
};

#define L(s) s, sizeof(s) - 1

static const struct scase cases[] = {
	{ "", 0, 0, NULL, "", "", -1, 0 },
	{ L("data: hello\n\n"), 0, NULL, "[message|hello|]", "", -1, 0 },
	{ L("data: a\ndata: b\n\n"), 0, NULL, "[message|a\\nb|]", "", -1, 0 },
	{ L("data:a\n\n"), 0, NULL, "[message|a|]", "", -1, 0 },
	{ L("data:  a \n\n"), 0, NULL, "[message| a |]", "", -1, 0 },
	{ L("data: a\ndata:\ndata: b\n\n"), 0, NULL, "[message|a\\n\\nb|]", "",
	    -1, 0 },
	{ L("data: a\ndata:\n\n"), 0, NULL, "[message|a\\n|]", "", -1, 0 },
	{ L("data:\ndata\n\n"), 0, NULL, "[message|\\n|]", "", -1, 0 },
	{ L("data\n\n"), 0, NULL, "", "", -1, 0 },
	{ L("data:\n\n"), 0, NULL, "", "", -1, 0 },
	{ L("data: x"), 0, NULL, "", "", -1, 0 },
	{ L("data: x\n"), 0, NULL, "", "", -1, 0 },
	{ L("data: x\n\n\n\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("event: ping\ndata: x\n\n"), 0, NULL, "[ping|x|]", "", -1, 0 },
	{ L("event: ping\n\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("event:\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("event\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("event: a\nevent: b\ndata: x\n\n"), 0, NULL, "[b|x|]", "", -1, 0 },
	{ L(": comment\ndata: x\n:\n: data: y\n\n"), 0, NULL, "[message|x|]",
	    "", -1, 0 },
	{ L(":\n\n"), 0, NULL, "", "", -1, 0 },
	{ L("foo: bar\nDATA: y\ndata : z\ndata: x\n\n"), 0, NULL,
	    "[message|x|]", "", -1, 0 },
	{ L("id: 1\ndata: x\n\n"), 0, NULL, "[message|x|1]", "1", -1, 0 },
	{ L("data: x\nid: 1\n\n"), 0, NULL, "[message|x|1]", "1", -1, 0 },
	{ L("id: 7\ndata:\n\n"), 0, NULL, "", "7", -1, 0 },
	{ L("id: 7\ndata: \n\n"), 0, NULL, "", "7", -1, 0 },
	{ L("id: 7\n\n"), 0, NULL, "", "7", -1, 0 },
	{ L("id: 7\n"), 0, NULL, "", "", -1, 0 },
	{ L("id: 7\n\nid\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("id: 7\n\nid:\n\n"), 0, NULL, "", "", -1, 0 },
	{ L("id: a\0b\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	{ L("id: 1\ndata: x\n\nid: a\0b\ndata: y\n\n"), 0, NULL,
	    "[message|x|1][message|y|1]", "1", -1, 0 },
	{ L("id:  sp \n\n"), 0, NULL, "", " sp ", -1, 0 },
	{ L("data: a\0b\n\n"), 0, NULL, "[message|a\\0b|]", "", -1, 0 },
	{ L("retry: 3000\n"), 0, NULL, "", "", 3000, 0 },
	{ L("retry:0\n"), 0, NULL, "", "", 0, 0 },
	{ L("retry: 30x0\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry: -5\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry: +5\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry:  5\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry: 5 \n"), 0, NULL, "", "", -1, 0 },
	{ L("retry:\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry\n"), 0, NULL, "", "", -1, 0 },
	{ L("retry: 1000\nretry: abc\n"), 0, NULL, "", "", 1000, 0 },
	{ L("retry: 99999999999999999999999999\n"), 0, NULL, "", "", LONG_MAX,
	    0 },
	{ L("data: a\rdata: b\r\r"), 0, NULL, "[message|a\\nb|]", "", -1, 0 },
	{ L("data: a\r\n\r\n"), 0, NULL, "[message|a|]", "", -1, 0 },
	{ L("data: a\r\ndata: b\n\r\n"), 0, NULL, "[message|a\\nb|]", "", -1,
	    0 },
	{ L("data: a\r\r\ndata: b\n\n"), 0, NULL, "[message|a|][message|b|]",
	    "", -1, 0 },
	{ L("data: a\n\r\ndata: b\r\n\n"), 0, NULL, "[message|a|][message|b|]",
	    "", -1, 0 },
	{ L("data: a\n\rdata: b\r\r"), 0, NULL, "[message|a|][message|b|]", "",
	    -1, 0 },
	{ L("\xef\xbb\xbf"
	    "data: x\n\n"),
	    0, NULL, "[message|x|]", "", -1, 0 },
	{ L("\xef\xbb\xbf\xef\xbb\xbf"
	    "data: x\n\n"),
	    0, NULL, "", "", -1, 0 },
	{ L("\xef\xbb"
	    "data: x\n\n"),
	    0, NULL, "", "", -1, 0 },
	{ L("\xef\xbb\n"
	    "data: x\n\n"),
	    0, NULL, "[message|x|]", "", -1, 0 },
	{ L("data: x\n\n\xef\xbb\xbf"
	    "data: y\n\n"),
	    0, NULL, "[message|x|]", "", -1, 0 },
	{ L("data: \xef\xbb\xbf\n\n"), 0, NULL, "[message|\xef\xbb\xbf|]", "",
	    -1, 0 },
	{ L("\n\ndata: x\n\n"), 0, NULL, "[message|x|]", "", -1, 0 },
	/* Caps: max 16 bytes for a line and for the joined data. */
	{ L("data: 0123456789abcdef\n\n"), 16, NULL, "", "", -1, -1 },
	{ L("data: 0123456789"), 16, NULL, "", "", -1, 0 },
	{ L("data: 0123456789a"), 16, NULL, "", "", -1, -1 },
	{ L(": 0123456789abcdefgh\n"), 16, NULL, "", "", -1, -1 },
	{ L("data:01234567\ndata:0123456\n\n"), 16, NULL,
	    "[message|01234567\\n0123456|]", "", -1, 0 },
	{ L("data:01234567\ndata:01234567\n\n"), 16, NULL, "", "", -1, -1 },
	{ L("data: x\n\ndata:0123456789\ndata:0123456789\n\ndata: y\n\n"), 16,
	    NULL, "[message|x|]", "", -1, -1 },
	/* Callback stop. */
	{ L("data: a\n\ndata: stop\n\ndata: b\n\n"), 0, "stop",
	    "[message|a|][message|stop|]", "", -1, 1 },
	{ L("id: 1\ndata: stop\n\nid: 2\n\n"), 0, "stop", "[message|stop|1]",
	    "1", -1, 1 },
	{ L("data: stop\r\ndata: b\n\n"), 0, "stop", "[message|stop\\nb|]", "",
	    -1, 0 },
	{ L("data: stop\r\n\r\nretry: 5\n"), 0, "stop", "[message|stop|]", "",
	    -1, 1 },
	/* A typical MCP stream: priming event, then a response. */
	{ L("id: s1-0\ndata: \n\nretry: 2000\n\n"
	    "event: message\nid: s1-1\n"
	    "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"),
	    0, NULL,
	    "[message|{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}|s1-1]",
	    "s1-1", 2000, 0 },
};

static size_t
case_len(const struct scase *c)
{
	return c->n ? c->n : strlen(c->in);
}

static void
check(const struct scase *c, size_t i, size_t chunk, size_t at)
{
	size_t n = case_len(c);
	struct result res;

	res = run(c->max ? c->max : 64, c->in, n, chunk, at, c->stop_on);
	cr_expect_str_eq(
	    res.events, c->want, "case %zu chunk %zu at %zu", i, chunk, at);
	cr_expect_str_eq(
	    res.last_id, c->last_id, "case %zu chunk %zu at %zu", i, chunk, at);
	cr_expect_eq(
	    res.retry, c->retry, "case %zu chunk %zu at %zu", i, chunk, at);
	cr_expect_eq(res.rc, c->rc, "case %zu chunk %zu at %zu: rc %d", i,
	    chunk, at, res.rc);
	result_free(&res);
}

#define NCASES (sizeof(cases) / sizeof(*cases))

Test(sse, table_one_shot)
{
	for (size_t i = 0; i < NCASES; i++)
		check(&cases[i], i, 0, 0);
}

Test(sse, table_byte_at_a_time)
{
	for (size_t i = 0; i < NCASES; i++)
		check(&cases[i], i, 1, 0);
}

Test(sse, table_every_chunk_size)
{
	for (size_t i = 0; i < NCASES; i++)
		for (size_t c = 2; c <= case_len(&cases[i]); c++)
			check(&cases[i], i, c, 0);
}

Test(sse, table_every_split)
{
	for (size_t i = 0; i < NCASES; i++)
		for (size_t at = 0; at <= case_len(&cases[i]); at++)
			check(&cases[i], i, SIZE_MAX, at);
}

Test(sse, cr_then_lf_in_next_chunk_is_one_line_end)
{
	struct sse *p = sse_new(64);
	struct rec r;

	rec_init(&r);
	cr_assert_eq(sse_feed(p, "data: a\r", 8, on_event, &r), 0);
	cr_assert_eq(sse_feed(p, "\n", 1, on_event, &r), 0);
	cr_assert_eq(r.events, 0);
	cr_assert_eq(sse_feed(p, "\r", 1, on_event, &r), 0);
	cr_assert_eq(r.events, 1);
	cr_assert_eq(sse_feed(p, "\n", 1, on_event, &r), 0);
	cr_assert_eq(sse_feed(p, "", 0, on_event, &r), 0);
	cr_assert_eq(sse_feed(p, "data: b\n\n", 9, on_event, &r), 0);
	cr_assert_str_eq(buf_data(&r.out), "[message|a|][message|b|]");
	sse_free(&p);
	buf_finish(&r.out);
}

Test(sse, reset_keeps_last_id_and_retry)
{
	struct sse *p = sse_new(64);
	struct rec r;
	const char *s1 = "retry: 500\nid: 9\n\nevent: x\nid: 10\ndata: part";

	rec_init(&r);
	cr_assert_eq(sse_feed(p, s1, strlen(s1), on_event, &r), 0);
	cr_assert_str_eq(sse_last_id(p), "9");
	sse_reset(p);
	cr_assert_str_eq(sse_last_id(p), "9");
	cr_assert_eq(sse_retry_ms(p), 500);
	/* The half event (type, data, pending id) is gone. */
	cr_assert_eq(sse_feed(p, "ial\n\ndata: new\n\n", 16, on_event, &r), 0);
	cr_assert_str_eq(buf_data(&r.out), "[message|new|9]");
	cr_assert_str_eq(sse_last_id(p), "9");
	sse_free(&p);
	buf_finish(&r.out);
}

Test(sse, reset_after_cr_and_bom)
{
	struct sse *p = sse_new(64);
	struct rec r;

	rec_init(&r);
	cr_assert_eq(sse_feed(p, "data: a\r", 8, on_event, &r), 0);
	sse_reset(p);
	/* A new connection: its BOM is skipped, its first LF is a line. */
	cr_assert_eq(sse_feed(p, "\xef\xbb\xbf\n", 4, on_event, &r), 0);
	cr_assert_eq(sse_feed(p, "data: b\n\n", 9, on_event, &r), 0);
	cr_assert_str_eq(buf_data(&r.out), "[message|b|]");
	sse_free(&p);
	buf_finish(&r.out);
}

Test(sse, broken_until_reset)
{
	struct sse *p = sse_new(8);
	struct rec r;

	rec_init(&r);
	cr_assert_eq(sse_feed(p, "data: 0123456789\n", 17, on_event, &r), -1);
	cr_assert_eq(sse_feed(p, "data: x\n\n", 9, on_event, &r), -1);
	cr_assert_eq(r.events, 0);
	sse_reset(p);
	cr_assert_eq(sse_feed(p, "data: x\n\n", 9, on_event, &r), 0);
	cr_assert_str_eq(buf_data(&r.out), "[message|x|]");
	sse_free(&p);
	buf_finish(&r.out);
}

Test(sse, huge_data_line_over_cap)
{
	size_t max = 64 * 1024, chunk = 16 * 1024;
	char *big = malloc(chunk);
	struct sse *p = sse_new(max);
	struct rec r;
	int rc = 0;

	rec_init(&r);
	memset(big, 'x', chunk);
	cr_assert_eq(sse_feed(p, "data: ", 6, on_event, &r), 0);
	for (int i = 0; i < 16 && rc == 0; i++)
		rc = sse_feed(p, big, chunk, on_event, &r);
	cr_assert_eq(rc, -1);
	cr_assert_eq(r.events, 0);
	sse_free(&p);
	buf_finish(&r.out);
	free(big);
}

Test(sse, big_event_within_cap)
{
	size_t line = 100 * 1024, nlines = 8, total;
	struct sse *p = sse_new(1u << 20);
	struct buf in;
	struct rec r;
	const char *s;

	rec_init(&r);
	buf_init(&in, 2u << 20);
	for (size_t i = 0; i < nlines; i++) {
		cr_assert_eq(buf_puts(&in, "data: "), 0);
		for (size_t j = 0; j < line; j++)
			cr_assert_eq(buf_append(&in, &"abcdefgh"[j % 8], 1), 0);
		cr_assert_eq(buf_puts(&in, "\r\n"), 0);
	}
	cr_assert_eq(buf_puts(&in, "\r\n"), 0);
	s = buf_data(&in);
	total = buf_len(&in);
	for (size_t i = 0; i < total; i += 64 * 1024) {
		size_t k = total - i < 64 * 1024 ? total - i : 64 * 1024;

		cr_assert_eq(sse_feed(p, s + i, k, on_event, &r), 0);
	}
	cr_assert_eq(r.events, 1);
	/* "[message|" + data + "|]" */
	cr_assert_eq(buf_len(&r.out), 9 + nlines * line + (nlines - 1) * 2 + 2);
	sse_free(&p);
	buf_finish(&in);
	buf_finish(&r.out);
}

Test(sse, many_cr_only_lines_stay_linear)
{
	size_t n = 1u << 20;
	char *in = malloc(n);
	struct sse *p = sse_new(64);
	struct rec r;

	rec_init(&r);
	memset(in, '\r', n);
	memcpy(in, "data: x\r", 8);
	cr_assert_eq(sse_feed(p, in, n, on_event, &r), 0);
	cr_assert_eq(r.events, 1);
	sse_free(&p);
	buf_finish(&r.out);
	free(in);
}

Test(sse, free_null_and_defaults)
{
	struct sse *p = NULL;

	sse_free(&p);
	sse_free(NULL);
	p = sse_new(16);
	cr_assert_eq(sse_retry_ms(p), -1);
	cr_assert_str_eq(sse_last_id(p), "");
	sse_free(&p);
	cr_assert_null(p);
}

/* Random hostile input: every chunking gives the one-shot result. */
Test(sse, random_chunkings_agree)
{
	static const char *const atoms[] = {
		"data",
		"id",
		"event",
		"retry",
		":",
		" ",
		"\r",
		"\n",
		"x",
		"12",
		"\0",
		"\xef",
		"\xbb",
		"\xbf",
		"\xef\xbb\xbf",
		"stop",
	};
	uint32_t seed = 4242;
	char in[256];

	for (int iter = 0; iter < 1000; iter++) {
		size_t n = 0, natoms, chunk;
		struct result want, got;

		seed = seed * 1103515245u + 12345u;
		natoms = (seed >> 16) % 40;
		for (size_t a = 0; a < natoms; a++) {
			const char *s;
			size_t k;

			seed = seed * 1103515245u + 12345u;
			s = atoms[(seed >> 16) %
			    (sizeof(atoms) / sizeof(*atoms))];
			k = s[0] ? strlen(s) : 1;
			memcpy(in + n, s, k);
			n += k;
		}
		chunk = 1 + (seed >> 8) % 5;
		want = run(24, in, n, 0, 0, "stop");
		got = run(24, in, n, chunk, 0, "stop");
		cr_expect_str_eq(got.events, want.events, "iter %d", iter);
		cr_expect_str_eq(got.last_id, want.last_id, "iter %d", iter);
		cr_expect_eq(got.retry, want.retry, "iter %d", iter);
		cr_expect_eq(got.rc, want.rc, "iter %d", iter);
		result_free(&got);
		got = run(24, in, n, 1, 0, "stop");
		cr_expect_str_eq(got.events, want.events, "iter %d", iter);
		cr_expect_eq(got.rc, want.rc, "iter %d", iter);
		result_free(&got);
		result_free(&want);
	}
}

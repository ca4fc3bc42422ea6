/* SPDX-License-Identifier: ISC */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"
#include "frame.h"

/* What the callback saw, as text: "OK:line|", "NUL:line|", "LONG:n|". */
struct rec {
	struct buf out;
	const char *lo, *hi; /* the chunk being fed, to check for no copy */
	int borrowed;        /* lines that pointed into [lo, hi) */
	int calls;
};

static void
on_line(void *arg, enum frame_status st, const char *line, size_t len)
{
	struct rec *r = arg;
	int rc = 0;

	r->calls++;
	switch (st) {
	case FRAME_OK:
	case FRAME_NUL:
		cr_assert_not_null(line);
		rc = buf_puts(&r->out, st == FRAME_OK ? "OK:" : "NUL:");
		put_escaped(&r->out, line, len);
		if (r->lo && line >= r->lo && line < r->hi)
			r->borrowed++;
		break;
	case FRAME_TOO_LONG:
		cr_assert_null(line);
		rc = buf_printf(&r->out, "LONG:%zu", len);
		break;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(buf_puts(&r->out, "|"), 0);
}

static void
rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 1u << 24);
}

/* Feeds `in` in chunks of `chunk` bytes (0 = all at once), then finish. */
static char *
run_chunked(size_t max, const char *in, size_t n, size_t chunk)
{
	struct frame *f = frame_new(max);
	struct rec r;

	rec_init(&r);
	if (chunk == 0)
		chunk = n ? n : 1;
	for (size_t i = 0; i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk;

		frame_feed(f, in + i, k, on_line, &r);
		cr_assert_leq(frame_pending(f), max + 1);
	}
	frame_finish(f, on_line, &r);
	cr_assert_eq(frame_pending(f), 0);
	frame_free(&f);
	cr_assert_null(f);
	return buf_take(&r.out, NULL);
}

/* Feeds `in` split in two at `at`, then finish. */
static char *
run_split(size_t max, const char *in, size_t n, size_t at)
{
	struct frame *f = frame_new(max);
	struct rec r;

	rec_init(&r);
	frame_feed(f, in, at, on_line, &r);
	frame_feed(f, in + at, n - at, on_line, &r);
	frame_finish(f, on_line, &r);
	frame_free(&f);
	return buf_take(&r.out, NULL);
}

struct fcase {
	const char *in;
	size_t n; /* 0: strlen(in) */
	const char *want;
};

#define L(s) s, sizeof(s) - 1

/* Lines are capped at 8 bytes in these cases. */
static const struct fcase cases[] = {
	{ "", 0, "" },
	{ L("a\n"), "OK:a|" },
	{ L("a\r\nb\n"), "OK:a|OK:b|" },
	{ L("\n\n\r\n \t \r\n\t\n"), "" },
	{ L("\n\n\nx\n\n"), "OK:x|" },
	{ L("abc"), "OK:abc|" },
	{ L("abc\r"), "OK:abc|" },
	{ L("  \t "), "" },
	{ L(" x \n"), "OK: x |" },
	{ L("a\rb\n"), "OK:a\\rb|" },
	{ L("abc\r\r\n"), "OK:abc\\r|" },
	{ L("12345678\n"), "OK:12345678|" },
	{ L("12345678\r\n"), "OK:12345678|" },
	{ L("12345678\r"), "OK:12345678|" },
	{ L("123456789\nok\n"), "LONG:9|OK:ok|" },
	{ L("123456789\r\nok\r\n"), "LONG:9|OK:ok|" },
	{ L("12345678x\r\nok"), "LONG:9|OK:ok|" },
	{ L("123456789"), "LONG:9|" },
	{ L("123456789\r"), "LONG:9|" },
	{ L("0123456789abcdefghijklmnopqrstuvwxyz\nok\n"), "LONG:36|OK:ok|" },
	{ L("0123456789abcdefghijklmnopqrstuvwxyz\r\n\r\nok\n"),
	    "LONG:36|OK:ok|" },
	{ L("a\nxxxxxxxxxxxxxxxxxxxx\nyyyyyyyyyyyy\nb\n"),
	    "OK:a|LONG:20|LONG:12|OK:b|" },
	{ L("                    \n"), "LONG:20|" },
	{ L("a\0b\n"), "NUL:a\\0b|" },
	{ L("\0\n"), "NUL:\\0|" },
	{ L("a\0b"), "NUL:a\\0b|" },
	{ L("a\0b\r\nc\n"), "NUL:a\\0b|OK:c|" },
	{ L("x\0xxxxxxxxxx\nc\n"), "LONG:12|OK:c|" },
	{ L("{\"a\":1}\n{\"b\":2}"), "OK:{\"a\":1}|OK:{\"b\":2}|" },
};

static size_t
case_len(const struct fcase *c)
{
	return c->n ? c->n : strlen(c->in);
}

Test(frame, table_one_shot)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = run_chunked(8, cases[i].in, case_len(&cases[i]), 0);

		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
}

Test(frame, table_byte_at_a_time)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = run_chunked(8, cases[i].in, case_len(&cases[i]), 1);

		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
}

Test(frame, table_every_chunk_size)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t n = case_len(&cases[i]);

		for (size_t c = 1; c <= n; c++) {
			char *got = run_chunked(8, cases[i].in, n, c);

			cr_expect_str_eq(
			    got, cases[i].want, "case %zu, chunk %zu", i, c);
			free(got);
		}
	}
}

Test(frame, table_every_split)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t n = case_len(&cases[i]);

		for (size_t at = 0; at <= n; at++) {
			char *got = run_split(8, cases[i].in, n, at);

			cr_expect_str_eq(
			    got, cases[i].want, "case %zu, split %zu", i, at);
			free(got);
		}
	}
}

Test(frame, complete_lines_are_not_copied)
{
	static const char in[] = "{\"a\":1}\n{\"b\":2}\r\n{\"c\"";
	struct frame *f = frame_new(64);
	struct rec r;

	rec_init(&r);
	r.lo = in;
	r.hi = in + sizeof(in);
	frame_feed(f, in, sizeof(in) - 1, on_line, &r);
	cr_assert_eq(r.calls, 2);
	cr_assert_eq(r.borrowed, 2);
	cr_assert_eq(frame_pending(f), 4);
	frame_feed(f, ":3}\n", 4, on_line, &r);
	cr_assert_eq(r.calls, 3);
	cr_assert_eq(frame_pending(f), 0);
	cr_assert_str_eq(
	    buf_data(&r.out), "OK:{\"a\":1}|OK:{\"b\":2}|OK:{\"c\":3}|");
	frame_free(&f);
	buf_finish(&r.out);
}

Test(frame, crlf_split_across_chunks)
{
	struct frame *f = frame_new(16);
	struct rec r;

	rec_init(&r);
	frame_feed(f, "abc\r", 4, on_line, &r);
	cr_assert_eq(r.calls, 0);
	frame_feed(f, "\n", 1, on_line, &r);
	frame_feed(f, "\r", 1, on_line, &r);
	frame_feed(f, "\n", 1, on_line, &r);
	frame_feed(f, "d\r", 2, on_line, &r);
	frame_feed(f, "\nx", 2, on_line, &r);
	frame_finish(f, on_line, &r);
	cr_assert_str_eq(buf_data(&r.out), "OK:abc|OK:d|OK:x|");
	frame_free(&f);
	buf_finish(&r.out);
}

Test(frame, oversize_is_not_buffered)
{
	size_t max = 1024, chunk = 64 * 1024;
	char *big = malloc(chunk);
	struct frame *f = frame_new(max);
	struct rec r;

	rec_init(&r);
	memset(big, 'x', chunk);
	for (int i = 0; i < 64; i++) {
		frame_feed(f, big, chunk, on_line, &r);
		cr_assert_eq(frame_pending(f), 0);
	}
	cr_assert_eq(r.calls, 0);
	frame_feed(f, "\r\n{\"ok\":1}\n", 11, on_line, &r);
	cr_assert_str_eq(buf_data(&r.out), "LONG:4194304|OK:{\"ok\":1}|");
	frame_free(&f);
	buf_finish(&r.out);
	free(big);
}

Test(frame, oversize_reported_once_at_finish)
{
	struct frame *f = frame_new(4);
	struct rec r;

	rec_init(&r);
	frame_feed(f, "ab", 2, on_line, &r);
	frame_feed(f, "cdefgh", 6, on_line, &r);
	frame_feed(f, "ijk", 3, on_line, &r);
	cr_assert_eq(r.calls, 0);
	frame_finish(f, on_line, &r);
	frame_finish(f, on_line, &r);
	cr_assert_str_eq(buf_data(&r.out), "LONG:11|");
	/* The frame is usable again afterwards. */
	frame_feed(f, "ok\n", 3, on_line, &r);
	cr_assert_str_eq(buf_data(&r.out), "LONG:11|OK:ok|");
	frame_free(&f);
	buf_finish(&r.out);
}

Test(frame, many_lines_in_one_big_chunk)
{
	size_t n = 64 * 1024, lines = 0;
	char *in = malloc(n);
	struct frame *f = frame_new(1u << 20);
	struct rec r;

	for (size_t i = 0; i < n; i++) {
		in[i] = (i % 64 == 63) ? '\n' : 'a';
		lines += in[i] == '\n';
	}
	rec_init(&r);
	r.lo = in;
	r.hi = in + n;
	frame_feed(f, in, n, on_line, &r);
	cr_assert_eq((size_t)r.calls, lines);
	cr_assert_eq((size_t)r.borrowed, lines);
	frame_free(&f);
	buf_finish(&r.out);
	free(in);
}

Test(frame, free_null)
{
	struct frame *f = NULL;

	frame_free(&f);
	frame_free(NULL);
	cr_assert_null(f);
}

/* Random hostile input: every chunking gives the one-shot result. */
Test(frame, random_chunkings_agree)
{
	static const char alphabet[] = "ab \t\r\n\0{\"";
	uint32_t seed = 12345;
	char in[64];

	for (int iter = 0; iter < 400; iter++) {
		size_t n = 0, chunk;
		char *want, *got;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(in);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		chunk = 1 + (seed >> 8) % 7;
		want = run_chunked(6, in, n, 0);
		got = run_chunked(6, in, n, chunk);
		cr_expect_str_eq(got, want, "iter %d chunk %zu", iter, chunk);
		free(got);
		got = run_chunked(6, in, n, 1);
		cr_expect_str_eq(got, want, "iter %d bytewise", iter);
		free(got);
		free(want);
	}
}

Test(frame, needs_compact)
{
	cr_assert_eq(frame_needs_compact("", 0), 0);
	cr_assert_eq(frame_needs_compact("{\"a\": 1}", 8), 0);
	cr_assert_eq(frame_needs_compact("{\n}", 3), 1);
	cr_assert_eq(frame_needs_compact("{\r}", 3), 1);
	cr_assert_eq(frame_needs_compact("{}\n", 2), 0);
}

struct ccase {
	const char *in;
	const char *want;
};

static const struct ccase compact_cases[] = {
	{ "", "" },
	{ "  \r\n\t ", "" },
	{ "{}", "{}" },
	{ "{\n  \"a\" : 1 ,\r\n  \"b\" : [ 1 , 2 ]\n}\n",
	    "{\"a\":1,\"b\":[1,2]}" },
	{ "{\"a b\" : \"c\\td  e\"}", "{\"a b\":\"c\\td  e\"}" },
	{ "[ \"a\\\" b\" , 1 ]", "[\"a\\\" b\",1]" },
	{ "[ \"a\\\\\" , \" x \" ]", "[\"a\\\\\",\" x \"]" },
	{ "[\"\\\\\\\" \" , 2]", "[\"\\\\\\\" \",2]" },
	{ "[ \"\" , \"\" ]", "[\"\",\"\"]" },
	{ "\"unterminated  str", "\"unterminated  str" },
	{ "\"ends in backslash \\", "\"ends in backslash \\" },
	{ "[1, \"a\"]  \"b c\" ", "[1,\"a\"]\"b c\"" },
	{ "{ \"k\" :\n\t\"v\\n\" }", "{\"k\":\"v\\n\"}" },
};

Test(frame, compact_table)
{
	for (size_t i = 0; i < sizeof(compact_cases) / sizeof(*compact_cases);
	     i++) {
		const char *in = compact_cases[i].in;
		size_t n = strlen(in), k;
		char *out = malloc(n + 1);

		k = frame_compact(in, n, out);
		cr_assert_leq(k, n);
		out[k] = '\0';
		cr_expect_str_eq(out, compact_cases[i].want, "case %zu", i);
		free(out);
	}
}

Test(frame, compact_in_place_is_not_required_but_out_fits)
{
	char in[] = "{ \"a\" : \"x y\" }";
	char out[sizeof(in)];
	size_t k;

	memset(out, '#', sizeof(out));
	k = frame_compact(in, sizeof(in) - 1, out);
	cr_assert_eq(k, 11);
	cr_assert_eq(memcmp(out, "{\"a\":\"x y\"}", 11), 0);
	cr_assert_eq(out[k], '#');
}

/* SPDX-License-Identifier: ISC */
/*
 * buf: the cap is hard, failures leave the buffer unchanged, the data is
 * always NUL-terminated and may itself hold NUL bytes.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The buffer holds exactly the `n` bytes at `want`, then a NUL. */
static void
expect_bytes(const struct buf *b, const void *want, size_t n)
{
	cr_assert_eq(buf_len(b), n, "len %zu, want %zu", buf_len(b), n);
	cr_expect_eq(memcmp(buf_data(b), want, n), 0);
	cr_expect_eq(buf_data(b)[n], '\0', "not NUL-terminated");
}

Test(buf, empty_buffer_is_empty_string)
{
	struct buf b;

	buf_init(&b, 16);
	cr_assert_not_null(buf_data(&b));
	cr_expect_str_eq(buf_data(&b), "");
	cr_expect_eq(buf_len(&b), 0);
	buf_finish(&b);
	cr_expect_str_eq(buf_data(&b), "");
	buf_finish(&b); /* twice is fine */
}

Test(buf, append_zero_bytes)
{
	struct buf b;

	buf_init(&b, 4);
	cr_assert_eq(buf_append(&b, NULL, 0), 0);
	expect_bytes(&b, "", 0);
	cr_assert_eq(buf_append(&b, "", 0), 0);
	cr_assert_eq(buf_puts(&b, ""), 0);
	expect_bytes(&b, "", 0);
	cr_assert_eq(buf_append(&b, "abcd", 4), 0);
	/* Full: a zero-byte append still fits. */
	cr_expect_eq(buf_append(&b, "x", 0), 0);
	expect_bytes(&b, "abcd", 4);
	buf_finish(&b);
}

Test(buf, nul_bytes_inside_data)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(buf_append(&b, "a\0b", 3), 0);
	cr_assert_eq(buf_append(&b, "\0\0", 2), 0);
	cr_assert_eq(buf_puts(&b, "c"), 0);
	expect_bytes(&b, "a\0b\0\0c", 6);
	buf_consume(&b, 1);
	expect_bytes(&b, "\0b\0\0c", 5);
	cr_assert_eq(buf_printf(&b, "%c", 0), 0); /* printf may write a NUL */
	expect_bytes(&b, "\0b\0\0c\0", 6);
	buf_finish(&b);
}

Test(buf, zero_cap)
{
	struct buf b;

	buf_init(&b, 0);
	cr_expect_eq(buf_append(&b, "", 0), 0);
	cr_expect_eq(buf_append(&b, "x", 1), -1);
	cr_expect_eq(buf_puts(&b, "x"), -1);
	cr_expect_eq(buf_printf(&b, "%d", 7), -1);
	cr_expect_eq(buf_printf(&b, "%s", ""), 0);
	expect_bytes(&b, "", 0);
	buf_finish(&b);
}

/* Table: from `len` bytes held, append `n` more with a cap of 8. */
struct capcase {
	size_t held; /* bytes already in the buffer */
	size_t n;    /* bytes appended */
	int rc;      /* expected result */
};

static const struct capcase capcases[] = {
	{ 0, 8, 0 },
	{ 0, 9, -1 },
	{ 5, 3, 0 },
	{ 5, 4, -1 },
	{ 7, 1, 0 },
	{ 8, 0, 0 },
	{ 8, 1, -1 },
	{ 1, 100, -1 },
	{ 0, 0, 0 },
};

Test(buf, cap_exactly_reached_vs_exceeded)
{
	static const char src[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	                          "0123456789abcdefghijklmnopqrstuvwxyz"
	                          "0123456789abcdefghijklmnopqrstuvwxyz";

	for (size_t i = 0; i < sizeof(capcases) / sizeof(*capcases); i++) {
		const struct capcase *c = &capcases[i];
		struct buf b;

		buf_init(&b, 8);
		cr_assert_eq(buf_append(&b, "ABCDEFGH", c->held), 0);
		cr_expect_eq(buf_append(&b, src, c->n), c->rc, "case %zu", i);
		if (c->rc == 0) {
			char want[16];

			memcpy(want, "ABCDEFGH", c->held);
			memcpy(want + c->held, src, c->n);
			expect_bytes(&b, want, c->held + c->n);
		} else {
			expect_bytes(&b, "ABCDEFGH", c->held); /* unchanged */
		}
		buf_finish(&b);
	}
}

Test(buf, every_append_kind_respects_cap)
{
	struct buf b;

	buf_init(&b, 8);
	cr_assert_eq(buf_append(&b, "12345", 5), 0);
	cr_expect_eq(buf_append(&b, "6789", 4), -1);
	expect_bytes(&b, "12345", 5);
	cr_expect_eq(buf_puts(&b, "6789"), -1);
	expect_bytes(&b, "12345", 5);
	cr_expect_eq(buf_printf(&b, "%d", 6789), -1);
	expect_bytes(&b, "12345", 5);
	cr_assert_eq(buf_puts(&b, "678"), 0);
	expect_bytes(&b, "12345678", 8);
	cr_expect_eq(buf_append(&b, "9", 1), -1);
	cr_expect_eq(buf_printf(&b, "%d", 1), -1);
	cr_expect_eq(buf_puts(&b, "x"), -1);
	expect_bytes(&b, "12345678", 8);
	/* Consuming makes room again. */
	buf_consume(&b, 2);
	cr_expect_eq(buf_puts(&b, "9ab"), -1);
	cr_assert_eq(buf_puts(&b, "9a"), 0);
	expect_bytes(&b, "3456789a", 8);
	buf_finish(&b);
}

Test(buf, huge_lengths_do_not_wrap)
{
	struct buf b;
	static const char x[] = "x";

	/*
	 * An append of SIZE_MAX (or SIZE_MAX - len + 1) bytes must fail on
	 * the cap check; the source is never read when it does.
	 */
	buf_init(&b, 8);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX), -1);
	cr_assert_eq(buf_append(&b, x, 1), 0);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX), -1);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX - 1), -1);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX / 2 + 1), -1);
	expect_bytes(&b, "x", 1);
	buf_finish(&b);

	buf_init(&b, SIZE_MAX);
	cr_assert_eq(buf_append(&b, x, 1), 0);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX), -1);
	cr_expect_eq(buf_append(&b, x, SIZE_MAX - 1), -1);
	expect_bytes(&b, "x", 1);
	buf_finish(&b);
}

Test(buf, printf_within_and_over_cap)
{
	struct buf b;

	buf_init(&b, 10);
	cr_assert_eq(buf_printf(&b, "%s=%d;", "a", 42), 0);
	expect_bytes(&b, "a=42;", 5);
	cr_assert_eq(buf_printf(&b, "%05d", 7), 0); /* exactly the cap */
	expect_bytes(&b, "a=42;00007", 10);
	cr_expect_eq(buf_printf(&b, "%s", "z"), -1);
	expect_bytes(&b, "a=42;00007", 10);
	cr_assert_eq(buf_printf(&b, "%s", ""), 0);
	expect_bytes(&b, "a=42;00007", 10);
	buf_reset(&b);
	cr_expect_eq(buf_printf(&b, "%011d", 1), -1); /* one over */
	expect_bytes(&b, "", 0);
	buf_finish(&b);
}

Test(buf, printf_large_output_grows)
{
	struct buf b;
	char want[2001];

	memset(want, 'y', 2000);
	want[2000] = '\0';
	buf_init(&b, 4096);
	cr_assert_eq(buf_puts(&b, "<"), 0);
	cr_assert_eq(buf_printf(&b, "%s>", want), 0);
	cr_assert_eq(buf_len(&b), 2002);
	cr_expect_eq(buf_data(&b)[0], '<');
	cr_expect_eq(memcmp(buf_data(&b) + 1, want, 2000), 0);
	cr_expect_str_eq(buf_data(&b) + 2001, ">");
	buf_finish(&b);
}

/* Table: consume `n` bytes of "abcdef". */
struct conscase {
	size_t n;
	const char *left;
};

static const struct conscase conscases[] = {
	{ 0, "abcdef" },
	{ 1, "bcdef" },
	{ 5, "f" },
	{ 6, "" },
	{ 7, "" },
	{ 1000, "" },
	{ SIZE_MAX, "" },
};

Test(buf, consume)
{
	for (size_t i = 0; i < sizeof(conscases) / sizeof(*conscases); i++) {
		const struct conscase *c = &conscases[i];
		struct buf b;

		buf_init(&b, 64);
		cr_assert_eq(buf_puts(&b, "abcdef"), 0);
		buf_consume(&b, c->n);
		expect_bytes(&b, c->left, strlen(c->left));
		/* Still usable after. */
		cr_assert_eq(buf_puts(&b, "Z"), 0);
		cr_expect_eq(buf_data(&b)[buf_len(&b) - 1], 'Z');
		cr_expect_eq(buf_data(&b)[buf_len(&b)], '\0');
		buf_finish(&b);
	}
}

Test(buf, consume_on_empty_buffer)
{
	struct buf b;

	buf_init(&b, 8);
	buf_consume(&b, 0); /* never allocated */
	expect_bytes(&b, "", 0);
	buf_consume(&b, 3);
	expect_bytes(&b, "", 0);
	buf_finish(&b);
}

Test(buf, consume_frees_room_under_the_cap)
{
	struct buf b;

	buf_init(&b, 4);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(buf_puts(&b, "abcd"), 0, "round %d", i);
		cr_assert_eq(buf_puts(&b, "e"), -1);
		buf_consume(&b, 3);
		expect_bytes(&b, "d", 1);
		buf_consume(&b, 1);
	}
	buf_finish(&b);
}

Test(buf, reset_keeps_memory)
{
	struct buf b;
	const char *before;

	buf_init(&b, 1024);
	buf_reset(&b); /* never allocated */
	expect_bytes(&b, "", 0);
	cr_assert_eq(buf_puts(&b, "some bytes to hold"), 0);
	before = buf_data(&b);
	buf_reset(&b);
	expect_bytes(&b, "", 0);
	cr_expect_eq(buf_data(&b), before, "reset must keep the memory");
	cr_assert_eq(buf_puts(&b, "short"), 0);
	cr_expect_eq(buf_data(&b), before, "reuse must not reallocate");
	expect_bytes(&b, "short", 5);
	buf_finish(&b);
}

Test(buf, take_hands_over_ownership)
{
	struct buf b;
	size_t n = 99;
	char *p, *q;

	buf_init(&b, 16);
	cr_assert_eq(buf_append(&b, "mi\0ne", 5), 0);
	p = buf_take(&b, &n);
	cr_assert_not_null(p);
	cr_expect_eq(n, 5);
	cr_expect_eq(memcmp(p, "mi\0ne", 6), 0); /* with its NUL */
	expect_bytes(&b, "", 0);
	/* The buffer is independent of `p` and keeps its cap. */
	cr_assert_eq(buf_puts(&b, "0123456789abcdef"), 0);
	cr_expect_eq(buf_puts(&b, "x"), -1);
	cr_expect_eq(memcmp(p, "mi\0ne", 6), 0);
	free(p);
	q = buf_take(&b, NULL);
	cr_expect_str_eq(q, "0123456789abcdef");
	free(q);

	/* An empty buffer still hands over a string the caller frees. */
	n = 99;
	p = buf_take(&b, &n);
	cr_assert_not_null(p);
	cr_expect_eq(n, 0);
	cr_expect_str_eq(p, "");
	free(p);
	buf_finish(&b);
}

Test(buf, grows_past_many_doublings)
{
	struct buf b;
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 1000000);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	cr_expect_eq(buf_len(&b), 1000000);
	cr_expect_eq(buf_data(&b)[buf_len(&b)], '\0');
	cr_expect_eq(buf_append(&b, chunk, 1), -1);
	buf_finish(&b);
}

Test(buf, byte_at_a_time_stays_terminated)
{
	struct buf b;

	buf_init(&b, 600);
	for (size_t i = 0; i < 600; i++) {
		char c = (char)('a' + i % 26);

		cr_assert_eq(buf_append(&b, &c, 1), 0);
		cr_assert_eq(buf_len(&b), i + 1);
		cr_assert_eq(buf_data(&b)[i], c);
		cr_assert_eq(buf_data(&b)[i + 1], '\0', "at %zu", i);
	}
	cr_expect_eq(buf_append(&b, "a", 1), -1);
	buf_finish(&b);
}

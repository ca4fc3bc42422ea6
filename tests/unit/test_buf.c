/* SPDX-License-Identifier: ISC */
/* buf: the cap is hard, failures leave the buffer unchanged. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

Test(buf, empty_and_terminated)
{
	struct buf b;

	buf_init(&b, 16);
	cr_expect_str_eq(buf_data(&b), "");
	cr_expect_eq(buf_len(&b), 0);
	cr_assert_eq(buf_append(&b, "", 0), 0);
	cr_assert_eq(buf_append(&b, "a\0b", 3), 0);
	cr_expect_eq(buf_len(&b), 3);
	cr_expect_eq(memcmp(buf_data(&b), "a\0b", 4), 0); /* and a NUL */
	buf_finish(&b);
	buf_finish(&b);
}

Test(buf, cap_reached_and_exceeded)
{
	struct buf b;

	buf_init(&b, 8);
	cr_assert_eq(buf_append(&b, "12345", 5), 0);
	cr_expect_eq(buf_append(&b, "6789", 4), -1);
	cr_expect_str_eq(buf_data(&b), "12345");
	cr_assert_eq(buf_append(&b, "678", 3), 0);
	cr_expect_str_eq(buf_data(&b), "12345678");
	cr_expect_eq(buf_append(&b, "9", 1), -1);
	cr_expect_eq(buf_printf(&b, "%d", 1), -1);
	cr_expect_eq(buf_puts(&b, "x"), -1);
	cr_expect_str_eq(buf_data(&b), "12345678");
	buf_finish(&b);
}

Test(buf, printf_consume_reset_take)
{
	struct buf b;
	size_t n;
	char *p;

	buf_init(&b, 1024);
	cr_assert_eq(buf_printf(&b, "%s=%d;", "a", 42), 0);
	cr_assert_eq(buf_puts(&b, "rest"), 0);
	buf_consume(&b, 5);
	cr_expect_str_eq(buf_data(&b), "rest");
	buf_consume(&b, 100);
	cr_expect_str_eq(buf_data(&b), "");
	cr_assert_eq(buf_puts(&b, "again"), 0);
	buf_reset(&b);
	cr_expect_eq(buf_len(&b), 0);
	cr_assert_eq(buf_puts(&b, "mine"), 0);
	p = buf_take(&b, &n);
	cr_expect_eq(n, 4);
	cr_expect_str_eq(p, "mine");
	free(p);
	cr_expect_eq(buf_len(&b), 0);
	p = buf_take(&b, NULL); /* empty buffer: still a string */
	cr_expect_str_eq(p, "");
	free(p);
	buf_finish(&b);
}

Test(buf, grows_past_many_doublings)
{
	struct buf b;
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 1u << 20);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	cr_expect_eq(buf_len(&b), 1000000);
	cr_expect_eq(buf_data(&b)[buf_len(&b)], '\0');
	buf_finish(&b);
}

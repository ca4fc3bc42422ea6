/* SPDX-License-Identifier: ISC */
/* secret: copies, compares in constant time, wipes. */
#include <criterion/criterion.h>

#include <string.h>

#include "secret.h"

Test(secret, copy_and_len)
{
	char src[] = "token-value";
	struct secret *s = secret_new(src, strlen(src));

	cr_assert_not_null(s);
	cr_expect_eq(secret_len(s), 11);
	cr_expect_str_eq(secret_data(s), "token-value");
	cr_expect_neq((const void *)secret_data(s), (const void *)src);
	/* A copy: changing the source does not change the secret. */
	memset(src, 'x', strlen(src));
	cr_expect_str_eq(secret_data(s), "token-value");
	secret_free(&s);
}

Test(secret, prefix_is_copied_and_terminated)
{
	struct secret *s = secret_new("abcdef", 3);

	cr_expect_eq(secret_len(s), 3);
	cr_expect_str_eq(secret_data(s), "abc");
	secret_free(&s);
}

Test(secret, embedded_nul_kept_in_len)
{
	struct secret *s = secret_new("a\0b", 3);

	cr_expect_eq(secret_len(s), 3);
	cr_expect_eq(memcmp(secret_data(s), "a\0b", 4), 0); /* and a NUL */
	cr_expect_eq(strlen(secret_data(s)), 1);
	secret_free(&s);
}

Test(secret, empty)
{
	struct secret *s = secret_new("", 0);
	struct secret *t = secret_new(NULL, 0);

	cr_assert_not_null(s);
	cr_assert_not_null(t);
	cr_expect_eq(secret_len(s), 0);
	cr_expect_str_eq(secret_data(s), "");
	cr_expect_eq(secret_len(t), 0);
	cr_expect_str_eq(secret_data(t), "");
	cr_expect(secret_eq(s, t));
	secret_free(&s);
	secret_free(&t);
}

Test(secret, large)
{
	static char big[100000];
	struct secret *s;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 251 + 1);
	s = secret_new(big, sizeof(big));
	cr_expect_eq(secret_len(s), sizeof(big));
	cr_expect_eq(memcmp(secret_data(s), big, sizeof(big)), 0);
	cr_expect_eq(secret_data(s)[sizeof(big)], '\0');
	secret_free(&s);
}

struct eqcase {
	const char *a;
	size_t an;
	const char *b;
	size_t bn;
	int eq;
};

static const struct eqcase eqcases[] = {
	{ "token", 5, "token", 5, 1 },
	{ "token", 5, "tokeN", 5, 0 },
	{ "token", 5, "Token", 5, 0 },
	{ "token", 5, "toke", 4, 0 },
	{ "toke", 4, "token", 5, 0 },
	{ "token", 5, "token ", 6, 0 },
	{ "", 0, "", 0, 1 },
	{ "", 0, "a", 1, 0 },
	{ "a\0b", 3, "a\0b", 3, 1 },
	{ "a\0b", 3, "a\0c", 3, 0 }, /* past a NUL still counts */
	{ "a\0b", 3, "a", 1, 0 },
	{ "a", 2, "a\0", 2, 1 },
	{ "\xff\x80", 2, "\xff\x80", 2, 1 },
	{ "\xff\x80", 2, "\x7f\x80", 2, 0 },
};

Test(secret, eq_table)
{
	for (size_t i = 0; i < sizeof(eqcases) / sizeof(*eqcases); i++) {
		const struct eqcase *c = &eqcases[i];
		struct secret *a = secret_new(c->a, c->an);
		struct secret *b = secret_new(c->b, c->bn);

		cr_expect_eq(!!secret_eq(a, b), c->eq, "case %zu", i);
		cr_expect_eq(!!secret_eq(b, a), c->eq, "case %zu reversed", i);
		cr_expect(secret_eq(a, a), "case %zu self", i);
		secret_free(&a);
		secret_free(&b);
	}
}

Test(secret, eq_every_position_differs)
{
	char x[40], y[40];

	memset(x, 'k', sizeof(x));
	for (size_t at = 0; at < sizeof(x); at++) {
		struct secret *a, *b;

		memcpy(y, x, sizeof(y));
		y[at] ^= 1;
		a = secret_new(x, sizeof(x));
		b = secret_new(y, sizeof(y));
		cr_expect(!secret_eq(a, b), "differs at %zu", at);
		secret_free(&a);
		secret_free(&b);
	}
}

Test(secret, free_nulls_and_accepts_null)
{
	struct secret *s = secret_new("x", 1);
	struct secret *none = NULL;

	secret_free(&s);
	cr_expect_null(s);
	secret_free(&s); /* already NULL */
	cr_expect_null(s);
	secret_free(&none);
	cr_expect_null(none);
	secret_free(NULL); /* NULL pointer-to-pointer */
}

Test(secret, wipe_zeroes_a_stack_buffer)
{
	char buf[32];
	volatile char *v = buf;

	memcpy(buf, "sensitive-bytes-0123456789abcdef", sizeof(buf));
	secret_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_expect_eq(v[i], 0, "byte %zu", i);
}

Test(secret, wipe_only_n_bytes)
{
	char buf[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };

	secret_wipe(buf + 2, 4);
	cr_expect_eq(memcmp(buf, "ab\0\0\0\0gh", 8), 0);
	secret_wipe(buf, 0); /* nothing */
	cr_expect_eq(buf[0], 'a');
}

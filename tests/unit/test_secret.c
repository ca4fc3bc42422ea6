/* SPDX-License-Identifier: ISC */
/* secret: copies, compares in constant time, wipes. */
#include <criterion/criterion.h>

#include <string.h>

#include "secret.h"

Test(secret, copy_and_len)
{
	struct secret *s = secret_new("a\0b", 3);

	cr_expect_eq(secret_len(s), 3);
	cr_expect_eq(memcmp(secret_data(s), "a\0b", 4), 0);
	secret_free(&s);
	cr_expect_null(s);
	secret_free(&s);
	secret_free(NULL);
}

Test(secret, eq)
{
	struct secret *a = secret_new("token", 5), *b = secret_new("token", 5);
	struct secret *c = secret_new("tokeN", 5), *d = secret_new("toke", 4);

	cr_expect(secret_eq(a, b));
	cr_expect(!secret_eq(a, c));
	cr_expect(!secret_eq(a, d));
	secret_free(&a);
	secret_free(&b);
	secret_free(&c);
	secret_free(&d);
}

Test(secret, wipe)
{
	char buf[16] = "sensitive-bytes";

	secret_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_expect_eq(buf[i], 0);
}

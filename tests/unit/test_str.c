/* SPDX-License-Identifier: ISC */
/* str: number parsing, checked formatting, trimming, UTF-8 validation. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

Test(str, tonum)
{
	long long v;

	cr_expect_eq(str_tonum("42", 0, 100, &v), 0);
	cr_expect_eq(v, 42);
	cr_expect_eq(str_tonum("-0", -1, 1, &v), 0);
	cr_expect_eq(str_tonum("100", 0, 100, &v), 0);
	cr_expect_eq(str_tonum("101", 0, 100, &v), -1);
	cr_expect_eq(str_tonum("-1", 0, 100, &v), -1);
	cr_expect_eq(str_tonum("", 0, 100, &v), -1);
	cr_expect_eq(str_tonum(NULL, 0, 100, &v), -1);
	cr_expect_eq(str_tonum("12x", 0, 100, &v), -1);
	cr_expect_eq(str_tonum("1 ", 0, 100, &v), -1);
	cr_expect_eq(str_tonum("99999999999999999999", 0, LLONG_MAX, &v), -1);
	cr_expect_eq(str_tonum("9223372036854775807", 0, LLONG_MAX, &v), 0);
}

Test(str, fmt_truncation)
{
	char b[4];

	cr_expect_eq(str_fmt(b, sizeof(b), "%s", "abc"), 3);
	cr_expect_eq(str_fmt(b, sizeof(b), "%s", "abcd"), -1);
}

Test(str, eq_nocase_and_trim)
{
	const char *p = "  \tx y\t ";
	size_t n = strlen(p);

	cr_expect(str_eq_nocase("Content-Type", 12, "content-type"));
	cr_expect(!str_eq_nocase("Content-Typ", 11, "content-type"));
	cr_expect(!str_eq_nocase("Content-Types", 13, "content-type"));
	str_trim(&p, &n);
	cr_expect_eq(n, 3);
	cr_expect_eq(strncmp(p, "x y", 3), 0);
	p = "   ";
	n = 3;
	str_trim(&p, &n);
	cr_expect_eq(n, 0);
}

struct u8case {
	const char *s;
	size_t n;
	int valid;
};

#define U(s, v)                                                                \
	{                                                                      \
		s, sizeof(s) - 1, v                                            \
	}

static const struct u8case u8[] = {
	U("plain ascii", 1),
	U("caf\xc3\xa9", 1),
	U("\xe2\x9c\x93", 1),
	U("\xf0\x9f\x98\x80", 1),
	U("\xf4\x8f\xbf\xbf", 1),
	U("\xc0\x80", 0),
	U("\xc1\xbf", 0),
	U("\xe0\x80\x80", 0),
	U("\xf0\x80\x80\x80", 0),
	U("\xed\xa0\x80", 0),
	U("\xf4\x90\x80\x80", 0),
	U("\xf5\x80\x80\x80", 0),
	U("\xff", 0),
	U("\x80", 0),
	U("abc\xc3", 0),
	U("\xe2\x9c", 0),
	U("\xf0\x9f\x98", 0),
	U("\xc3\x28", 0),
};

Test(str, utf8_table)
{
	for (size_t i = 0; i < sizeof(u8) / sizeof(*u8); i++)
		cr_expect_eq(str_utf8_valid(u8[i].s, u8[i].n), u8[i].valid,
		    "case %zu", i);
}

Test(str, utf8_bad_byte_at_every_position)
{
	char s[24];

	for (size_t at = 0; at < sizeof(s); at++) {
		memset(s, 'a', sizeof(s));
		cr_expect(str_utf8_valid(s, sizeof(s)));
		s[at] = (char)0x80;
		cr_expect(!str_utf8_valid(s, sizeof(s)), "at %zu", at);
	}
}

/* SPDX-License-Identifier: ISC */
/* str: number parsing, checked formatting, trimming, UTF-8 validation. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "str.h"

/* str_tonum ------------------------------------------------------------ */

struct numcase {
	const char *s;
	long long min, max;
	int rc;      /* expected result */
	long long v; /* expected value when rc == 0 */
};

static const struct numcase numcases[] = {
	/* In range, and the edges of the range. */
	{ "42", 0, 100, 0, 42 },
	{ "0", 0, 100, 0, 0 },
	{ "100", 0, 100, 0, 100 },
	{ "101", 0, 100, -1, 0 },
	{ "-1", 0, 100, -1, 0 },
	{ "-5", -5, -1, 0, -5 },
	{ "-6", -5, -1, -1, 0 },
	{ "0", -5, -1, -1, 0 },
	{ "7", 7, 7, 0, 7 },
	{ "6", 7, 7, -1, 0 },
	{ "8", 7, 7, -1, 0 },
	{ "1", 1, 65535, 0, 1 },
	{ "65535", 1, 65535, 0, 65535 },
	{ "65536", 1, 65535, -1, 0 },
	/* Signs and leading zeros. */
	{ "+5", 0, 10, 0, 5 },
	{ "-0", 0, 10, 0, 0 },
	{ "-0", -1, 1, 0, 0 },
	{ "+0", 0, 10, 0, 0 },
	{ "007", 0, 10, 0, 7 },
	{ "+", 0, 10, -1, 0 },
	{ "-", 0, 10, -1, 0 },
	{ "+-5", -10, 10, -1, 0 },
	{ "--5", -10, 10, -1, 0 },
	{ "++5", -10, 10, -1, 0 },
	{ "+ 5", 0, 10, -1, 0 },
	{ "- 5", -10, 10, -1, 0 },
	/* Empty, white space and junk. */
	{ "", 0, 100, -1, 0 },
	{ " ", 0, 100, -1, 0 },
	{ " 5", 0, 100, -1, 0 },
	{ "5 ", 0, 100, -1, 0 },
	{ "\t5", 0, 100, -1, 0 },
	{ "\n5", 0, 100, -1, 0 },
	{ "5\n", 0, 100, -1, 0 },
	{ "\v5", 0, 100, -1, 0 },
	{ " -5", -10, 10, -1, 0 },
	{ "1 2", 0, 100, -1, 0 },
	{ "12x", 0, 100, -1, 0 },
	{ "x12", 0, 100, -1, 0 },
	{ "0x10", 0, 100, -1, 0 },
	{ "1e3", 0, 10000, -1, 0 },
	{ "1.0", 0, 100, -1, 0 },
	{ "1,000", 0, 10000, -1, 0 },
	{ "abc", 0, 100, -1, 0 },
	{ "\xd9\xa3", 0, 100, -1, 0 }, /* ARABIC-INDIC DIGIT THREE */
	/* The long long edges and overflow. */
	{ "9223372036854775807", 0, LLONG_MAX, 0, LLONG_MAX },
	{ "9223372036854775808", 0, LLONG_MAX, -1, 0 },
	{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, 0, LLONG_MIN },
	{ "-9223372036854775809", LLONG_MIN, LLONG_MAX, -1, 0 },
	{ "99999999999999999999", 0, LLONG_MAX, -1, 0 },
	{ "-99999999999999999999", LLONG_MIN, 0, -1, 0 },
	{ "18446744073709551616", LLONG_MIN, LLONG_MAX, -1, 0 },
	{ "0000000000000000000000000042", 0, 100, 0, 42 },
};

Test(str, tonum_table)
{
	for (size_t i = 0; i < sizeof(numcases) / sizeof(*numcases); i++) {
		const struct numcase *c = &numcases[i];
		long long v = 12345;
		int rc = str_tonum(c->s, c->min, c->max, &v);

		cr_expect_eq(rc, c->rc, "'%s' in [%lld, %lld]: rc %d", c->s,
		    c->min, c->max, rc);
		if (c->rc == 0 && rc == 0)
			cr_expect_eq(v, c->v, "'%s' -> %lld", c->s, v);
		if (c->rc == -1 && rc == -1)
			cr_expect_eq(
			    v, 12345, "'%s': *out written on failure", c->s);
	}
}

Test(str, tonum_null)
{
	long long v = 1;

	cr_expect_eq(str_tonum(NULL, 0, 100, &v), -1);
	cr_expect_eq(v, 1);
}

/* str_fmt -------------------------------------------------------------- */

Test(str, fmt_fits_and_truncates)
{
	char b[4];

	cr_expect_eq(str_fmt(b, sizeof(b), "%s", "abc"), 3);
	cr_expect_str_eq(b, "abc");
	cr_expect_eq(str_fmt(b, sizeof(b), "%d", 12), 2);
	cr_expect_str_eq(b, "12");
	cr_expect_eq(str_fmt(b, sizeof(b), "%s", ""), 0);
	cr_expect_str_eq(b, "");
	cr_expect_eq(str_fmt(b, sizeof(b), "%s", "abcd"), -1);
	cr_expect_str_eq(b, "abc"); /* truncated, still terminated */
	cr_expect_eq(str_fmt(b, sizeof(b), "%d", 12345), -1);
	cr_expect_eq(str_fmt(b, 1, "%s", ""), 0);
	cr_expect_eq(str_fmt(b, 1, "%s", "a"), -1);
	cr_expect_eq(b[0], '\0');
}

Test(str, fmt_zero_size_writes_nothing)
{
	char b[2] = { 'Q', 'R' };

	cr_expect_eq(str_fmt(b, 0, "%s", "a"), -1);
	cr_expect_eq(str_fmt(b, 0, "%s", ""), -1); /* no room for the NUL */
	cr_expect_eq(b[0], 'Q');
	cr_expect_eq(b[1], 'R');
}

/* str_eq_nocase -------------------------------------------------------- */

struct eqcase {
	const char *a;
	size_t n; /* bytes of a compared */
	const char *b;
	int eq;
};

static const struct eqcase eqcases[] = {
	{ "Content-Type", 12, "content-type", 1 },
	{ "CONTENT-TYPE", 12, "content-type", 1 },
	{ "content-type", 12, "CoNtEnT-TyPe", 1 },
	{ "Content-Typ", 11, "content-type", 0 },
	{ "Content-Types", 13, "content-type", 0 },
	{ "Content-Types", 12, "content-type", 1 }, /* only n bytes */
	{ "", 0, "", 1 }, { "x", 0, "", 1 }, { "", 0, "x", 0 },
	{ "a", 1, "", 0 }, { "@", 1, "`", 0 }, /* 0x40 vs 0x60: not letters */
	{ "[", 1, "{", 0 },                    /* 0x5b vs 0x7b */
	{ "^", 1, "~", 0 }, { "Z", 1, "z", 1 }, { "A", 1, "a", 1 },
	{ "\xc3\x89", 2, "\xc3\xa9", 0 }, /* E-acute: ASCII only */
	{ "\xc9", 1, "\xe9", 0 },         /* Latin-1 E-acute */
	{ "a\0b", 3, "a", 0 },            /* a NUL in a is a byte */
};

Test(str, eq_nocase_table)
{
	for (size_t i = 0; i < sizeof(eqcases) / sizeof(*eqcases); i++) {
		const struct eqcase *c = &eqcases[i];

		cr_expect_eq(
		    !!str_eq_nocase(c->a, c->n, c->b), c->eq, "case %zu", i);
	}
}

Test(str, eq_nocase_reads_only_n_bytes)
{
	/* `a` need not be terminated: give it no NUL at all. */
	char a[3] = { 'K', 'e', 'Y' };

	cr_expect(str_eq_nocase(a, 3, "key"));
	cr_expect(!str_eq_nocase(a, 3, "keys"));
	cr_expect(!str_eq_nocase(a, 3, "ke"));
	cr_expect(str_eq_nocase(a, 2, "KE"));
}

/* str_trim ------------------------------------------------------------- */

struct trimcase {
	const char *in;
	size_t off; /* expected start offset */
	size_t n;   /* expected length */
};

static const struct trimcase trimcases[] = {
	{ "", 0, 0 }, { "x", 0, 1 }, { " ", 1, 0 }, { "   ", 3, 0 },
	{ "\t \t", 3, 0 }, { "  \tx y\t ", 3, 3 }, { "x  ", 0, 1 },
	{ "  x", 2, 1 }, { " a b ", 1, 3 },
	{ "\nx\n", 0, 3 },                        /* only spaces and tabs */
	{ "\r x \r", 0, 5 },                      /* CR is not trimmed */
	{ "\v x", 0, 3 }, { " \xc2\xa0 ", 1, 2 }, /* NBSP is not ASCII space */
};

Test(str, trim_table)
{
	for (size_t i = 0; i < sizeof(trimcases) / sizeof(*trimcases); i++) {
		const struct trimcase *c = &trimcases[i];
		const char *p = c->in;
		size_t n = strlen(c->in);

		str_trim(&p, &n);
		cr_expect_eq((size_t)(p - c->in), c->off, "case %zu: off", i);
		cr_expect_eq(n, c->n, "case %zu: len %zu", i, n);
	}
}

Test(str, trim_respects_length)
{
	/* Spaces past n are not looked at; interior NULs are kept. */
	const char *s = "  ab  cd";
	const char *p = s;
	size_t n = 5;

	str_trim(&p, &n);
	cr_expect_eq(p, s + 2);
	cr_expect_eq(n, 2);

	s = " a\0b ";
	p = s;
	n = 5;
	str_trim(&p, &n);
	cr_expect_eq(p, s + 1);
	cr_expect_eq(n, 3);

	p = s;
	n = 0;
	str_trim(&p, &n);
	cr_expect_eq(p, s);
	cr_expect_eq(n, 0);
}

/* str_utf8_valid ------------------------------------------------------- */

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
	U("", 1),
	U("plain ascii", 1),
	U("a\0b", 1), /* U+0000 is valid */
	U("\x7f", 1),
	/* Valid 2, 3 and 4 byte sequences, first and last of each. */
	U("\xc2\x80", 1),
	U("caf\xc3\xa9", 1),
	U("\xdf\xbf", 1),
	U("\xe0\xa0\x80", 1),
	U("\xe2\x9c\x93", 1),
	U("\xed\x9f\xbf", 1), /* U+D7FF, just below the surrogates */
	U("\xee\x80\x80", 1), /* U+E000, just above */
	U("\xef\xbf\xbf", 1),
	U("\xf0\x90\x80\x80", 1),
	U("\xf0\x9f\x98\x80", 1),
	U("\xf4\x8f\xbf\xbf", 1), /* U+10FFFF */
	U("a\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80z", 1),
	/* Overlongs. */
	U("\xc0\x80", 0),
	U("\xc0\xaf", 0),
	U("\xc1\xbf", 0),
	U("\xe0\x80\x80", 0),
	U("\xe0\x80\xaf", 0),
	U("\xe0\x9f\xbf", 0),
	U("\xf0\x80\x80\x80", 0),
	U("\xf0\x80\x80\xaf", 0),
	U("\xf0\x8f\xbf\xbf", 0),
	/* Surrogates. */
	U("\xed\xa0\x80", 0),
	U("\xed\xaf\xbf", 0),
	U("\xed\xb0\x80", 0),
	U("\xed\xbf\xbf", 0),
	U("\xed\xa0\xbd\xed\xb8\x80", 0), /* CESU-8 pair */
	/* Past U+10FFFF and leads that cannot start anything. */
	U("\xf4\x90\x80\x80", 0),
	U("\xf4\xbf\xbf\xbf", 0),
	U("\xf5\x80\x80\x80", 0),
	U("\xf7\xbf\xbf\xbf", 0),
	U("\xf8\x88\x80\x80\x80", 0),
	U("\xfc\x84\x80\x80\x80\x80", 0),
	U("\xfe", 0),
	U("\xff", 0),
	/* Truncated at the end. */
	U("abc\xc3", 0),
	U("\xe2\x9c", 0),
	U("\xe2", 0),
	U("\xf0\x9f\x98", 0),
	U("\xf0\x9f", 0),
	U("\xf0", 0),
	U("0123456789abcdef\xf0\x9f\x98", 0),
	/* Stray and missing continuation bytes. */
	U("\x80", 0),
	U("\xbf", 0),
	U("a\x80z", 0),
	U("\xc3\xa9\xa9", 0),
	U("\xe2\x9c\x93\x93", 0),
	U("\xf0\x9f\x98\x80\x80", 0),
	U("\xc3\x28", 0),
	U("\xe2\x28\xa1", 0),
	U("\xe2\x82\x28", 0),
	U("\xf0\x28\x8c\xbc", 0),
	U("\xf0\x90\x28\xbc", 0),
	U("\xf0\x90\x8c\x28", 0),
	U("\xc3\xc3\xa9", 0),
};

Test(str, utf8_table)
{
	for (size_t i = 0; i < sizeof(u8) / sizeof(*u8); i++)
		cr_expect_eq(str_utf8_valid(u8[i].s, u8[i].n), u8[i].valid,
		    "case %zu", i);
}

Test(str, utf8_respects_length)
{
	/* Bytes past n are not part of the input. */
	cr_expect(str_utf8_valid("ab\xff", 2));
	cr_expect(!str_utf8_valid("\xc3\xa9", 1));
	cr_expect(str_utf8_valid("\xff", 0));
	cr_expect(!str_utf8_valid("0123456789\xc3\xa9", 11));
	cr_expect(str_utf8_valid("0123456789\xc3\xa9", 12));
}

static const unsigned char badbytes[] = { 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0,
	0xed, 0xf0, 0xf4, 0xf5, 0xf8, 0xfe, 0xff };

/*
 * The ASCII fast path reads 8 bytes at a time: an invalid byte must be
 * seen at every position relative to those blocks, in strings of several
 * lengths (so the tail after the last full block is covered too).
 */
Test(str, utf8_bad_byte_at_every_position)
{
	static const size_t lens[] = { 21, 24, 25, 32, 33, 40 };
	char s[40];

	for (size_t li = 0; li < sizeof(lens) / sizeof(*lens); li++) {
		size_t len = lens[li];

		for (size_t at = 0; at <= 20; at++) {
			for (size_t k = 0; k < sizeof(badbytes); k++) {
				memset(s, 'a', len);
				cr_assert(str_utf8_valid(s, len));
				s[at] = (char)badbytes[k];
				cr_expect(!str_utf8_valid(s, len),
				    "len %zu, 0x%02x at %zu", len, badbytes[k],
				    at);
			}
		}
	}
}

Test(str, utf8_bad_last_byte_for_every_length)
{
	char s[40];

	for (size_t len = 1; len <= sizeof(s); len++) {
		for (size_t k = 0; k < sizeof(badbytes); k++) {
			memset(s, 'a', len);
			s[len - 1] = (char)badbytes[k];
			cr_expect(!str_utf8_valid(s, len), "len %zu, 0x%02x",
			    len, badbytes[k]);
		}
	}
}

Test(str, utf8_good_sequence_at_every_position)
{
	static const char *const seqs[] = { "\xc3\xa9", "\xe2\x9c\x93",
		"\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf" };
	char s[48];

	for (size_t q = 0; q < sizeof(seqs) / sizeof(*seqs); q++) {
		size_t sl = strlen(seqs[q]);

		for (size_t at = 0; at <= 20; at++) {
			/* Valid, then cut short at the end of the string. */
			memset(s, 'a', sizeof(s));
			memcpy(s + at, seqs[q], sl);
			cr_expect(str_utf8_valid(s, sizeof(s)), "q %zu at %zu",
			    q, at);
			cr_expect(str_utf8_valid(s, at + sl));
			for (size_t cut = 1; cut < sl; cut++)
				cr_expect(!str_utf8_valid(s, at + cut),
				    "q %zu at %zu cut %zu", q, at, cut);
			/* An ASCII byte in place of a continuation byte. */
			s[at + sl - 1] = 'a';
			cr_expect(!str_utf8_valid(s, sizeof(s)),
			    "q %zu at %zu broken", q, at);
		}
	}
}

/*
 * Reference validator written from the Unicode Standard, table 3-7
 * (well-formed UTF-8 byte sequences), deliberately unlike str.c.
 */
static int
ref_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t len;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c == 0xe0)
			len = 3, lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			len = 3;
		else if (c == 0xed)
			len = 3, hi = 0x9f;
		else if (c == 0xf0)
			len = 4, lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			len = 4;
		else if (c == 0xf4)
			len = 4, hi = 0x8f;
		else
			return 0;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += len;
	}
	return 1;
}

/*
 * Compares str_utf8_valid with the reference on every 1 and 2 byte
 * input, every 3 byte input with a lead of 0xc0 or more, and 4 byte
 * inputs with a lead of 0xf0 or more and chosen last bytes. Mismatches
 * are counted, not asserted one by one (Criterion reports each assert).
 */
Test(str, utf8_matches_reference_exhaustively)
{
	static const unsigned char ends[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
		0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	unsigned char s[4];
	unsigned long bad = 0, tried = 0, valid = 0;
	unsigned first = 0;

#define CHECK(n)                                                               \
	do {                                                                   \
		int got = str_utf8_valid((const char *)s, (n));                \
		int want = ref_valid(s, (n));                                  \
		tried++;                                                       \
		valid += (unsigned long)want;                                  \
		if (got != want && bad++ == 0)                                 \
			first = (unsigned)s[0] << 24 | (unsigned)s[1] << 16 |  \
			    (unsigned)s[2] << 8 | (unsigned)s[3];              \
	} while (0)

	memset(s, 0, sizeof(s));
	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		CHECK(1);
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			CHECK(2);
		}
	}
	for (unsigned a = 0xc0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned c = 0; c < 256; c++) {
				s[0] = (unsigned char)a;
				s[1] = (unsigned char)b;
				s[2] = (unsigned char)c;
				s[3] = 0;
				CHECK(3);
			}
	for (unsigned a = 0xf0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned c = 0; c < 256; c++)
				for (size_t d = 0; d < sizeof(ends); d++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = (unsigned char)c;
					s[3] = ends[d];
					CHECK(4);
				}
#undef CHECK
	cr_expect_eq(bad, 0, "%lu of %lu inputs disagree, first %08x", bad,
	    tried, first);
	/* Sanity: the reference accepts a good share of them. */
	cr_expect_gt(valid, 100000);
}

/* SPDX-License-Identifier: ISC */
/* qr: size, glyph layout, polarity (round trip), too long, no library. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

#define URL   "https://idp.example/device?user_code=WDJB-MJHT"
#define QUIET 2

/* What qr_print() wrote for `text`; *rc gets its result. Caller frees. */
static char *
render(const char *text, int *rc)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(f);
	*rc = qr_print(f, text);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(out);
	return out;
}

#ifdef HAVE_QRENCODE
#include <qrencode.h>

/* Bit 0 = top module dark, bit 1 = bottom module dark (see qr.h). */
static const struct {
	const char *utf8;
	int dark;
} glyphs[] = {
	{ "\xe2\x96\x88", 0 }, /* full block: both light */
	{ "\xe2\x96\x84", 1 }, /* lower half: top dark */
	{ "\xe2\x96\x80", 2 }, /* upper half: bottom dark */
	{ " ", 3 },            /* space: both dark */
};

/* Dark bits of the glyph at *p, advancing *p past it; fails on others. */
static int
glyph_at(const char **p)
{
	for (size_t i = 0; i < sizeof(glyphs) / sizeof(glyphs[0]); i++) {
		size_t n = strlen(glyphs[i].utf8);

		if (strncmp(*p, glyphs[i].utf8, n) == 0) {
			*p += n;
			return glyphs[i].dark;
		}
	}
	cr_assert_fail("unexpected byte 0x%02x", (unsigned char)**p);
	return -1;
}

/*
 * Decodes the printed text into a side x side matrix (1 = dark), checking
 * the line count and that every line holds exactly `side` glyphs. Rows
 * past the last printed half (odd side) must be light. Caller frees.
 */
static unsigned char *
decode(const char *s, int side)
{
	unsigned char *m = calloc((size_t)side * side, 1);
	int lines = 0;

	cr_assert_not_null(m);
	while (*s != '\0') {
		int y = 2 * lines, x = 0;

		cr_assert_lt(lines, (side + 1) / 2, "too many lines");
		for (; *s != '\n'; x++) {
			int d = glyph_at(&s);

			cr_assert_lt(x, side, "line %d too long", lines);
			m[y * side + x] = d & 1;
			if (y + 1 < side)
				m[(y + 1) * side + x] = d >> 1 & 1;
			else
				cr_assert_eq(d & 2, 0, "dark below the code");
		}
		cr_assert_eq(x, side, "line %d: %d glyphs", lines, x);
		s++;
		lines++;
	}
	cr_assert_eq(lines, (side + 1) / 2);
	return m;
}

Test(qr, width_is_a_small_version)
{
	int w = qr_width(URL);

	cr_expect(w == 25 || w == 29 || w == 33, "width %d", w);
	cr_expect_eq(qr_width("a"), 21); /* version 1 */
}

Test(qr, lines_and_glyphs)
{
	int rc, w = qr_width(URL), side = w + 2 * QUIET;
	char *out = render(URL, &rc);
	unsigned char *m;

	cr_assert_eq(rc, 0);
	cr_assert_eq(out[strlen(out) - 1], '\n');
	m = decode(out, side);
	free(m);
	free(out);
}

/* Same modules as libqrencode's own symbol, with a light quiet zone. */
Test(qr, round_trip_matches_encoder)
{
	int rc;
	char *out = render(URL, &rc);
	QRcode *q = QRcode_encodeString(URL, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int side;
	unsigned char *m;

	cr_assert_eq(rc, 0);
	cr_assert_not_null(q);
	side = q->width + 2 * QUIET;
	m = decode(out, side);
	for (int y = 0; y < side; y++) {
		for (int x = 0; x < side; x++) {
			int qx = x - QUIET, qy = y - QUIET, want = 0;

			if (qx >= 0 && qy >= 0 && qx < q->width &&
			    qy < q->width)
				want = q->data[qy * q->width + qx] & 1;
			cr_assert_eq(
			    m[y * side + x], want, "module (%d, %d)", x, y);
		}
	}
	/* Finder pattern corner is dark: polarity is not inverted. */
	cr_expect_eq(m[QUIET * side + QUIET], 1);
	QRcode_free(q);
	free(m);
	free(out);
}

/* Printed modules equal libqrencode's for `text` (quiet zone light). */
static void
matches_encoder(const char *text)
{
	int rc, side;
	char *out = render(text, &rc);
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	unsigned char *m;

	cr_assert_eq(rc, 0, "%s", text);
	cr_assert_not_null(q);
	cr_assert_eq(qr_width(text), q->width);
	side = q->width + 2 * QUIET;
	m = decode(out, side);
	for (int y = 0; y < side; y++)
		for (int x = 0; x < side; x++) {
			int qx = x - QUIET, qy = y - QUIET, want = 0;

			if (qx >= 0 && qy >= 0 && qx < q->width &&
			    qy < q->width)
				want = q->data[qy * q->width + qx] & 1;
			cr_assert_eq(m[y * side + x], want,
			    "%s: module (%d, %d)", text, x, y);
		}
	QRcode_free(q);
	free(m);
	free(out);
}

Test(qr, typical_urls_are_small_odd_versions)
{
	static const char *urls[] = {
		"https://idp.example/device",
		URL,
		"https://login.example.com/activate?user_code=ABCD-EFGH",
		"https://auth.corp.example.com/realms/engineering/device?"
		"user_code=WDJB-MJHT",
		"http://127.0.0.1:8080/device?user_code=X",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
		int w = qr_width(urls[i]);

		cr_expect(w >= 21 && w <= 41 && w % 2 == 1 && (w - 17) % 4 == 0,
		    "%s: width %d", urls[i], w);
		matches_encoder(urls[i]);
	}
}

Test(qr, odd_heights_and_larger_versions)
{
	char text[401];

	/* Versions 1 to about 12: every odd side (w + 4 is always odd, so
	 * the last line carries one module row over a light half). */
	for (size_t n = 1; n <= 400; n += 57) {
		memset(text, 'A' + (int)(n % 26), n);
		text[n] = '\0';
		matches_encoder(text);
	}
	/* Non-ASCII bytes are encoded as they are (8-bit mode). */
	matches_encoder("https://idp.example/d?n=\xc3\xa9\xe2\x82\xac");
}

Test(qr, width_grows_with_text)
{
	int prev = 0;
	char text[1001];

	for (size_t n = 1; n <= 1000; n += 111) {
		int w;

		memset(text, 'x', n);
		text[n] = '\0';
		w = qr_width(text);
		cr_assert_geq(w, prev, "%zu bytes: %d < %d", n, w, prev);
		cr_assert_eq((w - 17) % 4, 0, "width %d", w);
		prev = w;
	}
}

Test(qr, too_long_prints_nothing)
{
	char *text = malloc(5001);
	char *out;
	int rc;

	cr_assert_not_null(text);
	memset(text, 'x', 5000);
	text[5000] = '\0';
	cr_expect_eq(qr_width(text), -1);
	out = render(text, &rc);
	cr_expect_eq(rc, -1);
	cr_expect_str_eq(out, "");
	free(out);
	free(text);
}

#else

Test(qr, without_library_prints_nothing)
{
	int rc;
	char *out = render(URL, &rc);

	cr_expect_eq(rc, -1);
	cr_expect_str_eq(out, "");
	cr_expect_eq(qr_width(URL), -1);
	free(out);
}

#endif

/* SPDX-License-Identifier: ISC */
#include "qr.h"

#ifdef HAVE_QRENCODE
#include <errno.h>

#include <qrencode.h>

/* Modules of white around the symbol. */
#define QUIET 2

static const char *const glyph[4] = {
	"\xe2\x96\x88", /* light above, light below: full block */
	"\xe2\x96\x84", /* dark above, light below: lower half */
	"\xe2\x96\x80", /* light above, dark below: upper half */
	" ",            /* dark, dark */
};

static QRcode *
encode(const char *text)
{
	int saved = errno;
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);

	errno = saved;
	return q;
}

/* 1 if module (x, y) of the padded square is dark. */
static int
dark(const QRcode *q, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

int
qr_print(FILE *f, const char *text)
{
	QRcode *q = encode(text);
	int side;

	if (q == NULL)
		return -1;
	side = q->width + 2 * QUIET;
	for (int y = 0; y < side; y += 2) {
		for (int x = 0; x < side; x++)
			fputs(glyph[dark(q, x, y) | dark(q, x, y + 1) << 1], f);
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}

int
qr_width(const char *text)
{
	QRcode *q = encode(text);
	int w;

	if (q == NULL)
		return -1;
	w = q->width;
	QRcode_free(q);
	return w;
}

#else

int
qr_print(FILE *f, const char *text)
{
	(void)f;
	(void)text;
	return -1;
}

int
qr_width(const char *text)
{
	(void)text;
	return -1;
}

#endif

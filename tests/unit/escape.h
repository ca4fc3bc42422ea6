/* SPDX-License-Identifier: ISC */
/*
 * escape.h: shared by the codec unit tests. Appends bytes to a buf with
 * NUL, CR and LF written as \0, \r and \n, so what a parser delivered can
 * be compared as one readable string.
 */
#ifndef TEST_ESCAPE_H
#define TEST_ESCAPE_H

#include <criterion/criterion.h>

#include "buf.h"

static inline void
put_escaped(struct buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (p[i] == '\0')
			rc = buf_puts(b, "\\0");
		else if (p[i] == '\r')
			rc = buf_puts(b, "\\r");
		else if (p[i] == '\n')
			rc = buf_puts(b, "\\n");
		else
			rc = buf_append(b, p + i, 1);
		cr_assert_eq(rc, 0);
	}
}

#endif

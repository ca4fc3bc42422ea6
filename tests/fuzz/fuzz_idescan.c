/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for IDE config files (idescan): any bytes parse or
 * fail cleanly; every entry's lines are within the text and its argument
 * lines never go backwards; the JSONC cleaner keeps the length and the
 * newlines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idescan.h"

static void
check_entries(const struct idescan *s, size_t lines)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct idescan_entry *e = &s->e[i];

		if (e->name == NULL || e->line < 1 || e->line > lines ||
		    e->cmd_line < e->line || e->nargs > IDESCAN_MAX_ARGS)
			abort();
		for (size_t k = 0; k < e->nargs; k++)
			if (e->args[k] == NULL || e->arg_line[k] > lines ||
			    (k && e->arg_line[k] < e->arg_line[k - 1]))
				abort();
		(void)idescan_is_bridge(e);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idescan s;
	char err[256], *t = malloc(size + 1);
	size_t lines = idescan_line((const char *)data, size, size), el = 0;

	memcpy(t, data, size);
	t[size] = '\0';
	if (idescan_clean(t, size, &el, err, sizeof(err)) == 0)
		for (size_t i = 0; i < size; i++)
			if ((data[i] == '\n') != (t[i] == '\n'))
				abort();
	free(t);
	if (idescan_parse((const char *)data, size, &s, err, sizeof(err)) == 0)
		check_entries(&s, lines);
	idescan_clear(&s);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the configuration: one layer of JSON text applied
 * over the defaults, then printed both ways. Errors must be one line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *text = malloc(size + 1);
	struct cfg *c = cfg_new();
	FILE *null = fopen("/dev/null", "w");

	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_apply_text(c, text, "fuzz.json", err, sizeof(err)) == -1) {
		if (strchr(err, '\n') != NULL)
			abort(); /* errors are one line */
	} else if (null) {
		(void)cfg_print(c, null, 0);
		(void)cfg_print(c, null, 1);
	}
	if (null)
		fclose(null);
	cfg_free(&c);
	free(text);
	return 0;
}

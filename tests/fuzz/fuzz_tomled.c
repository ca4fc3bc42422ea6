/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for tomled (a project's .codex/config.toml may come
 * from a cloned repository). Whenever the text is valid, setting the
 * entry must give valid text, setting it again must change nothing, and
 * removing it must give valid text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tomled.h"

static const char BODY[] = "command = \"/x\"\nargs = [\"run\"]\n";

static void
no_op(const char *n, const char *v, size_t vl, void *arg)
{
	(void)n;
	(void)v;
	(void)vl;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct tomled_err e;
	char *a = NULL, *b = NULL, *r = NULL;
	size_t an, bn, rn;

	if (tomled_check(t, size, &e) == -1) {
		if (e.line < 1 || e.col < 1)
			abort();
		return 0;
	}
	(void)tomled_each(t, size, "mcp_servers", no_op, NULL, &e);
	switch (tomled_set(t, size, "mcp_servers", "n", BODY, &a, &an, &e)) {
	case -1:
		return 0; /* written as dotted keys: refused */
	case 0:
		a = malloc(size + 1);
		memcpy(a, t, size);
		an = size;
		break;
	}
	if (tomled_check(a, an, &e) == -1 ||
	    tomled_set(a, an, "mcp_servers", "n", BODY, &b, &bn, &e) != 0)
		abort();
	if (tomled_remove(a, an, "mcp_servers", "n", &r, &rn, &e) != 1 ||
	    tomled_check(r, rn, &e) == -1)
		abort();
	free(a);
	free(b);
	free(r);
	return 0;
}

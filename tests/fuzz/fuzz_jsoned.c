/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for jsoned: a config file from a cloned repository
 * (.vscode/mcp.json) is untrusted. The first byte picks the options.
 * Whenever the text is valid, setting an entry must give valid text that
 * holds it, setting it again must change nothing, and removing it must
 * give valid text without it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsoned.h"

static const char VALUE[] = "{\n  \"command\": \"/x\",\n  \"args\": [\n"
                            "    \"run\"\n  ]\n}";

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
	struct jsoned_opts o;
	struct jsoned_err e;
	char *a = NULL, *b = NULL, *r = NULL, *s;
	size_t an, bn, rn, vs, ve;

	if (size == 0)
		return 0;
	o.comments = data[0] & 1;
	o.trailing_commas = (data[0] >> 1) & 1;
	data++;
	size--;
	if (jsoned_check((const char *)data, size, &o, &e) == -1) {
		if (e.line < 1 || e.col < 1)
			abort();
		return 0;
	}
	(void)jsoned_each((const char *)data, size, &o, "k", no_op, NULL, &e);
	s = jsoned_strip((const char *)data, size);
	free(s);
	if (jsoned_set((const char *)data, size, &o, "k", "n", VALUE, &a, &an,
	        &e) == -1)
		return 0; /* "k" is not an object */
	if (jsoned_check(a, an, &o, &e) == -1 ||
	    jsoned_get(a, an, &o, "k", "n", &vs, &ve, &e) != 1)
		abort();
	if (jsoned_set(a, an, &o, "k", "n", VALUE, &b, &bn, &e) == -1 ||
	    bn != an || memcmp(a, b, an) != 0)
		abort();
	if (jsoned_remove(a, an, &o, "k", "n", &r, &rn, &e) != 1 ||
	    jsoned_check(r, rn, &o, &e) == -1 ||
	    jsoned_get(r, rn, &o, "k", "n", &vs, &ve, &e) != 0)
		abort();
	free(a);
	free(b);
	free(r);
	return 0;
}

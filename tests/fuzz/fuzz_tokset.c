/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the stored token set: a blob that parses must
 * dump, parse again and dump to the same bytes, and the expiry
 * arithmetic of every audience in it must stay sane (UBSan watches for
 * overflow).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "jwipe.h"
#include "secret.h"
#include "tokset.h"

/* Queries every audience named in the blob (JSON read by the harness). */
static void
query(const struct tokset *t, const char *p, size_t n)
{
	json_t *root = json_loadb(p, n, 0, NULL), *e;
	size_t i;

	json_array_foreach(json_object_get(root, "access"), i, e)
	{
		const char *r =
		    json_string_value(json_object_get(e, "resource"));
		int64_t exp = tokset_expires_at(t, r);

		if (tokset_refresh_at(t, r) > exp)
			abort();
		(void)tokset_access(t, r, exp - (exp > INT64_MIN));
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct secret *blob, *d1, *d2;
	struct tokset *t, *t2;
	char err[256];

	if (!init) {
		jwipe_install();
		init = 1;
	}
	blob = secret_new(data, size);
	t = tokset_parse(blob, err, sizeof(err));
	secret_free(&blob);
	if (t == NULL)
		return 0;
	query(t, (const char *)data, size);
	d1 = tokset_dump(t);
	t2 = d1 ? tokset_parse(d1, err, sizeof(err)) : NULL;
	d2 = t2 ? tokset_dump(t2) : NULL;
	if (d1 == NULL || t2 == NULL || d2 == NULL || !secret_eq(d1, d2))
		abort(); /* a stored set must round-trip byte for byte */
	secret_free(&d1);
	secret_free(&d2);
	tokset_free(&t);
	tokset_free(&t2);
	return 0;
}

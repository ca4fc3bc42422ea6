/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the usage file parser (what `status` reads from
 * $XDG_RUNTIME_DIR): a document that parses must encode, parse again and
 * encode to the same bytes, its quantiles must stay within the bounds of
 * the data, and the status summary of it must succeed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usage_meta m, m2;
	struct usage *u, *v;
	char err[256], *a, *b, *arr, *sum;
	int64_t h[USAGE_NBUCKETS] = { 0 };

	u = usage_parse((const char *)data, size, &m, err, sizeof(err));
	if (u == NULL)
		return 0;
	a = usage_json(u, m.pid, m.started, m.updated);
	v = usage_parse(a, strlen(a), &m2, err, sizeof(err));
	if (v == NULL)
		abort(); /* what we write we must read */
	b = usage_json(v, m2.pid, m2.started, m2.updated);
	if (strcmp(a, b) != 0 || m.pid != m2.pid ||
	    usage_calls(u) != usage_calls(v))
		abort();
	arr = malloc(strlen(a) + 3);
	arr[0] = '[';
	memcpy(arr + 1, a, strlen(a));
	memcpy(arr + 1 + strlen(a), "]", 2);
	if ((sum = usage_summary(arr, m.updated, 5)) == NULL)
		abort();
	/* quantiles of arbitrary counts stay in [0, max] */
	for (size_t i = 0; i < USAGE_NBUCKETS && i * 2 < size; i++)
		h[i] = data[i * 2];
	for (int k = 0; k < 2; k++) {
		int64_t q = usage_quantile(h, k ? 0.95 : 0.5, data[0] * 300);

		if (q < 0 || q > data[0] * 300)
			abort();
	}
	free(sum);
	free(arr);
	free(a);
	free(b);
	usage_free(&u);
	usage_free(&v);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for endpoint: an `endpoint` event's data (the input)
 * resolved against a few SSE URLs. An accepted endpoint must be a URL of
 * the same origin, with no space or control character, that fits `out`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

static const char *const bases[] = {
	"http://127.0.0.1:3000/sse",
	"https://mcp.example.com/a/b/sse?x=1",
	"https://[::1]:8443",
};

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char out[512], err[256];

		if (endpoint_resolve(bases[i], (const char *)d, n, out,
		        sizeof(out), err, sizeof(err)) == -1) {
			if (memchr(err, '\0', sizeof(err)) == NULL)
				abort();
			continue;
		}
		if (!endpoint_same_origin(bases[i], out))
			abort();
		for (const char *c = out; *c; c++)
			if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
				abort();
	}
	return 0;
}

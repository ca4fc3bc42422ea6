/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the era translation: any JSON text is used as a
 * tool (header annotations), a request (_meta in and out, headers), a
 * DiscoverResult and an InitializeResult (both directions) and a result
 * to clean for either era. Nothing may crash, leak or loop; a request
 * whose _meta was added and taken again must keep its other members.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "era.h"

static void
as_tool_and_request(json_t *j)
{
	json_t *paths = era_tool_headers(j);
	json_t *h = era_request_headers(j, paths);
	json_t *meta = era_meta_from_init(json_object_get(j, "params"));
	json_t *copy = json_deep_copy(j), *took;

	if (era_put_meta(copy, meta, "debug") == 0) {
		took = era_take_meta(copy);
		if (took == NULL ||
		    json_object_get(took, ERA_META_LOGLEVEL) == NULL)
			abort();
		json_decref(took);
	}
	json_decref(copy);
	json_decref(meta);
	json_decref(h);
	json_decref(paths);
}

static void
as_results(json_t *j)
{
	json_t *ir = era_init_result(j, "2025-06-18");
	json_t *dr = era_discover_result(ir), *c;

	if (ir && !era_supports_modern(dr))
		abort(); /* a DiscoverResult made here names 2026-07-28 */
	c = json_deep_copy(j);
	era_legacy_result(c, "tools/list", NULL);
	era_legacy_result(c, "tools/call", NULL);
	era_modern_result(c, "resources/read");
	(void)era_modern_error(j);
	json_decref(c);
	json_decref(dr);
	json_decref(ir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	char hv[64];

	if (j == NULL)
		return 0;
	as_tool_and_request(j);
	as_results(j);
	(void)era_header_value(json_object_get(j, "v"), hv, sizeof(hv));
	json_decref(j);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * era: translation between the legacy MCP revisions (2024-11-05 to
 * 2025-11-25, with `initialize`) and the modern one (2026-07-28: no
 * handshake, per-request `_meta`, `server/discover`, Multi Round-Trip
 * Requests, `Mcp-*` HTTP headers). Pure functions on jansson values; no
 * I/O, no state. Unit-tested and fuzzed (tests/fuzz/fuzz_era.c).
 */
#ifndef ERA_H
#define ERA_H

#include <stddef.h>

#include <jansson.h>

#define ERA_MODERN        "2026-07-28"
#define ERA_LEGACY_LATEST "2025-11-25"

/* The `_meta` keys of 2026-07-28. */
#define ERA_META_VERSION  "io.modelcontextprotocol/protocolVersion"
#define ERA_META_CAPS     "io.modelcontextprotocol/clientCapabilities"
#define ERA_META_CLIENT   "io.modelcontextprotocol/clientInfo"
#define ERA_META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define ERA_META_SERVER   "io.modelcontextprotocol/serverInfo"
#define ERA_META_SUBID    "io.modelcontextprotocol/subscriptionId"

/* Modern error codes. */
#define ERA_HEADER_MISMATCH     (-32020)
#define ERA_MISSING_CAPABILITY  (-32021)
#define ERA_UNSUPPORTED_VERSION (-32022)

/* Longest header value the bridge sends (after encoding). */
#define ERA_MAX_HEADER 8192
/* Most x-mcp-header parameters one tool may declare. */
#define ERA_MAX_TOOL_HEADERS 32

/* 1 if `v` (borrowed) is a legacy revision the bridge speaks. */
int era_legacy_ok(const char *v);

/*
 * The modern `_meta` for requests on behalf of an IDE whose legacy
 * initialize params are `params` (borrowed): protocolVersion,
 * clientCapabilities (legacy roots.listChanged and tasks dropped),
 * clientInfo. New reference; NULL if params is not an object.
 */
json_t *era_meta_from_init(const json_t *params);

/*
 * The inverse: legacy initialize params built from a modern `_meta`
 * (borrowed) for `version` (a legacy revision). New reference.
 */
json_t *era_init_from_meta(const json_t *meta, const char *version);

/*
 * Adds every member of `meta` (borrowed) to msg.params._meta (created
 * when absent; existing members such as progressToken kept) and, when
 * `level` is not NULL, the log level. 0, or -1 if msg is not a request
 * object or params is not an object.
 */
int era_put_meta(json_t *msg, const json_t *meta, const char *level);

/*
 * Removes the io.modelcontextprotocol/ members of params._meta (and
 * _meta itself when it ends up empty). Returns them as a new object
 * (empty when none); NULL if msg has no object params.
 */
json_t *era_take_meta(json_t *msg);

/* A server/discover request with `id` and `meta` (borrowed). New. */
json_t *era_discover_request(json_int_t id, const json_t *meta);

/*
 * InitializeResult for a legacy IDE that asked for `ide_version` from a
 * DiscoverResult `dr` (borrowed): the IDE's version when the bridge
 * speaks it (else the latest legacy one), the capabilities (logging
 * always: the bridge carries the level; extensions dropped), serverInfo
 * from `_meta`, instructions. New; NULL if dr is not an object.
 */
json_t *era_init_result(const json_t *dr, const char *ide_version);

/*
 * DiscoverResult for a modern IDE from a legacy InitializeResult `ir`
 * (borrowed). New; NULL if ir is not an object.
 */
json_t *era_discover_result(const json_t *ir);

/* 1 if `dr` lists ERA_MODERN in supportedVersions. */
int era_supports_modern(const json_t *dr);

/*
 * 1 if the JSON-RPC error object `err` (borrowed) is one only a modern
 * server sends (the spec's -32020..-32099), so the server is modern.
 */
int era_modern_error(const json_t *err);

/*
 * Encodes a header value as 2026-07-28 says: strings as they are unless
 * they hold non-ASCII, control characters, leading or trailing white
 * space or look like the sentinel, then "=?base64?...?="; integers in
 * decimal; booleans true/false. 0 and `out` filled, 1 when no header is
 * sent (null, other types), -1 when it does not fit.
 */
int era_header_value(const json_t *v, char *out, size_t outsz);

/*
 * The x-mcp-header parameters of `tool` (borrowed) as a new array of
 * [header, prop, prop...] paths; an empty array when it has none. NULL
 * when an annotation is invalid (the tool must not be listed): not an
 * RFC 9110 token, not case-insensitively unique, not on a string,
 * integer or boolean property, or not reachable through `properties`
 * alone.
 */
json_t *era_tool_headers(const json_t *tool);

/*
 * The headers for request `msg` (borrowed): "Mcp-Method: m", and
 * "Mcp-Name: n" for tools/call, prompts/get and resources/read, plus
 * "Mcp-Param-X: v" for each path in `paths` (borrowed, from
 * era_tool_headers; NULL = none) present in params.arguments. New array
 * of strings; NULL if a value does not fit in a header.
 */
json_t *era_request_headers(const json_t *msg, const json_t *paths);

/*
 * Cleans a modern result for a legacy IDE, in place: resultType, ttlMs
 * and cacheScope removed; for tools/list (`method`) tools with invalid
 * x-mcp-header annotations dropped (their names added to `dropped`, a
 * borrowed array, when not NULL) and a non-object outputSchema removed;
 * for tools/call a non-object structuredContent removed. Returns the
 * number of tools dropped.
 */
size_t era_legacy_result(json_t *result, const char *method, json_t *dropped);

/*
 * Makes a legacy result modern, in place: resultType "complete"; for
 * lists, resources/read and discover ttlMs 0 and cacheScope "private"
 * when absent.
 */
void era_modern_result(json_t *result, const char *method);

/* 1 if `method` is one of the cacheable list methods. */
int era_is_list(const char *method);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * rpc: a fast peek at one JSON-RPC 2.0 message with jsmn (pure).
 *
 * The relay path must not parse and re-serialise every message it only
 * forwards. rpc_parse() tokenises the text once (no allocation per
 * message once the token array has grown), validates that it is JSON and
 * classifies it; the accessors return byte spans into the caller's text,
 * so the router can rewrite exactly the bytes that change (an id) and
 * pass the rest through. This is the only module that includes jsmn.
 */
#ifndef RPC_H
#define RPC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* JSON-RPC and MCP error codes the bridge emits. */
#define RPC_PARSE_ERROR      (-32700)
#define RPC_INVALID_REQUEST  (-32600)
#define RPC_METHOD_NOT_FOUND (-32601)
#define RPC_INVALID_PARAMS   (-32602)
#define RPC_INTERNAL_ERROR   (-32603)
#define RPC_UPSTREAM_ERROR   (-32000) /* hosted server unreachable/failed */
#define RPC_TIMEOUT_ERROR    (-32001) /* request timed out (as the TS SDK) */

enum rpc_kind {
	RPC_INVALID = 0,  /* not a JSON-RPC message (see rpc_parse) */
	RPC_REQUEST,      /* method + id */
	RPC_NOTIFICATION, /* method, no id */
	RPC_RESPONSE,     /* result or error, with id */
	RPC_BATCH,        /* a non-empty JSON array (2025-03-26) */
};

enum rpc_type {
	RPC_T_NONE = 0, /* absent */
	RPC_T_STRING,   /* span includes the quotes */
	RPC_T_INT,      /* integer number */
	RPC_T_NUMBER,   /* other number */
	RPC_T_NULL,
	RPC_T_BOOL,
	RPC_T_OBJECT,
	RPC_T_ARRAY,
};

/* A value inside the parsed text: bytes [off, off+len). */
struct rpc_span {
	size_t off;
	size_t len;
	enum rpc_type type;
};

struct rpc;

/* New parser (reusable for many messages). */
struct rpc *rpc_new(void);

/* Frees; sets *rp to NULL; NULL is fine. */
void rpc_free(struct rpc **rp);

/*
 * Parses [js, js+len) (borrowed: must stay valid while the accessors are
 * used). Returns 0 for a JSON-RPC message or batch, RPC_PARSE_ERROR for
 * text that is not JSON (or not UTF-8), RPC_INVALID_REQUEST for JSON that
 * is not a JSON-RPC 2.0 message. On RPC_INVALID_REQUEST rpc_id() still
 * gives the id when a valid one could be read.
 */
int rpc_parse(struct rpc *r, const char *js, size_t len);

enum rpc_kind rpc_kind(const struct rpc *r);

/* Static one-line reason for the last failed rpc_parse(). */
const char *rpc_reason(const struct rpc *r);

/* The id (RPC_T_STRING, RPC_T_INT, RPC_T_NULL) or type RPC_T_NONE. */
struct rpc_span rpc_id(const struct rpc *r);

/* 1 if the message's method equals `m` exactly. */
int rpc_method_is(const struct rpc *r, const char *m);

/* Copies the method into `buf`; returns buf, or NULL if none/too long. */
const char *rpc_method(const struct rpc *r, char *buf, size_t bufsz);

/* For a response: 1 if it carries "error", 0 if "result". */
int rpc_is_error(const struct rpc *r);

/*
 * Looks up a member by a path of object keys, NULL-terminated:
 * rpc_get(r, "params", "_meta", "progressToken", NULL).
 * Returns a span with type RPC_T_NONE if any step is missing.
 */
struct rpc_span rpc_get(const struct rpc *r, ...) __attribute__((sentinel));

/* Batch: number of elements and the span of element i. */
size_t rpc_batch_len(const struct rpc *r);
struct rpc_span rpc_batch_item(const struct rpc *r, size_t i);

/* Reads an RPC_T_INT span as int64; returns 0 or -1 (range). */
int rpc_span_int(const char *js, struct rpc_span sp, int64_t *out);

/*
 * Copies a string span's contents (no quotes) into `buf` when it has no
 * escapes and fits; returns buf or NULL.
 */
const char *
rpc_span_str(const char *js, struct rpc_span sp, char *buf, size_t bufsz);

/*
 * Writes [js, js+len) into `out` with the bytes of `sp` replaced by
 * [rep, rep+rlen). Returns 0 or -1 (out's cap).
 */
int rpc_splice(const char *js, size_t len, struct rpc_span sp, const char *rep,
    size_t rlen, struct buf *out);

/* Appends `s` as a JSON string literal (quoted, escaped). */
int rpc_put_string(struct buf *out, const char *s);

/*
 * Builds {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M}} where
 * ID is the raw id text (NULL means null). Returns 0 or -1.
 */
int rpc_error_reply(struct buf *out, const char *id, size_t idlen, int code,
    const char *message);

#endif

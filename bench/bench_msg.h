/* SPDX-License-Identifier: ISC */
/*
 * bench_msg: the JSON-RPC texts the benchmark sends (the same bytes on
 * stdio and over HTTP) and the check of an answer.
 */
#ifndef BENCH_MSG_H
#define BENCH_MSG_H

#include <stddef.h>

#define MSG_PROTOCOL "2025-06-18"

/* notifications/initialized, no newline. */
extern const char msg_initialized[];

/*
 * Formats an initialize request (protocolVersion MSG_PROTOCOL) or a
 * tools/call of "echo" with numeric id `id` into buf, without newline.
 * Returns the length, or -1 if buf is too small.
 */
int msg_initialize(char *buf, size_t sz, long id);
int msg_call(char *buf, size_t sz, long id);

enum msg_kind {
	MSG_OTHER = 0, /* not an answer with a numeric id */
	MSG_RESULT,
	MSG_ERROR,
};

/* Classifies one JSON text; *id gets the numeric id of an answer. */
enum msg_kind msg_answer(const char *p, size_t n, long *id);

/*
 * Finds the JSON of the first SSE "data:" line in [p, p+n); sets *js
 * and *jn. Returns 0, or -1 if there is none.
 */
int msg_sse_data(const char *p, size_t n, const char **js, size_t *jn);

#endif /* BENCH_MSG_H */

/* SPDX-License-Identifier: ISC */
/*
 * bounds: every size cap and timeout in one place.
 *
 * Anything fed from outside (the IDE, a hosted server) is capped by one of
 * these before it is buffered, so hostile or broken peers cannot push the
 * bridge into unbounded memory. Times are in milliseconds.
 */
#ifndef BOUNDS_H
#define BOUNDS_H

/* Longest stdin line (one JSON-RPC message); base64 images are large. */
#define BOUNDS_MAX_LINE (16u * 1024 * 1024)

/* Longest SSE event (all its data lines joined). */
#define BOUNDS_MAX_SSE_EVENT (16u * 1024 * 1024)

/* Longest application/json response body from a hosted server. */
#define BOUNDS_MAX_HTTP_BODY (16u * 1024 * 1024)

/* Bytes queued for stdout before upstream reads are paused. */
#define BOUNDS_STDOUT_HIGH (32u * 1024 * 1024)

/* Bytes queued for stdout below which upstream reads resume. */
#define BOUNDS_STDOUT_LOW (8u * 1024 * 1024)

/* An IDE that takes nothing from a full stdout queue this long is gone. */
#define BOUNDS_STDOUT_STALL_MS (120 * 1000)

/*
 * Deepest JSON nesting accepted in a message. jsmn closes a container by
 * walking up the parent links, so its cost grows with length x depth:
 * 100,000 nested arrays took seconds before this cap.
 */
#define BOUNDS_MAX_DEPTH 128

/* JSON tokens in one message that the peek parser will accept. */
#define BOUNDS_MAX_TOKENS (4u * 1024 * 1024)

/* Default connect timeout to a hosted server (--connect-timeout). */
#define BOUNDS_CONNECT_TIMEOUT_MS (10 * 1000)

/*
 * Default idle timeout of one request (--request-timeout): 0 = none, as
 * long as the stream is open. Progress and any other message on the
 * request's stream restart it.
 */
#define BOUNDS_REQUEST_IDLE_MS 0

/* Default hard limit on one request, progress or not (--max-request-time). */
#define BOUNDS_REQUEST_MAX_MS (60 * 60 * 1000)

/* Requests the IDE may have in flight at once. */
#define BOUNDS_MAX_INFLIGHT 4096

/* How long the shutdown DELETE may take before exiting anyway. */
#define BOUNDS_SHUTDOWN_MS 700

/* SSE reconnection delay when the server gave no `retry`. */
#define BOUNDS_SSE_RETRY_MS 1000

/* Cap on a server-supplied `retry` (a hostile server could say a day). */
#define BOUNDS_SSE_RETRY_MAX_MS (30 * 1000)

/* Resumption attempts of one dropped stream before giving up. */
#define BOUNDS_SSE_RESUME_TRIES 5

/* Backoff limits of the standalone GET stream after failures. */
#define BOUNDS_GET_BACKOFF_MIN_MS 500
#define BOUNDS_GET_BACKOFF_MAX_MS (60 * 1000)

/* Headers given with --header/--header-file. */
#define BOUNDS_MAX_HEADERS 64

/* Longest header line accepted from the command line or a header file. */
#define BOUNDS_MAX_HEADER_LINE 8192

/* Longest response header value kept (session ids, content types). */
#define BOUNDS_MAX_RESP_HEADER 1024

#endif

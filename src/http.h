/* SPDX-License-Identifier: ISC */
/*
 * http: libcurl's multi socket API joined to the loop.
 *
 * Requests are asynchronous objects with three callbacks: the final
 * response's status line and headers (on_head), each body chunk
 * (on_body) and the end of the transfer (on_done). The module knows
 * nothing of MCP or SSE. It is the only includer of <curl/curl.h>.
 *
 * Policy applied to every request: TLS always verified (an extra CA
 * bundle is added to the system store, not put in its place), redirects
 * never followed (a bearer token must not travel to another origin),
 * http and https only, proxies from the environment (https_proxy,
 * http_proxy, no_proxy, as libcurl reads them), HTTP/2 over TLS when the
 * server offers it, connections kept alive and reused.
 *
 * Lifetime: a request is freed by this module right after its on_done
 * returns, or later after http_req_cancel(). The owner must not touch it
 * after either. Callbacks never run after http_req_cancel().
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "hdr.h"
#include "loop.h"

struct http_opts {
	const char *cacert;      /* extra PEM CA bundle, or NULL; borrowed */
	long connect_timeout_ms; /* 0 = libcurl's default */
};

struct http;
struct http_req;

struct http_req_cbs {
	/* Final status and headers are in; called once, before any body. */
	void (*on_head)(void *arg, struct http_req *req, long status);
	/* A body chunk. Return 0, or -1 to abort (no on_done follows). */
	int (*on_body)(void *arg, const char *p, size_t n);
	/*
	 * The transfer ended: `err` is NULL when the HTTP exchange completed
	 * (whatever the status), else a one-line reason (connection refused,
	 * TLS failure, reset mid-body...). The request is freed afterwards.
	 */
	void (*on_done)(void *arg, const char *err);
};

/* New client on `l`; `o` is copied (strings borrowed). NULL on failure. */
struct http *http_new(struct loop *l, const struct http_opts *o);

/* Cancels every request and frees; sets *hp to NULL; NULL is fine. */
void http_free(struct http **hp);

/* Pauses (1) or resumes (0) receiving on every transfer (backpressure). */
void http_pause(struct http *h, int paused);

/* Number of requests started and not yet done or cancelled. */
size_t http_active(const struct http *h);

/*
 * New request ("GET", "POST" or "DELETE") to `url` (copied). `cbs` is
 * borrowed and must outlive the request; `arg` is passed to callbacks.
 */
struct http_req *http_req_new(struct http *h, const char *method,
    const char *url, const struct http_req_cbs *cbs, void *arg);

/* Adds a header line "Name: value" (copied). */
void http_req_header(struct http_req *r, const char *line);

/* Adds every header of `l` (borrowed: must outlive the request). */
void http_req_headers(struct http_req *r, const struct hdrlist *l);

/* Sets the request body (borrowed: must outlive the request). */
void http_req_body(struct http_req *r, const char *body, size_t len);

/* Starts the transfer (at once, or after the current curl callback). */
void http_req_start(struct http_req *r);

/* Cancels: no further callbacks; freed by the module. NULL is fine. */
void http_req_cancel(struct http_req *r);

/*
 * Value of a response header of the final response (case-insensitive
 * name), borrowed until the request is freed; NULL if absent. Only
 * valid from on_head on.
 */
const char *http_req_resp_header(const struct http_req *r, const char *name);

#endif

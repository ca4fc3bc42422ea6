/* SPDX-License-Identifier: ISC */
/*
 * http: the curl multi socket wiring follows curl's ephiperfifo.c
 * example: CURLMOPT_SOCKETFUNCTION keeps one loop watch per socket,
 * CURLMOPT_TIMERFUNCTION arms one loop timer, and each event calls
 * curl_multi_socket_action() and then reaps finished transfers.
 * libcurl forbids multi calls from inside its own callbacks, so adding
 * and removing transfers while curl is running is deferred until it
 * returns.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bounds.h"
#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

#define HTTP_MAX_RESP_HEADERS 32
#define HTTP_MAX_CONNECTS     64 /* idle connections kept for reuse */
#define HTTP_MAX_REQ_HEADERS  (BOUNDS_MAX_HEADERS + 8)

struct resp_header {
	char *name;  /* lower case */
	char *value; /* trimmed */
};

struct http_req {
	struct http *http;                            /* owner */
	struct http_req *prev, *next;                 /* in http->reqs */
	CURL *easy;                                   /* the transfer */
	const struct http_req_cbs *cbs;               /* owner's callbacks */
	void *arg;                                    /* passed to them */
	struct curl_slist hdrs[HTTP_MAX_REQ_HEADERS]; /* our own nodes */
	char *owned[HTTP_MAX_REQ_HEADERS];            /* copied header lines */
	int nhdrs, nowned; /* nodes used, copied lines held */
	struct resp_header resp[HTTP_MAX_RESP_HEADERS]; /* final response */
	int nresp;                                      /* headers in resp */
	int started;                  /* in the multi handle */
	int cancelled;                /* no more callbacks */
	int head_done;                /* on_head was called */
	int paused;                   /* receiving paused */
	char errbuf[CURL_ERROR_SIZE]; /* libcurl's reason for a failure */
};

struct http {
	struct loop *loop;        /* the process loop */
	CURLM *multi;             /* all transfers */
	struct loop_timer *timer; /* curl's timeout */
	struct http_req *reqs;    /* started or queued, not yet freed */
	struct http_req **queue;  /* to add once curl returns */
	size_t nqueue, capqueue;  /* queued, allocated */
	int in_curl;              /* inside curl_multi_socket_action */
	int paused;               /* backpressure from the IDE side */
	int dirty;                /* cancelled requests await removal */
	int unpause;              /* resume paused transfers before poll */
	char *cacert;             /* extra CA bundle path */
	long connect_timeout_ms;  /* 0 = libcurl default */
};

static void reap(struct http *h);
static void flush_deferred(struct http *h);
static void unpause_all(struct http *h);

static void
req_free(struct http_req *r)
{
	struct http *h = r->http;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (r->started)
		curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	for (int i = 0; i < r->nowned; i++) { /* may hold a bearer token */
		secret_wipe(r->owned[i], strlen(r->owned[i]));
		free(r->owned[i]);
	}
	for (int i = 0; i < r->nresp; i++) {
		free(r->resp[i].name);
		free(r->resp[i].value);
	}
	free(r);
}

/*
 * Lets curl act on `fd` (or on its timeout), then reaps. libcurl running
 * out of memory leaves its transfers without a socket or timer to wake
 * them (the IDE would wait forever): fatal, like our own (xmem.h).
 */
static void
socket_action(struct http *h, curl_socket_t fd, int mask)
{
	CURLMcode rc;
	int running;

	h->in_curl = 1;
	rc = curl_multi_socket_action(h->multi, fd, mask, &running);
	h->in_curl = 0;
	if (rc == CURLM_OUT_OF_MEMORY)
		x_oom(0);
	if (rc != CURLM_OK)
		log_debug("libcurl: %s", curl_multi_strerror(rc));
	reap(h);
}

static void
on_curl_event(void *arg, int fd, int events)
{
	int mask = 0;

	mask |= events & LOOP_READ ? CURL_CSELECT_IN : 0;
	mask |= events & LOOP_WRITE ? CURL_CSELECT_OUT : 0;
	socket_action(arg, fd, mask);
}

static void
on_curl_timer(void *arg)
{
	socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct loop_watch *w = socketp;
	int ev = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_watch_del(w);
		curl_multi_assign(h->multi, s, NULL);
		return 0;
	}
	ev |= what == CURL_POLL_IN || what == CURL_POLL_INOUT ? LOOP_READ : 0;
	ev |= what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? LOOP_WRITE : 0;
	if (w == NULL) {
		w = loop_watch_add(h->loop, s, ev, on_curl_event, h);
		curl_multi_assign(h->multi, s, w);
	} else {
		loop_watch_set(w, ev);
	}
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	if (timeout_ms < 0)
		loop_timer_stop(h->timer);
	else
		loop_timer_arm(h->timer, timeout_ms);
	return 0;
}

static void
before_poll(void *arg)
{
	struct http *h = arg;

	if (h->unpause) {
		h->unpause = 0;
		unpause_all(h);
	}
	reap(h);
}

struct http *
http_new(struct loop *l, const struct http_opts *o)
{
	static int global_done;
	struct http *h;

	if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("libcurl initialisation failed");
		return NULL;
	}
	global_done = 1;
	h = x_calloc(1, sizeof(*h));
	h->loop = l;
	h->cacert = o->cacert ? x_strdup(o->cacert) : NULL;
	h->connect_timeout_ms = o->connect_timeout_ms;
	if ((h->multi = curl_multi_init()) == NULL ||
	    loop_hook_add(l, before_poll, h) == -1) {
		log_error("libcurl multi handle could not be created");
		curl_multi_cleanup(h->multi);
		free(h->cacert);
		free(h);
		return NULL;
	}
	h->timer = loop_timer_new(l, on_curl_timer, h);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	/*
	 * libcurl's default cache is 4 x the transfers in progress, so it
	 * shrinks as a burst ends and closes connections it will need again
	 * (measured: 827 reconnects in 10,000 calls at 32 in flight).
	 */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, HTTP_MAX_CONNECTS);
	return h;
}

void
http_free(struct http **hp)
{
	struct http_req *r, *next;
	struct http *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	for (r = h->reqs; r != NULL; r = next) {
		next = r->next;
		req_free(r);
	}
	curl_multi_cleanup(h->multi);
	loop_timer_del(h->timer);
	loop_hook_del(h->loop, before_poll, h);
	free(h->queue);
	free(h->cacert);
	free(h);
	*hp = NULL;
}

static void
call_head(struct http_req *r)
{
	long status = 0;

	if (r->head_done || r->cancelled)
		return;
	r->head_done = 1;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	r->cbs->on_head(r->arg, r, status);
}

static void
clear_resp_headers(struct http_req *r)
{
	for (int i = 0; i < r->nresp; i++) {
		free(r->resp[i].name);
		free(r->resp[i].value);
	}
	r->nresp = 0;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	const char *colon, *v;
	size_t len = size * n, vl, nl;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		clear_resp_headers(r); /* a new response (1xx, CONNECT) */
		return len;
	}
	if ((colon = memchr(p, ':', len)) == NULL ||
	    r->nresp == HTTP_MAX_RESP_HEADERS)
		return len;
	nl = (size_t)(colon - p);
	v = colon + 1;
	vl = len - nl - 1;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
		vl--;
	str_trim(&v, &vl);
	if (vl > BOUNDS_MAX_RESP_HEADER)
		return len;
	r->resp[r->nresp].name = x_strndup(p, nl);
	for (char *c = r->resp[r->nresp].name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	r->resp[r->nresp].value = x_memdup(v, vl);
	r->nresp++;
	return len;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_req *r = arg;
	size_t len = size * n;

	if (r->cancelled)
		return 0;
	if (r->http->paused) {
		r->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	call_head(r);
	if (r->cancelled || r->cbs->on_body(r->arg, p, len) == -1) {
		r->cancelled = 1;
		r->http->dirty = 1;
		return 0;
	}
	return len;
}

static CURLcode
ssl_ctx_cb(CURL *easy, void *sslctx, void *arg)
{
	struct http *h = arg;
	X509_STORE *st = SSL_CTX_get_cert_store(sslctx);

	if (h->cacert == NULL)
		return CURLE_OK;
	if (X509_STORE_load_file(st, h->cacert) != 1) {
		log_error("cannot load CA bundle %s", h->cacert);
		return CURLE_SSL_CACERT_BADFILE;
	}
	return CURLE_OK;
}

static void
set_common(struct http *h, struct http_req *r)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(
	    e, CURLOPT_USERAGENT, "mcp-bridge/" MCP_BRIDGE_VERSION);
	if (h->connect_timeout_ms > 0)
		curl_easy_setopt(
		    e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	if (h->cacert) {
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);
	}
}

/*
 * libcurl reads https_proxy/HTTPS_PROXY, no_proxy/NO_PROXY and only the
 * lower-case http_proxy (a CGI precaution). The bridge is no CGI program,
 * and users set HTTP_PROXY: honour it too. no_proxy still applies.
 */
static void
upper_http_proxy(CURL *e, const char *url)
{
	const char *p = getenv("HTTP_PROXY");

	if (p && *p && getenv("http_proxy") == NULL &&
	    strncasecmp(url, "http://", 7) == 0)
		curl_easy_setopt(e, CURLOPT_PROXY, p);
}

struct http_req *
http_req_new(struct http *h, const char *method, const char *url,
    const struct http_req_cbs *cbs, void *arg)
{
	struct http_req *r;

	r = x_calloc(1, sizeof(*r));
	if ((r->easy = curl_easy_init()) == NULL) {
		log_error("libcurl: cannot create a transfer");
		free(r);
		return NULL;
	}
	r->http = h;
	r->cbs = cbs;
	r->arg = arg;
	set_common(h, r);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	upper_http_proxy(r->easy, url);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	return r;
}

static void
push_header(struct http_req *r, char *line)
{
	if (r->nhdrs == HTTP_MAX_REQ_HEADERS) {
		log_error("too many request headers");
		return;
	}
	r->hdrs[r->nhdrs].data = line;
	r->hdrs[r->nhdrs].next = NULL;
	if (r->nhdrs > 0)
		r->hdrs[r->nhdrs - 1].next = &r->hdrs[r->nhdrs];
	r->nhdrs++;
}

void
http_req_header(struct http_req *r, const char *line)
{
	if (r->nowned == HTTP_MAX_REQ_HEADERS)
		return;
	r->owned[r->nowned] = x_strdup(line);
	push_header(r, r->owned[r->nowned++]);
}

void
http_req_headers(struct http_req *r, const struct hdrlist *l)
{
	/* curl only reads the nodes; the lines stay in secret memory. */
	for (size_t i = 0; i < hdrlist_count(l); i++)
		push_header(r, (char *)hdrlist_line(l, i));
}

void
http_req_body(struct http_req *r, const char *body, size_t len)
{
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
}

static void
add_now(struct http *h, struct http_req *r)
{
	if (r->cancelled)
		return;
	if (r->nhdrs)
		curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, &r->hdrs[0]);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		snprintf(r->errbuf, sizeof(r->errbuf), "cannot start transfer");
		r->cancelled = 1;
		h->dirty = 1;
		r->cbs->on_done(r->arg, r->errbuf);
		return;
	}
	r->started = 1;
}

void
http_req_start(struct http_req *r)
{
	struct http *h = r->http;

	if (!h->in_curl) {
		add_now(h, r);
		return;
	}
	if (h->nqueue == h->capqueue) {
		h->capqueue = h->capqueue ? h->capqueue * 2 : 16;
		h->queue = x_realloc(h->queue, h->capqueue * sizeof(*h->queue));
	}
	h->queue[h->nqueue++] = r;
}

static void
flush_deferred(struct http *h)
{
	/* add_now() may call on_done, which may queue more: index loop. */
	for (size_t i = 0; i < h->nqueue; i++)
		add_now(h, h->queue[i]);
	h->nqueue = 0;
}

void
http_req_cancel(struct http_req *r)
{
	if (r == NULL || r->cancelled)
		return;
	r->cancelled = 1;
	r->http->dirty = 1; /* freed by reap(), outside curl callbacks */
}

/* Frees every cancelled request; call only outside curl callbacks. */
static void
free_cancelled(struct http *h)
{
	struct http_req *r, *next;

	h->dirty = 0;
	for (r = h->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->cancelled)
			req_free(r);
	}
}

static const char *
done_error(struct http_req *r, CURLcode rc)
{
	if (rc == CURLE_OK)
		return NULL;
	if (r->errbuf[0] == '\0')
		snprintf(
		    r->errbuf, sizeof(r->errbuf), "%s", curl_easy_strerror(rc));
	return r->errbuf;
}

static void
reap(struct http *h)
{
	struct http_req *r;
	CURLMsg *m;
	int left;

	flush_deferred(h);
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(
		    m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r->cancelled) {
			CURLcode rc = m->data.result;

			if (rc == CURLE_OK)
				call_head(r);
			r->cancelled = 1; /* no callbacks after on_done */
			r->cbs->on_done(r->arg, done_error(r, rc));
		}
		req_free(r);
	}
	flush_deferred(h);
	if (h->dirty)
		free_cancelled(h);
}

static void
unpause_all(struct http *h)
{
	h->in_curl = 1; /* curl_easy_pause() may call write_cb at once */
	for (struct http_req *r = h->reqs; r != NULL; r = r->next) {
		if (r->paused && !r->cancelled) {
			r->paused = 0;
			curl_easy_pause(r->easy, CURLPAUSE_CONT);
		}
	}
	h->in_curl = 0;
}

void
http_pause(struct http *h, int paused)
{
	if (h->paused == paused)
		return;
	h->paused = paused;
	h->unpause = !paused; /* done in the before-poll hook */
}

size_t
http_active(const struct http *h)
{
	size_t n = 0;

	for (const struct http_req *r = h->reqs; r != NULL; r = r->next)
		n += !r->cancelled;
	return n;
}

const char *
http_req_resp_header(const struct http_req *r, const char *name)
{
	for (int i = 0; i < r->nresp; i++)
		if (str_eq_nocase(
		        r->resp[i].name, strlen(r->resp[i].name), name))
			return r->resp[i].value;
	return NULL;
}

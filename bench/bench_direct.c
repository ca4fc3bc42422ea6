/* SPDX-License-Identifier: ISC */
#include "bench_direct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_msg.h"
#include "bench_stats.h"
#include "jscan.h"

#define HBUF       65536
#define INIT_ID    1
#define FIRST_CALL 1000

struct hconn {
	int fd;
	size_t len;  /* bytes in buf */
	size_t used; /* bytes of the response last parsed */
	char buf[HBUF];
};

struct hresp {
	int status;
	int sse;
	const char *body;
	size_t blen;
};

/* The session the upstream gave; sent on every request after it. */
static char g_session[128];

static int
hc_open(struct hconn *h, int port)
{
	struct sockaddr_in sa;
	int one = 1;

	h->len = h->used = 0;
	if ((h->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	return 0;
}

static void
hc_close(struct hconn *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

static int
hc_write(struct hconn *h, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(h->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One POST of body with the bridge's headers, in one write. */
static int
hc_post(struct hconn *h, int port, const char *body, size_t n)
{
	char req[2048];
	int hl;

	hl = snprintf(req, sizeof(req),
	    "POST /mcp HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
	    "Accept: application/json, text/event-stream\r\n"
	    "%s%s%s%sContent-Length: %zu\r\n\r\n",
	    port, g_session[0] ? "Mcp-Session-Id: " : "", g_session,
	    g_session[0] ? "\r\n" : "",
	    g_session[0] ? "MCP-Protocol-Version: " MSG_PROTOCOL "\r\n" : "",
	    n);
	if (hl < 0 || (size_t)hl + n > sizeof(req))
		return -1;
	memcpy(req + hl, body, n);
	return hc_write(h, req, (size_t)hl + n);
}

/* Value of header `name` in the head [p, p+n), or NULL. */
static const char *
header(const char *p, size_t n, const char *name, size_t *vn)
{
	const char *end = p + n, *line = p, *eol;
	size_t k = strlen(name);

	while (line < end) {
		eol = memchr(line, '\r', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > k && line[k] == ':' &&
		    strncasecmp(line, name, k) == 0) {
			line += k + 1;
			while (line < eol && *line == ' ')
				line++;
			*vn = (size_t)(eol - line);
			return line;
		}
		line = eol + 2;
	}
	return NULL;
}

/* Parses the response at the start of buf: 1 whole, 0 partial, -1. */
static int
hc_parse(struct hconn *h, struct hresp *r)
{
	const char *p = h->buf, *e = NULL, *v;
	size_t i, hn, vn;
	long cl;

	for (i = 0; i + 4 <= h->len && e == NULL; i++) {
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			e = p + i;
	}
	if (e == NULL)
		return h->len == HBUF ? -1 : 0;
	hn = (size_t)(e - p) + 4;
	if (hn < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0)
		return -1;
	r->status = (int)strtol(p + 9, NULL, 10);
	if ((v = header(p, hn, "Content-Length", &vn)) == NULL)
		return -1;
	cl = strtol(v, NULL, 10);
	if (cl < 0 || (size_t)cl > HBUF - hn)
		return -1;
	if (h->len < hn + (size_t)cl)
		return 0;
	v = header(p, hn, "Content-Type", &vn);
	r->sse = v != NULL && vn >= 17 &&
	    strncasecmp(v, "text/event-stream", 17) == 0;
	r->body = p + hn;
	r->blen = (size_t)cl;
	h->used = hn + (size_t)cl;
	if ((v = header(p, hn, "Mcp-Session-Id", &vn)) != NULL &&
	    vn < sizeof(g_session)) {
		memcpy(g_session, v, vn);
		g_session[vn] = '\0';
	}
	return 1;
}

/* Drops the response last parsed. */
static void
hc_consume(struct hconn *h)
{
	memmove(h->buf, h->buf + h->used, h->len - h->used);
	h->len -= h->used;
	h->used = 0;
}

/* One recv into buf: 0, or -1 on EOF/error/full. */
static int
hc_fill(struct hconn *h)
{
	ssize_t n;

	do
		n = recv(h->fd, h->buf + h->len, HBUF - h->len, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	h->len += (size_t)n;
	return 0;
}

/* Waits for a whole response. Returns 0 or -1. */
static int
hc_await(struct hconn *h, long timeout_ms, struct hresp *r)
{
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	double deadline = stats_now_ms() + (double)timeout_ms;
	int rc;

	while ((rc = hc_parse(h, r)) == 0) {
		if (poll(&pfd, 1, (int)(deadline - stats_now_ms()) + 1) <= 0)
			return -1;
		if (hc_fill(h) < 0)
			return -1;
	}
	return rc > 0 ? 0 : -1;
}

/* Kind of the JSON-RPC answer to id in r (a 200), or -1. */
static int
answer_kind(const struct hresp *r, long id)
{
	const char *js = r->body;
	size_t jn = r->blen;
	long got;
	int kind;

	if (r->status != 200)
		return -1;
	if (r->sse && msg_sse_data(r->body, r->blen, &js, &jn) < 0)
		return -1;
	kind = msg_answer(js, jn, &got);
	return kind == MSG_OTHER || got != id ? -1 : kind;
}

/* One request/answer exchange on h. Returns the answer kind or -1. */
static int
exchange(const struct bench_opts *o, struct hconn *h, const char *body,
    size_t n, long id)
{
	struct hresp r;
	int kind;

	if (hc_post(h, o->port, body, n) < 0 ||
	    hc_await(h, o->timeout_ms, &r) < 0)
		return -1;
	kind =
	    id < 0 ? (r.status == 202 ? MSG_RESULT : -1) : answer_kind(&r, id);
	hc_consume(h);
	return kind;
}

static int
call(const struct bench_opts *o, struct hconn *h, long id)
{
	char body[1024];
	int n = msg_call(body, sizeof(body), id);

	return n < 0 ? -1 : exchange(o, h, body, (size_t)n, id);
}

/* Connects and initializes h (the session id is remembered). */
static int
initialize(const struct bench_opts *o, struct hconn *h)
{
	char body[1024];
	int n = msg_initialize(body, sizeof(body), INIT_ID);

	g_session[0] = '\0';
	if (n < 0 || hc_open(h, o->port) < 0)
		return -1;
	if (exchange(o, h, body, (size_t)n, INIT_ID) != MSG_RESULT) {
		hc_close(h);
		return -1;
	}
	return 0;
}

int
direct_startup(const struct bench_opts *o, struct bench_result *r)
{
	double *v = calloc((size_t)o->spawns, sizeof(*v)), t0;
	struct hconn *h = malloc(sizeof(*h));
	long i;
	int rc = 0;

	for (i = 0; v != NULL && h != NULL && i < o->spawns; i++) {
		t0 = stats_now_ms();
		if ((rc = initialize(o, h)) < 0)
			break;
		v[i] = stats_now_ms() - t0;
		hc_close(h);
	}
	if (v == NULL || h == NULL || rc < 0)
		bench_fail(r, "direct initialize failed");
	else
		r->start_ms = stats_quantile(v, (size_t)o->spawns, 0.5);
	free(v);
	free(h);
	return r->failed ? -1 : 0;
}

/* n sequential calls from *id; latencies into v when not NULL. */
static int
sequential(const struct bench_opts *o, struct hconn *h, long *id, long n,
    double *v, struct bench_result *r)
{
	double t0;
	long i;
	int kind;

	for (i = 0; i < n; i++, (*id)++) {
		t0 = stats_now_ms();
		if ((kind = call(o, h, *id)) < 0)
			return -1;
		if (v != NULL)
			v[i] = stats_now_ms() - t0;
		r->rpc_errors += kind == MSG_ERROR;
		r->calls++;
	}
	return 0;
}

/* The throughput phase: one call in flight on each connection. */
struct win {
	struct hconn *c;
	struct pollfd *pf;
	long *cur; /* id in flight per connection */
	long n;    /* connections */
	long base; /* first id */
	long sent;
	long done;
	long total;
};

/* Sends the next call on connection i, or retires it. */
static int
win_next(const struct bench_opts *o, struct win *w, long i)
{
	char body[1024];
	int n;

	if (w->sent >= w->total) {
		w->pf[i].fd = -1;
		return 0;
	}
	w->cur[i] = w->base + w->sent++;
	n = msg_call(body, sizeof(body), w->cur[i]);
	return n < 0 ? -1 : hc_post(&w->c[i], o->port, body, (size_t)n);
}

static int
win_read(
    const struct bench_opts *o, struct win *w, long i, struct bench_result *r)
{
	struct hresp hr;
	int rc, kind;

	if (hc_fill(&w->c[i]) < 0)
		return -1;
	while ((rc = hc_parse(&w->c[i], &hr)) == 1) {
		kind = answer_kind(&hr, w->cur[i]);
		hc_consume(&w->c[i]);
		if (kind < 0)
			return -1;
		r->rpc_errors += kind == MSG_ERROR;
		r->calls++;
		w->done++;
		if (win_next(o, w, i) < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

/* Polls the connections until every call is answered. */
static int
win_loop(const struct bench_opts *o, struct win *w, struct bench_result *r)
{
	long i;

	for (i = 0; i < w->n; i++) {
		w->pf[i].fd = w->c[i].fd;
		w->pf[i].events = POLLIN;
		if (win_next(o, w, i) < 0)
			return -1;
	}
	while (w->done < w->total) {
		if (poll(w->pf, (nfds_t)w->n, (int)o->timeout_ms) <= 0)
			return -1;
		for (i = 0; i < w->n; i++) {
			if (w->pf[i].fd >= 0 && w->pf[i].revents &&
			    win_read(o, w, i, r) < 0)
				return -1;
		}
	}
	return 0;
}

static int
window(const struct bench_opts *o, long *id, struct bench_result *r)
{
	struct win w = {
		.n = o->inflight, .base = *id, .total = o->tput_calls
	};
	double t0;
	long i, opened = 0;
	int rc = -1;

	w.c = calloc((size_t)w.n, sizeof(*w.c));
	w.pf = calloc((size_t)w.n, sizeof(*w.pf));
	w.cur = calloc((size_t)w.n, sizeof(*w.cur));
	if (w.c != NULL && w.pf != NULL && w.cur != NULL) {
		while (opened < w.n && hc_open(&w.c[opened], o->port) == 0)
			opened++;
		t0 = stats_now_ms();
		if (opened == w.n && (rc = win_loop(o, &w, r)) == 0)
			r->tput = (double)w.total * 1e3 / (stats_now_ms() - t0);
	}
	for (i = 0; i < opened; i++)
		hc_close(&w.c[i]);
	free(w.c);
	free(w.pf);
	free(w.cur);
	*id += o->tput_calls;
	return rc;
}

/* Warm-up, sequential calls, throughput. */
static int
measure(const struct bench_opts *o, struct hconn *h, struct bench_result *r)
{
	double *v = calloc((size_t)o->calls, sizeof(*v));
	long id = FIRST_CALL;
	struct upstats s0, s1;
	int rc = -1;

	if (v != NULL && direct_upstats(o, 1, &s0) == 0 &&
	    sequential(o, h, &id, o->warmup, NULL, r) == 0 &&
	    sequential(o, h, &id, o->calls, v, r) == 0) {
		r->mean_ms = stats_mean(v, (size_t)o->calls);
		r->p50_ms = stats_quantile(v, (size_t)o->calls, 0.50);
		r->p99_ms = stats_quantile(v, (size_t)o->calls, 0.99);
		r->max_ms = v[o->calls - 1];
		rc = window(o, &id, r);
	}
	if (rc == 0 && (rc = direct_upstats(o, 0, &s1)) == 0)
		direct_upstats_diff(&s0, &s1, r);
	free(v);
	return rc;
}

int
direct_run(const struct bench_opts *o, struct bench_result *r)
{
	struct hconn *h = malloc(sizeof(*h));
	size_t n = strlen(msg_initialized);

	if (h == NULL || initialize(o, h) < 0) {
		free(h);
		bench_fail(r, "direct initialize failed");
		return -1;
	}
	if (exchange(o, h, msg_initialized, n, -1) < 0)
		bench_fail(r, "notifications/initialized not accepted (202)");
	else if (measure(o, h, r) < 0)
		bench_fail(r, "a direct call failed");
	hc_close(h);
	free(h);
	return r->failed ? -1 : 0;
}

/* One number member of the JSON object [p, p+n), or -1. */
static long
json_long(const char *p, size_t n, const char *name)
{
	struct jkey k[] = { { name, { NULL, 0 } } };
	char num[32];

	if (jscan_object(p, n, k, 1) < 0 || k[0].val.p == NULL ||
	    k[0].val.n >= sizeof(num))
		return -1;
	memcpy(num, k[0].val.p, k[0].val.n);
	num[k[0].val.n] = '\0';
	return strtol(num, NULL, 10);
}

int
direct_upstats(const struct bench_opts *o, int reset, struct upstats *s)
{
	struct hconn *h = malloc(sizeof(*h));
	struct hresp r;
	char req[256];
	int n, rc = -1;

	n = snprintf(req, sizeof(req),
	    "GET /stats%s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
	    reset ? "?reset" : "", o->port);
	if (h != NULL && n > 0 && (size_t)n < sizeof(req) &&
	    hc_open(h, o->port) == 0) {
		if (hc_write(h, req, (size_t)n) == 0 &&
		    hc_await(h, o->timeout_ms, &r) == 0 && r.status == 200) {
			s->accepted = json_long(r.body, r.blen, "accepted");
			s->peak = json_long(r.body, r.blen, "peak");
			s->requests = json_long(r.body, r.blen, "requests");
			rc = 0;
		}
		hc_close(h);
	}
	free(h);
	return rc;
}

void
direct_upstats_diff(
    const struct upstats *a, const struct upstats *b, struct bench_result *r)
{
	r->up_conns = b->accepted - a->accepted - 1;
	r->up_peak = b->peak;
	r->up_requests = b->requests - a->requests - 1;
}

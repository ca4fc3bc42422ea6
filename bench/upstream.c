/* SPDX-License-Identifier: ISC */
/*
 * bench_upstream: a small, fast MCP Streamable HTTP server for the
 * benchmark (loopback only, no dependencies beyond libc).
 *
 * One thread, epoll, non-blocking sockets with TCP_NODELAY, HTTP/1.1
 * keep-alive and pipelining; request bodies by Content-Length or chunked.
 * POST /mcp answers JSON-RPC: initialize (with Mcp-Session-Id: bench-1),
 * tools/list (one tool, "echo"), tools/call ("ok"), ping; other methods
 * get -32601; notifications and responses get 202. Ids are copied byte
 * for byte. GET /mcp is 405, DELETE /mcp is 200. With --sse every JSON
 * answer is a text/event-stream with one event (Content-Length framed).
 * GET /stats answers {accepted, open, peak, requests} for the driver:
 * connections accepted, open now, the most open at once before this
 * connection came (GET /stats?reset restarts it from the open count, the
 * asking connection left out), and requests handled, this one included.
 * The driver asks on a connection of its own with "Connection: close".
 *
 * usage: bench_upstream [--port N] [--sse] [--exit-on-eof] [-v]
 * Prints "READY <port>" on stdout once listening; runs until killed, or
 * with --exit-on-eof until its stdin ends (the driver went away). -v logs
 * one line per request on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jscan.h"

#define MAX_BODY   (16L << 20) /* request body cap */
#define MAX_HEAD   (64 << 10)  /* request head cap */
#define READ_CHUNK (64 << 10)
#define MAX_EVENTS 256
#define SESSION    "bench-1"
#define DEF_PROTO  "\"2025-06-18\""

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
};

struct conn {
	int fd;
	struct sbuf in;    /* received, not yet handled */
	struct sbuf out;   /* response bytes not yet sent */
	size_t out_off;    /* sent part of out */
	int sent_continue; /* "100 Continue" sent for the pending request */
	int closing;       /* close once out is flushed */
	int want_out;      /* EPOLLOUT is registered */
	long peak_before;  /* g_peak before this connection came */
};

struct req {
	const char *method; /* HTTP method, not NUL-terminated */
	size_t method_n;
	const char *target;
	size_t target_n;
	size_t head_len; /* request line + headers + blank line */
	long clen;       /* Content-Length, -1 when absent */
	int chunked;
	int close;
	int expect; /* Expect: 100-continue */
};

static int g_sse, g_verbose, g_eof_exit, g_ep, g_lfd;
static struct conn **g_conns;
static size_t g_nconns;
static struct sbuf g_body, g_json, g_chunks;
static long g_accepted, g_open, g_peak, g_requests; /* for GET /stats */

static void
die(const char *what)
{
	fprintf(stderr, "bench_upstream: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Makes room for n more bytes (plus a NUL) after b->len. */
static void
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *np;

	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		if ((np = realloc(b->p, cap)) == NULL)
			die("realloc");
		b->p = np;
		b->cap = cap;
	}
}

static void
sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	sbuf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* memmem(3) without _GNU_SOURCE: first [n, n+nn) in [h, h+hn). */
static const char *
find(const char *h, size_t hn, const char *n, size_t nn)
{
	const char *p, *end = h + hn;

	if (hn < nn)
		return NULL;
	for (p = h; (p = memchr(p, n[0], (size_t)(end - p))) != NULL; p++) {
		if ((size_t)(end - p) < nn)
			return NULL;
		if (memcmp(p, n, nn) == 0)
			return p;
	}
	return NULL;
}

static int
eq_ci(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

static int
eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* Trims spaces and tabs around [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Parses one header line [p, p+n) into r. Returns 0 or -1. */
static int
parse_header(const char *p, size_t n, struct req *r)
{
	const char *colon = memchr(p, ':', n), *v;
	size_t name_n, vn;
	char *end;

	if (colon == NULL)
		return -1;
	name_n = (size_t)(colon - p);
	v = colon + 1;
	vn = n - name_n - 1;
	trim(&v, &vn);
	if (eq_ci(p, name_n, "content-length")) {
		errno = 0;
		r->clen = strtol(v, &end, 10);
		if (errno || end != v + vn || r->clen < 0 || r->clen > MAX_BODY)
			return -1;
	} else if (eq_ci(p, name_n, "transfer-encoding")) {
		r->chunked = eq_ci(v, vn, "chunked");
		if (!r->chunked)
			return -1;
	} else if (eq_ci(p, name_n, "connection")) {
		if (eq_ci(v, vn, "close"))
			r->close = 1;
		else if (eq_ci(v, vn, "keep-alive"))
			r->close = 0;
	} else if (eq_ci(p, name_n, "expect")) {
		r->expect = eq_ci(v, vn, "100-continue");
	}
	return 0;
}

/* Parses the request line: METHOD SP TARGET SP HTTP/1.x. */
static int
parse_request_line(const char *p, size_t n, struct req *r)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *ver;

	if (sp1 == NULL)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(p + n - sp1 - 1));
	if (sp2 == NULL)
		return -1;
	r->method = p;
	r->method_n = (size_t)(sp1 - p);
	r->target = sp1 + 1;
	r->target_n = (size_t)(sp2 - sp1 - 1);
	ver = sp2 + 1;
	if (eq(ver, (size_t)(p + n - ver), "HTTP/1.0"))
		r->close = 1;
	else if (!eq(ver, (size_t)(p + n - ver), "HTTP/1.1"))
		return -1;
	return 0;
}

/* Returns 1 with r filled when the head is complete, 0 for more, -1. */
static int
parse_head(const char *p, size_t n, struct req *r)
{
	const char *end = find(p, n, "\r\n\r\n", 4), *line, *eol;
	int first = 1;

	if (end == NULL)
		return n > MAX_HEAD ? -1 : 0;
	memset(r, 0, sizeof(*r));
	r->clen = -1;
	r->head_len = (size_t)(end - p) + 4;
	for (line = p; line < end + 2; line = eol + 2) {
		eol = find(line, (size_t)(end + 2 - line), "\r\n", 2);
		if (first &&
		    parse_request_line(line, (size_t)(eol - line), r) < 0)
			return -1;
		if (!first && parse_header(line, (size_t)(eol - line), r) < 0)
			return -1;
		first = 0;
	}
	return 1;
}

/*
 * Decodes a chunked body at [p, p+n) into g_chunks. Returns the bytes it
 * spans when complete, 0 when more is needed, -1 on bad input.
 */
static long
dechunk(const char *p, size_t n)
{
	const char *eol;
	unsigned long sz;
	size_t off = 0;
	char *end;

	g_chunks.len = 0;
	for (;;) {
		if ((eol = find(p + off, n - off, "\r\n", 2)) == NULL)
			return 0;
		sz = strtoul(p + off, &end, 16);
		if (end == p + off || end > eol || sz > (unsigned long)MAX_BODY)
			return -1;
		off = (size_t)(eol - p) + 2;
		if (sz == 0)
			break;
		if (n - off < sz + 2)
			return 0;
		sbuf_add(&g_chunks, p + off, sz);
		off += sz + 2;
	}
	for (;;) { /* trailers up to the blank line */
		if ((eol = find(p + off, n - off, "\r\n", 2)) == NULL)
			return 0;
		if (eol == p + off)
			return (long)(off + 2);
		off = (size_t)(eol - p) + 2;
	}
}

static void
respond(struct conn *c, const struct req *r, const char *status,
    const char *extra, const char *body, size_t blen)
{
	char head[512];
	int n;

	if (r->close)
		c->closing = 1;
	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %s\r\n%s%sContent-Length: %zu\r\n\r\n", status, extra,
	    r->close ? "Connection: close\r\n" : "", blen);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "bench_upstream: response head too long\n");
		exit(1);
	}
	sbuf_add(&c->out, head, (size_t)n);
	if (blen > 0)
		sbuf_add(&c->out, body, blen);
}

/* Builds the JSON-RPC answer for method m into g_json. */
static void
rpc_answer(struct jspan m, struct jspan id, struct jspan params)
{
	struct jkey pk[] = { { "protocolVersion", { NULL, 0 } } };

	g_json.len = 0;
	sbuf_str(&g_json, "{\"jsonrpc\":\"2.0\",\"id\":");
	sbuf_add(&g_json, id.p, id.n);
	if (jscan_is_str(m, "tools/call")) {
		sbuf_str(&g_json,
		    ",\"result\":{\"content\":[{\"type\":"
		    "\"text\",\"text\":\"ok\"}]}}");
	} else if (jscan_is_str(m, "initialize")) {
		sbuf_str(&g_json, ",\"result\":{\"protocolVersion\":");
		if (params.p != NULL &&
		    jscan_object(params.p, params.n, pk, 1) == 0 &&
		    pk[0].val.p != NULL && pk[0].val.p[0] == '"')
			sbuf_add(&g_json, pk[0].val.p, pk[0].val.n);
		else
			sbuf_str(&g_json, DEF_PROTO);
		sbuf_str(&g_json,
		    ",\"capabilities\":{\"tools\":{}},"
		    "\"serverInfo\":{\"name\":\"bench-upstream\","
		    "\"version\":\"1\"}}}");
	} else if (jscan_is_str(m, "tools/list")) {
		sbuf_str(&g_json,
		    ",\"result\":{\"tools\":[{\"name\":\"echo\","
		    "\"description\":\"Answers ok\",\"inputSchema\":{\"type\":"
		    "\"object\",\"properties\":{\"text\":{\"type\":"
		    "\"string\"}}}}]}}");
	} else if (jscan_is_str(m, "ping")) {
		sbuf_str(&g_json, ",\"result\":{}}");
	} else {
		sbuf_str(&g_json,
		    ",\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}");
	}
}

/* Sends g_json as the answer, as JSON or as one SSE event. */
static void
send_json(struct conn *c, const struct req *r, int init)
{
	const char *extra;

	g_body.len = 0;
	if (g_sse) {
		sbuf_str(&g_body, "event: message\ndata: ");
		sbuf_add(&g_body, g_json.p, g_json.len);
		sbuf_str(&g_body, "\n\n");
		extra = init
		    ? "Content-Type: text/event-stream\r\n"
		      "Cache-Control: no-cache\r\nMcp-Session-Id: " SESSION
		      "\r\n"
		    : "Content-Type: text/event-stream\r\n"
		      "Cache-Control: no-cache\r\n";
	} else {
		sbuf_add(&g_body, g_json.p, g_json.len);
		extra = init ? "Content-Type: application/json\r\n"
		               "Mcp-Session-Id: " SESSION "\r\n"
		             : "Content-Type: application/json\r\n";
	}
	respond(c, r, "200 OK", extra, g_body.p, g_body.len);
}

static void
handle_post(struct conn *c, const struct req *r, const char *b, size_t n)
{
	struct jkey k[] = { { "id", { NULL, 0 } }, { "method", { NULL, 0 } },
		{ "params", { NULL, 0 } } };
	static const char perr[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}";

	if (jscan_object(b, n, k, 3) < 0) {
		respond(c, r, "400 Bad Request",
		    "Content-Type: application/json\r\n", perr,
		    sizeof(perr) - 1);
		return;
	}
	if (g_verbose)
		fprintf(stderr, "bench_upstream: POST %.*s\n",
		    k[1].val.p ? (int)k[1].val.n : 8,
		    k[1].val.p ? k[1].val.p : "response");
	if (k[0].val.p == NULL || k[1].val.p == NULL) {
		respond(c, r, "202 Accepted", "", NULL, 0);
		return;
	}
	rpc_answer(k[1].val, k[0].val, k[2].val);
	send_json(c, r, jscan_is_str(k[1].val, "initialize"));
}

/* GET /stats[?reset]: counters for the driver (reset: peak = open). */
static void
stats(struct conn *c, const struct req *r, int reset)
{
	char js[256];
	int n;

	n = snprintf(js, sizeof(js),
	    "{\"accepted\":%ld,\"open\":%ld,"
	    "\"peak\":%ld,\"requests\":%ld}",
	    g_accepted, g_open, c->peak_before, g_requests);
	if (reset)
		g_peak = g_open - 1; /* this connection closes next */
	respond(c, r, "200 OK", "Content-Type: application/json\r\n", js,
	    n > 0 && (size_t)n < sizeof(js) ? (size_t)n : 0);
}

static void
handle(struct conn *c, const struct req *r, const char *body, size_t n)
{
	const char *t = r->target;
	size_t tn = r->target_n;

	if (g_verbose && !eq(r->method, r->method_n, "POST"))
		fprintf(stderr, "bench_upstream: %.*s %.*s\n", (int)r->method_n,
		    r->method, (int)tn, t);
	g_requests++;
	if (eq(r->method, r->method_n, "GET") &&
	    (eq(t, tn, "/stats") || eq(t, tn, "/stats?reset")))
		stats(c, r, tn > 6);
	else if (!eq(t, tn, "/mcp") && !(tn > 4 && memcmp(t, "/mcp?", 5) == 0))
		respond(c, r, "404 Not Found", "", NULL, 0);
	else if (eq(r->method, r->method_n, "POST"))
		handle_post(c, r, body, n);
	else if (eq(r->method, r->method_n, "DELETE"))
		respond(c, r, "200 OK", "", NULL, 0);
	else
		respond(c, r, "405 Method Not Allowed",
		    "Allow: POST, DELETE\r\n", NULL, 0);
}

/*
 * Handles the request at the start of [p, p+n). Returns the bytes it
 * used, 0 when it is incomplete, -1 when the connection must close.
 */
static long
one_request(struct conn *c, const char *p, size_t n)
{
	struct req r;
	long used;
	int rc = parse_head(p, n, &r);

	if (rc <= 0)
		return rc;
	if (r.chunked) {
		used = dechunk(p + r.head_len, n - r.head_len);
		if (used > 0)
			handle(c, &r, g_chunks.p, g_chunks.len);
	} else {
		if (r.clen < 0)
			r.clen = 0;
		used = n - r.head_len >= (size_t)r.clen ? r.clen : 0;
		if (used > 0 || r.clen == 0)
			handle(c, &r, p + r.head_len, (size_t)r.clen);
		if (r.clen == 0)
			return (long)r.head_len;
	}
	if (used < 0)
		return -1;
	if (used == 0 && r.expect && !c->sent_continue) {
		sbuf_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->sent_continue = 1;
	}
	if (used == 0)
		return 0;
	c->sent_continue = 0;
	return (long)r.head_len + used;
}

/* Handles every complete request in c->in (pipelining). */
static void
process(struct conn *c)
{
	size_t off = 0;
	long used;

	while (!c->closing && off < c->in.len) {
		used = one_request(c, c->in.p + off, c->in.len - off);
		if (used < 0) {
			c->closing = 1;
			break;
		}
		if (used == 0)
			break;
		off += (size_t)used;
	}
	if (off > 0) {
		memmove(c->in.p, c->in.p + off, c->in.len - off);
		c->in.len -= off;
	}
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	g_conns[c->fd] = NULL;
	g_open--;
	free(c->in.p);
	free(c->out.p);
	free(c);
}

static void
set_out(struct conn *c, int on)
{
	struct epoll_event ev;

	if (c->want_out == on)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.fd = c->fd;
	if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->want_out = on;
}

/* Sends what it can. Returns -1 when the connection was closed. */
static int
flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_out(c, 1);
			return 0;
		}
		if (n <= 0) {
			conn_close(c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = c->out_off = 0;
	set_out(c, 0);
	if (c->closing) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void
on_read(struct conn *c)
{
	ssize_t n;
	int eof = 0;

	for (;;) {
		sbuf_reserve(&c->in, READ_CHUNK);
		n = recv(c->fd, c->in.p + c->in.len, READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			eof = 1;
			break;
		}
		c->in.len += (size_t)n;
		c->in.p[c->in.len] = '\0';
		if (c->in.len > (size_t)MAX_BODY + MAX_HEAD) {
			eof = 1;
			break;
		}
	}
	process(c); /* answers what came before a half-close too */
	if (eof)
		c->closing = 1;
	flush(c);
}

static void
on_accept(void)
{
	struct epoll_event ev;
	struct conn **nc;
	int fd, one = 1;

	while ((fd = accept(g_lfd, NULL, NULL)) >= 0) {
		if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			die("fcntl");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((size_t)fd >= g_nconns) {
			nc = realloc(g_conns, ((size_t)fd + 64) * sizeof(*nc));
			if (nc == NULL)
				die("realloc");
			memset(nc + g_nconns, 0,
			    ((size_t)fd + 64 - g_nconns) * sizeof(*nc));
			g_conns = nc;
			g_nconns = (size_t)fd + 64;
		}
		if ((g_conns[fd] = calloc(1, sizeof(struct conn))) == NULL)
			die("calloc");
		g_conns[fd]->fd = fd;
		g_conns[fd]->peak_before = g_peak;
		g_accepted++;
		if (++g_open > g_peak)
			g_peak = g_open;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		die("accept");
}

static int
listen_on(long port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		die("fcntl");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname");
	printf("READY %u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/* With --exit-on-eof: the driver is gone when stdin ends. */
static void
on_stdin(void)
{
	char buf[256];
	ssize_t n = read(0, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		exit(0);
}

static void
serve(void)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	struct conn *c;
	int i, n;

	if ((g_ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = g_lfd;
	if (epoll_ctl(g_ep, EPOLL_CTL_ADD, g_lfd, &ev) < 0)
		die("epoll_ctl");
	ev.data.fd = 0;
	if (g_eof_exit && epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &ev) < 0)
		die("epoll_ctl stdin");
	for (;;) {
		if ((n = epoll_wait(g_ep, evs, MAX_EVENTS, -1)) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == g_lfd) {
				on_accept();
				continue;
			}
			if (evs[i].data.fd == 0) {
				on_stdin();
				continue;
			}
			if ((c = g_conns[evs[i].data.fd]) == NULL)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_read(c);
			else if (evs[i].events & EPOLLOUT)
				flush(c);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_upstream [--port N] [--sse] "
	    "[--exit-on-eof] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long port = 0;
	char *end;
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sse") == 0)
			g_sse = 1;
		else if (strcmp(argv[i], "-v") == 0)
			g_verbose = 1;
		else if (strcmp(argv[i], "--exit-on-eof") == 0)
			g_eof_exit = 1;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			errno = 0;
			port = strtol(argv[++i], &end, 10);
			if (errno || *end || port < 0 || port > 65535)
				usage();
		} else
			usage();
	}
	g_lfd = listen_on(port);
	serve();
	return 0;
}

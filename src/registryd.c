/* SPDX-License-Identifier: ISC */
/*
 * mcp-registryd: the reference company MCP registry (docs/registry-api.md).
 *
 *   mcp-registryd --catalog DIR --policy FILE --issuer URL --audience RES
 *                 [--listen 127.0.0.1:PORT] [--public-url URL]
 *                 [--groups-claim groups] [--leeway 30] [--threads 4]
 *                 [--max-age 60] [--log-file FILE] [--cacert FILE]
 *   mcp-registryd --check --catalog DIR --policy FILE     (offline, for CI)
 *
 * libmicrohttpd serves registry_api; every request's bearer token is
 * verified with registry_keys (the IdP's JWKS). SIGHUP reloads catalog
 * and policy (a bad file keeps the old state, with one log line);
 * SIGINT/SIGTERM stop. One access-log line per request: time, user,
 * method, path, status, latency, bytes; never a token. Prints
 * "READY <port>" on stdout once listening.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "jwipe.h"
#include "secret.h"
#include "jwt.h"
#include "log.h"
#include "registry_api.h"
#include "registry_db.h"
#include "registry_keys.h"
#include "str.h"
#include "xmem.h"

struct opts {
	const char *catalog, *policy, *issuer, *audience, *listen;
	const char *public_url, *groups_claim, *log_file, *cacert;
	long long leeway, threads;
	long long max_age; /* Cache-Control max-age of listings */
	int check;         /* --check: validate catalog and policy, then exit */
};

struct server {
	struct opts o;
	pthread_mutex_t mu; /* guards db */
	struct rdb *db;     /* current catalog */
	struct rkeys *keys;
	char base_url[256];
	FILE *access; /* access log */
};

static const char usage[] =
    "usage: mcp-registryd --catalog DIR --policy FILE --issuer URL "
    "--audience RESOURCE\n"
    "                     [--listen 127.0.0.1:PORT] [--public-url URL]\n"
    "                     [--groups-claim NAME] [--leeway SEC] "
    "[--threads N]\n"
    "                     [--max-age SEC] [--log-file FILE] [--cacert FILE]\n"
    "       mcp-registryd --check --catalog DIR --policy FILE\n";

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = { { "catalog", 1, NULL, 'c' },
		{ "policy", 1, NULL, 'p' }, { "issuer", 1, NULL, 'i' },
		{ "audience", 1, NULL, 'a' }, { "listen", 1, NULL, 'l' },
		{ "public-url", 1, NULL, 'u' },
		{ "groups-claim", 1, NULL, 'g' }, { "leeway", 1, NULL, 'w' },
		{ "threads", 1, NULL, 't' }, { "log-file", 1, NULL, 'f' },
		{ "cacert", 1, NULL, 'k' }, { "check", 0, NULL, 'C' },
		{ "max-age", 1, NULL, 'm' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	int c;

	*o = (struct opts){ .listen = "127.0.0.1:0",
		.groups_claim = "groups",
		.leeway = 30,
		.threads = 4,
		.max_age = 60 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char **s[] = { ['c'] = &o->catalog,
			['p'] = &o->policy,
			['i'] = &o->issuer,
			['a'] = &o->audience,
			['l'] = &o->listen,
			['u'] = &o->public_url,
			['g'] = &o->groups_claim,
			['f'] = &o->log_file,
			['k'] = &o->cacert };

		if (c == 'C') {
			o->check = 1;
			continue;
		}
		if (c == 'w' && str_tonum(optarg, 0, 600, &o->leeway) == 0)
			continue;
		if (c == 't' && str_tonum(optarg, 1, 256, &o->threads) == 0)
			continue;
		if (c == 'm' && str_tonum(optarg, 0, 86400, &o->max_age) == 0)
			continue;
		if (c > 0 && c < (int)(sizeof(s) / sizeof(*s)) && s[c]) {
			*s[c] = optarg;
			continue;
		}
		fputs(usage, c == 'h' ? stdout : stderr);
		return c == 'h' ? 1 : -1;
	}
	if (o->check && o->catalog && o->policy)
		return 0;
	if (!o->catalog || !o->policy || !o->issuer || !o->audience) {
		fprintf(stderr,
		    "mcp-registryd: --catalog, --policy, --issuer and "
		    "--audience are required\n%s",
		    usage);
		return -1;
	}
	return 0;
}

/* -- per request -------------------------------------------------------- */

/* Query arguments arrive raw (no_unescape): joined back as they came. */
static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct buf *b = cls;

	(void)kind;
	if ((buf_len(b) && buf_puts(b, "&")) || buf_puts(b, k) ||
	    (v && (buf_puts(b, "=") || buf_puts(b, v))))
		return MHD_NO;
	return MHD_YES;
}

static struct rdb *
db_get(struct server *s)
{
	struct rdb *db;

	pthread_mutex_lock(&s->mu);
	db = rdb_ref(s->db);
	pthread_mutex_unlock(&s->mu);
	return db;
}

/* Verifies the bearer token; fills `user` or *why. 1 = valid. */
static int
authenticate(struct server *s, struct MHD_Connection *conn,
    struct jwt_claims *cl, const char **why)
{
	const char *h = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct jwt_policy p = { s->o.issuer, s->o.audience, s->o.leeway,
		s->o.groups_claim, (int64_t)time(NULL) };
	char err[128];
	enum jwt_status st;

	*why = NULL;
	if (h == NULL)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		*why = "not a Bearer token";
		return 0;
	}
	st = rkeys_verify(
	    s->keys, h + 7, strlen(h + 7), &p, cl, err, sizeof(err));
	if (st != JWT_OK)
		*why = jwt_status_str(st);
	return st == JWT_OK;
}

static void
add_headers(
    struct MHD_Response *r, const struct rapi_resp *a, long long max_age)
{
	char cc[64];

	if (a->ctype)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
	if (a->etag[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
	if (a->cache) {
		snprintf(cc, sizeof(cc), "private, max-age=%lld", max_age);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_VARY, "Authorization");
	}
	if (a->cors) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
		MHD_add_response_header(
		    r, "Access-Control-Allow-Methods", "GET, OPTIONS");
		MHD_add_response_header(r, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type");
	}
	if (a->www_auth[0])
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, a->www_auth);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
access_log(struct server *s, const char *user, const char *method,
    const char *path, int status, double ms, size_t bytes)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(s->access,
	    "%s user=%s method=%s path=%s status=%d ms=%.2f bytes=%zu\n", when,
	    user ? user : "-", method, path, status, ms, bytes);
	fflush(s->access);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	static int first;
	struct server *s = cls;
	struct jwt_claims cl;
	struct rapi_user u = { 0 };
	struct rapi_req rq = { 0 };
	struct rapi_resp a;
	struct rapi_conf c = { s->o.issuer, s->o.audience, s->base_url };
	struct MHD_Response *r;
	struct timespec t0;
	struct buf q;
	struct rdb *db;
	enum MHD_Result rc;
	int ok;

	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &first; /* headers in; a body (if any) follows */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* bodies are ignored (GET only) */
		return MHD_YES;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_init(&q, 8192);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	ok = authenticate(s, conn, &cl, &rq.auth_error);
	if (ok)
		u = (struct rapi_user){ cl.sub, (const char *const *)cl.groups,
			cl.ngroups };
	rq.method = method;
	rq.path = url;
	rq.query = buf_len(&q) ? buf_data(&q) : NULL;
	rq.if_none_match = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	rq.user = ok ? &u : NULL;
	rq.now = (int64_t)time(NULL);
	db = db_get(s);
	rapi_handle(db, &c, &rq, &a);
	rdb_unref(&db);
	r = MHD_create_response_from_buffer(
	    a.len, a.body ? a.body : "", MHD_RESPMEM_MUST_COPY);
	add_headers(r, &a, s->o.max_age);
	rc = MHD_queue_response(conn, (unsigned)a.status, r);
	MHD_destroy_response(r);
	access_log(
	    s, ok ? cl.sub : NULL, method, url, a.status, ms_since(&t0), a.len);
	rapi_resp_clear(&a);
	if (ok)
		jwt_claims_clear(&cl);
	buf_finish(&q);
	return rc;
}

/* Keeps the path raw: registry_api percent-decodes path parameters. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* -- start, reload, stop ------------------------------------------------ */

static int
reload(struct server *s)
{
	char err[512];
	struct rdb *db = rdb_load(s->o.catalog, s->o.policy, err, sizeof(err));
	struct rdb *old;

	if (db == NULL) {
		log_error(
		    "reload refused, keeping the current catalog: %s", err);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	old = s->db;
	s->db = db;
	pthread_mutex_unlock(&s->mu);
	rdb_unref(&old); /* requests in flight hold their own reference */
	log_warn("catalog loaded: %zu server versions", rdb_count(db));
	return 0;
}

static struct MHD_Daemon *
start(struct server *s, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(s->o.listen, ':');
	char host[64];
	long long p;
	struct MHD_Daemon *d;

	if (colon == NULL || (size_t)(colon - s->o.listen) >= sizeof(host) ||
	    str_tonum(colon + 1, 0, 65535, &p) == -1) {
		fprintf(stderr, "mcp-registryd: --listen HOST:PORT\n");
		return NULL;
	}
	memcpy(host, s->o.listen, (size_t)(colon - s->o.listen));
	host[colon - s->o.listen] = '\0';
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(
		    stderr, "mcp-registryd: --listen needs an IPv4 address\n");
		return NULL;
	}
	sin.sin_port = htons((uint16_t)p);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
	    NULL, NULL, answer, s, MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->o.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_UNESCAPE_CALLBACK,
	    no_unescape, NULL, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mcp-registryd: cannot listen on %s\n",
		    s->o.listen);
		return NULL;
	}
	*port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	if (s->o.public_url)
		str_fmt(
		    s->base_url, sizeof(s->base_url), "%s", s->o.public_url);
	else
		str_fmt(s->base_url, sizeof(s->base_url), "http://%s:%d", host,
		    *port);
	return d;
}

/* Waits for signals: HUP reloads, INT/TERM return. */
static void
serve_signals(struct server *s, const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			(void)reload(s);
		else
			return;
	}
}

/* --check: loads catalog and policy offline; exit 0, or 1 with why. */
static int
check(const struct opts *o)
{
	char err[512];
	struct rdb *db = rdb_load(o->catalog, o->policy, err, sizeof(err));

	if (db == NULL) {
		fprintf(stderr, "mcp-registryd: %s\n", err);
		return 1;
	}
	printf("ok: %zu server versions in %s, policy %s\n", rdb_count(db),
	    o->catalog, o->policy);
	rdb_unref(&db);
	return 0;
}

int
main(int argc, char **argv)
{
	struct server s = { 0 };
	struct MHD_Daemon *d = NULL;
	sigset_t set;
	int rc = 1, port = 0;

	secret_protect_process(); /* bearer tokens pass through this process */
	jwipe_install();
	if ((rc = parse_args(argc, argv, &s.o)) != 0)
		return rc > 0 ? 0 : 2;
	if (s.o.check)
		return check(&s.o);
	rc = 1;
	s.access = stderr;
	if (s.o.log_file && (s.access = fopen(s.o.log_file, "ae")) == NULL) {
		fprintf(
		    stderr, "mcp-registryd: %s: cannot open\n", s.o.log_file);
		return 1;
	}
	if (s.o.log_file)
		(void)log_open_file(s.o.log_file);
	pthread_mutex_init(&s.mu, NULL);
	if (reload(&s) == -1)
		goto out;
	s.keys = rkeys_new(s.o.issuer, s.o.cacert);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD threads inherit it */
	signal(SIGPIPE, SIG_IGN);
	if ((d = start(&s, &port)) == NULL)
		goto out;
	printf("READY %d\n", port);
	fflush(stdout);
	serve_signals(&s, &set);
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	rkeys_free(&s.keys);
	rdb_unref(&s.db);
	if (s.access != stderr)
		fclose(s.access);
	log_close();
	return rc;
}

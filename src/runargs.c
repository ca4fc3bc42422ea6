/* SPDX-License-Identifier: ISC */
#include "runargs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdr.h"
#include "log.h"
#include "str.h"
#include "url.h"
#include "xmem.h"

enum opt {
	O_URL,
	O_HEADER,
	O_HEADER_FILE,
	O_CACERT,
	O_LOG_LEVEL,
	O_LOG_FILE,
	O_CONNECT,
	O_IDLE,
	O_MAX,
	O_CONFIG,
	O_SERVER,
	O_REFRESH,
	O_HELP,
};

/* The options of cmd_run.c (run_longopts), all but --help with a value. */
static const struct {
	const char *name;
	enum opt id;
} opts[] = {
	{ "url", O_URL },
	{ "header", O_HEADER },
	{ "header-file", O_HEADER_FILE },
	{ "cacert", O_CACERT },
	{ "log-level", O_LOG_LEVEL },
	{ "log-file", O_LOG_FILE },
	{ "connect-timeout", O_CONNECT },
	{ "request-timeout", O_IDLE },
	{ "max-request-time", O_MAX },
	{ "config", O_CONFIG },
	{ "server", O_SERVER },
	{ "refresh", O_REFRESH },
	{ "help", O_HELP },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Long option `s` (without "--", up to '=' or NUL): index, -1, -2 ambiguous. */
static int
find_long(const char *s, size_t n)
{
	int hit = -1;

	for (size_t i = 0; i < NOPTS; i++) {
		if (strncmp(opts[i].name, s, n) != 0)
			continue;
		if (opts[i].name[n] == '\0')
			return (int)i;
		hit = hit == -1 ? (int)i : -2;
	}
	return hit;
}

/* A header line with every well-formed ${VAR} replaced by "x" (new). */
static char *
devar(const char *v)
{
	size_t n = strlen(v), o = 0;
	char *out = x_malloc(n + 1);

	for (size_t i = 0; i < n;) {
		const char *close = v[i] == '$' && v[i + 1] == '{'
		    ? strchr(v + i + 2, '}')
		    : NULL;
		if (close && close > v + i + 2 && close - (v + i + 2) < 128) {
			out[o++] = 'x';
			i = (size_t)(close - v) + 1;
		} else
			out[o++] = v[i++];
	}
	out[o] = '\0';
	return out;
}

static int
check_header(
    struct runargs *r, const char *v, size_t i, char *err, size_t errsz)
{
	struct hdrlist *l = hdrlist_new();
	char *d = devar(v), why[256];
	int rc = hdrlist_add_line(l, d, why, sizeof(why));

	free(d);
	hdrlist_free(&l);
	if (rc == -1) {
		str_fmt(err, errsz, "--header: %s", why);
		return -1;
	}
	if (strncasecmp(v, "authorization:", 14) == 0 &&
	    strstr(v, "${") == NULL && !r->literal_auth) {
		r->literal_auth = 1;
		r->literal_auth_i = i;
	}
	return 0;
}

static int
check_value(struct runargs *r, enum opt id, const char *v, size_t i, char *err,
    size_t errsz)
{
	enum log_level lv;
	long long s;
	char why[256];

	switch (id) {
	case O_URL:
		r->url = v;
		if (url_check_upstream(v, why, sizeof(why)) == -1)
			return str_fail(err, errsz, "--url: %s", why);
		return 0;
	case O_HEADER:
		return check_header(r, v, i, err, errsz);
	case O_HEADER_FILE:
		r->header_file = v;
		r->header_file_i = i;
		break;
	case O_CACERT:
		r->cacert = v;
		r->cacert_i = i;
		break;
	case O_LOG_FILE:
		r->log_file = v;
		break;
	case O_CONFIG:
		r->config = v;
		r->config_i = i;
		break;
	case O_SERVER:
		r->server = v;
		break;
	case O_LOG_LEVEL:
		if (log_level_parse(v, &lv) == -1)
			return str_fail(err, errsz,
			    "--log-level must be error, warn, info or "
			    "debug");
		return 0;
	case O_REFRESH:
		if (str_tonum(v, 1, 7 * 24 * 3600, &s) == -1)
			return str_fail(err, errsz,
			    "--refresh takes whole seconds (1 to "
			    "604800)");
		return 0;
	case O_CONNECT:
	case O_IDLE:
	case O_MAX:
		if (str_tonum(v, 0, 7 * 24 * 3600, &s) == -1)
			return str_fail(err, errsz,
			    "%s takes whole seconds (0 to 604800)",
			    id == O_CONNECT    ? "--connect-timeout"
			        : id == O_IDLE ? "--request-timeout"
			                       : "--max-request-time");
		return 0;
	case O_HELP:
		break;
	}
	if (*v == '\0')
		return str_fail(err, errsz, "empty value");
	return 0;
}

/* One option at argv[*i]; advances *i past its value. */
static int
one_opt(struct runargs *r, size_t argc, char *const *argv, size_t *i, char *err,
    size_t errsz)
{
	const char *a = argv[*i], *eq = NULL, *v = NULL;
	int k;

	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		k = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (k < 0)
			return str_fail(err, errsz, "%s option '%.*s'",
			    k == -2 ? "ambiguous" : "unknown",
			    (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		v = eq ? eq + 1 : NULL;
	} else {
		k = a[1] == 'u'   ? 0
		    : a[1] == 'H' ? 1
		    : a[1] == 'h' ? (int)NOPTS - 1
		                  : -1;
		if (k < 0)
			return str_fail(
			    err, errsz, "unknown option '-%c'", a[1]);
		v = a[2] ? a + 2 : NULL;
	}
	if (opts[k].id == O_HELP)
		return str_fail(
		    err, errsz, "--help prints the usage and exits; remove it");
	if (v == NULL && *i + 1 >= argc)
		return str_fail(err, errsz, "--%s needs a value", opts[k].name);
	if (v == NULL)
		v = argv[++*i];
	return check_value(r, opts[k].id, v, *i, err, errsz);
}

int
runargs_check(size_t argc, char *const *argv, struct runargs *out, size_t *bad,
    char *err, size_t errsz)
{
	size_t i;
	int opts_done = 0;

	memset(out, 0, sizeof(*out));
	*bad = 0;
	if (argc == 0 || strcmp(argv[0], "run") != 0) {
		str_fmt(err, errsz,
		    "the first argument must be \"run\" (the IDE-facing "
		    "command)");
		return -1;
	}
	for (i = 1; i < argc; i++) {
		*bad = i;
		if (!opts_done && strcmp(argv[i], "--") == 0) {
			opts_done = 1;
			continue;
		}
		if (opts_done || argv[i][0] != '-' || argv[i][1] == '\0') {
			str_fmt(err, errsz, "unexpected argument");
			return -1;
		}
		if (one_opt(out, argc, argv, &i, err, errsz) == -1) {
			*bad = i < argc ? i : argc - 1;
			return -1;
		}
	}
	if (out->url && out->server) {
		str_fmt(err, errsz, "--url and --server exclude each other");
		return -1;
	}
	return 0;
}

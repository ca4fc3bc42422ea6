/* SPDX-License-Identifier: ISC */
#include "hdr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

struct hdr {
	struct secret *line; /* "Name: value" */
	char *name;          /* the name alone, for logs and lookups */
};

struct hdrlist {
	struct hdr items[BOUNDS_MAX_HEADERS]; /* used: [0, n) */
	size_t n;                             /* headers held */
};

static const char *const reserved[] = {
	"accept",
	"connection",
	"content-length",
	"content-type",
	"host",
	"last-event-id",
	"mcp-protocol-version",
	"mcp-session-id",
	"transfer-encoding",
};

struct hdrlist *
hdrlist_new(void)
{
	return x_calloc(1, sizeof(struct hdrlist));
}

void
hdrlist_free(struct hdrlist **lp)
{
	struct hdrlist *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		secret_free(&l->items[i].line);
		free(l->items[i].name);
	}
	free(l);
	*lp = NULL;
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Expands ${VAR} into `out`; returns 0, or -1 naming the variable. */
static int
expand(const char *v, size_t n, struct buf *out, char *err, size_t errsz)
{
	size_t i = 0;

	while (i < n) {
		const char *close, *val;
		char name[128];
		size_t nl;

		if (!(v[i] == '$' && i + 1 < n && v[i + 1] == '{')) {
			if (buf_append(out, v + i, 1) == -1)
				goto toolong;
			i++;
			continue;
		}
		close = memchr(v + i + 2, '}', n - i - 2);
		nl = close ? (size_t)(close - (v + i + 2)) : 0;
		if (close == NULL || nl == 0 || nl >= sizeof(name)) {
			snprintf(err, errsz, "unterminated or empty ${...}");
			return -1;
		}
		memcpy(name, v + i + 2, nl);
		name[nl] = '\0';
		if ((val = getenv(name)) == NULL) {
			snprintf(err, errsz,
			    "environment variable %s is not "
			    "set",
			    name);
			return -1;
		}
		if (buf_puts(out, val) == -1)
			goto toolong;
		i += nl + 3;
	}
	return 0;
toolong:
	snprintf(err, errsz, "header is longer than %d bytes",
	    BOUNDS_MAX_HEADER_LINE);
	return -1;
}

static int
check_name(const char *name, size_t n, char *err, size_t errsz)
{
	if (n == 0 || n > 128) {
		snprintf(err, errsz, "header must look like \"Name: value\"");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)name[i])) {
			snprintf(err, errsz,
			    "header name has an invalid "
			    "character");
			return -1;
		}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (str_eq_nocase(name, n, reserved[i])) {
			snprintf(err, errsz,
			    "header %.*s is set by the bridge "
			    "itself",
			    (int)n, name);
			return -1;
		}
	return 0;
}

static int
check_value(const char *v, size_t n, char *err, size_t errsz)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
			snprintf(err, errsz,
			    "header value contains CR, LF or "
			    "NUL");
			return -1;
		}
	return 0;
}

static void
push(struct hdrlist *l, const char *name, size_t nl, const char *val, size_t vl)
{
	struct buf b;
	char *line;
	size_t len;

	buf_init(&b, (size_t)-2);
	if (buf_append(&b, name, nl) == -1 || buf_puts(&b, ": ") == -1 ||
	    buf_append(&b, val, vl) == -1)
		abort(); /* cannot happen: no cap */
	line = buf_take(&b, &len);
	l->items[l->n].line = secret_new(line, len);
	l->items[l->n].name = x_strndup(name, nl);
	l->n++;
	secret_wipe(line, len);
	free(line);
}

int
hdrlist_add_line(struct hdrlist *l, const char *line, char *err, size_t errsz)
{
	const char *colon, *name = line, *val;
	size_t nl, vl;
	struct buf exp;
	int rc = -1;

	buf_init(&exp, BOUNDS_MAX_HEADER_LINE);
	if (l->n >= BOUNDS_MAX_HEADERS) {
		snprintf(
		    err, errsz, "more than %d headers", BOUNDS_MAX_HEADERS);
		goto out;
	}
	if ((colon = strchr(line, ':')) == NULL) {
		snprintf(err, errsz, "header must look like \"Name: value\"");
		goto out;
	}
	nl = (size_t)(colon - line);
	str_trim(&name, &nl);
	if (check_name(name, nl, err, errsz) == -1)
		goto out;
	if (expand(colon + 1, strlen(colon + 1), &exp, err, errsz) == -1)
		goto out;
	val = buf_data(&exp);
	vl = buf_len(&exp);
	str_trim(&val, &vl);
	if (check_value(val, vl, err, errsz) == -1)
		goto out;
	push(l, name, nl, val, vl);
	rc = 0;
out:
	if (exp.data)
		secret_wipe(exp.data, exp.cap);
	buf_finish(&exp);
	return rc;
}

static int
load_lines(
    struct hdrlist *l, FILE *f, const char *path, char *err, size_t errsz)
{
	char line[BOUNDS_MAX_HEADER_LINE + 2], why[256];
	int lineno = 0, rc = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		const char *p = line;

		lineno++;
		if (n && line[n - 1] != '\n' && !feof(f)) {
			snprintf(
			    err, errsz, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		str_trim(&p, &n);
		if (n == 0 || p[0] == '#')
			continue;
		if (hdrlist_add_line(l, p, why, sizeof(why)) == -1) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	secret_wipe(line, sizeof(line));
	return rc;
}

int
hdrlist_load_file(struct hdrlist *l, const char *path, char *err, size_t errsz)
{
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = load_lines(l, f, path, err, errsz);
	fclose(f);
	return rc;
}

void
hdrlist_add_bearer(struct hdrlist *l, const char *token, size_t len)
{
	char *val;

	if (hdrlist_has(l, "authorization") || l->n >= BOUNDS_MAX_HEADERS)
		return;
	val = x_malloc(len + 8);
	memcpy(val, "Bearer ", 8);
	memcpy(val + 7, token, len);
	val[len + 7] = '\0';
	push(l, "Authorization", 13, val, len + 7);
	secret_wipe(val, len + 7);
	free(val);
}

int
hdrlist_has(const struct hdrlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (str_eq_nocase(
		        l->items[i].name, strlen(l->items[i].name), name))
			return 1;
	return 0;
}

size_t
hdrlist_count(const struct hdrlist *l)
{
	return l->n;
}

const char *
hdrlist_line(const struct hdrlist *l, size_t i)
{
	return secret_data(l->items[i].line);
}

const char *
hdrlist_name(const struct hdrlist *l, size_t i)
{
	return l->items[i].name;
}

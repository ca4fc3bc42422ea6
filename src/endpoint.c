/* SPDX-License-Identifier: ISC */
#include "endpoint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "url.h"
#include "xmem.h"

/* Longest endpoint accepted (a path and a session id). */
#define ENDPOINT_MAX 4096

int
endpoint_same_origin(const char *a, const char *b)
{
	struct url ua, ub;
	char err[128];

	if (url_parse(a, &ua, err, sizeof(err)) == -1 ||
	    url_parse(b, &ub, err, sizeof(err)) == -1)
		return 0;
	return strcmp(ua.scheme, ub.scheme) == 0 && ua.port == ub.port &&
	    strcasecmp(ua.host, ub.host) == 0;
}

/* Length of "scheme://authority" at the start of absolute URL `s`. */
static size_t
origin_len(const char *s)
{
	const char *p = strstr(s, "://");

	if (p == NULL)
		return 0;
	p += 3;
	return (size_t)(p - s) + strcspn(p, "/?#");
}

/* RFC 3986 5.2.4: removes "." and ".." segments of `path` in place. */
static void
remove_dots(char *path)
{
	char *in = path, *out = path;

	while (*in) {
		if (strncmp(in, "/./", 3) == 0 || strcmp(in, "/.") == 0) {
			in += 2;
			if (*in == '\0')
				*out++ = '/';
		} else if (strncmp(in, "/../", 4) == 0 ||
		    strcmp(in, "/..") == 0) {
			int end = in[3] == '\0';

			in += 3;
			while (out > path && *--out != '/')
				;
			if (end)
				*out++ = '/';
		} else {
			do
				*out++ = *in++;
			while (*in && *in != '/');
		}
	}
	*out = '\0';
}

/* base path up to and including its last '/', ref appended. */
static char *
merge(const char *base, size_t olen, const char *ref)
{
	const char *path = base + olen;
	size_t plen = strcspn(path, "?#");
	const char *slash = NULL;

	for (size_t i = 0; i < plen; i++)
		if (path[i] == '/')
			slash = path + i;
	if (slash == NULL)
		return x_asprintf("/%s", ref);
	return x_asprintf("%.*s%s", (int)(slash - path + 1), path, ref);
}

/* Path and query of `ref` resolved against `base` (new string). */
static char *
resolve_path(const char *base, size_t olen, const char *ref)
{
	const char *path = base + olen;
	char *r;

	if (ref[0] == '/')
		r = x_strdup(ref);
	else if (ref[0] == '?')
		r = x_asprintf("%.*s%s", (int)strcspn(path, "?#"), path, ref);
	else if (ref[0] == '\0')
		r = x_asprintf("%.*s", (int)strcspn(path, "#"), path);
	else
		r = merge(base, olen, ref);
	if (r[0] == '/') {
		size_t q = strcspn(r, "?");
		char save = r[q];

		r[q] = '\0';
		remove_dots(r);
		if (save) {
			char *t = x_asprintf("%s?%s", r, r + q + 1);

			free(r);
			r = t;
		}
	} else if (r[0] != '?') {
		char *t = x_asprintf("/%s", r);

		free(r);
		r = t;
	}
	return r;
}

static int
has_scheme(const char *ref)
{
	size_t n = strspn(ref,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-"
	    ".");

	return n > 0 && ref[n] == ':';
}

/* ref (NUL-terminated, no fragment) resolved to an absolute URL. */
static char *
absolute(const char *base, const char *ref)
{
	size_t olen = origin_len(base);
	char *path, *abs;

	if (has_scheme(ref))
		return x_strdup(ref);
	if (ref[0] == '/' && ref[1] == '/')
		return x_asprintf(
		    "%.*s%s", (int)strcspn(base, ":") + 1, base, ref);
	path = resolve_path(base, olen, ref);
	abs = x_asprintf("%.*s%s", (int)olen, base, path);
	free(path);
	return abs;
}

int
endpoint_resolve(const char *base, const char *ref, size_t n, char *out,
    size_t outsz, char *err, size_t errsz)
{
	char *r = NULL, *abs = NULL;
	int rc = -1;

	while (n > 0 && strchr(" \t\r\n", ref[n - 1]))
		n--;
	while (n > 0 && strchr(" \t\r\n", ref[0]))
		ref++, n--;
	if (n == 0 || n > ENDPOINT_MAX) {
		str_fail(err, errsz, "endpoint event is empty or too long");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f) {
			str_fail(err, errsz,
			    "endpoint event contains spaces or "
			    "control characters");
			goto out;
		}
	r = x_asprintf("%.*s", (int)n, ref);
	r[strcspn(r, "#")] = '\0';
	abs = absolute(base, r);
	if (!endpoint_same_origin(base, abs)) {
		str_fail(err, errsz,
		    "endpoint event points to another origin than the SSE "
		    "URL; refused (the access token must not go there)");
		goto out;
	}
	if (str_fmt(out, outsz, "%s", abs) < 0) {
		str_fail(err, errsz, "endpoint URL is too long");
		goto out;
	}
	rc = 0;
out:
	free(r);
	free(abs);
	return rc;
}

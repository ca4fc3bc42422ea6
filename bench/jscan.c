/* SPDX-License-Identifier: ISC */
#include "jscan.h"

#include <string.h>

const char *
jscan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p points at '"'; returns the byte after the closing quote, or NULL. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* p points at '{' or '['; returns the byte after its match, or NULL. */
static const char *
skip_nested(const char *p, const char *end)
{
	size_t depth = 0;

	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

/* Returns the byte after the value starting at p, or NULL. */
static const char *
skip_value(const char *p, const char *end)
{
	const char *q;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[')
		return skip_nested(p, end);
	for (q = p; q < end; q++) {
		if (*q == ',' || *q == '}' || *q == ']' || *q == ' ' ||
		    *q == '\t' || *q == '\n' || *q == '\r')
			break;
	}
	return q == p ? NULL : q;
}

static void
record(const char *k, size_t kn, const char *v, size_t vn, struct jkey *keys,
    size_t nkeys)
{
	size_t i;

	for (i = 0; i < nkeys; i++) {
		if (strlen(keys[i].name) == kn &&
		    memcmp(keys[i].name, k, kn) == 0) {
			keys[i].val.p = v;
			keys[i].val.n = vn;
		}
	}
}

int
jscan_object(const char *p, size_t n, struct jkey *keys, size_t nkeys)
{
	const char *end = p + n, *k, *ke, *v;
	size_t i;

	for (i = 0; i < nkeys; i++) {
		keys[i].val.p = NULL;
		keys[i].val.n = 0;
	}
	p = jscan_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = jscan_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	while (p < end && *p == '"') {
		k = p + 1;
		if ((ke = skip_string(p, end)) == NULL)
			return -1;
		p = jscan_ws(ke, end);
		if (p >= end || *p != ':')
			return -1;
		v = jscan_ws(p + 1, end);
		if ((p = skip_value(v, end)) == NULL)
			return -1;
		record(
		    k, (size_t)(ke - 1 - k), v, (size_t)(p - v), keys, nkeys);
		p = jscan_ws(p, end);
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p != ',')
			return -1;
		p = jscan_ws(p + 1, end);
	}
	return -1;
}

int
jscan_is_str(struct jspan v, const char *s)
{
	size_t n = strlen(s);

	return v.p != NULL && v.n == n + 2 && v.p[0] == '"' &&
	    memcmp(v.p + 1, s, n) == 0 && v.p[n + 1] == '"';
}

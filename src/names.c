/* SPDX-License-Identifier: ISC */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "str.h"

/* Characters of a hash suffix ("-" + 8 hex digits). */
#define SUFFIX 9

static int
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
names_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > NAMES_ID_MAX || strstr(id, NAMES_SEP) ||
	    id[n - 1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!id_char(id[i]))
			return 0;
	return 1;
}

/* 8 hex digits naming `s`, the same at every run. */
static void
hash8(const char *s, char out[9])
{
	char id[33];

	str_pair_id(s, "names", id);
	memcpy(out, id, 8);
	out[8] = '\0';
}

/* The base id of a registry name: its last part, cleaned and cut. */
static void
base_id(const char *name, char out[NAMES_ID_MAX + 1])
{
	const char *p = strrchr(name, '/');
	size_t o = 0;

	for (p = p ? p + 1 : name; *p && o < NAMES_ID_MAX; p++) {
		char c = '-';

		if (id_char(*p))
			c = *p;

		if (c == '_' && o > 0 && out[o - 1] == '_')
			continue; /* no "__" inside an id */
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	if (o == 0)
		out[o++] = 's';
	out[o] = '\0';
}

/* Makes out unique with a hash of the full name: "<cut>-<hash8>". */
static void
suffix_id(const char *name, char out[NAMES_ID_MAX + 1])
{
	char h[9];
	size_t keep = strlen(out);

	if (keep > NAMES_ID_MAX - SUFFIX)
		keep = NAMES_ID_MAX - SUFFIX;
	while (keep > 0 && out[keep - 1] == '_')
		keep--;
	hash8(name, h);
	snprintf(out + keep, NAMES_ID_MAX + 1 - keep, "-%s", h);
}

/* Every derived id that clashes gets its suffix (all of them at once). */
static int
resolve_clashes(const char *const *names, const char *const *explicit_ids,
    size_t n, char (*out)[NAMES_ID_MAX + 1], char *err, size_t errsz)
{
	unsigned char clash[4096];

	if (n > sizeof(clash)) {
		str_fmt(err, errsz, "too many servers (%zu)", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int fixed = explicit_ids && explicit_ids[i];

		clash[i] = 0;
		for (size_t j = 0; j < n; j++) {
			if (j == i || strcmp(out[j], out[i]) != 0)
				continue;
			if (fixed && explicit_ids[j]) {
				str_fmt(err, errsz,
				    "server id '%s' is set twice", out[i]);
				return -1;
			}
			clash[i] = !fixed; /* a derived id gives way */
		}
	}
	for (size_t i = 0; i < n; i++)
		if (clash[i])
			suffix_id(names[i], out[i]);
	return 0;
}

int
names_ids(const char *const *names, const char *const *explicit_ids, size_t n,
    char (*out)[NAMES_ID_MAX + 1], char *err, size_t errsz)
{
	for (size_t i = 0; i < n; i++) {
		const char *x = explicit_ids ? explicit_ids[i] : NULL;

		if (x && !names_id_ok(x)) {
			str_fmt(err, errsz,
			    "server id '%.40s': expected [A-Za-z0-9_-], at "
			    "most "
			    "%d characters, no '__'",
			    x, NAMES_ID_MAX);
			return -1;
		}
		if (x)
			snprintf(out[i], NAMES_ID_MAX + 1, "%s", x);
		else
			base_id(names[i], out[i]);
	}
	return resolve_clashes(names, explicit_ids, n, out, err, errsz);
}

int
names_tool_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAMES_TOOL_MAX || !str_utf8_valid(name, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
		/* U+0080..U+009F are C2 80..C2 9F in UTF-8 */
		if (c == 0xc2 && (unsigned char)name[i + 1] >= 0x80 &&
		    (unsigned char)name[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

int
names_expose(const char *id, const char *name, char *out, size_t outsz)
{
	size_t il = strlen(id), nl = strlen(name);
	char h[9], whole[1024];

	if (!names_id_ok(id) || outsz < NAMES_MAX + 1)
		return -1;
	if (il + 2 + nl <= NAMES_MAX) {
		snprintf(out, outsz, "%s" NAMES_SEP "%s", id, name);
		return 0;
	}
	/* <id>__<start of name>-<hash of id and whole name> */
	snprintf(whole, sizeof(whole), "%s" NAMES_SEP "%.900s", id, name);
	hash8(whole, h);
	snprintf(out, outsz, "%s" NAMES_SEP "%.*s-%s", id,
	    (int)(NAMES_MAX - il - 2 - SUFFIX), name, h);
	return 0;
}

int
names_split(const char *exposed, char *id, const char **rest)
{
	const char *sep = strstr(exposed, NAMES_SEP);
	size_t n;

	if (sep == NULL || (n = (size_t)(sep - exposed)) == 0 ||
	    n > NAMES_ID_MAX)
		return -1;
	memcpy(id, exposed, n);
	id[n] = '\0';
	*rest = sep + 2;
	return names_id_ok(id) ? 0 : -1;
}

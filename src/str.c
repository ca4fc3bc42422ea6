/* SPDX-License-Identifier: ISC */
#include "str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
str_tonum(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip leading white space: only a sign or a digit. */
	if (s == NULL || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
str_fmt(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= dstsz)
		return -1;
	return n;
}

int
str_fail(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
	return -1;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
str_eq_nocase(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] == '\0' ||
		    lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return b[i] == '\0';
}

void
str_trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Length of the UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0xc2)
		return 0; /* continuation byte or overlong 2-byte lead */
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	cp = s[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
str_utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, len;

	while (i < n) {
		/* Fast path: 8 ASCII bytes at a time. */
		while (i + 8 <= n) {
			uint64_t w;

			__builtin_memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = utf8_seq(s + i, n - i)) == 0)
			return 0;
		i += len;
	}
	return 1;
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

void
str_pair_id(const char *a, const char *b, char out[33])
{
	uint64_t x = fnv1a(fnv1a(0xcbf29ce484222325ULL, a), b);
	uint64_t y = fnv1a(fnv1a(0x84222325cbf29ce4ULL, b), a);

	snprintf(out, 33, "%016llx%016llx", (unsigned long long)x,
	    (unsigned long long)y);
}

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	return c == '_' ? 63 : -1;
}

int
str_b64url_decode(const char *p, size_t n, unsigned char *out, size_t *outlen)
{
	unsigned int acc = 0;
	size_t o = 0;
	int bits = 0, v;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((v = b64url_val((unsigned char)p[i])) < 0)
			return -1;
		acc = ((acc << 6) | (unsigned int)v) & 0xffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include "url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "str.h"

static int
fail(char *err, size_t errsz, const char *why)
{
	snprintf(err, errsz, "%s", why);
	return -1;
}

/*
 * 1 for a dotted quad in 127.0.0.0/8 written as inet_pton() would read
 * it: four decimal octets, digits only, no leading zeros. Anything else
 * (signs, "0127", "127.1") may reach the resolver as a name.
 */
static int
is_loopback_v4(const char *h)
{
	for (int octet = 0; octet < 4; octet++) {
		int v = 0, digits = 0;

		for (; *h >= '0' && *h <= '9'; h++) {
			if (digits++ > 0 && v == 0)
				return 0; /* leading zero */
			if ((v = v * 10 + (*h - '0')) > 255)
				return 0;
		}
		if (digits == 0 || (octet == 0 && v != 127))
			return 0;
		if (octet < 3 && *h++ != '.')
			return 0;
	}
	return *h == '\0';
}

static int
is_loopback(const char *host)
{
	if (str_eq_nocase(host, strlen(host), "localhost") ||
	    strcmp(host, "::1") == 0 ||
	    str_eq_nocase(host, strlen(host), "localhost."))
		return 1;
	return is_loopback_v4(host);
}

static int
parse_scheme(const char **sp, struct url *u, char *err, size_t errsz)
{
	const char *s = *sp;

	if (strncasecmp(s, "https://", 8) == 0) {
		snprintf(u->scheme, sizeof(u->scheme), "https");
		u->port = 443;
		*sp = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		snprintf(u->scheme, sizeof(u->scheme), "http");
		u->port = 80;
		*sp = s + 7;
	} else {
		return fail(err, errsz,
		    "URL must start with https:// "
		    "(or http:// for a loopback host)");
	}
	return 0;
}

static int
parse_port(const char *p, size_t n, struct url *u, char *err, size_t errsz)
{
	char tmp[8];
	long long v;

	if (n == 0 || n >= sizeof(tmp) || strspn(p, "0123456789") < n)
		return fail(err, errsz, "URL has an invalid port");
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (str_tonum(tmp, 1, 65535, &v) == -1)
		return fail(err, errsz, "URL has an invalid port");
	u->port = (int)v;
	return 0;
}

static int
parse_authority(const char *s, size_t n, struct url *u, char *err, size_t errsz)
{
	const char *host = s, *colon = NULL;
	size_t hlen;

	if (memchr(s, '@', n) != NULL)
		return fail(err, errsz,
		    "URL must not contain user info "
		    "(use --header for credentials)");
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb == NULL)
			return fail(err, errsz, "URL has an unclosed [");
		host = s + 1;
		hlen = (size_t)(rb - host);
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return fail(err, errsz, "URL has junk after ]");
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hlen = colon ? (size_t)(colon - s) : n;
	}
	if (hlen == 0 || hlen >= sizeof(u->host))
		return fail(err, errsz, "URL has no valid host");
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)host[i] <= ' ' || host[i] == '/' ||
		    host[i] == '?' || host[i] == '#')
			return fail(err, errsz,
			    "URL host has invalid "
			    "characters");
	if (colon &&
	    parse_port(colon + 1, (size_t)(s + n - colon - 1), u, err, errsz) ==
	        -1)
		return -1;
	return 0;
}

int
url_parse(const char *s, struct url *u, char *err, size_t errsz)
{
	size_t n;

	memset(u, 0, sizeof(*u));
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
			return fail(err, errsz,
			    "URL contains spaces or "
			    "control characters");
	if (parse_scheme(&s, u, err, errsz) == -1)
		return -1;
	n = strcspn(s, "/?#");
	if (parse_authority(s, n, u, err, errsz) == -1)
		return -1;
	u->loopback = is_loopback(u->host);
	return 0;
}

int
url_check_upstream(const char *s, char *err, size_t errsz)
{
	struct url u;

	if (url_parse(s, &u, err, errsz) == -1)
		return -1;
	if (strcmp(u.scheme, "http") == 0 && !u.loopback)
		return fail(err, errsz,
		    "plain http:// is only allowed for "
		    "loopback hosts (127.0.0.1, ::1, localhost); use https://");
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * url: a strict parser for the http(s) URLs of hosted servers.
 *
 * It exists to answer the questions the bridge must ask before it sends
 * a bearer token anywhere: which scheme, which host, is the host loopback,
 * what is the origin. It does not normalise or percent-decode.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>

struct url {
	char scheme[8]; /* "http" or "https", lower case */
	char host[256]; /* host name or IP literal, without [] for IPv6 */
	int port;       /* explicit port, or the scheme's default */
	int loopback;   /* 1 for localhost, 127.0.0.0/8 and ::1 */
};

/*
 * Parses `s` into `u`. Accepts only http and https, an optional port,
 * and no user info (credentials in URLs end up in logs). Returns 0, or -1
 * with a one-line reason in `err`.
 */
int url_parse(const char *s, struct url *u, char *err, size_t errsz);

/*
 * Parses and applies the transport policy: https always, http only for a
 * loopback host. Returns 0, or -1 with the reason in `err`.
 */
int url_check_upstream(const char *s, char *err, size_t errsz);

#endif

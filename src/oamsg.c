/* SPDX-License-Identifier: ISC */
#include "oamsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "secret.h"
#include "str.h"
#include "url.h"
#include "xmem.h"

/* Longest user code, URI or claim shown to the user. */
#define SHOWN_MAX 2048
/* Longest token the bridge keeps (JWTs with many claims stay far below). */
#define TOKEN_MAX (64u * 1024)
/* Longest lifetime believed (a year); larger values are clamped. */
#define LIFETIME_MAX (366LL * 24 * 3600)

static json_t *
load_object(const char *js, size_t n, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root;

	if (n > OAMSG_MAX_BODY) {
		str_fmt(err, errsz, "response too large (%zu bytes)", n);
		return NULL;
	}
	root = json_loadb(js, n, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		str_fmt(err, errsz, "invalid JSON at line %d column %d",
		    je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		str_fmt(err, errsz, "response is not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* A string member, or NULL when absent; -1 when present but not a string. */
static int
get_str(json_t *o, const char *key, const char **out, char *err, size_t errsz)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		str_fmt(err, errsz, "\"%s\" is not a non-empty string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
need_str(json_t *o, const char *key, const char **out, char *err, size_t errsz)
{
	if (get_str(o, key, out, err, errsz) == -1)
		return -1;
	if (*out == NULL) {
		str_fmt(err, errsz, "\"%s\" is missing", key);
		return -1;
	}
	return 0;
}

/* An endpoint URL: https, or http on loopback. */
static int
get_url(json_t *o, const char *key, int required, char **out, char *err,
    size_t errsz)
{
	char uerr[160];
	const char *s = NULL;

	*out = NULL;
	if ((required ? need_str : get_str)(o, key, &s, err, errsz) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (strlen(s) > SHOWN_MAX ||
	    url_check_upstream(s, uerr, sizeof(uerr))) {
		str_fmt(err, errsz, "\"%s\": %s", key,
		    strlen(s) > SHOWN_MAX ? "too long" : uerr);
		return -1;
	}
	*out = x_strdup(s);
	return 0;
}

/* A positive integer number of seconds; `def` when absent. */
static int
get_secs(json_t *o, const char *key, int64_t def, int64_t *out, char *err,
    size_t errsz)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		str_fmt(err, errsz, "\"%s\" is not a positive integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	if (*out > LIFETIME_MAX)
		*out = LIFETIME_MAX;
	return 0;
}

/* Tokens go into HTTP headers and form bodies: visible ASCII only. */
static int
token_chars(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

static struct secret *
get_secret(
    json_t *o, const char *key, int required, int *bad, char *err, size_t errsz)
{
	const char *s = NULL;

	if ((required ? need_str : get_str)(o, key, &s, err, errsz) == -1) {
		*bad = 1;
		return NULL;
	}
	if (s != NULL && (strlen(s) > TOKEN_MAX || !token_chars(s))) {
		str_fmt(err, errsz, "\"%s\" is too long or not printable", key);
		*bad = 1;
		return NULL;
	}
	return s ? secret_new(s, strlen(s)) : NULL;
}

int
oamsg_meta_parse(const char *js, size_t n, const char *issuer,
    struct oamsg_meta *m, char *err, size_t errsz)
{
	const char *iss;
	json_t *o;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if ((o = load_object(js, n, err, errsz)) == NULL)
		return -1;
	if (need_str(o, "issuer", &iss, err, errsz) == -1)
		goto out;
	if (strcmp(iss, issuer) != 0) {
		char shown[256];

		str_fmt(err, errsz,
		    "metadata names issuer \"%s\", not the configured one",
		    oamsg_clean(iss, shown, sizeof(shown)));
		goto out;
	}
	m->issuer = x_strdup(iss);
	if (get_url(o, "token_endpoint", 1, &m->token_ep, err, errsz) ||
	    get_url(o, "device_authorization_endpoint", 0, &m->device_ep, err,
	        errsz) ||
	    get_url(o, "revocation_endpoint", 0, &m->revoke_ep, err, errsz) ||
	    get_url(o, "jwks_uri", 0, &m->jwks_uri, err, errsz))
		goto out;
	if (m->device_ep == NULL) {
		str_fmt(err, errsz,
		    "the issuer offers no device flow "
		    "(no device_authorization_endpoint in its metadata)");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		oamsg_meta_clear(m);
	return rc;
}

void
oamsg_meta_clear(struct oamsg_meta *m)
{
	free(m->issuer);
	free(m->device_ep);
	free(m->token_ep);
	free(m->revoke_ep);
	free(m->jwks_uri);
	memset(m, 0, sizeof(*m));
}

/* A user code: printable ASCII without spaces, at most 64 characters. */
static int
user_code_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return i > 0 && i <= 64;
}

int
oamsg_device_parse(
    const char *js, size_t n, struct oamsg_device *d, char *err, size_t errsz)
{
	const char *uc;
	json_t *o;
	int bad = 0, rc = -1;

	memset(d, 0, sizeof(*d));
	if ((o = load_object(js, n, err, errsz)) == NULL)
		return -1;
	d->device_code = get_secret(o, "device_code", 1, &bad, err, errsz);
	if (bad || need_str(o, "user_code", &uc, err, errsz) == -1)
		goto out;
	if (!user_code_ok(uc)) {
		str_fmt(err, errsz, "\"user_code\" has unprintable characters");
		goto out;
	}
	d->user_code = x_strdup(uc);
	if (get_url(
	        o, "verification_uri", 1, &d->verification_uri, err, errsz) ||
	    get_url(o, "verification_uri_complete", 0,
	        &d->verification_uri_complete, err, errsz) ||
	    get_secs(o, "expires_in", -1, &d->expires_in, err, errsz) ||
	    get_secs(o, "interval", 5, &d->interval, err, errsz))
		goto out;
	if (d->expires_in < 0) {
		str_fmt(err, errsz, "\"expires_in\" is missing");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		oamsg_device_clear(d);
	return rc;
}

void
oamsg_device_clear(struct oamsg_device *d)
{
	secret_free(&d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

int
oamsg_token_parse(
    const char *js, size_t n, struct oamsg_token *t, char *err, size_t errsz)
{
	const char *type;
	json_t *o;
	int bad = 0, rc = -1;

	memset(t, 0, sizeof(*t));
	if ((o = load_object(js, n, err, errsz)) == NULL)
		return -1;
	t->access = get_secret(o, "access_token", 1, &bad, err, errsz);
	if (!bad)
		t->refresh =
		    get_secret(o, "refresh_token", 0, &bad, err, errsz);
	if (!bad)
		t->id_token = get_secret(o, "id_token", 0, &bad, err, errsz);
	if (bad || need_str(o, "token_type", &type, err, errsz) == -1)
		goto out;
	if (!str_eq_nocase(type, strlen(type), "Bearer")) {
		str_fmt(err, errsz, "unsupported token_type (not Bearer)");
		goto out;
	}
	if (get_secs(o, "expires_in", -1, &t->expires_in, err, errsz) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	if (rc == -1)
		oamsg_token_clear(t);
	return rc;
}

void
oamsg_token_clear(struct oamsg_token *t)
{
	secret_free(&t->access);
	secret_free(&t->refresh);
	secret_free(&t->id_token);
	memset(t, 0, sizeof(*t));
}

int
oamsg_error_parse(const char *js, size_t n, char *code, size_t codesz,
    char *desc, size_t descsz)
{
	char e[8];
	const char *c, *d;
	json_t *o;
	int rc = -1;

	if (codesz)
		code[0] = '\0';
	if (descsz)
		desc[0] = '\0';
	if ((o = load_object(js, n, e, sizeof(e))) == NULL)
		return -1;
	if (need_str(o, "error", &c, e, sizeof(e)) == -1 || !user_code_ok(c) ||
	    strlen(c) >= codesz)
		goto out;
	memcpy(code, c, strlen(c) + 1);
	if (get_str(o, "error_description", &d, e, sizeof(e)) == 0 && d)
		oamsg_clean(d, desc, descsz);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c)) {
			if (buf_append(b, s, 1) == -1)
				return -1;
			continue;
		}
		esc[0] = c == ' ' ? '+' : '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(b, esc, c == ' ' ? 1 : 3) == -1)
			return -1;
	}
	return 0;
}

int
oamsg_form_add(struct buf *b, const char *key, const char *val)
{
	if (buf_len(b) && buf_append(b, "&", 1) == -1)
		return -1;
	if (form_escape(b, key) == -1 || buf_append(b, "=", 1) == -1)
		return -1;
	return form_escape(b, val);
}

static char *
dup_clean(json_t *o, const char *key)
{
	char shown[SHOWN_MAX];
	const char *s = json_string_value(json_object_get(o, key));

	return s ? x_strdup(oamsg_clean(s, shown, sizeof(shown))) : NULL;
}

static void
claims_fill(json_t *o, struct oamsg_claims *c)
{
	json_t *g = json_object_get(o, "groups"), *v;
	size_t i;

	c->iss = dup_clean(o, "iss");
	c->sub = dup_clean(o, "sub");
	c->email = dup_clean(o, "email");
	c->name = dup_clean(o, "name");
	if (json_is_integer(json_object_get(o, "exp")))
		c->exp = json_integer_value(json_object_get(o, "exp"));
	if (!json_is_array(g) || json_array_size(g) == 0)
		return;
	c->groups = x_calloc(json_array_size(g), sizeof(char *));
	json_array_foreach(g, i, v)
	{
		char shown[SHOWN_MAX];

		if (json_is_string(v) && c->ngroups < 256)
			c->groups[c->ngroups++] = x_strdup(oamsg_clean(
			    json_string_value(v), shown, sizeof(shown)));
	}
}

int
oamsg_claims_parse(
    const char *jwt, size_t n, struct oamsg_claims *c, char *err, size_t errsz)
{
	const char *d1, *d2;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	json_t *o = NULL;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	d1 = memchr(jwt, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jwt)) : NULL;
	if (n > TOKEN_MAX || d2 == NULL ||
	    memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jwt))) {
		str_fmt(err, errsz, "not a compact JWT");
		return -1;
	}
	raw = x_malloc((size_t)(d2 - d1) + 4);
	if (str_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), raw, &rawlen) ==
	    -1) {
		str_fmt(err, errsz, "JWT payload is not base64url");
		goto out;
	}
	if ((o = load_object((char *)raw, rawlen, err, errsz)) == NULL)
		goto out;
	claims_fill(o, c);
	rc = 0;
out:
	json_decref(o);
	secret_wipe(raw, (size_t)(d2 - d1) + 4);
	free(raw);
	return rc;
}

void
oamsg_claims_clear(struct oamsg_claims *c)
{
	free(c->iss);
	free(c->sub);
	free(c->email);
	free(c->name);
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80 ? 1
	    : c >= 0xf0     ? 4
	    : c >= 0xe0     ? 3
	    : c >= 0xc2     ? 2
	                    : 0;

	for (size_t i = 1; i < n; i++)
		if (s[i] == '\0')
			return 0;
	return n && str_utf8_valid(s, n) ? n : 0;
}

char *
oamsg_clean(const char *s, char *out, size_t outsz)
{
	size_t o = 0, n;

	if (outsz == 0)
		return out;
	while (*s) {
		unsigned char c = (unsigned char)*s;

		n = utf8_len(s);
		if (o + (n ? n : 1) >= outsz)
			break;
		/* C0, DEL and C1 (U+0080..U+009F: 8-bit CSI and friends) */
		if (n == 0 || c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && (unsigned char)s[1] < 0xa0)) {
			out[o++] = '?';
			s += n ? n : 1; /* one '?' per character */
			continue;
		}
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
	return out;
}

/* SPDX-License-Identifier: ISC */
#include "tokset.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "secret.h"
#include "str.h"
#include "xmem.h"

/* Longest resource indicator kept. */
#define RESOURCE_MAX 2048
/* Largest blob accepted from the store. */
#define BLOB_MAX (512u * 1024)

struct access {
	char *resource;       /* NULL = default audience */
	struct secret *token; /* the access token */
	int64_t expires_at;   /* unix seconds */
	int64_t lifetime;     /* seconds */
};

struct tokset {
	struct secret *refresh;
	struct secret *id;
	struct access acc[TOKSET_MAX_ACCESS];
	size_t nacc;
};

struct tokset *
tokset_new(void)
{
	return x_calloc(1, sizeof(struct tokset));
}

static void
access_clear(struct access *a)
{
	free(a->resource);
	secret_free(&a->token);
	memset(a, 0, sizeof(*a));
}

void
tokset_free(struct tokset **tp)
{
	struct tokset *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	secret_free(&t->refresh);
	secret_free(&t->id);
	for (size_t i = 0; i < t->nacc; i++)
		access_clear(&t->acc[i]);
	free(t);
	*tp = NULL;
}

static int
same_resource(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static struct access *
find(const struct tokset *t, const char *resource)
{
	for (size_t i = 0; i < t->nacc; i++)
		if (same_resource(t->acc[i].resource, resource))
			return (struct access *)&t->acc[i];
	return NULL;
}

void
tokset_set_refresh(struct tokset *t, struct secret *s)
{
	secret_free(&t->refresh);
	t->refresh = s;
}

void
tokset_set_id(struct tokset *t, struct secret *s)
{
	secret_free(&t->id);
	t->id = s;
}

static int
put_access(struct tokset *t, const char *resource, struct secret *at,
    int64_t expires_at, int64_t lifetime)
{
	struct access *a = find(t, resource);

	if (a == NULL) {
		if (t->nacc == TOKSET_MAX_ACCESS) {
			secret_free(&at);
			return -1;
		}
		a = &t->acc[t->nacc++];
		a->resource = resource ? x_strdup(resource) : NULL;
	}
	secret_free(&a->token);
	a->token = at;
	a->expires_at = expires_at;
	a->lifetime = lifetime;
	return 0;
}

/* An audience is a URL: non-empty, bounded, UTF-8 without NUL. */
static int
resource_ok(const char *res, size_t len)
{
	return len > 0 && len <= RESOURCE_MAX && strlen(res) == len &&
	    str_utf8_valid(res, len);
}

int
tokset_set_access(struct tokset *t, const char *resource, struct secret *at,
    int64_t now, int64_t expires_in)
{
	int64_t life = expires_in > 0 ? expires_in : TOKSET_DEFAULT_LIFETIME_S;

	if (resource && !resource_ok(resource, strlen(resource))) {
		secret_free(&at);
		return -1;
	}
	return put_access(t, resource, at, now + life, life);
}

void
tokset_drop_access(struct tokset *t, const char *resource)
{
	struct access *a = find(t, resource);

	if (a == NULL)
		return;
	access_clear(a);
	*a = t->acc[--t->nacc];
	memset(&t->acc[t->nacc], 0, sizeof(t->acc[0]));
}

const struct secret *
tokset_refresh(const struct tokset *t)
{
	return t->refresh;
}

const struct secret *
tokset_id(const struct tokset *t)
{
	return t->id;
}

const struct secret *
tokset_access(const struct tokset *t, const char *resource, int64_t now)
{
	const struct access *a = find(t, resource);

	return a && a->expires_at > now ? a->token : NULL;
}

int64_t
tokset_expires_at(const struct tokset *t, const char *resource)
{
	const struct access *a = find(t, resource);

	return a ? a->expires_at : 0;
}

int64_t
tokset_refresh_at(const struct tokset *t, const char *resource)
{
	const struct access *a = find(t, resource);
	int64_t margin;

	if (a == NULL)
		return 0;
	margin = a->lifetime / 10;
	if (margin < TOKSET_MIN_MARGIN_S)
		margin = TOKSET_MIN_MARGIN_S;
	return a->expires_at - margin;
}

/* Serialisation. jansson's memory is wiped on free (jwipe). */

static json_t *
str_or_null(const struct secret *s)
{
	return s ? json_stringn(secret_data(s), secret_len(s)) : json_null();
}

static json_t *
build(const struct tokset *t)
{
	json_t *root, *arr;

	arr = json_array();
	for (size_t i = 0; i < t->nacc; i++) {
		const struct access *a = &t->acc[i];

		json_array_append_new(arr,
		    json_pack("{s:o, s:o, s:I, s:I}", "resource",
		        a->resource ? json_string(a->resource) : json_null(),
		        "token", str_or_null(a->token), "expires_at",
		        (json_int_t)a->expires_at, "lifetime",
		        (json_int_t)a->lifetime));
	}
	root = json_pack("{s:i, s:o, s:o, s:o}", "v", 1, "refresh_token",
	    str_or_null(t->refresh), "id_token", str_or_null(t->id), "access",
	    arr);
	return root;
}

struct secret *
tokset_dump(const struct tokset *t)
{
	struct secret *s = NULL;
	json_t *root = build(t);
	size_t n;
	char *p;

	if (root == NULL)
		return NULL;
	n = json_dumpb(root, NULL, 0, JSON_COMPACT);
	if (n > 0 && n <= BLOB_MAX) {
		p = x_malloc(n);
		if (json_dumpb(root, p, n, JSON_COMPACT) == n)
			s = secret_new(p, n);
		secret_wipe(p, n);
		free(p);
	}
	json_decref(root);
	return s;
}

/* Tokens go into HTTP headers: visible ASCII only. */
static int
printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return 0;
	return 1;
}

static struct secret *
opt_secret(json_t *v, int *bad)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    !printable(json_string_value(v), json_string_length(v))) {
		*bad = 1;
		return NULL;
	}
	return secret_new(json_string_value(v), json_string_length(v));
}

static int
parse_access(struct tokset *t, json_t *e)
{
	json_t *res = json_object_get(e, "resource");
	json_t *exp = json_object_get(e, "expires_at");
	json_t *life = json_object_get(e, "lifetime");
	struct secret *tok;
	int bad = 0;

	if (!json_is_object(e) || !(json_is_null(res) || json_is_string(res)) ||
	    !json_is_integer(exp) || !json_is_integer(life) ||
	    json_integer_value(life) <= 0 || json_integer_value(exp) < 0)
		return -1;
	if (json_is_string(res) &&
	    !resource_ok(json_string_value(res), json_string_length(res)))
		return -1;
	tok = opt_secret(json_object_get(e, "token"), &bad);
	if (tok == NULL)
		return -1;
	return put_access(t, json_string_value(res), tok,
	    json_integer_value(exp), json_integer_value(life));
}

static int
fill(struct tokset *t, json_t *root, char *err, size_t errsz)
{
	json_t *arr = json_object_get(root, "access"), *e;
	int bad = 0;
	size_t i;

	if (!json_is_object(root) ||
	    !json_is_integer(json_object_get(root, "v")) ||
	    json_integer_value(json_object_get(root, "v")) != 1) {
		str_fmt(err, errsz, "stored token set has an unknown format");
		return -1;
	}
	t->refresh = opt_secret(json_object_get(root, "refresh_token"), &bad);
	t->id = opt_secret(json_object_get(root, "id_token"), &bad);
	if (bad || !(arr == NULL || json_is_array(arr))) {
		str_fmt(err, errsz, "stored token set is malformed");
		return -1;
	}
	json_array_foreach(arr, i, e)
	{
		if (parse_access(t, e) == -1) {
			str_fmt(err, errsz,
			    "stored token set: access entry %zu is malformed",
			    i);
			return -1;
		}
	}
	return 0;
}

struct tokset *
tokset_parse(const struct secret *blob, char *err, size_t errsz)
{
	struct tokset *t = NULL;
	json_error_t je;
	json_t *root;

	if (secret_len(blob) > BLOB_MAX) {
		str_fmt(err, errsz, "stored token set is too large");
		return NULL;
	}
	root = json_loadb(
	    secret_data(blob), secret_len(blob), JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		str_fmt(err, errsz, "stored token set is not JSON (line %d)",
		    je.line);
		return NULL;
	}
	t = tokset_new();
	if (fill(t, root, err, errsz) == -1)
		tokset_free(&t);
	json_decref(root);
	return t;
}

/* SPDX-License-Identifier: ISC */
/*
 * idecfg_edit: entries built from a client's "entry" template, and the
 * add / remove / mentions operations on config text through jsoned and
 * tomled. "Adding" an entry that is already there with the same value
 * (compared as JSON values, so comments and spacing do not matter)
 * changes nothing.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "idecfg.h"
#include "idecfg_int.h"
#include "jsoned.h"
#include "tomled.h"
#include "str.h"
#include "xmem.h"

static int
pos_err(char *err, size_t errsz, int line, int col, const char *msg)
{
	if (line > 0)
		return str_fail(err, errsz, "%d:%d: %s", line, col, msg);
	return str_fail(err, errsz, "%s", msg);
}

/* The entry with ${command} and ${args} filled in (new), or NULL. */
static json_t *
make_entry(const struct idecfg *c, const char *command, const char *const *args,
    size_t nargs)
{
	json_t *tmpl = json_object_get(c->j, "entry"), *e = json_object();
	json_t *a = json_array(), *v, *nv;
	const char *k;
	int bad = 0;

	for (size_t i = 0; i < nargs; i++)
		bad |= json_array_append_new(a, json_string(args[i])) == -1;
	json_object_foreach(tmpl, k, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "${command}") == 0)
			bad |= (nv = json_string(command)) == NULL;
		else if (json_is_string(v) &&
		    strcmp(json_string_value(v), "${args}") == 0)
			nv = json_incref(a);
		else
			nv = json_deep_copy(v);
		if (nv != NULL)
			bad |= json_object_set_new(e, k, nv) == -1;
	}
	json_decref(a);
	if (bad) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int
toml_value(struct buf *b, json_t *v)
{
	char *s;
	size_t i;
	json_t *e;
	int rc = 0;

	if (json_is_string(v)) {
		s = tomled_string(json_string_value(v));
		rc = buf_puts(b, s);
		free(s);
	} else if (json_is_boolean(v))
		rc = buf_puts(b, json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		rc = buf_printf(b, "%lld", (long long)json_integer_value(v));
	else {
		rc = buf_puts(b, "[");
		json_array_foreach(v, i, e) rc |=
		    buf_puts(b, i ? ", " : "") | toml_value(b, e);
		rc |= buf_puts(b, "]");
	}
	return rc;
}

/* key = value lines of a TOML entry (new). */
static char *
toml_body(json_t *entry)
{
	struct buf b;
	const char *k;
	json_t *v;
	char *key;
	int rc = 0;

	buf_init(&b, 1u << 24);
	json_object_foreach(entry, k, v)
	{
		key = tomled_key(k);
		rc |= buf_printf(&b, "%s = ", key) | toml_value(&b, v) |
		    buf_puts(&b, "\n");
		free(key);
	}
	if (rc != 0) {
		buf_finish(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static char *
json_text(json_t *v)
{
	return json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

char *
idecfg_snippet(const struct idecfg *c, const char *name, const char *command,
    const char *const *args, size_t nargs)
{
	json_t *e = make_entry(c, command, args, nargs), *doc;
	char *body, *out = NULL, *s;
	struct tomled_err te;
	size_t n;

	if (e == NULL)
		return NULL;
	if (c->format == IDECFG_TOML) {
		if ((body = toml_body(e)) != NULL &&
		    tomled_set("", 0, c->key, name, body, &out, &n, &te) != 1)
			out = NULL;
		free(body);
	} else {
		doc = json_pack("{s:{s:O}}", c->key, name, e);
		if (doc != NULL && (s = json_text(doc)) != NULL) {
			out = x_asprintf("%s\n", s);
			free(s);
		}
		json_decref(doc);
	}
	json_decref(e);
	return out;
}

/* 1 when KEY.NAME in text already equals `entry` as a JSON value. */
static int
json_same(const struct idecfg *c, const char *text, size_t vs, size_t ve,
    json_t *entry)
{
	char *plain = jsoned_strip(text + vs, ve - vs);
	json_t *old = json_loadb(plain, ve - vs, JSON_DECODE_ANY, NULL);
	int same = old != NULL && json_equal(old, entry);

	json_decref(old);
	free(plain);
	return same;
}

static int
add_json(const struct idecfg *c, const char *text, size_t len, const char *name,
    json_t *entry, char **out, size_t *outlen, enum idecfg_change *ch,
    char *err, size_t errsz)
{
	struct jsoned_err je;
	size_t vs, ve;
	char *v;
	int r;

	if ((r = jsoned_get(text, len, &c->jo, c->key, name, &vs, &ve, &je)) ==
	    -1)
		return pos_err(err, errsz, je.line, je.col, je.msg);
	if (r == 1 && json_same(c, text, vs, ve, entry)) {
		*ch = IDECFG_SAME;
		return 0;
	}
	if ((v = json_text(entry)) == NULL)
		return str_fail(err, errsz, "cannot encode the entry");
	r = jsoned_set(text, len, &c->jo, c->key, name, v, out, outlen, &je) ==
	        -1
	    ? pos_err(err, errsz, je.line, je.col, je.msg)
	    : (*ch = r == 1 ? IDECFG_UPDATED : IDECFG_ADDED, 0);
	free(v);
	return r;
}

static void
note_found(const char *n, const char *v, size_t vl, void *arg)
{
	const char **want = arg;

	(void)v;
	(void)vl;
	if (*want != NULL && strcmp(n, *want) == 0)
		*want = NULL;
}

static int
add_toml(const struct idecfg *c, const char *text, size_t len, const char *name,
    json_t *entry, char **out, size_t *outlen, enum idecfg_change *ch,
    char *err, size_t errsz)
{
	struct tomled_err te;
	const char *want = name;
	char *body = toml_body(entry);
	int r;

	if (body == NULL)
		return str_fail(err, errsz, "cannot encode the entry");
	if (tomled_each(text, len, c->key, note_found, &want, &te) == -1 ||
	    (r = tomled_set(text, len, c->key, name, body, out, outlen, &te)) ==
	        -1) {
		free(body);
		return pos_err(err, errsz, te.line, te.col, te.msg);
	}
	free(body);
	*ch = r == 0       ? IDECFG_SAME
	    : want == NULL ? IDECFG_UPDATED
	                   : IDECFG_ADDED;
	return 0;
}

int
idecfg_add(const struct idecfg *c, const char *text, size_t len,
    const char *name, const char *command, const char *const *args,
    size_t nargs, char **out, size_t *outlen, enum idecfg_change *ch, char *err,
    size_t errsz)
{
	json_t *e = make_entry(c, command, args, nargs);
	int rc;

	*out = NULL;
	if (e == NULL)
		return str_fail(
		    err, errsz, "the command or an argument is not UTF-8");
	if (c->format == IDECFG_TOML)
		rc = add_toml(
		    c, text, len, name, e, out, outlen, ch, err, errsz);
	else
		rc = add_json(
		    c, text, len, name, e, out, outlen, ch, err, errsz);
	json_decref(e);
	return rc;
}

int
idecfg_remove(const struct idecfg *c, const char *text, size_t len,
    const char *name, char **out, size_t *outlen, enum idecfg_change *ch,
    char *err, size_t errsz)
{
	struct jsoned_err je;
	struct tomled_err te;
	int r;

	*out = NULL;
	if (c->format == IDECFG_TOML) {
		if ((r = tomled_remove(
		         text, len, c->key, name, out, outlen, &te)) == -1)
			return pos_err(err, errsz, te.line, te.col, te.msg);
	} else if ((r = jsoned_remove(text, len, &c->jo, c->key, name, out,
	                outlen, &je)) == -1)
		return pos_err(err, errsz, je.line, je.col, je.msg);
	*ch = r == 1 ? IDECFG_REMOVED : IDECFG_ABSENT;
	return 0;
}

struct mention {
	const char *needle;
	void (*fn)(const char *name, void *arg);
	void *arg;
};

static void
mention_cb(const char *name, const char *v, size_t n, void *arg)
{
	struct mention *m = arg;
	size_t k = strlen(m->needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(v + i, m->needle, k) == 0) {
			m->fn(name, m->arg);
			return;
		}
}

int
idecfg_mentions(const struct idecfg *c, const char *text, size_t len,
    const char *needle, void (*fn)(const char *name, void *arg), void *arg,
    char *err, size_t errsz)
{
	struct mention m = { needle, fn, arg };
	struct jsoned_err je;
	struct tomled_err te;

	if (c->format == IDECFG_TOML) {
		if (tomled_each(text, len, c->key, mention_cb, &m, &te) == -1)
			return pos_err(err, errsz, te.line, te.col, te.msg);
	} else if (jsoned_each(
	               text, len, &c->jo, c->key, mention_cb, &m, &je) == -1)
		return pos_err(err, errsz, je.line, je.col, je.msg);
	return 0;
}

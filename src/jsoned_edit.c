/* SPDX-License-Identifier: ISC */
/*
 * jsoned_edit: the edits of the jsoned module. Each one validates the
 * text (jsoned.c), finds the members it needs, and splices bytes around
 * their offsets, so nothing else in the file changes.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsoned.h"
#include "jsoned_int.h"
#include "str.h"
#include "xmem.h"

static void
set_err(struct jsoned_err *err, const char *text, size_t at, const char *msg)
{
	jsoned_locate(text, at, &err->line, &err->col);
	str_fmt(err->msg, sizeof(err->msg), "%s", msg);
}

/* The leading blanks of the line holding `at`: [*s, *e). */
static void
line_indent(const char *t, size_t at, size_t *s, size_t *e)
{
	size_t b = at, x;

	while (b > 0 && t[b - 1] != '\n')
		b--;
	for (x = b; x < at && (t[x] == ' ' || t[x] == '\t'); x++)
		;
	*s = b;
	*e = x;
}

static int
at_line_start(const char *t, size_t at)
{
	size_t s, e;

	line_indent(t, at, &s, &e);
	return e == at;
}

/* A parsed document and its KEY object. */
struct doc {
	const char *t;
	size_t len;
	int kind; /* 1: an object; 0: blank */
	struct obj root;
	size_t key_i;    /* index of KEY in root, or NONE */
	struct obj kobj; /* KEY's members */
	const char *nl;  /* the file's line ending */
	char unit[16];   /* one level of indentation */
};

static void
doc_close(struct doc *d)
{
	jsoned_obj_finish(&d->root);
	jsoned_obj_finish(&d->kobj);
}

/* One indentation level: the first member's, less the root brace's. */
static void
detect_unit(struct doc *d)
{
	size_t s, e, rs, re, k;

	str_fmt(d->unit, sizeof(d->unit), "  ");
	if (d->kind != 1 || d->root.n == 0 ||
	    !at_line_start(d->t, d->root.m[0].kstart))
		return;
	line_indent(d->t, d->root.m[0].kstart, &s, &e);
	line_indent(d->t, d->root.open, &rs, &re);
	k = re - rs;
	if (e - s > k && memcmp(d->t + s, d->t + rs, k) == 0 &&
	    e - s - k < sizeof(d->unit))
		str_fmt(d->unit, sizeof(d->unit), "%.*s", (int)(e - s - k),
		    d->t + s + k);
}

static int
doc_open(struct doc *d, const char *text, size_t len,
    const struct jsoned_opts *o, const char *key, struct jsoned_err *err)
{
	const char *nl;
	struct member *m;

	memset(d, 0, sizeof(*d));
	d->t = text;
	d->len = len;
	d->key_i = NONE;
	if ((d->kind = jsoned_parse_doc(text, len, o, &d->root, err)) == -1)
		return -1;
	nl = memchr(text, '\n', len);
	/* CRLF when the first line ends so (or a blank "\r" gets its \n) */
	d->nl = (nl != NULL && nl > text && nl[-1] == '\r') ||
	        (nl == NULL && len > 0 && text[len - 1] == '\r')
	    ? "\r\n"
	    : "\n";
	detect_unit(d);
	if (d->kind == 0 ||
	    (d->key_i = jsoned_find_last(&d->root, key)) == NONE)
		return 0;
	m = &d->root.m[d->key_i];
	if (text[m->vstart] != '{') {
		set_err(err, text, m->vstart, "this member must be an object");
		doc_close(d);
		return -1;
	}
	jsoned_parse_at(text, len, o, m->vstart, &d->kobj);
	return 0;
}

static int
put(struct buf *b, const char *p, size_t n)
{
	return buf_append(b, p, n);
}

/* A JSON string literal for `s`. */
static int
put_name(struct buf *b, const char *s)
{
	int rc = buf_puts(b, "\"");

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			rc = buf_printf(b, "\\u%04x", c);
		else
			rc = put(b, (const char *)&c, 1);
	}
	return rc == 0 ? buf_puts(b, "\"") : -1;
}

/*
 * `v` (two spaces per level) re-indented: every line after the first
 * gets `base` and one `unit` per two leading spaces; `compact` joins the
 * lines instead.
 */
static int
put_value(struct buf *b, const char *v, const char *base, size_t baselen,
    const char *unit, const char *nl, int compact)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && v[i] != '\0';) {
		size_t n = strcspn(v + i, "\n"), sp = 0;

		if (i > 0) {
			while (sp < n && v[i + sp] == ' ')
				sp++;
			if (compact && v[i - 2] == ',')
				rc |= buf_puts(b, " ");
			if (!compact) {
				rc |= buf_puts(b, nl) | put(b, base, baselen);
				for (size_t k = 0; k < sp / 2; k++)
					rc |= buf_puts(b, unit);
			}
		}
		rc |= put(b, v + i + sp, n - sp);
		i += n;
		if (v[i] == '\n')
			i++;
	}
	return rc ? -1 : 0;
}

/* {"NAME": value} in the two-space form (new). */
static char *
wrap_member(const char *name, const char *value)
{
	struct buf b;
	int rc;

	buf_init(&b, OUT_MAX);
	rc = buf_puts(&b, "{\n  ") | put_name(&b, name) | buf_puts(&b, ": ");
	for (const char *p = value; rc == 0 && *p; p++)
		rc = *p == '\n' ? buf_puts(&b, "\n  ") : put(&b, p, 1);
	rc |= buf_puts(&b, "\n}");
	if (rc) {
		buf_finish(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static int
is_blank(const char *t, size_t a, size_t z)
{
	for (; a < z; a++)
		if (t[a] != ' ' && t[a] != '\t' && t[a] != '\n' && t[a] != '\r')
			return 0;
	return 1;
}

/* The member text "NAME": value for object `ob` owned by line `owner`. */
static int
member_text(struct buf *mem, const struct doc *d, const struct obj *ob,
    size_t owner, const char *name, const char *value, struct buf *ind)
{
	size_t s, e;
	int multi = ob->n == 0 || at_line_start(d->t, ob->m[0].kstart);

	if (ob->n > 0 && multi) {
		line_indent(d->t, ob->m[0].kstart, &s, &e);
		if (put(ind, d->t + s, e - s) == -1)
			return -1;
	} else {
		line_indent(d->t, owner, &s, &e);
		if (put(ind, d->t + s, e - s) == -1 ||
		    buf_puts(ind, d->unit) == -1)
			return -1;
	}
	if (put_name(mem, name) == -1 || buf_puts(mem, ": ") == -1)
		return -1;
	return put_value(
	    mem, value, buf_data(ind), buf_len(ind), d->unit, d->nl, !multi);
}

static int
insert_into_empty(struct buf *b, const struct doc *d, const struct obj *ob,
    size_t owner, const struct buf *ind, const struct buf *mem)
{
	const char *t = d->t;
	size_t a = ob->open + 1, s, e;
	int rc;

	line_indent(t, owner, &s, &e);
	rc = put(b, t, a) | buf_puts(b, d->nl) |
	    put(b, buf_data(ind), buf_len(ind)) |
	    put(b, buf_data(mem), buf_len(mem));
	if (is_blank(t, a, ob->close))
		rc |= buf_puts(b, d->nl) | put(b, t + s, e - s) |
		    put(b, t + ob->close, d->len - ob->close);
	else
		rc |= put(b, t + a, d->len - a);
	return rc ? -1 : 0;
}

static int
insert_after_last(struct buf *b, const struct doc *d, const struct obj *ob,
    const struct buf *ind, const struct buf *mem)
{
	const char *t = d->t;
	const struct member *last = &ob->m[ob->n - 1];
	size_t at, ip = ob->close;
	int rc = 0, comma = last->comma != NONE;

	if (!at_line_start(t, ob->m[0].kstart)) {
		at = comma ? last->comma + 1 : last->vend;
		rc = put(b, t, at) | buf_puts(b, comma ? " " : ", ") |
		    put(b, buf_data(mem), buf_len(mem)) |
		    buf_puts(b, comma ? "," : "") | put(b, t + at, d->len - at);
		return rc ? -1 : 0;
	}
	while (ip > last->vend && strchr(" \t\r\n", t[ip - 1]) != NULL)
		ip--;
	if (comma)
		rc |= put(b, t, ip);
	else
		rc |= put(b, t, last->vend) | buf_puts(b, ",") |
		    put(b, t + last->vend, ip - last->vend);
	rc |= buf_puts(b, d->nl) | put(b, buf_data(ind), buf_len(ind)) |
	    put(b, buf_data(mem), buf_len(mem)) |
	    buf_puts(b, comma ? "," : "") | put(b, t + ip, d->len - ip);
	return rc ? -1 : 0;
}

/* The whole text with member NAME: value added to `ob`. */
static int
insert_member(struct buf *b, const struct doc *d, const struct obj *ob,
    size_t owner, const char *name, const char *value)
{
	struct buf ind, mem;
	int rc = -1;

	buf_init(&ind, 4096);
	buf_init(&mem, OUT_MAX);
	if (member_text(&mem, d, ob, owner, name, value, &ind) == -1)
		goto out;
	if (ob->n == 0)
		rc = insert_into_empty(b, d, ob, owner, &ind, &mem);
	else
		rc = insert_after_last(b, d, ob, &ind, &mem);
out:
	buf_finish(&ind);
	buf_finish(&mem);
	return rc;
}

static int
replace_value(struct buf *b, const struct doc *d, const struct member *m,
    const char *value)
{
	size_t s, e;
	int compact = !at_line_start(d->t, d->kobj.m[0].kstart);

	line_indent(d->t, m->kstart, &s, &e);
	if (put(b, d->t, m->vstart) == -1 ||
	    put_value(b, value, d->t + s, e - s, d->unit, d->nl, compact) ==
	        -1 ||
	    put(b, d->t + m->vend, d->len - m->vend) == -1)
		return -1;
	return 0;
}

static int
new_document(
    struct buf *b, const struct doc *d, const char *kv, const char *key)
{
	int rc = put(b, d->t, d->len);

	if (d->len > 0 && d->t[d->len - 1] != '\n')
		rc |= buf_puts(b, "\n");
	rc |= buf_puts(b, "{") | buf_puts(b, d->nl) | buf_puts(b, d->unit) |
	    put_name(b, key) | buf_puts(b, ": ") |
	    put_value(b, kv, d->unit, strlen(d->unit), d->unit, d->nl, 0) |
	    buf_puts(b, d->nl) | buf_puts(b, "}") | buf_puts(b, d->nl);
	return rc ? -1 : 0;
}

static int
finish_out(
    struct buf *b, int rc, char **out, size_t *outlen, struct jsoned_err *err)
{
	if (rc == -1) {
		buf_finish(b);
		err->line = err->col = 0;
		str_fmt(err->msg, sizeof(err->msg), "result too large");
		return -1;
	}
	*out = buf_take(b, outlen);
	return 0;
}

int
jsoned_set(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, const char *value, char **out,
    size_t *outlen, struct jsoned_err *err)
{
	struct doc d;
	struct buf b;
	char *kv = NULL;
	size_t i;
	int rc;

	if (doc_open(&d, text, len, o, key, err) == -1)
		return -1;
	buf_init(&b, OUT_MAX);
	if (d.key_i == NONE) {
		if ((kv = wrap_member(name, value)) == NULL)
			rc = -1;
		else if (d.kind == 0)
			rc = new_document(&b, &d, kv, key);
		else
			rc = insert_member(
			    &b, &d, &d.root, d.root.open, key, kv);
	} else if ((i = jsoned_find_last(&d.kobj, name)) == NONE)
		rc = insert_member(
		    &b, &d, &d.kobj, d.root.m[d.key_i].kstart, name, value);
	else
		rc = replace_value(&b, &d, &d.kobj.m[i], value);
	free(kv);
	doc_close(&d);
	return finish_out(&b, rc, out, outlen, err);
}

int
jsoned_get(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, size_t *vstart, size_t *vend,
    struct jsoned_err *err)
{
	struct doc d;
	size_t i;
	int found = 0;

	if (doc_open(&d, text, len, o, key, err) == -1)
		return -1;
	if (d.key_i != NONE && (i = jsoned_find_last(&d.kobj, name)) != NONE) {
		*vstart = d.kobj.m[i].vstart;
		*vend = d.kobj.m[i].vend;
		found = 1;
	}
	doc_close(&d);
	return found;
}

/* Text without member i of KEY's object. */
static int
remove_one(struct buf *b, const struct doc *d, size_t i)
{
	const struct obj *ob = &d->kobj;
	const struct member *m = &ob->m[i];
	const char *t = d->t;
	size_t a = m->kstart, z, s, e, q, pc = NONE;
	int rc;

	z = m->comma != NONE ? m->comma + 1 : m->vend;
	if (m->comma == NONE && i > 0)
		pc = ob->m[i - 1].comma;
	line_indent(t, a, &s, &e);
	if (e == a) {
		for (q = z; q < d->len && strchr(" \t\r", t[q]) != NULL; q++)
			;
		if (q == d->len || t[q] == '\n') {
			a = s;
			z = q < d->len ? q + 1 : q;
		}
	}
	if (pc != NONE)
		rc = put(b, t, pc) | put(b, t + pc + 1, a - pc - 1);
	else
		rc = put(b, t, a);
	rc |= put(b, t + z, d->len - z);
	return rc ? -1 : 0;
}

int
jsoned_remove(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key, const char *name, char **out, size_t *outlen,
    struct jsoned_err *err)
{
	struct doc d;
	struct buf b;
	char *cur = NULL;
	size_t i, curlen = len;
	int removed = 0, rc = 0;

	*out = NULL;
	for (;;) {
		if (doc_open(&d, cur ? cur : text, curlen, o, key, err) == -1) {
			free(cur);
			return -1;
		}
		if (d.key_i == NONE ||
		    (i = jsoned_find_last(&d.kobj, name)) == NONE)
			break;
		buf_init(&b, OUT_MAX);
		rc = remove_one(&b, &d, i);
		doc_close(&d);
		free(cur);
		if (finish_out(&b, rc, &cur, &curlen, err) == -1)
			return -1;
		removed = 1;
	}
	doc_close(&d);
	if (removed) {
		*out = cur;
		*outlen = curlen;
	}
	return removed;
}

int
jsoned_each(const char *text, size_t len, const struct jsoned_opts *o,
    const char *key,
    void (*fn)(const char *name, const char *v, size_t vlen, void *arg),
    void *arg, struct jsoned_err *err)
{
	struct doc d;

	if (doc_open(&d, text, len, o, key, err) == -1)
		return -1;
	for (size_t i = 0; d.key_i != NONE && i < d.kobj.n; i++)
		fn(d.kobj.m[i].name, text + d.kobj.m[i].vstart,
		    d.kobj.m[i].vend - d.kobj.m[i].vstart, arg);
	doc_close(&d);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * tomled_edit: the edits of the tomled module: find the lines of one
 * [TABLE.NAME] entry (and its sub-tables) and replace, append or delete
 * exactly those.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "tomled.h"
#include "tomled_int.h"
#include "xmem.h"

static int
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* The entry written as dotted keys or an inline table: its index. */
static size_t
other_form(const struct tdoc *d, const char *table, const char *name)
{
	for (size_t i = 0; i < d->nkv; i++) {
		const struct kv *kv = &d->kv[i];
		const struct hdr *h = kv->hdr == NONE ? NULL : &d->h[kv->hdr];

		if (h == NULL && kv->nk >= 2 && is(kv->k[0], table) &&
		    is(kv->k[1], name))
			return i;
		if (h != NULL && h->nk == 1 && is(h->k[0], table) &&
		    is(kv->k[0], name))
			return i;
	}
	return NONE;
}

/* Start of the line holding `at`. */
static size_t
line_start(const char *t, size_t at)
{
	while (at > 0 && t[at - 1] != '\n')
		at--;
	return at;
}

static int
comment_line(const char *t, size_t s, size_t e)
{
	while (s < e && (t[s] == ' ' || t[s] == '\t'))
		s++;
	return s < e && t[s] == '#';
}

/* End of the last header or key/value line of table i. */
static size_t
content_end(const struct tdoc *d, size_t i)
{
	size_t end = d->h[i].body;

	for (size_t k = 0; k < d->nkv; k++)
		if (d->kv[k].hdr == i && d->kv[k].end > end)
			end = d->kv[k].end;
	return end;
}

/*
 * End of table i's lines: the next header, less the comment lines right
 * above it (they describe that table). Only blank and comment lines lie
 * between content_end() and the next header, so this cannot cut a value.
 */
static size_t
hdr_end(const char *t, size_t len, const struct tdoc *d, size_t i)
{
	size_t e, ls, ce = content_end(d, i);

	if (i + 1 == d->nh)
		return len;
	e = d->h[i + 1].start;
	while (e > ce) {
		ls = line_start(t, e - 1);
		if (ls < ce || !comment_line(t, ls, e))
			break;
		e = ls;
	}
	return e;
}

struct region {
	size_t s, e; /* its lines */
	size_t ce;   /* end of its last header or key/value line */
	int main;    /* [TABLE.NAME] itself, not a sub-table */
};

/* The regions of [TABLE.NAME] and its sub-tables, in file order. */
static size_t
regions(const char *t, size_t len, const struct tdoc *d, const char *table,
    const char *name, struct region **out)
{
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < d->nh; i++) {
		const struct hdr *h = &d->h[i];

		if (h->nk < 2 || !is(h->k[0], table) || !is(h->k[1], name))
			continue;
		*out = x_realloc(*out, (n + 1) * sizeof(**out));
		(*out)[n].s = h->start;
		(*out)[n].e = hdr_end(t, len, d, i);
		(*out)[n].ce = content_end(d, i);
		(*out)[n++].main = h->nk == 2;
	}
	return n;
}

static int
open_doc(const char *text, size_t len, const char *table, const char *name,
    struct tdoc *d, struct tomled_err *err)
{
	size_t i;

	if (tomled_parse_doc(text, len, d, err) == -1)
		return -1;
	if ((i = other_form(d, table, name)) != NONE) {
		tomled_at_err(err, text, d->kv[i].at,
		    "this entry is written as dotted keys or an inline table; "
		    "edit it by hand");
		tomled_doc_free(d);
		return -1;
	}
	return 0;
}

static char *
make_block(const char *table, const char *name, const char *body)
{
	char *k = tomled_key(name), *tk = tomled_key(table);
	char *s = x_asprintf("[%s.%s]\n%s", tk, k, body);

	free(k);
	free(tk);
	return s;
}

static int
take(struct buf *b, int rc, char **out, size_t *outlen, struct tomled_err *err)
{
	if (rc != 0) {
		buf_finish(b);
		err->line = err->col = 0;
		str_fmt(err->msg, sizeof(err->msg), "result too large");
		return -1;
	}
	*out = buf_take(b, outlen);
	return 1;
}

static int
append_block(struct buf *b, const char *text, size_t len, const char *block)
{
	int rc = buf_append(b, text, len);

	if (len > 0 && text[len - 1] != '\n')
		rc |= buf_puts(b, "\n");
	if (len > 0 &&
	    !(len >= 2 && text[len - 1] == '\n' && text[len - 2] == '\n'))
		rc |= buf_puts(b, "\n");
	return rc | buf_puts(b, block);
}

int
tomled_set(const char *text, size_t len, const char *table, const char *name,
    const char *body, char **out, size_t *outlen, struct tomled_err *err)
{
	struct tdoc d;
	struct region *r = NULL;
	struct buf b;
	char *block;
	size_t n, at = 0;
	int rc = 0;

	*out = NULL;
	if (open_doc(text, len, table, name, &d, err) == -1)
		return -1;
	block = make_block(table, name, body);
	n = regions(text, len, &d, table, name, &r);
	buf_init(&b, OUT_MAX);
	if (n == 0)
		rc = append_block(&b, text, len, block);
	else if (n == 1 && r[0].main && r[0].ce - r[0].s == strlen(block) &&
	    memcmp(text + r[0].s, block, strlen(block)) == 0) {
		buf_finish(&b);
		rc = 2;
	} else
		for (size_t i = 0; i < n; i++) {
			rc |= buf_append(&b, text + at, r[i].s - at);
			at = r[i].e;
			if (i == 0) {
				rc |= buf_puts(&b, block);
				at = r[i].ce;
			}
		}
	if (rc != 2 && n > 0)
		rc |= buf_append(&b, text + at, len - at);
	free(block);
	free(r);
	tomled_doc_free(&d);
	return rc == 2 ? 0 : take(&b, rc, out, outlen, err);
}

int
tomled_remove(const char *text, size_t len, const char *table, const char *name,
    char **out, size_t *outlen, struct tomled_err *err)
{
	struct tdoc d;
	struct region *r = NULL;
	struct buf b;
	size_t n, at = 0, s;
	int rc = 0;

	*out = NULL;
	if (open_doc(text, len, table, name, &d, err) == -1)
		return -1;
	n = regions(text, len, &d, table, name, &r);
	tomled_doc_free(&d);
	if (n == 0) {
		free(r);
		return 0;
	}
	buf_init(&b, OUT_MAX);
	for (size_t i = 0; i < n; i++) {
		s = r[i].s;
		if (r[i].e ==
		    len) /* the end of the file: drop blank lines too */
			while (s > at && s >= 2 && text[s - 1] == '\n' &&
			    text[s - 2] == '\n')
				s--;
		rc |= buf_append(&b, text + at, s - at);
		at = r[i].e;
	}
	rc |= buf_append(&b, text + at, len - at);
	free(r);
	return take(&b, rc, out, outlen, err);
}

int
tomled_each(const char *text, size_t len, const char *table,
    void (*fn)(const char *name, const char *v, size_t n, void *arg), void *arg,
    struct tomled_err *err)
{
	struct tdoc d;

	if (tomled_parse_doc(text, len, &d, err) == -1)
		return -1;
	for (size_t i = 0; i < d.nh; i++) {
		const struct hdr *h = &d.h[i];

		if (h->nk == 2 && is(h->k[0], table))
			fn(h->k[1], text + h->start,
			    hdr_end(text, len, &d, i) - h->start, arg);
	}
	tomled_doc_free(&d);
	return 0;
}

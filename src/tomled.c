/* SPDX-License-Identifier: ISC */
/*
 * tomled: a line-oriented TOML 1.0 syntax checker that records where
 * each table header and each top-level key starts, and the edits of one
 * [TABLE.NAME] entry built on it (see tomled.h). Semantic rules such as
 * "a table is defined once" are left to the application reading the
 * file; only syntax is checked here.
 */
#include "tomled.h"
#include "tomled_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xmem.h"

#define MAX_DEPTH 128

struct tp {
	const char *p;
	size_t len;
	size_t pos;
	struct tomled_err *err;
	int failed;
	int depth;
	struct tdoc *doc;
};

static int parse_value(struct tp *t);

void
tomled_doc_free(struct tdoc *d)
{
	for (size_t i = 0; i < d->nh; i++)
		for (size_t j = 0; j < KEEP; j++)
			free(d->h[i].k[j]);
	for (size_t i = 0; i < d->nkv; i++)
		for (size_t j = 0; j < KEEP; j++)
			free(d->kv[i].k[j]);
	free(d->h);
	free(d->kv);
	memset(d, 0, sizeof(*d));
}

static int
tfail(struct tp *t, size_t at, const char *msg)
{
	int l = 1, c = 1;

	if (t->failed)
		return -1;
	t->failed = 1;
	for (size_t i = 0; i < at && i < t->len; i++) {
		if (t->p[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)t->p[i] & 0xc0) != 0x80)
			c++;
	}
	t->err->line = l;
	t->err->col = c;
	str_fmt(t->err->msg, sizeof(t->err->msg), "%s", msg);
	return -1;
}

static int
peek(const struct tp *t, size_t off)
{
	return t->pos + off < t->len ? (unsigned char)t->p[t->pos + off] : -1;
}

static void
skip_ws(struct tp *t)
{
	while (peek(t, 0) == ' ' || peek(t, 0) == '\t')
		t->pos++;
}

static int
skip_comment(struct tp *t)
{
	if (peek(t, 0) != '#')
		return 0;
	for (; t->pos < t->len && t->p[t->pos] != '\n'; t->pos++) {
		unsigned char c = (unsigned char)t->p[t->pos];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return tfail(t, t->pos, "control character in comment");
	}
	return 0;
}

static int
newline(struct tp *t)
{
	if (peek(t, 0) == '\r' && peek(t, 1) == '\n')
		t->pos += 2;
	else if (peek(t, 0) == '\n')
		t->pos++;
	else
		return 0;
	return 1;
}

/* Blanks, a comment, then a newline or the end of the file. */
static int
end_of_line(struct tp *t)
{
	skip_ws(t);
	if (skip_comment(t) == -1)
		return -1;
	if (t->pos == t->len || newline(t))
		return 0;
	return tfail(t, t->pos, "expected the end of the line");
}

/* Blanks, newlines and comments (inside arrays). */
static int
skip_all(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		if (skip_comment(t) == -1)
			return -1;
		if (!newline(t))
			return 0;
	}
}

static int
is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
put_cp(struct buf *b, unsigned long cp)
{
	static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	char u[4];

	for (size_t i = n; i > 1; i--, cp >>= 6)
		u[i - 1] = (char)(0x80 | (cp & 0x3f));
	u[0] = (char)(lead[n] | cp);
	return buf_append(b, u, n);
}

static int
hex_escape(struct tp *t, size_t n, struct buf *b)
{
	unsigned long cp = 0;

	for (size_t i = 0; i < n; i++) {
		int c = peek(t, i),
		    h = c >= '0' && c <= '9' ? c - '0'
		    : (c | 0x20) >= 'a' && (c | 0x20) <= 'f'
		    ? (c | 0x20) - 'a' + 10
		    : -1;

		if (h < 0)
			return tfail(t, t->pos, "bad unicode escape");
		cp = cp << 4 | (unsigned long)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		return tfail(t, t->pos, "bad unicode escape");
	t->pos += n;
	return b ? put_cp(b, cp) : 0;
}

/* After a backslash in a basic string. */
static int
escape(struct tp *t, int multi, struct buf *b)
{
	static const char from[] = "btnfr\"\\e", to[] = "\b\t\n\f\r\"\\\033";
	int c = peek(t, 0);
	const char *e;

	if (c == 'u' || c == 'U') {
		t->pos++;
		return hex_escape(t, c == 'u' ? 4 : 8, b);
	}
	if (multi && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
		/* line-ending backslash: trims up to the next non-blank */
		while (t->pos < t->len && strchr(" \t\r\n", t->p[t->pos]))
			t->pos++;
		return 0;
	}
	if (c <= 0 || (e = strchr(from, c)) == NULL)
		return tfail(t, t->pos, "bad escape in string");
	t->pos++;
	return b ? buf_append(b, &to[e - from], 1) : 0;
}

/* A string whose opening quote(s) are at t->pos. */
static int
parse_string(struct tp *t, struct buf *b)
{
	size_t start = t->pos;
	char q = t->p[t->pos];
	int multi = peek(t, 1) == q && peek(t, 2) == q;

	t->pos += multi ? 3 : 1;
	if (multi)
		newline(t);
	while (t->pos < t->len) {
		unsigned char c = (unsigned char)t->p[t->pos];

		if (c == (unsigned char)q && !multi) {
			t->pos++;
			return 0;
		}
		if (c == (unsigned char)q && peek(t, 1) == q &&
		    peek(t, 2) == q) {
			size_t r = 3;

			/* up to two more quotes belong to the content */
			while (peek(t, r) == q)
				r++;
			if (r > 5)
				return tfail(t, t->pos, "too many quotes");
			t->pos += r;
			return 0;
		}
		if (c == '\n' && !multi)
			break;
		if ((c < 0x20 && c != '\t' &&
		        !(multi && (c == '\n' || c == '\r'))) ||
		    c == 0x7f)
			return tfail(t, t->pos, "control character in string");
		t->pos++;
		if (c == '\\' && q == '"') {
			if (escape(t, multi, b) == -1)
				return -1;
		} else if (b && buf_append(b, &c, 1) == -1)
			return tfail(t, start, "string too long");
	}
	return tfail(t, start, "unterminated string");
}

static int
key_segment(struct tp *t, struct buf *b)
{
	int c = peek(t, 0);

	if (c == '"' || c == '\'') {
		if (peek(t, 1) == c && peek(t, 2) == c)
			return tfail(t, t->pos, "multi-line string as a key");
		return parse_string(t, b);
	}
	if (!is_bare(c))
		return tfail(t, t->pos, "expected a key");
	while (is_bare(peek(t, 0)))
		if (buf_append(b, &t->p[t->pos++], 1) == -1)
			return tfail(t, t->pos, "key too long");
	return 0;
}

/* A dotted key; keeps the first KEEP segments in k (new). */
static int
parse_key(struct tp *t, char **k, size_t *nk)
{
	struct buf b;

	*nk = 0;
	for (;;) {
		buf_init(&b, 1u << 16);
		if (key_segment(t, &b) == -1) {
			buf_finish(&b);
			return -1;
		}
		if (*nk < KEEP)
			k[*nk] = buf_take(&b, NULL);
		buf_finish(&b);
		(*nk)++;
		skip_ws(t);
		if (peek(t, 0) != '.')
			return 0;
		t->pos++;
		skip_ws(t);
	}
}

static void
free_keys(char **k)
{
	for (size_t i = 0; i < KEEP; i++) {
		free(k[i]);
		k[i] = NULL;
	}
}

static int
parse_array(struct tp *t)
{
	t->pos++;
	for (;;) {
		if (skip_all(t) == -1)
			return -1;
		if (peek(t, 0) == ']') {
			t->pos++;
			return 0;
		}
		if (parse_value(t) == -1 || skip_all(t) == -1)
			return -1;
		if (peek(t, 0) == ',')
			t->pos++;
		else if (peek(t, 0) != ']')
			return tfail(t, t->pos, "expected ',' or ']'");
	}
}

static int
parse_inline(struct tp *t)
{
	char *k[KEEP] = { NULL };
	size_t nk;

	t->pos++;
	skip_ws(t);
	if (peek(t, 0) == '}') {
		t->pos++;
		return 0;
	}
	for (;;) {
		if (parse_key(t, k, &nk) == -1) {
			free_keys(k);
			return -1;
		}
		free_keys(k);
		if (peek(t, 0) != '=')
			return tfail(t, t->pos, "expected '='");
		t->pos++;
		skip_ws(t);
		if (parse_value(t) == -1)
			return -1;
		skip_ws(t);
		if (peek(t, 0) == '}') {
			t->pos++;
			return 0;
		}
		if (peek(t, 0) != ',')
			return tfail(t, t->pos, "expected ',' or '}'");
		t->pos++;
		skip_ws(t);
	}
}

static int
scalar_ok(const char *s, size_t n)
{
	size_t i = 0;

	if ((n == 4 && memcmp(s, "true", 4) == 0) ||
	    (n == 5 && memcmp(s, "false", 5) == 0))
		return 1;
	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		i = 1;
	if (n - i == 3 &&
	    (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "nan", 3) == 0))
		return 1;
	return i < n && s[i] >= '0' && s[i] <= '9';
}

/* Numbers, booleans, dates and times. */
static int
parse_scalar(struct tp *t)
{
	size_t s = t->pos;

	while (t->pos < t->len &&
	    (is_bare(t->p[t->pos]) || strchr("+.:", t->p[t->pos]) != NULL))
		t->pos++;
	/* "1979-05-27 07:32:00": a date, a space, a time */
	if (t->pos - s == 10 && t->p[s + 4] == '-' && peek(t, 0) == ' ' &&
	    peek(t, 1) >= '0' && peek(t, 1) <= '9' && peek(t, 3) == ':') {
		t->pos++;
		while (t->pos < t->len &&
		    (is_bare(t->p[t->pos]) ||
		        strchr("+.:", t->p[t->pos]) != NULL))
			t->pos++;
	}
	if (!scalar_ok(t->p + s, t->pos - s))
		return tfail(t, s, "expected a value");
	return 0;
}

static int
parse_value(struct tp *t)
{
	int c = peek(t, 0), r;

	if (++t->depth > MAX_DEPTH)
		return tfail(t, t->pos, "nested too deeply");
	if (c == '"' || c == '\'')
		r = parse_string(t, NULL);
	else if (c == '[')
		r = parse_array(t);
	else if (c == '{')
		r = parse_inline(t);
	else if (c < 0 || c == '\n' || c == '\r' || c == '#')
		r = tfail(t, t->pos, "expected a value");
	else
		r = parse_scalar(t);
	t->depth--;
	return r;
}

static int
parse_header(struct tp *t)
{
	struct tdoc *d = t->doc;
	struct hdr h = { t->pos, { NULL }, 0, 0 };
	int array = peek(t, 1) == '[';

	while (h.start > 0 && t->p[h.start - 1] != '\n')
		h.start--;
	t->pos += array ? 2 : 1;
	skip_ws(t);
	if (parse_key(t, h.k, &h.nk) == -1)
		goto fail;
	if (peek(t, 0) != ']' || (array && peek(t, 1) != ']')) {
		tfail(t, t->pos, array ? "expected ']]'" : "expected ']'");
		goto fail;
	}
	t->pos += array ? 2 : 1;
	if (end_of_line(t) == -1)
		goto fail;
	d->h = x_realloc(d->h, (d->nh + 1) * sizeof(*d->h));
	h.body = t->pos;
	d->h[d->nh++] = h;
	return 0;
fail:
	free_keys(h.k);
	return -1;
}

static int
parse_kv(struct tp *t)
{
	struct tdoc *d = t->doc;
	struct kv kv = { d->nh ? d->nh - 1 : NONE, t->pos, { NULL }, 0, 0 };

	if (parse_key(t, kv.k, &kv.nk) == -1)
		goto fail;
	if (peek(t, 0) != '=') {
		tfail(t, t->pos, "expected '=' after the key");
		goto fail;
	}
	t->pos++;
	skip_ws(t);
	if (parse_value(t) == -1 || end_of_line(t) == -1)
		goto fail;
	d->kv = x_realloc(d->kv, (d->nkv + 1) * sizeof(*d->kv));
	kv.end = t->pos;
	d->kv[d->nkv++] = kv;
	return 0;
fail:
	free_keys(kv.k);
	return -1;
}

int
tomled_parse_doc(
    const char *text, size_t len, struct tdoc *d, struct tomled_err *err)
{
	struct tp t = { text, len, 0, err, 0, 0, d };
	const char *nul = memchr(text, '\0', len);

	memset(d, 0, sizeof(*d));
	if (nul != NULL)
		return tfail(&t, (size_t)(nul - text), "NUL byte in file");
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		t.pos = 3;
	while (t.pos < len) {
		int r;

		skip_ws(&t);
		if (peek(&t, 0) == '#' || peek(&t, 0) == '\n' ||
		    peek(&t, 0) == '\r' || t.pos == len)
			r = end_of_line(&t);
		else if (peek(&t, 0) == '[')
			r = parse_header(&t);
		else
			r = parse_kv(&t);
		if (r == -1) {
			tomled_doc_free(d);
			return -1;
		}
	}
	return 0;
}

int
tomled_check(const char *text, size_t len, struct tomled_err *err)
{
	struct tdoc d;

	if (tomled_parse_doc(text, len, &d, err) == -1)
		return -1;
	tomled_doc_free(&d);
	return 0;
}

char *
tomled_string(const char *s)
{
	struct buf b;
	int rc;

	buf_init(&b, SIZE_MAX / 2); /* memory runs out first (xmem aborts) */
	rc = buf_puts(&b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc |= buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc |= buf_printf(&b, "\\u%04x", c);
		else
			rc |= buf_append(&b, &c, 1);
	}
	rc |= buf_puts(&b, "\"");
	(void)rc;
	return buf_take(&b, NULL);
}

char *
tomled_key(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!is_bare((unsigned char)*p))
			return tomled_string(s);
	return *s ? x_strdup(s) : tomled_string(s);
}

void
tomled_at_err(
    struct tomled_err *err, const char *text, size_t at, const char *msg)
{
	struct tp t = { text, at + 1, 0, err, 0, 0, NULL };

	tfail(&t, at, msg);
}

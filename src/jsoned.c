/* SPDX-License-Identifier: ISC */
/*
 * jsoned: text-level JSON/JSONC editing. A recursive-descent validator
 * records, for the objects an edit needs, where each member's key, value
 * and comma are; edits then splice bytes around those offsets. See
 * jsoned.h for the contract. Depth is capped, so hostile input cannot
 * exhaust the stack.
 */
#include "jsoned.h"
#include "jsoned_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "str.h"
#include "xmem.h"

#define MAX_DEPTH 256

struct parser {
	const char *p;
	size_t len;
	size_t pos;
	const struct jsoned_opts *o;
	struct jsoned_err *err;
	int depth;
	int failed;
};

static int parse_value(struct parser *ps, struct obj *collect);

void
jsoned_obj_finish(struct obj *ob)
{
	for (size_t i = 0; i < ob->n; i++)
		free(ob->m[i].name);
	free(ob->m);
	memset(ob, 0, sizeof(*ob));
}

/* Line and column (characters) of offset `at`. */
void
jsoned_locate(const char *p, size_t at, int *line, int *col)
{
	int l = 1, c = 1;

	for (size_t i = 0; i < at; i++) {
		if (p[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)p[i] & 0xc0) != 0x80)
			c++;
	}
	*line = l;
	*col = c;
}

static int
fail(struct parser *ps, size_t at, const char *msg)
{
	if (!ps->failed) {
		ps->failed = 1;
		jsoned_locate(ps->p, at, &ps->err->line, &ps->err->col);
		str_fmt(ps->err->msg, sizeof(ps->err->msg), "%s", msg);
	}
	return -1;
}

static int
skip_comment(struct parser *ps)
{
	size_t at = ps->pos;

	if (!ps->o->comments)
		return fail(ps, at, "comments are not allowed in this file");
	if (at + 1 < ps->len && ps->p[at + 1] == '/') {
		while (ps->pos < ps->len && ps->p[ps->pos] != '\n' &&
		    ps->p[ps->pos] != '\r')
			ps->pos++;
		return 0;
	}
	if (at + 1 < ps->len && ps->p[at + 1] == '*') {
		for (ps->pos = at + 2; ps->pos + 1 < ps->len; ps->pos++)
			if (ps->p[ps->pos] == '*' &&
			    ps->p[ps->pos + 1] == '/') {
				ps->pos += 2;
				return 0;
			}
		return fail(ps, at, "unterminated comment");
	}
	return fail(ps, at, "unexpected '/'");
}

static int
skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len) {
		char c = ps->p[ps->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			ps->pos++;
		else if (c == '/') {
			if (skip_comment(ps) == -1)
				return -1;
		} else
			break;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
read_u4(struct parser *ps, size_t at, unsigned *out)
{
	unsigned v = 0;

	if (at + 4 > ps->len)
		return fail(ps, at, "bad \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[at + i]);

		if (h < 0)
			return fail(ps, at, "bad \\u escape");
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static int
put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return b ? buf_append(b, u, n) : 0;
}

/* \uXXXX (and its low surrogate) at ps->pos (after the 'u'). */
static int
parse_u_escape(struct parser *ps, struct buf *b)
{
	unsigned cp, lo;

	if (read_u4(ps, ps->pos, &cp) == -1)
		return -1;
	ps->pos += 4;
	if (cp >= 0xd800 && cp < 0xdc00 && ps->pos + 6 <= ps->len &&
	    ps->p[ps->pos] == '\\' && ps->p[ps->pos + 1] == 'u' &&
	    read_u4(ps, ps->pos + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		ps->pos += 6;
	}
	return put_utf8(b, cp);
}

static int
parse_escape(struct parser *ps, struct buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	char c;

	if (ps->pos >= ps->len)
		return fail(ps, ps->pos, "unterminated string");
	c = ps->p[ps->pos++];
	if (c == 'u')
		return parse_u_escape(ps, b);
	if (c == '\0' || (e = strchr(from, c)) == NULL)
		return fail(ps, ps->pos - 1, "bad escape in string");
	return b ? buf_append(b, &to[e - from], 1) : 0;
}

/* A string at ps->pos; decoded into b when b is not NULL. */
static int
parse_string(struct parser *ps, struct buf *b)
{
	size_t start = ps->pos++;

	while (ps->pos < ps->len) {
		unsigned char c = (unsigned char)ps->p[ps->pos];

		if (c == '"') {
			ps->pos++;
			return 0;
		}
		if (c < 0x20)
			return fail(ps, ps->pos,
			    "control character in string (use an escape)");
		ps->pos++;
		if (c == '\\') {
			if (parse_escape(ps, b) == -1)
				return -1;
		} else if (b && buf_append(b, &c, 1) == -1)
			return fail(ps, start, "string too long");
	}
	return fail(ps, start, "unterminated string");
}

static int
digits(struct parser *ps)
{
	size_t s = ps->pos;

	while (
	    ps->pos < ps->len && ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9')
		ps->pos++;
	return ps->pos > s ? 0 : fail(ps, ps->pos, "expected a digit");
}

static int
parse_number(struct parser *ps)
{
	if (ps->p[ps->pos] == '-')
		ps->pos++;
	if (ps->pos < ps->len && ps->p[ps->pos] == '0')
		ps->pos++;
	else if (digits(ps) == -1)
		return -1;
	if (ps->pos < ps->len && ps->p[ps->pos] == '.') {
		ps->pos++;
		if (digits(ps) == -1)
			return -1;
	}
	if (ps->pos < ps->len && (ps->p[ps->pos] | 0x20) == 'e') {
		ps->pos++;
		if (ps->pos < ps->len &&
		    (ps->p[ps->pos] == '+' || ps->p[ps->pos] == '-'))
			ps->pos++;
		if (digits(ps) == -1)
			return -1;
	}
	return 0;
}

static int
parse_literal(struct parser *ps)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);

		if (ps->len - ps->pos >= n &&
		    memcmp(ps->p + ps->pos, lits[i], n) == 0) {
			ps->pos += n;
			return 0;
		}
	}
	return fail(ps, ps->pos, "unexpected character (expected a value)");
}

/* After a value inside {} or []: ',' or the closer. 1 = closed. */
static int
after_item(struct parser *ps, char closer, size_t *comma)
{
	if (skip_ws(ps) == -1)
		return -1;
	if (ps->pos < ps->len && ps->p[ps->pos] == closer) {
		ps->pos++;
		return 1;
	}
	if (ps->pos >= ps->len || ps->p[ps->pos] != ',')
		return fail(ps, ps->pos,
		    closer == '}' ? "expected ',' or '}'"
		                  : "expected ',' or ']'");
	*comma = ps->pos++;
	if (skip_ws(ps) == -1)
		return -1;
	if (ps->pos < ps->len && ps->p[ps->pos] == closer) {
		if (!ps->o->trailing_commas)
			return fail(ps, *comma, "trailing comma");
		ps->pos++;
		return 1;
	}
	return 0;
}

static int
parse_array(struct parser *ps)
{
	size_t comma;
	int r;

	ps->pos++;
	if (skip_ws(ps) == -1)
		return -1;
	if (ps->pos < ps->len && ps->p[ps->pos] == ']') {
		ps->pos++;
		return 0;
	}
	do {
		if (parse_value(ps, NULL) == -1)
			return -1;
	} while ((r = after_item(ps, ']', &comma)) == 0);
	return r == 1 ? 0 : -1;
}

static int
parse_member(struct parser *ps, struct obj *collect)
{
	struct member m = { NULL, ps->pos, 0, 0, NONE };
	struct buf name;
	int rc = -1;

	if (ps->pos >= ps->len || ps->p[ps->pos] != '"')
		return fail(ps, ps->pos, "expected a string key");
	buf_init(&name, 1u << 20);
	if (parse_string(ps, collect ? &name : NULL) == -1 || skip_ws(ps) == -1)
		goto out;
	if (ps->pos >= ps->len || ps->p[ps->pos] != ':') {
		fail(ps, ps->pos, "expected ':'");
		goto out;
	}
	ps->pos++;
	if (skip_ws(ps) == -1)
		goto out;
	m.vstart = ps->pos;
	if (parse_value(ps, NULL) == -1)
		goto out;
	m.vend = ps->pos;
	if (collect) {
		collect->m =
		    x_realloc(collect->m, (collect->n + 1) * sizeof(m));
		m.name = buf_take(&name, NULL);
		if (m.name == NULL)
			m.name = x_strdup("");
		collect->m[collect->n++] = m;
	}
	rc = 0;
out:
	buf_finish(&name);
	return rc;
}

static int
parse_object(struct parser *ps, struct obj *collect)
{
	size_t comma;
	int r = 0;

	if (collect)
		collect->open = ps->pos;
	ps->pos++;
	if (skip_ws(ps) == -1)
		return -1;
	if (ps->pos < ps->len && ps->p[ps->pos] == '}') {
		ps->pos++;
		r = 1;
	}
	while (r == 0) {
		comma = NONE;
		if (parse_member(ps, collect) == -1)
			return -1;
		if ((r = after_item(ps, '}', &comma)) == -1)
			return -1;
		if (collect && collect->n > 0)
			collect->m[collect->n - 1].comma = comma;
	}
	if (collect)
		collect->close = ps->pos - 1;
	return 0;
}

static int
parse_value(struct parser *ps, struct obj *collect)
{
	int r;

	if (ps->pos >= ps->len)
		return fail(ps, ps->pos, "unexpected end of file");
	if (++ps->depth > MAX_DEPTH)
		return fail(ps, ps->pos, "nested too deeply");
	switch (ps->p[ps->pos]) {
	case '{':
		r = parse_object(ps, collect);
		break;
	case '[':
		r = parse_array(ps);
		break;
	case '"':
		r = parse_string(ps, NULL);
		break;
	default:
		if (ps->p[ps->pos] == '-' ||
		    (ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9'))
			r = parse_number(ps);
		else
			r = parse_literal(ps);
	}
	ps->depth--;
	return r;
}

/*
 * Parses the document; fills root (when it is an object). Returns 1 for
 * an object, 0 for a blank document, -1 on error.
 */
int
jsoned_parse_doc(const char *text, size_t len, const struct jsoned_opts *o,
    struct obj *root, struct jsoned_err *err)
{
	struct parser ps = { text, len, 0, o, err, 0, 0 };

	memset(root, 0, sizeof(*root));
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.pos = 3;
	if (memchr(text, '\0', len) != NULL)
		return fail(&ps,
		    (size_t)((const char *)memchr(text, '\0', len) - text),
		    "NUL byte in file");
	if (skip_ws(&ps) == -1)
		return -1;
	if (ps.pos == len)
		return 0;
	if (text[ps.pos] != '{')
		return fail(&ps, ps.pos,
		    "expected '{' (the file must hold a "
		    "JSON object)");
	if (parse_value(&ps, root) == -1 || skip_ws(&ps) == -1) {
		jsoned_obj_finish(root);
		return -1;
	}
	if (ps.pos != len) {
		jsoned_obj_finish(root);
		return fail(&ps, ps.pos, "unexpected text after the object");
	}
	return 1;
}

/* Members of the (valid) object starting at `at`. */
void
jsoned_parse_at(const char *text, size_t len, const struct jsoned_opts *o,
    size_t at, struct obj *ob)
{
	struct jsoned_err e;
	struct parser ps = { text, len, at, o, &e, 0, 0 };

	memset(ob, 0, sizeof(*ob));
	(void)parse_value(&ps, ob);
}

size_t
jsoned_find_last(const struct obj *ob, const char *name)
{
	for (size_t i = ob->n; i > 0; i--)
		if (strcmp(ob->m[i - 1].name, name) == 0)
			return i - 1;
	return NONE;
}

int
jsoned_check(const char *text, size_t len, const struct jsoned_opts *o,
    struct jsoned_err *err)
{
	struct obj root;

	if (jsoned_parse_doc(text, len, o, &root, err) == -1)
		return -1;
	jsoned_obj_finish(&root);
	return 0;
}

/* Blanks comments in place (keeping newlines). */
static void
blank_comments(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '/') {
			for (; i < n && s[i] != '\n' && s[i] != '\r'; i++)
				s[i] = ' ';
		} else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			s[i] = s[i + 1] = ' ';
			for (i += 2;
			     i + 1 < n && !(s[i] == '*' && s[i + 1] == '/');
			     i++)
				if (s[i] != '\n')
					s[i] = ' ';
			if (i + 1 < n)
				s[i] = s[i + 1] = ' ';
			i++;
		}
	}
}

char *
jsoned_strip(const char *p, size_t n)
{
	char *s = x_memdup(p, n);

	blank_comments(s, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (s[i] == ',') {
			size_t j = i + 1;

			while (j < n && strchr(" \t\r\n", s[j]) != NULL)
				j++;
			if (j < n && (s[j] == '}' || s[j] == ']'))
				s[i] = ' ';
		}
	}
	return s;
}

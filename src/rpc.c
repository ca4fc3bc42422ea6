/* SPDX-License-Identifier: ISC */
/*
 * rpc: a strict one-pass syntax check first (jsmn leaves commas, colons,
 * numbers and trailing bytes loose, and is slow on deep nesting), then
 * jsmn tokenises and this file walks the tokens.
 */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "bounds.h"
#include "str.h"
#include "xmem.h"

struct rpc {
	const char *js;      /* borrowed text of the last parse */
	size_t len;          /* its length */
	jsmntok_t *tok;      /* tokens; tok[0] is the root */
	unsigned int ntok;   /* tokens used */
	unsigned int captok; /* tokens allocated */
	enum rpc_kind kind;  /* classification */
	int id_tok;          /* token of "id", or -1 */
	int method_tok;      /* token of "method", or -1 */
	int error_tok;       /* token of "error", or -1 */
	const char *reason;  /* why the last parse failed */
};

struct rpc *
rpc_new(void)
{
	struct rpc *r = x_calloc(1, sizeof(*r));

	r->captok = 64;
	r->tok = x_calloc(r->captok, sizeof(*r->tok));
	return r;
}

void
rpc_free(struct rpc **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	free((*rp)->tok);
	free(*rp);
	*rp = NULL;
}

/* Index of the token after the whole value at i. */
static unsigned int
skip(const struct rpc *r, unsigned int i)
{
	int end = r->tok[i].end;

	i++;
	while (i < r->ntok && r->tok[i].start < end)
		i++;
	return i;
}

static int
tokenize(struct rpc *r)
{
	jsmn_parser p;
	int n;

	jsmn_init(&p);
	n = jsmn_parse(&p, r->js, r->len, r->tok, r->captok);
	if (n == JSMN_ERROR_NOMEM) {
		jsmn_init(&p);
		n = jsmn_parse(&p, r->js, r->len, NULL, 0);
		if (n < 0 || (unsigned int)n > BOUNDS_MAX_TOKENS)
			return -1;
		free(r->tok);
		r->captok = (unsigned int)n + 16;
		r->tok = x_calloc(r->captok, sizeof(*r->tok));
		jsmn_init(&p);
		n = jsmn_parse(&p, r->js, r->len, r->tok, r->captok);
	}
	if (n <= 0)
		return -1;
	r->ntok = (unsigned int)n;
	return 0;
}

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n &&
	    (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Index after the string whose quote is at s[i], or 0 if invalid. */
static size_t
scan_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if ((unsigned char)s[i] < 0x20)
			return 0;
		if (s[i] != '\\')
			continue;
		if (++i == n)
			return 0;
		if (s[i] == 'u') {
			for (int k = 0; k < 4; k++)
				if (++i == n || !is_hex(s[i]))
					return 0;
		} else if (s[i] == '\0' || strchr("\"\\/bfnrt", s[i]) == NULL) {
			return 0;
		}
	}
	return 0;
}

/* Index after the number or literal at s[i], or 0 if invalid. */
static size_t
scan_primitive(const char *s, size_t i, size_t n)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t d;

	for (int k = 0; k < 3; k++) {
		size_t l = strlen(lit[k]);

		if (s[i] == lit[k][0])
			return n - i >= l && memcmp(s + i, lit[k], l) == 0
			    ? i + l
			    : 0;
	}
	if (s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

/*
 * What jsmn leaves loose, checked in one pass before it runs: exactly one
 * JSON value (RFC 8259: commas, colons, numbers, literals, escapes, no
 * raw control characters or NUL), nested at most BOUNDS_MAX_DEPTH deep.
 */
static int
check_syntax(const char *s, size_t n)
{
	enum { S_VALUE, S_KEY, S_AFTER } st = S_VALUE;
	char close[BOUNDS_MAX_DEPTH]; /* '}' or ']' for each open container */
	size_t depth = 0, i = 0;

	for (;;) {
		i = skip_ws(s, i, n);
		if (st == S_AFTER && depth == 0)
			return i == n ? 0 : -1;
		if (i == n)
			return -1;
		if (st == S_AFTER) {
			if (s[i] == ',')
				st = close[depth - 1] == '}' ? S_KEY : S_VALUE;
			else if (s[i] == close[depth - 1])
				depth--;
			else
				return -1;
			i++;
		} else if (st == S_KEY) {
			if (s[i] != '"' || (i = scan_string(s, i, n)) == 0)
				return -1;
			i = skip_ws(s, i, n);
			if (i == n || s[i] != ':')
				return -1;
			i++;
			st = S_VALUE;
		} else if (s[i] == '{' || s[i] == '[') {
			if (depth == BOUNDS_MAX_DEPTH)
				return -1;
			close[depth++] = s[i] == '{' ? '}' : ']';
			i = skip_ws(s, i + 1, n);
			if (i < n && s[i] == close[depth - 1]) {
				depth--;
				i++;
				st = S_AFTER;
			} else {
				st = close[depth - 1] == '}' ? S_KEY : S_VALUE;
			}
		} else {
			i = s[i] == '"' ? scan_string(s, i, n)
			                : scan_primitive(s, i, n);
			if (i == 0)
				return -1;
			st = S_AFTER;
		}
	}
}

/* Value token of `key` in the object at token o, or -1. */
static int
member(const struct rpc *r, int o, const char *key)
{
	size_t kl = strlen(key);
	unsigned int i;

	if (o < 0 || r->tok[o].type != JSMN_OBJECT)
		return -1;
	i = (unsigned int)o + 1;
	for (int k = 0; k < r->tok[o].size && i + 1 < r->ntok; k++) {
		const jsmntok_t *t = &r->tok[i];

		if ((size_t)(t->end - t->start) == kl &&
		    memcmp(r->js + t->start, key, kl) == 0)
			return (int)i + 1;
		i = skip(r, i + 1);
	}
	return -1;
}

static enum rpc_type
tok_type(const struct rpc *r, int i)
{
	const jsmntok_t *t;
	char c;

	if (i < 0)
		return RPC_T_NONE;
	t = &r->tok[i];
	switch (t->type) {
	case JSMN_OBJECT:
		return RPC_T_OBJECT;
	case JSMN_ARRAY:
		return RPC_T_ARRAY;
	case JSMN_STRING:
		return RPC_T_STRING;
	default:
		break;
	}
	c = r->js[t->start];
	if (c == 'n')
		return RPC_T_NULL;
	if (c == 't' || c == 'f')
		return RPC_T_BOOL;
	for (int k = t->start; k < t->end; k++)
		if (strchr(".eE", r->js[k]))
			return RPC_T_NUMBER;
	return RPC_T_INT;
}

static struct rpc_span
span_of(const struct rpc *r, int i)
{
	struct rpc_span sp = { 0, 0, RPC_T_NONE };

	if (i < 0)
		return sp;
	sp.type = tok_type(r, i);
	sp.off = (size_t)r->tok[i].start;
	sp.len = (size_t)(r->tok[i].end - r->tok[i].start);
	if (sp.type == RPC_T_STRING) {
		sp.off--; /* jsmn strings exclude the quotes */
		sp.len += 2;
	}
	return sp;
}

static int
invalid(struct rpc *r, const char *why)
{
	r->reason = why;
	r->kind = RPC_INVALID;
	return RPC_INVALID_REQUEST;
}

static int
check_version(const struct rpc *r)
{
	int v = member(r, 0, "jsonrpc");

	return v >= 0 && r->tok[v].type == JSMN_STRING &&
	        r->tok[v].end - r->tok[v].start == 3 &&
	        memcmp(r->js + r->tok[v].start, "2.0", 3) == 0
	    ? 0
	    : -1;
}

/*
 * 1 if a member that routing depends on appears twice at the top level:
 * the bridge would route on the first while the peer reads the last.
 */
static int
duplicate_members(const struct rpc *r)
{
	static const char *const keys[] = { "jsonrpc", "id", "method", "result",
		"error", "params" };
	int seen[6] = { 0 };
	unsigned int i = 1;

	for (int k = 0; k < r->tok[0].size && i < r->ntok; k++) {
		const jsmntok_t *t = &r->tok[i];
		size_t len = (size_t)(t->end - t->start);

		for (int j = 0; j < 6; j++)
			if (strlen(keys[j]) == len &&
			    memcmp(r->js + t->start, keys[j], len) == 0 &&
			    seen[j]++)
				return 1;
		i = skip(r, i + 1);
	}
	return 0;
}

static int
classify(struct rpc *r)
{
	enum rpc_type idt;
	int res;

	if (duplicate_members(r))
		return invalid(r, "a JSON-RPC member appears twice");
	r->id_tok = member(r, 0, "id");
	r->method_tok = member(r, 0, "method");
	r->error_tok = member(r, 0, "error");
	res = member(r, 0, "result");
	idt = tok_type(r, r->id_tok);
	if (idt != RPC_T_NONE && idt != RPC_T_STRING && idt != RPC_T_INT &&
	    !(idt == RPC_T_NULL && r->error_tok >= 0)) {
		r->id_tok = -1;
		return invalid(r, "id must be a string or an integer");
	}
	if (check_version(r) == -1)
		return invalid(r,
		    "not JSON-RPC 2.0 (\"jsonrpc\": \"2.0\" "
		    "missing)");
	if (r->method_tok >= 0) {
		if (r->tok[r->method_tok].type != JSMN_STRING) {
			r->method_tok = -1;
			return invalid(r, "method must be a string");
		}
		r->kind = r->id_tok >= 0 ? RPC_REQUEST : RPC_NOTIFICATION;
		return 0;
	}
	if ((res >= 0) == (r->error_tok >= 0) || r->id_tok < 0)
		return invalid(r,
		    "neither a request, a notification nor a "
		    "response");
	if (r->error_tok >= 0 && r->tok[r->error_tok].type != JSMN_OBJECT)
		return invalid(r, "error must be an object");
	r->kind = RPC_RESPONSE;
	return 0;
}

int
rpc_parse(struct rpc *r, const char *js, size_t len)
{
	char root;

	r->js = js;
	r->len = len;
	r->ntok = 0;
	r->kind = RPC_INVALID;
	r->id_tok = r->method_tok = r->error_tok = -1;
	r->reason = "invalid JSON";
	if (!str_utf8_valid(js, len)) {
		r->reason = "message is not valid UTF-8";
		return RPC_PARSE_ERROR;
	}
	if (check_syntax(js, len) == -1)
		return RPC_PARSE_ERROR;
	/* jsmn (strict) cannot end the text on a bare number or literal. */
	root = js[skip_ws(js, 0, len)];
	if (root != '{' && root != '[')
		return invalid(r, "not a JSON-RPC message (not an object)");
	if (tokenize(r) == -1) {
		r->reason = "too many JSON tokens";
		return RPC_PARSE_ERROR;
	}
	if (r->tok[0].type == JSMN_ARRAY) {
		if (r->tok[0].size == 0)
			return invalid(r, "empty batch");
		r->kind = RPC_BATCH;
		return 0;
	}
	if (r->tok[0].type != JSMN_OBJECT)
		return invalid(r, "not a JSON-RPC message (not an object)");
	return classify(r);
}

enum rpc_kind
rpc_kind(const struct rpc *r)
{
	return r->kind;
}

const char *
rpc_reason(const struct rpc *r)
{
	return r->reason;
}

struct rpc_span
rpc_id(const struct rpc *r)
{
	return span_of(r, r->id_tok);
}

int
rpc_method_is(const struct rpc *r, const char *m)
{
	const jsmntok_t *t;
	size_t ml = strlen(m);

	if (r->method_tok < 0)
		return 0;
	t = &r->tok[r->method_tok];
	return (size_t)(t->end - t->start) == ml &&
	    memcmp(r->js + t->start, m, ml) == 0;
}

const char *
rpc_method(const struct rpc *r, char *buf, size_t bufsz)
{
	if (r->method_tok < 0)
		return NULL;
	return rpc_span_str(r->js, span_of(r, r->method_tok), buf, bufsz);
}

int
rpc_is_error(const struct rpc *r)
{
	return r->error_tok >= 0;
}

struct rpc_span
rpc_get(const struct rpc *r, ...)
{
	const char *key;
	va_list ap;
	int i = 0;

	if (r->ntok == 0)
		return span_of(r, -1);
	va_start(ap, r);
	while (i >= 0 && (key = va_arg(ap, const char *)) != NULL)
		i = member(r, i, key);
	va_end(ap);
	return span_of(r, i);
}

size_t
rpc_batch_len(const struct rpc *r)
{
	return r->kind == RPC_BATCH ? (size_t)r->tok[0].size : 0;
}

struct rpc_span
rpc_batch_item(const struct rpc *r, size_t n)
{
	unsigned int i = 1;

	if (n >= rpc_batch_len(r))
		return span_of(r, -1);
	while (n-- > 0)
		i = skip(r, i);
	return span_of(r, (int)i);
}

int
rpc_span_int(const char *js, struct rpc_span sp, int64_t *out)
{
	char tmp[24];
	long long v;

	if (sp.type != RPC_T_INT || sp.len >= sizeof(tmp))
		return -1;
	memcpy(tmp, js + sp.off, sp.len);
	tmp[sp.len] = '\0';
	if (str_tonum(tmp, INT64_MIN, INT64_MAX, &v) == -1)
		return -1;
	*out = v;
	return 0;
}

const char *
rpc_span_str(const char *js, struct rpc_span sp, char *buf, size_t bufsz)
{
	if (sp.type != RPC_T_STRING || sp.len - 2 >= bufsz ||
	    memchr(js + sp.off + 1, '\\', sp.len - 2) != NULL)
		return NULL;
	memcpy(buf, js + sp.off + 1, sp.len - 2);
	buf[sp.len - 2] = '\0';
	return buf;
}

int
rpc_splice(const char *js, size_t len, struct rpc_span sp, const char *rep,
    size_t rlen, struct buf *out)
{
	if (buf_append(out, js, sp.off) == -1 ||
	    buf_append(out, rep, rlen) == -1 ||
	    buf_append(out, js + sp.off + sp.len, len - sp.off - sp.len) == -1)
		return -1;
	return 0;
}

int
rpc_put_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (buf_append(out, "\"", 1) == -1)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
		int rc;

		if (c == '"' || c == '\\')
			rc = buf_append(out, (char[]){ '\\', (char)c }, 2);
		else if (c < 0x20)
			rc = buf_append(out, esc, 6);
		else
			rc = buf_append(out, s, 1);
		if (rc == -1)
			return -1;
	}
	return buf_append(out, "\"", 1);
}

int
rpc_error_reply(struct buf *out, const char *id, size_t idlen, int code,
    const char *message)
{
	if (buf_puts(out, "{\"jsonrpc\":\"2.0\",\"id\":") == -1 ||
	    buf_append(out, id ? id : "null", id ? idlen : 4) == -1 ||
	    buf_printf(out, ",\"error\":{\"code\":%d,\"message\":", code) ==
	        -1 ||
	    rpc_put_string(out, message) == -1 || buf_puts(out, "}}") == -1)
		return -1;
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "rpc.h"

#define L(s) s, sizeof(s) - 1

TestSuite(rpc, .timeout = 30);

/* One message and what rpc_parse() must say about it. */
struct pcase {
	const char *js;
	size_t n; /* 0: strlen(js) */
	int rc;   /* 0, RPC_PARSE_ERROR or RPC_INVALID_REQUEST */
	enum rpc_kind kind;
	const char *id; /* raw id text rpc_id() gives, NULL: RPC_T_NONE */
};

#define OK(s, k, id)                                                           \
	{                                                                      \
		s, 0, 0, k, id                                                 \
	}
#define PE(s)                                                                  \
	{                                                                      \
		s, 0, RPC_PARSE_ERROR, RPC_INVALID, NULL                       \
	}
#define PEN(s)                                                                 \
	{                                                                      \
		L(s), RPC_PARSE_ERROR, RPC_INVALID, NULL                       \
	}
#define IR(s, id)                                                              \
	{                                                                      \
		s, 0, RPC_INVALID_REQUEST, RPC_INVALID, id                     \
	}

static const struct pcase cases[] = {
	/* Requests, string and integer ids. */
	OK("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	   "\"params\":{}}",
	    RPC_REQUEST, "1"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"tools/list\"}",
	    RPC_REQUEST, "\"abc\""),
	OK("{\"jsonrpc\":\"2.0\",\"id\":-7,\"method\":\"x\"}", RPC_REQUEST,
	    "-7"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"x\"}", RPC_REQUEST, "0"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"x\"}", RPC_REQUEST,
	    "\"\""),
	OK("{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,"
	   "\"method\":\"x\"}",
	    RPC_REQUEST, "9223372036854775807"),
	OK("{\"method\":\"x\",\"id\":\"a\\\"b\",\"jsonrpc\":\"2.0\"}",
	    RPC_REQUEST, "\"a\\\"b\""),
	OK("{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"x\" }",
	    RPC_REQUEST, "1"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":"
	   "[1.5e3,-0.25,1E-2,0,-0,2e+5,true,false,null,"
	   "\"\\u00e9\\n\\\\\\/\\b\\f\\r\\t\",[],{},[[]],{\"k\":{}}]}",
	    RPC_REQUEST, "1"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":"
	   "{\"s\":\"\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"
	   "\"}}",
	    RPC_REQUEST, "1"),
	/* Notifications. */
	OK("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	    RPC_NOTIFICATION, NULL),
	OK("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	   "\"params\":{\"requestId\":3,\"reason\":\"user\"}}",
	    RPC_NOTIFICATION, NULL),
	/* Responses. */
	OK("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", RPC_RESPONSE, "1"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":null}", RPC_RESPONSE,
	    "\"x\""),
	OK("{\"result\":[1,2],\"id\":2,\"jsonrpc\":\"2.0\"}", RPC_RESPONSE,
	    "2"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
	   "\"message\":\"nope\"}}",
	    RPC_RESPONSE, "1"),
	OK("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
	   "\"message\":\"p\"}}",
	    RPC_RESPONSE, "null"),
	/* Batches: any non-empty array. */
	OK("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]", RPC_BATCH,
	    NULL),
	OK("[1]", RPC_BATCH, NULL),
	OK(" [ {} , [] ] ", RPC_BATCH, NULL),
	/* Whitespace and CRLF around the message. */
	OK(" \t\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n",
	    RPC_NOTIFICATION, NULL),
	OK("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\"}\r", RPC_REQUEST,
	    "3"),
	OK("\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"result\":0}\r\n\r\n",
	    RPC_RESPONSE, "\"q\""),

	/* Not JSON: truncated. */
	PE(""),
	PE("   "),
	PE("\r\n"),
	PE("{"),
	PE("["),
	PE("\"abc"),
	PE("{\"a\""),
	PE("{\"a\":"),
	PE("{\"a\":1"),
	PE("{\"a\":1,"),
	PE("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\""),
	PE("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x"),
	PE("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}"),
	PE("{\"a\":\"\\"),
	PE("{\"a\":\"\\u12"),
	/* Not JSON: trailing garbage, more than one value. */
	PE("{} {}"),
	PE("{}{}"),
	PE("{}x"),
	PE("{} x"),
	PE("{}}"),
	PE("{}]"),
	PE("[]]"),
	PE("[] []"),
	PE("\"x\" \"y\""),
	PE("1 2"),
	PE("{}\f"),
	PE("{}\v"),
	PE("{\"jsonrpc\":\"2.0\",\"method\":\"x\"},"),
	/* Not JSON: object and array shape. */
	PE("{\"a\" \"b\"}"),
	PE("{\"a\":1,\"b\"}"),
	PE("{\"a\"}"),
	PE("{1:2}"),
	PE("{true:1}"),
	PE("{{}:1}"),
	PE("{[]:1}"),
	PE("{:1}"),
	PE("{'a':1}"),
	PE("{a:1}"),
	PE("{\"a\":1,}"),
	PE("{,\"a\":1}"),
	PE("{\"a\":1,,\"b\":2}"),
	PE("{\"a\":1 \"b\":2}"),
	PE("{\"a\"::1}"),
	PE("{\"a\":1:2}"),
	PE("{\"a\":\"b\":\"c\"}"),
	PE("[1,]"),
	PE("[,1]"),
	PE("[,]"),
	PE("[1,,2]"),
	PE("[1 2]"),
	PE("[\"a\" \"b\"]"),
	PE("[{} {}]"),
	PE("[1:2]"),
	PE("[\"a\":1]"),
	PE("{]"),
	PE("[}"),
	PE("{\"a\":[}"),
	PE("{\"a\":1}}"),
	/* Not JSON: literals and numbers. */
	PE("tru"),
	PE("nul"),
	PE("True"),
	PE("01"),
	PE("-"),
	PE("+1"),
	PE(".5"),
	PE("{\"a\":tru}"),
	PE("{\"a\":True}"),
	PE("{\"a\":nulll}"),
	PE("{\"a\":truefalse}"),
	PE("{\"a\":undefined}"),
	PE("{\"a\":NaN}"),
	PE("{\"a\":01}"),
	PE("[01]"),
	PE("[-01]"),
	PE("[00]"),
	PE("[1.]"),
	PE("[.5]"),
	PE("[1e]"),
	PE("[1e+]"),
	PE("[+1]"),
	PE("[--1]"),
	PE("[1.2.3]"),
	PE("[1e5e5]"),
	PE("[1-2]"),
	PE("[0x10]"),
	PE("[1.e5]"),
	PE("[-]"),
	PE("[Infinity]"),
	/* Not JSON: strings. */
	PE("{\"a\":\"x\\q\"}"),
	PE("{\"a\":\"\\u12G4\"}"),
	PE("{\"a\":\"\\x41\"}"),
	PE("{\"a\":\"raw\nnewline\"}"),
	PE("{\"a\":\"raw\ttab\"}"),
	PE("{\"a\":\"raw\x01\"}"),
	PE("{\"a\":\"raw\x1f\"}"),
	PE("{\"a\":'x'}"),
	/* Not UTF-8: invalid bytes, overlongs, surrogates, > U+10FFFF. */
	PE("{\"a\":\"\xff\"}"),
	PE("{\"a\":\"\xfe\"}"),
	PE("{\"a\":\"\x80\"}"),
	PE("{\"a\":\"\xc3\"}"),
	PE("{\"a\":\"\xc3\"x}"),
	PE("{\"a\":\"\xe2\x9c\"}"),
	PE("{\"a\":\"\xf0\x9f\x98\"}"),
	PE("{\"a\":\"\xc0\xaf\"}"),
	PE("{\"a\":\"\xc1\xbf\"}"),
	PE("{\"a\":\"\xe0\x80\xaf\"}"),
	PE("{\"a\":\"\xe0\x9f\xbf\"}"),
	PE("{\"a\":\"\xf0\x80\x80\xaf\"}"),
	PE("{\"a\":\"\xf0\x8f\xbf\xbf\"}"),
	PE("{\"a\":\"\xed\xa0\x80\"}"),
	PE("{\"a\":\"\xed\xbf\xbf\"}"),
	PE("{\"a\":\"\xed\xa0\xbd\xed\xb8\x80\"}"),
	PE("{\"a\":\"\xf4\x90\x80\x80\"}"),
	PE("{\"a\":\"\xf8\x88\x80\x80\x80\"}"),
	PE("{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}"),
	PE("\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"),
	/* Not JSON: a NUL byte anywhere. */
	PEN("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\0"),
	PEN("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\r\n\0"),
	PEN("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\0{}"),
	PEN("{\"jsonrpc\":\"2.0\",\0\"method\":\"x\"}"),
	PEN("{\"jsonrpc\":\"2.0\",\"method\":\"x\0y\"}"),
	PEN("\0{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"),
	PEN("\0"),
	PEN("[1,2\0]"),
	PEN("\"x\"\0"),
	PEN("123\0"),

	/* JSON, but not JSON-RPC. */
	IR("[]", NULL),
	IR("[ ]", NULL),
	IR(" [\r\n] ", NULL),
	IR("123", NULL),
	IR("123 ", NULL),
	IR("-1.5e3", NULL),
	IR("0", NULL),
	IR("\"x\"", NULL),
	IR("\"\"", NULL),
	IR("true", NULL),
	IR("false", NULL),
	IR("null", NULL),
	IR(" null\r\n", NULL),
	IR("{}", NULL),
	IR("{\"foo\":1}", NULL),
	IR("{\"jsonrpc\":\"2.0\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"params\":{}}", NULL),
	IR("{\"id\":1,\"method\":\"x\"}", "1"),
	IR("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", "1"),
	IR("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"x\"}", "1"),
	IR("{\"jsonrpc\":\"2.0 \",\"id\":1,\"method\":\"x\"}", "1"),
	IR("{\"jsonrpc\":\"2.00\",\"id\":\"k\",\"method\":\"x\"}", "\"k\""),
	IR("{\"jsonrpc\":null,\"id\":1,\"method\":\"x\"}", "1"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":7}", "5"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":null}", "\"s\""),
	IR("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":{}}", "6"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":[\"x\"]}", "6"),
	IR("{\"jsonrpc\":\"2.0\",\"method\":true}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":false,\"result\":1}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"result\":1}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"result\":1}", NULL),
	IR("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"m\"}}",
	    NULL),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1}", "1"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":"
	   "{\"code\":1,\"message\":\"m\"}}",
	    "1"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", "1"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":null}", "1"),
	IR("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":[]}", "1"),
};

#define NCASES (sizeof(cases) / sizeof(*cases))

static size_t
case_len(const struct pcase *c)
{
	return c->n ? c->n : strlen(c->js);
}

/* Checks one case against an already-parsed rpc; `i` names it. */
static void
check_case(struct rpc *r, const struct pcase *c, size_t i)
{
	size_t n = case_len(c);
	struct rpc_span id;
	int rc;

	rc = rpc_parse(r, c->js, n);
	cr_expect_eq(rc, c->rc, "case %zu: rc %d, want %d: %.*s", i, rc, c->rc,
	    (int)n, c->js);
	cr_expect_eq(rpc_kind(r), c->kind, "case %zu: kind %d, want %d: %.*s",
	    i, (int)rpc_kind(r), (int)c->kind, (int)n, c->js);
	if (rc != 0) {
		const char *why = rpc_reason(r);

		cr_expect(why != NULL && why[0] != '\0', "case %zu: reason", i);
		cr_expect_eq(rpc_batch_len(r), 0, "case %zu", i);
		cr_expect_eq(
		    rpc_batch_item(r, 0).type, RPC_T_NONE, "case %zu", i);
	}
	id = rpc_id(r);
	if (c->id == NULL) {
		cr_expect_eq(id.type, RPC_T_NONE, "case %zu: unexpected id", i);
		return;
	}
	cr_expect_neq(id.type, RPC_T_NONE, "case %zu: no id", i);
	if (id.type == RPC_T_NONE)
		return;
	cr_expect(id.type == RPC_T_STRING || id.type == RPC_T_INT ||
	        id.type == RPC_T_NULL,
	    "case %zu: id type %d", i, (int)id.type);
	cr_assert_leq(id.off + id.len, n, "case %zu", i);
	cr_expect(id.len == strlen(c->id) &&
	        memcmp(c->js + id.off, c->id, id.len) == 0,
	    "case %zu: id '%.*s', want '%s'", i, (int)id.len, c->js + id.off,
	    c->id);
}

Test(rpc, classify_table)
{
	struct rpc *r = rpc_new();

	for (size_t i = 0; i < NCASES; i++)
		check_case(r, &cases[i], i);
	rpc_free(&r);
	cr_assert_null(r);
	rpc_free(&r);
	rpc_free(NULL);
}

/* Each case in a fresh parser, from a heap copy of exactly n bytes. */
Test(rpc, classify_table_fresh_exact_buffers)
{
	for (size_t i = 0; i < NCASES; i++) {
		size_t n = case_len(&cases[i]);
		char *copy = malloc(n ? n : 1);
		struct pcase c = cases[i];
		struct rpc *r = rpc_new();

		cr_assert_not_null(copy);
		memcpy(copy, cases[i].js, n);
		c.js = copy;
		c.n = n;
		if (n == 0) {
			/* Zero bytes: only the length may count. */
			copy[0] = '{';
			cr_expect_eq(rpc_parse(r, copy, 0), RPC_PARSE_ERROR);
		} else {
			check_case(r, &c, i);
		}
		rpc_free(&r);
		free(copy);
	}
}

/* Every case in reverse order through one parser: no state leaks. */
Test(rpc, classify_table_reversed)
{
	struct rpc *r = rpc_new();

	for (size_t i = NCASES; i-- > 0;)
		check_case(r, &cases[i], i);
	rpc_free(&r);
}

/* Every proper prefix of a valid message is a parse error. */
Test(rpc, every_prefix_is_truncated)
{
	static const char msg[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":12,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"a\\\"b\","
	    "\"arguments\":{\"n\":[1,-2.5e3,true,false,null,{}]}}}";
	struct rpc *r = rpc_new();

	for (size_t n = 0; n < sizeof(msg) - 1; n++) {
		int rc = rpc_parse(r, msg, n);

		cr_expect_eq(rc, RPC_PARSE_ERROR, "prefix %zu: %d: %.*s", n, rc,
		    (int)n, msg);
		cr_expect_eq(rpc_kind(r), RPC_INVALID);
		cr_expect_eq(rpc_id(r).type, RPC_T_NONE);
	}
	cr_expect_eq(rpc_parse(r, msg, sizeof(msg) - 1), 0);
	cr_expect_eq(rpc_kind(r), RPC_REQUEST);
	rpc_free(&r);
}

Test(rpc, is_error)
{
	static const char ok[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":2}";
	static const char err[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	                          "\"error\":{\"code\":-1,\"message\":\"m\"}}";
	struct rpc *r = rpc_new();

	cr_assert_eq(rpc_parse(r, L(ok)), 0);
	cr_expect_eq(rpc_is_error(r), 0);
	cr_assert_eq(rpc_parse(r, L(err)), 0);
	cr_expect_eq(rpc_is_error(r), 1);
	cr_assert_eq(rpc_parse(r, L(ok)), 0);
	cr_expect_eq(rpc_is_error(r), 0);
	rpc_free(&r);
}

/* Span text as a new string, for comparisons. */
static char *
span_dup(const char *js, struct rpc_span sp)
{
	char *s = malloc(sp.len + 1);

	cr_assert_not_null(s);
	memcpy(s, js + sp.off, sp.len);
	s[sp.len] = '\0';
	return s;
}

static void
expect_span(const char *js, struct rpc_span sp, enum rpc_type type,
    const char *text, const char *what)
{
	char *got;

	cr_expect_eq(sp.type, type, "%s: type %d, want %d", what, (int)sp.type,
	    (int)type);
	if (text == NULL || sp.type == RPC_T_NONE)
		return;
	got = span_dup(js, sp);
	cr_expect_str_eq(got, text, "%s", what);
	free(got);
}

static const char call[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,"
    "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
    "\"arguments\":{\"a\":{\"b\":[1,2]},\"x\":\"_meta\"},"
    "\"_meta\":{\"progressToken\":\"tok-1\","
    "\"io.modelcontextprotocol/protocolVersion\":\"2025-06-18\","
    "\"n\":-3}}}";

Test(rpc, get_paths)
{
	struct rpc *r = rpc_new();
	const char *js = call;

	cr_assert_eq(rpc_parse(r, L(call)), 0);
	expect_span(js, rpc_get(r, "params", "_meta", "progressToken", NULL),
	    RPC_T_STRING, "\"tok-1\"", "progressToken");
	expect_span(js,
	    rpc_get(r, "params", "_meta",
	        "io.modelcontextprotocol/protocolVersion", NULL),
	    RPC_T_STRING, "\"2025-06-18\"", "dotted key");
	expect_span(js, rpc_get(r, "params", "_meta", "io", NULL), RPC_T_NONE,
	    NULL, "dotted key prefix");
	expect_span(js, rpc_get(r, "params", "_meta.progressToken", NULL),
	    RPC_T_NONE, NULL, "no dot paths");
	expect_span(
	    js, rpc_get(r, "params", "_meta", "n", NULL), RPC_T_INT, "-3", "n");
	expect_span(js, rpc_get(r, "params", "name", NULL), RPC_T_STRING,
	    "\"echo\"", "name");
	expect_span(js, rpc_get(r, "params", "arguments", "a", "b", NULL),
	    RPC_T_ARRAY, "[1,2]", "array");
	expect_span(js, rpc_get(r, "params", "arguments", "a", NULL),
	    RPC_T_OBJECT, "{\"b\":[1,2]}", "object");
	expect_span(js, rpc_get(r, "params", "arguments", "x", NULL),
	    RPC_T_STRING, "\"_meta\"", "value equal to a key");
	expect_span(js, rpc_get(r, "params", "arguments", "a", "b", "0", NULL),
	    RPC_T_NONE, NULL, "step into an array");
	expect_span(js, rpc_get(r, "params", "name", "x", NULL), RPC_T_NONE,
	    NULL, "step into a string");
	expect_span(js, rpc_get(r, "id", "x", NULL), RPC_T_NONE, NULL,
	    "step into a number");
	expect_span(js, rpc_get(r, "params", "missing", "x", NULL), RPC_T_NONE,
	    NULL, "missing step");
	expect_span(
	    js, rpc_get(r, "missing", NULL), RPC_T_NONE, NULL, "missing");
	expect_span(js, rpc_get(r, "progressToken", NULL), RPC_T_NONE, NULL,
	    "nested key at the top");
	expect_span(js, rpc_get(r, "", NULL), RPC_T_NONE, NULL, "empty key");
	expect_span(js, rpc_get(r, "id", NULL), RPC_T_INT, "1", "id");
	expect_span(js, rpc_get(r, "jsonrpc", NULL), RPC_T_STRING, "\"2.0\"",
	    "jsonrpc");
	expect_span(js, rpc_get(r, NULL), RPC_T_OBJECT, call, "root");
	rpc_free(&r);
}

Test(rpc, get_keys_at_the_right_level)
{
	static const struct {
		const char *js;
		const char *want; /* value of top-level "x", NULL: none */
	} t[] = {
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"a\":{\"x\":1},"
		  "\"x\":2}",
		    "2" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"a\":\"x\",\"x\":3}",
		    "3" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"a\":{\"b\":"
		  "{\"x\":1}},\"x\":[4]}",
		    "[4]" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"a\":[\"x\",{\"x\":"
		  "1}],\"x\":null}",
		    "null" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"xy\":1,\"x\":true}",
		    "true" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"X\":1}", NULL },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"a\":{\"x\":1}}",
		    NULL },
	};
	struct rpc *r = rpc_new();

	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		struct rpc_span sp;

		cr_assert_eq(
		    rpc_parse(r, t[i].js, strlen(t[i].js)), 0, "case %zu", i);
		sp = rpc_get(r, "x", NULL);
		if (t[i].want == NULL) {
			cr_expect_eq(sp.type, RPC_T_NONE, "case %zu", i);
			continue;
		}
		cr_expect(sp.len == strlen(t[i].want) &&
		        memcmp(t[i].js + sp.off, t[i].want, sp.len) == 0,
		    "case %zu: '%.*s'", i, (int)sp.len, t[i].js + sp.off);
	}
	rpc_free(&r);
}

Test(rpc, get_on_failed_parse_and_batch)
{
	struct rpc *r = rpc_new();

	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\",\"id\":1,"
	                   "\"method\":\"x\"}")),
	    0);
	cr_assert_eq(
	    rpc_parse(r, L("{\"jsonrpc\":\"2.0\",\"id\":1")), RPC_PARSE_ERROR);
	cr_expect_eq(rpc_get(r, "id", NULL).type, RPC_T_NONE);
	cr_expect_eq(rpc_id(r).type, RPC_T_NONE);
	cr_expect_eq(rpc_method_is(r, "x"), 0);
	cr_assert_eq(rpc_parse(r, L("[{\"id\":1}]")), 0);
	cr_expect_eq(rpc_get(r, "id", NULL).type, RPC_T_NONE);
	cr_expect_eq(rpc_id(r).type, RPC_T_NONE);
	rpc_free(&r);
}

Test(rpc, method)
{
	struct rpc *r = rpc_new();
	char buf[64], small[10], exact[11];

	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"tools/call\",\"id\":1}")),
	    0);
	cr_expect_str_eq(rpc_method(r, buf, sizeof(buf)), "tools/call");
	cr_expect_eq(rpc_method(r, buf, sizeof(buf)), buf);
	cr_expect_null(rpc_method(r, small, sizeof(small)));
	cr_expect_str_eq(rpc_method(r, exact, sizeof(exact)), "tools/call");
	cr_expect_null(rpc_method(r, buf, 0));
	cr_expect_eq(rpc_method_is(r, "tools/call"), 1);
	cr_expect_eq(rpc_method_is(r, "tools/cal"), 0);
	cr_expect_eq(rpc_method_is(r, "tools/call2"), 0);
	cr_expect_eq(rpc_method_is(r, "Tools/call"), 0);
	cr_expect_eq(rpc_method_is(r, ""), 0);

	/* Escapes are not decoded: rpc_method gives up. */
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"tools\\/call\",\"id\":1}")),
	    0);
	cr_expect_eq(rpc_kind(r), RPC_REQUEST);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"a\\u0062\"}")),
	    0);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"\\\"\"}")),
	    0);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));

	/* Empty and non-ASCII method names. */
	cr_assert_eq(
	    rpc_parse(r, L("{\"jsonrpc\":\"2.0\",\"method\":\"\"}")), 0);
	cr_expect_str_eq(rpc_method(r, buf, sizeof(buf)), "");
	cr_expect_eq(rpc_method_is(r, ""), 1);
	cr_expect_eq(rpc_method_is(r, "x"), 0);
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"\xc3\xa9t\xc3\xa9\"}")),
	    0);
	cr_expect_str_eq(rpc_method(r, buf, sizeof(buf)), "\xc3\xa9t\xc3\xa9");
	cr_expect_eq(rpc_method_is(r, "\xc3\xa9t\xc3\xa9"), 1);

	/* No method: responses, batches, failures. */
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\",\"id\":1,"
	                   "\"result\":{\"method\":\"x\"}}")),
	    0);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_expect_eq(rpc_method_is(r, "x"), 0);
	cr_assert_eq(rpc_parse(r,
	                 L("[{\"jsonrpc\":\"2.0\","
	                   "\"method\":\"x\"}]")),
	    0);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_expect_eq(rpc_method_is(r, "x"), 0);
	cr_assert_eq(rpc_parse(r, L("{\"jsonrpc\":\"2.0\",\"method\":7}")),
	    RPC_INVALID_REQUEST);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_expect_eq(rpc_method_is(r, "7"), 0);
	cr_assert_eq(rpc_parse(r, L("{\"jsonrpc\":\"2.0\",\"method\":\"x\"")),
	    RPC_PARSE_ERROR);
	cr_expect_null(rpc_method(r, buf, sizeof(buf)));
	cr_expect_eq(rpc_method_is(r, "x"), 0);
	rpc_free(&r);
}

Test(rpc, batch_items)
{
	static const char js[] =
	    "[ {\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"a\"} ,\r\n{\"jsonrpc\":\"2.0\",\"method\":\"n\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{\"x\":[1,{\"y\":"
	    "[2,[3]]}]}} ,7,\"s\",[1,[2],{}],{},-1.5,null ]";
	static const struct {
		const char *text;
		enum rpc_type type;
		int rc;
		enum rpc_kind kind;
	} want[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}",
		    RPC_T_OBJECT, 0, RPC_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"n\"}", RPC_T_OBJECT, 0,
		    RPC_NOTIFICATION },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{\"x\":[1,"
		  "{\"y\":[2,[3]]}]}}",
		    RPC_T_OBJECT, 0, RPC_RESPONSE },
		{ "7", RPC_T_INT, RPC_INVALID_REQUEST, RPC_INVALID },
		{ "\"s\"", RPC_T_STRING, RPC_INVALID_REQUEST, RPC_INVALID },
		{ "[1,[2],{}]", RPC_T_ARRAY, 0, RPC_BATCH },
		{ "{}", RPC_T_OBJECT, RPC_INVALID_REQUEST, RPC_INVALID },
		{ "-1.5", RPC_T_NUMBER, RPC_INVALID_REQUEST, RPC_INVALID },
		{ "null", RPC_T_NULL, RPC_INVALID_REQUEST, RPC_INVALID },
	};
	size_t nwant = sizeof(want) / sizeof(*want);
	struct rpc *r = rpc_new(), *item = rpc_new();

	cr_assert_eq(rpc_parse(r, L(js)), 0);
	cr_assert_eq(rpc_kind(r), RPC_BATCH);
	cr_assert_eq(rpc_batch_len(r), nwant);
	cr_expect_eq(rpc_id(r).type, RPC_T_NONE);
	for (size_t i = 0; i < nwant; i++) {
		struct rpc_span sp = rpc_batch_item(r, i);

		expect_span(js, sp, want[i].type, want[i].text, "item");
		/* Each item parses alone; the batch is not disturbed. */
		cr_expect_eq(rpc_parse(item, js + sp.off, sp.len), want[i].rc,
		    "item %zu", i);
		cr_expect_eq(rpc_kind(item), want[i].kind, "item %zu", i);
	}
	cr_expect_eq(rpc_batch_item(r, nwant).type, RPC_T_NONE);
	cr_expect_eq(rpc_batch_item(r, nwant + 100).type, RPC_T_NONE);
	cr_expect_eq(rpc_batch_item(r, (size_t)-1).type, RPC_T_NONE);

	/* The request inside can be spliced like a lone message. */
	cr_assert_eq(rpc_parse(item, js + rpc_batch_item(r, 0).off,
	                 rpc_batch_item(r, 0).len),
	    0);
	expect_span(js + rpc_batch_item(r, 0).off, rpc_id(item), RPC_T_INT, "1",
	    "item id");

	/* Not a batch: no items. */
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\",\"method\":\"x\","
	                   "\"params\":[1,2]}")),
	    0);
	cr_expect_eq(rpc_batch_len(r), 0);
	cr_expect_eq(rpc_batch_item(r, 0).type, RPC_T_NONE);
	rpc_free(&r);
	rpc_free(&item);
}

Test(rpc, batch_one_and_wide)
{
	struct rpc *r = rpc_new();
	struct buf b;

	cr_assert_eq(rpc_parse(r, L("[[]]")), 0);
	cr_expect_eq(rpc_batch_len(r), 1);
	expect_span("[[]]", rpc_batch_item(r, 0), RPC_T_ARRAY, "[]", "[[]]");

	buf_init(&b, 1u << 20);
	cr_assert_eq(buf_puts(&b, "["), 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(buf_printf(&b,
		                 "%s{\"jsonrpc\":\"2.0\",\"id\":%d,"
		                 "\"method\":\"m\",\"params\":{\"a\":[%d]}}",
		                 i ? "," : "", i, i),
		    0);
	cr_assert_eq(buf_puts(&b, "]"), 0);
	cr_assert_eq(rpc_parse(r, buf_data(&b), buf_len(&b)), 0);
	cr_assert_eq(rpc_batch_len(r), 1000);
	for (size_t i = 0; i < 1000; i += 37) {
		struct rpc_span sp = rpc_batch_item(r, i);
		char want[128];

		cr_assert_gt(
		    snprintf(want, sizeof(want),
		        "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"m\","
		        "\"params\":{\"a\":[%zu]}}",
		        i, i),
		    0);
		expect_span(buf_data(&b), sp, RPC_T_OBJECT, want, "wide");
	}
	buf_finish(&b);
	rpc_free(&r);
}

/* rpc_span_int over the items of a batch of numbers. */
Test(rpc, span_int)
{
	static const char t[] =
	    "[9223372036854775807,"
	    "-9223372036854775808,9223372036854775808,"
	    "-9223372036854775809,0,-0,42,-1,123456789012345678901234,"
	    "1.5,1e3,\"7\",null,true,99999999999999999999,"
	    "-00000000000000000001]";
	struct rpc *r = rpc_new();
	int64_t v;

	/* Leading zeros are not JSON. */
	cr_assert_eq(rpc_parse(r, L(t)), RPC_PARSE_ERROR);
	cr_assert_eq(rpc_parse(r, t, sizeof(t) - 1 - 23), RPC_PARSE_ERROR);
	cr_assert_eq(rpc_parse(r, t, sizeof(t) - 1 - 24), RPC_PARSE_ERROR);
	{
		/* The same without the last item. */
		char ok[sizeof(t)];

		memcpy(ok, t, sizeof(t) - 1 - 23);
		ok[sizeof(t) - 1 - 23] = ']';
		cr_assert_eq(rpc_parse(r, ok, sizeof(t) - 1 - 22), 0, "%.*s",
		    (int)(sizeof(t) - 1 - 22), ok);
	}
	{
		static const char ok[] =
		    "[9223372036854775807,"
		    "-9223372036854775808,9223372036854775808,"
		    "-9223372036854775809,0,-0,42,-1,123456789012345678901234,"
		    "1.5,1e3,\"7\",null,true,99999999999999999999]";

		cr_assert_eq(rpc_parse(r, L(ok)), 0);
		cr_assert_eq(rpc_batch_len(r), 15);
		v = 1;
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 0), &v), 0);
		cr_expect_eq(v, INT64_MAX);
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 1), &v), 0);
		cr_expect_eq(v, INT64_MIN);
		v = 5;
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 2), &v), -1);
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 3), &v), -1);
		cr_expect_eq(v, 5, "unchanged on failure");
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 4), &v), 0);
		cr_expect_eq(v, 0);
		v = 5;
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 5), &v), 0);
		cr_expect_eq(v, 0);
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 6), &v), 0);
		cr_expect_eq(v, 42);
		cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, 7), &v), 0);
		cr_expect_eq(v, -1);
		for (size_t i = 8; i < 15; i++) {
			v = 5;
			cr_expect_eq(rpc_span_int(ok, rpc_batch_item(r, i), &v),
			    -1, "item %zu", i);
			cr_expect_eq(v, 5, "item %zu", i);
		}
	}
	/* An id span, as the router uses it. */
	cr_assert_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\","
	                   "\"id\":-9223372036854775808,\"result\":1}")),
	    0);
	cr_expect_eq(rpc_span_int("{\"jsonrpc\":\"2.0\","
	                          "\"id\":-9223372036854775808,\"result\":1}",
	                 rpc_id(r), &v),
	    0);
	cr_expect_eq(v, INT64_MIN);
	/* A span of the wrong type, and a NONE span. */
	{
		struct rpc_span none = { 0, 0, RPC_T_NONE };
		struct rpc_span str = { 0, 3, RPC_T_STRING };

		cr_expect_eq(rpc_span_int("\"1\"", str, &v), -1);
		cr_expect_eq(rpc_span_int("", none, &v), -1);
	}
	rpc_free(&r);
}

Test(rpc, span_str)
{
	static const char js[] = "[\"abc\",\"\",\"a\\\"b\",\"\\u0041\","
	                         "\"\xc3\xa9\",\"0123456789\",1,null]";
	struct rpc *r = rpc_new();
	char buf[32], b11[11], b10[10], b1[1];

	cr_assert_eq(rpc_parse(r, L(js)), 0);
	cr_expect_str_eq(
	    rpc_span_str(js, rpc_batch_item(r, 0), buf, sizeof(buf)), "abc");
	cr_expect_eq(
	    rpc_span_str(js, rpc_batch_item(r, 0), buf, sizeof(buf)), buf);
	cr_expect_str_eq(
	    rpc_span_str(js, rpc_batch_item(r, 1), b1, sizeof(b1)), "");
	cr_expect_null(rpc_span_str(js, rpc_batch_item(r, 1), buf, 0));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 2), buf, sizeof(buf)));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 3), buf, sizeof(buf)));
	cr_expect_str_eq(
	    rpc_span_str(js, rpc_batch_item(r, 4), buf, sizeof(buf)),
	    "\xc3\xa9");
	cr_expect_str_eq(
	    rpc_span_str(js, rpc_batch_item(r, 5), b11, sizeof(b11)),
	    "0123456789");
	memset(b10, 'z', sizeof(b10));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 5), b10, sizeof(b10)));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 6), buf, sizeof(buf)));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 7), buf, sizeof(buf)));
	cr_expect_null(
	    rpc_span_str(js, rpc_batch_item(r, 8), buf, sizeof(buf)));
	rpc_free(&r);
}

/* Splices `rep` over the id of `js`; checks every other byte is kept. */
static void
splice_id(const char *js, const char *rep, const char *want)
{
	struct rpc *r = rpc_new(), *back = rpc_new();
	size_t n = strlen(js), rl = strlen(rep);
	struct rpc_span id;
	struct buf out;
	const char *o;

	buf_init(&out, 1u << 20);
	cr_assert_eq(rpc_parse(r, js, n), 0, "%s", js);
	id = rpc_id(r);
	cr_assert_neq(id.type, RPC_T_NONE, "%s", js);
	cr_assert_eq(rpc_splice(js, n, id, rep, rl, &out), 0);
	o = buf_data(&out);
	cr_expect_str_eq(o, want);
	cr_assert_eq(buf_len(&out), n - id.len + rl);
	cr_expect_eq(memcmp(o, js, id.off), 0, "prefix of %s", js);
	cr_expect_eq(memcmp(o + id.off, rep, rl), 0);
	cr_expect_eq(
	    memcmp(o + id.off + rl, js + id.off + id.len, n - id.off - id.len),
	    0, "suffix of %s", js);
	/* The result is the same kind of message with the new id. */
	cr_assert_eq(rpc_parse(back, o, buf_len(&out)), 0, "%s", o);
	cr_expect_eq(rpc_kind(back), rpc_kind(r));
	expect_span(o, rpc_id(back), rep[0] == '"' ? RPC_T_STRING : RPC_T_INT,
	    rep, "spliced id");
	buf_finish(&out);
	rpc_free(&r);
	rpc_free(&back);
}

Test(rpc, splice_id)
{
	splice_id("{\"jsonrpc\":\"2.0\",\"id\":\"abc-1\",\"method\":\"x\","
	          "\"params\":{\"id\":\"abc-1\"}}",
	    "42",
	    "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"x\","
	    "\"params\":{\"id\":\"abc-1\"}}");
	splice_id("{\"jsonrpc\":\"2.0\",\"id\":17,\"result\":{\"id\":17}}",
	    "\"s-17\"",
	    "{\"jsonrpc\":\"2.0\",\"id\":\"s-17\",\"result\":{\"id\":17}}");
	splice_id("{ \"result\" : [ 1 ,2 ] ,\r\n \"id\" :  -3 , "
	          "\"jsonrpc\":\"2.0\" }\r\n",
	    "9223372036854775807",
	    "{ \"result\" : [ 1 ,2 ] ,\r\n \"id\" :  9223372036854775807 , "
	    "\"jsonrpc\":\"2.0\" }\r\n");
	splice_id("{\"id\":\"\",\"jsonrpc\":\"2.0\",\"method\":\"\xc3\xa9\"}",
	    "\"a\\\"b\"",
	    "{\"id\":\"a\\\"b\",\"jsonrpc\":\"2.0\",\"method\":\"\xc3\xa9\"}");
	splice_id("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1}", "1000000",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1000000}");
}

Test(rpc, splice_cap_and_edges)
{
	static const char js[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	                         "\"method\":\"x\"}";
	struct rpc *r = rpc_new();
	struct buf out;
	struct rpc_span id, whole;

	cr_assert_eq(rpc_parse(r, L(js)), 0);
	id = rpc_id(r);
	/* Too small a cap fails at any step. */
	for (size_t max = 0; max < sizeof(js) - 1 + 1; max++) {
		buf_init(&out, max);
		cr_expect_eq(rpc_splice(js, sizeof(js) - 1, id, "22", 2, &out),
		    -1, "max %zu", max);
		buf_finish(&out);
	}
	buf_init(&out, sizeof(js));
	cr_expect_eq(rpc_splice(js, sizeof(js) - 1, id, "22", 2, &out), 0);
	buf_finish(&out);
	/* Replacing the whole text, and with nothing. */
	whole = rpc_get(r, NULL);
	buf_init(&out, 1024);
	cr_expect_eq(rpc_splice(js, sizeof(js) - 1, whole, "[]", 2, &out), 0);
	cr_expect_str_eq(buf_data(&out), "[]");
	buf_reset(&out);
	cr_expect_eq(rpc_splice(js, sizeof(js) - 1, id, "", 0, &out), 0);
	cr_expect_str_eq(buf_data(&out),
	    "{\"jsonrpc\":\"2.0\",\"id\":,"
	    "\"method\":\"x\"}");
	buf_finish(&out);
	rpc_free(&r);
}

Test(rpc, put_string)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "\\\"", "\"\\\\\\\"\"" },
		{ "\n\r\t\b\f", "\"\\u000a\\u000d\\u0009\\u0008\\u000c\"" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"" },
		{ " \x7f", "\" \x7f\"" },
		{ "/", "\"/\"" },
		{ "\xc3\xa9\xf0\x9f\x98\x80", "\"\xc3\xa9\xf0\x9f\x98\x80\"" },
		{ "</script>", "\"</script>\"" },
	};
	struct rpc *r = rpc_new();
	struct buf b, msg;

	buf_init(&b, 1024);
	buf_init(&msg, 1024);
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		buf_reset(&b);
		cr_assert_eq(rpc_put_string(&b, t[i].in), 0);
		cr_expect_str_eq(buf_data(&b), t[i].out, "case %zu", i);
		/* As a method name it makes a valid message. */
		buf_reset(&msg);
		cr_assert_eq(buf_puts(&msg,
		                 "{\"jsonrpc\":\"2.0\","
		                 "\"method\":"),
		    0);
		cr_assert_eq(buf_append(&msg, buf_data(&b), buf_len(&b)), 0);
		cr_assert_eq(buf_puts(&msg, "}"), 0);
		cr_expect_eq(rpc_parse(r, buf_data(&msg), buf_len(&msg)), 0,
		    "case %zu: %s", i, buf_data(&msg));
		cr_expect_eq(rpc_kind(r), RPC_NOTIFICATION, "case %zu", i);
	}
	/* Appends after what is there. */
	buf_reset(&b);
	cr_assert_eq(buf_puts(&b, "x:"), 0);
	cr_assert_eq(rpc_put_string(&b, "y"), 0);
	cr_expect_str_eq(buf_data(&b), "x:\"y\"");
	buf_finish(&b);
	/* Every byte of control characters through every cap: no overrun. */
	for (size_t max = 0; max < 16; max++) {
		buf_init(&b, max);
		cr_expect_eq(rpc_put_string(&b, "a\x01\""), max >= 11 ? 0 : -1,
		    "max %zu", max);
		buf_finish(&b);
	}
	buf_finish(&msg);
	rpc_free(&r);
}

Test(rpc, put_string_all_bytes)
{
	char in[256];
	struct rpc *r = rpc_new();
	struct buf b;

	/* Bytes 1..127: ASCII, so the result must be valid JSON text. */
	for (int i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	in[127] = '\0';
	buf_init(&b, 4096);
	cr_assert_eq(buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":"), 0);
	cr_assert_eq(rpc_put_string(&b, in), 0);
	cr_assert_eq(buf_puts(&b, "}"), 0);
	cr_expect_eq(
	    rpc_parse(r, buf_data(&b), buf_len(&b)), 0, "%s", buf_data(&b));
	for (size_t i = 0; i < buf_len(&b); i++)
		cr_expect_geq((unsigned char)buf_data(&b)[i], 0x20,
		    "raw control byte at %zu", i);
	buf_finish(&b);
	rpc_free(&r);
}

Test(rpc, error_reply_round_trip)
{
	static const struct {
		const char *id; /* raw id, NULL: null */
		int code;
		const char *msg;
	} t[] = {
		{ "1", RPC_PARSE_ERROR, "Parse error" },
		{ "\"abc\"", RPC_INVALID_REQUEST, "Invalid \"request\"" },
		{ NULL, RPC_PARSE_ERROR, "line\nbreak\\and\ttab" },
		{ "-9223372036854775808", RPC_METHOD_NOT_FOUND, "" },
		{ "9223372036854775807", RPC_INVALID_PARAMS, "\xc3\xa9" },
		{ "\"a\\\"b\"", RPC_INTERNAL_ERROR, "x" },
		{ "\"\"", RPC_UPSTREAM_ERROR, "upstream: HTTP 502" },
		{ "0", RPC_TIMEOUT_ERROR, "\x01\x1f" },
		{ "7", 0, "zero" },
		{ "8", 2147483647, "max" },
		{ "9", -2147483647 - 1, "min" },
	};
	struct rpc *r = rpc_new();
	struct buf b;
	char cbuf[32];
	size_t full;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		const char *js;
		struct rpc_span sp;
		int64_t code;

		buf_reset(&b);
		cr_assert_eq(
		    rpc_error_reply(&b, t[i].id, t[i].id ? strlen(t[i].id) : 0,
		        t[i].code, t[i].msg),
		    0);
		js = buf_data(&b);
		cr_assert_eq(
		    rpc_parse(r, js, buf_len(&b)), 0, "case %zu: %s", i, js);
		cr_expect_eq(rpc_kind(r), RPC_RESPONSE, "case %zu", i);
		cr_expect_eq(rpc_is_error(r), 1);
		cr_expect_null(strchr(js, '\n'), "case %zu: one line", i);
		expect_span(js, rpc_id(r),
		    t[i].id == NULL         ? RPC_T_NULL
		        : t[i].id[0] == '"' ? RPC_T_STRING
		                            : RPC_T_INT,
		    t[i].id ? t[i].id : "null", "id");
		sp = rpc_get(r, "error", "code", NULL);
		cr_assert_eq(sp.type, RPC_T_INT, "case %zu", i);
		cr_assert_eq(rpc_span_int(js, sp, &code), 0);
		cr_expect_eq(code, t[i].code, "case %zu", i);
		sp = rpc_get(r, "error", "message", NULL);
		cr_expect_eq(sp.type, RPC_T_STRING, "case %zu", i);
		if (strpbrk(t[i].msg, "\"\\\n\t\x01") == NULL)
			cr_expect_str_eq(
			    rpc_span_str(js, sp, cbuf, sizeof(cbuf)), t[i].msg,
			    "case %zu", i);
		cr_expect_eq(rpc_get(r, "result", NULL).type, RPC_T_NONE);
		cr_expect(rpc_method_is(r, "") == 0);
	}
	buf_reset(&b);
	cr_assert_eq(rpc_error_reply(&b, "5", 1, -32600, "m"), 0);
	cr_expect_str_eq(buf_data(&b),
	    "{\"jsonrpc\":\"2.0\",\"id\":5,"
	    "\"error\":{\"code\":-32600,\"message\":\"m\"}}");
	full = buf_len(&b);
	buf_finish(&b);
	/* Every cap below the full size fails; no overrun. */
	for (size_t max = 0; max < 64; max++) {
		buf_init(&b, max);
		cr_expect_eq(rpc_error_reply(&b, "5", 1, -32600, "m"),
		    max >= full ? 0 : -1, "max %zu", max);
		buf_finish(&b);
	}
	rpc_free(&r);
}

/* Builds `n` copies of `open`, then `n` of `close` (close may be ""). */
static char *
nest(
    const char *open, const char *mid, const char *close, size_t n, size_t *len)
{
	size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
	char *s = malloc(n * (lo + lc) + lm + 1), *p = s;

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

Test(rpc, deep_nesting_does_not_crash)
{
	static const struct {
		const char *open, *mid, *close;
		int ok; /* 1: must parse, 0: must fail, -1: either */
	} t[] = {
		{ "[", "", "]", -1 },
		{ "[", "1", "]", -1 },
		{ "{\"a\":", "1", "}", -1 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":", "[]",
		    "}", -1 },
		{ "[", "", "", 0 },
		{ "{\"a\":", "", "", 0 },
		{ "[", "", "}", 0 },
		{ "[1,", "", "]", 0 },
		{ "[", "1", "],", 0 },
	};
	struct rpc *r = rpc_new();

	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		size_t len;
		char *s = nest(t[i].open, t[i].mid, t[i].close, 100000, &len);
		int rc = rpc_parse(r, s, len);

		cr_expect(rc == 0 || rc == RPC_PARSE_ERROR ||
		        rc == RPC_INVALID_REQUEST,
		    "case %zu: %d", i, rc);
		if (t[i].ok == 0)
			cr_expect_neq(rc, 0, "case %zu", i);
		if (rc == 0) {
			/* The accessors stay usable on the result. */
			(void)rpc_id(r);
			(void)rpc_get(r, "params", "x", NULL);
			if (rpc_kind(r) == RPC_BATCH)
				cr_expect_eq(rpc_batch_len(r), 1);
			(void)rpc_batch_item(r, 0);
		}
		free(s);
	}
	/* Then a small message still works. */
	cr_expect_eq(rpc_parse(r,
	                 L("{\"jsonrpc\":\"2.0\",\"id\":1,"
	                   "\"method\":\"x\"}")),
	    0);
	cr_expect_eq(rpc_kind(r), RPC_REQUEST);
	rpc_free(&r);
}

/* Realistic depth (deep JSON schemas, nested results) still parses. */
Test(rpc, moderate_depth_parses)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	                           "\"result\":";
	struct rpc *r = rpc_new();
	struct buf b;
	size_t len;
	char *s = nest("{\"a\":[", "{\"progressToken\":1}", "]}", 50, &len);

	buf_init(&b, 1u << 20);
	cr_assert_eq(buf_puts(&b, head), 0);
	cr_assert_eq(buf_append(&b, s, len), 0);
	cr_assert_eq(buf_puts(&b, "}"), 0);
	cr_expect_eq(rpc_parse(r, buf_data(&b), buf_len(&b)), 0);
	cr_expect_eq(rpc_kind(r), RPC_RESPONSE);
	expect_span(buf_data(&b), rpc_id(r), RPC_T_INT, "1", "deep id");
	buf_finish(&b);
	free(s);
	rpc_free(&r);
}

/* "[0,0,...,0]" with n elements (n + 1 tokens). */
static char *
flat(size_t n, size_t *len)
{
	char *s = malloc(2 * n + 2), *p = s;

	cr_assert_not_null(s);
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		*p++ = '0';
		*p++ = ',';
	}
	p[-1] = ']';
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

Test(rpc, million_tokens)
{
	struct rpc *r = rpc_new();
	size_t len;
	char *s = flat(1000000, &len);
	int rc = rpc_parse(r, s, len);

	cr_expect(rc == 0 || rc == RPC_PARSE_ERROR, "rc %d", rc);
	if (rc == 0) {
		struct rpc_span sp;

		cr_expect_eq(rpc_batch_len(r), 1000000);
		sp = rpc_batch_item(r, 999999);
		cr_expect_eq(sp.type, RPC_T_INT);
		cr_expect_eq(sp.off, len - 2);
	}
	free(s);
	/* Past the token bound the message is refused, not parsed. */
	s = flat(BOUNDS_MAX_TOKENS, &len);
	cr_expect_neq(rpc_parse(r, s, len), 0);
	cr_expect_eq(rpc_kind(r), RPC_INVALID);
	free(s);
	cr_expect_eq(
	    rpc_parse(r, L("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}")), 0);
	cr_expect_eq(rpc_kind(r), RPC_NOTIFICATION);
	rpc_free(&r);
}

/* One parser for messages of growing size, then small ones again. */
Test(rpc, reuse_growing)
{
	struct rpc *r = rpc_new();
	struct buf b;

	buf_init(&b, 1u << 24);
	for (int k = 0; k <= 16; k++) {
		size_t n = (size_t)1 << k;
		struct rpc_span sp;
		char name[16];
		int64_t v;

		buf_reset(&b);
		cr_assert_eq(buf_printf(&b,
		                 "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		                 "\"method\":\"m%d\",\"params\":{\"a\":[",
		                 k, k),
		    0);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(
			    buf_printf(&b, "%s{\"v\":%zu}", i ? "," : "", i),
			    0);
		cr_assert_eq(buf_puts(&b,
		                 "],\"_meta\":{\"progressToken\":"
		                 "\"t\"}}}"),
		    0);
		cr_assert_eq(
		    rpc_parse(r, buf_data(&b), buf_len(&b)), 0, "k %d", k);
		cr_expect_eq(rpc_kind(r), RPC_REQUEST);
		cr_assert_eq(rpc_span_int(buf_data(&b), rpc_id(r), &v), 0);
		cr_expect_eq(v, k);
		cr_assert_gt(snprintf(name, sizeof(name), "m%d", k), 0);
		cr_expect_eq(rpc_method_is(r, name), 1, "k %d", k);
		cr_expect_eq(rpc_method_is(r, "m"), 0, "k %d", k);
		sp = rpc_get(r, "params", "_meta", "progressToken", NULL);
		expect_span(buf_data(&b), sp, RPC_T_STRING, "\"t\"", "token");
		sp = rpc_get(r, "params", "a", NULL);
		cr_expect_eq(sp.type, RPC_T_ARRAY);
		cr_expect_eq(buf_data(&b)[sp.off + sp.len - 1], ']');

		/* A notification after it: nothing from before leaks. */
		cr_assert_eq(rpc_parse(r,
		                 L("{\"jsonrpc\":\"2.0\","
		                   "\"method\":\"n\"}")),
		    0);
		cr_expect_eq(rpc_kind(r), RPC_NOTIFICATION);
		cr_expect_eq(rpc_id(r).type, RPC_T_NONE);
		cr_expect_eq(rpc_get(r, "params", NULL).type, RPC_T_NONE);
		cr_expect_eq(rpc_batch_len(r), 0);
	}
	buf_finish(&b);
	rpc_free(&r);
}

/* Offsets are relative to the text given, whitespace and all. */
Test(rpc, crlf_offsets)
{
	static const char js[] = "\r\n \t{\"jsonrpc\":\"2.0\",\"id\":\"x\","
	                         "\"method\":\"m\"}\r\n";
	struct rpc *r = rpc_new();
	struct rpc_span root;

	cr_assert_eq(rpc_parse(r, L(js)), 0);
	expect_span(js, rpc_id(r), RPC_T_STRING, "\"x\"", "id");
	root = rpc_get(r, NULL);
	cr_expect_eq(root.off, 4);
	cr_expect_eq(root.len, sizeof(js) - 1 - 6);
	/* The same text without its CRLF parses the same. */
	cr_assert_eq(rpc_parse(r, js, sizeof(js) - 3), 0);
	cr_assert_eq(rpc_parse(r, js + 4, sizeof(js) - 1 - 6), 0);
	expect_span(js + 4, rpc_id(r), RPC_T_STRING, "\"x\"", "id");
	rpc_free(&r);
}

/*
 * Differential check against jansson: random edits of valid messages
 * must be JSON for rpc_parse exactly when they are JSON for jansson.
 * Cases where jansson checks more than syntax (\u escapes of surrogates
 * or NUL, numbers too big for it) are skipped.
 */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static int
has_u_escape(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\\' && p[i + 1] == 'u')
			return 1;
	return 0;
}

Test(rpc, differential_jansson)
{
	static const char *const seeds[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"a\",\"arguments\":{\"n\":[1,-2.5e3,"
		"true,false,null,{},[]]},\"_meta\":{\"progressToken\":7}}}",
		"[{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"ok\":true}},"
		"{\"jsonrpc\":\"2.0\",\"method\":\"n\"}]",
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
		"\"message\":\"a\\\"b\\\\c\\n\"}}",
		" [ 0 , 1.0 , -0.5E+2 , \"s\" , [ [ ] ] ] ",
	};
	static const char alpha[] = "{}[]:,\"\\ 0123456789.eE+-truefalsnl\t"
	                            "\r\nx/";
	struct rpc *r = rpc_new();
	char m[512];
	int checked = 0, valid = 0;

	for (int iter = 0; iter < 40000; iter++) {
		const char *seed = seeds[rng() % 4];
		size_t n = strlen(seed), edits = 1 + rng() % 3;
		json_error_t err;
		json_t *j;
		int ours, theirs;

		memcpy(m, seed, n);
		for (size_t e = 0; e < edits && n > 0; e++) {
			size_t at = rng() % n;
			char c = alpha[rng() % (sizeof(alpha) - 1)];

			switch (rng() % 4) {
			case 0: /* replace */
				m[at] = c;
				break;
			case 1: /* delete */
				memmove(m + at, m + at + 1, n - at - 1);
				n--;
				break;
			case 2: /* insert */
				if (n + 1 >= sizeof(m))
					break;
				memmove(m + at + 1, m + at, n - at);
				m[at] = c;
				n++;
				break;
			default: /* truncate */
				n = at;
				break;
			}
		}
		if (has_u_escape(m, n))
			continue;
		j = json_loadb(m, n, JSON_DECODE_ANY, &err);
		theirs = j != NULL;
		json_decref(j);
		if (!theirs &&
		    (strstr(err.text, "too big") != NULL ||
		        strstr(err.text, "overflow") != NULL))
			continue;
		ours = rpc_parse(r, m, n) != RPC_PARSE_ERROR;
		cr_expect_eq(ours, theirs, "rpc %d, jansson %d (%s): %.*s",
		    ours, theirs, theirs ? "" : err.text, (int)n, m);
		checked++;
		valid += theirs;
	}
	cr_expect_gt(checked, 30000);
	cr_expect_gt(valid, 1000);
	rpc_free(&r);
}

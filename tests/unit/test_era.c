/* SPDX-License-Identifier: ISC */
/* era: legacy <-> 2026-07-28 translation (pure functions). */
#include <criterion/criterion.h>

#include <string.h>

#include "era.h"

static json_t *
J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);

	cr_assert_not_null(j, "bad test JSON: %s (%s)", s, e.text);
	return j;
}

static void
assert_json(json_t *got, const char *want)
{
	json_t *w = J(want);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	cr_assert(json_equal(got, w), "got %s\nwant %s", g, want);
	free(g);
	json_decref(w);
}

Test(era, legacy_versions)
{
	cr_assert(era_legacy_ok("2024-11-05"));
	cr_assert(era_legacy_ok("2025-11-25"));
	cr_assert_not(era_legacy_ok("2026-07-28"));
	cr_assert_not(era_legacy_ok(NULL));
	cr_assert_not(era_legacy_ok("2025-11-25x"));
}

Test(era, meta_from_initialize)
{
	json_t *p = J("{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	              "{\"roots\":{\"listChanged\":true},\"sampling\":{},"
	              "\"elicitation\":{\"form\":{}},\"tasks\":{\"list\":{}},"
	              "\"experimental\":{\"x\":1}},\"clientInfo\":{\"name\":"
	              "\"ide\",\"version\":\"1\"}}");
	json_t *m = era_meta_from_init(p);

	assert_json(m,
	    "{\"" ERA_META_VERSION "\":\"2026-07-28\",\"" ERA_META_CAPS
	    "\":{\"roots\":{},\"sampling\":{},\"elicitation\":{\"form\":{}},"
	    "\"experimental\":{\"x\":1}},\"" ERA_META_CLIENT
	    "\":{\"name\":\"ide\",\"version\":\"1\"}}");
	cr_assert_null(era_meta_from_init(json_array_get(p, 0)));
	json_decref(m);
	json_decref(p);
}

Test(era, put_and_take_meta)
{
	json_t *msg =
	    J("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	      "\"params\":{\"name\":\"x\",\"_meta\":{\"progressToken\":7}}}");
	json_t *meta = J("{\"" ERA_META_VERSION "\":\"2026-07-28\"}"), *took;

	cr_assert_eq(era_put_meta(msg, meta, "info"), 0);
	assert_json(json_object_get(json_object_get(msg, "params"), "_meta"),
	    "{\"progressToken\":7,\"" ERA_META_VERSION
	    "\":\"2026-07-28\",\"" ERA_META_LOGLEVEL "\":\"info\"}");
	took = era_take_meta(msg);
	assert_json(took,
	    "{\"" ERA_META_VERSION "\":\"2026-07-28\",\"" ERA_META_LOGLEVEL
	    "\":\"info\"}");
	assert_json(json_object_get(msg, "params"),
	    "{\"name\":\"x\",\"_meta\":{\"progressToken\":7}}");
	json_decref(took);
	/* _meta goes when nothing of it is left; no params: a new one. */
	json_object_del(
	    json_object_get(json_object_get(msg, "params"), "_meta"),
	    "progressToken");
	json_decref(era_take_meta(msg));
	assert_json(json_object_get(msg, "params"), "{\"name\":\"x\"}");
	json_object_del(msg, "params");
	cr_assert_eq(era_put_meta(msg, meta, NULL), 0);
	cr_assert_not_null(
	    json_object_get(json_object_get(msg, "params"), "_meta"));
	json_object_set_new(msg, "params", json_string("no"));
	cr_assert_eq(era_put_meta(msg, meta, NULL), -1);
	cr_assert_null(era_take_meta(msg));
	json_decref(meta);
	json_decref(msg);
}

Test(era, discover_to_initialize_and_back)
{
	json_t *dr =
	    J("{\"resultType\":\"complete\",\"supportedVersions\":"
	      "[\"2026-07-28\"],\"capabilities\":{\"tools\":{},"
	      "\"extensions\":{\"x\":{}}},\"instructions\":\"hi\","
	      "\"ttlMs\":0,\"cacheScope\":\"public\",\"_meta\":{"
	      "\"" ERA_META_SERVER "\":{\"name\":\"s\",\"version\":\"2\"}}}");
	json_t *ir = era_init_result(dr, "2025-06-18"), *back;

	cr_assert(era_supports_modern(dr));
	assert_json(ir,
	    "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":"
	    "{\"tools\":{},\"logging\":{}},\"serverInfo\":{\"name\":"
	    "\"s\",\"version\":\"2\"},\"instructions\":\"hi\"}");
	json_decref(ir);
	ir = era_init_result(dr, "1999-01-01");
	cr_assert_str_eq(
	    json_string_value(json_object_get(ir, "protocolVersion")),
	    ERA_LEGACY_LATEST);
	back = era_discover_result(ir);
	cr_assert_str_eq(
	    json_string_value(json_object_get(back, "resultType")), "complete");
	cr_assert(era_supports_modern(back));
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_object_get(back, "_meta"),
	                         ERA_META_SERVER),
	                     "name")),
	    "s");
	json_decref(back);
	json_decref(ir);
	json_object_set_new(
	    dr, "supportedVersions", json_pack("[s]", "2027-01-01"));
	cr_assert_not(era_supports_modern(dr));
	json_decref(dr);
}

Test(era, modern_errors)
{
	json_t *e = J("{\"code\":-32022}");

	cr_assert(era_modern_error(e));
	json_object_set_new(e, "code", json_integer(-32020));
	cr_assert(era_modern_error(e));
	json_object_set_new(e, "code", json_integer(-32601));
	cr_assert_not(era_modern_error(e));
	json_object_set_new(e, "code", json_integer(-32000));
	cr_assert_not(era_modern_error(e));
	json_object_set_new(e, "code", json_string("-32022"));
	cr_assert_not(era_modern_error(e));
	json_decref(e);
}

static const char *
hv(const char *json)
{
	static char out[ERA_MAX_HEADER];
	json_t *v = J(json);
	int rc = era_header_value(v, out, sizeof(out));

	json_decref(v);
	return rc == 0 ? out : rc == 1 ? "(none)" : "(too long)";
}

Test(era, header_values)
{
	cr_assert_str_eq(hv("\"us-west1\""), "us-west1");
	cr_assert_str_eq(hv("\"\""), "");
	cr_assert_str_eq(hv("42"), "42");
	cr_assert_str_eq(hv("-7"), "-7");
	cr_assert_str_eq(hv("true"), "true");
	cr_assert_str_eq(hv("false"), "false");
	cr_assert_str_eq(hv("null"), "(none)");
	cr_assert_str_eq(hv("1.5"), "(none)");
	cr_assert_str_eq(hv("{}"), "(none)");
	/* Non-ASCII, control characters, edge white space, the sentinel. */
	cr_assert_str_eq(hv("\"Z\\u00fcrich\""), "=?base64?WsO8cmljaA==?=");
	cr_assert_str_eq(hv("\"a\\nb\""), "=?base64?YQpi?=");
	cr_assert_str_eq(hv("\" x\""), "=?base64?IHg=?=");
	cr_assert_str_eq(hv("\"x\\t\""), "=?base64?eAk=?=");
	cr_assert_str_eq(
	    hv("\"=?base64?abc?=\""), "=?base64?PT9iYXNlNjQ/YWJjPz0=?=");
	cr_assert_str_eq(hv("\"in side\""), "in side");
}

Test(era, header_value_does_not_overflow)
{
	char small[12];
	json_t *v = json_string("\xc3\xa9\xc3\xa9\xc3\xa9");

	cr_assert_eq(era_header_value(v, small, sizeof(small)), -1);
	json_decref(v);
	v = json_string("abcdefghijklmnop");
	cr_assert_eq(era_header_value(v, small, sizeof(small)), -1);
	json_decref(v);
}

static json_t *
tool(const char *schema)
{
	char buf[2048];

	snprintf(
	    buf, sizeof(buf), "{\"name\":\"t\",\"inputSchema\":%s}", schema);
	return J(buf);
}

static void
headers_are(const char *schema, const char *want)
{
	json_t *t = tool(schema), *h = era_tool_headers(t);

	if (want == NULL)
		cr_assert_null(h, "%s should be invalid", schema);
	else
		assert_json(h, want);
	json_decref(h);
	json_decref(t);
}

Test(era, x_mcp_header_validity)
{
	headers_are("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
	            "\"string\"}}}",
	    "[]");
	headers_are("{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
	            "\"string\",\"x-mcp-header\":\"Region\"},\"n\":{\"type\":"
	            "\"integer\",\"x-mcp-header\":\"N\"},\"o\":{\"type\":"
	            "\"object\",\"properties\":{\"deep\":{\"type\":\"boolean\","
	            "\"x-mcp-header\":\"Deep\"}}}}}",
	    "[[\"Region\",\"region\"],[\"N\",\"n\"],[\"Deep\",\"o\",\"deep\"]"
	    "]");
	/* number, object, no type */
	headers_are("{\"properties\":{\"a\":{\"type\":\"number\",\"x-mcp-"
	            "header\":\"A\"}}}",
	    NULL);
	headers_are("{\"properties\":{\"a\":{\"type\":\"object\",\"x-mcp-"
	            "header\":\"A\"}}}",
	    NULL);
	headers_are("{\"properties\":{\"a\":{\"x-mcp-header\":\"A\"}}}", NULL);
	/* not a token; empty; CR LF */
	headers_are("{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-"
	            "header\":\"A B\"}}}",
	    NULL);
	headers_are("{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-"
	            "header\":\"\"}}}",
	    NULL);
	headers_are("{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-"
	            "header\":\"A\\r\\nX: y\"}}}",
	    NULL);
	headers_are(
	    "{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":7}}}",
	    NULL);
	/* case-insensitively unique */
	headers_are(
	    "{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":"
	    "\"Id\"},\"b\":{\"type\":\"string\",\"x-mcp-header\":\"ID\"}}}",
	    NULL);
	/* only through properties */
	headers_are(
	    "{\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"string\",\"x-mcp-header\":\"A\"}}}}",
	    NULL);
	headers_are("{\"anyOf\":[{\"properties\":{\"a\":{\"type\":\"string\","
	            "\"x-mcp-header\":\"A\"}}}]}",
	    NULL);
	headers_are(
	    "{\"$defs\":{\"d\":{\"type\":\"string\",\"x-mcp-header\":\"A\"}},"
	    "\"properties\":{\"a\":{\"$ref\":\"#/$defs/d\"}}}",
	    NULL);
	headers_are("{\"type\":\"string\",\"x-mcp-header\":\"Root\"}", NULL);
	/* data keywords are not schemas */
	headers_are("{\"properties\":{\"a\":{\"type\":\"object\",\"default\":{"
	            "\"x-mcp-header\":\"A\"}}}}",
	    "[]");
}

Test(era, request_headers)
{
	json_t *t =
	    tool("{\"properties\":{\"region\":{\"type\":\"string\","
	         "\"x-mcp-header\":\"Region\"},\"n\":{\"type\":\"integer\","
	         "\"x-mcp-header\":\"N\"}}}");
	json_t *paths = era_tool_headers(t);
	json_t *msg =
	    J("{\"method\":\"tools/call\",\"params\":{\"name\":\"t\","
	      "\"arguments\":{\"region\":\"M\\u00fcnchen\",\"n\":null}}}");
	json_t *h = era_request_headers(msg, paths);

	assert_json(h,
	    "[\"Mcp-Method: tools/call\",\"Mcp-Name: t\","
	    "\"Mcp-Param-Region: =?base64?TcO8bmNoZW4=?=\"]");
	json_decref(h);
	json_decref(msg);
	msg = J("{\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///"
	        "a b\"}}");
	h = era_request_headers(msg, NULL);
	assert_json(
	    h, "[\"Mcp-Method: resources/read\",\"Mcp-Name: file:///a b\"]");
	json_decref(h);
	json_decref(msg);
	msg = J("{\"method\":\"tools/list\"}");
	h = era_request_headers(msg, NULL);
	assert_json(h, "[\"Mcp-Method: tools/list\"]");
	json_decref(h);
	json_decref(msg);
	json_decref(paths);
	json_decref(t);
}

Test(era, request_headers_refuse_huge_values)
{
	char *big = malloc(ERA_MAX_HEADER + 10);
	json_t *msg;

	memset(big, 'a', ERA_MAX_HEADER + 9);
	big[ERA_MAX_HEADER + 9] = '\0';
	msg = json_pack(
	    "{s:s,s:{s:s}}", "method", "tools/call", "params", "name", big);
	cr_assert_null(era_request_headers(msg, NULL));
	json_decref(msg);
	free(big);
}

Test(era, legacy_results)
{
	json_t *r =
	    J("{\"resultType\":\"complete\",\"ttlMs\":5000,\"cacheScope\":"
	      "\"public\",\"tools\":[{\"name\":\"ok\",\"inputSchema\":{},"
	      "\"outputSchema\":{\"type\":\"array\"}},{\"name\":\"bad\","
	      "\"inputSchema\":{\"properties\":{\"x\":{\"type\":\"number\","
	      "\"x-mcp-header\":\"X\"}}}},{\"name\":\"fine\",\"inputSchema\":"
	      "{},\"outputSchema\":{\"type\":\"object\"}}]}");
	json_t *dropped = json_array();

	cr_assert_eq(era_legacy_result(r, "tools/list", dropped), 1);
	assert_json(r,
	    "{\"tools\":[{\"name\":\"ok\",\"inputSchema\":{}},{\"name\":"
	    "\"fine\",\"inputSchema\":{},\"outputSchema\":{\"type\":"
	    "\"object\"}}]}");
	assert_json(dropped, "[\"bad\"]");
	json_decref(r);
	r = J("{\"resultType\":\"complete\",\"content\":[],"
	      "\"structuredContent\":[1]}");
	cr_assert_eq(era_legacy_result(r, "tools/call", NULL), 0);
	assert_json(r, "{\"content\":[]}");
	json_decref(r);
	json_decref(dropped);
}

Test(era, modern_results)
{
	json_t *r = J("{\"tools\":[]}");

	era_modern_result(r, "tools/list");
	assert_json(r,
	    "{\"tools\":[],\"resultType\":\"complete\",\"ttlMs\":0,"
	    "\"cacheScope\":\"private\"}");
	json_decref(r);
	r = J("{\"content\":[]}");
	era_modern_result(r, "tools/call");
	assert_json(r, "{\"content\":[],\"resultType\":\"complete\"}");
	json_decref(r);
	r = J("{\"contents\":[],\"ttlMs\":9}");
	era_modern_result(r, "resources/read");
	assert_json(r,
	    "{\"contents\":[],\"ttlMs\":9,\"resultType\":\"complete\","
	    "\"cacheScope\":\"private\"}");
	json_decref(r);
	cr_assert(era_is_list("resources/templates/list"));
	cr_assert_not(era_is_list("tools/call"));
	cr_assert_not(era_is_list(NULL));
}

Test(era, init_from_meta)
{
	json_t *m =
	    J("{\"" ERA_META_CAPS "\":{\"elicitation\":{}},\"" ERA_META_CLIENT
	      "\":{\"name\":\"v2\",\"version\":\"2\"}}");
	json_t *p = era_init_from_meta(m, "2025-11-25");

	assert_json(p,
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	    "{\"elicitation\":{}},\"clientInfo\":{\"name\":\"v2\","
	    "\"version\":\"2\"}}");
	json_decref(p);
	p = era_init_from_meta(NULL, "2025-11-25");
	cr_assert_not_null(json_object_get(p, "clientInfo"));
	json_decref(p);
	json_decref(m);
}

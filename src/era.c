/* SPDX-License-Identifier: ISC */
#include "era.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const legacy_versions[] = {
	"2024-11-05",
	"2025-03-26",
	"2025-06-18",
	"2025-11-25",
};

int
era_legacy_ok(const char *v)
{
	for (size_t i = 0; v && i < 4; i++)
		if (strcmp(v, legacy_versions[i]) == 0)
			return 1;
	return 0;
}

/* Client capabilities a modern server understands, from legacy ones. */
static json_t *
modern_caps(const json_t *caps)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;

	if (!json_is_object(caps))
		return out;
	json_object_foreach((json_t *)caps, k, v)
	{
		if (strcmp(k, "roots") == 0)
			json_object_set_new(out, k, json_object());
		else if (strcmp(k, "sampling") == 0 ||
		    strcmp(k, "elicitation") == 0 ||
		    strcmp(k, "experimental") == 0 ||
		    strcmp(k, "extensions") == 0)
			json_object_set(out, k, v);
	}
	return out;
}

json_t *
era_meta_from_init(const json_t *params)
{
	json_t *meta, *ci;

	if (!json_is_object(params))
		return NULL;
	meta = json_object();
	json_object_set_new(meta, ERA_META_VERSION, json_string(ERA_MODERN));
	json_object_set_new(meta, ERA_META_CAPS,
	    modern_caps(json_object_get(params, "capabilities")));
	ci = json_object_get(params, "clientInfo");
	if (json_is_object(ci))
		json_object_set(meta, ERA_META_CLIENT, ci);
	return meta;
}

json_t *
era_init_from_meta(const json_t *meta, const char *version)
{
	json_t *caps = json_object_get(meta, ERA_META_CAPS);
	json_t *ci = json_object_get(meta, ERA_META_CLIENT);
	json_t *p = json_object();

	json_object_set_new(p, "protocolVersion", json_string(version));
	json_object_set_new(p, "capabilities",
	    json_is_object(caps) ? json_deep_copy(caps) : json_object());
	if (json_is_object(ci))
		json_object_set(p, "clientInfo", ci);
	else
		json_object_set_new(p, "clientInfo",
		    json_pack("{s:s,s:s}", "name", "mcp-bridge", "version",
		        "modern-client"));
	return p;
}

int
era_put_meta(json_t *msg, const json_t *meta, const char *level)
{
	json_t *params, *m;

	if (!json_is_object(msg))
		return -1;
	params = json_object_get(msg, "params");
	if (params == NULL) {
		params = json_object();
		json_object_set_new(msg, "params", params);
	}
	if (!json_is_object(params))
		return -1;
	m = json_object_get(params, "_meta");
	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(params, "_meta", m);
	}
	if (json_is_object(meta))
		json_object_update(m, (json_t *)meta);
	if (level)
		json_object_set_new(m, ERA_META_LOGLEVEL, json_string(level));
	return 0;
}

json_t *
era_take_meta(json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	json_t *m, *out;
	const char *k;
	json_t *v;
	void *tmp;

	if (!json_is_object(params))
		return NULL;
	out = json_object();
	m = json_object_get(params, "_meta");
	if (!json_is_object(m))
		return out;
	json_object_foreach_safe(m, tmp, k, v)
	{
		if (strncmp(k, "io.modelcontextprotocol/", 24) != 0)
			continue;
		json_object_set(out, k, v);
		json_object_del(m, k);
	}
	if (json_object_size(m) == 0)
		json_object_del(params, "_meta");
	return out;
}

json_t *
era_discover_request(json_int_t id, const json_t *meta)
{
	return json_pack("{s:s,s:I,s:s,s:{s:O}}", "jsonrpc", "2.0", "id", id,
	    "method", "server/discover", "params", "_meta", meta);
}

/* Server capabilities for a legacy IDE. */
static json_t *
legacy_caps(const json_t *caps)
{
	json_t *out =
	    json_is_object(caps) ? json_deep_copy(caps) : json_object();

	json_object_del(out, "extensions");
	if (json_object_get(out, "logging") == NULL)
		json_object_set_new(out, "logging", json_object());
	return out;
}

json_t *
era_init_result(const json_t *dr, const char *ide_version)
{
	json_t *meta, *si, *ins, *ir;

	if (!json_is_object(dr))
		return NULL;
	meta = json_object_get(dr, "_meta");
	si = json_object_get(meta, ERA_META_SERVER);
	ir = json_object();
	json_object_set_new(ir, "protocolVersion",
	    json_string(
	        era_legacy_ok(ide_version) ? ide_version : ERA_LEGACY_LATEST));
	json_object_set_new(ir, "capabilities",
	    legacy_caps(json_object_get(dr, "capabilities")));
	if (json_is_object(si) && json_is_string(json_object_get(si, "name")))
		json_object_set(ir, "serverInfo", si);
	else
		json_object_set_new(ir, "serverInfo",
		    json_pack("{s:s,s:s}", "name", "hosted MCP server",
		        "version", "unknown"));
	ins = json_object_get(dr, "instructions");
	if (json_is_string(ins))
		json_object_set(ir, "instructions", ins);
	return ir;
}

json_t *
era_discover_result(const json_t *ir)
{
	json_t *dr, *caps, *si, *ins;

	if (!json_is_object(ir))
		return NULL;
	caps = json_object_get(ir, "capabilities");
	dr = json_pack("{s:s,s:[s],s:O,s:i,s:s}", "resultType", "complete",
	    "supportedVersions", ERA_MODERN, "capabilities",
	    json_is_object(caps) ? caps : json_object(), "ttlMs", 0,
	    "cacheScope", "private");
	if (dr == NULL)
		return NULL;
	/* Tasks are not bridged. */
	json_object_del(json_object_get(dr, "capabilities"), "tasks");
	ins = json_object_get(ir, "instructions");
	if (json_is_string(ins))
		json_object_set(dr, "instructions", ins);
	si = json_object_get(ir, "serverInfo");
	if (json_is_object(si))
		json_object_set_new(
		    dr, "_meta", json_pack("{s:O}", ERA_META_SERVER, si));
	return dr;
}

int
era_supports_modern(const json_t *dr)
{
	json_t *sv = json_object_get(dr, "supportedVersions");
	size_t i;
	json_t *v;

	json_array_foreach(sv, i, v) if (json_is_string(v) &&
	    strcmp(json_string_value(v), ERA_MODERN) == 0) return 1;
	return 0;
}

int
era_modern_error(const json_t *err)
{
	json_t *c = json_object_get(err, "code");
	json_int_t code;

	if (!json_is_integer(c))
		return 0;
	code = json_integer_value(c);
	return code <= -32020 && code >= -32099;
}

static int
needs_b64(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return 1;
	if (n >= 11 && strncmp(s, "=?base64?", 9) == 0 &&
	    strcmp(s + n - 2, "?=") == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			return 1;
	}
	return 0;
}

static int
b64(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	if ((n + 2) / 3 * 4 + 1 > outsz)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = (char)(i + 1 < n ? tab[(v >> 6) & 63] : '=');
		out[o++] = (char)(i + 2 < n ? tab[v & 63] : '=');
	}
	out[o] = '\0';
	return 0;
}

static int
string_value(const char *s, size_t n, char *out, size_t outsz)
{
	int w;

	if (!needs_b64(s, n)) {
		if (n + 1 > outsz)
			return -1;
		memcpy(out, s, n);
		out[n] = '\0';
		return 0;
	}
	if (outsz < 12 || (n + 2) / 3 * 4 + 12 > outsz)
		return -1;
	w = snprintf(out, outsz, "=?base64?");
	if (b64((const unsigned char *)s, n, out + w, outsz - (size_t)w) != 0)
		return -1;
	w += (int)strlen(out + w);
	memcpy(out + w, "?=", 3); /* room checked above */
	return 0;
}

int
era_header_value(const json_t *v, char *out, size_t outsz)
{
	int n;

	if (json_is_string(v))
		return string_value(
		    json_string_value(v), json_string_length(v), out, outsz);
	if (json_is_boolean(v))
		n = snprintf(
		    out, outsz, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		n = snprintf(
		    out, outsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		return 1;
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* RFC 9110 token characters. */
static int
token_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

/* Keywords whose values are data, not schemas. */
static int
data_keyword(const char *k)
{
	return strcmp(k, "default") == 0 || strcmp(k, "const") == 0 ||
	    strcmp(k, "enum") == 0 || strcmp(k, "examples") == 0;
}

/* A valid annotation on `schema` at `path`: appended to `out`. */
static int
add_header(const json_t *schema, const json_t *path, json_t *out)
{
	const char *h =
	    json_string_value(json_object_get(schema, "x-mcp-header"));
	const char *t = json_string_value(json_object_get(schema, "type"));
	size_t i;
	json_t *e, *entry;

	if (!token_ok(h) || t == NULL ||
	    (strcmp(t, "string") != 0 && strcmp(t, "integer") != 0 &&
	        strcmp(t, "boolean") != 0))
		return -1;
	if (json_array_size(out) >= ERA_MAX_TOOL_HEADERS)
		return -1;
	json_array_foreach(out, i,
	    e) if (strcasecmp(json_string_value(json_array_get(e, 0)), h) ==
	    0) return -1;
	entry = json_pack("[s]", h);
	json_array_extend(entry, (json_t *)path);
	json_array_append_new(out, entry);
	return 0;
}

static int walk(const json_t *s, int chain, json_t *path, json_t *out, int d);

/* The members of `properties`: each on the chain. */
static int
walk_props(const json_t *props, json_t *path, json_t *out, int depth)
{
	const char *k;
	json_t *v;
	int rc = 0;

	if (!json_is_object(props))
		return walk(props, 0, path, out, depth + 1);
	json_object_foreach((json_t *)props, k, v)
	{
		json_array_append_new(path, json_string(k));
		rc = walk(v, 1, path, out, depth + 1);
		json_array_remove(path, json_array_size(path) - 1);
		if (rc != 0)
			break;
	}
	return rc;
}

/*
 * Walks a schema: annotations count only on a chain of `properties`
 * from the root (`chain`); anywhere else they make the tool invalid.
 */
static int
walk(const json_t *s, int chain, json_t *path, json_t *out, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > 64)
		return -1;
	if (json_is_array(s)) {
		json_array_foreach((json_t *)s, i,
		    v) if (walk(v, 0, path, out, depth + 1) != 0) return -1;
		return 0;
	}
	if (!json_is_object(s))
		return 0;
	json_object_foreach((json_t *)s, k, v)
	{
		if (strcmp(k, "x-mcp-header") == 0) {
			if (!chain || json_array_size(path) == 0 ||
			    add_header(s, path, out) != 0)
				return -1;
		} else if (strcmp(k, "properties") == 0 && chain) {
			if (walk_props(v, path, out, depth) != 0)
				return -1;
		} else if (!data_keyword(k) &&
		    walk(v, 0, path, out, depth + 1) != 0)
			return -1;
	}
	return 0;
}

json_t *
era_tool_headers(const json_t *tool)
{
	json_t *out = json_array(), *path = json_array();
	int rc = walk(json_object_get(tool, "inputSchema"), 1, path, out, 0);

	json_decref(path);
	if (rc != 0)
		json_decref(out);
	return rc == 0 ? out : NULL;
}

static const char *
name_param(const char *method)
{
	if (strcmp(method, "tools/call") == 0 ||
	    strcmp(method, "prompts/get") == 0)
		return "name";
	if (strcmp(method, "resources/read") == 0)
		return "uri";
	return NULL;
}

/* Appends "Name: value" for `v`; 0 ok or skipped, -1 too long. */
static int
put_header(json_t *out, const char *name, const json_t *v)
{
	char val[ERA_MAX_HEADER], line[ERA_MAX_HEADER + 96];
	int rc = era_header_value(v, val, sizeof(val));

	if (rc == 1)
		return 0;
	if (rc == -1)
		return -1;
	snprintf(line, sizeof(line), "%s: %s", name, val);
	json_array_append_new(out, json_string(line));
	return 0;
}

static const json_t *
follow(const json_t *args, const json_t *e)
{
	const json_t *v = args;

	for (size_t i = 1; v && i < json_array_size(e); i++)
		v = json_object_get(v, json_string_value(json_array_get(e, i)));
	return v;
}

json_t *
era_request_headers(const json_t *msg, const json_t *paths)
{
	const char *m = json_string_value(json_object_get(msg, "method"));
	json_t *params = json_object_get(msg, "params");
	json_t *out = json_array(), *e;
	const char *np;
	char name[96];
	size_t i;

	if (m == NULL || strlen(m) > 256)
		goto fail;
	if (put_header(out, "Mcp-Method", json_object_get(msg, "method")) != 0)
		goto fail;
	if ((np = name_param(m)) != NULL &&
	    put_header(out, "Mcp-Name", json_object_get(params, np)) != 0)
		goto fail;
	json_array_foreach((json_t *)paths, i, e)
	{
		snprintf(name, sizeof(name), "Mcp-Param-%s",
		    json_string_value(json_array_get(e, 0)));
		if (put_header(out, name,
		        follow(json_object_get(params, "arguments"), e)) != 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static size_t
legacy_tools(json_t *result, json_t *dropped)
{
	json_t *tools = json_object_get(result, "tools"), *t, *hs, *os;
	size_t i, n = 0;

	for (i = 0; i < json_array_size(tools);) {
		t = json_array_get(tools, i);
		if ((hs = era_tool_headers(t)) == NULL) {
			if (dropped)
				json_array_append(
				    dropped, json_object_get(t, "name"));
			json_array_remove(tools, i);
			n++;
			continue;
		}
		json_decref(hs);
		os = json_object_get(t, "outputSchema");
		if (os &&
		    (!json_is_object(os) ||
		        !json_is_string(json_object_get(os, "type")) ||
		        strcmp(json_string_value(json_object_get(os, "type")),
		            "object") != 0))
			json_object_del(t, "outputSchema");
		i++;
	}
	return n;
}

size_t
era_legacy_result(json_t *result, const char *method, json_t *dropped)
{
	json_t *sc;

	if (!json_is_object(result))
		return 0;
	json_object_del(result, "resultType");
	json_object_del(result, "ttlMs");
	json_object_del(result, "cacheScope");
	if (method && strcmp(method, "tools/list") == 0)
		return legacy_tools(result, dropped);
	sc = json_object_get(result, "structuredContent");
	if (method && strcmp(method, "tools/call") == 0 && sc &&
	    !json_is_object(sc))
		json_object_del(result, "structuredContent");
	return 0;
}

int
era_is_list(const char *method)
{
	return method &&
	    (strcmp(method, "tools/list") == 0 ||
	        strcmp(method, "prompts/list") == 0 ||
	        strcmp(method, "resources/list") == 0 ||
	        strcmp(method, "resources/templates/list") == 0);
}

void
era_modern_result(json_t *result, const char *method)
{
	if (!json_is_object(result))
		return;
	if (json_object_get(result, "resultType") == NULL)
		json_object_set_new(
		    result, "resultType", json_string("complete"));
	if (!era_is_list(method) &&
	    !(method &&
	        (strcmp(method, "resources/read") == 0 ||
	            strcmp(method, "server/discover") == 0)))
		return;
	if (json_object_get(result, "ttlMs") == NULL)
		json_object_set_new(result, "ttlMs", json_integer(0));
	if (json_object_get(result, "cacheScope") == NULL)
		json_object_set_new(
		    result, "cacheScope", json_string("private"));
}

/* SPDX-License-Identifier: ISC */
/*
 * The IDE config edits: jsoned (JSON/JSONC text edits), tomled (TOML
 * table edits) and idecfg (the shipped ide-configs/ descriptions and the
 * add/remove operations on top of them).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idecfg.h"
#include "jsoned.h"
#include "tomled.h"

#define EXE "/opt/mcp bridge/bin/mcp-bridge"

static const char *const ARGS[] = { "run" };
static const struct jsoned_opts STRICT = { 0, 0 }, JSONC = { 1, 1 };

static struct idecfg_set *
load(void)
{
	char err[1024] = "";
	struct idecfg_set *s = idecfg_load(IDE_CONFIGS, err, sizeof(err));

	cr_assert_not_null(s, "%s", err);
	return s;
}

/* idecfg_add; returns the change and the new text (or a copy of in). */
static enum idecfg_change
add(const struct idecfg *c, const char *in, char **out)
{
	enum idecfg_change ch;
	char err[512];
	size_t n;

	cr_assert_eq(idecfg_add(c, in, strlen(in), "mcp-bridge", EXE, ARGS, 1,
	                 out, &n, &ch, err, sizeof(err)),
	    0, "%s: %s", idecfg_id(c), err);
	if (*out == NULL)
		*out = strdup(in);
	else
		cr_assert_eq(strlen(*out), n);
	return ch;
}

static enum idecfg_change
rm(const struct idecfg *c, const char *in, char **out)
{
	enum idecfg_change ch;
	char err[512];
	size_t n;

	cr_assert_eq(idecfg_remove(c, in, strlen(in), "mcp-bridge", out, &n,
	                 &ch, err, sizeof(err)),
	    0, "%s: %s", err, idecfg_id(c));
	if (*out == NULL)
		*out = strdup(in);
	return ch;
}

/* The JSON value of a (possibly JSONC) text. */
static json_t *
parse(const char *text)
{
	char *plain = jsoned_strip(text, strlen(text));
	json_error_t e;
	json_t *j = json_loads(plain, 0, &e);

	cr_assert_not_null(j, "%s in:\n%s", e.text, text);
	free(plain);
	return j;
}

Test(idecfg, loads_every_client)
{
	static const char *const ids[] = { "claude-code", "claude-desktop",
		"cline", "codex", "cursor", "gemini", "junie", "vscode",
		"windsurf", "zed" };
	struct idecfg_set *s = load();

	cr_assert_eq(idecfg_count(s), 10);
	for (size_t i = 0; i < 10; i++) {
		const struct idecfg *c = idecfg_find(s, ids[i]);

		cr_assert_not_null(c, "%s", ids[i]);
		cr_assert_str_eq(idecfg_id(idecfg_at(s, i)), ids[i]);
		cr_assert(strncmp(idecfg_source(c), "https://", 8) == 0);
	}
	cr_assert_str_eq(idecfg_key(idecfg_find(s, "vscode")), "servers");
	cr_assert_str_eq(idecfg_key(idecfg_find(s, "zed")), "context_servers");
	cr_assert_eq(idecfg_format(idecfg_find(s, "codex")), IDECFG_TOML);
	cr_assert_str_eq(
	    idecfg_project(idecfg_find(s, "vscode")), ".vscode/mcp.json");
	cr_assert_null(idecfg_project(idecfg_find(s, "windsurf")));
	cr_assert_null(idecfg_find(s, "emacs"));
	idecfg_set_free(&s);
	cr_assert_null(s);
}

Test(idecfg, bad_data_dir_is_an_error)
{
	char err[256] = "";

	cr_assert_null(idecfg_load("/nonexistent", err, sizeof(err)));
	cr_assert(strstr(err, "/nonexistent") != NULL, "%s", err);
}

Test(idecfg, paths_expand_placeholders)
{
	struct idecfg_set *s = load();
	char *p;

	setenv("HOME", "/home/u", 1);
	setenv("XDG_CONFIG_HOME", "/x", 1);
	unsetenv("CODEX_HOME");
	p = idecfg_user_path(idecfg_find(s, "vscode"));
	cr_assert_str_eq(p, "/x/Code/User/mcp.json");
	free(p);
	setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as XDG says */
	p = idecfg_user_path(idecfg_find(s, "zed"));
	cr_assert_str_eq(p, "/home/u/.config/zed/settings.json");
	free(p);
	p = idecfg_user_path(idecfg_find(s, "codex"));
	cr_assert_str_eq(p, "/home/u/.codex/config.toml");
	free(p);
	setenv("CODEX_HOME", "/c", 1);
	p = idecfg_user_path(idecfg_find(s, "codex"));
	cr_assert_str_eq(p, "/c/config.toml");
	free(p);
	p = idecfg_project_path(idecfg_find(s, "cursor"), "/src/app/");
	cr_assert_str_eq(p, "/src/app/.cursor/mcp.json");
	free(p);
	cr_assert_null(idecfg_project_path(idecfg_find(s, "cline"), "/p"));
	unsetenv("HOME");
	cr_assert_null(idecfg_user_path(idecfg_find(s, "cursor")));
	idecfg_set_free(&s);
}

/* Every client: add to nothing, again, remove, remove again. */
Test(idecfg, every_client_round_trip)
{
	struct idecfg_set *s = load();

	for (size_t i = 0; i < idecfg_count(s); i++) {
		const struct idecfg *c = idecfg_at(s, i);
		char *a, *b, *r, *r2;

		cr_assert_eq(add(c, "", &a), IDECFG_ADDED, "%s", idecfg_id(c));
		cr_assert(strstr(a, EXE) != NULL);
		cr_assert_eq(add(c, a, &b), IDECFG_SAME, "%s", idecfg_id(c));
		cr_assert_str_eq(a, b);
		cr_assert_eq(rm(c, a, &r), IDECFG_REMOVED, "%s", idecfg_id(c));
		cr_assert(strstr(r, "mcp-bridge") == NULL, "%s", r);
		cr_assert_eq(rm(c, r, &r2), IDECFG_ABSENT);
		if (idecfg_format(c) == IDECFG_JSON) {
			json_t *j = parse(a), *e;

			e = json_object_get(
			    json_object_get(j, idecfg_key(c)), "mcp-bridge");
			cr_assert_str_eq(
			    json_string_value(json_object_get(e, "command")),
			    EXE);
			cr_assert_str_eq(json_string_value(json_array_get(
			                     json_object_get(e, "args"), 0)),
			    "run");
			json_decref(j);
		}
		free(a);
		free(b);
		free(r);
		free(r2);
	}
	idecfg_set_free(&s);
}

Test(idecfg, vscode_entry_is_typed_stdio_under_servers)
{
	struct idecfg_set *s = load();
	char *snip =
	    idecfg_snippet(idecfg_find(s, "vscode"), "corp", EXE, ARGS, 1);
	json_t *j = parse(snip);
	json_t *e = json_object_get(json_object_get(j, "servers"), "corp");

	cr_assert_str_eq(
	    json_string_value(json_object_get(e, "type")), "stdio");
	json_decref(j);
	free(snip);
	idecfg_set_free(&s);
}

Test(idecfg, keeps_other_servers_and_comments)
{
	static const char in[] =
	    "// user MCP servers\n"
	    "{\n"
	    "\t\"inputs\": [],\n"
	    "\t\"servers\": {\n"
	    "\t\t/* docs server */\n"
	    "\t\t\"docs\": {\"type\": \"stdio\", \"command\": \"npx\"},\n"
	    "\t},\n"
	    "}\n";
	struct idecfg_set *s = load();
	const struct idecfg *c = idecfg_find(s, "vscode");
	char *a, *r;

	cr_assert_eq(add(c, in, &a), IDECFG_ADDED);
	cr_assert(
	    strncmp(a, in, strstr(in, "},\n\t},") + 2 - in) == 0, "%s", a);
	cr_assert(strstr(a, "\n\t\t\"mcp-bridge\": {\n\t\t\t\"type\"") != NULL,
	    "tabs kept:\n%s", a);
	cr_assert_eq(rm(c, a, &r), IDECFG_REMOVED);
	cr_assert_str_eq(r, in);
	free(a);
	free(r);
	idecfg_set_free(&s);
}

Test(idecfg, different_entry_is_updated_not_duplicated)
{
	static const char in[] =
	    "{\n  \"mcpServers\": {\n"
	    "    \"mcp-bridge\": {\"command\": \"/old\"},\n"
	    "    \"x\": {\"command\": \"y\"}\n  }\n}\n";
	struct idecfg_set *s = load();
	const struct idecfg *c = idecfg_find(s, "cursor");
	char *a, *b;
	json_t *j;

	cr_assert_eq(add(c, in, &a), IDECFG_UPDATED);
	j = parse(a);
	cr_assert_eq(json_object_size(json_object_get(j, "mcpServers")), 2);
	cr_assert(strstr(a, "/old") == NULL);
	cr_assert(strstr(a, "\"x\": {\"command\": \"y\"}\n") != NULL);
	cr_assert_eq(add(c, a, &b), IDECFG_SAME);
	json_decref(j);
	free(a);
	free(b);
	idecfg_set_free(&s);
}

Test(idecfg, equal_entry_with_other_spacing_is_same)
{
	static const char in[] =
	    "{\"mcpServers\": {\"mcp-bridge\": "
	    "{ \"args\" : [\"run\"],\"command\":\"" EXE "\" }}}";
	struct idecfg_set *s = load();
	char *a;

	cr_assert_eq(add(idecfg_find(s, "windsurf"), in, &a), IDECFG_SAME);
	cr_assert_str_eq(a, in);
	free(a);
	idecfg_set_free(&s);
}

static void
expect_err(const struct idecfg *c, const char *in, const char *want)
{
	enum idecfg_change ch;
	char err[512], *out = (char *)"x";
	size_t n;

	cr_assert_eq(idecfg_add(c, in, strlen(in), "mcp-bridge", EXE, ARGS, 1,
	                 &out, &n, &ch, err, sizeof(err)),
	    -1, "%s accepted %s", idecfg_id(c), in);
	cr_assert_null(out);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s: got '%s'",
	    idecfg_id(c), err);
}

Test(idecfg, malformed_files_report_line_and_column)
{
	struct idecfg_set *s = load();

	expect_err(idecfg_find(s, "cursor"),
	    "{\n  \"mcpServers\": {\n    \"a\" 1", "3:9: expected ':'");
	expect_err(idecfg_find(s, "claude-desktop"), "{\n  // no\n}",
	    "2:3: comments are not allowed");
	expect_err(
	    idecfg_find(s, "gemini"), "{\"a\": 1,}", "1:8: trailing comma");
	expect_err(idecfg_find(s, "vscode"), "{\"servers\": []}",
	    "1:13: this member must be an object");
	expect_err(idecfg_find(s, "zed"), "[1, 2]", "1:1: expected '{'");
	expect_err(idecfg_find(s, "vscode"), "{ /* open", "1:3: unterminated");
	expect_err(idecfg_find(s, "codex"), "model = \"o3\"\n[mcp_servers.x\n",
	    "2:15: expected ']'");
	expect_err(idecfg_find(s, "codex"), "a = [1,\n  2\nb = 3\n",
	    "3:1: expected ',' or ']'");
	expect_err(idecfg_find(s, "codex"),
	    "[mcp_servers]\nmcp-bridge = { command = \"x\" }\n",
	    "2:1: this entry is written as dotted keys");
	idecfg_set_free(&s);
}

Test(idecfg, toml_keeps_everything_else)
{
	static const char in[] =
	    "# Codex\nmodel = \"o3\"\n\n"
	    "[mcp_servers.docs]\ncommand = \"npx\"\n"
	    "args = [\n  \"-y\", # pinned\n  \"docs\",\n]\n\n"
	    "# about profiles\n[profiles.fast]\n"
	    "when = 1979-05-27 07:32:00Z\n"
	    "s = '''raw'''\n";
	struct idecfg_set *s = load();
	const struct idecfg *c = idecfg_find(s, "codex");
	char *a, *b, *r;

	cr_assert_eq(add(c, in, &a), IDECFG_ADDED);
	cr_assert(strncmp(a, in, strlen(in)) == 0, "%s", a);
	cr_assert_str_eq(a + strlen(in),
	    "\n[mcp_servers.mcp-bridge]\ncommand = \"" EXE "\"\n"
	    "args = [\"run\"]\n");
	cr_assert_eq(add(c, a, &b), IDECFG_SAME);
	cr_assert_eq(rm(c, a, &r), IDECFG_REMOVED);
	cr_assert_str_eq(r, in);
	free(a);
	free(b);
	free(r);
	idecfg_set_free(&s);
}

Test(idecfg, toml_update_replaces_entry_and_subtables)
{
	static const char in[] =
	    "[mcp_servers.mcp-bridge]\ncommand = \"/old\"\n"
	    "\n[mcp_servers.mcp-bridge.env]\nA = \"b\"\n"
	    "\n[mcp_servers.other]\ncommand = \"o\"\n";
	struct idecfg_set *s = load();
	char *a;

	cr_assert_eq(add(idecfg_find(s, "codex"), in, &a), IDECFG_UPDATED);
	cr_assert_str_eq(a,
	    "[mcp_servers.mcp-bridge]\ncommand = \"" EXE "\"\n"
	    "args = [\"run\"]\n\n[mcp_servers.other]\n"
	    "command = \"o\"\n");
	free(a);
	idecfg_set_free(&s);
}

static void
collect(const char *name, void *arg)
{
	size_t n = strlen(arg);

	snprintf((char *)arg + n, 256 - n, "%s;", name);
}

Test(idecfg, mentions_finds_entries_running_the_bridge)
{
	static const char js[] =
	    "{\"mcpServers\": {\"a\": {\"command\": \"/usr/bin/mcp-bridge\"}, "
	    "\"b\": {\"command\": \"npx\"}, \"c\": {\"command\": "
	    "\"mcp-bridge\", \"args\": [\"run\"]}}}";
	static const char toml[] = "[mcp_servers.x]\ncommand = \"mcp-bridge\"\n"
	                           "[mcp_servers.y]\ncommand = \"npx\"\n";
	struct idecfg_set *s = load();
	char names[256] = "", err[256];

	cr_assert_eq(idecfg_mentions(idecfg_find(s, "cursor"), js, strlen(js),
	                 "mcp-bridge", collect, names, err, sizeof(err)),
	    0);
	cr_assert_str_eq(names, "a;c;");
	names[0] = '\0';
	cr_assert_eq(
	    idecfg_mentions(idecfg_find(s, "codex"), toml, strlen(toml),
	        "mcp-bridge", collect, names, err, sizeof(err)),
	    0);
	cr_assert_str_eq(names, "x;");
	idecfg_set_free(&s);
}

/* jsoned on its own. */

static char *
set(const char *in, const struct jsoned_opts *o)
{
	struct jsoned_err e;
	char *out;
	size_t n;

	cr_assert_eq(jsoned_set(in, strlen(in), o, "k", "n", "{\n  \"a\": 1\n}",
	                 &out, &n, &e),
	    0, "%d:%d: %s", e.line, e.col, e.msg);
	return out;
}

Test(jsoned, inserts_after_a_last_member_with_a_comment)
{
	char *o = set("{\n  \"k\": {\n    \"x\": 1 // one\n  }\n}\n", &JSONC);

	cr_assert_str_eq(o,
	    "{\n  \"k\": {\n    \"x\": 1, // one\n"
	    "    \"n\": {\n      \"a\": 1\n    }\n  }\n}\n");
	free(o);
}

Test(jsoned, single_line_objects_stay_single_line)
{
	char *o = set("{\"k\": {\"x\": [1, 2]}}", &STRICT);

	cr_assert_str_eq(o, "{\"k\": {\"x\": [1, 2], \"n\": {\"a\": 1}}}");
	free(o);
}

Test(jsoned, empty_object_and_blank_file)
{
	char *o = set("{}", &STRICT), *b = set("  \n", &STRICT);
	char *c = set("// only a comment\n", &JSONC);

	cr_assert_str_eq(
	    o, "{\n  \"k\": {\n    \"n\": {\n      \"a\": 1\n    }\n  }\n}");
	cr_assert_str_eq(b,
	    "  \n{\n  \"k\": {\n    \"n\": {\n      \"a\": 1\n"
	    "    }\n  }\n}\n");
	cr_assert(strncmp(c, "// only a comment\n{\n", 20) == 0, "%s", c);
	free(o);
	free(b);
	free(c);
}

Test(jsoned, crlf_and_bom_are_kept)
{
	char *o = set("\xef\xbb\xbf{\r\n  \"z\": true\r\n}\r\n", &STRICT);

	cr_assert_str_eq(o,
	    "\xef\xbb\xbf{\r\n  \"z\": true,\r\n  \"k\": {\r\n"
	    "    \"n\": {\r\n      \"a\": 1\r\n    }\r\n  }\r\n"
	    "}\r\n");
	free(o);
}

Test(jsoned, escaped_keys_match_decoded)
{
	static const char in[] = "{\"k\": {\"\\u006e\": 0}}";
	struct jsoned_err e;
	size_t vs, ve;

	cr_assert_eq(
	    jsoned_get(in, strlen(in), &STRICT, "k", "n", &vs, &ve, &e), 1);
	cr_assert_eq(in[vs], '0');
}

Test(jsoned, hostile_input_is_refused_not_crashed)
{
	static const char *const bad[] = { "{\"a\": tru}", "{\"a\": 01}",
		"{\"a\": \"\x01\"}", "{\"a\": \"\\x\"}", "{\"a\": 1} x",
		"{\"a\"}", "{\"a\": [1 2]}", "{\"a\": -}", "{\"a\": \"\\u12\"}",
		"{", "{\"a\": 1,,}" };
	struct jsoned_err e;
	size_t n = 100000;
	char *deep = malloc(2 * n + 1);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(jsoned_check(bad[i], strlen(bad[i]), &JSONC, &e),
		    -1, "%s", bad[i]);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	deep[0] = '{';
	cr_assert_eq(jsoned_check(deep, 2 * n, &JSONC, &e), -1);
	cr_assert_eq(jsoned_check("{\"a\": \"x\0\"}", 11, &JSONC, &e), -1);
	cr_assert(strstr(e.msg, "NUL") != NULL);
	free(deep);
}

Test(jsoned, removes_every_duplicate)
{
	static const char in[] = "{\"k\": {\"n\": 1, \"m\": 2, \"n\": 3}}";
	struct jsoned_err e;
	char *out;
	size_t n;

	cr_assert_eq(
	    jsoned_remove(in, strlen(in), &STRICT, "k", "n", &out, &n, &e), 1);
	cr_assert_str_eq(out, "{\"k\": { \"m\": 2 }}");
	free(out);
}

Test(jsoned, strip_blanks_comments_and_trailing_commas)
{
	static const char in[] = "{\"a\": \"//x\", /* c */ \"b\": [1,],}// e";
	char *s = jsoned_strip(in, strlen(in));

	cr_assert_str_eq(s, "{\"a\": \"//x\",         \"b\": [1 ] }    ");
	free(s);
}

/* tomled on its own. */

Test(tomled, strings_keys_and_values)
{
	static const char ok[] =
	    "\"quoted key\" = 1\n'lit' = 'x'\na.b . c = +inf\n"
	    "m = \"\"\"\nline \\\n  next \"\" \"\"\"\"\"\nn = '''a''b'''\n"
	    "t = { x = 1, y = [\"z\"] }\nd = 1979-05-27T07:32:00-08:00\n"
	    "h = 0xDEAD_beef\nf = -1.5e3\n[[arr]]\n[ \"q\" . r ]  # c\n";
	static const char *const bad[] = { "a = \"\\q\"\n", "= 1\n",
		"a = 1 b = 2\n", "a = { x = 1,\n y = 2 }\n", "[a\n",
		"a = '''x\n", "a = \"\"\"x\"\"\"\"\"\"\n", "a = tru\n" };
	struct tomled_err e;

	cr_assert_eq(tomled_check(ok, strlen(ok), &e), 0, "%d:%d: %s", e.line,
	    e.col, e.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(
		    tomled_check(bad[i], strlen(bad[i]), &e), -1, "%s", bad[i]);
}

Test(tomled, keys_are_quoted_when_not_bare)
{
	char *k = tomled_key("a.b"), *b = tomled_key("ok-Name_1");
	char *s = tomled_string("C:\\x \"q\"\n");

	cr_assert_str_eq(k, "\"a.b\"");
	cr_assert_str_eq(b, "ok-Name_1");
	cr_assert_str_eq(s, "\"C:\\\\x \\\"q\\\"\\u000a\"");
	free(k);
	free(b);
	free(s);
}

Test(tomled, dotted_root_keys_are_refused)
{
	static const char in[] = "mcp_servers.n.command = \"x\"\n";
	struct tomled_err e;
	char *out;
	size_t n;

	cr_assert_eq(tomled_set(in, strlen(in), "mcp_servers", "n", "a = 1\n",
	                 &out, &n, &e),
	    -1);
	cr_assert_eq(e.line, 1);
}

/* Cases the fuzzers found (tests/fuzz/fuzz_jsoned.c, fuzz_tomled.c). */

Test(jsoned, indented_root_brace_keeps_its_unit)
{
	char *a = set(" {\n   \"z\": 1\n }\n", &STRICT), *b;

	b = set(a, &STRICT);
	cr_assert_str_eq(a, b);
	cr_assert(
	    strstr(a, "\n   \"k\": {\n     \"n\": {\n       \"a\": 1\n") !=
	        NULL,
	    "%s", a);
	free(a);
	free(b);
}

Test(jsoned, line_endings_stay_stable)
{
	static const char *const ins[] = { "\r", "//]\r{}", "{\r\n}" };

	for (size_t i = 0; i < 3; i++) {
		char *a = set(ins[i], &JSONC), *b = set(a, &JSONC);

		cr_assert_str_eq(a, b, "%zu", i);
		free(a);
		free(b);
	}
}

Test(tomled, trailing_comment_lines_are_not_part_of_the_entry)
{
	static const char in[] = "[mcp_servers.n]\ncommand = \"/old\"\n"
	                         "m = \"\"\"\n# not a comment\"\"\"\n# real\n";
	struct tomled_err e;
	char *a, *b;
	size_t an, bn;

	cr_assert_eq(tomled_set(in, strlen(in), "mcp_servers", "n", "a = 1\n",
	                 &a, &an, &e),
	    1);
	cr_assert_str_eq(a, "[mcp_servers.n]\na = 1\n# real\n");
	cr_assert_eq(
	    tomled_set(a, an, "mcp_servers", "n", "a = 1\n", &b, &bn, &e), 0);
	free(a);
}

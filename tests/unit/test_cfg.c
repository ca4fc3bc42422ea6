/* SPDX-License-Identifier: ISC */
/* cfg: layering, origins, validation messages, printer. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static char err[512];

static struct cfg *
from_text(const char *text)
{
	struct cfg *c = cfg_new();

	if (cfg_apply_text(c, text, "t.json", err, sizeof(err)) == -1)
		cfg_free(&c);
	return c;
}

static void
expect_err(const char *text, const char *part1, const char *part2)
{
	struct cfg *c = from_text(text);

	cr_assert_null(c, "accepted: %s", text);
	cr_assert(strstr(err, "t.json: ") == err, "%s", err);
	cr_assert(strstr(err, part1) != NULL, "'%s' not in %s", part1, err);
	if (part2)
		cr_assert(
		    strstr(err, part2) != NULL, "'%s' not in %s", part2, err);
	cr_assert_null(strchr(err, '\n'));
}

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_cfg_XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

Test(cfg, defaults)
{
	struct cfg *c = cfg_new();

	cr_assert_null(cfg_issuer(c));
	cr_assert_str_eq(cfg_token_store(c), "keyring");
	cr_assert_str_eq(cfg_profile(c), "default");
	cr_assert_eq(cfg_scope_count(c), 5);
	cr_assert_str_eq(cfg_scope(c, 0), "openid");
	cr_assert_str_eq(cfg_scope(c, 4), "groups");
	cr_assert_eq(cfg_server_count(c), 0);
	cr_assert_str_eq(cfg_origin(c, "issuer"), "default");
	cfg_free(&c);
	cr_assert_null(c);
}

Test(cfg, unknown_key_and_x_keys)
{
	struct cfg *c;

	expect_err(
	    "{\"isuer\": \"https://a.example\"}", "isuer", "unknown key");
	c = from_text("{\"x-note\": 5, \"profile\": \"p\"}");
	cr_assert_not_null(c, "%s", err);
	cr_assert_str_eq(cfg_profile(c), "p");
	cfg_free(&c);
}

Test(cfg, wrong_types)
{
	expect_err("{\"issuer\": 5}", "issuer", "expected a string");
	expect_err("{\"scopes\": [\"a\", 3]}", "scopes[1]", "expected");
	expect_err("{\"scopes\": \"a\"}", "scopes", "expected an array");
	expect_err("{\"servers\": {}}", "servers", "expected an array");
	expect_err("[]", "expected a JSON object", NULL);
	expect_err("{\"token_store\": \"disk\"}", "token_store",
	    "keyring session memory file");
	expect_err("{\"log_level\": \"loud\"}", "log_level", "expected");
	expect_err(
	    "{\"cacert\": \"/nonexistent/ca.pem\"}", "cacert", "readable file");
}

Test(cfg, http_issuer_only_loopback)
{
	struct cfg *c;

	expect_err(
	    "{\"issuer\": \"http://idp.example.com\"}", "issuer", "https URL");
	c = from_text("{\"issuer\": \"http://127.0.0.1:8080\"}");
	cr_assert_not_null(c, "%s", err);
	cfg_free(&c);
}

Test(cfg, servers)
{
	struct cfg *c;

	c = from_text("{\"servers\": [{\"name\": \"a.b-c_1\", \"url\": "
	              "\"https://m.example/mcp\", \"id\": \"x\"}, {\"name\": "
	              "\"b\", \"url\": \"http://localhost:9/mcp\"}]}");
	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(cfg_server_count(c), 2);
	cr_assert_str_eq(cfg_server_name(c, 0), "a.b-c_1");
	cr_assert_str_eq(cfg_server_id(c, 0), "x");
	cr_assert_null(cfg_server_id(c, 1));
	cr_assert_str_eq(cfg_server_url(c, 1), "http://localhost:9/mcp");
	cr_assert(cfg_server_enabled(c, 0));
	cfg_free(&c);
	expect_err("{\"servers\": [{\"name\": \"a\", \"url\": "
	           "\"https://m.example\"}, {\"name\": \"a\", \"url\": "
	           "\"https://n.example\"}]}",
	    "servers[1].name", "unique");
	expect_err("{\"servers\": [{\"name\": \"a b\", \"url\": "
	           "\"https://m.example\"}]}",
	    "servers[0].name", "[A-Za-z0-9_.-/]{1,200}");
	expect_err("{\"servers\": [{\"name\": \"/a\", \"url\": "
	           "\"https://m.example\"}]}",
	    "servers[0].name", "registry name");
	expect_err("{\"servers\": [{\"name\": \"a\", \"enabled\": 1}]}",
	    "servers[0].enabled", "boolean");
	expect_err(
	    "{\"tools\": {\"allow\": \"x\"}}", "tools.allow", "array of glob");
	expect_err(
	    "{\"tools\": {\"deny\": [\"\"]}}", "tools.deny", "array of glob");
	expect_err(
	    "{\"tools\": {\"block\": []}}", "tools.block", "unknown key");
	expect_err("{\"tools\": []}", "tools", "allow");
	expect_err("{\"servers\": [{\"name\": \"a\", \"url\": "
	           "\"https://m.example\"}, {\"name\": \"b\", \"url\": "
	           "\"http://m.example\"}]}",
	    "servers[1].url", "https URL");
	expect_err("{\"servers\": [{\"name\": \"a\", \"url\": "
	           "\"https://m.example\", \"uri\": \"\"}]}",
	    "servers[0].uri", "unknown key");
}

Test(cfg, malformed_json_line_column)
{
	expect_err("{\n  \"issuer\": \"https://a.example\",\n  oops\n}",
	    "line 3", "column");
}

Test(cfg, layering_and_origins)
{
	char *sys = write_tmp("{\"issuer\": \"https://sys.example\", "
	                      "\"client_id\": \"sys\", \"profile\": \"sys\", "
	                      "\"registry\": \"https://r.sys.example\", "
	                      "\"token_store\": \"file\"}");
	char *usr = write_tmp("{\"client_id\": \"usr\", \"profile\": \"usr\", "
	                      "\"registry\": \"https://r.usr.example\"}");
	char *exp = write_tmp("{\"profile\": \"exp\", \"scopes\": [\"a\"]}");
	char *env[] = { "MCP_BRIDGE_PROFILE=env", "MCP_BRIDGE_SCOPES=x  y",
		"MCP_BRIDGE_LOG_LEVEL=info", "MCP_BRIDGE_TOKEN_STORE=session",
		"HOME=/nowhere", NULL };
	const char *flags[] = { "log_level=debug", NULL };
	struct cfg_sources src = { sys, usr, exp, env, flags };
	struct cfg *c = cfg_load(&src, err, sizeof(err));

	cr_assert_not_null(c, "%s", err);
	cr_assert_str_eq(cfg_issuer(c), "https://sys.example");
	cr_assert_str_eq(cfg_origin(c, "issuer"), sys);
	cr_assert_str_eq(cfg_client_id(c), "usr");
	cr_assert_str_eq(cfg_origin(c, "client_id"), usr);
	cr_assert_str_eq(cfg_registry(c), "https://r.usr.example");
	cr_assert_str_eq(cfg_profile(c), "env");
	cr_assert_str_eq(
	    cfg_origin(c, "profile"), "environment MCP_BRIDGE_PROFILE");
	cr_assert_eq(cfg_scope_count(c), 2);
	cr_assert_str_eq(cfg_scope(c, 1), "y");
	cr_assert_str_eq(cfg_token_store(c), "session");
	cr_assert_str_eq(cfg_log_level(c), "debug");
	cr_assert_str_eq(cfg_origin(c, "log_level"), "flag --log_level");
	cfg_free(&c);
	unlink(sys);
	unlink(usr);
	unlink(exp);
	free(sys);
	free(usr);
	free(exp);
}

Test(cfg, missing_files)
{
	struct cfg_sources src = { "/nonexistent/sys.json",
		"/nonexistent/usr.json", NULL, NULL, NULL };
	struct cfg *c = cfg_load(&src, err, sizeof(err));

	cr_assert_not_null(c, "%s", err);
	cfg_free(&c);
	src.explicit_path = "/nonexistent/exp.json";
	c = cfg_load(&src, err, sizeof(err));
	cr_assert_null(c);
	cr_assert(strstr(err, "/nonexistent/exp.json") != NULL, "%s", err);
}

Test(cfg, env_config_and_errors)
{
	char *env[] = { "MCP_BRIDGE_CONFIG=/nonexistent/e.json", NULL };
	char *env2[] = { "MCP_BRIDGE_ISSUER=http://idp.example", NULL };
	const char *flags[] = { "token_store=disk", NULL };
	struct cfg_sources src = { NULL, NULL, NULL, env, NULL };
	struct cfg *c = cfg_load(&src, err, sizeof(err));

	cr_assert_null(c);
	cr_assert(strstr(err, "/nonexistent/e.json") != NULL, "%s", err);
	src.environ = env2;
	cr_assert_null(cfg_load(&src, err, sizeof(err)));
	cr_assert(strstr(err,
	              "environment MCP_BRIDGE_ISSUER: issuer: "
	              "expected") == err,
	    "%s", err);
	src.environ = NULL;
	src.flags = flags;
	cr_assert_null(cfg_load(&src, err, sizeof(err)));
	cr_assert(
	    strstr(err, "flag --token_store: token_store: expected") == err,
	    "%s", err);
}

Test(cfg, printer_origins)
{
	struct cfg *c = from_text("{\"client_id\": \"abc\"}");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(cfg_print(c, f, 0), 0);
	fflush(f);
	cr_assert(strstr(buf, "client_id") != NULL);
	cr_assert(strstr(buf, "abc  (t.json)") != NULL, "%s", buf);
	cr_assert(strstr(buf, "(default)") != NULL);
	fclose(f);
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	cr_assert_eq(cfg_print(c, f, 1), 0);
	fclose(f);
	cr_assert(strstr(buf, "\"origin\": \"t.json\"") != NULL, "%s", buf);
	free(buf);
	cfg_free(&c);
}

Test(cfg, errors_stay_one_printable_line)
{
	expect_err("{\"tok\\n_store\": \"x\"}", "tok?_store", "unknown key");
	expect_err("{\"servers\": [{\"name\": \"a\", \"u\\u001brl\": \"x\"}]}",
	    "u?rl", NULL);
}

Test(cfg, tools_filter_and_registry_overrides)
{
	char why[512];
	struct cfg *c = cfg_new();
	const char *const *g;

	cr_assert_eq(
	    cfg_apply_text(c,
	        "{\"servers\": [{\"name\": \"com.example/presto\", "
	        "\"id\": \"p\", \"enabled\": false}, {\"name\": \"s\", "
	        "\"url\": \"https://s.example/mcp\"}], \"tools\": "
	        "{\"allow\": [\"p__*\", \"s__q*\"], \"deny\": "
	        "[\"*__drop_*\"]}}",
	        "t", why, sizeof(why)),
	    0, "%s", why);
	cr_assert_null(cfg_server_url(c, 0));
	cr_assert_not(cfg_server_enabled(c, 0));
	cr_assert(cfg_server_enabled(c, 1));
	cr_assert_str_eq(cfg_server_id(c, 0), "p");
	g = cfg_tools_allow(c);
	cr_assert_str_eq(g[0], "p__*");
	cr_assert_str_eq(g[1], "s__q*");
	cr_assert_null(g[2]);
	g = cfg_tools_deny(c);
	cr_assert_str_eq(g[0], "*__drop_*");
	cr_assert_null(g[1]);
	cr_assert_str_eq(cfg_origin(c, "tools"), "t");
	cfg_free(&c);
	c = cfg_new();
	cr_assert_null(cfg_tools_allow(c));
	cr_assert_null(cfg_tools_deny(c));
	cfg_free(&c);
}

/* SPDX-License-Identifier: ISC */
/* idescan: IDE config files (JSON/JSONC) into server entries with lines. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "idescan.h"

static char err[256];

static int
parse(const char *text, struct idescan *s)
{
	err[0] = '\0';
	return idescan_parse(text, strlen(text), s, err, sizeof(err));
}

Test(idescan, clean_keeps_offsets)
{
	char t[] = "{ // c\n \"a\": [1, 2,], /* x\n y */ \"s\": \"//not\",\n}";
	size_t line = 0;

	cr_assert_eq(idescan_clean(t, strlen(t), &line, err, sizeof(err)), 0);
	cr_assert_str_eq(
	    t, "{     \n \"a\": [1, 2 ],     \n      \"s\": \"//not\" \n}");
	char open[] = "{\n /* never closed\n}";
	cr_assert_eq(
	    idescan_clean(open, strlen(open), &line, err, sizeof(err)), -1);
	cr_assert_eq(line, 2);
	cr_assert(
	    strstr(err, "line 2, column 2: unterminated") == err, "%s", err);
}

Test(idescan, mcpservers_with_lines)
{
	struct idescan s;
	const char *t =
	    "{\n"
	    "  \"mcpServers\": {\n"
	    "    \"a\": {\n"
	    "      \"command\": \"/usr/bin/mcp-bridge\",\n"
	    "      \"args\": [\"run\",\n"
	    "        \"--url\", \"https://x/mcp\"],\n"
	    "      \"env\": {\"MCP_BRIDGE_CONFIG\": \"c.json\",\n"
	    "        \"MCP_BRIDGE_ACCESS_TOKEN\": \"literal\"}\n"
	    "    },\n"
	    "    \"remote\": {\"url\": \"https://y\"},\n"
	    "    \"npx\": {\"command\": \"npx\", \"args\": [\"x\"]}\n"
	    "  }\n"
	    "}\n";

	cr_assert_eq(parse(t, &s), 0, "%s", err);
	cr_assert_eq(s.containers, 1);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.e[0].name, "a");
	cr_assert_str_eq(s.e[0].where, "mcpServers");
	cr_assert_eq(s.e[0].line, 3);
	cr_assert_eq(s.e[0].cmd_line, 4);
	cr_assert_eq(s.e[0].nargs, 3);
	cr_assert_str_eq(s.e[0].args[2], "https://x/mcp");
	cr_assert_eq(s.e[0].arg_line[0], 5);
	cr_assert_eq(s.e[0].arg_line[1], 6);
	cr_assert_str_eq(s.e[0].env_config, "c.json");
	cr_assert_eq(s.e[0].env_token, 1);
	cr_assert(idescan_is_bridge(&s.e[0]));
	cr_assert_null(s.e[1].command);
	cr_assert_not(idescan_is_bridge(&s.e[1]));
	cr_assert_not(idescan_is_bridge(&s.e[2]));
	idescan_clear(&s);
	cr_assert_eq(s.n, 0);
}

Test(idescan, vscode_zed_claude_projects)
{
	struct idescan s;
	const char *vs = "{\"servers\": {\"a\": {\"type\": \"stdio\", "
	                 "\"command\": \"mcp-bridge\", \"args\": [\"run\"], "
	                 "\"cwd\": \"${workspaceFolder}\"}}, \"inputs\": []}";
	const char *zed =
	    "{\"context_servers\": {\"old\": {\"command\": {\"path\": "
	    "\"C:\\\\bin\\\\mcp-bridge.exe\", \"args\": [\"run\"], \"env\": "
	    "{\"MCP_BRIDGE_ACCESS_TOKEN\": \"${T}\"}}}, \"new\": {\"command\": "
	    "\"mcp-bridge\", \"args\": []}}}";
	const char *cl =
	    "{\"projects\": {\"/p\": {\"history\": [{\"x\": \"}\"}],"
	    " \"mcpServers\": {\"b\": {\"command\": \"mcp-bridge\"}}}},"
	    " \"mcp\": {\"servers\": {\"c\": {\"command\": \"x\"}}}}";

	cr_assert_eq(parse(vs, &s), 0, "%s", err);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.e[0].cwd, "${workspaceFolder}");
	idescan_clear(&s);
	cr_assert_eq(parse(zed, &s), 0, "%s", err);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.e[0].command, "C:\\bin\\mcp-bridge.exe");
	cr_assert(idescan_is_bridge(&s.e[0]));
	cr_assert_eq(s.e[0].nargs, 1);
	cr_assert_eq(s.e[0].env_token, 0, "${T} is not a literal");
	idescan_clear(&s);
	cr_assert_eq(parse(cl, &s), 0, "%s", err);
	cr_assert_eq(s.containers, 2);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.e[0].project, "/p");
	cr_assert_str_eq(s.e[0].where, "projects[/p].mcpServers");
	cr_assert_str_eq(s.e[1].where, "mcp.servers");
	idescan_clear(&s);
}

Test(idescan, shapes_and_errors)
{
	struct idescan s;

	cr_assert_eq(
	    parse("{\"mcpServers\": {\"a\": {\"command\": 3}}}", &s), 0);
	cr_assert_str_eq(s.e[0].problem, "\"command\" must be a string");
	idescan_clear(&s);
	cr_assert_eq(
	    parse("{\"mcpServers\": {\"a\": {\"command\": \"mcp-bridge\","
	          " \"args\": [\"run\", 1]}}}",
	        &s),
	    0);
	cr_assert_str_eq(
	    s.e[0].problem, "\"args\" must be an array of strings");
	idescan_clear(&s);
	cr_assert_eq(parse("{\"mcpServers\": {\"a\": {\"command\": \"x\"},"
	                   " \"a\": {\"command\": \"mcp-bridge\"}}}",
	                 &s),
	    0);
	cr_assert_eq(s.n, 1, "a later duplicate replaces the first");
	cr_assert_str_eq(s.e[0].command, "mcp-bridge");
	idescan_clear(&s);
	cr_assert_eq(parse("{\"issuer\": \"https://x\"}", &s), 0);
	cr_assert_eq(s.containers, 0);
	cr_assert_eq(parse("[1]", &s), 0);
	cr_assert_eq(s.containers, 0);
	cr_assert_eq(parse("{\n\"mcpServers\": {\n}\n,", &s), -1);
	cr_assert(strncmp(err, "line ", 5) == 0, "%s", err);
	cr_assert_eq(s.err_line, 4);
	cr_assert_eq(parse("{\"a\": \"\\u0000\"}", &s), 0);
	cr_assert_eq(parse("", &s), -1);
	cr_assert_eq(idescan_line("a\nb\nc", 5, 4), 3);
}

Test(idescan, escaped_keys_and_nul)
{
	struct idescan s;

	cr_assert_eq(parse("{\"mcp\\u0053ervers\": {\"\\u0061\": {\"command\": "
	                   "\"mcp-\\u0062ridge\"}}}",
	                 &s),
	    0, "%s", err);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.e[0].name, "a");
	cr_assert(idescan_is_bridge(&s.e[0]));
	idescan_clear(&s);
	cr_assert_eq(parse("{\"mcpServers\": {\"a\": {\"command\": "
	                   "\"mcp-bridge\\u0000x\"}}}",
	                 &s),
	    0);
	cr_assert_null(s.e[0].command, "a NUL inside is refused");
	idescan_clear(&s);
}

/* SPDX-License-Identifier: ISC */
/*
 * mcp-bridge: a local stdio MCP server that relays to hosted MCP servers.
 * main() only handles the global flags and dispatches to a command; it is
 * the only place that calls exit().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "jwipe.h"
#include "secret.h"

int
main(int argc, char **argv)
{
	secret_protect_process();
	jwipe_install(); /* token strings pass through jansson */
	if (argc < 2)
		return cmd_usage_error(NULL, "missing command");
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mcp-bridge %s\n", MCP_BRIDGE_VERSION);
		return CMD_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cmd_usage(stdout);
		return CMD_OK;
	}
	if (argv[1][0] == '-')
		return cmd_usage_error(NULL, "unknown option '%s'", argv[1]);
	exit(cmd_dispatch(argc - 1, argv + 1));
}

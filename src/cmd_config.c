/* SPDX-License-Identifier: ISC */
/*
 * cmd_config: "config show" prints the effective configuration with the
 * origin of each value; "config validate FILE..." checks files offline.
 *
 * MCP_BRIDGE_SYSTEM_CONFIG overrides the system file path (for tests and
 * packagers); MCP_BRIDGE_CONFIG is the same as --config.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cmd.h"
#include "xmem.h"

static const struct option show_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
config_show_run(const char *explicit_path, int json)
{
	struct cfg *c = cmd_load_cfg("config", explicit_path, NULL);

	if (c == NULL)
		return CMD_USAGE;
	if (!json)
		printf("%-12s %s\n", "access_token",
		    getenv("MCP_BRIDGE_ACCESS_TOKEN")
		        ? "[set in environment, not shown]"
		        : "(not set)");
	if (cfg_print(c, stdout, json) == -1) {
		cfg_free(&c);
		return CMD_FAIL;
	}
	cfg_free(&c);
	return CMD_OK;
}

static int
config_show(int argc, char **argv)
{
	const char *path = NULL;
	int ch, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", show_longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("usage: mcp-bridge config show [--config FILE] "
			       "[--json]\n");
			return CMD_OK;
		default:
			return cmd_usage_error(
			    "config", "bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(
		    "config", "unexpected argument '%s'", argv[optind]);
	return config_show_run(path, json);
}

static int
config_validate(int argc, char **argv)
{
	char err[512];
	int rc = CMD_OK;

	if (argc < 2)
		return cmd_usage_error("config", "validate needs FILE...");
	for (int i = 1; i < argc; i++) {
		if (cfg_validate_file(argv[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			rc = CMD_USAGE;
		}
	}
	return rc;
}

int
cmd_config(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		printf("usage: mcp-bridge config show [--config FILE] "
		       "[--json]\n       mcp-bridge config validate FILE...\n");
		return argc < 2 ? CMD_USAGE : CMD_OK;
	}
	if (strcmp(argv[1], "show") == 0)
		return config_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return config_validate(argc - 1, argv + 1);
	return cmd_usage_error("config", "unknown subcommand '%s'", argv[1]);
}

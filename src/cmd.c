/* SPDX-License-Identifier: ISC */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct cmd {
	const char *name; /* subcommand */
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for --help */
};

/* Keep sorted by name. */
static const struct cmd cmds[] = {
	{ "config", cmd_config, "show or validate the configuration" },
	{ "run", cmd_run, "serve MCP on stdio, relayed to a hosted server" },
};

void
cmd_usage(FILE *f)
{
	fprintf(f,
	    "usage: mcp-bridge [--version] [--help] <command> "
	    "[<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
	    "\n'mcp-bridge <command> --help' shows a command's "
	    "options.\n");
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mcp-bridge%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'mcp-bridge %s%s--help')\n", cmd ? cmd : "",
	    cmd ? " " : "");
	return CMD_USAGE;
}

int
cmd_dispatch(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	return cmd_usage_error(NULL, "unknown command '%s'", argv[0]);
}

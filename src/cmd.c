/* SPDX-License-Identifier: ISC */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cfg.h"
#include "hdr.h"
#include "log.h"
#include "secret.h"
#include "xmem.h"

extern char **environ;

#define SYSTEM_CONFIG "/etc/mcp-bridge/config.json"

struct cmd {
	const char *name; /* subcommand */
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for --help */
};

/* Keep sorted by name. */
static const struct cmd cmds[] = {
	{ "config", cmd_config, "show or validate the configuration" },
	{ "doctor", cmd_doctor, "check config, sign-in, registry and servers" },
	{ "ide", cmd_ide, "add mcp-bridge to an IDE's MCP configuration" },
	{ "login", cmd_login, "sign in to the company (OAuth device flow)" },
	{ "logout", cmd_logout, "revoke and delete the stored tokens" },
	{ "run", cmd_run, "serve MCP on stdio, relayed to a hosted server" },
	{ "servers", cmd_servers, "list the hosted servers you may use" },
	{ "status", cmd_status, "show who is signed in" },
	{ "tools", cmd_tools, "list the tools run serves, and their servers" },
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

/* The user file path; new string or NULL without HOME. */
static char *
config_user_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");

	if (x != NULL && *x == '/')
		return x_asprintf("%s/mcp-bridge/config.json", x);
	if (h != NULL && *h != '\0')
		return x_asprintf("%s/.config/mcp-bridge/config.json", h);
	return NULL;
}

char *
cmd_user_config(void)
{
	return config_user_path();
}

struct cfg *
cmd_load_cfg(
    const char *cmd, const char *explicit_path, const char *const *flags)
{
	struct cfg_sources src = { 0 };
	const char *sys = getenv("MCP_BRIDGE_SYSTEM_CONFIG");
	char err[512], *user = config_user_path();
	struct cfg *c;

	src.system_path = sys ? sys : SYSTEM_CONFIG;
	src.user_path = user;
	src.explicit_path = explicit_path;
	src.environ = environ;
	src.flags = flags;
	c = cfg_load(&src, err, sizeof(err));
	free(user);
	if (c == NULL)
		fprintf(stderr, "mcp-bridge %s: %s\n", cmd, err);
	return c;
}

char *
cmd_scope_string(const struct cfg *c)
{
	struct buf b;

	buf_init(&b, 65536);
	for (size_t i = 0; i < cfg_scope_count(c); i++)
		if ((i && buf_puts(&b, " ") == -1) ||
		    buf_puts(&b, cfg_scope(c, i)) == -1)
			break;
	return buf_take(&b, NULL);
}

/* MCP_BRIDGE_ACCESS_TOKEN: a bearer token unless a header sets one. */
void
cmd_env_token(struct hdrlist *h)
{
	const char *t = getenv("MCP_BRIDGE_ACCESS_TOKEN");

	if (t == NULL || *t == '\0')
		return;
	if (strpbrk(t, "\r\n") != NULL) {
		log_error("MCP_BRIDGE_ACCESS_TOKEN has a line break; ignored");
		return;
	}
	hdrlist_add_bearer(h, t, strlen(t));
	/* Keep it out of the environment of anything we might start. */
	secret_wipe((char *)t, strlen(t));
	unsetenv("MCP_BRIDGE_ACCESS_TOKEN");
}

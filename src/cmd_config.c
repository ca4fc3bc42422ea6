/* SPDX-License-Identifier: ISC */
/*
 * cmd_config: "config show" prints the effective configuration with the
 * origin of each value; "config validate FILE..." checks files offline.
 *
 * MCP_BRIDGE_SYSTEM_CONFIG overrides the system file path (for tests and
 * packagers); MCP_BRIDGE_CONFIG is the same as --config.
 *
 * validate also takes IDE config files (JSON/JSONC with mcpServers,
 * servers, context_servers...): every entry that starts mcp-bridge must
 * name an executable (or mcp-bridge on PATH), pass a valid `run` argument
 * vector, and name bridge config files that validate. Relative paths and
 * ${workspaceFolder} are taken from the project directory (the file's
 * directory, or its parent for .vscode/, .cursor/...). cmd_ide_check()
 * is shared with doctor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "cmd.h"
#include "idescan.h"
#include "runargs.h"
#include "str.h"
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

/* -- IDE config files ---------------------------------------------------- */

struct ictx {
	const char *path; /* the IDE config file */
	const char *proj; /* its project directory */
	const struct idescan_entry *e;
	cmd_ide_issue_cb *cb;
	void *arg;
};

static void
issue(struct ictx *c, size_t line, int warn, const char *msg, const char *fix)
{
	struct cmd_ide_issue is = { c->path, line, c->e ? c->e->name : NULL,
		warn, msg, fix };

	c->cb(c->arg, &is);
}

/* ${NAME}, ${NAME:-default}, ${env:NAME}, VS Code's folders; NULL if unset. */
static const char *
var_value(struct ictx *c, const char *name, char *def, size_t defsz)
{
	const char *dash = strstr(name, ":-"), *v;

	if (strcmp(name, "workspaceFolder") == 0 ||
	    strcmp(name, "workspaceRoot") == 0)
		return c->proj;
	if (strcmp(name, "userHome") == 0)
		return getenv("HOME");
	if (strncmp(name, "env:", 4) == 0)
		return getenv(name + 4);
	if (dash == NULL)
		return strchr(name, ':') ? NULL : getenv(name);
	str_fmt(def, defsz, "%.*s", (int)(dash - name), name);
	if ((v = getenv(def)) != NULL && *v)
		return v;
	str_fmt(def, defsz, "%s", dash + 2);
	return def;
}

/* `s` with variables and ~/ expanded (new), or NULL if one is unknown. */
static char *
expand(struct ictx *c, const char *s)
{
	char name[256], def[256];
	const char *v, *close;
	struct buf b;
	int rc = 0;

	buf_init(&b, 65536);
	if (s[0] == '~' && s[1] == '/' && getenv("HOME")) {
		rc = buf_puts(&b, getenv("HOME"));
		s++;
	}
	while (*s && rc == 0) {
		if (!(s[0] == '$' && s[1] == '{') ||
		    (close = strchr(s, '}')) == NULL) {
			rc = buf_append(&b, s++, 1);
			continue;
		}
		str_fmt(
		    name, sizeof(name), "%.*s", (int)(close - s - 2), s + 2);
		if ((v = var_value(c, name, def, sizeof(def))) == NULL)
			rc = -1;
		else
			rc = buf_puts(&b, v);
		s = close + 1;
	}
	if (rc == -1) {
		buf_finish(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

/* A path from the entry, expanded and made absolute (new), or NULL. */
static char *
entry_path(struct ictx *c, const char *s)
{
	char *x = expand(c, s), *abs;

	if (x == NULL || *x == '/')
		return x;
	abs = x_asprintf("%s/%s", c->proj, x);
	free(x);
	return abs;
}

/* The first executable `name` on PATH (new), or NULL. */
static char *
on_path(const char *name)
{
	const char *p = getenv("PATH"), *e;
	char *f;

	for (; p && *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		e = e ? e : p + strlen(p);
		f = x_asprintf("%.*s/%s", (int)(e - p), e == p ? "." : p, name);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
	}
	return NULL;
}

static void
check_command(struct ictx *c)
{
	const struct idescan_entry *e = c->e;
	char msg[1200], *p;
	struct stat st;

	if (strchr(e->command, '/') == NULL &&
	    strchr(e->command, '\\') == NULL) {
		if ((p = on_path(e->command)) == NULL) {
			str_fmt(msg, sizeof(msg),
			    "command \"%s\" is not on PATH", e->command);
			issue(c, e->cmd_line, 0, msg,
			    "install mcp-bridge, or set \"command\" to its "
			    "absolute path");
		}
		free(p);
		return;
	}
	if ((p = entry_path(c, e->command)) == NULL) {
		issue(c, e->cmd_line, 1,
		    "command uses a variable that cannot be resolved here; "
		    "not checked",
		    NULL);
		return;
	}
	if (stat(p, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(p, X_OK) == -1) {
		str_fmt(msg, sizeof(msg), "command %s: %s", p,
		    stat(p, &st) == -1         ? strerror(errno)
		        : !S_ISREG(st.st_mode) ? "not a file"
		                               : "not executable");
		issue(c, e->cmd_line, 0, msg,
		    "point \"command\" at the installed mcp-bridge (e.g. "
		    "/usr/bin/mcp-bridge)");
	}
	free(p);
}

/* A bridge config file named by the entry validates. */
static void
check_cfg_file(struct ictx *c, const char *what, const char *file, size_t line)
{
	char err[512], msg[1200], *p = entry_path(c, file);

	if (p == NULL) {
		issue(c, line, 1,
		    "a config path uses a variable that cannot be resolved "
		    "here; not checked",
		    NULL);
		return;
	}
	if (cfg_validate_file(p, err, sizeof(err)) == -1) {
		str_fmt(msg, sizeof(msg), "%s: %s", what, err);
		issue(c, line, 0, msg,
		    "fix that file (mcp-bridge config validate FILE)");
	}
	free(p);
}

static void
check_file(
    struct ictx *c, const char *what, const char *file, size_t line, int pem)
{
	char msg[1200], buf[256], *p = entry_path(c, file);
	int found = 0;
	FILE *f;

	if (p == NULL)
		return;
	if ((f = fopen(p, "re")) == NULL) {
		str_fmt(
		    msg, sizeof(msg), "%s %s: %s", what, p, strerror(errno));
		issue(c, line, 0, msg, "create the file or fix the path");
		free(p);
		return;
	}
	while (pem && !found && fgets(buf, sizeof(buf), f))
		found = strncmp(buf, "-----BEGIN CERTIFICATE-----", 27) == 0;
	fclose(f);
	if (pem && !found) {
		str_fmt(msg, sizeof(msg), "%s %s: no PEM certificate in it",
		    what, p);
		issue(c, line, 0, msg, "give a PEM CA bundle");
	}
	free(p);
}

static void
check_args(struct ictx *c)
{
	const struct idescan_entry *e = c->e;
	struct runargs r;
	char err[512];
	size_t bad;

	if (runargs_check(e->nargs, e->args, &r, &bad, err, sizeof(err)) ==
	    -1) {
		char msg[600];

		str_fmt(msg, sizeof(msg), "args[%zu]: %s", bad, err);
		issue(c, e->nargs ? e->arg_line[bad] : e->line, 0, msg,
		    "fix the arguments (see 'mcp-bridge run --help')");
		return;
	}
	if (r.config)
		check_cfg_file(
		    c, "--config", r.config, e->arg_line[r.config_i]);
	if (r.header_file)
		check_file(c, "--header-file", r.header_file,
		    e->arg_line[r.header_file_i], 0);
	if (r.cacert)
		check_file(c, "--cacert", r.cacert, e->arg_line[r.cacert_i], 1);
	if (r.literal_auth)
		issue(c, e->arg_line[r.literal_auth_i], 1,
		    "an Authorization --header holds a literal credential",
		    "use ${VAR} or --header-file so the secret stays out of "
		    "the config");
}

static void
check_entry(struct ictx *c, const struct idescan_entry *e)
{
	c->e = e;
	if (e->problem) {
		issue(c, e->line, 0, e->problem, NULL);
		return;
	}
	check_command(c);
	check_args(c);
	if (e->env_config)
		check_cfg_file(
		    c, "env MCP_BRIDGE_CONFIG", e->env_config, e->line);
	if (e->env_token)
		issue(c, e->line, 1,
		    "env MCP_BRIDGE_ACCESS_TOKEN holds a literal token",
		    "sign in with 'mcp-bridge login' instead, or use ${VAR}");
	c->e = NULL;
}

/* The project directory of IDE config `path` (new): its directory, or
 * the parent of a hidden one (.vscode/, .cursor/). */
static char *
project_dir(const char *path)
{
	const char *s = strrchr(path, '/'), *b, *end;
	size_t n;

	if (s == NULL)
		return x_strdup(".");
	n = s == path ? 1 : (size_t)(s - path);
	end = path + n;
	for (b = end; b > path && b[-1] != '/'; b--)
		;
	if (b[0] == '.' && b + 1 < end && !(b[1] == '.' && b + 2 == end)) {
		if (b == path)
			return x_strdup(".");
		n = b - 1 == path ? 1 : (size_t)(b - 1 - path);
	}
	return x_strndup(path, n);
}

/* `dir` made absolute against the working directory (steals, new). */
static char *
absolute(char *dir)
{
	char cwd[4096], *abs;

	if (*dir == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return dir;
	abs = strcmp(dir, ".") == 0 ? x_strdup(cwd)
	                            : x_asprintf("%s/%s", cwd, dir);
	free(dir);
	return abs;
}

/* The file's text (new) and length, or NULL with errno-based message. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errsz)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		str_fmt(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	buf_init(&b, IDESCAN_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1) {
			str_fmt(err, errsz, "larger than %u bytes",
			    IDESCAN_MAX_FILE);
			fclose(f);
			buf_finish(&b);
			return NULL;
		}
	fclose(f);
	return buf_take(&b, len);
}

int
cmd_ide_scan(const char *path, struct idescan *out, char *err, size_t errsz)
{
	size_t len = 0;
	char *text = slurp(path, &len, err, errsz);
	int rc;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return -1;
	rc = idescan_parse(text, len, out, err, errsz);
	free(text);
	return rc;
}

int
cmd_ide_check(const char *path, cmd_ide_issue_cb *cb, void *arg)
{
	struct ictx c = { .path = path, .cb = cb, .arg = arg };
	struct idescan s;
	char err[512], *proj = absolute(project_dir(path)), *cwd;
	int n = 0;

	if (cmd_ide_scan(path, &s, err, sizeof(err)) == -1) {
		issue(&c, s.err_line, 0, err, "fix the file's JSON syntax");
		free(proj);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (!idescan_is_bridge(&s.e[i]))
			continue;
		n++;
		c.proj = s.e[i].project ? s.e[i].project : proj;
		cwd = s.e[i].cwd ? entry_path(&c, s.e[i].cwd) : NULL;
		if (cwd)
			c.proj = cwd;
		check_entry(&c, &s.e[i]);
		free(cwd);
	}
	idescan_clear(&s);
	free(proj);
	return n;
}

struct vctx {
	int errors;
};

static void
print_issue(void *arg, const struct cmd_ide_issue *is)
{
	struct vctx *v = arg;

	v->errors += !is->warn;
	fprintf(stderr, "%s:%zu: %s%s%s%s%s%s%s\n", is->file, is->line,
	    is->warn ? "warning: " : "", is->entry ? "\"" : "",
	    is->entry ? is->entry : "", is->entry ? "\": " : "", is->msg,
	    is->fix ? "; " : "", is->fix ? is->fix : "");
}

/* 1 if the file name is one IDEs use for MCP configs. */
static int
ide_name(const char *path)
{
	static const char *const names[] = { "mcp.json", ".mcp.json",
		"claude_desktop_config.json", "mcp_config.json",
		"settings.json", ".claude.json", "cline_mcp_settings.json" };
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(b, names[i]) == 0)
			return 1;
	return 0;
}

/* One file: an IDE config or a bridge config; 0 or -1 (printed). */
static int
validate_one(const char *path)
{
	struct vctx v = { 0 };
	struct idescan s;
	char err[512];
	int rc = cmd_ide_scan(path, &s, err, sizeof(err)), n;

	if ((rc == 0 && s.containers > 0) ||
	    (rc == -1 && ide_name(path) && access(path, R_OK) == 0)) {
		idescan_clear(&s);
		n = cmd_ide_check(path, print_issue, &v);
		if (n >= 0 && v.errors == 0)
			printf("%s: %d mcp-bridge entr%s ok\n", path, n,
			    n == 1 ? "y" : "ies");
		return n < 0 || v.errors ? -1 : 0;
	}
	idescan_clear(&s);
	if (cfg_validate_file(path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
config_validate(int argc, char **argv)
{
	int rc = CMD_OK;

	if (argc < 2)
		return cmd_usage_error("config", "validate needs FILE...");
	for (int i = 1; i < argc; i++)
		if (validate_one(argv[i]) == -1)
			rc = CMD_USAGE;
	return rc;
}

int
cmd_config(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		printf("usage: mcp-bridge config show [--config FILE] "
		       "[--json]\n       mcp-bridge config validate FILE...\n"
		       "validate checks bridge config files, and IDE config "
		       "files (mcpServers,\nservers, context_servers) whose "
		       "entries start mcp-bridge; offline.\nExit 0: valid, "
		       "2: a problem (FILE:LINE: why on stderr).\n");
		return argc < 2 ? CMD_USAGE : CMD_OK;
	}
	if (strcmp(argv[1], "show") == 0)
		return config_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return config_validate(argc - 1, argv + 1);
	return cmd_usage_error("config", "unknown subcommand '%s'", argv[1]);
}

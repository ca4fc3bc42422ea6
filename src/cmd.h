/* SPDX-License-Identifier: ISC */
/*
 * cmd: the subcommand table and the exit-code convention.
 *
 * Every command returns CMD_OK (0), CMD_FAIL (1: it ran and failed) or
 * CMD_USAGE (2: bad arguments, with one line on stderr saying why).
 */
#ifndef CMD_H
#define CMD_H

#include <stdio.h>

#define CMD_OK    0
#define CMD_FAIL  1
#define CMD_USAGE 2

/* Runs argv[0] (the subcommand) with its arguments; returns exit code. */
int cmd_dispatch(int argc, char **argv);

/* Prints the list of commands. */
void cmd_usage(FILE *f);

/* One-line usage error on stderr; returns CMD_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The commands. */
int cmd_config(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_ide(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_servers(int argc, char **argv);
int cmd_tools(int argc, char **argv);

struct cfg;
/*
 * Loads the layered configuration (system, user, `explicit_path`,
 * environment, `flags` "key=value" NULL-terminated or NULL). New cfg, or
 * NULL after one line on stderr naming `cmd`.
 */
struct cfg *cmd_load_cfg(
    const char *cmd, const char *explicit_path, const char *const *flags);
/* The scopes of `c` joined with spaces (new). */
char *cmd_scope_string(const struct cfg *c);

struct auth;
/*
 * Catalog cache file for (registry, issuer, subject) (new), or NULL;
 * `kind` ("" or "all") keeps different listings apart.
 */
char *cmd_catalog_cache(const char *registry, const char *issuer,
    const char *kind, const char *sub);
struct hdrlist;
/*
 * MCP_BRIDGE_ACCESS_TOKEN becomes a bearer header in `h` (unless it has a
 * line break); the variable is then wiped and unset.
 */
void cmd_env_token(struct hdrlist *h);

/* The signed-in user's subject from the ID token (new), or NULL. */
char *cmd_subject(const struct auth *a);

/* The user config file path (new), or NULL without HOME. */
char *cmd_user_config(void);

/* One problem in an IDE config file (cmd_ide_check). */
struct cmd_ide_issue {
	const char *file;  /* the IDE config file */
	size_t line;       /* 1-based, 0 = the whole file */
	const char *entry; /* the server entry's name, or NULL */
	int warn;          /* 1: a warning, not an error */
	const char *msg;   /* what is wrong (never a secret) */
	const char *fix;   /* what to do, or NULL */
};
typedef void cmd_ide_issue_cb(void *arg, const struct cmd_ide_issue *is);

struct idescan;
/* Reads and parses IDE config `path` into `out`; 0 or -1 with err. */
int
cmd_ide_scan(const char *path, struct idescan *out, char *err, size_t errsz);
/*
 * Checks every entry of IDE config `path` that starts mcp-bridge
 * (cmd_config.c), offline; each problem goes to `cb`. The number of such
 * entries, or -1 when the file cannot be read or parsed (one issue).
 */
int cmd_ide_check(const char *path, cmd_ide_issue_cb *cb, void *arg);

struct catalog;
struct http;
struct loop;
struct upstream_auth;
/*
 * The registry listing of `c` for the user signed in with `a` (new),
 * with its disk cache; `ua` (the caller's, must outlive the catalog) is
 * filled as its token source. `all` includes denied servers.
 */
struct catalog *cmd_catalog_open(struct loop *l, struct http *h,
    const struct cfg *c, struct auth *a, struct upstream_auth *ua, int all);

#endif

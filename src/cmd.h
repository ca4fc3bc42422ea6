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
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_servers(int argc, char **argv);

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
/* mkdir -p with mode 0700; 0 or -1. */
int cmd_mkdirs(const char *dir);

struct auth;
/*
 * Catalog cache file for (registry, issuer, subject) (new), or NULL;
 * `kind` ("" or "all") keeps different listings apart.
 */
char *cmd_catalog_cache(const char *registry, const char *issuer,
    const char *kind, const char *sub);
/* The signed-in user's subject from the ID token (new), or NULL. */
char *cmd_subject(const struct auth *a);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * idescan: reads an IDE's MCP configuration file (JSON, or JSONC with
 * comments and trailing commas) into its stdio server entries, with the
 * line of each entry, its command and each argument, so problems can be
 * reported as FILE:LINE. Pure: no I/O.
 *
 * Layouts: "mcpServers" (Claude Desktop, Claude Code, Cursor, Windsurf,
 * Gemini CLI, Cline), "servers" as an object (VS Code mcp.json),
 * "mcp": {"servers"} (VS Code settings.json), "context_servers" (Zed;
 * "command" a string, or {"path", "args", "env"}), and Claude Code's
 * "projects": {DIR: {"mcpServers"}} in ~/.claude.json.
 *
 * Environment values are never kept (they may be credentials): only
 * MCP_BRIDGE_CONFIG, and whether MCP_BRIDGE_ACCESS_TOKEN is a literal.
 */
#ifndef IDESCAN_H
#define IDESCAN_H

#include <stddef.h>

/* Largest file read, entries kept per file, arguments kept per entry. */
#define IDESCAN_MAX_FILE    (16u * 1024 * 1024)
#define IDESCAN_MAX_ENTRIES 1024
#define IDESCAN_MAX_ARGS    256

/* One server entry; every string new (freed by idescan_clear()). */
struct idescan_entry {
	char *name;    /* the entry's key */
	char *where;   /* its container: "mcpServers", "projects.DIR..." */
	char *project; /* ~/.claude.json: the project directory, or NULL */
	char *command; /* NULL when the entry has none (remote server) */
	char **args;   /* nargs strings */
	size_t nargs;
	char *cwd;        /* "cwd", or NULL */
	char *env_config; /* env MCP_BRIDGE_CONFIG, or NULL */
	int env_token;    /* env sets MCP_BRIDGE_ACCESS_TOKEN to a literal */
	char *problem;    /* shape error ("args must be ..."), or NULL */
	size_t line;      /* 1-based line of the entry's key */
	size_t cmd_line;  /* of "command" (else the entry's line) */
	size_t *arg_line; /* nargs lines */
};

struct idescan {
	struct idescan_entry *e;
	size_t n;
	int containers;  /* server containers found (0: not an IDE config) */
	int truncated;   /* more than IDESCAN_MAX_ENTRIES entries */
	size_t err_line; /* after a failed parse: the line, or 0 */
};

/*
 * Makes JSONC text JSON in place: comments and trailing commas become
 * spaces (newlines kept, so offsets and lines do not move), a UTF-8 BOM
 * too. 0, or -1 with *eline = L and "line L, column C: why" in err
 * (an unterminated comment).
 */
int
idescan_clean(char *text, size_t len, size_t *eline, char *err, size_t errsz);

/*
 * Parses `text` (len bytes, JSON or JSONC; not modified) into `out`
 * (zeroed first). 0, or -1 with "line L, column C: why" in err. A valid
 * JSON document without server containers gives 0 and containers 0.
 */
int idescan_parse(
    const char *text, size_t len, struct idescan *out, char *err, size_t errsz);

/* Frees what idescan_parse() filled; the struct is zeroed. */
void idescan_clear(struct idescan *s);

/* 1 if the entry's command is mcp-bridge (by its base name). */
int idescan_is_bridge(const struct idescan_entry *e);

/* 1-based line of byte offset `off` in text. */
size_t idescan_line(const char *text, size_t len, size_t off);

#endif

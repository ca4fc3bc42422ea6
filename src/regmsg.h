/* SPDX-License-Identifier: ISC */
/*
 * regmsg: the registry's answers, as pure functions.
 *
 * The official MCP Registry v0.1 read API (ServerList / ServerResponse
 * wrapping server.json 2025-12-11 entries, status in
 * _meta["io.modelcontextprotocol.registry/official"]) plus this project's
 * extension (_meta["dev.mcp-bridge.registry/access"] and ".../auth", and
 * GET .../access). For each server it picks the remote the bridge may
 * use and says why when there is none: the bearer token only goes to
 * https remotes (http on loopback), never to templated URLs, and never
 * to a remote whose registry entry sets its own Authorization header.
 */
#ifndef REGMSG_H
#define REGMSG_H

#include <stddef.h>

/* Largest registry response body read. */
#define REGMSG_MAX_BODY (8u * 1024 * 1024)
/* Servers kept from one listing (all pages). */
#define REGMSG_MAX_SERVERS 10000

enum regmsg_status {
	REGMSG_ACTIVE = 0,
	REGMSG_DEPRECATED,
	REGMSG_DELETED,
};

/* One server; every string new (NULL when absent). */
struct regmsg_server {
	char *name, *title, *description, *version;
	enum regmsg_status status;
	char *status_message;
	char *url;      /* the remote to use, or NULL (see refused) */
	int sse;        /* that remote is the deprecated HTTP+SSE transport */
	char *refused;  /* why no remote is usable, or NULL */
	char *resource; /* RFC 8707 audience for this server, or NULL */
	int allowed;    /* access extension: 1, 0, or -1 when absent */
	char *reason, *request_url; /* access extension, for denials */
};

struct regmsg_page {
	struct regmsg_server *srv; /* n entries */
	size_t n;
	char *next_cursor; /* NULL or "" at the end */
	size_t skipped;    /* entries left out: no valid server.name */
};

/*
 * Parses one ServerList page and appends its servers to `pg` (which may
 * already hold earlier pages; next_cursor is replaced). An entry without
 * a valid server.name is left out and counted in pg->skipped (one bad
 * entry does not hide the others). 0 or -1 with a reason; on -1 `pg`
 * keeps what it had.
 */
int regmsg_page_parse(
    const char *js, size_t n, struct regmsg_page *pg, char *err, size_t errsz);
void regmsg_page_clear(struct regmsg_page *pg);

/* Answer of GET /v0.1/servers/{name}/access; strings new. */
struct regmsg_access {
	int allowed;
	char *reason, *message, *request_url;
};

int regmsg_access_parse(
    const char *js, size_t n, struct regmsg_access *a, char *err, size_t errsz);
void regmsg_access_clear(struct regmsg_access *a);

/*
 * One line for an error answer: RFC 9457 problem `detail` (else `title`),
 * or {"error": ...}, else "HTTP <status>". Cleaned for display.
 */
void
regmsg_problem(const char *js, size_t n, long status, char *out, size_t outsz);

/* 1 if `name` fits server.json's ^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$, 3-200. */
int regmsg_name_ok(const char *name);

/* The short id of a registry name: the part after the last '/'. */
const char *regmsg_short_name(const char *name);

#endif

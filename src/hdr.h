/* SPDX-License-Identifier: ISC */
/*
 * hdr: the extra HTTP headers sent to a hosted server.
 *
 * Headers come from --header "Name: value", from --header-file (one per
 * line, '#' comments, keeps secrets out of argv and ps) and from
 * MCP_BRIDGE_ACCESS_TOKEN. Values may use ${VAR} to read the environment
 * (Windows IDEs split argv at spaces; "Authorization:${TOKEN}" avoids
 * that). Every line is held in a struct secret: header values are treated
 * as credentials and only names are ever logged.
 */
#ifndef HDR_H
#define HDR_H

#include <stddef.h>

struct hdrlist;

/* New empty list. */
struct hdrlist *hdrlist_new(void);

/* Wipes and frees; sets *lp to NULL; NULL is fine. */
void hdrlist_free(struct hdrlist **lp);

/*
 * Adds one "Name: value" line after ${VAR} expansion. Refuses invalid
 * names, CR/LF/NUL in values, headers the bridge owns (Content-Type,
 * Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Host,
 * Content-Length, Transfer-Encoding, Connection) and more than
 * BOUNDS_MAX_HEADERS. Returns 0, or -1 with a reason in `err` that never
 * contains the value.
 */
int
hdrlist_add_line(struct hdrlist *l, const char *line, char *err, size_t errsz);

/*
 * Reads a header file (one header per line; blank lines and lines
 * starting with '#' are skipped). Returns 0, or -1 with "FILE:LINE: why".
 */
int
hdrlist_load_file(struct hdrlist *l, const char *path, char *err, size_t errsz);

/* Adds "Authorization: Bearer <token>" unless an Authorization exists. */
void hdrlist_add_bearer(struct hdrlist *l, const char *token, size_t len);

/* 1 if a header with this name (case-insensitive) is in the list. */
int hdrlist_has(const struct hdrlist *l, const char *name);

size_t hdrlist_count(const struct hdrlist *l);

/* Borrowed "Name: value" line number i (secret memory: do not log). */
const char *hdrlist_line(const struct hdrlist *l, size_t i);

/* Borrowed copy of the name of header i (safe to log). */
const char *hdrlist_name(const struct hdrlist *l, size_t i);

#endif

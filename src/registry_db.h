/* SPDX-License-Identifier: ISC */
/*
 * registry_db: mcp-registryd's catalog and policy, loaded once and then
 * immutable (a reload builds a new one; requests in flight keep theirs
 * through a reference count).
 *
 * Catalog: a directory of *.json files, each one server.json (schema
 * 2025-12-11 ServerDetail); several versions of a server are several
 * files. Policy: one JSON file
 *
 *   {"default": {"groups": ["*"]},
 *    "servers": {"com.example.mcp/presto": {
 *        "groups": ["ads", "finance"], "status": "active",
 *        "statusMessage": "...", "requestAccessUrl": "https://...",
 *        "resource": "https://mcp.example.com/presto"}}}
 *
 * "groups" lists who may use a server ("*" = every signed-in user);
 * "status" is active, deprecated or deleted.
 */
#ifndef REGISTRY_DB_H
#define REGISTRY_DB_H

#include <stddef.h>
#include <stdint.h>

/* Files and servers a catalog may hold. */
#define RDB_MAX_ENTRIES 20000

enum rdb_status { RDB_ACTIVE = 0, RDB_DEPRECATED, RDB_DELETED };

/* One server version; borrowed from its db. */
struct rdb_entry {
	const char *name;    /* reverse-DNS name */
	const char *version; /* its version */
	const char *json;    /* the server.json object, compact */
	const char *description, *title;
	int64_t published; /* unix seconds (file mtime) */
	int is_latest;     /* newest version of the name */
};

/* Policy of one server; borrowed from its db. */
struct rdb_policy {
	const char *const *groups; /* ngroups entries; "*" = everyone */
	size_t ngroups;
	enum rdb_status status;
	const char *status_message, *request_url, *resource; /* or NULL */
};

struct rdb;

/* Loads catalog and policy; new (1 reference), or NULL with a reason. */
struct rdb *rdb_load(
    const char *catalog_dir, const char *policy_path, char *err, size_t errsz);
/* Reference counting (thread-safe). */
struct rdb *rdb_ref(struct rdb *db);
void rdb_unref(struct rdb **dbp);

/* Entries sorted by name, then newest version first. */
size_t rdb_count(const struct rdb *db);
const struct rdb_entry *rdb_entry(const struct rdb *db, size_t i);
/* Index of the first entry of `name`, or -1. */
long rdb_find(const struct rdb *db, const char *name);
/* The policy of `name` (the default one when it has none). */
const struct rdb_policy *rdb_policy(const struct rdb *db, const char *name);
/*
 * May a user in `groups` use `name`? 1/0; *via (borrowed) names the
 * matching group ("*" for everyone).
 */
int rdb_allowed(const struct rdb *db, const char *name,
    const char *const *groups, size_t ngroups, const char **via);

/* Version order: numeric dot-separated parts, then text. <0, 0, >0. */
int rdb_version_cmp(const char *a, const char *b);

#endif

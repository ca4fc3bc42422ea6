/* SPDX-License-Identifier: ISC */
#include "registry_db.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "regmsg.h"
#include "str.h"
#include "url.h"
#include "xmem.h"

/* Groups one policy may list. */
#define MAX_GROUPS 256

struct entry {
	struct rdb_entry pub;
	char *name, *version, *json, *description, *title;
};

struct pol {
	char *name; /* NULL for the default */
	struct rdb_policy pub;
	char **groups;
	char *status_message, *request_url, *resource;
};

struct rdb {
	atomic_int refs;
	struct entry *e;
	size_t n;
	struct pol *p; /* p[0] is the default */
	size_t np;
};

static void
pol_clear(struct pol *p)
{
	for (size_t i = 0; i < p->pub.ngroups; i++)
		free(p->groups[i]);
	free(p->groups);
	free(p->name);
	free(p->status_message);
	free(p->request_url);
	free(p->resource);
}

static void
rdb_free(struct rdb *db)
{
	for (size_t i = 0; i < db->n; i++) {
		free(db->e[i].name);
		free(db->e[i].version);
		free(db->e[i].json);
		free(db->e[i].description);
		free(db->e[i].title);
	}
	for (size_t i = 0; i < db->np; i++)
		pol_clear(&db->p[i]);
	free(db->e);
	free(db->p);
	free(db);
}

struct rdb *
rdb_ref(struct rdb *db)
{
	atomic_fetch_add(&db->refs, 1);
	return db;
}

void
rdb_unref(struct rdb **dbp)
{
	if (dbp == NULL || *dbp == NULL)
		return;
	if (atomic_fetch_sub(&(*dbp)->refs, 1) == 1)
		rdb_free(*dbp);
	*dbp = NULL;
}

/* -- versions and names ------------------------------------------------ */

int
rdb_version_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			char *ea, *eb;
			unsigned long long x = strtoull(a, &ea, 10);
			unsigned long long y = strtoull(b, &eb, 10);

			if (x != y)
				return x < y ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int
cmp_entries(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	return c ? c : -rdb_version_cmp(a->version, b->version);
}

/* -- catalog files ------------------------------------------------------ */

static const char *
str_len(json_t *o, const char *k, size_t min, size_t max)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL || strlen(s) < min || strlen(s) > max)
		return NULL;
	return s;
}

/* Checks remotes[]; NULL or what is wrong. */
static const char *
check_remotes(json_t *srv)
{
	json_t *r, *arr = json_object_get(srv, "remotes");
	size_t i;

	if (arr == NULL)
		return NULL;
	if (!json_is_array(arr))
		return "remotes: expected an array";
	json_array_foreach(arr, i, r)
	{
		const char *t = json_string_value(json_object_get(r, "type"));

		if (t == NULL ||
		    (strcmp(t, "streamable-http") && strcmp(t, "sse")))
			return "remotes[].type: expected streamable-http or "
			       "sse";
		if (json_string_value(json_object_get(r, "url")) == NULL)
			return "remotes[].url: expected a URL";
	}
	return NULL;
}

static int
load_entry(struct entry *e, const char *path, char *err, size_t errsz)
{
	json_error_t je;
	json_t *srv = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	const char *name, *ver, *desc, *why = NULL;
	struct stat st;

	if (srv == NULL) {
		str_fmt(err, errsz, "%s:%d: %s", path, je.line, je.text);
		return -1;
	}
	name = json_string_value(json_object_get(srv, "name"));
	ver = str_len(srv, "version", 1, 255);
	desc = str_len(srv, "description", 1, 100);
	if (!json_is_object(srv) || name == NULL || !regmsg_name_ok(name))
		why = "name: expected reverse-DNS with one '/'";
	else if (ver == NULL)
		why = "version: expected a string of 1-255 characters";
	else if (desc == NULL)
		why = "description: expected a string of 1-100 characters";
	else
		why = check_remotes(srv);
	if (why) {
		str_fmt(err, errsz, "%s: %s", path, why);
		json_decref(srv);
		return -1;
	}
	e->name = x_strdup(name);
	e->version = x_strdup(ver);
	e->description = x_strdup(desc);
	e->title = str_len(srv, "title", 1, 100)
	    ? x_strdup(str_len(srv, "title", 1, 100))
	    : NULL;
	e->json = json_dumps(srv, JSON_COMPACT);
	e->pub.published = stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
	json_decref(srv);
	return e->json ? 0 : -1;
}

static int
is_json_file(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".json") == 0;
}

static int
load_catalog(struct rdb *db, const char *dir, char *err, size_t errsz)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		str_fmt(
		    err, errsz, "%s: cannot read the catalog directory", dir);
		return -1;
	}
	db->e = x_calloc((size_t)n + 1, sizeof(*db->e));
	for (int i = 0; i < n; i++) {
		char *path = x_asprintf("%s/%s", dir, names[i]->d_name);

		if (rc == 0 && is_json_file(names[i]->d_name)) {
			if (db->n == RDB_MAX_ENTRIES) {
				str_fmt(err, errsz, "%s: more than %d servers",
				    dir, RDB_MAX_ENTRIES);
				rc = -1;
			} else if (load_entry(&db->e[db->n], path, err, errsz))
				rc = -1;
			else
				db->n++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Sorts, rejects duplicate versions, marks each name's newest one. */
static int
index_entries(struct rdb *db, char *err, size_t errsz)
{
	qsort(db->e, db->n, sizeof(*db->e), cmp_entries);
	for (size_t i = 0; i < db->n; i++) {
		struct entry *e = &db->e[i];
		int first = i == 0 || strcmp(db->e[i - 1].name, e->name) != 0;

		if (!first && strcmp(db->e[i - 1].version, e->version) == 0) {
			str_fmt(err, errsz,
			    "catalog: %s version %s appears twice", e->name,
			    e->version);
			return -1;
		}
		e->pub = (struct rdb_entry){ e->name, e->version, e->json,
			e->description, e->title, e->pub.published, first };
	}
	return 0;
}

/* -- policy ------------------------------------------------------------- */

static enum rdb_status
parse_status(const char *s, int *ok)
{
	*ok = 1;
	if (s == NULL || strcmp(s, "active") == 0)
		return RDB_ACTIVE;
	if (strcmp(s, "deprecated") == 0)
		return RDB_DEPRECATED;
	if (strcmp(s, "deleted") == 0)
		return RDB_DELETED;
	*ok = 0;
	return RDB_ACTIVE;
}

static char *
opt_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? x_strdup(s) : NULL;
}

static int
parse_pol(struct pol *p, json_t *o, const char *what, char *err, size_t errsz)
{
	json_t *g = json_object_get(o, "groups"), *v;
	char uerr[128];
	size_t i;
	int ok;

	if (!json_is_object(o) || (g && !json_is_array(g)) ||
	    json_array_size(g) > MAX_GROUPS) {
		str_fmt(err, errsz,
		    "policy: %s: expected {\"groups\": [...], "
		    "\"status\", ...}",
		    what);
		return -1;
	}
	p->groups = x_calloc(json_array_size(g) + 1, sizeof(char *));
	json_array_foreach(g, i, v)
	{
		if (!json_is_string(v)) {
			str_fmt(err, errsz,
			    "policy: %s.groups[%zu]: expected a "
			    "string",
			    what, i);
			return -1;
		}
		p->groups[p->pub.ngroups++] = x_strdup(json_string_value(v));
	}
	p->pub.groups = (const char *const *)p->groups;
	p->pub.status =
	    parse_status(json_string_value(json_object_get(o, "status")), &ok);
	p->status_message = opt_str(o, "statusMessage");
	p->request_url = opt_str(o, "requestAccessUrl");
	p->resource = opt_str(o, "resource");
	if (!ok ||
	    (p->request_url &&
	        url_parse(p->request_url, &(struct url){ 0 }, uerr,
	            sizeof(uerr)) == -1)) {
		str_fmt(err, errsz, "policy: %s: %s", what,
		    ok ? "requestAccessUrl: expected an http(s) URL"
		       : "status: expected active, deprecated or deleted");
		return -1;
	}
	p->pub.status_message = p->status_message;
	p->pub.request_url = p->request_url;
	p->pub.resource = p->resource;
	return 0;
}

static int
load_policy(struct rdb *db, const char *path, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	json_t *srv, *v, *def;
	const char *k;
	int rc = -1;

	if (root == NULL) {
		str_fmt(err, errsz, "%s:%d: %s", path, je.line, je.text);
		return -1;
	}
	srv = json_object_get(root, "servers");
	def = json_object_get(root, "default");
	db->p = x_calloc(json_object_size(srv) + 1, sizeof(*db->p));
	db->np = 1;
	if (def == NULL)
		def = json_object_get(json_object_set_new(root, "x-default",
		                          json_pack("{s:[]}", "groups")) == 0
		        ? root
		        : NULL,
		    "x-default");
	if (parse_pol(&db->p[0], def, "default", err, errsz))
		goto out;
	if (srv && !json_is_object(srv)) {
		str_fmt(err, errsz, "policy: servers: expected an object");
		goto out;
	}
	json_object_foreach(srv, k, v)
	{
		db->p[db->np].name = x_strdup(k);
		if (parse_pol(&db->p[db->np++], v, k, err, errsz))
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

struct rdb *
rdb_load(
    const char *catalog_dir, const char *policy_path, char *err, size_t errsz)
{
	struct rdb *db = x_calloc(1, sizeof(*db));

	atomic_init(&db->refs, 1);
	if (load_catalog(db, catalog_dir, err, errsz) == -1 ||
	    index_entries(db, err, errsz) == -1 ||
	    load_policy(db, policy_path, err, errsz) == -1) {
		rdb_free(db);
		return NULL;
	}
	return db;
}

/* -- queries ------------------------------------------------------------ */

size_t
rdb_count(const struct rdb *db)
{
	return db->n;
}

const struct rdb_entry *
rdb_entry(const struct rdb *db, size_t i)
{
	return i < db->n ? &db->e[i].pub : NULL;
}

long
rdb_find(const struct rdb *db, const char *name)
{
	size_t lo = 0, hi = db->n;

	while (lo < hi) { /* first entry with e.name >= name */
		size_t mid = (lo + hi) / 2;

		if (strcmp(db->e[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->n && strcmp(db->e[lo].name, name) == 0 ? (long)lo : -1;
}

const struct rdb_policy *
rdb_policy(const struct rdb *db, const char *name)
{
	for (size_t i = 1; i < db->np; i++)
		if (strcmp(db->p[i].name, name) == 0)
			return &db->p[i].pub;
	return &db->p[0].pub;
}

int
rdb_allowed(const struct rdb *db, const char *name, const char *const *groups,
    size_t ngroups, const char **via)
{
	const struct rdb_policy *p = rdb_policy(db, name);

	*via = NULL;
	if (p->status == RDB_DELETED)
		return 0;
	for (size_t i = 0; i < p->ngroups; i++) {
		if (strcmp(p->groups[i], "*") == 0) {
			*via = "*";
			return 1;
		}
		for (size_t j = 0; j < ngroups; j++)
			if (strcmp(p->groups[i], groups[j]) == 0) {
				*via = p->groups[i];
				return 1;
			}
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include "regmsg.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oamsg.h"
#include "str.h"
#include "url.h"
#include "xmem.h"

#define OFFICIAL "io.modelcontextprotocol.registry/official"
#define X_ACCESS "dev.mcp-bridge.registry/access"
#define X_AUTH   "dev.mcp-bridge.registry/auth"
/* Longest string kept from a registry entry. */
#define FIELD_MAX 2048

static json_t *
load(const char *js, size_t n, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root;

	if (n > REGMSG_MAX_BODY) {
		str_fmt(
		    err, errsz, "registry response too large (%zu bytes)", n);
		return NULL;
	}
	root = json_loadb(js, n, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		str_fmt(err, errsz,
		    "registry response is not JSON (line %d: %s)", je.line,
		    je.text);
	else if (!json_is_object(root)) {
		str_fmt(err, errsz, "registry response is not a JSON object");
		json_decref(root);
		root = NULL;
	}
	return root;
}

/* A cleaned copy of string member `key`, or NULL. */
static char *
field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	char buf[FIELD_MAX];

	if (s == NULL || *s == '\0')
		return NULL;
	return x_strdup(oamsg_clean(s, buf, sizeof(buf)));
}

static void
server_clear(struct regmsg_server *s)
{
	free(s->name);
	free(s->title);
	free(s->description);
	free(s->version);
	free(s->status_message);
	free(s->url);
	free(s->refused);
	free(s->resource);
	free(s->reason);
	free(s->request_url);
	memset(s, 0, sizeof(*s));
}

/* Has this remote a header that would carry its own Authorization? */
static int
sets_authorization(json_t *remote)
{
	json_t *h;
	size_t i;

	json_array_foreach(json_object_get(remote, "headers"), i, h)
	{
		const char *n = json_string_value(json_object_get(h, "name"));

		if (n && str_eq_nocase(n, strlen(n), "Authorization"))
			return 1;
	}
	return 0;
}

/* Why this remote cannot carry the user's token, or NULL if it can. */
static const char *
remote_problem(json_t *remote, char *why, size_t whysz)
{
	const char *u = json_string_value(json_object_get(remote, "url"));
	char uerr[160];

	if (u == NULL)
		return "remote without a url";
	if (strchr(u, '{'))
		return "templated remote URL (variables are not supported)";
	if (sets_authorization(remote))
		return "remote sets its own Authorization header";
	if (url_check_upstream(u, uerr, sizeof(uerr)) == -1) {
		str_fmt(why, whysz, "remote URL refused: %s", uerr);
		return why;
	}
	return NULL;
}

/* Picks streamable-http first, then sse; records why when none fits. */
static void
pick_remote(json_t *server, struct regmsg_server *s)
{
	static const char *const types[] = { "streamable-http", "sse" };
	const char *first = NULL;
	char why[256], buf[FIELD_MAX];
	json_t *r;
	size_t i;

	for (int t = 0; t < 2 && s->url == NULL; t++) {
		json_array_foreach(json_object_get(server, "remotes"), i, r)
		{
			const char *type =
			    json_string_value(json_object_get(r, "type"));
			const char *p;

			if (type == NULL || strcmp(type, types[t]) != 0)
				continue;
			if ((p = remote_problem(r, why, sizeof(why))) != NULL) {
				first = first ? first : x_strdup(p);
				continue;
			}
			s->url = x_strdup(oamsg_clean(
			    json_string_value(json_object_get(r, "url")), buf,
			    sizeof(buf)));
			s->sse = t == 1;
			break;
		}
	}
	if (s->url == NULL)
		s->refused = first ? (char *)first : x_strdup("no remote");
	else
		free((char *)first);
}

static enum regmsg_status
status_of(const char *st)
{
	if (st && strcmp(st, "deleted") == 0)
		return REGMSG_DELETED;
	if (st && strcmp(st, "deprecated") == 0)
		return REGMSG_DEPRECATED;
	return REGMSG_ACTIVE; /* absent: minimum-spec registries */
}

static void
read_meta(json_t *meta, struct regmsg_server *s)
{
	json_t *off = json_object_get(meta, OFFICIAL);
	json_t *acc = json_object_get(meta, X_ACCESS);
	json_t *al = json_object_get(acc, "allowed");

	s->status =
	    status_of(json_string_value(json_object_get(off, "status")));
	s->status_message = field(off, "statusMessage");
	s->resource = field(json_object_get(meta, X_AUTH), "resource");
	s->allowed = json_is_boolean(al) ? json_is_true(al) : -1;
	s->reason = field(acc, "reason");
	s->request_url = field(acc, "requestAccessUrl");
}

int
regmsg_name_ok(const char *n)
{
	const char *slash = strchr(n, '/');
	size_t len = strlen(n);

	if (slash == NULL || slash == n || slash[1] == '\0' ||
	    strchr(slash + 1, '/') || len < 3 || len > 200)
		return 0;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		        (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
		        *c == '/' || (*c == '_' && c > slash)))
			return 0;
	return 1;
}

/* Fills `s` from one entry; -1 (nothing to free) without a valid name. */
static int
entry(json_t *e, struct regmsg_server *s)
{
	json_t *server = json_object_get(e, "server");
	const char *name = json_string_value(json_object_get(server, "name"));

	memset(s, 0, sizeof(*s));
	if (!json_is_object(server) || name == NULL || !regmsg_name_ok(name))
		return -1;
	s->name = x_strdup(name);
	s->title = field(server, "title");
	s->description = field(server, "description");
	s->version = field(server, "version");
	read_meta(json_object_get(e, "_meta"), s);
	pick_remote(server, s);
	return 0;
}

static int
fill_page(json_t *root, struct regmsg_page *pg, char *err, size_t errsz)
{
	json_t *arr = json_object_get(root, "servers"), *e;
	struct regmsg_server *srv;
	size_t i, base = pg->n;

	if (!json_is_array(arr)) {
		str_fmt(
		    err, errsz, "registry response has no \"servers\" array");
		return -1;
	}
	if (base + json_array_size(arr) > REGMSG_MAX_SERVERS) {
		str_fmt(err, errsz, "registry lists more than %u servers",
		    REGMSG_MAX_SERVERS);
		return -1;
	}
	srv = x_realloc(
	    pg->srv, (base + json_array_size(arr) + 1) * sizeof(*srv));
	pg->srv = srv;
	json_array_foreach(arr, i, e)
	{
		if (entry(e, &srv[pg->n]) == 0)
			pg->n++;
		else
			pg->skipped++;
	}
	return 0;
}

int
regmsg_page_parse(
    const char *js, size_t n, struct regmsg_page *pg, char *err, size_t errsz)
{
	json_t *root = load(js, n, err, errsz);
	int rc = -1;

	if (root == NULL)
		return -1;
	if (fill_page(root, pg, err, errsz) == 0) {
		free(pg->next_cursor);
		pg->next_cursor =
		    field(json_object_get(root, "metadata"), "nextCursor");
		rc = 0;
	}
	json_decref(root);
	return rc;
}

void
regmsg_page_clear(struct regmsg_page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		server_clear(&pg->srv[i]);
	free(pg->srv);
	free(pg->next_cursor);
	memset(pg, 0, sizeof(*pg));
}

int
regmsg_access_parse(
    const char *js, size_t n, struct regmsg_access *a, char *err, size_t errsz)
{
	json_t *root = load(js, n, err, errsz), *al;

	memset(a, 0, sizeof(*a));
	if (root == NULL)
		return -1;
	al = json_object_get(root, "allowed");
	if (!json_is_boolean(al)) {
		str_fmt(err, errsz, "access answer has no boolean \"allowed\"");
		json_decref(root);
		return -1;
	}
	a->allowed = json_is_true(al);
	a->reason = field(root, "reason");
	a->message = field(root, "message");
	a->request_url = field(root, "requestAccessUrl");
	json_decref(root);
	return 0;
}

void
regmsg_access_clear(struct regmsg_access *a)
{
	free(a->reason);
	free(a->message);
	free(a->request_url);
	memset(a, 0, sizeof(*a));
}

void
regmsg_problem(const char *js, size_t n, long status, char *out, size_t outsz)
{
	char err[8], buf[512];
	json_t *root = n ? load(js, n, err, sizeof(err)) : NULL;
	const char *d = NULL;

	if (root) {
		d = json_string_value(json_object_get(root, "detail"));
		if (d == NULL)
			d = json_string_value(json_object_get(root, "error"));
		if (d == NULL)
			d = json_string_value(json_object_get(root, "title"));
	}
	if (d)
		str_fmt(out, outsz, "HTTP %ld: %s", status,
		    oamsg_clean(d, buf, sizeof(buf)));
	else
		str_fmt(out, outsz, "HTTP %ld", status);
	json_decref(root);
}

const char *
regmsg_short_name(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

/* SPDX-License-Identifier: ISC */
/*
 * cfg_servers: the `servers` list (static servers, and adjustments of
 * registry servers by name) and the `tools` allow/deny globs.
 */
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "url.h"
#include "xmem.h"

void
cfg_servers_clear(struct cfg *c)
{
	for (size_t i = 0; i < c->nsrv; i++) {
		free(c->srv[i].name);
		free(c->srv[i].url);
		free(c->srv[i].id);
		free(c->srv[i].resource);
	}
	free(c->srv);
	c->srv = NULL;
	c->nsrv = 0;
}

void
cfg_globs_free(char ***gp)
{
	for (size_t i = 0; *gp && (*gp)[i]; i++)
		free((*gp)[i]);
	free(*gp);
	*gp = NULL;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/')
		return 0;
	return strspn(s,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789_.-/") == n; /* a registry name has a '/' */
}

/* Checks the keys of servers[i]: name, url, id (strings) or x-*. */
static int
check_server_keys(
    json_t *s, size_t i, const char *origin, char *err, size_t errsz)
{
	const char *k;
	json_t *v;

	json_object_foreach(s, k, v)
	{
		if (strncmp(k, "x-", 2) == 0)
			continue;
		if (strcmp(k, "name") != 0 && strcmp(k, "url") != 0 &&
		    strcmp(k, "id") != 0 && strcmp(k, "resource") != 0 &&
		    strcmp(k, "enabled") != 0) {
			cfg_seterr(err, errsz,
			    "%s: servers[%zu].%s: unknown key "
			    "(expected name, url, id, resource, enabled)",
			    origin, i, k);
			return -1;
		}
		if (strcmp(k, "enabled") == 0 ? !json_is_boolean(v)
		                              : !json_is_string(v)) {
			cfg_seterr(err, errsz,
			    "%s: servers[%zu].%s: expected a %s", origin, i, k,
			    strcmp(k, "enabled") == 0 ? "boolean" : "string");
			return -1;
		}
	}
	return 0;
}

/* Checks servers[i]; 0/-1 with err naming the path. */
static int
check_server(json_t *s, size_t i, json_t *all, const char *origin, char *err,
    size_t errsz)
{
	const char *k, *name;
	char uerr[256];

	if (!json_is_object(s)) {
		cfg_seterr(err, errsz,
		    "%s: servers[%zu]: expected an object "
		    "{\"name\", \"url\", \"id\"}",
		    origin, i);
		return -1;
	}
	if (check_server_keys(s, i, origin, err, errsz) == -1)
		return -1;
	name = json_string_value(json_object_get(s, "name"));
	if (name == NULL || !name_ok(name)) {
		cfg_seterr(err, errsz,
		    "%s: servers[%zu].name: expected "
		    "[A-Za-z0-9_.-/]{1,200} (a registry name may have a /)",
		    origin, i);
		return -1;
	}
	for (size_t j = 0; j < i; j++) {
		const char *o = json_string_value(
		    json_object_get(json_array_get(all, j), "name"));
		if (o != NULL && strcmp(o, name) == 0) {
			cfg_seterr(err, errsz,
			    "%s: servers[%zu].name: expected a "
			    "unique name, '%s' is also servers[%zu]",
			    origin, i, name, j);
			return -1;
		}
	}
	/* Without a url the entry adjusts the registry's server `name`. */
	k = json_string_value(json_object_get(s, "url"));
	if (k && url_check_upstream(k, uerr, sizeof(uerr)) == -1) {
		cfg_seterr(err, errsz,
		    "%s: servers[%zu].url: expected an https "
		    "URL (http only for loopback): %s",
		    origin, i, uerr);
		return -1;
	}
	return 0;
}

int
cfg_set_servers_json(
    struct cfg *c, json_t *v, const char *origin, char *err, size_t errsz)
{
	size_t i;
	json_t *s;
	const char *id;

	if (!json_is_array(v)) {
		cfg_seterr(err, errsz,
		    "%s: servers: expected an array of "
		    "{\"name\", \"url\"} objects",
		    origin);
		return -1;
	}
	json_array_foreach(v, i,
	    s) if (check_server(s, i, v, origin, err, errsz) == -1) return -1;
	cfg_servers_clear(c);
	c->srv = x_calloc(json_array_size(v) + 1, sizeof(*c->srv));
	json_array_foreach(v, i, s)
	{
		c->srv[i].name =
		    x_strdup(json_string_value(json_object_get(s, "name")));
		id = json_string_value(json_object_get(s, "url"));
		c->srv[i].url = id ? x_strdup(id) : NULL;
		c->srv[i].disabled =
		    json_is_false(json_object_get(s, "enabled"));
		id = json_string_value(json_object_get(s, "id"));
		c->srv[i].id = id ? x_strdup(id) : NULL;
		id = json_string_value(json_object_get(s, "resource"));
		c->srv[i].resource = id ? x_strdup(id) : NULL;
		c->nsrv++;
	}
	cfg_set_origin(c, K_SERVERS, origin);
	return 0;
}

/* tools.allow / tools.deny: arrays of globs on "<server id>__<tool>". */
static int
set_globs(json_t *v, const char *what, char ***out, const char *origin,
    char *err, size_t errsz)
{
	size_t i;
	json_t *g;

	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 1000)
		goto bad;
	json_array_foreach(v, i, g) if (!json_is_string(g) ||
	    json_string_length(g) == 0 || json_string_length(g) > 200 ||
	    strlen(json_string_value(g)) != json_string_length(g)) goto bad;
	*out = x_calloc(json_array_size(v) + 1, sizeof(**out));
	json_array_foreach(v, i, g)(*out)[i] = x_strdup(json_string_value(g));
	return 0;
bad:
	cfg_seterr(err, errsz,
	    "%s: tools.%s: expected an array of glob strings (1 to 200 "
	    "characters) on \"<server id>__<tool>\" names",
	    origin, what);
	return -1;
}

int
cfg_set_tools_json(
    struct cfg *c, json_t *v, const char *origin, char *err, size_t errsz)
{
	char **allow = NULL, **deny = NULL;
	const char *k;
	json_t *x;

	if (!json_is_object(v)) {
		cfg_seterr(err, errsz,
		    "%s: tools: expected an object {\"allow\": [globs], "
		    "\"deny\": [globs]}",
		    origin);
		return -1;
	}
	json_object_foreach(v, k, x) if (strcmp(k, "allow") &&
	    strcmp(k, "deny") && strncmp(k, "x-", 2))
	{
		cfg_seterr(err, errsz,
		    "%s: tools.%s: unknown key (expected allow, deny)", origin,
		    k);
		return -1;
	}
	if (set_globs(json_object_get(v, "allow"), "allow", &allow, origin, err,
	        errsz) == -1 ||
	    set_globs(json_object_get(v, "deny"), "deny", &deny, origin, err,
	        errsz) == -1) {
		cfg_globs_free(&allow);
		return -1;
	}
	cfg_globs_free(&c->allow);
	cfg_globs_free(&c->deny);
	c->allow = allow;
	c->deny = deny;
	cfg_set_origin(c, K_TOOLS, origin);
	return 0;
}

size_t
cfg_server_count(const struct cfg *c)
{
	return c->nsrv;
}

const char *
cfg_server_name(const struct cfg *c, size_t i)
{
	return i < c->nsrv ? c->srv[i].name : NULL;
}

const char *
cfg_server_url(const struct cfg *c, size_t i)
{
	return i < c->nsrv ? c->srv[i].url : NULL;
}

const char *
cfg_server_id(const struct cfg *c, size_t i)
{
	return i < c->nsrv ? c->srv[i].id : NULL;
}

const char *
cfg_server_resource(const struct cfg *c, size_t i)
{
	return i < c->nsrv ? c->srv[i].resource : NULL;
}

int
cfg_server_enabled(const struct cfg *c, size_t i)
{
	return i < c->nsrv && !c->srv[i].disabled;
}

const char *const *
cfg_tools_allow(const struct cfg *c)
{
	return (const char *const *)c->allow;
}

const char *const *
cfg_tools_deny(const struct cfg *c)
{
	return (const char *const *)c->deny;
}

json_t *
cfg_globs_json(char **g)
{
	json_t *a = json_array();

	for (size_t i = 0; g && g[i]; i++)
		json_array_append_new(a, json_string(g[i]));
	return a;
}

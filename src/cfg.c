/* SPDX-License-Identifier: ISC */
/*
 * cfg: layered JSON configuration.  Every layer is applied in turn onto
 * one struct cfg; a later layer replaces a whole key.  Validation
 * happens as each layer is applied, so errors name the layer.
 */
#include "cfg.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "url.h"
#include "xmem.h"

static const struct cfg_keydef keys[K__MAX] = {
	{ "issuer", "MCP_BRIDGE_ISSUER", T_URL, NULL, 0 },
	{ "client_id", "MCP_BRIDGE_CLIENT_ID", T_STR, NULL, 0 },
	{ "scopes", "MCP_BRIDGE_SCOPES", T_SCOPES, NULL, 0 },
	{ "token_store", "MCP_BRIDGE_TOKEN_STORE", T_ENUM,
	    "keyring session memory file", 0 },
	{ "cacert", "MCP_BRIDGE_CACERT", T_PATH, NULL, 0 },
	{ "log_level", "MCP_BRIDGE_LOG_LEVEL", T_ENUM, "error warn info debug",
	    0 },
	{ "registry", "MCP_BRIDGE_REGISTRY", T_URL, NULL, 0 },
	{ "profile", "MCP_BRIDGE_PROFILE", T_STR, NULL, 0 },
	{ "resource", "MCP_BRIDGE_RESOURCE", T_STR, NULL, 0 },
	{ "servers", NULL, T_SERVERS, NULL, 0 },
	{ "tools", NULL, T_TOOLS, NULL, 0 },
};

static const char *default_scopes[] = { "openid", "offline_access", "email",
	"profile", "groups" };

void
cfg_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	/* Keys and values from the file are echoed: one printable line. */
	for (char *c = err; errsz && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

void
cfg_set_origin(struct cfg *c, enum cfg_key k, const char *origin)
{
	free(c->origin[k]);
	c->origin[k] = x_strdup(origin);
}

static void
scopes_clear(struct cfg *c)
{
	for (size_t i = 0; i < c->nscopes; i++)
		free(c->scopes[i]);
	free(c->scopes);
	c->scopes = NULL;
	c->nscopes = 0;
}

struct cfg *
cfg_new(void)
{
	struct cfg *c = x_calloc(1, sizeof(*c));
	size_t n = sizeof(default_scopes) / sizeof(default_scopes[0]);

	for (int k = 0; k < K__MAX; k++)
		c->origin[k] = x_strdup("default");
	c->val[K_TOKEN_STORE] = x_strdup("keyring");
	c->val[K_LOG_LEVEL] = x_strdup("warn");
	c->val[K_PROFILE] = x_strdup("default");
	c->scopes = x_calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		c->scopes[i] = x_strdup(default_scopes[i]);
	c->nscopes = n;
	return c;
}

void
cfg_free(struct cfg **cp)
{
	struct cfg *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (int k = 0; k < K__MAX; k++) {
		free(c->val[k]);
		free(c->origin[k]);
	}
	scopes_clear(c);
	cfg_servers_clear(c);
	cfg_globs_free(&c->allow);
	cfg_globs_free(&c->deny);
	free(c);
	*cp = NULL;
}

static int
enum_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (n > 0 && (p = strstr(p, v)) != NULL) {
		if ((p == choices || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* Checks a string value for key k; 0/-1 with "what is expected". */
static int
check_string(enum cfg_key k, const char *v, char *why, size_t whysz)
{
	char uerr[256];
	FILE *f;

	switch (keys[k].type) {
	case T_URL:
		if (url_check_upstream(v, uerr, sizeof(uerr)) == -1) {
			cfg_seterr(why, whysz,
			    "expected an https URL (http only "
			    "for loopback): %s",
			    uerr);
			return -1;
		}
		return 0;
	case T_ENUM:
		if (!enum_ok(keys[k].expect, v)) {
			cfg_seterr(
			    why, whysz, "expected one of: %s", keys[k].expect);
			return -1;
		}
		return 0;
	case T_PATH:
		if ((f = fopen(v, "r")) == NULL) {
			cfg_seterr(why, whysz, "expected a readable file: %s",
			    strerror(errno));
			return -1;
		}
		fclose(f);
		return 0;
	default:
		if (*v == '\0') {
			cfg_seterr(why, whysz, "expected a non-empty string");
			return -1;
		}
		return 0;
	}
}

static int
set_string(struct cfg *c, enum cfg_key k, const char *v, const char *origin,
    char *err, size_t errsz)
{
	char why[384];

	if (check_string(k, v, why, sizeof(why)) == -1) {
		cfg_seterr(err, errsz, "%s: %s: %s", origin, keys[k].name, why);
		return -1;
	}
	free(c->val[k]);
	c->val[k] = x_strdup(v);
	cfg_set_origin(c, k, origin);
	return 0;
}

static int
set_scopes_json(
    struct cfg *c, json_t *v, const char *origin, char *err, size_t errsz)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		cfg_seterr(err, errsz,
		    "%s: scopes: expected an array of strings", origin);
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || json_string_length(e) == 0) {
			cfg_seterr(err, errsz,
			    "%s: scopes[%zu]: expected a "
			    "non-empty string",
			    origin, i);
			return -1;
		}
	}
	scopes_clear(c);
	c->scopes = x_calloc(json_array_size(v) + 1, sizeof(char *));
	json_array_foreach(v, i, e) c->scopes[c->nscopes++] =
	    x_strdup(json_string_value(e));
	cfg_set_origin(c, K_SCOPES, origin);
	return 0;
}

static int
key_find(const char *name)
{
	for (int k = 0; k < K__MAX; k++)
		if (strcmp(keys[k].name, name) == 0)
			return k;
	return -1;
}

static int
apply_one(struct cfg *c, const char *name, json_t *v, const char *origin,
    char *err, size_t errsz)
{
	int k;

	if (strncmp(name, "x-", 2) == 0)
		return 0;
	if ((k = key_find(name)) == -1) {
		cfg_seterr(err, errsz,
		    "%s: %s: unknown key (expected issuer, "
		    "client_id, scopes, token_store, cacert, log_level, "
		    "registry, profile, resource, servers, tools or x-*)",
		    origin, name);
		return -1;
	}
	if (keys[k].type == T_SCOPES)
		return set_scopes_json(c, v, origin, err, errsz);
	if (keys[k].type == T_SERVERS)
		return cfg_set_servers_json(c, v, origin, err, errsz);
	if (keys[k].type == T_TOOLS)
		return cfg_set_tools_json(c, v, origin, err, errsz);
	if (!json_is_string(v)) {
		cfg_seterr(
		    err, errsz, "%s: %s: expected a string", origin, name);
		return -1;
	}
	return set_string(c, k, json_string_value(v), origin, err, errsz);
}

int
cfg_apply_text(struct cfg *c, const char *text, const char *origin, char *err,
    size_t errsz)
{
	json_error_t je;
	json_t *root, *v;
	const char *name;
	int rc = -1;

	if ((root = json_loads(text, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		cfg_seterr(err, errsz,
		    "%s: line %d column %d: invalid JSON: %s", origin, je.line,
		    je.column, je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		cfg_seterr(err, errsz,
		    "%s: (top level): expected a JSON object", origin);
		goto out;
	}
	json_object_foreach(root, name,
	    v) if (apply_one(c, name, v, origin, err, errsz) == -1) goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Reads path into a new string; NULL if missing (errno) or unreadable. */
/* Config files are small; anything bigger is a mistake. */
#define CFG_MAX_FILE (1024 * 1024)

static char *
read_file(const char *path)
{
	FILE *f;
	char *s = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > CFG_MAX_FILE) { /* refuse rather than truncate */
			fclose(f);
			free(s);
			errno = EFBIG;
			return NULL;
		}
		s = x_realloc(s, len + n + 1);
		memcpy(s + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (s == NULL)
		s = x_strdup("");
	s[len] = '\0';
	return s;
}

static int
apply_file(struct cfg *c, const char *path, int must, char *err, size_t errsz)
{
	char *text;
	int rc;

	if (path == NULL)
		return 0;
	if ((text = read_file(path)) == NULL) {
		if (!must && errno == ENOENT)
			return 0;
		cfg_seterr(err, errsz,
		    "%s: (file): expected a readable file: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = cfg_apply_text(c, text, path, err, errsz);
	free(text);
	return rc;
}

/* Splits space-separated scopes from the environment or a flag. */
static int
set_scopes_words(
    struct cfg *c, const char *v, const char *origin, char *err, size_t errsz)
{
	json_t *a = json_array();
	char *dup = x_strdup(v), *p = dup, *w;
	int rc;

	while ((w = strsep(&p, " \t")) != NULL)
		if (*w != '\0')
			json_array_append_new(a, json_string(w));
	rc = set_scopes_json(c, a, origin, err, errsz);
	json_decref(a);
	free(dup);
	return rc;
}

static int
apply_value(struct cfg *c, int k, const char *v, const char *origin, char *err,
    size_t errsz)
{
	if (keys[k].type == T_SCOPES)
		return set_scopes_words(c, v, origin, err, errsz);
	return set_string(c, k, v, origin, err, errsz);
}

static int
apply_env(struct cfg *c, char *const *env, char *err, size_t errsz)
{
	char origin[64];
	size_t n;

	for (; env != NULL && *env != NULL; env++) {
		for (int k = 0; k < K__MAX; k++) {
			if (keys[k].env == NULL)
				continue;
			n = strlen(keys[k].env);
			if (strncmp(*env, keys[k].env, n) != 0 ||
			    (*env)[n] != '=')
				continue;
			snprintf(origin, sizeof(origin), "environment %s",
			    keys[k].env);
			if (apply_value(
			        c, k, *env + n + 1, origin, err, errsz) == -1)
				return -1;
		}
	}
	return 0;
}

static int
apply_flags(struct cfg *c, const char *const *flags, char *err, size_t errsz)
{
	char origin[64], name[32];
	const char *eq;
	int k;

	for (; flags != NULL && *flags != NULL; flags++) {
		eq = strchr(*flags, '=');
		if (eq == NULL || (size_t)(eq - *flags) >= sizeof(name))
			k = -1;
		else {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *flags),
			    *flags);
			k = key_find(name);
		}
		if (k == -1 || keys[k].type == T_SERVERS ||
		    keys[k].type == T_TOOLS) {
			cfg_seterr(
			    err, errsz, "flag %s: unknown config key", *flags);
			return -1;
		}
		snprintf(origin, sizeof(origin), "flag --%s", name);
		if (apply_value(c, k, eq + 1, origin, err, errsz) == -1)
			return -1;
	}
	return 0;
}

static const char *
env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

struct cfg *
cfg_load(const struct cfg_sources *src, char *err, size_t errsz)
{
	struct cfg *c = cfg_new();
	const char *expl = src->explicit_path;

	if (expl == NULL)
		expl = env_get(src->environ, "MCP_BRIDGE_CONFIG");
	if (apply_file(c, src->system_path, 0, err, errsz) == -1 ||
	    apply_file(c, src->user_path, 0, err, errsz) == -1 ||
	    apply_file(c, expl, 1, err, errsz) == -1 ||
	    apply_env(c, src->environ, err, errsz) == -1 ||
	    apply_flags(c, src->flags, err, errsz) == -1)
		cfg_free(&c);
	return c;
}

int
cfg_validate_file(const char *path, char *err, size_t errsz)
{
	struct cfg *c = cfg_new();
	int rc = apply_file(c, path, 1, err, errsz);

	cfg_free(&c);
	return rc;
}

const char *
cfg_issuer(const struct cfg *c)
{
	return c->val[K_ISSUER];
}

const char *
cfg_client_id(const struct cfg *c)
{
	return c->val[K_CLIENT_ID];
}

size_t
cfg_scope_count(const struct cfg *c)
{
	return c->nscopes;
}

const char *
cfg_scope(const struct cfg *c, size_t i)
{
	return i < c->nscopes ? c->scopes[i] : NULL;
}

const char *
cfg_token_store(const struct cfg *c)
{
	return c->val[K_TOKEN_STORE];
}

const char *
cfg_cacert(const struct cfg *c)
{
	return c->val[K_CACERT];
}

const char *
cfg_log_level(const struct cfg *c)
{
	return c->val[K_LOG_LEVEL];
}

const char *
cfg_registry(const struct cfg *c)
{
	return c->val[K_REGISTRY];
}

const char *
cfg_profile(const struct cfg *c)
{
	return c->val[K_PROFILE];
}

const char *
cfg_resource(const struct cfg *c)
{
	return c->val[K_RESOURCE];
}

const char *
cfg_origin(const struct cfg *c, const char *key)
{
	int k = key_find(key);

	return k == -1 ? NULL : c->origin[k];
}

/* The JSON value of key k, redacted if secret; new reference. */
static json_t *
value_json(const struct cfg *c, int k)
{
	json_t *a;

	if (keys[k].secret && c->val[k] != NULL)
		return json_string("[redacted]");
	if (keys[k].type == T_SCOPES) {
		a = json_array();
		for (size_t i = 0; i < c->nscopes; i++)
			json_array_append_new(a, json_string(c->scopes[i]));
		return a;
	}
	if (keys[k].type == T_SERVERS) {
		a = json_array();
		for (size_t i = 0; i < c->nsrv; i++)
			json_array_append_new(a,
			    json_pack("{s:s, s:s?, s:s?, s:s?, s:b}", "name",
			        c->srv[i].name, "url", c->srv[i].url, "id",
			        c->srv[i].id, "resource", c->srv[i].resource,
			        "enabled", !c->srv[i].disabled));
		return a;
	}
	if (keys[k].type == T_TOOLS)
		return json_pack("{s:o, s:o}", "allow",
		    cfg_globs_json(c->allow), "deny", cfg_globs_json(c->deny));
	return c->val[k] ? json_string(c->val[k]) : json_null();
}

int
cfg_print(const struct cfg *c, FILE *f, int json)
{
	json_t *root = json_object(), *v;
	char *s;
	int rc = -1;

	for (int k = 0; k < K__MAX; k++)
		json_object_set_new(root, keys[k].name,
		    json_pack("{s:o, s:s}", "value", value_json(c, k), "origin",
		        c->origin[k]));
	if (json) {
		rc = json_dumpf(root, f, JSON_INDENT(2)) == 0 ? 0 : -1;
		fputc('\n', f);
		goto out;
	}
	for (int k = 0; k < K__MAX; k++) {
		v = json_object_get(
		    json_object_get(root, keys[k].name), "value");
		s = json_is_string(v) ? x_strdup(json_string_value(v))
		    : json_is_null(v) ? x_strdup("(unset)")
		                      : json_dumps(v, JSON_COMPACT);
		fprintf(f, "%-12s %s  (%s)\n", keys[k].name, s ? s : "?",
		    c->origin[k]);
		free(s);
	}
	rc = ferror(f) ? -1 : 0;
out:
	json_decref(root);
	return rc;
}

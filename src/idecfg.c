/* SPDX-License-Identifier: ISC */
/*
 * idecfg: the IDE data files (ide-configs/NAME.json) and the entry edits on
 * config text. The data files are checked when loaded, so a bad one is
 * reported by name instead of producing a wrong config later. Entries are
 * built from the data file's "entry" template, where "${command}" and
 * "${args}" stand for this executable and its arguments.
 */
#include "idecfg.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include "buf.h"
#include "idecfg_int.h"
#include "jsoned.h"
#include "str.h"
#include "xmem.h"

#define DATA_MAX    (1u << 20)
#define MAX_CLIENTS 64

struct idecfg_set {
	struct idecfg *c;
	size_t n;
};

static int
str_member(json_t *o, const char *k, int optional, const char **out)
{
	json_t *v = json_object_get(o, k);

	*out = NULL;
	if ((v == NULL || json_is_null(v)) && optional)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* The per-OS path objects: linux/macos/windows strings or null. */
static int
check_os_map(json_t *o, int lists)
{
	const char *k;
	json_t *v, *e;
	size_t i;

	if (!json_is_object(o))
		return -1;
	json_object_foreach(o, k, v)
	{
		if (lists && json_is_array(v)) {
			json_array_foreach(
			    v, i, e) if (!json_is_string(e)) return -1;
		} else if (!json_is_string(v) && !json_is_null(v))
			return -1;
	}
	return 0;
}

/* Values a TOML entry can hold here: strings, string arrays, bools. */
static int
toml_ok(json_t *entry)
{
	const char *k;
	json_t *v, *e;
	size_t i;

	json_object_foreach(entry, k, v)
	{
		if (json_is_array(v)) {
			json_array_foreach(
			    v, i, e) if (!json_is_string(e)) return 0;
		} else if (!json_is_string(v) && !json_is_boolean(v) &&
		    !json_is_integer(v))
			return 0;
	}
	return 1;
}

static const char *
check_client(struct idecfg *c, const char *base)
{
	json_t *j = c->j, *entry = json_object_get(j, "entry");
	const char *fmt;

	if (str_member(j, "id", 0, &c->id) == -1 || strcmp(c->id, base) != 0)
		return "id: expected the file's name without .json";
	if (str_member(j, "name", 0, &c->name) == -1)
		return "name: expected a string";
	if (str_member(j, "source", 0, &c->source) == -1 ||
	    strncmp(c->source, "https://", 8) != 0)
		return "source: expected the https address of the client's "
		       "docs";
	if (str_member(j, "key", 0, &c->key) == -1)
		return "key: expected a string";
	if (str_member(j, "format", 0, &fmt) == -1 ||
	    (strcmp(fmt, "json") && strcmp(fmt, "jsonc") &&
	        strcmp(fmt, "toml")))
		return "format: expected \"json\", \"jsonc\" or \"toml\"";
	if (!json_is_boolean(json_object_get(j, "comments")) ||
	    !json_is_boolean(json_object_get(j, "trailing_commas")))
		return "comments, trailing_commas: expected true or false";
	if (str_member(j, "project", 1, &c->project) == -1)
		return "project: expected a relative path or null";
	if (c->project && (c->project[0] == '/' || strstr(c->project, "..")))
		return "project: expected a relative path inside the project";
	if (str_member(j, "notes", 1, &c->notes) == -1)
		return "notes: expected a string";
	if (check_os_map(json_object_get(j, "user"), 0) == -1)
		return "user: expected {\"linux\": path, \"macos\": ...}";
	if (check_os_map(json_object_get(j, "installed"), 1) == -1)
		return "installed: expected {\"linux\": [path...], ...}";
	if (!json_is_object(entry) ||
	    !json_is_string(json_object_get(entry, "command")))
		return "entry: expected an object with \"command\"";
	c->format = strcmp(fmt, "toml") == 0 ? IDECFG_TOML : IDECFG_JSON;
	if (c->format == IDECFG_TOML && !toml_ok(entry))
		return "entry: expected strings, string arrays or booleans";
	c->jo.comments = json_is_true(json_object_get(j, "comments"));
	c->jo.trailing_commas =
	    json_is_true(json_object_get(j, "trailing_commas"));
	return NULL;
}

static int
load_one(struct idecfg *c, const char *dir, const char *file, char *err,
    size_t errsz)
{
	char *path = x_asprintf("%s/%s", dir, file);
	char *base = x_strndup(file, strlen(file) - 5);
	const char *why;
	json_error_t je;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (c->j == NULL)
		str_fail(err, errsz, "%s:%d:%d: %s", path, je.line, je.column,
		    je.text);
	else if (!json_is_object(c->j))
		str_fail(err, errsz, "%s: expected a JSON object", path);
	else if ((why = check_client(c, base)) != NULL)
		str_fail(err, errsz, "%s: %s", path, why);
	else
		rc = 0;
	free(path);
	free(base);
	return rc;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(
	    ((const struct idecfg *)a)->id, ((const struct idecfg *)b)->id);
}

static int
is_data_file(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && n[0] != '.' && strcmp(n + l - 5, ".json") == 0;
}

struct idecfg_set *
idecfg_load(const char *dir, char *err, size_t errsz)
{
	struct idecfg_set *s = x_calloc(1, sizeof(*s));
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		str_fail(err, errsz, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_data_file(de->d_name))
			continue;
		if (s->n == MAX_CLIENTS) {
			str_fail(err, errsz, "%s: more than %d data files", dir,
			    MAX_CLIENTS);
			goto fail;
		}
		s->c = x_realloc(s->c, (s->n + 1) * sizeof(*s->c));
		if (load_one(&s->c[s->n], dir, de->d_name, err, errsz) == -1) {
			json_decref(s->c[s->n].j);
			goto fail;
		}
		s->n++;
	}
	closedir(d);
	d = NULL;
	if (s->n == 0) {
		str_fail(err, errsz, "%s: no IDE data files (*.json)", dir);
		goto fail;
	}
	qsort(s->c, s->n, sizeof(*s->c), by_id);
	return s;
fail:
	if (d != NULL)
		closedir(d);
	idecfg_set_free(&s);
	return NULL;
}

void
idecfg_set_free(struct idecfg_set **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	for (size_t i = 0; i < (*sp)->n; i++)
		json_decref((*sp)->c[i].j);
	free((*sp)->c);
	free(*sp);
	*sp = NULL;
}

size_t
idecfg_count(const struct idecfg_set *s)
{
	return s->n;
}

const struct idecfg *
idecfg_at(const struct idecfg_set *s, size_t i)
{
	return i < s->n ? &s->c[i] : NULL;
}

const struct idecfg *
idecfg_find(const struct idecfg_set *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->c[i].id, id) == 0)
			return &s->c[i];
	return NULL;
}

const char *
idecfg_id(const struct idecfg *c)
{
	return c->id;
}

const char *
idecfg_name(const struct idecfg *c)
{
	return c->name;
}

const char *
idecfg_source(const struct idecfg *c)
{
	return c->source;
}

const char *
idecfg_key(const struct idecfg *c)
{
	return c->key;
}

const char *
idecfg_project(const struct idecfg *c)
{
	return c->project;
}

const char *
idecfg_notes(const struct idecfg *c)
{
	return c->notes;
}

enum idecfg_format
idecfg_format(const struct idecfg *c)
{
	return c->format;
}

const char *
idecfg_os(void)
{
#ifdef __APPLE__
	return "macos";
#else
	return "linux";
#endif
}

/* Value of placeholder [p, p+n) (new), or NULL. */
static char *
placeholder(const char *p, size_t n)
{
	const char *home = getenv("HOME"), *v;

	if (home == NULL || home[0] != '/')
		return NULL;
	if (n == 4 && memcmp(p, "HOME", 4) == 0)
		return x_strdup(home);
	if (n == 15 && memcmp(p, "XDG_CONFIG_HOME", 15) == 0)
		return (v = getenv("XDG_CONFIG_HOME")) && v[0] == '/'
		    ? x_strdup(v)
		    : x_asprintf("%s/.config", home);
	if (n == 10 && memcmp(p, "CODEX_HOME", 10) == 0)
		return (v = getenv("CODEX_HOME")) && v[0] == '/'
		    ? x_strdup(v)
		    : x_asprintf("%s/.codex", home);
	return NULL;
}

/* `tmpl` with its $PLACEHOLDERS expanded (new), or NULL. */
static char *
expand(const char *tmpl)
{
	struct buf b;
	char *v;
	int rc = 0;

	buf_init(&b, PATH_MAX);
	for (const char *p = tmpl; *p && rc == 0;) {
		size_t n = 0;

		if (*p != '$') {
			rc = buf_append(&b, p++, 1);
			continue;
		}
		while ((p[1 + n] >= 'A' && p[1 + n] <= 'Z') || p[1 + n] == '_')
			n++;
		if ((v = placeholder(p + 1, n)) == NULL)
			rc = -1;
		else
			rc = buf_puts(&b, v);
		free(v);
		p += 1 + n;
	}
	if (rc != 0) {
		buf_finish(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

char *
idecfg_user_path(const struct idecfg *c)
{
	json_t *v = json_object_get(json_object_get(c->j, "user"), idecfg_os());

	return json_is_string(v) ? expand(json_string_value(v)) : NULL;
}

char *
idecfg_project_path(const struct idecfg *c, const char *dir)
{
	size_t n = strlen(dir);

	if (c->project == NULL)
		return NULL;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return x_asprintf("%.*s/%s", (int)n, dir, c->project);
}

static int
on_path(const char *cmd)
{
	const char *p = getenv("PATH"), *e;
	char *f;
	int found = 0;

	for (; p != NULL && !found; p = *e ? e + 1 : NULL) {
		e = p + strcspn(p, ":");
		f = x_asprintf(
		    "%.*s/%s", e > p ? (int)(e - p) : 1, e > p ? p : ".", cmd);
		found = access(f, X_OK) == 0;
		free(f);
	}
	return found;
}

int
idecfg_installed(const struct idecfg *c)
{
	json_t *m = json_object_get(c->j, "installed"), *e;
	struct stat st;
	size_t i;
	char *p;
	int found = 0;

	json_array_foreach(json_object_get(m, idecfg_os()), i, e)
	{
		if ((p = expand(json_string_value(e))) != NULL)
			found |= stat(p, &st) == 0;
		free(p);
	}
	json_array_foreach(json_object_get(m, "commands"), i, e) found |=
	    on_path(json_string_value(e));
	return found;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
idecfg_self_exe(void)
{
#ifdef __APPLE__
	char buf[PATH_MAX];
	uint32_t n = sizeof(buf);

	if (_NSGetExecutablePath(buf, &n) != 0)
		return NULL;
	return realpath(buf, NULL);
#else
	return realpath("/proc/self/exe", NULL);
#endif
}

/* ../share/mcp-bridge/ide-configs next to the executable (new). */
static char *
exe_relative(void)
{
	char *exe = idecfg_self_exe(), *slash, *p = NULL;

	if (exe != NULL && (slash = strrchr(exe, '/')) != NULL) {
		*slash = '\0';
		p = x_asprintf("%s/../share/mcp-bridge/ide-configs", exe);
		if (!is_dir(p)) {
			free(p);
			p = NULL;
		}
	}
	free(exe);
	return p;
}

char *
idecfg_default_dir(void)
{
	const char *env = getenv("MCP_BRIDGE_IDE_CONFIGS");
	char *p;

	if (env != NULL && *env != '\0')
		return x_strdup(env);
#ifdef MCP_BRIDGE_DATADIR
	if (is_dir(MCP_BRIDGE_DATADIR "/ide-configs"))
		return x_strdup(MCP_BRIDGE_DATADIR "/ide-configs");
#endif
	if ((p = exe_relative()) != NULL)
		return p;
#ifdef MCP_BRIDGE_SRCDIR
	if (is_dir(MCP_BRIDGE_SRCDIR "/ide-configs"))
		return x_strdup(MCP_BRIDGE_SRCDIR "/ide-configs");
#endif
	return NULL;
}

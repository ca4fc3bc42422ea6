/* SPDX-License-Identifier: ISC */
#include "idescan.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "secret.h"
#include "str.h"
#include "xmem.h"

#define NONE ((size_t)-1)

/* -- JSONC to JSON ------------------------------------------------------ */

/* Spaces over [p, p+n), newlines kept. */
static void
blank(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\n' && p[i] != '\r')
			p[i] = ' ';
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Index after the string that starts at t[i] == '"' (len if open). */
static size_t
skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (t[i] == '\\')
			i++;
		else if (t[i] == '"')
			return i + 1;
	}
	return len;
}

static void
line_col(const char *t, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (t[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/* Index after the comment that starts at t[i] == '/', or NONE if open. */
static size_t
comment_end(const char *t, size_t len, size_t i)
{
	if (t[i + 1] == '/') {
		while (i < len && t[i] != '\n')
			i++;
		return i;
	}
	for (i += 2; i + 1 < len; i++)
		if (t[i] == '*' && t[i + 1] == '/')
			return i + 2;
	return NONE;
}

int
idescan_clean(char *t, size_t len, size_t *eline, char *err, size_t errsz)
{
	size_t i = 0, comma = NONE, e, line, col;

	if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		blank(t, 3);
	while (i < len) {
		if (t[i] == '"') {
			comma = NONE;
			i = skip_string(t, len, i);
			continue;
		}
		if (t[i] == '/' && i + 1 < len &&
		    (t[i + 1] == '/' || t[i + 1] == '*')) {
			if ((e = comment_end(t, len, i)) == NONE) {
				line_col(t, i, &line, &col);
				*eline = line;
				str_fmt(err, errsz,
				    "line %zu, column %zu: unterminated /* "
				    "comment",
				    line, col);
				return -1;
			}
			blank(t + i, e - i);
			i = e;
			continue;
		}
		if (t[i] == ',')
			comma = i;
		else if ((t[i] == '}' || t[i] == ']') && comma != NONE) {
			t[comma] = ' '; /* trailing comma */
			comma = NONE;
		} else if (!is_ws(t[i]))
			comma = NONE;
		i++;
	}
	return 0;
}

/* -- a forward scanner over valid JSON ------------------------------------ */

static size_t
skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len && is_ws(t[i]))
		i++;
	return i;
}

/* Index after the value that starts at t[i]. No recursion. */
static size_t
skip_value(const char *t, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (t[i] == '"')
		return skip_string(t, len, i);
	if (t[i] != '{' && t[i] != '[') {
		while (i < len && !is_ws(t[i]) && !strchr(",}]", t[i]))
			i++;
		return i;
	}
	while (i < len) {
		if (t[i] == '"') {
			i = skip_string(t, len, i);
			continue;
		}
		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

/*
 * The next member of the object whose '{' or last ',' is at t[*pos]: 1
 * with its key token [*k, *ke) and value offset *v; 0 at the end.
 */
static int
next_member(
    const char *t, size_t len, size_t *pos, size_t *k, size_t *ke, size_t *v)
{
	size_t i;

	if (*pos >= len || (t[*pos] != '{' && t[*pos] != ','))
		return 0;
	i = skip_ws(t, len, *pos + 1);
	if (i >= len || t[i] != '"')
		return 0;
	*k = i;
	*ke = skip_string(t, len, i);
	i = skip_ws(t, len, *ke);
	if (i >= len || t[i] != ':')
		return 0;
	*v = skip_ws(t, len, i + 1);
	*pos = skip_ws(t, len, skip_value(t, len, *v));
	return 1;
}

/* The next element of the array whose '[' or last ',' is at t[*pos]. */
static int
next_elem(const char *t, size_t len, size_t *pos, size_t *v)
{
	size_t i;

	if (*pos >= len || (t[*pos] != '[' && t[*pos] != ','))
		return 0;
	i = skip_ws(t, len, *pos + 1);
	if (i >= len || t[i] == ']')
		return 0;
	*v = i;
	*pos = skip_ws(t, len, skip_value(t, len, i));
	return 1;
}

/* The string token at t[v], decoded (new), or NULL if not a string. */
static char *
string_at(const char *t, size_t len, size_t v)
{
	size_t e;
	json_t *j;
	char *s = NULL;

	if (v >= len || t[v] != '"')
		return NULL;
	e = skip_string(t, len, v);
	if (memchr(t + v + 1, '\\', e - v - 1) == NULL)
		return x_strndup(t + v + 1, e - v - 2);
	j = json_loadb(t + v, e - v, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (json_is_string(j) &&
	    strlen(json_string_value(j)) == json_string_length(j))
		s = x_strdup(json_string_value(j));
	json_decref(j);
	return s;
}

/* 1 if the key token [k, ke) is `key`. */
static int
key_is(const char *t, size_t len, size_t k, const char *key)
{
	char *s = string_at(t, len, k);
	int eq = s && strcmp(s, key) == 0;

	free(s);
	return eq;
}

/* -- entries ------------------------------------------------------------- */

struct scan {
	const char *t; /* the cleaned text */
	size_t len;
	size_t at, at_line; /* line counting moves forward */
	struct idescan *out;
};

static size_t
line_of(struct scan *sc, size_t off)
{
	if (off < sc->at) {
		sc->at = 0;
		sc->at_line = 1;
	}
	for (; sc->at < off && sc->at < sc->len; sc->at++)
		if (sc->t[sc->at] == '\n')
			sc->at_line++;
	return sc->at_line;
}

size_t
idescan_line(const char *text, size_t len, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static void
set_problem(struct idescan_entry *e, const char *what)
{
	if (e->problem == NULL)
		e->problem = x_strdup(what);
}

static void
take_args(struct scan *sc, struct idescan_entry *e, size_t v)
{
	size_t pos = v, a;
	char *s;

	if (sc->t[v] != '[') {
		set_problem(e, "\"args\" must be an array of strings");
		return;
	}
	while (next_elem(sc->t, sc->len, &pos, &a)) {
		if (e->nargs == IDESCAN_MAX_ARGS) {
			set_problem(e, "more than 256 arguments");
			return;
		}
		if ((s = string_at(sc->t, sc->len, a)) == NULL) {
			set_problem(e, "\"args\" must be an array of strings");
			return;
		}
		e->args = x_realloc(e->args, (e->nargs + 1) * sizeof(*e->args));
		e->arg_line =
		    x_realloc(e->arg_line, (e->nargs + 1) * sizeof(size_t));
		e->args[e->nargs] = s;
		e->arg_line[e->nargs++] = line_of(sc, a);
	}
}

static void
take_env(struct scan *sc, struct idescan_entry *e, size_t v)
{
	size_t pos = v, k, ke, val;
	char *s;

	if (sc->t[v] != '{') {
		set_problem(e, "\"env\" must be an object");
		return;
	}
	while (next_member(sc->t, sc->len, &pos, &k, &ke, &val)) {
		if (key_is(sc->t, sc->len, k, "MCP_BRIDGE_CONFIG")) {
			free(e->env_config);
			e->env_config = string_at(sc->t, sc->len, val);
		} else if (key_is(
		               sc->t, sc->len, k, "MCP_BRIDGE_ACCESS_TOKEN") &&
		    (s = string_at(sc->t, sc->len, val)) != NULL) {
			e->env_token = *s != '\0' && strstr(s, "${") == NULL;
			secret_wipe(s, strlen(s));
			free(s);
		}
	}
}

/* "command": a string, or Zed's {"path", "args", "env"}. */
static void
take_command(struct scan *sc, struct idescan_entry *e, size_t k, size_t v)
{
	size_t pos = v, ck, cke, cv;

	e->cmd_line = line_of(sc, k);
	if (sc->t[v] == '"') {
		free(e->command);
		e->command = string_at(sc->t, sc->len, v);
		return;
	}
	if (sc->t[v] != '{') {
		set_problem(e, "\"command\" must be a string");
		return;
	}
	while (next_member(sc->t, sc->len, &pos, &ck, &cke, &cv)) {
		if (key_is(sc->t, sc->len, ck, "path")) {
			free(e->command);
			e->command = string_at(sc->t, sc->len, cv);
			e->cmd_line = line_of(sc, ck);
		} else if (key_is(sc->t, sc->len, ck, "args"))
			take_args(sc, e, cv);
		else if (key_is(sc->t, sc->len, ck, "env"))
			take_env(sc, e, cv);
	}
}

static void
entry_fill(struct scan *sc, struct idescan_entry *e, size_t v)
{
	size_t pos = v, k, ke, mv;

	while (next_member(sc->t, sc->len, &pos, &k, &ke, &mv)) {
		if (key_is(sc->t, sc->len, k, "command"))
			take_command(sc, e, k, mv);
		else if (key_is(sc->t, sc->len, k, "args"))
			take_args(sc, e, mv);
		else if (key_is(sc->t, sc->len, k, "env"))
			take_env(sc, e, mv);
		else if (key_is(sc->t, sc->len, k, "cwd")) {
			free(e->cwd);
			e->cwd = string_at(sc->t, sc->len, mv);
		}
	}
}

static void
entry_clear(struct idescan_entry *e)
{
	for (size_t i = 0; i < e->nargs; i++)
		free(e->args[i]);
	free(e->args);
	free(e->arg_line);
	free(e->name);
	free(e->where);
	free(e->project);
	free(e->command);
	free(e->cwd);
	free(e->env_config);
	free(e->problem);
	memset(e, 0, sizeof(*e));
}

/* The entries of the container object at t[v]. */
static void
take_container(struct scan *sc, size_t v, const char *where, const char *proj)
{
	struct idescan *o = sc->out;
	size_t pos = v, k, ke, ev, first = o->n;
	struct idescan_entry *e;
	char *name;

	o->containers++;
	while (next_member(sc->t, sc->len, &pos, &k, &ke, &ev)) {
		if (sc->t[ev] != '{' ||
		    (name = string_at(sc->t, sc->len, k)) == NULL)
			continue;
		e = NULL;
		for (size_t i = first; i < o->n && e == NULL; i++)
			if (strcmp(o->e[i].name, name) == 0)
				e = &o->e[i]; /* a later duplicate wins */
		if (e)
			entry_clear(e);
		else if (o->n == IDESCAN_MAX_ENTRIES) {
			o->truncated = 1;
			free(name);
			continue;
		} else {
			o->e = x_realloc(o->e, (o->n + 1) * sizeof(*o->e));
			e = &o->e[o->n++];
			memset(e, 0, sizeof(*e));
		}
		e->name = name;
		e->where = x_strdup(where);
		e->project = proj ? x_strdup(proj) : NULL;
		e->line = e->cmd_line = line_of(sc, k);
		entry_fill(sc, e, ev);
	}
}

/* Claude Code's ~/.claude.json: "projects": {DIR: {"mcpServers": {}}}. */
static void
take_projects(struct scan *sc, size_t v)
{
	size_t pos = v, k, ke, pv, ppos, mk, mke, mv;
	char *dir, *where;

	while (next_member(sc->t, sc->len, &pos, &k, &ke, &pv)) {
		if (sc->t[pv] != '{' ||
		    (dir = string_at(sc->t, sc->len, k)) == NULL)
			continue;
		ppos = pv;
		while (next_member(sc->t, sc->len, &ppos, &mk, &mke, &mv))
			if (sc->t[mv] == '{' &&
			    key_is(sc->t, sc->len, mk, "mcpServers")) {
				where =
				    x_asprintf("projects[%s].mcpServers", dir);
				take_container(sc, mv, where, dir);
				free(where);
			}
		free(dir);
	}
}

static void
take_root(struct scan *sc, size_t root)
{
	size_t pos = root, k, ke, v, mpos, mk, mke, mv;

	while (next_member(sc->t, sc->len, &pos, &k, &ke, &v)) {
		if (sc->t[v] != '{')
			continue;
		if (key_is(sc->t, sc->len, k, "mcpServers"))
			take_container(sc, v, "mcpServers", NULL);
		else if (key_is(sc->t, sc->len, k, "servers"))
			take_container(sc, v, "servers", NULL);
		else if (key_is(sc->t, sc->len, k, "context_servers"))
			take_container(sc, v, "context_servers", NULL);
		else if (key_is(sc->t, sc->len, k, "projects"))
			take_projects(sc, v);
		else if (key_is(sc->t, sc->len, k, "mcp")) {
			mpos = v;
			while (
			    next_member(sc->t, sc->len, &mpos, &mk, &mke, &mv))
				if (sc->t[mv] == '{' &&
				    key_is(sc->t, sc->len, mk, "servers"))
					take_container(
					    sc, mv, "mcp.servers", NULL);
		}
	}
}

int
idescan_parse(
    const char *text, size_t len, struct idescan *out, char *err, size_t errsz)
{
	struct scan sc = { 0 };
	json_error_t je;
	json_t *doc;
	char *t;
	int rc = -1;
	size_t root;

	memset(out, 0, sizeof(*out));
	if (len > IDESCAN_MAX_FILE) {
		str_fmt(err, errsz, "larger than %u bytes", IDESCAN_MAX_FILE);
		return -1;
	}
	t = x_malloc(len + 1);
	memcpy(t, text, len);
	t[len] = '\0';
	if (idescan_clean(t, len, &out->err_line, err, errsz) == -1)
		goto out;
	if ((doc = json_loadb(t, len, JSON_ALLOW_NUL, &je)) == NULL) {
		out->err_line = je.line > 0 ? (size_t)je.line : 0;
		str_fmt(err, errsz, "line %d, column %d: %s", je.line,
		    je.column, je.text);
		goto out;
	}
	json_decref(doc);
	rc = 0;
	root = skip_ws(t, len, 0);
	if (root >= len || t[root] != '{')
		goto out;
	sc.t = t;
	sc.len = len;
	sc.at_line = 1;
	sc.out = out;
	take_root(&sc, root);
out:
	free(t);
	return rc;
}

void
idescan_clear(struct idescan *s)
{
	for (size_t i = 0; i < s->n; i++)
		entry_clear(&s->e[i]);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

int
idescan_is_bridge(const struct idescan_entry *e)
{
	const char *b, *s;

	if (e->command == NULL)
		return 0;
	b = e->command;
	for (s = e->command; *s; s++)
		if (*s == '/' || *s == '\\')
			b = s + 1;
	return strcmp(b, "mcp-bridge") == 0 || strcmp(b, "mcp-bridge.exe") == 0;
}

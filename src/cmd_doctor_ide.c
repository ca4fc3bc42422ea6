/* SPDX-License-Identifier: ISC */
/*
 * cmd_doctor_ide: doctor's check of the IDE configs that start
 * mcp-bridge (through cmd_ide_check, shared with `config validate`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd_doctor_int.h"
#include "idecfg.h"
#include "str.h"
#include "xmem.h"

/* -- IDE configs ------------------------------------------------------------
 */

struct ide_acc {
	struct buf errs, warns, fixes;
	int nerr, nwarn;
};

static void
ide_issue(void *arg, const struct cmd_ide_issue *is)
{
	struct ide_acc *a = arg;
	struct buf *b = is->warn ? &a->warns : &a->errs;
	char line[1500];

	str_fmt(line, sizeof(line), "%s%s:%zu: %s%s%s", buf_len(b) ? "; " : "",
	    is->file, is->line, is->entry ? is->entry : "",
	    is->entry ? ": " : "", is->msg);
	cmd_doctor_put(b, line);
	if (is->fix && !is->warn && a->nerr == 0)
		cmd_doctor_put(&a->fixes, is->fix);
	if (is->warn)
		a->nwarn++;
	else
		a->nerr++;
}

/* 1 if the file names mcp-bridge anywhere (cheap pre-filter). */
static int
mentions_bridge(const char *path)
{
	char chunk[65536 + 16];

	size_t n, keep = 0;
	int hit = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return 0;
	while (!hit && (n = fread(chunk + keep, 1, 65536, f)) > 0) {
		size_t tot = keep + n;

		for (size_t i = 0; !hit && i + 10 <= tot; i++)
			hit = memcmp(chunk + i, "mcp-bridge", 10) == 0;
		keep = tot < 9 ? tot : 9;
		memmove(chunk, chunk + tot - keep, keep);
	}
	fclose(f);
	return hit;
}

/* One check per IDE config in `paths` that starts mcp-bridge. */
static void
check_ide_paths(struct doctor *d, const char *const *paths, size_t n)
{
	size_t found = 0;
	char label[1200], msg[300];

	for (size_t i = 0; i < n; i++) {
		struct ide_acc a = { 0 };
		int k;

		if (access(paths[i], R_OK) == -1 || !mentions_bridge(paths[i]))
			continue;
		buf_init(&a.errs, 65536);
		buf_init(&a.warns, 65536);
		buf_init(&a.fixes, 4096);
		k = cmd_ide_check(paths[i], ide_issue, &a);
		str_fmt(label, sizeof(label), "ide %s", paths[i]);
		if (k != 0) {
			found++;
			str_fmt(msg, sizeof(msg), "%d mcp-bridge entr%s valid",
			    k, k == 1 ? "y" : "ies");
			if (a.nerr)
				cmd_doctor_check_set(
				    cmd_doctor_check_new(d, label), D_FAIL,
				    buf_data(&a.errs), buf_data(&a.fixes));
			else if (a.nwarn)
				cmd_doctor_check_set(
				    cmd_doctor_check_new(d, label), D_WARN,
				    buf_data(&a.warns), NULL);
			else
				cmd_doctor_check_set(
				    cmd_doctor_check_new(d, label), D_OK, msg,
				    NULL);
		}
		buf_finish(&a.errs);
		buf_finish(&a.warns);
		buf_finish(&a.fixes);
	}
	if (found == 0)
		cmd_doctor_check_set(cmd_doctor_check_new(d, "ide"), D_SKIP,
		    "no IDE config starts mcp-bridge", NULL);
}

#define IDE_MAX_PATHS 64

/* Adds `p` (steals) unless NULL, already there, or the list is full. */
static void
path_add(char **own, size_t *n, char *p)
{
	for (size_t i = 0; p && i < *n; i++)
		if (strcmp(own[i], p) == 0) {
			free(p);
			return;
		}
	if (p && *n < IDE_MAX_PATHS)
		own[(*n)++] = p;
	else
		free(p);
}

/* The JSON config files the ide-configs/ data files describe. */
static void
paths_from_data(char **own, size_t *n)
{
	char err[512], *dir = idecfg_default_dir();
	struct idecfg_set *set =
	    dir ? idecfg_load(dir, err, sizeof(err)) : NULL;

	for (size_t i = 0; set && i < idecfg_count(set); i++) {
		const struct idecfg *c = idecfg_at(set, i);

		if (idecfg_format(c) != IDECFG_JSON)
			continue; /* TOML: not read by config validate yet */
		path_add(own, n, idecfg_user_path(c));
		path_add(own, n, idecfg_project_path(c, "."));
	}
	idecfg_set_free(&set);
	free(dir);
}

/*
 * The IDE config files to look at: those of ide-configs/ when its data
 * is there, and the well-known user- and project-level files.
 */
void
cmd_doctor_ide(struct doctor *d)
{
	static const char *const rel_home[] = {
		".cursor/mcp.json",
		".claude.json",
		".config/Claude/claude_desktop_config.json",
		"Library/Application Support/Claude/claude_desktop_config.json",
		".codeium/windsurf/mcp_config.json",
		".gemini/settings.json",
		".config/zed/settings.json",
		".config/Code/User/mcp.json",
		".config/Code/User/settings.json",
	};
	static const char *const project[] = { "./.mcp.json",
		"./.vscode/mcp.json", "./.cursor/mcp.json" };
	const char *home = getenv("HOME");
	char *own[IDE_MAX_PATHS];
	size_t n = 0;

	paths_from_data(own, &n);
	for (size_t i = 0;
	     home && *home == '/' && i < sizeof(rel_home) / sizeof(rel_home[0]);
	     i++)
		path_add(own, &n, x_asprintf("%s/%s", home, rel_home[i]));
	for (size_t i = 0; i < sizeof(project) / sizeof(project[0]); i++)
		path_add(own, &n, x_strdup(project[i]));
	check_ide_paths(d, (const char *const *)own, n);
	for (size_t i = 0; i < n; i++)
		free(own[i]);
}

/* SPDX-License-Identifier: ISC */
/*
 * cmd_ide: "mcp-bridge ide list|add|remove|print": puts an entry that
 * runs this binary (by absolute path, "run") into an IDE's MCP config,
 * or takes it out, using the client descriptions in ide-configs/.
 *
 * A config file is changed only after its whole text parsed: a malformed
 * file is reported with its line and column and left byte for byte as it
 * was. Before an existing file changes, its old text goes to FILE.bak;
 * both are written to a temporary file and renamed into place, and a
 * symlinked config (dotfile managers) is written through its link.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "idecfg.h"
#include "xmem.h"

#define CONFIG_MAX   (16u * 1024 * 1024)
#define DEFAULT_NAME "mcp-bridge"

struct ide_opts {
	const char *project; /* --project DIR, or NULL */
	const char *name;    /* --name, default "mcp-bridge" */
	int dry_run;
};

/* A config file as read: text (new), and what was there. */
struct cfgfile {
	char *path; /* where to write: the link's target if a symlink (new) */
	char *text; /* "" when missing */
	size_t len;
	int exists;
	mode_t mode;
};

static const char *const run_args[] = { "run" };

static int ide_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
ide_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mcp-bridge ide: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CMD_FAIL;
}

static void
ide_usage(FILE *f)
{
	fprintf(f,
	    "usage: mcp-bridge ide list [--project DIR]\n"
	    "       mcp-bridge ide add <client> [--project DIR] [--name NAME] "
	    "[--dry-run]\n"
	    "       mcp-bridge ide remove <client> [--project DIR] "
	    "[--name NAME] [--dry-run]\n"
	    "       mcp-bridge ide print <client> [--project DIR] "
	    "[--name NAME]\n\n"
	    "Adds an entry that runs this mcp-bridge (by absolute path, "
	    "with \"run\")\nto an IDE's MCP configuration, keeping every "
	    "other entry and comment;\nthe old file is kept as FILE.bak. "
	    "--project DIR edits the project's\nfile (e.g. DIR/.vscode/"
	    "mcp.json) instead of the user's. NAME defaults\nto "
	    "\"" DEFAULT_NAME "\". 'mcp-bridge ide list' shows the clients.\n"
	    "Exit: 0 done (or nothing to do), 1 failed (file left as it "
	    "was), 2 usage.\n");
}

static int
valid_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 64)
		return 0;
	return strspn(n,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789_.-") == len;
}

/* Options after the subcommand; sets *client for add/remove/print. */
static int
parse_opts(int argc, char **argv, int want_client, struct ide_opts *o,
    const char **client, int *help)
{
	static const struct option lo[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->name = DEFAULT_NAME;
	*help = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (ch == 'p')
			o->project = optarg;
		else if (ch == 'n')
			o->name = optarg;
		else if (ch == 'd')
			o->dry_run = 1;
		else if (ch == 'h') {
			*help = 1;
			return 0;
		} else
			return cmd_usage_error(
			    "ide", "bad option '%s'", argv[optind - 1]);
	}
	if (want_client && optind == argc)
		return cmd_usage_error("ide", "%s: which client?", argv[0]);
	if (want_client)
		*client = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(
		    "ide", "unexpected argument '%s'", argv[optind]);
	if (!valid_name(o->name))
		return cmd_usage_error("ide",
		    "--name: expected 1-64 letters, digits, '_', '.' or '-'");
	if (o->project && o->project[0] == '\0')
		return cmd_usage_error(
		    "ide", "--project: expected a directory");
	return 0;
}

static struct idecfg_set *
load_set(void)
{
	char *dir = idecfg_default_dir(), err[1024];
	struct idecfg_set *s;

	if (dir == NULL) {
		ide_err("cannot find the IDE descriptions (ide-configs/); "
		        "set MCP_BRIDGE_IDE_CONFIGS to that directory");
		return NULL;
	}
	if ((s = idecfg_load(dir, err, sizeof(err))) == NULL)
		ide_err("%s", err);
	free(dir);
	return s;
}

static int
unknown_client(const struct idecfg_set *s, const char *id)
{
	fprintf(stderr, "mcp-bridge ide: unknown client '%s'; one of:", id);
	for (size_t i = 0; i < idecfg_count(s); i++)
		fprintf(stderr, " %s", idecfg_id(idecfg_at(s, i)));
	fprintf(stderr, "\n");
	return CMD_USAGE;
}

/* The file to edit (new), or NULL after a message; *rc the exit code. */
static char *
target_path(const struct idecfg *c, const struct ide_opts *o, int *rc)
{
	char *p;

	if (o->project != NULL) {
		if ((p = idecfg_project_path(c, o->project)) == NULL)
			*rc = cmd_usage_error("ide",
			    "%s has no project-level config file",
			    idecfg_id(c));
		return p;
	}
	if ((p = idecfg_user_path(c)) == NULL)
		*rc = ide_err("%s: no user-level config file on %s (or HOME "
		              "is not set)",
		    idecfg_id(c), idecfg_os());
	return p;
}

static void
cfgfile_free(struct cfgfile *f)
{
	free(f->path);
	free(f->text);
	memset(f, 0, sizeof(*f));
}

/* Reads `path` into f; a missing file is empty. 0 or -1 (reported). */
static int
read_config(const char *path, struct cfgfile *f)
{
	struct stat st;
	FILE *fp;
	size_t n;

	memset(f, 0, sizeof(*f));
	if ((f->path = realpath(path, NULL)) == NULL) {
		if (errno != ENOENT || lstat(path, &st) == 0) {
			ide_err("%s: %s", path, strerror(errno));
			return -1;
		}
		f->path = x_strdup(path);
		f->text = x_strdup("");
		return 0;
	}
	if ((fp = fopen(f->path, "rb")) == NULL || fstat(fileno(fp), &st) ||
	    !S_ISREG(st.st_mode) || st.st_size > (off_t)CONFIG_MAX) {
		ide_err("%s: %s", path,
		    fp == NULL || errno
		        ? strerror(errno)
		        : "not a regular file of at most 16 MiB");
		if (fp)
			fclose(fp);
		return -1;
	}
	f->text = x_malloc((size_t)st.st_size + 1);
	n = fread(f->text, 1, (size_t)st.st_size, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {
		ide_err("%s: short read", path);
		return -1;
	}
	f->text[n] = '\0';
	f->len = n;
	f->exists = 1;
	f->mode = st.st_mode & 07777;
	return 0;
}

/* mkdir -p for the parent of `path` (0755 before the umask). */
static int
make_parent(const char *path)
{
	char *p = x_strdup(path), *s;
	int rc = 0;

	for (s = p + 1; (s = strchr(s, '/')) != NULL && rc == 0; s++) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

/* Replaces `path` with data: temporary file, fsync, rename. 0 or -1. */
static int
write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char *tmp = x_asprintf("%s.tmp.XXXXXX", path);
	int fd, rc = -1;
	size_t off = 0;
	ssize_t w;

	if ((fd = mkstemp(tmp)) == -1)
		goto out;
	while (off < len && (w = write(fd, data + off, len - off)) > 0)
		off += (size_t)w;
	if (off == len && fchmod(fd, mode) == 0 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, path);
	}
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

static int
save(const struct cfgfile *f, const char *text, size_t len)
{
	mode_t mask = umask(0), mode;
	char *bak;

	umask(mask);
	mode = f->exists ? f->mode : (0666 & ~mask);
	if (!f->exists && make_parent(f->path) == -1)
		return ide_err("%s: cannot create its directory: %s", f->path,
		    strerror(errno));
	if (f->exists) {
		bak = x_asprintf("%s.bak", f->path);
		if (write_atomic(bak, f->text, f->len, f->mode) == -1) {
			ide_err(
			    "%s: %s (nothing changed)", bak, strerror(errno));
			free(bak);
			return CMD_FAIL;
		}
		printf("backup: %s\n", bak);
		free(bak);
	}
	if (write_atomic(f->path, text, len, mode) == -1)
		return ide_err("%s: %s", f->path, strerror(errno));
	return CMD_OK;
}

static void
print_entry(const struct idecfg *c, const struct ide_opts *o, const char *exe)
{
	char *snip = idecfg_snippet(c, o->name, exe, run_args, 1);

	if (snip != NULL)
		fputs(snip, stdout);
	free(snip);
}

static const char *
change_word(enum idecfg_change ch, int dry)
{
	switch (ch) {
	case IDECFG_ADDED:
		return dry ? "would add" : "added";
	case IDECFG_UPDATED:
		return dry ? "would update" : "updated";
	case IDECFG_REMOVED:
		return dry ? "would remove" : "removed";
	default:
		return "";
	}
}

/* add (remove == 0) or remove, on the file of client c. */
static int
ide_edit(const struct idecfg *c, const struct ide_opts *o, int remove)
{
	struct cfgfile f = { 0 };
	char *path, *exe = NULL, *out = NULL, err[512];
	enum idecfg_change ch = IDECFG_SAME;
	size_t outlen = 0;
	int rc = CMD_FAIL, r;

	if ((path = target_path(c, o, &rc)) == NULL)
		return rc;
	if (!remove && (exe = idecfg_self_exe()) == NULL) {
		ide_err("cannot find the path of this executable");
		goto out;
	}
	if (read_config(path, &f) == -1)
		goto out;
	r = remove ? idecfg_remove(c, f.text, f.len, o->name, &out, &outlen,
	                 &ch, err, sizeof(err))
	           : idecfg_add(c, f.text, f.len, o->name, exe, run_args, 1,
	                 &out, &outlen, &ch, err, sizeof(err));
	if (r == -1) {
		ide_err("%s:%s (file left unchanged)", path, err);
		goto out;
	}
	rc = CMD_OK;
	if (ch == IDECFG_SAME || ch == IDECFG_ABSENT)
		printf("%s: '%s' is %s %s; nothing to do\n", idecfg_id(c),
		    o->name, ch == IDECFG_SAME ? "already in" : "not in", path);
	else if (o->dry_run) {
		printf("%s: %s '%s' %s %s (dry run, nothing written)\n",
		    idecfg_id(c), change_word(ch, 1), o->name,
		    remove ? "from" : "in", path);
		if (!remove)
			print_entry(c, o, exe);
	} else if ((rc = save(&f, out, outlen)) == CMD_OK) {
		printf("%s: %s '%s' %s %s\n", idecfg_id(c), change_word(ch, 0),
		    o->name, remove ? "from" : "in", path);
		if (!remove && o->project == NULL && idecfg_notes(c) != NULL)
			printf("note: %s\n", idecfg_notes(c));
	}
out:
	cfgfile_free(&f);
	free(out);
	free(exe);
	free(path);
	return rc;
}

static int
ide_print(const struct idecfg *c, const struct ide_opts *o)
{
	char *exe = idecfg_self_exe(), *path;
	int rc = CMD_FAIL;

	if (exe == NULL)
		return ide_err("cannot find the path of this executable");
	if ((path = target_path(c, o, &rc)) != NULL) {
		fprintf(stderr, "# %s: merge into %s (under \"%s\")\n",
		    idecfg_name(c), path, idecfg_key(c));
		print_entry(c, o, exe);
		rc = CMD_OK;
	}
	free(path);
	free(exe);
	return rc;
}

static void
add_name(const char *name, void *arg)
{
	struct cfgfile *names = arg; /* reuses text/len as a list */
	char *t = x_asprintf("%s%s%s", names->text ? names->text : "",
	    names->text ? ", " : "", name);

	free(names->text);
	names->text = t;
}

/* One line of `ide list`: the file and what it says about us. */
static void
list_file(const struct idecfg *c, const char *label, const char *path)
{
	struct cfgfile f, names = { 0 };
	char err[512];

	printf("  %-8s %s", label, path);
	if (read_config(path, &f) == -1)
		printf(" (unreadable)\n");
	else if (!f.exists)
		printf(" (no file)\n");
	else if (idecfg_mentions(c, f.text, f.len, "mcp-bridge", add_name,
	             &names, err, sizeof(err)) == -1)
		printf(" (malformed: %s)\n", err);
	else if (names.text != NULL)
		printf(" (mcp-bridge: %s)\n", names.text);
	else
		printf(" (no mcp-bridge entry)\n");
	free(names.text);
	cfgfile_free(&f);
}

static int
ide_list(const struct idecfg_set *s, const struct ide_opts *o)
{
	const char *dir = o->project ? o->project : ".";
	struct stat st;

	for (size_t i = 0; i < idecfg_count(s); i++) {
		const struct idecfg *c = idecfg_at(s, i);
		char *u = idecfg_user_path(c), *p = idecfg_project_path(c, dir);

		printf("%-15s %s%s\n", idecfg_id(c), idecfg_name(c),
		    idecfg_installed(c) ? " (installed)" : "");
		if (u != NULL)
			list_file(c, "user", u);
		if (p != NULL && (o->project != NULL || lstat(p, &st) == 0))
			list_file(c, "project", p);
		free(u);
		free(p);
	}
	return CMD_OK;
}

int
cmd_ide(int argc, char **argv)
{
	static const char *const subs[] = { "list", "add", "remove", "print" };
	const char *client = NULL;
	const struct idecfg *c = NULL;
	struct idecfg_set *s;
	struct ide_opts o;
	size_t k;
	int help, rc;

	if (argc < 2)
		return cmd_usage_error(
		    "ide", "missing subcommand (list, add, remove, print)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		ide_usage(stdout);
		return CMD_OK;
	}
	for (k = 0; k < 4 && strcmp(argv[1], subs[k]) != 0; k++)
		;
	if (k == 4)
		return cmd_usage_error(
		    "ide", "unknown subcommand '%s'", argv[1]);
	if ((rc = parse_opts(argc - 1, argv + 1, k != 0, &o, &client, &help)))
		return rc;
	if (help) {
		ide_usage(stdout);
		return CMD_OK;
	}
	if ((s = load_set()) == NULL)
		return CMD_FAIL;
	if (k != 0 && (c = idecfg_find(s, client)) == NULL)
		rc = unknown_client(s, client);
	else if (k == 0)
		rc = ide_list(s, &o);
	else if (k == 3)
		rc = ide_print(c, &o);
	else
		rc = ide_edit(c, &o, k == 2);
	idecfg_set_free(&s);
	return rc;
}

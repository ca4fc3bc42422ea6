/* SPDX-License-Identifier: ISC */
/*
 * tokstore_file: token sets in plain 0600 files, an explicit opt-in only.
 *
 * Files live in a 0700 directory, $XDG_STATE_HOME/mcp-bridge/ (default
 * ~/.local/state/mcp-bridge/), one per (issuer, profile), named from a
 * hash of the pair. A write goes to a new temp file (O_EXCL|O_NOFOLLOW),
 * is fsync'ed and renamed over the old one, then the directory is
 * fsync'ed: readers see the old blob or the new one, never a mix. Files or
 * directories that others could read, that another user owns, or that
 * are symlinks are refused. This is not encryption: it warns on open.
 */
#include "tokstore.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

/* Largest token file read back; a token set is a few KiB. */
#define FILE_MAX_BLOB (1024 * 1024)

struct fstore {
	char *dir;  /* .../mcp-bridge, no trailing slash (owned) */
	char *name; /* "file <dir>" (owned) */
};

static unsigned long tmp_seq; /* makes temp names unique in-process */

/* The base state directory: `o->state_dir`, $XDG_STATE_HOME or ~/... */
static char *
base_dir(const struct tokstore_opts *o, char *err, size_t errsz)
{
	const char *s = o->state_dir, *home;

	if (s == NULL || *s == '\0')
		s = getenv("XDG_STATE_HOME");
	if (s != NULL && *s == '/')
		return x_strdup(s);
	if ((home = getenv("HOME")) == NULL || *home != '/') {
		str_fmt(err, errsz, "file store: no $XDG_STATE_HOME or $HOME");
		return NULL;
	}
	return x_asprintf("%s/.local/state", home);
}

/*
 * Refuses a path whose stat `st` shows another owner or group/world
 * access. `what` is "file" or "directory"; `fix` the chmod mode.
 */
static int
check_mode(const char *path, const struct stat *st, const char *what,
    const char *fix, char *err, size_t errsz)
{
	if (st->st_uid != geteuid()) {
		str_fmt(err, errsz,
		    "token %s %s is owned by uid %ld, not %ld: "
		    "refusing it (remove it)",
		    what, path, (long)st->st_uid, (long)geteuid());
		return -1;
	}
	if ((st->st_mode & 077) != 0) {
		str_fmt(err, errsz,
		    "token %s %s is accessible by group or "
		    "others (mode %03o): refusing it (fix: chmod %s %s)",
		    what, path, (unsigned)(st->st_mode & 0777), fix, path);
		return -1;
	}
	return 0;
}

/* Checks the store directory: a real directory, ours, 0700. */
static int
check_dir(const char *dir, char *err, size_t errsz)
{
	struct stat st;

	if (lstat(dir, &st) == -1) {
		str_fmt(
		    err, errsz, "token directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		str_fmt(err, errsz,
		    "token directory %s is not a directory "
		    "(or is a symlink): refusing it",
		    dir);
		return -1;
	}
	return check_mode(dir, &st, "directory", "700", err, errsz);
}

/* Same as check_dir() but logs the reason; for get/put/del. */
static int
dir_ok(const struct fstore *f)
{
	char err[512];

	if (check_dir(f->dir, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* 64-bit FNV-1a over `s` and its NUL, continuing from `h`. */
/* The item's path (new): two differently seeded hashes of the pair. */
static char *
item_path(const struct fstore *f, const char *issuer, const char *profile)
{
	char id[33];

	str_pair_id(issuer, profile, id);
	return x_asprintf("%s/tokens-%s.bin", f->dir, id);
}

static void *
file_open(enum tokstore_kind k, const struct tokstore_opts *o, char *err,
    size_t errsz)
{
	struct fstore *f;
	char *base;

	if ((base = base_dir(o, err, errsz)) == NULL)
		return NULL;
	f = x_calloc(1, sizeof(*f));
	f->dir = x_asprintf("%s/mcp-bridge", base);
	free(base);
	if (fsx_mkdirs(f->dir) == -1) {
		str_fmt(err, errsz, "token directory %s: %s", f->dir,
		    strerror(errno));
		goto fail;
	}
	if (check_dir(f->dir, err, errsz) == -1)
		goto fail;
	f->name = x_asprintf("file %s", f->dir);
	log_warn("tokens are stored in a plain file under %s (not "
	         "encrypted; prefer the OS keyring)",
	    f->dir);
	return f;
fail:
	free(f->dir);
	free(f);
	return NULL;
}

/* Reads all of `fd` (at most FILE_MAX_BLOB) into a new secret. */
static int
read_blob(int fd, const char *path, size_t size, struct secret **out)
{
	char *buf;
	size_t got = 0;
	ssize_t n;
	int rc = -1;

	if (size > FILE_MAX_BLOB) {
		log_error("token file %s is too large (%zu bytes)", path, size);
		return -1;
	}
	buf = x_malloc(size + 1);
	while (got < size && (n = read(fd, buf + got, size - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_error(
			    "token file %s: read: %s", path, strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	*out = secret_new(buf, got);
	rc = 0;
out:
	secret_wipe(buf, size + 1);
	free(buf);
	return rc;
}

/* Opens and checks an item file: 0 with *fdp, 1 absent, -1 refused. */
static int
open_item(const char *path, int *fdp, struct stat *st)
{
	char err[512];
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		if (errno == ELOOP)
			log_error("token file %s is a symlink: refusing it "
			          "(remove it)",
			    path);
		else
			log_error("token file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		log_error(
		    "token file %s is not a regular file: refusing it", path);
		close(fd);
		return -1;
	}
	if (check_mode(path, st, "file", "600", err, sizeof(err)) == -1) {
		log_error("%s", err);
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

static int
file_get(void *be, const char *issuer, const char *profile, struct secret **out)
{
	struct fstore *f = be;
	struct stat st;
	char *path = NULL;
	int fd = -1, rc = -1;

	if (dir_ok(f) == -1)
		goto out;
	path = item_path(f, issuer, profile);
	if ((rc = open_item(path, &fd, &st)) != 0)
		goto out;
	rc = read_blob(fd, path, (size_t)st.st_size, out);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

/* Writes all `n` bytes, retrying short writes. 0 or -1 (errno set). */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsyncs the store directory so a rename or unlink is durable. */
static int
sync_dir(const struct fstore *f)
{
	int fd, rc = 0;

	if ((fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		log_error(
		    "token directory %s: fsync: %s", f->dir, strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/* Writes `blob` to the new file `tmp` (0600, O_EXCL) and fsyncs it. */
static int
write_tmp(const char *tmp, const struct secret *blob)
{
	int fd, rc = -1;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_error("token file %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, secret_data(blob), secret_len(blob)) == -1 ||
	    fsync(fd) == -1) {
		log_error("token file %s: write: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0) {
		log_error("token file %s: close: %s", tmp, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int
file_put(void *be, const char *issuer, const char *profile,
    const struct secret *blob)
{
	struct fstore *f = be;
	char *path = NULL, *tmp = NULL;
	int rc = -1;

	if (dir_ok(f) == -1)
		return -1;
	path = item_path(f, issuer, profile);
	tmp = x_asprintf("%s.tmp-%ld-%lu", path, (long)getpid(), ++tmp_seq);
	if (write_tmp(tmp, blob) == -1)
		goto out;
	if (rename(tmp, path) == -1) {
		log_error("token file %s: rename: %s", path, strerror(errno));
		goto out;
	}
	rc = sync_dir(f);
out:
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

static int
file_del(void *be, const char *issuer, const char *profile)
{
	struct fstore *f = be;
	char *path;
	int rc = 0;

	if (dir_ok(f) == -1)
		return -1;
	path = item_path(f, issuer, profile);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("token file %s: unlink: %s", path, strerror(errno));
		rc = -1;
	} else if (sync_dir(f) == -1)
		rc = -1;
	free(path);
	return rc;
}

static const char *
file_name(const void *be)
{
	const struct fstore *f = be;

	return f->name;
}

static void
file_close(void *be)
{
	struct fstore *f = be;

	free(f->dir);
	free(f->name);
	free(f);
}

const struct tokstore_ops tokstore_file_ops = {
	file_open,
	file_get,
	file_put,
	file_del,
	file_name,
	file_close,
};

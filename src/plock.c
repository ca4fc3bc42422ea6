/* SPDX-License-Identifier: ISC */
#include "plock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "xmem.h"

struct plock {
	int fd;     /* the lock file */
	int held;   /* we hold the lock */
	char *path; /* its path */
};

/* Creates `dir` 0700 if missing; checks owner and mode. 0 or -1. */
static int
safe_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return -1;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -1;
	return 0;
}

/* Creates every missing parent of `dir` (0700), then checks `dir`. */
static int
make_dirs(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return safe_dir(dir);
}

/* Picks the first usable directory into `out`. 0 or -1. */
static int
lock_dir(char *out, size_t outsz)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	const char *st = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (rt && rt[0] == '/' &&
	    str_fmt(out, outsz, "%s/mcp-bridge", rt) > 0 && make_dirs(out) == 0)
		return 0;
	if (st && st[0] == '/' &&
	    str_fmt(out, outsz, "%s/mcp-bridge/locks", st) > 0 &&
	    make_dirs(out) == 0)
		return 0;
	if (home && home[0] == '/' &&
	    str_fmt(out, outsz, "%s/.local/state/mcp-bridge/locks", home) > 0 &&
	    make_dirs(out) == 0)
		return 0;
	if (str_fmt(out, outsz, "/tmp/mcp-bridge-%u", (unsigned)geteuid()) >
	        0 &&
	    safe_dir(out) == 0)
		return 0;
	return -1;
}

struct plock *
plock_open(const char *name, char *err, size_t errsz)
{
	char dir[4096], path[4200];
	struct plock *p;
	int fd;

	if (strchr(name, '/') || lock_dir(dir, sizeof(dir)) == -1 ||
	    str_fmt(path, sizeof(path), "%s/%s", dir, name) < 0) {
		str_fmt(err, errsz, "no private directory for the lock file");
		return NULL;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		str_fmt(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	p = x_calloc(1, sizeof(*p));
	p->fd = fd;
	p->path = x_strdup(path);
	return p;
}

int
plock_try(struct plock *p)
{
	if (p->held)
		return 1;
	if (flock(p->fd, LOCK_EX | LOCK_NB) == 0) {
		p->held = 1;
		return 1;
	}
	if (errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	log_warn("lock %s: %s", p->path, strerror(errno));
	return -1;
}

void
plock_release(struct plock *p)
{
	if (p == NULL || !p->held)
		return;
	flock(p->fd, LOCK_UN);
	p->held = 0;
}

const char *
plock_path(const struct plock *p)
{
	return p->path;
}

void
plock_close(struct plock **pp)
{
	struct plock *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	plock_release(p);
	close(p->fd);
	free(p->path);
	free(p);
	*pp = NULL;
}

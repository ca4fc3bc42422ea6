/* SPDX-License-Identifier: ISC */
#include "fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmem.h"

int
fsx_mkdirs(const char *dir)
{
	char *p = x_strdup(dir);
	int rc = 0;

	for (char *c = p + 1; *c && rc == 0; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			rc = -1;
		*c = '/';
	}
	if (rc == 0 && mkdir(p, 0700) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fsx_write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = x_asprintf("%s.tmp%ld", path, (long)getpid());
	char *dir = x_strdup(path), *slash = strrchr(dir, '/');
	int fd = -1, rc = -1, saved;

	if (slash && slash != dir) {
		*slash = '\0';
		if (fsx_mkdirs(dir) == -1)
			goto out;
	}
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, data, len) == -1 || fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	rc = rename(tmp, path);
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	free(dir);
	errno = saved;
	return rc;
}

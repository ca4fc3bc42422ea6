/* SPDX-License-Identifier: ISC */
/*
 * fsx: the two file operations every state and cache file needs.
 */
#ifndef FSX_H
#define FSX_H

#include <stddef.h>

/* mkdir -p; what it creates gets mode 0700. 0, or -1 with errno. */
int fsx_mkdirs(const char *dir);

/*
 * Replaces `path` with [data, data+len): a 0600 temporary file next to
 * it (O_NOFOLLOW), fsync, rename. The parent directory is created (0700)
 * when missing. 0, or -1 with errno (the temporary file is removed).
 */
int fsx_write_atomic(const char *path, const char *data, size_t len);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * usage_int: what usage.c shares with usage_read.c (private to the
 * usage module).
 */
#ifndef USAGE_INT_H
#define USAGE_INT_H

#include <stddef.h>
#include <stdint.h>

/* a + b (b >= 0), saturated at USAGE_MAX_COUNT. */
int64_t usage_sat_add(int64_t a, int64_t b);

/*
 * 1 for a name kept as is: UTF-8, 1..USAGE_MAX_NAME bytes, no C0/C1
 * control characters (names reach a terminal in `status`).
 */
int usage_name_ok(const char *s, size_t n);

/*
 * The directory of the usage files into `out` ($XDG_RUNTIME_DIR/
 * mcp-bridge, else ${TMPDIR:-/tmp}/mcp-bridge-<uid>). 0/-1.
 */
int usage_dir(char *out, size_t outsz);

/*
 * 0 when `dir` is a directory of ours that others may not write to;
 * -1 with errno (ENOENT: missing; EACCES: someone else's or writable
 * by others).
 */
int usage_dir_ok(const char *dir);

#endif

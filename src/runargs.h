/* SPDX-License-Identifier: ISC */
/*
 * runargs: checks an argument vector of `mcp-bridge run` offline, the way
 * run parses it (getopt_long: "--opt value", "--opt=value", unambiguous
 * prefixes, -u/-H), for IDE entries that start the bridge. Values are
 * checked as run checks them (URL transport policy, seconds, log level,
 * header syntax with ${VAR} left unexpanded). Pure: no files are read.
 * Messages never contain a header value or a positional argument (either
 * may be a credential).
 */
#ifndef RUNARGS_H
#define RUNARGS_H

#include <stddef.h>

struct runargs {
	const char *url, *server; /* borrowed from argv, or NULL */
	const char *config;       /* --config FILE */
	const char *header_file;  /* --header-file FILE */
	const char *cacert;       /* --cacert FILE */
	const char *log_file;     /* --log-file FILE */
	size_t config_i, header_file_i, cacert_i; /* their argv indexes */
	int literal_auth; /* an Authorization --header without ${} */
	size_t literal_auth_i;
};

/*
 * Checks argv[0..argc) (argv[0] must be "run"). 0, or -1 with `*bad` the
 * index of the offending argument and a one-line reason in err.
 */
int runargs_check(size_t argc, char *const *argv, struct runargs *out,
    size_t *bad, char *err, size_t errsz);

#endif

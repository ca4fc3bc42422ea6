/* SPDX-License-Identifier: ISC */
/*
 * idecfg_int: one client's data, shared by idecfg.c (data files, paths)
 * and idecfg_edit.c (entries and edits). Private to the idecfg module.
 */
#ifndef IDECFG_INT_H
#define IDECFG_INT_H

#include <jansson.h>
#include <stddef.h>

#include "idecfg.h"
#include "jsoned.h"

struct idecfg {
	json_t *j;           /* the data file (owned) */
	const char *id;      /* borrowed from j */
	const char *name;    /* display name */
	const char *source;  /* the client's documentation */
	const char *key;     /* the member holding the servers */
	const char *project; /* relative project-level path, or NULL */
	const char *notes;   /* or NULL */
	enum idecfg_format format;
	struct jsoned_opts jo; /* comments and trailing commas */
};

#endif

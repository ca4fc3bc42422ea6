/* SPDX-License-Identifier: ISC */
/*
 * tokstore: where the user's OAuth token sets are kept between runs.
 *
 * One item per (issuer, profile) holds an opaque blob (the OAuth module's
 * JSON token set), so a rotation is one atomic replace. Backends sit
 * behind a small ops table chosen at build time (libsecret, Keychain) and
 * probed at run time by tokstore_open(). This module never falls back to
 * another store on its own: the caller decides, and says so.
 */
#ifndef TOKSTORE_H
#define TOKSTORE_H

#include <stddef.h>

struct secret;
struct tokstore;

enum tokstore_kind {
	TOKSTORE_KEYRING, /* OS keyring: Secret Service default / Keychain */
	TOKSTORE_SESSION, /* Secret Service session collection, not on disk */
	TOKSTORE_MEMORY,  /* this process only */
	TOKSTORE_FILE,    /* 0600 file, explicit opt-in only */
	TOKSTORE__MAX
};

struct tokstore_opts {
	const char *state_dir; /* file: replaces $XDG_STATE_HOME; NULL = XDG */
	int timeout_ms;        /* keyring calls; <= 0 = default (10 s) */
};

/* Parses "keyring", "session", "memory", "file"; 0 or -1. */
int tokstore_kind_parse(const char *name, enum tokstore_kind *out);

/*
 * Opens and probes a store. New, closed with tokstore_close(). On failure
 * returns NULL and writes a one-line reason into `err` (nothing logged).
 * `o` may be NULL (defaults); it is borrowed for the call only.
 */
struct tokstore *tokstore_open(enum tokstore_kind k,
    const struct tokstore_opts *o, char *err, size_t errsz);

/* 0 found (*out new, free with secret_free()), 1 no item, -1 error. */
int tokstore_get(struct tokstore *t, const char *issuer, const char *profile,
    struct secret **out);

/* Stores or atomically replaces the item; `blob` borrowed. 0 or -1. */
int tokstore_put(struct tokstore *t, const char *issuer, const char *profile,
    const struct secret *blob);

/* Removes the item; 0 also when there was none, -1 on error. */
int tokstore_del(struct tokstore *t, const char *issuer, const char *profile);

/* Human-readable store name, e.g. "memory"; borrowed from `t`. */
const char *tokstore_name(const struct tokstore *t);

/* Closes `*tp` and sets it to NULL; NULL is fine. */
void tokstore_close(struct tokstore **tp);

/*
 * Backend interface, for tokstore_*.c only. `open` returns the backend's
 * state (new) or NULL with a reason in `err`; the other calls get that
 * state back and have the same contracts as the public functions above.
 * Backends log their own failures once; open only fills `err`.
 */
struct tokstore_ops {
	void *(*open)(enum tokstore_kind k, const struct tokstore_opts *o,
	    char *err, size_t errsz);
	int (*get)(void *be, const char *issuer, const char *profile,
	    struct secret **out);
	int (*put)(void *be, const char *issuer, const char *profile,
	    const struct secret *blob);
	int (*del)(void *be, const char *issuer, const char *profile);
	const char *(*name)(const void *be); /* borrowed */
	void (*close)(void *be);             /* frees the state */
};

extern const struct tokstore_ops tokstore_mem_ops;      /* tokstore_mem.c */
extern const struct tokstore_ops tokstore_file_ops;     /* tokstore_file.c */
extern const struct tokstore_ops tokstore_secret_ops;   /* HAVE_LIBSECRET */
extern const struct tokstore_ops tokstore_keychain_ops; /* HAVE_KEYCHAIN */

/* Default timeout of one keyring call. */
#define TOKSTORE_TIMEOUT_MS (10 * 1000)

#endif

/* SPDX-License-Identifier: ISC */
#include "tokstore.h"

#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "xmem.h"

struct tokstore {
	const struct tokstore_ops *ops; /* the backend */
	void *be;                       /* its state (owned) */
};

static const char *const kind_names[TOKSTORE__MAX] = {
	"keyring", /* TOKSTORE_KEYRING */
	"session", /* TOKSTORE_SESSION */
	"memory",  /* TOKSTORE_MEMORY */
	"file",    /* TOKSTORE_FILE */
};

int
tokstore_kind_parse(const char *name, enum tokstore_kind *out)
{
	for (int i = 0; i < TOKSTORE__MAX; i++) {
		if (name != NULL && strcmp(name, kind_names[i]) == 0) {
			*out = (enum tokstore_kind)i;
			return 0;
		}
	}
	return -1;
}

/*
 * The backend for `k`, or NULL with a reason when it was not built in.
 * The keyring is Keychain on macOS builds, else the Secret Service.
 */
static const struct tokstore_ops *
pick(enum tokstore_kind k, char *err, size_t errsz)
{
	switch (k) {
	case TOKSTORE_MEMORY:
		return &tokstore_mem_ops;
	case TOKSTORE_FILE:
		return &tokstore_file_ops;
	case TOKSTORE_KEYRING:
#ifdef HAVE_KEYCHAIN
		return &tokstore_keychain_ops;
#endif
		/* FALLTHROUGH */
	case TOKSTORE_SESSION:
#ifdef HAVE_LIBSECRET
		return &tokstore_secret_ops;
#else
		str_fmt(err, errsz, "%s store: not built with %s support",
		    kind_names[k],
		    k == TOKSTORE_KEYRING ? "libsecret/Keychain" : "libsecret");
		return NULL;
#endif
	default:
		str_fmt(err, errsz, "unknown token store kind %d", (int)k);
		return NULL;
	}
}

struct tokstore *
tokstore_open(enum tokstore_kind k, const struct tokstore_opts *o, char *err,
    size_t errsz)
{
	const struct tokstore_ops *ops;
	struct tokstore_opts def = { NULL, TOKSTORE_TIMEOUT_MS };
	struct tokstore *t;
	void *be;

	if (o != NULL)
		def = *o;
	if (def.timeout_ms <= 0)
		def.timeout_ms = TOKSTORE_TIMEOUT_MS;
	if ((ops = pick(k, err, errsz)) == NULL)
		return NULL;
	if ((be = ops->open(k, &def, err, errsz)) == NULL)
		return NULL;
	t = x_calloc(1, sizeof(*t));
	t->ops = ops;
	t->be = be;
	return t;
}

int
tokstore_get(struct tokstore *t, const char *issuer, const char *profile,
    struct secret **out)
{
	*out = NULL;
	return t->ops->get(t->be, issuer, profile, out);
}

int
tokstore_put(struct tokstore *t, const char *issuer, const char *profile,
    const struct secret *blob)
{
	return t->ops->put(t->be, issuer, profile, blob);
}

int
tokstore_del(struct tokstore *t, const char *issuer, const char *profile)
{
	return t->ops->del(t->be, issuer, profile);
}

const char *
tokstore_name(const struct tokstore *t)
{
	return t->ops->name(t->be);
}

void
tokstore_close(struct tokstore **tp)
{
	struct tokstore *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	t->ops->close(t->be);
	free(t);
	*tp = NULL;
}

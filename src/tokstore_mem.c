/* SPDX-License-Identifier: ISC */
/*
 * tokstore_mem: token sets kept in this process only, a small list.
 *
 * The fallback when there is no keyring: nothing survives the process,
 * and every blob is a struct secret, so it is wiped when replaced.
 */
#include "tokstore.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "xmem.h"

struct item {
	struct item *next;   /* list link */
	char *issuer;        /* key part (owned) */
	char *profile;       /* key part (owned) */
	struct secret *blob; /* value (owned) */
};

struct mem {
	struct item *head; /* all items */
};

static void *
mem_open(enum tokstore_kind k, const struct tokstore_opts *o, char *err,
    size_t errsz)
{
	return x_calloc(1, sizeof(struct mem));
}

/* The link that points at the item for the key (or at the NULL end). */
static struct item **
find(struct mem *m, const char *issuer, const char *profile)
{
	struct item **ip;

	for (ip = &m->head; *ip != NULL; ip = &(*ip)->next) {
		if (strcmp((*ip)->issuer, issuer) == 0 &&
		    strcmp((*ip)->profile, profile) == 0)
			break;
	}
	return ip;
}

static int
mem_get(void *be, const char *issuer, const char *profile, struct secret **out)
{
	struct item *it = *find(be, issuer, profile);

	if (it == NULL)
		return 1;
	*out = secret_new(secret_data(it->blob), secret_len(it->blob));
	return 0;
}

static int
mem_put(void *be, const char *issuer, const char *profile,
    const struct secret *blob)
{
	struct item **ip = find(be, issuer, profile);
	struct secret *copy = secret_new(secret_data(blob), secret_len(blob));

	if (*ip == NULL) {
		*ip = x_calloc(1, sizeof(**ip));
		(*ip)->issuer = x_strdup(issuer);
		(*ip)->profile = x_strdup(profile);
	}
	secret_free(&(*ip)->blob);
	(*ip)->blob = copy;
	return 0;
}

static void
item_free(struct item *it)
{
	secret_free(&it->blob);
	free(it->issuer);
	free(it->profile);
	free(it);
}

static int
mem_del(void *be, const char *issuer, const char *profile)
{
	struct item **ip = find(be, issuer, profile);
	struct item *it = *ip;

	if (it != NULL) {
		*ip = it->next;
		item_free(it);
	}
	return 0;
}

static const char *
mem_name(const void *be)
{
	return "memory";
}

static void
mem_close(void *be)
{
	struct mem *m = be;
	struct item *it, *next;

	for (it = m->head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	free(m);
}

const struct tokstore_ops tokstore_mem_ops = {
	mem_open,
	mem_get,
	mem_put,
	mem_del,
	mem_name,
	mem_close,
};

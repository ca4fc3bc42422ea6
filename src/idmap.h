/* SPDX-License-Identifier: ISC */
/*
 * idmap: the id tables of the relay (pure).
 *
 * The bridge gives every request it forwards a fresh integer id in the
 * receiver's id space (IDE -> hosted server, and hosted server -> IDE) and
 * keeps what it needs to map the answer back in an entry stored here.
 * This is an open-addressing hash map from int64 keys to borrowed
 * pointers; the caller owns the entries.
 */
#ifndef IDMAP_H
#define IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap;

struct idmap *idmap_new(void);

/* Frees the table (not the values); sets *mp to NULL; NULL is fine. */
void idmap_free(struct idmap **mp);

/* Adds key -> val (val not NULL). Returns 0, or -1 if key is present. */
int idmap_put(struct idmap *m, int64_t key, void *val);

/* Borrowed value for key, or NULL. */
void *idmap_get(const struct idmap *m, int64_t key);

/* Removes key; returns its value (now the caller's) or NULL. */
void *idmap_del(struct idmap *m, int64_t key);

size_t idmap_count(const struct idmap *m);

/*
 * Iterates: start with *pos = 0; returns 1 and sets key/val while there
 * are entries, 0 at the end. The table must not change while iterating
 * (collect the keys first, then delete).
 */
int idmap_next(const struct idmap *m, size_t *pos, int64_t *key, void **val);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * idmap: linear probing with backward-shift deletion (no tombstones), so
 * lookups stay short however many requests come and go.
 */
#include "idmap.h"

#include <stdlib.h>

#include "xmem.h"

struct slot {
	int64_t key; /* valid when val != NULL */
	void *val;   /* NULL = empty */
};

struct idmap {
	struct slot *slots; /* power-of-two sized */
	size_t cap;         /* slots */
	size_t n;           /* used */
};

static size_t
hash(int64_t key, size_t cap)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 17) & (cap - 1);
}

struct idmap *
idmap_new(void)
{
	struct idmap *m = x_calloc(1, sizeof(*m));

	m->cap = 64;
	m->slots = x_calloc(m->cap, sizeof(*m->slots));
	return m;
}

void
idmap_free(struct idmap **mp)
{
	if (mp == NULL || *mp == NULL)
		return;
	free((*mp)->slots);
	free(*mp);
	*mp = NULL;
}

static void
insert(struct slot *slots, size_t cap, int64_t key, void *val)
{
	size_t i = hash(key, cap);

	while (slots[i].val != NULL)
		i = (i + 1) & (cap - 1);
	slots[i].key = key;
	slots[i].val = val;
}

static void
grow(struct idmap *m)
{
	size_t cap = m->cap * 2;
	struct slot *slots = x_calloc(cap, sizeof(*slots));

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].val != NULL)
			insert(slots, cap, m->slots[i].key, m->slots[i].val);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
}

static size_t
find(const struct idmap *m, int64_t key)
{
	size_t i = hash(key, m->cap);

	while (m->slots[i].val != NULL) {
		if (m->slots[i].key == key)
			return i;
		i = (i + 1) & (m->cap - 1);
	}
	return (size_t)-1;
}

int
idmap_put(struct idmap *m, int64_t key, void *val)
{
	if (val == NULL || find(m, key) != (size_t)-1)
		return -1;
	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	insert(m->slots, m->cap, key, val);
	m->n++;
	return 0;
}

void *
idmap_get(const struct idmap *m, int64_t key)
{
	size_t i = find(m, key);

	return i == (size_t)-1 ? NULL : m->slots[i].val;
}

void *
idmap_del(struct idmap *m, int64_t key)
{
	size_t i = find(m, key), j, home;
	void *val;

	if (i == (size_t)-1)
		return NULL;
	val = m->slots[i].val;
	m->slots[i].val = NULL;
	m->n--;
	/* Shift back any entry that probed past the freed slot. */
	for (j = (i + 1) & (m->cap - 1); m->slots[j].val != NULL;
	     j = (j + 1) & (m->cap - 1)) {
		home = hash(m->slots[j].key, m->cap);
		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->slots[i] = m->slots[j];
			m->slots[j].val = NULL;
			i = j;
		}
	}
	return val;
}

size_t
idmap_count(const struct idmap *m)
{
	return m->n;
}

int
idmap_next(const struct idmap *m, size_t *pos, int64_t *key, void **val)
{
	while (*pos < m->cap) {
		const struct slot *s = &m->slots[(*pos)++];

		if (s->val != NULL) {
			*key = s->key;
			*val = s->val;
			return 1;
		}
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

/* Values are addresses inside this array: never NULL, easy to check. */
static char vals[1 << 17];

#define V(i) ((void *)&vals[(size_t)(i) % sizeof(vals)])

Test(idmap, new_free_empty)
{
	struct idmap *m = idmap_new();
	size_t pos = 0;
	int64_t k;
	void *v;

	cr_assert_not_null(m);
	cr_expect_eq(idmap_count(m), 0);
	cr_expect_null(idmap_get(m, 0));
	cr_expect_null(idmap_get(m, -1));
	cr_expect_null(idmap_del(m, 0));
	cr_expect_eq(idmap_next(m, &pos, &k, &v), 0);
	cr_expect_eq(idmap_next(m, &pos, &k, &v), 0);
	idmap_free(&m);
	cr_assert_null(m);
	idmap_free(&m);
	idmap_free(NULL);
}

Test(idmap, put_get_del)
{
	struct idmap *m = idmap_new();

	cr_assert_eq(idmap_put(m, 1, V(1)), 0);
	cr_assert_eq(idmap_put(m, 2, V(2)), 0);
	cr_expect_eq(idmap_count(m), 2);
	cr_expect_eq(idmap_get(m, 1), V(1));
	cr_expect_eq(idmap_get(m, 2), V(2));
	cr_expect_null(idmap_get(m, 3));
	cr_expect_eq(idmap_del(m, 1), V(1));
	cr_expect_null(idmap_get(m, 1));
	cr_expect_null(idmap_del(m, 1));
	cr_expect_eq(idmap_get(m, 2), V(2));
	cr_expect_eq(idmap_count(m), 1);
	/* A deleted key can be added again, with a new value. */
	cr_assert_eq(idmap_put(m, 1, V(11)), 0);
	cr_expect_eq(idmap_get(m, 1), V(11));
	cr_expect_eq(idmap_count(m), 2);
	idmap_free(&m);
}

Test(idmap, duplicate_and_null_refused)
{
	struct idmap *m = idmap_new();

	cr_assert_eq(idmap_put(m, 7, V(7)), 0);
	cr_expect_eq(idmap_put(m, 7, V(8)), -1);
	cr_expect_eq(idmap_put(m, 7, V(7)), -1);
	cr_expect_eq(idmap_get(m, 7), V(7), "the first value is kept");
	cr_expect_eq(idmap_count(m), 1);
	cr_expect_eq(idmap_put(m, 8, NULL), -1);
	cr_expect_null(idmap_get(m, 8));
	cr_expect_eq(idmap_put(m, 7, NULL), -1);
	cr_expect_eq(idmap_get(m, 7), V(7));
	cr_expect_eq(idmap_count(m), 1);
	idmap_free(&m);
}

Test(idmap, negative_and_huge_keys)
{
	static const int64_t keys[] = {
		0,
		-1,
		1,
		INT64_MAX,
		INT64_MIN,
		INT64_MAX - 1,
		INT64_MIN + 1,
		(int64_t)1 << 32,
		-((int64_t)1 << 32),
		(int64_t)1 << 62,
		INT32_MAX,
		INT32_MIN,
		(int64_t)INT32_MAX + 1,
		0x7fffffff00000000,
		-0x7fffffff00000000,
		64,
		128,
		1 << 17,
		(int64_t)1 << 47,
	};
	size_t nk = sizeof(keys) / sizeof(*keys);
	struct idmap *m = idmap_new();

	for (size_t i = 0; i < nk; i++)
		cr_assert_eq(idmap_put(m, keys[i], V(i + 1)), 0, "key %lld",
		    (long long)keys[i]);
	cr_expect_eq(idmap_count(m), nk);
	for (size_t i = 0; i < nk; i++) {
		cr_expect_eq(idmap_get(m, keys[i]), V(i + 1), "key %lld",
		    (long long)keys[i]);
		cr_expect_eq(idmap_put(m, keys[i], V(0)), -1);
	}
	cr_expect_null(idmap_get(m, 2));
	cr_expect_null(idmap_get(m, INT64_MAX - 2));
	for (size_t i = 0; i < nk; i += 2)
		cr_expect_eq(idmap_del(m, keys[i]), V(i + 1));
	for (size_t i = 0; i < nk; i++)
		cr_expect_eq(idmap_get(m, keys[i]), i % 2 ? V(i + 1) : NULL,
		    "key %lld", (long long)keys[i]);
	idmap_free(&m);
}

/* Keys that are all equal modulo the table size collide in the hash. */
Test(idmap, many_collisions)
{
	struct idmap *m = idmap_new();

	for (int64_t i = 0; i < 5000; i++)
		cr_assert_eq(idmap_put(m, i << 40, V(i + 1)), 0);
	for (int64_t i = 0; i < 5000; i++)
		cr_assert_eq(idmap_get(m, i << 40), V(i + 1));
	for (int64_t i = 0; i < 5000; i += 3)
		cr_assert_eq(idmap_del(m, i << 40), V(i + 1));
	for (int64_t i = 0; i < 5000; i++)
		cr_assert_eq(idmap_get(m, i << 40), i % 3 ? V(i + 1) : NULL,
		    "i %lld", (long long)i);
	idmap_free(&m);
}

Test(idmap, growth_past_thousands)
{
	struct idmap *m = idmap_new();
	const int64_t n = 50000;

	for (int64_t i = 0; i < n; i++) {
		cr_assert_eq(idmap_put(m, i * 7 - 1000, V(i + 1)), 0);
		cr_assert_eq(idmap_count(m), (size_t)i + 1);
		/* Lookups work at every size the table passes through. */
		if ((i & (i + 1)) == 0)
			for (int64_t j = 0; j <= i; j++)
				cr_assert_eq(
				    idmap_get(m, j * 7 - 1000), V(j + 1));
	}
	for (int64_t i = 0; i < n; i++)
		cr_assert_eq(idmap_get(m, i * 7 - 1000), V(i + 1));
	cr_expect_null(idmap_get(m, -1001));
	cr_expect_null(idmap_get(m, n * 7 - 1000));
	for (int64_t i = 0; i < n; i++)
		cr_assert_eq(idmap_del(m, i * 7 - 1000), V(i + 1));
	cr_expect_eq(idmap_count(m), 0);
	for (int64_t i = 0; i < n; i += 97)
		cr_assert_null(idmap_get(m, i * 7 - 1000));
	/* The emptied table still works. */
	cr_assert_eq(idmap_put(m, 5, V(5)), 0);
	cr_expect_eq(idmap_get(m, 5), V(5));
	idmap_free(&m);
}

/* Reference: a plain array of keys with a presence flag. */
#define REF_KEYS 2048

struct ref_ix {
	int64_t key;
	size_t i; /* slot in ref.key */
};

struct ref {
	int64_t key[REF_KEYS];
	void *val[REF_KEYS];            /* NULL: absent */
	size_t n;                       /* present keys */
	struct ref_ix sorted[REF_KEYS]; /* by key, for bsearch */
};

static int
cmp_key(const void *a, const void *b)
{
	int64_t x = ((const struct ref_ix *)a)->key;
	int64_t y = ((const struct ref_ix *)b)->key;

	return x < y ? -1 : x > y;
}

/* Index of `k` in r->key, or REF_KEYS. */
static size_t
ref_find(const struct ref *r, int64_t k)
{
	struct ref_ix want = { k, 0 };
	const struct ref_ix *p =
	    bsearch(&want, r->sorted, REF_KEYS, sizeof(*r->sorted), cmp_key);

	return p == NULL ? REF_KEYS : p->i;
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Checks that the map holds exactly what the reference holds. */
static void
check_same(const struct idmap *m, const struct ref *r)
{
	unsigned char seen[REF_KEYS];
	size_t pos = 0, visits = 0;
	int64_t k;
	void *v;

	cr_assert_eq(idmap_count(m), r->n);
	for (size_t i = 0; i < REF_KEYS; i++)
		cr_assert_eq(idmap_get(m, r->key[i]), r->val[i], "key %lld",
		    (long long)r->key[i]);
	memset(seen, 0, sizeof(seen));
	while (idmap_next(m, &pos, &k, &v)) {
		size_t i = ref_find(r, k);

		cr_assert_lt(i, REF_KEYS, "unknown key %lld", (long long)k);
		cr_assert_eq(v, r->val[i]);
		cr_assert_not_null(v);
		cr_assert_eq(
		    seen[i], 0, "key %lld visited twice", (long long)k);
		seen[i] = 1;
		visits++;
	}
	cr_assert_eq(visits, r->n);
}

static void
random_ops(uint64_t seed, int ops, int64_t (*keygen)(size_t i))
{
	static struct ref r;
	struct idmap *m = idmap_new();

	rng_state = seed;
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < REF_KEYS; i++)
		r.key[i] = keygen(i);
	for (size_t i = 0; i < REF_KEYS; i++) {
		r.sorted[i].key = r.key[i];
		r.sorted[i].i = i;
	}
	qsort(r.sorted, REF_KEYS, sizeof(*r.sorted), cmp_key);
	for (size_t i = 1; i < REF_KEYS; i++)
		cr_assert_neq(
		    r.sorted[i - 1].key, r.sorted[i].key, "distinct keys");
	for (int op = 0; op < ops; op++) {
		size_t i = rng() % REF_KEYS;
		int64_t k = r.key[i];
		void *v = V(rng());

		switch (rng() % 8) {
		case 0:
		case 1:
		case 2: /* put */
			if (r.val[i] == NULL) {
				cr_assert_eq(idmap_put(m, k, v), 0);
				r.val[i] = v;
				r.n++;
			} else {
				cr_assert_eq(idmap_put(m, k, v), -1);
			}
			break;
		case 3:
		case 4: /* del */
			cr_assert_eq(idmap_del(m, k), r.val[i], "op %d", op);
			if (r.val[i] != NULL)
				r.n--;
			r.val[i] = NULL;
			break;
		default: /* get */
			cr_assert_eq(idmap_get(m, k), r.val[i], "op %d", op);
			break;
		}
		cr_assert_eq(idmap_count(m), r.n, "op %d", op);
		if (op % 5000 == 0)
			check_same(m, &r);
	}
	check_same(m, &r);
	/* Empty it in key order and check at every step for a while. */
	for (size_t i = 0; i < REF_KEYS; i++) {
		cr_assert_eq(idmap_del(m, r.key[i]), r.val[i]);
		if (r.val[i] != NULL)
			r.n--;
		r.val[i] = NULL;
		if (i < 64 || i % 256 == 0)
			check_same(m, &r);
	}
	cr_assert_eq(idmap_count(m), 0);
	idmap_free(&m);
}

static int64_t
key_dense(size_t i)
{
	return (int64_t)i - REF_KEYS / 2;
}

static int64_t
key_spread(size_t i)
{
	/* Distinct: odd multiplier, then a fixed xor. */
	return (int64_t)(((uint64_t)i * 0x9e3779b97f4a7c15ull) ^
	    0x5555555555555555ull);
}

static int64_t
key_strided(size_t i)
{
	/* Many share low bits: stresses probing and backward shifts. */
	return (int64_t)i << 20;
}

Test(idmap, randomised_dense)
{
	random_ops(12345, 100000, key_dense);
}

Test(idmap, randomised_spread)
{
	random_ops(0xdeadbeef, 100000, key_spread);
}

Test(idmap, randomised_strided)
{
	random_ops(42, 100000, key_strided);
}

Test(idmap, next_visits_each_once)
{
	struct idmap *m = idmap_new();
	static unsigned char seen[3000];
	size_t pos = 0, visits = 0;
	int64_t k;
	void *v;

	for (int64_t i = 0; i < 3000; i++)
		cr_assert_eq(idmap_put(m, i * 1000003 - 77, V(i + 1)), 0);
	for (int64_t i = 0; i < 3000; i += 2)
		cr_assert_not_null(idmap_del(m, i * 1000003 - 77));
	while (idmap_next(m, &pos, &k, &v)) {
		int64_t i = (k + 77) / 1000003;

		cr_assert_eq((k + 77) % 1000003, 0);
		cr_assert(
		    i >= 0 && i < 3000 && i % 2 == 1, "key %lld", (long long)k);
		cr_assert_eq(v, V(i + 1));
		cr_assert_eq(seen[i], 0);
		seen[i] = 1;
		visits++;
	}
	cr_expect_eq(visits, 1500);
	cr_expect_eq(idmap_next(m, &pos, &k, &v), 0, "stays at the end");

	/* Collect, then delete: the documented way to empty the table. */
	{
		int64_t *keys = malloc(idmap_count(m) * sizeof(*keys));
		size_t nk = 0;

		cr_assert_not_null(keys);
		pos = 0;
		while (idmap_next(m, &pos, &k, &v))
			keys[nk++] = k;
		cr_assert_eq(nk, 1500);
		for (size_t i = 0; i < nk; i++)
			cr_assert_not_null(idmap_del(m, keys[i]));
		free(keys);
	}
	cr_expect_eq(idmap_count(m), 0);
	pos = 0;
	cr_expect_eq(idmap_next(m, &pos, &k, &v), 0);
	idmap_free(&m);
}

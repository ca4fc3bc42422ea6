/* SPDX-License-Identifier: ISC */
/*
 * tokstore-check: drives the Secret Service token store for keyring.sh.
 *
 * usage: tokstore-check roundtrip keyring|session
 *        tokstore-check timeout TIMEOUT_MS   (keyring must not answer)
 * Prints one "ok"/"FAIL" line per check; exits 0 only if all passed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "secret.h"
#include "tokstore.h"

static int failed;

static void
check(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok" : "FAIL", what);
	if (!cond)
		failed = 1;
}

/* 1 if the item holds exactly `n` bytes of `p`. */
static int
holds(struct tokstore *t, const char *iss, const char *prof, const char *p,
    size_t n)
{
	struct secret *s = NULL;
	int ok;

	ok = tokstore_get(t, iss, prof, &s) == 0 && secret_len(s) == n &&
	    memcmp(secret_data(s), p, n) == 0;
	secret_free(&s);
	return ok;
}

static int
roundtrip(const char *kind)
{
	struct tokstore_opts o = { NULL, 5000 };
	enum tokstore_kind k;
	struct tokstore *t;
	struct secret *a = secret_new("{\"refresh\":\"r1\"}\0x", 18);
	struct secret *b = secret_new("{\"refresh\":\"r2\"}", 16), *s = NULL;
	char err[256] = "";
	const char *iss = "https://id.example.com";

	check(tokstore_kind_parse(kind, &k) == 0, "kind parses");
	t = tokstore_open(k, &o, err, sizeof(err));
	check(t != NULL, "open");
	if (t == NULL) {
		printf("# %s\n", err);
		goto out;
	}
	printf("# store: %s\n", tokstore_name(t));
	check(tokstore_del(t, iss, "alice") == 0, "del absent");
	check(tokstore_get(t, iss, "alice", &s) == 1, "get absent -> 1");
	check(tokstore_put(t, iss, "alice", a) == 0, "put");
	check(holds(t, iss, "alice", secret_data(a), 18), "get (NUL kept)");
	check(tokstore_get(t, iss, "bob", &s) == 1, "other profile apart");
	check(tokstore_put(t, iss, "alice", b) == 0, "replace");
	check(holds(t, iss, "alice", secret_data(b), 16), "get replaced");
	check(tokstore_del(t, iss, "alice") == 0, "del");
	check(tokstore_get(t, iss, "alice", &s) == 1, "get after del -> 1");
	tokstore_close(&t);
out:
	secret_free(&a);
	secret_free(&b);
	secret_free(&s);
	return failed;
}

static int
timeout(const char *ms)
{
	struct tokstore_opts o = { NULL, 0 };
	struct timespec t0, t1;
	struct tokstore *t;
	char err[256] = "";
	long el;

	sscanf(ms, "%d", &o.timeout_ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = tokstore_open(TOKSTORE_KEYRING, &o, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	check(t == NULL, "open fails when the keyring does not answer");
	printf("# %ld ms: %s\n", el, err);
	check(el < o.timeout_ms + 2000, "fails within the timeout");
	check(err[0] != '\0', "with a reason");
	tokstore_close(&t);
	return failed;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "roundtrip") == 0)
		return roundtrip(argv[2]);
	if (argc == 3 && strcmp(argv[1], "timeout") == 0)
		return timeout(argv[2]);
	fprintf(stderr,
	    "usage: tokstore-check roundtrip KIND | "
	    "timeout MS\n");
	return 2;
}

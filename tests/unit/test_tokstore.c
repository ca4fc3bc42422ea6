/* SPDX-License-Identifier: ISC */
/* tokstore: memory and file backends (the keyring has keyring.sh). */
#include <criterion/criterion.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "tokstore.h"

#define ISS "https://id.example.com"

static char tmpdir[64];
static char dir[128]; /* tmpdir/mcp-bridge */

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tokstore-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	setenv("XDG_STATE_HOME", tmpdir, 1);
	snprintf(dir, sizeof(dir), "%s/mcp-bridge", tmpdir);
}

static void
teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static struct tokstore *
open_kind(enum tokstore_kind k)
{
	char err[256] = "";
	struct tokstore *t = tokstore_open(k, NULL, err, sizeof(err));

	cr_assert_not_null(t, "open: %s", err);
	return t;
}

/* Expects the item to hold exactly `n` bytes of `p`. */
static void
expect_blob(struct tokstore *t, const char *iss, const char *prof,
    const char *p, size_t n)
{
	struct secret *s = NULL;

	cr_assert_eq(tokstore_get(t, iss, prof, &s), 0);
	cr_expect_eq(secret_len(s), n);
	cr_expect_eq(memcmp(secret_data(s), p, n), 0);
	secret_free(&s);
	cr_expect_null(s);
}

/* The one token file in `dir` (full path into `out`); count returned. */
static int
token_files(char *out, size_t outsz)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		snprintf(out, outsz, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/* Put, get, replace, del, absent; shared by both backends. */
static void
roundtrip(struct tokstore *t)
{
	struct secret *a = secret_new("{\"refresh\":\"r1\"}", 16);
	struct secret *b = secret_new("x\0y\0z", 5), *s = NULL;

	cr_expect_eq(tokstore_get(t, ISS, "alice", &s), 1);
	cr_expect_null(s);
	cr_expect_eq(tokstore_del(t, ISS, "alice"), 0);
	cr_expect_eq(tokstore_put(t, ISS, "alice", a), 0);
	expect_blob(t, ISS, "alice", "{\"refresh\":\"r1\"}", 16);
	cr_expect_eq(tokstore_put(t, ISS, "alice", b), 0);
	expect_blob(t, ISS, "alice", "x\0y\0z", 5);
	cr_expect_eq(tokstore_del(t, ISS, "alice"), 0);
	cr_expect_eq(tokstore_get(t, ISS, "alice", &s), 1);
	cr_expect_eq(tokstore_del(t, ISS, "alice"), 0);
	secret_free(&a);
	secret_free(&b);
}

/* Different (issuer, profile) pairs are separate items. */
static void
separate(struct tokstore *t)
{
	struct secret *a = secret_new("A", 1), *b = secret_new("B", 1);
	struct secret *c = secret_new("C", 1), *s = NULL;

	cr_expect_eq(tokstore_put(t, ISS, "alice", a), 0);
	cr_expect_eq(tokstore_put(t, ISS, "bob", b), 0);
	cr_expect_eq(tokstore_put(t, "https://other", "alice", c), 0);
	expect_blob(t, ISS, "alice", "A", 1);
	expect_blob(t, ISS, "bob", "B", 1);
	expect_blob(t, "https://other", "alice", "C", 1);
	cr_expect_eq(tokstore_get(t, "https://other", "bob", &s), 1);
	cr_expect_eq(tokstore_del(t, ISS, "bob"), 0);
	expect_blob(t, ISS, "alice", "A", 1);
	secret_free(&a);
	secret_free(&b);
	secret_free(&c);
}

Test(tokstore, kind_parse)
{
	enum tokstore_kind k;

	cr_expect_eq(tokstore_kind_parse("keyring", &k), 0);
	cr_expect_eq(k, TOKSTORE_KEYRING);
	cr_expect_eq(tokstore_kind_parse("session", &k), 0);
	cr_expect_eq(k, TOKSTORE_SESSION);
	cr_expect_eq(tokstore_kind_parse("memory", &k), 0);
	cr_expect_eq(k, TOKSTORE_MEMORY);
	cr_expect_eq(tokstore_kind_parse("file", &k), 0);
	cr_expect_eq(k, TOKSTORE_FILE);
	cr_expect_eq(tokstore_kind_parse("File", &k), -1);
	cr_expect_eq(tokstore_kind_parse("", &k), -1);
	cr_expect_eq(tokstore_kind_parse(NULL, &k), -1);
}

Test(tokstore, memory)
{
	struct tokstore *t = open_kind(TOKSTORE_MEMORY);

	cr_expect_str_eq(tokstore_name(t), "memory");
	roundtrip(t);
	separate(t);
	tokstore_close(&t);
	cr_expect_null(t);
	tokstore_close(&t);
	tokstore_close(NULL);
}

Test(tokstore, file_roundtrip, .init = setup, .fini = teardown)
{
	struct tokstore *t = open_kind(TOKSTORE_FILE);

	cr_expect_not_null(strstr(tokstore_name(t), dir));
	roundtrip(t);
	separate(t);
	tokstore_close(&t);
}

Test(tokstore, file_state_dir_opt, .init = setup, .fini = teardown)
{
	char base[160], err[256] = "";
	struct tokstore_opts o = { base, 0 };
	struct tokstore *t;
	struct stat st;

	snprintf(base, sizeof(base), "%s/a/b", tmpdir);
	t = tokstore_open(TOKSTORE_FILE, &o, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	snprintf(base, sizeof(base), "%s/a/b/mcp-bridge", tmpdir);
	cr_assert_eq(stat(base, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	tokstore_close(&t);
}

Test(tokstore, file_modes, .init = setup, .fini = teardown)
{
	struct tokstore *t = open_kind(TOKSTORE_FILE);
	struct secret *a = secret_new("tok", 3);
	char path[512];
	struct stat st;

	cr_assert_eq(tokstore_put(t, ISS, "alice", a), 0);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(token_files(path, sizeof(path)), 1);
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect(S_ISREG(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_null(strstr(path, "alice"), "name is a hash");
	secret_free(&a);
	tokstore_close(&t);
}

/* Many replaces: every read sees a whole blob, no temp files remain. */
Test(tokstore, file_replace_atomic, .init = setup, .fini = teardown)
{
	struct tokstore *t = open_kind(TOKSTORE_FILE);
	char big[4096], path[512];
	struct secret *s = NULL;

	for (int i = 0; i < 50; i++) {
		memset(big, 'a' + i % 26, sizeof(big));
		s = secret_new(big, (size_t)(i % 2 ? 4096 : 100));
		cr_assert_eq(tokstore_put(t, ISS, "alice", s), 0);
		secret_free(&s);
		cr_assert_eq(tokstore_get(t, ISS, "alice", &s), 0);
		cr_expect_eq(secret_len(s), (size_t)(i % 2 ? 4096 : 100));
		cr_expect_eq(secret_data(s)[secret_len(s) - 1], 'a' + i % 26);
		secret_free(&s);
	}
	cr_expect_eq(token_files(path, sizeof(path)), 1);
	cr_expect_null(strstr(path, ".tmp"));
	tokstore_close(&t);
}

/* Puts one item and returns its path in `path`. */
static struct tokstore *
one_item(char *path, size_t pathsz)
{
	struct tokstore *t = open_kind(TOKSTORE_FILE);
	struct secret *a = secret_new("tok", 3);

	cr_assert_eq(tokstore_put(t, ISS, "alice", a), 0);
	cr_assert_eq(token_files(path, pathsz), 1);
	secret_free(&a);
	return t;
}

Test(tokstore, file_refuses_0644, .init = setup, .fini = teardown)
{
	char path[512];
	struct tokstore *t = one_item(path, sizeof(path));
	struct secret *s = NULL;

	cr_assert_eq(chmod(path, 0644), 0);
	cr_expect_eq(tokstore_get(t, ISS, "alice", &s), -1);
	cr_expect_null(s);
	cr_assert_eq(chmod(path, 0600), 0);
	expect_blob(t, ISS, "alice", "tok", 3);
	tokstore_close(&t);
}

Test(tokstore, file_refuses_0755_dir, .init = setup, .fini = teardown)
{
	char path[512], err[512] = "";
	struct tokstore *t = one_item(path, sizeof(path));
	struct secret *s = NULL;

	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(tokstore_get(t, ISS, "alice", &s), -1);
	cr_expect_null(tokstore_open(TOKSTORE_FILE, NULL, err, sizeof(err)));
	cr_expect_not_null(strstr(err, dir), "%s", err);
	cr_expect_not_null(strstr(err, "chmod 700"), "%s", err);
	cr_assert_eq(chmod(dir, 0700), 0);
	expect_blob(t, ISS, "alice", "tok", 3);
	tokstore_close(&t);
}

Test(tokstore, file_refuses_symlink, .init = setup, .fini = teardown)
{
	char path[512], real[512];
	struct tokstore *t = one_item(path, sizeof(path));
	struct secret *s = NULL;

	snprintf(real, sizeof(real), "%s/real", tmpdir);
	cr_assert_eq(rename(path, real), 0);
	cr_assert_eq(symlink(real, path), 0);
	cr_expect_eq(tokstore_get(t, ISS, "alice", &s), -1);
	cr_expect_null(s);
	tokstore_close(&t);
}

Test(tokstore, file_refuses_symlinked_dir, .init = setup, .fini = teardown)
{
	char real[160], err[512] = "";

	snprintf(real, sizeof(real), "%s/real", tmpdir);
	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, dir), 0);
	cr_expect_null(tokstore_open(TOKSTORE_FILE, NULL, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "symlink"), "%s", err);
}

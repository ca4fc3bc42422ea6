/* SPDX-License-Identifier: ISC */
/* plock: the cross-process refresh lock and where its file lives. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plock.h"

static char err[256];

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/plock-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	cr_assert_not_null(d);
	return strdup(d);
}

Test(plock, exclusive_between_open_files)
{
	char *rt = tmpdir();
	struct plock *a, *b;

	setenv("XDG_RUNTIME_DIR", rt, 1);
	a = plock_open("t.lock", err, sizeof(err));
	b = plock_open("t.lock", err, sizeof(err));
	cr_assert(a && b, "%s", err);
	cr_assert_eq(plock_try(a), 1);
	cr_assert_eq(plock_try(a), 1, "held: still 1");
	cr_assert_eq(plock_try(b), 0, "held by the other open file");
	plock_release(a);
	cr_assert_eq(plock_try(b), 1);
	plock_close(&a);
	plock_close(&b);
	cr_assert_null(a);
	free(rt);
}

Test(plock, runtime_dir_and_modes)
{
	char *rt = tmpdir(), path[512];
	struct plock *p;
	struct stat st;

	setenv("XDG_RUNTIME_DIR", rt, 1);
	p = plock_open("m.lock", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	snprintf(path, sizeof(path), "%s/mcp-bridge/m.lock", rt);
	cr_assert_str_eq(plock_path(p), path);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/mcp-bridge", rt);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	plock_close(&p);
	free(rt);
}

Test(plock, unsafe_runtime_dir_falls_back)
{
	char *rt = tmpdir(), *state = tmpdir(), path[512];
	struct plock *p;

	snprintf(path, sizeof(path), "%s/mcp-bridge", rt);
	cr_assert_eq(mkdir(path, 0777), 0);
	cr_assert_eq(chmod(path, 0777), 0); /* others may write: refused */
	setenv("XDG_RUNTIME_DIR", rt, 1);
	setenv("XDG_STATE_HOME", state, 1);
	p = plock_open("f.lock", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	snprintf(path, sizeof(path), "%s/mcp-bridge/locks/f.lock", state);
	cr_assert_str_eq(plock_path(p), path);
	plock_close(&p);
	free(rt);
	free(state);
}

Test(plock, name_with_slash_refused)
{
	cr_assert_null(plock_open("../x", err, sizeof(err)));
	cr_assert_neq(err[0], '\0');
}

Test(plock, release_and_reacquire_same_object)
{
	char *rt = tmpdir();
	struct plock *a, *b;

	setenv("XDG_RUNTIME_DIR", rt, 1);
	a = plock_open("r.lock", err, sizeof(err));
	b = plock_open("r.lock", err, sizeof(err));
	cr_assert(a && b, "%s", err);
	plock_release(a); /* not held: no-op */
	cr_assert_eq(plock_try(a), 1);
	plock_release(a);
	plock_release(a);
	cr_assert_eq(plock_try(b), 1);
	cr_assert_eq(plock_try(a), 0);
	plock_close(&b); /* closing releases */
	cr_assert_eq(plock_try(a), 1);
	plock_close(&a);
	plock_close(&a); /* NULL is fine */
	plock_close(NULL);
	plock_release(NULL);
	free(rt);
}

Test(plock, different_names_do_not_exclude)
{
	char *rt = tmpdir();
	struct plock *a, *b;

	setenv("XDG_RUNTIME_DIR", rt, 1);
	a = plock_open("one.lock", err, sizeof(err));
	b = plock_open("two.lock", err, sizeof(err));
	cr_assert(a && b, "%s", err);
	cr_assert_str_neq(plock_path(a), plock_path(b));
	cr_assert_eq(plock_try(a), 1);
	cr_assert_eq(plock_try(b), 1);
	plock_close(&a);
	plock_close(&b);
	free(rt);
}

Test(plock, world_writable_runtime_dir_falls_back)
{
	char *rt = tmpdir(), *state = tmpdir(), path[512];
	struct plock *p;
	struct stat st;

	/* XDG_RUNTIME_DIR itself is 0777 (not only its mcp-bridge/). */
	cr_assert_eq(chmod(rt, 0777), 0);
	setenv("XDG_RUNTIME_DIR", rt, 1);
	setenv("XDG_STATE_HOME", state, 1);
	p = plock_open("w.lock", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	snprintf(path, sizeof(path), "%s/mcp-bridge/locks/w.lock", state);
	if (strcmp(plock_path(p), path) != 0) {
		/* Accepted under rt: then its own directory must be
		 * private even though rt is not. */
		snprintf(path, sizeof(path), "%s/mcp-bridge", rt);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 022, 0, "%s", plock_path(p));
	}
	cr_assert_eq(stat(plock_path(p), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	plock_close(&p);
	free(rt);
	free(state);
}

Test(plock, relative_or_missing_runtime_dir_falls_back)
{
	char *state = tmpdir(), path[512];
	struct plock *p;

	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	setenv("XDG_STATE_HOME", state, 1);
	p = plock_open("x.lock", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	snprintf(path, sizeof(path), "%s/mcp-bridge/locks/x.lock", state);
	cr_assert_str_eq(plock_path(p), path);
	plock_close(&p);
	unsetenv("XDG_RUNTIME_DIR");
	p = plock_open("x.lock", err, sizeof(err));
	cr_assert_not_null(p, "%s", err);
	cr_assert_str_eq(plock_path(p), path);
	plock_close(&p);
	free(state);
}

Test(plock, symlinked_lock_file_refused)
{
	char *rt = tmpdir(), path[512], target[512];

	setenv("XDG_RUNTIME_DIR", rt, 1);
	snprintf(path, sizeof(path), "%s/mcp-bridge", rt);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/mcp-bridge/s.lock", rt);
	snprintf(target, sizeof(target), "%s/elsewhere", rt);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_null(plock_open("s.lock", err, sizeof(err)), "O_NOFOLLOW");
	cr_assert(strstr(err, "s.lock") != NULL, "%s", err);
	cr_assert_neq(access(target, F_OK), 0, "target not created");
	free(rt);
}

Test(plock, bad_names_refused)
{
	char *rt = tmpdir();

	setenv("XDG_RUNTIME_DIR", rt, 1);
	cr_assert_null(plock_open("a/b", err, sizeof(err)));
	cr_assert_null(plock_open("/abs", err, sizeof(err)));
	cr_assert_null(plock_open("", err, sizeof(err)), "the directory");
	cr_assert_null(plock_open("..", err, sizeof(err)));
	free(rt);
}

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

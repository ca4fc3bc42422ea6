/* SPDX-License-Identifier: ISC */
/*
 * faultshim: an LD_PRELOAD library that makes allocations, writes and
 * libcurl easy-handle creation fail on demand, for
 * tests/integration/fault.test.mjs.
 *
 * Env FAULT_CTL names a control file, re-read when its mtime, size or
 * inode changed (checked on every write/read/curl_easy_init call and on
 * every 64th allocation). One setting per line; a rewritten file replaces
 * every setting (an empty file clears them all):
 *
 *   malloc=fail-after:N    allocations N+1, N+2, ... after arming fail
 *   malloc=every:N         every Nth allocation after arming fails
 *   malloc=once:N          only the Nth allocation after arming fails
 *   write=fd:F:ERR         every write/writev on fd F fails with ERR
 *   write=fd:F:ERR:every:N every Nth write on fd F fails with ERR
 *   write=fd:F:ERR:times:N the next N writes on fd F fail with ERR
 *   curl_easy_init=fail:N  the next N calls return NULL ("all": every one)
 *
 * ERR is EIO, EPIPE, ENOSPC, EAGAIN or EINTR; up to four write lines.
 * Allocations are malloc, calloc, realloc (so jansson's, libcurl's and
 * OpenSSL's too), counted from main() on: the libraries' constructors
 * before it are not the program's code and never see a failure.
 *
 * Env FAULT_LOG names a file that gets one line per injected failure
 * kind the first time it fires ("malloc call=N size=S"; with env FAULT_BT
 * set, a backtrace after it), and, when a malloc setting is replaced or
 * the process exits normally, how many allocations were counted under it
 * ("count call=N size=0"): malloc=fail-after:<huge> measures a phase.
 * Linux and glibc only (it wraps __libc_start_main).
 *
 * The shim never allocates: the control file is read into a static
 * buffer, and the allocations dlsym() makes before the real functions are
 * known come from a static bootstrap arena (never freed).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define FS_MAX_WRITE_RULES 4
#define FS_CHECK_EVERY     64
#define FS_ARENA_SIZE      (64 * 1024)

enum fs_malloc_mode { FS_M_OFF, FS_M_AFTER, FS_M_EVERY, FS_M_ONCE };
enum fs_write_mode { FS_W_ALWAYS, FS_W_EVERY, FS_W_TIMES };

struct fs_write_rule {
	int fd;
	int err;
	enum fs_write_mode mode;
	long n;
	long calls; /* writes seen on fd since arming */
};

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_read)(int, void *, size_t);
static void *(*real_curl_easy_init)(void);

static _Alignas(16) char arena[FS_ARENA_SIZE];
static size_t arena_used;
static int resolving;

static int ctl_lock;
static long ctl_calls;
static struct stat ctl_st;
static int ctl_seen;

static enum fs_malloc_mode m_mode;
static long m_n;
static long m_calls;
static int m_logged;

static struct fs_write_rule w_rules[FS_MAX_WRITE_RULES];
static int w_count;
static int w_logged;

static long c_fail; /* -1: every call */

static int in_main;           /* main() has started */
static __thread int in_trace; /* this thread is writing a backtrace */
static int (*real_main)(int, char **, char **);
static int c_logged;

/* -------------------------------------------------------------- helpers */

static int
in_arena(const void *p)
{
	return (const char *)p >= arena &&
	    (const char *)p < arena + sizeof(arena);
}

/* 16-byte header holding the size, then the block. */
static void *
arena_alloc(size_t n)
{
	size_t need = ((n + 15) & ~(size_t)15) + 16;
	size_t off = __atomic_fetch_add(&arena_used, need, __ATOMIC_SEQ_CST);
	char *p;

	if (off + need > sizeof(arena))
		return NULL;
	p = arena + off;
	memcpy(p, &n, sizeof(n));
	return p + 16;
}

static size_t
arena_size(const void *p)
{
	size_t n;

	memcpy(&n, (const char *)p - 16, sizeof(n));
	return n;
}

static void
resolve(void)
{
	if (__atomic_exchange_n(&resolving, 1, __ATOMIC_SEQ_CST))
		return;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_write = dlsym(RTLD_NEXT, "write");
	real_writev = dlsym(RTLD_NEXT, "writev");
	real_read = dlsym(RTLD_NEXT, "read");
	real_curl_easy_init = dlsym(RTLD_NEXT, "curl_easy_init");
}

static int
ready(void)
{
	if (real_free == NULL)
		resolve();
	return real_malloc && real_calloc && real_realloc && real_free;
}

static ssize_t
raw_write(int fd, const void *p, size_t n)
{
	return syscall(SYS_write, fd, p, n);
}

/* Appends one line to FAULT_LOG (no allocation, no hooks). */
static void
note(const char *what, long call, size_t size)
{
	const char *path = getenv("FAULT_LOG");
	char line[128], num[32];
	size_t len = 0;
	int fd;

	if (path == NULL)
		return;
	for (const char *s = what; *s && len < 64; s++)
		line[len++] = *s;
	for (int k = 0; k < 2; k++) {
		const char *label = k == 0 ? " call=" : " size=";
		unsigned long v = k == 0 ? (unsigned long)call : size;
		int i = 0;

		while (*label)
			line[len++] = *label++;
		do
			num[i++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		while (i > 0)
			line[len++] = num[--i];
	}
	line[len++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	(void)!raw_write(fd, line, len);
	if (getenv("FAULT_BT") && strcmp(what, "count") != 0) {
		void *bt[48];
		int n;

		in_trace = 1; /* backtrace() may allocate the first time */
		n = backtrace(bt, 48);
		backtrace_symbols_fd(bt, n, fd);
		in_trace = 0;
	}
	close(fd);
}

/* ---------------------------------------------------------- control file */

static long
parse_num(const char *s, const char *end, const char **next)
{
	long v = 0;

	if (end - s >= 3 && memcmp(s, "all", 3) == 0) {
		*next = s + 3;
		return -1;
	}
	while (s < end && *s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	*next = s;
	return v;
}

static int
has_prefix(const char **s, const char *end, const char *pfx)
{
	size_t n = strlen(pfx);

	if ((size_t)(end - *s) < n || memcmp(*s, pfx, n) != 0)
		return 0;
	*s += n;
	return 1;
}

static int
parse_errno(const char **s, const char *end)
{
	static const struct {
		const char *name;
		int err;
	} names[] = { { "EIO", EIO }, { "EPIPE", EPIPE }, { "ENOSPC", ENOSPC },
		{ "EAGAIN", EAGAIN }, { "EINTR", EINTR } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (has_prefix(s, end, names[i].name))
			return names[i].err;
	return 0;
}

static void
parse_write(const char *s, const char *end)
{
	struct fs_write_rule r = { 0 };

	if (w_count == FS_MAX_WRITE_RULES || !has_prefix(&s, end, "fd:"))
		return;
	r.fd = (int)parse_num(s, end, &s);
	if (!has_prefix(&s, end, ":") || (r.err = parse_errno(&s, end)) == 0)
		return;
	r.mode = FS_W_ALWAYS;
	if (has_prefix(&s, end, ":every:")) {
		r.mode = FS_W_EVERY;
		r.n = parse_num(s, end, &s);
		if (r.n <= 0)
			return;
	} else if (has_prefix(&s, end, ":times:")) {
		r.mode = FS_W_TIMES;
		r.n = parse_num(s, end, &s);
	}
	w_rules[w_count++] = r;
}

static void
parse_line(const char *s, const char *end)
{
	if (has_prefix(&s, end, "malloc=")) {
		if (has_prefix(&s, end, "fail-after:"))
			m_mode = FS_M_AFTER;
		else if (has_prefix(&s, end, "every:"))
			m_mode = FS_M_EVERY;
		else if (has_prefix(&s, end, "once:"))
			m_mode = FS_M_ONCE;
		else
			return;
		m_n = parse_num(s, end, &s);
		if (m_mode == FS_M_EVERY && m_n <= 0)
			m_mode = FS_M_OFF;
	} else if (has_prefix(&s, end, "write=")) {
		parse_write(s, end);
	} else if (has_prefix(&s, end, "curl_easy_init=fail:")) {
		c_fail = parse_num(s, end, &s);
	}
}

static void
load(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	if (m_mode != FS_M_OFF)
		note("count", m_calls, 0);
	m_mode = FS_M_OFF;
	m_calls = 0;
	w_count = 0;
	c_fail = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	close(fd);
	for (const char *s = buf, *end = buf + (n > 0 ? n : 0); s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;

		parse_line(s, eol);
		s = eol + 1;
	}
}

/* Re-reads the control file if it changed; `force` skips the call count. */
static void
check(int force)
{
	const char *path;
	struct stat st;

	if (!force &&
	    __atomic_add_fetch(&ctl_calls, 1, __ATOMIC_RELAXED) %
	        FS_CHECK_EVERY)
		return;
	if ((path = getenv("FAULT_CTL")) == NULL)
		return;
	if (__atomic_exchange_n(&ctl_lock, 1, __ATOMIC_ACQUIRE))
		return; /* another thread is at it */
	if (stat(path, &st) == 0) {
		if (!ctl_seen || st.st_mtim.tv_sec != ctl_st.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != ctl_st.st_mtim.tv_nsec ||
		    st.st_size != ctl_st.st_size ||
		    st.st_ino != ctl_st.st_ino) {
			ctl_st = st;
			ctl_seen = 1;
			load(path);
		}
	} else if (ctl_seen) {
		ctl_seen = 0;
		load(path); /* gone: clears every setting */
	}
	__atomic_store_n(&ctl_lock, 0, __ATOMIC_RELEASE);
}

/* Whether this allocation of `size` bytes is to fail. */
static int
alloc_fails(size_t size)
{
	long call;
	int fail;

	if (!in_main || in_trace)
		return 0; /* libraries' constructors are not the bridge's code
		           */
	check(0);
	if (m_mode == FS_M_OFF)
		return 0;
	call = __atomic_add_fetch(&m_calls, 1, __ATOMIC_SEQ_CST);
	fail = (m_mode == FS_M_AFTER && call > m_n) ||
	    (m_mode == FS_M_EVERY && call % m_n == 0) ||
	    (m_mode == FS_M_ONCE && call == m_n);
	if (fail && !__atomic_exchange_n(&m_logged, 1, __ATOMIC_SEQ_CST))
		note("malloc", call, size);
	return fail;
}

/* 0, or the errno this write on `fd` is to fail with. */
static int
write_fails(int fd)
{
	check(1);
	for (int i = 0; i < w_count; i++) {
		struct fs_write_rule *r = &w_rules[i];
		long call;

		if (r->fd != fd)
			continue;
		call = __atomic_add_fetch(&r->calls, 1, __ATOMIC_SEQ_CST);
		if ((r->mode == FS_W_ALWAYS) ||
		    (r->mode == FS_W_EVERY && call % r->n == 0) ||
		    (r->mode == FS_W_TIMES && call <= r->n)) {
			if (!__atomic_exchange_n(
			        &w_logged, 1, __ATOMIC_SEQ_CST))
				note("write", call, (size_t)fd);
			return r->err;
		}
	}
	return 0;
}

__attribute__((destructor)) static void
fs_fini(void)
{
	if (m_mode != FS_M_OFF)
		note("count", m_calls, 0);
}

/* ------------------------------------------------------------ the hooks */

void *
malloc(size_t n)
{
	if (!ready())
		return arena_alloc(n);
	if (alloc_fails(n)) {
		errno = ENOMEM;
		return NULL;
	}
	return real_malloc(n);
}

void *
calloc(size_t nmemb, size_t size)
{
	if (!ready()) {
		if (size && nmemb > SIZE_MAX / size)
			return NULL;
		return arena_alloc(nmemb * size); /* static: already zero */
	}
	if (alloc_fails(nmemb * size)) {
		errno = ENOMEM;
		return NULL;
	}
	return real_calloc(nmemb, size);
}

void *
realloc(void *p, size_t n)
{
	void *q;

	if (p && in_arena(p)) {
		size_t old = arena_size(p);

		if ((q = malloc(n)) != NULL)
			memcpy(q, p, old < n ? old : n);
		return q;
	}
	if (!ready())
		return p ? NULL : arena_alloc(n);
	if (alloc_fails(n)) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	if (ready())
		real_free(p);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	int err;

	if (real_write == NULL)
		resolve();
	if ((err = write_fails(fd)) != 0) {
		errno = err;
		return -1;
	}
	return real_write ? real_write(fd, p, n) : raw_write(fd, p, n);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	int err;

	if (real_writev == NULL)
		resolve();
	if ((err = write_fails(fd)) != 0) {
		errno = err;
		return -1;
	}
	return real_writev ? real_writev(fd, iov, cnt)
	                   : syscall(SYS_writev, fd, iov, cnt);
}

/* Only to notice a new control file before a request is handled. */
ssize_t
read(int fd, void *p, size_t n)
{
	if (real_read == NULL)
		resolve();
	check(1);
	return real_read ? real_read(fd, p, n) : syscall(SYS_read, fd, p, n);
}

static int
wrapped_main(int argc, char **argv, char **envp)
{
	__atomic_store_n(&in_main, 1, __ATOMIC_SEQ_CST);
	return real_main(argc, argv, envp);
}

/* glibc's entry: wrapped so that allocations count from main() on. */
int
__libc_start_main(int (*main_fn)(int, char **, char **), int argc, char **argv,
    void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
    void *stack_end)
{
	int (*next)(int (*)(int, char **, char **), int, char **,
	    void (*)(void), void (*)(void), void (*)(void), void *);

	next = dlsym(RTLD_NEXT, "__libc_start_main");
	real_main = main_fn;
	return next(wrapped_main, argc, argv, init, fini, rtld_fini, stack_end);
}

void *
curl_easy_init(void)
{
	long left;

	if (real_curl_easy_init == NULL)
		resolve();
	check(1);
	left = __atomic_load_n(&c_fail, __ATOMIC_SEQ_CST);
	if (left != 0) {
		if (left > 0)
			__atomic_sub_fetch(&c_fail, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_exchange_n(&c_logged, 1, __ATOMIC_SEQ_CST))
			note("curl_easy_init", 0, 0);
		return NULL;
	}
	return real_curl_easy_init ? real_curl_easy_init() : NULL;
}

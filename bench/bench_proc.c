/* SPDX-License-Identifier: ISC */
#include "bench_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_stats.h"

extern char **environ;

static void *
err_main(void *arg)
{
	struct proc *p = arg;
	char buf[16384];
	ssize_t n, i;
	int partial = 0;

	for (;;) {
		n = read(p->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n')
				atomic_fetch_add(&p->err_lines, 1);
		}
		partial = buf[n - 1] != '\n';
		if ((size_t)n >= PROC_TAIL) {
			memcpy(p->tail, buf + n - PROC_TAIL, PROC_TAIL);
			p->tail_len = PROC_TAIL;
		} else {
			if (p->tail_len + (size_t)n > PROC_TAIL) {
				size_t drop =
				    p->tail_len + (size_t)n - PROC_TAIL;

				memmove(p->tail, p->tail + drop,
				    p->tail_len - drop);
				p->tail_len -= drop;
			}
			memcpy(p->tail + p->tail_len, buf, (size_t)n);
			p->tail_len += (size_t)n;
		}
	}
	if (partial)
		atomic_fetch_add(&p->err_lines, 1);
	return NULL;
}

static int
cloexec_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/* posix_spawnp with the child's ends as 0, 1, 2 and default signals. */
static int
spawn_on(pid_t *pid, char *const argv[], int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
	        POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

int
proc_spawn(struct proc *p, char *const argv[])
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int rc;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->status = -1;
	atomic_init(&p->err_lines, 0);
	if (cloexec_pipe(in) < 0 || cloexec_pipe(out) < 0 ||
	    cloexec_pipe(err) < 0)
		goto fail;
	rc = spawn_on(&p->pid, argv, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	in[0] = out[1] = err[1] = -1;
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	if (rc != 0) {
		p->pid = -1;
		errno = rc;
		return -1;
	}
	if (pthread_create(&p->err_thread, NULL, err_main, p) != 0) {
		proc_close(p, 0);
		errno = EAGAIN;
		return -1;
	}
	p->has_thread = 1;
	return 0;
fail:
	rc = errno;
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	errno = rc;
	return -1;
}

int
proc_send(struct proc *p, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(p->in_fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads what is there into rbuf; 1 read, 0 timeout, -1 EOF/error. */
static int
fill(struct proc *p, long timeout_ms)
{
	struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
	ssize_t n;
	char *nb;
	int rc;

	if (p->rstart > 0) {
		memmove(p->rbuf, p->rbuf + p->rstart, p->rlen - p->rstart);
		p->rlen -= p->rstart;
		p->rstart = 0;
	}
	if (p->rcap - p->rlen < 4096) {
		if ((nb = realloc(p->rbuf, p->rcap * 2 + 65536)) == NULL)
			return -1;
		p->rbuf = nb;
		p->rcap = p->rcap * 2 + 65536;
	}
	rc = poll(&pfd, 1, (int)timeout_ms);
	if (rc <= 0)
		return rc < 0 && errno != EINTR ? -1 : 0;
	n = read(p->out_fd, p->rbuf + p->rlen, p->rcap - p->rlen);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	p->rlen += (size_t)n;
	return 1;
}

int
proc_readline(struct proc *p, long timeout_ms, const char **line, size_t *n)
{
	double deadline = stats_now_ms() + (double)timeout_ms;
	char *s, *nl;
	long left;
	int rc;

	for (;;) {
		s = p->rbuf + p->rstart;
		nl = p->rlen > p->rstart ? memchr(s, '\n', p->rlen - p->rstart)
		                         : NULL;
		if (nl != NULL) {
			*line = s;
			*n = (size_t)(nl - s);
			p->rstart = (size_t)(nl - p->rbuf) + 1;
			return 1;
		}
		left = (long)(deadline - stats_now_ms());
		if (left <= 0)
			return 0;
		if ((rc = fill(p, left)) < 0)
			return -1;
	}
}

long
proc_err_lines(struct proc *p)
{
	return atomic_load(&p->err_lines);
}

/* Waits up to ms for the child; 1 when it has been reaped. */
static int
reap(struct proc *p, long ms)
{
	double deadline = stats_now_ms() + (double)ms;

	for (;;) {
		if (waitpid(p->pid, &p->status, WNOHANG) == p->pid)
			return 1;
		if (stats_now_ms() >= deadline)
			return 0;
		stats_sleep_ms(2);
	}
}

void
proc_close(struct proc *p, long grace_ms)
{
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
	if (p->pid > 0) {
		if (!reap(p, grace_ms)) {
			kill(-p->pid, SIGTERM);
			if (!reap(p, 1000)) {
				kill(-p->pid, SIGKILL);
				reap(p, 5000);
			}
		}
		kill(-p->pid, SIGKILL); /* stray descendants hold stderr */
	}
	if (p->has_thread)
		pthread_join(p->err_thread, NULL);
	p->has_thread = 0;
	if (p->err_fd >= 0)
		close(p->err_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->err_fd = p->out_fd = -1;
	p->pid = -1;
	free(p->rbuf);
	p->rbuf = NULL;
	p->rlen = p->rcap = p->rstart = 0;
}

struct pp {
	pid_t pid;
	pid_t ppid;
	long ticks; /* utime + stime + cutime + cstime */
};

/*
 * Reads /proc/PID/stat ("pid (comm) S ppid ... utime stime cutime
 * cstime ...", fields 4 and 14-17) into e. Returns 0 or -1.
 */
static int
stat_of(long pid, struct pp *e)
{
	char path[64], buf[1024], *rp, *end;
	FILE *f;
	size_t n;
	long v;
	int field;

	if (snprintf(path, sizeof(path), "/proc/%ld/stat", pid) >=
	        (int)sizeof(path) ||
	    (f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((rp = strrchr(buf, ')')) == NULL || strlen(rp) < 5)
		return -1;
	e->pid = (pid_t)pid;
	e->ticks = 0;
	rp += 4; /* past ") S " */
	for (field = 4; field <= 17; field++, rp = end) {
		v = strtol(rp, &end, 10);
		if (end == rp)
			return -1;
		if (field == 4)
			e->ppid = (pid_t)v;
		if (field >= 14)
			e->ticks += v;
	}
	return 0;
}

/* Every process with its parent; returns the count, *out malloc'd. */
static size_t
scan_procs(struct pp **out)
{
	struct pp *all = NULL, *na;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	char *end;
	long pid;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || pid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((na = realloc(all, cap * sizeof(*all))) == NULL)
				break;
			all = na;
		}
		if (stat_of(pid, &all[n]) == 0)
			n++;
	}
	closedir(d);
	*out = all;
	return n;
}

/* Adds VmRSS and RssAnon of pid (kB) to u; nothing if it is gone. */
static void
rss_of(pid_t pid, struct proc_usage *u)
{
	char path[64], line[256];
	FILE *f;

	if (snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid) >=
	        (int)sizeof(path) ||
	    (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			u->rss_kb += strtol(line + 6, NULL, 10);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			u->anon_kb += strtol(line + 8, NULL, 10);
	}
	fclose(f);
}

static int
in_tree(const struct pp *t, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].pid == pid)
			return 1;
	}
	return 0;
}

/* Moves root and its descendants to the front of all; returns how many. */
static size_t
tree_of(pid_t root, struct pp *all, size_t n)
{
	size_t nt = 0, i;
	struct pp tmp;
	int grew = 1;

	while (grew) {
		grew = 0;
		for (i = nt; i < n; i++) {
			if (all[i].pid != root &&
			    !in_tree(all, nt, all[i].ppid))
				continue;
			tmp = all[nt];
			all[nt++] = all[i];
			all[i] = tmp;
			grew = 1;
		}
	}
	return nt;
}

int
proc_tree_usage(pid_t root, struct proc_usage *u)
{
	struct pp *all = NULL;
	size_t n = scan_procs(&all), nt, i;
	long ticks = 0, hz = sysconf(_SC_CLK_TCK);

	u->rss_kb = u->anon_kb = 0;
	u->cpu_ms = 0;
	nt = tree_of(root, all, n);
	for (i = 0; i < nt; i++) {
		rss_of(all[i].pid, u);
		ticks += all[i].ticks;
	}
	free(all);
	if (nt == 0 || hz <= 0)
		return -1;
	u->cpu_ms = (double)ticks * 1e3 / (double)hz;
	return 0;
}

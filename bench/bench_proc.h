/* SPDX-License-Identifier: ISC */
/*
 * bench_proc: a child process on pipes, as an IDE runs an MCP server:
 * stdin and stdout for newline-delimited JSON-RPC, stderr read by its own
 * thread and counted in lines. Also the RSS of a process tree.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define PROC_TAIL 512 /* last stderr bytes kept for failure reports */

struct proc {
	pid_t pid;  /* also its process group */
	int in_fd;  /* child's stdin (write end), -1 once closed */
	int out_fd; /* child's stdout (read end) */
	int err_fd; /* child's stderr (read end, the thread's) */
	pthread_t err_thread;
	int has_thread;        /* err_thread was started */
	atomic_long err_lines; /* newline-terminated lines, live */
	char tail[PROC_TAIL];  /* valid after proc_close() */
	size_t tail_len;
	char *rbuf; /* stdout bytes not yet returned */
	size_t rstart;
	size_t rlen;
	size_t rcap;
	int status; /* wait status after proc_close(), or -1 */
};

/*
 * Starts argv[0] (PATH lookup) in a new process group with piped stdio
 * and the bench's environment. Returns 0, or -1 with errno set.
 */
int proc_spawn(struct proc *p, char *const argv[]);

/* Writes all n bytes to the child's stdin. Returns 0 or -1. */
int proc_send(struct proc *p, const char *s, size_t n);

/*
 * Returns the next stdout line (without '\n') in *line, *n; it stays
 * valid until the next call. Returns 1, 0 on timeout, -1 on EOF/error.
 */
int
proc_readline(struct proc *p, long timeout_ms, const char **line, size_t *n);

/* stderr lines so far (a final unterminated line counts at EOF). */
long proc_err_lines(struct proc *p);

/*
 * Ends the child: closes its stdin, waits up to grace_ms for it to exit,
 * then SIGTERM, then SIGKILL (to its whole group); joins the stderr
 * thread and frees everything. Safe on a failed spawn.
 */
void proc_close(struct proc *p, long grace_ms);

/* Resources of a process and all its descendants. */
struct proc_usage {
	long rss_kb;   /* sum of VmRSS */
	long anon_kb;  /* sum of RssAnon (not file-backed: heap, stacks) */
	double cpu_ms; /* user + system time so far, reaped children too */
};

/* Reads u for `root` and its descendants. Returns 0, -1 if it is gone. */
int proc_tree_usage(pid_t root, struct proc_usage *u);

#endif /* BENCH_PROC_H */

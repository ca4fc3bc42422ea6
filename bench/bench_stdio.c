/* SPDX-License-Identifier: ISC */
#include "bench_stdio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_direct.h"
#include "bench_msg.h"
#include "bench_proc.h"
#include "bench_stats.h"

#define LINE_MAX_LEN 1024
#define INIT_ID      1
#define FIRST_CALL   1000

/* Sends one message and its newline in one write, as an IDE would. */
static int
send_line(struct proc *p, char *buf, int n)
{
	buf[n] = '\n';
	return proc_send(p, buf, (size_t)n + 1);
}

static int
send_call(struct proc *p, long id)
{
	char buf[LINE_MAX_LEN];
	int n = msg_call(buf, sizeof(buf) - 1, id);

	return n < 0 ? -1 : send_line(p, buf, n);
}

/* Reads lines until the answer to `id`. Returns its kind, or -1. */
static int
await_id(struct proc *p, long id, long timeout_ms)
{
	const char *line;
	size_t n;
	long got;
	int kind;

	for (;;) {
		if (proc_readline(p, timeout_ms, &line, &n) != 1)
			return -1;
		kind = msg_answer(line, n, &got);
		if (kind != MSG_OTHER && got == id)
			return kind;
	}
}

/* Fails r with what went wrong, and the child's last stderr line. */
static int
fail_proc(struct bench_result *r, struct proc *p, const char *what)
{
	char *nl;
	size_t n;

	proc_close(p, 500);
	n = p->tail_len;
	while (n > 0 && (p->tail[n - 1] == '\n' || p->tail[n - 1] == '\r'))
		n--;
	p->tail[n < PROC_TAIL ? n : PROC_TAIL - 1] = '\0';
	nl = strrchr(p->tail, '\n');
	bench_fail(r, "%s%s%.120s", what, n ? "; stderr: " : "",
	    nl ? nl + 1 : p->tail);
	return -1;
}

/* Spawns and initializes; *ms gets spawn -> initialize answer. */
static int
open_session(const struct bench_opts *o, char *const argv[], struct proc *p,
    double *ms, struct bench_result *r)
{
	char buf[LINE_MAX_LEN];
	double t0 = stats_now_ms();
	int n;

	if (proc_spawn(p, argv) < 0) {
		bench_fail(r, "cannot run %s: %s", argv[0], strerror(errno));
		return -1;
	}
	n = msg_initialize(buf, sizeof(buf) - 1, INIT_ID);
	if (n < 0 || send_line(p, buf, n) < 0)
		return fail_proc(r, p, "cannot write initialize");
	if (await_id(p, INIT_ID, o->timeout_ms) != MSG_RESULT)
		return fail_proc(r, p, "no initialize result");
	*ms = stats_now_ms() - t0;
	return 0;
}

int
stdio_startup(
    const struct bench_opts *o, char *const argv[], struct bench_result *r)
{
	double *v = calloc((size_t)o->spawns, sizeof(*v));
	struct proc p;
	long i;

	if (v == NULL)
		return -1;
	for (i = 0; i < o->spawns; i++) {
		if (open_session(o, argv, &p, &v[i], r) < 0) {
			free(v);
			return -1;
		}
		proc_close(&p, 3000);
	}
	r->start_ms = stats_quantile(v, (size_t)o->spawns, 0.5);
	free(v);
	return 0;
}

/* n sequential calls from *id on; latencies into v when not NULL. */
static int
sequential(const struct bench_opts *o, struct proc *p, long *id, long n,
    double *v, struct bench_result *r)
{
	double t0;
	long i;
	int kind;

	for (i = 0; i < n; i++, (*id)++) {
		t0 = stats_now_ms();
		if (send_call(p, *id) < 0)
			return -1;
		if ((kind = await_id(p, *id, o->timeout_ms)) < 0)
			return -1;
		if (v != NULL)
			v[i] = stats_now_ms() - t0;
		if (kind == MSG_ERROR)
			r->rpc_errors++;
		r->calls++;
	}
	return 0;
}

/* Takes one answer of the window: 1 matched, 0 other line, -1 fail. */
static int
take_answer(const struct bench_opts *o, struct proc *p, long base,
    char *pending, long total, struct bench_result *r)
{
	const char *line;
	size_t n;
	long id;
	int kind;

	if (proc_readline(p, o->timeout_ms, &line, &n) != 1)
		return -1;
	kind = msg_answer(line, n, &id);
	if (kind == MSG_OTHER || id < base || id >= base + total ||
	    !pending[id - base])
		return 0;
	pending[id - base] = 0;
	if (kind == MSG_ERROR)
		r->rpc_errors++;
	r->calls++;
	return 1;
}

/* total calls with o->inflight outstanding, matched by id. */
static int
window(const struct bench_opts *o, struct proc *p, long *id, long total,
    struct bench_result *r)
{
	char *pending = calloc((size_t)total, 1);
	long base = *id, sent = 0, done = 0;
	double t0 = stats_now_ms();
	int rc = 0;

	if (pending == NULL)
		return -1;
	while (rc == 0 && done < total) {
		while (sent < total && sent - done < o->inflight) {
			pending[sent] = 1;
			if (send_call(p, base + sent++) < 0) {
				rc = -1;
				break;
			}
		}
		if (rc == 0 &&
		    (rc = take_answer(o, p, base, pending, total, r)) > 0)
			done++;
		if (rc > 0)
			rc = 0;
	}
	r->tput = rc == 0 ? (double)total * 1e3 / (stats_now_ms() - t0) : -1;
	*id = base + total;
	free(pending);
	return rc;
}

/* Idle RSS, warm-up, sequential and windowed calls, RSS after. */
static int
calls(const struct bench_opts *o, struct proc *p, struct bench_result *r)
{
	double *v = calloc((size_t)o->calls, sizeof(*v));
	long id = FIRST_CALL, err0;
	struct upstats s0, s1;
	struct proc_usage u0, u1;

	if (v == NULL)
		return -1;
	stats_sleep_ms(o->idle_ms);
	if (proc_tree_usage(p->pid, &u0) < 0) {
		free(v);
		return -1;
	}
	r->rss_idle_mb = (double)u0.rss_kb / 1024.0;
	r->anon_idle_mb = (double)u0.anon_kb / 1024.0;
	err0 = proc_err_lines(p);
	if (direct_upstats(o, 1, &s0) < 0 ||
	    sequential(o, p, &id, o->warmup, NULL, r) < 0 ||
	    sequential(o, p, &id, o->calls, v, r) < 0 ||
	    window(o, p, &id, o->tput_calls, r) < 0 ||
	    direct_upstats(o, 0, &s1) < 0) {
		free(v);
		return -1;
	}
	r->err_call_lines = proc_err_lines(p) - err0;
	if (proc_tree_usage(p->pid, &u1) == 0) {
		r->rss_after_mb = (double)u1.rss_kb / 1024.0;
		r->cpu_us = (u1.cpu_ms - u0.cpu_ms) * 1e3 / (double)r->calls;
	}
	direct_upstats_diff(&s0, &s1, r);
	r->mean_ms = stats_mean(v, (size_t)o->calls);
	r->p50_ms = stats_quantile(v, (size_t)o->calls, 0.50);
	r->p99_ms = stats_quantile(v, (size_t)o->calls, 0.99);
	r->max_ms = v[o->calls - 1];
	free(v);
	return 0;
}

int
stdio_run(
    const struct bench_opts *o, char *const argv[], struct bench_result *r)
{
	struct proc p;
	double ms;
	size_t n = strlen(msg_initialized);
	char buf[LINE_MAX_LEN];

	if (open_session(o, argv, &p, &ms, r) < 0)
		return -1;
	memcpy(buf, msg_initialized, n);
	if (send_line(&p, buf, (int)n) < 0)
		return fail_proc(r, &p, "cannot write initialized");
	if (calls(o, &p, r) < 0)
		return fail_proc(r, &p,
		    "a call got no answer in time, or the "
		    "process is gone");
	proc_close(&p, 3000);
	r->err_lines = proc_err_lines(&p);
	return 0;
}

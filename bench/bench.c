/* SPDX-License-Identifier: ISC */
/*
 * bench: in one run, against one loopback upstream (bench_upstream),
 * measures (a) a direct HTTP/1.1 keep-alive client, (b) mcp-bridge and
 * (c) mcp-remote (node): spawn -> initialize answer, sequential tools/call
 * latency p50/p99, throughput with N calls in flight, idle RSS and RSS
 * after the run (process tree), stderr lines. Prints a Markdown table,
 * the bridge/mcp-remote ratios, bridge-direct differences and a PASS/MISS
 * line per target. Exits 0 when everything ran (targets missed or not),
 * 1 when something could not run, 2 on bad arguments.
 *
 * Progress goes to stderr; the table (and --json) to stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "bench_direct.h"
#include "bench_proc.h"
#include "bench_report.h"
#include "bench_stdio.h"

static const char usage_text[] =
    "usage: bench [--bridge PATH] [--mcp-remote PATH] [--node PATH]\n"
    "             [--upstream PATH] [--calls N] [--inflight N]\n"
    "             [--tput-calls N] [--spawns N] [--warmup N] [--idle-ms MS]\n"
    "             [--timeout-ms MS] [--sse] [--remote-silent] [--json]\n"
    "  --bridge      mcp-bridge binary (default: ../src/mcp-bridge next\n"
    "                to this program, or $MCP_BRIDGE)\n"
    "  --mcp-remote  mcp-remote's dist/proxy.js (column skipped without)\n"
    "  --node        node binary (default: node from PATH)\n"
    "  --upstream    bench_upstream (default: next to this program)\n"
    "  --calls       sequential tools/call measured (default 2000)\n"
    "  --inflight    calls in flight for throughput (default 32)\n"
    "  --tput-calls  calls in the throughput phase (default 5 x calls)\n"
    "  --spawns      start-up samples, median reported (default 5)\n"
    "  --warmup      unmeasured calls first (default 200)\n"
    "  --idle-ms     settle time before the idle RSS (default 1000)\n"
    "  --sse         upstream answers as text/event-stream\n"
    "  --remote-silent  add a column: mcp-remote --silent\n"
    "  --json        also print one line of JSON after the table\n";

void
bench_result_init(struct bench_result *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->start_ms = r->p50_ms = r->p99_ms = r->mean_ms = r->max_ms = -1;
	r->tput = r->rss_idle_mb = r->rss_after_mb = r->cpu_us = -1;
	r->anon_idle_mb = -1;
	r->err_lines = r->err_call_lines = -1;
	r->up_conns = r->up_peak = r->up_requests = -1;
}

void
bench_fail(struct bench_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return; /* keep the first reason */
	r->failed = 1;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static void
usage(int rc)
{
	fputs(usage_text, rc ? stderr : stdout);
	exit(rc);
}

static long
num_arg(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "bench: bad number: %s\n", s ? s : "(none)");
		usage(2);
	}
	return v;
}

/* One option at argv[*i]; returns 0 when it is not a known one. */
static int
parse_opt(struct bench_opts *o, char **argv, int *i)
{
	const char *a = argv[*i], *v = argv[*i + 1];

	if (strcmp(a, "--sse") == 0)
		return o->sse = 1;
	if (strcmp(a, "--json") == 0)
		return o->json = 1;
	if (strcmp(a, "--remote-silent") == 0)
		return o->remote_silent = 1;
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		usage(0);
	if (v == NULL)
		return 0;
	(*i)++;
	if (strcmp(a, "--bridge") == 0)
		o->bridge = v;
	else if (strcmp(a, "--mcp-remote") == 0)
		o->remote = v;
	else if (strcmp(a, "--node") == 0)
		o->node = v;
	else if (strcmp(a, "--upstream") == 0)
		o->upstream = v;
	else if (strcmp(a, "--calls") == 0)
		o->calls = num_arg(v, 1, 10000000);
	else if (strcmp(a, "--inflight") == 0)
		o->inflight = num_arg(v, 1, 1000);
	else if (strcmp(a, "--tput-calls") == 0)
		o->tput_calls = num_arg(v, 1, 100000000);
	else if (strcmp(a, "--spawns") == 0)
		o->spawns = num_arg(v, 1, 1000);
	else if (strcmp(a, "--warmup") == 0)
		o->warmup = num_arg(v, 0, 10000000);
	else if (strcmp(a, "--idle-ms") == 0)
		o->idle_ms = num_arg(v, 0, 600000);
	else if (strcmp(a, "--timeout-ms") == 0)
		o->timeout_ms = num_arg(v, 1, 3600000);
	else
		return 0;
	return 1;
}

/* A path next to this program's binary, in one of two static buffers. */
static const char *
sibling(const char *rel)
{
	static char out[2][PATH_MAX + 64];
	static int which;
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *buf = out[which++ % 2];

	if (n <= 0)
		return rel;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (snprintf(buf, sizeof(out[0]), "%s/%s", self, rel) >=
	    (int)sizeof(out[0]))
		return rel;
	return buf;
}

static void
parse_args(struct bench_opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->node = "node";
	o->calls = 2000;
	o->inflight = 32;
	o->spawns = 5;
	o->warmup = 200;
	o->idle_ms = 1000;
	o->timeout_ms = 10000;
	for (i = 1; i < argc; i++) {
		if (!parse_opt(o, argv, &i)) {
			fprintf(stderr, "bench: unknown option: %s\n", argv[i]);
			usage(2);
		}
	}
	if (o->tput_calls == 0)
		o->tput_calls = 5 * o->calls;
	if (o->upstream == NULL)
		o->upstream = sibling("bench_upstream");
	if (o->bridge == NULL)
		o->bridge = getenv("MCP_BRIDGE");
	if (o->bridge == NULL)
		o->bridge = sibling("../src/mcp-bridge");
}

/* Starts the upstream and reads "READY <port>". Returns 0 or -1. */
static int
start_upstream(struct bench_opts *o, struct proc *up)
{
	char *argv[] = { (char *)o->upstream, "--exit-on-eof",
		o->sse ? "--sse" : NULL, NULL };
	const char *line;
	char buf[32], *end;
	size_t n;
	long port;

	if (proc_spawn(up, argv) < 0) {
		fprintf(stderr, "bench: cannot run %s: %s\n", o->upstream,
		    strerror(errno));
		return -1;
	}
	if (proc_readline(up, 5000, &line, &n) != 1 || n < 7 ||
	    n >= sizeof(buf) || memcmp(line, "READY ", 6) != 0) {
		fprintf(stderr, "bench: %s did not say READY\n", o->upstream);
		proc_close(up, 0);
		return -1;
	}
	memcpy(buf, line + 6, n - 6);
	buf[n - 6] = '\0';
	port = strtol(buf, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535) {
		proc_close(up, 0);
		return -1;
	}
	o->port = (int)port;
	snprintf(o->url, sizeof(o->url), "http://127.0.0.1:%ld/mcp", port);
	return 0;
}

/* Notes the machine's CPUs and load averages (noise indicator). */
static void
machine(struct bench_opts *o)
{
	FILE *f = fopen("/proc/loadavg", "r");
	char buf[128] = "";
	int i, spaces = 0;

	o->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	for (i = 0; buf[i] && spaces < 3; i++)
		spaces += buf[i] == ' ';
	if (i > 0 && spaces == 3)
		i--;
	snprintf(o->load, sizeof(o->load), "%.*s", i, buf);
}

/* Removes a directory tree (mcp-remote's config dir). */
static void
rm_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
			        de->d_name) < (int)sizeof(sub))
				rm_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Start-up, then one measured session, of a stdio subject. */
static void
run_stdio(
    const struct bench_opts *o, struct bench_result *r, char *const argv[])
{
	fprintf(stderr, "bench: %s: %ld spawns\n", r->name, o->spawns);
	if (stdio_startup(o, argv, r) < 0)
		return;
	fprintf(stderr,
	    "bench: %s: %ld + %ld calls, then %ld with %ld in "
	    "flight\n",
	    r->name, o->warmup, o->calls, o->tput_calls, o->inflight);
	stdio_run(o, argv, r);
}

static void
run_direct(const struct bench_opts *o, struct bench_result *r)
{
	fprintf(stderr,
	    "bench: direct: %ld connects, %ld + %ld calls, then "
	    "%ld with %ld in flight\n",
	    o->spawns, o->warmup, o->calls, o->tput_calls, o->inflight);
	if (direct_startup(o, r) == 0)
		direct_run(o, r);
}

static void
run_remote(const struct bench_opts *o, struct bench_result *r, int silent)
{
	char *argv[] = { (char *)o->node, (char *)o->remote, (char *)o->url,
		"--transport", "http-only", silent ? "--silent" : NULL, NULL };

	if (o->remote == NULL || access(o->remote, R_OK) < 0) {
		r->skipped = 1;
		snprintf(r->why, sizeof(r->why), "%s",
		    o->remote == NULL ? "no --mcp-remote given"
		                      : "mcp-remote proxy.js not found");
		return;
	}
	run_stdio(o, r, argv);
}

static void
run_all(const struct bench_opts *o, struct bench_result *r)
{
	char *bridge[] = { (char *)o->bridge, "run", "--url", (char *)o->url,
		NULL };

	run_direct(o, &r[SUBJ_DIRECT]);
	if (access(o->bridge, X_OK) < 0)
		bench_fail(
		    &r[SUBJ_BRIDGE], "%s: %s", o->bridge, strerror(errno));
	else
		run_stdio(o, &r[SUBJ_BRIDGE], bridge);
	run_remote(o, &r[SUBJ_REMOTE], 0);
	if (o->remote_silent)
		run_remote(o, &r[SUBJ_SILENT], 1);
	else
		r[SUBJ_SILENT].skipped = 1;
}

int
main(int argc, char **argv)
{
	static const char *const names[SUBJ_MAX] = { "direct", "mcp-bridge",
		"mcp-remote", "mcp-remote --silent" };
	struct bench_result r[SUBJ_MAX];
	struct bench_opts o;
	char cfg[] = "/tmp/bench-mcp-remote.XXXXXX";
	struct proc up;
	int i, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	parse_args(&o, argc, argv);
	machine(&o);
	for (i = 0; i < SUBJ_MAX; i++)
		bench_result_init(&r[i], names[i]);
	if (mkdtemp(cfg) == NULL ||
	    setenv("MCP_REMOTE_CONFIG_DIR", cfg, 1) < 0) {
		fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if (start_upstream(&o, &up) < 0) {
		rm_tree(cfg);
		return 1;
	}
	run_all(&o, r);
	proc_close(&up, 0);
	rm_tree(cfg);
	report_table(&o, r);
	if (o.json)
		report_json(&o, r);
	for (i = 0; i < SUBJ_MAX; i++)
		rc |= r[i].failed;
	return rc;
}

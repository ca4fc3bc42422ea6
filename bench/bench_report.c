/* SPDX-License-Identifier: ISC */
#include "bench_report.h"

#include <stdio.h>
#include <string.h>

#define DASH12 "------------"
#define DASH15 "---------------"
#define DASH40 "----------------------------------------"

enum row {
	ROW_START,
	ROW_P50,
	ROW_P99,
	ROW_TPUT,
	ROW_RSS_IDLE,
	ROW_ANON_IDLE,
	ROW_RSS_AFTER,
	ROW_CPU,
	ROW_ERR_RUN,
	ROW_ERR_CALL,
	ROW_RPC_ERR,
	ROW_UP_CONNS,
	ROW_UP_PEAK,
	ROW_UP_REQ,
	ROW_MAX,
};

/* One row of the table: label, JSON key, decimals, derived columns. */
struct rowdef {
	const char *label;
	const char *json;
	int prec;
	int ratio; /* bridge/remote */
	int diff;  /* bridge-direct */
};

static const struct rowdef rows[ROW_MAX] = {
	[ROW_START] = { "spawn->initialize ms (median)", "start_ms", 1, 1, 0 },
	[ROW_P50] = { "latency p50 ms", "p50_ms", 3, 1, 1 },
	[ROW_P99] = { "latency p99 ms", "p99_ms", 3, 1, 1 },
	[ROW_TPUT] = { "throughput calls/s", "calls_per_s", 0, 1, 0 },
	[ROW_RSS_IDLE] = { "idle RSS MB (process tree)", "rss_idle_mb", 1, 1,
	    0 },
	[ROW_ANON_IDLE] = { "idle RssAnon MB (not file-backed)", "anon_idle_mb",
	    1, 1, 0 },
	[ROW_RSS_AFTER] = { "RSS after run MB (process tree)", "rss_after_mb",
	    1, 1, 0 },
	[ROW_CPU] = { "CPU us per call (process tree)", "cpu_us_per_call", 1, 1,
	    0 },
	[ROW_ERR_RUN] = { "stderr lines (whole run)", "stderr_lines", 0, 0, 0 },
	[ROW_ERR_CALL] = { "stderr lines per call", "stderr_lines_per_call", 3,
	    0, 0 },
	[ROW_RPC_ERR] = { "JSON-RPC error answers", "rpc_errors", 0, 0, 0 },
	[ROW_UP_CONNS] = { "upstream conns opened during calls",
	    "upstream_conns_opened", 0, 0, 0 },
	[ROW_UP_PEAK] = { "upstream conns open at once (peak)",
	    "upstream_conns_peak", 0, 0, 0 },
	[ROW_UP_REQ] = { "upstream HTTP requests per call",
	    "upstream_requests_per_call", 3, 0, 0 },
};

static int
has(const struct bench_result *r)
{
	return !r->skipped && !r->failed;
}

/* The figure of row for r; negative when not measured. */
static double
value(const struct bench_result *r, int row)
{
	switch (row) {
	case ROW_START:
		return r->start_ms;
	case ROW_P50:
		return r->p50_ms;
	case ROW_P99:
		return r->p99_ms;
	case ROW_TPUT:
		return r->tput;
	case ROW_RSS_IDLE:
		return r->rss_idle_mb;
	case ROW_ANON_IDLE:
		return r->anon_idle_mb;
	case ROW_RSS_AFTER:
		return r->rss_after_mb;
	case ROW_CPU:
		return r->cpu_us;
	case ROW_ERR_RUN:
		return (double)r->err_lines;
	case ROW_ERR_CALL:
		return r->err_call_lines < 0 || r->calls <= 0
		    ? -1
		    : (double)r->err_call_lines / (double)r->calls;
	case ROW_RPC_ERR:
		return (double)r->rpc_errors;
	case ROW_UP_CONNS:
		return (double)r->up_conns;
	case ROW_UP_PEAK:
		return (double)r->up_peak;
	default:
		return r->up_requests < 0 || r->calls <= 0
		    ? -1
		    : (double)r->up_requests / (double)r->calls;
	}
}

static void
label(const struct bench_opts *o, int row, char *buf, size_t sz)
{
	if (row == ROW_TPUT)
		snprintf(
		    buf, sz, "throughput calls/s (%ld in flight)", o->inflight);
	else
		snprintf(buf, sz, "%s", rows[row].label);
}

static void
cell(const struct bench_result *r, int row, char *buf, size_t sz)
{
	double v = value(r, row);

	if (r->skipped)
		snprintf(buf, sz, "n/a");
	else if (r->failed)
		snprintf(buf, sz, "FAILED");
	else if (v < 0)
		snprintf(buf, sz, "-");
	else
		snprintf(buf, sz, "%.*f", rows[row].prec, v);
}

/* bridge/remote and bridge-direct cells of a row. */
static void
derived(
    const struct bench_result *r, int row, char *ratio, char *diff, size_t sz)
{
	const struct bench_result *b = &r[SUBJ_BRIDGE];
	const struct bench_result *m = &r[SUBJ_REMOTE];
	const struct bench_result *d = &r[SUBJ_DIRECT];
	double bv = value(b, row), mv = value(m, row), dv = value(d, row);

	snprintf(ratio, sz, "%s", "");
	snprintf(diff, sz, "%s", "");
	if (rows[row].ratio && has(b) && has(m) && bv >= 0 && mv > 0)
		snprintf(ratio, sz, "%.3f", bv / mv);
	if (rows[row].diff && has(b) && has(d) && bv >= 0 && dv >= 0)
		snprintf(diff, sz, "%+.3f", bv - dv);
}

static void
print_row(const struct bench_opts *o, const struct bench_result *r, int row)
{
	char lab[96], c[SUBJ_MAX][32], ratio[32], diff[32];
	int s, ns = o->remote_silent ? SUBJ_MAX : SUBJ_SILENT;

	label(o, row, lab, sizeof(lab));
	for (s = 0; s < ns; s++)
		cell(&r[s], row, c[s], sizeof(c[s]));
	derived(r, row, ratio, diff, sizeof(ratio));
	printf("| %-38s |", lab);
	for (s = 0; s < ns; s++)
		printf(" %10s |", c[s]);
	printf(" %13s | %13s |\n", ratio, diff);
}

static void
print_head(const struct bench_opts *o)
{
	printf("| %-38s | %10s | %10s | %10s |", "measure", "direct",
	    "mcp-bridge", "mcp-remote");
	if (o->remote_silent)
		printf(" %10s |", "remote -s");
	printf(" %13s | %13s |\n", "bridge/remote", "bridge-direct");
	printf("|%s|%s|%s|%s|", DASH40, DASH12, DASH12, DASH12);
	if (o->remote_silent)
		printf("%s|", DASH12);
	printf("%s|%s|\n", DASH15, DASH15);
}

enum { T_START, T_P50, T_P99, T_RSS, T_STDERR, T_MAX };

struct target {
	const char *name; /* JSON key */
	const char *what; /* for people */
	double value;
	double limit;
	int known; /* value could be measured */
};

static void
targets(const struct bench_result *r, struct target *t)
{
	const struct bench_result *b = &r[SUBJ_BRIDGE];
	const struct bench_result *m = &r[SUBJ_REMOTE];
	const struct bench_result *d = &r[SUBJ_DIRECT];
	int bm = has(b) && has(m) && m->start_ms > 0;

	t[T_START] = (struct target){ "startup_ratio",
		"start-up <= 1/20 of mcp-remote's (bridge/remote)",
		bm ? b->start_ms / m->start_ms : -1, TARGET_START_RATIO, bm };
	t[T_P50] = (struct target){ "added_p50_ms",
		"added latency p50 <= 0.1 ms over direct",
		b->p50_ms - d->p50_ms, TARGET_ADDED_P50, has(b) && has(d) };
	t[T_P99] = (struct target){ "added_p99_ms",
		"added latency p99 <= 0.5 ms over direct",
		b->p99_ms - d->p99_ms, TARGET_ADDED_P99, has(b) && has(d) };
	t[T_RSS] = (struct target){ "idle_rss_mb", "idle RSS <= 8 MB",
		b->rss_idle_mb, TARGET_IDLE_RSS, has(b) };
	t[T_STDERR] = (struct target){ "stderr_lines_during_calls",
		"zero stderr lines per call", (double)b->err_call_lines, 0,
		has(b) };
}

static void
print_targets(const struct bench_opts *o, const struct bench_result *r)
{
	struct target t[T_MAX];
	int i;

	targets(r, t);
	printf("\n");
	for (i = 0; i < T_MAX; i++) {
		if (!t[i].known) {
			printf("N/A   %s (not measured)\n", t[i].what);
			continue;
		}
		printf("%s  %s: ", t[i].value <= t[i].limit ? "PASS" : "MISS",
		    t[i].what);
		if (i == T_START)
			printf("%.1f ms vs %.1f ms = 1/%.0f\n",
			    r[SUBJ_BRIDGE].start_ms, r[SUBJ_REMOTE].start_ms,
			    1 / t[i].value);
		else if (i == T_RSS)
			printf("%.2f MB\n", t[i].value);
		else if (i == T_STDERR)
			printf("%.0f lines over %ld calls\n", t[i].value,
			    r[SUBJ_BRIDGE].calls);
		else
			printf("%+.3f ms\n", t[i].value);
	}
	(void)o;
}

void
report_table(const struct bench_opts *o, const struct bench_result *r)
{
	int row, s;

	print_head(o);
	for (row = 0; row < ROW_MAX; row++)
		print_row(o, r, row);
	printf("\ndirect start-up is connect + initialize (no process); "
	       "upstream answers %s;\n%ld warm-up calls, %ld calls with %ld "
	       "in flight; idle RSS after %ld ms;\n%ld CPUs, load average "
	       "%s before the run.\n",
	    o->sse ? "text/event-stream" : "application/json", o->warmup,
	    o->tput_calls, o->inflight, o->idle_ms, o->ncpu, o->load);
	for (s = 0; s < SUBJ_MAX; s++) {
		if (r[s].failed || (r[s].skipped && r[s].why[0]))
			printf("%s: %s: %s\n", r[s].name,
			    r[s].failed ? "FAILED" : "skipped", r[s].why);
	}
	if (r[SUBJ_BRIDGE].rpc_errors > 0)
		printf("WARNING: mcp-bridge answered %ld calls with an error\n",
		    r[SUBJ_BRIDGE].rpc_errors);
	print_targets(o, r);
}

/* A JSON string literal of s. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned)(unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
json_num(double v, int known)
{
	if (known)
		printf("%.6g", v);
	else
		printf("null");
}

static void
json_subject(const struct bench_result *r)
{
	int row;

	printf("{\"name\":");
	json_str(r->name);
	printf(",\"status\":\"%s\",\"why\":",
	    r->skipped      ? "skipped"
	        : r->failed ? "failed"
	                    : "ok");
	json_str(r->why);
	for (row = 0; row < ROW_MAX; row++) {
		printf(",\"%s\":", rows[row].json);
		json_num(value(r, row), has(r) && value(r, row) >= 0);
	}
	printf(",\"mean_ms\":");
	json_num(r->mean_ms, has(r) && r->mean_ms >= 0);
	printf(",\"max_ms\":");
	json_num(r->max_ms, has(r) && r->max_ms >= 0);
	printf(",\"calls\":%ld}", r->calls);
}

void
report_json(const struct bench_opts *o, const struct bench_result *r)
{
	struct target t[T_MAX];
	int i, ns = o->remote_silent ? SUBJ_MAX : SUBJ_SILENT;

	targets(r, t);
	printf("{\"ncpu\":%ld,\"loadavg\":\"%s\",", o->ncpu, o->load);
	printf("\"upstream\":\"%s\",\"calls\":%ld,\"warmup\":%ld,"
	       "\"inflight\":%ld,\"tput_calls\":%ld,\"spawns\":%ld,"
	       "\"subjects\":[",
	    o->sse ? "sse" : "json", o->calls, o->warmup, o->inflight,
	    o->tput_calls, o->spawns);
	for (i = 0; i < ns; i++) {
		if (i > 0)
			putchar(',');
		json_subject(&r[i]);
	}
	printf("],\"targets\":[");
	for (i = 0; i < T_MAX; i++) {
		printf(
		    "%s{\"name\":\"%s\",\"value\":", i ? "," : "", t[i].name);
		json_num(t[i].value, t[i].known);
		printf(",\"limit\":%.6g,\"pass\":%s}", t[i].limit,
		    !t[i].known                    ? "null"
		        : t[i].value <= t[i].limit ? "true"
		                                   : "false");
	}
	printf("]}\n");
}

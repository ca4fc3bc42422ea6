/* SPDX-License-Identifier: ISC */
/*
 * bench: shared types of the benchmark driver (options and the figures
 * measured for one subject: the direct client, mcp-bridge, mcp-remote).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>

struct bench_opts {
	const char *bridge;   /* mcp-bridge binary */
	const char *remote;   /* mcp-remote's dist/proxy.js, or NULL */
	const char *node;     /* node binary (PATH lookup) */
	const char *upstream; /* bench_upstream binary */
	long calls;           /* sequential tools/call measured */
	long inflight;        /* calls in flight for throughput */
	long tput_calls;      /* calls in the throughput phase */
	long spawns;          /* start-up samples */
	long warmup;          /* unmeasured calls before the sequential ones */
	long idle_ms;         /* settle time before the idle RSS */
	long timeout_ms;      /* longest wait for any one answer */
	int json;             /* also print one line of JSON */
	int sse;              /* upstream answers as text/event-stream */
	int remote_silent;    /* add a column: mcp-remote --silent */
	int port;             /* upstream's port, once started */
	char url[64];         /* http://127.0.0.1:PORT/mcp */
	long ncpu;            /* CPUs online */
	char load[32];        /* load averages before the run */
};

/* The subjects, in table order. */
enum bench_subject {
	SUBJ_DIRECT = 0,
	SUBJ_BRIDGE,
	SUBJ_REMOTE,
	SUBJ_SILENT, /* mcp-remote --silent, only with opts.remote_silent */
	SUBJ_MAX,
};

/* Targets from the issue. */
#define TARGET_START_RATIO (1.0 / 20) /* bridge/mcp-remote start-up */
#define TARGET_ADDED_P50   0.1        /* ms over direct */
#define TARGET_ADDED_P99   0.5        /* ms over direct */
#define TARGET_IDLE_RSS    8.0        /* MB */

/* Figures for one subject; a negative figure was not measured. */
struct bench_result {
	const char *name;
	int skipped; /* not run on purpose (e.g. mcp-remote missing) */
	int failed;  /* a phase could not run: see why */
	char why[200];
	double start_ms; /* spawn -> initialize answer, median */
	double p50_ms;
	double p99_ms;
	double mean_ms;
	double max_ms;
	double tput; /* calls/s with opts.inflight in flight */
	double rss_idle_mb;
	double anon_idle_mb; /* the anonymous (private) part of it */
	double rss_after_mb;
	double cpu_us;       /* user + system CPU per call (process tree) */
	long err_lines;      /* stderr lines over the whole measured run */
	long err_call_lines; /* stderr lines while the calls ran */
	long calls;          /* calls made in the run (warm-up included) */
	long rpc_errors;     /* calls answered with a JSON-RPC error */
	long up_conns;       /* upstream connections opened during the calls */
	long up_peak;        /* most upstream connections open at once */
	long up_requests;    /* upstream HTTP requests during the calls */
};

/* Resets r to "nothing measured" for subject `name`. */
void bench_result_init(struct bench_result *r, const char *name);

/* Marks r failed with a reason (printf-style). */
void bench_fail(struct bench_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* BENCH_H */

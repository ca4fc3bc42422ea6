/* SPDX-License-Identifier: ISC */
/*
 * bench_direct: the baseline. An HTTP/1.1 keep-alive client on raw
 * sockets sending the same POST bodies and headers as the bridge
 * (Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version).
 */
#ifndef BENCH_DIRECT_H
#define BENCH_DIRECT_H

#include "bench.h"

/*
 * Connect + initialize round trip, opts->spawns times, median into
 * r->start_ms (there is no process to spawn). Returns 0 or -1.
 */
int direct_startup(const struct bench_opts *o, struct bench_result *r);

/*
 * initialize + notifications/initialized on one connection, warm-up,
 * sequential calls (p50, p99), then opts->inflight connections with one
 * call each in flight (throughput). Returns 0 or -1 (r failed).
 */
int direct_run(const struct bench_opts *o, struct bench_result *r);

/* The upstream's counters (GET /stats on a connection of its own). */
struct upstats {
	long accepted; /* connections accepted */
	long peak;     /* most connections open at once */
	long requests; /* HTTP requests handled */
};

/*
 * Reads the counters; reset restarts the peak from the connections
 * open now. Returns 0 or -1.
 */
int direct_upstats(const struct bench_opts *o, int reset, struct upstats *s);

/* The figures between two readings (a with reset, then b) into r. */
void direct_upstats_diff(
    const struct upstats *a, const struct upstats *b, struct bench_result *r);

#endif /* BENCH_DIRECT_H */

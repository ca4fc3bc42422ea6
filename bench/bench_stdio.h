/* SPDX-License-Identifier: ISC */
/*
 * bench_stdio: measures a stdio MCP server process (mcp-bridge,
 * mcp-remote) the way an IDE drives it: spawn, initialize, calls.
 */
#ifndef BENCH_STDIO_H
#define BENCH_STDIO_H

#include "bench.h"

/*
 * Spawns argv opts->spawns times and records the median time from spawn
 * to the initialize answer in r->start_ms. Returns 0 or -1 (r failed).
 */
int stdio_startup(
    const struct bench_opts *o, char *const argv[], struct bench_result *r);

/*
 * One session: initialize, idle RSS, warm-up, sequential calls (p50,
 * p99), calls with opts->inflight in flight (throughput), RSS after,
 * stderr lines. Returns 0 or -1 (r failed).
 */
int stdio_run(
    const struct bench_opts *o, char *const argv[], struct bench_result *r);

#endif /* BENCH_STDIO_H */

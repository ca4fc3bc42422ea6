/* SPDX-License-Identifier: ISC */
/* bench_stats: clocks and order statistics for the benchmark driver. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>

/* Monotonic time in milliseconds (sub-microsecond resolution). */
double stats_now_ms(void);

/* Sleeps for ms milliseconds (restarts on signals). */
void stats_sleep_ms(long ms);

/*
 * The q-quantile (0 < q <= 1) of v[0..n) by the nearest-rank method;
 * sorts v in place. Returns -1 for n == 0.
 */
double stats_quantile(double *v, size_t n, double q);

/* Arithmetic mean of v[0..n), -1 for n == 0. */
double stats_mean(const double *v, size_t n);

#endif /* BENCH_STATS_H */

/* SPDX-License-Identifier: ISC */
/*
 * bench_report: the figures as a Markdown table with the bridge/remote
 * ratios and bridge-direct differences, a PASS/MISS line per target, and
 * the same as one line of JSON.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "bench.h"

/* Prints the table and the target lines to stdout; r[SUBJ_MAX]. */
void report_table(const struct bench_opts *o, const struct bench_result *r);

/* Prints one line of JSON with every figure and target to stdout. */
void report_json(const struct bench_opts *o, const struct bench_result *r);

#endif /* BENCH_REPORT_H */

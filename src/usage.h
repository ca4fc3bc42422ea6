/* SPDX-License-Identifier: ISC */
/*
 * usage: call counters of one bridge process, per hosted server and per
 * tool (calls, errors, latency histogram), and the state files that let
 * `mcp-bridge status` show them for every running bridge. Nothing leaves
 * the machine.
 *
 * Each `run` process writes its counters to
 * $XDG_RUNTIME_DIR/mcp-bridge/usage-<pid>.json (fallback
 * ${TMPDIR:-/tmp}/mcp-bridge-<uid>/), a 0600 file in a 0700 directory
 * owned by the user (refused when others may write to it), replaced
 * atomically. `status` reads every such file whose process is alive,
 * removes those of dead processes, and validates each one like any
 * untrusted input (usage_parse; the pid must match the file name).
 *
 * Document (version 1), keys in this order:
 *   {"v":1,"pid":N,"started":UNIX_S,"updated":UNIX_S,
 *    "servers":{"<server id>":{COUNTERS,
 *                              "tools":{"<tool>":{COUNTERS},...}},...}}
 *   COUNTERS = "calls":N,"errors":N,"ms_sum":N,"ms_max":N,
 *              "p50":MS,"p95":MS,"hist":[N x USAGE_NBUCKETS]
 * Tool names are the server's own (not the exposed "<id>__<name>").
 * hist[i] counts the calls with usage_bounds[i-1] < ms <= usage_bounds[i],
 * ms in whole milliseconds, upper bounds 10, 25, 50, 100, 250, 500, 1000,
 * 2500, 5000, 10000, 30000 and +inf (hist[0]: 0-10 ms; hist[11]: more
 * than 30 s).
 * p50/p95 are estimates from the histogram (usage_quantile), recomputed
 * by the reader, never trusted from a file. A server's counters are the
 * sums of its tools'. Counters saturate at USAGE_MAX_COUNT.
 *
 * Layer 2: pure, except usage_write (writes a file), usage_read_dir and
 * usage_read_all (read and remove files).
 */
#ifndef USAGE_H
#define USAGE_H

#include <stddef.h>
#include <stdint.h>

/* Histogram buckets: usage_bounds (ms), the last one unbounded. */
#define USAGE_NBUCKETS 12

/* Servers per process; the calls of any further server count under
 * USAGE_OTHER. */
#define USAGE_MAX_SERVERS 256
/* Tools per server, and tool entries in all (USAGE_OTHER entries aside);
 * further tools count under the server's USAGE_OTHER tool. */
#define USAGE_MAX_TOOLS   256
#define USAGE_MAX_ENTRIES 4096
/* Longest server id or tool name, in bytes; longer names, and names that
 * are not UTF-8 or hold control characters, count under USAGE_OTHER. */
#define USAGE_MAX_NAME 128
/* Largest counter value (2^53 - 1: exact in every JSON reader). */
#define USAGE_MAX_COUNT 9007199254740991LL
/* Largest usage file `status` reads, files read, bytes returned. */
#define USAGE_MAX_FILE  (4u * 1024 * 1024)
#define USAGE_MAX_FILES 256
#define USAGE_MAX_TOTAL (32u * 1024 * 1024)

#define USAGE_OTHER "(other)"

/* The bucket upper bounds (ms); the last one, +inf, is written -1. */
extern const int64_t usage_bounds[USAGE_NBUCKETS];

struct usage;

/* The process a document belongs to (usage_parse). */
struct usage_meta {
	long pid;        /* > 0 */
	int64_t started; /* unix seconds */
	int64_t updated; /* unix seconds */
};

/* New, empty. */
struct usage *usage_new(void);

/* Frees and sets *up to NULL; NULL is fine. */
void usage_free(struct usage **up);

/*
 * One finished tools/call: `server` id and the server's own `tool` name
 * (both copied), `error` = a JSON-RPC error or result.isError, `ms` the
 * latency (negative counts as 0). A name that breaks the name rules
 * counts as USAGE_OTHER. `u` NULL: nothing.
 */
void usage_record(struct usage *u, const char *server, const char *tool,
    int error, int64_t ms);

/* 1 when something was recorded since the last successful usage_write. */
int usage_dirty(const struct usage *u);

/* Calls recorded in all (saturated). */
int64_t usage_calls(const struct usage *u);

/* Bucket index of a latency of `ms`. */
int usage_bucket(int64_t ms);

/*
 * Estimate of the `q` quantile (0 < q <= 1) of `hist`, in ms: the bucket
 * holding rank ceil(q * calls), linear inside it, capped at `max`; 0
 * when empty.
 */
int64_t
usage_quantile(const int64_t hist[USAGE_NBUCKETS], double q, int64_t max);

/* The document (new, caller frees). */
char *usage_json(const struct usage *u, long pid, int64_t started, int64_t now);

/*
 * Parses and validates one document: version, types, name rules, bounds,
 * hist sum = calls, errors <= calls, server = sum of its tools. New
 * usage and *meta, or NULL with one line in `err`. Pure.
 */
struct usage *usage_parse(const char *text, size_t len, struct usage_meta *meta,
    char *err, size_t errsz);

/*
 * Writes usage_json atomically (0600 temporary file + rename) to `path`,
 * creating the parent directory 0700. 0 and dirty cleared; -1 with one
 * log line for the first failure of `u` (dirty stays set, so the next
 * write retries).
 */
int usage_write(
    struct usage *u, const char *path, long pid, int64_t started, int64_t now);

/*
 * $XDG_RUNTIME_DIR/mcp-bridge/usage-<pid>.json, or
 * ${TMPDIR:-/tmp}/mcp-bridge-<uid>/usage-<pid>.json, into `out`. 0/-1.
 */
int usage_path(long pid, char *out, size_t outsz);

/*
 * Reads every usage-<pid>.json in `dir` whose process is alive
 * (kill(pid, 0) succeeds or fails with EPERM), re-encoded as usage_json
 * (p50/p95 recomputed), ordered by pid; removes the files (and stale
 * temporary files) of dead processes. Invalid files are skipped with one
 * log line each. A JSON array (new; "[]" when the directory is missing),
 * or NULL when `dir` cannot be read, is not the user's own, or others
 * may write to it.
 */
char *usage_read_dir(const char *dir);

/* usage_read_dir of the directory of usage_path. */
char *usage_read_all(void);

/*
 * Human summary of a usage_read_all array `all`: one line per bridge
 * (pid, uptime, calls, errors) and its `top` busiest tools as
 * "<server>__<tool>" (new; "" when there is none), or NULL when `all`
 * is not such an array.
 */
char *usage_summary(const char *all, int64_t now, size_t top);

#endif

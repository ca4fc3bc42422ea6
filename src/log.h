/* SPDX-License-Identifier: ISC */
/*
 * log: levelled logging to stderr (or a log file), never to stdout.
 *
 * stdout belongs to the MCP protocol, so nothing here may touch it. The
 * default level is LOG_WARN: start-up problems and failures only, nothing
 * per message. Secrets must never be passed to these functions; use
 * log_redact() to show that a value exists without showing it.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR = 0, /* failures the user must see */
	LOG_WARN,      /* degraded but working; the default */
	LOG_INFO,      /* lifecycle events (connect, session, shutdown) */
	LOG_DEBUG,     /* per-message detail, never secrets */
	LOG__MAX
};

/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_level_parse(const char *name, enum log_level *out);

/* Sets the threshold. */
void log_set_level(enum log_level level);

/* Current threshold. */
enum log_level log_get_level(void);

/*
 * Sends logs to `path` (appended, created 0600) instead of stderr.
 * Returns 0 or -1 (and keeps stderr) if the file cannot be opened.
 */
int log_open_file(const char *path);

/* Closes a log file opened with log_open_file(). */
void log_close(void);

/* True if messages at `level` would be written (guards costly formatting). */
int log_enabled(enum log_level level);

void log_write(enum log_level level, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Writes `len` and at most the last 4 characters of a secret-like value
 * into `out` as "[redacted, N bytes]"; never the value itself.
 * Returns `out` (borrowed).
 */
const char *log_redact(size_t len, char *out, size_t outsz);

#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif

/* SPDX-License-Identifier: ISC */
/*
 * log: one line per call, "mcp-bridge: level: message [file:line]".
 * The file/line suffix is only added at debug level, to keep the
 * default output short enough for IDE log panes.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level threshold = LOG_WARN;
static int log_fd = STDERR_FILENO;

static const char *const level_names[LOG__MAX] = {
	"error", /* LOG_ERROR */
	"warn",  /* LOG_WARN */
	"info",  /* LOG_INFO */
	"debug", /* LOG_DEBUG */
};

int
log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < LOG__MAX; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	threshold = level;
}

enum log_level
log_get_level(void)
{
	return threshold;
}

int
log_enabled(enum log_level level)
{
	return level <= threshold;
}

int
log_open_file(const char *path)
{
	int fd;

	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		log_error("cannot open log file %s: %s", path, strerror(errno));
		return -1;
	}
	log_close();
	log_fd = fd;
	return 0;
}

void
log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void
log_write(
    enum log_level level, const char *file, int line, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n, m;

	if (!log_enabled(level))
		return;
	n = snprintf(buf, sizeof(buf), "mcp-bridge: %s: ", level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(buf) - 64)
		n = (int)sizeof(buf) - 64;
	if (threshold >= LOG_DEBUG)
		n += snprintf(
		    buf + n, sizeof(buf) - (size_t)n, " [%s:%d]", file, line);
	/* A message must stay one line: fold any newline. */
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	/* One write(2) per line so concurrent processes do not interleave. */
	while (write(log_fd, buf, (size_t)n) == -1 && errno == EINTR)
		;
}

const char *
log_redact(size_t len, char *out, size_t outsz)
{
	snprintf(out, outsz, "[redacted, %zu bytes]", len);
	return out;
}

/* SPDX-License-Identifier: ISC */
#include "bench_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

const char msg_initialized[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";

static int
checked(int n, size_t sz)
{
	return n < 0 || (size_t)n >= sz ? -1 : n;
}

int
msg_initialize(char *buf, size_t sz, long id)
{
	return checked(
	    snprintf(buf, sz,
	        "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	        "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
	        "\"" MSG_PROTOCOL "\",\"capabilities\":{},\"clientInfo\":"
	        "{\"name\":\"mcp-bridge-bench\",\"version\":\"1\"}}}",
	        id),
	    sz);
}

int
msg_call(char *buf, size_t sz, long id)
{
	return checked(
	    snprintf(buf, sz,
	        "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	        "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
	        "\"arguments\":{\"text\":\"hello\"}}}",
	        id),
	    sz);
}

enum msg_kind
msg_answer(const char *p, size_t n, long *id)
{
	struct jkey k[] = { { "id", { NULL, 0 } }, { "result", { NULL, 0 } },
		{ "error", { NULL, 0 } }, { "method", { NULL, 0 } } };
	char num[32], *end;

	if (jscan_object(p, n, k, 4) < 0 || k[0].val.p == NULL ||
	    k[3].val.p != NULL || k[0].val.n >= sizeof(num))
		return MSG_OTHER;
	memcpy(num, k[0].val.p, k[0].val.n);
	num[k[0].val.n] = '\0';
	errno = 0;
	*id = strtol(num, &end, 10);
	if (errno || end == num || *end != '\0')
		return MSG_OTHER;
	if (k[1].val.p != NULL)
		return MSG_RESULT;
	return k[2].val.p != NULL ? MSG_ERROR : MSG_OTHER;
}

int
msg_sse_data(const char *p, size_t n, const char **js, size_t *jn)
{
	const char *end = p + n, *line = p, *eol;

	while (line < end) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) >= 5 &&
		    memcmp(line, "data:", 5) == 0) {
			*js = line + 5;
			*jn = (size_t)(eol - line) - 5;
			if (*jn > 0 && (*js)[*jn - 1] == '\r')
				(*jn)--;
			return 0;
		}
		line = eol + 1;
	}
	return -1;
}

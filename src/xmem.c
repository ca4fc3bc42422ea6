/* SPDX-License-Identifier: ISC */
#include "xmem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
x_oom(size_t n)
{
	char msg[96];
	int len;

	len = snprintf(msg, sizeof(msg),
	    "mcp-bridge: error: out of memory (%zu bytes); aborting\n", n);
	if (len > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)len);
	abort();
}

void *
x_malloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		x_oom(n);
	return p;
}

void *
x_calloc(size_t nmemb, size_t size)
{
	void *p;

	if ((p = calloc(nmemb ? nmemb : 1, size ? size : 1)) == NULL)
		x_oom(nmemb * size);
	return p;
}

void *
x_realloc(void *p, size_t n)
{
	void *q;

	if ((q = realloc(p, n ? n : 1)) == NULL)
		x_oom(n);
	return q;
}

char *
x_strdup(const char *s)
{
	return x_memdup(s, strlen(s));
}

char *
x_strndup(const char *s, size_t n)
{
	return x_memdup(s, strnlen(s, n));
}

char *
x_memdup(const void *p, size_t n)
{
	char *s;

	if (n == (size_t)-1)
		x_oom(n);
	s = x_malloc(n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *
x_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		x_oom(0);
	s = x_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

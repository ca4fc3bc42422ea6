/* SPDX-License-Identifier: ISC */
#include "secret.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/crypto.h>

#include "xmem.h"

struct secret {
	size_t len;  /* bytes in data, without the NUL */
	char data[]; /* the secret, NUL-terminated */
};

struct secret *
secret_new(const void *p, size_t n)
{
	struct secret *s;

	s = x_malloc(sizeof(*s) + n + 1);
	s->len = n;
	if (n)
		memcpy(s->data, p, n);
	s->data[n] = '\0';
	return s;
}

void
secret_free(struct secret **sp)
{
	struct secret *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	OPENSSL_cleanse(s, sizeof(*s) + s->len + 1);
	free(s);
	*sp = NULL;
}

const char *
secret_data(const struct secret *s)
{
	return s->data;
}

size_t
secret_len(const struct secret *s)
{
	return s->len;
}

int
secret_eq(const struct secret *a, const struct secret *b)
{
	if (a->len != b->len)
		return 0;
	return CRYPTO_memcmp(a->data, b->data, a->len) == 0;
}

void
secret_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

void
secret_protect_process(void)
{
	const struct rlimit none = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0);
#endif
}

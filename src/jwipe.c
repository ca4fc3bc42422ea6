/* SPDX-License-Identifier: ISC */
#include "jwipe.h"

#include <stdlib.h>

#if defined(__APPLE__)
#include <malloc/malloc.h>
#define usable_size(p) malloc_size(p)
#else
#include <malloc.h>
#define usable_size(p) malloc_usable_size(p)
#endif

#include <jansson.h>

#include "secret.h"

static void *
jw_malloc(size_t n)
{
	return malloc(n);
}

static void
jw_free(void *p)
{
	if (p == NULL)
		return;
	secret_wipe(p, usable_size(p));
	free(p);
}

void
jwipe_install(void)
{
	json_set_alloc_funcs(jw_malloc, jw_free);
}

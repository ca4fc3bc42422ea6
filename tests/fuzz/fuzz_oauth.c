/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for what the bridge reads from authorization servers,
 * registries and its own token store: oamsg (metadata, device and token
 * responses, errors, ID-token claims, display cleaning), regmsg (server
 * lists, access answers, problems) and tokset (the stored token set).
 * A token set that parses must dump and parse back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwipe.h"
#include "oamsg.h"
#include "regmsg.h"
#include "secret.h"
#include "tokset.h"

static void
fuzz_oamsg(const char *p, size_t n, const char *z)
{
	struct oamsg_meta m;
	struct oamsg_device d;
	struct oamsg_token t;
	struct oamsg_claims c;
	char err[256], code[64], desc[128], clean[64];

	if (oamsg_meta_parse(p, n, "https://idp.example", &m, err, 256) == 0)
		oamsg_meta_clear(&m);
	if (oamsg_device_parse(p, n, &d, err, sizeof(err)) == 0)
		oamsg_device_clear(&d);
	if (oamsg_token_parse(p, n, &t, err, sizeof(err)) == 0)
		oamsg_token_clear(&t);
	(void)oamsg_error_parse(p, n, code, sizeof(code), desc, sizeof(desc));
	if (oamsg_claims_parse(p, n, &c, err, sizeof(err)) == 0)
		oamsg_claims_clear(&c);
	oamsg_clean(z, clean, sizeof(clean));
	if (strlen(clean) >= sizeof(clean))
		abort();
}

static void
fuzz_regmsg(const char *p, size_t n)
{
	struct regmsg_page pg = { 0 };
	struct regmsg_access a;
	char err[256], out[128];

	(void)regmsg_page_parse(p, n, &pg, err, sizeof(err));
	regmsg_page_clear(&pg);
	if (regmsg_access_parse(p, n, &a, err, sizeof(err)) == 0)
		regmsg_access_clear(&a);
	regmsg_problem(p, n, 500, out, sizeof(out));
}

static void
fuzz_tokset(const char *p, size_t n)
{
	struct secret *blob = secret_new(p, n), *d1, *d2;
	char err[256];
	struct tokset *t = tokset_parse(blob, err, sizeof(err)), *t2;

	secret_free(&blob);
	if (t == NULL)
		return;
	d1 = tokset_dump(t);
	t2 = d1 ? tokset_parse(d1, err, sizeof(err)) : NULL;
	d2 = t2 ? tokset_dump(t2) : NULL;
	if (d1 == NULL || t2 == NULL || d2 == NULL || !secret_eq(d1, d2))
		abort(); /* a stored set must round-trip */
	secret_free(&d1);
	secret_free(&d2);
	tokset_free(&t);
	tokset_free(&t2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *z = malloc(size + 1);

	if (!init) {
		jwipe_install();
		init = 1;
	}
	memcpy(z, data, size);
	z[size] = '\0';
	fuzz_oamsg((const char *)data, size, z);
	fuzz_regmsg((const char *)data, size);
	fuzz_tokset((const char *)data, size);
	free(z);
	return 0;
}

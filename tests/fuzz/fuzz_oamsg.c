/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for oamsg alone, with oracles on what reaches the
 * terminal: every parser on the same input, then the results checked
 * (user code and error code printable ASCII, tokens visible ASCII,
 * cleaned strings free of C0, DEL and C1 controls and within bounds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwipe.h"
#include "oamsg.h"
#include "secret.h"

/* No C0, DEL or C1 (U+0080..U+009F) byte sequence in `s`. */
static void
check_shown(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			abort();
}

static void
check_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			abort();
}

static void
check_secret(const struct secret *s)
{
	if (s != NULL)
		check_ascii(secret_data(s), secret_len(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *p = (const char *)data;
	struct oamsg_meta m;
	struct oamsg_device d;
	struct oamsg_token t;
	struct oamsg_claims c;
	char err[256], code[64], desc[128], clean[64];
	char *z;

	if (!init) {
		jwipe_install();
		init = 1;
	}
	if (oamsg_meta_parse(
	        p, size, "https://idp.example", &m, err, sizeof(err)) == 0) {
		if (m.token_ep == NULL || m.device_ep == NULL ||
		    strcmp(m.issuer, "https://idp.example") != 0)
			abort();
		oamsg_meta_clear(&m);
	} else
		check_shown(err);
	if (oamsg_device_parse(p, size, &d, err, sizeof(err)) == 0) {
		check_secret(d.device_code);
		check_ascii(d.user_code, strlen(d.user_code));
		if (d.interval <= 0 || d.expires_in <= 0 ||
		    d.expires_in > 366LL * 24 * 3600)
			abort();
		oamsg_device_clear(&d);
	}
	if (oamsg_token_parse(p, size, &t, err, sizeof(err)) == 0) {
		if (t.access == NULL || t.expires_in == 0)
			abort();
		check_secret(t.access);
		check_secret(t.refresh);
		check_secret(t.id_token);
		oamsg_token_clear(&t);
	}
	if (oamsg_error_parse(
	        p, size, code, sizeof(code), desc, sizeof(desc)) == 0) {
		check_ascii(code, strlen(code));
		check_shown(desc);
	}
	if (oamsg_claims_parse(p, size, &c, err, sizeof(err)) == 0) {
		check_shown(c.iss);
		check_shown(c.sub);
		check_shown(c.email);
		check_shown(c.name);
		for (size_t i = 0; i < c.ngroups; i++)
			check_shown(c.groups[i]);
		oamsg_claims_clear(&c);
	}
	/* oamsg_clean on a NUL-terminated copy, at a size the input picks. */
	z = malloc(size + 1);
	memcpy(z, data, size);
	z[size] = '\0';
	oamsg_clean(z, clean, size ? 1 + data[0] % sizeof(clean) : 1);
	if (strlen(clean) >= (size ? 1 + data[0] % sizeof(clean) : 1u))
		abort();
	check_shown(clean);
	free(z);
	return 0;
}

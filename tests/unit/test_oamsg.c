/* SPDX-License-Identifier: ISC */
/* oamsg: authorization-server messages, forms, ID-token claims, cleaning. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jwipe.h"
#include "oamsg.h"
#include "secret.h"

static char err[512];

static void
setup(void)
{
	jwipe_install();
}

TestSuite(oamsg, .init = setup);

#define ISS "https://idp.example"

static int
meta(const char *js, struct oamsg_meta *m)
{
	return oamsg_meta_parse(js, strlen(js), ISS, m, err, sizeof(err));
}

Test(oamsg, meta_ok_and_optional_revocation)
{
	struct oamsg_meta m;

	cr_assert_eq(meta("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS
	                  "/token\",\"device_authorization_endpoint\":\"" ISS
	                  "/device\",\"jwks_uri\":\"" ISS "/jwks\"}",
	                 &m),
	    0, "%s", err);
	cr_assert_str_eq(m.token_ep, ISS "/token");
	cr_assert_str_eq(m.device_ep, ISS "/device");
	cr_assert_null(m.revoke_ep);
	oamsg_meta_clear(&m);
}

static void
meta_bad(const char *js, const char *part)
{
	struct oamsg_meta m;

	cr_assert_eq(meta(js, &m), -1, "accepted %s", js);
	cr_assert(strstr(err, part) != NULL, "'%s' not in '%s'", part, err);
	cr_assert_null(m.issuer);
}

Test(oamsg, meta_refusals)
{
	meta_bad("{\"issuer\":\"" ISS "/\",\"token_endpoint\":\"" ISS
	         "/t\",\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "not the configured one");
	meta_bad("{\"issuer\":\"https://evil.example\\u001b[2J\"}",
	    "evil.example?[2J");
	meta_bad("{\"issuer\":\"" ISS
	         "\",\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "token_endpoint");
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS "/t\"}",
	    "device flow");
	meta_bad("{\"issuer\":\"" ISS
	         "\",\"token_endpoint\":\"http://idp.example/t\","
	         "\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "token_endpoint");
	meta_bad(
	    "{\"issuer\":\"" ISS "\",\"issuer\":\"" ISS "\"}", "invalid JSON");
	meta_bad("[1]", "not a JSON object");
}

Test(oamsg, meta_too_large)
{
	size_t n = OAMSG_MAX_BODY + 1;
	char *big = malloc(n);
	struct oamsg_meta m;

	memset(big, ' ', n);
	cr_assert_eq(oamsg_meta_parse(big, n, ISS, &m, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too large") != NULL);
	free(big);
}

static int
device(const char *js, struct oamsg_device *d)
{
	return oamsg_device_parse(js, strlen(js), d, err, sizeof(err));
}

Test(oamsg, device_response)
{
	struct oamsg_device d;

	cr_assert_eq(
	    device("{\"device_code\":\"dc\",\"user_code\":\"WDJB-MJHT\","
	           "\"verification_uri\":\"" ISS "/device\","
	           "\"expires_in\":600}",
	        &d),
	    0, "%s", err);
	cr_assert_eq(d.interval, 5, "RFC 8628: 5 when absent");
	cr_assert_null(d.verification_uri_complete);
	cr_assert_str_eq(secret_data(d.device_code), "dc");
	oamsg_device_clear(&d);
	cr_assert_eq(device("{\"device_code\":\"dc\",\"user_code\":\"A\","
	                    "\"verification_uri\":\"" ISS "/device\","
	                    "\"expires_in\":99999999999,\"interval\":2}",
	                 &d),
	    0);
	cr_assert_eq(d.expires_in, 366LL * 24 * 3600, "clamped");
	cr_assert_eq(d.interval, 2);
	oamsg_device_clear(&d);
}

Test(oamsg, device_refusals)
{
	static const char *bad[] = {
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"" ISS "/d\"}", /* no expires_in */
		"{\"device_code\":\"dc\",\"user_code\":\"A "
		"B\",\"verification_uri\":"
		"\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\\u001b\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"javascript:alert(1)\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"file:///etc/passwd\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"" ISS "/d\",\"expires_in\":5,\"interval\":0}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"" ISS "/d\",\"expires_in\":5,\"interval\":1.5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_"
		"uri\":"
		"\"" ISS "/d\",\"expires_in\":\"5\"}",
		"{\"device_code\":\"d "
		"c\",\"user_code\":\"A\",\"verification_uri\":"
		"\"" ISS "/d\",\"expires_in\":5}",
	};
	struct oamsg_device d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(device(bad[i], &d), -1, "accepted %s", bad[i]);
		cr_assert_null(d.device_code);
	}
}

static int
token(const char *js, struct oamsg_token *t)
{
	return oamsg_token_parse(js, strlen(js), t, err, sizeof(err));
}

Test(oamsg, token_response)
{
	struct oamsg_token t;

	cr_assert_eq(token("{\"access_token\":\"at\",\"token_type\":\"bearer\","
	                   "\"expires_in\":600,\"refresh_token\":\"rt\","
	                   "\"id_token\":\"a.b.c\"}",
	                 &t),
	    0, "%s", err);
	cr_assert_str_eq(secret_data(t.access), "at");
	cr_assert_str_eq(secret_data(t.refresh), "rt");
	cr_assert_eq(t.expires_in, 600);
	oamsg_token_clear(&t);
	cr_assert_eq(
	    token("{\"access_token\":\"at\",\"token_type\":\"Bearer\"}", &t),
	    0);
	cr_assert_null(t.refresh);
	cr_assert_eq(t.expires_in, -1);
	oamsg_token_clear(&t);
	cr_assert_eq(
	    token("{\"access_token\":\"at\",\"token_type\":\"mac\"}", &t), -1);
	cr_assert_eq(token("{\"token_type\":\"Bearer\"}", &t), -1);
	cr_assert_eq(
	    token("{\"access_token\":\"a t\",\"token_type\":\"Bearer\"}", &t),
	    -1);
	cr_assert_eq(token("{\"access_token\":\"a\\u00e9\",\"token_type\":"
	                   "\"Bearer\"}",
	                 &t),
	    -1);
	cr_assert_eq(token("{\"access_token\":\"a\\u0000b\",\"token_type\":"
	                   "\"Bearer\"}",
	                 &t),
	    -1);
}

Test(oamsg, errors)
{
	char code[32], desc[16];
	static const char e2[] = "{\"error\":\"x\",\"error_description\":"
	                         "\"\\u001b[31mred text here\"}";

	cr_assert_eq(oamsg_error_parse("{\"error\":\"authorization_pending\"}",
	                 33, code, sizeof(code), desc, sizeof(desc)),
	    0);
	cr_assert_str_eq(code, "authorization_pending");
	cr_assert_str_eq(desc, "");
	cr_assert_eq(oamsg_error_parse(e2, strlen(e2), code, sizeof(code), desc,
	                 sizeof(desc)),
	    0);
	cr_assert_str_eq(desc, "?[31mred text h", "cleaned and cut");
	cr_assert_eq(oamsg_error_parse("<html>", 6, code, 32, desc, 16), -1);
	cr_assert_eq(
	    oamsg_error_parse("{\"error\":\"a b\"}", 15, code, 32, desc, 16),
	    -1);
}

Test(oamsg, form)
{
	struct buf b;

	buf_init_secret(&b, 1 << 20);
	cr_assert_eq(oamsg_form_add(&b, "grant_type", "refresh_token"), 0);
	cr_assert_eq(oamsg_form_add(&b, "scope", "openid offline_access"), 0);
	cr_assert_eq(
	    oamsg_form_add(&b, "resource", "https://a.example/x?y=1&z"), 0);
	cr_assert_str_eq(buf_data(&b),
	    "grant_type=refresh_token&scope=openid+offline_access&"
	    "resource=https%3A%2F%2Fa.example%2Fx%3Fy%3D1%26z");
	for (int i = 0; i < 1000; i++) /* growth keeps the content */
		cr_assert_eq(oamsg_form_add(&b, "k", "v~"), 0);
	cr_assert(strncmp(buf_data(&b), "grant_type=refresh_token&", 25) == 0);
	buf_finish(&b);
}

/* base64url without padding. */
static void
b64url(const char *in, char *out)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz0123456789-_";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;

		if (k > 1)
			v |= (unsigned char)in[i + 1] << 8;
		if (k > 2)
			v |= (unsigned char)in[i + 2];
		for (size_t j = 0; j < k + 1; j++)
			out[o++] = t[(v >> (18 - 6 * j)) & 63];
	}
	out[o] = '\0';
}

static int
claims(const char *payload, struct oamsg_claims *c)
{
	char p[2048], jwt[2200];

	b64url(payload, p);
	snprintf(jwt, sizeof(jwt), "eyJhbGciOiJFUzI1NiJ9.%s.c2ln", p);
	return oamsg_claims_parse(jwt, strlen(jwt), c, err, sizeof(err));
}

Test(oamsg, id_token_claims)
{
	struct oamsg_claims c;

	cr_assert_eq(
	    claims("{\"sub\":\"alice\",\"email\":\"alice@example.com\","
	           "\"name\":\"Alice\\u001b[0m\",\"groups\":[\"eng\",1,"
	           "\"mcp-users\"],\"exp\":1795376875}",
	        &c),
	    0, "%s", err);
	cr_assert_str_eq(c.sub, "alice");
	cr_assert_str_eq(c.email, "alice@example.com");
	cr_assert_str_eq(c.name, "Alice?[0m");
	cr_assert_eq(c.ngroups, 2, "non-strings skipped");
	cr_assert_str_eq(c.groups[1], "mcp-users");
	cr_assert_eq(c.exp, 1795376875);
	oamsg_claims_clear(&c);
	cr_assert_eq(claims("[1,2]", &c), -1);
	cr_assert_eq(oamsg_claims_parse("a.b", 3, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.b.c.d", 7, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.b+/.c", 7, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.bbbbb.c", 9, &c, err, 512), -1);
}

Test(oamsg, clean)
{
	char out[8];

	cr_assert_str_eq(oamsg_clean("a\x01\x7f"
	                             "b",
	                     out, sizeof(out)),
	    "a??b");
	cr_assert_str_eq(oamsg_clean("\xc2\x9b"
	                             "2J",
	                     out, sizeof(out)),
	    "?2J");
	cr_assert_str_eq(oamsg_clean("\xff\xfe", out, sizeof(out)), "??");
	/* "é" is 2 bytes: never cut in the middle. */
	cr_assert_str_eq(
	    oamsg_clean("abcdef\xc3\xa9", out, sizeof(out)), "abcdef");
	cr_assert_str_eq(
	    oamsg_clean("ab\xc3\xa9", out, sizeof(out)), "ab\xc3\xa9");
}

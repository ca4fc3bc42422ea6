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

Test(oamsg, meta_full_document)
{
	struct oamsg_meta m;

	cr_assert_eq(meta("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS
	                  "/token\",\"device_authorization_endpoint\":\"" ISS
	                  "/device\",\"revocation_endpoint\":\"" ISS
	                  "/revoke\",\"jwks_uri\":\"" ISS "/jwks\","
	                  "\"response_types_supported\":[\"code\"],"
	                  "\"grant_types_supported\":[\"urn:ietf:params:"
	                  "oauth:grant-type:device_code\"]}",
	                 &m),
	    0, "%s", err);
	cr_assert_str_eq(m.issuer, ISS);
	cr_assert_str_eq(m.revoke_ep, ISS "/revoke");
	cr_assert_str_eq(m.jwks_uri, ISS "/jwks");
	oamsg_meta_clear(&m);
	cr_assert_null(m.token_ep, "clear zeroes");
}

Test(oamsg, meta_http_only_on_loopback)
{
	static const char lo[] = "http://127.0.0.1:8080";
	static const char js[] =
	    "{\"issuer\":\"http://127.0.0.1:8080\",\"token_endpoint\":"
	    "\"http://127.0.0.1:8080/t\",\"device_authorization_endpoint\":"
	    "\"http://localhost:8080/d\"}";
	struct oamsg_meta m;

	cr_assert_eq(
	    oamsg_meta_parse(js, strlen(js), lo, &m, err, 512), 0, "%s", err);
	cr_assert_str_eq(m.device_ep, "http://localhost:8080/d");
	oamsg_meta_clear(&m);
	/* http elsewhere, even only on the optional endpoints. */
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS
	         "/t\",\"device_authorization_endpoint\":\"http://"
	         "idp.example/d\"}",
	    "device_authorization_endpoint");
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"" ISS
	         "/t\",\"device_authorization_endpoint\":\"" ISS "/d\","
	         "\"revocation_endpoint\":\"http://idp.example/r\"}",
	    "revocation_endpoint");
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"ftp://"
	         "idp.example/t\",\"device_authorization_endpoint\":\"" ISS
	         "/d\"}",
	    "token_endpoint");
}

Test(oamsg, meta_more_refusals)
{
	/* The issuer compared exactly: case, port and path count. */
	meta_bad("{\"issuer\":\"https://IDP.example\",\"token_endpoint\":\"" ISS
	         "/t\",\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "https://IDP.example");
	meta_bad("{\"token_endpoint\":\"" ISS "/t\"}", "issuer");
	meta_bad("{\"issuer\":42}", "issuer");
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":\"\","
	         "\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "token_endpoint");
	meta_bad("{\"issuer\":\"" ISS "\",\"token_endpoint\":[\"" ISS
	         "/t\"],\"device_authorization_endpoint\":\"" ISS "/d\"}",
	    "token_endpoint");
	meta_bad("\"" ISS "\"", "JSON"); /* jansson: no bare values */
	meta_bad("", "invalid JSON");
	meta_bad("{\"issuer\":\"" ISS "\"} trailing", "invalid JSON");
}

Test(oamsg, meta_issuer_shown_cleaned)
{
	struct oamsg_meta m;

	/* An 8-bit CSI (U+009B) and DEL in the issuer never reach the
	 * terminal through the error message. */
	cr_assert_eq(
	    meta("{\"issuer\":\"https://x\\u009b2J\\u007f.example\"}", &m), -1);
	cr_assert(strstr(err, "https://x?2J?.example") != NULL, "%s", err);
	for (const char *p = err; *p; p++)
		cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f);
}

Test(oamsg, meta_size_limit_boundary)
{
	static const char doc[] = "{\"issuer\":\"" ISS "\",\"token_endpoint\":"
	                          "\"" ISS "/t\",\"device_authorization_"
	                          "endpoint\":\"" ISS "/d\"}";
	size_t n = OAMSG_MAX_BODY;
	char *big = malloc(n);
	struct oamsg_meta m;

	/* Exactly the limit (padded with JSON whitespace) still parses. */
	cr_assert_not_null(big);
	memset(big, ' ', n);
	memcpy(big, doc, strlen(doc));
	cr_assert_eq(
	    oamsg_meta_parse(big, n, ISS, &m, err, sizeof(err)), 0, "%s", err);
	oamsg_meta_clear(&m);
	free(big);
}

Test(oamsg, device_full_response)
{
	struct oamsg_device d;

	cr_assert_eq(
	    device("{\"device_code\":\"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9"
	           "eS\",\"user_code\":\"WDJB-MJHT\","
	           "\"verification_uri\":\"" ISS "/device\","
	           "\"verification_uri_complete\":\"" ISS
	           "/device?user_code=WDJB-MJHT\","
	           "\"expires_in\":1800,\"interval\":7}",
	        &d),
	    0, "%s", err);
	cr_assert_str_eq(secret_data(d.device_code),
	    "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS");
	cr_assert_str_eq(d.user_code, "WDJB-MJHT");
	cr_assert_str_eq(d.verification_uri, ISS "/device");
	cr_assert_str_eq(
	    d.verification_uri_complete, ISS "/device?user_code=WDJB-MJHT");
	cr_assert_eq(d.expires_in, 1800);
	cr_assert_eq(d.interval, 7);
	oamsg_device_clear(&d);
	cr_assert_null(d.user_code, "clear zeroes");
}

#define DEV(tail)                                                              \
	"{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":"    \
	"\"" ISS "/d\"" tail "}"

Test(oamsg, device_more_refusals)
{
	static const char *bad[] = {
		DEV(",\"expires_in\":5,\"interval\":-1"),
		DEV(",\"expires_in\":5,\"interval\":\"5\""),
		DEV(",\"expires_in\":5,\"interval\":true"),
		DEV(",\"expires_in\":0"),
		DEV(",\"expires_in\":-600"),
		DEV(",\"expires_in\":600.0"),
		DEV(",\"expires_in\":5,\"verification_uri_complete\":"
		    "\"javascript:alert(1)\""),
		DEV(",\"expires_in\":5,\"verification_uri_complete\":"
		    "\"http://evil.example/d\""),
		DEV(",\"expires_in\":5,\"verification_uri_complete\":"
		    "\"https://u:p@idp.example/d\""),
		/* user code: tab, newline, DEL, C1, non-ASCII, empty, long */
		"{\"device_code\":\"dc\",\"user_code\":\"A\\tB\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\\nB\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\\u007f\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\\u009b\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"\xc3\xa9\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":"
		"\"AAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		"\"verification_uri\":\"" ISS "/d\",\"expires_in\":5}",
		/* missing pieces */
		"{\"user_code\":\"A\",\"verification_uri\":\"" ISS
		"/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"verification_uri\":\"" ISS
		"/d\",\"expires_in\":5}",
		"{\"device_code\":\"dc\",\"user_code\":\"A\",\"expires_in\":5}",
		"[]",
	};
	struct oamsg_device d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(device(bad[i], &d), -1, "accepted %s", bad[i]);
		cr_assert_null(d.device_code);
		cr_assert_null(d.user_code);
		cr_assert_null(d.verification_uri);
	}
}

Test(oamsg, device_interval_and_expiry_edges)
{
	struct oamsg_device d;

	cr_assert_eq(device(DEV(",\"expires_in\":1,\"interval\":1"), &d), 0);
	cr_assert_eq(d.expires_in, 1);
	cr_assert_eq(d.interval, 1);
	oamsg_device_clear(&d);
	cr_assert_eq(
	    device(DEV(",\"expires_in\":31622400,\"interval\":null"), &d), 0,
	    "%s", err);
	cr_assert_eq(d.expires_in, 366LL * 24 * 3600, "366 days: kept");
	cr_assert_eq(d.interval, 5, "null: the default");
	oamsg_device_clear(&d);
	cr_assert_eq(device(DEV(",\"expires_in\":31622401"), &d), 0);
	cr_assert_eq(d.expires_in, 366LL * 24 * 3600, "one more: clamped");
	oamsg_device_clear(&d);
	cr_assert_eq(device(DEV(",\"expires_in\":9223372036854775807"), &d), 0);
	cr_assert_eq(d.expires_in, 366LL * 24 * 3600);
	oamsg_device_clear(&d);
	/* Past int64: jansson refuses the number, the body is refused. */
	cr_assert_eq(
	    device(DEV(",\"expires_in\":9223372036854775808"), &d), -1);
}

Test(oamsg, token_full_and_case)
{
	struct oamsg_token t;

	cr_assert_eq(token("{\"access_token\":\"eyJ.at-1_~+/=\",\"token_type"
	                   "\":\"BEARER\",\"expires_in\":3600,"
	                   "\"refresh_token\":\"rt-1\",\"id_token\":"
	                   "\"h.p.s\",\"scope\":\"openid\"}",
	                 &t),
	    0, "%s", err);
	cr_assert_str_eq(secret_data(t.access), "eyJ.at-1_~+/=");
	cr_assert_str_eq(secret_data(t.id_token), "h.p.s");
	cr_assert_eq(t.expires_in, 3600);
	oamsg_token_clear(&t);
	cr_assert_null(t.access, "clear zeroes");
	cr_assert_eq(token("{\"access_token\":\"at\",\"token_type\":\"Bearer\","
	                   "\"refresh_token\":null,\"id_token\":null}",
	                 &t),
	    0, "%s", err);
	cr_assert_null(t.refresh);
	cr_assert_null(t.id_token);
	oamsg_token_clear(&t);
}

Test(oamsg, token_more_refusals)
{
	static const char *bad[] = {
		"{\"access_token\":\"at\"}", /* token_type is required */
		"{\"access_token\":\"at\",\"token_type\":\"DPoP\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearerx\"}",
		"{\"access_token\":\"at\",\"token_type\":\"\"}",
		"{\"access_token\":\"\",\"token_type\":\"Bearer\"}",
		"{\"access_token\":42,\"token_type\":\"Bearer\"}",
		"{\"access_token\":\"a\\u0001\",\"token_type\":\"Bearer\"}",
		"{\"access_token\":\"a\\u007f\",\"token_type\":\"Bearer\"}",
		"{\"access_token\":\"a\\tb\",\"token_type\":\"Bearer\"}",
		"{\"access_token\":\"a\\r\\nX-Evil: 1\",\"token_type\":"
		"\"Bearer\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"refresh_token\":\"r t\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"refresh_token\":\"r\\u0085\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"id_token\":\"a.b.\\u0000\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"expires_in\":\"3600\"}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"expires_in\":0}",
		"{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		"\"access_token\":\"at2\"}",
		"{\"error\":\"invalid_grant\"}",
	};
	struct oamsg_token t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(token(bad[i], &t), -1, "accepted %s", bad[i]);
		cr_assert_null(t.access);
		cr_assert_null(t.refresh);
		cr_assert_null(t.id_token);
	}
}

Test(oamsg, errors_more)
{
	char code[32], desc[64];
	static const char c1[] =
	    "{\"error\":\"access_denied\",\"error_description\":"
	    "\"no\\u009b31m \\u001b]0;title\\u0007 \\u00e9t\\u00e9\"}";
	static const char longcode[] = "{\"error\":\"abcdefghijklmnopqrstuvwx"
	                               "yz0123456789\"}";
	static const char nodesc[] = "{\"error\":\"slow_down\","
	                             "\"error_description\":7}";

	cr_assert_eq(oamsg_error_parse(c1, strlen(c1), code, sizeof(code), desc,
	                 sizeof(desc)),
	    0);
	cr_assert_str_eq(code, "access_denied");
	cr_assert_str_eq(desc, "no?31m ?]0;title? \xc3\xa9t\xc3\xa9");
	/* Not an OAuth error body. */
	cr_assert_eq(oamsg_error_parse("{}", 2, code, 32, desc, 64), -1);
	cr_assert_eq(
	    oamsg_error_parse("{\"error\":42}", 12, code, 32, desc, 64), -1);
	cr_assert_eq(
	    oamsg_error_parse("{\"error\":\"\"}", 12, code, 32, desc, 64), -1);
	cr_assert_eq(oamsg_error_parse(
	                 "{\"error\":\"a\\u001b\"}", 19, code, 32, desc, 64),
	    -1);
	cr_assert_eq(
	    oamsg_error_parse("[\"error\"]", 9, code, 32, desc, 64), -1);
	cr_assert_str_eq(code, "", "code emptied on failure");
	/* A code that does not fit is refused, never cut. */
	cr_assert_eq(oamsg_error_parse(longcode, strlen(longcode), code,
	                 sizeof(code), desc, sizeof(desc)),
	    -1);
	/* A description that is not a string is ignored. */
	cr_assert_eq(
	    oamsg_error_parse(nodesc, strlen(nodesc), code, 32, desc, 64), 0);
	cr_assert_str_eq(code, "slow_down");
	cr_assert_str_eq(desc, "");
}

Test(oamsg, form_reserved_and_unreserved)
{
	struct buf b;

	buf_init(&b, 4096);
	cr_assert_eq(oamsg_form_add(&b, "u", "AZaz09-._~"), 0);
	cr_assert_eq(oamsg_form_add(&b, "r", "!*'();:@&=+$,/?#[]%"), 0);
	cr_assert_eq(oamsg_form_add(&b, "s p", " a  b "), 0);
	cr_assert_eq(oamsg_form_add(&b, "x", "\xc3\xa9\n\x7f"), 0);
	cr_assert_eq(oamsg_form_add(&b, "empty", ""), 0);
	cr_assert_str_eq(buf_data(&b),
	    "u=AZaz09-._~"
	    "&r=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25"
	    "&s+p=+a++b+"
	    "&x=%C3%A9%0A%7F"
	    "&empty=");
	buf_finish(&b);
}

Test(oamsg, form_secret_growth)
{
	struct buf b;
	static const char first[] =
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code&device_code=TTT";
	char tok[301];

	memset(tok, 'T', 300);
	tok[300] = '\0';
	buf_init_secret(&b, 1 << 20);
	cr_assert_eq(oamsg_form_add(&b, "grant_type",
	                 "urn:ietf:params:oauth:grant-type:device_code"),
	    0);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(oamsg_form_add(&b, "device_code", tok), 0);
	cr_assert_eq(buf_len(&b),
	    strlen("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	           "device_code") +
	        200 * (1 + strlen("device_code=") + 300));
	cr_assert(strncmp(buf_data(&b), first, strlen(first)) == 0);
	cr_assert_eq(buf_data(&b)[buf_len(&b) - 1], 'T');
	buf_finish(&b);
}

Test(oamsg, form_cap_reported)
{
	struct buf b;

	buf_init_secret(&b, 16);
	cr_assert_eq(oamsg_form_add(&b, "k", "0123456789abcdef"), -1,
	    "over the buffer's cap");
	buf_finish(&b);
}

Test(oamsg, id_token_claims_more)
{
	struct oamsg_claims c;
	char p[64], jwt[128];

	cr_assert_eq(
	    claims("{\"iss\":\"" ISS "\",\"sub\":\"u1\"}", &c), 0, "%s", err);
	cr_assert_str_eq(c.iss, ISS);
	cr_assert_null(c.email);
	cr_assert_null(c.name);
	cr_assert_null(c.groups);
	cr_assert_eq(c.ngroups, 0);
	cr_assert_eq(c.exp, 0, "0 when absent");
	oamsg_claims_clear(&c);
	/* Groups: ESC and C1 in names cleaned; all non-strings skipped. */
	cr_assert_eq(claims("{\"groups\":[null,{\"a\":1},\"ops\\u001b[5m\","
	                    "[\"x\"],\"\\u009b2J\"],\"exp\":\"soon\"}",
	                 &c),
	    0, "%s", err);
	cr_assert_eq(c.ngroups, 2);
	cr_assert_str_eq(c.groups[0], "ops?[5m");
	cr_assert_str_eq(c.groups[1], "?2J");
	cr_assert_eq(c.exp, 0, "not an integer: ignored");
	oamsg_claims_clear(&c);
	/* Two parts, four dots, empty input, non-JSON and non-object
	 * payloads, padding. */
	cr_assert_eq(oamsg_claims_parse("", 0, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.e30", 5, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.e30.c.d.e", 11, &c, err, 512), -1);
	cr_assert(strstr(err, "compact JWT") != NULL, "%s", err);
	cr_assert_eq(oamsg_claims_parse("a.e30=.c", 8, &c, err, 512), -1);
	cr_assert_eq(oamsg_claims_parse("a.e3 0.c", 8, &c, err, 512), -1);
	cr_assert_eq(claims("not json", &c), -1);
	cr_assert_eq(claims("\"str\"", &c), -1);
	cr_assert_eq(claims("{\"sub\":\"a\",\"sub\":\"b\"}", &c), -1);
	cr_assert_null(c.sub);
	/* "{}" is "e30": empty header and signature parts are fine. */
	cr_assert_eq(oamsg_claims_parse("..", 2, &c, err, 512), -1);
	cr_assert_eq(
	    oamsg_claims_parse(".e30.", 5, &c, err, 512), 0, "%s", err);
	oamsg_claims_clear(&c);
	/* Only the n bytes given are read. */
	b64url("{\"sub\":\"bob\"}", p);
	snprintf(jwt, sizeof(jwt), "h.%s.s.EXTRA", p);
	cr_assert_eq(oamsg_claims_parse(jwt, strlen(jwt) - 6, &c, err, 512), 0,
	    "%s", err);
	cr_assert_str_eq(c.sub, "bob");
	oamsg_claims_clear(&c);
}

Test(oamsg, clean_more)
{
	char out[16], one[1], two[2];

	/* C1 bounds: U+0080 and U+009F become '?', U+00A0 is kept. */
	cr_assert_str_eq(
	    oamsg_clean("\xc2\x80|\xc2\x9f|\xc2\xa0", out, 16), "?|?|\xc2\xa0");
	/* Every C0 control, tab and newline included. */
	cr_assert_str_eq(oamsg_clean("\t\n\r\x1b[0m", out, 16), "????[0m");
	/* Overlong, surrogate, beyond U+10FFFF, lone continuation. */
	cr_assert_str_eq(oamsg_clean("\xc0\xaf", out, 16), "??");
	cr_assert_str_eq(oamsg_clean("\xed\xa0\x80", out, 16), "???");
	cr_assert_str_eq(oamsg_clean("\xf4\x90\x80\x80", out, 16), "????");
	cr_assert_str_eq(oamsg_clean("\x80x", out, 16), "?x");
	/* A sequence cut by the end of the string. */
	cr_assert_str_eq(oamsg_clean("ab\xe2\x82", out, 16), "ab??");
	/* 3- and 4-byte characters kept whole, or dropped whole. */
	cr_assert_str_eq(oamsg_clean("\xe2\x82\xac\xf0\x9f\x98\x80", out, 16),
	    "\xe2\x82\xac\xf0\x9f\x98\x80");
	cr_assert_str_eq(
	    oamsg_clean("abcd\xe2\x82\xac", out, 8), "abcd\xe2\x82\xac");
	cr_assert_str_eq(oamsg_clean("abcde\xe2\x82\xac", out, 8), "abcde");
	cr_assert_str_eq(
	    oamsg_clean("abc\xf0\x9f\x98\x80", out, 8), "abc\xf0\x9f\x98\x80");
	cr_assert_str_eq(oamsg_clean("abcd\xf0\x9f\x98\x80", out, 8), "abcd");
	/* Tiny buffers. */
	cr_assert_str_eq(oamsg_clean("abc", one, 1), "");
	cr_assert_str_eq(oamsg_clean("\xc3\xa9", two, 2), "");
	cr_assert_str_eq(oamsg_clean("", out, 16), "");
	/* outsz 0: nothing written. */
	one[0] = 'Z';
	cr_assert_eq(oamsg_clean("abc", one, 0), one);
	cr_assert_eq(one[0], 'Z');
}

Test(oamsg, clean_output_is_always_safe)
{
	char in[256 * 2 + 1], out[64];

	/* Every byte value, twice, at every buffer size. */
	for (int i = 0; i < 255; i++) {
		in[2 * i] = (char)(i + 1);
		in[2 * i + 1] = (char)(255 - i);
	}
	in[510] = '\0';
	for (size_t sz = 1; sz <= sizeof(out); sz++) {
		size_t n;

		oamsg_clean(in, out, sz);
		n = strlen(out);
		cr_assert_lt(n, sz);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)out[i];

			cr_assert(
			    c >= 0x20 && c != 0x7f, "byte %zu: %02x", i, c);
		}
	}
}

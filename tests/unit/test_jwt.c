/* SPDX-License-Identifier: ISC */
/*
 * jwt: ES256/RS256 access tokens signed here with fresh OpenSSL keys,
 * every rejection path, JWK Set parsing, and (with JWT_IDP_DIR set by
 * jwt-idp.sh) a token minted by the real test IdP.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jwipe.h"
#include "jwt.h"

#define NOW 1800000000LL
#define ISS "https://idp.example.com"
#define AUD "http://127.0.0.1/mcp-registry"

static EVP_PKEY *ec, *rsa;
static char *ec_jwk, *rsa_jwk, *set_js;
static struct jwks *set;
static char err[256];

static const struct jwt_policy pol = {
	.issuer = ISS,
	.audience = AUD,
	.leeway_s = 30,
	.groups_claim = "groups",
	.now = NOW,
};

/* Helpers: formatting, base64url, JWKs and signing. */

static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	s = malloc((size_t)n + 1);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

static char *
b64(const unsigned char *p, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	char *out = malloc(n / 3 * 4 + 5), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v =
		    (unsigned long)p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = a[v >> 6 & 63];
		*o++ = a[v & 63];
	}
	if (n - i == 1) {
		*o++ = a[p[i] >> 2];
		*o++ = a[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		*o++ = a[p[i] >> 2];
		*o++ = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = a[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

static char *
b64s(const char *s)
{
	return b64((const unsigned char *)s, strlen(s));
}

/* A BIGNUM parameter of `k` as base64url, left-padded to `pad` bytes. */
static char *
b64_param(EVP_PKEY *k, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	cr_assert_eq(EVP_PKEY_get_bn_param(k, name, &bn), 1, "%s", name);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	cr_assert_gt(n, 0);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

static char *
jwk_ec(EVP_PKEY *k, const char *kid)
{
	char *x = b64_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	char *y = b64_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	char *s =
	    fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\","
	        "\"use\":\"sig\",\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}",
	        kid, x, y);

	free(x);
	free(y);
	return s;
}

static char *
jwk_rsa(EVP_PKEY *k, const char *kid)
{
	char *n = b64_param(k, OSSL_PKEY_PARAM_RSA_N, 0);
	char *e = b64_param(k, OSSL_PKEY_PARAM_RSA_E, 0);
	char *s = fmt("{\"kty\":\"RSA\",\"kid\":\"%s\",\"alg\":\"RS256\","
	              "\"n\":\"%s\",\"e\":\"%s\"}",
	    kid, n, e);

	free(n);
	free(e);
	return s;
}

/* Raw signature over `in`: ES256 as r||s, RS256 as PKCS#1 v1.5. */
static unsigned char *
sign_raw(EVP_PKEY *k, const char *in, size_t *len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig, *out;
	size_t n = 0;

	cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	cr_assert_eq(
	    EVP_DigestSign(md, NULL, &n, (const unsigned char *)in, strlen(in)),
	    1);
	sig = malloc(n);
	cr_assert_eq(
	    EVP_DigestSign(md, sig, &n, (const unsigned char *)in, strlen(in)),
	    1);
	EVP_MD_CTX_free(md);
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
		*len = n;
		return sig;
	}
	{
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);

		out = malloc(64);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), out, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), out + 32, 32);
		ECDSA_SIG_free(es);
		free(sig);
		*len = 64;
		return out;
	}
}

/* "b64(hdr).b64(pay)" */
static char *
signing_input(const char *hdr, const char *pay)
{
	char *h = b64s(hdr), *p = b64s(pay), *s = fmt("%s.%s", h, p);

	free(h);
	free(p);
	return s;
}

/* A compact JWS of hdr.pay signed with k (NULL: empty signature). */
static char *
mk(const char *hdr, const char *pay, EVP_PKEY *k)
{
	char *in = signing_input(hdr, pay), *s, *tok;
	unsigned char *sig;
	size_t n = 0;

	if (k == NULL) {
		tok = fmt("%s.", in);
		free(in);
		return tok;
	}
	sig = sign_raw(k, in, &n);
	s = b64(sig, n);
	tok = fmt("%s.%s", in, s);
	free(sig);
	free(s);
	free(in);
	return tok;
}

#define HDR_ES "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\"}"
#define HDR_RS "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa1\"}"

/* The standard claims with exp/nbf/iat offsets and an extra member. */
static char *
claims(long long exp, long long iat, const char *extra)
{
	return fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
	           "\"client_id\":\"mcp-bridge\",\"scope\":\"registry:read\","
	           "\"email\":\"alice@example.com\",\"groups\":[\"eng\","
	           "\"mcp-users\"],\"exp\":%lld,\"iat\":%lld%s}",
	    NOW + exp, NOW + iat, extra ? extra : "");
}

/* Verifies hdr/pay signed with k and returns the status. */
static enum jwt_status
run(const char *hdr, const char *pay, EVP_PKEY *k)
{
	struct jwt_claims c;
	char *tok = mk(hdr, pay, k);
	enum jwt_status st;

	st = jwt_verify(tok, strlen(tok), set, &pol, &c, err, sizeof(err));
	if (st != JWT_OK)
		cr_assert_null(c.sub, "claims only on JWT_OK");
	jwt_claims_clear(&c);
	free(tok);
	return st;
}

/* run() with the standard claims. */
static enum jwt_status
run_std(const char *hdr, EVP_PKEY *k)
{
	char *pay = claims(600, 0, NULL);
	enum jwt_status st = run(hdr, pay, k);

	free(pay);
	return st;
}

#define expect(st, want)                                                       \
	cr_assert_eq((st), (want), "got %s (%s), want %s", jwt_status_str(st), \
	    err, jwt_status_str(want))

static void
setup(void)
{
	jwipe_install();
	ec = EVP_EC_gen("P-256");
	rsa = EVP_RSA_gen(2048);
	cr_assert(ec && rsa);
	ec_jwk = jwk_ec(ec, "ec1");
	rsa_jwk = jwk_rsa(rsa, "rsa1");
	set_js = fmt("{\"keys\":[%s,%s]}", ec_jwk, rsa_jwk);
	set = jwks_parse(set_js, strlen(set_js), err, sizeof(err));
	cr_assert_not_null(set, "%s", err);
}

static void
teardown(void)
{
	jwks_free(&set);
	free(ec_jwk);
	free(rsa_jwk);
	free(set_js);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

TestSuite(jwt, .init = setup, .fini = teardown, .timeout = 60);

/* Valid tokens. */

Test(jwt, valid_es256_claims)
{
	char *pay = claims(600, 0, NULL), *tok = mk(HDR_ES, pay, ec);
	struct jwt_claims c;

	expect(jwt_verify(tok, strlen(tok), set, &pol, &c, err, sizeof(err)),
	    JWT_OK);
	cr_assert_str_eq(c.sub, "alice");
	cr_assert_str_eq(c.email, "alice@example.com");
	cr_assert_str_eq(c.client_id, "mcp-bridge");
	cr_assert_str_eq(c.scope, "registry:read");
	cr_assert_eq(c.ngroups, 2);
	cr_assert_str_eq(c.groups[0], "eng");
	cr_assert_str_eq(c.groups[1], "mcp-users");
	cr_assert_eq(c.exp, NOW + 600);
	jwt_claims_clear(&c);
	cr_assert_null(c.sub);
	jwt_claims_clear(&c);
	/* No NUL needed after the token; out may be NULL. */
	expect(jwt_verify(tok, strlen(tok), set, &pol, NULL, NULL, 0), JWT_OK);
	free(tok);
	free(pay);
}

Test(jwt, valid_rs256)
{
	expect(run_std(HDR_RS, rsa), JWT_OK);
}

Test(jwt, typ_variants)
{
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"AT+JWT\",\"kid\":\"ec1\"}",
	           ec),
	    JWT_OK);
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"application/At+Jwt\","
	               "\"kid\":\"ec1\"}",
	           ec),
	    JWT_OK);
	expect(
	    run_std("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec1\"}", ec),
	    JWT_BAD_TYP);
	expect(run_std("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", ec), JWT_BAD_TYP);
	expect(
	    run_std(
	        "{\"alg\":\"ES256\",\"typ\":\"at+jwt \",\"kid\":\"ec1\"}", ec),
	    JWT_BAD_TYP);
}

Test(jwt, real_exp_accepted)
{
	char *pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	                "\",\"sub\":\"s\",\"exp\":%lld.5}",
	    NOW + 100);

	expect(run(HDR_ES, pay, ec), JWT_OK);
	free(pay);
}

/* Algorithms and keys. */

Test(jwt, alg_none)
{
	const char *h = "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec1\"}";

	expect(run_std(h, NULL), JWT_BAD_ALG);
	expect(run_std(h, ec), JWT_BAD_ALG);
	expect(run_std("{\"alg\":\"NONE\",\"typ\":\"at+jwt\"}", NULL),
	    JWT_BAD_ALG);
	expect(
	    run_std("{\"typ\":\"at+jwt\",\"kid\":\"ec1\"}", ec), JWT_BAD_ALG);
	expect(run_std("{\"alg\":\"es256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\"}",
	           ec),
	    JWT_BAD_ALG);
	expect(
	    run_std(
	        "{\"alg\":[\"ES256\"],\"typ\":\"at+jwt\",\"kid\":\"ec1\"}", ec),
	    JWT_BAD_ALG);
}

/* HS256 with a public key as the HMAC secret, token and secret variants. */
static enum jwt_status
hs256(const char *kid, const void *secret, size_t secretlen)
{
	char *hdr =
	    fmt("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
	char *pay = claims(600, 0, NULL), *in = signing_input(hdr, pay);
	unsigned char mac[64];
	size_t maclen = 0;
	char *s, *tok;
	enum jwt_status st;

	cr_assert_not_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
	    secretlen, (const unsigned char *)in, strlen(in), mac, sizeof(mac),
	    &maclen));
	s = b64(mac, maclen);
	tok = fmt("%s.%s", in, s);
	st = jwt_verify(tok, strlen(tok), set, &pol, NULL, err, sizeof(err));
	free(s);
	free(tok);
	free(in);
	free(pay);
	free(hdr);
	return st;
}

Test(jwt, hs256_with_public_key_as_secret)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n;

	cr_assert_eq(PEM_write_bio_PUBKEY(bio, rsa), 1);
	n = BIO_get_mem_data(bio, &pem);
	expect(hs256("rsa1", pem, (size_t)n), JWT_BAD_ALG);
	expect(hs256("rsa1", rsa_jwk, strlen(rsa_jwk)), JWT_BAD_ALG);
	expect(hs256("ec1", ec_jwk, strlen(ec_jwk)), JWT_BAD_ALG);
	expect(hs256("nope", pem, (size_t)n), JWT_BAD_ALG);
	BIO_free(bio);
	expect(
	    run_std(
	        "{\"alg\":\"PS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa1\"}", rsa),
	    JWT_BAD_ALG);
}

Test(jwt, alg_key_type_mismatch)
{
	/* RS256 naming the EC key, signed by RSA (and vice versa). */
	expect(run_std("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\"}",
	           rsa),
	    JWT_BAD_ALG);
	expect(
	    run_std(
	        "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"rsa1\"}", ec),
	    JWT_BAD_ALG);
}

Test(jwt, unknown_or_missing_kid)
{
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec2\"}",
	           ec),
	    JWT_UNKNOWN_KID);
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", ec),
	    JWT_UNKNOWN_KID);
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":7}", ec),
	    JWT_UNKNOWN_KID);
}

Test(jwt, crit_header)
{
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\","
	               "\"crit\":[\"exp\"],\"exp\":1}",
	           ec),
	    JWT_MALFORMED);
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\","
	               "\"crit\":[]}",
	           ec),
	    JWT_MALFORMED);
}

Test(jwt, duplicate_header_key)
{
	expect(run_std("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec1\","
	               "\"alg\":\"ES256\"}",
	           ec),
	    JWT_MALFORMED);
	expect(run_std("{\"alg\":\"none\",\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	               "\"kid\":\"ec1\"}",
	           ec),
	    JWT_MALFORMED);
}

Test(jwt, signed_by_other_key)
{
	EVP_PKEY *other = EVP_EC_gen("P-256");

	expect(run_std(HDR_ES, other), JWT_BAD_SIGNATURE);
	EVP_PKEY_free(other);
}

/* Next base64url character, so the decoded bits change. */
static char
flip(char c)
{
	return c == 'A' ? 'B' : 'A';
}

static void
check_flips(const char *hdr, EVP_PKEY *k)
{
	char *pay = claims(600, 0, NULL), *tok = mk(hdr, pay, k);
	char *sig = strrchr(tok, '.') + 1, *dot1;
	size_t n = strlen(tok);

	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)), JWT_OK);
	sig[0] = flip(sig[0]); /* a bit of the signature */
	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
	    JWT_BAD_SIGNATURE);
	free(tok);
	tok = mk(hdr, pay, k);
	dot1 = strchr(tok, '.');
	dot1[1] = flip(dot1[1]); /* a bit of the payload */
	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
	    JWT_BAD_SIGNATURE);
	free(tok);
	free(pay);
}

Test(jwt, bad_signature_bit_flip)
{
	check_flips(HDR_ES, ec);
	check_flips(HDR_RS, rsa);
}

/* hdr.pay with an arbitrary signature of `len` bytes. */
static enum jwt_status
with_sig(const char *hdr, size_t len)
{
	char *pay = claims(600, 0, NULL), *in = signing_input(hdr, pay);
	unsigned char raw[600];
	char *s, *tok;
	enum jwt_status st;

	memset(raw, 0x5a, sizeof(raw));
	s = b64(raw, len);
	tok = fmt("%s.%s", in, s);
	st = jwt_verify(tok, strlen(tok), set, &pol, NULL, err, sizeof(err));
	free(tok);
	free(s);
	free(in);
	free(pay);
	return st;
}

Test(jwt, signature_wrong_length)
{
	char *pay = claims(600, 0, NULL), *in = signing_input(HDR_ES, pay);
	size_t n = 0;
	unsigned char *der = NULL;
	char *s, *tok;

	expect(with_sig(HDR_ES, 0), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_ES, 63), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_ES, 65), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_ES, 64), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_RS, 255), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_RS, 257), JWT_BAD_SIGNATURE);
	expect(with_sig(HDR_RS, 64), JWT_BAD_SIGNATURE);
	/* A valid DER ECDSA signature is not a JWS signature. */
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		cr_assert_eq(
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec), 1);
		EVP_DigestSign(md, NULL, &n, (unsigned char *)in, strlen(in));
		der = malloc(n);
		cr_assert_eq(EVP_DigestSign(
		                 md, der, &n, (unsigned char *)in, strlen(in)),
		    1);
		EVP_MD_CTX_free(md);
	}
	s = b64(der, n);
	tok = fmt("%s.%s", in, s);
	expect(jwt_verify(tok, strlen(tok), set, &pol, NULL, err, sizeof(err)),
	    JWT_BAD_SIGNATURE);
	free(tok);
	free(s);
	free(der);
	free(in);
	free(pay);
}

/* Claims. */

static enum jwt_status
run_pay(const char *pay)
{
	return run(HDR_ES, pay, ec);
}

Test(jwt, audience)
{
	const char *base = "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"exp\":%lld,"
	                   "\"aud\":%s}";
	struct {
		const char *aud;
		enum jwt_status want;
	} cases[] = {
		{ "\"http://127.0.0.1/other\"", JWT_BAD_AUDIENCE },
		{ "[\"a\",\"b\"]", JWT_BAD_AUDIENCE },
		{ "[\"a\",\"" AUD "\"]", JWT_OK },
		{ "[1,{},\"" AUD "\"]", JWT_OK },
		{ "[]", JWT_BAD_AUDIENCE },
		{ "\"" AUD "/\"", JWT_BAD_AUDIENCE },
		{ "null", JWT_BAD_AUDIENCE },
		{ "{\"" AUD "\":1}", JWT_BAD_AUDIENCE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *pay = fmt(base, NOW + 60, cases[i].aud);

		expect(run_pay(pay), cases[i].want);
		free(pay);
	}
	{
		char *pay =
		    fmt("{\"iss\":\"" ISS "\",\"sub\":\"s\",\"exp\":%lld}",
		        NOW + 60);

		expect(run_pay(pay), JWT_BAD_AUDIENCE);
		free(pay);
	}
}

Test(jwt, issuer)
{
	const char *f = "{\"iss\":%s,\"aud\":\"" AUD "\",\"sub\":\"s\","
	                "\"exp\":%lld}";
	const char *bad[] = { "\"https://evil.example.com\"", "\"" ISS "/\"",
		"\"HTTPS://IDP.EXAMPLE.COM\"", "null", "1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *pay = fmt(f, bad[i], NOW + 60);

		expect(run_pay(pay), JWT_BAD_ISSUER);
		free(pay);
	}
	{
		char *pay =
		    fmt("{\"aud\":\"" AUD "\",\"sub\":\"s\",\"exp\":%lld}",
		        NOW + 60);

		expect(run_pay(pay), JWT_BAD_ISSUER);
		free(pay);
	}
}

static enum jwt_status
run_claims(long long exp, long long iat, const char *extra)
{
	char *pay = claims(exp, iat, extra);
	enum jwt_status st = run_pay(pay);

	free(pay);
	return st;
}

Test(jwt, expiry_and_leeway)
{
	expect(run_claims(-31, -600, NULL), JWT_EXPIRED);
	expect(run_claims(-3600, -7200, NULL), JWT_EXPIRED);
	expect(run_claims(-30, -600, NULL), JWT_EXPIRED);
	expect(run_claims(-29, -600, NULL), JWT_OK);
	expect(run_claims(-10, -600, NULL), JWT_OK);
	expect(run_claims(1, 0, NULL), JWT_OK);
}

Test(jwt, nbf_and_iat_in_the_future)
{
	char nbf[64];

	snprintf(nbf, sizeof(nbf), ",\"nbf\":%lld", NOW + 60);
	expect(run_claims(600, 0, nbf), JWT_NOT_YET_VALID);
	snprintf(nbf, sizeof(nbf), ",\"nbf\":%lld", NOW + 30);
	expect(run_claims(600, 0, nbf), JWT_OK);
	snprintf(nbf, sizeof(nbf), ",\"nbf\":%lld", NOW + 31);
	expect(run_claims(600, 0, nbf), JWT_NOT_YET_VALID);
	expect(run_claims(600, 60, NULL), JWT_NOT_YET_VALID);
	expect(run_claims(600, 31, NULL), JWT_NOT_YET_VALID);
	expect(run_claims(600, 20, NULL), JWT_OK);
	expect(run_claims(600, 0, ",\"nbf\":\"soon\""), JWT_MALFORMED);
}

Test(jwt, extreme_times_no_overflow)
{
	char *pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	                "\",\"sub\":\"s\",\"exp\":9223372036854775807,"
	                "\"nbf\":-9223372036854775807,\"iat\":-1}");
	struct jwt_policy p = pol;
	char *tok = mk(HDR_ES, pay, ec);

	expect(run_pay(pay), JWT_OK);
	p.now = INT64_MAX;
	p.leeway_s = INT64_MAX;
	expect(jwt_verify(tok, strlen(tok), set, &p, NULL, err, sizeof(err)),
	    JWT_OK);
	p.leeway_s = INT64_MIN;
	p.now = INT64_MIN;
	expect(jwt_verify(tok, strlen(tok), set, &p, NULL, err, sizeof(err)),
	    JWT_NOT_YET_VALID);
	free(tok);
	free(pay);
	pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD
	          "\",\"sub\":\"s\",\"exp\":1e300}");
	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
}

Test(jwt, missing_exp_or_sub)
{
	char *pay =
	    fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\"}");

	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
	pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	          "\"exp\":\"%lld\"}",
	    NOW + 60);
	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
	pay = fmt(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":%lld}", NOW + 60);
	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
	pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"\","
	          "\"exp\":%lld}",
	    NOW + 60);
	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
	pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":5,"
	          "\"exp\":%lld}",
	    NOW + 60);
	expect(run_pay(pay), JWT_MALFORMED);
	free(pay);
}

Test(jwt, payload_not_an_object_or_duplicate)
{
	expect(run_pay("[1,2]"), JWT_MALFORMED);
	expect(run_pay("\"x\""), JWT_MALFORMED);
	expect(run_pay("{\"iss\":\"" ISS "\"} junk"), JWT_MALFORMED);
	expect(run_claims(600, 0, ",\"sub\":\"mallory\""), JWT_MALFORMED);
}

/* Claims of a token with `extra` members and groups claim `gc`. */
static void
verify_claims(const char *pay, const char *gc, struct jwt_claims *c)
{
	struct jwt_policy p = pol;
	char *tok = mk(HDR_ES, pay, ec);

	p.groups_claim = gc;
	expect(
	    jwt_verify(tok, strlen(tok), set, &p, c, err, sizeof(err)), JWT_OK);
	free(tok);
}

Test(jwt, groups_claim_shapes)
{
	const char *f =
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	    "\"exp\":%lld,\"email\":7,\"roles\":%s}";
	struct jwt_claims c;
	char *pay = fmt(f, NOW + 60, "\"admin\"");

	verify_claims(pay, "roles", &c);
	cr_assert_eq(c.ngroups, 0);
	cr_assert_null(c.groups);
	cr_assert_null(c.email, "non-string email dropped");
	cr_assert_null(c.client_id);
	jwt_claims_clear(&c);
	free(pay);
	pay = fmt(f, NOW + 60, "[1,\"a\",null,{\"x\":1},[\"y\"],\"b\",true]");
	verify_claims(pay, "roles", &c);
	cr_assert_eq(c.ngroups, 2);
	cr_assert_str_eq(c.groups[0], "a");
	cr_assert_str_eq(c.groups[1], "b");
	jwt_claims_clear(&c);
	verify_claims(pay, NULL, &c);
	cr_assert_eq(c.ngroups, 0);
	jwt_claims_clear(&c);
	verify_claims(pay, "groups", &c);
	cr_assert_eq(c.ngroups, 0);
	jwt_claims_clear(&c);
	free(pay);
}

Test(jwt, groups_capped_at_256)
{
	size_t cap = 300 * 8 + 64, o = 0;
	char *arr = malloc(cap), *pay;
	struct jwt_claims c;

	arr[o++] = '[';
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(
		    arr + o, cap - o, "%s\"g%d\"", i ? "," : "", i);
	arr[o++] = ']';
	arr[o] = '\0';
	pay = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"s\","
	          "\"exp\":%lld,\"groups\":%s}",
	    NOW + 60, arr);
	verify_claims(pay, "groups", &c);
	cr_assert_eq(c.ngroups, 256);
	cr_assert_str_eq(c.groups[255], "g255");
	jwt_claims_clear(&c);
	free(pay);
	free(arr);
}

/* Framing and encoding. */

Test(jwt, every_truncation_fails)
{
	EVP_PKEY *keys[] = { ec, rsa };
	const char *hdrs[] = { HDR_ES, HDR_RS };

	for (int k = 0; k < 2; k++) {
		char *pay = claims(600, 0, NULL),
		     *tok = mk(hdrs[k], pay, keys[k]);
		size_t n = strlen(tok);

		for (size_t i = 0; i < n; i++) {
			/* An exact-size copy, so ASan sees any overread. */
			char *cut = malloc(i ? i : 1);
			char kid[64];

			memcpy(cut, tok, i);
			cr_assert_neq(jwt_verify(cut, i, set, &pol, NULL, err,
			                  sizeof(err)),
			    JWT_OK, "prefix %zu", i);
			(void)jwt_peek_kid(cut, i, kid, sizeof(kid));
			free(cut);
		}
		expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
		    JWT_OK);
		free(tok);
		free(pay);
	}
}

Test(jwt, wrong_number_of_parts)
{
	char *pay = claims(600, 0, NULL), *tok = mk(HDR_ES, pay, ec), *t;
	char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

	t = fmt("%.*s%s", (int)(d1 - tok), tok, d1 + 1); /* one dot */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%.*s", (int)(d1 - tok), tok); /* no dot */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%s.%s", tok, d2 + 1); /* four parts */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%s.", tok);
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%s", d1); /* empty header */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	expect(jwt_verify("..", 2, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	expect(jwt_verify("", 0, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	expect(jwt_verify(NULL, 0, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(tok);
	free(pay);
}

Test(jwt, too_large)
{
	char *big = malloc(JWT_MAX_LEN + 1);

	memset(big, 'A', JWT_MAX_LEN + 1);
	big[10] = '.';
	big[20] = '.';
	expect(
	    jwt_verify(big, JWT_MAX_LEN + 1, set, &pol, NULL, err, sizeof(err)),
	    JWT_TOO_LARGE);
	expect(jwt_verify(big, JWT_MAX_LEN, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(big);
	/* A genuinely signed token just over the limit. */
	{
		char *filler = malloc(JWT_MAX_LEN), *pay, *tok;
		char extra[JWT_MAX_LEN + 32];

		memset(filler, 'x', JWT_MAX_LEN - 1);
		filler[JWT_MAX_LEN - 1] = '\0';
		snprintf(extra, sizeof(extra), ",\"pad\":\"%s\"", filler);
		pay = claims(600, 0, extra);
		tok = mk(HDR_ES, pay, ec);
		expect(jwt_verify(
		           tok, strlen(tok), set, &pol, NULL, err, sizeof(err)),
		    JWT_TOO_LARGE);
		free(tok);
		free(pay);
		free(filler);
	}
}

/* A valid ES256 token whose signature contains '-' or '_'. */
static char *
token_with_url_chars(void)
{
	char *pay = claims(600, 0, NULL);

	for (int i = 0; i < 200; i++) {
		char *tok = mk(HDR_ES, pay, ec);

		if (strpbrk(strrchr(tok, '.'), "-_") != NULL) {
			free(pay);
			return tok;
		}
		free(tok);
	}
	cr_assert_fail("no signature with - or _ in 200 tries");
	return NULL;
}

Test(jwt, base64_strict)
{
	char *tok = token_with_url_chars(), *t, *p;
	size_t n = strlen(tok);
	char *d1 = strchr(tok, '.'), *last = tok + n - 1, keep;

	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)), JWT_OK);
	p = strpbrk(strrchr(tok, '.'), "-_");
	keep = *p;
	*p = keep == '-' ? '+' : '/';
	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	*p = keep;
	/* 64 bytes = 86 characters: the last one carries 4 zero bits. */
	keep = *last;
	*last = (char)(keep == 'A' ? 'B' : keep + 1);
	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	*last = keep;
	t = fmt("%s==", tok); /* padded signature */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%.*s=%s", (int)(d1 - tok), tok, d1); /* padded header */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%.*s %s", (int)(d1 - tok), tok, d1);
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	t = fmt("%sA", tok); /* 87 characters: 4n + 3 but 65 bytes */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_BAD_SIGNATURE);
	free(t);
	t = fmt("%sAAA", tok); /* 4n + 1 characters */
	expect(jwt_verify(t, strlen(t), set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(t);
	free(tok);
}

Test(jwt, embedded_nul_in_token)
{
	char *pay = claims(600, 0, NULL), *tok = mk(HDR_ES, pay, ec);
	size_t n = strlen(tok);

	tok[5] = '\0';
	expect(jwt_verify(tok, n, set, &pol, NULL, err, sizeof(err)),
	    JWT_MALFORMED);
	free(tok);
	free(pay);
}

Test(jwt, peek_kid)
{
	char *pay = claims(600, 0, NULL), *tok = mk(HDR_RS, pay, rsa);
	char kid[16], tiny[4];

	cr_assert_eq(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)), 0);
	cr_assert_str_eq(kid, "rsa1");
	cr_assert_eq(jwt_peek_kid(tok, strlen(tok), tiny, sizeof(tiny)), -1);
	cr_assert_eq(jwt_peek_kid(tok, strlen(tok), kid, 0), -1);
	free(tok);
	tok = mk("{\"alg\":\"ES256\"}", pay, ec);
	cr_assert_eq(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)), -1);
	free(tok);
	cr_assert_eq(jwt_peek_kid("abc", 3, kid, sizeof(kid)), -1);
	/* Any signature, even an invalid one: nothing is verified. */
	tok = fmt("%s", "eyJraWQiOiJrMiJ9.e30.AAAA");
	cr_assert_eq(jwt_peek_kid(tok, strlen(tok), kid, sizeof(kid)), 0);
	cr_assert_str_eq(kid, "k2");
	free(tok);
	free(pay);
}

Test(jwt, status_strings)
{
	cr_assert_str_eq(jwt_status_str(JWT_EXPIRED), "expired");
	cr_assert_str_eq(jwt_status_str(JWT_BAD_SIGNATURE), "bad signature");
	cr_assert_str_eq(jwt_status_str(JWT_OK), "ok");
	cr_assert_str_eq(jwt_status_str(JWT_NOT_YET_VALID), "not yet valid");
	cr_assert_str_eq(jwt_status_str((enum jwt_status)99), "unknown status");
}

Test(jwt, err_never_holds_the_token)
{
	char *pay = claims(-3600, -7200, NULL), *tok = mk(HDR_ES, pay, ec);
	char *sig = strrchr(tok, '.') + 1;

	expect(jwt_verify(tok, strlen(tok), set, &pol, NULL, err, sizeof(err)),
	    JWT_EXPIRED);
	cr_assert_null(strstr(err, sig));
	cr_assert_lt(strlen(err), 40);
	free(tok);
	free(pay);
}

/* JWK Set parsing. */

TestSuite(jwks, .init = setup, .fini = teardown, .timeout = 60);

static struct jwks *
parse(const char *js)
{
	return jwks_parse(js, strlen(js), err, sizeof(err));
}

Test(jwks, counts_and_kids)
{
	cr_assert_eq(jwks_count(set), 2);
	cr_assert_eq(jwks_has_kid(set, "ec1"), 1);
	cr_assert_eq(jwks_has_kid(set, "rsa1"), 1);
	cr_assert_eq(jwks_has_kid(set, "ec2"), 0);
	cr_assert_eq(jwks_has_kid(set, NULL), 0);
	cr_assert_eq(jwks_count(NULL), 0);
	jwks_free(NULL);
}

Test(jwks, skipped_keys)
{
	EVP_PKEY *small = EVP_RSA_gen(1024);
	char *small_jwk = jwk_rsa(small, "small");
	char *js = fmt("{\"keys\":["
	               "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\","
	               "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
	               "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"},"
	               "%s,%s,%s]}",
	    small_jwk, ec_jwk, rsa_jwk);
	struct jwks *k = parse(js);

	cr_assert_not_null(k, "%s", err);
	cr_assert_eq(jwks_count(k), 2);
	cr_assert_eq(jwks_has_kid(k, "small"), 0, "RSA 1024 skipped");
	cr_assert_eq(jwks_has_kid(k, "ed"), 0);
	cr_assert_eq(jwks_has_kid(k, "hmac"), 0);
	jwks_free(&k);
	cr_assert_null(k);
	free(js);
	/* Only unusable keys: NULL. */
	js = fmt("{\"keys\":[%s]}", small_jwk);
	cr_assert_null(parse(js));
	cr_assert_str_neq(err, "");
	free(js);
	free(small_jwk);
	EVP_PKEY_free(small);
}

/* The EC JWK with `from` replaced by `to` (first occurrence). */
static char *
ec_variant(const char *from, const char *to)
{
	const char *p = strstr(ec_jwk, from);

	cr_assert_not_null(p, "%s", from);
	return fmt("{\"keys\":[%.*s%s%s]}", (int)(p - ec_jwk), ec_jwk, to,
	    p + strlen(from));
}

Test(jwks, ec_attribute_rules)
{
	const char *bad[][2] = {
		{ "\"use\":\"sig\"", "\"use\":\"enc\"" },
		{ "\"alg\":\"ES256\"", "\"alg\":\"ES384\"" },
		{ "\"alg\":\"ES256\"", "\"alg\":\"RS256\"" },
		{ "\"crv\":\"P-256\"", "\"crv\":\"P-384\"" },
		{ "\"kid\":\"ec1\"", "\"kid\":\"\"" },
		{ "\"kid\":\"ec1\"", "\"kid\":1" },
		{ "\"kid\":\"ec1\"", "\"kxd\":\"ec1\"" },
		{ "\"x\":\"", "\"x\":\"A" },
		{ "\"y\":\"", "\"y\":\"AAAA" },
		{ "\"kty\":\"EC\"", "\"kty\":\"ec\"" },
	};
	char *js;
	struct jwks *k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		js = ec_variant(bad[i][0], bad[i][1]);
		cr_assert_null(k = parse(js), "variant %zu kept", i);
		free(js);
	}
	/* use/alg absent are fine. */
	js = ec_variant("\"use\":\"sig\",\"alg\":\"ES256\",", "");
	cr_assert_not_null(k = parse(js), "%s", err);
	jwks_free(&k);
	free(js);
}

Test(jwks, ec_point_not_on_curve)
{
	const char *y = strstr(ec_jwk, "\"y\":\"") + 5;
	char *js = fmt("{\"keys\":[%.*s%c%s]}", (int)(y - ec_jwk), ec_jwk,
	    *y == 'A' ? 'B' : 'A', y + 1);

	cr_assert_null(parse(js));
	free(js);
}

Test(jwks, invalid_documents)
{
	cr_assert_null(parse("{\"keys\":["));
	cr_assert_str_neq(err, "");
	cr_assert_null(parse("[]"));
	cr_assert_null(parse("{\"keys\":{}}"));
	cr_assert_null(parse("{\"keys\":[]}"));
	cr_assert_null(parse("{\"keys\":[1,\"x\",null]}"));
	cr_assert_null(parse("{\"keys\":[],\"keys\":[]}"));
	cr_assert_null(jwks_parse("{\"keys\":[]}", 3, err, sizeof(err)));
}

Test(jwks, duplicate_kid_and_limit)
{
	size_t cap = 72 * (strlen(ec_jwk) + 8) + strlen(rsa_jwk) + 32, o = 0;
	char *js = malloc(cap);
	struct jwks *k;

	o += (size_t)snprintf(js + o, cap - o, "{\"keys\":[%s", ec_jwk);
	o += (size_t)snprintf(js + o, cap - o, ",%s", rsa_jwk);
	for (int i = 0; i < 70; i++) {
		char kid[16], *v;

		snprintf(kid, sizeof(kid), "\"kid\":\"k%d\"", i);
		v = ec_variant("\"kid\":\"ec1\"", kid);
		/* strip {"keys":[ and ]} */
		o += (size_t)snprintf(
		    js + o, cap - o, ",%.*s", (int)(strlen(v) - 11), v + 9);
		free(v);
	}
	snprintf(js + o, cap - o, "]}");
	k = parse(js);
	cr_assert_not_null(k, "%s", err);
	cr_assert_eq(jwks_count(k), 64);
	cr_assert_eq(jwks_has_kid(k, "k61"), 1);
	cr_assert_eq(jwks_has_kid(k, "k62"), 0);
	jwks_free(&k);
	free(js);
	/* The same kid twice: the first key wins. */
	js = fmt("{\"keys\":[%s,%s]}", ec_jwk, ec_jwk);
	k = parse(js);
	cr_assert_eq(jwks_count(k), 1);
	jwks_free(&k);
	free(js);
}

/* Tokens from the real test IdP (tests/unit/jwt-idp.sh). */

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096], *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	*len = (size_t)n;
	return s;
}

Test(jwt_idp, real_idp_token)
{
	const char *dir = getenv("JWT_IDP_DIR");
	size_t jn, tn, in;
	char *js, *tok, *iss, kid[128];
	struct jwt_claims c;
	struct jwt_policy p = pol;
	struct jwks *k;

	if (dir == NULL || *dir == '\0')
		cr_skip_test("JWT_IDP_DIR not set (run by jwt-idp.sh)");
	jwipe_install();
	js = slurp(dir, "jwks.json", &jn);
	tok = slurp(dir, "token", &tn);
	iss = slurp(dir, "issuer", &in);
	k = jwks_parse(js, jn, err, sizeof(err));
	cr_assert_not_null(k, "%s", err);
	cr_assert_eq(jwt_peek_kid(tok, tn, kid, sizeof(kid)), 0);
	cr_assert_eq(jwks_has_kid(k, kid), 1, "kid %s", kid);
	p.issuer = iss;
	p.now = (int64_t)time(NULL);
	expect(jwt_verify(tok, tn, k, &p, &c, err, sizeof(err)), JWT_OK);
	cr_assert_str_eq(c.sub, "alice");
	cr_assert_str_eq(c.client_id, "mcp-bridge");
	cr_assert_not_null(c.scope);
	cr_assert_eq(c.ngroups, 2);
	cr_assert_str_eq(c.groups[0], "eng");
	cr_assert_str_eq(c.groups[1], "mcp-users");
	jwt_claims_clear(&c);
	p.audience = "http://127.0.0.1/other";
	expect(jwt_verify(tok, tn, k, &p, NULL, err, sizeof(err)),
	    JWT_BAD_AUDIENCE);
	p.audience = AUD;
	p.issuer = "http://127.0.0.1:1";
	expect(
	    jwt_verify(tok, tn, k, &p, NULL, err, sizeof(err)), JWT_BAD_ISSUER);
	p.issuer = iss;
	p.now += 3600;
	expect(jwt_verify(tok, tn, k, &p, NULL, err, sizeof(err)), JWT_EXPIRED);
	p.now -= 3600;
	expect(jwt_verify(tok, tn, set, &p, NULL, err, sizeof(err)),
	    JWT_UNKNOWN_KID);
	jwks_free(&k);
	free(js);
	free(tok);
	free(iss);
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness: jwt_verify and jwt_peek_kid on the input as a token
 * against a fixed JWK Set (ES256 "fz1", RS256 "fz2"), and jwks_parse on
 * the input as a JWK Set. An input "S\n<header>\n<payload>" is signed
 * with the fixed EC key first, so the header and claim checks behind the
 * signature get fuzzed too. The keys were generated once for this file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwt.h"

static const char jwks_js[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fz1\""
    ",\"use\":\"sig\",\"alg\":\"ES256\",\"x\":\"AY-WEq40o2MDPF5-1"
    "Pl0w6dpPNqkEAap_mbeWrywMdY\",\"y\":\"JbGQHs1iA7UNF6aqwqhXB8S"
    "zP0SawjPkGVHTpe5iTDM\"},{\"kty\":\"RSA\",\"kid\":\"fz2\",\"a"
    "lg\":\"RS256\",\"n\":\"vep02eTCYi-wILlrr6F1otX_P-XC2BYR343lA"
    "osz_AKb6rSLMw5DFAzQpKis-8Z4R3ev-R4cOF3dvmQBhbiWvLtfiebUxxoOl"
    "mPTBslRn-c3gsgB-UeGc0X0H_hGgrb0QhZa8hLm4PSIzgPDU2VwhnUdjVYBv"
    "i5eKO5e7MLTYOV1OnCYs5wVAnWgCWbjE3bCnzI_Q2plXlIOmDgNg_tba32t1"
    "xmwP3KZQA43r3dKaIlwOQ5yos1RSzHhd-LwLh7TplZ_71ezt4iix7ClXP1P_"
    "mzev0P7FcNOUHS2JQgtXgdKAGQQlmyO14QNx0duCtLAjoatWNqTRXAS0t5fE"
    "tZkAw\",\"e\":\"AQAB\"}]}";

/* Private half of "fz1" (test only). */
static const char ec_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIC/m21JHFqMcP9QYpzB/jX9LMRiX2+B99/lbjVIRfcPAoAoGCCqGSM49\n"
    "AwEHoUQDQgAEAY+WEq40o2MDPF5+1Pl0w6dpPNqkEAap/mbeWrywMdYlsZAezWID\n"
    "tQ0XpqrCqFcHxLM/RJrCM+QZUdOl7mJMMw==\n"
    "-----END EC PRIVATE KEY-----\n";

static const struct jwt_policy pol = {
	.issuer = "https://idp.fuzz",
	.audience = "fuzz-aud",
	.leeway_s = 30,
	.groups_claim = "groups",
	.now = 1800000000,
};

static struct jwks *set;
static EVP_PKEY *ec;

static void
init(void)
{
	BIO *b = BIO_new_mem_buf(ec_pem, -1);

	set = jwks_parse(jwks_js, sizeof(jwks_js) - 1, NULL, 0);
	ec = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (set == NULL || jwks_count(set) != 2 || ec == NULL)
		abort();
}

static size_t
b64(const uint8_t *p, size_t n, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | p[i]) & 0xffffu;
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = a[(acc << (6 - bits)) & 63];
	return o;
}

/* Appends the raw ES256 signature of tok[0..n) as ".sig"; new length. */
static size_t
sign(char *tok, size_t n)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80], rs[64];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *s = NULL;

	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec) != 1 ||
	    EVP_DigestSign(md, der, &dlen, (unsigned char *)tok, n) != 1 ||
	    (s = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL)
		abort();
	BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	tok[n++] = '.';
	return n + b64(rs, sizeof(rs), tok + n);
}

static void
check(const char *tok, size_t n)
{
	struct jwt_claims c;
	char kid[64], err[128];
	enum jwt_status st;

	st = jwt_verify(tok, n, set, &pol, &c, err, sizeof(err));
	if (st == JWT_OK && (c.sub == NULL || c.ngroups > 256))
		__builtin_trap();
	if (st != JWT_OK && c.sub != NULL)
		__builtin_trap();
	(void)jwt_status_str(st);
	jwt_claims_clear(&c);
	if (jwt_peek_kid(tok, n, kid, sizeof(kid)) == 0 &&
	    strlen(kid) >= sizeof(kid))
		__builtin_trap();
}

/* "S\n<header>\n<payload>": a token signed by "fz1". */
static void
signed_case(const uint8_t *d, size_t n)
{
	const uint8_t *nl = memchr(d, '\n', n);
	size_t hn, o;
	char *tok;

	if (nl == NULL || n > JWT_MAX_LEN)
		return;
	hn = (size_t)(nl - d);
	tok = malloc(n / 3 * 4 + 128);
	o = b64(d, hn, tok);
	tok[o++] = '.';
	o += b64(nl + 1, n - hn - 1, tok + o);
	o = sign(tok, o);
	check(tok, o);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks *k;
	char *copy;

	if (set == NULL)
		init();
	if (size >= 2 && data[0] == 'S' && data[1] == '\n') {
		signed_case(data + 2, size - 2);
		return 0;
	}
	/* An exact-size copy: any read past the end is caught. */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	check(copy, size);
	if ((k = jwks_parse(copy, size, NULL, 0)) != NULL) {
		if (jwks_count(k) == 0 || jwks_count(k) > 64)
			__builtin_trap();
		jwks_free(&k);
	}
	free(copy);
	return 0;
}

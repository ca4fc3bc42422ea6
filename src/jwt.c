/* SPDX-License-Identifier: ISC */
#include "jwt.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "secret.h"
#include "str.h"
#include "xmem.h"

/* Keys kept from one JWK Set. */
#define JWKS_MAX_KEYS 64
/* Largest JWK Set document read. */
#define JWKS_MAX_LEN (256u * 1024)
/* Longest kid kept (bytes, without the NUL). */
#define KID_MAX 255
/* Groups kept from the groups claim. */
#define GROUPS_MAX 256
/* RSA modulus sizes accepted (bits). */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
/* Largest RSA public exponent accepted (bytes). */
#define RSA_MAX_E 8
/* Largest leeway honoured (seconds). */
#define LEEWAY_MAX 86400

enum kty {
	KTY_EC = 1, /* P-256, for ES256 */
	KTY_RSA,    /* for RS256 */
};

struct jwk {
	char *kid;      /* never NULL, unique in the set */
	enum kty kty;   /* the only algorithm it may verify */
	EVP_PKEY *pkey; /* public key */
};

struct jwks {
	struct jwk keys[JWKS_MAX_KEYS];
	size_t n; /* keys in use */
};

/* The three parts of a compact JWS, pointing into the token. */
struct parts {
	const char *h, *p, *s; /* header, payload, signature (base64url) */
	size_t hn, pn, sn;     /* their lengths */
	size_t tbs;            /* length of "header.payload" (signed) */
};

static enum jwt_status
fail(char *err, size_t errsz, enum jwt_status st, const char *why)
{
	if (err != NULL && errsz > 0)
		(void)str_fmt(err, errsz, "%s", why);
	return st;
}

/* Base64url (RFC 4648 5), strict: no padding, canonical trailing bits. */

/* Room b64_dup() allocates for n input characters. */
static size_t
b64_cap(size_t n)
{
	return n / 4 * 3 + 3;
}

/* New buffer of b64_cap(n) bytes holding the decoded bytes, or NULL. */
static unsigned char *
b64_dup(const char *p, size_t n, size_t *outlen)
{
	unsigned char *out = x_malloc(b64_cap(n));

	if (str_b64url_decode(p, n, out, outlen) == -1) {
		free(out);
		return NULL;
	}
	return out;
}

/* Wipes and frees a b64_dup() buffer of n input characters. */
static void
b64_free(unsigned char *b, size_t n)
{
	if (b == NULL)
		return;
	secret_wipe(b, b64_cap(n));
	free(b);
}

/* Decodes a base64url string member into exactly `want` bytes. */
static int
b64_member(json_t *o, const char *key, unsigned char *out, size_t want)
{
	const char *s = json_string_value(json_object_get(o, key));
	unsigned char *raw;
	size_t n, len = 0;
	int rc = -1;

	if (s == NULL || (n = strlen(s)) != (want * 4 + 2) / 3)
		return -1;
	if ((raw = b64_dup(s, n, &len)) == NULL)
		return -1;
	if (len == want) {
		memcpy(out, raw, want);
		rc = 0;
	}
	b64_free(raw, n);
	return rc;
}

/* A base64url string member as a new BIGNUM of at most maxbytes, or NULL. */
static BIGNUM *
bn_member(json_t *o, const char *key, size_t maxbytes)
{
	const char *s = json_string_value(json_object_get(o, key));
	unsigned char *raw;
	BIGNUM *bn = NULL;
	size_t n, len = 0;

	if (s == NULL || (n = strlen(s)) == 0 || n > (maxbytes * 4 + 2) / 3)
		return NULL;
	if ((raw = b64_dup(s, n, &len)) == NULL)
		return NULL;
	if (len > 0 && len <= maxbytes)
		bn = BN_bin2bn(raw, (int)len, NULL);
	b64_free(raw, n);
	return bn;
}

/* Keys from JWK components (OpenSSL 3 provider API). */

static int
public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* New public key of `type` from the parameters built in `b`, or NULL. */
static EVP_PKEY *
fromdata(const char *type, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *
ec_key(json_t *e)
{
	const char *crv = json_string_value(json_object_get(e, "crv"));
	unsigned char pt[65];
	OSSL_PARAM_BLD *b = NULL;
	EVP_PKEY *pkey = NULL;

	pt[0] = 0x04; /* uncompressed point: x || y */
	if (crv == NULL || strcmp(crv, "P-256") != 0 ||
	    b64_member(e, "x", pt + 1, 32) == -1 ||
	    b64_member(e, "y", pt + 33, 32) == -1)
		return NULL;
	if ((b = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(
	        b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(
	        b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) != 1)
		goto out;
	pkey = fromdata("EC", b);
	if (pkey != NULL && !public_ok(pkey)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_PARAM_BLD_free(b);
	return pkey;
}

static EVP_PKEY *
rsa_key(json_t *e)
{
	BIGNUM *n = bn_member(e, "n", RSA_MAX_BITS / 8 + 1);
	BIGNUM *x = bn_member(e, "e", RSA_MAX_E);
	OSSL_PARAM_BLD *b = NULL;
	EVP_PKEY *pkey = NULL;

	if (n == NULL || x == NULL || BN_num_bits(n) < RSA_MIN_BITS ||
	    BN_num_bits(n) > RSA_MAX_BITS || !BN_is_odd(n) || !BN_is_odd(x) ||
	    BN_is_one(x))
		goto out;
	if ((b = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, x) != 1)
		goto out;
	pkey = fromdata("RSA", b);
out:
	OSSL_PARAM_BLD_free(b);
	BN_free(n);
	BN_free(x);
	return pkey;
}

/* JWK Set. */

static const struct jwk *
find_kid(const struct jwks *k, const char *kid)
{
	if (k == NULL || kid == NULL)
		return NULL;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->keys[i].kid, kid) == 0)
			return &k->keys[i];
	return NULL;
}

/* 1 if the optional string member `key` is absent or equals `want`. */
static int
absent_or(json_t *e, const char *key, const char *want)
{
	json_t *v = json_object_get(e, key);

	return v == NULL ||
	    (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
}

/* Adds the JWK `e` to `k` if it is usable; unusable keys are skipped. */
static void
jwk_add(struct jwks *k, json_t *e)
{
	const char *kid = json_string_value(json_object_get(e, "kid"));
	const char *kty = json_string_value(json_object_get(e, "kty"));
	struct jwk *w = &k->keys[k->n];
	enum kty t;

	if (kid == NULL || *kid == '\0' || strlen(kid) > KID_MAX ||
	    kty == NULL || !absent_or(e, "use", "sig") ||
	    find_kid(k, kid) != NULL)
		return;
	if (strcmp(kty, "EC") == 0)
		t = KTY_EC;
	else if (strcmp(kty, "RSA") == 0)
		t = KTY_RSA;
	else
		return;
	if (!absent_or(e, "alg", t == KTY_EC ? "ES256" : "RS256"))
		return;
	w->pkey = t == KTY_EC ? ec_key(e) : rsa_key(e);
	if (w->pkey == NULL)
		return;
	w->kid = x_strdup(kid);
	w->kty = t;
	k->n++;
}

struct jwks *
jwks_parse(const char *js, size_t n, char *err, size_t errsz)
{
	struct jwks *k = NULL;
	json_t *root = NULL, *keys, *e;
	json_error_t je;
	size_t i;

	if (n > JWKS_MAX_LEN) {
		fail(err, errsz, JWT_TOO_LARGE, "JWKS is too large");
		return NULL;
	}
	root = json_loadb(js, n, JSON_REJECT_DUPLICATES, &je);
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		fail(err, errsz, JWT_MALFORMED,
		    root ? "JWKS has no keys array" : "JWKS is not JSON");
		goto out;
	}
	k = x_calloc(1, sizeof(*k));
	json_array_foreach(keys, i, e)
	{
		if (k->n == JWKS_MAX_KEYS)
			break;
		jwk_add(k, e);
	}
	if (k->n == 0) {
		fail(err, errsz, JWT_MALFORMED,
		    "JWKS has no usable ES256/RS256 signing key");
		jwks_free(&k);
	}
out:
	json_decref(root);
	return k;
}

void
jwks_free(struct jwks **kp)
{
	struct jwks *k;

	if (kp == NULL || (k = *kp) == NULL)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free(k->keys[i].kid);
		EVP_PKEY_free(k->keys[i].pkey);
	}
	free(k);
	*kp = NULL;
}

size_t
jwks_count(const struct jwks *k)
{
	return k ? k->n : 0;
}

int
jwks_has_kid(const struct jwks *k, const char *kid)
{
	return find_kid(k, kid) != NULL;
}

/* Compact serialisation. */

/*
 * Splits into exactly three parts, header and payload non-empty (an empty
 * signature fails later, with the algorithm or the signature); 0 or -1.
 */
static int
split(const char *tok, size_t n, struct parts *t)
{
	const char *end = tok + n, *d1, *d2;

	if ((d1 = memchr(tok, '.', n)) == NULL)
		return -1;
	d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1));
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return -1;
	t->h = tok;
	t->hn = (size_t)(d1 - tok);
	t->p = d1 + 1;
	t->pn = (size_t)(d2 - d1 - 1);
	t->s = d2 + 1;
	t->sn = (size_t)(end - d2 - 1);
	t->tbs = (size_t)(d2 - tok);
	return t->hn && t->pn ? 0 : -1;
}

/* A base64url JSON object as a new json_t, or NULL. */
static json_t *
load_part(const char *p, size_t n)
{
	unsigned char *raw;
	json_error_t je;
	json_t *o = NULL;
	size_t len = 0;

	if ((raw = b64_dup(p, n, &len)) == NULL)
		return NULL;
	o = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &je);
	b64_free(raw, n);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Header. */

static int
typ_ok(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	return s != NULL &&
	    (str_eq_nocase(s, n, "at+jwt") ||
	        str_eq_nocase(s, n, "application/at+jwt"));
}

/* Checks alg, typ, crit and picks the key (*key, borrowed from k). */
static enum jwt_status
check_header(json_t *h, const struct jwks *k, const struct jwk **key, char *err,
    size_t errsz)
{
	const char *alg = json_string_value(json_object_get(h, "alg"));
	const char *kid = json_string_value(json_object_get(h, "kid"));
	enum kty want;

	if (alg != NULL && strcmp(alg, "ES256") == 0)
		want = KTY_EC;
	else if (alg != NULL && strcmp(alg, "RS256") == 0)
		want = KTY_RSA;
	else
		return fail(err, errsz, JWT_BAD_ALG, "alg not allowed");
	if (!typ_ok(json_object_get(h, "typ")))
		return fail(err, errsz, JWT_BAD_TYP, "typ is not at+jwt");
	if (json_object_get(h, "crit") != NULL)
		return fail(err, errsz, JWT_MALFORMED, "crit not supported");
	if ((*key = find_kid(k, kid)) == NULL)
		return fail(err, errsz, JWT_UNKNOWN_KID,
		    kid ? "no key with this kid" : "no kid in header");
	if ((*key)->kty != want)
		return fail(err, errsz, JWT_BAD_ALG, "alg does not match key");
	return JWT_OK;
}

/* Signature. */

/* JWS ES256 r||s (64 bytes) as a new DER ECDSA-Sig-Value; -1 if bad. */
static int
es256_der(const unsigned char *rs, size_t n, unsigned char **der)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int len = -1;

	if (n != 64 || (sig = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(rs, 32, NULL);
	s = BN_bin2bn(rs + 32, 32, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		goto out;
	}
	len = i2d_ECDSA_SIG(sig, der);
out:
	ECDSA_SIG_free(sig);
	return len > 0 ? len : -1;
}

static int
digest_verify(EVP_PKEY *pkey, const unsigned char *sig, size_t siglen,
    const char *tbs, size_t tbslen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md != NULL &&
	    EVP_DigestVerifyInit_ex(
	        md, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1 &&
	    EVP_DigestVerify(
	        md, sig, siglen, (const unsigned char *)tbs, tbslen) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

static enum jwt_status
check_sig(const struct jwk *key, const char *tok, const struct parts *t,
    char *err, size_t errsz)
{
	unsigned char *raw, *der = NULL;
	size_t len = 0;
	int derlen, ok = 0;

	if ((raw = b64_dup(t->s, t->sn, &len)) == NULL)
		return fail(
		    err, errsz, JWT_MALFORMED, "signature not base64url");
	if (key->kty == KTY_EC) {
		if ((derlen = es256_der(raw, len, &der)) > 0)
			ok = digest_verify(
			    key->pkey, der, (size_t)derlen, tok, t->tbs);
	} else if (len == (size_t)EVP_PKEY_get_size(key->pkey)) {
		ok = digest_verify(key->pkey, raw, len, tok, t->tbs);
	}
	OPENSSL_free(der);
	b64_free(raw, t->sn);
	return ok ? JWT_OK
	          : fail(err, errsz, JWT_BAD_SIGNATURE, "bad signature");
}

/* Claims. */

/* Reads a NumericDate: 1 (set), 0 (absent) or -1 (not a number). */
static int
num_claim(json_t *c, const char *key, int64_t *out)
{
	json_t *v = json_object_get(c, key);
	double d;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (!(d > -9.0e18 && d < 9.0e18))
		return -1;
	*out = (int64_t)d;
	return 1;
}

static int
aud_ok(json_t *aud, const char *want)
{
	json_t *v;
	size_t i;

	if (want == NULL)
		return 0;
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return 1;
	}
	return 0;
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* exp, nbf, iat against now and the leeway; *exp set on JWT_OK. */
static enum jwt_status
check_times(json_t *c, const struct jwt_policy *p, int64_t *exp, char *err,
    size_t errsz)
{
	int64_t lw = p->leeway_s, nbf = 0, iat = 0;
	int has_nbf, has_iat;

	lw = lw < 0 ? 0 : lw > LEEWAY_MAX ? LEEWAY_MAX : lw;
	if (num_claim(c, "exp", exp) != 1)
		return fail(err, errsz, JWT_MALFORMED, "exp missing");
	if ((has_nbf = num_claim(c, "nbf", &nbf)) == -1 ||
	    (has_iat = num_claim(c, "iat", &iat)) == -1)
		return fail(err, errsz, JWT_MALFORMED, "nbf/iat not a number");
	if (*exp <= sat_add(p->now, -lw))
		return fail(err, errsz, JWT_EXPIRED, "expired");
	if (has_nbf && nbf > sat_add(p->now, lw))
		return fail(err, errsz, JWT_NOT_YET_VALID, "nbf in the future");
	if (has_iat && iat > sat_add(p->now, lw))
		return fail(err, errsz, JWT_NOT_YET_VALID, "iat in the future");
	return JWT_OK;
}

static char *
dup_str(json_t *c, const char *key)
{
	const char *s = json_string_value(json_object_get(c, key));

	return s ? x_strdup(s) : NULL;
}

static void
fill_groups(json_t *g, struct jwt_claims *out)
{
	size_t i, max = json_array_size(g);
	json_t *v;

	if (max == 0)
		return;
	out->groups =
	    x_calloc(max < GROUPS_MAX ? max : GROUPS_MAX, sizeof(char *));
	json_array_foreach(g, i, v)
	{
		if (out->ngroups == GROUPS_MAX)
			break;
		if (json_is_string(v))
			out->groups[out->ngroups++] =
			    x_strdup(json_string_value(v));
	}
}

static enum jwt_status
check_claims(json_t *c, const struct jwt_policy *p, struct jwt_claims *out,
    char *err, size_t errsz)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *sub = json_string_value(json_object_get(c, "sub"));
	enum jwt_status st;
	int64_t exp = 0;

	if (p == NULL || p->issuer == NULL || iss == NULL ||
	    strcmp(iss, p->issuer) != 0)
		return fail(err, errsz, JWT_BAD_ISSUER, "wrong issuer");
	if (!aud_ok(json_object_get(c, "aud"), p->audience))
		return fail(err, errsz, JWT_BAD_AUDIENCE, "wrong audience");
	if ((st = check_times(c, p, &exp, err, errsz)) != JWT_OK)
		return st;
	if (sub == NULL || *sub == '\0')
		return fail(err, errsz, JWT_MALFORMED, "sub missing");
	if (out == NULL)
		return JWT_OK;
	out->sub = x_strdup(sub);
	out->email = dup_str(c, "email");
	out->client_id = dup_str(c, "client_id");
	out->scope = dup_str(c, "scope");
	out->exp = exp;
	if (p->groups_claim != NULL)
		fill_groups(json_object_get(c, p->groups_claim), out);
	return JWT_OK;
}

enum jwt_status
jwt_verify(const char *tok, size_t n, const struct jwks *k,
    const struct jwt_policy *p, struct jwt_claims *out, char *err, size_t errsz)
{
	const struct jwk *key = NULL;
	json_t *h = NULL, *c = NULL;
	enum jwt_status st;
	struct parts t;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (n > JWT_MAX_LEN)
		return fail(err, errsz, JWT_TOO_LARGE, "token too large");
	if (tok == NULL || split(tok, n, &t) == -1)
		return fail(err, errsz, JWT_MALFORMED, "not a compact JWS");
	if ((h = load_part(t.h, t.hn)) == NULL) {
		st = fail(err, errsz, JWT_MALFORMED, "bad header");
		goto out;
	}
	if ((st = check_header(h, k, &key, err, errsz)) != JWT_OK ||
	    (st = check_sig(key, tok, &t, err, errsz)) != JWT_OK)
		goto out;
	if ((c = load_part(t.p, t.pn)) == NULL) {
		st = fail(err, errsz, JWT_MALFORMED, "bad payload");
		goto out;
	}
	st = check_claims(c, p, out, err, errsz);
out:
	json_decref(h);
	json_decref(c);
	if (st != JWT_OK && out != NULL)
		jwt_claims_clear(out);
	return st;
}

int
jwt_peek_kid(const char *tok, size_t n, char *kid, size_t kidsz)
{
	struct parts t;
	const char *s;
	json_t *h;
	int rc = -1;

	if (tok == NULL || n > JWT_MAX_LEN || split(tok, n, &t) == -1 ||
	    (h = load_part(t.h, t.hn)) == NULL)
		return -1;
	s = json_string_value(json_object_get(h, "kid"));
	if (s != NULL && kidsz > 0 && strlen(s) < kidsz) {
		memcpy(kid, s, strlen(s) + 1);
		rc = 0;
	}
	json_decref(h);
	return rc;
}

void
jwt_claims_clear(struct jwt_claims *c)
{
	if (c == NULL)
		return;
	free(c->sub);
	free(c->email);
	free(c->client_id);
	free(c->scope);
	for (size_t i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

const char *
jwt_status_str(enum jwt_status s)
{
	static const char *const names[] = {
		"ok",              /* JWT_OK */
		"malformed token", /* JWT_MALFORMED */
		"token too large", /* JWT_TOO_LARGE */
		"bad typ",         /* JWT_BAD_TYP */
		"bad alg",         /* JWT_BAD_ALG */
		"unknown kid",     /* JWT_UNKNOWN_KID */
		"bad signature",   /* JWT_BAD_SIGNATURE */
		"bad issuer",      /* JWT_BAD_ISSUER */
		"bad audience",    /* JWT_BAD_AUDIENCE */
		"expired",         /* JWT_EXPIRED */
		"not yet valid",   /* JWT_NOT_YET_VALID */
	};

	if ((size_t)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "unknown status";
}

/* SPDX-License-Identifier: ISC */
#include "registry_keys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xmem.h"

#define FETCH_MAX  (1024u * 1024)
#define FETCH_SECS 5L

struct rkeys {
	pthread_rwlock_t rw; /* verify: read; refetch: write */
	pthread_mutex_t mu;  /* one refetch at a time */
	char *issuer, *cacert;
	struct jwks *keys;  /* current set, or NULL */
	long long last_try; /* monotonic ms of the last fetch */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct rkeys *
rkeys_new(const char *issuer, const char *cacert)
{
	struct rkeys *k = x_calloc(1, sizeof(*k));

	pthread_mutex_init(&k->mu, NULL);
	pthread_rwlock_init(&k->rw, NULL);
	k->issuer = x_strdup(issuer);
	k->cacert = cacert ? x_strdup(cacert) : NULL;
	k->last_try = -RKEYS_REFETCH_MS;
	return k;
}

void
rkeys_free(struct rkeys **kp)
{
	struct rkeys *k;

	if (kp == NULL || (k = *kp) == NULL)
		return;
	jwks_free(&k->keys);
	pthread_mutex_destroy(&k->mu);
	pthread_rwlock_destroy(&k->rw);
	free(k->issuer);
	free(k->cacert);
	free(k);
	*kp = NULL;
}

static size_t
on_data(char *p, size_t sz, size_t n, void *arg)
{
	return buf_append(arg, p, sz * n) == 0 ? sz * n : 0;
}

/* GET url into b (200 only); 0 or -1 with a reason. */
static int
fetch(struct rkeys *k, const char *url, struct buf *b, char *err, size_t errsz)
{
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (c == NULL)
		return str_fmt(err, errsz, "cannot create a transfer"), -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_SECS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (k->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, k->cacert);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200) {
		str_fmt(err, errsz, "%s: %s", url,
		    rc != CURLE_OK ? curl_easy_strerror(rc) : "not HTTP 200");
		return -1;
	}
	return 0;
}

/* The jwks_uri from the issuer's metadata (new), or NULL. */
static char *
jwks_uri(struct rkeys *k, char *err, size_t errsz)
{
	static const char *const wk[] = { "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server" };
	char url[2048], *out = NULL;
	struct buf b;

	for (int i = 0; i < 2 && out == NULL; i++) {
		json_t *m;
		const char *iss, *u;

		buf_init(&b, FETCH_MAX);
		str_fmt(url, sizeof(url), "%s%s", k->issuer, wk[i]);
		if (fetch(k, url, &b, err, errsz) == 0 &&
		    (m = json_loadb(buf_data(&b), buf_len(&b), 0, NULL))) {
			iss = json_string_value(json_object_get(m, "issuer"));
			u = json_string_value(json_object_get(m, "jwks_uri"));
			if (iss == NULL || strcmp(iss, k->issuer) != 0)
				str_fmt(err, errsz, "%s: issuer mismatch", url);
			else if (u == NULL)
				str_fmt(err, errsz, "%s: no jwks_uri", url);
			else
				out = x_strdup(u);
			json_decref(m);
		}
		buf_finish(&b);
	}
	return out;
}

/* Fetches the key set into *out (new); 0 or -1. */
static int
refetch(struct rkeys *k, struct jwks **out, char *err, size_t errsz)
{
	char *uri;
	struct buf b;
	struct jwks *keys = NULL;

	k->last_try = now_ms();
	if ((uri = jwks_uri(k, err, errsz)) == NULL)
		return -1;
	buf_init(&b, FETCH_MAX);
	if (fetch(k, uri, &b, err, errsz) == 0)
		keys = jwks_parse(buf_data(&b), buf_len(&b), err, errsz);
	buf_finish(&b);
	free(uri);
	if (keys == NULL) {
		log_warn("JWKS of %s: %s", k->issuer, err);
		return -1;
	}
	*out = keys; /* the caller swaps it in */
	log_info("JWKS of %s: %zu keys", k->issuer, jwks_count(keys));
	return 0;
}

/* Fetches the keys again unless one did within RKEYS_REFETCH_MS. */
static void
maybe_refetch(struct rkeys *k, char *err, size_t errsz)
{
	struct jwks *keys = NULL;

	pthread_mutex_lock(&k->mu);
	/* Fetched without the write lock: verifications go on meanwhile. */
	if (now_ms() - k->last_try >= RKEYS_REFETCH_MS &&
	    refetch(k, &keys, err, errsz) == 0) {
		pthread_rwlock_wrlock(&k->rw);
		jwks_free(&k->keys);
		k->keys = keys;
		pthread_rwlock_unlock(&k->rw);
	}
	pthread_mutex_unlock(&k->mu);
}

enum jwt_status
rkeys_verify(struct rkeys *k, const char *tok, size_t n,
    const struct jwt_policy *p, struct jwt_claims *out, char *err, size_t errsz)
{
	char kid[256];
	enum jwt_status st;
	int known;

	if (jwt_peek_kid(tok, n, kid, sizeof(kid)) == -1)
		kid[0] = '\0';
	pthread_rwlock_rdlock(&k->rw);
	known = k->keys && kid[0] && jwks_has_kid(k->keys, kid);
	pthread_rwlock_unlock(&k->rw);
	if (!known && kid[0])
		maybe_refetch(k, err, errsz);
	pthread_rwlock_rdlock(&k->rw);
	if (k->keys == NULL) {
		pthread_rwlock_unlock(&k->rw);
		str_fmt(err, errsz, "signing keys unavailable");
		return JWT_UNKNOWN_KID;
	}
	st = jwt_verify(tok, n, k->keys, p, out, err, errsz);
	pthread_rwlock_unlock(&k->rw);
	return st;
}

/* SPDX-License-Identifier: ISC */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "oauth.h"
#include "plock.h"
#include "secret.h"
#include "str.h"
#include "tokset.h"
#include "xmem.h"

/* Lock retry period while another process refreshes. */
#define LOCK_POLL_MS 25

/* One audience in use: the default (resource NULL) or a server's. */
struct use {
	char *resource;     /* RFC 8707 resource, NULL = default */
	int want;           /* a refresh is wanted */
	int failed;         /* minting failed: why */
	char why[256];      /* reason when failed */
	struct secret *bad; /* the token a server rejected, or NULL */
};

struct auth {
	struct loop *loop;
	struct oauth *oauth;
	struct tokstore *store;
	struct plock *lock; /* NULL when no lock could be made */
	char *issuer, *profile;
	struct auth_cbs cbs;
	void *arg;
	int watch_store;
	enum auth_state st;
	struct tokset *ts; /* current tokens, or NULL */
	struct use uses[TOKSET_MAX_ACCESS];
	size_t nuse;
	struct use *cur;               /* audience being refreshed, or NULL */
	struct oauth_op *op;           /* refresh or revocation in flight */
	struct oauth_op *dev;          /* device flow in flight */
	void (*locked)(struct auth *); /* runs once the lock is held */
	int64_t lock_since;            /* loop time the lock wait began */
	int64_t retry_ms;              /* current refresh backoff */
	struct loop_timer *refresh;    /* proactive refresh */
	struct loop_timer *lockt;      /* lock retry */
	struct loop_timer *watch;      /* store watch while signing in */
	auth_done_cb *logout_cb;       /* logout in progress */
	void *logout_arg;
	int del_failed; /* logout could not delete the stored tokens */
	char err[384];  /* last failure */
};

static void kick(struct auth *a);
static void schedule(struct auth *a);

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
set_state(struct auth *a, enum auth_state st, const char *why)
{
	if (why)
		str_fmt(a->err, sizeof(a->err), "%s", why);
	if (a->st == st)
		return;
	a->st = st;
	if (a->cbs.state)
		a->cbs.state(a->arg, st, why);
}

static void
tokens_changed(struct auth *a)
{
	if (a->cbs.tokens)
		a->cbs.tokens(a->arg);
}

static struct tokstore *
open_store(const struct auth_opts *o, char *err, size_t errsz)
{
	struct tokstore *s;
	char why[256];

	s = tokstore_open(o->store, &o->store_opts, why, sizeof(why));
	if (s != NULL)
		return s;
	if (o->store == TOKSTORE_FILE || o->store == TOKSTORE_MEMORY ||
	    o->strict_store) {
		str_fmt(err, errsz, "token store: %s", why);
		return NULL;
	}
	log_warn("no keyring (%s): tokens are kept in memory for this "
	         "process only, so you will be asked to sign in again at the "
	         "next start; unlock or install a Secret Service keyring "
	         "(gnome-keyring), or set token_store to \"file\" to keep "
	         "them in a 0600 file",
	    why);
	return tokstore_open(TOKSTORE_MEMORY, NULL, err, errsz);
}

static struct plock *
open_lock(const char *issuer, const char *profile)
{
	char id[33], name[64], why[256];
	struct plock *p;

	str_pair_id(issuer, profile, id);
	str_fmt(name, sizeof(name), "refresh-%s.lock", id);
	if ((p = plock_open(name, why, sizeof(why))) == NULL)
		log_warn("refresh lock: %s; refreshing without it", why);
	return p;
}

static void on_refresh_timer(void *arg);
static void on_lock_timer(void *arg);
static void on_watch_timer(void *arg);

struct auth *
auth_new(struct loop *l, struct http *h, const struct auth_opts *o,
    const struct auth_cbs *cbs, void *arg, char *err, size_t errsz)
{
	struct oauth_opts oo = { o->issuer, o->client_id, o->scope,
		o->resource };
	struct auth *a;
	struct tokstore *s;

	if ((s = open_store(o, err, errsz)) == NULL)
		return NULL;
	a = x_calloc(1, sizeof(*a));
	a->loop = l;
	a->store = s;
	a->oauth = oauth_new(l, h, &oo);
	a->issuer = x_strdup(o->issuer);
	a->profile = x_strdup(o->profile ? o->profile : "default");
	a->lock = open_lock(a->issuer, a->profile);
	a->cbs = *cbs;
	a->arg = arg;
	a->watch_store = o->watch_store;
	a->nuse = 1; /* uses[0]: the default audience */
	a->retry_ms = AUTH_RETRY_MIN_MS;
	a->refresh = loop_timer_new(l, on_refresh_timer, a);
	a->lockt = loop_timer_new(l, on_lock_timer, a);
	a->watch = loop_timer_new(l, on_watch_timer, a);
	return a;
}

void
auth_free(struct auth **ap)
{
	struct auth *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	oauth_cancel(a->op);
	oauth_cancel(a->dev);
	oauth_free(&a->oauth);
	loop_timer_del(a->refresh);
	loop_timer_del(a->lockt);
	loop_timer_del(a->watch);
	plock_close(&a->lock);
	tokstore_close(&a->store);
	tokset_free(&a->ts);
	for (size_t i = 0; i < a->nuse; i++) {
		free(a->uses[i].resource);
		secret_free(&a->uses[i].bad);
	}
	free(a->issuer);
	free(a->profile);
	free(a);
	*ap = NULL;
}

enum auth_state
auth_state(const struct auth *a)
{
	return a->st;
}

const char *
auth_last_error(const struct auth *a)
{
	return a->err;
}

const char *
auth_store_name(const struct auth *a)
{
	return tokstore_name(a->store);
}

const struct tokset *
auth_tokens(const struct auth *a)
{
	return a->ts;
}

/* Reads the stored set: 0 found (*out new), 1 none, -1 error. */
static int
read_store(struct auth *a, struct tokset **out)
{
	struct secret *blob = NULL;
	char why[256];
	int rc;

	*out = NULL;
	rc = tokstore_get(a->store, a->issuer, a->profile, &blob);
	if (rc != 0)
		return rc;
	*out = tokset_parse(blob, why, sizeof(why));
	secret_free(&blob);
	if (*out == NULL) {
		log_warn("%s; ignoring it", why);
		return 1;
	}
	return 0;
}

static int
write_store(struct auth *a)
{
	struct secret *blob = tokset_dump(a->ts);
	int rc = -1;

	if (blob != NULL)
		rc = tokstore_put(a->store, a->issuer, a->profile, blob);
	secret_free(&blob);
	if (rc == -1)
		log_error("could not save the new tokens in the %s",
		    tokstore_name(a->store));
	return rc;
}

/* Usable: a refresh token, or an access token still valid. */
static int
usable(const struct tokset *t)
{
	return t && (tokset_refresh(t) || tokset_access(t, NULL, now_s()));
}

enum auth_state
auth_start(struct auth *a)
{
	struct tokset *t;
	int rc = read_store(a, &t);

	if (rc == -1)
		str_fmt(a->err, sizeof(a->err), "cannot read the %s",
		    tokstore_name(a->store));
	if (rc == 0 && usable(t)) {
		tokset_free(&a->ts);
		a->ts = t;
		a->st = AUTH_SIGNED_IN;
		schedule(a);
		return a->st;
	}
	tokset_free(&t);
	a->st = AUTH_SIGNED_OUT;
	return a->st;
}

static struct use *
find_use(struct auth *a, const char *resource, int add)
{
	for (size_t i = 0; i < a->nuse; i++) {
		const char *r = a->uses[i].resource;

		if ((r == NULL && resource == NULL) ||
		    (r && resource && strcmp(r, resource) == 0))
			return &a->uses[i];
	}
	if (!add || a->nuse == TOKSET_MAX_ACCESS)
		return NULL;
	a->uses[a->nuse].resource = x_strdup(resource);
	return &a->uses[a->nuse++];
}

/* Lock handling: `fn` runs once the lock is held (or cannot be had). */
static void
with_lock(struct auth *a, void (*fn)(struct auth *))
{
	a->locked = fn;
	a->lock_since = loop_now_ms();
	on_lock_timer(a);
}

static void
on_lock_timer(void *arg)
{
	struct auth *a = arg;
	void (*fn)(struct auth *) = a->locked;
	int r = a->lock ? plock_try(a->lock) : -1;

	if (r == 0 && loop_now_ms() - a->lock_since < AUTH_LOCK_WAIT_MS) {
		loop_timer_arm(a->lockt, LOCK_POLL_MS);
		return;
	}
	if (r == 0)
		log_warn("another mcp-bridge has held the refresh lock %s for "
		         "%d s; going ahead without it",
		    plock_path(a->lock), AUTH_LOCK_WAIT_MS / 1000);
	a->locked = NULL;
	fn(a);
}

static void
unlock(struct auth *a)
{
	plock_release(a->lock);
}

/* Refresh cycle. */

static void
cycle_end(struct auth *a)
{
	a->cur = NULL;
	unlock(a);
	schedule(a);
	tokens_changed(a);
	kick(a);
}

static void
signed_out(struct auth *a, const char *why)
{
	unlock(a);
	a->cur = NULL;
	tokset_free(&a->ts);
	loop_timer_stop(a->refresh);
	for (size_t i = 0; i < a->nuse; i++)
		a->uses[i].want = 0;
	log_warn("signed out: %s", why);
	set_state(a, AUTH_SIGNED_OUT, why);
	tokens_changed(a);
}

/*
 * A refresh could not run or failed for now: retry with backoff. `notify`:
 * waiters ask again at once (a network failure); without it they wait for
 * the retry (a store that cannot be read would fail again at once).
 */
static void
retry_later(struct auth *a, int notify)
{
	log_warn(
	    "%s; retrying in %lld s", a->err, (long long)(a->retry_ms / 1000));
	a->cur = NULL;
	unlock(a);
	loop_timer_arm(a->refresh, a->retry_ms);
	a->retry_ms = a->retry_ms * 2 > AUTH_RETRY_MAX_MS ? AUTH_RETRY_MAX_MS
	                                                  : a->retry_ms * 2;
	if (notify)
		tokens_changed(a);
}

static void
on_refreshed(void *arg, struct oauth_result *r)
{
	struct auth *a = arg;
	struct use *u = a->cur;
	int stored;

	a->op = NULL;
	if (r->ok) {
		if (r->tok.refresh) {
			tokset_set_refresh(a->ts, r->tok.refresh);
			r->tok.refresh = NULL;
		}
		if (r->tok.id_token && u->resource == NULL) {
			tokset_set_id(a->ts, r->tok.id_token);
			r->tok.id_token = NULL;
		}
		stored = tokset_set_access(a->ts, u->resource, r->tok.access,
		    now_s(), r->tok.expires_in);
		r->tok.access = NULL;
		write_store(a); /* before the new access token is used */
		u->want = 0;
		a->retry_ms = AUTH_RETRY_MIN_MS;
		if (stored == -1) { /* tokset_set_access checks the audience */
			log_error(
			    "cannot keep an access token for this audience");
			u->failed = 1;
			str_fmt(u->why, sizeof(u->why),
			    "the access token's audience cannot be stored");
		} else {
			secret_free(&u->bad);
			log_info("refreshed the access token%s%s",
			    u->resource ? " for " : "",
			    u->resource ? u->resource : "");
		}
		cycle_end(a);
		return;
	}
	if (strcmp(r->error, "invalid_grant") == 0) {
		tokstore_del(a->store, a->issuer, a->profile);
		signed_out(a,
		    "the sign-in expired or was revoked "
		    "(invalid_grant); sign in again");
		return;
	}
	str_fmt(a->err, sizeof(a->err), "token refresh failed: %s", r->why);
	if (r->transient) {
		retry_later(a, 1);
		return;
	}
	log_error("%s", a->err);
	u->want = 0;
	u->failed = 1;
	str_fmt(u->why, sizeof(u->why), "%s", r->why);
	cycle_end(a);
}

/* The store's access token for `u` may serve: fresh and not rejected. */
static int
fresh(struct auth *a, struct use *u)
{
	const struct secret *t = tokset_access(a->ts, u->resource, now_s());

	if (t == NULL || tokset_refresh_at(a->ts, u->resource) <= now_s())
		return 0;
	return u->bad == NULL || !secret_eq(u->bad, t);
}

static void
refresh_locked(struct auth *a)
{
	struct oauth_op *op;
	struct tokset *t = NULL;
	int rc = read_store(a, &t);

	if (rc == 1) {
		signed_out(a,
		    "the stored tokens are gone (signed out in "
		    "another window?)");
		return;
	}
	if (rc == -1) { /* our copy may be stale: using it could be reuse */
		str_fmt(a->err, sizeof(a->err),
		    "token refresh postponed: cannot read the %s",
		    tokstore_name(a->store));
		retry_later(a, 0);
		return;
	}
	tokset_free(&a->ts); /* the store is the truth: others may rotate */
	a->ts = t;
	if (fresh(a, a->cur)) {
		a->cur->want = 0;
		cycle_end(a);
		return;
	}
	if (tokset_refresh(a->ts) == NULL) {
		signed_out(a,
		    "the access token expired and there is no "
		    "refresh token; sign in again");
		return;
	}
	/* NULL when it ended during the call (and maybe a newer one began). */
	op = oauth_refresh(
	    a->oauth, tokset_refresh(a->ts), a->cur->resource, on_refreshed, a);
	if (op)
		a->op = op;
}

/* Starts the next wanted refresh, if any and if idle. */
static void
kick(struct auth *a)
{
	if (a->cur || a->locked || a->logout_cb || a->st != AUTH_SIGNED_IN)
		return; /* a logout holds the lock for itself: no refresh */
	for (size_t i = 0; i < a->nuse; i++) {
		if (a->uses[i].want) {
			a->cur = &a->uses[i];
			with_lock(a, refresh_locked);
			return;
		}
	}
}

/* Arms the proactive refresh at the earliest refresh time in use. */
static void
schedule(struct auth *a)
{
	int64_t when = 0, t;

	if (a->ts == NULL || loop_timer_armed(a->refresh))
		return;
	for (size_t i = 0; i < a->nuse; i++) {
		t = tokset_refresh_at(a->ts, a->uses[i].resource);
		if (t && (when == 0 || t < when))
			when = t;
	}
	if (when == 0)
		return;
	t = when - now_s();
	loop_timer_arm(a->refresh, t > 0 ? t * 1000 : 0);
}

static void
on_refresh_timer(void *arg)
{
	struct auth *a = arg;

	for (size_t i = 0; i < a->nuse; i++) {
		struct use *u = &a->uses[i];

		if (!u->failed && tokset_refresh_at(a->ts, u->resource) &&
		    tokset_refresh_at(a->ts, u->resource) <= now_s())
			u->want = 1;
		if (u->resource == NULL && !tokset_access(a->ts, NULL, now_s()))
			u->want = 1; /* after a failed retry */
	}
	kick(a);
	schedule(a);
}

int
auth_bearer(struct auth *a, const char *resource, const struct secret **out,
    const char **why)
{
	struct use *u;

	*out = NULL;
	*why = a->err[0] ? a->err : "not signed in";
	if (a->st != AUTH_SIGNED_IN || a->ts == NULL)
		return -1;
	if ((u = find_use(a, resource, 1)) == NULL) {
		*why = "too many audiences";
		return -1;
	}
	*out = tokset_access(a->ts, resource, now_s());
	if (*out && u->bad && secret_eq(u->bad, *out))
		*out = NULL; /* refused by a server: wait for the refresh */
	if (*out)
		return 0;
	if (u->failed) {
		*why = u->why;
		return -1;
	}
	u->want = 1;
	kick(a);
	return 1;
}

void
auth_rejected(struct auth *a, const char *resource, const struct secret *tok)
{
	struct use *u = find_use(a, resource, 1);

	if (u == NULL || a->st != AUTH_SIGNED_IN)
		return;
	if (u->bad == NULL || !secret_eq(u->bad, tok)) {
		secret_free(&u->bad);
		u->bad = secret_new(secret_data(tok), secret_len(tok));
	}
	tokset_drop_access(a->ts, resource);
	u->want = 1;
	u->failed = 0;
	kick(a);
}

/* Sign-in (device flow). */

static void
on_code(void *arg, const struct oamsg_device *d)
{
	struct auth *a = arg;

	if (a->cbs.code)
		a->cbs.code(a->arg, d);
}

/* New tokens from the device flow: store them (under the lock). */
static void
store_new_locked(struct auth *a)
{
	write_store(a);
	unlock(a);
	for (size_t i = 0; i < a->nuse; i++) {
		a->uses[i].failed = 0;
		secret_free(&a->uses[i].bad);
	}
	a->err[0] = '\0';
	set_state(a, AUTH_SIGNED_IN, NULL);
	schedule(a);
	tokens_changed(a);
	kick(a);
}

static void
on_device_done(void *arg, struct oauth_result *r)
{
	struct auth *a = arg;

	a->dev = NULL;
	loop_timer_stop(a->watch);
	if (!r->ok) {
		log_warn("sign-in failed: %s", r->why);
		set_state(a, AUTH_SIGNED_OUT, r->why);
		if (a->ts == NULL)
			tokens_changed(a);
		return;
	}
	if (r->tok.refresh == NULL)
		log_warn(
		    "the issuer gave no refresh token (is offline_access "
		    "in the scopes?): sign-in lasts until the access token "
		    "expires");
	tokset_free(&a->ts);
	a->ts = tokset_new();
	tokset_set_refresh(a->ts, r->tok.refresh);
	tokset_set_id(a->ts, r->tok.id_token);
	/* The default audience (NULL) is always accepted: cannot fail. */
	(void)tokset_set_access(
	    a->ts, NULL, r->tok.access, now_s(), r->tok.expires_in);
	r->tok.refresh = r->tok.id_token = r->tok.access = NULL;
	loop_timer_stop(a->refresh);
	if (a->locked == NULL)
		with_lock(a, store_new_locked);
	else
		store_new_locked(a); /* a logout or refresh waits: no lock */
}

static void
start_device(struct auth *a)
{
	static const struct oauth_device_cbs cbs = { on_code, on_device_done };
	struct oauth_op *dev;

	a->err[0] = '\0';
	set_state(a, AUTH_SIGNING_IN, NULL);
	dev = oauth_device(a->oauth, &cbs, a);
	if (dev)
		a->dev = dev;
	if (dev && a->watch_store)
		loop_timer_arm(a->watch, AUTH_STORE_WATCH_MS);
}

void
auth_login(struct auth *a)
{
	if (a->dev == NULL && a->st != AUTH_SIGNED_IN)
		start_device(a);
}

void
auth_relogin(struct auth *a)
{
	if (a->dev == NULL)
		start_device(a);
}

/* While signing in: another window may have finished first. */
static void
on_watch_timer(void *arg)
{
	struct auth *a = arg;
	struct tokset *t = NULL;

	if (a->dev == NULL)
		return;
	if (read_store(a, &t) == 0 && usable(t)) {
		log_info("signed in by another mcp-bridge process");
		oauth_cancel(a->dev);
		a->dev = NULL;
		tokset_free(&a->ts);
		a->ts = t;
		set_state(a, AUTH_SIGNED_IN, NULL);
		schedule(a);
		tokens_changed(a);
		return;
	}
	tokset_free(&t);
	loop_timer_arm(a->watch, AUTH_STORE_WATCH_MS);
}

/* Logout. */

static void
logout_end(struct auth *a, int ok, const char *why)
{
	auth_done_cb *cb = a->logout_cb;
	void *arg = a->logout_arg;
	int del = a->del_failed ? -1 : 0;

	unlock(a);
	a->logout_cb = NULL;
	tokset_free(&a->ts);
	loop_timer_stop(a->refresh);
	if (del == -1 && ok) {
		ok = 0;
		why = "could not delete the stored tokens";
	}
	a->st = AUTH_SIGNED_OUT;
	cb(arg, ok, why);
}

static void
on_revoked(void *arg, struct oauth_result *r)
{
	struct auth *a = arg;
	char why[450];

	a->op = NULL;
	if (r->ok) {
		logout_end(a, 1, NULL);
		return;
	}
	str_fmt(why, sizeof(why),
	    "could not revoke the refresh token (%s); the stored tokens "
	    "were deleted anyway",
	    r->why);
	logout_end(a, 0, why);
}

/*
 * Under the lock: the stored set is deleted before the revocation, so a
 * window that refreshes once the lock is free (or after giving up on it)
 * finds nothing to refresh or to write back.
 */
static void
logout_locked(struct auth *a)
{
	struct oauth_op *op;
	struct tokset *t = NULL;

	if (read_store(a, &t) == 0) {
		tokset_free(&a->ts);
		a->ts = t;
	} else
		tokset_free(&t);
	if (tokstore_del(a->store, a->issuer, a->profile) == -1)
		a->del_failed = 1;
	if (a->ts == NULL || tokset_refresh(a->ts) == NULL) {
		logout_end(a, 1, NULL);
		return;
	}
	op = oauth_revoke(a->oauth, tokset_refresh(a->ts), on_revoked, a);
	if (op)
		a->op = op;
}

void
auth_logout(struct auth *a, auth_done_cb *cb, void *arg)
{
	oauth_cancel(a->dev);
	a->dev = NULL;
	oauth_cancel(a->op);
	a->op = NULL;
	a->cur = NULL;
	loop_timer_stop(a->refresh); /* no refresh of what is revoked */
	a->del_failed = 0;
	a->logout_cb = cb;
	a->logout_arg = arg;
	with_lock(a, logout_locked);
}

static int
source_bearer(void *arg, const struct secret **out, const char **why)
{
	return auth_bearer(arg, NULL, out, why);
}

static void
source_rejected(void *arg, const struct secret *tok)
{
	auth_rejected(arg, NULL, tok);
}

void
auth_token_source(struct auth *a, struct upstream_auth *out)
{
	*out = (struct upstream_auth){ source_bearer, source_rejected, a };
}

/* SPDX-License-Identifier: ISC */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

/* One HTTP exchange with the authorization server may take this long. */
#define REQUEST_TIMEOUT_MS (30 * 1000)
/* Largest form body the bridge sends. */
#define FORM_MAX (128u * 1024)

#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"

enum op_kind { OP_DISCOVER, OP_DEVICE, OP_REFRESH, OP_REVOKE };

/* What the current HTTP exchange of an op is. */
enum step {
	STEP_META_OIDC, /* GET openid-configuration */
	STEP_META_AS,   /* GET oauth-authorization-server */
	STEP_AUTHORIZE, /* POST device authorization */
	STEP_POLL,      /* POST token (device_code grant) */
	STEP_TOKEN,     /* POST token (refresh grant) */
	STEP_REVOKE,    /* POST revocation */
};

struct oauth {
	struct loop *loop;
	struct http *http;
	char *issuer, *client_id, *scope, *resource;
	struct oamsg_meta meta; /* valid when have_meta */
	int have_meta;
	struct oauth_op *ops; /* live operations */
};

struct oauth_op {
	struct oauth *o;
	struct oauth_op *prev, *next;
	enum op_kind kind;
	enum step step;
	oauth_cb *cb;
	struct oauth_device_cbs dcbs;
	void *arg;
	struct buf form;         /* request body (wiped) */
	struct buf resp;         /* response body (wiped) */
	struct http_req *req;    /* current exchange, or NULL */
	long status;             /* its HTTP status */
	struct loop_timer *tmo;  /* request timeout */
	struct loop_timer *wait; /* device flow poll timer */
	char *resource;          /* refresh: RFC 8707 resource, or NULL */
	struct secret *rt;       /* refresh/revoke: the token (copy) */
	struct oamsg_device dev; /* device flow: the codes */
	int64_t interval_ms;     /* device flow: current poll interval */
	int64_t deadline;        /* device flow: loop time the codes expire */
	char meta_err[256];      /* why the first discovery URL failed */
};

static int op_go(struct oauth_op *op);
static int send_step(struct oauth_op *op);

struct oauth *
oauth_new(struct loop *l, struct http *h, const struct oauth_opts *opts)
{
	struct oauth *o = x_calloc(1, sizeof(*o));
	size_t n;

	o->loop = l;
	o->http = h;
	o->issuer = x_strdup(opts->issuer);
	/* RFC 8414 3: the well-known suffix goes after the issuer path. */
	n = strlen(o->issuer);
	while (n > 0 && o->issuer[n - 1] == '/')
		o->issuer[--n] = '\0';
	o->client_id = x_strdup(opts->client_id);
	o->scope = opts->scope ? x_strdup(opts->scope) : NULL;
	o->resource = opts->resource ? x_strdup(opts->resource) : NULL;
	return o;
}

static void
op_free(struct oauth_op *op)
{
	http_req_cancel(op->req);
	loop_timer_del(op->tmo);
	loop_timer_del(op->wait);
	buf_finish(&op->form);
	buf_finish(&op->resp);
	free(op->resource);
	secret_free(&op->rt);
	oamsg_device_clear(&op->dev);
	secret_wipe(op, sizeof(*op));
	free(op);
}

static void
op_unlink(struct oauth_op *op)
{
	struct oauth *o = op->o;

	if (op->prev)
		op->prev->next = op->next;
	else if (o->ops == op)
		o->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
}

void
oauth_cancel(struct oauth_op *op)
{
	if (op == NULL)
		return;
	op_unlink(op);
	op_free(op);
}

void
oauth_free(struct oauth **op)
{
	struct oauth_op *p, *next;
	struct oauth *o;

	if (op == NULL || (o = *op) == NULL)
		return;
	for (p = o->ops; p != NULL; p = next) {
		next = p->next;
		oauth_cancel(p);
	}
	oamsg_meta_clear(&o->meta);
	free(o->issuer);
	free(o->client_id);
	free(o->scope);
	free(o->resource);
	free(o);
	*op = NULL;
}

const struct oamsg_meta *
oauth_meta(const struct oauth *o)
{
	return o->have_meta ? &o->meta : NULL;
}

/* Ends `op` with `r`: the callback runs after op is unlinked. */
static void
finish(struct oauth_op *op, struct oauth_result *r)
{
	oauth_cb *cb = op->kind == OP_DEVICE ? op->dcbs.done : op->cb;
	void *arg = op->arg;

	op_unlink(op);
	op_free(op);
	cb(arg, r);
	oamsg_token_clear(&r->tok);
	secret_wipe(r, sizeof(*r));
}

static void
fail(struct oauth_op *op, int transient, const char *error, const char *why)
{
	struct oauth_result r;

	memset(&r, 0, sizeof(r));
	r.transient = transient;
	str_fmt(r.error, sizeof(r.error), "%s", error ? error : "");
	if (str_fmt(r.why, sizeof(r.why), "%s", why) < 0)
		memcpy(r.why + sizeof(r.why) - 4, "...", 4);
	finish(op, &r);
}

static struct oauth_op *
op_new(struct oauth *o, enum op_kind kind, oauth_cb *cb, void *arg)
{
	struct oauth_op *op = x_calloc(1, sizeof(*op));

	op->o = o;
	op->kind = kind;
	op->cb = cb;
	op->arg = arg;
	buf_init_secret(&op->form, FORM_MAX);
	buf_init_secret(&op->resp, OAMSG_MAX_BODY);
	op->next = o->ops;
	if (o->ops)
		o->ops->prev = op;
	o->ops = op;
	return op;
}

/*
 * Starts with discovery when the metadata is not known yet. Returns 0,
 * or -1 when op already ended (its callback ran; op is freed).
 */
static int
op_begin(struct oauth_op *op)
{
	if (op->o->have_meta && op->kind != OP_DISCOVER)
		return op_go(op);
	if (op->o->have_meta) {
		struct oauth_result r;

		memset(&r, 0, sizeof(r));
		r.ok = 1;
		finish(op, &r);
		return -1;
	}
	op->step = STEP_META_OIDC;
	return send_step(op);
}

/*
 * op_begin() may end `op` at once (metadata cached, no transfer): then
 * its callback has run, op is freed and the starter returns NULL.
 */
static struct oauth_op *
op_start(struct oauth_op *op)
{
	return op_begin(op) == 0 ? op : NULL;
}

struct oauth_op *
oauth_discover(struct oauth *o, oauth_cb *cb, void *arg)
{
	return op_start(op_new(o, OP_DISCOVER, cb, arg));
}

struct oauth_op *
oauth_device(struct oauth *o, const struct oauth_device_cbs *cbs, void *arg)
{
	struct oauth_op *op = op_new(o, OP_DEVICE, NULL, arg);

	op->dcbs = *cbs;
	return op_start(op);
}

struct oauth_op *
oauth_refresh(struct oauth *o, const struct secret *rt, const char *resource,
    oauth_cb *cb, void *arg)
{
	struct oauth_op *op = op_new(o, OP_REFRESH, cb, arg);

	op->rt = secret_new(secret_data(rt), secret_len(rt));
	if (resource)
		op->resource = x_strdup(resource);
	return op_start(op);
}

struct oauth_op *
oauth_revoke(struct oauth *o, const struct secret *rt, oauth_cb *cb, void *arg)
{
	struct oauth_op *op = op_new(o, OP_REVOKE, cb, arg);

	op->rt = secret_new(secret_data(rt), secret_len(rt));
	return op_start(op);
}

/* Builds the form body of the current step; 0 or -1. */
static int
build_form(struct oauth_op *op)
{
	struct oauth *o = op->o;
	struct buf *b = &op->form;
	const char *res = op->resource ? op->resource : o->resource;
	int rc = 0;

	buf_reset(b);
	switch (op->step) {
	case STEP_AUTHORIZE:
		rc |= oamsg_form_add(b, "client_id", o->client_id);
		if (o->scope)
			rc |= oamsg_form_add(b, "scope", o->scope);
		if (res)
			rc |= oamsg_form_add(b, "resource", res);
		break;
	case STEP_POLL:
		rc |= oamsg_form_add(b, "grant_type", GRANT_DEVICE);
		rc |= oamsg_form_add(
		    b, "device_code", secret_data(op->dev.device_code));
		rc |= oamsg_form_add(b, "client_id", o->client_id);
		break;
	case STEP_TOKEN:
		rc |= oamsg_form_add(b, "grant_type", "refresh_token");
		rc |= oamsg_form_add(b, "refresh_token", secret_data(op->rt));
		rc |= oamsg_form_add(b, "client_id", o->client_id);
		if (res)
			rc |= oamsg_form_add(b, "resource", res);
		break;
	case STEP_REVOKE:
		rc |= oamsg_form_add(b, "token", secret_data(op->rt));
		rc |= oamsg_form_add(b, "token_type_hint", "refresh_token");
		rc |= oamsg_form_add(b, "client_id", o->client_id);
		break;
	default:
		break;
	}
	return rc ? -1 : 0;
}

/* The URL of the current step, written into `out`; 0 or -1. */
static int
step_url(struct oauth_op *op, char *out, size_t outsz)
{
	struct oauth *o = op->o;
	const char *path;

	switch (op->step) {
	case STEP_META_OIDC:
		return str_fmt(out, outsz,
		           "%s/.well-known/openid-configuration", o->issuer) < 0
		    ? -1
		    : 0;
	case STEP_META_AS:
		/* https://host/p -> https://host/.well-known/oauth-a-s/p */
		path = strchr(o->issuer + strlen("https://"), '/');
		return str_fmt(out, outsz,
		           "%.*s/.well-known/oauth-authorization-server%s",
		           (int)(path ? path - o->issuer
		                      : (long)strlen(o->issuer)),
		           o->issuer, path ? path : "") < 0
		    ? -1
		    : 0;
	case STEP_AUTHORIZE:
		return str_fmt(out, outsz, "%s", o->meta.device_ep) < 0 ? -1
		                                                        : 0;
	case STEP_POLL:
	case STEP_TOKEN:
		return str_fmt(out, outsz, "%s", o->meta.token_ep) < 0 ? -1 : 0;
	case STEP_REVOKE:
		return str_fmt(out, outsz, "%s", o->meta.revoke_ep) < 0 ? -1
		                                                        : 0;
	}
	return -1;
}

static const char *
step_what(enum step s)
{
	switch (s) {
	case STEP_META_OIDC:
	case STEP_META_AS:
		return "discovery";
	case STEP_AUTHORIZE:
		return "device authorization";
	case STEP_POLL:
	case STEP_TOKEN:
		return "token endpoint";
	case STEP_REVOKE:
		return "revocation endpoint";
	}
	return "request";
}

static void step_done(struct oauth_op *op, const char *err);

static void
on_head(void *arg, struct http_req *req, long status)
{
	(void)req;
	((struct oauth_op *)arg)->status = status;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct oauth_op *op = arg;

	if (buf_append(&op->resp, p, n) == 0)
		return 0;
	op->req = NULL; /* aborted by http: no on_done */
	step_done(op, "response too large");
	return -1;
}

static void
on_done(void *arg, const char *err)
{
	struct oauth_op *op = arg;

	op->req = NULL;
	step_done(op, err);
}

static const struct http_req_cbs op_http_cbs = { on_head, on_body, on_done };

static void
on_timeout(void *arg)
{
	struct oauth_op *op = arg;

	http_req_cancel(op->req);
	op->req = NULL;
	step_done(op, "no answer within 30 s");
}

/* Sends the current step: 0, or -1 when op failed at once (freed). */
static int
send_step(struct oauth_op *op)
{
	char url[4096];
	int post = op->step != STEP_META_OIDC && op->step != STEP_META_AS;

	buf_reset(&op->resp);
	op->status = 0;
	if (step_url(op, url, sizeof(url)) == -1 ||
	    (post && build_form(op) == -1)) {
		fail(op, 0, NULL, "request too large");
		return -1;
	}
	op->req = http_req_new(
	    op->o->http, post ? "POST" : "GET", url, &op_http_cbs, op);
	if (op->req == NULL) {
		fail(op, 1, NULL, "cannot create a transfer");
		return -1;
	}
	http_req_header(op->req, "Accept: application/json");
	if (post) {
		http_req_header(
		    op->req, "Content-Type: application/x-www-form-urlencoded");
		http_req_body(op->req, buf_data(&op->form), buf_len(&op->form));
	}
	if (op->tmo == NULL)
		op->tmo = loop_timer_new(op->o->loop, on_timeout, op);
	loop_timer_arm(op->tmo, REQUEST_TIMEOUT_MS);
	log_debug("oauth: %s %s", post ? "POST" : "GET", step_what(op->step));
	http_req_start(op->req);
	return 0;
}

/* Dispatches an op whose metadata is known: 0, or -1 (op freed). */
static int
op_go(struct oauth_op *op)
{
	switch (op->kind) {
	case OP_DEVICE:
		op->step = STEP_AUTHORIZE;
		break;
	case OP_REFRESH:
		op->step = STEP_TOKEN;
		break;
	case OP_REVOKE:
		if (op->o->meta.revoke_ep == NULL) {
			fail(op, 0, NULL,
			    "the issuer has no revocation_endpoint");
			return -1;
		}
		op->step = STEP_REVOKE;
		break;
	case OP_DISCOVER:
		break;
	}
	return send_step(op);
}

/* Metadata fetched: the step's outcome, then the op continues. */
static void
meta_done(struct oauth_op *op, const char *err)
{
	struct oauth *o = op->o;
	char why[256];
	int first = op->step == STEP_META_OIDC;

	if (err)
		str_fmt(why, sizeof(why), "%s", err);
	else if (op->status != 200)
		str_fmt(why, sizeof(why), "HTTP %ld", op->status);
	else if (oamsg_meta_parse(buf_data(&op->resp), buf_len(&op->resp),
	             o->issuer, &o->meta, why, sizeof(why)) == 0) {
		o->have_meta = 1;
		op_begin(op);
		return;
	} else if (strstr(why, "issuer") || strstr(why, "device flow") ||
	    strstr(why, "endpoint")) {
		fail(op, 0, NULL, why); /* a real document, and wrong */
		return;
	}
	if (first) {
		str_fmt(op->meta_err, sizeof(op->meta_err), "%s", why);
		op->step = STEP_META_AS;
		send_step(op);
		return;
	}
	char msg[600];
	str_fmt(msg, sizeof(msg),
	    "discovery at %s failed (openid-configuration: %s; "
	    "oauth-authorization-server: %s)",
	    o->issuer, op->meta_err, why);
	fail(op, err != NULL || op->status >= 500, NULL, msg);
}

/* An error answer of the authorization server, as one line. */
static void
server_error(
    struct oauth_op *op, char *code, size_t codesz, char *why, size_t whysz)
{
	char desc[200];

	if (oamsg_error_parse(buf_data(&op->resp), buf_len(&op->resp), code,
	        codesz, desc, sizeof(desc)) == 0)
		str_fmt(why, whysz, "%s: %s%s%s%s", step_what(op->step), code,
		    desc[0] ? " (" : "", desc, desc[0] ? ")" : "");
	else
		str_fmt(why, whysz, "%s: HTTP %ld", step_what(op->step),
		    op->status);
}

static void
token_ok(struct oauth_op *op)
{
	struct oauth_result r;
	char why[256];

	memset(&r, 0, sizeof(r));
	if (oamsg_token_parse(buf_data(&op->resp), buf_len(&op->resp), &r.tok,
	        why, sizeof(why)) == -1) {
		char msg[300];

		str_fmt(msg, sizeof(msg), "token endpoint: %s", why);
		fail(op, 0, NULL, msg);
		return;
	}
	r.ok = 1;
	finish(op, &r);
}

static void
on_poll_timer(void *arg)
{
	struct oauth_op *op = arg;

	send_step(op);
}

/*
 * Schedules the next device poll (0), or ends the flow at the deadline
 * (-1: op is freed).
 */
static int
poll_later(struct oauth_op *op)
{
	if (loop_now_ms() + op->interval_ms >= op->deadline) {
		fail(op, 0, "expired_token",
		    "the code expired before sign-in finished");
		return -1;
	}
	if (op->wait == NULL)
		op->wait = loop_timer_new(op->o->loop, on_poll_timer, op);
	loop_timer_arm(op->wait, op->interval_ms);
	return 0;
}

static void
backoff(struct oauth_op *op, const char *why)
{
	op->interval_ms *= 2;
	if (op->interval_ms > OAUTH_MAX_INTERVAL_S * 1000)
		op->interval_ms = OAUTH_MAX_INTERVAL_S * 1000;
	log_info("sign-in: %s; next poll in %lld s", why,
	    (long long)(op->interval_ms / 1000));
	poll_later(op);
}

static void
authorize_done(struct oauth_op *op, const char *err)
{
	char code[64], why[384];

	if (err || op->status != 200) {
		if (err)
			str_fmt(why, sizeof(why), "%s: %s", step_what(op->step),
			    err);
		else
			server_error(op, code, sizeof(code), why, sizeof(why));
		fail(op, err != NULL || op->status >= 500, NULL, why);
		return;
	}
	if (oamsg_device_parse(buf_data(&op->resp), buf_len(&op->resp),
	        &op->dev, why, sizeof(why)) == -1) {
		char msg[420];

		str_fmt(msg, sizeof(msg), "device authorization: %s", why);
		fail(op, 0, NULL, msg);
		return;
	}
	op->interval_ms = op->dev.interval * 1000;
	op->deadline = loop_now_ms() + op->dev.expires_in * 1000;
	op->step = STEP_POLL;
	/* An IdP whose code expires within one interval ends it here. */
	if (poll_later(op) == -1)
		return;
	op->dcbs.code(op->arg, &op->dev); /* may cancel op: last */
}

static void
poll_done(struct oauth_op *op, const char *err)
{
	char code[64], why[384];

	if (err || op->status >= 500 || op->status == 429) {
		str_fmt(why, sizeof(why), "token endpoint: %s",
		    err ? err : "server error");
		backoff(op, why);
		return;
	}
	if (op->status == 200) {
		token_ok(op);
		return;
	}
	server_error(op, code, sizeof(code), why, sizeof(why));
	if (strcmp(code, "authorization_pending") == 0)
		poll_later(op);
	else if (strcmp(code, "slow_down") == 0) {
		op->interval_ms += 5000; /* RFC 8628 3.5: for all later polls */
		poll_later(op);
	} else if (strcmp(code, "access_denied") == 0)
		fail(op, 0, code, "sign-in was denied");
	else if (strcmp(code, "expired_token") == 0)
		fail(op, 0, code, "the code expired before sign-in finished");
	else
		fail(op, 0, code, why);
}

static void
token_done(struct oauth_op *op, const char *err)
{
	char code[64], why[384];

	if (err) {
		str_fmt(why, sizeof(why), "%s: %s", step_what(op->step), err);
		fail(op, 1, NULL, why);
		return;
	}
	if (op->status == 200 && op->step == STEP_REVOKE) {
		struct oauth_result r;

		memset(&r, 0, sizeof(r));
		r.ok = 1; /* RFC 7009 2.2: 200 whatever the body */
		finish(op, &r);
		return;
	}
	if (op->status == 200) {
		token_ok(op);
		return;
	}
	server_error(op, code, sizeof(code), why, sizeof(why));
	fail(op, op->status >= 500 || op->status == 429, code, why);
}

static void
step_done(struct oauth_op *op, const char *err)
{
	loop_timer_stop(op->tmo);
	switch (op->step) {
	case STEP_META_OIDC:
	case STEP_META_AS:
		meta_done(op, err);
		break;
	case STEP_AUTHORIZE:
		authorize_done(op, err);
		break;
	case STEP_POLL:
		poll_done(op, err);
		break;
	case STEP_TOKEN:
	case STEP_REVOKE:
		token_done(op, err);
		break;
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * tokstore_secret: token sets in the Secret Service through libsecret.
 *
 * One item per (issuer, profile) under the schema
 * "dev.mcp-bridge.TokenSet" (issuer, profile, store), always looked up
 * with the full attribute set (lookups match on subsets; "store" keeps
 * the keyring and session items apart). The `keyring` kind uses the default
 * collection, `session` the session collection (not written to disk).
 * Every call is asynchronous on a private GMainContext with a GCancellable
 * that a timer cancels, so a locked keyring waiting on a prompt turns into
 * an error instead of a hang. open() probes that the collection exists.
 */
#include "tokstore.h"

#include <stdlib.h>
#include <string.h>

#include <libsecret/secret.h>

#include "log.h"
#include "secret.h"
#include "str.h"
#include "xmem.h"

struct sstore {
	const char *collection; /* SECRET_COLLECTION_DEFAULT or _SESSION */
	const char *name;       /* human-readable store name */
	const char *kind;       /* "store" attribute: "keyring"/"session" */
	int timeout_ms;         /* per call */
};

/* One pending call: the loop runs until `done`. */
struct call {
	GMainContext *ctx;    /* private context, thread-default meanwhile */
	GCancellable *cancel; /* cancelled by the timer */
	int done;             /* set by the completion callback */
	int timed_out;        /* set by the timer */
	GAsyncResult *res;    /* the result (ref held) */
};

static const SecretSchema *
schema(void)
{
	static const SecretSchema s = {
		"dev.mcp-bridge.TokenSet",
		SECRET_SCHEMA_NONE,
		{
		    { "issuer", SECRET_SCHEMA_ATTRIBUTE_STRING },
		    { "profile", SECRET_SCHEMA_ATTRIBUTE_STRING },
		    { "store", SECRET_SCHEMA_ATTRIBUTE_STRING },
		    { NULL, 0 },
		},
		0,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
		NULL,
	};

	return &s;
}

static void
call_done(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct call *c = arg;

	c->res = g_object_ref(res);
	c->done = 1;
}

static gboolean
call_timeout(gpointer arg)
{
	struct call *c = arg;

	c->timed_out = 1;
	g_cancellable_cancel(c->cancel);
	return G_SOURCE_REMOVE;
}

/* Sets up a call; the async function must be started right after. */
static void
call_begin(struct call *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx = g_main_context_new();
	c->cancel = g_cancellable_new();
	g_main_context_push_thread_default(c->ctx);
}

/* Runs the private loop until the call completes (or is cancelled). */
static void
call_wait(struct call *c, int timeout_ms)
{
	GSource *t = g_timeout_source_new((guint)timeout_ms);

	g_source_set_callback(t, call_timeout, c, NULL);
	g_source_attach(t, c->ctx);
	while (!c->done)
		g_main_context_iteration(c->ctx, TRUE);
	g_source_destroy(t);
	g_source_unref(t);
}

static void
call_end(struct call *c)
{
	if (c->res != NULL)
		g_object_unref(c->res);
	g_main_context_pop_thread_default(c->ctx);
	/* let libsecret/GDBus drop their pending sources on this context */
	while (g_main_context_iteration(c->ctx, FALSE))
		;
	g_object_unref(c->cancel);
	g_main_context_unref(c->ctx);
}

/* Formats a failed call's reason into `err`, then frees `e`. */
static void
reason(const struct sstore *s, const struct call *c, GError *e, char *err,
    size_t errsz)
{
	if (c->timed_out)
		str_fmt(err, errsz,
		    "%s: no answer within %d ms (locked "
		    "keyring waiting for a prompt?)",
		    s->name, s->timeout_ms);
	else
		str_fmt(err, errsz, "%s: %s", s->name,
		    e != NULL ? e->message : "unknown error");
	g_clear_error(&e);
}

/* Looks the item up: 0 found (*out new), 1 none, -1 error in `err`. */
static int
lookup(const struct sstore *s, const char *issuer, const char *profile,
    struct secret **out, char *err, size_t errsz)
{
	struct call c;
	SecretValue *v;
	GError *e = NULL;
	const gchar *p;
	gsize n;

	call_begin(&c);
	secret_password_lookup(schema(), c.cancel, call_done, &c, "issuer",
	    issuer, "profile", profile, "store", s->kind, NULL);
	call_wait(&c, s->timeout_ms);
	v = secret_password_lookup_binary_finish(c.res, &e);
	call_end(&c);
	if (v == NULL && e == NULL && !c.timed_out)
		return 1;
	if (v == NULL || c.timed_out) {
		if (v != NULL)
			secret_value_unref(v);
		reason(s, &c, e, err, errsz);
		return -1;
	}
	p = secret_value_get(v, &n);
	*out = secret_new(p, n);
	secret_value_unref(v); /* SecretValue wipes its memory */
	return 0;
}

/*
 * Probes the service: the collection alias must resolve. A bus without
 * a Secret Service, or a daemon with no usable default keyring (headless:
 * creating one needs a prompt), fails here. 0 or -1 with `err` filled.
 */
static int
probe(const struct sstore *s, char *err, size_t errsz)
{
	SecretCollection *col;
	struct call c;
	GError *e = NULL;

	call_begin(&c);
	secret_collection_for_alias(NULL, s->collection, SECRET_COLLECTION_NONE,
	    c.cancel, call_done, &c);
	call_wait(&c, s->timeout_ms);
	col = secret_collection_for_alias_finish(c.res, &e);
	call_end(&c);
	if (col != NULL && !c.timed_out) {
		g_object_unref(col);
		return 0;
	}
	if (col != NULL)
		g_object_unref(col);
	if (e == NULL && !c.timed_out) {
		str_fmt(err, errsz,
		    "%s: no '%s' collection (no unlocked "
		    "keyring)",
		    s->name, s->collection);
		return -1;
	}
	reason(s, &c, e, err, errsz);
	return -1;
}

static void *
ss_open(enum tokstore_kind k, const struct tokstore_opts *o, char *err,
    size_t errsz)
{
	struct sstore *s = x_calloc(1, sizeof(*s));

	s->timeout_ms = o->timeout_ms;
	if (k == TOKSTORE_SESSION) {
		s->collection = SECRET_COLLECTION_SESSION;
		s->name = "session keyring (Secret Service)";
		s->kind = "session";
	} else {
		s->collection = SECRET_COLLECTION_DEFAULT;
		s->name = "keyring (Secret Service)";
		s->kind = "keyring";
	}
	if (probe(s, err, errsz) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

static int
ss_get(void *be, const char *issuer, const char *profile, struct secret **out)
{
	char err[512];
	int rc;

	if ((rc = lookup(be, issuer, profile, out, err, sizeof(err))) == -1)
		log_error("token lookup: %s", err);
	return rc;
}

static int
ss_put(void *be, const char *issuer, const char *profile,
    const struct secret *blob)
{
	struct sstore *s = be;
	struct call c;
	SecretValue *v;
	GError *e = NULL;
	char label[256], err[512];
	gboolean ok;

	str_fmt(label, sizeof(label), "mcp-bridge tokens (%s @ %s)", profile,
	    issuer);
	v = secret_value_new(secret_data(blob), (gssize)secret_len(blob),
	    "application/octet-stream");
	call_begin(&c);
	secret_password_store_binary(schema(), s->collection, label, v,
	    c.cancel, call_done, &c, "issuer", issuer, "profile", profile,
	    "store", s->kind, NULL);
	call_wait(&c, s->timeout_ms);
	ok = secret_password_store_finish(c.res, &e);
	call_end(&c);
	secret_value_unref(v);
	if (!ok || c.timed_out) {
		reason(s, &c, e, err, sizeof(err));
		log_error("token store: %s", err);
		return -1;
	}
	return 0;
}

static int
ss_del(void *be, const char *issuer, const char *profile)
{
	struct sstore *s = be;
	struct call c;
	GError *e = NULL;
	char err[512];

	call_begin(&c);
	secret_password_clear(schema(), c.cancel, call_done, &c, "issuer",
	    issuer, "profile", profile, "store", s->kind, NULL);
	call_wait(&c, s->timeout_ms);
	(void)secret_password_clear_finish(c.res, &e); /* FALSE: none */
	call_end(&c);
	if (e != NULL || c.timed_out) {
		reason(s, &c, e, err, sizeof(err));
		log_error("token delete: %s", err);
		return -1;
	}
	return 0;
}

static const char *
ss_name(const void *be)
{
	const struct sstore *s = be;

	return s->name;
}

static void
ss_close(void *be)
{
	free(be);
}

const struct tokstore_ops tokstore_secret_ops = {
	ss_open,
	ss_get,
	ss_put,
	ss_del,
	ss_name,
	ss_close,
};

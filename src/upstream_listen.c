/* SPDX-License-Identifier: ISC */
/*
 * upstream_listen: subscriptions/listen streams to a 2026-07-28 server,
 * carrying list_changed and resources/updated for the IDE (the
 * subscriptionId stripped). A new filter (resources/subscribe from the
 * IDE) opens a new stream; the old one is closed once the new one is
 * acknowledged. A lost stream is reopened with back-off and followed by
 * a list_changed, as events may have been missed; a 4xx means the
 * server has none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bounds.h"
#include "era.h"
#include "log.h"
#include "str.h"
#include "upstream_int.h"
#include "xmem.h"

/* -- subscriptions/listen ------------------------------------------- */

static int
cap_flag(const json_t *caps, const char *what, const char *flag)
{
	return json_is_true(json_object_get(json_object_get(caps, what), flag));
}

/* What to listen for, or NULL when there is nothing. */
static json_t *
listen_filter(struct upstream *u)
{
	struct modern *m = u->mod;
	json_t *f = json_object(), *uris = json_array();
	const char *k;
	json_t *v;

	if (cap_flag(m->caps, "tools", "listChanged"))
		json_object_set_new(f, "toolsListChanged", json_true());
	if (cap_flag(m->caps, "prompts", "listChanged"))
		json_object_set_new(f, "promptsListChanged", json_true());
	if (cap_flag(m->caps, "resources", "listChanged"))
		json_object_set_new(f, "resourcesListChanged", json_true());
	if (cap_flag(m->caps, "resources", "subscribe"))
		json_object_foreach(m->subs, k, v)
		    json_array_append_new(uris, json_string(k));
	if (json_array_size(uris))
		json_object_set(f, "resourceSubscriptions", uris);
	json_decref(uris);
	if (json_object_size(f) == 0) {
		json_decref(f);
		return NULL;
	}
	return f;
}

void
up_start_listen(struct upstream *u)
{
	struct modern *m = u->mod;
	json_t *f, *req;
	struct post *p;
	int64_t id;

	if (m == NULL || u->era != UP_ERA_MODERN || m->listen_off || u->closing)
		return;
	if ((f = listen_filter(u)) == NULL)
		return;
	id = upstream_next_id(u);
	req = json_pack("{s:s,s:I,s:s,s:{s:o}}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", "subscriptions/listen", "params",
	    "notifications", f);
	if (req == NULL || era_put_meta(req, m->meta, NULL) != 0 ||
	    (p = up_modern_post(u, req, id, UPSTREAM_REQUEST, NULL)) == NULL) {
		json_decref(req);
		return;
	}
	json_decref(req);
	p->internal = 1;
	p->listen = 1;
	/* The old stream is closed once the new one is acknowledged. */
	m->listen = p;
	up_post_start(p);
}

static void
on_relisten(void *arg)
{
	up_start_listen(arg);
}

/* After a lost stream: the lists may have changed meanwhile. */
static void
owe_list_changed(struct upstream *u, const json_t *honoured)
{
	static const char *const kinds[][2] = {
		{ "toolsListChanged", "notifications/tools/list_changed" },
		{ "promptsListChanged", "notifications/prompts/list_changed" },
		{ "resourcesListChanged",
		    "notifications/resources/list_changed" },
	};

	json_object_clear(u->mod->cache);
	for (size_t i = 0; i < 3; i++)
		if (json_is_true(json_object_get(honoured, kinds[i][0])))
			up_local_send(u,
			    json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method",
			        kinds[i][1]));
}

/* -1 if p was freed. */
static int
acknowledged(struct post *p, json_t *j)
{
	struct upstream *u = p->up;
	json_t *honoured =
	    json_object_get(json_object_get(j, "params"), "notifications");

	if (u->mod->listen != p) { /* a newer stream replaces this one */
		up_post_free(p);
		return -1;
	}
	for (struct post *o = u->posts; o; o = o->next)
		if (o != p && o->listen && !o->dead)
			up_post_free(o);
	u->mod->listen_fail = 0;
	if (u->mod->listen_lost) {
		u->mod->listen_lost = 0;
		owe_list_changed(u, honoured);
	}
	return 0;
}

/* A message on a listen stream; -1 if p was freed. */
int
up_modern_listen_msg(struct post *p, const char *js, size_t len)
{
	struct upstream *u = p->up;
	json_error_t e;
	json_t *j = json_loadb(js, len, 0, &e), *meta;
	const char *method = json_string_value(json_object_get(j, "method"));

	if (method == NULL) { /* the server ended the subscription */
		json_decref(j);
		up_modern_listen_done(p, NULL);
		return -1;
	}
	if (strcmp(method, "notifications/subscriptions/acknowledged") == 0) {
		int rc = acknowledged(p, j);

		json_decref(j);
		return rc;
	} else if (strncmp(method, "notifications/", 14) == 0) {
		if (strstr(method, "list_changed"))
			json_object_clear(u->mod->cache);
		meta = json_object_get(json_object_get(j, "params"), "_meta");
		json_object_del(meta, ERA_META_SUBID);
		if (json_is_object(meta) && json_object_size(meta) == 0)
			json_object_del(json_object_get(j, "params"), "_meta");
		up_local_send(u, json_incref(j));
	}
	json_decref(j);
	return 0;
}

void
up_modern_listen_done(struct post *p, const char *err)
{
	struct upstream *u = p->up;
	struct modern *m = u->mod;
	int64_t delay;
	int current = m->listen == p;

	if (!err && p->status >= 400 && p->status < 500 && p->status != 401) {
		log_info("hosted server offers no subscriptions/listen "
		         "(HTTP %ld); no list_changed from it",
		    p->status);
		m->listen_off = 1;
	}
	up_post_free(p);
	if (!current || m->listen_off || u->closing)
		return;
	m->listen_lost = 1;
	delay = (int64_t)ERA_LISTEN_RETRY_MS
	    << (m->listen_fail < 5 ? m->listen_fail : 5);
	if (delay > ERA_LISTEN_RETRY_MAX_MS)
		delay = ERA_LISTEN_RETRY_MAX_MS;
	m->listen_fail++;
	if (m->relisten == NULL)
		m->relisten = loop_timer_new(u->loop, on_relisten, u);
	log_info("subscription stream to the hosted server ended; "
	         "reopening");
	loop_timer_arm(m->relisten, delay);
}

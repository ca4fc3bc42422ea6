/* SPDX-License-Identifier: ISC */
/*
 * agg_list: the four lists (tools, prompts, resources, resource
 * templates) of every server: fetched page by page, merged in server
 * order under exposed names, served to the IDE in pages of AGG_PAGE,
 * watched for changes (list_changed when what the IDE saw differs), and
 * remembered on disk so a restart can answer before the servers do.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "fsx.h"
#include "log.h"
#include "str.h"
#include "xmem.h"

static const char *const methods[AL_COUNT] = { "tools/list", "prompts/list",
	"resources/list", "resources/templates/list" };
static const char *const keys[AL_COUNT] = { "tools", "prompts", "resources",
	"resourceTemplates" };
static const char *const changed[AL_COUNT] = {
	"notifications/tools/list_changed",
	"notifications/prompts/list_changed",
	"notifications/resources/list_changed",
	"notifications/resources/list_changed",
};

const char *
al_list_method(enum agg_list which)
{
	return methods[which];
}

const char *
al_list_key(enum agg_list which)
{
	return keys[which];
}

/* -- fetching --------------------------------------------------------- */

static void
send_page(struct link *l, enum agg_list which, const char *cursor)
{
	struct fwd *f = x_calloc(1, sizeof(*f));
	json_t *msg =
	    json_pack("{s:s, s:{}}", "method", methods[which], "params");

	if (cursor)
		json_object_set_new(json_object_get(msg, "params"), "cursor",
		    json_string(cursor));
	f->kind = FK_LIST;
	f->list = which;
	l->lists[which].fetching = 1;
	if (agg_link_send(l, f, msg) == -1) {
		l->lists[which].fetching = 0;
		agg_fwd_free(f);
	}
	json_decref(msg);
}

void
al_fetch(struct link *l, enum agg_list which)
{
	struct alist *al = &l->lists[which];

	if (l->st != LS_READY)
		return;
	if (al->fetching) {
		al->again = 1;
		return;
	}
	json_decref(al->acc);
	al->acc = json_array();
	al->pages = 0;
	send_page(l, which, NULL);
}

void
al_fetch_rest(struct link *l)
{
	if (!l->rest || l->st != LS_READY)
		return;
	l->rest = 0;
	if (json_object_get(l->caps, "prompts"))
		al_fetch(l, AL_PROMPTS);
	if (json_object_get(l->caps, "resources")) {
		al_fetch(l, AL_RESOURCES);
		al_fetch(l, AL_TEMPLATES);
	}
}

static uint64_t list_hash(json_t *list);

/* Tools and prompts need a name the IDE can be shown (names_tool_ok). */
static int
item_ok(enum agg_list which, json_t *it)
{
	const char *name = json_string_value(json_object_get(it, "name"));

	if (!json_is_object(it))
		return 0;
	if (which != AL_TOOLS && which != AL_PROMPTS)
		return 1;
	return name && names_tool_ok(name);
}

/* Appends the valid items of one page; 1 when the cap was hit. */
static int
take_items(struct link *l, struct alist *al, enum agg_list which, json_t *items)
{
	size_t i, bad = 0;
	json_t *it;

	json_array_foreach(items, i, it)
	{
		if (json_array_size(al->acc) == AGG_MAX_ITEMS) {
			log_warn("hosted server %s lists more than %d items; "
			         "the rest are left out",
			    l->id, AGG_MAX_ITEMS);
			return 1;
		}
		if (item_ok(which, it))
			json_array_append(al->acc, it);
		else
			bad++;
	}
	if (bad)
		log_warn("hosted server %s: %zu %s left out (no name, control "
		         "characters, or over %d bytes)",
		    l->id, bad, keys[which], NAMES_TOOL_MAX);
	return 0;
}

/* The list of `l` is complete: keep it unless nothing changed. */
static void
list_done(struct link *l, struct alist *al)
{
	uint64_t h = list_hash(al->acc);

	if (al->items && h == al->hitems)
		json_decref(al->acc); /* the same: no list_changed */
	else {
		json_decref(al->items);
		al->items = al->acc;
		al->hitems = h;
		al_cache_save_soon(l->agg);
	}
	al->acc = NULL;
}

void
al_page(struct link *l, struct fwd *f, json_t *result, const char *why)
{
	enum agg_list which = f->list;
	struct alist *al = &l->lists[which];
	json_t *items = json_object_get(result, keys[which]);
	const char *next;

	agg_fwd_free(f);
	al->fetching = 0;
	if (why || !json_is_array(items)) {
		log_warn("hosted server %s: %s failed: %s", l->id,
		    methods[which], why ? why : "no list in the answer");
		if (al->items == NULL) {
			al->items = json_array();
			al->hitems = list_hash(al->items);
		}
		goto done;
	}
	next = json_string_value(json_object_get(result, "nextCursor"));
	if (!take_items(l, al, which, items) && next && *next &&
	    ++al->pages < AGG_MAX_PAGES) {
		send_page(l, which, next);
		return;
	}
	list_done(l, al);
done:
	if (al->again) {
		al->again = 0;
		al_fetch(l, which);
	}
	if (which == AL_TOOLS)
		al_fetch_rest(l);
	al_link_changed(l->agg);
}

/* -- merging ---------------------------------------------------------- */

int
al_blocked(const struct agg *a, const char *exposed, char *why, size_t whysz)
{
	for (char **g = a->deny; g && *g; g++)
		if (fnmatch(*g, exposed, 0) == 0) {
			str_fmt(why, whysz,
			    "tool %.100s is blocked by the bridge's "
			    "configuration (tools.deny \"%.100s\")",
			    exposed, *g);
			return 1;
		}
	if (a->allow == NULL || a->allow[0] == NULL)
		return 0;
	for (char **g = a->allow; *g; g++)
		if (fnmatch(*g, exposed, 0) == 0)
			return 0;
	str_fmt(why, whysz,
	    "tool %.100s is blocked by the bridge's configuration (not in "
	    "tools.allow)",
	    exposed);
	return 1;
}

/* A server that failed (and is being retried) is not waited for. */
static int
link_out(const struct link *l)
{
	return l->st == LS_FAILED || l->st == LS_GONE ||
	    (l->st == LS_CONNECTING && l->warned);
}

/*
 * The items of `l` to show: live; else, while it (re)connects, what the
 * disk cache remembers (calls get "unavailable" until it is back); a
 * failed server the cache does not know is left out.
 */
static json_t *
items_of(const struct link *l, enum agg_list which)
{
	const struct alist *al = &l->lists[which];

	if (l->st == LS_GONE)
		return NULL;
	if (l->st == LS_READY && al->items)
		return al->items;
	return al->cached;
}

/* Adds one tool or prompt under its exposed name; 0 or -1 (skipped). */
static int
expose(struct agg *a, enum agg_list which, const struct link *l, json_t *it,
    json_t *out)
{
	const char *name = json_string_value(json_object_get(it, "name"));
	char ex[NAMES_MAX + 1], why[300];
	json_t *copy;

	if (name == NULL || names_expose(l->id, name, ex, sizeof(ex)) == -1)
		return -1;
	if (which == AL_TOOLS && al_blocked(a, ex, why, sizeof(why)))
		return -1;
	if (json_object_get(a->route[which], ex)) {
		log_debug(
		    "%s: %s collides with another name; left out", l->id, ex);
		return -1;
	}
	json_object_set_new(
	    a->route[which], ex, json_pack("[s,s]", l->id, name));
	copy = json_copy(it);
	json_object_set_new(copy, "name", json_string(ex));
	json_array_append_new(out, copy);
	return 0;
}

/* Resources and templates keep their URIs; the first server wins. */
static int
keep_uri(struct agg *a, enum agg_list which, const struct link *l, json_t *it,
    json_t *out)
{
	const char *k = which == AL_RESOURCES ? "uri" : "uriTemplate";
	const char *uri = json_string_value(json_object_get(it, k));

	if (uri == NULL || json_object_get(a->route[which], uri))
		return -1;
	json_object_set_new(a->route[which], uri, json_string(l->id));
	json_array_append(out, it);
	return 0;
}

/* Rebuilds the route of `which`; returns the merged list (new). */
static json_t *
merge(struct agg *a, enum agg_list which)
{
	json_t *out = json_array(), *items, *it;
	size_t j;

	json_object_clear(a->route[which]);
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];

		if ((items = items_of(l, which)) == NULL)
			continue;
		json_array_foreach(items, j, it)
		{
			if (which == AL_TOOLS || which == AL_PROMPTS)
				expose(a, which, l, it, out);
			else
				keep_uri(a, which, l, it, out);
		}
	}
	return out;
}

void
al_rebuild(struct agg *a, enum agg_list which)
{
	json_decref(merge(a, which));
}

/* FNV-1a of the list as the IDE would see it; never 0. */
static uint64_t
list_hash(json_t *list)
{
	char *text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = text ? text : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	free(text);
	return h ? h : 1;
}

/* Signature of the merged list: each server's id and list hash. */
static uint64_t
list_sig(const struct agg *a, enum agg_list which)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];
		const struct alist *al = &l->lists[which];
		json_t *it = items_of(l, which);
		uint64_t x = it == NULL ? 0
		    : it == al->items   ? al->hitems
		                        : al->hcached;

		for (const char *p = l->id; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		for (int b = 0; b < 8; b++)
			h = (h ^ ((x >> (8 * b)) & 0xff)) * 1099511628211ULL;
	}
	return h ? h : 1;
}

/* -- serving ---------------------------------------------------------- */

int
al_settled(const struct agg *a, enum agg_list which)
{
	if (a->pending)
		return 0;
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];

		if (link_out(l))
			continue;
		if (l->st == LS_READY && l->lists[which].items)
			continue;
		if (l->lists[which].cached == NULL)
			return 0;
	}
	return 1;
}

static void
serve_now(struct agg *a, int64_t id, enum agg_list which, const char *cursor)
{
	json_t *all = merge(a, which), *page, *res;
	long long off = 0;
	size_t n = json_array_size(all);

	if (cursor &&
	    (strncmp(cursor, "agg:", 4) != 0 ||
	        str_tonum(cursor + 4, 0, (long long)n, &off) == -1)) {
		json_decref(all);
		agg_emit_error(a, id, RPC_INVALID_PARAMS, "invalid cursor");
		return;
	}
	a->served[which] = list_sig(a, which);
	page = json_array();
	for (size_t i = (size_t)off; i < n && i < (size_t)off + AGG_PAGE; i++)
		json_array_append(page, json_array_get(all, i));
	res = json_pack("{s:o}", keys[which], page);
	if ((size_t)off + AGG_PAGE < n) {
		char next[32];

		snprintf(next, sizeof(next), "agg:%zu", (size_t)off + AGG_PAGE);
		json_object_set_new(res, "nextCursor", json_string(next));
	}
	json_decref(all);
	agg_emit_json(a, id, res);
}

static void
arm_park(struct agg *a)
{
	int64_t now = loop_now_ms(), first = INT64_MAX;

	for (struct parked *p = a->parked; p; p = p->next)
		if (p->deadline < first)
			first = p->deadline;
	if (first == INT64_MAX)
		loop_timer_stop(a->park_timer);
	else
		loop_timer_arm(a->park_timer, first > now ? first - now : 0);
}

int
al_serve(struct agg *a, int64_t id, enum agg_list which, const char *cursor)
{
	struct parked *p;

	if (cursor || al_settled(a, which)) {
		serve_now(a, id, which, cursor);
		return 0;
	}
	p = x_calloc(1, sizeof(*p));
	p->agg_id = id;
	p->list = which;
	p->deadline = loop_now_ms() + a->wait_ms;
	p->next = a->parked;
	a->parked = p;
	arm_park(a);
	return 1;
}

void
al_park_check(struct agg *a)
{
	int64_t now = loop_now_ms();
	struct parked **pp = &a->parked, *p;

	while ((p = *pp) != NULL) {
		if (!al_settled(a, p->list) && now < p->deadline) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (now >= p->deadline)
			log_info("%s: answering with the servers that are "
			         "ready; list_changed follows",
			    methods[p->list]);
		serve_now(a, p->agg_id, p->list, NULL);
		free(p->cursor);
		free(p);
	}
	arm_park(a);
}

static void
changed_now(void *arg)
{
	struct agg *a = arg;
	int told_resources = 0;

	for (int i = 0; i < AL_COUNT; i++) {
		uint64_t h = list_sig(a, (enum agg_list)i);

		al_rebuild(a, (enum agg_list)i); /* routes for calls */
		if (a->served[i] == 0 || a->served[i] == h)
			continue;
		a->served[i] = h;
		if (i >= AL_RESOURCES && told_resources++)
			continue;
		agg_notify(a, changed[i]);
	}
	al_park_check(a);
}

void
al_link_changed(struct agg *a)
{
	if (a->changed_timer == NULL)
		a->changed_timer = loop_timer_new(a->loop, changed_now, a);
	if (!loop_timer_armed(a->changed_timer))
		loop_timer_arm(a->changed_timer, 0);
}

char *
al_instructions(const struct agg *a)
{
	json_t *c = json_object_get(a->cache, "servers");
	struct buf b;
	char *out;

	buf_init(&b, 256 * 1024);
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];
		const char *ins = l->instructions;

		if (ins == NULL)
			ins = json_string_value(json_object_get(
			    json_object_get(c, l->id), "instructions"));
		if (ins && *ins)
			(void)!buf_printf(&b, "%s[%s] %s",
			    buf_len(&b) ? "\n\n" : "", l->id, ins);
	}
	if (buf_len(&b) == 0) {
		buf_finish(&b);
		return NULL;
	}
	out = buf_take(&b, NULL);
	return out;
}

void
al_link_free_lists(struct link *l)
{
	for (int i = 0; i < AL_COUNT; i++) {
		json_decref(l->lists[i].items);
		json_decref(l->lists[i].cached);
		json_decref(l->lists[i].acc);
		memset(&l->lists[i], 0, sizeof(l->lists[i]));
	}
}

/* -- the disk cache (names and schemas; nothing secret) --------------- */

void
al_cache_load(struct agg *a)
{
	json_t *servers, *e;

	if (a->cache_path == NULL)
		return;
	if (a->cache == NULL) {
		a->cache = json_load_file(a->cache_path, 0, NULL);
		if (!json_is_object(a->cache) ||
		    json_integer_value(json_object_get(a->cache, "v")) != 1) {
			json_decref(a->cache);
			a->cache = json_pack("{s:i, s:{}}", "v", 1, "servers");
		}
	}
	servers = json_object_get(a->cache, "servers");
	for (size_t i = 0; i < a->nlinks; i++) {
		struct link *l = a->links[i];
		const char *url;

		e = json_object_get(servers, l->id);
		url = json_string_value(json_object_get(e, "url"));
		if (url == NULL || strcmp(url, l->url) != 0)
			continue;
		for (int k = 0; k < AL_COUNT; k++) {
			json_t *arr = json_object_get(e, keys[k]);

			if (l->lists[k].cached == NULL && json_is_array(arr)) {
				l->lists[k].cached = json_incref(arr);
				l->lists[k].hcached = list_hash(arr);
			}
		}
	}
}

static void
on_cache_timer(void *arg)
{
	al_cache_flush(arg);
}

void
al_cache_save_soon(struct agg *a)
{
	if (a->cache_path == NULL)
		return;
	a->cache_dirty = 1;
	if (a->cache_timer == NULL)
		a->cache_timer = loop_timer_new(a->loop, on_cache_timer, a);
	if (!loop_timer_armed(a->cache_timer))
		loop_timer_arm(a->cache_timer, 1000);
}

static json_t *
cache_entry(const struct link *l)
{
	json_t *e = json_pack("{s:s}", "url", l->url);

	if (l->instructions)
		json_object_set_new(
		    e, "instructions", json_string(l->instructions));
	for (int k = 0; k < AL_COUNT; k++) {
		json_t *it = l->st == LS_READY && l->lists[k].items
		    ? l->lists[k].items
		    : l->lists[k].cached;

		if (it == NULL)
			return json_decref(e), NULL;
		json_object_set(e, keys[k], it);
	}
	return e;
}

void
al_cache_flush(struct agg *a)
{
	json_t *servers, *e;
	char *text;

	if (a->cache_path == NULL || !a->cache_dirty)
		return;
	a->cache_dirty = 0;
	loop_timer_stop(a->cache_timer);
	servers = json_object();
	for (size_t i = 0; i < a->nlinks; i++)
		if ((e = cache_entry(a->links[i])) != NULL)
			json_object_set_new(servers, a->links[i]->id, e);
	json_object_set_new(a->cache, "servers", servers);
	text = json_dumps(a->cache, JSON_COMPACT);
	if (text && fsx_write_atomic(a->cache_path, text, strlen(text)) == -1)
		log_warn(
		    "tool list cache %s: %s", a->cache_path, strerror(errno));
	free(text);
}

/* -- `mcp-bridge tools` ------------------------------------------------ */

char *
agg_tools_report(struct agg *a)
{
	json_t *all = merge(a, AL_TOOLS), *out = json_array(), *t, *r;
	const char *name;
	char *text;
	size_t i;

	json_array_foreach(all, i, t)
	{
		name = json_string_value(json_object_get(t, "name"));
		r = json_object_get(a->route[AL_TOOLS], name);
		json_array_append_new(out,
		    json_pack("{s:s, s:O, s:O, s:O?, s:O?}", "name", name,
		        "server", json_array_get(r, 0), "tool",
		        json_array_get(r, 1), "title",
		        json_object_get(t, "title"), "description",
		        json_object_get(t, "description")));
	}
	json_decref(all);
	for (i = 0; i < a->nlinks; i++) {
		const struct link *l = a->links[i];

		if (l->st != LS_READY)
			json_array_append_new(out,
			    json_pack("{s:s, s:s, s:s}", "server", l->id,
			        "status",
			        l->st == LS_FAILED ? "unavailable"
			                           : "connecting",
			        "error", l->why[0] ? l->why : "not connected"));
	}
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return text;
}

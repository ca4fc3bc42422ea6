/* SPDX-License-Identifier: ISC */
/*
 * agg_route: which server an IDE request goes to, and how its names are
 * rewritten: tools and prompts by their exposed name (the route map,
 * else the "<id>__" prefix), resources by URI, then template, then by
 * asking each server in turn; completions by their ref. The hot path
 * (tools/call, prompts/get of a listed name) only splices the id and
 * the name of the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "str.h"
#include "xmem.h"

/* tools/call and prompts/get: "<id>__<name>" -> the server's name. */
static struct link *
route_name(struct agg *a, enum agg_list which, json_t *params, char *err,
    size_t errsz, const char **orig)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *r = name ? json_object_get(a->route[which], name) : NULL;
	char id[NAMES_ID_MAX + 1];
	struct link *l;

	if (name == NULL) {
		str_fmt(err, errsz, "params.name must be a string");
		return NULL;
	}
	if (which == AL_TOOLS && al_blocked(a, name, err, errsz))
		return NULL;
	if (r != NULL) {
		*orig = json_string_value(json_array_get(r, 1));
		l = agg_link_by_id(a, json_string_value(json_array_get(r, 0)));
	} else if (names_split(name, id, orig) == 0)
		l = agg_link_by_id(a, id); /* not listed yet: by its prefix */
	else
		l = NULL;
	if (l == NULL)
		str_fmt(err, errsz, "unknown %s: %.100s",
		    which == AL_TOOLS ? "tool" : "prompt", name);
	return l;
}

/* resources/read, subscribe, unsubscribe: the server of `uri`. */
static struct link *
route_uri(struct agg *a, const char *uri, struct fwd *f)
{
	const char *key, *best = NULL;
	size_t bestlen = 0;
	json_t *v;

	if ((v = json_object_get(a->route[AL_RESOURCES], uri)) != NULL)
		return agg_link_by_id(a, json_string_value(v));
	json_object_foreach(a->route[AL_TEMPLATES], key, v)
	{
		size_t n = strcspn(key, "{");

		if (n > bestlen && strncmp(uri, key, n) == 0) {
			best = json_string_value(v);
			bestlen = n;
		}
	}
	if (best)
		return agg_link_by_id(a, best);
	f->probing = 1; /* ask each server in turn */
	for (f->probe = 0; f->probe < a->nlinks;) {
		struct link *l = a->links[f->probe++];

		if (l->st == LS_READY && json_object_get(l->caps, "resources"))
			return l;
	}
	return NULL;
}

static struct link *
route_completion(struct agg *a, struct fwd *f, char *err, size_t errsz)
{
	json_t *params = json_object_get(f->req, "params");
	json_t *ref = json_object_get(params, "ref");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *uri = json_string_value(json_object_get(ref, "uri"));
	const char *orig = NULL;
	struct link *l;

	if (type && strcmp(type, "ref/prompt") == 0) {
		if ((l = route_name(a, AL_PROMPTS, ref, err, errsz, &orig)))
			json_object_set_new(ref, "name", json_string(orig));
		return l;
	}
	if (uri && (l = route_uri(a, uri, f)) != NULL) {
		f->probing = 0;
		return l;
	}
	str_fmt(err, errsz, "no hosted server offers completions for this ref");
	return NULL;
}

/* Finds the server of an IDE request, rewriting names; NULL + err. */
struct link *
agg_route(
    struct agg *a, const char *method, struct fwd *f, char *err, size_t errsz)
{
	json_t *params = json_object_get(f->req, "params");
	const char *orig = NULL, *uri;
	struct link *l;

	if (strcmp(method, "tools/call") == 0 ||
	    strcmp(method, "prompts/get") == 0) {
		int tools = method[0] == 't';

		l = route_name(a, tools ? AL_TOOLS : AL_PROMPTS, params, err,
		    errsz, &orig);
		if (l && tools)
			f->tool = x_strdup(orig);
		if (l)
			json_object_set_new(params, "name", json_string(orig));
		return l;
	}
	if (strncmp(method, "resources/", 10) == 0) {
		uri = json_string_value(json_object_get(params, "uri"));
		if (uri && (l = route_uri(a, uri, f)) != NULL)
			return l;
		str_fmt(err, errsz, "no hosted server has the resource %.200s",
		    uri ? uri : "(params.uri missing)");
		return NULL;
	}
	if (strcmp(method, "completion/complete") == 0)
		return route_completion(a, f, err, errsz);
	str_fmt(
	    err, errsz, "method %.64s is not supported by the bridge", method);
	return NULL;
}

/*
 * Replaces two spans of `js` (ids, names: they never overlap) in one
 * pass into a->scratch; the later one first, so the earlier keeps its
 * offsets. 0 or -1.
 */
static int
splice2(struct agg *a, const char *js, size_t len, struct rpc_span s1,
    const struct buf *r1, struct rpc_span s2, const struct buf *r2)
{
	struct buf tmp;
	int rc;

	if (s1.off < s2.off)
		return splice2(a, js, len, s2, r2, s1, r1);
	buf_init(&tmp, len + buf_len(r1) + 64);
	rc = rpc_splice(js, len, s1, buf_data(r1), buf_len(r1), &tmp);
	buf_reset(&a->scratch);
	if (rc == 0)
		rc = rpc_splice(buf_data(&tmp), buf_len(&tmp), s2, buf_data(r2),
		    buf_len(r2), &a->scratch);
	buf_finish(&tmp);
	return rc;
}

/*
 * The hot path: tools/call or prompts/get for a listed name of a
 * connected server is peeked and spliced (its id and name), never
 * parsed. 1 when sent; 0 for the general path.
 */
int
agg_fast_call(struct agg *a, const char *js, size_t len, int64_t id)
{
	struct rpc *r = a->rpc_in;
	int tools = rpc_method_is(r, "tools/call");
	char name[NAMES_MAX + 1];
	struct buf nid, nname;
	struct link *l;
	struct fwd *f;
	json_t *rt;
	size_t mlen;
	int ok;

	if (!tools && !rpc_method_is(r, "prompts/get"))
		return 0;
	if (rpc_span_str(js, rpc_get(r, "params", "name", NULL), name,
	        sizeof(name)) == NULL ||
	    (rt = json_object_get(a->route[tools ? AL_TOOLS : AL_PROMPTS],
	         name)) == NULL || /* blocked tools are not in the route */
	    (l = agg_link_by_id(a, json_string_value(json_array_get(rt, 0)))) ==
	        NULL ||
	    l->st != LS_READY)
		return 0;
	f = x_calloc(1, sizeof(*f));
	f->kind = FK_IDE;
	f->agg_id = id;
	f->l = l;
	f->link_id = upstream_next_id(l->up);
	f->t0 = loop_now_ms();
	f->tool =
	    tools ? x_strdup(json_string_value(json_array_get(rt, 1))) : NULL;
	buf_init(&nid, 32);
	buf_init(&nname, 4 * NAMES_MAX + 64);
	ok = buf_printf(&nid, "%lld", (long long)f->link_id) == 0 &&
	    rpc_put_string(&nname, json_string_value(json_array_get(rt, 1))) ==
	        0 &&
	    splice2(a, js, len, rpc_id(r), &nid,
	        rpc_get(r, "params", "name", NULL), &nname) == 0;
	buf_finish(&nid);
	buf_finish(&nname);
	if (!ok) {
		agg_fwd_free(f);
		return 0;
	}
	idmap_put(a->byagg, id, f);
	idmap_put(l->reqs, f->link_id, f);
	js = buf_take(&a->scratch, &mlen);
	upstream_send(l->up, (char *)js, mlen, f->link_id, UPSTREAM_REQUEST);
	return 1;
}

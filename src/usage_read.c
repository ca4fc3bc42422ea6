/* SPDX-License-Identifier: ISC */
/*
 * usage_read: the `status` side of the usage module (usage.h): finds the
 * usage files of running bridges, removes those of dead ones, validates
 * and re-encodes the rest, and summarises them for humans.
 */
#include "usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "usage_int.h"
#include "xmem.h"

static int
alive(long pid)
{
	if (pid < 1 || pid > 0x7fffffff)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* A pid written in decimal as [p, p+n), no sign, no leading zero. */
static int
pid_digits(const char *p, size_t n, long *pid)
{
	char d[16];
	long long v;

	if (n < 1 || n >= sizeof(d) || p[0] == '0' ||
	    strspn(p, "0123456789") < n)
		return -1;
	memcpy(d, p, n);
	d[n] = '\0';
	if (str_tonum(d, 1, 0x7fffffff, &v) == -1)
		return -1;
	*pid = (long)v;
	return 0;
}

/*
 * Kind of a directory entry: 1 usage-<pid>.json, 2 a temporary file
 * usage-<pid>.json.tmp<writer> (left by a writer that died), 0 anything
 * else. *pid is the process it belongs to (the writer for kind 2).
 */
static int
entry_kind(const char *name, long *pid)
{
	const char *p = name + 6, *dot;

	if (strncmp(name, "usage-", 6) != 0 || (dot = strchr(p, '.')) == NULL ||
	    pid_digits(p, (size_t)(dot - p), pid) == -1)
		return 0;
	if (strcmp(dot, ".json") == 0)
		return 1;
	if (strncmp(dot, ".json.tmp", 9) == 0 &&
	    pid_digits(dot + 9, strlen(dot + 9), pid) == 0)
		return 2;
	return 0;
}

struct found {
	long pids[USAGE_MAX_FILES];
	size_t n;
	int more; /* files past USAGE_MAX_FILES */
};

static int
pid_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Lists the usage files of live processes (sorted by pid) and removes
 * those of dead ones. 0, or -1 with errno. */
static int
scan_dir(const char *dir, struct found *f)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		long pid;
		int kind = entry_kind(e->d_name, &pid);

		if (kind == 0)
			continue;
		if (!alive(pid)) {
			if (unlinkat(dirfd(d), e->d_name, 0) == -1 &&
			    errno != ENOENT)
				log_warn("usage: cannot remove %s/%s: %s", dir,
				    e->d_name, strerror(errno));
			continue;
		}
		if (kind == 2)
			continue;
		if (f->n == USAGE_MAX_FILES)
			f->more++;
		else
			f->pids[f->n++] = pid;
	}
	closedir(d);
	qsort(f->pids, f->n, sizeof(f->pids[0]), pid_cmp);
	return 0;
}

/* The contents of `path` (new, *len), or NULL with *why (NULL: gone). */
static char *
read_small(const char *path, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *p = NULL;
	size_t n = 0, want;
	ssize_t r;

	*why = fd == -1 && errno == ENOENT ? NULL : strerror(errno);
	if (fd == -1)
		return NULL;
	*why = "not a regular file of at most 4 MiB";
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)USAGE_MAX_FILE)
		goto out;
	want = (size_t)st.st_size;
	p = x_malloc(want + 1);
	while (n <= want && (r = read(fd, p + n, want + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;
		n += (size_t)r;
	}
	if (n != want) {
		*why = "changed while being read";
		free(p);
		p = NULL;
		goto out;
	}
	p[n] = '\0';
	*len = n;
out:
	close(fd);
	return p;
}

/* The re-encoded document of process `pid` (new), or NULL. */
static char *
load_one(const char *dir, long pid)
{
	char path[4200], err[256];
	const char *why;
	struct usage_meta m;
	struct usage *u = NULL;
	char *text, *doc = NULL;
	size_t len = 0;

	if (str_fmt(path, sizeof(path), "%s/usage-%ld.json", dir, pid) < 0)
		return NULL;
	if ((text = read_small(path, &len, &why)) == NULL) {
		if (why)
			log_warn("usage: %s: %s (skipped)", path, why);
		return NULL;
	}
	if ((u = usage_parse(text, len, &m, err, sizeof(err))) == NULL) {
		log_warn("usage: %s: %s (skipped)", path, err);
	} else if (m.pid != pid)
		log_warn("usage: %s: pid %ld does not match the file name "
		         "(skipped)",
		    path, m.pid);
	else
		doc = usage_json(u, m.pid, m.started, m.updated);
	free(text);
	usage_free(&u);
	return doc;
}

/* Appends the documents of f to b as a JSON array. */
static void
join_docs(const char *dir, const struct found *f, struct buf *b)
{
	int ok = buf_puts(b, "[") == 0;

	for (size_t i = 0; ok && i < f->n; i++) {
		char *doc = load_one(dir, f->pids[i]);

		if (doc == NULL)
			continue;
		if (buf_len(b) + strlen(doc) + 2 > USAGE_MAX_TOTAL) {
			log_warn("usage: more than %u bytes of usage files in "
			         "%s; the rest skipped",
			    USAGE_MAX_TOTAL, dir);
			free(doc);
			break;
		}
		ok = buf_printf(b, "%s%s", buf_len(b) > 1 ? "," : "", doc) == 0;
		free(doc);
	}
	if (buf_puts(b, "]") == -1)
		abort(); /* room for it was kept */
}

char *
usage_read_dir(const char *dir)
{
	struct found *f;
	struct buf b;
	char *out = NULL;

	if (usage_dir_ok(dir) == -1) {
		if (errno == ENOENT)
			return x_strdup("[]");
		log_warn("usage: %s: %s", dir,
		    errno == EACCES ? "not a directory of yours that only you "
		                      "may write to"
		                    : strerror(errno));
		return NULL;
	}
	f = x_calloc(1, sizeof(*f));
	if (scan_dir(dir, f) == -1) {
		log_warn("usage: cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	if (f->more)
		log_warn("usage: %d more usage files in %s than the %d read",
		    f->more, dir, USAGE_MAX_FILES);
	buf_init(&b, USAGE_MAX_TOTAL);
	join_docs(dir, f, &b);
	out = buf_take(&b, NULL);
out:
	free(f);
	return out;
}

char *
usage_read_all(void)
{
	char dir[4096];

	if (usage_dir(dir, sizeof(dir)) == -1) {
		log_warn("usage: no directory for usage files");
		return NULL;
	}
	return usage_read_dir(dir);
}

/* -- the summary --------------------------------------------------------- */

struct row {
	const char *server, *tool;
	int64_t calls, errors, p50, p95;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	if ((c = strcmp(x->server, y->server)) != 0)
		return c;
	return strcmp(x->tool, y->tool);
}

static int64_t
num(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v < 0 ? 0 : v;
}

static void
fmt_span(int64_t s, char *out, size_t sz)
{
	long long v = s < 0 ? 0 : (long long)s;

	if (v >= 86400)
		str_fmt(out, sz, "%lldd %02lldh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		str_fmt(out, sz, "%lldh %02lldm", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		str_fmt(out, sz, "%lldm %02llds", v / 60, v % 60);
	else
		str_fmt(out, sz, "%llds", v);
}

/* The tools of one document with calls, busiest first (new), *n. */
static struct row *
doc_rows(const json_t *servers, size_t *n)
{
	struct row *r = NULL;
	const char *sk, *tk;
	json_t *sv, *tv;
	size_t cap = 0;

	*n = 0;
	json_object_foreach((json_t *)servers, sk, sv)
	{
		json_object_foreach(json_object_get(sv, "tools"), tk, tv)
		{
			if (num(tv, "calls") == 0 ||
			    !usage_name_ok(sk, strlen(sk)) ||
			    !usage_name_ok(tk, strlen(tk)))
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				r = x_realloc(r, cap * sizeof(*r));
			}
			r[(*n)++] = (struct row){ sk, tk, num(tv, "calls"),
				num(tv, "errors"), num(tv, "p50"),
				num(tv, "p95") };
		}
	}
	if (*n)
		qsort(r, *n, sizeof(*r), row_cmp);
	return r;
}

static int
doc_summary(struct buf *b, const json_t *doc, int64_t now, size_t top)
{
	const json_t *servers = json_object_get(doc, "servers");
	int64_t calls = 0, errors = 0;
	struct row *r;
	size_t n;
	char up[32];
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(servers))
		return -1;
	json_object_foreach((json_t *)servers, k, v)
	{
		calls = usage_sat_add(calls, num(v, "calls"));
		errors = usage_sat_add(errors, num(v, "errors"));
	}
	fmt_span(now - num(doc, "started"), up, sizeof(up));
	rc = buf_printf(b,
	    "bridge %lld: up %s, %lld call%s, %lld error%s, %zu "
	    "server%s\n",
	    (long long)num(doc, "pid"), up, (long long)calls,
	    calls == 1 ? "" : "s", (long long)errors, errors == 1 ? "" : "s",
	    json_object_size(servers),
	    json_object_size(servers) == 1 ? "" : "s");
	r = doc_rows(servers, &n);
	for (size_t i = 0; rc == 0 && i < n && i < top; i++)
		rc = buf_printf(b,
		    "  %s__%s: %lld call%s, %lld error%s, p50 %lld ms, p95 "
		    "%lld "
		    "ms\n",
		    r[i].server, r[i].tool, (long long)r[i].calls,
		    r[i].calls == 1 ? "" : "s", (long long)r[i].errors,
		    r[i].errors == 1 ? "" : "s", (long long)r[i].p50,
		    (long long)r[i].p95);
	free(r);
	return rc;
}

char *
usage_summary(const char *all, int64_t now, size_t top)
{
	json_t *arr = json_loads(all, 0, NULL), *doc;
	struct buf b;
	size_t i;
	char *out = NULL;

	buf_init(&b, USAGE_MAX_TOTAL);
	if (!json_is_array(arr))
		goto out;
	json_array_foreach(arr, i, doc)
	{
		if (!json_is_object(doc) ||
		    doc_summary(&b, doc, now, top) == -1)
			goto out;
	}
	out = x_strdup(buf_data(&b));
out:
	buf_finish(&b);
	json_decref(arr);
	return out;
}

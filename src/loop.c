/* SPDX-License-Identifier: ISC */
/*
 * loop: a small poll(2) reactor in the shape of sway's common/loop.c and
 * redis' ae.c (before-sleep hooks). Watches live in an array that is
 * compacted between rounds; removal during dispatch only marks the slot.
 * Timers are a short unsorted list: the bridge has a handful of them.
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmem.h"

#define LOOP_MAX_HOOKS 8

struct loop_watch {
	struct loop *loop; /* owner */
	int fd;            /* watched descriptor */
	int events;        /* LOOP_READ | LOOP_WRITE */
	int dead;          /* removed; freed at the next compaction */
	loop_fd_cb *cb;    /* called with the fired events */
	void *arg;         /* passed to cb */
};

struct loop_timer {
	struct loop *loop;       /* owner */
	struct loop_timer *next; /* in loop->timers */
	int64_t due;             /* monotonic ms; -1 = stopped */
	int dead;                /* deleted; freed after the timer pass */
	loop_cb *cb;             /* called when due */
	void *arg;               /* passed to cb */
};

struct loop_hook {
	loop_cb *cb; /* run before each poll */
	void *arg;   /* passed to cb */
};

struct loop {
	struct loop_watch **watches; /* live and dead watches */
	size_t nwatches, capwatches; /* used and allocated slots */
	size_t cappfds;              /* slots in pfds and pmap */
	int ndead;                   /* dead watches awaiting compaction */
	struct pollfd *pfds;         /* scratch for poll(2) */
	struct loop_watch **pmap;    /* pfds[i] belongs to pmap[i] */
	struct loop_timer *timers;   /* all timers, armed or not */
	struct loop_hook hooks[LOOP_MAX_HOOKS];
	int nhooks;
	int stop;                    /* loop_stop() was called */
	int sigpipe[2];              /* self-pipe for signals, or -1 */
	struct loop_watch *sigwatch; /* read end watch */
	loop_cb *sigcb;              /* SIGINT/SIGTERM handler */
	void *sigarg;
};

static volatile sig_atomic_t sig_fd = -1;

int64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l;

	l = x_calloc(1, sizeof(*l));
	l->sigpipe[0] = l->sigpipe[1] = -1;
	return l;
}

void
loop_free(struct loop **lp)
{
	struct loop *l;
	struct loop_timer *t, *next;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (size_t i = 0; i < l->nwatches; i++)
		free(l->watches[i]);
	for (t = l->timers; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	if (l->sigpipe[0] != -1) {
		sig_fd = -1;
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
	}
	free(l->watches);
	free(l->pfds);
	free(l->pmap);
	free(l);
	*lp = NULL;
}

struct loop_watch *
loop_watch_add(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg)
{
	struct loop_watch *w;

	if (l->nwatches == l->capwatches) {
		l->capwatches = l->capwatches ? l->capwatches * 2 : 16;
		l->watches =
		    x_realloc(l->watches, l->capwatches * sizeof(*l->watches));
	}
	w = x_calloc(1, sizeof(*w));
	w->loop = l;
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	l->watches[l->nwatches++] = w;
	return w;
}

void
loop_watch_set(struct loop_watch *w, int events)
{
	w->events = events;
}

void
loop_watch_del(struct loop_watch *w)
{
	if (w == NULL || w->dead)
		return;
	w->dead = 1;
	w->loop->ndead++;
}

static void
compact_watches(struct loop *l)
{
	size_t j = 0;

	if (l->ndead == 0)
		return;
	for (size_t i = 0; i < l->nwatches; i++) {
		if (l->watches[i]->dead)
			free(l->watches[i]);
		else
			l->watches[j++] = l->watches[i];
	}
	l->nwatches = j;
	l->ndead = 0;
}

struct loop_timer *
loop_timer_new(struct loop *l, loop_cb *cb, void *arg)
{
	struct loop_timer *t;

	t = x_calloc(1, sizeof(*t));
	t->loop = l;
	t->due = -1;
	t->cb = cb;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	return t;
}

void
loop_timer_arm(struct loop_timer *t, int64_t ms)
{
	t->due = loop_now_ms() + (ms < 0 ? 0 : ms);
}

void
loop_timer_stop(struct loop_timer *t)
{
	if (t)
		t->due = -1;
}

int
loop_timer_armed(const struct loop_timer *t)
{
	return t && t->due >= 0;
}

void
loop_timer_del(struct loop_timer *t)
{
	if (t == NULL)
		return;
	t->due = -1;
	t->dead = 1;
}

int
loop_hook_add(struct loop *l, loop_cb *cb, void *arg)
{
	if (l->nhooks == LOOP_MAX_HOOKS) {
		log_error("loop: too many hooks");
		return -1;
	}
	l->hooks[l->nhooks].cb = cb;
	l->hooks[l->nhooks].arg = arg;
	l->nhooks++;
	return 0;
}

void
loop_hook_del(struct loop *l, loop_cb *cb, void *arg)
{
	for (int i = 0; i < l->nhooks; i++) {
		if (l->hooks[i].cb != cb || l->hooks[i].arg != arg)
			continue;
		memmove(&l->hooks[i], &l->hooks[i + 1],
		    (size_t)(l->nhooks - i - 1) * sizeof(l->hooks[0]));
		l->nhooks--;
		return;
	}
}

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (sig_fd != -1)
		(void)!write(sig_fd, &c, 1);
	errno = saved;
}

static void
drain_signals(void *arg, int fd, int events)
{
	struct loop *l = arg;
	unsigned char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (l->sigcb)
		l->sigcb(l->sigarg);
}

int
loop_catch_signals(struct loop *l, loop_cb *cb, void *arg)
{
	struct sigaction sa;

	if (pipe(l->sigpipe) == -1) {
		log_error("loop: pipe: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(l->sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(l->sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	l->sigcb = cb;
	l->sigarg = arg;
	sig_fd = l->sigpipe[1];
	l->sigwatch =
	    loop_watch_add(l, l->sigpipe[0], LOOP_READ, drain_signals, l);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* Milliseconds until the nearest armed timer, or -1 for none. */
static int
next_timeout(struct loop *l)
{
	int64_t now = loop_now_ms(), best = -1;

	for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
		if (t->due < 0)
			continue;
		if (best < 0 || t->due - now < best)
			best = t->due - now < 0 ? 0 : t->due - now;
	}
	if (best > 24 * 3600 * 1000)
		best = 24 * 3600 * 1000;
	return (int)best;
}

static void
reap_timers(struct loop *l)
{
	struct loop_timer **pp = &l->timers, *t;

	while ((t = *pp) != NULL) {
		if (t->dead) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

static void
fire_timers(struct loop *l)
{
	int64_t now = loop_now_ms();

	for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
		if (t->due < 0 || t->due > now || t->dead)
			continue;
		t->due = -1;
		t->cb(t->arg);
		if (l->stop)
			break;
	}
	reap_timers(l);
}

static nfds_t
fill_pollfds(struct loop *l)
{
	nfds_t n = 0;

	/* Grown here, never during dispatch, which iterates these arrays. */
	if (l->cappfds < l->capwatches) {
		l->cappfds = l->capwatches;
		l->pfds = x_realloc(l->pfds, l->cappfds * sizeof(*l->pfds));
		l->pmap = x_realloc(l->pmap, l->cappfds * sizeof(*l->pmap));
	}
	for (size_t i = 0; i < l->nwatches; i++) {
		struct loop_watch *w = l->watches[i];

		if (w->dead)
			continue;
		l->pfds[n].fd = w->fd;
		l->pfds[n].events =
		    (short)((w->events & LOOP_READ ? POLLIN : 0) |
		        (w->events & LOOP_WRITE ? POLLOUT : 0));
		l->pfds[n].revents = 0;
		l->pmap[n] = w;
		n++;
	}
	return n;
}

static void
dispatch(struct loop *l, nfds_t n)
{
	for (nfds_t i = 0; i < n && !l->stop; i++) {
		struct loop_watch *w = l->pmap[i];
		short re = l->pfds[i].revents;
		int ev = 0;

		if (re == 0 || w->dead)
			continue;
		if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			ev |= w->events & LOOP_READ ? LOOP_READ : 0;
		if (re & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
			ev |= w->events & LOOP_WRITE ? LOOP_WRITE : 0;
		if (ev == 0 && (re & POLLNVAL)) {
			log_error("loop: fd %d is not open", w->fd);
			loop_watch_del(w);
			continue;
		}
		if (ev)
			w->cb(w->arg, w->fd, ev);
	}
}

static int
round_once(struct loop *l)
{
	nfds_t n;
	int rc;

	for (int i = 0; i < l->nhooks && !l->stop; i++)
		l->hooks[i].cb(l->hooks[i].arg);
	if (l->stop)
		return 0;
	compact_watches(l);
	n = fill_pollfds(l);
	rc = poll(l->pfds, n, next_timeout(l));
	if (rc == -1) {
		if (errno == EINTR)
			return 0;
		log_error("loop: poll: %s", strerror(errno));
		return -1;
	}
	if (rc > 0)
		dispatch(l, n);
	if (!l->stop)
		fire_timers(l);
	return 0;
}

int
loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (round_once(l) == -1)
			return -1;
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

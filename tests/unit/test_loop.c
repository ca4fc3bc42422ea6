/* SPDX-License-Identifier: ISC */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "loop.h"

/*
 * Every test runs in its own process (Criterion forks), so signal
 * dispositions set here do not leak into other tests.
 */

/* What happened, in order, as text: "a b c " etc. */
static struct buf trace;
static struct loop *L;
static int rounds;    /* hook calls = poll rounds started */
static int timed_out; /* the guard timer fired */

static void
note(const char *s)
{
	cr_assert_eq(buf_puts(&trace, s), 0);
	cr_assert_eq(buf_puts(&trace, " "), 0);
}

static void
count_round(void *arg)
{
	rounds++;
}

static void
on_guard(void *arg)
{
	timed_out = 1;
	loop_stop(L);
}

static struct loop_timer *guard;

static void
setup(void)
{
	buf_init(&trace, 1u << 20);
	L = loop_new();
	rounds = 0;
	timed_out = 0;
	cr_assert_eq(loop_hook_add(L, count_round, NULL), 0);
	/* Nothing here should need more than this. */
	guard = loop_timer_new(L, on_guard, NULL);
	loop_timer_arm(guard, 3000);
}

static void
teardown(void)
{
	loop_free(&L);
	cr_assert_null(L);
	buf_finish(&trace);
}

static void
run(void)
{
	cr_assert_eq(loop_run(L), 0);
	cr_assert_eq(timed_out, 0, "the loop did not stop by itself");
}

static void
make_pipe(int fds[2])
{
	cr_assert_eq(pipe(fds), 0);
}

/* ---- timers ---- */

struct named {
	const char *name;
	int calls;
	int stop;                /* loop_stop() when called */
	struct loop_timer *self; /* for callbacks that act on themselves */
	struct loop_timer *other;
	int rearm;  /* times left to re-arm itself */
	int64_t at; /* loop_now_ms() of the last call */
};

static void
on_named(void *arg)
{
	struct named *n = arg;

	n->calls++;
	n->at = loop_now_ms();
	note(n->name);
	cr_assert_eq(loop_timer_armed(n->self), 0, "armed in its callback");
	if (n->rearm > 0) {
		n->rearm--;
		loop_timer_arm(n->self, 1);
		cr_assert_eq(loop_timer_armed(n->self), 1);
	}
	if (n->stop)
		loop_stop(L);
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 10);

Test(loop, timers_fire_in_due_order)
{
	struct named a = { .name = "a" }, b = { .name = "b" },
	             c = { .name = "c" };
	struct named d = { .name = "d", .stop = 1 };

	/*
	 * Armed in an order unlike their due order. (Timers that are all
	 * overdue in one round fire in list order, newest first; the
	 * creation order makes that the due order too, so a slow machine
	 * cannot make this test flaky.)
	 */
	d.self = loop_timer_new(L, on_named, &d);
	a.self = loop_timer_new(L, on_named, &a);
	c.self = loop_timer_new(L, on_named, &c);
	b.self = loop_timer_new(L, on_named, &b);
	loop_timer_arm(a.self, 40);
	loop_timer_arm(d.self, 60);
	loop_timer_arm(b.self, 0);
	loop_timer_arm(c.self, 20);
	run();
	cr_expect_str_eq(buf_data(&trace), "b c a d ");
	cr_expect_eq(a.calls + b.calls + c.calls + d.calls, 4);
	cr_expect_geq(rounds, 4, "a poll round for each due time");
}

Test(loop, nearest_timer_wakes_the_poll)
{
	struct named a = { .name = "a", .stop = 1 }, far = { .name = "far" };
	int64_t t0 = loop_now_ms();

	/* The far one is first in the list; the near one must still win. */
	a.self = loop_timer_new(L, on_named, &a);
	far.self = loop_timer_new(L, on_named, &far);
	loop_timer_arm(a.self, 20);
	loop_timer_arm(far.self, 2000);
	run();
	cr_expect_str_eq(buf_data(&trace), "a ");
	cr_expect_lt(a.at - t0, 1000);
}

Test(loop, timer_waits_its_time)
{
	struct named a = { .name = "a", .stop = 1 };
	int64_t t0 = loop_now_ms();

	a.self = loop_timer_new(L, on_named, &a);
	loop_timer_arm(a.self, 50);
	cr_expect_eq(loop_timer_armed(a.self), 1);
	run();
	cr_expect_eq(a.calls, 1);
	cr_expect_geq(
	    a.at - t0, 50, "fired after %lld ms", (long long)(a.at - t0));
	cr_expect_lt(a.at - t0, 1000);
	cr_expect_eq(loop_timer_armed(a.self), 0);
}

Test(loop, one_shot)
{
	struct named a = { .name = "a" }, z = { .name = "z", .stop = 1 };

	a.self = loop_timer_new(L, on_named, &a);
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(a.self, 0);
	loop_timer_arm(z.self, 40);
	run();
	cr_expect_eq(a.calls, 1);
	cr_expect_gt(rounds, 1, "the loop went on after the first timer");
	cr_expect_str_eq(buf_data(&trace), "a z ");
}

Test(loop, negative_arm_is_now)
{
	struct named a = { .name = "a", .stop = 1 };

	a.self = loop_timer_new(L, on_named, &a);
	loop_timer_arm(a.self, -1000);
	run();
	cr_expect_eq(a.calls, 1);
}

Test(loop, rearm_from_callback)
{
	struct named a = { .name = "a", .rearm = 4 };
	struct named z = { .name = "z", .stop = 1 };

	a.self = loop_timer_new(L, on_named, &a);
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(a.self, 0);
	loop_timer_arm(z.self, 200);
	run();
	cr_expect_eq(a.calls, 5);
	cr_expect_str_eq(buf_data(&trace), "a a a a a z ");
}

Test(loop, rearm_before_due_moves_it)
{
	struct named a = { .name = "a" }, z = { .name = "z", .stop = 1 };

	a.self = loop_timer_new(L, on_named, &a);
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(a.self, 100000);
	loop_timer_arm(a.self, 5);
	loop_timer_arm(z.self, 60);
	run();
	cr_expect_str_eq(buf_data(&trace), "a z ");
	/* And later instead of sooner. */
	buf_reset(&trace);
	loop_timer_arm(a.self, 0);
	loop_timer_arm(a.self, 100000);
	loop_timer_arm(z.self, 40);
	run();
	cr_expect_str_eq(buf_data(&trace), "z ");
	cr_expect_eq(loop_timer_armed(a.self), 1);
}

Test(loop, stop_timer)
{
	struct named a = { .name = "a" }, z = { .name = "z", .stop = 1 };

	a.self = loop_timer_new(L, on_named, &a);
	z.self = loop_timer_new(L, on_named, &z);
	cr_expect_eq(loop_timer_armed(a.self), 0, "new timers are stopped");
	loop_timer_arm(a.self, 0);
	loop_timer_stop(a.self);
	cr_expect_eq(loop_timer_armed(a.self), 0);
	loop_timer_stop(a.self);
	loop_timer_arm(z.self, 30);
	run();
	cr_expect_eq(a.calls, 0);
	cr_expect_str_eq(buf_data(&trace), "z ");
}

static void
on_del_self(void *arg)
{
	struct named *n = arg;

	n->calls++;
	note(n->name);
	loop_timer_del(n->self);
	/* Scribble after the delete: the timer must still be valid now. */
	n->self = NULL;
}

Test(loop, delete_from_own_callback)
{
	struct named a = { .name = "a" }, b = { .name = "b" };
	struct named z = { .name = "z", .stop = 1 };

	a.self = loop_timer_new(L, on_del_self, &a);
	b.self = loop_timer_new(L, on_del_self, &b);
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(a.self, 0);
	loop_timer_arm(b.self, 10);
	loop_timer_arm(z.self, 50);
	run();
	cr_expect_eq(a.calls, 1);
	cr_expect_eq(b.calls, 1);
	cr_expect_str_eq(buf_data(&trace), "a b z ");
}

static void
on_del_other(void *arg)
{
	struct named *n = arg;

	n->calls++;
	note(n->name);
	loop_timer_del(n->other);
	n->other = NULL;
}

Test(loop, delete_from_another_timer)
{
	struct named killer = { .name = "k" }, victim = { .name = "v" };
	struct named late = { .name = "l" };
	struct named z = { .name = "z", .stop = 1 };

	/* Both due in the same round; the list holds newest first. */
	victim.self = loop_timer_new(L, on_named, &victim);
	killer.self = loop_timer_new(L, on_del_other, &killer);
	killer.other = victim.self;
	loop_timer_arm(victim.self, 0);
	loop_timer_arm(killer.self, 0);
	/* A second victim due later, deleted before it is due. */
	late.self = loop_timer_new(L, on_named, &late);
	loop_timer_arm(late.self, 20);
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(z.self, 60);
	run();
	cr_expect_eq(killer.calls, 1);
	cr_expect_eq(victim.calls, 0, "deleted timer was called");
	cr_expect_eq(late.calls, 1);
	cr_expect_str_eq(buf_data(&trace), "k l z ");

	/* Now the killer deletes a timer due later. */
	buf_reset(&trace);
	late.calls = 0;
	killer.other = late.self;
	loop_timer_arm(killer.self, 0);
	loop_timer_arm(late.self, 20);
	loop_timer_arm(z.self, 60);
	run();
	cr_expect_eq(late.calls, 0);
	cr_expect_str_eq(buf_data(&trace), "k z ");
}

static void
on_make_timer(void *arg)
{
	struct named *n = arg;

	n->calls++;
	note(n->name);
	/* Created and armed during the timer pass: fires a later round. */
	n->other = loop_timer_new(L, on_named, n + 1);
	n[1].self = n->other;
	loop_timer_arm(n->other, 0);
}

Test(loop, create_timer_from_timer)
{
	struct named n[3] = { { .name = "maker" },
		{ .name = "made", .stop = 1 }, { .name = "x" } };

	n[0].self = loop_timer_new(L, on_make_timer, &n[0]);
	loop_timer_arm(n[0].self, 0);
	run();
	cr_expect_str_eq(buf_data(&trace), "maker made ");
	cr_expect_eq(n[1].calls, 1);
}

Test(loop, timer_del_null_and_unarmed)
{
	struct loop_timer *t = loop_timer_new(L, on_guard, NULL);

	loop_timer_del(NULL);
	loop_timer_del(t);
	/* Timers left armed are freed by loop_free (checked by ASan). */
	t = loop_timer_new(L, on_guard, NULL);
	loop_timer_arm(t, 100000);
	(void)loop_timer_new(L, on_guard, NULL);
}

/* ---- fd watches ---- */

struct w {
	const char *name;
	int fd;
	int calls;
	int events; /* last events seen */
	int round;  /* `rounds` at the last call */
	int stop;   /* loop_stop() when called */
	int drain;  /* read what is there */
	struct loop_watch *self;
	struct loop_watch *other; /* deleted when called */
	struct w *add;            /* watch to add when called */
};

static void
on_fd(void *arg, int fd, int events)
{
	struct w *w = arg;
	char buf[256];

	cr_assert_eq(fd, w->fd);
	w->calls++;
	w->events = events;
	w->round = rounds;
	note(w->name);
	/* One read: the pipes are blocking, and hold a byte or two. */
	if (w->drain)
		(void)!read(fd, buf, sizeof(buf));
	if (w->other) {
		loop_watch_del(w->other);
		w->other = NULL;
	}
	if (w->add) {
		w->add->self =
		    loop_watch_add(L, w->add->fd, LOOP_READ, on_fd, w->add);
		w->add = NULL;
	}
	if (w->stop)
		loop_stop(L);
}

static void
on_stop(void *arg)
{
	loop_stop(L);
}

Test(loop, read_readiness)
{
	int p[2];
	struct w r = { .name = "r", .stop = 1, .drain = 1 };
	struct named z = { .name = "z", .stop = 1 };

	make_pipe(p);
	r.fd = p[0];
	r.self = loop_watch_add(L, p[0], LOOP_READ, on_fd, &r);
	/* Not readable yet: only the timer ends the loop. */
	z.self = loop_timer_new(L, on_named, &z);
	loop_timer_arm(z.self, 30);
	run();
	cr_expect_str_eq(buf_data(&trace), "z ");
	cr_expect_eq(r.calls, 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	run();
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(r.events, LOOP_READ);
	/* EOF counts as readable. */
	close(p[1]);
	run();
	cr_expect_eq(r.calls, 2);
	cr_expect_eq(r.events, LOOP_READ);
	close(p[0]);
}

Test(loop, write_readiness)
{
	int p[2];
	struct w wr = { .name = "w", .stop = 1 };

	make_pipe(p);
	wr.fd = p[1];
	wr.self = loop_watch_add(L, p[1], LOOP_WRITE, on_fd, &wr);
	run();
	cr_expect_eq(wr.calls, 1);
	cr_expect_eq(wr.events, LOOP_WRITE);
	/* Both asked, only writable: only LOOP_WRITE is reported. */
	loop_watch_set(wr.self, LOOP_READ | LOOP_WRITE);
	run();
	cr_expect_eq(wr.events, LOOP_WRITE);
	/* No events: never called. */
	loop_watch_set(wr.self, 0);
	{
		struct loop_timer *t = loop_timer_new(L, on_stop, NULL);

		loop_timer_arm(t, 30);
		run();
	}
	cr_expect_eq(wr.calls, 2);
	close(p[0]);
	close(p[1]);
}

Test(loop, write_readiness_after_full_pipe)
{
	int p[2];
	struct w wr = { .name = "w", .stop = 1 };
	struct w rd = { .name = "r", .drain = 1 };
	static char chunk[65536];
	ssize_t n;

	make_pipe(p);
	cr_assert_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	while ((n = write(p[1], chunk, sizeof(chunk))) > 0)
		;
	cr_assert_eq(errno, EAGAIN);
	wr.fd = p[1];
	wr.self = loop_watch_add(L, p[1], LOOP_WRITE, on_fd, &wr);
	rd.fd = p[0];
	/* Reading the pipe empty (in another watch) makes it writable. */
	rd.self = loop_watch_add(L, p[0], LOOP_READ, on_fd, &rd);
	run();
	cr_expect_eq(wr.calls, 1);
	cr_expect_geq(rd.calls, 1);
	cr_expect_geq(wr.round, rd.round);
	close(p[0]);
	close(p[1]);
}

Test(loop, watch_removed_in_callback_not_called_again)
{
	int p1[2], p2[2];
	struct w a = { .name = "a" }, b = { .name = "b" };
	struct loop_timer *t;

	make_pipe(p1);
	make_pipe(p2);
	cr_assert_eq(write(p1[1], "x", 1), 1);
	cr_assert_eq(write(p2[1], "x", 1), 1);
	/* Both readable in the same round; each deletes the other. */
	a.fd = p1[0];
	b.fd = p2[0];
	a.self = loop_watch_add(L, p1[0], LOOP_READ, on_fd, &a);
	b.self = loop_watch_add(L, p2[0], LOOP_READ, on_fd, &b);
	a.other = b.self;
	b.other = a.self;
	t = loop_timer_new(L, on_stop, NULL);
	loop_timer_arm(t, 40);
	run();
	/* The first one called removed the other before its turn. */
	cr_expect(a.calls == 0 || b.calls == 0, "a %d, b %d", a.calls, b.calls);
	/* The survivor is still readable (not drained): called each round. */
	cr_expect_gt(a.calls + b.calls, 1);
	for (int i = 0; i < 2; i++) {
		close(p1[i]);
		close(p2[i]);
	}
}

static void
on_fd_del_self(void *arg, int fd, int events)
{
	struct w *w = arg;

	w->calls++;
	loop_watch_del(w->self);
	loop_watch_del(w->self); /* twice is fine */
}

Test(loop, watch_deletes_itself)
{
	int p[2];
	struct w a = { .name = "a" };
	struct loop_timer *t;

	make_pipe(p);
	cr_assert_eq(write(p[1], "x", 1), 1);
	a.fd = p[0];
	a.self = loop_watch_add(L, p[0], LOOP_READ, on_fd_del_self, &a);
	t = loop_timer_new(L, on_stop, NULL);
	loop_timer_arm(t, 30);
	run();
	cr_expect_eq(a.calls, 1, "called %d times", a.calls);
	loop_watch_del(NULL);
	close(p[0]);
	close(p[1]);
}

Test(loop, watch_added_during_dispatch_works_next_round)
{
	int p1[2], p2[2];
	struct w a = { .name = "a", .drain = 1 };
	struct w c = { .name = "c", .stop = 1, .drain = 1 };

	make_pipe(p1);
	make_pipe(p2);
	cr_assert_eq(write(p1[1], "x", 1), 1);
	cr_assert_eq(write(p2[1], "x", 1), 1);
	a.fd = p1[0];
	c.fd = p2[0];
	a.add = &c;
	a.self = loop_watch_add(L, p1[0], LOOP_READ, on_fd, &a);
	run();
	cr_expect_eq(a.calls, 1);
	cr_expect_eq(c.calls, 1);
	cr_expect_eq(c.round, a.round + 1, "added in round %d, called in %d",
	    a.round, c.round);
	cr_expect_str_eq(buf_data(&trace), "a c ");
	for (int i = 0; i < 2; i++) {
		close(p1[i]);
		close(p2[i]);
	}
}

/* Adds many watches from a callback: the arrays grow mid-dispatch. */
struct many {
	int fds[2];
	int n;
	int calls;
	struct loop_watch *adder;
	struct loop_watch *w[100];
};

static void
on_many_each(void *arg, int fd, int events)
{
	struct many *m = arg;

	m->calls++;
	if (m->calls == m->n)
		loop_stop(L);
}

static void
on_many_adder(void *arg, int fd, int events)
{
	struct many *m = arg;

	for (int i = 0; i < m->n; i++)
		m->w[i] =
		    loop_watch_add(L, m->fds[0], LOOP_READ, on_many_each, m);
	loop_watch_del(m->adder);
}

Test(loop, many_watches_added_during_dispatch)
{
	struct many m = { .n = 100 };

	make_pipe(m.fds);
	cr_assert_eq(write(m.fds[1], "x", 1), 1);
	m.adder = loop_watch_add(L, m.fds[1], LOOP_WRITE, on_many_adder, &m);
	/* The adder runs in round 1; the new ones in round 2. */
	cr_assert_eq(loop_run(L), 0);
	cr_expect_eq(timed_out, 0);
	cr_expect_eq(m.calls, m.n);
	close(m.fds[0]);
	close(m.fds[1]);
}

Test(loop, closed_fd_does_not_spin)
{
	int p[2];
	struct loop_timer *t;

	make_pipe(p);
	close(p[0]);
	close(p[1]);
	/* A watch with no events on a closed fd: POLLNVAL, then removed. */
	(void)loop_watch_add(L, p[0], 0, on_fd, NULL);
	t = loop_timer_new(L, on_stop, NULL);
	loop_timer_arm(t, 50);
	run();
	cr_expect_lt(rounds, 10, "%d rounds in 50 ms", rounds);
}

/* ---- hooks ---- */

static void
on_hook(void *arg)
{
	note(arg);
}

struct tick {
	int left;
	struct loop_timer *self;
};

static void
on_tick(void *arg)
{
	struct tick *t = arg;

	note("T");
	if (--t->left == 0)
		loop_stop(L);
	else
		loop_timer_arm(t->self, 0);
}

Test(loop, hooks_run_before_each_poll)
{
	struct tick t = { 3, NULL };

	cr_assert_eq(loop_hook_add(L, on_hook, "H"), 0);
	t.self = loop_timer_new(L, on_tick, &t);
	loop_timer_arm(t.self, 0);
	cr_assert_eq(loop_run(L), 0);
	/* Each round: hooks, poll, then the (re-armed) timer. */
	cr_expect_str_eq(buf_data(&trace), "H T H T H T ");
	cr_expect_eq(rounds, 3);
	/* A hook removed is not run again; the others still are. */
	loop_hook_del(L, on_hook, "H");
	buf_reset(&trace);
	t.left = 2;
	loop_timer_arm(t.self, 5);
	cr_assert_eq(loop_run(L), 0);
	cr_expect_str_eq(buf_data(&trace), "T T ");
	cr_expect_geq(rounds, 5);
}

static void
on_hook_stop(void *arg)
{
	int *n = arg;

	if (++*n == 3)
		loop_stop(L);
}

Test(loop, hook_stops_loop_without_polling)
{
	int n = 0;
	int64_t t0 = loop_now_ms();
	int p[2];
	struct w r = { .name = "r" };

	make_pipe(p);
	cr_assert_eq(write(p[1], "x", 1), 1);
	r.fd = p[0];
	/* Readable every round (never drained). */
	r.self = loop_watch_add(L, p[0], LOOP_READ, on_fd, &r);
	cr_assert_eq(loop_hook_add(L, on_hook_stop, &n), 0);
	cr_assert_eq(loop_run(L), 0);
	cr_expect_eq(n, 3);
	/* Rounds 1 and 2 polled; round 3 stopped in the hook. */
	cr_expect_eq(r.calls, 2);
	cr_expect_lt(loop_now_ms() - t0, 1000);
	close(p[0]);
	close(p[1]);
}

static void
on_nothing(void *arg, int fd, int events)
{
}

Test(loop, hook_add_del_and_limit)
{
	static char hx[] = "x";
	int added = 1; /* setup added one */
	int n = 0, p[2];

	/* Something that wakes every poll at once: a writable pipe. */
	make_pipe(p);
	(void)loop_watch_add(L, p[1], LOOP_WRITE, on_nothing, NULL);
	for (int i = 0; i < 10; i++)
		if (loop_hook_add(L, on_hook, (void *)hx) == 0)
			added++;
	cr_expect_eq(added, 8, "the loop takes 8 hooks");
	cr_expect_eq(loop_hook_add(L, on_hook_stop, &n), -1);
	/* Removing one (any of the equal ones) makes room again. */
	loop_hook_del(L, on_hook, (void *)hx);
	loop_hook_del(L, on_hook, (void *)"not registered");
	cr_expect_eq(loop_hook_add(L, on_hook_stop, &n), 0);
	cr_assert_eq(loop_run(L), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(rounds, 3);
	/* Six "x" hooks ran in each of the three rounds. */
	cr_expect_eq(strlen(buf_data(&trace)), 3 * 6 * 2);
	/* Remove all but the counter; loop_free frees nothing twice. */
	for (int i = 0; i < 10; i++)
		loop_hook_del(L, on_hook, (void *)hx);
	loop_hook_del(L, on_hook_stop, &n);
	buf_reset(&trace);
	loop_timer_arm(guard, 0);
	(void)loop_run(L);
	cr_expect_str_eq(buf_data(&trace), "");
	timed_out = 0;
	close(p[0]);
	close(p[1]);
}

/* ---- loop_stop ---- */

Test(loop, stop_from_fd_callback_skips_rest_of_round)
{
	int p[2];
	struct w r = { .name = "r", .stop = 1, .drain = 1 };
	struct named a = { .name = "a" };

	make_pipe(p);
	cr_assert_eq(write(p[1], "x", 1), 1);
	r.fd = p[0];
	r.self = loop_watch_add(L, p[0], LOOP_READ, on_fd, &r);
	a.self = loop_timer_new(L, on_named, &a);
	loop_timer_arm(a.self, 0);
	run();
	cr_expect_eq(r.calls, 1);
	/* The timer was due but the round ended at loop_stop(). */
	cr_expect_eq(a.calls, 0);
	/* loop_run() again: it carries on. */
	a.stop = 1;
	run();
	cr_expect_eq(a.calls, 1);
	cr_expect_str_eq(buf_data(&trace), "r a ");
	close(p[0]);
	close(p[1]);
}

Test(loop, stop_before_run_is_forgotten)
{
	struct named a = { .name = "a", .stop = 1 };

	loop_stop(L);
	a.self = loop_timer_new(L, on_named, &a);
	loop_timer_arm(a.self, 10);
	run();
	cr_expect_eq(a.calls, 1);
}

/* ---- signals ---- */

static int sig_calls;

static void
on_sig(void *arg)
{
	sig_calls++;
	cr_assert_eq(arg, (void *)&sig_calls);
	note("sig");
	loop_stop(L);
}

Test(loop, sigterm_calls_back_from_loop)
{
	sig_calls = 0;
	cr_assert_eq(loop_catch_signals(L, on_sig, &sig_calls), 0);
	cr_assert_eq(raise(SIGTERM), 0);
	/* The handler only wrote to the self-pipe. */
	cr_expect_eq(sig_calls, 0);
	run();
	cr_expect_eq(sig_calls, 1);
	cr_assert_eq(raise(SIGINT), 0);
	cr_assert_eq(raise(SIGTERM), 0);
	run();
	/* Both signals before the round: drained together, or one by one. */
	cr_expect_geq(sig_calls, 2);
}

static void
on_raise(void *arg)
{
	cr_assert_eq(raise(SIGTERM), 0);
}

Test(loop, signal_during_loop)
{
	struct loop_timer *t = loop_timer_new(L, on_raise, NULL);

	sig_calls = 0;
	cr_assert_eq(loop_catch_signals(L, on_sig, &sig_calls), 0);
	loop_timer_arm(t, 20);
	run();
	cr_expect_eq(sig_calls, 1);
	cr_expect_str_eq(buf_data(&trace), "sig ");
}

Test(loop, sigpipe_ignored)
{
	int p[2];

	sig_calls = 0;
	cr_assert_eq(loop_catch_signals(L, on_sig, &sig_calls), 0);
	make_pipe(p);
	close(p[0]);
	errno = 0;
	cr_expect_eq(write(p[1], "x", 1), -1);
	cr_expect_eq(errno, EPIPE);
	close(p[1]);
	cr_expect_eq(sig_calls, 0);
}

Test(loop, signal_after_free_is_harmless)
{
	cr_assert_eq(loop_catch_signals(L, on_sig, &sig_calls), 0);
	loop_free(&L);
	/* The handler stays installed but has nowhere to write. */
	cr_assert_eq(raise(SIGTERM), 0);
	L = loop_new();
}

/* ---- misc ---- */

Test(loop, now_is_monotonic)
{
	int64_t a = loop_now_ms(), b;

	cr_expect_gt(a, 0);
	for (int i = 0; i < 1000; i++) {
		b = loop_now_ms();
		cr_assert_geq(b, a);
		a = b;
	}
}

Test(loop, free_with_everything_registered)
{
	int p[2];

	make_pipe(p);
	(void)loop_watch_add(L, p[0], LOOP_READ, on_fd, NULL);
	loop_watch_del(loop_watch_add(L, p[1], LOOP_WRITE, on_fd, NULL));
	loop_timer_arm(loop_timer_new(L, on_guard, NULL), 1000);
	cr_assert_eq(loop_hook_add(L, on_hook, "h"), 0);
	cr_assert_eq(loop_catch_signals(L, on_sig, &sig_calls), 0);
	loop_free(&L);
	loop_free(&L);
	loop_free(NULL);
	L = loop_new(); /* for teardown */
	close(p[0]);
	close(p[1]);
}

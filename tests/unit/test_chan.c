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

#include "bounds.h"
#include "buf.h"
#include "chan.h"
#include "loop.h"

/*
 * A chan on two pipes: the test writes the IDE's stdin into in[1] and
 * reads its stdout from out[0]. Each test runs in its own process.
 */
struct fx {
	struct loop *loop;
	struct chan *chan;
	int in[2], out[2];
	struct buf lines; /* "OK:line|", "NUL:n|", "LONG:n|" */
	int nlines;
	int eofs;
	int cong_on, cong_off, cong_last;
	int deads;
	char why[128];
	const char *stop_on_line; /* loop_stop() when this line arrives */
	int stop_on_eof;
	int stop_on_dead;
	int stop_on_cong; /* 1 or 0: stop on that congestion event */
	struct loop_timer *guard;
	int timed_out;
};

static struct fx F;

static void
on_line(void *arg, enum frame_status st, const char *line, size_t len)
{
	struct fx *f = arg;
	int rc = 0;

	cr_assert_eq(f, &F);
	f->nlines++;
	switch (st) {
	case FRAME_OK:
		rc = buf_puts(&f->lines, "OK:");
		if (rc == 0)
			rc = buf_append(&f->lines, line, len);
		break;
	case FRAME_NUL:
		rc = buf_printf(&f->lines, "NUL:%zu", len);
		break;
	case FRAME_TOO_LONG:
		rc = buf_printf(&f->lines, "LONG:%zu", len);
		break;
	}
	cr_assert_eq(rc, 0);
	cr_assert_eq(buf_puts(&f->lines, "|"), 0);
	if (f->stop_on_line && st == FRAME_OK &&
	    len == strlen(f->stop_on_line) &&
	    memcmp(line, f->stop_on_line, len) == 0)
		loop_stop(f->loop);
}

static void
on_eof(void *arg)
{
	struct fx *f = arg;

	f->eofs++;
	if (f->stop_on_eof)
		loop_stop(f->loop);
}

static void
on_congestion(void *arg, int congested)
{
	struct fx *f = arg;

	if (congested)
		f->cong_on++;
	else
		f->cong_off++;
	f->cong_last = congested;
	if (f->stop_on_cong == congested)
		loop_stop(f->loop);
}

static void
on_dead(void *arg, const char *why)
{
	struct fx *f = arg;

	cr_assert_not_null(why);
	f->deads++;
	(void)snprintf(f->why, sizeof(f->why), "%s", why);
	if (f->stop_on_dead)
		loop_stop(f->loop);
}

static const struct chan_cbs cbs = {
	on_line,
	on_eof,
	on_congestion,
	on_dead,
};

static void
on_guard(void *arg)
{
	F.timed_out = 1;
	loop_stop(F.loop);
}

static void
setup(void)
{
	memset(&F, 0, sizeof(F));
	F.stop_on_cong = -1;
	cr_assert_eq(signal(SIGPIPE, SIG_IGN) == SIG_ERR, 0);
	cr_assert_eq(pipe(F.in), 0);
	cr_assert_eq(pipe(F.out), 0);
	buf_init(&F.lines, 1u << 20);
	F.loop = loop_new();
	F.chan = chan_new(F.loop, F.in[0], F.out[1], &cbs, &F);
	cr_assert_not_null(F.chan);
	F.guard = loop_timer_new(F.loop, on_guard, NULL);
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

static void
teardown(void)
{
	chan_free(&F.chan);
	cr_assert_null(F.chan);
	chan_free(&F.chan);
	chan_free(NULL);
	loop_free(&F.loop);
	for (int i = 0; i < 2; i++) {
		close_fd(&F.in[i]);
		close_fd(&F.out[i]);
	}
	buf_finish(&F.lines);
}

TestSuite(chan, .init = setup, .fini = teardown);

/* Runs the loop until a callback stops it; fails after `ms`. */
static void
run_for(int64_t ms)
{
	loop_timer_arm(F.guard, ms);
	cr_assert_eq(loop_run(F.loop), 0);
	cr_assert_eq(
	    F.timed_out, 0, "the loop did not stop in %lld ms", (long long)ms);
	loop_timer_stop(F.guard);
}

/* Runs the loop for `ms` whatever happens. */
static void
run_idle(int64_t ms)
{
	loop_timer_arm(F.guard, ms);
	cr_assert_eq(loop_run(F.loop), 0);
	F.timed_out = 0;
}

static void
put_in(const char *s, size_t n)
{
	cr_assert_eq(write(F.in[1], s, n), (ssize_t)n);
}

/* Everything readable from the output pipe now, appended to `b`. */
static size_t
take_out(struct buf *b)
{
	static char chunk[65536];
	size_t total = 0;
	ssize_t n;

	cr_assert_eq(fcntl(F.out[0], F_SETFL, O_NONBLOCK), 0);
	while ((n = read(F.out[0], chunk, sizeof(chunk))) > 0) {
		cr_assert_eq(buf_append(b, chunk, (size_t)n), 0);
		total += (size_t)n;
	}
	cr_assert(n == -1 && errno == EAGAIN, "read: %zd", n);
	return total;
}

/* ---- input ---- */

Test(chan, lines_arrive)
{
	static const char in[] = "a\n{\"x\":1}\r\n\r\n  \n{\"y\":\"a b\"}\n"
	                         "last";

	put_in(in, sizeof(in) - 1);
	close_fd(&F.in[1]);
	F.stop_on_eof = 1;
	run_for(2000);
	cr_expect_str_eq(buf_data(&F.lines),
	    "OK:a|OK:{\"x\":1}|OK:{\"y\":\"a b\"}|OK:last|");
	cr_expect_eq(F.eofs, 1);
	/* EOF is reported once, however long the loop goes on. */
	run_idle(30);
	cr_expect_eq(F.eofs, 1);
	cr_expect_eq(F.nlines, 4);
	cr_expect_eq(F.deads, 0);
}

Test(chan, eof_without_data)
{
	close_fd(&F.in[1]);
	F.stop_on_eof = 1;
	run_for(2000);
	cr_expect_eq(F.eofs, 1);
	cr_expect_eq(F.nlines, 0);
	run_idle(20);
	cr_expect_eq(F.eofs, 1);
}

static void
write_rest(void *arg)
{
	put_in(arg, strlen(arg));
}

Test(chan, line_split_across_writes)
{
	struct loop_timer *t = loop_timer_new(
	    F.loop, write_rest, (void *)"lo\", \"n\":2}\r\nnext\n");

	put_in("{\"hel", 5);
	/* The first part is read (and held) before the rest is written. */
	loop_timer_arm(t, 30);
	F.stop_on_line = "next";
	run_for(2000);
	cr_expect_str_eq(
	    buf_data(&F.lines), "OK:{\"hello\", \"n\":2}|OK:next|");
	cr_expect_eq(F.eofs, 0);
}

Test(chan, line_byte_by_byte)
{
	static const char in[] = "{\"jsonrpc\":\"2.0\"}\r\n";

	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		put_in(in + i, 1);
		run_idle(1);
	}
	run_idle(20);
	cr_expect_eq(F.nlines, 1);
	cr_expect_str_eq(buf_data(&F.lines), "OK:{\"jsonrpc\":\"2.0\"}|");
}

Test(chan, nul_line_reported)
{
	put_in("a\0b\nok\n", 7);
	F.stop_on_line = "ok";
	run_for(2000);
	cr_expect_str_eq(buf_data(&F.lines), "NUL:3|OK:ok|");
}

Test(chan, many_lines_in_order)
{
	struct buf want;
	char line[64];

	buf_init(&want, 1u << 20);
	/* More than one read chunk, written in one go before the loop. */
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(line, sizeof(line), "{\"id\":%d}\n", i);

		cr_assert_gt(n, 0);
		put_in(line, (size_t)n);
		cr_assert_eq(buf_printf(&want, "OK:{\"id\":%d}|", i), 0);
	}
	close_fd(&F.in[1]);
	F.stop_on_eof = 1;
	run_for(5000);
	cr_expect_eq(F.nlines, 3000);
	cr_expect_str_eq(buf_data(&F.lines), buf_data(&want));
	buf_finish(&want);
}

Test(chan, pause_input)
{
	chan_pause_input(F.chan, 1);
	put_in("a\nb\n", 4);
	run_idle(30);
	cr_expect_eq(F.nlines, 0, "read while paused");
	chan_pause_input(F.chan, 0);
	F.stop_on_line = "b";
	run_for(2000);
	cr_expect_str_eq(buf_data(&F.lines), "OK:a|OK:b|");
	/* After EOF, pausing and resuming is harmless. */
	close_fd(&F.in[1]);
	F.stop_on_eof = 1;
	run_for(2000);
	chan_pause_input(F.chan, 1);
	chan_pause_input(F.chan, 0);
	run_idle(10);
	cr_expect_eq(F.eofs, 1);
}

Test(chan, fds_made_nonblocking_and_restored)
{
	cr_expect(fcntl(F.in[0], F_GETFL) & O_NONBLOCK);
	cr_expect(fcntl(F.out[1], F_GETFL) & O_NONBLOCK);
	chan_free(&F.chan);
	cr_expect_eq(fcntl(F.in[0], F_GETFL) & O_NONBLOCK, 0);
	cr_expect_eq(fcntl(F.out[1], F_GETFL) & O_NONBLOCK, 0);
	/* The loop runs on without the freed channel's watches. */
	put_in("x\n", 2);
	run_idle(20);
	cr_expect_eq(F.nlines, 0);
}

/* ---- output ---- */

Test(chan, send_writes_line)
{
	struct buf out;

	buf_init(&out, 1u << 20);
	cr_assert_eq(chan_send(F.chan, "{\"a\":1}", 7), 0);
	cr_assert_eq(chan_send(F.chan, "msg", 3), 0);
	cr_expect_eq(chan_queued(F.chan), 0, "small messages go straight out");
	take_out(&out);
	cr_expect_str_eq(buf_data(&out), "{\"a\":1}\nmsg\n");
	/* Only `len` bytes are sent. */
	buf_reset(&out);
	cr_assert_eq(chan_send(F.chan, "abcdef", 3), 0);
	take_out(&out);
	cr_expect_str_eq(buf_data(&out), "abc\n");
	buf_finish(&out);
	cr_expect_eq(F.deads, 0);
}

Test(chan, pretty_json_becomes_one_line)
{
	static const char pretty[] =
	    "{\n  \"jsonrpc\": \"2.0\",\r\n"
	    "  \"id\": 1,\n  \"result\": {\n    \"text\": \"a b\\n c\",\n"
	    "    \"list\": [ 1, 2 ]\n  }\n}\n";
	static const char want[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	                           "{\"text\":\"a b\\n c\",\"list\":[1,2]}}\n";
	static const char tail_cr[] = "{\"a\":\"x\"}\r";
	static const char esc[] = "{ \"k\" :\r\n \"a \\\" b\",\n\t\"v\": "
	                          "[ \"\\\\\" ] }";
	struct buf out;

	buf_init(&out, 1u << 20);
	cr_assert_eq(chan_send(F.chan, pretty, sizeof(pretty) - 1), 0);
	take_out(&out);
	cr_expect_str_eq(buf_data(&out), want);
	buf_reset(&out);
	cr_assert_eq(chan_send(F.chan, tail_cr, sizeof(tail_cr) - 1), 0);
	/* Strings are kept verbatim, even their escaped quotes. */
	cr_assert_eq(chan_send(F.chan, esc, sizeof(esc) - 1), 0);
	take_out(&out);
	cr_expect_str_eq(buf_data(&out),
	    "{\"a\":\"x\"}\n"
	    "{\"k\":\"a \\\" b\",\"v\":[\"\\\\\"]}\n");
	buf_finish(&out);
}

/* Message k: a JSON string of `size` bytes, its body all one letter. */
static void
make_msg(char *m, size_t size, int k)
{
	memset(m, 'a' + k % 26, size);
	m[0] = '"';
	m[size - 1] = '"';
	/* A number inside so equal letters still differ. */
	(void)snprintf(m + 1, 12, "%010d", k);
	m[11] = '-';
}

/* Reads the output pipe from the loop and checks it against `want`. */
struct reader {
	struct buf *want;
	size_t got;
	int mismatch;
	size_t max_read; /* bytes per callback */
};

static void
on_out_readable(void *arg, int fd, int events)
{
	static char chunk[1 << 18];
	struct reader *r = arg;
	size_t cap = r->max_read < sizeof(chunk) ? r->max_read : sizeof(chunk);
	ssize_t n = read(fd, chunk, cap);

	if (n <= 0)
		return;
	if (r->got + (size_t)n > buf_len(r->want) ||
	    memcmp(buf_data(r->want) + r->got, chunk, (size_t)n) != 0)
		r->mismatch = 1;
	r->got += (size_t)n;
	if (r->got >= buf_len(r->want) || r->mismatch)
		loop_stop(F.loop);
}

Test(chan, congestion_and_drain)
{
	const size_t size = 1u << 20;
	char *m = malloc(size);
	struct buf want;
	struct reader rd = { 0 };
	struct loop_watch *w;
	int k = 0;

	cr_assert_not_null(m);
	buf_init(&want, 256u << 20);
	/* Nobody reads: the pipe fills, then the queue. */
	while (chan_queued(F.chan) <= BOUNDS_STDOUT_HIGH) {
		cr_expect_eq(
		    F.cong_on, 0, "raised at %zu bytes", chan_queued(F.chan));
		make_msg(m, size, k);
		cr_assert_eq(chan_send(F.chan, m, size), 0, "message %d", k);
		cr_assert_eq(buf_append(&want, m, size), 0);
		cr_assert_eq(buf_puts(&want, "\n"), 0);
		k++;
		cr_assert_lt(k, 100);
	}
	cr_expect_eq(F.cong_on, 1);
	cr_expect_eq(F.cong_last, 1);
	cr_expect_gt(k, 30);
	/* More messages: queued in order, no second notice. */
	for (int i = 0; i < 3; i++, k++) {
		make_msg(m, size, k);
		cr_assert_eq(chan_send(F.chan, m, size), 0);
		cr_assert_eq(buf_append(&want, m, size), 0);
		cr_assert_eq(buf_puts(&want, "\n"), 0);
	}
	cr_expect_eq(F.cong_on, 1);
	/* A round of the loop with the pipe still full changes nothing. */
	run_idle(20);
	cr_expect_eq(F.cong_on, 1);
	cr_expect_eq(F.cong_off, 0);
	cr_expect_eq(F.deads, 0);

	/* Now the IDE reads: everything arrives, in order. */
	rd.want = &want;
	rd.max_read = 1u << 18;
	w = loop_watch_add(F.loop, F.out[0], LOOP_READ, on_out_readable, &rd);
	run_for(30000);
	cr_expect_eq(rd.mismatch, 0, "output differs near byte %zu", rd.got);
	cr_expect_eq(rd.got, buf_len(&want));
	cr_expect_eq(chan_queued(F.chan), 0);
	cr_expect_eq(F.cong_on, 1);
	cr_expect_eq(F.cong_off, 1);
	cr_expect_eq(F.cong_last, 0);
	cr_expect_eq(F.deads, 0);
	loop_watch_del(w);
	/* And it works as before afterwards. */
	{
		struct buf out;

		buf_init(&out, 1024);
		cr_assert_eq(chan_send(F.chan, "after", 5), 0);
		take_out(&out);
		cr_expect_str_eq(buf_data(&out), "after\n");
		buf_finish(&out);
	}
	buf_finish(&want);
	free(m);
}

Test(chan, congestion_off_only_below_low_mark)
{
	const size_t size = 1u << 20;
	char *m = malloc(size);
	char *sink = malloc(1u << 20);
	int k = 0;

	cr_assert_not_null(m);
	cr_assert_not_null(sink);
	while (F.cong_on == 0) {
		make_msg(m, size, k++);
		cr_assert_eq(chan_send(F.chan, m, size), 0);
	}
	/* Read a little at a time: no "resume" until below the low mark. */
	cr_assert_eq(fcntl(F.out[0], F_SETFL, O_NONBLOCK), 0);
	while (F.cong_off == 0) {
		size_t before = chan_queued(F.chan);
		ssize_t n = read(F.out[0], sink, 1u << 20);

		cr_assert_gt(n, 0);
		run_idle(0);
		if (F.cong_off == 0)
			cr_assert_geq(chan_queued(F.chan), BOUNDS_STDOUT_LOW,
			    "still congested at %zu (was %zu)",
			    chan_queued(F.chan), before);
	}
	cr_expect_lt(chan_queued(F.chan), BOUNDS_STDOUT_LOW);
	cr_expect_eq(F.cong_on, 1);
	cr_expect_eq(F.cong_off, 1);
	free(m);
	free(sink);
}

Test(chan, queue_cap_drops_message)
{
	const size_t size = 1u << 20;
	char *m = malloc(size);
	int k = 0, rc;

	cr_assert_not_null(m);
	/* Far past the high mark the queue refuses (and drops) messages. */
	do {
		make_msg(m, size, k++);
		rc = chan_send(F.chan, m, size);
		cr_assert_lt(k, 200, "the queue never filled");
	} while (rc == 0);
	cr_expect_eq(rc, -1);
	cr_expect_gt(chan_queued(F.chan), BOUNDS_STDOUT_HIGH);
	cr_expect_leq(chan_queued(F.chan),
	    BOUNDS_STDOUT_HIGH + 2 * (size_t)BOUNDS_MAX_LINE);
	/* Not a dead stdout: a small message still fits. */
	cr_expect_eq(F.deads, 0);
	cr_expect_eq(chan_send(F.chan, "x", 1), 0);
	free(m);
}

Test(chan, dead_reader_on_send)
{
	close_fd(&F.out[0]);
	cr_expect_eq(chan_send(F.chan, "hello", 5), -1);
	cr_expect_eq(F.deads, 1);
	cr_expect_neq(F.why[0], '\0');
	/* Once dead, every send fails without a second notice. */
	cr_expect_eq(chan_send(F.chan, "again", 5), -1);
	run_idle(20);
	cr_expect_eq(F.deads, 1);
}

Test(chan, dead_reader_while_queued)
{
	const size_t size = 1u << 20;
	char *m = malloc(size);

	cr_assert_not_null(m);
	for (int k = 0; k < 4; k++) {
		make_msg(m, size, k);
		cr_assert_eq(chan_send(F.chan, m, size), 0);
	}
	cr_assert_gt(chan_queued(F.chan), 0);
	/* The IDE goes away with output queued: found on the next flush. */
	close_fd(&F.out[0]);
	F.stop_on_dead = 1;
	run_for(2000);
	cr_expect_eq(F.deads, 1);
	cr_expect_eq(chan_send(F.chan, "x", 1), -1);
	run_idle(20);
	cr_expect_eq(F.deads, 1);
	free(m);
}

Test(chan, input_goes_on_after_output_dies)
{
	close_fd(&F.out[0]);
	cr_expect_eq(chan_send(F.chan, "x", 1), -1);
	cr_expect_eq(F.deads, 1);
	put_in("still\n", 6);
	F.stop_on_line = "still";
	run_for(2000);
	cr_expect_str_eq(buf_data(&F.lines), "OK:still|");
}

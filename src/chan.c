/* SPDX-License-Identifier: ISC */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "xmem.h"

/* Hard cap of the queue: the high mark plus room for big messages. */
#define CHAN_QUEUE_MAX  (BOUNDS_STDOUT_HIGH + 2 * (size_t)BOUNDS_MAX_LINE)
#define CHAN_READ_CHUNK (64 * 1024)

struct chan {
	struct loop *loop;
	struct chan_cbs cbs;      /* owner's callbacks */
	void *arg;                /* passed to them */
	int in, out;              /* stdin and stdout */
	int in_flags, out_flags;  /* original fcntl flags */
	struct loop_watch *win;   /* stdin watch, NULL after EOF */
	struct loop_watch *wout;  /* stdout watch */
	struct frame *frame;      /* stdin framing */
	char *q;                  /* output queue bytes */
	size_t qhead, qlen, qcap; /* unsent = q[qhead, qlen) */
	int congested;            /* above the high mark */
	int dead;                 /* stdout unusable */
	int eof;                  /* on_eof was called */
	struct loop_timer *stall; /* no-progress timer */
	char *scratch;            /* compaction buffer */
	size_t scratch_cap;
	char rbuf[CHAN_READ_CHUNK]; /* stdin read buffer */
};

static void
set_nonblock(int fd, int *saved)
{
	*saved = fcntl(fd, F_GETFL);
	if (*saved != -1)
		fcntl(fd, F_SETFL, *saved | O_NONBLOCK);
}

static void
declare_dead(struct chan *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	loop_timer_stop(c->stall);
	loop_watch_set(c->wout, 0);
	c->cbs.on_dead(c->arg, why);
}

static void
on_stall(void *arg)
{
	declare_dead(arg, "the IDE stopped reading stdout");
}

static size_t
pending(const struct chan *c)
{
	return c->qlen - c->qhead;
}

static void
update_marks(struct chan *c)
{
	size_t n = pending(c);

	if (!c->congested && n > BOUNDS_STDOUT_HIGH) {
		c->congested = 1;
		c->cbs.on_congestion(c->arg, 1);
	} else if (c->congested && n < BOUNDS_STDOUT_LOW) {
		c->congested = 0;
		c->cbs.on_congestion(c->arg, 0);
	}
	loop_watch_set(c->wout, n ? LOOP_WRITE : 0);
	if (n == 0)
		loop_timer_stop(c->stall);
	else if (!loop_timer_armed(c->stall))
		loop_timer_arm(c->stall, BOUNDS_STDOUT_STALL_MS);
}

static void
flush_queue(struct chan *c)
{
	ssize_t w;

	while (pending(c) > 0) {
		w = write(c->out, c->q + c->qhead, pending(c));
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			declare_dead(c, strerror(errno));
			return;
		}
		c->qhead += (size_t)w;
		loop_timer_arm(c->stall, BOUNDS_STDOUT_STALL_MS);
	}
	if (c->qhead == c->qlen)
		c->qhead = c->qlen = 0;
	update_marks(c);
}

static void
on_writable(void *arg, int fd, int events)
{
	flush_queue(arg);
}

static int
enqueue(struct chan *c, const char *p, size_t n)
{
	if (c->qhead > 0 && c->qhead >= c->qlen / 2) {
		memmove(c->q, c->q + c->qhead, pending(c));
		c->qlen -= c->qhead;
		c->qhead = 0;
	}
	if (c->qlen + n > c->qcap) {
		size_t cap = c->qcap ? c->qcap : 64 * 1024;

		while (cap < c->qlen + n)
			cap *= 2;
		c->q = x_realloc(c->q, cap);
		c->qcap = cap;
	}
	memcpy(c->q + c->qlen, p, n);
	c->qlen += n;
	return 0;
}

/* Writes what the pipe takes at once; returns bytes written. */
static size_t
write_direct(struct chan *c, const char *msg, size_t len)
{
	struct iovec iov[2];
	ssize_t w;

	iov[0].iov_base = (void *)msg;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	do
		w = writev(c->out, iov, 2);
	while (w == -1 && errno == EINTR);
	if (w == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		declare_dead(c, strerror(errno));
		return 0;
	}
	return w < 0 ? 0 : (size_t)w;
}

static const char *
compacted(struct chan *c, const char *msg, size_t *len)
{
	if (!frame_needs_compact(msg, *len))
		return msg;
	if (c->scratch_cap < *len) {
		free(c->scratch);
		c->scratch = x_malloc(*len);
		c->scratch_cap = *len;
	}
	*len = frame_compact(msg, *len, c->scratch);
	return c->scratch;
}

int
chan_send(struct chan *c, const char *msg, size_t len)
{
	size_t done = 0;

	if (c->dead)
		return -1;
	if (pending(c) + len + 1 > CHAN_QUEUE_MAX) {
		log_error("stdout queue full (%zu bytes): message dropped",
		    pending(c));
		return -1;
	}
	msg = compacted(c, msg, &len);
	if (pending(c) == 0)
		done = write_direct(c, msg, len);
	if (c->dead)
		return -1;
	if (done < len) {
		enqueue(c, msg + done, len - done);
		enqueue(c, "\n", 1);
	} else if (done == len) {
		enqueue(c, "\n", 1);
	}
	if (pending(c))
		update_marks(c);
	return 0;
}

static void
deliver(void *arg, enum frame_status st, const char *line, size_t len)
{
	struct chan *c = arg;

	c->cbs.on_line(c->arg, st, line, len);
}

static void
input_eof(struct chan *c)
{
	frame_finish(c->frame, deliver, c);
	loop_watch_del(c->win);
	c->win = NULL;
	if (!c->eof) {
		c->eof = 1;
		c->cbs.on_eof(c->arg);
	}
}

static void
on_readable(void *arg, int fd, int events)
{
	struct chan *c = arg;
	ssize_t n;

	n = read(fd, c->rbuf, sizeof(c->rbuf));
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == -1)
			log_warn("reading stdin: %s", strerror(errno));
		input_eof(c);
		return;
	}
	frame_feed(c->frame, c->rbuf, (size_t)n, deliver, c);
}

struct chan *
chan_new(struct loop *l, int in, int out, const struct chan_cbs *cbs, void *arg)
{
	struct chan *c = x_calloc(1, sizeof(*c));

	c->loop = l;
	c->cbs = *cbs;
	c->arg = arg;
	c->in = in;
	c->out = out;
	set_nonblock(in, &c->in_flags);
	set_nonblock(out, &c->out_flags);
	c->frame = frame_new(BOUNDS_MAX_LINE);
	c->win = loop_watch_add(l, in, LOOP_READ, on_readable, c);
	c->wout = loop_watch_add(l, out, 0, on_writable, c);
	c->stall = loop_timer_new(l, on_stall, c);
	return c;
}

void
chan_free(struct chan **cp)
{
	struct chan *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	loop_watch_del(c->win);
	loop_watch_del(c->wout);
	loop_timer_del(c->stall);
	if (c->in_flags != -1)
		fcntl(c->in, F_SETFL, c->in_flags);
	if (c->out_flags != -1)
		fcntl(c->out, F_SETFL, c->out_flags);
	frame_free(&c->frame);
	free(c->q);
	free(c->scratch);
	free(c);
	*cp = NULL;
}

size_t
chan_queued(const struct chan *c)
{
	return pending(c);
}

void
chan_pause_input(struct chan *c, int paused)
{
	if (c->win)
		loop_watch_set(c->win, paused ? 0 : LOOP_READ);
}

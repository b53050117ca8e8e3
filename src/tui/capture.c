/* capture.c: fd 1/2 capture (see capture.h). One thread polls both pipes
 * and a stop pipe; text waits in two buffers under a mutex. The main thread
 * also reads the pipes itself when it drains, so text written just before
 * a drain is never late. */
#include "tui/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

#define CAPTURE_MAX (4 << 20) /* bytes kept between drains; more is dropped */

struct stream {
	int fd;         /* the descriptor captured (1 or 2) */
	int saved;      /* a copy of the original, restored at the end; -1: not captured */
	int rd, wr;     /* the pipe */
	char *buf;
	size_t len, cap;
	size_t dropped;
};

struct capture {
	struct stream s[2];
	int stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	int restored;
};

/* Reads what the pipe holds into the stream's buffer (lock held). */
static void pull(struct stream *st)
{
	char tmp[4096];
	ssize_t n;

	while ((n = read(st->rd, tmp, sizeof tmp)) > 0) {
		if (st->len + (size_t)n > CAPTURE_MAX) {
			st->dropped += (size_t)n;
			continue;
		}
		if (st->len + (size_t)n > st->cap) {
			size_t cap = (st->len + (size_t)n) * 2;
			char *b = realloc(st->buf, cap);

			if (b == NULL) {
				st->dropped += (size_t)n;
				continue;
			}
			st->buf = b;
			st->cap = cap;
		}
		memcpy(st->buf + st->len, tmp, (size_t)n);
		st->len += (size_t)n;
	}
}

static void *capture_thread(void *arg)
{
	struct capture *c = arg;

	for (;;) {
		struct pollfd fds[3];
		int n = 0;

		fds[n++] = (struct pollfd){ .fd = c->stop[0], .events = POLLIN };
		for (int i = 0; i < 2; i++)
			if (c->s[i].saved >= 0)
				fds[n++] = (struct pollfd){ .fd = c->s[i].rd, .events = POLLIN };
		if (poll(fds, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (fds[0].revents)
			return NULL;
		pthread_mutex_lock(&c->lock);
		for (int i = 0; i < 2; i++)
			if (c->s[i].saved >= 0)
				pull(&c->s[i]);
		pthread_mutex_unlock(&c->lock);
	}
}

static int make_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

struct capture *capture_start(void)
{
	struct capture *c = calloc(1, sizeof *c);

	if (c == NULL) {
		det_error_set(DET_ENOMEM, "out of memory capturing standard output");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->stop[0] = c->stop[1] = -1;
	for (int i = 0; i < 2; i++) {
		struct stream *st = &c->s[i];

		st->fd = i + 1;
		st->saved = st->rd = st->wr = -1;
		if (i == 1 && !isatty(STDERR_FILENO))
			continue; /* stderr goes to a file or a pipe: leave it there */
		{
			int p[2];

			if (make_pipe(p) != 0)
				goto fail;
			st->rd = p[0], st->wr = p[1];
		}
	}
	if (make_pipe(c->stop) != 0)
		goto fail;
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 2; i++) {
		struct stream *st = &c->s[i];

		if (st->rd < 0)
			continue;
		st->saved = fcntl(st->fd, F_DUPFD_CLOEXEC, 3);
		if (st->saved < 0 || dup2(st->wr, st->fd) < 0)
			goto fail;
	}
	if (pthread_create(&c->thread, NULL, capture_thread, c) != 0)
		goto fail;
	/* a pipe would make stdout fully buffered: keep lines in order with
	 * what child processes write */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return c;
fail:
	det_error_set(DET_EIO, "can't capture standard output (%s)", strerror(errno));
	capture_restore_fds(c);
	for (int i = 0; i < 2; i++) {
		if (c->s[i].rd >= 0)
			close(c->s[i].rd), close(c->s[i].wr);
		if (c->s[i].saved >= 0)
			close(c->s[i].saved);
	}
	if (c->stop[0] >= 0)
		close(c->stop[0]), close(c->stop[1]);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

void capture_drain(struct capture *c, capture_sink_fn sink, void *ctx)
{
	if (c == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		struct stream *st = &c->s[i];
		char *buf;
		size_t len, dropped;

		if (st->saved < 0)
			continue;
		pthread_mutex_lock(&c->lock);
		pull(st);
		buf = st->buf, len = st->len, dropped = st->dropped;
		st->buf = NULL, st->len = st->cap = 0, st->dropped = 0;
		pthread_mutex_unlock(&c->lock);
		if (len)
			sink(ctx, i == 1, buf, len);
		if (dropped) {
			static const char msg[] = "\n[detbench: output too fast, some was dropped]\n";

			sink(ctx, 1, msg, sizeof msg - 1);
		}
		free(buf);
	}
}

void capture_restore_fds(struct capture *c)
{
	if (c == NULL || c->restored)
		return;
	c->restored = 1;
	for (int i = 0; i < 2; i++)
		if (c->s[i].saved >= 0)
			dup2(c->s[i].saved, c->s[i].fd);
}

void capture_stop(struct capture *c)
{
	if (c == NULL)
		return;
	fflush(stdout);
	fflush(stderr);
	capture_restore_fds(c);
	if (write(c->stop[1], "x", 1) == 1)
		pthread_join(c->thread, NULL);
	for (int i = 0; i < 2; i++) {
		struct stream *st = &c->s[i];

		if (st->saved < 0)
			continue;
		close(st->wr);
		pull(st);
		if (st->len && write(st->fd, st->buf, st->len) < 0) {
			/* the terminal is gone (a hangup): nothing left to tell */
		}
		close(st->rd);
		close(st->saved);
		free(st->buf);
	}
	close(c->stop[0]);
	close(c->stop[1]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

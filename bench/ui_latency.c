/* ui_latency.c: keystroke echo latency of the workbench while it trains,
 * and the screen's share of the CPU. detbench runs on a pseudo-terminal
 * (160x48, xterm-256color) with the tiny fashion_fcos recipe training;
 * each key is written to the pty and timed until its echo comes back in
 * the screen's output. The main thread (prompt, panels, drawing) CPU time
 * over the same window, divided by the whole process's, is the screen's
 * share (the trainer and loader threads do the rest).
 *
 *   bench/ui_latency DETBENCH RECIPE [KEYS=60]
 *
 * Targets (issue 7): echo p95 < 50 ms; drawing < 2% of the work. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char out[1 << 22];
static size_t outlen;

/* Reads what is there (waiting up to ms); returns bytes read. */
static ssize_t pump(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n = 0;

	if (poll(&p, 1, ms) > 0) {
		char buf[65536];

		n = read(fd, buf, sizeof buf);
		if (n > 0) {
			if (outlen + (size_t)n >= sizeof out)
				outlen = 0;
			memcpy(out + outlen, buf, (size_t)n);
			outlen += (size_t)n;
			out[outlen] = 0;
		}
	}
	return n;
}

static int wait_for(int fd, const char *text, double seconds, size_t from)
{
	double end = now() + seconds;

	while (now() < end) {
		if (outlen > from && memmem(out + from, outlen - from, text, strlen(text)))
			return 0;
		pump(fd, 50);
	}
	return -1;
}

/* utime + stime of a task in clock ticks. */
static long long cpu_ticks(pid_t pid, pid_t tid)
{
	char path[128], buf[1024], *p;
	long long ut = 0, st = 0;
	FILE *f;

	if (tid)
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = 0;
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 48, .ws_col = 160 };
	int fd, nkeys = argc > 3 ? atoi(argv[3]) : 60, got = 0;
	pid_t pid;
	double *lat;
	long long main0, all0, main1, all1;

	if (argc < 3) {
		fprintf(stderr, "usage: ui_latency DETBENCH RECIPE [KEYS]\n");
		return 2;
	}
	lat = calloc((size_t)nkeys, sizeof *lat);
	pid = forkpty(&fd, NULL, NULL, &ws);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		setenv("XDG_STATE_HOME", "/tmp", 1);
		execl(argv[1], argv[1], argv[2], "steps=100000", "train_images=256", "val_images=16", "size=64", "fpn=32",
			"batch=4", "workers=1", "eval_minutes=0.25", "warmup=10", "name=ui-latency", (char *)NULL);
		_exit(127);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (wait_for(fd, "recipe:train()", 120, 0) != 0) {
		fprintf(stderr, "ui_latency: the recipe did not load\n");
		kill(pid, SIGKILL);
		return 1;
	}
	for (int i = 0; i < 20; i++)
		pump(fd, 50);
	if (write(fd, "recipe:train()\r", 15) != 15)
		return 1;
	if (wait_for(fd, "training", 60, 0) != 0) {
		fprintf(stderr, "ui_latency: training did not start\n");
		kill(pid, SIGKILL);
		return 1;
	}
	/* let the panels fill and the first evaluation come */
	for (double end = now() + 20; now() < end;)
		pump(fd, 50);
	main0 = cpu_ticks(pid, pid), all0 = cpu_ticks(pid, 0);
	double t_start = now();

	for (int k = 0; k < nkeys; k++) {
		char c = (char)('a' + k % 26);
		size_t from;
		double t0;

		if (k % 20 == 19) {
			if (write(fd, "\025", 1) != 1) /* Ctrl-U: a fresh line */
				break;
			for (int i = 0; i < 4; i++)
				pump(fd, 25);
		}
		from = outlen;
		t0 = now();
		if (write(fd, &c, 1) != 1)
			break;
		for (;;) {
			if (outlen > from && memchr(out + from, c, outlen - from))
				break;
			if (now() - t0 > 2)
				break;
			pump(fd, 5);
		}
		lat[got++] = now() - t0;
		for (double end = now() + 0.05 + 0.1 * (k % 3); now() < end;)
			pump(fd, 10);
	}
	main1 = cpu_ticks(pid, pid), all1 = cpu_ticks(pid, 0);
	double window = now() - t_start;

	qsort(lat, (size_t)got, sizeof *lat, cmp);
	printf("ui_latency: %d keys while training (160x48, xterm-256color, panels up), %.1f s window\n", got, window);
	printf("echo latency ms: p50 %.1f  p95 %.1f  max %.1f   (target p95 < 50)\n", 1e3 * lat[got / 2],
		1e3 * lat[(int)(got * 0.95)], 1e3 * lat[got - 1]);
	printf("CPU: main thread (prompt + panels + drawing) %lld ticks of %lld for the process = %.2f%%"
	       "   (target < 2%%; typing included)\n", main1 - main0, all1 - all0,
		all1 > all0 ? 100.0 * (double)(main1 - main0) / (double)(all1 - all0) : 0.0);
	if (write(fd, "\025recipe:stop()\r", 15) < 0) {
		/* gone already */
	}
	for (double end = now() + 2; now() < end;)
		pump(fd, 50);
	kill(pid, SIGTERM);
	for (double end = now() + 3; now() < end;) {
		pump(fd, 50);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(lat);
	return 0;
}

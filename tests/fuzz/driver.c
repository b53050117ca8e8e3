/* driver.c: runs a libFuzzer target without libFuzzer, for `make check`.
 * It feeds the target every file of its committed corpus
 * (tests/fuzz/corpus/<reader>/, broken files included), then seeded random
 * mutations of them (bit flips, byte and token insertions, deletions,
 * duplicated ranges, splices of two files, truncation) for a fixed count or
 * a time budget, whichever ends first. Each input sits in a buffer of its
 * exact size, so an ASan build (--enable-asan) catches any over-read. A
 * crash leaves the input in ./crash-<reader>-<n> and the seed reproduces it.
 *
 *   fuzz_voc [CORPUS_DIR]   env: FUZZ_ITERATIONS (10000), FUZZ_SECONDS (2),
 *                                FUZZ_SEED (1), FUZZ_MAX_LEN (65536)
 * Speaks TAP. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "core/rng.h"
#include "tests/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	uint8_t *data;
	size_t size;
};

/* Tokens that matter to at least one of the readers' grammars. */
static const char *const tokens[] = {
	"<annotation>", "</annotation>", "<object>", "</object>", "<bndbox>", "</bndbox>",
	"<xmin>", "</xmin>", "<ymax>", "<name>", "</name>", "<size>", "<width>", "<height>",
	"<difficult>1</difficult>", "<filename>", "<part>", "&amp;", "&#0;", "<![CDATA[", "]]>",
	"<!--", "-->", "<?xml version=\"1.0\"?>",
	"names:", "nc:", "path:", "train:", "val:", "  0: ", "- ", "[", "]", "{", "}", ": ", "\n",
	"\r\n", " ", "\t", "#", "---", "&a", "*a", "!!str ",
	"nan", "inf", "-1", "0", "1", "0.5", "1e309", "-0", "1.5", "999", "2147483648",
	"\"", "'", ",", "\xff\xfe", "\xc3\xa9",
};

static volatile sig_atomic_t crashing;
static const uint8_t *current;
static size_t current_size;
static char crash_path[256];

/* On a crash: save the input (async-signal-safe calls only), then die. */
static void on_crash(int sig)
{
	if (!crashing && current) {
		int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		crashing = 1;
		if (fd >= 0) {
			if (write(fd, current, current_size) < 0)
				(void)0;
			close(fd);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run(const uint8_t *data, size_t size, const char *reader, unsigned long n)
{
	/* an exact-size copy, so reading one byte past the end is caught */
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	snprintf(crash_path, sizeof crash_path, "crash-%s-%lu", reader, n);
	current = copy;
	current_size = size;
	LLVMFuzzerTestOneInput(copy, size);
	current = NULL;
	free(copy);
}

static int read_all(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	in->data = malloc(n > 0 ? (size_t)n : 1);
	in->size = n > 0 ? (size_t)n : 0;
	if (in->data == NULL || fread(in->data, 1, in->size, f) != in->size) {
		fclose(f);
		free(in->data);
		return -1;
	}
	fclose(f);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One random edit of buf (len bytes, room for cap) in place; returns the new length. */
static size_t mutate(struct rng *r, uint8_t *buf, size_t len, size_t cap, const struct input *corpus, size_t ncorpus)
{
	uint32_t what = rng_below(r, 8);
	size_t pos = len ? rng_below(r, (uint32_t)len + 1) : 0;

	switch (what) {
	case 0: /* flip a bit */
		if (len)
			buf[rng_below(r, (uint32_t)len)] ^= (uint8_t)(1u << rng_below(r, 8));
		return len;
	case 1: /* a random byte, often a digit or punctuation */
		if (len) {
			static const char pick[] = "0123456789.-+eE <>/&;:\"'\n\t{}[],#";
			uint8_t c = rng_below(r, 2) ? (uint8_t)pick[rng_below(r, sizeof pick - 1)] : (uint8_t)rng_u32(r);

			buf[rng_below(r, (uint32_t)len)] = c;
		}
		return len;
	case 2: { /* delete a range */
		size_t n = len > pos ? 1 + rng_below(r, (uint32_t)(len - pos < 64 ? len - pos : 64)) : 0;

		memmove(buf + pos, buf + pos + n, len - pos - n);
		return len - n;
	}
	case 3: { /* insert a token */
		const char *t = tokens[rng_below(r, sizeof tokens / sizeof tokens[0])];
		size_t n = strlen(t);

		if (len + n > cap)
			return len;
		memmove(buf + pos + n, buf + pos, len - pos);
		memcpy(buf + pos, t, n);
		return len + n;
	}
	case 4: { /* duplicate a range of itself */
		uint8_t tmp[256];
		size_t from, n;

		if (len == 0)
			return len;
		from = rng_below(r, (uint32_t)len);
		n = 1 + rng_below(r, (uint32_t)(len - from < sizeof tmp ? len - from : sizeof tmp));
		if (len + n > cap)
			return len;
		memcpy(tmp, buf + from, n);
		memmove(buf + pos + n, buf + pos, len - pos);
		memcpy(buf + pos, tmp, n);
		return len + n;
	}
	case 5: { /* splice: keep a head, append another file's tail */
		const struct input *o = &corpus[rng_below(r, (uint32_t)ncorpus)];
		size_t from = o->size ? rng_below(r, (uint32_t)o->size) : 0, n = o->size - from;

		if (pos + n > cap)
			n = cap - pos;
		memcpy(buf + pos, o->data + from, n);
		return pos + n;
	}
	case 6: /* truncate */
		return pos;
	default: { /* repeat one byte many times (long numbers, deep nesting) */
		size_t n = 1 + rng_below(r, 512);

		if (len == 0 || len + n > cap)
			return len;
		memmove(buf + pos + n, buf + pos, len - pos);
		memset(buf + pos, buf[rng_below(r, (uint32_t)len)], n);
		return len + n;
	}
	}
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 10) : def;
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *top = getenv("top_srcdir");
	unsigned long iterations = env_ulong("FUZZ_ITERATIONS", 10000);
	unsigned long seconds = env_ulong("FUZZ_SECONDS", 2);
	unsigned long seed = env_ulong("FUZZ_SEED", 1);
	size_t cap = env_ulong("FUZZ_MAX_LEN", 65536);
	char reader[64], dir[2048];
	char **names = NULL;
	struct input *corpus = NULL;
	size_t n = 0, ncap = 0;
	struct timespec t0, t1;
	struct rng r;
	unsigned long done = 0;
	uint8_t *buf;
	DIR *d;
	struct dirent *e;

	if (strncmp(prog, "lt-", 3) == 0)
		prog += 3;
	snprintf(reader, sizeof reader, "%s", strncmp(prog, "fuzz_", 5) == 0 ? prog + 5 : prog);
	if (argc > 1)
		snprintf(dir, sizeof dir, "%s", argv[1]);
	else
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top && *top ? top : ".", reader);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	signal(SIGABRT, on_crash);

	if ((d = opendir(dir)) == NULL) {
		ok(0, "%s: can't open the corpus %s", reader, dir);
		return tap_done();
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == ncap) {
			ncap = ncap ? 2 * ncap : 64;
			names = realloc(names, ncap * sizeof *names);
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_name);
	corpus = calloc(n ? n : 1, sizeof *corpus);
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (read_all(path, &corpus[i]) != 0) {
			ok(0, "%s: can't read %s", reader, path);
			return tap_done();
		}
		run(corpus[i].data, corpus[i].size, reader, i);
	}
	ok(n > 0, "%s: the %zu corpus files run without a crash", reader, n);
	if (n == 0)
		return tap_done();

	buf = malloc(cap);
	rng_init(&r, seed, 0xF022);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (done = 0; done < iterations; done++) {
		const struct input *in = &corpus[rng_below(&r, (uint32_t)n)];
		size_t len = in->size < cap ? in->size : cap;
		uint32_t edits = 1 + rng_below(&r, 4);

		memcpy(buf, in->data, len);
		for (uint32_t k = 0; k < edits; k++)
			len = mutate(&r, buf, len, cap, corpus, n);
		run(buf, len, reader, n + done);
		if ((done & 63) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec) >= (double)seconds)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(1, "%s: %lu mutated inputs (seed %lu) in %.2f s without a crash", reader, done, seed,
		(double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	free(buf);
	for (size_t i = 0; i < n; i++) {
		free(corpus[i].data);
		free(names[i]);
	}
	free(corpus);
	free(names);
	return tap_done();
}

/* main.c: the detbench command line. Parses options, picks a mode (the
 * workbench on a terminal, Lua from stdin, a headless run, a subcommand) and
 * is the only place that exits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/threads.h"
#include "data/doctor.h"
#include "eval/coco_eval.h"
#include "lua/host.h"
#include "train/run_cli.h"
#include "tui/tui.h"
#include "tui/watch.h"

/* Subcommands: `detbench NAME args...`. Each module adds its own line. */
struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the subcommand */
	const char *usage;
};

static const struct subcommand subcommands[] = {
	{ "run", run_cli_main, "run FILE.lua [--resume DIR] [ARGS...]   train a recipe headless (no screen)" },
	{ "eval", eval_cli_main, "eval GT.json RESULTS.json [--per-class] [--tide] [--json]   COCO evaluation" },
	{ "doctor", doctor_cli_main, "doctor [--json] [--split S] PATH   report on a dataset (COCO, VOC, YOLO)" },
	{ "watch", watch_main, "watch RUN_DIR   follow a run another process writes, on the screen" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: detbench [OPTIONS] [FILE.lua [ARGS...]]\n"
		"       detbench COMMAND [ARGS...]\n"
		"\n"
		"An interactive terminal workbench for training and debugging object\n"
		"detectors. With no FILE it opens the workbench: a Lua prompt with the\n"
		"`det` module loaded. With FILE it runs the file first. When standard\n"
		"input is not a terminal, Lua is read from it, without the screen.\n"
		"\n"
		"Commands:\n");
	for (const struct subcommand *c = subcommands; c->name; c++)
		fprintf(f, "  detbench %s\n", c->usage);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -e CODE          run CODE and exit (may be repeated; runs in order)\n"
		"  -i               open the prompt after -e or FILE even when it would exit\n"
		"  -t, --threads N  compute threads (default: $DETBENCH_THREADS or all CPUs)\n"
		"  -h, --help       show this help and exit\n"
		"  -V, --version    show the version and exit\n"
		"\n"
		"Environment: DETBENCH_THREADS, DETBENCH_LUA_DIR, XDG_STATE_HOME, NO_COLOR.\n"
		"See detbench(1) and the Lua API reference (help() at the prompt).\n");
}

/* Reads Lua from a non-terminal stdin: statements are gathered until they
 * parse, as typed at a prompt, and run one by one. Returns 1 if any failed. */
static int stdin_repl(struct host *h)
{
	char *buf = NULL, *line = NULL;
	size_t bufcap = 0, linecap = 0, buflen = 0;
	ssize_t n;
	int failed = 0, more = 0;

	while ((n = getline(&line, &linecap, stdin)) >= 0) {
		if (buflen + (size_t)n + 2 > bufcap) {
			bufcap = 2 * (buflen + (size_t)n + 2);
			buf = realloc(buf, bufcap);
			if (buf == NULL) {
				fputs("detbench: out of memory reading stdin\n", stderr);
				return 1;
			}
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (more)
			buf[buflen++] = '\n';
		memcpy(buf + buflen, line, (size_t)n + 1);
		buflen += (size_t)n;
		if (buflen == 0)
			continue;
		switch (host_eval(h, buf)) {
		case HOST_INCOMPLETE:
			more = 1;
			continue;
		case HOST_ERROR:
			failed = 1;
			break;
		case HOST_OK:
			break;
		}
		more = 0;
		buflen = 0;
	}
	if (more) {
		fprintf(stderr, "stdin: unexpected end of input in an unfinished statement:\n%.*s\n",
			(int)buflen, buf);
		failed = 1;
	}
	free(buf);
	free(line);
	return failed;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *code[64];
	int ncode = 0, interactive = 0, screen, opt, status = 0;
	struct host *h;

	/* A subcommand comes first and owns the rest of the line. */
	if (argc > 1) {
		for (const struct subcommand *c = subcommands; c->name; c++)
			if (strcmp(argv[1], c->name) == 0) {
				det_threads_set(det_threads_default());
				return c->main(argc - 1, argv + 1);
			}
	}
	/* '+': stop at the first non-option so FILE's own arguments are kept */
	while ((opt = getopt_long(argc, argv, "+e:it:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (ncode == (int)(sizeof code / sizeof code[0])) {
				fputs("detbench: too many -e options\n", stderr);
				return 2;
			}
			code[ncode++] = optarg;
			break;
		case 'i':
			interactive = 1;
			break;
		case 't': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end != '\0' || n < 1 || n > 1024) {
				fprintf(stderr, "detbench: --threads expects a number from 1 to 1024, got '%s'\n", optarg);
				return 2;
			}
			setenv("DETBENCH_THREADS", optarg, 1);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("detbench %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	det_threads_set(det_threads_default());
	if (optind < argc && access(argv[optind], R_OK) != 0) {
		fprintf(stderr, "detbench: can't read %s (%s)\n", argv[optind], strerror(errno));
		return 2;
	}

	h = host_new(NULL, NULL);
	if (h == NULL)
		return 1;
	/* The workbench opens before -e code and FILE run, so their output lands
	 * in its output area and Ctrl-C can stop them. */
	screen = (ncode == 0 || interactive) && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (screen)
		tui_open(h);
	for (int i = 0; i < ncode && status == 0; i++)
		if (host_dostring(h, code[i], "=(command line)") != HOST_OK)
			status = 1;
	if (status == 0 && optind < argc) {
		if (host_dofile(h, argv[optind], argc - optind, argv + optind) != HOST_OK)
			status = 1;
	}
	/* -e alone exits, like lua -e; otherwise (or with -i) open the prompt */
	if (ncode == 0 || interactive) {
		if (screen) {
			int tui_status = tui_run(h); /* 129 after SIGHUP, 143 after SIGTERM */

			status = tui_status ? tui_status : status;
		} else
			status = stdin_repl(h) || status;
	}
	host_free(h);
	return status;
}

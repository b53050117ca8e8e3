/* history.c: loading and saving the prompt history (see history.h). */
#include "tui/history.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>

#include "core/atomic.h"
#include "core/error.h"

char *tui_history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *path;
	size_t n;

	if (state && state[0] == '/') {
		n = strlen(state) + sizeof "/detbench/history";
		if ((path = malloc(n)) != NULL)
			snprintf(path, n, "%s/detbench/history", state);
		return path;
	}
	if (home == NULL || home[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (home == NULL) {
		det_error_set(DET_EINVAL, "no home directory for the history file (set HOME or XDG_STATE_HOME)");
		return NULL;
	}
	n = strlen(home) + sizeof "/.local/state/detbench/history";
	if ((path = malloc(n)) != NULL)
		snprintf(path, n, "%s/.local/state/detbench/history", home);
	return path;
}

int tui_history_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return errno == ENOENT ? 0 : det_error_set(DET_EIO, "can't read the history file %s (%s)", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *w = line;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		for (char *r = line; *r; r++) {
			if (*r == '\\' && r[1] == 'n')
				*w++ = '\n', r++;
			else if (*r == '\\' && r[1] == '\\')
				*w++ = '\\', r++;
			else
				*w++ = *r;
		}
		*w = '\0';
		if (line[0])
			add_history(line);
	}
	free(line);
	fclose(f);
	stifle_history(TUI_HISTORY_MAX);
	return 0;
}

/* mkdir -p for the directories above path. */
static int make_parents(const char *path)
{
	char *dir = strdup(path);

	if (dir == NULL)
		return det_error_set(DET_ENOMEM, "out of memory saving the history");
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			int code = det_error_set(DET_EIO, "couldn't create directory %s (%s)", dir, strerror(errno));

			free(dir);
			return code;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

int tui_history_save(const char *path)
{
	HIST_ENTRY **list = history_list();
	int count = history_length, first = count > TUI_HISTORY_MAX ? count - TUI_HISTORY_MAX : 0;
	struct atomic_file af;
	FILE *f;

	if (make_parents(path) != 0)
		return DET_EIO;
	if (atomic_file_open(&af, path) != 0)
		return det_error_set(DET_EIO, "the history file: %s", det_error_message());
	f = af.f;
	fchmod(fileno(f), 0600); /* what was typed stays private */
	for (int i = first; list && i < count; i++) {
		for (const char *s = list[i]->line; *s; s++) {
			if (*s == '\n')
				fputs("\\n", f);
			else if (*s == '\\')
				fputs("\\\\", f);
			else
				fputc(*s, f);
		}
		fputc('\n', f);
	}
	if (atomic_file_commit(&af) != 0)
		return det_error_set(DET_EIO, "the history file: %s", det_error_message());
	return 0;
}

/* tui.c: interim line prompt (readline, no curses) until the screen lands. */
#include "tui/tui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "lua/host.h"

int tui_run(struct host *h)
{
	char *buf = NULL;
	char *line;

	while ((line = readline(buf ? ">> " : "> ")) != NULL) {
		size_t n = (buf ? strlen(buf) + 1 : 0) + strlen(line) + 1;
		char *joined = malloc(n);

		snprintf(joined, n, "%s%s%s", buf ? buf : "", buf ? "\n" : "", line);
		free(buf);
		free(line);
		buf = NULL;
		if (host_eval(h, joined) == HOST_INCOMPLETE)
			buf = joined;
		else {
			add_history(joined);
			free(joined);
		}
	}
	free(buf);
	return 0;
}

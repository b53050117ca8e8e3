/* torch_peer.c: start a PyTorch reference script as a coprocess. */
#include "bench/torch_peer.h"

#include <string.h>
#include <sys/types.h>
#include <unistd.h>

void torch_peer_start(struct torch_peer *p, const char *script, int threads, int n, int hw)
{
	int p_in[2], p_out[2];
	char line[256];

	p->to = p->from = NULL;
	if (access("/usr/bin/python3", X_OK) != 0 || pipe(p_in) != 0)
		return;
	if (pipe(p_out) != 0) {
		close(p_in[0]), close(p_in[1]);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char a[16], b[16], c[16];

		dup2(p_in[0], 0);
		dup2(p_out[1], 1);
		close(p_in[1]);
		close(p_out[0]);
		snprintf(a, sizeof a, "%d", threads);
		snprintf(b, sizeof b, "%d", n);
		snprintf(c, sizeof c, "%d", hw);
		execl("/usr/bin/python3", "python3", script, a, b, c, (char *)NULL);
		_exit(127);
	}
	close(p_in[0]);
	close(p_out[1]);
	p->to = fdopen(p_in[1], "w");
	p->from = fdopen(p_out[0], "r");
	while (p->from && fgets(line, sizeof line, p->from) && strncmp(line, "ready", 5))
		if (line[0] == '#') {
			fputs(line, stdout);
			fclose(p->from);
			p->from = NULL;
		}
	if (!p->from && p->to) {
		fclose(p->to);
		p->to = NULL;
	}
}

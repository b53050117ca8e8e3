/* fatal_probe.c: brings the workbench screen up and trips an internal
 * assertion, for tests/tmux/fatal.sh: the terminal must be restored before
 * the message is printed and the program aborts. */
#include <stdio.h>

#include "core/error.h"
#include "lua/host.h"
#include "tui/tui.h"

int main(int argc, char **argv)
{
	struct host *h = host_new(NULL, NULL);

	(void)argv;
	if (h == NULL || tui_open(h) != 0)
		return 1;
	host_dostring(h, "print('probe is up')", "=probe");
	DET_ASSERT(argc < 0, "the probe trips this on purpose (argc %d)", argc);
	return 0;
}

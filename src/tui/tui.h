/* tui.h: the workbench screen: a full-screen ncurses view with an output
 * area, room for live panels, and the Lua prompt (readline's callback
 * interface) at the bottom. */
#ifndef DET_TUI_TUI_H
#define DET_TUI_TUI_H

struct host;

/* Runs the interactive workbench on the terminal until the user quits
 * (Ctrl-D or os.exit()). Returns the process exit status. */
int tui_run(struct host *h);

#endif

/* status.h: the status bar, one row: the program and its state on the left,
 * free text for later issues (run, epoch, loss...) in the middle, key hints
 * on the right (dropped first when the terminal is narrow). */
#ifndef DET_TUI_STATUS_H
#define DET_TUI_STATUS_H

#include "tui/panel.h"

extern const struct panel_class status_panel_class;

enum status_field {
	STATUS_STATE, /* "ready", "running"... (highlighted) */
	STATUS_INFO,  /* what the running work reports */
	STATUS_HINT,  /* keys worth knowing now: alternatives, longest first,
	               * separated by tabs; the first that fits is shown */
	STATUS_NFIELDS
};

void *status_state_new(const char *title);
/* Sets a field (copied; NULL clears it) and marks the bar dirty if it changed. */
void status_set(struct panel *p, enum status_field f, const char *text);

#endif

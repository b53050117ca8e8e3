/* history.h: the prompt's history file. One entry per line, with "\\" and
 * newlines escaped ("\\\\", "\\n") so a multi-line entry stays whole; written
 * atomically (temporary file, fsync, rename) so a crash never truncates it. */
#ifndef DET_TUI_HISTORY_H
#define DET_TUI_HISTORY_H

#define TUI_HISTORY_MAX 1000

/* $XDG_STATE_HOME/detbench/history, or ~/.local/state/detbench/history when
 * XDG_STATE_HOME is unset or not absolute. Returns a malloc'd path, or NULL
 * with det_error_message() set when there is no home directory. */
char *tui_history_path(void);

/* Adds the file's entries to readline's history list. A missing file is
 * not an error (0); a file that cannot be read returns DET_EIO. */
int tui_history_load(const char *path);

/* Writes readline's history list (its last TUI_HISTORY_MAX entries), making
 * the directory (mode 0700) when needed. Returns 0 or DET_EIO with a
 * message naming the file and the reason. */
int tui_history_save(const char *path);

#endif

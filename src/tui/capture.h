/* capture.h: while the screen is up, what C code (and child processes)
 * write to file descriptors 1 and 2 goes into pipes that a small thread
 * empties into a buffer, so a chatty library can neither scribble over the
 * screen nor block on a full pipe; the main thread moves the text into the
 * output panel. Standard error is captured only when it is the terminal. */
#ifndef DET_TUI_CAPTURE_H
#define DET_TUI_CAPTURE_H

#include <stddef.h>

struct capture;

typedef void (*capture_sink_fn)(void *ctx, int is_stderr, const char *text, size_t len);

/* Redirects fd 1 (and fd 2 when it is a terminal). Returns NULL with
 * det_error_message() set when pipes or the thread cannot be made (the
 * caller then runs without capture). */
struct capture *capture_start(void);

/* Hands everything captured so far to sink (main thread only). */
void capture_drain(struct capture *c, capture_sink_fn sink, void *ctx);

/* Puts the original descriptors back. Only dup2(): safe on the fatal path
 * and from any thread; capture_stop still has to run to free. */
void capture_restore_fds(struct capture *c);

/* Restores the descriptors, stops the thread, writes text captured since
 * the last drain to the restored descriptors, and frees c. NULL is a no-op. */
void capture_stop(struct capture *c);

#endif

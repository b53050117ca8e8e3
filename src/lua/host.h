/* host.h: the Lua host behind the prompt, `detbench run` and `-e`.
 *
 * It owns one lua_State with the standard libraries and `det` preloaded, runs
 * every chunk under lua_pcall with a traceback handler (an error never ends
 * the session), prints expression values through det.pretty, tells an
 * incomplete statement from a wrong one (as lua.c does), and turns Ctrl-C
 * into a Lua error at the next instruction without touching the state from
 * the signal handler. Output goes through a sink so the terminal screen can
 * show it in its output panel. */
#ifndef DET_LUA_HOST_H
#define DET_LUA_HOST_H

#include <stddef.h>

#include <lua.h>

struct host;

/* Where printed text goes: is_error marks error messages (drawn in red). */
typedef void (*host_sink_fn)(void *ctx, const char *text, size_t len, int is_error);

enum host_result {
	HOST_OK = 0,
	HOST_INCOMPLETE = 1, /* the input needs more lines */
	HOST_ERROR = 2,      /* it raised an error (already printed) */
};

/* Creates the host. sink may be NULL (stdout/stderr). Returns NULL with a
 * message on stderr when Lua cannot start (out of memory). */
struct host *host_new(host_sink_fn sink, void *ctx);
void host_free(struct host *h);
lua_State *host_lua(struct host *h);
void host_set_sink(struct host *h, host_sink_fn sink, void *ctx);

/* Writes text through the sink. */
void host_write(struct host *h, const char *text, size_t len, int is_error);
void host_printf(struct host *h, int is_error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs what was typed at the prompt: first as `return <input>` so a bare
 * expression prints its value, then as statements. Prints values and errors.
 * HOST_INCOMPLETE means the caller should read another line and call again
 * with the lines joined by "\n". */
enum host_result host_eval(struct host *h, const char *input);

/* Runs a chunk of code (`-e`) or a file with the global `arg` set to argv
 * (argv[0] is the script, as lua.c does). A value the file returns (a recipe
 * returns its experiment) is kept in the global `recipe`. Errors are printed
 * with a traceback. */
enum host_result host_dostring(struct host *h, const char *code, const char *chunkname);
enum host_result host_dofile(struct host *h, const char *path, int argc, char **argv);

/* Asks the running chunk to stop with an "interrupted" error. Async-signal
 * safe: call it from a SIGINT handler. */
void host_interrupt(struct host *h);
/* Installs a SIGINT handler that calls host_interrupt on h while a chunk runs
 * and restores the previous handler afterwards. */
void host_catch_sigint(struct host *h, int enable);

#endif

/* host.c: the Lua host. Error handling, incomplete-input detection and the
 * interrupt hook follow lua.c (Lua 5.4's stand-alone interpreter). */
#include "lua/host.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/ldet.h"

struct host {
	lua_State *L;
	host_sink_fn sink;
	void *ctx;
};

/* The host that a SIGINT interrupts (one per process). */
static struct host *volatile sigint_host;
static struct sigaction sigint_previous;

static const char host_key = 'h'; /* registry key for the struct host */

static struct host *host_from(lua_State *L)
{
	struct host *h;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &host_key);
	h = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return h;
}

static void stdio_sink(void *ctx, const char *text, size_t len, int is_error)
{
	FILE *f = is_error ? stderr : stdout;

	(void)ctx;
	fwrite(text, 1, len, f);
	fflush(f);
}

void host_write(struct host *h, const char *text, size_t len, int is_error)
{
	h->sink(h->ctx, text, len, is_error);
}

void host_printf(struct host *h, int is_error, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	host_write(h, buf, (size_t)n, is_error);
}

/* print(...) routed through the sink: the screen shows it in its panel. */
static int host_print(lua_State *L)
{
	struct host *h = host_from(L);
	int n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	{
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		host_write(h, s, len, 0);
	}
	return 0;
}

/* Message handler: appends a traceback, as lua.c's msghandler does. */
static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void lstop(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted!");
}

void host_interrupt(struct host *h)
{
	int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;

	/* lua_sethook is the one Lua call documented as safe from a signal. */
	lua_sethook(h->L, lstop, flag, 1);
}

static void on_sigint(int sig)
{
	(void)sig;
	if (sigint_host)
		host_interrupt(sigint_host);
}

void host_catch_sigint(struct host *h, int enable)
{
	if (enable) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_sigint;
		sigemptyset(&sa.sa_mask);
		sigint_host = h;
		sigaction(SIGINT, &sa, &sigint_previous);
	} else {
		sigaction(SIGINT, &sigint_previous, NULL);
		sigint_host = NULL;
		lua_sethook(h->L, NULL, 0, 0);
	}
}

/* Runs the function on top of the stack with nargs arguments under a
 * traceback handler; prints the error and returns HOST_ERROR on failure.
 * Leaves the results on the stack on success. */
static enum host_result docall(struct host *h, int nargs, int nresults)
{
	lua_State *L = h->L;
	int base = lua_gettop(L) - nargs;
	int status;

	lua_pushcfunction(L, msghandler);
	lua_insert(L, base);
	host_catch_sigint(h, 1);
	status = lua_pcall(L, nargs, nresults, base);
	host_catch_sigint(h, 0);
	lua_remove(L, base);
	if (status != LUA_OK) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);

		if (msg == NULL)
			msg = "(error object is not a string)", len = strlen(msg);
		host_write(h, msg, len, 1);
		host_write(h, "\n", 1, 1);
		lua_pop(L, 1);
		return HOST_ERROR;
	}
	return HOST_OK;
}

/* Prints the values on the stack above `base` with det.pretty (falling back
 * to tostring when the pretty-printer itself fails), tab-separated. */
static void print_values(struct host *h, int base)
{
	lua_State *L = h->L;
	int n = lua_gettop(L) - base;

	if (n <= 0)
		return;
	lua_getglobal(L, "__det_pretty");
	if (lua_isfunction(L, -1)) {
		lua_insert(L, base + 1);
		if (docall(h, n, 1) == HOST_OK) {
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);

			if (s) {
				host_write(h, s, len, 0);
				host_write(h, "\n", 1, 0);
			}
		}
		lua_settop(L, base);
		return;
	}
	lua_pop(L, 1);
	lua_getglobal(L, "print");
	lua_insert(L, base + 1);
	docall(h, n, 0);
	lua_settop(L, base);
}

/* An incomplete chunk's syntax error ends with the EOF mark, as in lua.c. */
static int incomplete(lua_State *L, int status)
{
	if (status == LUA_ERRSYNTAX) {
		size_t lmsg;
		const char *msg = lua_tolstring(L, -1, &lmsg);
		static const char eof[] = "<eof>";

		if (lmsg >= sizeof eof - 1 && strcmp(msg + lmsg - (sizeof eof - 1), eof) == 0)
			return 1;
	}
	return 0;
}

/* The length of a method reference such as `exp:train` or `r:failures`
 * (a dotted name with one ':', then only blanks), else 0. It is not an
 * expression, so `? exp:train` hands it to help as a string, which finds
 * the method's entry by its receiver (lua/det/help.lua). */
static size_t method_ref_len(const char *s)
{
	size_t n = 0;
	int colons = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
	       s[n] == '_' || s[n] == '.' || s[n] == ':') {
		colons += s[n] == ':';
		n++;
	}
	for (size_t i = n; s[i]; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
			return 0;
	return colons == 1 && s[n - 1] != ':' ? n : 0;
}

enum host_result host_eval(struct host *h, const char *input)
{
	lua_State *L = h->L;
	int base = lua_gettop(L);
	const char *code = input;
	int status;

	/* `? name` and `=expr` are prompt shorthands. */
	while (*code == ' ' || *code == '\t')
		code++;
	if (code[0] == '?') {
		const char *name = code + 1 + strspn(code + 1, " \t");
		size_t len = method_ref_len(name);

		if (len > 0) {
			lua_pushliteral(L, "help(\"");
			lua_pushlstring(L, name, len);
			lua_pushliteral(L, "\")");
			lua_concat(L, 3);
		} else {
			lua_pushfstring(L, "help(%s)", code + 1);
		}
		code = lua_tostring(L, -1); /* kept alive at base + 1 */
	} else if (code[0] == '=') {
		code++;
	}
	lua_pushfstring(L, "return %s;", code);
	status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
	lua_remove(L, -2); /* the "return ..." string */
	if (status != LUA_OK) {
		lua_pop(L, 1);
		status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
		if (status != LUA_OK) {
			int more = incomplete(L, status);

			if (!more) {
				size_t len;
				const char *msg = lua_tolstring(L, -1, &len);

				host_write(h, msg, len, 1);
				host_write(h, "\n", 1, 1);
			}
			lua_settop(L, base);
			return more ? HOST_INCOMPLETE : HOST_ERROR;
		}
	}
	/* the chunk is on top; run it with the results above `top` */
	{
		int top = lua_gettop(L) - 1;

		if (docall(h, 0, LUA_MULTRET) == HOST_OK)
			print_values(h, top);
		else
			status = -1;
	}
	lua_settop(L, base);
	return status == LUA_OK ? HOST_OK : HOST_ERROR;
}

enum host_result host_dostring(struct host *h, const char *code, const char *chunkname)
{
	lua_State *L = h->L;
	int base = lua_gettop(L);
	enum host_result r;

	if (luaL_loadbuffer(L, code, strlen(code), chunkname) != LUA_OK) {
		host_printf(h, 1, "%s\n", lua_tostring(L, -1));
		lua_settop(L, base);
		return HOST_ERROR;
	}
	r = docall(h, 0, 0);
	lua_settop(L, base);
	return r;
}

enum host_result host_dofile(struct host *h, const char *path, int argc, char **argv)
{
	lua_State *L = h->L;
	int base = lua_gettop(L);
	enum host_result r;

	lua_createtable(L, argc, 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setglobal(L, "arg");
	if (luaL_loadfile(L, path) != LUA_OK) {
		host_printf(h, 1, "%s\n", lua_tostring(L, -1));
		lua_settop(L, base);
		return HOST_ERROR;
	}
	for (int i = 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	r = docall(h, argc > 1 ? argc - 1 : 0, 1);
	if (r == HOST_OK && !lua_isnil(L, -1)) {
		lua_setglobal(L, "recipe");
	}
	lua_settop(L, base);
	return r;
}

/* Where the Lua half of `det` lives: $DETBENCH_LUA_DIR, the source tree when
 * running from the build tree, or the installed directory. */
static void set_lua_path(lua_State *L)
{
	const char *dir = getenv("DETBENCH_LUA_DIR");
	char exe[4096];
	ssize_t n;

	if (dir == NULL) {
		dir = DET_LUADIR;
		n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n > 0) {
			char probe[4200];
			FILE *f;

			exe[n] = '\0';
			/* a build-tree binary: the sources are where configure ran */
			snprintf(probe, sizeof probe, "%s/det/init.lua", DET_SRC_LUADIR);
			if (strncmp(exe, "/usr", 4) != 0 && (f = fopen(probe, "r"))) {
				fclose(f);
				dir = DET_SRC_LUADIR;
			}
		}
	}
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

struct host *host_new(host_sink_fn sink, void *ctx)
{
	struct host *h = calloc(1, sizeof *h);

	if (h == NULL || (h->L = luaL_newstate()) == NULL) {
		fputs("detbench: cannot start Lua (out of memory)\n", stderr);
		free(h);
		return NULL;
	}
	host_set_sink(h, sink, ctx);
	luaL_openlibs(h->L);
	lua_pushlightuserdata(h->L, h);
	lua_rawsetp(h->L, LUA_REGISTRYINDEX, &host_key);
	lua_pushcfunction(h->L, host_print);
	lua_setglobal(h->L, "print");
	set_lua_path(h->L);

	/* det.core is linked in; `det` itself is lua/det/init.lua */
	luaL_getsubtable(h->L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(h->L, det_lua_open_core);
	lua_setfield(h->L, -2, "det.core");
	lua_pop(h->L, 1);
	host_dostring(h,
		"det = require 'det'\n"
		"__det_pretty = det.pretty.values\n"
		"help = det.help\n",
		"=(detbench startup)");
	return h;
}

void host_free(struct host *h)
{
	if (h == NULL)
		return;
	lua_close(h->L);
	free(h);
}

lua_State *host_lua(struct host *h)
{
	return h->L;
}

void host_set_sink(struct host *h, host_sink_fn sink, void *ctx)
{
	h->sink = sink ? sink : stdio_sink;
	h->ctx = ctx;
}

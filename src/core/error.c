/* error.c: the per-thread error message and the fatal path. */
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char err_message[1024];
static _Thread_local int err_code;
static void (*fatal_hook)(void);

int det_error_vset(int code, const char *fmt, va_list ap)
{
	vsnprintf(err_message, sizeof err_message, fmt, ap);
	err_code = code;
	return code;
}

int det_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	det_error_vset(code, fmt, ap);
	va_end(ap);
	return code;
}

const char *det_error_message(void)
{
	return err_message;
}

int det_error_code(void)
{
	return err_code;
}

void det_error_clear(void)
{
	err_message[0] = '\0';
	err_code = DET_OK;
}

const char *det_status_name(int code)
{
	switch (code) {
	case DET_OK: return "success";
	case DET_ENOMEM: return "out of memory";
	case DET_EIO: return "I/O error";
	case DET_EINVAL: return "invalid argument";
	case DET_EFORMAT: return "malformed input";
	case DET_EINTR: return "interrupted";
	case DET_ENUM: return "non-finite number";
	}
	return "unknown error";
}

void det_fatal_hook_set(void (*fn)(void))
{
	fatal_hook = fn;
}

void det_fatal(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	void (*hook)(void) = fatal_hook;

	fatal_hook = NULL; /* a failing hook must not recurse */
	if (hook)
		hook();
	fprintf(stderr, "detbench: internal error at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nThis is a bug in detbench; please report it with the command that caused it.\n", stderr);
	abort();
}

/* error.h: status codes, a per-thread error message, and the always-on
 * assertion used for bugs (never for errors a user can cause).
 *
 * Library code returns 0 or a negative DET_E* code and leaves a message
 * that names the file, record and reason in det_error_message(). */
#ifndef DET_CORE_ERROR_H
#define DET_CORE_ERROR_H

#include <stdarg.h>

enum det_status {
	DET_OK = 0,
	DET_ENOMEM = -1,  /* an allocation failed */
	DET_EIO = -2,     /* a file could not be read or written */
	DET_EINVAL = -3,  /* an argument or configuration is wrong */
	DET_EFORMAT = -4, /* input data is malformed */
	DET_EINTR = -5,   /* interrupted by the user */
	DET_ENUM = -6,    /* a NaN or Inf appeared */
};

/* Records a printf-style message for this thread and returns code, so a
 * failing path reads `return det_error_set(DET_EIO, "can't open %s (%s)", ...)`. */
int det_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int det_error_vset(int code, const char *fmt, va_list ap);
/* The last message recorded on this thread ("" when none). */
const char *det_error_message(void);
/* The last code recorded on this thread (DET_OK when none). */
int det_error_code(void);
void det_error_clear(void);
/* A short name for a status code ("I/O error"). */
const char *det_status_name(int code);

/* Runs before an assertion aborts: the terminal layer registers a function
 * that restores the screen so the message is readable. */
void det_fatal_hook_set(void (*fn)(void));
_Noreturn void det_fatal(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Always on, in every build: a failed check is a bug in detbench. */
#define DET_ASSERT(cond, ...)                                          \
	do {                                                               \
		if (!(cond))                                                   \
			det_fatal(__FILE__, __LINE__, "assertion '" #cond          \
			          "' failed: " __VA_ARGS__);                      \
	} while (0)

#endif

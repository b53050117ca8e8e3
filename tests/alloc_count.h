/* alloc_count.h: counts malloc, calloc and realloc calls in a test program
 * linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (see the
 * test's LDFLAGS in its local.mk). Include it in ONE file of the program;
 * `nalloc` is the number of calls so far, so a steady state that must not
 * allocate reads it before and after. */
#ifndef DETBENCH_TESTS_ALLOC_COUNT_H
#define DETBENCH_TESTS_ALLOC_COUNT_H

#include <stddef.h>

static long nalloc;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) { nalloc++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { nalloc++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { nalloc++; return __real_realloc(p, n); }

#endif

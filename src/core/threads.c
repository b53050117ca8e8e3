/* threads.c: applies the thread-count policy to OpenBLAS and OpenMP. */
#include "core/threads.h"

#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

void openblas_set_num_threads(int n);

static int current_threads;

void det_threads_set(int n)
{
	if (n < 1)
		n = 1;
	current_threads = n;
	openblas_set_num_threads(n);
	omp_set_num_threads(n);
}

int det_threads_get(void)
{
	if (current_threads == 0)
		det_threads_set(det_threads_default());
	return current_threads;
}

int det_threads_default(void)
{
	const char *env = getenv("DETBENCH_THREADS");
	long n;

	if (env && (n = strtol(env, NULL, 10)) > 0)
		return (int)n;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

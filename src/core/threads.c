/* threads.c: applies the thread-count policy to OpenBLAS and OpenMP. */
#include "core/threads.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

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

/* OpenBLAS 0.3.21 (Debian 12) does not know recent Intel server CPUs (e.g.
 * family 6 model 207, Emerald Rapids) and falls back to its Prescott SSE3
 * kernels: sgemm runs ~5x slower (14 vs 74 GFLOP/s on one core here). When
 * that happened and the user did not choose a core type, pick the kernels
 * the CPU can run (SkylakeX for AVX-512, Haswell for AVX2) and re-initialise
 * OpenBLAS's dispatch table. It runs once, when the library loads, before
 * any matrix product. */
__attribute__((constructor)) static void det_blas_tune(void)
{
	const char *target = NULL;

	if (getenv("OPENBLAS_CORETYPE") != NULL)
		return;
	if (strcmp(openblas_get_corename(), "Prescott") != 0)
		return;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
	    && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		target = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		target = "Haswell";
	if (target == NULL)
		return;
	setenv("OPENBLAS_CORETYPE", target, 0);
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
}

const char *det_blas_corename(void)
{
	return openblas_get_corename();
}

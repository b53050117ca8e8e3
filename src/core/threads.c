/* threads.c: applies the thread-count policy to OpenBLAS and OpenMP. */
#include "core/threads.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

/* read by every thread that runs a loop; 0 until the first set or get */
static atomic_int current_threads;
static _Atomic int64_t grain = DET_THREADS_GRAIN;

void det_threads_set(int n)
{
	if (n < 1)
		n = 1;
	atomic_store_explicit(&current_threads, n, memory_order_relaxed);
	openblas_set_num_threads(n);
	omp_set_num_threads(n);
}

int det_threads_get(void)
{
	int n = atomic_load_explicit(&current_threads, memory_order_relaxed);

	if (n == 0) {
		det_threads_set(det_threads_default());
		n = atomic_load_explicit(&current_threads, memory_order_relaxed);
	}
	return n;
}

int det_threads_for(int64_t work)
{
	const int64_t g = atomic_load_explicit(&grain, memory_order_relaxed);
	const int max = det_threads_get();

	if (max == 1 || work < 2 * g)
		return 1;
	return work / g >= max ? max : (int)(work / g);
}

int64_t det_threads_grain(void)
{
	return atomic_load_explicit(&grain, memory_order_relaxed);
}

void det_threads_set_grain(int64_t units)
{
	atomic_store_explicit(&grain, units < 1 ? 1 : units, memory_order_relaxed);
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

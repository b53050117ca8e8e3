/* threads.h: the one thread-count policy. OpenBLAS runs matrix products with
 * its own threads, OpenMP runs element-wise loops; both are set to the same
 * count and never run at the same time, so the cores are never oversubscribed.
 * Matrix products inside the conv kernels run single-threaded sgemm, one per
 * OpenMP thread over cache-sized blocks (OpenBLAS's own threads only when a
 * call has fewer blocks than threads), so OpenBLAS's workers, which spin
 * after each threaded call, rarely exist. OpenMP waits passively: every
 * executable re-executes itself once with OMP_WAIT_POLICY=passive unless the
 * environment chose a policy (src/core/threads_preinit.c); a spinning
 * teammate costs 2x on a loaded machine. A host that loads the Lua module
 * (lua5.4) should export OMP_WAIT_POLICY=passive itself. */
#ifndef DET_CORE_THREADS_H
#define DET_CORE_THREADS_H

/* Sets the number of compute threads (>= 1) for OpenBLAS and OpenMP. */
void det_threads_set(int n);
/* The number in force. */
int det_threads_get(void);
/* The initial count: $DETBENCH_THREADS, else the number of online CPUs. */
int det_threads_default(void);

/* The OpenBLAS kernel set in use ("SkylakeX", "Haswell", ...). When
 * OpenBLAS does not recognise the CPU and the user set no OPENBLAS_CORETYPE,
 * detbench selects the best set the CPU supports when it loads. */
const char *det_blas_corename(void);

#endif

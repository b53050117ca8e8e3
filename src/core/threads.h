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
 * (lua5.4) should export OMP_WAIT_POLICY=passive itself.
 *
 * Waking a passive teammate and joining it again costs tens of
 * microseconds (futex wake, the wake-up of an idle virtual CPU), as much as
 * a whole loop over a small model's tensor. So loops outside the conv
 * kernels ask det_threads_for(work) for their team: one thread per grain of
 * work, never more than the count in force; a loop below one grain runs on
 * the calling thread and wakes nobody. The count is read on every call,
 * from any thread (OpenMP's own setting is per thread: a trainer thread
 * would not see det_threads_set()). */
#ifndef DET_CORE_THREADS_H
#define DET_CORE_THREADS_H

#include <stdint.h>

/* Sets the number of compute threads (>= 1) for OpenBLAS and OpenMP. */
void det_threads_set(int n);
/* The number in force. */
int det_threads_get(void);
/* The initial count: $DETBENCH_THREADS, else the number of online CPUs. */
int det_threads_default(void);

/* The team for a parallel loop of about `work` units, for a num_threads()
 * clause: work / grain threads, at least 1, at most det_threads_get(). A
 * unit is about 0.1 ns of one core's time: a float read or written by a
 * plain vectorised loop; loops doing more per float (exp, division, index
 * arithmetic) or per row count more. A team size never changes results:
 * every loop that uses it gives each output to one thread. */
int det_threads_for(int64_t work);
/* The grain in units (DET_THREADS_GRAIN unless set); tests set 1 so that
 * every loop of two or more iterations is split, as on a big input. */
int64_t det_threads_grain(void);
void det_threads_set_grain(int64_t units);
/* Work worth a thread of its own, about 50 us: on a 2-core virtual machine
 * a passive wake-up and join cost 10-40 us, and a loop split in two gained
 * only from about 90 us of serial time (bench/README.md, session 5). */
#define DET_THREADS_GRAIN ((int64_t)1 << 19)

/* The OpenBLAS kernel set in use ("SkylakeX", "Haswell", ...). When
 * OpenBLAS does not recognise the CPU and the user set no OPENBLAS_CORETYPE,
 * detbench selects the best set the CPU supports when it loads. */
const char *det_blas_corename(void);

#endif

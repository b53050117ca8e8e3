/* threads_preinit.c: the OpenMP wait policy, linked into detbench's
 * executables only (not into libdetbench or the Lua module).
 *
 * libgomp's default wait policy spins (GOMP_SPINCOUNT 300000 `pause`
 * instructions, milliseconds on CPUs with a slow `pause`) at every barrier
 * and between parallel regions. On a shared machine the teammate being
 * waited for is often descheduled and the spinning thread holds the core it
 * needs: the ResNet-18 step took 14.6-15.2 s spinning against 5.3-6.5 s
 * passive at load 11-16 on 2 cores (bench/README.md).
 *
 * libgomp reads its environment once, in its own constructor, before any
 * of ours; and a .preinit_array setenv() is lost when libc's initialiser
 * resets `environ` to the startup block. So when the environment names no
 * policy, this constructor adds OMP_WAIT_POLICY=passive and executes the
 * program again (same pid, same argv) before main runs; a choice already in
 * the environment (OMP_WAIT_POLICY or GOMP_SPINCOUNT, e.g. `active` for
 * benchmarks on a quiet machine) is kept and nothing is re-executed. */
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void det_threads_wait_policy(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc < 1 || argv == NULL || getenv("OMP_WAIT_POLICY") != NULL || getenv("GOMP_SPINCOUNT") != NULL)
		return;
	if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* no /proc: run on with libgomp's default policy */
}

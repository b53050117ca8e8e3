/* threads_preinit.c: the OpenMP wait policy, linked into detbench's
 * executables only (a .preinit_array entry is not allowed in a shared object,
 * so it is not part of libdetbench / the Lua module).
 *
 * libgomp's default wait policy spins (GOMP_SPINCOUNT 300000 pause
 * instructions, tens of milliseconds on CPUs with a slow `pause`) at every
 * barrier and between parallel regions. On a shared machine the teammate
 * being waited for is often descheduled, and the spinning thread occupies
 * the core it needs: the ResNet-18 step took 5.7-6.4 s spinning against
 * 2.8 s passive at load ~8 on 2 cores. libgomp reads its environment in its
 * own constructor, before any of ours runs; a preinit function runs before
 * every shared library's constructor, so this is the one place the policy
 * can be chosen in-process. A choice already in the environment wins. */
#include <stdlib.h>

static void det_threads_preinit(void)
{
	if (getenv("OMP_WAIT_POLICY") == NULL && getenv("GOMP_SPINCOUNT") == NULL)
		setenv("OMP_WAIT_POLICY", "passive", 0);
}

__attribute__((section(".preinit_array"), used)) static void (*const det_threads_preinit_p)(void) =
	det_threads_preinit;

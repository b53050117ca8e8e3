/* test_threads.c: det_threads_for() — team sizes from work, the cap, and a
 * thread that is not the one that called det_threads_set() (a trainer
 * thread) running its loops with the count in force. */
#include <omp.h>
#include <pthread.h>

#include "core/threads.h"
#include "tests/tap.h"

static void *team_in_thread(void *arg)
{
	int *team = arg;

#pragma omp parallel num_threads(det_threads_for(64 * DET_THREADS_GRAIN))
	{
#pragma omp single
		*team = omp_get_num_threads();
	}
	return NULL;
}

int main(void)
{
	const int64_t g = DET_THREADS_GRAIN;
	pthread_t th;
	int team = 0;

	det_threads_set(4);
	ok(det_threads_grain() == g, "the grain defaults to DET_THREADS_GRAIN (%lld units)", (long long)g);
	ok(det_threads_for(0) == 1 && det_threads_for(2 * g - 1) == 1, "below two grains: one thread");
	ok(det_threads_for(2 * g) == 2 && det_threads_for(3 * g + 5) == 3, "one thread per grain");
	ok(det_threads_for(100 * g) == 4, "never more than the count in force");
	det_threads_set_grain(1);
	ok(det_threads_for(2) == 2 && det_threads_for(1) == 1, "grain 1 (tests): every loop of 2 or more splits");
	det_threads_set_grain(0);
	ok(det_threads_grain() == 1, "a grain below 1 is taken as 1");
	det_threads_set_grain(g);
	det_threads_set(1);
	ok(det_threads_for(100 * g) == 1, "one thread in force: always 1");
	/* OpenMP's own count is per thread: a new thread would see the default */
	ok(pthread_create(&th, NULL, team_in_thread, &team) == 0 && pthread_join(th, NULL) == 0,
		"a second thread ran a loop");
	ok(team == 1, "another thread's loop honours det_threads_set(1) (team %d)", team);
	det_threads_set(2);
	ok(pthread_create(&th, NULL, team_in_thread, &team) == 0 && pthread_join(th, NULL) == 0 && team == 2,
		"and det_threads_set(2) (team %d)", team);
	return tap_done();
}

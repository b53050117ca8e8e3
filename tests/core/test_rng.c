/* test_rng.c: the seeded generator is deterministic, uniform and normal. */
#include <math.h>

#include "core/rng.h"
#include "tests/tap.h"

int main(void)
{
	struct rng a, b, c;
	double sum = 0, sumsq = 0;
	int same = 1, differ = 0, inrange = 1;
	unsigned counts[10] = { 0 };
	const int n = 200000;

	rng_init(&a, 42, 1);
	rng_init(&b, 42, 1);
	rng_init(&c, 42, 2);
	for (int i = 0; i < 1000; i++) {
		uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
		same &= x == y;
		differ += x != z;
	}
	ok(same, "same seed and stream give the same sequence");
	ok(differ > 990, "another stream gives another sequence (%d/1000 differ)", differ);

	rng_init(&a, 7, 0);
	for (int i = 0; i < n; i++) {
		float u = rng_uniform(&a);
		inrange &= u >= 0.0f && u < 1.0f;
		counts[rng_below(&a, 10)]++;
	}
	ok(inrange, "uniform draws lie in [0, 1)");
	{
		/* chi-square with 9 degrees of freedom; 27.9 is the 0.999 quantile */
		double chi = 0, e = n / 10.0;
		for (int k = 0; k < 10; k++)
			chi += (counts[k] - e) * (counts[k] - e) / e;
		ok(chi < 27.9, "rng_below(10) is uniform (chi-square %.2f < 27.9)", chi);
	}
	for (int i = 0; i < n; i++) {
		double x = rng_normal(&a);
		sum += x;
		sumsq += x * x;
	}
	{
		double mean = sum / n, var = sumsq / n - mean * mean;
		/* standard error of the mean is 1/sqrt(n) = 0.0022; allow 5 of them */
		ok(fabs(mean) < 0.011, "normal mean %.4f is near 0", mean);
		ok(fabs(var - 1.0) < 0.02, "normal variance %.4f is near 1", var);
	}
	ok(rng_mix(1, 2) != rng_mix(2, 1), "rng_mix is not symmetric");
	return tap_done();
}

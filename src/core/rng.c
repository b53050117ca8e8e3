/* rng.c: PCG-XSH-RR 32-bit output, 64-bit state. */
#include "core/rng.h"

#include <math.h>

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->state = 0;
	r->inc = (stream << 1) | 1u;
	rng_u32(r);
	r->state += seed;
	rng_u32(r);
}

uint32_t rng_u32(struct rng *r)
{
	uint64_t old = r->state;
	uint32_t xorshifted, rot;

	r->state = old * 6364136223846793005ULL + r->inc;
	xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
	rot = (uint32_t)(old >> 59u);
	return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float rng_uniform(struct rng *r)
{
	return (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	uint32_t threshold = -n % n, x;

	do
		x = rng_u32(r);
	while (x < threshold);
	return x % n;
}

float rng_normal(struct rng *r)
{
	/* u1 in (0, 1] so the log is finite. */
	double u1 = ((double)rng_u32(r) + 1.0) / 4294967296.0;
	double u2 = (double)rng_u32(r) / 4294967296.0;

	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

uint64_t rng_mix(uint64_t a, uint64_t b)
{
	uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

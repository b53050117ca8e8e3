/* rng.h: seeded random numbers (PCG32, O'Neill 2014). Every random choice in
 * detbench draws from a struct rng seeded from the recipe's seed, so the same
 * seed gives the same run. The state is two integers: cheap to checkpoint. */
#ifndef DET_CORE_RNG_H
#define DET_CORE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t state;
	uint64_t inc; /* stream selector, always odd */
};

/* Seeds a generator; different streams give independent sequences for the
 * same seed (e.g. one stream per dataset sample index). */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);
uint32_t rng_u32(struct rng *r);
/* Uniform in [0, 1). */
float rng_uniform(struct rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Standard normal, Box-Muller. */
float rng_normal(struct rng *r);
/* A 64-bit mix of two values, for deriving per-item seeds (splitmix64). */
uint64_t rng_mix(uint64_t a, uint64_t b);

#endif

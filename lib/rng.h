/* Internal: the seeded random number generator (xoshiro256**, splitmix64
 * seeding). Every random choice in libreco goes through it, so that the same
 * seed gives the same bytes on every platform. */
#ifndef RECO_LIB_RNG_H
#define RECO_LIB_RNG_H

#include <stdint.h>

typedef struct reco_rng {
    uint64_t state[4];
} reco_rng;

/* Seeds from one 64-bit value and a stream number: distinct streams of one
 * seed are independent sequences (used for per-block, per-epoch streams). */
void reco_rng_seed(reco_rng *rng, uint64_t seed, uint64_t stream);

uint64_t reco_rng_next(reco_rng *rng);

/* Uniform integer in [0, bound), unbiased (Lemire's method); bound > 0. */
uint64_t reco_rng_below(reco_rng *rng, uint64_t bound);

/* Uniform double in [0, 1) with 53 random bits. */
double reco_rng_uniform(reco_rng *rng);

/* Standard normal deviate (Box-Muller, no cached second value). */
double reco_rng_normal(reco_rng *rng);

#endif

#include <math.h>

#include "reco_math.h"
#include "rng.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void reco_rng_seed(reco_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t mix = seed;
    uint64_t stream_mix = stream * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull;
    mix ^= reco_splitmix64(&stream_mix);
    for (int i = 0; i < 4; i++)
        rng->state[i] = reco_splitmix64(&mix);
}

uint64_t reco_rng_next(reco_rng *rng)
{
    uint64_t *s = rng->state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t reco_rng_below(reco_rng *rng, uint64_t bound)
{
    __extension__ typedef unsigned __int128 u128;
    u128 product = (u128)reco_rng_next(rng) * bound;
    uint64_t low = (uint64_t)product;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            product = (u128)reco_rng_next(rng) * bound;
            low = (uint64_t)product;
        }
    }
    return (uint64_t)(product >> 64);
}

double reco_rng_uniform(reco_rng *rng)
{
    return (double)(reco_rng_next(rng) >> 11) * 0x1.0p-53;
}

double reco_rng_normal(reco_rng *rng)
{
    double u1 = 1.0 - reco_rng_uniform(rng); /* (0, 1]: log stays finite */
    double u2 = reco_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

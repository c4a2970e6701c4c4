/* CPU backend: an epoch's samples built by the thread pool. The shuffle is
 * a scatter shuffle: every sample draws one of SHUFFLE_BUCKETS buckets, the
 * buckets are laid out one after the other, and each is Fisher-Yates
 * shuffled, which gives a uniformly random order. Samples are built in
 * sample order (a user's rows together) straight into their bucket, and the
 * small buckets are shuffled in cache. Every random choice is a
 * function of (seed, epoch, sample or bucket), so the result does not depend
 * on the number of threads. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "reco_math.h"
#include "reco_alloc.h"

#define SHUFFLE_BUCKETS 1024

/* SplitMix64's step and finalizer on a counter. */
static uint64_t mix(uint64_t x)
{
    return reco_mix64(x + 0x9e3779b97f4a7c15ull);
}

/* Uniform in [0, bound) from 64 random bits (multiply-high). */
static uint64_t below(uint64_t bits, uint64_t bound)
{
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)bits * bound) >> 64);
}

typedef struct epoch_build {
    const reco_epoch_data *data;
    const reco_epoch_plan *plan;
    size_t n;
    uint64_t stream;             /* seed and epoch, mixed */
    uint16_t *bucket_of;         /* n */
    size_t *counts;              /* threads x buckets, then positions */
    size_t bucket_start[SHUFFLE_BUCKETS + 1];
    int phase;
    int32_t *users, *items, *negatives;
    float *targets;
} epoch_build;

static void count_buckets(epoch_build *b, size_t thread, size_t n_threads)
{
    size_t *counts = b->counts + thread * SHUFFLE_BUCKETS;
    memset(counts, 0, SHUFFLE_BUCKETS * sizeof *counts);
    for (size_t s = cpu_share(b->n, thread, n_threads); s < cpu_share(b->n, thread + 1, n_threads);
         s++) {
        uint16_t bucket = (uint16_t)below(mix(b->stream ^ mix(s)), SHUFFLE_BUCKETS);
        b->bucket_of[s] = bucket;
        counts[bucket]++;
    }
}

/* Builds samples in sample order, so that a user's rows and items are read
 * while they are in cache, and writes each to the next free place of its
 * bucket. */
static void scatter_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_epoch_data *data = b->data;
    const reco_epoch_plan *plan = b->plan;
    const int32_t *row_users = data->users, *row_items = data->items;
    const float *ratings = data->ratings;
    const uint64_t *offsets = data->user_offsets;
    const int32_t *user_items = data->user_items;
    size_t *next = b->counts + thread * SHUFFLE_BUCKETS; /* positions by now */
    size_t per_row = plan->pairs ? 1 : 1 + plan->negatives;
    for (size_t s = cpu_share(b->n, thread, n_threads); s < cpu_share(b->n, thread + 1, n_threads);
         s++) {
        size_t i = next[b->bucket_of[s]]++, row = s / per_row, j = s % per_row;
        int32_t user = row_users[row];
        b->users[i] = user;
        int32_t negative = 0;
        if (plan->pairs || j > 0) {
            size_t count = offsets[user + 1] - offsets[user];
            uint64_t bits = mix(b->stream ^ mix(s ^ 0x4e45474154ull));
            negative = reco_nth_untaken(user_items + offsets[user], count,
                                   below(bits, data->n_items - count));
        }
        if (plan->pairs) {
            b->items[i] = row_items[row];
            b->negatives[i] = negative;
            b->targets[i] = 1.0f;
        } else if (j == 0) {
            b->items[i] = row_items[row];
            b->targets[i] = plan->explicit_targets ? ratings[row] : 1.0f;
        } else {
            b->items[i] = negative;
            b->targets[i] = 0.0f;
        }
    }
}

static void swap_int32(int32_t *values, size_t a, size_t b)
{
    int32_t swap = values[a];
    values[a] = values[b];
    values[b] = swap;
}

/* Fisher-Yates on each bucket, applied to every sample array at once. */
static void shuffle_buckets(epoch_build *b, size_t thread, size_t n_threads)
{
    for (size_t bucket = thread; bucket < SHUFFLE_BUCKETS; bucket += n_threads) {
        size_t start = b->bucket_start[bucket];
        size_t size = b->bucket_start[bucket + 1] - start;
        int32_t *users = b->users + start, *items = b->items + start;
        int32_t *negatives = b->negatives ? b->negatives + start : NULL;
        float *targets = b->targets + start;
        uint64_t state = mix(b->stream ^ (0x42554b4554ull + bucket));
        for (size_t i = size; i > 1; i--) {
            state = mix(state);
            size_t j = (size_t)below(state, i);
            swap_int32(users, i - 1, j);
            swap_int32(items, i - 1, j);
            if (negatives)
                swap_int32(negatives, i - 1, j);
            float target = targets[i - 1];
            targets[i - 1] = targets[j];
            targets[j] = target;
        }
    }
}

static void epoch_task(void *argument, size_t thread, size_t n_threads)
{
    epoch_build *b = argument;
    switch (b->phase) {
    case 0: count_buckets(b, thread, n_threads); break;
    case 1: scatter_samples(b, thread, n_threads); break;
    default: shuffle_buckets(b, thread, n_threads); break;
    }
}

reco_status reco_cpu_epoch_samples(void *context, const reco_epoch_data *data,
                                   const reco_epoch_plan *plan, void *users, void *items,
                                   void *targets, void *negatives)
{
    cpu_pool *pool = reco_cpu_context_pool(context);
    size_t n_threads = reco_cpu_pool_threads(pool);
    epoch_build b = {.data = data,
                     .plan = plan,
                     .n = data->n_rows * (plan->pairs ? 1 : 1 + plan->negatives),
                     .stream = mix(plan->seed ^ mix(plan->epoch + 0x45504f4348ull)),
                     .users = users,
                     .items = items,
                     .negatives = negatives,
                     .targets = targets};
    b.bucket_of = reco_malloc(b.n * sizeof *b.bucket_of + 1);
    b.counts = reco_malloc(n_threads * SHUFFLE_BUCKETS * sizeof *b.counts);
    reco_status status = RECO_OK;
    if (!b.bucket_of || !b.counts) {
        status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for an epoch");
        goto done;
    }
    b.phase = 0;
    reco_cpu_pool_run(pool, epoch_task, &b);
    /* bucket-major, thread-minor positions: each bucket keeps sample order */
    size_t position = 0;
    for (size_t bucket = 0; bucket < SHUFFLE_BUCKETS; bucket++) {
        b.bucket_start[bucket] = position;
        for (size_t t = 0; t < n_threads; t++) {
            size_t count = b.counts[t * SHUFFLE_BUCKETS + bucket];
            b.counts[t * SHUFFLE_BUCKETS + bucket] = position;
            position += count;
        }
    }
    b.bucket_start[SHUFFLE_BUCKETS] = position;
    for (b.phase = 1; b.phase <= 2; b.phase++)
        reco_cpu_pool_run(pool, epoch_task, &b);
done:
    reco_cpu_pool_release(pool);
    free(b.bucket_of);
    free(b.counts);
    return status;
}

/* The host's epoch builder. Every sample draws its bucket (phase 1, counted
 * per thread), is written in sample order, so that a user's rows and items
 * are read while they are in cache, straight to the next free place of its
 * bucket (phase 2: positions are bucket-major, thread-minor, so each bucket
 * keeps sample order), and the buckets, small enough for the cache, are
 * Fisher-Yates shuffled (phase 3), all arrays swapped together. */
#include <stdlib.h>
#include <string.h>

#include "reco_alloc.h"
#include "reco_epoch_build.h"

typedef struct epoch_build {
    const reco_sample_source *source;
    const reco_sample_sink *sink;
    size_t n;
    uint16_t *bucket_of; /* n */
    size_t *counts;      /* threads x buckets: counts, then next positions */
    size_t bucket_start[RECO_SHUFFLE_BUCKETS + 1];
    int phase;
} epoch_build;

static size_t share(size_t n, size_t part, size_t parts)
{
    return n * part / parts;
}

static void count_buckets(epoch_build *b, size_t thread, size_t n_threads)
{
    size_t *counts = b->counts + thread * RECO_SHUFFLE_BUCKETS;
    memset(counts, 0, RECO_SHUFFLE_BUCKETS * sizeof *counts);
    size_t end = share(b->n, thread + 1, n_threads);
    for (size_t s = share(b->n, thread, n_threads); s < end; s++) {
        uint16_t bucket = (uint16_t)reco_sample_bucket(b->source->stream, s);
        b->bucket_of[s] = bucket;
        counts[bucket]++;
    }
}

static void scatter_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    size_t *next = b->counts + thread * RECO_SHUFFLE_BUCKETS;
    size_t end = share(b->n, thread + 1, n_threads);
    for (size_t s = share(b->n, thread, n_threads); s < end; s++)
        reco_sample_write(b->source, s, b->sink, next[b->bucket_of[s]]++);
}

static void swap_int32(int32_t *values, size_t a, size_t b)
{
    int32_t swap = values[a];
    values[a] = values[b];
    values[b] = swap;
}

static void shuffle_buckets(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_sample_sink *sink = b->sink;
    for (size_t bucket = thread; bucket < RECO_SHUFFLE_BUCKETS; bucket += n_threads) {
        size_t start = b->bucket_start[bucket];
        size_t size = b->bucket_start[bucket + 1] - start;
        int32_t *users = sink->users + start, *items = sink->items + start;
        int32_t *negatives = b->source->pairs ? sink->negatives + start : NULL;
        float *targets = sink->targets + start;
        uint64_t state = reco_bucket_state(b->source->stream, bucket);
        for (size_t i = size; i > 1; i--) {
            size_t j = reco_shuffle_pick(&state, i);
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

/* Turns per-thread counts into each thread's first place in each bucket. */
static void lay_out_buckets(epoch_build *b, size_t n_threads)
{
    size_t position = 0;
    for (size_t bucket = 0; bucket < RECO_SHUFFLE_BUCKETS; bucket++) {
        b->bucket_start[bucket] = position;
        for (size_t t = 0; t < n_threads; t++) {
            size_t *count = &b->counts[t * RECO_SHUFFLE_BUCKETS + bucket];
            size_t here = *count;
            *count = position;
            position += here;
        }
    }
    b->bucket_start[RECO_SHUFFLE_BUCKETS] = position;
}

int reco_epoch_build(const reco_sample_source *source, const reco_sample_sink *sink,
                     reco_parallel_run run, void *runner, size_t n_threads)
{
    epoch_build b = {
        .source = source, .sink = sink, .n = source->n_rows * reco_samples_per_row(source)};
    b.bucket_of = reco_malloc(b.n * sizeof *b.bucket_of + 1);
    b.counts = reco_malloc_array(n_threads, RECO_SHUFFLE_BUCKETS * sizeof *b.counts);
    int result = -1;
    if (!b.bucket_of || !b.counts)
        goto done;
    b.phase = 0;
    run(runner, epoch_task, &b);
    lay_out_buckets(&b, n_threads);
    for (b.phase = 1; b.phase <= 2; b.phase++)
        run(runner, epoch_task, &b);
    result = 0;
done:
    free(b.bucket_of);
    free(b.counts);
    return result;
}

void reco_run_serially(void *runner, reco_parallel_task task, void *argument)
{
    (void)runner;
    task(argument, 0, 1);
}

/* The sampling law of an epoch, written once for the core's host sampler,
 * the CPU backend and the CUDA backend (host and device code).
 *
 * An epoch of R training rows with k negatives each has R * (1 + k) samples
 * (BPR: R pairs). Sample s belongs to row s / (1 + k); it is the row's
 * positive when s % (1 + k) == 0 and a negative otherwise. Every random
 * choice is a pure function of (seed, epoch, counter):
 *
 *   - the negative of sample s: rank reco_sample_rank(stream, s, n_free)
 *     among the n_free items its user has no row for;
 *   - the shuffle: sample s goes to bucket reco_sample_bucket(stream, s);
 *     buckets are laid out in order, each holding its samples in sample
 *     order, and each bucket is then Fisher-Yates shuffled with the swaps of
 *     reco_shuffle_pick from reco_bucket_state(stream, bucket). The result
 *     is a uniformly random order.
 *
 * So any implementation, on any number of threads or GPU blocks, makes the
 * same samples in the same order; they differ only in how they parallelize.
 * reco_dataset_sample_negatives draws row r's j-th negative as sample
 * r * (1 + k) + 1 + j. */
#ifndef RECO_SAMPLING_H
#define RECO_SAMPLING_H

#include "reco_math.h"

/* Shuffle buckets: enough for threads and GPU blocks to share out, few
 * enough that a bucket of a large epoch is shuffled in cache. */
#define RECO_SHUFFLE_BUCKETS 1024

/* Stream tags, so that the draws for one purpose never reuse another's. */
#define RECO_TAG_EPOCH 0x45504f4348ull    /* "EPOCH" */
#define RECO_TAG_NEGATIVE 0x4e45474154ull /* "NEGAT" */
#define RECO_TAG_BUCKET 0x42554b4554ull   /* "BUKET" */

/* A training set and what an epoch makes of it, as seen by the sampler:
 * rows (users, items, ratings or NULL) and, per user, the sorted distinct
 * items it has (user_items[user_offsets[u] .. user_offsets[u + 1])). */
typedef struct reco_sample_source {
    const int32_t *row_users;
    const int32_t *row_items;
    const float *ratings;
    const size_t *user_offsets;
    const int32_t *user_items;
    size_t n_rows;
    size_t n_items;
    size_t negatives;     /* per row; BPR: 1 */
    int pairs;            /* BPR: one (positive, negative) pair per sample */
    int explicit_targets; /* the positive's target is its rating */
    uint64_t stream;      /* reco_sampling_stream(seed, epoch) */
} reco_sample_source;

/* Where samples go: users, items and targets; negatives for BPR pairs. */
typedef struct reco_sample_sink {
    int32_t *users;
    int32_t *items;
    float *targets;
    int32_t *negatives;
} reco_sample_sink;

/* SplitMix64's step and finalizer applied to a counter. */
RECO_SHARED uint64_t reco_counter_bits(uint64_t counter)
{
    return reco_mix64(counter + 0x9e3779b97f4a7c15ull);
}

/* Uniform in [0, bound) from 64 random bits, by multiply-high. */
RECO_SHARED uint64_t reco_bits_below(uint64_t bits, uint64_t bound)
{
#if defined(__CUDA_ARCH__)
    return __umul64hi(bits, bound);
#else
    __extension__ typedef unsigned __int128 reco_u128;
    return (uint64_t)(((reco_u128)bits * bound) >> 64);
#endif
}

RECO_SHARED uint64_t reco_sampling_stream(uint64_t seed, uint64_t epoch)
{
    return reco_counter_bits(seed ^ reco_counter_bits(epoch + RECO_TAG_EPOCH));
}

RECO_SHARED size_t reco_samples_per_row(const reco_sample_source *source)
{
    return source->pairs ? 1 : 1 + source->negatives;
}

RECO_SHARED uint32_t reco_sample_bucket(uint64_t stream, uint64_t sample)
{
    uint64_t bits = reco_counter_bits(stream ^ reco_counter_bits(sample));
    return (uint32_t)reco_bits_below(bits, RECO_SHUFFLE_BUCKETS);
}

/* The rank, among a user's n_free untaken items, of sample s's negative. */
RECO_SHARED uint64_t reco_sample_rank(uint64_t stream, uint64_t sample, uint64_t n_free)
{
    uint64_t bits = reco_counter_bits(stream ^ reco_counter_bits(sample ^ RECO_TAG_NEGATIVE));
    return reco_bits_below(bits, n_free);
}

/* The negative item of sample s for `user`, who must have an untaken item. */
RECO_SHARED int32_t reco_sample_negative(const reco_sample_source *source, uint64_t sample,
                                         int32_t user)
{
    const int32_t *taken = source->user_items + source->user_offsets[user];
    size_t count = source->user_offsets[user + 1] - source->user_offsets[user];
    return reco_nth_untaken(taken, count,
                            reco_sample_rank(source->stream, sample, source->n_items - count));
}

/* Writes sample s to place `position` of the sink. */
RECO_SHARED void reco_sample_write(const reco_sample_source *source, size_t sample,
                                   const reco_sample_sink *sink, size_t position)
{
    size_t per_row = reco_samples_per_row(source);
    size_t row = sample / per_row, j = sample % per_row;
    int32_t user = source->row_users[row];
    sink->users[position] = user;
    if (source->pairs) {
        sink->items[position] = source->row_items[row];
        sink->negatives[position] = reco_sample_negative(source, sample, user);
        sink->targets[position] = 1.0f;
    } else if (j == 0) {
        sink->items[position] = source->row_items[row];
        sink->targets[position] = source->explicit_targets ? source->ratings[row] : 1.0f;
    } else {
        sink->items[position] = reco_sample_negative(source, sample, user);
        sink->targets[position] = 0.0f;
    }
}

/* The Fisher-Yates state of a bucket. */
RECO_SHARED uint64_t reco_bucket_state(uint64_t stream, size_t bucket)
{
    return reco_counter_bits(stream ^ (RECO_TAG_BUCKET + bucket));
}

/* The place that place i - 1 of a bucket swaps with (i from the bucket's
 * size down to 2), advancing the bucket's state. */
RECO_SHARED size_t reco_shuffle_pick(uint64_t *state, size_t i)
{
    *state = reco_counter_bits(*state);
    return (size_t)reco_bits_below(*state, i);
}

#endif

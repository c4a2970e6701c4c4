/* The sampling law of an epoch, written once for the core's host builder,
 * the CPU backend and the CUDA backend (host and device code).
 *
 * An epoch of R training rows with k negatives each has R * (1 + k) samples
 * (BPR: R pairs). Sample number s = row * (1 + k) + j is row's positive when
 * j == 0 and a negative otherwise; the negative's rank among the items its
 * user has no row for is drawn from (stream, s). The order:
 *
 *   - rows are cut into blocks of RECO_BLOCK_ROWS consecutive rows (one
 *     cache line of each row array), and the blocks are put in a random
 *     order (a keyed permutation);
 *   - the blocks, in that order, are cut into chunks of RECO_CHUNK_BLOCKS
 *     blocks (the last chunk may be shorter);
 *   - a chunk's samples, listed block by block, row by row, j by j, are put
 *     in a random order of their own (a keyed permutation per chunk), and
 *     the epoch is chunk 0's samples, then chunk 1's, and so on.
 *
 * The permutations are 4-round Feistel networks with cycle-walking, so the
 * sample at any place of the epoch is a pure function of (seed, epoch,
 * place): any implementation, on any number of threads, GPU blocks or
 * processes, and any range of an epoch built on its own (streaming), gives
 * the same samples in the same order. A chunk holds rows from 1,024 random
 * places of the data, so a batch mixes many users, and its rows (at most
 * 16,384; 1.3 MB of samples with 4 negatives) stay in the core's cache
 * while it is built.
 *
 * reco_dataset_sample_negatives draws row r's j-th negative as sample
 * r * (1 + k) + 1 + j. Negatives come from their own stream, the epoch's or,
 * for a trainer that keeps its negatives fixed (as seed 000's loader, built
 * once), epoch 0's: the order still changes every epoch. */
#ifndef RECO_SAMPLING_H
#define RECO_SAMPLING_H

#include "reco_math.h"
#ifndef RECO_BACKEND_UNSTABLE
#define RECO_BACKEND_UNSTABLE
#endif
#include "reco/backend_impl.h"

#define RECO_BLOCK_ROWS 16
#define RECO_CHUNK_BLOCKS 1024

/* Stream tags, so that the draws for one purpose never reuse another's. */
#define RECO_TAG_EPOCH 0x45504f4348ull    /* "EPOCH" */
#define RECO_TAG_NEGATIVE 0x4e45474154ull /* "NEGAT" */
#define RECO_TAG_BLOCKS 0x424c4f434bull   /* "BLOCK" */
#define RECO_TAG_CHUNK 0x4348554e4bull    /* "CHUNK" */
/* The per-rating MF epoch's order of grid blocks (backends/cpu/cpu_mf_epoch.c) */
#define RECO_TAG_GRID_USERS 0x4755534552ull  /* "GUSER" */
#define RECO_TAG_GRID_ITEMS 0x474954454dull  /* "GITEM" */
#define RECO_TAG_GRID_ROUNDS 0x47524f554eull /* "GROUN" */

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
    uint64_t stream;      /* reco_sampling_stream(seed, epoch): the order */
    uint64_t negative_stream; /* reco_sampling_stream(seed, negative epoch) */
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

/* The sampler's view of an epoch plan over a training set's rows (users,
 * items, ratings or NULL) and per-user item lists: the one place that
 * turns a plan into streams, for the core, the CPU and the CUDA backend. */
RECO_SHARED reco_sample_source reco_sample_source_make(const int32_t *row_users,
                                                       const int32_t *row_items,
                                                       const float *ratings, size_t n_rows,
                                                       const size_t *user_offsets,
                                                       const int32_t *user_items, size_t n_items,
                                                       const reco_epoch_plan *plan)
{
    reco_sample_source source;
    source.row_users = row_users;
    source.row_items = row_items;
    source.ratings = ratings;
    source.user_offsets = user_offsets;
    source.user_items = user_items;
    source.n_rows = n_rows;
    source.n_items = n_items;
    source.negatives = plan->negatives;
    source.pairs = plan->pairs;
    source.explicit_targets = plan->explicit_targets;
    source.stream = reco_sampling_stream(plan->seed, plan->epoch);
    source.negative_stream = reco_sampling_stream(plan->seed, plan->negative_epoch);
    return source;
}

/* A keyed permutation of [0, n): a 4-round Feistel network on the fewest
 * bits (at least 2) that cover n, its halves as even as the bit count
 * allows (an unbalanced network when it is odd), walked until it lands
 * below n: the domain is under 2n, so about 1.5 walks on average. */
typedef struct reco_permutation {
    uint64_t n;
    unsigned high_bits, low_bits;
    uint64_t keys[4]; /* one per round */
} reco_permutation;

RECO_SHARED reco_permutation reco_permutation_make(uint64_t n, uint64_t key)
{
    unsigned bits = 2;
    while (bits < 62 && ((uint64_t)1 << bits) < n)
        bits++;
    reco_permutation p;
    p.n = n;
    p.high_bits = bits / 2;
    p.low_bits = bits - bits / 2;
    for (unsigned round = 0; round < 4; round++)
        p.keys[round] = reco_counter_bits(key + round);
    return p;
}

/* A round's function: a light mix of half the bits and the round's key. */
RECO_SHARED uint64_t reco_feistel_round(uint64_t key, uint64_t half)
{
    uint64_t h = (half ^ key) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* One round on x of `high` + `low` bits, given the round function's value
 * on its low part: the low part moves up and the high part, mixed with
 * that value, takes its place, so the two widths trade places. */
RECO_SHARED uint64_t reco_feistel_step(uint64_t x, unsigned high, unsigned low, uint64_t value)
{
    uint64_t low_part = x & (((uint64_t)1 << low) - 1);
    return low_part << high | (((x >> low) ^ value) & (((uint64_t)1 << high) - 1));
}

/* The place of x (< n) after the permutation: four rounds, after which the
 * widths are back, walked until the place is below n. */
RECO_SHARED uint64_t reco_permute(const reco_permutation *p, uint64_t x)
{
    if (p->n <= 1)
        return x;
    do {
        unsigned high = p->high_bits, low = p->low_bits;
        for (unsigned round = 0; round < 4; round++) {
            uint64_t low_part = x & (((uint64_t)1 << low) - 1);
            x = reco_feistel_step(x, high, low, reco_feistel_round(p->keys[round], low_part));
            unsigned swap = high;
            high = low;
            low = swap;
        }
    } while (x >= p->n);
    return x;
}

/* The x whose place is y (y < n): the rounds run backwards. */
RECO_SHARED uint64_t reco_unpermute(const reco_permutation *p, uint64_t y)
{
    if (p->n <= 1)
        return y;
    do {
        /* after four rounds the widths are (high_bits, low_bits) again;
         * undo round r, whose output had high width = its input's low */
        unsigned high = p->high_bits, low = p->low_bits;
        for (unsigned round = 4; round-- > 0;) {
            /* round r's input widths: (low, high) of the current layout */
            uint64_t moved = y >> low; /* the input's low part, `high` bits wide */
            uint64_t mixed = y & (((uint64_t)1 << low) - 1);
            uint64_t high_part =
                (mixed ^ reco_feistel_round(p->keys[round], moved)) & (((uint64_t)1 << low) - 1);
            y = high_part << high | moved;
            unsigned swap = high;
            high = low;
            low = swap;
        }
    } while (y >= p->n);
    return y;
}

/* An epoch's shape under the law: its samples, blocks and chunks. */
typedef struct reco_epoch_layout {
    size_t per_row; /* samples a row: 1 + negatives, 1 for pairs */
    size_t n_samples;
    size_t n_blocks;      /* ceil(n_rows / RECO_BLOCK_ROWS) */
    size_t chunk_samples; /* of a full chunk */
    size_t n_chunks;
    reco_permutation blocks;
    /* the chunk that holds the short block ends `deficit` samples early;
     * places from `short_chunk_end` on belong to later chunks */
    size_t short_chunk_end;
    size_t deficit;
} reco_epoch_layout;

RECO_SHARED reco_epoch_layout reco_epoch_layout_make(const reco_sample_source *source)
{
    reco_epoch_layout layout;
    layout.per_row = source->pairs ? 1 : 1 + source->negatives;
    layout.n_samples = source->n_rows * layout.per_row;
    layout.n_blocks = (source->n_rows + RECO_BLOCK_ROWS - 1) / RECO_BLOCK_ROWS;
    layout.chunk_samples = (size_t)RECO_CHUNK_BLOCKS * RECO_BLOCK_ROWS * layout.per_row;
    layout.n_chunks = (layout.n_blocks + RECO_CHUNK_BLOCKS - 1) / RECO_CHUNK_BLOCKS;
    layout.blocks =
        reco_permutation_make(layout.n_blocks, reco_counter_bits(source->stream ^ RECO_TAG_BLOCKS));
    size_t last_rows = source->n_rows - (layout.n_blocks - 1) * RECO_BLOCK_ROWS;
    size_t short_chunk =
        (size_t)reco_unpermute(&layout.blocks, layout.n_blocks - 1) / RECO_CHUNK_BLOCKS;
    layout.deficit = (RECO_BLOCK_ROWS - last_rows) * layout.per_row;
    layout.short_chunk_end = (short_chunk + 1) * layout.chunk_samples - layout.deficit;
    return layout;
}

/* The chunk of epoch place p, and p's place u within it. */
RECO_SHARED size_t reco_epoch_locate(const reco_epoch_layout *layout, size_t place, size_t *u)
{
    if (place >= layout->short_chunk_end)
        place += layout->deficit;
    size_t chunk = place / layout->chunk_samples;
    *u = place - chunk * layout->chunk_samples;
    return chunk;
}

/* One chunk: its blocks' places in the block order, its samples, and the
 * short block (the data's last, when R is not a multiple of the block
 * size) when it holds it. */
typedef struct reco_chunk {
    size_t first_place; /* of its first block in the block order */
    size_t n_blocks;
    size_t n_samples;
    size_t short_place; /* chunk-relative place of the short block, or n_blocks */
    size_t short_rows;
    reco_permutation order;
} reco_chunk;

RECO_SHARED reco_chunk reco_chunk_make(const reco_sample_source *source,
                                       const reco_epoch_layout *layout, size_t chunk)
{
    reco_chunk c;
    c.first_place = chunk * RECO_CHUNK_BLOCKS;
    c.n_blocks = layout->n_blocks - c.first_place < RECO_CHUNK_BLOCKS
                     ? layout->n_blocks - c.first_place
                     : RECO_CHUNK_BLOCKS;
    size_t rows = c.n_blocks * RECO_BLOCK_ROWS;
    size_t last_rows = source->n_rows - (layout->n_blocks - 1) * RECO_BLOCK_ROWS;
    size_t short_at = (size_t)reco_unpermute(&layout->blocks, layout->n_blocks - 1);
    c.short_place = c.n_blocks;
    c.short_rows = RECO_BLOCK_ROWS;
    if (last_rows < RECO_BLOCK_ROWS && short_at >= c.first_place &&
        short_at < c.first_place + c.n_blocks) {
        c.short_place = short_at - c.first_place;
        c.short_rows = last_rows;
        rows -= RECO_BLOCK_ROWS - last_rows;
    }
    c.n_samples = rows * layout->per_row;
    c.order = reco_permutation_make(c.n_samples,
                                    reco_counter_bits(source->stream ^ (RECO_TAG_CHUNK + chunk)));
    return c;
}

/* The chunk-relative place of the block that holds the chunk's i-th row
 * (rows listed block by block), and the row's offset in that block. */
RECO_SHARED size_t reco_chunk_place(const reco_chunk *c, size_t i, size_t *offset)
{
    size_t short_end = c->short_place * RECO_BLOCK_ROWS + c->short_rows;
    if (i < short_end) {
        *offset = i % RECO_BLOCK_ROWS;
        return i / RECO_BLOCK_ROWS;
    }
    /* past the short block (there is none when short_place is n_blocks):
     * every later block is full */
    size_t after = i - short_end;
    *offset = after % RECO_BLOCK_ROWS;
    return c->short_place + 1 + after / RECO_BLOCK_ROWS;
}

/* The block at chunk-relative place `place`. */
RECO_SHARED size_t reco_chunk_block(const reco_epoch_layout *layout, const reco_chunk *c,
                                    size_t place)
{
    return (size_t)reco_permute(&layout->blocks, c->first_place + place);
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
    return reco_nth_untaken(
        taken, count, reco_sample_rank(source->negative_stream, sample, source->n_items - count));
}

/* Writes sample j of `row` to place `position` of the sink. */
RECO_SHARED void reco_sample_write(const reco_sample_source *source, size_t per_row, size_t row,
                                   size_t j, const reco_sample_sink *sink, size_t position)
{
    uint64_t sample = (uint64_t)row * per_row + j;
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

/* Writes the sample at place u of chunk c to place `position` of the sink,
 * with `block_of` the chunk's blocks by place (NULL: computed). */
RECO_SHARED void reco_chunk_sample_write(const reco_sample_source *source,
                                         const reco_epoch_layout *layout, const reco_chunk *c,
                                         const size_t *block_of, size_t u,
                                         const reco_sample_sink *sink, size_t position)
{
    /* a chunk has under 2^32 samples: 32-bit division is several times faster */
    uint32_t q = (uint32_t)reco_permute(&c->order, u), per_row = (uint32_t)layout->per_row;
    size_t offset;
    size_t place = reco_chunk_place(c, q / per_row, &offset);
    size_t block = block_of ? block_of[place] : reco_chunk_block(layout, c, place);
    reco_sample_write(source, layout->per_row, block * RECO_BLOCK_ROWS + offset, q % per_row, sink,
                      position);
}

#endif

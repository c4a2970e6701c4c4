/* The host's epoch builder, chunk by chunk in two passes on the runner's
 * threads. Pass 1 writes the chunk's samples in the order they are listed
 * (block by block, row by row), so that a user's rows and sorted item list
 * stay in cache while its negatives are drawn; pass 2 gathers them into
 * the law's order, reads that do not depend on one another. A place of the
 * epoch thus costs one Feistel permutation and a copy on top of its draw;
 * the permutation reads its round functions from tables made per chunk. */
#include <stdlib.h>

#include "reco_alloc.h"
#include "reco_epoch_build.h"

/* Places whose permutation is worked out together: the first pass over the
 * network has no branch, so that its rounds overlap from place to place;
 * only the places it left outside the chunk walk again. */
#define GATHER_BLOCK 256

/* A chunk's order (a reco_permutation) with each round's function of the
 * low part in a table: a load instead of two multiplications in a chain.
 * Round r's table has 2^(its input's width) entries; the widths alternate
 * between the network's low and high bits. */
typedef struct tabled_order {
    const reco_permutation *order;
    uint32_t *rounds[4];
} tabled_order;

/* Tables serve networks of at most 32 bits (halves of 16: 256 KiB a round),
 * which covers chunks of up to 2^32 / 16,384 samples a row. */
unsigned reco_epoch_tabled_bits = 32;

static unsigned round_input_bits(const reco_permutation *order, unsigned round)
{
    return round % 2 ? order->high_bits : order->low_bits;
}

static void tabled_order_fill(tabled_order *t, const reco_permutation *order,
                              uint32_t *const tables[4])
{
    t->order = order;
    for (unsigned round = 0; round < 4; round++) {
        t->rounds[round] = tables[round];
        uint64_t entries = (uint64_t)1 << round_input_bits(order, round);
        uint64_t mask = ((uint64_t)1 << round_input_bits(order, round + 1)) - 1;
        for (uint64_t low = 0; low < entries; low++)
            t->rounds[round][low] = (uint32_t)(reco_feistel_round(order->keys[round], low) & mask);
    }
}

/* One pass of reco_permute's network, by the tables. */
static uint64_t tabled_pass(const tabled_order *t, uint64_t x)
{
    unsigned high = t->order->high_bits, low = t->order->low_bits;
    for (unsigned round = 0; round < 4; round++) {
        uint64_t low_part = x & (((uint64_t)1 << low) - 1);
        x = reco_feistel_step(x, high, low, t->rounds[round][low_part]);
        unsigned swap = high;
        high = low;
        low = swap;
    }
    return x;
}

/* places[i] = reco_permute(order, first + i) for i < count. */
static void tabled_permute(const tabled_order *t, uint64_t first, size_t count, uint64_t *places)
{
    uint64_t n = t->order->n;
    if (n <= 1) {
        for (size_t i = 0; i < count; i++)
            places[i] = first + i;
        return;
    }
    for (size_t i = 0; i < count; i++)
        places[i] = tabled_pass(t, first + i);
    for (size_t i = 0; i < count; i++) {
        while (places[i] >= n)
            places[i] = tabled_pass(t, places[i]);
    }
}

typedef struct epoch_build {
    const reco_sample_source *source;
    const reco_sample_sink *sink;
    reco_epoch_layout layout;
    reco_chunk chunk;
    tabled_order order;  /* of the chunk, when its network is narrow enough */
    uint32_t *tables[4]; /* the order's, for the widest chunk */
    size_t chunk_index;
    size_t begin, end;       /* the chunk's places to write (chunk-relative) */
    size_t written;          /* sink places written before this chunk */
    reco_sample_sink listed; /* the chunk's samples in listed order */
    size_t block_of[RECO_CHUNK_BLOCKS];
    int pass;
} epoch_build;

/* The thread's share of the chunk's rows, each row's samples in turn. */
static void list_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_chunk *c = &b->chunk;
    size_t per_row = b->layout.per_row, n_rows = c->n_samples / per_row;
    size_t end = reco_share(n_rows, thread + 1, n_threads);
    for (size_t i = reco_share(n_rows, thread, n_threads); i < end; i++) {
        size_t offset, place = reco_chunk_place(c, i, &offset);
        size_t row = b->block_of[place] * RECO_BLOCK_ROWS + offset;
        for (size_t j = 0; j < per_row; j++)
            reco_sample_write(b->source, per_row, row, j, &b->listed, i * per_row + j);
    }
}

static void gather_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_sample_sink *from = &b->listed, *to = b->sink;
    size_t n = b->end - b->begin;
    size_t end = b->begin + reco_share(n, thread + 1, n_threads);
    uint64_t places[GATHER_BLOCK];
    for (size_t u = b->begin + reco_share(n, thread, n_threads); u < end; u += GATHER_BLOCK) {
        size_t count = end - u < GATHER_BLOCK ? end - u : GATHER_BLOCK;
        if (b->order.order) {
            tabled_permute(&b->order, u, count, places);
        } else {
            for (size_t i = 0; i < count; i++)
                places[i] = reco_permute(&b->chunk.order, u + i);
        }
        size_t position = b->written + u - b->begin;
        for (size_t i = 0; i < count; i++) {
            size_t q = (size_t)places[i];
            to->users[position + i] = from->users[q];
            to->items[position + i] = from->items[q];
            to->targets[position + i] = from->targets[q];
            if (from->negatives)
                to->negatives[position + i] = from->negatives[q];
        }
    }
}

static void build_task(void *argument, size_t thread, size_t n_threads)
{
    epoch_build *b = argument;
    if (b->pass == 1)
        list_samples(b, thread, n_threads);
    else
        gather_samples(b, thread, n_threads);
}

int reco_epoch_build(const reco_sample_source *source, size_t first, size_t count,
                     const reco_sample_sink *sink, reco_parallel_run run, void *runner)
{
    reco_epoch_layout layout = reco_epoch_layout_make(source);
    if (first > layout.n_samples || count > layout.n_samples - first)
        return -1;
    epoch_build *b = reco_malloc(sizeof *b);
    if (!b)
        return -1;
    *b = (epoch_build){.source = source, .sink = sink, .layout = layout};
    size_t capacity = b->layout.chunk_samples;
    b->listed = (reco_sample_sink){
        reco_malloc_array(capacity, sizeof(int32_t)), reco_malloc_array(capacity, sizeof(int32_t)),
        reco_malloc_array(capacity, sizeof(float)),
        source->pairs ? reco_malloc_array(capacity, sizeof(int32_t)) : NULL};
    /* a full chunk's network is the widest: every chunk's tables fit */
    reco_permutation widest = reco_permutation_make(capacity, 0);
    int tabled = widest.high_bits + widest.low_bits <= reco_epoch_tabled_bits;
    for (unsigned round = 0; tabled && round < 4; round++)
        b->tables[round] =
            reco_malloc_array((size_t)1 << round_input_bits(&widest, round), sizeof(uint32_t));
    int result = -1;
    if (!b->listed.users || !b->listed.items || !b->listed.targets ||
        (source->pairs && !b->listed.negatives))
        goto done;
    for (unsigned round = 0; tabled && round < 4; round++)
        if (!b->tables[round])
            goto done;
    size_t u = 0;
    if (count > 0)
        b->chunk_index = reco_epoch_locate(&b->layout, first, &u);
    while (b->written < count) {
        b->chunk = reco_chunk_make(source, &b->layout, b->chunk_index);
        for (size_t t = 0; t < b->chunk.n_blocks; t++)
            b->block_of[t] = reco_chunk_block(&b->layout, &b->chunk, t);
        if (tabled)
            tabled_order_fill(&b->order, &b->chunk.order, b->tables);
        b->begin = u;
        b->end = b->chunk.n_samples - u < count - b->written ? b->chunk.n_samples
                                                             : u + count - b->written;
        for (b->pass = 1; b->pass <= 2; b->pass++)
            run(runner, build_task, b);
        b->written += b->end - b->begin;
        b->chunk_index++;
        u = 0;
    }
    result = 0;
done:
    reco_free(b->listed.users);
    reco_free(b->listed.items);
    reco_free(b->listed.targets);
    reco_free(b->listed.negatives);
    for (unsigned round = 0; round < 4; round++)
        reco_free(b->tables[round]);
    reco_free(b);
    return result;
}

void reco_run_serially(void *runner, reco_parallel_task task, void *argument)
{
    (void)runner;
    task(argument, 0, 1);
}

/* The host's epoch builder, chunk by chunk in two passes on the runner's
 * threads. Pass 1 writes the chunk's samples in the order they are listed
 * (block by block, row by row), so that a user's rows and sorted item list
 * stay in cache while its negatives are drawn; pass 2 gathers them into
 * the law's order, reads that do not depend on one another. A place of the
 * epoch thus costs one Feistel permutation and a copy on top of its draw. */
#include <stdlib.h>

#include "reco_alloc.h"
#include "reco_epoch_build.h"

typedef struct epoch_build {
    const reco_sample_source *source;
    const reco_sample_sink *sink;
    reco_epoch_layout layout;
    reco_chunk chunk;
    size_t chunk_index;
    size_t begin, end;       /* the chunk's places to write (chunk-relative) */
    size_t written;          /* sink places written before this chunk */
    reco_sample_sink listed; /* the chunk's samples in listed order */
    size_t block_of[RECO_CHUNK_BLOCKS];
    int pass;
} epoch_build;

static void list_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_chunk *c = &b->chunk;
    size_t per_row = b->layout.per_row;
    size_t end = reco_share(c->n_samples, thread + 1, n_threads);
    for (size_t q = reco_share(c->n_samples, thread, n_threads); q < end; q++) {
        size_t offset, place = reco_chunk_place(c, q / per_row, &offset);
        reco_sample_write(b->source, per_row, b->block_of[place] * RECO_BLOCK_ROWS + offset,
                          q % per_row, &b->listed, q);
    }
}

static void gather_samples(epoch_build *b, size_t thread, size_t n_threads)
{
    const reco_sample_sink *from = &b->listed, *to = b->sink;
    size_t n = b->end - b->begin;
    size_t end = b->begin + reco_share(n, thread + 1, n_threads);
    for (size_t u = b->begin + reco_share(n, thread, n_threads); u < end; u++) {
        size_t q = (size_t)reco_permute(&b->chunk.order, u);
        size_t position = b->written + u - b->begin;
        to->users[position] = from->users[q];
        to->items[position] = from->items[q];
        to->targets[position] = from->targets[q];
        if (from->negatives)
            to->negatives[position] = from->negatives[q];
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
    int result = -1;
    if (!b->listed.users || !b->listed.items || !b->listed.targets ||
        (source->pairs && !b->listed.negatives))
        goto done;
    size_t u = 0;
    if (count > 0)
        b->chunk_index = reco_epoch_locate(&b->layout, first, &u);
    while (b->written < count) {
        b->chunk = reco_chunk_make(source, &b->layout, b->chunk_index);
        for (size_t t = 0; t < b->chunk.n_blocks; t++)
            b->block_of[t] = reco_chunk_block(&b->layout, &b->chunk, t);
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
    free(b->listed.users);
    free(b->listed.items);
    free(b->listed.targets);
    free(b->listed.negatives);
    free(b);
    return result;
}

void reco_run_serially(void *runner, reco_parallel_task task, void *argument)
{
    (void)runner;
    task(argument, 0, 1);
}

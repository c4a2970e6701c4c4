/* An epoch's samples built on the host by the sampling law of
 * reco_sampling.h, on as many threads as the caller's runner has: the core
 * runs it on one thread, the CPU backend on its pool, with the same result. */
#ifndef RECO_EPOCH_BUILD_H
#define RECO_EPOCH_BUILD_H

#include "reco_sampling.h"

/* A task run on every thread `thread` of n_threads. */
typedef void (*reco_parallel_task)(void *argument, size_t thread, size_t n_threads);

/* Runs task(argument, i, n) on each thread i of the runner's n and returns
 * when all have finished. */
typedef void (*reco_parallel_run)(void *runner, reco_parallel_task task, void *argument);

/* Writes the samples at places [first, first + count) of the epoch that
 * `source` describes to sink places [0, count), on the threads of `runner`.
 * Every user of a negative must have an untaken item. Returns 0, or -1
 * for a range outside the epoch or when its working memory (one chunk's
 * samples, 16 bytes each) cannot be had; the sink is then incomplete. */
int reco_epoch_build(const reco_sample_source *source, size_t first, size_t count,
                     const reco_sample_sink *sink, reco_parallel_run run, void *runner);

/* Chunk orders of at most this many bits read their rounds from tables
 * (32; larger ones compute them): a test hook, to run both ways. */
extern unsigned reco_epoch_tabled_bits;

/* The runner of one thread: calls task(argument, 0, 1). */
void reco_run_serially(void *runner, reco_parallel_task task, void *argument);

#endif

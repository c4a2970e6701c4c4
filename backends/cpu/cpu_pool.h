/* CPU backend: a fixed pool of threads that run one task together. The
 * calling thread is thread 0; workers spin briefly, then sleep, between tasks,
 * because a training step hands out work every few tens of microseconds. */
#ifndef RECO_CPU_POOL_H
#define RECO_CPU_POOL_H

#include <stddef.h>

typedef void (*cpu_task)(void *argument, size_t thread_index, size_t n_threads);

typedef struct cpu_pool cpu_pool;

/* Returns a pool of n_threads (>= 1) threads, or NULL when threads or memory
 * cannot be had. */
cpu_pool *cpu_pool_create(size_t n_threads);

void cpu_pool_destroy(cpu_pool *pool);

size_t cpu_pool_threads(const cpu_pool *pool);

/* Runs task(argument, i, n) on every thread i of the pool and returns when
 * all have finished. */
void cpu_pool_run(cpu_pool *pool, cpu_task task, void *argument);

/* Inside a task: returns once every thread of the pool has called it. */
void cpu_pool_barrier(cpu_pool *pool);

#endif

/* CPU backend: a fixed pool of threads that run one task together.
 *
 * The calling thread is thread 0. A training step hands out work every few
 * tens of microseconds, so a thread that waits (a worker for its next task,
 * the caller for the workers, anyone in a barrier) first spins, for at most
 * a tenth of a millisecond, then sleeps. It does not spin at all when
 * another thread of the pool last waited on its CPU (taskset, a CPU quota,
 * more threads than CPUs): a spinning thread would hold the CPU that the
 * thread it waits for needs, until the scheduler takes it away.
 *
 * A pool is shared by every model and trainer of a backend: one task runs at
 * a time, and a pool lives while anyone holds a reference to it. Tasks run
 * with denormal floats flushed to zero (on x86), the caller's own float mode
 * restored when its part returns. */
#ifndef RECO_CPU_POOL_H
#define RECO_CPU_POOL_H

#include <stddef.h>

typedef void (*cpu_task)(void *argument, size_t thread_index, size_t n_threads);

typedef struct cpu_pool cpu_pool;

/* Returns a pool of n_threads (>= 1) threads holding one reference, or NULL
 * when threads or memory cannot be had. */
cpu_pool *reco_cpu_pool_create(size_t n_threads);

/* Takes another reference, or drops one; the last drop stops the threads.
 * NULL is a no-op for the drop. */
void reco_cpu_pool_retain(cpu_pool *pool);
void reco_cpu_pool_release(cpu_pool *pool);

size_t reco_cpu_pool_threads(const cpu_pool *pool);

/* Runs task(argument, i, n) on every thread i of the n of the pool and
 * returns when all have finished. Waits while another caller's task runs. */
void reco_cpu_pool_run(cpu_pool *pool, cpu_task task, void *argument);

/* Like reco_cpu_pool_run, but returns once the calling thread's part is
 * done, while the workers may still run theirs; the next task (of any
 * caller) waits for them, as reco_cpu_pool_finish does. `argument` and
 * what the workers read must stay as they are until then. */
void reco_cpu_pool_start(cpu_pool *pool, cpu_task task, void *argument);
void reco_cpu_pool_finish(cpu_pool *pool);

/* Same as reco_cpu_pool_run for a task that calls no barrier and whose result does not depend on
 * how its work is split: when the pool is busy, or another thread is in this
 * call too, runs task(argument, 0, 1) on the calling thread instead, so that
 * threads serving requests side by side all make progress and do not share
 * their CPUs with the pool's workers. */
void reco_cpu_pool_run_or_inline(cpu_pool *pool, cpu_task task, void *argument);

/* Inside a task run by reco_cpu_pool_run, on thread `thread`: returns once every
 * thread of the pool has called it. */
void reco_cpu_pool_barrier(cpu_pool *pool, size_t thread);

#endif

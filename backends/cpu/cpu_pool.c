#define _GNU_SOURCE /* sched_getcpu */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "cpu_pool.h"
#include "reco_alloc.h"

/* How long a waiting thread spins before it sleeps: longer than the gaps
 * between the steps of a training batch, short against a scheduler's time
 * slice, so that a waiter whose partner was descheduled gives its CPU away
 * after a small fraction of the slice. */
#define SPIN_NS 100000u

typedef struct worker {
    cpu_pool *pool;
    size_t index;
    pthread_t thread;
} worker;

struct cpu_pool {
    size_t n_threads;
    worker *workers; /* n_threads - 1 */
    atomic_size_t references;
    pthread_mutex_t run_lock; /* held while a task runs */
    /* waiting: each word below is waited on until it changes */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_uint sleepers;
    atomic_int *last_cpu;      /* per thread: the CPU it last waited on */
    atomic_uint generation;    /* bumped to hand out a task */
    atomic_uint pending;       /* workers still in the task */
    atomic_uint barrier_round; /* bumped when a barrier opens */
    atomic_uint barrier_waiting;
    atomic_int stopping;
    atomic_uint sharing_callers; /* in reco_cpu_pool_run_or_inline */
    cpu_task task;
    void *argument;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Tasks run with denormal floats flushed to zero (x86's FTZ and DAZ bits):
 * Adam's moments of a weight whose gradient stays zero (a dead ReLU unit)
 * decay through the denormal range for thousands of steps, and each
 * operation on a denormal costs about a hundred cycles (on ml-1m NeuMF one
 * thread's share of the dense step took 2.6x the other's). Workers keep the
 * mode; a calling thread gets its own back when the task returns. */
#define FLUSH_DENORMALS 0x8040u /* MXCSR: flush to zero, denormals are zero */

static unsigned flush_denormals(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | FLUSH_DENORMALS);
    return saved;
#else
    return 0;
#endif
}

static void restore_float_mode(unsigned saved)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

/* Runs thread `thread`'s part of a task on the calling thread. */
static void run_here(cpu_task task, void *argument, size_t thread, size_t n_threads)
{
    unsigned saved = flush_denormals();
    task(argument, thread, n_threads);
    restore_float_mode(saved);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins while *word == value, for at most SPIN_NS; returns 1 if it changed. */
static int spin_while(atomic_uint *word, unsigned value)
{
    uint64_t start = now_ns();
    do {
        for (int i = 0; i < 32; i++) {
            if (atomic_load_explicit(word, memory_order_acquire) != value)
                return 1;
            cpu_relax();
        }
    } while (now_ns() - start < SPIN_NS);
    return 0;
}

/* Whether another thread of the pool last waited on the CPU `cpu`: then the
 * threads share a CPU (taskset, a quota, more threads than CPUs), and the
 * thread being waited for may be the one a spin would keep off it. */
static int shares_cpu(const cpu_pool *pool, size_t thread, int cpu)
{
    for (size_t i = 0; i < pool->n_threads; i++)
        if (i != thread && atomic_load_explicit(&pool->last_cpu[i], memory_order_relaxed) == cpu)
            return 1;
    return 0;
}

/* Thread `thread` returns once *word != value: a bounded spin, unless it
 * shares its CPU with the pool, then a sleep. */
static void wait_while(cpu_pool *pool, size_t thread, atomic_uint *word, unsigned value)
{
    int cpu = sched_getcpu();
    atomic_store_explicit(&pool->last_cpu[thread], cpu, memory_order_relaxed);
    if (!shares_cpu(pool, thread, cpu) && spin_while(word, value))
        return;
    pthread_mutex_lock(&pool->mutex);
    /* sequentially consistent with wake_sleepers: either the waker sees this
     * sleeper or this thread sees the new value */
    atomic_fetch_add(&pool->sleepers, 1);
    while (atomic_load(word) == value)
        pthread_cond_wait(&pool->wake, &pool->mutex);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->mutex);
}

/* Called after changing a waited-on word (with a sequentially consistent
 * operation): wakes the threads that went to sleep on it, if any. */
static void wake_sleepers(cpu_pool *pool)
{
    if (atomic_load(&pool->sleepers) == 0)
        return;
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
}

static void *worker_main(void *opaque)
{
    worker *self = opaque;
    cpu_pool *pool = self->pool;
    unsigned seen = 0;
    flush_denormals();
    for (;;) {
        wait_while(pool, self->index, &pool->generation, seen);
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (atomic_load(&pool->stopping))
            return NULL;
        pool->task(pool->argument, self->index, pool->n_threads);
        if (atomic_fetch_sub(&pool->pending, 1) == 1)
            wake_sleepers(pool);
    }
}

static void stop_workers(cpu_pool *pool, size_t started)
{
    atomic_store(&pool->stopping, 1);
    atomic_fetch_add(&pool->generation, 1);
    wake_sleepers(pool);
    for (size_t i = 1; i < started; i++)
        pthread_join(pool->workers[i - 1].thread, NULL);
}

static void pool_free(cpu_pool *pool)
{
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->run_lock);
    reco_free(pool->last_cpu);
    reco_free(pool->workers);
    reco_free(pool);
}

cpu_pool *reco_cpu_pool_create(size_t n_threads)
{
    cpu_pool *pool = reco_calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->n_threads = n_threads ? n_threads : 1;
    pool->workers = reco_calloc(pool->n_threads, sizeof *pool->workers);
    pool->last_cpu = reco_malloc(pool->n_threads * sizeof *pool->last_cpu);
    if (!pool->workers || !pool->last_cpu) {
        reco_free(pool->last_cpu);
        reco_free(pool->workers);
        reco_free(pool);
        return NULL;
    }
    for (size_t i = 0; i < pool->n_threads; i++)
        atomic_init(&pool->last_cpu[i], -1);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->references, 1);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->barrier_round, 0);
    atomic_init(&pool->barrier_waiting, 0);
    atomic_init(&pool->stopping, 0);
    atomic_init(&pool->sharing_callers, 0);
    for (size_t i = 1; i < pool->n_threads; i++) {
        worker *w = &pool->workers[i - 1];
        w->pool = pool;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            stop_workers(pool, i);
            pool_free(pool);
            return NULL;
        }
    }
    return pool;
}

void reco_cpu_pool_retain(cpu_pool *pool)
{
    atomic_fetch_add_explicit(&pool->references, 1, memory_order_relaxed);
}

void reco_cpu_pool_release(cpu_pool *pool)
{
    if (!pool || atomic_fetch_sub_explicit(&pool->references, 1, memory_order_acq_rel) != 1)
        return;
    stop_workers(pool, pool->n_threads);
    pool_free(pool);
}

size_t reco_cpu_pool_threads(const cpu_pool *pool)
{
    return pool->n_threads;
}

/* Waits, as thread 0, for the workers of the last task. */
static void wait_for_workers(cpu_pool *pool)
{
    for (unsigned left; (left = atomic_load(&pool->pending)) != 0;)
        wait_while(pool, 0, &pool->pending, left);
}

/* Hands out a task after the last one's workers are done, and runs thread
 * 0's part of it here; the caller holds run_lock. */
static void start_locked(cpu_pool *pool, cpu_task task, void *argument)
{
    wait_for_workers(pool);
    pool->task = task;
    pool->argument = argument;
    atomic_store(&pool->pending, (unsigned)(pool->n_threads - 1));
    atomic_fetch_add(&pool->generation, 1);
    wake_sleepers(pool);
    run_here(task, argument, 0, pool->n_threads);
}

/* Runs a task on every thread, returning when its workers are done too or,
 * `detach`, once thread 0's part is. */
static void run_task(cpu_pool *pool, cpu_task task, void *argument, int detach)
{
    if (pool->n_threads == 1) {
        run_here(task, argument, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    start_locked(pool, task, argument);
    if (!detach)
        wait_for_workers(pool);
    pthread_mutex_unlock(&pool->run_lock);
}

void reco_cpu_pool_run(cpu_pool *pool, cpu_task task, void *argument)
{
    run_task(pool, task, argument, 0);
}

void reco_cpu_pool_start(cpu_pool *pool, cpu_task task, void *argument)
{
    run_task(pool, task, argument, 1);
}

void reco_cpu_pool_finish(cpu_pool *pool)
{
    if (pool->n_threads == 1)
        return;
    pthread_mutex_lock(&pool->run_lock);
    wait_for_workers(pool);
    pthread_mutex_unlock(&pool->run_lock);
}

void reco_cpu_pool_run_or_inline(cpu_pool *pool, cpu_task task, void *argument)
{
    /* with another caller scoring too, the CPUs have work for everyone:
     * the pool's workers would only add threads to share them */
    unsigned callers = atomic_fetch_add(&pool->sharing_callers, 1) + 1;
    if (pool->n_threads == 1 || callers > 1 || pthread_mutex_trylock(&pool->run_lock) != 0) {
        run_here(task, argument, 0, 1);
    } else {
        start_locked(pool, task, argument);
        wait_for_workers(pool);
        pthread_mutex_unlock(&pool->run_lock);
    }
    atomic_fetch_sub(&pool->sharing_callers, 1);
}

void reco_cpu_pool_barrier(cpu_pool *pool, size_t thread)
{
    if (pool->n_threads == 1)
        return;
    unsigned round = atomic_load(&pool->barrier_round);
    if (atomic_fetch_add(&pool->barrier_waiting, 1) + 1 == pool->n_threads) {
        atomic_store(&pool->barrier_waiting, 0);
        atomic_fetch_add(&pool->barrier_round, 1);
        wake_sleepers(pool);
        return;
    }
    wait_while(pool, thread, &pool->barrier_round, round);
}

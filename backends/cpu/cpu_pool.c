#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu_pool.h"

#define SPIN_ITERATIONS 20000

typedef struct worker {
    cpu_pool *pool;
    size_t index;
    pthread_t thread;
} worker;

struct cpu_pool {
    size_t n_threads;
    worker *workers; /* n_threads - 1 */
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_uint generation;
    atomic_size_t pending;
    atomic_int stopping;
    cpu_task task;
    void *argument;
    atomic_size_t barrier_waiting;
    atomic_uint barrier_round;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *opaque)
{
    worker *self = opaque;
    cpu_pool *pool = self->pool;
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
               spins++ < SPIN_ITERATIONS)
            cpu_relax();
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&pool->mutex);
            while (atomic_load(&pool->generation) == seen)
                pthread_cond_wait(&pool->wake, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (atomic_load(&pool->stopping))
            return NULL;
        pool->task(pool->argument, self->index, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

static void wake_all(cpu_pool *pool)
{
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
}

cpu_pool *cpu_pool_create(size_t n_threads)
{
    cpu_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->n_threads = n_threads ? n_threads : 1;
    pool->workers = calloc(pool->n_threads, sizeof *pool->workers);
    if (!pool->workers || pthread_mutex_init(&pool->mutex, NULL) != 0) {
        free(pool->workers);
        free(pool);
        return NULL;
    }
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stopping, 0);
    atomic_init(&pool->barrier_waiting, 0);
    atomic_init(&pool->barrier_round, 0);
    for (size_t i = 1; i < pool->n_threads; i++) {
        worker *w = &pool->workers[i - 1];
        w->pool = pool;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            pool->n_threads = i; /* stop the ones that started */
            cpu_pool_destroy(pool);
            return NULL;
        }
    }
    return pool;
}

void cpu_pool_destroy(cpu_pool *pool)
{
    if (!pool)
        return;
    atomic_store(&pool->stopping, 1);
    wake_all(pool);
    for (size_t i = 1; i < pool->n_threads; i++)
        pthread_join(pool->workers[i - 1].thread, NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}

size_t cpu_pool_threads(const cpu_pool *pool)
{
    return pool->n_threads;
}

void cpu_pool_run(cpu_pool *pool, cpu_task task, void *argument)
{
    if (pool->n_threads == 1) {
        task(argument, 0, 1);
        return;
    }
    pool->task = task;
    pool->argument = argument;
    atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
    wake_all(pool);
    task(argument, 0, pool->n_threads);
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0)
        cpu_relax();
}

void cpu_pool_barrier(cpu_pool *pool)
{
    if (pool->n_threads == 1)
        return;
    unsigned round = atomic_load_explicit(&pool->barrier_round, memory_order_acquire);
    if (atomic_fetch_add_explicit(&pool->barrier_waiting, 1, memory_order_acq_rel) + 1 ==
        pool->n_threads) {
        atomic_store_explicit(&pool->barrier_waiting, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->barrier_round, 1, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&pool->barrier_round, memory_order_acquire) == round)
        cpu_relax();
}

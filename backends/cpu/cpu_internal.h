/* CPU backend internals: the context and the workspace. */
#ifndef RECO_CPU_INTERNAL_H
#define RECO_CPU_INTERNAL_H

#include "cpu_pool.h"
#include "reco_math.h"
#include "reco/backend_impl.h"
#include "reco_epoch_build.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* One build runs everywhere; AVX2+FMA machines (x86-64-v3) get the wider
 * loops and fused multiply-adds. Put on the thread tasks, whose static
 * helpers are inlined into each clone. CPU_WIDE_VECTOR_CLONES adds an
 * AVX-512 clone (x86-64-v4), only where it was measured faster: a NeuMF
 * step's tasks (an epoch 4-8% shorter on Sapphire Rapids), not MF rating
 * by rating (1.7x slower at 128 factors). Off under the sanitizers: their
 * runtimes are not ready when the loader resolves the clones (gcc's
 * ThreadSanitizer build crashed there). */
#define CPU_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define CPU_WIDE_VECTOR_CLONES                                                                     \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_VECTOR_CLONES
#define CPU_WIDE_VECTOR_CLONES
#endif

/* Hot helpers called from several tasks: inlined so each clone gets its own. */
#define CPU_INLINE static inline __attribute__((always_inline))

/* Asks for the cache lines of n floats: rows of tables larger than the
 * cache, a few rows before they are read (or, `for_writing`, written). */
CPU_INLINE void cpu_prefetch(const float *values, size_t n, int for_writing)
{
    for (size_t k = 0; k < n; k += 16) {
        if (for_writing)
            __builtin_prefetch(values + k, 1);
        else
            __builtin_prefetch(values + k, 0);
    }
}

#include <pthread.h>

/* The pool is replaced, not resized, when the thread count changes; a call
 * holds a reference to the pool it started with, so that a change from
 * another thread never pulls threads out from under it. */
struct reco_backend_context {
    pthread_mutex_t pool_lock; /* guards the pointer, held for nanoseconds */
    cpu_pool *pool;
};
typedef struct reco_backend_context cpu_context;

/* A buffer is 64-byte aligned host memory: its bytes are its contents. */
CPU_INLINE float *cpu_floats(reco_backend_buffer *buffer)
{
    return (float *)(void *)buffer;
}

CPU_INLINE const float *cpu_const_floats(const reco_backend_buffer *buffer)
{
    return (const float *)(const void *)buffer;
}

CPU_INLINE const int32_t *cpu_ints(const reco_backend_buffer *buffer)
{
    return (const int32_t *)(const void *)buffer;
}

/* A reco_sparse_buffers as host arrays (values NULL when it has none). */
typedef struct cpu_sparse {
    const size_t *offsets;
    const int32_t *columns;
    const float *values;
    size_t n_rows;
    size_t n_columns;
} cpu_sparse;

CPU_INLINE cpu_sparse cpu_sparse_of(const reco_sparse_buffers *buffers)
{
    return (cpu_sparse){(const size_t *)(const void *)buffers->offsets, cpu_ints(buffers->columns),
                        buffers->values ? cpu_const_floats(buffers->values) : NULL,
                        buffers->n_rows, buffers->n_columns};
}

/* Returns the context's current pool with a reference the caller drops
 * with reco_cpu_pool_release. */
cpu_pool *reco_cpu_context_pool(cpu_context *context);

/* What one thread computes on its slice of a batch. In training, slice s
 * holds the batch rows whose item falls in row partition s (in batch order),
 * so that the item rows it gathers are the ones it scatters and steps. */
typedef struct cpu_slice {
    /* slices lie side by side and each thread writes its own: no shared line */
    _Alignas(64) size_t capacity;     /* rows */
    float *gathered[RECO_N_TABLES];   /* GMF and bias rows; MLP rows go to act[0] */
    float *gmf;                       /* capacity x gmf_dim */
    float *act[RECO_MAX_LAYERS + 1];  /* act[0] = user ++ item MLP rows */
    float *mask[RECO_MAX_LAYERS + 1]; /* dropout scale per unit (0 or 1/(1-p)) */
    float *logit;
    float *dlogit;
    float *delta[2];                  /* ping-pong gradients through the tower */
    float *dgathered[RECO_N_TABLES];  /* per-row gradients of the gathered rows */
    float *dense_grad;                /* this thread's share of the dense gradient */
    float *weights_in_by_out;         /* the tower's weights transposed, layer after layer */
    int32_t *origin;                  /* batch row of each of the slice's rows */
    int32_t *users;                   /* the slice's rows (BPR: positives then negatives) */
    int32_t *items;
    float *targets;
    size_t rows;                      /* samples: BPR has two per batch row */
    size_t pair_rows;                 /* BPR: positives in rows [0, pair_rows); else 0 */
    double loss;
    /* the slice's user-table gradients summed per distinct user, so that
     * the thread owning a user's partition reads one row per user, not one
     * per sample, from this slice (whose thread wrote them) */
    int32_t *user_slot;               /* n_users, -1 when not in this batch */
    int32_t *local_users;             /* distinct users, in first-touch order */
    size_t n_local_users;
    float *local_grads[RECO_N_TABLES]; /* user tables: n_local_users x dim */
} cpu_slice;

/* Rows go to partitions in blocks of 16, so that two threads never write
 * the same cache line of a table, its optimizer state or slot_of_row. */
#define CPU_PARTITION_BLOCK 16

static inline size_t cpu_partition_of(int32_t row, size_t n_parts)
{
    size_t block = (size_t)row / CPU_PARTITION_BLOCK;
    /* a division costs more than the rest of a row's scatter */
    return (n_parts & (n_parts - 1)) == 0 ? block & (n_parts - 1) : block % n_parts;
}

/* The user tables share their row ids, and so do the item tables: each
 * side's rows are gathered, scattered and stepped together, one lookup a row.
 * Tables of the user side have even numbers (reco_table_kind's order). */
enum { CPU_SIDE_USERS = 0, CPU_SIDE_ITEMS = 1, CPU_N_SIDES = 2 };

static inline int cpu_side_of(int table)
{
    return table % 2;
}

/* Gradients of one partition of a side's rows (see cpu_partition_of), one
 * entry per distinct row, for every table of that side. */
typedef struct cpu_row_grads {
    int32_t *rows;                /* in order of first touch */
    float *grads[RECO_N_TABLES];  /* the side's tables: n_rows x dim */
    size_t n_rows;
} cpu_row_grads;

/* Gradients of a side's tables. Partitions let threads scatter and step
 * rows without sharing any: partition p belongs to thread p mod threads. */
typedef struct cpu_side_grad {
    size_t n_rows;         /* rows of the side's tables */
    int32_t *slot_of_row;  /* n_rows: index in its partition, -1 untouched */
    cpu_row_grads *parts;  /* n_partitions */
} cpu_side_grad;

/* The ratings of a data set packed for MF rating by rating (cpu_mf_epoch.c). */
typedef struct cpu_mf_grid cpu_mf_grid;
void reco_cpu_mf_grid_free(cpu_mf_grid *grid);

struct reco_backend_workspace {
    size_t max_rows;
    size_t n_slices;      /* also the number of row partitions */
    cpu_slice *slices;
    size_t *slice_counts;
    float *dense_grad;
    cpu_side_grad sides[CPU_N_SIDES];
    double loss_total;    /* batches run with a NULL loss */
    cpu_mf_grid *mf_grid; /* the per-rating MF epoch's packed ratings, or NULL */
    /* train_step returns before the other threads finish their part of the
     * step (cpu_net.c): what they read is in one of two flights, used in
     * turn, until the next step or take_loss lands it */
    struct cpu_flight *flights;
    size_t next_flight;
    cpu_pool *flying; /* the pool the last step may still run on, or NULL */
};
typedef struct reco_backend_workspace cpu_workspace;

reco_backend_workspace_create_fn reco_cpu_workspace_create;
reco_backend_workspace_destroy_fn reco_cpu_workspace_destroy;
reco_backend_forward_fn reco_cpu_forward;
reco_backend_epoch_samples_fn reco_cpu_epoch_samples;
reco_backend_score_items_fn reco_cpu_score_items;
reco_backend_rank_items_fn reco_cpu_rank_items; /* cpu_rank.c */
reco_backend_forward_backward_fn reco_cpu_forward_backward;
reco_backend_take_loss_fn reco_cpu_take_loss;
reco_backend_gradient_download_fn reco_cpu_gradient_download;
reco_backend_gradient_export_fn reco_cpu_gradient_export;
reco_backend_gradient_import_fn reco_cpu_gradient_import;

/* One optimizer step, ready to be shared among threads. */
typedef struct cpu_step {
    reco_step_rule rule;
    int dense_embeddings;
    const reco_net_desc *net;
    reco_net_params *params;
    cpu_workspace *workspace;
    struct reco_backend_optimizer *state;
} cpu_step;

void reco_cpu_step_prepare(cpu_step *step, const reco_net_desc *net, reco_net_params *params,
                           cpu_workspace *workspace, reco_backend_optimizer *state,
                           const reco_optimizer_config *config, float learning_rate,
                           uint64_t step_number);

/* Steps what thread `thread` of n_threads owns: its share of the dense vector
 * (the share it reduced) and its row partitions, or its share of every
 * table's rows in dense-embedding mode (which needs all partitions done). */
void reco_cpu_step_thread(const cpu_step *step, size_t thread, size_t n_threads);

/* The share of n items that part `part` of `parts` owns begins here. */
static inline size_t cpu_share(size_t n, size_t part, size_t parts)
{
    return reco_share(n, part, parts);
}

reco_backend_train_step_fn reco_cpu_train_step;

/* Waits for the other threads' part of a step still in flight on the
 * workspace and adds its loss to the running total; nothing when none is. */
void reco_cpu_workspace_land(cpu_workspace *workspace);
reco_backend_optimizer_settle_fn reco_cpu_optimizer_settle;

reco_backend_mf_epoch_fn reco_cpu_mf_epoch;
reco_backend_ials_solve_fn reco_cpu_ials_solve;
reco_backend_ease_fit_fn reco_cpu_ease_fit;
reco_backend_item_neighbours_fn reco_cpu_item_neighbours;

/* Runs a sampler task on `pool` (a cpu_pool): reco_epoch_build's runner. */
void reco_cpu_run_on_pool(void *pool, reco_parallel_task task, void *argument);

reco_backend_optimizer_create_fn reco_cpu_optimizer_create;
reco_backend_optimizer_destroy_fn reco_cpu_optimizer_destroy;
reco_backend_optimizer_step_fn reco_cpu_optimizer_step;

/* The optimizer's per-value state of each table (rows x dim x moments; NULL
 * where there is none) and of the dense vector (its first moment). */
float *const *reco_cpu_optimizer_table_state(reco_backend_optimizer *state);
float *reco_cpu_optimizer_dense_state(reco_backend_optimizer *state);

#endif

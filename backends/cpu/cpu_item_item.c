/* CPU backend: the item-item families' fits.
 *
 * EASE (Steck, WWW 2019): the item Gram matrix G = X'X of the binary data,
 * P = (G + lambda I)^-1, B = I - P diag(P)^-1. G is formed row by row (row
 * i: the items of each of item i's users), rows shared among the pool's
 * threads. P comes from a blocked Cholesky factorization G + lambda I = L L'
 * (diagonal blocks by the backend's own small factorization, the panel and
 * trailing update by BLIS), the inverse L^-1 (column blocks, each a
 * triangular solve of the lower part only, since L^-1 e_j is zero above j)
 * and P = L^-T L^-1 (column blocks, a product over rows >= the block's
 * first). Every BLIS call runs on one thread on a block of rows or columns
 * that is the same whatever the thread count, so the result does not depend
 * on it: n^3 / 3 + n^3 / 3 + n^3 flops in all.
 *
 * Item-kNN: row i of S = W'W (s_ij = sum_u w_ui w_uj) accumulated in doubles
 * over item i's users, its k largest kept by a bounded heap. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"
#include "cpu_internal.h"
#include "cpu_linalg.h"
#include "reco_alloc.h"

/* Rows or columns a BLIS call takes at a time; items a thread takes at a time. */
#define BLOCK 128
#define CHUNK_ITEMS 16

typedef struct ease_run {
    cpu_sparse by_item, by_user;
    size_t n;
    float regularization;
    float *gram;    /* G + lambda I, then L, then P */
    float *inverse; /* L^-1, then B */
    atomic_size_t next;
    atomic_int not_positive;
} ease_run;

/* Row i of G: for each of item i's users, +1 at each of the user's items. */
static void gram_rows(ease_run *run)
{
    size_t n = run->n, n_chunks = (n + CHUNK_ITEMS - 1) / CHUNK_ITEMS;
    for (size_t chunk; (chunk = atomic_fetch_add(&run->next, 1)) < n_chunks;) {
        size_t end = (chunk + 1) * CHUNK_ITEMS < n ? (chunk + 1) * CHUNK_ITEMS : n;
        for (size_t i = chunk * CHUNK_ITEMS; i < end; i++) {
            float *row = run->gram + i * n;
            memset(row, 0, n * sizeof *row);
            for (size_t e = run->by_item.offsets[i]; e < run->by_item.offsets[i + 1]; e++) {
                size_t u = (size_t)run->by_item.columns[e];
                for (size_t f = run->by_user.offsets[u]; f < run->by_user.offsets[u + 1]; f++)
                    row[run->by_user.columns[f]] += 1.0f;
            }
            row[i] += run->regularization;
        }
    }
}

/* Blocked right-looking Cholesky of run->gram in place (lower). Block
 * columns in order; within one, thread 0 factors the diagonal block, then
 * the panel's row blocks and the trailing update's row blocks go round
 * the threads. */
static void factor(ease_run *run, cpu_pool *pool, size_t thread, size_t n_threads)
{
    size_t n = run->n;
    float *a = run->gram;
    for (size_t k = 0; k < n; k += BLOCK) {
        size_t kb = n - k < BLOCK ? n - k : BLOCK, below = k + kb;
        if (thread == 0 && !cholesky(a + k * n + k, kb, n))
            atomic_store(&run->not_positive, 1);
        reco_cpu_pool_barrier(pool, thread);
        if (atomic_load(&run->not_positive))
            return;
        size_t n_blocks = (n - below + BLOCK - 1) / BLOCK;
        for (size_t b = thread; b < n_blocks; b += n_threads) {
            size_t row = below + b * BLOCK, rows = n - row < BLOCK ? n - row : BLOCK;
            reco_cpu_blis_trsm(1, 1, rows, kb, a + k * n + k, n, a + row * n + k, n);
        }
        reco_cpu_pool_barrier(pool, thread);
        /* the lower triangle of the trailing matrix, a row block at a time */
        for (size_t b = thread; b < n_blocks; b += n_threads) {
            size_t row = below + b * BLOCK, rows = n - row < BLOCK ? n - row : BLOCK;
            reco_cpu_blis_gemm(0, 1, rows, row + rows - below, kb, -1.0f, a + row * n + k, n,
                               a + below * n + k, n, 1.0f, a + row * n + below, n);
        }
        reco_cpu_pool_barrier(pool, thread);
    }
}

/* inverse = L^-1, column block by column block: columns [c, c + cb) are
 * zero above row c, and below it solve L[c:, c:] x = e. */
static void invert_factor(ease_run *run, size_t thread, size_t n_threads)
{
    size_t n = run->n, n_blocks = (n + BLOCK - 1) / BLOCK;
    const float *l = run->gram;
    float *x = run->inverse;
    for (size_t b = thread; b < n_blocks; b += n_threads) {
        size_t c = b * BLOCK, cb = n - c < BLOCK ? n - c : BLOCK;
        for (size_t r = 0; r < n; r++) {
            memset(x + r * n + c, 0, cb * sizeof *x);
            if (r >= c && r < c + cb)
                x[r * n + r] = 1.0f;
        }
        reco_cpu_blis_trsm(0, 0, n - c, cb, l + c * n + c, n, x + c * n + c, n);
    }
}

/* P = L^-T L^-1 into run->gram (L is no longer needed): columns [c, c + cb)
 * of P sum over rows >= c of L^-1, where its columns c.. are not zero. */
static void form_inverse(ease_run *run, size_t thread, size_t n_threads)
{
    size_t n = run->n, n_blocks = (n + BLOCK - 1) / BLOCK;
    const float *x = run->inverse;
    float *p = run->gram;
    for (size_t b = thread; b < n_blocks; b += n_threads) {
        size_t c = b * BLOCK, cb = n - c < BLOCK ? n - c : BLOCK;
        for (size_t r = 0; r < n; r++)
            memset(p + r * n + c, 0, cb * sizeof *p);
        reco_cpu_blis_gemm(1, 0, n, cb, n - c, 1.0f, x + c * n, n, x + c * n + c, n, 1.0f, p + c,
                           n);
    }
}

/* B_ij = -P_ij / P_jj, zero diagonal, into run->inverse; rows round the threads. */
static void weights_from_inverse(ease_run *run, size_t thread, size_t n_threads)
{
    size_t n = run->n;
    const float *p = run->gram;
    for (size_t i = thread; i < n; i += n_threads)
        for (size_t j = 0; j < n; j++)
            run->inverse[i * n + j] = i == j ? 0.0f : -p[i * n + j] / p[j * n + j];
}

typedef struct ease_task {
    ease_run *run;
    cpu_pool *pool;
} ease_task;

CPU_VECTOR_CLONES static void ease_fit_task(void *argument, size_t thread, size_t n_threads)
{
    ease_task *task = argument;
    ease_run *run = task->run;
    gram_rows(run);
    reco_cpu_pool_barrier(task->pool, thread);
    factor(run, task->pool, thread, n_threads);
    if (atomic_load(&run->not_positive))
        return;
    invert_factor(run, thread, n_threads);
    reco_cpu_pool_barrier(task->pool, thread);
    form_inverse(run, thread, n_threads);
    reco_cpu_pool_barrier(task->pool, thread);
    weights_from_inverse(run, thread, n_threads);
}

reco_status reco_cpu_ease_fit(reco_backend_context *context, const reco_sparse_buffers *by_item,
                              const reco_sparse_buffers *by_user, float regularization,
                              reco_backend_buffer *weights)
{
    size_t n = by_item->n_rows;
    ease_run run = {.by_item = cpu_sparse_of(by_item),
                    .by_user = cpu_sparse_of(by_user),
                    .n = n,
                    .regularization = regularization,
                    .gram = reco_malloc_array(n ? n * n : 1, sizeof(float)),
                    .inverse = cpu_floats(weights)};
    atomic_init(&run.next, 0);
    atomic_init(&run.not_positive, 0);
    if (!run.gram)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY,
                                 "cpu backend: out of memory for EASE's Gram matrix");
    cpu_pool *pool = reco_cpu_context_pool(context);
    ease_task task = {&run, pool};
    reco_cpu_pool_run(pool, ease_fit_task, &task);
    reco_cpu_pool_release(pool);
    reco_free(run.gram);
    if (atomic_load(&run.not_positive))
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT,
                                 "EASE: X'X + lambda I is not positive definite; set a weight "
                                 "decay (lambda) above 0");
    return RECO_OK;
}

/* A bounded min-heap of (value, item): the k largest seen, the smallest on
 * top; a tie goes to the lower item. */
typedef struct neighbour {
    double value;
    int32_t item;
} neighbour;

static int worse(neighbour a, neighbour b)
{
    return a.value < b.value || (a.value == b.value && a.item > b.item);
}

static void sift_down(neighbour *heap, size_t n, size_t at)
{
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= n)
            return;
        if (child + 1 < n && worse(heap[child + 1], heap[child]))
            child++;
        if (!worse(heap[child], heap[at]))
            return;
        neighbour swap = heap[at];
        heap[at] = heap[child];
        heap[child] = swap;
        at = child;
    }
}

static void heap_offer(neighbour *heap, size_t *n, size_t k, neighbour candidate)
{
    if (*n < k) {
        size_t at = (*n)++;
        heap[at] = candidate;
        while (at > 0 && worse(heap[at], heap[(at - 1) / 2])) {
            neighbour swap = heap[at];
            heap[at] = heap[(at - 1) / 2];
            heap[(at - 1) / 2] = swap;
            at = (at - 1) / 2;
        }
    } else if (worse(heap[0], candidate)) {
        heap[0] = candidate;
        sift_down(heap, *n, 0);
    }
}

static int by_item_index(const void *a, const void *b)
{
    int32_t left = ((const neighbour *)a)->item, right = ((const neighbour *)b)->item;
    return (left > right) - (left < right);
}

typedef struct knn_run {
    cpu_sparse by_item, by_user;
    size_t n_items, k;
    int32_t *columns;
    float *values;
    size_t *counts;
    double *sums;       /* per thread: n_items */
    int32_t *touched;   /* per thread: n_items, the items row i reached */
    unsigned char *marks; /* per thread: n_items, 1 where touched */
    neighbour *heaps;   /* per thread: k */
    atomic_size_t next;
} knn_run;

CPU_VECTOR_CLONES static void neighbours_task(void *argument, size_t thread, size_t n_threads)
{
    (void)n_threads;
    knn_run *run = argument;
    size_t n = run->n_items, k = run->k, n_chunks = (n + CHUNK_ITEMS - 1) / CHUNK_ITEMS;
    double *sums = run->sums + thread * n;
    int32_t *touched = run->touched + thread * n;
    unsigned char *marks = run->marks + thread * n;
    neighbour *heap = run->heaps + thread * k;
    for (size_t chunk; (chunk = atomic_fetch_add(&run->next, 1)) < n_chunks;) {
        size_t end = (chunk + 1) * CHUNK_ITEMS < n ? (chunk + 1) * CHUNK_ITEMS : n;
        for (size_t i = chunk * CHUNK_ITEMS; i < end; i++) {
            size_t n_touched = 0;
            for (size_t e = run->by_item.offsets[i]; e < run->by_item.offsets[i + 1]; e++) {
                size_t u = (size_t)run->by_item.columns[e];
                double w = run->by_item.values[e];
                for (size_t f = run->by_user.offsets[u]; f < run->by_user.offsets[u + 1]; f++) {
                    int32_t j = run->by_user.columns[f];
                    if (!marks[j]) {
                        marks[j] = 1;
                        touched[n_touched++] = j;
                    }
                    sums[j] += w * run->by_user.values[f];
                }
            }
            size_t in_heap = 0;
            for (size_t t = 0; t < n_touched; t++) {
                int32_t j = touched[t];
                heap_offer(heap, &in_heap, k, (neighbour){sums[j], j});
                sums[j] = 0.0;
                marks[j] = 0;
            }
            qsort(heap, in_heap, sizeof *heap, by_item_index);
            for (size_t h = 0; h < in_heap; h++) {
                run->columns[i * k + h] = heap[h].item;
                run->values[i * k + h] = (float)heap[h].value;
            }
            run->counts[i] = in_heap;
        }
    }
}

reco_status reco_cpu_item_neighbours(reco_backend_context *context,
                                     const reco_sparse_buffers *by_item,
                                     const reco_sparse_buffers *by_user, size_t k,
                                     reco_backend_buffer *columns, reco_backend_buffer *values,
                                     reco_backend_buffer *counts)
{
    cpu_pool *pool = reco_cpu_context_pool(context);
    size_t n_threads = reco_cpu_pool_threads(pool), n = by_item->n_rows;
    knn_run run = {.by_item = cpu_sparse_of(by_item),
                   .by_user = cpu_sparse_of(by_user),
                   .n_items = n,
                   .k = k,
                   .columns = (int32_t *)(void *)columns,
                   .values = cpu_floats(values),
                   .counts = (size_t *)(void *)counts,
                   .sums = reco_calloc(n_threads * (n ? n : 1), sizeof(double)),
                   .touched = reco_malloc_array(n_threads * (n ? n : 1), sizeof(int32_t)),
                   .marks = reco_calloc(n_threads * (n ? n : 1), 1),
                   .heaps = reco_malloc_array(n_threads * k, sizeof(neighbour))};
    atomic_init(&run.next, 0);
    reco_status status = RECO_OK;
    if (!run.sums || !run.touched || !run.marks || !run.heaps)
        status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY,
                                   "cpu backend: out of memory for item neighbours");
    else
        reco_cpu_pool_run(pool, neighbours_task, &run);
    reco_cpu_pool_release(pool);
    reco_free(run.sums);
    reco_free(run.touched);
    reco_free(run.marks);
    reco_free(run.heaps);
    return status;
}

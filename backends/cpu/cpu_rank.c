/* CPU backend: every item ranked for many users, the best k kept
 * (rank_items). Dot-product networks: each thread takes a share of the
 * users and, RANK_USERS of them at a time, multiplies them by blocks of
 * RANK_ITEMS items (BLIS, on the thread), offering each block's scores to
 * the users' heaps before it makes the next: one block of scores a thread
 * (512 KiB), whatever the catalog's size. Item-item kinds: one user's row
 * of scores at a time (smaller than their items x items weights). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu_gemm.h"
#include "cpu_internal.h"
#include "reco_alloc.h"
#include "reco_item_scores.h"
#include "reco_topk.h"

/* Below RANK_PRODUCT_USERS users a block is made by dot products, which
 * read each item's row once, where BLIS would first pack the block. */
enum { RANK_USERS = 128, RANK_ITEMS = 1024, RANK_PRODUCT_USERS = 4 };

typedef struct rank_pass {
    const reco_net_desc *net;
    const reco_net_params *params;
    const reco_rank_request *request;
    atomic_int failed; /* a thread found no memory */
} rank_pass;

/* Where user's left-out items start (its cursor for left_out). */
static size_t first_left_out(const reco_host_rows *exclude, int32_t user)
{
    return exclude->offsets && (size_t)user < exclude->n_rows ? exclude->offsets[user] : 0;
}

/* Marks the user's left-out items among [first, first + n) NaN in row, which
 * never ranks; *cursor walks its sorted list from block to block. */
static void leave_out(const reco_host_rows *exclude, int32_t user, size_t *cursor, size_t first,
                      size_t n, float *row)
{
    if (!exclude->offsets || (size_t)user >= exclude->n_rows)
        return;
    size_t end = exclude->offsets[user + 1];
    for (; *cursor < end && (size_t)exclude->columns[*cursor] < first + n; ++*cursor)
        if ((size_t)exclude->columns[*cursor] >= first)
            row[(size_t)exclude->columns[*cursor] - first] = NAN;
}

/* Marks the items of [first, first + n) that are no candidates NaN. */
static void keep_candidates(const uint8_t *candidates, size_t first, size_t n, float *row)
{
    if (!candidates)
        return;
    for (size_t i = 0; i < n; i++)
        if (!candidates[first + i])
            row[i] = NAN;
}

/* Products to logits, as forward makes them: + (head bias + user bias) +
 * item bias; an output ReLU applied (it ties what it clamps). */
CPU_INLINE void finish_logits(float *row, size_t n, float offset, const float *item_bias,
                              reco_activation output)
{
    for (size_t i = 0; i < n; i++)
        row[i] = row[i] + offset + (item_bias ? item_bias[i] : 0.0f);
    if (output == RECO_ACTIVATION_RELU)
        for (size_t i = 0; i < n; i++)
            row[i] = row[i] > 0.0f ? row[i] : 0.0f;
}

/* block (m x n) = queries (m x dim) times the n item rows from `items`. */
CPU_INLINE void multiply(const float *queries, size_t m, const float *items, size_t n, size_t dim,
                         float *block)
{
    if (m >= RANK_PRODUCT_USERS) {
        reco_cpu_blis_gemm(0, 1, m, n, dim, 1.0f, queries, dim, items, dim, 0.0f, block, n);
        return;
    }
    size_t whole = dim / 16 * 16;
    for (size_t i = 0; i < n; i++) {
        const float *item = items + i * dim;
        for (size_t u = 0; u < m; u++) {
            const float *query = queries + u * dim;
            float lanes[16] = {0}, sum = 0.0f;
            for (size_t d = 0; d < whole; d += 16)
                for (size_t l = 0; l < 16; l++)
                    lanes[l] += query[d + l] * item[d + l];
            for (size_t d = whole; d < dim; d++)
                sum += query[d] * item[d];
            for (size_t l = 0; l < 16; l++)
                sum += lanes[l];
            block[u * n + i] = sum;
        }
    }
}

/* One block of users against every item, block by block of items. */
CPU_INLINE void rank_user_block(const rank_pass *pass, size_t first, size_t m, float *queries,
                                float *offsets, size_t *cursors, reco_topk *heaps, float *block)
{
    const reco_rank_request *rq = pass->request;
    const reco_net_desc *net = pass->net;
    const reco_net_params *params = pass->params;
    size_t dim = net->table_dim[RECO_TABLE_USER_GMF], n_items = rq->n_items, k = rq->k;
    const float *user_table = cpu_const_floats(params->tables[RECO_TABLE_USER_GMF]);
    const float *item_table = cpu_const_floats(params->tables[RECO_TABLE_ITEM_GMF]);
    const float *dense = cpu_const_floats(params->dense), *head_w = dense + net->head_w_offset;
    const float *user_bias = params->tables[RECO_TABLE_USER_BIAS]
                                 ? cpu_const_floats(params->tables[RECO_TABLE_USER_BIAS])
                                 : NULL;
    const float *item_bias = params->tables[RECO_TABLE_ITEM_BIAS]
                                 ? cpu_const_floats(params->tables[RECO_TABLE_ITEM_BIAS])
                                 : NULL;
    for (size_t u = 0; u < m; u++) {
        int32_t user = rq->users[first + u];
        /* GMF's head weights scale the user's row (MF's are ones) */
        for (size_t d = 0; d < dim; d++)
            queries[u * dim + d] = user_table[(size_t)user * dim + d] * head_w[d];
        offsets[u] = dense[net->head_b_offset] + (user_bias ? user_bias[user] : 0.0f);
        cursors[u] = first_left_out(&rq->exclude, user);
        reco_topk_init(&heaps[u], k, rq->items + (first + u) * k, rq->scores + (first + u) * k);
    }
    for (size_t item0 = 0; item0 < n_items; item0 += RANK_ITEMS) {
        size_t n = n_items - item0 < RANK_ITEMS ? n_items - item0 : RANK_ITEMS;
        multiply(queries, m, item_table + item0 * dim, n, dim, block);
        for (size_t u = 0; u < m; u++) {
            float *row = block + u * n;
            finish_logits(row, n, offsets[u], item_bias ? item_bias + item0 : NULL,
                          net->output_activation);
            leave_out(&rq->exclude, rq->users[first + u], &cursors[u], item0, n, row);
            keep_candidates(rq->candidates, item0, n, row);
            reco_topk_push_row(&heaps[u], (int32_t)item0, row, n);
        }
    }
    for (size_t u = 0; u < m; u++) {
        size_t count = reco_topk_finish(&heaps[u]);
        rq->counts[first + u] = count;
        /* a sigmoid keeps the order: applied to the kept scores only */
        if (net->output_activation == RECO_ACTIVATION_SIGMOID)
            for (size_t i = 0; i < count; i++)
                heaps[u].scores[i] = reco_activate(RECO_MATH_SIGMOID, heaps[u].scores[i]);
    }
}

/* Users [begin, end) of a dot-product network. */
CPU_INLINE void rank_dense(rank_pass *pass, size_t begin, size_t end)
{
    size_t dim = pass->net->table_dim[RECO_TABLE_USER_GMF];
    float *queries = reco_malloc_array(RANK_USERS * (dim ? dim : 1), sizeof *queries);
    float *block = reco_malloc_array(RANK_USERS * RANK_ITEMS, sizeof *block);
    float *offsets = reco_malloc_array(RANK_USERS, sizeof *offsets);
    size_t *cursors = reco_malloc_array(RANK_USERS, sizeof *cursors);
    reco_topk *heaps = reco_malloc_array(RANK_USERS, sizeof *heaps);
    if (!queries || !block || !offsets || !cursors || !heaps)
        atomic_store(&pass->failed, 1);
    else
        for (size_t first = begin; first < end; first += RANK_USERS)
            rank_user_block(pass, first, end - first < RANK_USERS ? end - first : RANK_USERS,
                            queries, offsets, cursors, heaps, block);
    reco_free(queries);
    reco_free(block);
    reco_free(offsets);
    reco_free(cursors);
    reco_free(heaps);
}

/* Users [begin, end) of an item-item model. */
CPU_INLINE void rank_item_item(rank_pass *pass, size_t begin, size_t end)
{
    const reco_rank_request *rq = pass->request;
    size_t n_items = rq->n_items, k = rq->k;
    float *row = reco_malloc_array(n_items ? n_items : 1, sizeof *row);
    if (!row) {
        atomic_store(&pass->failed, 1);
        return;
    }
    for (size_t u = begin; u < end; u++) {
        int32_t user = rq->users[u];
        reco_item_scores(&rq->history, rq->item_weights, &rq->neighbours, n_items, user, row);
        size_t cursor = first_left_out(&rq->exclude, user);
        leave_out(&rq->exclude, user, &cursor, 0, n_items, row);
        keep_candidates(rq->candidates, 0, n_items, row);
        reco_topk heap;
        reco_topk_init(&heap, k, rq->items + u * k, rq->scores + u * k);
        reco_topk_push_row(&heap, 0, row, n_items);
        rq->counts[u] = reco_topk_finish(&heap);
    }
    reco_free(row);
}

/* Thread `thread` ranks its share of the users. */
CPU_VECTOR_CLONES
static void rank_task(void *argument, size_t thread, size_t n_threads)
{
    rank_pass *pass = argument;
    size_t begin = cpu_share(pass->request->n_users, thread, n_threads);
    size_t end = cpu_share(pass->request->n_users, thread + 1, n_threads);
    if (begin == end)
        return;
    if (pass->request->history.offsets)
        rank_item_item(pass, begin, end);
    else
        rank_dense(pass, begin, end);
}

reco_status reco_cpu_rank_items(reco_backend_context *context, const reco_net_desc *net,
                                const reco_net_params *params, const reco_rank_request *request)
{
    rank_pass pass = {net, params, request, 0};
    cpu_pool *pool = reco_cpu_context_pool(context);
    reco_cpu_pool_run_or_inline(pool, rank_task, &pass);
    reco_cpu_pool_release(pool);
    if (atomic_load(&pass.failed))
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    return RECO_OK;
}

/* CUDA backend: SGD (momentum), Adagrad and Adam in torch.optim's forms, the
 * same arithmetic as the CPU backend, on the dense vector and on embedding
 * rows (the rows a batch touched, after the replay of the steps each sat
 * idle, or every row in dense-embedding mode). */
#include <math.h>
#include <stdlib.h>

#include "cuda_internal.h"

struct reco_backend_optimizer {
    float *dense_first; /* SGD momentum, Adagrad sum, Adam first moment */
    float *dense_second;
    float *table_first[RECO_N_TABLES];
    float *table_second[RECO_N_TABLES];
    uint64_t *table_last[RECO_N_TABLES]; /* per row: the step that last stepped it */
};
typedef struct reco_backend_optimizer cuda_optimizer_state;

typedef cuda_step_rule step_rule;

#define GRID_STRIDE(index, n)                                                          \
    for (size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x; index < (n);    \
         index += (size_t)blockDim.x * gridDim.x)

/* A table one step updates: every row (dense-embedding mode) or the rows
 * the batch touched (the first *count of rows[]). */
typedef struct step_entry {
    size_t size, dim; /* size: rows considered x dim */
    float *table;
    const float *grads;
    float *first;
    float *second;
    const int *rows; /* NULL: every row */
    const int *count;
    uint64_t *last; /* per row, the step that last stepped it */
} step_entry;

/* The touched rows of a table, whose last step becomes this one. */
typedef struct mark_entry {
    size_t size; /* rows considered */
    const int *rows;
    const int *count;
    uint64_t *last;
} mark_entry;

/* The dense vector (its first n_dense elements, but for the untrained head
 * range), then the tables. */
__global__ static void step_kernel(const cuda_step_args *args, float *dense,
                                   const float *dense_grad, float *dense_first,
                                   float *dense_second, size_t n_dense, size_t frozen_begin,
                                   size_t frozen_end, cuda_list<step_entry> list, size_t total)
{
    const step_rule rule = args->rule;
    GRID_STRIDE(index, n_dense + total)
    {
        if (index < n_dense) {
            if (index < frozen_begin || index >= frozen_end)
                reco_optimizer_update(rule, dense + index, dense_grad[index],
                       dense_first ? dense_first + index : NULL,
                       dense_second ? dense_second + index : NULL);
            continue;
        }
        size_t local;
        const step_entry &e = list.entry[cuda_locate(list, index - n_dense, &local)];
        size_t r = local / e.dim, d = local % e.dim, at = local;
        reco_idle_steps idle = {0.0f, 1.0f, 1.0f};
        if (e.rows) {
            if (r >= (size_t)*e.count)
                continue;
            at = (size_t)e.rows[r] * e.dim + d;
            if (e.last)
                idle = reco_idle_steps_make(rule, reco_idle_count(rule, e.last[e.rows[r]]));
        } else if (e.last && d == 0) {
            /* dense steps keep the count too: a later lazy epoch replays nothing
             * twice (nothing reads it in this mode) */
            e.last[r] = rule.step;
        }
        float *first = e.first ? e.first + at : NULL, *second = e.second ? e.second + at : NULL;
        if (reco_idle_steps_change(idle))
            reco_optimizer_replay(rule, idle, e.table + at, first, second);
        reco_optimizer_update(rule, e.table + at, e.grads[at], first, second);
    }
}

/* After step_kernel (which reads the rows' last steps), in stream order. */
__global__ static void mark_kernel(const cuda_step_args *args, cuda_list<mark_entry> list,
                                   size_t total)
{
    GRID_STRIDE(index, total)
    {
        size_t r;
        const mark_entry &e = list.entry[cuda_locate(list, index, &r)];
        if (r < (size_t)*e.count)
            e.last[e.rows[r]] = args->rule.step;
    }
}

void cuda_optimizer_destroy(reco_backend_context *context, reco_backend_optimizer *opaque)
{
    (void)context;
    cuda_optimizer_state *state = (cuda_optimizer_state *)opaque;
    if (!state)
        return;
    cudaDeviceSynchronize();
    cudaFree(state->dense_first);
    cudaFree(state->dense_second);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        cudaFree(state->table_first[t]);
        cudaFree(state->table_second[t]);
        cudaFree(state->table_last[t]);
    }
    free(state);
}

static float *zeroed(size_t count, cudaStream_t stream, reco_status *status)
{
    void *pointer = NULL;
    if (*status == RECO_OK)
        *status = cuda_check(cudaMalloc(&pointer, (count ? count : 1) * sizeof(float)),
                             "cudaMalloc");
    if (*status == RECO_OK)
        *status = cuda_check(cudaMemsetAsync(pointer, 0, count * sizeof(float), stream), "memset");
    return (float *)pointer;
}

reco_status cuda_optimizer_create(reco_backend_context *opaque, const reco_net_desc *net,
                                  const reco_optimizer_config *config, reco_backend_optimizer **out)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_optimizer_state *state = (cuda_optimizer_state *)calloc(1, sizeof *state);
    if (!state)
        return cuda_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    int first = config->kind != 0 || config->momentum > 0.0f,
        second = reco_optimizer_is_adam(config->kind);
    reco_status status = RECO_OK;
    if (first)
        state->dense_first = zeroed(net->n_dense, context->stream, &status);
    if (second)
        state->dense_second = zeroed(net->n_dense, context->stream, &status);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t size = net->table_rows[t] * net->table_dim[t];
        if (!size)
            continue;
        if (first)
            state->table_first[t] = zeroed(size, context->stream, &status);
        if (second)
            state->table_second[t] = zeroed(size, context->stream, &status);
        /* two floats' worth of zeros a row: its last step, 0 (never) */
        if (first)
            state->table_last[t] = (uint64_t *)zeroed(2 * net->table_rows[t], context->stream,
                                                      &status);
    }
    if (status != RECO_OK) {
        cuda_optimizer_destroy(context, state);
        return status;
    }
    *out = state;
    return RECO_OK;
}

cuda_step_rule cuda_step_rule_for(const reco_optimizer_config *config, float learning_rate,
                                  uint64_t step)
{
    return reco_step_rule_make(config->kind, learning_rate, config->momentum, config->beta1,
                               config->beta2, config->epsilon, config->weight_decay, step);
}

reco_status cuda_enqueue_optimizer_step(cuda_context *context, const reco_net_desc *net,
                                        reco_net_params *params, cuda_workspace *w,
                                        reco_backend_optimizer *opaque_state, const reco_optimizer_config *config)
{
    cuda_optimizer_state *state = (cuda_optimizer_state *)opaque_state;
    /* the untrained head parts form one range: weights (MF), or bias too */
    size_t frozen_begin = net->train_head_weights ? net->head_b_offset : net->head_w_offset;
    size_t frozen_end = net->train_head_bias ? net->head_b_offset : net->n_dense;
    if (net->train_head_weights && net->train_head_bias)
        frozen_begin = frozen_end = 0;
    int lazy = !config->dense_embeddings;
    cuda_list<step_entry> steps = {0, {}};
    cuda_list<mark_entry> marks = {0, {}};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t dim = net->table_dim[t];
        if (!dim)
            continue;
        const cuda_table_grad *g = &w->tables[t];
        uint64_t *last = state->table_last[t];
        steps.entry[steps.n++] = {(lazy ? w->capacity : net->table_rows[t]) * dim,
                                  dim,
                                  (float *)params->tables[t],
                                  g->grads,
                                  state->table_first[t],
                                  state->table_second[t],
                                  lazy ? g->rows : NULL,
                                  g->count,
                                  last};
        if (lazy && last)
            marks.entry[marks.n++] = {w->capacity, g->rows, g->count, last};
    }
    size_t n_dense = net->n_dense;
    cuda_launch_list(steps, [&](const cuda_list<step_entry> &list, size_t total, bool first) {
        size_t dense = first ? n_dense : 0;
        step_kernel<<<cuda_blocks(dense + total), CUDA_BLOCK, 0, context->stream>>>(
            w->args, (float *)params->dense, w->dense_grad, state->dense_first,
            state->dense_second, dense, frozen_begin, frozen_end, list, total);
    });
    if (marks.n)
        cuda_launch_list(marks, [&](const cuda_list<mark_entry> &list, size_t total, bool) {
            mark_kernel<<<cuda_blocks(total), CUDA_BLOCK, 0, context->stream>>>(w->args, list,
                                                                                total);
        });
    return cuda_check(cudaGetLastError(), "optimizer step");
}

/* A table whose rows replay their idle steps as an epoch ends. */
typedef struct settle_entry {
    size_t size; /* rows */
    size_t dim;
    float *table, *first, *second;
    uint64_t *last;
} settle_entry;

/* Replays every row's idle steps up to rule.step - 1: one thread a row. */
__global__ static void settle_kernel(step_rule rule, cuda_list<settle_entry> list, size_t total)
{
    GRID_STRIDE(index, total)
    {
        size_t row;
        const settle_entry &e = list.entry[cuda_locate(list, index, &row)];
        reco_idle_steps idle = reco_idle_steps_make(rule, reco_idle_count(rule, e.last[row]));
        if (!reco_idle_steps_change(idle))
            continue;
        e.last[row] = rule.step - 1;
        for (size_t d = 0, at = row * e.dim; d < e.dim; d++, at++)
            reco_optimizer_replay(rule, idle, e.table + at, e.first + at,
                                  e.second ? e.second + at : NULL);
    }
}

/* The tables whose rows have idle steps to replay. */
static cuda_list<settle_entry> replaying_tables(const reco_net_desc *net,
                                                reco_net_params *params,
                                                const cuda_optimizer_state *state)
{
    cuda_list<settle_entry> list = {0, {}};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!net->table_dim[t] || !state->table_last[t])
            continue;
        settle_entry e = {net->table_rows[t], net->table_dim[t], (float *)params->tables[t],
                          state->table_first[t], state->table_second[t], state->table_last[t]};
        list.entry[list.n++] = e;
    }
    return list;
}

reco_status cuda_optimizer_settle(reco_backend_context *opaque, const reco_net_desc *net,
                                  reco_net_params *params, reco_backend_optimizer *opaque_state,
                                  const reco_optimizer_config *config, float learning_rate,
                                  uint64_t step)
{
    cuda_context *context = (cuda_context *)opaque;
    const cuda_optimizer_state *state = (const cuda_optimizer_state *)opaque_state;
    if (config->dense_embeddings || step == 0)
        return RECO_OK;
    /* as if the next step touched every row */
    step_rule rule = cuda_step_rule_for(config, learning_rate, step + 1);
    /* an optimizer without moments to replay (SGD without momentum, Adagrad) */
    cuda_list<settle_entry> list = replaying_tables(net, params, state);
    if (!list.n || !reco_idle_steps_change(reco_idle_steps_make(rule, 1)))
        return RECO_OK;
    cuda_launch_list(list, [&](const cuda_list<settle_entry> &part, size_t total, bool) {
        settle_kernel<<<cuda_blocks(total), CUDA_BLOCK, 0, context->stream>>>(rule, part, total);
    });
    return cuda_check(cudaGetLastError(), "settling idle rows");
}

reco_status cuda_optimizer_step(reco_backend_context *opaque, const reco_net_desc *net, reco_net_params *params,
                                reco_backend_workspace *workspace, reco_backend_optimizer *state,
                                const reco_optimizer_config *config, float learning_rate,
                                uint64_t step)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    /* the batch's kernels, earlier in the stream, have read its args already */
    cuda_step_args args = {0, 0, cuda_step_rule_for(config, learning_rate, step)};
    reco_status status = cuda_store_step_args(context, w->args, &args);
    return status == RECO_OK
               ? cuda_enqueue_optimizer_step(context, net, params, w, state, config)
               : status;
}

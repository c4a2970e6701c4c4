/* CPU backend: SGD (momentum), Adagrad and Adam, in the forms torch.optim
 * uses, on the dense vector and on embedding rows: only the rows a batch
 * touched (lazy, replaying the steps a row sat idle: reco_idle_steps), or
 * every row with a zero gradient for the rest (dense). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "reco_alloc.h"

/* Rows of ml-1m sit idle 10-30 steps between touches; the rare longer
 * stretches pay for their pow() calls. */
#define IDLE_TABLE 1024

struct reco_backend_optimizer {
    float *dense_first;   /* SGD momentum buffer, Adagrad sum, Adam first moment */
    float *dense_second;  /* Adam second moment */
    /* per table row: the first moment, then the second (Adam), side by side
     * so that a row's state is one stretch of memory */
    float *table_state[RECO_N_TABLES];
    uint64_t *last_step[RECO_N_TABLES]; /* per row: the step that last stepped it */
    size_t state_width;   /* 0, 1 or 2 moments */
    /* reco_idle_steps_make of 0 .. IDLE_TABLE - 1 idle steps, for the rule
     * it was made for: three pow() a row would cost as much as the step */
    reco_idle_steps idle_table[IDLE_TABLE];
    reco_step_rule idle_rule;
    float *zeros;         /* the gradient of untouched rows, widest table */
};
typedef struct reco_backend_optimizer cpu_optimizer_state;

static const reco_idle_steps no_idle_steps = {0.0f, 1.0f, 1.0f};

/* Replays `idle` on n parameters (the momentum of SGD or Adam). */
CPU_INLINE void replay_values(reco_step_rule rule, reco_idle_steps idle, float *restrict param,
                              float *restrict first, float *restrict second, size_t n)
{
    if (reco_optimizer_is_adam(rule.kind)) {
        for (size_t i = 0; i < n; i++)
            reco_optimizer_replay(rule, idle, param + i, first + i, second + i);
    } else {
        for (size_t i = 0; i < n; i++)
            reco_optimizer_replay(rule, idle, param + i, first + i, NULL);
    }
}

/* Steps n parameters with their gradient (all zeros for rows a batch did not
 * touch in dense-embedding mode: they still decay and move under momentum),
 * after replaying `idle` (lazy mode). The rule is copied in, so that the
 * loops see constants and vectorize; replay and step share one pass, so
 * that their two chains of square roots and divisions overlap. */
CPU_INLINE void step_values(reco_step_rule rule, reco_idle_steps idle, float *restrict param,
                            const float *restrict grad, float *restrict first,
                            float *restrict second, size_t n)
{
    if (rule.kind == 0 && !first) {
        for (size_t i = 0; i < n; i++)
            reco_optimizer_update(rule, param + i, grad[i], NULL, NULL);
    } else if (!reco_optimizer_is_adam(rule.kind)) {
        if (reco_idle_steps_change(idle))
            replay_values(rule, idle, param, first, NULL, n);
        for (size_t i = 0; i < n; i++)
            reco_optimizer_update(rule, param + i, grad[i], first + i, NULL);
    } else if (reco_idle_steps_change(idle)) {
        for (size_t i = 0; i < n; i++) {
            reco_optimizer_replay(rule, idle, param + i, first + i, second + i);
            reco_optimizer_update(rule, param + i, grad[i], first + i, second + i);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            reco_optimizer_update(rule, param + i, grad[i], first + i, second + i);
    }
}

static int needs_second(int kind)
{
    return reco_optimizer_is_adam(kind);
}

static int needs_first(int kind, float momentum)
{
    return kind != 0 || momentum > 0.0f;
}

void reco_cpu_optimizer_destroy(reco_backend_context *context, reco_backend_optimizer *state)
{
    (void)context;
    if (!state)
        return;
    reco_free(state->dense_first);
    reco_free(state->dense_second);
    reco_free(state->zeros);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        reco_aligned_free(state->table_state[t]);
        reco_aligned_free(state->last_step[t]);
    }
    reco_free(state);
}

reco_status reco_cpu_optimizer_create(reco_backend_context *context, const reco_net_desc *net,
                                      const reco_optimizer_config *config,
                                      reco_backend_optimizer **out)
{
    cpu_optimizer_state *state = reco_calloc(1, sizeof *state);
    if (!state)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    int first = needs_first(config->kind, config->momentum), second = needs_second(config->kind);
    size_t widest = 1;
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (net->table_dim[t] > widest)
            widest = net->table_dim[t];
    int ok = (state->zeros = reco_calloc(widest, sizeof(float))) != NULL;
    if (first)
        ok &= (state->dense_first = reco_calloc(net->n_dense, sizeof(float))) != NULL;
    if (second)
        ok &= (state->dense_second = reco_calloc(net->n_dense, sizeof(float))) != NULL;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t size = net->table_rows[t] * net->table_dim[t];
        if (!size)
            continue;
        /* aligned, so that two threads' row partitions share no cache line */
        size_t bytes = (size * (size_t)(first + second) * sizeof(float) + 63) / 64 * 64;
        if (first && (state->table_state[t] = reco_aligned_alloc(64, bytes)) != NULL)
            memset(state->table_state[t], 0, bytes);
        else if (first)
            ok = 0;
        size_t step_bytes = (net->table_rows[t] * sizeof(uint64_t) + 63) / 64 * 64;
        if (first && (state->last_step[t] = reco_aligned_alloc(64, step_bytes)) != NULL)
            memset(state->last_step[t], 0, step_bytes);
        else if (first)
            ok = 0;
    }
    state->state_width = (size_t)(first + second);
    if (!ok) {
        reco_cpu_optimizer_destroy(context, state);
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for optimizer state");
    }
    *out = state;
    return RECO_OK;
}

static float *at(float *base, size_t offset)
{
    return base ? base + offset : NULL;
}

/* Steps the dense range [begin, end). */
CPU_INLINE void step_dense_range(reco_step_rule rule, float *dense, const float *grad,
                             cpu_optimizer_state *state, size_t begin, size_t end)
{
    if (end > begin)
        step_values(rule, no_idle_steps, dense + begin, grad + begin, at(state->dense_first, begin),
                    at(state->dense_second, begin), end - begin);
}

/* Steps the part of [begin, end) that is trainable. */
CPU_INLINE void step_dense_share(const cpu_step *step, size_t begin, size_t end)
{
    const reco_net_desc *net = step->net;
    float *dense = cpu_floats(step->params->dense);
    const float *grad = step->workspace->dense_grad;
    size_t limits[3][2] = {{0, net->head_w_offset},
                           {net->head_w_offset, net->train_head_weights ? net->head_b_offset : 0},
                           {net->head_b_offset, net->train_head_bias ? net->n_dense : 0}};
    for (int r = 0; r < 3; r++) {
        size_t low = begin > limits[r][0] ? begin : limits[r][0];
        size_t high = end < limits[r][1] ? end : limits[r][1];
        step_dense_range(step->rule, dense, grad, step->state, low, high);
    }
}

/* The rows a step visits are scattered over tables and moments larger than
 * the cache: asking for a row a few rows ahead overlaps those misses. */
#define STEP_PREFETCH_DISTANCE 6

CPU_INLINE void prefetch_row(const cpu_step *p, int t, size_t row)
{
    size_t dim = p->net->table_dim[t], width = p->state->state_width * dim;
    cpu_prefetch(cpu_floats(p->params->tables[t]) + row * dim, dim, 1);
    if (p->state->table_state[t])
        cpu_prefetch(p->state->table_state[t] + row * width, width, 1);
    if (p->state->last_step[t])
        __builtin_prefetch(p->state->last_step[t] + row, 1);
}

/* The replay of `idle` steps, from the table where it holds them. */
static reco_idle_steps idle_steps(const cpu_optimizer_state *state, reco_step_rule rule,
                                  uint64_t idle)
{
    return idle < IDLE_TABLE ? state->idle_table[idle] : reco_idle_steps_make(rule, idle);
}

/* Steps one row of table t, given its gradient; in lazy mode, after the
 * replay of the steps since it was last stepped. */
CPU_INLINE void step_row(const cpu_step *p, int t, size_t row, const float *row_grad)
{
    size_t dim = p->net->table_dim[t];
    size_t width = p->state->state_width * dim; /* state floats per row */
    float *table = cpu_floats(p->params->tables[t]);
    float *first = at(p->state->table_state[t], row * width);
    uint64_t *last = p->state->last_step[t];
    reco_idle_steps idle = no_idle_steps;
    /* dense steps keep the count too: a later lazy epoch replays nothing twice */
    if (last) {
        if (!p->dense_embeddings)
            idle = idle_steps(p->state, p->rule, reco_idle_count(p->rule, last[row]));
        last[row] = p->rule.step;
    }
    step_values(p->rule, idle, table + row * dim, row_grad, first, width > dim ? first + dim : NULL,
                dim);
}

/* Replays on one row of table t the steps it sat idle before the rule's
 * step; the row then counts as stepped at step - 1. */
CPU_INLINE void settle_row(const cpu_step *p, int t, size_t row)
{
    cpu_optimizer_state *state = p->state;
    uint64_t *last = state->last_step[t];
    reco_idle_steps idle = idle_steps(state, p->rule, reco_idle_count(p->rule, last[row]));
    if (!reco_idle_steps_change(idle))
        return;
    last[row] = p->rule.step - 1;
    size_t dim = p->net->table_dim[t], width = state->state_width * dim;
    float *first = state->table_state[t] + row * width;
    replay_values(p->rule, idle, cpu_floats(p->params->tables[t]) + row * dim, first, first + dim,
                  dim);
}

/* Dense-embedding mode: every row of the thread's share, untouched rows
 * with a zero gradient. */
CPU_INLINE void step_every_row(const cpu_step *p, int t, size_t thread, size_t n_threads)
{
    const cpu_side_grad *side = &p->workspace->sides[cpu_side_of(t)];
    size_t dim = p->net->table_dim[t], rows = p->net->table_rows[t];
    size_t n_parts = p->workspace->n_slices;
    for (size_t row = cpu_share(rows, thread, n_threads);
         row < cpu_share(rows, thread + 1, n_threads); row++) {
        int32_t slot = side->slot_of_row[row];
        const float *row_grad =
            slot < 0 ? p->state->zeros
                     : side->parts[cpu_partition_of((int32_t)row, n_parts)].grads[t] +
                           (size_t)slot * dim;
        step_row(p, t, row, row_grad);
    }
}

/* Lazy mode: the rows of a partition of one side, every table of the side
 * in one pass. */
CPU_INLINE void step_touched_rows(const cpu_step *p, int side, const cpu_row_grads *rows)
{
    const reco_net_desc *net = p->net;
    for (size_t r = 0; r < rows->n_rows; r++) {
        size_t ahead = r + STEP_PREFETCH_DISTANCE < rows->n_rows
                           ? (size_t)rows->rows[r + STEP_PREFETCH_DISTANCE]
                           : SIZE_MAX;
        size_t row = (size_t)rows->rows[r];
        for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES) {
            size_t dim = net->table_dim[t];
            if (!dim)
                continue;
            if (ahead != SIZE_MAX)
                prefetch_row(p, t, ahead);
            step_row(p, t, row, rows->grads[t] + r * dim);
        }
    }
}

CPU_WIDE_VECTOR_CLONES
void reco_cpu_step_thread(const cpu_step *p, size_t thread, size_t n_threads)
{
    const reco_net_desc *net = p->net;
    step_dense_share(p, cpu_share(net->n_dense, thread, n_threads),
                     cpu_share(net->n_dense, thread + 1, n_threads));
    if (p->dense_embeddings) {
        for (int t = 0; t < RECO_N_TABLES; t++)
            if (net->table_dim[t])
                step_every_row(p, t, thread, n_threads);
        return;
    }
    for (int side = 0; side < CPU_N_SIDES; side++)
        for (size_t part = thread; part < p->workspace->n_slices; part += n_threads)
            step_touched_rows(p, side, &p->workspace->sides[side].parts[part]);
}

/* Remakes the table of idle-step replays when the rule's constants changed
 * (after the step in flight, whose threads may read it, has landed). */
static void settle_idle_table(cpu_optimizer_state *state, cpu_workspace *workspace,
                              reco_step_rule rule)
{
    const reco_step_rule *made = &state->idle_rule;
    if (made->step && made->kind == rule.kind && made->momentum == rule.momentum &&
        made->beta1 == rule.beta1 && made->beta2 == rule.beta2)
        return;
    if (workspace)
        reco_cpu_workspace_land(workspace);
    for (uint64_t idle = 0; idle < IDLE_TABLE; idle++)
        state->idle_table[idle] = reco_idle_steps_make(rule, idle);
    state->idle_rule = rule;
}

void reco_cpu_step_prepare(cpu_step *step, const reco_net_desc *net, reco_net_params *params,
                           cpu_workspace *workspace, reco_backend_optimizer *state,
                           const reco_optimizer_config *config, float learning_rate,
                           uint64_t step_number)
{
    *step = (cpu_step){
        .rule = reco_step_rule_make(config->kind, learning_rate, config->momentum, config->beta1,
                                    config->beta2, config->epsilon, config->weight_decay,
                                    step_number),
        .dense_embeddings = config->dense_embeddings,
        .net = net,
        .params = params,
        .workspace = workspace,
        .state = state,
    };
    if (!config->dense_embeddings)
        settle_idle_table(state, workspace, step->rule);
}

static void step_task(void *argument, size_t thread, size_t n_threads)
{
    reco_cpu_step_thread(argument, thread, n_threads);
}

reco_status reco_cpu_optimizer_step(reco_backend_context *context, const reco_net_desc *net,
                                    reco_net_params *params, reco_backend_workspace *workspace,
                                    reco_backend_optimizer *state,
                                    const reco_optimizer_config *config, float learning_rate,
                                    uint64_t step_number)
{
    cpu_step step;
    reco_cpu_workspace_land(workspace);
    reco_cpu_step_prepare(&step, net, params, workspace, state, config, learning_rate, step_number);
    cpu_pool *pool = reco_cpu_context_pool(context);
    reco_cpu_pool_run(pool, step_task, &step);
    reco_cpu_pool_release(pool);
    return RECO_OK;
}

/* Replays on the thread's share of every row the steps since it was last
 * stepped, up to the rule's step - 1. */
CPU_WIDE_VECTOR_CLONES
static void settle_task(void *argument, size_t thread, size_t n_threads)
{
    const cpu_step *p = argument;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t rows = p->net->table_rows[t];
        if (!p->state->last_step[t] || !p->net->table_dim[t])
            continue;
        for (size_t row = cpu_share(rows, thread, n_threads);
             row < cpu_share(rows, thread + 1, n_threads); row++)
            settle_row(p, t, row);
    }
}

reco_status reco_cpu_optimizer_settle(reco_backend_context *context, const reco_net_desc *net,
                                      reco_net_params *params, reco_backend_optimizer *state,
                                      const reco_optimizer_config *config, float learning_rate,
                                      uint64_t step_number)
{
    if (config->dense_embeddings || step_number == 0)
        return RECO_OK;
    cpu_step step;
    /* as if the next step touched every row */
    reco_cpu_step_prepare(&step, net, params, NULL, state, config, learning_rate, step_number + 1);
    /* an optimizer without moments to replay (SGD without momentum, Adagrad) */
    if (!reco_idle_steps_change(state->idle_table[1]))
        return RECO_OK;
    cpu_pool *pool = reco_cpu_context_pool(context);
    reco_cpu_pool_run(pool, settle_task, &step);
    reco_cpu_pool_release(pool);
    return RECO_OK;
}

float *const *reco_cpu_optimizer_table_state(reco_backend_optimizer *state)
{
    return state->table_state;
}

float *reco_cpu_optimizer_dense_state(reco_backend_optimizer *state)
{
    return state->dense_first;
}

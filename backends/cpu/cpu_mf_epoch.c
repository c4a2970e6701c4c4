/* CPU backend: the per-rating path of matrix factorization. For MF (with
 * or without biases) on explicit ratings with the squared loss, batch size
 * 1 and SGD or Adagrad, every rating steps its two factor rows (and biases)
 * at once, as libmf does, without the minibatch gather/scatter machinery:
 * the epoch's samples come from the sampling law in windows, and each
 * update is one pass over the factors that the compiler vectorizes.
 *
 * On T threads the ratings of a window are cut into a T x T grid of blocks
 * by user and item range, and T rounds each train the blocks
 * (i, (i + round) mod T), thread i the block of row i: no two threads
 * touch the same row or bias (the block scheduling of FPSG, Chin et al.
 * 2015, in a fixed order, so that a seed and a thread count give one
 * model). A finer grid, to keep a block's rows in cache, measured slower:
 * within a window of a million ratings in the law's random order a block
 * holds too few ratings per row to reuse them. The global bias, shared by every block, steps once a
 * round with the round's mean gradient: one offset is not worth a step per rating, and per-rating
 * steps of it under weight decay drag it off the mean. With one block (one thread, small data) the
 * factors and biases take exactly the steps batches of one take. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "reco_epoch_build.h"

/* Samples made and trained at a time. */
#define MF_WINDOW ((size_t)1 << 20)

typedef struct mf_tables {
    float *users, *items;           /* factor rows, `dim` wide */
    float *user_bias, *item_bias;   /* NULL without biases */
    float *user_state, *item_state; /* Adagrad sums per value; NULL for SGD */
    float *user_bias_state, *item_bias_state;
    float *global, *global_state; /* the head bias (global bias), or NULL */
    size_t dim;
    reco_step_rule rule;
} mf_tables;

/* Ratings ahead whose rows are fetched early: the rows of 100,000 users do
 * not stay in cache, and a rating's update waits on its two rows. */
#define MF_AHEAD 8

CPU_INLINE void prefetch_row(const float *row, size_t dim)
{
    for (size_t k = 0; k < dim; k += 16)
        __builtin_prefetch(row + k, 1);
}

/* p . q in eight running sums, so that it vectorizes. */
CPU_INLINE float dot_product(const float *restrict p, const float *restrict q, size_t dim)
{
    float sums[8] = {0.0f};
    size_t k = 0;
    for (; k + 8 <= dim; k += 8)
        for (size_t j = 0; j < 8; j++)
            sums[j] += p[k + j] * q[k + j];
    for (; k < dim; k++)
        sums[0] += p[k] * q[k];
    return ((sums[0] + sums[4]) + (sums[1] + sums[5])) +
           ((sums[2] + sums[6]) + (sums[3] + sums[7]));
}

/* Both rows' step with the gradients d q and d p taken before either moves;
 * the rule's kind is tested once, so each loop is straight and vectorizes. */
CPU_INLINE void step_rows(reco_step_rule rule, float *restrict p, float *restrict q,
                          float *restrict p_state, float *restrict q_state, size_t dim, float d)
{
    if (rule.kind == RECO_OPTIMIZER_SGD) {
        for (size_t k = 0; k < dim; k++) {
            float p_k = p[k], q_k = q[k];
            reco_optimizer_update(rule, p + k, d * q_k, NULL, NULL);
            reco_optimizer_update(rule, q + k, d * p_k, NULL, NULL);
        }
    } else {
        for (size_t k = 0; k < dim; k++) {
            float p_k = p[k], q_k = q[k];
            reco_optimizer_update(rule, p + k, d * q_k, p_state + k, NULL);
            reco_optimizer_update(rule, q + k, d * p_k, q_state + k, NULL);
        }
    }
}

/* One rating's update; returns its squared error and adds d loss / d
 * prediction to *global_gradient (the global bias steps apart). */
CPU_INLINE double mf_update(const mf_tables *t, int32_t user, int32_t item, float rating,
                            float *global_gradient)
{
    float *p = t->users + (size_t)user * t->dim;
    float *q = t->items + (size_t)item * t->dim;
    float prediction = dot_product(p, q, t->dim) + (t->global ? *t->global : 0.0f);
    if (t->user_bias)
        prediction += t->user_bias[user] + t->item_bias[item];
    float error = prediction - rating, d = 2.0f * error;
    float *p_state = t->user_state ? t->user_state + (size_t)user * t->dim : NULL;
    float *q_state = t->item_state ? t->item_state + (size_t)item * t->dim : NULL;
    step_rows(t->rule, p, q, p_state, q_state, t->dim, d);
    if (t->user_bias) {
        reco_optimizer_update(t->rule, t->user_bias + user, d,
                              t->user_bias_state ? t->user_bias_state + user : NULL, NULL);
        reco_optimizer_update(t->rule, t->item_bias + item, d,
                              t->item_bias_state ? t->item_bias_state + item : NULL, NULL);
    }
    *global_gradient += d;
    return (double)error * error;
}

/* A window's samples cut into a grid of blocks: users and items in `grid`
 * contiguous ranges each, balanced by the window's ratings, so that a
 * block's rows (and biases) are one stretch of each table and two threads
 * never share a cache line of them. */
typedef struct mf_window {
    const mf_tables *tables;
    reco_sample_sink samples;
    size_t n;
    size_t grid; /* a multiple of the thread count */
    size_t n_users, n_items;
    uint32_t *user_range, *item_range; /* of each user and item, this window */
    size_t *order;       /* sample numbers, block by block, in sample order */
    size_t *block_start; /* grid^2 + 1 offsets into order, then grid^2 cursors */
    size_t n_threads;
    double *loss;     /* per thread */
    double *gradient; /* the global bias's, per thread */
    cpu_pool *pool;
} mf_window;

static size_t block_of(const mf_window *w, size_t s)
{
    return (size_t)w->user_range[w->samples.users[s]] * w->grid +
           w->item_range[w->samples.items[s]];
}

/* Cuts ids 0..n-1 into w->grid contiguous ranges holding about as many of
 * the window's ratings each (item popularity is skewed: ranges of equal
 * width would leave one thread most of the work). */
static void balance_ranges(const mf_window *w, const int32_t *ids, size_t n, uint32_t *range)
{
    memset(range, 0, n * sizeof *range);
    for (size_t s = 0; s < w->n; s++)
        range[ids[s]]++; /* counts first */
    size_t seen = 0;
    for (size_t id = 0; id < n; id++) {
        size_t count = range[id], part = seen * w->grid / (w->n ? w->n : 1);
        range[id] = (uint32_t)(part < w->grid ? part : w->grid - 1);
        seen += count;
    }
}

/* Counting sort of the window's samples into blocks, in sample order. */
static void cut_blocks(mf_window *w)
{
    balance_ranges(w, w->samples.users, w->n_users, w->user_range);
    balance_ranges(w, w->samples.items, w->n_items, w->item_range);
    size_t n_blocks = w->grid * w->grid;
    size_t *next = w->block_start + n_blocks + 1;
    memset(w->block_start, 0, (n_blocks + 1) * sizeof *w->block_start);
    for (size_t s = 0; s < w->n; s++)
        w->block_start[block_of(w, s) + 1]++;
    for (size_t b = 0; b < n_blocks; b++)
        w->block_start[b + 1] += w->block_start[b];
    memcpy(next, w->block_start, n_blocks * sizeof *next);
    for (size_t s = 0; s < w->n; s++)
        w->order[next[block_of(w, s)]++] = s;
}

/* Round r trains blocks (i, (i + r) mod grid), which share no user and no
 * item range; thread t takes those with i = t mod T. After each round the
 * global bias steps once, with the round's mean gradient. */
CPU_VECTOR_CLONES static void train_blocks(void *argument, size_t thread, size_t n_threads)
{
    mf_window *w = argument;
    const mf_tables *t = w->tables;
    const reco_sample_sink *samples = &w->samples;
    double loss = 0.0;
    for (size_t round = 0; round < w->grid; round++) {
        float gradient = 0.0f;
        for (size_t i = thread; i < w->grid; i += n_threads) {
            size_t block = i * w->grid + (i + round) % w->grid;
            size_t end = w->block_start[block + 1];
            for (size_t k = w->block_start[block]; k < end; k++) {
                size_t s = w->order[k];
                if (k + MF_AHEAD < end) { /* the rows a few ratings on, while this one runs */
                    size_t ahead = w->order[k + MF_AHEAD];
                    prefetch_row(t->users + (size_t)samples->users[ahead] * t->dim, t->dim);
                    prefetch_row(t->items + (size_t)samples->items[ahead] * t->dim, t->dim);
                }
                loss += mf_update(t, samples->users[s], samples->items[s], samples->targets[s],
                                  &gradient);
            }
        }
        w->gradient[thread] = gradient;
        reco_cpu_pool_barrier(w->pool, thread);
        if (thread == 0 && t->global) {
            double sum = 0.0;
            size_t count = 0;
            for (size_t u = 0; u < n_threads; u++)
                sum += w->gradient[u];
            for (size_t i = 0; i < w->grid; i++) {
                size_t block = i * w->grid + (i + round) % w->grid;
                count += w->block_start[block + 1] - w->block_start[block];
            }
            if (count)
                reco_optimizer_update(t->rule, t->global, (float)(sum / (double)count),
                                      t->global_state, NULL);
        }
        reco_cpu_pool_barrier(w->pool, thread);
    }
    w->loss[thread] = loss;
}

static mf_tables tables_of(const reco_net_desc *net, reco_net_params *params,
                           reco_backend_optimizer *state, const reco_optimizer_config *config,
                           float learning_rate)
{
    float **tables = (float **)(void *)params->tables;
    float *const *table_state = reco_cpu_optimizer_table_state(state);
    int biases = net->table_dim[RECO_TABLE_USER_BIAS] != 0;
    mf_tables t = {
        .users = tables[RECO_TABLE_USER_GMF],
        .items = tables[RECO_TABLE_ITEM_GMF],
        .user_bias = biases ? tables[RECO_TABLE_USER_BIAS] : NULL,
        .item_bias = biases ? tables[RECO_TABLE_ITEM_BIAS] : NULL,
        .user_state = table_state[RECO_TABLE_USER_GMF],
        .item_state = table_state[RECO_TABLE_ITEM_GMF],
        .user_bias_state = table_state[RECO_TABLE_USER_BIAS],
        .item_bias_state = table_state[RECO_TABLE_ITEM_BIAS],
        .dim = net->table_dim[RECO_TABLE_USER_GMF],
        .rule = reco_step_rule_make((int)config->kind, learning_rate, 0.0f, config->beta1,
                                    config->beta2, config->epsilon, config->weight_decay, 1),
    };
    if (net->train_head_bias) {
        t.global = cpu_floats(params->dense) + net->head_b_offset;
        float *dense_state = reco_cpu_optimizer_dense_state(state);
        t.global_state = dense_state ? dense_state + net->head_b_offset : NULL;
    }
    return t;
}

reco_status reco_cpu_mf_epoch(reco_backend_context *context, const reco_net_desc *net,
                              reco_net_params *params, reco_backend_optimizer *state,
                              const reco_optimizer_config *config, float learning_rate,
                              const reco_epoch_data *data, const reco_epoch_plan *plan,
                              double *loss)
{
    mf_tables tables = tables_of(net, params, state, config, learning_rate);
    reco_sample_source source = reco_sample_source_make(
        cpu_ints(data->users), cpu_ints(data->items), cpu_const_floats(data->ratings), data->n_rows,
        (const size_t *)(const void *)data->user_offsets, cpu_ints(data->user_items), data->n_items,
        plan);
    cpu_pool *pool = reco_cpu_context_pool(context);
    size_t n_threads = reco_cpu_pool_threads(pool);
    size_t capacity = plan->count < MF_WINDOW ? plan->count : MF_WINDOW;
    mf_window w = {.tables = &tables,
                   .n_threads = n_threads,
                   .pool = pool,
                   .n_users = data->n_users ? data->n_users : 1,
                   .n_items = data->n_items ? data->n_items : 1,
                   .grid = n_threads};
    size_t n_blocks = w.grid * w.grid;
    w.samples.users = malloc((capacity + 1) * sizeof(int32_t));
    w.samples.items = malloc((capacity + 1) * sizeof(int32_t));
    w.samples.targets = malloc((capacity + 1) * sizeof(float));
    w.order = malloc((capacity + 1) * sizeof *w.order);
    w.user_range = malloc((w.n_users + 1) * sizeof *w.user_range);
    w.item_range = malloc((w.n_items + 1) * sizeof *w.item_range);
    w.block_start = malloc((2 * n_blocks + 1) * sizeof *w.block_start);
    w.loss = malloc(n_threads * sizeof *w.loss);
    w.gradient = malloc(n_threads * sizeof *w.gradient);
    reco_status status = RECO_OK;
    if (!w.samples.users || !w.samples.items || !w.samples.targets || !w.order || !w.block_start ||
        !w.loss || !w.gradient || !w.user_range || !w.item_range)
        status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory for MF");
    double total = 0.0;
    for (size_t first = plan->first; status == RECO_OK && first < plan->first + plan->count;
         first += capacity) {
        w.n = plan->first + plan->count - first < capacity ? plan->first + plan->count - first
                                                           : capacity;
        if (reco_epoch_build(&source, first, w.n, &w.samples, reco_cpu_run_on_pool, pool) != 0) {
            status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory");
            break;
        }
        if (w.grid > 1) {
            cut_blocks(&w);
        } else { /* one block: the window's own order */
            w.block_start[0] = 0;
            w.block_start[1] = w.n;
            for (size_t s = 0; s < w.n; s++)
                w.order[s] = s;
        }
        reco_cpu_pool_run(pool, train_blocks, &w);
        for (size_t t = 0; t < n_threads; t++)
            total += w.loss[t];
    }
    reco_cpu_pool_release(pool);
    free(w.samples.users);
    free(w.samples.items);
    free(w.samples.targets);
    free(w.order);
    free(w.user_range);
    free(w.item_range);
    free(w.block_start);
    free(w.loss);
    free(w.gradient);
    *loss = total;
    return status;
}

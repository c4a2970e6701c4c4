/* CPU backend: the per-rating path of matrix factorization. For MF (with
 * or without biases) on explicit ratings with the squared loss, batch size
 * 1 and SGD or Adagrad, every rating steps its two factor rows (and biases)
 * at once, as libmf does, without the minibatch gather/scatter machinery:
 * each update is one pass over the factors that the compiler vectorizes.
 *
 * The order is libmf's (FPSG, Chin et al. 2015), not the sampling law's:
 * the ratings are cut into a grid of blocks by user and item range and
 * packed block by block once, and each epoch trains the grid's diagonals
 * (blocks that share no user and no item range) in an order drawn from the
 * seed and the epoch, a diagonal's blocks shared among the threads. The
 * grid is fine enough that a block's rows stay in a core's cache: on 10M
 * ratings of 100,000 users the law's random order spent half the epoch
 * building its samples and most of the rest waiting for rows from memory.
 * A seed and a thread count give one model. The global bias, shared by
 * every block, steps once a diagonal with the diagonal's mean gradient: one
 * offset is not worth a step per rating, and per-rating steps of it under
 * weight decay drag it off the mean. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "reco_alloc.h"
#include "reco_sampling.h"

/* Bytes of item rows (factors and Adagrad sums) a block may touch: a
 * quarter of a small L2 cache (on 10M ratings at 128 factors, epochs 3-7%
 * shorter than with 512-640 KB). */
#define MF_ITEM_BYTES ((size_t)256 << 10)
#define MF_MIN_GRID 8
#define MF_MIN_BLOCK 64

typedef struct mf_tables {
    float *users, *items;           /* factor rows, `dim` wide */
    float *user_bias, *item_bias;   /* NULL without biases */
    float *user_state, *item_state; /* Adagrad sums per value; NULL for SGD */
    float *user_bias_state, *item_bias_state;
    float *global, *global_state; /* the head bias (global bias), or NULL */
    size_t dim;
    reco_step_rule rule;
} mf_tables;

/* Ratings ahead whose rows are fetched early: a block's user rows come
 * from memory (epochs on 10M ratings are 5-40% longer without). */
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

/* A rating as the epoch reads it: its two rows and its value, side by side. */
typedef struct mf_rating {
    int32_t user, item;
    float value;
} mf_rating;

/* A data set's ratings cut into a grid of blocks: users and items in `grid`
 * contiguous ranges each, balanced by their ratings, so that a block's rows
 * (and biases) are one stretch of each table and two threads never share a
 * cache line of them; the ratings packed block by block, each block's by
 * user (a user's in row order). Kept in the workspace from epoch to epoch
 * while the data's generation stays the same. */
struct cpu_mf_grid {
    uint64_t generation;
    size_t n_rows;
    size_t grid; /* a multiple of the thread count */
    size_t n_blocks;
    size_t *block_start; /* n_blocks + 1 offsets into packed */
    mf_rating *packed;
};

void reco_cpu_mf_grid_free(cpu_mf_grid *grid)
{
    if (!grid)
        return;
    reco_free(grid->block_start);
    reco_free(grid->packed);
    reco_free(grid);
}

/* What packing needs besides the grid, for as long as it takes. */
typedef struct mf_packing {
    const int32_t *users, *items;
    const float *ratings;
    size_t n_users, n_items;
    uint32_t *user_range, *item_range; /* of each user and item */
    size_t *cursor;                    /* n_threads x n_blocks: where each thread writes next */
    size_t *user_first;                /* grid + 1: the first user of each range */
    size_t widest;                     /* users in the widest range */
    size_t largest;                    /* ratings in the largest block */
    mf_rating *scratch;                /* n_threads x largest */
    size_t *user_counts;               /* n_threads x (widest + 1) */
    cpu_mf_grid *grid;
    cpu_pool *pool;
} mf_packing;

static size_t block_of(const mf_packing *p, size_t row)
{
    return (size_t)p->user_range[p->users[row]] * p->grid->grid + p->item_range[p->items[row]];
}

/* Cuts ids 0..n-1 into grid contiguous ranges holding about as many
 * ratings each (item popularity is skewed: ranges of equal width would
 * leave one thread most of the work). */
static void balance_ranges(const mf_packing *p, const int32_t *ids, size_t n, uint32_t *range)
{
    size_t n_rows = p->grid->n_rows, grid = p->grid->grid;
    memset(range, 0, n * sizeof *range);
    for (size_t row = 0; row < n_rows; row++)
        range[ids[row]]++; /* counts first */
    size_t seen = 0;
    for (size_t id = 0; id < n; id++) {
        size_t count = range[id], part = seen * grid / (n_rows ? n_rows : 1);
        range[id] = (uint32_t)(part < grid ? part : grid - 1);
        seen += count;
    }
}

/* Counting sort of the ratings into blocks, each thread its share of the
 * rows: the packed order is the rows' order whatever the thread count. */
static void pack_task(void *argument, size_t thread, size_t n_threads)
{
    mf_packing *p = argument;
    cpu_mf_grid *g = p->grid;
    if (thread == 0)
        balance_ranges(p, p->users, p->n_users, p->user_range);
    if (thread == n_threads - 1)
        balance_ranges(p, p->items, p->n_items, p->item_range);
    reco_cpu_pool_barrier(p->pool, thread);
    size_t begin = reco_share(g->n_rows, thread, n_threads);
    size_t end = reco_share(g->n_rows, thread + 1, n_threads);
    size_t *cursor = p->cursor + thread * g->n_blocks;
    memset(cursor, 0, g->n_blocks * sizeof *cursor);
    for (size_t row = begin; row < end; row++)
        cursor[block_of(p, row)]++;
    reco_cpu_pool_barrier(p->pool, thread);
    if (thread == 0) {
        size_t place = 0;
        for (size_t block = 0; block < g->n_blocks; block++) {
            g->block_start[block] = place;
            for (size_t t = 0; t < n_threads; t++) {
                size_t count = p->cursor[t * g->n_blocks + block];
                p->cursor[t * g->n_blocks + block] = place;
                place += count;
            }
        }
        g->block_start[g->n_blocks] = place;
    }
    reco_cpu_pool_barrier(p->pool, thread);
    for (size_t row = begin; row < end; row++)
        g->packed[cursor[block_of(p, row)]++] =
            (mf_rating){p->users[row], p->items[row], p->ratings[row]};
}

/* Each block's ratings by user (stably, by counting), so that a user's
 * ratings in a block follow one another and its row stays in the core's
 * closest cache: the rows of the block's range do not fit there, and an
 * update would otherwise wait on every one. Thread t sorts blocks t mod T. */
static void sort_task(void *argument, size_t thread, size_t n_threads)
{
    mf_packing *p = argument;
    cpu_mf_grid *g = p->grid;
    mf_rating *scratch = p->scratch + thread * p->largest;
    size_t *counts = p->user_counts + thread * (p->widest + 1);
    for (size_t block = thread; block < g->n_blocks; block += n_threads) {
        mf_rating *ratings = g->packed + g->block_start[block];
        size_t n = g->block_start[block + 1] - g->block_start[block];
        size_t range = block / g->grid, first = p->user_first[range];
        size_t width = p->user_first[range + 1] - first;
        memset(counts, 0, (width + 1) * sizeof *counts);
        for (size_t k = 0; k < n; k++)
            counts[(size_t)ratings[k].user - first + 1]++;
        for (size_t u = 0; u < width; u++)
            counts[u + 1] += counts[u];
        for (size_t k = 0; k < n; k++)
            scratch[counts[(size_t)ratings[k].user - first]++] = ratings[k];
        memcpy(ratings, scratch, n * sizeof *ratings);
    }
}

/* Where each user range starts, and the scratch sort_task needs. */
static int sort_prepare(mf_packing *p, size_t n_threads)
{
    cpu_mf_grid *g = p->grid;
    size_t range = 0;
    for (size_t user = 0; user < p->n_users; user++)
        while (range <= p->user_range[user])
            p->user_first[range++] = user;
    while (range <= g->grid)
        p->user_first[range++] = p->n_users;
    for (size_t r = 0; r < g->grid; r++)
        if (p->user_first[r + 1] - p->user_first[r] > p->widest)
            p->widest = p->user_first[r + 1] - p->user_first[r];
    for (size_t block = 0; block < g->n_blocks; block++)
        if (g->block_start[block + 1] - g->block_start[block] > p->largest)
            p->largest = g->block_start[block + 1] - g->block_start[block];
    p->scratch = reco_malloc_array(n_threads * (p->largest ? p->largest : 1), sizeof *p->scratch);
    p->user_counts = reco_malloc_array(n_threads * (p->widest + 1), sizeof *p->user_counts);
    return p->scratch && p->user_counts;
}

/* Packs the ratings of `data` into a grid of grid x grid blocks. */
static reco_status grid_make(const reco_epoch_data *data, size_t grid, cpu_pool *pool,
                             cpu_mf_grid **out)
{
    size_t n_threads = reco_cpu_pool_threads(pool);
    cpu_mf_grid *g = reco_calloc(1, sizeof *g);
    mf_packing p = {.users = cpu_ints(data->users),
                    .items = cpu_ints(data->items),
                    .ratings = cpu_const_floats(data->ratings),
                    .n_users = data->n_users ? data->n_users : 1,
                    .n_items = data->n_items ? data->n_items : 1,
                    .grid = g,
                    .pool = pool};
    reco_status status = RECO_OK;
    if (!g)
        goto fail;
    *g = (cpu_mf_grid){.generation = data->generation,
                       .n_rows = data->n_rows,
                       .grid = grid,
                       .n_blocks = grid * grid};
    g->block_start = reco_malloc_array(g->n_blocks + 1, sizeof *g->block_start);
    g->packed = reco_malloc_array(g->n_rows ? g->n_rows : 1, sizeof *g->packed);
    p.user_range = reco_malloc_array(p.n_users, sizeof *p.user_range);
    p.item_range = reco_malloc_array(p.n_items, sizeof *p.item_range);
    p.cursor = reco_malloc_array(n_threads * g->n_blocks, sizeof *p.cursor);
    p.user_first = reco_malloc_array(grid + 1, sizeof *p.user_first);
    if (!g->block_start || !g->packed || !p.user_range || !p.item_range || !p.cursor ||
        !p.user_first)
        goto fail;
    reco_cpu_pool_run(pool, pack_task, &p);
    if (!sort_prepare(&p, n_threads))
        goto fail;
    reco_cpu_pool_run(pool, sort_task, &p);
    *out = g;
    g = NULL;
    goto done;
fail:
    status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory for MF");
done:
    reco_cpu_mf_grid_free(g);
    reco_free(p.user_range);
    reco_free(p.item_range);
    reco_free(p.cursor);
    reco_free(p.user_first);
    reco_free(p.scratch);
    reco_free(p.user_counts);
    return status;
}

/* An epoch over a grid: the order of its blocks, and what each thread sums. */
typedef struct mf_epoch_run {
    const mf_tables *tables;
    const cpu_mf_grid *grid;
    reco_permutation user_order, item_order, round_order;
    double *loss;     /* per thread */
    double *gradient; /* the global bias's, per thread, this round */
    size_t *trained;  /* ratings, per thread, this round */
    cpu_pool *pool;
} mf_epoch_run;

/* The block that slot i of round `round` trains: rounds go through the
 * grid's diagonals, its user and item ranges renamed, in an order of the
 * epoch's own. */
static size_t block_at(const mf_epoch_run *run, size_t round, size_t i)
{
    size_t grid = run->grid->grid;
    size_t shift = (size_t)reco_permute(&run->round_order, round);
    return (size_t)reco_permute(&run->user_order, i) * grid +
           (size_t)reco_permute(&run->item_order, (i + shift) % grid);
}

/* A block's ratings in order; returns their squared errors. */
CPU_INLINE double train_block(const mf_tables *t, const mf_rating *ratings, size_t count,
                              float *global_gradient)
{
    double loss = 0.0;
    for (size_t k = 0; k < count; k++) {
        if (k + MF_AHEAD < count) { /* the rows a few ratings on, while this one runs */
            prefetch_row(t->users + (size_t)ratings[k + MF_AHEAD].user * t->dim, t->dim);
            prefetch_row(t->items + (size_t)ratings[k + MF_AHEAD].item * t->dim, t->dim);
        }
        loss += mf_update(t, ratings[k].user, ratings[k].item, ratings[k].value, global_gradient);
    }
    return loss;
}

/* A round trains one block of every user range and every item range (no two
 * share a row); thread t takes slots i = t mod T. After each round the
 * global bias steps once, with the round's mean gradient. */
CPU_VECTOR_CLONES static void train_blocks(void *argument, size_t thread, size_t n_threads)
{
    mf_epoch_run *run = argument;
    const mf_tables *t = run->tables;
    const cpu_mf_grid *g = run->grid;
    double loss = 0.0;
    for (size_t round = 0; round < g->grid; round++) {
        float gradient = 0.0f;
        size_t trained = 0;
        for (size_t i = thread; i < g->grid; i += n_threads) {
            size_t block = block_at(run, round, i);
            size_t count = g->block_start[block + 1] - g->block_start[block];
            loss += train_block(t, g->packed + g->block_start[block], count, &gradient);
            trained += count;
        }
        run->gradient[thread] = gradient;
        run->trained[thread] = trained;
        reco_cpu_pool_barrier(run->pool, thread);
        if (thread == 0 && t->global) {
            double sum = 0.0;
            size_t count = 0;
            for (size_t u = 0; u < n_threads; u++) {
                sum += run->gradient[u];
                count += run->trained[u];
            }
            if (count)
                reco_optimizer_update(t->rule, t->global, (float)(sum / (double)count),
                                      t->global_state, NULL);
        }
        reco_cpu_pool_barrier(run->pool, thread);
    }
    run->loss[thread] = loss;
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

/* Blocks a side: enough that a block's item rows (and their Adagrad sums)
 * stay in a core's cache while its users' rows, in order, stream through;
 * at least MF_MIN_GRID, so that the epoch's order of blocks mixes the
 * ratings; at most so many that a user keeps about two ratings a block (its
 * row is read once for them) and a block MF_MIN_BLOCK ratings; a multiple
 * of the thread count. */
static size_t grid_size(const reco_epoch_data *data, const mf_tables *t, size_t n_threads)
{
    size_t row_bytes = t->dim * sizeof(float) * (t->user_state ? 2 : 1);
    size_t grid = (data->n_items * row_bytes + MF_ITEM_BYTES - 1) / MF_ITEM_BYTES;
    size_t most = data->n_users ? data->n_rows / (2 * data->n_users) : 0;
    if (grid > most)
        grid = most;
    if (grid < MF_MIN_GRID)
        grid = MF_MIN_GRID;
    while (grid > 1 && data->n_rows / (grid * grid) < MF_MIN_BLOCK)
        grid--;
    return (grid + n_threads - 1) / n_threads * n_threads;
}

reco_status reco_cpu_mf_epoch(reco_backend_context *context, reco_backend_workspace *workspace,
                              const reco_net_desc *net, reco_net_params *params,
                              reco_backend_optimizer *state, const reco_optimizer_config *config,
                              float learning_rate, const reco_epoch_data *data,
                              const reco_epoch_plan *plan, double *loss)
{
    mf_tables tables = tables_of(net, params, state, config, learning_rate);
    cpu_pool *pool = reco_cpu_context_pool(context);
    size_t n_threads = reco_cpu_pool_threads(pool);
    size_t grid = grid_size(data, &tables, n_threads);
    mf_epoch_run run = {.tables = &tables, .pool = pool};
    reco_status status = RECO_OK;
    cpu_mf_grid *kept = workspace->mf_grid;
    if (!kept || !data->generation || kept->generation != data->generation ||
        kept->n_rows != data->n_rows || kept->grid != grid) {
        reco_cpu_mf_grid_free(kept);
        workspace->mf_grid = NULL;
        status = grid_make(data, grid, pool, &workspace->mf_grid);
    }
    run.grid = workspace->mf_grid;
    run.loss = reco_malloc_array(n_threads, sizeof *run.loss);
    run.gradient = reco_malloc_array(n_threads, sizeof *run.gradient);
    run.trained = reco_malloc_array(n_threads, sizeof *run.trained);
    if (status == RECO_OK && (!run.loss || !run.gradient || !run.trained))
        status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory for MF");
    double total = 0.0;
    if (status == RECO_OK) {
        uint64_t stream = reco_sampling_stream(plan->seed, plan->epoch);
        run.user_order =
            reco_permutation_make(grid, reco_counter_bits(stream ^ RECO_TAG_GRID_USERS));
        run.item_order =
            reco_permutation_make(grid, reco_counter_bits(stream ^ RECO_TAG_GRID_ITEMS));
        run.round_order =
            reco_permutation_make(grid, reco_counter_bits(stream ^ RECO_TAG_GRID_ROUNDS));
        reco_cpu_pool_run(pool, train_blocks, &run);
        for (size_t t = 0; t < n_threads; t++)
            total += run.loss[t];
    }
    reco_cpu_pool_release(pool);
    reco_free(run.loss);
    reco_free(run.gradient);
    reco_free(run.trained);
    *loss = total;
    return status;
}

/* CPU backend: the network's forward and backward passes. A training batch
 * is cut into a fixed number of slices (one per thread at workspace
 * creation): slice s takes, in batch order, the rows whose item falls in row
 * partition s, so the item rows a thread gathers are the ones it scatters
 * and steps. Each slice runs gather, GMF, the tower (cpu_gemm.c), the head,
 * the loss and the whole backward pass on its own rows, and sums its user
 * rows' gradients per user. The slices' dense gradients are then summed in
 * slice order and their row gradients scattered in slice order, so a given
 * slice count always gives the same bits. Scoring cuts pairs contiguously.
 *
 * Why one file of this length: the slice math is the hot path, and its
 * helpers must inline into each thread task's AVX2 clone (target_clones
 * clones only what it sees in this translation unit); split across files
 * they would be calls into default-ISA code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"
#include "cpu_internal.h"
#include "reco_math.h"
#include "reco_alloc.h"

static int has_table(const reco_net_desc *net, int table)
{
    return net->table_dim[table] > 0;
}

static int is_user_table(int table)
{
    return cpu_side_of(table) == CPU_SIDE_USERS;
}

static size_t widest_layer(const reco_net_desc *net)
{
    size_t widest = 1;
    for (size_t l = 0; l < net->n_layers; l++) {
        if (net->layer_in[l] > widest)
            widest = net->layer_in[l];
        if (net->layer_out[l] > widest)
            widest = net->layer_out[l];
    }
    return widest;
}

static size_t tower_weights(const reco_net_desc *net)
{
    size_t count = 0;
    for (size_t l = 0; l < net->n_layers; l++)
        count += net->layer_in[l] * net->layer_out[l];
    return count;
}

/* Every per-thread array starts on a cache line of its own, so that no two
 * threads write the same line. */
static void *cache_lines(size_t bytes)
{
    return reco_aligned_alloc(64, ((bytes ? bytes : 1) + 63) / 64 * 64);
}

static float *floats(size_t count)
{
    return cache_lines(count * sizeof(float));
}

static void slice_free(cpu_slice *slice)
{
    for (int t = 0; t < RECO_N_TABLES; t++) {
        reco_aligned_free(slice->gathered[t]);
        reco_aligned_free(slice->dgathered[t]);
    }
    for (size_t l = 0; l <= RECO_MAX_LAYERS; l++) {
        reco_aligned_free(slice->act[l]);
        reco_aligned_free(slice->mask[l]);
    }
    reco_aligned_free(slice->gmf);
    reco_aligned_free(slice->logit);
    reco_aligned_free(slice->dlogit);
    reco_aligned_free(slice->delta[0]);
    reco_aligned_free(slice->delta[1]);
    reco_aligned_free(slice->dense_grad);
    reco_aligned_free(slice->weights_in_by_out);
    for (int t = 0; t < RECO_N_TABLES; t++)
        reco_aligned_free(slice->local_grads[t]);
    reco_aligned_free(slice->user_slot);
    reco_aligned_free(slice->local_users);
    reco_aligned_free(slice->origin);
    reco_aligned_free(slice->users);
    reco_aligned_free(slice->items);
    reco_aligned_free(slice->targets);
}

static int slice_init(cpu_slice *slice, const reco_net_desc *net, size_t capacity)
{
    *slice = (cpu_slice){.capacity = capacity};
    int ok = 1;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t) || t == RECO_TABLE_USER_MLP || t == RECO_TABLE_ITEM_MLP)
            continue;
        ok &= (slice->gathered[t] = floats(capacity * net->table_dim[t])) != NULL;
        ok &= (slice->dgathered[t] = floats(capacity * net->table_dim[t])) != NULL;
    }
    ok &= (slice->gmf = floats(capacity * net->table_dim[RECO_TABLE_USER_GMF])) != NULL;
    if (net->n_layers > 0) {
        ok &= (slice->act[0] = floats(capacity * net->layer_in[0])) != NULL;
        ok &= (slice->dgathered[RECO_TABLE_USER_MLP] = floats(capacity * net->layer_in[0])) != NULL;
    }
    for (size_t l = 0; l < net->n_layers; l++) {
        ok &= (slice->act[l + 1] = floats(capacity * net->layer_out[l])) != NULL;
        if (net->dropout > 0.0f)
            ok &= (slice->mask[l + 1] = floats(capacity * net->layer_out[l])) != NULL;
    }
    size_t widest = widest_layer(net);
    ok &= (slice->delta[0] = floats(capacity * widest)) != NULL;
    ok &= (slice->delta[1] = floats(capacity * widest)) != NULL;
    ok &= (slice->logit = floats(capacity)) != NULL;
    ok &= (slice->dlogit = floats(capacity)) != NULL;
    ok &= (slice->targets = floats(capacity)) != NULL;
    ok &= (slice->dense_grad = floats(net->n_dense)) != NULL;
    ok &= (slice->weights_in_by_out = floats(tower_weights(net))) != NULL;
    size_t n_users = net->table_rows[RECO_TABLE_USER_GMF] ? net->table_rows[RECO_TABLE_USER_GMF]
                                                          : net->table_rows[RECO_TABLE_USER_MLP];
    ok &= (slice->user_slot = cache_lines(n_users * sizeof(int32_t))) != NULL;
    ok &= (slice->local_users = cache_lines(capacity * sizeof(int32_t))) != NULL;
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (has_table(net, t) && is_user_table(t))
            ok &= (slice->local_grads[t] = floats(capacity * net->table_dim[t])) != NULL;
    if (ok)
        memset(slice->user_slot, 0xff, n_users * sizeof(int32_t));
    ok &= (slice->origin = cache_lines(capacity * sizeof(int32_t))) != NULL;
    ok &= (slice->users = cache_lines(capacity * sizeof(int32_t))) != NULL;
    ok &= (slice->items = cache_lines(capacity * sizeof(int32_t))) != NULL;
    return ok;
}

/* Grows a slice to hold `rows` samples; its contents are scratch. */
static int slice_reserve(cpu_slice *slice, const reco_net_desc *net, size_t rows)
{
    if (rows <= slice->capacity)
        return 1;
    slice_free(slice);
    if (slice_init(slice, net, rows + rows / 4))
        return 1;
    slice_free(slice);
    *slice = (cpu_slice){0};
    return 0;
}

static int side_grad_init(cpu_side_grad *grad, const reco_net_desc *net, int side,
                          size_t samples, size_t n_parts)
{
    for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES)
        if (has_table(net, t))
            grad->n_rows = net->table_rows[t];
    size_t blocks = (grad->n_rows + CPU_PARTITION_BLOCK - 1) / CPU_PARTITION_BLOCK;
    size_t capacity = (blocks + n_parts - 1) / n_parts * CPU_PARTITION_BLOCK;
    if (capacity > samples)
        capacity = samples;
    /* a partition block of slots is one cache line: threads never share one */
    grad->slot_of_row = cache_lines(grad->n_rows * sizeof(int32_t));
    grad->parts = reco_calloc(n_parts, sizeof *grad->parts);
    if (!grad->slot_of_row || !grad->parts)
        return 0;
    memset(grad->slot_of_row, 0xff, grad->n_rows * sizeof(int32_t));
    for (size_t p = 0; p < n_parts; p++) {
        cpu_row_grads *part = &grad->parts[p];
        if (!(part->rows = reco_malloc(capacity * sizeof(int32_t))))
            return 0;
        for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES)
            if (has_table(net, t) && !(part->grads[t] = floats(capacity * net->table_dim[t])))
                return 0;
    }
    return 1;
}

static struct cpu_flight *flights_new(void);

void reco_cpu_workspace_destroy(reco_backend_context *context, reco_backend_workspace *workspace)
{
    (void)context;
    if (!workspace)
        return;
    reco_cpu_workspace_land(workspace);
    reco_free(workspace->flights);
    for (size_t s = 0; workspace->slices && s < workspace->n_slices; s++)
        slice_free(&workspace->slices[s]);
    for (int side = 0; side < CPU_N_SIDES; side++) {
        cpu_side_grad *grad = &workspace->sides[side];
        for (size_t p = 0; grad->parts && p < workspace->n_slices; p++) {
            reco_free(grad->parts[p].rows);
            for (int t = 0; t < RECO_N_TABLES; t++)
                reco_aligned_free(grad->parts[p].grads[t]);
        }
        reco_free(grad->parts);
        reco_aligned_free(grad->slot_of_row);
    }
    reco_aligned_free(workspace->slices);
    reco_free(workspace->slice_counts);
    reco_aligned_free(workspace->dense_grad);
    reco_cpu_mf_grid_free(workspace->mf_grid);
    reco_free(workspace);
}

reco_status reco_cpu_workspace_create(reco_backend_context *context, const reco_net_desc *net,
                                      size_t max_rows, reco_backend_workspace **out)
{
    cpu_workspace *workspace = reco_calloc(1, sizeof *workspace);
    if (!workspace)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    size_t samples = 2 * (max_rows ? max_rows : 1); /* BPR scores two items per row */
    workspace->max_rows = max_rows;
    cpu_pool *pool = reco_cpu_context_pool(context);
    workspace->n_slices = reco_cpu_pool_threads(pool);
    reco_cpu_pool_release(pool);
    if (workspace->n_slices > samples / 2)
        workspace->n_slices = samples / 2;
    workspace->slices = cache_lines(workspace->n_slices * sizeof *workspace->slices);
    if (workspace->slices)
        memset(workspace->slices, 0, workspace->n_slices * sizeof *workspace->slices);
    workspace->slice_counts = reco_calloc(workspace->n_slices, sizeof *workspace->slice_counts);
    workspace->flights = flights_new();
    int ok = workspace->slices && workspace->slice_counts && workspace->flights &&
             (workspace->dense_grad = floats(net->n_dense)) != NULL;
    size_t capacity = (samples + workspace->n_slices - 1) / workspace->n_slices + 1;
    for (size_t s = 0; ok && s < workspace->n_slices; s++)
        ok = slice_init(&workspace->slices[s], net, capacity);
    for (int side = 0; ok && side < CPU_N_SIDES; side++)
        ok = side_grad_init(&workspace->sides[side], net, side, samples, workspace->n_slices);
    if (!ok) {
        reco_cpu_workspace_destroy(context, workspace);
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for a workspace");
    }
    *out = workspace;
    return RECO_OK;
}

CPU_INLINE void copy_floats(float *restrict target, const float *restrict source, size_t n)
{
    for (size_t k = 0; k < n; k++)
        target[k] = source[k];
}

/* Table rows are scattered over more memory than the cache holds: a row a
 * few rows ahead is asked for while this one is copied. */
#define GATHER_PREFETCH_DISTANCE 8

CPU_INLINE void gather_rows(const float *table, size_t dim, const int32_t *rows, size_t n,
                            float *out, size_t out_stride)
{
    for (size_t i = 0; i < n; i++) {
        if (i + GATHER_PREFETCH_DISTANCE < n)
            cpu_prefetch(table + (size_t)rows[i + GATHER_PREFETCH_DISTANCE] * dim, dim, 0);
        copy_floats(out + i * out_stride, table + (size_t)rows[i] * dim, dim);
    }
}

/* BLIS multiplies by a (in x out) matrix a third faster than by the
 * transpose of the stored (out x in) one at these sizes, so each slice
 * keeps the tower's weights transposed for its forward pass. */
CPU_INLINE void transpose_weights(const reco_net_desc *net, const float *dense, float *out)
{
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t in = net->layer_in[l], width = net->layer_out[l];
        const float *weights = dense + net->weight_offset[l];
        for (size_t j = 0; j < width; j++)
            for (size_t k = 0; k < in; k++)
                out[k * width + j] = weights[j * in + k];
        out += in * width;
    }
}

/* Gathers, computes GMF and the tower, and writes the slice's logits. */
CPU_INLINE void slice_forward(const reco_net_desc *net, const reco_net_params *params,
                          cpu_slice *slice, int training, uint64_t dropout_seed,
                          size_t pair_rows, size_t batch_rows)
{
    size_t rows = slice->rows;
    size_t gmf_dim = net->table_dim[RECO_TABLE_USER_GMF];
    const float *dense = cpu_floats(params->dense);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t))
            continue;
        const int32_t *ids = is_user_table(t) ? slice->users : slice->items;
        size_t dim = net->table_dim[t];
        if (t == RECO_TABLE_USER_MLP || t == RECO_TABLE_ITEM_MLP)
            gather_rows(cpu_floats(params->tables[t]), dim, ids, rows,
                        slice->act[0] + (t == RECO_TABLE_ITEM_MLP ? dim : 0), 2 * dim);
        else
            gather_rows(cpu_floats(params->tables[t]), dim, ids, rows, slice->gathered[t], dim);
    }
    for (size_t i = 0; i < rows * gmf_dim; i++)
        slice->gmf[i] = slice->gathered[RECO_TABLE_USER_GMF][i] *
                        slice->gathered[RECO_TABLE_ITEM_GMF][i];
    transpose_weights(net, dense, slice->weights_in_by_out);
    const float *weights = slice->weights_in_by_out;
    for (size_t l = 0; l < net->n_layers; l++) {
        size_t in = net->layer_in[l], out = net->layer_out[l];
        float *y = slice->act[l + 1];
        reco_cpu_gemm(0, 0, rows, out, in, slice->act[l], in, weights, out, 0.0f, y, out);
        weights += in * out;
        const float *bias = dense + net->bias_offset[l];
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < out; j++) {
                float v = y[i * out + j] + bias[j];
                y[i * out + j] = v > 0.0f ? v : 0.0f;
            }
        if (training && net->dropout > 0.0f) {
            for (size_t i = 0; i < rows; i++) {
                /* BPR slices hold positives then negatives of pair_rows pairs */
                size_t local = pair_rows ? i % pair_rows : i;
                uint64_t sample = (uint64_t)slice->origin[local] +
                                  (pair_rows && i >= pair_rows ? batch_rows : 0);
                for (size_t j = 0; j < out; j++) {
                    float scale = reco_dropout_scale(dropout_seed, sample, l, j, net->dropout);
                    slice->mask[l + 1][i * out + j] = scale;
                    y[i * out + j] *= scale;
                }
            }
        }
    }
    const float *head_w = dense + net->head_w_offset;
    float head_b = dense[net->head_b_offset];
    size_t last = net->n_layers ? net->layer_out[net->n_layers - 1] : 0;
    const float *tower = net->n_layers ? slice->act[net->n_layers] : NULL;
    for (size_t i = 0; i < rows; i++) {
        float logit = head_b;
        for (size_t k = 0; k < gmf_dim; k++)
            logit += slice->gmf[i * gmf_dim + k] * head_w[k];
        for (size_t j = 0; j < last; j++)
            logit += tower[i * last + j] * head_w[gmf_dim + j];
        if (has_table(net, RECO_TABLE_USER_BIAS))
            logit += slice->gathered[RECO_TABLE_USER_BIAS][i] +
                     slice->gathered[RECO_TABLE_ITEM_BIAS][i];
        slice->logit[i] = logit;
    }
}

/* Loss of the slice and d loss / d logit; scale is 1/rows for a mean. */
CPU_INLINE void slice_loss(const reco_net_desc *net, cpu_slice *slice, reco_loss loss,
                           size_t pair_rows, float scale)
{
    double total = 0.0;
    int activation = net->output_activation;
    if (loss == RECO_LOSS_BPR) {
        for (size_t i = 0; i < pair_rows; i++) {
            float positive = slice->logit[i], negative = slice->logit[pair_rows + i];
            double difference = (double)reco_activate(activation, positive) -
                                (double)reco_activate(activation, negative);
            total += reco_softplus(-difference);
            float d_difference = (float)(-1.0 / (1.0 + exp(difference))) * scale;
            slice->dlogit[i] = d_difference * reco_activation_slope(activation, positive);
            slice->dlogit[pair_rows + i] = -d_difference * reco_activation_slope(activation, negative);
        }
    } else if (loss == RECO_LOSS_BCE) {
        for (size_t i = 0; i < slice->rows; i++) {
            /* one exponential gives both the stable softplus and the sigmoid */
            float logit = slice->logit[i], target = slice->targets[i];
            float decay = expf(-fabsf(logit));
            float sigmoid = logit >= 0.0f ? 1.0f / (1.0f + decay) : decay / (1.0f + decay);
            total += (double)((logit > 0.0f ? logit : 0.0f) - logit * target + log1pf(decay));
            slice->dlogit[i] = (sigmoid - target) * scale;
        }
    } else {
        for (size_t i = 0; i < slice->rows; i++) {
            float score = reco_activate(activation, slice->logit[i]);
            double error = (double)score - (double)slice->targets[i];
            total += error * error;
            slice->dlogit[i] =
                (float)(2.0 * error) * scale * reco_activation_slope(activation, slice->logit[i]);
        }
    }
    slice->loss = total * scale;
}

/* Backward from dlogit: the slice's dense gradient and per-row gradients. */
CPU_INLINE void slice_backward(const reco_net_desc *net, const reco_net_params *params,
                           cpu_slice *slice, int dropout_active)
{
    size_t rows = slice->rows;
    size_t gmf_dim = net->table_dim[RECO_TABLE_USER_GMF];
    size_t last = net->n_layers ? net->layer_out[net->n_layers - 1] : 0;
    const float *dense = cpu_floats(params->dense);
    const float *head_w = dense + net->head_w_offset;
    float *grad = slice->dense_grad;
    memset(grad, 0, net->n_dense * sizeof *grad);
    float *delta = slice->delta[0];
    const float *tower = net->n_layers ? slice->act[net->n_layers] : NULL;
    for (size_t i = 0; i < rows; i++) {
        float d = slice->dlogit[i];
        if (net->train_head_bias)
            grad[net->head_b_offset] += d;
        if (net->train_head_weights) {
            for (size_t k = 0; k < gmf_dim; k++)
                grad[net->head_w_offset + k] += d * slice->gmf[i * gmf_dim + k];
            for (size_t j = 0; j < last; j++)
                grad[net->head_w_offset + gmf_dim + j] += d * tower[i * last + j];
        }
        for (size_t k = 0; k < gmf_dim; k++) {
            float dg = d * head_w[k];
            slice->dgathered[RECO_TABLE_USER_GMF][i * gmf_dim + k] =
                dg * slice->gathered[RECO_TABLE_ITEM_GMF][i * gmf_dim + k];
            slice->dgathered[RECO_TABLE_ITEM_GMF][i * gmf_dim + k] =
                dg * slice->gathered[RECO_TABLE_USER_GMF][i * gmf_dim + k];
        }
        if (has_table(net, RECO_TABLE_USER_BIAS)) {
            slice->dgathered[RECO_TABLE_USER_BIAS][i] = d;
            slice->dgathered[RECO_TABLE_ITEM_BIAS][i] = d;
        }
        for (size_t j = 0; j < last; j++)
            delta[i * last + j] = d * head_w[gmf_dim + j];
    }
    for (size_t l = net->n_layers; l-- > 0;) {
        size_t in = net->layer_in[l], out = net->layer_out[l];
        const float *y = slice->act[l + 1];
        for (size_t e = 0; e < rows * out; e++) {
            float scale = dropout_active ? slice->mask[l + 1][e] : 1.0f;
            delta[e] = y[e] > 0.0f ? delta[e] * scale : 0.0f;
        }
        reco_cpu_gemm(1, 0, out, in, rows, delta, out, slice->act[l], in, 1.0f,
                      grad + net->weight_offset[l], in);
        float *bias_grad = grad + net->bias_offset[l];
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < out; j++)
                bias_grad[j] += delta[i * out + j];
        float *below = l == 0 ? slice->dgathered[RECO_TABLE_USER_MLP]
                              : (delta == slice->delta[0] ? slice->delta[1] : slice->delta[0]);
        reco_cpu_gemm(0, 0, rows, in, out, delta, out, dense + net->weight_offset[l], in, 0.0f,
                      below, in);
        delta = below;
    }
}

/* Scoring slices: slice s holds pairs [s*n/S, (s+1)*n/S). */
static size_t slice_begin(size_t slice, size_t n_slices, size_t n)
{
    return slice * n / n_slices;
}

typedef struct training_pass {
    const reco_net_desc *net;
    const reco_net_params *params;
    cpu_workspace *workspace;
    const reco_batch *batch;
} training_pass;

/* Fills the slice's samples from its batch rows (origin, set by the caller). */
CPU_INLINE void prepare_slice(const training_pass *p, cpu_slice *slice, size_t count)
{
    const reco_batch *batch = p->batch;
    const int32_t *users = cpu_ints(batch->users) + batch->offset;
    const int32_t *items = cpu_ints(batch->items) + batch->offset;
    const int32_t *negatives = cpu_ints(batch->negatives) + batch->offset;
    const float *targets = cpu_const_floats(batch->targets) + batch->offset;
    int pairs = batch->loss == RECO_LOSS_BPR;
    for (size_t i = 0; i < count; i++) {
        int32_t row = slice->origin[i];
        slice->users[i] = users[row];
        slice->items[i] = items[row];
        if (pairs) {
            slice->users[count + i] = users[row];
            slice->items[count + i] = negatives[row];
        } else {
            slice->targets[i] = targets[row];
        }
    }
    slice->rows = pairs ? 2 * count : count;
    slice->pair_rows = pairs ? count : 0;
}

/* Where a side's row gradients of one slice lie: `count` rows for the ids
 * in ids[]; table t's row i at base[t] + i * stride[t]. */
typedef struct row_source {
    const int32_t *ids;
    size_t count;
    const float *base[RECO_N_TABLES];
    size_t stride[RECO_N_TABLES];
} row_source;

static row_source slice_rows(const reco_net_desc *net, const cpu_slice *slice, int side)
{
    row_source source = {0};
    if (side == CPU_SIDE_USERS) {
        source.ids = slice->local_users;
        source.count = slice->n_local_users;
    } else {
        source.ids = slice->items;
        source.count = slice->rows;
    }
    for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES) {
        size_t dim = net->table_dim[t];
        if (side == CPU_SIDE_USERS) {
            source.base[t] = slice->local_grads[t];
            source.stride[t] = dim;
        } else if (t == RECO_TABLE_ITEM_MLP) {
            source.base[t] = slice->dgathered[RECO_TABLE_USER_MLP] + dim;
            source.stride[t] = 2 * dim;
        } else {
            source.base[t] = slice->dgathered[t];
            source.stride[t] = dim;
        }
    }
    return source;
}

/* A row's slot is looked up in an array that the step's table rows have
 * pushed out of the cache: asking for it some rows ahead overlaps those
 * misses. */
#define SLOT_PREFETCH_DISTANCE 8

/* Sums the slice's user-table row gradients per distinct user. */
CPU_INLINE void compact_users(const reco_net_desc *net, cpu_slice *slice)
{
    for (size_t r = 0; r < slice->n_local_users; r++)
        slice->user_slot[slice->local_users[r]] = -1;
    slice->n_local_users = 0;
    for (size_t i = 0; i < slice->rows; i++) {
        if (i + SLOT_PREFETCH_DISTANCE < slice->rows)
            __builtin_prefetch(slice->user_slot + slice->users[i + SLOT_PREFETCH_DISTANCE], 1);
        int32_t user = slice->users[i];
        int32_t slot = slice->user_slot[user];
        int fresh = slot < 0;
        if (fresh) {
            slot = (int32_t)slice->n_local_users++;
            slice->user_slot[user] = slot;
            slice->local_users[slot] = user;
        }
        for (int t = 0; t < RECO_N_TABLES; t++) {
            if (!has_table(net, t) || !is_user_table(t))
                continue;
            size_t dim = net->table_dim[t];
            int mlp = t == RECO_TABLE_USER_MLP;
            const float *row = slice->dgathered[t] + i * (mlp ? 2 * dim : dim);
            float *target = slice->local_grads[t] + (size_t)slot * dim;
            for (size_t k = 0; k < dim; k++)
                target[k] = fresh ? row[k] : target[k] + row[k];
        }
    }
}

/* Adds, in slice order, the row gradients of one side's tables that fall
 * in partition `part`, after forgetting the rows of the previous batch. */
CPU_INLINE void scatter_part(const reco_net_desc *net, cpu_workspace *workspace, int side,
                             size_t part)
{
    cpu_side_grad *grad = &workspace->sides[side];
    cpu_row_grads *rows = &grad->parts[part];
    size_t n_parts = workspace->n_slices;
    for (size_t r = 0; r < rows->n_rows; r++)
        grad->slot_of_row[rows->rows[r]] = -1;
    rows->n_rows = 0;
    int tables[RECO_N_TABLES / CPU_N_SIDES], n_tables = 0;
    for (int t = side; t < RECO_N_TABLES; t += CPU_N_SIDES)
        if (has_table(net, t))
            tables[n_tables++] = t;
    for (size_t s = 0; s < workspace->n_slices; s++) {
        const cpu_slice *slice = &workspace->slices[s];
        row_source source = slice_rows(net, slice, side);
        /* a slice holds the batch rows whose item is in its partition: only
         * BPR's negative items can belong elsewhere */
        size_t first = 0;
        if (side == CPU_SIDE_ITEMS) {
            if (s != part && !slice->pair_rows)
                continue;
            if (s != part)
                first = slice->pair_rows;
        }
        for (size_t i = first; i < source.count; i++) {
            if (i + SLOT_PREFETCH_DISTANCE < source.count)
                __builtin_prefetch(grad->slot_of_row + source.ids[i + SLOT_PREFETCH_DISTANCE], 1);
            int32_t id = source.ids[i];
            int owned = side == CPU_SIDE_ITEMS && s == part &&
                        (!slice->pair_rows || i < slice->pair_rows);
            if (!owned && cpu_partition_of(id, n_parts) != part)
                continue;
            int32_t slot = grad->slot_of_row[id];
            int fresh = slot < 0;
            if (fresh) {
                slot = (int32_t)rows->n_rows++;
                grad->slot_of_row[id] = slot;
                rows->rows[slot] = id;
            }
            for (int k = 0; k < n_tables; k++) {
                int t = tables[k];
                size_t dim = net->table_dim[t];
                const float *row = source.base[t] + i * source.stride[t];
                float *target = rows->grads[t] + (size_t)slot * dim;
                for (size_t j = 0; j < dim; j++)
                    target[j] = fresh ? row[j] : target[j] + row[j];
            }
        }
    }
}

/* The dense gradient's range [begin, begin + n): the slices' in slice order,
 * slice by slice so that the additions are vector operations. */
CPU_INLINE void sum_dense_grads(cpu_workspace *workspace, size_t begin, size_t n)
{
    float *restrict sum = workspace->dense_grad + begin;
    memset(sum, 0, n * sizeof *sum);
    for (size_t s = 0; s < workspace->n_slices; s++) {
        const float *restrict part = workspace->slices[s].dense_grad + begin;
        for (size_t i = 0; i < n; i++)
            sum[i] += part[i];
    }
}

typedef struct training_run {
    training_pass pass;
    cpu_pool *pool;
    const cpu_step *step; /* NULL: gradients only */
    const size_t *counts; /* batch rows per slice */
} training_run;

/* The whole backward side of a step on every thread: slices, a barrier,
 * then each thread sums its range of the dense gradient (slice order) and
 * scatters its row partitions. */
CPU_WIDE_VECTOR_CLONES
static void training_task(void *argument, size_t thread, size_t n_threads)
{
    const training_run *run = argument;
    const training_pass *p = &run->pass;
    const reco_net_desc *net = p->net;
    cpu_workspace *workspace = p->workspace;
    const reco_batch *batch = p->batch;
    int pairs = batch->loss == RECO_LOSS_BPR;
    float scale = batch->mean_reduction ? 1.0f / (float)batch->n : 1.0f;
    for (size_t s = thread; s < workspace->n_slices; s += n_threads) {
        cpu_slice *slice = &workspace->slices[s];
        prepare_slice(p, slice, run->counts[s]);
        size_t pair_rows = pairs ? slice->rows / 2 : 0;
        slice_forward(net, p->params, slice, 1, batch->dropout_seed, pair_rows, batch->n);
        slice_loss(net, slice, batch->loss, pair_rows, scale);
        slice_backward(net, p->params, slice, net->dropout > 0.0f);
        compact_users(net, slice);
    }
    reco_cpu_pool_barrier(run->pool, thread);
    size_t begin = cpu_share(net->n_dense, thread, n_threads);
    sum_dense_grads(workspace, begin, cpu_share(net->n_dense, thread + 1, n_threads) - begin);
    for (int side = 0; side < CPU_N_SIDES; side++)
        for (size_t part = thread; part < workspace->n_slices; part += n_threads)
            scatter_part(net, workspace, side, part);
    if (!run->step)
        return;
    /* each thread steps what it just reduced and scattered; only the dense
     * embedding mode reads other threads' partitions */
    if (run->step->dense_embeddings)
        reco_cpu_pool_barrier(run->pool, thread);
    reco_cpu_step_thread(run->step, thread, n_threads);
}

/* A training step whose other threads may still be in their part (the
 * reduce, scatter and optimizer steps after the barrier) when train_step
 * returns, so that the caller's work between steps overlaps theirs. */
typedef struct cpu_flight {
    training_run run;
    cpu_step step;
    reco_batch batch;
} cpu_flight;

/* The workspace's two flights, used in turn. */
static cpu_flight *flights_new(void)
{
    return reco_calloc(2, sizeof(cpu_flight));
}

static double slices_loss(const cpu_workspace *workspace)
{
    double total = 0.0;
    for (size_t s = 0; s < workspace->n_slices; s++)
        total += workspace->slices[s].loss;
    return total;
}

void reco_cpu_workspace_land(cpu_workspace *workspace)
{
    if (!workspace->flying)
        return;
    reco_cpu_pool_finish(workspace->flying);
    reco_cpu_pool_release(workspace->flying);
    workspace->flying = NULL;
    workspace->loss_total += slices_loss(workspace);
}

/* Asks for the batch's samples at once: an epoch's samples are made a
 * window of a million at a time, and a batch's are no longer in the cache
 * when it runs; read one by one, each line's miss would wait for the last. */
static void prefetch_batch(const reco_batch *batch)
{
    /* what prepare_slice reads: BPR's negatives, or the targets */
    const reco_backend_buffer *arrays[3] = {batch->users, batch->items,
                                            batch->loss == RECO_LOSS_BPR ? batch->negatives
                                                                         : batch->targets};
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < batch->n; i += 16)
            __builtin_prefetch(cpu_ints(arrays[a]) + batch->offset + i, 0);
}

/* Lists each slice's batch rows; a slice that must grow first waits for
 * the step in flight, whose threads read the slices. */
static int assign_rows(const reco_net_desc *net, cpu_workspace *workspace, const reco_batch *batch)
{
    size_t n_slices = workspace->n_slices;
    const int32_t *items = cpu_ints(batch->items) + batch->offset;
    prefetch_batch(batch);
    size_t *counts = workspace->slice_counts;
    memset(counts, 0, n_slices * sizeof *counts);
    for (size_t i = 0; i < batch->n; i++)
        counts[cpu_partition_of(items[i], n_slices)]++;
    size_t per_row = batch->loss == RECO_LOSS_BPR ? 2 : 1;
    for (size_t s = 0; s < n_slices; s++) {
        if (counts[s] * per_row > workspace->slices[s].capacity)
            reco_cpu_workspace_land(workspace);
        if (!slice_reserve(&workspace->slices[s], net, counts[s] * per_row))
            return 0;
    }
    memset(counts, 0, n_slices * sizeof *counts);
    for (size_t i = 0; i < batch->n; i++) {
        size_t s = cpu_partition_of(items[i], n_slices);
        workspace->slices[s].origin[counts[s]++] = (int32_t)i;
    }
    return 1;
}

/* A step (`step` not NULL) whose loss is not wanted returns in flight; the
 * rest complete before they return. */
static reco_status run_training(cpu_context *cpu, const reco_net_desc *net,
                                const reco_net_params *params, cpu_workspace *workspace,
                                const reco_batch *batch, const cpu_step *step, double *loss)
{
    if (batch->n > workspace->max_rows || batch->n == 0)
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT, "batch larger than the workspace");
    if (!assign_rows(net, workspace, batch))
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for a batch slice");
    reco_cpu_workspace_land(workspace);
    cpu_pool *pool = reco_cpu_context_pool(cpu);
    if (step && !loss) {
        cpu_flight *flight = &workspace->flights[workspace->next_flight];
        workspace->next_flight ^= 1;
        flight->step = *step;
        flight->batch = *batch;
        flight->run = (training_run){
            {net, params, workspace, &flight->batch}, pool, &flight->step, workspace->slice_counts};
        reco_cpu_pool_start(pool, training_task, &flight->run);
        workspace->flying = pool;
        return RECO_OK;
    }
    training_run run = {{net, params, workspace, batch}, pool, step, workspace->slice_counts};
    reco_cpu_pool_run(pool, training_task, &run);
    reco_cpu_pool_release(pool);
    double total = slices_loss(workspace);
    if (loss)
        *loss = total;
    else
        workspace->loss_total += total;
    return RECO_OK;
}

reco_status reco_cpu_take_loss(reco_backend_context *context, reco_backend_workspace *workspace,
                               double *total)
{
    (void)context;
    reco_cpu_workspace_land(workspace);
    *total = workspace->loss_total;
    workspace->loss_total = 0.0;
    return RECO_OK;
}

reco_status reco_cpu_forward_backward(reco_backend_context *context, const reco_net_desc *net,
                                      const reco_net_params *params,
                                      reco_backend_workspace *workspace, const reco_batch *batch,
                                      double *loss)
{
    return run_training(context, net, params, workspace, batch, NULL, loss);
}

reco_status reco_cpu_train_step(reco_backend_context *context, const reco_net_desc *net,
                                reco_net_params *params, reco_backend_workspace *workspace,
                                reco_backend_optimizer *state, const reco_optimizer_config *config,
                                float learning_rate, uint64_t step_number, const reco_batch *batch,
                                double *loss)
{
    cpu_step step;
    reco_cpu_step_prepare(&step, net, params, workspace, state, config, learning_rate, step_number);
    return run_training(context, net, params, workspace, batch, &step, loss);
}

typedef struct scoring_pass {
    const reco_net_desc *net;
    const reco_net_params *params;
    cpu_workspace *workspace;
    const int32_t *users;
    const int32_t *items;
    size_t n;
    float *scores;
} scoring_pass;

CPU_VECTOR_CLONES
static void scoring_task(void *argument, size_t thread, size_t n_threads)
{
    const scoring_pass *p = argument;
    size_t n_slices = p->workspace->n_slices;
    for (size_t s = thread; s < n_slices; s += n_threads) {
        cpu_slice *slice = &p->workspace->slices[s];
        size_t begin = slice_begin(s, n_slices, p->n), end = slice_begin(s + 1, n_slices, p->n);
        slice->rows = end - begin;
        memcpy(slice->users, p->users + begin, slice->rows * sizeof(int32_t));
        memcpy(slice->items, p->items + begin, slice->rows * sizeof(int32_t));
        slice_forward(p->net, p->params, slice, 0, 0, 0, p->n);
        for (size_t i = 0; i < slice->rows; i++)
            p->scores[begin + i] = reco_activate(p->net->output_activation, slice->logit[i]);
    }
}

reco_status reco_cpu_forward(reco_backend_context *context, const reco_net_desc *net,
                             const reco_net_params *params, reco_backend_workspace *workspace,
                             const int32_t *users, const int32_t *items, size_t n, float *scores)
{
    cpu_context *cpu = context;
    if (n > 2 * workspace->max_rows)
        return reco_backend_fail(RECO_ERR_INVALID_ARGUMENT, "more pairs than the workspace");
    scoring_pass pass = {net, params, workspace, users, items, n, scores};
    cpu_pool *pool = reco_cpu_context_pool(cpu);
    reco_cpu_pool_run_or_inline(pool, scoring_task, &pass);
    reco_cpu_pool_release(pool);
    return RECO_OK;
}

typedef struct product_scoring {
    const reco_net_desc *net;
    const reco_net_params *params;
    const int32_t *users;
    size_t n_users;
    const float *item_factors; /* items x factors, head weights folded in */
    float *user_factors;       /* n_users x factors */
    float *scores;
} product_scoring;

/* Thread `thread` scores its share of the users: one matrix product. */
CPU_VECTOR_CLONES
static void product_task(void *argument, size_t thread, size_t n_threads)
{
    const product_scoring *p = argument;
    const reco_net_desc *net = p->net;
    size_t factors = net->table_dim[RECO_TABLE_USER_GMF];
    size_t n_items = net->table_rows[RECO_TABLE_ITEM_GMF];
    size_t begin = cpu_share(p->n_users, thread, n_threads);
    size_t end = cpu_share(p->n_users, thread + 1, n_threads);
    if (begin == end)
        return;
    gather_rows(cpu_floats(p->params->tables[RECO_TABLE_USER_GMF]), factors, p->users + begin,
                end - begin, p->user_factors + begin * factors, factors);
    float *scores = p->scores + begin * n_items;
    reco_cpu_gemm(0, 1, end - begin, n_items, factors, p->user_factors + begin * factors, factors,
                  p->item_factors, factors, 0.0f, scores, n_items);
    const float *dense = cpu_floats(p->params->dense);
    const float *user_bias = cpu_floats(p->params->tables[RECO_TABLE_USER_BIAS]);
    const float *item_bias = cpu_floats(p->params->tables[RECO_TABLE_ITEM_BIAS]);
    for (size_t u = begin; u < end; u++) {
        float offset = dense[net->head_b_offset] + (user_bias ? user_bias[p->users[u]] : 0.0f);
        float *row = p->scores + u * n_items;
        for (size_t i = 0; i < n_items; i++)
            row[i] = reco_activate(net->output_activation,
                              row[i] + offset + (item_bias ? item_bias[i] : 0.0f));
    }
}

reco_status reco_cpu_score_items(reco_backend_context *context, const reco_net_desc *net,
                                 const reco_net_params *params, reco_backend_workspace *workspace,
                                 const int32_t *users, size_t n_users, float *scores)
{
    cpu_context *cpu = context;
    size_t n_items = net->table_rows[RECO_TABLE_ITEM_GMF] ? net->table_rows[RECO_TABLE_ITEM_GMF]
                                                          : net->table_rows[RECO_TABLE_ITEM_MLP];
    if (net->n_layers > 0) {
        /* a tower to run for every pair: the forward pass, in workspace-sized pieces */
        size_t piece = 2 * workspace->max_rows;
        int32_t *pair_users = reco_malloc(piece * sizeof *pair_users);
        int32_t *pair_items = reco_malloc(piece * sizeof *pair_items);
        reco_status status = pair_users && pair_items
                                 ? RECO_OK
                                 : reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
        for (size_t u = 0; u < n_users && status == RECO_OK; u++)
            for (size_t begin = 0; begin < n_items && status == RECO_OK; begin += piece) {
                size_t count = n_items - begin < piece ? n_items - begin : piece;
                for (size_t i = 0; i < count; i++) {
                    pair_users[i] = users[u];
                    pair_items[i] = (int32_t)(begin + i);
                }
                status = reco_cpu_forward(context, net, params, workspace, pair_users, pair_items,
                                          count, scores + u * n_items + begin);
            }
        reco_free(pair_users);
        reco_free(pair_items);
        return status;
    }
    /* MF and GMF: score = act(p_u . (h * q_i) + b (+ biases)), one product */
    size_t factors = net->table_dim[RECO_TABLE_USER_GMF];
    float *item_factors = floats(n_items * factors);
    float *user_factors = floats(n_users * factors);
    if (!item_factors || !user_factors) {
        reco_aligned_free(item_factors);
        reco_aligned_free(user_factors);
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    }
    const float *items = cpu_floats(params->tables[RECO_TABLE_ITEM_GMF]);
    const float *head_w = cpu_const_floats(params->dense) + net->head_w_offset;
    for (size_t i = 0; i < n_items; i++)
        for (size_t k = 0; k < factors; k++)
            item_factors[i * factors + k] = items[i * factors + k] * head_w[k];
    product_scoring scoring = {net, params, users, n_users, item_factors, user_factors, scores};
    cpu_pool *pool = reco_cpu_context_pool(cpu);
    reco_cpu_pool_run_or_inline(pool, product_task, &scoring);
    reco_cpu_pool_release(pool);
    reco_aligned_free(item_factors);
    reco_aligned_free(user_factors);
    return RECO_OK;
}

/* CUDA backend: forward and backward of the network. Gathers, the GMF
 * product, bias + ReLU (+ dropout), the head, the losses and the scatter of
 * row gradients are kernels; the tower's matrix products and the dense
 * reductions go to cuBLAS (FP32, column-major views of row-major data).
 *
 * Why one file of this length: the kernels, the passes that launch them and
 * the CUDA graphs that capture those passes share device helpers, which
 * nvcc inlines only within one translation unit unless the module is built
 * with relocatable device code (slower kernels, a device link step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "reco_math.h"

static int has_table(const reco_net_desc *net, int table)
{
    return net->table_dim[table] > 0;
}

static int is_user_table(int table)
{
    return table == RECO_TABLE_USER_GMF || table == RECO_TABLE_USER_MLP ||
           table == RECO_TABLE_USER_BIAS;
}

static int is_mlp_table(int table)
{
    return table == RECO_TABLE_USER_MLP || table == RECO_TABLE_ITEM_MLP;
}

#define GRID_STRIDE(index, n)                                                          \
    for (size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x; index < (n);    \
         index += (size_t)blockDim.x * gridDim.x)

/* One table's rows for a batch: row i goes to out + i * stride + column. */
typedef struct gather_entry {
    size_t size, dim; /* size: rows x dim */
    const float *table;
    const int *ids;
    float *out;
    size_t stride, column;
} gather_entry;

__global__ static void gather_kernel(cuda_list<gather_entry> list, size_t total)
{
    GRID_STRIDE(index, total)
    {
        size_t local;
        const gather_entry &e = list.entry[cuda_locate(list, index, &local)];
        size_t i = local / e.dim, d = local % e.dim;
        e.out[i * e.stride + e.column + d] = e.table[(size_t)e.ids[i] * e.dim + d];
    }
}

__global__ static void bias_relu_kernel(float *y, const float *bias, size_t rows, size_t out,
                                        float dropout, const cuda_step_args *args, size_t layer,
                                        float *mask)
{
    uint64_t seed = mask ? args->dropout_seed : 0;
    GRID_STRIDE(index, rows * out)
    {
        size_t j = index % out;
        float v = y[index] + bias[j];
        v = v > 0.0f ? v : 0.0f;
        if (mask) {
            /* samples are laid out in batch order (BPR: then the negatives),
             * so the sample number is the row, as on the CPU */
            float scale = reco_dropout_scale(seed, index / out, layer, j, dropout);
            mask[index] = scale;
            v *= scale;
        }
        y[index] = v;
    }
}

__global__ static void product_kernel(const float *a, const float *b, size_t n, float *out)
{
    GRID_STRIDE(index, n) out[index] = a[index] * b[index];
}

__global__ static void head_forward_kernel(size_t n, const float *gmf, size_t gmf_dim,
                                           const float *tower, size_t last, const float *head_w,
                                           const float *head_b, const float *user_bias,
                                           const float *item_bias, float *logit)
{
    GRID_STRIDE(i, n)
    {
        float value = *head_b;
        for (size_t k = 0; k < gmf_dim; k++)
            value += gmf[i * gmf_dim + k] * head_w[k];
        for (size_t j = 0; j < last; j++)
            value += tower[i * last + j] * head_w[gmf_dim + j];
        if (user_bias)
            value += user_bias[i] + item_bias[i];
        logit[i] = value;
    }
}

__global__ static void score_kernel(size_t n, const float *logit, int activation, float *scores)
{
    GRID_STRIDE(i, n) scores[i] = reco_activate(activation, logit[i]);
}


/* The sum of v over the block's threads, in a fixed order; every thread
 * gets it. */
template <typename T> __device__ static T block_sum(T v)
{
    __shared__ T partial[CUDA_BLOCK];
    partial[threadIdx.x] = v;
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride)
            partial[threadIdx.x] += partial[threadIdx.x + stride];
        __syncthreads();
    }
    T sum = partial[0];
    __syncthreads();
    return sum;
}

/* One loss term and d loss / d logit per sample (BPR: per pair); the block
 * sums its terms before one atomic add. */
__global__ static void loss_kernel(reco_loss loss, size_t n, const float *logit, const float *targets,
                                   int activation, float scale, float *dlogit, double *total)
{
    double sum = 0.0;
    GRID_STRIDE(i, n)
    {
        if (loss == RECO_LOSS_BPR) {
            float positive = logit[i], negative = logit[n + i];
            double difference =
                (double)reco_activate(activation, positive) - (double)reco_activate(activation, negative);
            sum += reco_softplus(-difference);
            float d = (float)(-1.0 / (1.0 + exp(difference))) * scale;
            dlogit[i] = d * reco_activation_slope(activation, positive);
            dlogit[n + i] = -d * reco_activation_slope(activation, negative);
        } else if (loss == RECO_LOSS_BCE) {
            float l = logit[i], t = targets[i];
            float decay = expf(-fabsf(l));
            float sigmoid = l >= 0.0f ? 1.0f / (1.0f + decay) : decay / (1.0f + decay);
            sum += (double)((l > 0.0f ? l : 0.0f) - l * t + log1pf(decay));
            dlogit[i] = (sigmoid - t) * scale;
        } else {
            float score = reco_activate(activation, logit[i]);
            double error = (double)score - (double)targets[i];
            sum += error * error;
            dlogit[i] = (float)(2.0 * error) * scale * reco_activation_slope(activation, logit[i]);
        }
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0)
        atomicAdd(total, sum * scale);
}

__global__ static void head_backward_kernel(size_t n, const float *dlogit, const float *head_w,
                                            size_t gmf_dim, size_t last, const float *user_gmf,
                                            const float *item_gmf, float *duser_gmf,
                                            float *ditem_gmf, float *duser_bias,
                                            float *ditem_bias, float *delta)
{
    GRID_STRIDE(i, n)
    {
        float d = dlogit[i];
        for (size_t k = 0; k < gmf_dim; k++) {
            float dg = d * head_w[k];
            duser_gmf[i * gmf_dim + k] = dg * item_gmf[i * gmf_dim + k];
            ditem_gmf[i * gmf_dim + k] = dg * user_gmf[i * gmf_dim + k];
        }
        if (duser_bias) {
            duser_bias[i] = d;
            ditem_bias[i] = d;
        }
        for (size_t j = 0; j < last; j++)
            delta[i * last + j] = d * head_w[gmf_dim + j];
    }
}

/* Weighted column sums of one row-major matrix of `size` columns:
 * out[j] = sum over rows of matrix[i][j] * weights[i] (weights NULL: ones). */
typedef struct sum_entry {
    size_t size; /* columns */
    const float *matrix;
    const float *weights;
    float *out;
} sum_entry;

/* One block per column of every entry: a small batch's reductions in one
 * launch instead of a cuBLAS call each. */
__global__ static void column_sums_kernel(cuda_list<sum_entry> list, size_t rows)
{
    size_t column;
    const sum_entry &e = list.entry[cuda_locate(list, blockIdx.x, &column)];
    float sum = 0.0f;
    for (size_t i = threadIdx.x; i < rows; i += blockDim.x)
        sum += e.matrix[i * e.size + column] * (e.weights ? e.weights[i] : 1.0f);
    sum = block_sum(sum);
    if (threadIdx.x == 0)
        e.out[column] = sum;
}

/* ReLU's (and dropout's) backward on a small batch's delta, with the bias
 * gradient (column sums of the result): one block per column. */
__global__ static void relu_backward_sums_kernel(float *delta, const float *y, const float *mask,
                                                 size_t rows, size_t out, float *bias_grad)
{
    size_t j = blockIdx.x;
    float sum = 0.0f;
    for (size_t i = threadIdx.x; i < rows; i += blockDim.x) {
        size_t at = i * out + j;
        float v = y[at] > 0.0f ? delta[at] * (mask ? mask[at] : 1.0f) : 0.0f;
        delta[at] = v;
        sum += v;
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0)
        bias_grad[j] = sum;
}

__global__ static void relu_backward_kernel(float *delta, const float *y, const float *mask,
                                            size_t n)
{
    GRID_STRIDE(index, n)
    {
        float scale = mask ? mask[index] : 1.0f;
        delta[index] = y[index] > 0.0f ? delta[index] * scale : 0.0f;
    }
}

/* One table's row gradients of a batch, added into its full-size gradient
 * table; each row's first touch enters the touched-row list. */
typedef struct scatter_entry {
    size_t size, dim; /* size: rows x dim */
    const float *source;
    size_t stride, column;
    const int *ids;
    float *grads;
    int *touched;
    int *rows;
    int *count;
} scatter_entry;

__global__ static void scatter_kernel(cuda_list<scatter_entry> list, size_t total)
{
    GRID_STRIDE(index, total)
    {
        size_t local;
        const scatter_entry &e = list.entry[cuda_locate(list, index, &local)];
        size_t i = local / e.dim, d = local % e.dim;
        int id = e.ids[i];
        atomicAdd(&e.grads[(size_t)id * e.dim + d], e.source[i * e.stride + e.column + d]);
        if (d == 0 && atomicExch(&e.touched[id], 1) == 0)
            e.rows[atomicAdd(e.count, 1)] = id;
    }
}

/* What a batch starts by zeroing: the touched-row counts, and the batch's
 * loss when the caller waits for it. */
typedef struct cuda_counters {
    int n;
    int *count[RECO_N_TABLES];
    double *batch_loss;
} cuda_counters;

/* The batch's rows of the epoch's buffers, at the offset in args (BPR:
 * positives, then the same users with their negatives). */
__global__ static void copy_batch_kernel(const int *users, const int *items, const int *negatives,
                                         const float *targets, const cuda_step_args *args,
                                         size_t n, int *batch_users, int *batch_items,
                                         float *batch_targets, cuda_counters counters)
{
    size_t offset = args->offset;
    /* the forget kernel, just before, has read the last batch's counts */
    if (blockIdx.x == 0 && threadIdx.x < (unsigned)counters.n)
        *counters.count[threadIdx.x] = 0;
    if (blockIdx.x == 0 && threadIdx.x == 0 && counters.batch_loss)
        *counters.batch_loss = 0.0;
    GRID_STRIDE(i, n)
    {
        batch_users[i] = users[offset + i];
        batch_items[i] = items[offset + i];
        if (negatives) {
            batch_users[n + i] = users[offset + i];
            batch_items[n + i] = negatives[offset + i];
        }
        if (targets)
            batch_targets[i] = targets[offset + i];
    }
}

__global__ static void store_args_kernel(cuda_step_args *target, cuda_step_args value)
{
    *target = value;
}

reco_status cuda_store_step_args(cuda_context *context, cuda_step_args *target,
                                 const cuda_step_args *value)
{
    store_args_kernel<<<1, 1, 0, context->stream>>>(target, *value);
    return cuda_check(cudaGetLastError(), "step arguments");
}

/* Zeroes the dense gradient (its first n_dense elements), then the gradient
 * rows and flags of the rows the last batch touched in each table. */
typedef struct forget_entry {
    size_t size, dim; /* size: capacity x dim */
    float *grads;
    int *touched;
    const int *rows;
    const int *count;
} forget_entry;

__global__ static void forget_kernel(cuda_list<forget_entry> list, size_t total,
                                     float *dense_grad, size_t n_dense)
{
    GRID_STRIDE(index, n_dense + total)
    {
        if (index < n_dense) {
            dense_grad[index] = 0.0f;
            continue;
        }
        size_t local;
        const forget_entry &e = list.entry[cuda_locate(list, index - n_dense, &local)];
        size_t r = local / e.dim, d = local % e.dim;
        if (r >= (size_t)*e.count)
            continue;
        int id = e.rows[r];
        e.grads[(size_t)id * e.dim + d] = 0.0f;
        if (d == 0)
            e.touched[id] = 0;
    }
}

static size_t widest_layer(const reco_net_desc *net)
{
    size_t widest = 1;
    for (size_t l = 0; l < net->n_layers; l++) {
        widest = net->layer_in[l] > widest ? net->layer_in[l] : widest;
        widest = net->layer_out[l] > widest ? net->layer_out[l] : widest;
    }
    return widest;
}

/* cudaMalloc that keeps the first failure in *status. */
template <typename T> static T *device_array(size_t count, reco_status *status)
{
    void *pointer = NULL;
    if (*status == RECO_OK)
        *status = cuda_check(cudaMalloc(&pointer, (count ? count : 1) * sizeof(T)), "cudaMalloc");
    return (T *)pointer;
}

void cuda_workspace_destroy(reco_backend_context *context, reco_backend_workspace *opaque)
{
    (void)context;
    cuda_workspace *w = (cuda_workspace *)opaque;
    if (!w)
        return;
    cudaDeviceSynchronize();
    for (size_t g = 0; g < CUDA_GRAPHS; g++)
        if (w->graphs[g])
            cudaGraphExecDestroy(w->graphs[g]);
    void *pointers[] = {w->users, w->items, w->gmf, w->logit, w->dlogit, w->delta[0],
                        w->delta[1], w->ones, w->loss, w->batch_loss, w->dense_grad,
                        w->targets, w->args};
    for (size_t i = 0; i < sizeof pointers / sizeof *pointers; i++)
        cudaFree(pointers[i]);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        cudaFree(w->gathered[t]);
        cudaFree(w->dgathered[t]);
        cudaFree(w->tables[t].grads);
        cudaFree(w->tables[t].touched);
        cudaFree(w->tables[t].rows);
        cudaFree(w->tables[t].count);
    }
    for (int l = 0; l <= RECO_MAX_LAYERS; l++) {
        cudaFree(w->act[l]);
        cudaFree(w->mask[l]);
    }
    free(w);
}

__global__ static void fill_kernel(float *out, size_t n, float value)
{
    GRID_STRIDE(i, n) out[i] = value;
}

reco_status cuda_workspace_create(reco_backend_context *opaque, const reco_net_desc *net, size_t max_rows,
                                  reco_backend_workspace **out)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)calloc(1, sizeof *w);
    if (!w)
        return cuda_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    reco_status status = RECO_OK;
    size_t capacity = 2 * (max_rows ? max_rows : 1);
    w->max_rows = max_rows;
    w->capacity = capacity;
    w->users = device_array<int>(capacity, &status);
    w->items = device_array<int>(capacity, &status);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t))
            continue;
        size_t dim = net->table_dim[t];
        if (!is_mlp_table(t)) {
            w->gathered[t] = device_array<float>(capacity * dim, &status);
            w->dgathered[t] = device_array<float>(capacity * dim, &status);
        }
        cuda_table_grad *grad = &w->tables[t];
        grad->grads = device_array<float>(net->table_rows[t] * dim, &status);
        grad->touched = device_array<int>(net->table_rows[t], &status);
        grad->rows = device_array<int>(capacity, &status);
        grad->count = device_array<int>(1, &status);
        if (status == RECO_OK) {
            cudaMemsetAsync(grad->grads, 0, net->table_rows[t] * dim * sizeof(float),
                            context->stream);
            cudaMemsetAsync(grad->touched, 0, net->table_rows[t] * sizeof(int), context->stream);
            cudaMemsetAsync(grad->count, 0, sizeof(int), context->stream);
        }
    }
    w->gmf = device_array<float>(capacity * net->table_dim[RECO_TABLE_USER_GMF], &status);
    if (net->n_layers > 0) {
        w->act[0] = device_array<float>(capacity * net->layer_in[0], &status);
        w->dgathered[RECO_TABLE_USER_MLP] = device_array<float>(capacity * net->layer_in[0], &status);
    }
    for (size_t l = 0; l < net->n_layers; l++) {
        w->act[l + 1] = device_array<float>(capacity * net->layer_out[l], &status);
        if (net->dropout > 0.0f)
            w->mask[l + 1] = device_array<float>(capacity * net->layer_out[l], &status);
    }
    w->logit = device_array<float>(capacity, &status);
    w->dlogit = device_array<float>(capacity, &status);
    w->delta[0] = device_array<float>(capacity * widest_layer(net), &status);
    w->delta[1] = device_array<float>(capacity * widest_layer(net), &status);
    w->ones = device_array<float>(capacity, &status);
    w->loss = device_array<double>(1, &status);
    w->batch_loss = device_array<double>(1, &status);
    w->dense_grad = device_array<float>(net->n_dense, &status);
    w->targets = device_array<float>(capacity, &status);
    w->args = device_array<cuda_step_args>(1, &status);
    if (status == RECO_OK) {
        fill_kernel<<<cuda_blocks(capacity), CUDA_BLOCK, 0, context->stream>>>(w->ones, capacity,
                                                                               1.0f);
        cudaMemsetAsync(w->dense_grad, 0, net->n_dense * sizeof(float), context->stream);
        cudaMemsetAsync(w->loss, 0, sizeof(double), context->stream);
        status = cuda_check(cudaGetLastError(), "workspace setup");
    }
    if (status != RECO_OK) {
        cuda_workspace_destroy(context, w);
        return status;
    }
    *out = w;
    return RECO_OK;
}

/* Row-major C (m x n) = A (m x k) op B, with B given row-major as (n x k)
 * when transposed, through cuBLAS's column-major view. */
static reco_status matmul(cuda_context *context, int transpose_a, int transpose_b, size_t m,
                          size_t n, size_t k, const float *a, size_t lda, const float *b,
                          size_t ldb, float beta, float *c, size_t ldc)
{
    /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
    const float one = 1.0f;
    return cublas_check(cublasSgemm(context->blas, transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m,
                                    (int)k, &one, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc),
                        "sgemm");
}

/* out (columns) = sum over rows of the row-major rows x columns matrix,
 * weighted by `weights` (rows): a matrix-vector product. */
static reco_status weighted_column_sum(cuda_context *context, const float *matrix, size_t rows,
                                       size_t columns, const float *weights, float *out)
{
    const float one = 1.0f, zero = 0.0f;
    return cublas_check(cublasSgemv(context->blas, CUBLAS_OP_N, (int)columns, (int)rows, &one,
                                    matrix, (int)columns, weights, 1, &zero, out, 1),
                        "sgemv");
}

#define LAUNCH(n) cuda_blocks(n), CUDA_BLOCK, 0, context->stream

static reco_status forward_pass(cuda_context *context, const reco_net_desc *net,
                                const reco_net_params *params, cuda_workspace *w, size_t rows,
                                int training)
{
    size_t gmf_dim = net->table_dim[RECO_TABLE_USER_GMF];
    const float *dense = (const float *)params->dense;
    cuda_list<gather_entry> gathers = {0, {}};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t))
            continue;
        size_t dim = net->table_dim[t];
        int mlp = is_mlp_table(t);
        gathers.entry[gathers.n++] = {rows * dim,
                                      dim,
                                      (const float *)params->tables[t],
                                      is_user_table(t) ? w->users : w->items,
                                      mlp ? w->act[0] : w->gathered[t],
                                      mlp ? 2 * dim : dim,
                                      t == RECO_TABLE_ITEM_MLP ? dim : 0};
    }
    cuda_launch_list(gathers, [&](const cuda_list<gather_entry> &list, size_t total, bool) {
        gather_kernel<<<LAUNCH(total)>>>(list, total);
    });
    if (gmf_dim)
        product_kernel<<<LAUNCH(rows * gmf_dim)>>>(w->gathered[RECO_TABLE_USER_GMF],
                                                   w->gathered[RECO_TABLE_ITEM_GMF],
                                                   rows * gmf_dim, w->gmf);
    reco_status status = RECO_OK;
    for (size_t l = 0; l < net->n_layers && status == RECO_OK; l++) {
        size_t in = net->layer_in[l], out = net->layer_out[l];
        status = matmul(context, 0, 1, rows, out, in, w->act[l], in, dense + net->weight_offset[l],
                        in, 0.0f, w->act[l + 1], out);
        int dropping = training && net->dropout > 0.0f;
        bias_relu_kernel<<<LAUNCH(rows * out)>>>(w->act[l + 1], dense + net->bias_offset[l], rows,
                                                 out, net->dropout, w->args, l,
                                                 dropping ? w->mask[l + 1] : NULL);
    }
    size_t last = net->n_layers ? net->layer_out[net->n_layers - 1] : 0;
    int biased = has_table(net, RECO_TABLE_USER_BIAS);
    head_forward_kernel<<<LAUNCH(rows)>>>(
        rows, w->gmf, gmf_dim, net->n_layers ? w->act[net->n_layers] : NULL, last,
        dense + net->head_w_offset, dense + net->head_b_offset,
        biased ? w->gathered[RECO_TABLE_USER_BIAS] : NULL,
        biased ? w->gathered[RECO_TABLE_ITEM_BIAS] : NULL, w->logit);
    return status == RECO_OK ? cuda_check(cudaGetLastError(), "forward kernels") : status;
}

static reco_status backward_pass(cuda_context *context, const reco_net_desc *net,
                                 const reco_net_params *params, cuda_workspace *w, size_t rows,
                                 int dropping)
{
    size_t gmf_dim = net->table_dim[RECO_TABLE_USER_GMF];
    size_t last = net->n_layers ? net->layer_out[net->n_layers - 1] : 0;
    const float *dense = (const float *)params->dense;
    float *grad = w->dense_grad;
    int biased = has_table(net, RECO_TABLE_USER_BIAS);
    reco_status status = RECO_OK;
    /* a small batch's reductions cost launches, not work: our own kernels
     * then do several at once; a large one's go to cuBLAS */
    int small = rows * widest_layer(net) < CUDA_FUSED_ELEMENTS;
    cuda_list<sum_entry> head = {0, {}};
    if (net->train_head_weights && gmf_dim)
        head.entry[head.n++] = {gmf_dim, w->gmf, w->dlogit, grad + net->head_w_offset};
    if (net->train_head_weights && last)
        head.entry[head.n++] = {last, w->act[net->n_layers], w->dlogit,
                                grad + net->head_w_offset + gmf_dim};
    if (net->train_head_bias)
        head.entry[head.n++] = {1, w->dlogit, NULL, grad + net->head_b_offset};
    size_t head_columns = 0;
    for (int k = 0; k < head.n; k++)
        head_columns += head.entry[k].size;
    if (small && head_columns > 0)
        column_sums_kernel<<<(unsigned)head_columns, CUDA_BLOCK, 0, context->stream>>>(head,
                                                                                      rows);
    for (int k = 0; !small && k < head.n && status == RECO_OK; k++)
        status = weighted_column_sum(context, head.entry[k].matrix, rows, head.entry[k].size,
                                     head.entry[k].weights ? head.entry[k].weights : w->ones,
                                     head.entry[k].out);
    float *delta = w->delta[0];
    head_backward_kernel<<<LAUNCH(rows)>>>(
        rows, w->dlogit, dense + net->head_w_offset, gmf_dim, last,
        w->gathered[RECO_TABLE_USER_GMF], w->gathered[RECO_TABLE_ITEM_GMF],
        w->dgathered[RECO_TABLE_USER_GMF], w->dgathered[RECO_TABLE_ITEM_GMF],
        biased ? w->dgathered[RECO_TABLE_USER_BIAS] : NULL,
        biased ? w->dgathered[RECO_TABLE_ITEM_BIAS] : NULL, delta);
    for (size_t l = net->n_layers; l-- > 0 && status == RECO_OK;) {
        size_t in = net->layer_in[l], out = net->layer_out[l];
        const float *mask = dropping ? w->mask[l + 1] : NULL;
        /* db = column sums of delta; dW (out x in) = delta^T act[l] */
        if (small)
            relu_backward_sums_kernel<<<(unsigned)out, CUDA_BLOCK, 0, context->stream>>>(
                delta, w->act[l + 1], mask, rows, out, grad + net->bias_offset[l]);
        else
            relu_backward_kernel<<<LAUNCH(rows * out)>>>(delta, w->act[l + 1], mask, rows * out);
        status = matmul(context, 1, 0, out, in, rows, delta, out, w->act[l], in, 0.0f,
                        grad + net->weight_offset[l], in);
        if (status == RECO_OK && !small)
            status = weighted_column_sum(context, delta, rows, out, w->ones,
                                         grad + net->bias_offset[l]);
        float *below = l == 0 ? w->dgathered[RECO_TABLE_USER_MLP]
                              : (delta == w->delta[0] ? w->delta[1] : w->delta[0]);
        if (status == RECO_OK)
            status = matmul(context, 0, 0, rows, in, out, delta, out,
                            dense + net->weight_offset[l], in, 0.0f, below, in);
        delta = below;
    }
    if (status != RECO_OK)
        return status;
    cuda_list<scatter_entry> scatters = {0, {}};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t))
            continue;
        size_t dim = net->table_dim[t];
        int mlp = is_mlp_table(t);
        cuda_table_grad *g = &w->tables[t];
        scatters.entry[scatters.n++] = {rows * dim,
                                        dim,
                                        w->dgathered[mlp ? RECO_TABLE_USER_MLP : t],
                                        mlp ? 2 * dim : dim,
                                        t == RECO_TABLE_ITEM_MLP ? dim : 0,
                                        is_user_table(t) ? w->users : w->items,
                                        g->grads,
                                        g->touched,
                                        g->rows,
                                        g->count};
    }
    cuda_launch_list(scatters, [&](const cuda_list<scatter_entry> &list, size_t total, bool) {
        scatter_kernel<<<LAUNCH(total)>>>(list, total);
    });
    return cuda_check(cudaGetLastError(), "backward kernels");
}

/* Zeroes the dense gradient and the rows the last batch touched (the
 * counts of touched rows are zeroed by the batch copy that follows). */
static void forget_touched_rows(cuda_context *context, const reco_net_desc *net,
                                cuda_workspace *w)
{
    cuda_list<forget_entry> forget = {0, {}};
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!has_table(net, t))
            continue;
        cuda_table_grad *g = &w->tables[t];
        forget.entry[forget.n++] = {w->capacity * net->table_dim[t], net->table_dim[t], g->grads,
                                    g->touched, g->rows, g->count};
    }
    size_t n_dense = net->n_dense;
    cuda_launch_list(forget, [&](const cuda_list<forget_entry> &list, size_t total, bool first) {
        size_t dense = first ? n_dense : 0;
        forget_kernel<<<LAUNCH(dense + total)>>>(list, total, w->dense_grad, dense);
    });
}

static cuda_counters batch_counters(const reco_net_desc *net, cuda_workspace *w,
                                    double *batch_loss)
{
    cuda_counters counters;
    memset(&counters, 0, sizeof counters);
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (has_table(net, t))
            counters.count[counters.n++] = w->tables[t].count;
    counters.batch_loss = batch_loss;
    return counters;
}

/* Samples a batch scores: BPR scores a positive and a negative per row. */
static size_t batch_samples(const reco_batch *batch)
{
    return batch->loss == RECO_LOSS_BPR ? 2 * batch->n : batch->n;
}

/* Enqueues a training batch's forward and backward passes, which take the
 * batch's rows at the offset in w->args; the loss goes to *loss_target. */
static reco_status enqueue_forward_backward(cuda_context *context, const reco_net_desc *net,
                                            const reco_net_params *params, cuda_workspace *w,
                                            const reco_batch *batch, double *loss_target)
{
    size_t n = batch->n, rows = batch_samples(batch);
    int pairs = batch->loss == RECO_LOSS_BPR;
    forget_touched_rows(context, net, w);
    copy_batch_kernel<<<LAUNCH(n)>>>(
        (const int *)batch->users, (const int *)batch->items,
        pairs ? (const int *)batch->negatives : NULL, pairs ? NULL : (const float *)batch->targets,
        w->args, n, w->users, w->items, w->targets,
        batch_counters(net, w, loss_target == w->batch_loss ? w->batch_loss : NULL));
    reco_status status = forward_pass(context, net, params, w, rows, 1);
    if (status != RECO_OK)
        return status;
    float scale = batch->mean_reduction ? 1.0f / (float)n : 1.0f;
    loss_kernel<<<LAUNCH(n)>>>(batch->loss, n, w->logit, pairs ? NULL : w->targets,
                               net->output_activation, scale, w->dlogit, loss_target);
    w->rows = rows;
    return backward_pass(context, net, params, w, rows, net->dropout > 0.0f);
}

static reco_status check_batch(const cuda_workspace *w, const reco_batch *batch)
{
    if (batch->n == 0 || batch->n > w->max_rows)
        return cuda_fail(RECO_ERR_INVALID_ARGUMENT, "batch larger than the workspace");
    return RECO_OK;
}

/* Waits for the batch and hands its loss to the host. */
static reco_status download_batch_loss(cuda_context *context, const cuda_workspace *w,
                                       double *loss)
{
    reco_status status = cuda_check(cudaMemcpyAsync(loss, w->batch_loss, sizeof *loss,
                                                    cudaMemcpyDeviceToHost, context->stream),
                                    "loss download");
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(context->stream), "training step");
    return status;
}

reco_status cuda_forward_backward(reco_backend_context *opaque, const reco_net_desc *net,
                                  const reco_net_params *params, reco_backend_workspace *workspace,
                                  const reco_batch *batch, double *loss)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    reco_status status = check_batch(w, batch);
    cuda_step_args args = {batch->offset, batch->dropout_seed, {0}};
    if (status == RECO_OK)
        status = cuda_store_step_args(context, w->args, &args);
    /* a batch whose loss is asked for sums it apart from the running total */
    if (status == RECO_OK)
        status = enqueue_forward_backward(context, net, params, w, batch,
                                          loss ? w->batch_loss : w->loss);
    if (status != RECO_OK || !loss)
        return status; /* no wait: the host only launched work */
    return download_batch_loss(context, w, loss);
}

/* The key of a training step's graph: everything its kernels and products
 * were recorded with, but the per-batch cuda_step_args. */
static void graph_key(cuda_graph_key *key, const cuda_context *context,
                      const reco_net_params *params, const reco_backend_optimizer *state,
                      const reco_optimizer_config *config, const reco_batch *batch,
                      int wants_loss)
{
    memset(key, 0, sizeof *key); /* padding too: keys are compared with memcmp */
    key->n = batch->n;
    key->loss = batch->loss;
    key->mean_reduction = batch->mean_reduction;
    key->wants_loss = wants_loss;
    key->fast_math = context->fast_math;
    key->users = batch->users;
    key->items = batch->items;
    key->targets = batch->targets;
    key->negatives = batch->negatives;
    for (int t = 0; t < RECO_N_TABLES; t++)
        key->tables[t] = params->tables[t];
    key->dense = params->dense;
    key->optimizer_state = state;
    key->config = *config;
}

/* Records the step's kernels and products into a graph; NULL when capture
 * fails (the caller then runs steps eagerly). */
static cudaGraphExec_t capture_step(cuda_context *context, const reco_net_desc *net,
                                    reco_net_params *params, cuda_workspace *w, reco_backend_optimizer *state,
                                    const reco_optimizer_config *config, const reco_batch *batch,
                                    int wants_loss)
{
    if (cudaStreamBeginCapture(context->stream, cudaStreamCaptureModeThreadLocal) !=
        cudaSuccess) {
        cudaGetLastError();
        return NULL;
    }
    reco_status status = enqueue_forward_backward(context, net, params, w, batch,
                                                  wants_loss ? w->batch_loss : w->loss);
    if (status == RECO_OK)
        status = cuda_enqueue_optimizer_step(context, net, params, w, state, config);
    cudaGraph_t graph = NULL;
    cudaError_t ended = cudaStreamEndCapture(context->stream, &graph);
    cudaGraphExec_t exec = NULL;
    if (status == RECO_OK && ended == cudaSuccess &&
        cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess)
        exec = NULL;
    if (graph)
        cudaGraphDestroy(graph);
    cudaGetLastError(); /* a failed capture is not an error of the step */
    return exec;
}

/* The graph for this step: a kept one, or a new capture (NULL: none). */
static cudaGraphExec_t step_graph(cuda_context *context, const reco_net_desc *net,
                                  reco_net_params *params, cuda_workspace *w, reco_backend_optimizer *state,
                                  const reco_optimizer_config *config, const reco_batch *batch,
                                  int wants_loss)
{
    if (w->graphs_failed)
        return NULL;
    cuda_graph_key key;
    graph_key(&key, context, params, state, config, batch, wants_loss);
    for (size_t g = 0; g < CUDA_GRAPHS; g++)
        if (w->graphs[g] && memcmp(&w->graph_keys[g], &key, sizeof key) == 0)
            return w->graphs[g];
    cudaGraphExec_t exec = capture_step(context, net, params, w, state, config, batch,
                                        wants_loss);
    if (!exec) {
        w->graphs_failed = 1;
        return NULL;
    }
    size_t slot = w->next_graph;
    w->next_graph = (slot + 1) % CUDA_GRAPHS;
    if (w->graphs[slot])
        cudaGraphExecDestroy(w->graphs[slot]);
    w->graphs[slot] = exec;
    memcpy(&w->graph_keys[slot], &key, sizeof key);
    return exec;
}

/* A whole training step. A batch of paper-size NeuMF is some fifty small
 * kernels and products, whose launches cost more host time than the GPU
 * spends on them: the step is captured once as a CUDA graph and replayed,
 * two launches a batch (its arguments, then the graph). */
reco_status cuda_train_step(reco_backend_context *opaque, const reco_net_desc *net, reco_net_params *params,
                            reco_backend_workspace *workspace, reco_backend_optimizer *state, const reco_optimizer_config *config,
                            float learning_rate, uint64_t step, const reco_batch *batch,
                            double *loss)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    reco_status status = check_batch(w, batch);
    cuda_step_args args = {batch->offset, batch->dropout_seed,
                           cuda_step_rule_for(config, learning_rate, step)};
    if (status == RECO_OK)
        status = cuda_store_step_args(context, w->args, &args);
    if (status != RECO_OK)
        return status;
    int wants_loss = loss != NULL;
    cudaGraphExec_t graph = step_graph(context, net, params, w, state, config, batch, wants_loss);
    if (graph) {
        status = cuda_check(cudaGraphLaunch(graph, context->stream), "training step graph");
        w->rows = batch_samples(batch);
    } else {
        status = enqueue_forward_backward(context, net, params, w, batch,
                                          wants_loss ? w->batch_loss : w->loss);
        if (status == RECO_OK)
            status = cuda_enqueue_optimizer_step(context, net, params, w, state, config);
    }
    if (status != RECO_OK || !wants_loss)
        return status;
    return download_batch_loss(context, w, loss);
}

reco_status cuda_take_loss(reco_backend_context *opaque, reco_backend_workspace *workspace, double *total)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    reco_status status = cuda_check(cudaMemcpyAsync(total, w->loss, sizeof *total,
                                                    cudaMemcpyDeviceToHost, context->stream),
                                    "loss download");
    if (status == RECO_OK)
        status = cuda_check(cudaMemsetAsync(w->loss, 0, sizeof(double), context->stream),
                            "loss reset");
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(context->stream), "loss download");
    return status;
}

reco_status cuda_forward(reco_backend_context *opaque, const reco_net_desc *net, const reco_net_params *params,
                         reco_backend_workspace *workspace, const int32_t *users, const int32_t *items, size_t n,
                         float *scores)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    if (n > w->capacity)
        return cuda_fail(RECO_ERR_INVALID_ARGUMENT, "more pairs than the workspace");
    if (n == 0)
        return RECO_OK;
    cudaStream_t stream = context->stream;
    reco_status status = cuda_check(
        cudaMemcpyAsync(w->users, users, n * sizeof(int), cudaMemcpyHostToDevice, stream),
        "pairs upload");
    if (status == RECO_OK)
        status = cuda_check(
            cudaMemcpyAsync(w->items, items, n * sizeof(int), cudaMemcpyHostToDevice, stream),
            "pairs upload");
    if (status == RECO_OK)
        status = forward_pass(context, net, params, w, n, 0);
    if (status == RECO_OK) {
        score_kernel<<<LAUNCH(n)>>>(n, w->logit, net->output_activation, w->dlogit);
        status = cuda_check(cudaMemcpyAsync(scores, w->dlogit, n * sizeof(float),
                                            cudaMemcpyDeviceToHost, stream),
                            "scores download");
    }
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(stream), "forward");
    return status;
}

reco_status cuda_gradient_download(reco_backend_context *opaque, const reco_net_desc *net, reco_backend_workspace *workspace,
                                   float *gradient)
{
    cuda_context *context = (cuda_context *)opaque;
    cuda_workspace *w = (cuda_workspace *)workspace;
    float *p = gradient;
    reco_status status = RECO_OK;
    for (int t = 0; t < RECO_N_TABLES && status == RECO_OK; t++) {
        size_t size = net->table_rows[t] * net->table_dim[t];
        if (!size)
            continue;
        status = cuda_check(cudaMemcpyAsync(p, w->tables[t].grads, size * sizeof(float),
                                            cudaMemcpyDeviceToHost, context->stream),
                            "gradient download");
        p += size;
    }
    if (status == RECO_OK)
        status = cuda_check(cudaMemcpyAsync(p, w->dense_grad, net->n_dense * sizeof(float),
                                            cudaMemcpyDeviceToHost, context->stream),
                            "gradient download");
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(context->stream), "gradient download");
    return status;
}

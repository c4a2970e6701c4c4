/* CUDA backend: an epoch's samples built on the device. Every sample gets a
 * 64-bit random key; a radix sort of (key, sample number) pairs gives a
 * uniformly shuffled order, and one kernel then writes each position's
 * sample, drawing its negative from the sample number's own random stream. */
#include <cub/cub.cuh>

#include "cuda_internal.h"
#include "reco_math.h"


#define GRID_STRIDE(index, n)                                                          \
    for (size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x; index < (n);    \
         index += (size_t)blockDim.x * gridDim.x)

__global__ static void key_kernel(uint64_t seed, size_t n, uint64_t *keys, unsigned *order)
{
    GRID_STRIDE(s, n)
    {
        keys[s] = reco_mix64(seed ^ reco_mix64(s + 0x5348554646ull));
        order[s] = (unsigned)s;
    }
}

__global__ static void sample_kernel(reco_epoch_data data, reco_epoch_plan plan, size_t n,
                                     const unsigned *order, int *users, int *items,
                                     float *targets, int *negatives)
{
    const int *row_users = (const int *)data.users, *row_items = (const int *)data.items;
    const float *ratings = (const float *)data.ratings;
    const uint64_t *offsets = (const uint64_t *)data.user_offsets;
    const int *user_items = (const int *)data.user_items;
    size_t per_row = plan.pairs ? 1 : 1 + plan.negatives;
    GRID_STRIDE(i, n)
    {
        size_t sample = order[i], row = sample / per_row, j = sample % per_row;
        int user = row_users[row];
        users[i] = user;
        int positive = j == 0 || plan.pairs;
        int negative = 0;
        if (!positive || plan.pairs) {
            const int *taken = user_items + offsets[user];
            size_t count = offsets[user + 1] - offsets[user];
            uint64_t h = reco_mix64(plan.seed ^ reco_mix64(plan.epoch * 0x9e3779b97f4a7c15ull + sample));
            /* multiply-high maps 64 random bits to [0, free) */
            uint64_t free_items = data.n_items - count;
            negative = reco_nth_untaken(taken, count, __umul64hi(h, free_items));
        }
        if (plan.pairs) {
            items[i] = row_items[row];
            negatives[i] = negative;
            targets[i] = 1.0f;
        } else if (positive) {
            items[i] = row_items[row];
            targets[i] = plan.explicit_targets ? ratings[row] : 1.0f;
        } else {
            items[i] = negative;
            targets[i] = 0.0f;
        }
    }
}

reco_status cuda_epoch_samples(void *opaque, const reco_epoch_data *data,
                                          const reco_epoch_plan *plan, void *users, void *items,
                                          void *targets, void *negatives)
{
    cuda_context *context = (cuda_context *)opaque;
    cudaStream_t stream = context->stream;
    size_t n = data->n_rows * (plan->pairs ? 1 : 1 + plan->negatives);
    uint64_t *keys = NULL, *sorted_keys = NULL;
    unsigned *order = NULL, *sorted = NULL;
    void *scratch = NULL;
    size_t scratch_bytes = 0;
    reco_status status = cuda_check(cudaMalloc(&keys, n * sizeof *keys), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&sorted_keys, n * sizeof *keys), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&order, n * sizeof *order), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&sorted, n * sizeof *order), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cub::DeviceRadixSort::SortPairs(NULL, scratch_bytes, keys, sorted_keys,
                                                            order, sorted, (int)n, 0, 64, stream),
                            "sort sizing");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&scratch, scratch_bytes), "cudaMalloc");
    if (status == RECO_OK) {
        key_kernel<<<cuda_blocks(n), CUDA_BLOCK, 0, stream>>>(
            plan->seed ^ (plan->epoch * 0xd1342543de82ef95ull), n, keys, order);
        status = cuda_check(cub::DeviceRadixSort::SortPairs(scratch, scratch_bytes, keys,
                                                            sorted_keys, order, sorted, (int)n, 0,
                                                            64, stream),
                            "shuffle");
    }
    if (status == RECO_OK) {
        sample_kernel<<<cuda_blocks(n), CUDA_BLOCK, 0, stream>>>(
            *data, *plan, n, sorted, (int *)users, (int *)items, (float *)targets,
            (int *)negatives);
        status = cuda_check(cudaGetLastError(), "epoch samples");
    }
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(stream), "epoch samples");
    cudaFree(keys);
    cudaFree(sorted_keys);
    cudaFree(order);
    cudaFree(sorted);
    cudaFree(scratch);
    return status;
}

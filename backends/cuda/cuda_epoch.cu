/* CUDA backend: an epoch's samples built on the device by the sampling law
 * of backends/common/reco_sampling.h, the same samples in the same order as
 * the host builder. A stable radix sort of sample numbers by bucket lays
 * the buckets out in order with each in sample order; one thread per bucket
 * then runs the bucket's Fisher-Yates swaps on the sample numbers, and one
 * kernel writes each place's sample. */
#include <cub/cub.cuh>

#include "cuda_internal.h"
#include "reco_sampling.h"

#define GRID_STRIDE(index, n)                                                          \
    for (size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x; index < (n);    \
         index += (size_t)blockDim.x * gridDim.x)

__global__ static void bucket_kernel(uint64_t stream, size_t n, uint16_t *buckets,
                                     unsigned *order)
{
    GRID_STRIDE(s, n)
    {
        buckets[s] = (uint16_t)reco_sample_bucket(stream, s);
        order[s] = (unsigned)s;
    }
}

/* start[b]: the first place of bucket b in the sorted bucket numbers. */
__global__ static void bucket_start_kernel(const uint16_t *sorted, size_t n, size_t *start)
{
    GRID_STRIDE(bucket, (size_t)RECO_SHUFFLE_BUCKETS + 1)
    {
        size_t low = 0, high = n;
        while (low < high) {
            size_t middle = low + (high - low) / 2;
            if (sorted[middle] < bucket)
                low = middle + 1;
            else
                high = middle;
        }
        start[bucket] = low;
    }
}

__global__ static void shuffle_kernel(uint64_t stream, const size_t *start, unsigned *order)
{
    GRID_STRIDE(bucket, (size_t)RECO_SHUFFLE_BUCKETS)
    {
        unsigned *place = order + start[bucket];
        uint64_t state = reco_bucket_state(stream, bucket);
        for (size_t i = start[bucket + 1] - start[bucket]; i > 1; i--) {
            size_t j = reco_shuffle_pick(&state, i);
            unsigned swap = place[i - 1];
            place[i - 1] = place[j];
            place[j] = swap;
        }
    }
}

__global__ static void sample_kernel(reco_sample_source source, reco_sample_sink sink, size_t n,
                                     const unsigned *order)
{
    GRID_STRIDE(i, n)
    reco_sample_write(&source, order[i], &sink, i);
}

reco_status cuda_epoch_samples(reco_backend_context *context, const reco_epoch_data *data,
                               const reco_epoch_plan *plan, const reco_epoch_buffers *out)
{
    cudaStream_t stream = context->stream;
    reco_sample_source source = {};
    source.row_users = (const int32_t *)data->users;
    source.row_items = (const int32_t *)data->items;
    source.ratings = (const float *)data->ratings;
    source.user_offsets = (const size_t *)data->user_offsets;
    source.user_items = (const int32_t *)data->user_items;
    source.n_rows = data->n_rows;
    source.n_items = data->n_items;
    source.negatives = plan->negatives;
    source.pairs = plan->pairs;
    source.explicit_targets = plan->explicit_targets;
    source.stream = reco_sampling_stream(plan->seed, plan->epoch);
    reco_sample_sink sink = {(int32_t *)out->users, (int32_t *)out->items,
                             (float *)out->targets, (int32_t *)out->negatives};
    size_t n = data->n_rows * reco_samples_per_row(&source);
    uint16_t *buckets = NULL, *sorted_buckets = NULL;
    unsigned *order = NULL, *sorted = NULL;
    size_t *start = NULL;
    void *scratch = NULL;
    size_t scratch_bytes = 0;
    reco_status status = cuda_check(cudaMalloc(&buckets, n * sizeof *buckets), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&sorted_buckets, n * sizeof *buckets), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&order, n * sizeof *order), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&sorted, n * sizeof *order), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&start, (RECO_SHUFFLE_BUCKETS + 1) * sizeof *start),
                            "cudaMalloc");
    /* bits 0-9 hold a bucket number (RECO_SHUFFLE_BUCKETS = 2^10); the radix
     * sort is stable, so each bucket keeps sample order */
    if (status == RECO_OK)
        status = cuda_check(cub::DeviceRadixSort::SortPairs(NULL, scratch_bytes, buckets,
                                                            sorted_buckets, order, sorted, (int)n,
                                                            0, 10, stream),
                            "sort sizing");
    if (status == RECO_OK)
        status = cuda_check(cudaMalloc(&scratch, scratch_bytes), "cudaMalloc");
    if (status == RECO_OK) {
        bucket_kernel<<<cuda_blocks(n), CUDA_BLOCK, 0, stream>>>(source.stream, n, buckets,
                                                                  order);
        status = cuda_check(cub::DeviceRadixSort::SortPairs(scratch, scratch_bytes, buckets,
                                                            sorted_buckets, order, sorted, (int)n,
                                                            0, 10, stream),
                            "bucket sort");
    }
    if (status == RECO_OK) {
        bucket_start_kernel<<<cuda_blocks(RECO_SHUFFLE_BUCKETS + 1), CUDA_BLOCK, 0, stream>>>(
            sorted_buckets, n, start);
        shuffle_kernel<<<cuda_blocks(RECO_SHUFFLE_BUCKETS), CUDA_BLOCK, 0, stream>>>(
            source.stream, start, sorted);
        sample_kernel<<<cuda_blocks(n), CUDA_BLOCK, 0, stream>>>(source, sink, n, sorted);
        status = cuda_check(cudaGetLastError(), "epoch samples");
    }
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(stream), "epoch samples");
    cudaFree(buckets);
    cudaFree(sorted_buckets);
    cudaFree(order);
    cudaFree(sorted);
    cudaFree(start);
    cudaFree(scratch);
    return status;
}

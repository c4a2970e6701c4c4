/* CUDA backend: an epoch's samples built on the device by the sampling law
 * of backends/common/reco_sampling.h, the same samples in the same order
 * as the host builder: the chunks' descriptors are made on the host and
 * uploaded, and one thread per place writes that place's sample. */
#include "cuda_internal.h"
#include "reco_sampling.h"

#define GRID_STRIDE(index, n)                                                          \
    for (size_t index = (size_t)blockIdx.x * blockDim.x + threadIdx.x; index < (n);    \
         index += (size_t)blockDim.x * gridDim.x)

__global__ static void sample_kernel(reco_sample_source source, reco_epoch_layout layout,
                                     const reco_chunk *chunks, size_t first, size_t count,
                                     reco_sample_sink sink)
{
    GRID_STRIDE(i, count)
    {
        size_t u;
        size_t c = reco_epoch_locate(&layout, first + i, &u);
        reco_chunk_sample_write(&source, &layout, &chunks[c], NULL, u, &sink, i);
    }
}

reco_status cuda_epoch_samples(reco_backend_context *context, const reco_epoch_data *data,
                               const reco_epoch_plan *plan, const reco_epoch_buffers *out)
{
    reco_sample_source source = reco_sample_source_make(
        (const int32_t *)data->users, (const int32_t *)data->items, (const float *)data->ratings,
        data->n_rows, (const size_t *)data->user_offsets, (const int32_t *)data->user_items,
        data->n_items, plan);
    reco_sample_sink sink = {(int32_t *)out->users, (int32_t *)out->items,
                             (float *)out->targets, (int32_t *)out->negatives};
    reco_epoch_layout layout = reco_epoch_layout_make(&source);
    reco_chunk *host = (reco_chunk *)malloc(layout.n_chunks * sizeof *host + 1);
    reco_chunk *chunks = NULL;
    if (!host)
        return cuda_fail(RECO_ERR_OUT_OF_MEMORY, "cuda backend: out of memory for an epoch");
    for (size_t c = 0; c < layout.n_chunks; c++)
        host[c] = reco_chunk_make(&source, &layout, c);
    reco_status status =
        cuda_check(cudaMalloc(&chunks, layout.n_chunks * sizeof *chunks + 1), "cudaMalloc");
    if (status == RECO_OK)
        status = cuda_check(cudaMemcpyAsync(chunks, host, layout.n_chunks * sizeof *chunks,
                                            cudaMemcpyHostToDevice, context->stream),
                            "upload");
    if (status == RECO_OK) {
        sample_kernel<<<cuda_blocks(plan->count), CUDA_BLOCK, 0, context->stream>>>(
            source, layout, chunks, plan->first, plan->count, sink);
        status = cuda_check(cudaGetLastError(), "epoch samples");
    }
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(context->stream), "epoch samples");
    cudaFree(chunks);
    free(host);
    return status;
}

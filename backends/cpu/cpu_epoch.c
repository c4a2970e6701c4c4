/* CPU backend: an epoch's samples, built by the shared host builder
 * (backends/common/reco_epoch_build.c) on the context's thread pool. */
#include "cpu_internal.h"
#include "reco_epoch_build.h"

void reco_cpu_run_on_pool(void *pool, reco_parallel_task task, void *argument)
{
    reco_cpu_pool_run(pool, task, argument);
}

reco_status reco_cpu_epoch_samples(reco_backend_context *context, const reco_epoch_data *data,
                                   const reco_epoch_plan *plan, const reco_epoch_buffers *out)
{
    reco_sample_source source = reco_sample_source_make(
        cpu_ints(data->users), cpu_ints(data->items), cpu_const_floats(data->ratings), data->n_rows,
        (const size_t *)(const void *)data->user_offsets, cpu_ints(data->user_items), data->n_items,
        plan);
    reco_sample_sink sink = {(int32_t *)(void *)out->users, (int32_t *)(void *)out->items,
                             cpu_floats(out->targets), (int32_t *)(void *)out->negatives};
    cpu_pool *pool = reco_cpu_context_pool(context);
    int built =
        reco_epoch_build(&source, plan->first, plan->count, &sink, reco_cpu_run_on_pool, pool);
    reco_cpu_pool_release(pool);
    return built == 0 ? RECO_OK
                      : reco_backend_fail(RECO_ERR_OUT_OF_MEMORY,
                                          "cpu backend: out of memory for an epoch's chunk");
}

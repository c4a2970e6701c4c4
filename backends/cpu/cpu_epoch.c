/* CPU backend: an epoch's samples, built by the shared host builder
 * (backends/common/reco_epoch_build.c) on the context's thread pool. */
#include "cpu_internal.h"
#include "reco_epoch_build.h"

static void run_on_pool(void *runner, reco_parallel_task task, void *argument)
{
    reco_cpu_pool_run(runner, task, argument);
}

reco_status reco_cpu_epoch_samples(void *context, const reco_epoch_data *data,
                                   const reco_epoch_plan *plan, void *users, void *items,
                                   void *targets, void *negatives)
{
    reco_sample_source source = {.row_users = data->users,
                                 .row_items = data->items,
                                 .ratings = data->ratings,
                                 .user_offsets = data->user_offsets,
                                 .user_items = data->user_items,
                                 .n_rows = data->n_rows,
                                 .n_items = data->n_items,
                                 .negatives = plan->negatives,
                                 .pairs = plan->pairs,
                                 .explicit_targets = plan->explicit_targets,
                                 .stream = reco_sampling_stream(plan->seed, plan->epoch)};
    reco_sample_sink sink = {users, items, targets, negatives};
    cpu_pool *pool = reco_cpu_context_pool(context);
    int built = reco_epoch_build(&source, &sink, run_on_pool, pool, reco_cpu_pool_threads(pool));
    reco_cpu_pool_release(pool);
    return built == 0 ? RECO_OK
                      : reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for an epoch");
}

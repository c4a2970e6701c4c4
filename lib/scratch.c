/* A small locked stack of idle workspaces, one per scoring call in flight. */
#include "scratch.h"

void reco_scratch_init(reco_scratch *scratch, const reco_backend *backend, const reco_net_desc *net,
                       size_t rows)
{
    pthread_mutex_init(&scratch->lock, NULL);
    scratch->backend = backend;
    scratch->net = net;
    scratch->rows = rows;
    scratch->n_idle = 0;
}

void reco_scratch_empty(reco_scratch *scratch)
{
    pthread_mutex_lock(&scratch->lock);
    while (scratch->n_idle > 0)
        scratch->backend->ops->kernels.workspace_destroy(scratch->backend->context,
                                                         scratch->idle[--scratch->n_idle]);
    pthread_mutex_unlock(&scratch->lock);
}

void reco_scratch_destroy(reco_scratch *scratch)
{
    reco_scratch_empty(scratch);
    pthread_mutex_destroy(&scratch->lock);
}

reco_status reco_scratch_take(reco_scratch *scratch, reco_backend_workspace **workspace)
{
    pthread_mutex_lock(&scratch->lock);
    *workspace = scratch->n_idle > 0 ? scratch->idle[--scratch->n_idle] : NULL;
    pthread_mutex_unlock(&scratch->lock);
    if (*workspace)
        return RECO_OK;
    return scratch->backend->ops->kernels.workspace_create(scratch->backend->context, scratch->net,
                                                           scratch->rows, workspace);
}

void reco_scratch_give(reco_scratch *scratch, reco_backend_workspace *workspace)
{
    if (!workspace)
        return;
    pthread_mutex_lock(&scratch->lock);
    int kept = scratch->n_idle < RECO_SCRATCH_KEPT;
    if (kept)
        scratch->idle[scratch->n_idle++] = workspace;
    pthread_mutex_unlock(&scratch->lock);
    if (!kept)
        scratch->backend->ops->kernels.workspace_destroy(scratch->backend->context, workspace);
}

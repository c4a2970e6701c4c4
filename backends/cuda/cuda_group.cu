/* CUDA backend: a group of contexts, one per process and GPU, whose
 * gradients are summed on the devices with NCCL (data-parallel training;
 * libreco-mpi carries the group's id between processes). Built when the
 * toolkit has NCCL; without it the backend makes no group ids, and
 * data-parallel training on CUDA is refused. */
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

#ifdef RECO_WITH_NCCL
#include <nccl.h>

static reco_status nccl_check(ncclResult_t result, const char *what)
{
    if (result == ncclSuccess)
        return RECO_OK;
    char detail[256];
    snprintf(detail, sizeof detail, "cuda backend: %s: %s", what, ncclGetErrorString(result));
    return cuda_fail(RECO_ERR_BACKEND, detail);
}

reco_status cuda_group_id(cuda_context *context, reco_backend_group *group)
{
    (void)context;
    ncclUniqueId id;
    static_assert(sizeof id <= sizeof group->id, "an NCCL id fits reco_backend_group");
    reco_status status = nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    if (status == RECO_OK) {
        memcpy(group->id, &id, sizeof id);
        group->made = 1;
    }
    return status;
}

reco_status cuda_group_join(cuda_context *context, const reco_backend_group *group)
{
    if (context->group)
        return cuda_fail(RECO_ERR_STATE, "cuda backend: this context is in a group already");
    ncclUniqueId id;
    memcpy(&id, group->id, sizeof id);
    ncclComm_t comm;
    reco_status status = cuda_check(cudaSetDevice(context->device), "cudaSetDevice");
    if (status == RECO_OK)
        status = nccl_check(ncclCommInitRank(&comm, group->world, id, group->rank),
                            "ncclCommInitRank");
    if (status == RECO_OK)
        context->group = comm;
    return status;
}

void cuda_group_leave(cuda_context *context)
{
    if (context->group)
        ncclCommDestroy((ncclComm_t)context->group);
    context->group = NULL;
}

/* After the sums, a table's touched flags count the ranks that touched a
 * row: make them flags again and list the rows for the optimizer. */
__global__ static void relist_kernel(int *touched, size_t n_rows, int *rows, int *count)
{
    for (size_t id = (size_t)blockIdx.x * blockDim.x + threadIdx.x; id < n_rows;
         id += (size_t)blockDim.x * gridDim.x)
        if (touched[id]) {
            touched[id] = 1;
            rows[atomicAdd(count, 1)] = (int)id;
        }
}

reco_status cuda_gradient_reduce(reco_backend_context *context, const reco_net_desc *net,
                                 reco_backend_workspace *workspace, float scale, double *loss)
{
    cuda_workspace *w = workspace;
    ncclComm_t comm = (ncclComm_t)context->group;
    if (!comm)
        return cuda_fail(RECO_ERR_STATE, "cuda backend: no device group joined");
    double loss_scale = scale;
    ncclRedOp_t scaled, scaled_loss;
    reco_status status = nccl_check(ncclRedOpCreatePreMulSum(&scaled, &scale, ncclFloat32,
                                                             ncclScalarHostImmediate, comm),
                                    "ncclRedOpCreatePreMulSum");
    if (status != RECO_OK)
        return status;
    status = nccl_check(ncclRedOpCreatePreMulSum(&scaled_loss, &loss_scale, ncclFloat64,
                                                 ncclScalarHostImmediate, comm),
                        "ncclRedOpCreatePreMulSum");
    if (status != RECO_OK) {
        ncclRedOpDestroy(scaled, comm);
        return status;
    }
    cudaStream_t stream = context->stream;
    status = cuda_check(cudaMemcpyAsync(w->batch_loss, loss, sizeof *loss,
                                        cudaMemcpyHostToDevice, stream),
                        "loss upload");
    if (status == RECO_OK) {
        ncclGroupStart();
        for (int t = 0; t < RECO_N_TABLES; t++) {
            size_t rows = net->table_rows[t], dim = net->table_dim[t];
            if (!dim)
                continue;
            cuda_table_grad *g = &w->tables[t];
            ncclAllReduce(g->grads, g->grads, rows * dim, ncclFloat32, scaled, comm, stream);
            ncclAllReduce(g->touched, g->touched, rows, ncclInt32, ncclSum, comm, stream);
        }
        ncclAllReduce(w->dense_grad, w->dense_grad, net->n_dense, ncclFloat32, scaled, comm,
                      stream);
        ncclAllReduce(w->batch_loss, w->batch_loss, 1, ncclFloat64, scaled_loss, comm, stream);
        status = nccl_check(ncclGroupEnd(), "ncclAllReduce");
    }
    for (int t = 0; t < RECO_N_TABLES && status == RECO_OK; t++) {
        if (!net->table_dim[t])
            continue;
        cuda_table_grad *g = &w->tables[t];
        status = cuda_check(cudaMemsetAsync(g->count, 0, sizeof(int), stream), "memset");
        relist_kernel<<<cuda_blocks(net->table_rows[t]), CUDA_BLOCK, 0, stream>>>(
            g->touched, net->table_rows[t], g->rows, g->count);
    }
    if (status == RECO_OK)
        status = cuda_check(cudaMemcpyAsync(loss, w->batch_loss, sizeof *loss,
                                            cudaMemcpyDeviceToHost, stream),
                            "loss download");
    if (status == RECO_OK)
        status = cuda_check(cudaStreamSynchronize(stream), "gradient reduce");
    ncclRedOpDestroy(scaled, comm);
    ncclRedOpDestroy(scaled_loss, comm);
    return status;
}

#else

reco_status cuda_group_id(cuda_context *context, reco_backend_group *group)
{
    (void)context;
    group->made = 0;
    return RECO_OK;
}

reco_status cuda_group_join(cuda_context *context, const reco_backend_group *group)
{
    (void)context;
    (void)group;
    return cuda_fail(RECO_ERR_BACKEND_UNAVAILABLE,
                     "cuda backend: built without NCCL, it cannot join a device group");
}

void cuda_group_leave(cuda_context *context)
{
    (void)context;
}

#endif

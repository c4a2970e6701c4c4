/* CUDA backend internals: the context, the workspace and the checks that
 * turn CUDA and cuBLAS failures into reco_status values. */
#ifndef RECO_CUDA_INTERNAL_H
#define RECO_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <pthread.h>

#include "reco/backend_impl.h"
#include "reco_math.h"

/* Records a failure through the library that loaded the module. */
reco_status cuda_fail(reco_status status, const char *detail);

struct reco_backend_context {
    /* one call at a time on the stream and the cuBLAS handle: a training
     * step captured as a graph must not take in another thread's work */
    pthread_mutex_t call_lock;
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_workspace; /* cuBLAS's, given once: graph capture may not allocate */
    int fast_math;        /* TF32 products: a captured graph bakes the choice in */
    void *group;          /* the NCCL communicator of a device group, or NULL */
};
typedef struct reco_backend_context cuda_context;

/* One optimizer step's arithmetic (backends/common/reco_math.h). */
typedef reco_step_rule cuda_step_rule;

/* What changes from one training batch to the next. Kernels read it from
 * device memory, so that one captured CUDA graph serves every batch. */
typedef struct cuda_step_args {
    size_t offset;         /* the batch's first row in the epoch's buffers */
    uint64_t dropout_seed;
    cuda_step_rule rule;
} cuda_step_args;

/* What a captured training step depends on besides cuda_step_args. */
typedef struct cuda_graph_key {
    size_t n;
    int loss, mean_reduction, wants_loss, fast_math;
    const void *users, *items, *targets, *negatives;
    const void *tables[RECO_N_TABLES], *dense, *optimizer_state;
    reco_optimizer_config config;
} cuda_graph_key;

/* Training steps kept as CUDA graphs: full batches and the last one. */
#define CUDA_GRAPHS 2

/* Gradients of one embedding table: a full-size gradient table, a flag per
 * row and the list of rows a batch touched (for lazy optimizer steps). */
typedef struct cuda_table_grad {
    float *grads;     /* table_rows x dim, zero outside touched rows */
    int *touched;     /* table_rows flags */
    int *rows;        /* touched rows, `*count` of them */
    int *count;       /* device counter */
} cuda_table_grad;

struct reco_backend_workspace {
    size_t max_rows;
    size_t capacity;  /* samples: 2 x max_rows, for BPR */
    int *users;       /* the batch's samples (BPR: positives then negatives) */
    int *items;
    float *gathered[RECO_N_TABLES];
    float *dgathered[RECO_N_TABLES]; /* MLP tables share dgathered[USER_MLP] */
    float *gmf;
    float *act[RECO_MAX_LAYERS + 1];
    float *mask[RECO_MAX_LAYERS + 1];
    float *logit;
    float *dlogit;
    float *delta[2];
    float *ones;      /* capacity ones, for sums through cuBLAS */
    double *loss;     /* device accumulator of batches run with a NULL loss */
    double *batch_loss; /* the loss of a batch whose caller waits for it */
    float *dense_grad;
    float *targets;   /* the batch's targets */
    cuda_step_args *args; /* device copy of the batch's cuda_step_args */
    cuda_table_grad tables[RECO_N_TABLES];
    size_t rows;      /* samples in the last batch */
    cuda_graph_key graph_keys[CUDA_GRAPHS];
    cudaGraphExec_t graphs[CUDA_GRAPHS];
    size_t next_graph;    /* the slot the next capture replaces */
    int graphs_failed;    /* capture did not work here: run steps eagerly */
};
typedef struct reco_backend_workspace cuda_workspace;

/* Records a failure of a CUDA call; returns RECO_OK when err is cudaSuccess. */
reco_status cuda_check(cudaError_t err, const char *what);
reco_status cublas_check(cublasStatus_t err, const char *what);

reco_backend_workspace_create_fn cuda_workspace_create;
reco_backend_workspace_destroy_fn cuda_workspace_destroy;
reco_backend_forward_fn cuda_forward;
reco_backend_forward_backward_fn cuda_forward_backward;
reco_backend_take_loss_fn cuda_take_loss;
reco_backend_gradient_download_fn cuda_gradient_download;
reco_backend_optimizer_create_fn cuda_optimizer_create;
reco_backend_optimizer_destroy_fn cuda_optimizer_destroy;
reco_backend_optimizer_step_fn cuda_optimizer_step;
reco_backend_train_step_fn cuda_train_step;
reco_backend_optimizer_settle_fn cuda_optimizer_settle;

/* The optimizer's rule for a step (learning rate and bias corrections). */
cuda_step_rule cuda_step_rule_for(const reco_optimizer_config *config, float learning_rate,
                                  uint64_t step);

/* Enqueues the optimizer kernels, which read the rule from w->args. */
reco_status cuda_enqueue_optimizer_step(cuda_context *context, const reco_net_desc *net,
                                        reco_net_params *params, cuda_workspace *w,
                                        reco_backend_optimizer *state,
                                        const reco_optimizer_config *config);

/* Enqueues a copy of `value` to device memory at `target`, in stream order
 * (the host value is passed by value, so it may change at once). */
reco_status cuda_store_step_args(cuda_context *context, cuda_step_args *target,
                                 const cuda_step_args *value);

reco_backend_epoch_samples_fn cuda_epoch_samples;

/* Device groups (cuda_group.cu): the id rank 0 makes, joining, leaving,
 * and the sum of the ranks' gradients (only with NCCL). */
reco_status cuda_group_id(cuda_context *context, reco_backend_group *group);
reco_status cuda_group_join(cuda_context *context, const reco_backend_group *group);
void cuda_group_leave(cuda_context *context);
reco_backend_gradient_reduce_fn cuda_gradient_reduce;

/* The tables one fused kernel walks in turn; each Entry has a `size`, the
 * number of elements (threads) it takes. */
template <typename Entry> struct cuda_list {
    int n;
    Entry entry[RECO_N_TABLES];
};

/* Which entry holds element `index` of the list's elements laid end to end;
 * the index within that entry goes to *local. */
template <typename Entry>
__device__ static inline int cuda_locate(const cuda_list<Entry> &list, size_t index, size_t *local)
{
    int which = 0;
    while (which < list.n - 1 && index >= list.entry[which].size) {
        index -= list.entry[which].size;
        which++;
    }
    *local = index;
    return which;
}

/* Below this many elements, a list's tables go to one launch: a small batch
 * costs launches, not work. Above it, one launch a table spares every
 * thread the lookup. */
#define CUDA_FUSED_ELEMENTS ((size_t)1 << 22)

/* Calls launch(list, elements, first) once for the whole list, or once per
 * entry (`first` is true for the first call only). */
template <typename Entry, typename Launch>
static void cuda_launch_list(const cuda_list<Entry> &list, Launch launch)
{
    size_t total = 0;
    for (int k = 0; k < list.n; k++)
        total += list.entry[k].size;
    if (total < CUDA_FUSED_ELEMENTS) {
        launch(list, total, true);
        return;
    }
    for (int k = 0; k < list.n; k++) {
        cuda_list<Entry> one = {1, {list.entry[k]}};
        launch(one, list.entry[k].size, k == 0);
    }
}

/* Threads per block of the elementwise kernels. */
#define CUDA_BLOCK 256

static inline unsigned cuda_blocks(size_t n)
{
    size_t blocks = (n + CUDA_BLOCK - 1) / CUDA_BLOCK;
    return (unsigned)(blocks ? (blocks < 65535u * 32u ? blocks : 65535u * 32u) : 1);
}

#endif

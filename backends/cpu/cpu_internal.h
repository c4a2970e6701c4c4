/* CPU backend internals: the context and the workspace. */
#ifndef RECO_CPU_INTERNAL_H
#define RECO_CPU_INTERNAL_H

#include "cpu_pool.h"
#include "reco/backend_impl.h"

typedef struct cpu_context {
    cpu_pool *pool;
} cpu_context;

/* What one thread computes on its slice of a batch. */
typedef struct cpu_slice {
    size_t capacity;                  /* rows */
    float *gathered[RECO_N_TABLES];   /* GMF and bias rows; MLP rows go to act[0] */
    float *gmf;                       /* capacity x gmf_dim */
    float *act[RECO_MAX_LAYERS + 1];  /* act[0] = user ++ item MLP rows */
    float *mask[RECO_MAX_LAYERS + 1]; /* dropout scale per unit (0 or 1/(1-p)) */
    float *logit;
    float *dlogit;
    float *delta[2];                  /* ping-pong gradients through the tower */
    float *dgathered[RECO_N_TABLES];  /* per-row gradients of the gathered rows */
    float *dense_grad;                /* this thread's share of the dense gradient */
    int32_t *users;                   /* the slice's rows (BPR: positives then negatives) */
    int32_t *items;
    float *targets;
    size_t rows;
    size_t first_row;                 /* index in the batch, for dropout streams */
    double loss;
} cpu_slice;

/* Gradients of the embedding tables, one row per distinct row touched. */
typedef struct cpu_table_grad {
    int32_t *slot_of_row;  /* table_rows, -1 when untouched */
    int32_t *rows;         /* distinct rows in order of first touch */
    float *grads;          /* n_rows x dim */
    size_t n_rows;
} cpu_table_grad;

typedef struct cpu_workspace {
    size_t max_rows;
    size_t n_slices;
    cpu_slice *slices;
    float *dense_grad;
    cpu_table_grad tables[RECO_N_TABLES];
} cpu_workspace;

reco_status cpu_workspace_create(void *context, const reco_net_desc *net, size_t max_rows,
                                 void **workspace);
void cpu_workspace_destroy(void *context, void *workspace);
reco_status cpu_forward(void *context, const reco_net_desc *net, const reco_net_params *params,
                        void *workspace, const int32_t *users, const int32_t *items, size_t n,
                        float *scores);
reco_status cpu_forward_backward(void *context, const reco_net_desc *net,
                                 const reco_net_params *params, void *workspace,
                                 const reco_batch *batch, double *loss);
reco_status cpu_gradient_download(void *context, const reco_net_desc *net, void *workspace,
                                  float *gradient);

reco_status cpu_optimizer_create(void *context, const reco_net_desc *net,
                                 const reco_optimizer_config *config, void **state);
void cpu_optimizer_destroy(void *context, void *state);
reco_status cpu_optimizer_step(void *context, const reco_net_desc *net, reco_net_params *params,
                               void *workspace, void *state, const reco_optimizer_config *config,
                               float learning_rate, uint64_t step);

#endif

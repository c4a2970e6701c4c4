/* libreco — the backend vtable, for those who write a backend.
 *
 * A backend owns memory and math; the core owns the training loop, batches,
 * sampling and the model layout. A batch crosses this table once per stage
 * (forward+loss+backward, optimizer step), never once per sample. Tensors are
 * row-major float32. Buffers are opaque to the core: it reaches their bytes
 * only through buffer_upload / buffer_download.
 *
 * Not a stable ABI: the table changes with the library (ABI version
 * RECO_BACKEND_ABI_VERSION), so a program that includes this header says so
 * with `#define RECO_BACKEND_UNSTABLE` first (as zstd's experimental API
 * wants ZSTD_STATIC_LINKING_ONLY), and a backend is rebuilt against each
 * release. The rest of include/reco is the stable ABI.
 *
 * Versioning: a backend sets struct_size = sizeof(reco_backend_ops) and
 * abi_version = RECO_BACKEND_ABI_VERSION; the registry refuses others.
 *
 * Concurrency: the core calls a context's entries from several threads at
 * once (models and trainers on one backend used side by side, one model
 * serving many threads), each call with its own workspace; a backend either
 * supports that or serializes its calls itself. */
#ifndef RECO_BACKEND_IMPL_H
#define RECO_BACKEND_IMPL_H

#ifndef RECO_BACKEND_UNSTABLE
#error "reco/backend_impl.h is not part of the stable ABI: #define RECO_BACKEND_UNSTABLE before including it and rebuild the backend with every libreco release"
#endif

#include "reco/backend.h"
#include "reco/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RECO_BACKEND_ABI_VERSION 1

/* Embedding tables of a network. Absent tables have dim 0. */
enum {
    RECO_TABLE_USER_GMF = 0, /* GMF (or MF) user factors, n_users x gmf_dim */
    RECO_TABLE_ITEM_GMF = 1,
    RECO_TABLE_USER_MLP = 2, /* MLP user embedding, n_users x mlp_dim */
    RECO_TABLE_ITEM_MLP = 3,
    RECO_TABLE_USER_BIAS = 4, /* MF user bias, n_users x 1 */
    RECO_TABLE_ITEM_BIAS = 5,
    RECO_N_TABLES = 6
};

/* The shape of a network: every model kind is this one graph,
 *   z = [P_gmf[u] * Q_gmf[i], tower(P_mlp[u] ++ Q_mlp[i])]
 *   logit = z . head_w + head_b (+ b_user[u] + b_item[i])
 *   score = output_activation(logit)
 * where tower is n_layers of Linear + ReLU (+ inverted dropout in training).
 * All dense parameters live in one flat vector at the offsets given. */
typedef struct reco_net_desc {
    size_t table_rows[RECO_N_TABLES];
    size_t table_dim[RECO_N_TABLES];
    size_t n_layers;
    size_t layer_in[RECO_MAX_LAYERS];
    size_t layer_out[RECO_MAX_LAYERS];
    size_t weight_offset[RECO_MAX_LAYERS]; /* layer_out x layer_in, row-major */
    size_t bias_offset[RECO_MAX_LAYERS];
    size_t head_in;          /* gmf_dim + last layer_out */
    size_t head_w_offset;
    size_t head_b_offset;
    size_t n_dense;          /* length of the flat dense vector */
    int train_head_weights;  /* 0: head_w stays as initialized (MF: all ones) */
    int train_head_bias;     /* 0: head_b stays 0 (MF without biases) */
    int output_activation;   /* reco_activation */
    float dropout;           /* drop probability on tower outputs, training only */
} reco_net_desc;

/* The parameters of a network: one buffer per present table, one dense. */
typedef struct reco_net_params {
    void *tables[RECO_N_TABLES];
    void *dense;
} reco_net_params;

/* Losses and how a batch states its targets. */
enum { RECO_BATCH_BCE = 0, RECO_BATCH_MSE = 1, RECO_BATCH_BPR = 2 };

/* One training batch, rows [offset, offset + n) of epoch-long buffers that
 * were uploaded once per epoch: users/items (int32), targets (float; BCE and
 * MSE), negatives (int32; BPR: one negative item per row). */
typedef struct reco_batch {
    const void *users;
    const void *items;
    const void *targets;
    const void *negatives;
    size_t offset;
    size_t n;
    int loss;            /* RECO_BATCH_* */
    int mean_reduction;  /* 1: loss and gradients averaged over rows, 0: summed */
    uint64_t dropout_seed; /* distinct per step, for the dropout masks */
} reco_batch;

/* A training set on the device, for backends that build epochs there:
 * rows (users, items, ratings or NULL) and, per user, the sorted distinct
 * items it has (CSR: offsets of n_users + 1 size_t, then int32 items). */
typedef struct reco_epoch_data {
    const void *users;
    const void *items;
    const void *ratings;
    size_t n_rows;
    const void *user_offsets;
    const void *user_items;
    size_t n_users;
    size_t n_items;
} reco_epoch_data;

/* What an epoch's samples are made of. */
typedef struct reco_epoch_plan {
    size_t negatives;      /* per row; BPR: 1 */
    int pairs;             /* BPR: one (positive, negative) pair per row */
    int explicit_targets;  /* targets are the ratings (MSE on explicit data) */
    uint64_t seed;
    uint64_t epoch;
} reco_epoch_plan;

/* Optimizer settings, as the trainer was configured. */
typedef struct reco_optimizer_config {
    int kind;             /* reco_optimizer */
    float momentum;       /* SGD */
    float beta1, beta2;   /* Adam */
    float epsilon;        /* Adam, Adagrad */
    float weight_decay;   /* L2 added to the gradient, as torch.optim does */
    int dense_embeddings; /* 1: tables stepped densely (untouched rows too) */
} reco_optimizer_config;

typedef struct reco_backend_ops {
    size_t struct_size;
    uint32_t abi_version;
    const char *name;

    /* Creates a context; RECO_ERR_BACKEND_UNAVAILABLE when there is no device. */
    reco_status (*create)(void **context);
    void (*destroy)(void *context);
    /* Threads the backend may use (CPU), 0 for its default; a device
     * backend may ignore it. Called while other threads use the context:
     * calls in flight finish with the threads they started with. */
    reco_status (*set_threads)(void *context, size_t n_threads);
    reco_status (*synchronize)(void *context);

    reco_status (*buffer_alloc)(void *context, size_t bytes, void **buffer);
    void (*buffer_free)(void *context, void *buffer);
    reco_status (*buffer_upload)(void *context, void *buffer, size_t offset, const void *host,
                                 size_t bytes);
    reco_status (*buffer_download)(void *context, const void *buffer, size_t offset, void *host,
                                   size_t bytes);
    reco_status (*buffer_zero)(void *context, void *buffer, size_t bytes);

    /* Scratch memory and gradients for batches of up to max_rows rows. */
    reco_status (*workspace_create)(void *context, const reco_net_desc *net, size_t max_rows,
                                    void **workspace);
    void (*workspace_destroy)(void *context, void *workspace);

    /* Scores n (user, item) pairs given as host arrays into host scores. */
    reco_status (*forward)(void *context, const reco_net_desc *net, const reco_net_params *params,
                           void *workspace, const int32_t *users, const int32_t *items,
                           size_t n, float *scores);

    /* Optional (may be NULL; the core then calls forward): scores each of
     * n_users users against every item, scores[u * items + i], host arrays,
     * so that ranking many users can be one matrix product. */
    reco_status (*score_items)(void *context, const reco_net_desc *net,
                               const reco_net_params *params, void *workspace,
                               const int32_t *users, size_t n_users, float *scores);

    /* Forward, loss and backward of one batch: leaves the gradients in the
     * workspace and writes the batch loss (mean or sum) to *loss. With loss
     * NULL the batch loss is added to the workspace's running total instead
     * (read by take_loss), so that a device backend need not wait for it. */
    reco_status (*forward_backward)(void *context, const reco_net_desc *net,
                                    const reco_net_params *params, void *workspace,
                                    const reco_batch *batch, double *loss);

    /* Writes the running loss total of the workspace and resets it to 0. */
    reco_status (*take_loss)(void *context, void *workspace, double *total);

    /* Writes the workspace's last gradients as one flat host vector: each
     * present table in RECO_TABLE_* order (rows x dim), then the dense vector. */
    reco_status (*gradient_download)(void *context, const reco_net_desc *net, void *workspace,
                                     float *gradient);

    reco_status (*optimizer_create)(void *context, const reco_net_desc *net,
                                    const reco_optimizer_config *config, void **state);
    void (*optimizer_destroy)(void *context, void *state);
    /* Applies the workspace's gradients: step is 1 on the first call. */
    reco_status (*optimizer_step)(void *context, const reco_net_desc *net,
                                  reco_net_params *params, void *workspace, void *state,
                                  const reco_optimizer_config *config, float learning_rate,
                                  uint64_t step);

    /* Optional (may be NULL): forward_backward then optimizer_step in one
     * call, which lets a backend avoid a synchronization per batch. */
    reco_status (*train_step)(void *context, const reco_net_desc *net, reco_net_params *params,
                              void *workspace, void *state, const reco_optimizer_config *config,
                              float learning_rate, uint64_t step, const reco_batch *batch,
                              double *loss);

    /* Optional (may be NULL: the core builds samples on the host and
     * uploads them): builds an epoch's samples where the backend computes,
     * so that training data never crosses to the host per epoch. Writes
     * the samples of the law of backends/common/reco_sampling.h, exactly
     * those and in that order, to the users, items and targets buffers
     * (BPR: users, items, targets, negatives). */
    reco_status (*epoch_samples)(void *context, const reco_epoch_data *data,
                                 const reco_epoch_plan *plan, void *users, void *items,
                                 void *targets, void *negatives);

    /* Optional (may be NULL): see reco_backend_set_fast_math. */
    reco_status (*set_fast_math)(void *context, int enabled);

    /* Optional (may be NULL: one thread): the threads set_threads gave the
     * backend, for reco_backend_threads. */
    size_t (*threads)(void *context);
} reco_backend_ops;

/* What libreco hands a backend module (libreco-NAME.so, loaded on the first
 * reco_backend_open of NAME) so that the module never links libreco itself:
 * the one function a backend calls back. */
typedef struct reco_module_host {
    size_t struct_size;   /* sizeof(reco_module_host) */
    uint32_t abi_version; /* RECO_BACKEND_ABI_VERSION of the loading library */
    reco_status (*fail)(reco_status status, const char *detail);
} reco_module_host;

/* A module exports one function, reco_backend_NAME_init, of this type. It
 * refuses (RECO_ERR_BACKEND_UNAVAILABLE, through host->fail) an abi_version
 * it was not built for, keeps `host` (valid while the process runs) and
 * writes its ops table, which then passes the checks reco_backend_register
 * makes. */
typedef reco_status (*reco_module_init_fn)(const reco_module_host *host,
                                           const reco_backend_ops **ops);

/* For backends: records `detail` as the calling thread's reco_last_error()
 * and returns status, so that a backend's failure reads like the library's. */
RECO_API reco_status reco_backend_fail(reco_status status, const char *detail);

/* Adds a backend under ops->name (copied by reference: ops must outlive the
 * process's use of the library). RECO_ERR_INVALID_ARGUMENT for a wrong
 * struct_size or abi_version or a missing function; RECO_ERR_STATE when the
 * name is taken. Not thread-safe with concurrent reco_backend_open calls. */
RECO_API reco_status reco_backend_register(const reco_backend_ops *ops);

#ifdef __cplusplus
}
#endif

#endif

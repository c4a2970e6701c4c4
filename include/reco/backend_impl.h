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
 * abi_version = RECO_BACKEND_ABI_VERSION; the registry refuses others. Each
 * part says the ABI its entries are valid since; an entry added later says
 * its own, as SQLite's sqlite3_io_methods does.
 *
 * Concurrency: the core calls a context's entries from several threads at
 * once (models and trainers on one backend used side by side, one model
 * serving many threads), each call with its own workspace; a backend either
 * supports that or serializes its calls itself. */
#ifndef RECO_BACKEND_IMPL_H
#define RECO_BACKEND_IMPL_H

#ifndef RECO_BACKEND_UNSTABLE
#error                                                                                             \
    "reco/backend_impl.h is not part of the stable ABI: #define RECO_BACKEND_UNSTABLE before including it and rebuild the backend with every libreco release"
#endif

#include "reco/backend.h"
#include "reco/model.h"
#include "reco/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: typed handles, a device part and a kernels part, control().
 * 6: rank_items (every item ranked for many users, top k kept). */
#define RECO_BACKEND_ABI_VERSION 6

/* Handles a backend defines for itself (struct reco_backend_context { ... }
 * in its own files); the core only passes them back. Typed, so that a
 * buffer cannot be handed where a workspace is expected. */
typedef struct reco_backend_context reco_backend_context;     /* one per open backend */
typedef struct reco_backend_buffer reco_backend_buffer;       /* device memory */
typedef struct reco_backend_workspace reco_backend_workspace; /* scratch and gradients */
typedef struct reco_backend_optimizer reco_backend_optimizer; /* optimizer moments */

/* Embedding tables of a network. Absent tables have dim 0. */
typedef enum reco_table {
    RECO_TABLE_USER_GMF = 0, /* GMF (or MF) user factors, n_users x gmf_dim */
    RECO_TABLE_ITEM_GMF = 1,
    RECO_TABLE_USER_MLP = 2, /* MLP user embedding, n_users x mlp_dim */
    RECO_TABLE_ITEM_MLP = 3,
    RECO_TABLE_USER_BIAS = 4, /* MF user bias, n_users x 1 */
    RECO_TABLE_ITEM_BIAS = 5,
    RECO_N_TABLES = 6
} reco_table;

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
    size_t head_in; /* gmf_dim + last layer_out */
    size_t head_w_offset;
    size_t head_b_offset;
    size_t n_dense;         /* length of the flat dense vector */
    int train_head_weights; /* 0: head_w stays as initialized (MF: all ones) */
    int train_head_bias;    /* 0: head_b stays 0 (MF without biases) */
    reco_activation output_activation;
    float dropout; /* drop probability on tower outputs, training only */
} reco_net_desc;

/* The parameters of a network: one buffer per present table, one dense. */
typedef struct reco_net_params {
    reco_backend_buffer *tables[RECO_N_TABLES];
    reco_backend_buffer *dense;
} reco_net_params;

/* One training batch, rows [offset, offset + n) of epoch-long buffers:
 * users and items (int32), targets (float; BCE and MSE), negatives (int32;
 * BPR: one negative item per row). */
typedef struct reco_batch {
    const reco_backend_buffer *users;
    const reco_backend_buffer *items;
    const reco_backend_buffer *targets;
    const reco_backend_buffer *negatives;
    size_t offset;
    size_t n;
    reco_loss loss;
    int mean_reduction;    /* 1: loss and gradients averaged over rows, 0: summed */
    uint64_t dropout_seed; /* distinct per step, for the dropout masks */
} reco_batch;

/* A training set in a backend's buffers, for epoch_samples: rows (users,
 * items, ratings or NULL) and, per user, the sorted distinct items it has
 * (CSR: offsets of n_users + 1 size_t, then int32 items). */
typedef struct reco_epoch_data {
    const reco_backend_buffer *users;
    const reco_backend_buffer *items;
    const reco_backend_buffer *ratings;
    size_t n_rows;
    const reco_backend_buffer *user_offsets;
    const reco_backend_buffer *user_items;
    size_t n_users;
    size_t n_items;
    /* ABI 4: the same number as long as the buffers hold the same rows and
     * another once they may not, so that a backend may keep what it derives
     * from them (mf_epoch's packed ratings) from call to call; 0: unknown,
     * derive anew. */
    uint64_t generation;
} reco_epoch_data;

/* What an epoch's samples are made of. */
typedef struct reco_epoch_plan {
    size_t negatives;     /* per row; BPR: 1 */
    int pairs;            /* BPR: one (positive, negative) pair per row */
    int explicit_targets; /* targets are the ratings (MSE on explicit data) */
    uint64_t seed;
    uint64_t epoch;
    size_t first; /* the places of the epoch to make: [first, first + count) */
    size_t count;
    uint64_t negative_epoch; /* the epoch whose negatives are drawn: `epoch`, or 0
                                when the trainer keeps its negatives fixed (ABI 3) */
} reco_epoch_plan;

/* Where epoch_samples writes: buffers of at least plan->count entries. */
typedef struct reco_epoch_buffers {
    reco_backend_buffer *users;
    reco_backend_buffer *items;
    reco_backend_buffer *targets;
    reco_backend_buffer *negatives; /* BPR only */
} reco_epoch_buffers;

/* Optimizer settings, as the trainer was configured. */
typedef struct reco_optimizer_config {
    reco_optimizer kind;
    float momentum;       /* SGD */
    float beta1, beta2;   /* Adam */
    float epsilon;        /* Adam, Adagrad */
    float weight_decay;   /* L2 added to the gradient, as torch.optim does */
    int dense_embeddings; /* 1: tables stepped densely (untouched rows too) */
} reco_optimizer_config;

/* A batch's gradient in host memory, sparse in the embedding tables: the
 * rows of each side (0: the user tables, the even reco_table values; 1: the
 * item tables) that the batch touched, each table's gradient rows in that
 * order, the dense gradient and the batch's loss. Self-describing, so that
 * a data-parallel module can send and sum it: rows[side] has room for
 * capacity[side] rows, values[t] for capacity[t % 2] x dim[t] floats (NULL
 * where dim[t] is 0), dense for n_dense floats. */
typedef struct reco_sparse_gradient {
    size_t capacity[2];
    size_t dim[RECO_N_TABLES];
    size_t n_dense;
    size_t n_rows[2];
    int32_t *rows[2];
    float *values[RECO_N_TABLES];
    float *dense;
    double loss;
} reco_sparse_gradient;

/* A sparse matrix in backend buffers (ABI 5): offsets (n_rows + 1 size_t),
 * columns (int32, sorted and distinct within a row), values (float). */
typedef struct reco_sparse_buffers {
    const reco_backend_buffer *offsets;
    const reco_backend_buffer *columns;
    const reco_backend_buffer *values;
    size_t n_rows;
    size_t n_columns;
} reco_sparse_buffers;

/* One half of an iALS alternation (ABI 5): the rows of the solved side
 * (users, or items) as a sparse matrix over the columns of the fixed side,
 * its values the confidences c_ij (values NULL: all 1). Row r's factors x_r
 * become the minimizer (exact, or after
 * cg_steps conjugate-gradient steps from x_r) of
 *   sum_j c_rj (x_r . y_j - 1)^2 + unobserved_weight x_r' G x_r
 *   + regularization (n_r + unobserved_weight n_columns) |x_r|^2
 * where y_j are the fixed side's rows, G = Y'Y their Gramian and n_r the
 * row's entries. */
typedef struct reco_ials_half {
    reco_sparse_buffers rows;
    size_t dim;
    float unobserved_weight;
    float regularization;
    reco_solver solver;
    size_t cg_steps;
    int with_fit; /* 0: reco_ials_loss.fit is not wanted (left 0) */
    size_t row_begin, row_end; /* the rows to solve: [row_begin, row_end) of rows.n_rows
                                  (one rank's share); the others are left as they are */
} reco_ials_half;

/* What ials_solve reports of the rows it solved, at their new values: the
 * data terms (observed and unobserved; with_fit only) and the regularization
 * term of the objective above, each summed in an order that depends on the
 * data only. */
typedef struct reco_ials_loss {
    double fit;
    double penalty;
} reco_ials_loss;


/* The knobs of control(): one entry for every setting a backend may have,
 * so that a new knob is a new op, not a new table entry. */
typedef enum reco_backend_control_op {
    /* arg: const size_t *, threads the backend may use, 0 for its default.
     * Calls in flight finish with the threads they started with. */
    RECO_CONTROL_SET_THREADS = 1,
    /* arg: size_t *, receives the threads the backend uses. */
    RECO_CONTROL_GET_THREADS = 2,
    /* arg: const int *, reco_backend_set_fast_math's flag. */
    RECO_CONTROL_SET_FAST_MATH = 3,
    /* arg: reco_backend_group *: makes a new group id (rank 0 of a job does)
     * and sets `made`; a backend that reduces no gradients itself leaves it 0. */
    RECO_CONTROL_GROUP_ID = 4,
    /* arg: const reco_backend_group *: joins the group as its rank; every
     * rank of the group calls it (it returns when all have). */
    RECO_CONTROL_JOIN_GROUP = 5,
    /* arg: reco_backend_text *: one line on what the backend computes with. */
    RECO_CONTROL_DESCRIBE = 6
} reco_backend_control_op;

typedef struct reco_backend_text {
    char text[256];
} reco_backend_text;

/* A group of contexts, one per process, whose gradients the backend sums
 * on its devices (the CUDA backend: an NCCL communicator). */
typedef struct reco_backend_group {
    unsigned char id[128]; /* made by rank 0, sent to the others by the caller */
    int made;
    int rank, world;
} reco_backend_group;

/* The type of each entry of the table, so that a backend declares its
 * functions with them (reco_backend_forward_fn my_forward;) instead of
 * repeating the signatures; each entry is documented in the table below. */
typedef reco_status reco_backend_create_fn(reco_backend_context **context);
typedef void reco_backend_destroy_fn(reco_backend_context *context);
typedef reco_status reco_backend_control_fn(reco_backend_context *context,
                                            reco_backend_control_op op, void *arg);
typedef reco_status reco_backend_synchronize_fn(reco_backend_context *context);
typedef reco_status reco_backend_buffer_alloc_fn(reco_backend_context *context, size_t bytes,
                                                 reco_backend_buffer **buffer);
typedef void reco_backend_buffer_free_fn(reco_backend_context *context,
                                         reco_backend_buffer *buffer);
typedef reco_status reco_backend_buffer_upload_fn(reco_backend_context *context,
                                                  reco_backend_buffer *buffer, size_t offset,
                                                  const void *host, size_t bytes);
typedef reco_status reco_backend_buffer_download_fn(reco_backend_context *context,
                                                    const reco_backend_buffer *buffer,
                                                    size_t offset, void *host, size_t bytes);
typedef reco_status reco_backend_workspace_create_fn(reco_backend_context *context,
                                                     const reco_net_desc *net, size_t max_rows,
                                                     reco_backend_workspace **workspace);
typedef void reco_backend_workspace_destroy_fn(reco_backend_context *context,
                                               reco_backend_workspace *workspace);
typedef reco_status reco_backend_forward_fn(reco_backend_context *context, const reco_net_desc *net,
                                            const reco_net_params *params,
                                            reco_backend_workspace *workspace, const int32_t *users,
                                            const int32_t *items, size_t n, float *scores);
typedef reco_status
reco_backend_score_items_fn(reco_backend_context *context, const reco_net_desc *net,
                            const reco_net_params *params, reco_backend_workspace *workspace,
                            const int32_t *users, size_t n_users, float *scores);
typedef reco_status reco_backend_forward_backward_fn(reco_backend_context *context,
                                                     const reco_net_desc *net,
                                                     const reco_net_params *params,
                                                     reco_backend_workspace *workspace,
                                                     const reco_batch *batch, double *loss);
typedef reco_status reco_backend_take_loss_fn(reco_backend_context *context,
                                              reco_backend_workspace *workspace, double *total);
typedef reco_status reco_backend_gradient_download_fn(reco_backend_context *context,
                                                      const reco_net_desc *net,
                                                      reco_backend_workspace *workspace,
                                                      float *gradient);
typedef reco_status reco_backend_optimizer_create_fn(reco_backend_context *context,
                                                     const reco_net_desc *net,
                                                     const reco_optimizer_config *config,
                                                     reco_backend_optimizer **state);
typedef void reco_backend_optimizer_destroy_fn(reco_backend_context *context,
                                               reco_backend_optimizer *state);
typedef reco_status
reco_backend_optimizer_step_fn(reco_backend_context *context, const reco_net_desc *net,
                               reco_net_params *params, reco_backend_workspace *workspace,
                               reco_backend_optimizer *state, const reco_optimizer_config *config,
                               float learning_rate, uint64_t step);
typedef reco_status reco_backend_optimizer_settle_fn(reco_backend_context *context,
                                                     const reco_net_desc *net,
                                                     reco_net_params *params,
                                                     reco_backend_optimizer *state,
                                                     const reco_optimizer_config *config,
                                                     float learning_rate, uint64_t step);
typedef reco_status reco_backend_train_step_fn(reco_backend_context *context,
                                               const reco_net_desc *net, reco_net_params *params,
                                               reco_backend_workspace *workspace,
                                               reco_backend_optimizer *state,
                                               const reco_optimizer_config *config,
                                               float learning_rate, uint64_t step,
                                               const reco_batch *batch, double *loss);
typedef reco_status reco_backend_gradient_export_fn(reco_backend_context *context,
                                                    const reco_net_desc *net,
                                                    reco_backend_workspace *workspace,
                                                    reco_sparse_gradient *gradient);
typedef reco_status reco_backend_gradient_import_fn(reco_backend_context *context,
                                                    const reco_net_desc *net,
                                                    reco_backend_workspace *workspace,
                                                    const reco_sparse_gradient *gradient);
typedef reco_status reco_backend_gradient_reduce_fn(reco_backend_context *context,
                                                    const reco_net_desc *net,
                                                    reco_backend_workspace *workspace, float scale,
                                                    double *loss);
typedef reco_status reco_backend_epoch_samples_fn(reco_backend_context *context,
                                                  const reco_epoch_data *data,
                                                  const reco_epoch_plan *plan,
                                                  const reco_epoch_buffers *out);
/* Host CSR rows (offsets: n_rows + 1; columns sorted and distinct within a
 * row; values, one per entry, or NULL where unused). A row past n_rows is
 * empty. */
typedef struct reco_host_rows {
    const size_t *offsets;
    const int32_t *columns;
    const float *values;
    size_t n_rows;
} reco_host_rows;

/* What rank_items ranks (ABI 6). The scores are those forward gives, of a
 * dot-product network (n_layers 0: MF, GMF, iALS) from its tables, or, when
 * history.offsets is set, of the item-item kinds: user u's score for item i
 * is sum over the user's history entries (j, v) of v x w_ji, w the dense
 * n_items x n_items `item_weights` (EASE's B) or else `neighbours` (item
 * j's row). Every array is host memory. */
typedef struct reco_rank_request {
    const int32_t *users; /* n_users user indices */
    size_t n_users;
    size_t n_items;
    size_t k;
    reco_host_rows history;     /* item-item kinds; offsets NULL otherwise */
    const float *item_weights;  /* EASE's B, or NULL */
    reco_host_rows neighbours;  /* item-kNN's, when item_weights is NULL */
    reco_host_rows exclude;     /* per user index: items left out (offsets may be NULL) */
    const uint8_t *candidates;  /* n_items flags, 0: left out for every user; or NULL */
    /* out: user u's best k at items[u * k ...], scores[u * k ...] (best
     * first; ties to the lower item; NaN never ranks), their number at
     * counts[u] */
    int32_t *items;
    float *scores;
    size_t *counts;
} reco_rank_request;

typedef reco_status reco_backend_rank_items_fn(reco_backend_context *context,
                                               const reco_net_desc *net,
                                               const reco_net_params *params,
                                               const reco_rank_request *request);
typedef reco_status reco_backend_ials_solve_fn(reco_backend_context *context,
                                               const reco_ials_half *half,
                                               reco_backend_buffer *solved,
                                               const reco_backend_buffer *fixed,
                                               reco_ials_loss *loss);
typedef reco_status reco_backend_ease_fit_fn(reco_backend_context *context,
                                             const reco_sparse_buffers *by_item,
                                             const reco_sparse_buffers *by_user,
                                             float regularization, reco_backend_buffer *weights);
typedef reco_status reco_backend_item_neighbours_fn(reco_backend_context *context,
                                                    const reco_sparse_buffers *by_item,
                                                    const reco_sparse_buffers *by_user,
                                                    size_t k, reco_backend_buffer *columns,
                                                    reco_backend_buffer *values,
                                                    reco_backend_buffer *counts);
typedef reco_status reco_backend_mf_epoch_fn(
    reco_backend_context *context, reco_backend_workspace *workspace, const reco_net_desc *net,
    reco_net_params *params, reco_backend_optimizer *state, const reco_optimizer_config *config,
    float learning_rate, const reco_epoch_data *data, const reco_epoch_plan *plan, double *loss);

/* Memory and settings: what any device has. Entries marked optional may be
 * NULL; every other entry is required. Valid since backend ABI 2. */
typedef struct reco_backend_device_ops {
    /* Creates a context; RECO_ERR_BACKEND_UNAVAILABLE when there is no device. */
    reco_backend_create_fn *create;
    reco_backend_destroy_fn *destroy;
    /* Optional (NULL: no knobs). Sets or reads one knob. An op the backend
     * does not have is ignored: RECO_OK, with *arg left as it was (so a
     * GET reads the default the core put there). */
    reco_backend_control_fn *control;
    /* Optional (NULL: calls complete before they return). Waits until the
     * context's queued work is done and reports its failure; the core calls
     * it at the end of every epoch. */
    reco_backend_synchronize_fn *synchronize;

    reco_backend_buffer_alloc_fn *buffer_alloc;
    reco_backend_buffer_free_fn *buffer_free;
    /* Copies between host memory and a buffer; the host memory may be reused
     * as soon as the call returns. */
    reco_backend_buffer_upload_fn *buffer_upload;
    reco_backend_buffer_download_fn *buffer_download;
} reco_backend_device_ops;

/* The network's math, the optimizers and the sampler. Valid since ABI 2. */
typedef struct reco_backend_kernel_ops {
    /* Scratch memory and gradients for batches of up to max_rows rows. */
    reco_backend_workspace_create_fn *workspace_create;
    reco_backend_workspace_destroy_fn *workspace_destroy;

    /* Scores n (user, item) pairs given as host arrays into host scores. */
    reco_backend_forward_fn *forward;

    /* Optional (NULL: the core calls forward): scores each of n_users users
     * against every item, scores[u * items + i], host arrays, so that ranking
     * many users can be one matrix product. */
    reco_backend_score_items_fn *score_items;

    /* Forward, loss and backward of one batch: leaves the gradients in the
     * workspace and writes the batch loss (mean or sum) to *loss. With loss
     * NULL the batch loss is added to the workspace's running total instead
     * (read by take_loss), so that a device backend need not wait for it. */
    reco_backend_forward_backward_fn *forward_backward;

    /* Writes the running loss total of the workspace and resets it to 0. */
    reco_backend_take_loss_fn *take_loss;

    /* Writes the workspace's last gradients as one flat host vector: each
     * present table in reco_table order (rows x dim), then the dense vector. */
    reco_backend_gradient_download_fn *gradient_download;

    reco_backend_optimizer_create_fn *optimizer_create;
    reco_backend_optimizer_destroy_fn *optimizer_destroy;
    /* Applies the workspace's gradients: step is 1 on the first call. */
    reco_backend_optimizer_step_fn *optimizer_step;

    /* Optional (NULL: forward_backward, then optimizer_step): both in one
     * call, which lets a backend avoid a synchronization per batch: with a
     * NULL loss it may return before the step is done, as long as any later
     * call on the workspace (take_loss among them), and synchronize, see it
     * done. */
    reco_backend_train_step_fn *train_step;

    /* Optional (NULL: the core builds samples on the host and uploads them):
     * builds places [plan->first, plan->first + plan->count) of an epoch
     * where the backend computes, so that training data never crosses to
     * the host per epoch. Writes the samples the law of
     * backends/common/reco_sampling.h puts there, exactly, to places
     * [0, count) of the buffers. The core makes an epoch in windows of
     * about a million samples. */
    reco_backend_epoch_samples_fn *epoch_samples;

    /* Optional, both or neither (NULL: the backend cannot train data-
     * parallel): writes the workspace's last gradients (of forward_backward)
     * in sparse form, leaving `loss` alone; and replaces the workspace's
     * gradients with `gradient` (its rows and dense part), so that the next
     * optimizer_step applies it. */
    reco_backend_gradient_export_fn *gradient_export;
    reco_backend_gradient_import_fn *gradient_import;

    /* Optional (NULL: gradients are summed on the host, as above): sums the
     * workspace's gradients over the context's group (RECO_CONTROL_JOIN_GROUP)
     * where they are, each rank's multiplied by `scale` first, leaving the
     * sum for optimizer_step; *loss is this rank's batch loss on entry and
     * the sum of the scaled losses on return. */
    reco_backend_gradient_reduce_fn *gradient_reduce;

    /* Optional (NULL: the minibatch path), ABI 3, `workspace` since ABI 4:
     * an epoch of MF (biases or not) on explicit ratings with the squared
     * loss, batch size 1, and SGD without momentum or Adagrad: every row of
     * `data` steps its two factor rows (and biases) once, in an order of the
     * backend's own that depends only on the data, plan->seed, plan->epoch
     * and the thread count (libmf's: blocks of the rating matrix that share
     * no row, on several threads); the global bias may step less often.
     * `workspace` (from workspace_create) may keep what the backend derives
     * from the data, under data->generation. *loss is the sum of squared
     * errors. */
    reco_backend_mf_epoch_fn *mf_epoch;

    /* Optional (NULL: a row keeps its idle steps until it is next touched),
     * ABI 4: lazy mode replays, on every embedding row, the steps it sat
     * idle up to `step` (the last step taken; reco_idle_steps in
     * backends/common/reco_math.h), as optimizer_step does to a row before
     * its step, so that the tables are close to what dense steps give. The
     * trainer calls it as an epoch ends. */
    reco_backend_optimizer_settle_fn *optimizer_settle;
    /* Optional (NULL: the backend cannot train iALS; the trainer says so),
     * ABI 5: solves every row of `solved` (half->rows.n_rows x half->dim floats)
     * against `fixed` (half->rows.n_columns x half->dim), as reco_ials_half says.
     * Each row's result depends only on the data and the two tables, never
     * on the thread count. */
    reco_backend_ials_solve_fn *ials_solve;
    /* Optional (NULL: no EASE), ABI 5: EASE's closed form (Steck, WWW 2019).
     * `by_item` holds each item's users and `by_user` each user's items
     * (values unused: the data is binary);
     * `weights` (n x n floats, n = by_item->n_rows) receives
     * B = I - P diag(P)^-1 with P = (X'X + regularization I)^-1: B_ij =
     * -P_ij / P_jj, zero diagonal, row-major. RECO_ERR_INVALID_ARGUMENT when
     * X'X + regularization I is not positive definite. */
    reco_backend_ease_fit_fn *ease_fit;
    /* Optional (NULL: no item-kNN), ABI 5: for every item i (rows of
     * `by_item`, each item's users with their weights w_ui; `by_user` the
     * same weights by user), the k items j with the largest
     * s_ij = sum_u w_ui w_uj (i itself included; ties to the lower j) among
     * those that share a user with i: row i's are columns[i * k ...] and
     * values[i * k ...] (int32, float), sorted by column, and their number
     * counts[i] (size_t). */
    reco_backend_item_neighbours_fn *item_neighbours;
    /* Optional (NULL: the core scores blocks of users through score_items
     * or forward and keeps the top k on the host), ABI 6: ranks every item
     * for each of the request's users and keeps the best k, the items left
     * out skipped, for the dot-product networks (net->n_layers 0) and the
     * item-item kinds (request->history set); the core calls it for no
     * other network. It holds no more than a cache-sized block of scores a
     * thread, whatever the number of items. The result is the host path's,
     * ties included, save that an output sigmoid ranks by the logit (the
     * same order but where two logits round to one sigmoid float). */
    reco_backend_rank_items_fn *rank_items;
} reco_backend_kernel_ops;

/* A backend: its name and its two parts, set with designated initializers
 * (.device = {.create = ...}, .kernels = {...}). */
typedef struct reco_backend_ops {
    size_t struct_size;   /* sizeof(reco_backend_ops) */
    uint32_t abi_version; /* RECO_BACKEND_ABI_VERSION */
    const char *name;
    reco_backend_device_ops device;
    reco_backend_kernel_ops kernels;
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

/* For data-parallel modules (libreco-mpi): called once per global batch on
 * every rank with the gradient of this rank's share of the batch, already
 * scaled to its part of the batch's mean, and its loss likewise; points
 * *sum at their sum over the ranks (memory the module owns, valid until
 * its next call), which must come out bit for bit the same on every rank:
 * reco_sparse_gradient_sum of every rank's gradient in rank order does. */
typedef reco_status (*reco_gradient_exchange_fn)(const reco_sparse_gradient *local,
                                                 const reco_sparse_gradient **sum, void *user_data);

/* Allocates the buffers of a gradient of the shape (capacity, dim,
 * n_dense) set in *gradient, with no rows; RECO_ERR_OUT_OF_MEMORY leaves
 * none. reco_sparse_gradient_free releases them (and is a no-op on a
 * zeroed struct). */
RECO_API reco_status reco_sparse_gradient_alloc(reco_sparse_gradient *gradient);
RECO_API void reco_sparse_gradient_free(reco_sparse_gradient *gradient);

/* Sums `count` gradients of one shape into `out` (of that shape too, none
 * of the parts): rows in order of first appearance, part by part, and every
 * sum taken in part order, so that the same parts in the same order give
 * the same bytes anywhere. RECO_ERR_INVALID_ARGUMENT for parts of another
 * shape or a row out of range; RECO_ERR_OUT_OF_MEMORY. */
RECO_API reco_status reco_sparse_gradient_sum(const reco_sparse_gradient *const *parts,
                                              size_t count, reco_sparse_gradient *out);

/* For data-parallel modules, the solver families' exchange (iALS): rank r
 * has solved rows [row_starts[r], row_starts[r + 1]) of `table` (rows of
 * `dim` floats, row_starts has world + 1 entries); on return every rank's
 * table holds every rank's rows, and each of the n_sums doubles of `sums`
 * is its sum over the ranks, taken in rank order (the same on every rank). */
typedef reco_status (*reco_rows_exchange_fn)(float *table, size_t dim, const size_t *row_starts,
                                             double *sums, size_t n_sums, void *user_data);

/* Gives a data-parallel trainer (reco_trainer_set_data_parallel) the rows
 * exchange its solver families use: of each half of an iALS epoch, rank r
 * solves its share of the rows and `exchange` gathers them, so every rank
 * ends each half with the same table, the same bytes as one rank's. */
RECO_API reco_status reco_trainer_set_rows_exchange(reco_trainer *trainer,
                                                    reco_rows_exchange_fn exchange,
                                                    void *user_data);

/* Makes `trainer` rank `rank` of `world` ranks (1 of 1, alone, is the
 * default, and what a call with world 1 restores). Every rank makes the
 * same epochs; of each batch of batch_size samples rank r trains its equal
 * share of rows, `exchange` sums the gradients on the host, and every rank
 * takes the same optimizer step, so the ranks' models stay equal.
 * RECO_ERR_INVALID_ARGUMENT for rank >= world or, with world > 1, a NULL
 * exchange; RECO_ERR_BACKEND_UNAVAILABLE when the model's backend has no
 * gradient_export / gradient_import. */
RECO_API reco_status reco_trainer_set_data_parallel(reco_trainer *trainer, size_t rank,
                                                    size_t world,
                                                    reco_gradient_exchange_fn exchange,
                                                    void *user_data);

/* The same with the gradients summed by the backend on its devices, over
 * the group its context joined (RECO_CONTROL_JOIN_GROUP as `rank` of
 * `world`; world 1 works too: a group of one). RECO_ERR_BACKEND_UNAVAILABLE
 * when the backend has no gradient_reduce. reco_trainer_set_data_parallel
 * with world 1 makes the trainer train alone again. */
RECO_API reco_status reco_trainer_set_device_parallel(reco_trainer *trainer, size_t rank,
                                                      size_t world);

/* Sets or reads a knob of the backend that `trainer`'s model is on, through
 * its control entry (for data-parallel modules: RECO_CONTROL_GROUP_ID,
 * RECO_CONTROL_JOIN_GROUP). RECO_OK with *arg untouched for a knob the
 * backend does not have. */
RECO_API reco_status reco_trainer_backend_control(reco_trainer *trainer, reco_backend_control_op op,
                                                  void *arg);

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

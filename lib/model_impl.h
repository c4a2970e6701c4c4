/* Internal: the model structure, shared by the model and trainer code. */
#ifndef RECO_LIB_MODEL_IMPL_H
#define RECO_LIB_MODEL_IMPL_H

#include "backend_handle.h"
#include "id_map.h"
#include "item_item.h"
#include "scratch.h"
#include "reco/model.h"

struct reco_model {
    reco_model_kind kind;
    size_t n_users;
    size_t n_items;
    size_t factors;
    size_t layer_sizes[RECO_MAX_LAYERS + 1];
    size_t n_layer_sizes;
    int biases;
    reco_activation output;
    float dropout;
    float init_std;
    int xavier_embeddings;    /* tables U(+-sqrt(6 / (rows + columns))), not N(0, std) */
    /* iALS: the regularization and unobserved weight its rows were last
     * solved with (fold-in solves a new row with them; saved in the file) */
    float ials_regularization;
    float ials_unobserved_weight;
    reco_item_item item_item; /* EASE and item-kNN: what they score with */
    /* each user's training items and values (at most n_users rows; none
     * when offsets is NULL): the seen items recommend leaves out, and what
     * the item-item kinds score a user by */
    reco_sparse_rows history;
    reco_net_desc net;        /* valid once initialized */
    reco_net_params params;
    reco_backend *backend;    /* NULL until reco_model_init */
    reco_scratch *scratch;    /* workspaces of scoring calls, one per call */
    unsigned layout_version;  /* bumped when tables change shape (fold-in) */
    int has_vocabulary;
    reco_id_map user_ids;     /* index -> external id, and back */
    reco_id_map item_ids;
    char **metadata; /* key, value, key, value ... (n_metadata pairs) */
    size_t n_metadata;
};

/* Gives `to` a copy of from's vocabulary (none when it has none). */
reco_status reco_model_copy_vocabulary(reco_model *to, const reco_model *from);

/* RECO_ERR_INVALID_ARGUMENT naming the first difference when both models
 * have vocabularies and their ids differ. */
reco_status reco_model_compare_vocabularies(const reco_model *a, const reco_model *b,
                                            const char *a_name, const char *b_name);

/* Frees every metadata key and value. */
void reco_model_clear_metadata(reco_model *model);

/* Longest metadata key and value, in bytes. */
#define RECO_METADATA_KEY_MAX 255
#define RECO_METADATA_VALUE_MAX (16u << 20)

/* Fails with RECO_ERR_OUT_OF_RANGE unless every pair is inside the model. */
reco_status reco_model_check_pairs(const reco_model *model, const int32_t *users,
                                   const int32_t *items, size_t n);

/* Adds `extra` zero rows to every user table (for fold-in). */
reco_status reco_model_add_users(reco_model *model, size_t extra);

/* Forgets the last `count` user rows that reco_model_add_users added, so
 * that a fold-in that failed leaves the model as it found it (the tables
 * keep their allocation). */
void reco_model_drop_users(reco_model *model, size_t count);

/* Floats in one table of a network (0 for an absent table). */
static inline size_t reco_table_size(const reco_net_desc *net, int table)
{
    return net->table_rows[table] * net->table_dim[table];
}

/* Rows per forward call when predicting (the scratch workspaces' size). */
#define RECO_PREDICT_ROWS 4096

/* Uploads `count` parameters at `offset` of the flat vector (the layout of
 * reco_model_get_parameters), which must lie in one tensor: a few rows
 * without moving the whole model. */
reco_status reco_model_upload_range(reco_model *model, size_t offset, const float *values,
                                    size_t count);

/* Lays out the tables and the flat dense vector of the configured model
 * (what reco_model_init puts in model->net). */
void reco_model_describe(const reco_model *model, reco_net_desc *net);

/* reco_model_init with the given parameters (the flat layout of
 * reco_model_get_parameters) instead of random ones: the model loader's. */
reco_status reco_model_init_with(reco_model *model, reco_backend *backend, const float *values);

/* The model's seen items as per-user rows (a view: no rows when it keeps
 * none). */
static inline reco_user_rows reco_model_seen_rows(const reco_model *model)
{
    const reco_sparse_rows *history = &model->history;
    return (reco_user_rows){history->offsets ? history->n_rows : 0, history->offsets,
                            history->columns};
}

/* Makes `data`'s pairs (which fit the model) the model's seen items. */
reco_status reco_model_replace_seen(reco_model *model, const reco_dataset *data);

/* Fails with RECO_ERR_STATE unless the model is initialized. */
reco_status reco_model_check_ready(const reco_model *model);

#endif

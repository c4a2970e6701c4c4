/* Internal: the model structure, shared by the model and trainer code. */
#ifndef RECO_LIB_MODEL_IMPL_H
#define RECO_LIB_MODEL_IMPL_H

#include "backend_handle.h"
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
    reco_net_desc net;        /* valid once initialized */
    reco_net_params params;
    reco_backend *backend;    /* NULL until reco_model_init */
    void *predict_workspace;
};

/* Rows per forward call when predicting (the predict workspace's size). */
#define RECO_PREDICT_ROWS 4096

/* Fails with RECO_ERR_STATE unless the model is initialized. */
reco_status reco_model_check_ready(const reco_model *model);

#endif

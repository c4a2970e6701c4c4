/* Models: configuration, the network layout every kind maps to,
 * initialization, prediction and the flat parameter vector. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_impl.h"
#include "rng.h"
#include "reco_alloc.h"

#define MAX_WIDTH 4096

static int kind_has_gmf(reco_model_kind kind)
{
    return kind == RECO_MODEL_MF || kind == RECO_MODEL_GMF || kind == RECO_MODEL_NEUMF ||
           kind == RECO_MODEL_IALS;
}

/* MF and iALS score by the plain dot product: the head is fixed at ones. */
static int kind_is_dot_product(reco_model_kind kind)
{
    return kind == RECO_MODEL_MF || kind == RECO_MODEL_IALS;
}

static int kind_has_mlp(reco_model_kind kind)
{
    return kind == RECO_MODEL_MLP || kind == RECO_MODEL_NEUMF;
}

reco_status reco_model_new(reco_model_kind kind, size_t n_users, size_t n_items,
                           reco_model **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (kind < RECO_MODEL_MF || kind > RECO_MODEL_ITEM_KNN)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown model kind %d", (int)kind);
    if (n_users == 0 || n_items == 0 || n_users > INT32_MAX || n_items > INT32_MAX)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%zu users and %zu items: expected 1 to 2^31-1 of each", n_users,
                         n_items);
    reco_model *model = reco_calloc(1, sizeof *model);
    if (!model)
        return reco_fail_oom();
    static const size_t default_layers[] = {64, 32, 16, 8};
    model->kind = kind;
    model->n_users = n_users;
    model->n_items = n_items;
    model->factors = 8;
    memcpy(model->layer_sizes, default_layers, sizeof default_layers);
    model->n_layer_sizes = 4;
    model->output = RECO_ACTIVATION_IDENTITY;
    model->init_std = 0.01f;
    if (kind == RECO_MODEL_IALS) {
        /* Rendle et al. 2022's ml-1m settings at 64 factors */
        model->factors = 64;
        model->init_std = 0.1f;
        model->ials_regularization = 0.007f;
        model->ials_unobserved_weight = 0.3f;
    }
    model->item_item.k = 100;
    model->item_item.weighting = RECO_WEIGHTING_BM25;
    *out = model;
    return RECO_OK;
}

/* Frees the backend memory and drops the backend: uninitialized again. */
static void release_parameters(reco_model *model)
{
    if (!model->backend)
        return;
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (model->params.tables[t])
            ops->device.buffer_free(context, model->params.tables[t]);
    if (model->params.dense)
        ops->device.buffer_free(context, model->params.dense);
    if (model->scratch)
        reco_scratch_destroy(model->scratch);
    reco_free(model->scratch);
    reco_backend_free(model->backend);
    memset(&model->params, 0, sizeof model->params);
    model->scratch = NULL;
    model->backend = NULL;
}

void reco_model_free(reco_model *model)
{
    if (!model)
        return;
    release_parameters(model);
    reco_id_map_free(&model->user_ids);
    reco_id_map_free(&model->item_ids);
    reco_model_clear_metadata(model);
    reco_item_item_free(&model->item_item);
    reco_sparse_rows_free(&model->history);
    reco_free(model);
}

static reco_status check_configurable(const reco_model *model)
{
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    if (model->backend)
        return reco_fail(RECO_ERR_STATE, "the model is initialized: configure it before");
    return RECO_OK;
}

reco_status reco_model_set_factors(reco_model *model, size_t factors)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (factors < 1 || factors > MAX_WIDTH)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "factors %zu: expected 1 to %d", factors,
                         MAX_WIDTH);
    model->factors = factors;
    return RECO_OK;
}

reco_status reco_model_set_layers(reco_model *model, const size_t *sizes, size_t n_sizes)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (!sizes || n_sizes < 2 || n_sizes > RECO_MAX_LAYERS + 1)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%zu layer sizes: expected 2 to %d",
                         n_sizes, RECO_MAX_LAYERS + 1);
    if (sizes[0] % 2 != 0)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "first layer size %zu: expected an even width (user ++ item)", sizes[0]);
    for (size_t i = 0; i < n_sizes; i++)
        if (sizes[i] < 1 || sizes[i] > MAX_WIDTH)
            return reco_fail(RECO_ERR_INVALID_ARGUMENT, "layer size %zu: expected 1 to %d",
                             sizes[i], MAX_WIDTH);
    memcpy(model->layer_sizes, sizes, n_sizes * sizeof *sizes);
    model->n_layer_sizes = n_sizes;
    return RECO_OK;
}

reco_status reco_model_set_biases(reco_model *model, int enabled)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (enabled && model->kind != RECO_MODEL_MF)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "biases are an MF option");
    model->biases = enabled != 0;
    return RECO_OK;
}

reco_status reco_model_set_output(reco_model *model, reco_activation activation)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (activation < RECO_ACTIVATION_IDENTITY || activation > RECO_ACTIVATION_RELU)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown activation %d", (int)activation);
    if ((model->kind == RECO_MODEL_IALS || reco_kind_is_item_item(model->kind)) &&
        activation != RECO_ACTIVATION_IDENTITY)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%s scores are plain sums: its output is the identity",
                         reco_model_kind_name(model->kind));
    model->output = activation;
    return RECO_OK;
}

reco_status reco_model_set_dropout(reco_model *model, float probability)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (!(probability >= 0.0f && probability < 1.0f))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "dropout %g: expected [0, 1)",
                         (double)probability);
    model->dropout = probability;
    return RECO_OK;
}

reco_status reco_model_set_init_std(reco_model *model, float std)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (!(std > 0.0f && isfinite(std)))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "init std %g: expected > 0", (double)std);
    model->init_std = std;
    return RECO_OK;
}

reco_status reco_model_set_xavier_embeddings(reco_model *model, int enabled)
{
    reco_status status = check_configurable(model);
    if (status == RECO_OK)
        model->xavier_embeddings = enabled != 0;
    return status;
}

void reco_model_describe(const reco_model *model, reco_net_desc *net)
{
    *net = (reco_net_desc){0};
    size_t users = model->n_users, items = model->n_items;
    if (kind_has_gmf(model->kind)) {
        net->table_rows[RECO_TABLE_USER_GMF] = users;
        net->table_rows[RECO_TABLE_ITEM_GMF] = items;
        net->table_dim[RECO_TABLE_USER_GMF] = net->table_dim[RECO_TABLE_ITEM_GMF] = model->factors;
        net->head_in = model->factors;
    }
    size_t offset = 0;
    if (kind_has_mlp(model->kind)) {
        net->table_rows[RECO_TABLE_USER_MLP] = users;
        net->table_rows[RECO_TABLE_ITEM_MLP] = items;
        net->table_dim[RECO_TABLE_USER_MLP] = net->table_dim[RECO_TABLE_ITEM_MLP] =
            model->layer_sizes[0] / 2;
        net->n_layers = model->n_layer_sizes - 1;
        for (size_t l = 0; l < net->n_layers; l++) {
            net->layer_in[l] = model->layer_sizes[l];
            net->layer_out[l] = model->layer_sizes[l + 1];
            net->weight_offset[l] = offset;
            offset += net->layer_in[l] * net->layer_out[l];
            net->bias_offset[l] = offset;
            offset += net->layer_out[l];
        }
        net->head_in += net->layer_out[net->n_layers - 1];
    }
    if (model->kind == RECO_MODEL_MF && model->biases) {
        net->table_rows[RECO_TABLE_USER_BIAS] = users;
        net->table_rows[RECO_TABLE_ITEM_BIAS] = items;
        net->table_dim[RECO_TABLE_USER_BIAS] = net->table_dim[RECO_TABLE_ITEM_BIAS] = 1;
    }
    net->head_w_offset = offset;
    net->head_b_offset = offset + net->head_in;
    net->n_dense = offset + net->head_in + 1;
    net->train_head_weights = !kind_is_dot_product(model->kind);
    net->train_head_bias = !kind_is_dot_product(model->kind) || model->biases;
    net->output_activation = model->output;
    net->dropout = model->dropout;
}

size_t reco_model_parameter_count(const reco_model *model)
{
    if (!model)
        return 0;
    reco_net_desc net;
    reco_model_describe(model, &net);
    size_t count = net.n_dense;
    for (int t = 0; t < RECO_N_TABLES; t++)
        count += reco_table_size(&net, t);
    return count;
}

/* Fills a flat parameter vector with the initial values. */
static void initial_values(const reco_model *model, const reco_net_desc *net, uint64_t seed,
                           float *values)
{
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    float *p = values;
    /* Rendle et al.'s iALS draws N(0, sigma / sqrt(d)): scores of the same
     * scale at every dimension */
    double std = model->kind == RECO_MODEL_IALS ? model->init_std / sqrt((double)model->factors)
                                                 : model->init_std;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        int is_bias = t == RECO_TABLE_USER_BIAS || t == RECO_TABLE_ITEM_BIAS;
        double bound = sqrt(6.0 / (double)(net->table_rows[t] + net->table_dim[t]));
        for (size_t i = 0; i < reco_table_size(net, t); i++)
            *p++ = is_bias ? 0.0f
                   : model->xavier_embeddings
                       ? (float)(bound * (2.0 * reco_rng_uniform(&rng) - 1.0))
                       : (float)(std * reco_rng_normal(&rng));
    }
    float *dense = p;
    memset(dense, 0, net->n_dense * sizeof *dense);
    for (size_t l = 0; l < net->n_layers; l++) {
        double bound = sqrt(6.0 / (double)(net->layer_in[l] + net->layer_out[l]));
        for (size_t i = 0; i < net->layer_in[l] * net->layer_out[l]; i++)
            dense[net->weight_offset[l] + i] =
                (float)(bound * (2.0 * reco_rng_uniform(&rng) - 1.0));
    }
    double head_bound = sqrt(6.0 / (double)(net->head_in + 1));
    for (size_t i = 0; i < net->head_in; i++)
        dense[net->head_w_offset + i] =
            kind_is_dot_product(model->kind) ? 1.0f
                                         : (float)(head_bound * (2.0 * reco_rng_uniform(&rng) - 1.0));
}

static reco_status transfer(reco_model *model, float *values, int upload)
{
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    float *p = values;
    reco_status status = RECO_OK;
    for (int t = 0; t < RECO_N_TABLES && status == RECO_OK; t++) {
        size_t bytes = reco_table_size(&model->net, t) * sizeof(float);
        if (!bytes)
            continue;
        status = upload
                     ? ops->device.buffer_upload(context, model->params.tables[t], 0, p, bytes)
                     : ops->device.buffer_download(context, model->params.tables[t], 0, p, bytes);
        p += bytes / sizeof(float);
    }
    if (status == RECO_OK)
        status = upload ? ops->device.buffer_upload(context, model->params.dense, 0, p,
                                                    model->net.n_dense * sizeof(float))
                        : ops->device.buffer_download(context, model->params.dense, 0, p,
                                                      model->net.n_dense * sizeof(float));
    return status;
}

static reco_status allocate(reco_model *model)
{
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t bytes = reco_table_size(&model->net, t) * sizeof(float);
        if (bytes) {
            reco_status status = ops->device.buffer_alloc(context, bytes, &model->params.tables[t]);
            if (status != RECO_OK)
                return status;
        }
    }
    reco_status status =
        ops->device.buffer_alloc(context, model->net.n_dense * sizeof(float), &model->params.dense);
    if (status != RECO_OK)
        return status;
    if (!(model->scratch = reco_malloc(sizeof *model->scratch)))
        return reco_fail_oom();
    reco_scratch_init(model->scratch, model->backend, &model->net, RECO_PREDICT_ROWS);
    /* one workspace now, so that a model that initializes can score */
    reco_backend_workspace *workspace = NULL;
    status = reco_scratch_take(model->scratch, &workspace);
    reco_scratch_give(model->scratch, workspace);
    return status;
}

/* Puts the model's parameters on the backend: `values`, or the seed's
 * initial values when values is NULL. */
static reco_status place(reco_model *model, reco_backend *backend, uint64_t seed,
                         const float *values)
{
    reco_status status = check_configurable(model);
    if (status != RECO_OK)
        return status;
    if (!backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL backend");
    float *initial = NULL;
    if (!values) {
        initial = reco_malloc(reco_model_parameter_count(model) * sizeof *initial);
        if (!initial)
            return reco_fail_oom();
    }
    reco_model_describe(model, &model->net);
    reco_backend_retain(backend);
    model->backend = backend;
    status = allocate(model);
    if (status == RECO_OK && initial)
        initial_values(model, &model->net, seed, initial);
    if (status == RECO_OK)
        status = transfer(model, initial ? initial : (float *)values, 1);
    reco_free(initial);
    if (status != RECO_OK)
        release_parameters(model); /* uninitialized again: the caller may retry */
    return status;
}

reco_status reco_model_init(reco_model *model, reco_backend *backend, uint64_t seed)
{
    return place(model, backend, seed, NULL);
}

reco_status reco_model_init_with(reco_model *model, reco_backend *backend, const float *values)
{
    return place(model, backend, 0, values);
}

reco_status reco_model_check_ready(const reco_model *model)
{
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    if (!model->backend)
        return reco_fail(RECO_ERR_STATE, "the model is not initialized (reco_model_init)");
    return RECO_OK;
}

reco_status reco_model_check_pairs(const reco_model *model, const int32_t *users,
                                   const int32_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (users[i] < 0 || (size_t)users[i] >= model->n_users || items[i] < 0 ||
            (size_t)items[i] >= model->n_items)
            return reco_fail(RECO_ERR_OUT_OF_RANGE,
                             "pair %zu: user %d, item %d outside the model's %zu x %zu", i,
                             (int)users[i], (int)items[i], model->n_users, model->n_items);
    return RECO_OK;
}

reco_status reco_model_add_users(reco_model *model, size_t extra)
{
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    static const int user_tables[] = {RECO_TABLE_USER_GMF, RECO_TABLE_USER_MLP,
                                      RECO_TABLE_USER_BIAS};
    reco_backend_buffer *grown[3] = {NULL, NULL, NULL};
    float *host = NULL;
    reco_status status = RECO_OK;
    for (int u = 0; u < 3 && status == RECO_OK; u++) {
        int t = user_tables[u];
        size_t dim = model->net.table_dim[t];
        if (!dim)
            continue;
        size_t old_bytes = model->net.table_rows[t] * dim * sizeof(float);
        size_t new_bytes = (model->net.table_rows[t] + extra) * dim * sizeof(float);
        float *staged = reco_realloc(host, new_bytes);
        if (!staged) {
            status = reco_fail_oom();
            break;
        }
        host = staged;
        memset(host, 0, new_bytes);
        status = ops->device.buffer_download(context, model->params.tables[t], 0, host, old_bytes);
        if (status == RECO_OK)
            status = ops->device.buffer_alloc(context, new_bytes, &grown[u]);
        if (status == RECO_OK)
            status = ops->device.buffer_upload(context, grown[u], 0, host, new_bytes);
    }
    reco_free(host);
    if (status != RECO_OK) {
        for (int u = 0; u < 3; u++)
            if (grown[u])
                ops->device.buffer_free(context, grown[u]);
        return status;
    }
    for (int u = 0; u < 3; u++) {
        int t = user_tables[u];
        if (!grown[u])
            continue;
        ops->device.buffer_free(context, model->params.tables[t]);
        model->params.tables[t] = grown[u];
        model->net.table_rows[t] += extra;
    }
    model->n_users += extra;
    model->layout_version++;
    reco_scratch_empty(model->scratch); /* made for the old shape */
    return RECO_OK;
}

void reco_model_drop_users(reco_model *model, size_t count)
{
    static const int user_tables[] = {RECO_TABLE_USER_GMF, RECO_TABLE_USER_MLP,
                                      RECO_TABLE_USER_BIAS};
    for (int u = 0; u < 3; u++)
        if (model->net.table_dim[user_tables[u]])
            model->net.table_rows[user_tables[u]] -= count;
    model->n_users -= count;
    if (model->history.n_rows > model->n_users)
        model->history.n_rows = model->n_users; /* offsets past it stay, unread */
    model->layout_version++;
    reco_scratch_empty(model->scratch);
}

const char *reco_model_kind_name(reco_model_kind kind)
{
    static const char *const names[] = {"mf", "gmf", "mlp", "neumf", "ials", "ease", "itemknn"};
    return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : NULL;
}

reco_model_kind reco_model_kind_of(const reco_model *model)
{
    return model ? model->kind : RECO_MODEL_MF;
}

size_t reco_model_n_users(const reco_model *model)
{
    return model ? model->n_users : 0;
}

size_t reco_model_n_items(const reco_model *model)
{
    return model ? model->n_items : 0;
}

reco_status reco_model_get_parameters(const reco_model *model, float *parameters)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (!parameters)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL parameters");
    return transfer((reco_model *)model, parameters, 0);
}

reco_status reco_model_set_parameters(reco_model *model, const float *parameters)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (!parameters)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL parameters");
    return transfer(model, (float *)parameters, 1);
}

reco_status reco_model_upload_range(reco_model *model, size_t offset, const float *values,
                                    size_t count)
{
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    size_t begin = 0;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t size = reco_table_size(&model->net, t);
        if (offset >= begin && offset + count <= begin + size)
            return ops->device.buffer_upload(context, model->params.tables[t],
                                             (offset - begin) * sizeof(float), values,
                                             count * sizeof(float));
        begin += size;
    }
    if (offset >= begin && offset + count <= begin + model->net.n_dense)
        return ops->device.buffer_upload(context, model->params.dense,
                                         (offset - begin) * sizeof(float), values,
                                         count * sizeof(float));
    return reco_fail(RECO_ERR_OUT_OF_RANGE, "parameters %zu..%zu span two tensors", offset,
                     offset + count);
}

reco_status reco_model_predict(const reco_model *model, const int32_t *users, const int32_t *items,
                               size_t n, float *scores)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (n > 0 && (!users || !items || !scores))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL users, items or scores");
    status = reco_model_check_pairs(model, users, items, n);
    if (status != RECO_OK)
        return status;
    if (reco_kind_is_item_item(model->kind))
        return reco_item_item_predict(model, users, items, n, scores);
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_workspace *workspace = NULL;
    status = reco_scratch_take(model->scratch, &workspace);
    for (size_t done = 0; done < n && status == RECO_OK; done += RECO_PREDICT_ROWS) {
        size_t rows = n - done < RECO_PREDICT_ROWS ? n - done : RECO_PREDICT_ROWS;
        status = ops->kernels.forward(model->backend->context, &model->net, &model->params,
                                      workspace, users + done, items + done, rows, scores + done);
    }
    reco_scratch_give(model->scratch, workspace);
    return status;
}

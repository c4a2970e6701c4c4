/* The model file's schema: see docs/model-format.md for the byte layout.
 * Written in memory as checksummed sections (sections.c), then replaced
 * atomically (atomic_file.c); read whole (input.c) and verified (magic,
 * version, byte order, checksums, sizes against the bytes present, shapes,
 * finite weights) before any model is built. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "input.h"
#include "model_impl.h"
#include "reco_alloc.h"
#include "sections.h"

#define MODEL_MAGIC "RECOMODL"
#define MODEL_FORMAT_VERSION 1u
#define BYTE_ORDER_MARK 0x01020304u

enum {
    SECTION_END = 0,
    SECTION_MODEL = 1,
    SECTION_USER_IDS = 2,
    SECTION_ITEM_IDS = 3,
    SECTION_TENSOR = 4,
    SECTION_USER_TEXTS = 5,
    SECTION_ITEM_TEXTS = 6,
    SECTION_METADATA = 7,
    SECTION_SPARSE = 8,      /* every kind's history (seen items), item-kNN's neighbours */
    SECTION_ITEM_WEIGHTS = 9 /* EASE's B */
};

/* The sparse sections' names. */
#define SPARSE_HISTORY "history"
#define SPARSE_NEIGHBOURS "neighbours"

static const char *const table_names[RECO_N_TABLES] = {
    "user_gmf", "item_gmf", "user_mlp", "item_mlp", "user_bias", "item_bias"};

/* The text ids of a side, which its id section refers to as -1 - number. */
static void put_texts(reco_writer *w, uint32_t tag, const reco_id_map *ids)
{
    if (ids->n_texts == 0)
        return;
    size_t start = reco_begin_section(w, tag);
    reco_put_u64(w, ids->n_texts);
    for (size_t t = 0; t < ids->n_texts; t++) {
        const char *text = reco_id_map_text_of_key(ids, -1 - (int64_t)t);
        reco_put_u32(w, (uint32_t)strlen(text));
        reco_put_bytes(w, text, strlen(text));
    }
    reco_end_section(w, start);
}

static void put_ids(reco_writer *w, uint32_t tag, const reco_id_map *ids)
{
    size_t start = reco_begin_section(w, tag);
    reco_put_u64(w, ids->count);
    for (size_t i = 0; i < ids->count; i++)
        reco_put_u64(w, (uint64_t)ids->ids[i]);
    reco_end_section(w, start);
}

static void put_metadata(reco_writer *w, const reco_model *model)
{
    if (model->n_metadata == 0)
        return;
    size_t start = reco_begin_section(w, SECTION_METADATA);
    reco_put_u64(w, model->n_metadata);
    for (size_t i = 0; i < model->n_metadata; i++) {
        const char *key = model->metadata[2 * i], *value = model->metadata[2 * i + 1];
        reco_put_u32(w, (uint32_t)strlen(key));
        reco_put_bytes(w, key, strlen(key));
        reco_put_u64(w, strlen(value));
        reco_put_bytes(w, value, strlen(value));
    }
    reco_end_section(w, start);
}

static void put_tensor(reco_writer *w, const char *name, size_t rows, size_t columns,
                       const float *values)
{
    size_t start = reco_begin_section(w, SECTION_TENSOR);
    reco_put_u32(w, (uint32_t)strlen(name));
    reco_put_bytes(w, name, strlen(name));
    reco_put_u32(w, 2);
    reco_put_u64(w, rows);
    reco_put_u64(w, columns);
    for (size_t i = 0; i < rows * columns; i++)
        reco_put_f32(w, values[i]);
    reco_end_section(w, start);
}

static void put_sparse(reco_writer *w, const char *name, const reco_sparse_rows *rows)
{
    if (!rows->offsets)
        return;
    size_t entries = rows->offsets[rows->n_rows];
    size_t start = reco_begin_section(w, SECTION_SPARSE);
    reco_put_u32(w, (uint32_t)strlen(name));
    reco_put_bytes(w, name, strlen(name));
    reco_put_u64(w, rows->n_rows);
    reco_put_u64(w, rows->n_columns);
    reco_put_u64(w, entries);
    for (size_t r = 0; r <= rows->n_rows; r++)
        reco_put_u64(w, rows->offsets[r]);
    for (size_t e = 0; e < entries; e++)
        reco_put_u32(w, (uint32_t)rows->columns[e]);
    for (size_t e = 0; e < entries; e++)
        reco_put_f32(w, rows->values[e]);
    reco_end_section(w, start);
}

/* The history (any kind), and EASE's B or item-kNN's neighbours. */
static void put_history_and_weights(reco_writer *w, const reco_model *model)
{
    const reco_item_item *item_item = &model->item_item;
    put_sparse(w, SPARSE_HISTORY, &model->history);
    put_sparse(w, SPARSE_NEIGHBOURS, &item_item->neighbours);
    if (!item_item->weights)
        return;
    size_t start = reco_begin_section(w, SECTION_ITEM_WEIGHTS);
    reco_put_u64(w, model->n_items);
    for (size_t i = 0; i < model->n_items * model->n_items; i++)
        reco_put_f32(w, item_item->weights[i]);
    reco_end_section(w, start);
}

static void put_model(reco_writer *w, const reco_model *model, const float *params)
{
    reco_put_header(w, MODEL_MAGIC, MODEL_FORMAT_VERSION);
    size_t start = reco_begin_section(w, SECTION_MODEL);
    reco_put_u32(w, (uint32_t)model->kind);
    reco_put_u64(w, model->n_users);
    reco_put_u64(w, model->n_items);
    reco_put_u64(w, model->factors);
    reco_put_u32(w, (uint32_t)model->n_layer_sizes);
    for (size_t i = 0; i < model->n_layer_sizes; i++)
        reco_put_u64(w, model->layer_sizes[i]);
    reco_put_u32(w, (uint32_t)model->biases);
    reco_put_u32(w, (uint32_t)model->output);
    reco_put_f32(w, model->dropout);
    reco_put_f32(w, model->init_std);
    if (model->kind == RECO_MODEL_IALS) {
        reco_put_f32(w, model->ials_regularization);
        reco_put_f32(w, model->ials_unobserved_weight);
    }
    if (model->kind == RECO_MODEL_ITEM_KNN) {
        reco_put_u64(w, model->item_item.k);
        reco_put_u32(w, (uint32_t)model->item_item.weighting);
    }
    reco_end_section(w, start);
    if (model->has_vocabulary) {
        put_texts(w, SECTION_USER_TEXTS, &model->user_ids);
        put_ids(w, SECTION_USER_IDS, &model->user_ids);
        put_texts(w, SECTION_ITEM_TEXTS, &model->item_ids);
        put_ids(w, SECTION_ITEM_IDS, &model->item_ids);
    }
    put_metadata(w, model);
    put_history_and_weights(w, model);
    const reco_net_desc *net = &model->net;
    const float *p = params;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (!net->table_dim[t])
            continue;
        put_tensor(w, table_names[t], net->table_rows[t], net->table_dim[t], p);
        p += net->table_rows[t] * net->table_dim[t];
    }
    char name[48];
    for (size_t l = 0; l < net->n_layers; l++) {
        snprintf(name, sizeof name, "layer%zu.weight", l);
        put_tensor(w, name, net->layer_out[l], net->layer_in[l], p + net->weight_offset[l]);
        snprintf(name, sizeof name, "layer%zu.bias", l);
        put_tensor(w, name, 1, net->layer_out[l], p + net->bias_offset[l]);
    }
    /* the item-item kinds have no head weights: no empty tensor for them */
    if (net->head_in)
        put_tensor(w, "head.weight", 1, net->head_in, p + net->head_w_offset);
    put_tensor(w, "head.bias", 1, 1, p + net->head_b_offset);
    reco_end_section(w, reco_begin_section(w, SECTION_END));
}

/* The file's bytes in w; the one encoder of both the file and the buffer. */
static reco_status encode(const reco_model *model, reco_writer *w)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    float *params = reco_malloc_array(reco_model_parameter_count(model), sizeof *params);
    if (!params)
        return reco_fail_oom();
    status = reco_model_get_parameters(model, params);
    if (status == RECO_OK) {
        put_model(w, model, params);
        if (w->failed)
            status = reco_fail_oom();
    }
    reco_free(params);
    return status;
}

reco_status reco_model_save(const reco_model *model, const char *path)
{
    if (model && !path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL path");
    reco_writer w = {0};
    reco_status status = encode(model, &w);
    if (status == RECO_OK)
        status = reco_write_atomically(path, w.data, w.size);
    reco_free(w.data);
    return status;
}

reco_status reco_model_save_buffer(const reco_model *model, void **bytes, size_t *size)
{
    if (!bytes || !size)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *bytes = NULL;
    *size = 0;
    reco_writer w = {0};
    reco_status status = encode(model, &w);
    if (status != RECO_OK) {
        reco_free(w.data);
        return status;
    }
    *bytes = w.data;
    *size = w.size;
    return RECO_OK;
}

static reco_status read_config(reco_reader *r, reco_model **out)
{
    size_t end;
    if (reco_open_section(r, &end) != SECTION_MODEL)
        return reco_format_error(r, "expected the model section");
    uint32_t kind = reco_get_u32(r, "truncated model section");
    uint64_t n_users = reco_get_u64(r, "truncated model section");
    uint64_t n_items = reco_get_u64(r, "truncated model section");
    uint64_t factors = reco_get_u64(r, "truncated model section");
    uint32_t n_sizes = reco_get_u32(r, "truncated model section");
    size_t sizes[RECO_MAX_LAYERS + 1];
    if (r->status == RECO_OK && n_sizes > RECO_MAX_LAYERS + 1)
        return reco_format_error(r, "too many layer sizes");
    for (uint32_t i = 0; i < n_sizes; i++)
        sizes[i] = (size_t)reco_get_u64(r, "truncated model section");
    uint32_t biases = reco_get_u32(r, "truncated model section");
    uint32_t output = reco_get_u32(r, "truncated model section");
    float dropout = reco_get_f32(r, "truncated model section");
    float init_std = reco_get_f32(r, "truncated model section");
    float ials_settings[2] = {0.0f, 0.0f};
    if (kind == RECO_MODEL_IALS)
        for (int i = 0; i < 2; i++)
            ials_settings[i] = reco_get_f32(r, "truncated model section");
    uint64_t neighbours = 100;
    uint32_t weighting = RECO_WEIGHTING_BM25;
    if (kind == RECO_MODEL_ITEM_KNN) {
        neighbours = reco_get_u64(r, "truncated model section");
        weighting = reco_get_u32(r, "truncated model section");
    }
    reco_close_section(r, end);
    if (r->status == RECO_OK && (neighbours < 1 || neighbours > 100000 ||
                                 weighting > RECO_WEIGHTING_BM25))
        return reco_format_error(r, "invalid item-kNN settings");
    if (r->status == RECO_OK &&
        !(ials_settings[0] >= 0.0f && ials_settings[1] >= 0.0f &&
          ials_settings[0] + ials_settings[1] < INFINITY))
        return reco_format_error(r, "invalid iALS settings");
    if (r->status != RECO_OK)
        return r->status;
    reco_model *model = NULL;
    reco_status status = reco_model_new((reco_model_kind)kind, (size_t)n_users, (size_t)n_items,
                                        &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, (size_t)factors);
    if (status == RECO_OK)
        status = reco_model_set_layers(model, sizes, n_sizes);
    if (status == RECO_OK)
        status = reco_model_set_biases(model, (int)biases);
    if (status == RECO_OK)
        status = reco_model_set_output(model, (reco_activation)output);
    if (status == RECO_OK)
        status = reco_model_set_dropout(model, dropout);
    if (status == RECO_OK)
        status = reco_model_set_init_std(model, init_std);
    if (status == RECO_OK && kind == RECO_MODEL_IALS) {
        model->ials_regularization = ials_settings[0];
        model->ials_unobserved_weight = ials_settings[1];
    }
    if (status == RECO_OK && kind == RECO_MODEL_ITEM_KNN) {
        model->item_item.k = (size_t)neighbours;
        model->item_item.weighting = (reco_weighting)weighting;
    }
    if (status != RECO_OK) {
        reco_model_free(model);
        /* a refused setting is the file's fault; no memory is not */
        r->status = status == RECO_ERR_OUT_OF_MEMORY
                        ? status
                        : reco_fail(RECO_ERR_FORMAT, "%s: invalid model settings: %s", r->path,
                                    reco_last_error());
        return r->status;
    }
    *out = model;
    return RECO_OK;
}

static void read_ids(reco_reader *r, size_t end, size_t limit, reco_id_map *ids)
{
    uint64_t count = reco_get_u64(r, "truncated vocabulary");
    if (r->status == RECO_OK && (count > limit || count * 8 != end - r->position)) {
        reco_format_error(r, "vocabulary size disagrees with the model");
        return;
    }
    for (uint64_t i = 0; i < count && r->status == RECO_OK; i++) {
        int64_t id = (int64_t)reco_get_u64(r, "truncated vocabulary");
        if (r->status == RECO_OK && id < 0 && !reco_id_map_text_of_key(ids, id)) {
            r->position -= 8;
            reco_format_error(r, "a negative id that names no text id");
            return;
        }
        int32_t index;
        reco_status inserted = reco_id_map_insert(ids, id, &index);
        if (inserted != RECO_OK)
            r->status = inserted;
        else if ((uint64_t)index != i)
            reco_format_error(r, "repeated id in the vocabulary");
    }
}

/* Copies `length` bytes of text that must hold no NUL into a string in
 * `buffer`; NULL after a format error. */
static char *take_text(reco_reader *r, size_t length, char *buffer, const char *what)
{
    const uint8_t *bytes = reco_take(r, length, what);
    if (!bytes)
        return NULL;
    if (memchr(bytes, '\0', length)) {
        reco_format_error(r, "metadata holds a NUL byte");
        return NULL;
    }
    memcpy(buffer, bytes, length);
    buffer[length] = '\0';
    return buffer;
}

/* Metadata: keys of 1 to 255 bytes, values of at most 16 MiB, no NUL, no
 * key twice. */
static void read_metadata(reco_reader *r, size_t end, reco_model *model)
{
    uint64_t count = reco_get_u64(r, "truncated metadata");
    /* each entry takes at least 13 bytes */
    if (r->status == RECO_OK && count > (end - r->position) / 13) {
        reco_format_error(r, "more metadata entries than the section holds");
        return;
    }
    char key[RECO_METADATA_KEY_MAX + 1];
    for (uint64_t i = 0; i < count && r->status == RECO_OK; i++) {
        uint32_t key_length = reco_get_u32(r, "truncated metadata");
        if (r->status == RECO_OK && (key_length == 0 || key_length > RECO_METADATA_KEY_MAX)) {
            reco_format_error(r, "a metadata key of a bad length");
            return;
        }
        if (!take_text(r, key_length, key, "truncated metadata key"))
            return;
        uint64_t value_length = reco_get_u64(r, "truncated metadata");
        if (r->status == RECO_OK &&
            (value_length > RECO_METADATA_VALUE_MAX || value_length > end - r->position)) {
            reco_format_error(r, "a metadata value longer than its section or 16 MiB");
            return;
        }
        if (r->status != RECO_OK)
            return;
        if (reco_model_metadata(model, key)) {
            reco_format_error(r, "a metadata key appears twice");
            return;
        }
        char *value = reco_malloc((size_t)value_length + 1);
        if (!value) {
            r->status = reco_fail_oom();
            return;
        }
        reco_status status = RECO_OK;
        if (take_text(r, (size_t)value_length, value, "truncated metadata value"))
            status = reco_model_set_metadata(model, key, value);
        reco_free(value);
        if (status != RECO_OK)
            r->status = status;
    }
}

/* Text ids: each 1 to 255 bytes, no NUL, not a canonical integer (which
 * would be an integer id), none twice. */
static void read_texts(reco_reader *r, size_t end, reco_id_map *ids)
{
    uint64_t count = reco_get_u64(r, "truncated text ids");
    /* each text takes at least 5 bytes */
    if (r->status == RECO_OK && count > (end - r->position) / 5) {
        reco_format_error(r, "more text ids than the section holds");
        return;
    }
    for (uint64_t t = 0; t < count && r->status == RECO_OK; t++) {
        size_t at = r->position;
        uint32_t length = reco_get_u32(r, "truncated text ids");
        const char *text = (const char *)reco_take(r, length, "truncated text id");
        int64_t key = 0;
        reco_status status = RECO_OK;
        if (r->status != RECO_OK)
            return;
        if (reco_id_map_intern(ids, text, text + length, &key, &status) != 0 ||
            (uint64_t)(-1 - key) != t) {
            r->position = at;
            reco_format_error(r, "a text id that is empty, too long, a number or repeated");
            return;
        }
        if (status != RECO_OK)
            r->status = status;
    }
}

/* A sparse section: its rows bounded by
 * `max_rows` (and equal to it when `exact`), columns the model's items,
 * offsets from 0 rising to the entries, each row's columns rising. Sizes are
 * checked against the section's bytes before anything is allocated. */
static void read_sparse_rows(reco_reader *r, size_t end, size_t max_rows, int exact,
                             size_t n_columns, reco_sparse_rows *rows)
{
    uint64_t n_rows = reco_get_u64(r, "truncated sparse section");
    uint64_t columns = reco_get_u64(r, "truncated sparse section");
    uint64_t entries = reco_get_u64(r, "truncated sparse section");
    if (r->status != RECO_OK)
        return;
    uint64_t room = end - r->position;
    if (n_rows > max_rows || (exact && n_rows != max_rows) || columns != n_columns ||
        n_rows >= room / 8 || entries > room / 8 || (n_rows + 1) * 8 + entries * 8 != room) {
        reco_format_error(r, "a sparse section's sizes do not fit the model or the section");
        return;
    }
    reco_sparse_rows made = {.n_rows = (size_t)n_rows, .n_columns = n_columns};
    made.offsets = reco_malloc_array((size_t)n_rows + 1, sizeof *made.offsets);
    made.columns = reco_malloc_array(entries ? (size_t)entries : 1, sizeof *made.columns);
    made.values = reco_malloc_array(entries ? (size_t)entries : 1, sizeof *made.values);
    if (!made.offsets || !made.columns || !made.values) {
        reco_sparse_rows_free(&made);
        r->status = reco_fail_oom();
        return;
    }
    for (size_t i = 0; i <= made.n_rows && r->status == RECO_OK; i++) {
        uint64_t offset = reco_get_u64(r, "truncated sparse offsets");
        if (r->status == RECO_OK && ((i == 0 && offset != 0) || offset > entries ||
                                     (i > 0 && offset < made.offsets[i - 1]) ||
                                     (i == made.n_rows && offset != entries)))
            reco_format_error(r, "sparse offsets that do not rise from 0 to the entries");
        made.offsets[i] = (size_t)offset;
    }
    for (size_t row = 0; row < made.n_rows && r->status == RECO_OK; row++)
        for (size_t e = made.offsets[row]; e < made.offsets[row + 1] && r->status == RECO_OK; e++) {
            uint32_t column = reco_get_u32(r, "truncated sparse columns");
            if (r->status == RECO_OK &&
                (column >= n_columns || (e > made.offsets[row] && (int32_t)column <= made.columns[e - 1])))
                reco_format_error(r, "a sparse row's columns outside the items or not rising");
            made.columns[e] = (int32_t)column;
        }
    for (size_t e = 0; e < entries && r->status == RECO_OK; e++) {
        made.values[e] = reco_get_f32(r, "truncated sparse values");
        if (r->status == RECO_OK && !isfinite(made.values[e]))
            reco_format_error(r, "a sparse value that is not a finite number");
    }
    if (r->status != RECO_OK) {
        reco_sparse_rows_free(&made);
        return;
    }
    reco_sparse_rows_free(rows);
    *rows = made;
}

/* A named sparse section, once each: any model's history, item-kNN's
 * neighbours. */
static void read_sparse(reco_reader *r, size_t end, reco_model *model)
{
    uint32_t name_length = reco_get_u32(r, "truncated sparse section");
    const char *name = (const char *)reco_take(r, name_length, "truncated sparse section name");
    if (r->status != RECO_OK)
        return;
    reco_item_item *item_item = &model->item_item;
    int history = name_length == strlen(SPARSE_HISTORY) &&
                  memcmp(name, SPARSE_HISTORY, name_length) == 0;
    int neighbours = name_length == strlen(SPARSE_NEIGHBOURS) &&
                     memcmp(name, SPARSE_NEIGHBOURS, name_length) == 0;
    if ((!history && !neighbours) || (neighbours && model->kind != RECO_MODEL_ITEM_KNN) ||
        (history ? model->history.offsets : item_item->neighbours.offsets)) {
        reco_format_error(r, "a sparse section the model does not have, or twice");
        return;
    }
    if (history)
        read_sparse_rows(r, end, model->n_users, 0, model->n_items, &model->history);
    else
        read_sparse_rows(r, end, model->n_items, 1, model->n_items, &item_item->neighbours);
}

/* EASE's B: items x items finite floats, once. */
static void read_item_weights(reco_reader *r, size_t end, reco_model *model)
{
    uint64_t n = reco_get_u64(r, "truncated item weights");
    if (r->status != RECO_OK)
        return;
    size_t n_items = model->n_items;
    if (model->kind != RECO_MODEL_EASE || model->item_item.weights || n != n_items ||
        n_items > (end - r->position) / 4 / (n_items ? n_items : 1) ||
        n_items * n_items * 4 != end - r->position) {
        reco_format_error(r, "item weights the model does not have, of another size, or twice");
        return;
    }
    float *weights = reco_malloc_array(n_items ? n_items * n_items : 1, sizeof *weights);
    if (!weights) {
        r->status = reco_fail_oom();
        return;
    }
    for (size_t i = 0; i < n_items * n_items && r->status == RECO_OK; i++) {
        weights[i] = reco_get_f32(r, "truncated item weights");
        if (r->status == RECO_OK && !isfinite(weights[i]))
            reco_format_error(r, "an item weight that is not a finite number");
    }
    if (r->status != RECO_OK) {
        reco_free(weights);
        return;
    }
    model->item_item.weights = weights;
}

/* Where a named tensor goes in the flat parameter vector, and its shape. */
static int tensor_place(const reco_net_desc *net, const char *name, size_t *offset, size_t *rows,
                        size_t *columns)
{
    size_t tables = 0;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        if (net->table_dim[t] && strcmp(name, table_names[t]) == 0) {
            *offset = tables;
            *rows = net->table_rows[t];
            *columns = net->table_dim[t];
            return 1;
        }
        tables += net->table_rows[t] * net->table_dim[t];
    }
    char expected[48];
    for (size_t l = 0; l < net->n_layers; l++) {
        snprintf(expected, sizeof expected, "layer%zu.weight", l);
        if (strcmp(name, expected) == 0) {
            *offset = tables + net->weight_offset[l];
            *rows = net->layer_out[l];
            *columns = net->layer_in[l];
            return 1;
        }
        snprintf(expected, sizeof expected, "layer%zu.bias", l);
        if (strcmp(name, expected) == 0) {
            *offset = tables + net->bias_offset[l];
            *rows = 1;
            *columns = net->layer_out[l];
            return 1;
        }
    }
    if (strcmp(name, "head.weight") == 0 || strcmp(name, "head.bias") == 0) {
        int weight = name[5] == 'w';
        *offset = tables + (weight ? net->head_w_offset : net->head_b_offset);
        *rows = 1;
        *columns = weight ? net->head_in : 1;
        return 1;
    }
    return 0;
}

/* Reads one tensor into place; counts it in *n_read. */
static void read_tensor(reco_reader *r, const reco_net_desc *net, float *params, uint8_t *seen,
                        size_t n_seen, size_t *n_read)
{
    uint32_t name_length = reco_get_u32(r, "truncated tensor");
    const uint8_t *name_bytes = reco_take(r, name_length, "truncated tensor name");
    uint32_t ndim = reco_get_u32(r, "truncated tensor");
    if (r->status != RECO_OK)
        return;
    char name[64];
    if (name_length >= sizeof name || ndim != 2) {
        reco_format_error(r, "unexpected tensor name or rank");
        return;
    }
    if (memchr(name_bytes, '\0', name_length)) {
        reco_format_error(r, "a tensor name holds a NUL byte");
        return;
    }
    memcpy(name, name_bytes, name_length);
    name[name_length] = '\0';
    uint64_t rows = reco_get_u64(r, "truncated tensor"),
             columns = reco_get_u64(r, "truncated tensor");
    size_t offset, expected_rows, expected_columns;
    if (r->status != RECO_OK)
        return;
    if (!tensor_place(net, name, &offset, &expected_rows, &expected_columns) ||
        rows != expected_rows || columns != expected_columns) {
        reco_format_error(r, "a tensor's name or shape does not fit the model");
        return;
    }
    if (offset < n_seen && seen[offset]) {
        reco_format_error(r, "a tensor appears twice");
        return;
    }
    for (size_t i = 0; i < rows * columns && r->status == RECO_OK; i++) {
        float value = reco_get_f32(r, "truncated tensor data");
        if (r->status == RECO_OK && !isfinite(value)) {
            r->position -= 4;
            reco_format_error(r, "a weight that is not a finite number");
        }
        params[offset + i] = value;
    }
    if (offset < n_seen)
        seen[offset] = 1;
    ++*n_read;
}

static reco_status read_body(reco_reader *r, reco_model *model, const reco_net_desc *net,
                             float *params, size_t count)
{
    uint8_t *seen = reco_calloc(count ? count : 1, 1);
    if (!seen)
        return reco_fail_oom();
    int users_seen = 0, items_seen = 0;
    size_t n_read = 0, n_expected = (net->head_in != 0) + 1 + 2 * net->n_layers;
    for (int t = 0; t < RECO_N_TABLES; t++)
        n_expected += net->table_dim[t] != 0;
    for (;;) {
        size_t end;
        uint32_t tag = reco_open_section(r, &end);
        if (r->status != RECO_OK)
            break;
        if (tag == SECTION_END) {
            reco_close_section(r, end);
            break;
        }
        if (tag == SECTION_USER_TEXTS && !users_seen && !model->user_ids.n_texts) {
            read_texts(r, end, &model->user_ids);
        } else if (tag == SECTION_ITEM_TEXTS && !items_seen && !model->item_ids.n_texts) {
            read_texts(r, end, &model->item_ids);
        } else if (tag == SECTION_USER_IDS && !users_seen) {
            read_ids(r, end, model->n_users, &model->user_ids);
            users_seen = 1;
        } else if (tag == SECTION_ITEM_IDS && !items_seen) {
            read_ids(r, end, model->n_items, &model->item_ids);
            items_seen = 1;
        } else if (tag == SECTION_METADATA && model->n_metadata == 0) {
            read_metadata(r, end, model);
        } else if (tag == SECTION_TENSOR) {
            read_tensor(r, net, params, seen, count, &n_read);
        } else if (tag == SECTION_SPARSE) {
            read_sparse(r, end, model);
        } else if (tag == SECTION_ITEM_WEIGHTS) {
            read_item_weights(r, end, model);
        } else {
            reco_format_error(r, "unknown section");
        }
        reco_close_section(r, end);
    }
    /* no tensor appears twice, so every one the model has was present */
    if (r->status == RECO_OK && n_read != n_expected)
        reco_format_error(r, "a tensor is missing");
    if (r->status == RECO_OK && r->position != r->size)
        reco_format_error(r, "bytes after the end section");
    if (r->status == RECO_OK && users_seen != items_seen)
        reco_format_error(r, "user ids without item ids, or item ids without user ids");
    model->has_vocabulary = users_seen && items_seen;
    reco_free(seen);
    return r->status;
}

/* Builds a model from the bytes of a file or buffer, `name` in errors: the
 * one decoder of both. */
static reco_status decode(const char *name, const uint8_t *data, size_t size,
                          reco_backend *backend, reco_model **out)
{
    reco_reader r = {.path = name, .data = data, .size = size};
    reco_status status = RECO_OK;
    reco_model *model = NULL;
    float *params = NULL;
    uint32_t version, mark;
    reco_get_header(&r, MODEL_MAGIC, "model", &version, &mark);
    if (r.status == RECO_OK && version > MODEL_FORMAT_VERSION)
        r.status = reco_fail(RECO_ERR_FORMAT,
                             "%s: format version %u is newer than this library's %u", name,
                             version, MODEL_FORMAT_VERSION);
    if (r.status == RECO_OK && (version == 0 || mark != BYTE_ORDER_MARK))
        reco_format_error(&r, "bad version or byte-order mark");
    if (r.status == RECO_OK)
        read_config(&r, &model);
    if (r.status == RECO_OK) {
        /* every parameter takes 4 bytes of the file: nothing is allocated for
         * more than the bytes present can hold */
        size_t count = reco_model_parameter_count(model);
        if (count > (r.size - r.position) / sizeof *params)
            reco_format_error(&r, "the model's sizes need more parameters than the file holds");
        else if (!(params = reco_calloc(count, sizeof *params)))
            status = reco_fail_oom();
        reco_net_desc net;
        reco_model_describe(model, &net);
        if (r.status == RECO_OK && status == RECO_OK)
            status = read_body(&r, model, &net, params, count);
        if (r.status == RECO_OK && status == RECO_OK)
            status = reco_model_init_with(model, backend, params);
    }
    if (r.status != RECO_OK)
        status = r.status;
    reco_free(params);
    if (status != RECO_OK) {
        reco_model_free(model);
        return status;
    }
    *out = model;
    return RECO_OK;
}

reco_status reco_model_load(const char *path, reco_backend *backend, reco_model **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!path || !backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL path or backend");
    uint8_t *data = NULL;
    size_t size = 0;
    reco_status status = reco_input_read(path, RECO_INPUT_BINARY, MODEL_MAGIC, &data, &size);
    if (status == RECO_OK)
        status = decode(path, data, size, backend, out);
    reco_free(data);
    return status;
}

reco_status reco_model_load_buffer(const void *bytes, size_t size, reco_backend *backend,
                                   reco_model **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if ((!bytes && size) || !backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL bytes or backend");
    return decode("model buffer", bytes, size, backend, out);
}

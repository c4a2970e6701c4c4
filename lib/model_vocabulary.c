/* The model's vocabulary: external user and item ids and their indices. */
#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"

reco_status reco_model_set_vocabulary(reco_model *model, const reco_dataset *dataset)
{
    if (!model || !dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model or dataset");
    const reco_vocab *vocab = dataset->vocab;
    if (vocab->users.count > model->n_users || vocab->items.count > model->n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "vocabulary of %zu users and %zu items; the model has %zu and %zu",
                         vocab->users.count, vocab->items.count, model->n_users, model->n_items);
    reco_id_map users = {0}, items = {0};
    reco_status status = reco_id_map_copy(&users, &vocab->users);
    if (status == RECO_OK)
        status = reco_id_map_copy(&items, &vocab->items);
    if (status != RECO_OK) {
        reco_id_map_free(&users);
        reco_id_map_free(&items);
        return status;
    }
    reco_id_map_free(&model->user_ids);
    reco_id_map_free(&model->item_ids);
    model->user_ids = users;
    model->item_ids = items;
    model->has_vocabulary = 1;
    return RECO_OK;
}

/* Finds the model's user or item vocabulary; fails when it has none. */
static reco_status vocabulary(const reco_model *model, int users, const reco_id_map **map)
{
    if (!model)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model");
    if (!model->has_vocabulary)
        return reco_fail(RECO_ERR_STATE, "the model has no vocabulary");
    *map = users ? &model->user_ids : &model->item_ids;
    return RECO_OK;
}

reco_status reco_model_user_id(const reco_model *model, int32_t user_index, int64_t *user_id)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_id_of(map, "user", user_index, user_id) : status;
}

reco_status reco_model_item_id(const reco_model *model, int32_t item_index, int64_t *item_id)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_id_of(map, "item", item_index, item_id) : status;
}

reco_status reco_model_user_index(const reco_model *model, int64_t user_id, int32_t *user_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_index_of(map, "user", user_id, user_index) : status;
}

reco_status reco_model_item_index(const reco_model *model, int64_t item_id, int32_t *item_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_index_of(map, "item", item_id, item_index) : status;
}

reco_status reco_model_user_id_text(const reco_model *model, int32_t user_index, char *text,
                                    size_t size)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_text_at(map, "user", user_index, text, size) : status;
}

reco_status reco_model_item_id_text(const reco_model *model, int32_t item_index, char *text,
                                    size_t size)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_text_at(map, "item", item_index, text, size) : status;
}

reco_status reco_model_user_index_of_text(const reco_model *model, const char *text,
                                          int32_t *user_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 1, &map);
    return status == RECO_OK ? reco_id_map_index_of_text(map, "user", text, user_index) : status;
}

reco_status reco_model_item_index_of_text(const reco_model *model, const char *text,
                                          int32_t *item_index)
{
    const reco_id_map *map = NULL;
    reco_status status = vocabulary(model, 0, &map);
    return status == RECO_OK ? reco_id_map_index_of_text(map, "item", text, item_index) : status;
}

reco_status reco_model_vocabulary_dataset(const reco_model *model, reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    const reco_id_map *users = NULL;
    reco_status status = vocabulary(model, 1, &users);
    reco_dataset *dataset = NULL;
    if (status == RECO_OK)
        status = reco_dataset_create(NULL, 0, 0, 0, &dataset);
    if (status == RECO_OK)
        status = reco_id_map_copy(&dataset->vocab->users, &model->user_ids);
    if (status == RECO_OK)
        status = reco_id_map_copy(&dataset->vocab->items, &model->item_ids);
    if (status != RECO_OK) {
        reco_dataset_free(dataset);
        return status;
    }
    *out = dataset;
    return RECO_OK;
}

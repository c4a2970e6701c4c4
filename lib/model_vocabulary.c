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
    reco_status status = RECO_OK;
    int32_t index;
    for (size_t i = 0; i < vocab->users.count && status == RECO_OK; i++)
        status = reco_id_map_insert(&users, vocab->users.ids[i], &index);
    for (size_t i = 0; i < vocab->items.count && status == RECO_OK; i++)
        status = reco_id_map_insert(&items, vocab->items.ids[i], &index);
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

/* The model's vocabulary: external user and item ids and their indices. */
#include "dataset_impl.h"
#include "error.h"
#include "model_impl.h"

#include <string.h>

/* Replaces the model's vocabulary by copies of two maps. */
static reco_status adopt(reco_model *model, const reco_id_map *user_ids,
                         const reco_id_map *item_ids)
{
    reco_id_map users = {0}, items = {0};
    reco_status status = reco_id_map_copy(&users, user_ids);
    if (status == RECO_OK)
        status = reco_id_map_copy(&items, item_ids);
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

reco_status reco_model_set_vocabulary(reco_model *model, const reco_dataset *dataset)
{
    if (!model || !dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model or dataset");
    const reco_vocab *vocab = dataset->vocab;
    if (vocab->users.count > model->n_users || vocab->items.count > model->n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "vocabulary of %zu users and %zu items; the model has %zu and %zu",
                         vocab->users.count, vocab->items.count, model->n_users, model->n_items);
    return adopt(model, &vocab->users, &vocab->items);
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

/* The first index whose id differs between two maps of `what`, as an
 * error; RECO_OK when they hold the same ids in the same order. */
static reco_status compare_ids(const reco_id_map *a, const reco_id_map *b, const char *what,
                               const char *a_name, const char *b_name)
{
    if (a->count != b->count)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "%s has %zu %ss, %s %zu: other ids", a_name,
                         a->count, what, b_name, b->count);
    char a_id[RECO_ID_TEXT_MAX], b_id[RECO_ID_TEXT_MAX];
    for (size_t i = 0; i < a->count; i++) {
        reco_id_map_describe(a, (int32_t)i, a_id, sizeof a_id);
        reco_id_map_describe(b, (int32_t)i, b_id, sizeof b_id);
        if (strcmp(a_id, b_id) != 0)
            return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                             "%s index %zu is id '%s' in %s, '%s' in %s: other ids", what, i, a_id,
                             a_name, b_id, b_name);
    }
    return RECO_OK;
}

reco_status reco_model_check_vocabulary(const reco_model *model, const reco_dataset *dataset)
{
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    const reco_id_map *users = NULL;
    reco_status status = vocabulary(model, 1, &users);
    if (status == RECO_OK)
        status = compare_ids(users, &dataset->vocab->users, "user", "the model", "the data");
    if (status == RECO_OK)
        status =
            compare_ids(&model->item_ids, &dataset->vocab->items, "item", "the model", "the data");
    return status;
}

reco_status reco_model_copy_vocabulary(reco_model *to, const reco_model *from)
{
    return from->has_vocabulary ? adopt(to, &from->user_ids, &from->item_ids) : RECO_OK;
}

reco_status reco_model_compare_vocabularies(const reco_model *a, const reco_model *b,
                                            const char *a_name, const char *b_name)
{
    if (!a->has_vocabulary || !b->has_vocabulary)
        return RECO_OK;
    reco_status status = compare_ids(&a->user_ids, &b->user_ids, "user", a_name, b_name);
    return status == RECO_OK ? compare_ids(&a->item_ids, &b->item_ids, "item", a_name, b_name)
                             : status;
}

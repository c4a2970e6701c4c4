/* A model's metadata: key/value notes saved with it (model_file.c). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_impl.h"
#include "reco_alloc.h"

void reco_model_clear_metadata(reco_model *model)
{
    for (size_t i = 0; i < 2 * model->n_metadata; i++)
        reco_free(model->metadata[i]);
    reco_free(model->metadata);
    model->metadata = NULL;
    model->n_metadata = 0;
}

static long find_key(const reco_model *model, const char *key)
{
    for (size_t i = 0; i < model->n_metadata; i++)
        if (strcmp(model->metadata[2 * i], key) == 0)
            return (long)i;
    return -1;
}

static char *copy_text(const char *text)
{
    size_t size = strlen(text) + 1;
    char *copy = reco_malloc(size);
    if (copy)
        memcpy(copy, text, size);
    return copy;
}

reco_status reco_model_set_metadata(reco_model *model, const char *key, const char *value)
{
    if (!model || !key)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL model or key");
    size_t key_length = strlen(key);
    if (key_length == 0 || key_length > RECO_METADATA_KEY_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "metadata key of %zu bytes; expected 1 to %d",
                         key_length, RECO_METADATA_KEY_MAX);
    if (value && strlen(value) > RECO_METADATA_VALUE_MAX)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "metadata value of %zu bytes; at most %u",
                         strlen(value), RECO_METADATA_VALUE_MAX);
    long at = find_key(model, key);
    if (!value) {
        if (at >= 0) {
            reco_free(model->metadata[2 * at]);
            reco_free(model->metadata[2 * at + 1]);
            memmove(model->metadata + 2 * at, model->metadata + 2 * at + 2,
                    2 * (model->n_metadata - (size_t)at - 1) * sizeof *model->metadata);
            model->n_metadata--;
        }
        return RECO_OK;
    }
    char *value_copy = copy_text(value);
    if (!value_copy)
        return reco_fail_oom();
    if (at >= 0) {
        reco_free(model->metadata[2 * at + 1]);
        model->metadata[2 * at + 1] = value_copy;
        return RECO_OK;
    }
    char *key_copy = copy_text(key);
    char **grown = key_copy
                       ? reco_realloc(model->metadata, 2 * (model->n_metadata + 1) * sizeof *grown)
                       : NULL;
    if (!grown) {
        reco_free(key_copy);
        reco_free(value_copy);
        return reco_fail_oom();
    }
    model->metadata = grown;
    grown[2 * model->n_metadata] = key_copy;
    grown[2 * model->n_metadata + 1] = value_copy;
    model->n_metadata++;
    return RECO_OK;
}

const char *reco_model_metadata(const reco_model *model, const char *key)
{
    long at = model && key ? find_key(model, key) : -1;
    return at >= 0 ? model->metadata[2 * at + 1] : NULL;
}

size_t reco_model_metadata_count(const reco_model *model)
{
    return model ? model->n_metadata : 0;
}

const char *reco_model_metadata_key(const reco_model *model, size_t i)
{
    return model && i < model->n_metadata ? model->metadata[2 * i] : NULL;
}

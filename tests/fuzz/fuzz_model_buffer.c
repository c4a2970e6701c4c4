/* libFuzzer harness: the model loader from memory. What loads must save to
 * bytes that load again and save to the same bytes (a buffer round trip is
 * byte-exact); nothing else about the model is assumed. */
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_model_bytes.h"
#include "reco/reco.h"

/* The bytes `model` saves to; aborts (a finding) when a loaded model
 * cannot be saved. */
static void *saved(const reco_model *model, size_t *size)
{
    void *bytes;
    if (reco_model_save_buffer(model, &bytes, size) != RECO_OK)
        abort();
    return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reco_backend *backend = fuzz_backend();
    uint8_t *copy = fuzz_model_bytes(data, size);
    if (!copy)
        return 0;
    reco_model *model = NULL, *again = NULL;
    reco_status status = reco_model_load_buffer(copy, size, backend, &model);
    free(copy);
    if (status != RECO_OK)
        return 0;
    size_t first_size, second_size;
    void *first = saved(model, &first_size);
    if (reco_model_load_buffer(first, first_size, backend, &again) != RECO_OK)
        abort();
    void *second = saved(again, &second_size);
    if (first_size != second_size || memcmp(first, second, first_size) != 0)
        abort();
    reco_free(first);
    reco_free(second);
    reco_model_free(again);
    reco_model_free(model);
    return 0;
}

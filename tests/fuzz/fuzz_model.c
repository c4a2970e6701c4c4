/* libFuzzer harness: the model loader. Each section's checksum is
 * recomputed first, so that mutations reach the code behind the checks. */
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_model_bytes.h"
#include "reco/reco.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reco_backend *backend = fuzz_backend();
    uint8_t *copy = fuzz_model_bytes(data, size);
    if (!copy)
        return 0;
    const char *path = fuzz_write_input(copy, size);
    free(copy);
    reco_model *model = NULL;
    if (!path || reco_model_load(path, backend, &model) != RECO_OK)
        return 0;
    int32_t user = 0, item = 0;
    float score;
    reco_model_predict(model, &user, &item, 1, &score);
    int64_t id;
    reco_model_user_id(model, 0, &id);
    reco_model_free(model);
    return 0;
}

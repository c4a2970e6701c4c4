/* The consumer: the header's version is the library's, and a trained model
 * goes through memory and back to the same bytes. */
#include <stdio.h>
#include <string.h>

#include <reco/reco.h>

static int failed(const char *what)
{
    fprintf(stderr, "app: %s: %s\n", what, reco_last_error());
    return 1;
}

int main(void)
{
    if (strcmp(RECO_VERSION_STRING, reco_version_string()) != 0)
        return failed("the header's version is not the library's");
    reco_backend *backend = NULL;
    reco_dataset *data = NULL;
    reco_model *model = NULL, *copy = NULL;
    void *bytes = NULL, *again = NULL;
    size_t size = 0, again_size = 0;
    if (reco_backend_open("cpu", &backend) || reco_dataset_synthetic(20, 30, 300, 1, &data) ||
        reco_model_new(RECO_MODEL_MF, 20, 30, &model) || reco_model_init(model, backend, 1) ||
        reco_model_save_buffer(model, &bytes, &size) ||
        reco_model_load_buffer(bytes, size, backend, &copy) ||
        reco_model_save_buffer(copy, &again, &again_size))
        return failed("a model through memory");
    int same = size == again_size && memcmp(bytes, again, size) == 0;
    printf("libreco %s: a %zu-byte model, %s\n", RECO_VERSION_STRING, size,
           same ? "the same bytes again" : "other bytes");
    reco_free(bytes);
    reco_free(again);
    reco_model_free(copy);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
    return same ? 0 : 1;
}

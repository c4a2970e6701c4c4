/* A program linked fully statically against the installed libreco.a with
 * `pkg-config --static --libs libreco` (tests/test_examples.sh builds it):
 * it trains, recommends, and finds the "cuda" backend reported unavailable,
 * with the reason, rather than crashing. Prints "static consumer: ok". */
#include <stdio.h>
#include <string.h>

#include <reco/reco.h>

static int failed(const char *what, reco_status status)
{
    fprintf(stderr, "static consumer: %s: %s: %s\n", what, reco_status_string(status),
            reco_last_error());
    return 1;
}

int main(void)
{
    reco_backend *backend = NULL;
    reco_status status = reco_backend_open("cuda", &backend);
    if (status != RECO_ERR_BACKEND_UNAVAILABLE || !strstr(reco_last_error(), "statically"))
        return failed("cuda backend in a static program", status);
    reco_dataset *data = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    int32_t items[5];
    float scores[5];
    size_t n = 0;
    if ((status = reco_backend_open("auto", &backend)) ||
        (status = reco_dataset_synthetic(50, 40, 800, 1, &data)) ||
        (status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(data),
                                 reco_dataset_n_items(data), &model)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_fit(trainer, data, 1)) ||
        (status = reco_model_recommend(model, 0, 5, data, items, scores, &n)))
        return failed("training", status);
    printf("static consumer: %s backend, %zu recommendations: ok\n", reco_backend_name(backend),
           n);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
    return n == 5 ? 0 : 1;
}

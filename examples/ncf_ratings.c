/* ncf_ratings: seed 003's NCF job for rating prediction (../shared/
 * PROTOCOLS.md section 4) with its settings: NeuMF of a 32-factor GMF and
 * an MLP tower 256-128-64-32 with dropout 0.5, no output activation (raw
 * ratings), MSE, Adam (1e-3: the seed does not show its rate), 19 epochs;
 * the MAE on the test ratings after every epoch, over samples (the seed's
 * mean of batch MAEs is biased by a short last batch, quirk 1). Then what
 * the slides describe: the items most similar to the most rated one by
 * their embeddings (`reco similar --plot` draws the PCA picture).
 * Usage: ncf_ratings [ratings-file [epochs]] (default: the synthetic set) */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "ncf_ratings: %s: %s: %s\n", what, reco_status_string(status),
            reco_last_error());
    return 1;
}

static reco_status mae(const reco_model *model, const reco_dataset *test, double *value)
{
    reco_metrics *metrics = NULL;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_evaluate_ratings(metrics, model, test);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_MAE, value);
    reco_metrics_free(metrics);
    return status;
}

/* The item with the most ratings. */
static int32_t most_rated(const reco_dataset *data)
{
    size_t n_items = reco_dataset_n_items(data), best = 0;
    size_t *counts = calloc(n_items + 1, sizeof *counts);
    if (!counts)
        return 0;
    for (size_t i = 0; i < reco_dataset_size(data); i++)
        counts[reco_dataset_items(data)[i]]++;
    for (size_t item = 1; item < n_items; item++)
        best = counts[item] > counts[best] ? item : best;
    free(counts);
    return (int32_t)best;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 && *argv[1] ? argv[1] : NULL; /* "": the default */
    int epochs = argc > 2 ? atoi(argv[2]) : 19;
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    const size_t layers[] = {256, 128, 64, 32};
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &all)
                              : reco_dataset_synthetic(943, 1682, 100000, 3, &all);
    if (status == RECO_OK)
        status = reco_dataset_split_random(all, 0.2, 3, 0, &train, &test);
    if (status == RECO_OK)
        status = reco_backend_open("auto", &backend);
    if (status == RECO_OK)
        status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(all),
                                reco_dataset_n_items(all), &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, 32);
    if (status == RECO_OK)
        status = reco_model_set_layers(model, layers, 4);
    if (status == RECO_OK)
        status = reco_model_set_dropout(model, 0.5f);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 3);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_set_loss(trainer, RECO_LOSS_MSE);
    if (status == RECO_OK)
        status = reco_trainer_set_seed(trainer, 3);
    if (status != RECO_OK)
        return fail("setting up", status);
    printf("NCF (GMF 32 + MLP 256-128-64-32, dropout 0.5) on %zu ratings, MSE, Adam\n",
           reco_dataset_size(all));
    for (int epoch = 1; epoch <= epochs && status == RECO_OK; epoch++) {
        double loss, test_mae = 0.0;
        status = reco_trainer_epoch(trainer, train, &loss);
        if (status == RECO_OK)
            status = mae(model, test, &test_mae);
        if (status == RECO_OK)
            printf("epoch %2d  loss %.4f  test MAE %.4f\n", epoch, loss, test_mae);
    }
    int32_t item = most_rated(all), similar[5];
    float cosines[5];
    size_t n = 0;
    if (status == RECO_OK)
        status = reco_model_similar_items(model, item, 5, similar, cosines, &n);
    char id[RECO_ID_TEXT_MAX] = "?";
    reco_dataset_item_id_text(all, item, id, sizeof id);
    if (status == RECO_OK)
        printf("items nearest item %s (the most rated) by embedding cosine:\n", id);
    for (size_t i = 0; status == RECO_OK && i < n; i++) {
        reco_dataset_item_id_text(all, similar[i], id, sizeof id);
        printf("  %-8s %.4f\n", id, cosines[i]);
    }
    int code = status == RECO_OK ? 0 : fail("training", status);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    return code;
}

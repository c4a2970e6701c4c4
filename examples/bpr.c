/* bpr: seed 004's BPR-MF job (../shared/PROTOCOLS.md section 5a) with its
 * settings: ratings >= 4 as positives, the catalog from the titles file,
 * a random 80/10/10 split (seed 1), 32 factors with Xavier-uniform tables,
 * BPR loss, Adam 1e-3 with coupled weight decay 1e-6 on every row (dense
 * steps), the learning rate times 0.95 at epochs 200 and 400, batch 1024,
 * Recall, Precision and NDCG @20 by full ranking on the validation set
 * every 100 epochs (training items left out) and on the test set at the
 * end (training and validation items left out); then one user's highly
 * rated movies and suggestions, titles and all.
 * Usage: bpr [ratings.csv [movies.csv [epochs]]] (default: the synthetic
 * set, 500 epochs) */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

enum { K = 20, EVERY = 100, DECAY_EVERY = 200 };

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "bpr: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return 1;
}

/* Recall, Precision and NDCG @20 of `rows`, the items of `seen` left out. */
static reco_status report(const reco_model *model, const reco_dataset *rows,
                          const reco_dataset *seen, const char *when)
{
    reco_metrics *metrics = NULL;
    double recall = 0.0, precision = 0.0, ndcg = 0.0;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_set_k(metrics, K);
    if (status == RECO_OK)
        status = reco_metrics_evaluate_ranking(metrics, model, rows, seen);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_RECALL, &recall);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_PRECISION, &precision);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_NDCG, &ndcg);
    if (status == RECO_OK)
        printf("%s: Recall@%d %.4f  Precision@%d %.4f  NDCG@%d %.4f\n", when, K, recall, K,
               precision, K, ndcg);
    reco_metrics_free(metrics);
    return status;
}

static void print_item(const reco_dataset *data, int32_t item)
{
    char id[RECO_ID_TEXT_MAX] = "?";
    reco_dataset_item_id_text(data, item, id, sizeof id);
    const char *title = reco_dataset_item_title(data, item);
    printf("    %-8s %s\n", id, title ? title : "");
}

/* As the seed prints user 30: the top (positives + 10) of all items, the
 * first 10 that are the user's positives, then the first 10 that are not. */
static reco_status show_user(const reco_model *model, const reco_dataset *positives, int32_t user)
{
    size_t n_positives = 0;
    for (size_t i = 0; i < reco_dataset_size(positives); i++)
        n_positives += reco_dataset_users(positives)[i] == user;
    size_t k = n_positives + 10, n = 0;
    int32_t *items = malloc(k * sizeof *items);
    float *scores = malloc(k * sizeof *scores);
    reco_status status = items && scores ? RECO_OK : RECO_ERR_OUT_OF_MEMORY;
    if (status == RECO_OK)
        status = reco_model_recommend(model, user, k, NULL, items, scores, &n);
    for (int liked = 1; liked >= 0 && status == RECO_OK; liked--) {
        char id[RECO_ID_TEXT_MAX] = "?";
        reco_dataset_user_id_text(positives, user, id, sizeof id);
        printf(liked ? "user %s rated highly:\n" : "suggestions for user %s:\n", id);
        size_t shown = 0;
        for (size_t i = 0; i < n && shown < 10; i++) {
            int positive = 0;
            for (size_t r = 0; r < reco_dataset_size(positives) && !positive; r++)
                positive = reco_dataset_users(positives)[r] == user &&
                           reco_dataset_items(positives)[r] == items[i];
            if (positive == liked && ++shown)
                print_item(positives, items[i]);
        }
    }
    free(items);
    free(scores);
    return status;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 && *argv[1] ? argv[1] : NULL; /* "": the default */
    const char *titles = argc > 2 && *argv[2] ? argv[2] : NULL;
    int epochs = argc > 3 ? atoi(argv[3]) : 500;
    reco_dataset *rated = NULL, *positives = NULL, *train = NULL, *valid = NULL, *test = NULL;
    reco_dataset *seen = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &rated)
                              : reco_dataset_synthetic(610, 9742, 100836, 4, &rated);
    if (status == RECO_OK && titles)
        status = reco_dataset_read_titles(rated, titles);
    if (status == RECO_OK && titles)
        status = reco_dataset_add_titled_items(rated);
    if (status == RECO_OK)
        status = reco_dataset_binarize(rated, 4.0f, &positives);
    if (status == RECO_OK)
        status = reco_dataset_split_three_way(positives, 0.1, 0.1, 1, 0, &train, &valid, &test);
    if (status == RECO_OK)
        status = reco_dataset_concat(train, valid, &seen);
    if (status != RECO_OK)
        return fail("preparing the data", status);
    printf("BPR-MF on %zu positives (ratings >= 4) of %zu users over %zu items: "
           "%zu / %zu / %zu\n",
           reco_dataset_size(positives), reco_dataset_n_users(positives),
           reco_dataset_n_items(positives), reco_dataset_size(train), reco_dataset_size(valid),
           reco_dataset_size(test));
    if ((status = reco_backend_open("auto", &backend)) ||
        (status = reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(positives),
                                 reco_dataset_n_items(positives), &model)) ||
        (status = reco_model_set_factors(model, 32)) ||
        (status = reco_model_set_xavier_embeddings(model, 1)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_model_set_vocabulary(model, positives)) ||
        (status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_set_loss(trainer, RECO_LOSS_BPR)) ||
        (status = reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_ADAM)) ||
        (status = reco_trainer_set_weight_decay(trainer, 1e-6)) ||
        (status = reco_trainer_set_dense_embeddings(trainer, 1)) ||
        (status = reco_trainer_set_batch_size(trainer, 1024)) ||
        (status = reco_trainer_set_seed(trainer, 1)))
        return fail("setting up", status);
    double lr = 1e-3;
    for (int epoch = 0; epoch < epochs && status == RECO_OK; epoch++) {
        /* the seed steps ExponentialLR(0.95) at iterations 200 and 400 */
        if (epoch > 0 && epoch % DECAY_EVERY == 0 && epoch <= 2 * DECAY_EVERY)
            lr *= 0.95;
        status = reco_trainer_set_learning_rate(trainer, lr);
        char when[48];
        snprintf(when, sizeof when, "validation, epoch %d", epoch);
        if (status == RECO_OK && epoch % EVERY == 0 && epoch < epochs)
            status = report(model, valid, train, when);
        if (status == RECO_OK)
            status = reco_trainer_epoch(trainer, train, NULL);
    }
    if (status == RECO_OK)
        status = report(model, test, seen, "test");
    int32_t user = reco_dataset_users(positives)[0]; /* the seed shows user 30 */
    if (reco_dataset_user_index_of_text(positives, "30", &user) != RECO_OK)
        user = reco_dataset_users(positives)[0];
    if (status == RECO_OK)
        status = show_user(model, positives, user);
    int code = status == RECO_OK ? 0 : fail("training", status);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(rated);
    reco_dataset_free(positives);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    reco_dataset_free(seen);
    return code;
}

/* bpr: BPR-MF on implicit positives (ratings >= 4), an 80/10/10 split,
 * Recall, Precision and NDCG @20 over all items with training items left
 * out, then one user's top 10 next to the items it rated highly.
 * Usage: bpr [ratings-file [titles-file [epochs]]] */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "bpr: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return 1;
}

static void print_item(const reco_dataset *data, int32_t item)
{
    int64_t id = item;
    reco_dataset_item_id(data, item, &id);
    const char *title = reco_dataset_item_title(data, item);
    printf("    %-8lld %s\n", (long long)id, title ? title : "");
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL, *titles = argc > 2 ? argv[2] : NULL;
    int epochs = argc > 3 ? atoi(argv[3]) : 10;
    reco_dataset *rated = NULL, *positives = NULL, *train = NULL, *valid = NULL, *test = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_metrics *metrics = NULL;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &rated)
                              : reco_dataset_synthetic(943, 1682, 100000, 3, &rated);
    if (status == RECO_OK && titles)
        status = reco_dataset_read_titles(rated, titles);
    if (status == RECO_OK)
        status = reco_dataset_binarize(rated, 4.0f, &positives);
    if (status == RECO_OK)
        status = reco_dataset_split_three_way(positives, 0.1, 0.1, 3, 0, &train, &valid, &test);
    if (status == RECO_OK)
        status = reco_backend_open("auto", &backend);
    if (status == RECO_OK)
        status = reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(rated),
                                reco_dataset_n_items(rated), &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, 32);
    if (status == RECO_OK)
        status = reco_model_set_init_std(model, 0.1f);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 3);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_set_loss(trainer, RECO_LOSS_BPR);
    if (status == RECO_OK)
        status = reco_trainer_set_learning_rate(trainer, 0.005);
    if (status == RECO_OK)
        status = reco_trainer_set_weight_decay(trainer, 1e-5);
    if (status == RECO_OK)
        status = reco_trainer_set_lr_decay(trainer, 0.95);
    if (status == RECO_OK)
        status = reco_trainer_set_validation(trainer, valid, train, RECO_METRIC_RECALL, 20);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, train, (size_t)epochs);
    if (status != RECO_OK)
        return fail("training", status);
    size_t best_epoch;
    double best;
    reco_trainer_best(trainer, &best_epoch, &best);
    printf("BPR-MF on %zu positives (ratings >= 4): best validation Recall@20 %.4f at epoch "
           "%zu\n",
           reco_dataset_size(positives), best, best_epoch + 1);
    double recall = 0, precision = 0, ndcg = 0;
    status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_set_k(metrics, 20);
    if (status == RECO_OK)
        status = reco_metrics_evaluate_ranking(metrics, model, test, train);
    if (status != RECO_OK)
        return fail("evaluation", status);
    reco_metrics_get(metrics, RECO_METRIC_RECALL, &recall);
    reco_metrics_get(metrics, RECO_METRIC_PRECISION, &precision);
    reco_metrics_get(metrics, RECO_METRIC_NDCG, &ndcg);
    printf("test: Recall@20 %.4f  Precision@20 %.4f  NDCG@20 %.4f\n", recall, precision, ndcg);
    int32_t user = reco_dataset_users(positives)[0], items[10];
    float scores[10];
    size_t n = 0;
    status = reco_model_recommend(model, user, 10, positives, items, scores, &n);
    if (status != RECO_OK)
        return fail("recommend", status);
    int64_t user_id;
    reco_dataset_user_id(positives, user, &user_id);
    printf("user %lld rated highly:\n", (long long)user_id);
    size_t shown = 0;
    for (size_t i = 0; i < reco_dataset_size(positives) && shown < 10; i++)
        if (reco_dataset_users(positives)[i] == user && ++shown)
            print_item(positives, reco_dataset_items(positives)[i]);
    printf("top 10 for user %lld:\n", (long long)user_id);
    for (size_t i = 0; i < n; i++)
        print_item(positives, items[i]);
    reco_metrics_free(metrics);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(rated);
    reco_dataset_free(positives);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    return 0;
}

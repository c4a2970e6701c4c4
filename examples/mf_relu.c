/* mf_relu: seed 001's MF-MSE job (../shared/PROTOCOLS.md section 2) with
 * its settings: raw ratings, a global random 80/20 holdout, MF with 10
 * factors read through one Linear 10->1 with a bias and a ReLU (a GMF with
 * a ReLU output), tables N(0, 1), MSE summed over each batch, Adagrad 1e-4,
 * batch 200, one epoch. It prints what the seed prints: the data's
 * statistics, the batches, the one-pair demo (user 42, item 15) before and
 * after the ReLU, and the factor matrices' shapes (W users x 10, H items x
 * 10; `reco export` writes them). Then what the seed leaves out: the share
 * of predictions the ReLU makes exactly 0 (quirk 1: they pass no gradient)
 * and the test RMSE.
 * Usage: mf_relu [ratings-file] (default: the synthetic set; ML-10M's
 * ratings.dat is the seed's) */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

enum { FACTORS = 10 };

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "mf_relu: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return 1;
}

/* The demo: the pair's embeddings, their product, the linear output (head
 * weights . product + bias: the last FACTORS + 1 parameters) and the score. */
static reco_status demo(const reco_model *model, const reco_dataset *data)
{
    int32_t user = 0, item = 0;
    if (reco_dataset_user_index(data, 42, &user) != RECO_OK ||
        reco_dataset_item_index(data, 15, &item) != RECO_OK)
        return RECO_OK; /* no such pair in this data */
    size_t n_users = reco_model_n_users(model), n_items = reco_model_n_items(model);
    size_t count = reco_model_parameter_count(model);
    float *params = malloc(count * sizeof *params), score;
    reco_status status = params ? RECO_OK : RECO_ERR_OUT_OF_MEMORY;
    if (status == RECO_OK)
        status = reco_model_get_parameters(model, params);
    if (status == RECO_OK)
        status = reco_model_predict(model, &user, &item, 1, &score);
    if (status == RECO_OK) {
        const float *p = params + (size_t)user * FACTORS;
        const float *q = params + n_users * FACTORS + (size_t)item * FACTORS;
        const float *head = params + (n_users + n_items) * FACTORS;
        double linear = head[FACTORS];
        printf("user 42, item 15:\n  p_u   ");
        for (int k = 0; k < FACTORS; k++)
            printf(" %7.4f", p[k]);
        printf("\n  q_i   ");
        for (int k = 0; k < FACTORS; k++)
            printf(" %7.4f", q[k]);
        printf("\n  p * q ");
        for (int k = 0; k < FACTORS; k++) {
            printf(" %7.4f", p[k] * q[k]);
            linear += head[k] * p[k] * q[k];
        }
        printf("\n  linear %.4f -> ReLU %.4f\n", linear, score);
    }
    free(params);
    return status;
}

/* The share of `data`'s pairs the model scores exactly 0. */
static reco_status dead_share(const reco_model *model, const reco_dataset *data, double *share)
{
    size_t n = reco_dataset_size(data), zeros = 0;
    float *scores = malloc((n + 1) * sizeof *scores);
    reco_status status = scores ? RECO_OK : RECO_ERR_OUT_OF_MEMORY;
    if (status == RECO_OK)
        status = reco_model_predict(model, reco_dataset_users(data), reco_dataset_items(data), n,
                                    scores);
    for (size_t i = 0; status == RECO_OK && i < n; i++)
        zeros += scores[i] == 0.0f;
    *share = n ? (double)zeros / (double)n : 0.0;
    free(scores);
    return status;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 && *argv[1] ? argv[1] : NULL; /* "": the default */
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_metrics *metrics = NULL;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &all)
                              : reco_dataset_synthetic(943, 1682, 100000, 1, &all);
    if (status != RECO_OK)
        return fail("loading the ratings", status);
    size_t users = reco_dataset_n_users(all), items = reco_dataset_n_items(all);
    printf("%zu users, %zu items, %zu interactions, density %.2E\n", users, items,
           reco_dataset_size(all), (double)reco_dataset_size(all) / ((double)users * items));
    double loss = 0.0, rmse = 0.0, dead = 0.0;
    if ((status = reco_dataset_split_random(all, 0.2, 1, 0, &train, &test)) ||
        (status = reco_backend_open("cpu", &backend)) ||
        (status = reco_model_new(RECO_MODEL_GMF, users, items, &model)) ||
        (status = reco_model_set_factors(model, FACTORS)) ||
        (status = reco_model_set_output(model, RECO_ACTIVATION_RELU)) ||
        (status = reco_model_set_init_std(model, 1.0f)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_set_loss(trainer, RECO_LOSS_MSE)) ||
        (status = reco_trainer_set_mean_reduction(trainer, 0)) ||
        (status = reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_ADAGRAD)) ||
        (status = reco_trainer_set_learning_rate(trainer, 1e-4)) ||
        (status = reco_trainer_set_batch_size(trainer, 200)))
        return fail("setting up", status);
    printf("one epoch of %zu batches of 200 (MSE summed, Adagrad 1e-4)\n",
           (reco_dataset_size(train) + 199) / 200);
    if ((status = reco_trainer_epoch(trainer, train, &loss)) || (status = demo(model, all)) ||
        (status = dead_share(model, test, &dead)) || (status = reco_metrics_new(&metrics)) ||
        (status = reco_metrics_evaluate_ratings(metrics, model, test)) ||
        (status = reco_metrics_get(metrics, RECO_METRIC_RMSE, &rmse)))
        return fail("training", status);
    printf("W: %zu x %d, H: %zu x %d (reco export writes them)\n", users, FACTORS, items, FACTORS);
    printf("mean batch loss %.1f; %.1f%% of test predictions are exactly 0 (dead ReLU); "
           "test RMSE %.4f\n",
           loss, 100.0 * dead, rmse);
    reco_metrics_free(metrics);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    return 0;
}

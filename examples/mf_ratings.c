/* mf_ratings: explicit matrix factorization as in the PyTorch MF tutorials.
 * MF with biases, MSE, a 60/20/20 split, SGD or Adagrad; RMSE on the train
 * and validation sets after every epoch, then on the test set.
 * Usage: mf_ratings [ratings-file [sgd|adagrad [epochs]]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco.h"

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "mf_ratings: %s: %s: %s\n", what, reco_status_string(status),
            reco_last_error());
    return 1;
}

static reco_status rmse(reco_model *model, const reco_dataset *data, double *value)
{
    reco_metrics *metrics = NULL;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_evaluate_ratings(metrics, model, data);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_RMSE, value);
    reco_metrics_free(metrics);
    return status;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    int adagrad = argc > 2 && strcmp(argv[2], "adagrad") == 0;
    int epochs = argc > 3 ? atoi(argv[3]) : 10;
    reco_dataset *all = NULL, *train = NULL, *valid = NULL, *test = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &all)
                              : reco_dataset_synthetic(943, 1682, 100000, 7, &all);
    if (status == RECO_OK)
        status = reco_dataset_split_three_way(all, 0.2, 0.2, 7, 0, &train, &valid, &test);
    if (status == RECO_OK)
        status = reco_backend_open("cpu", &backend);
    if (status == RECO_OK)
        status = reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(all),
                                reco_dataset_n_items(all), &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, 20);
    if (status == RECO_OK)
        status = reco_model_set_biases(model, 1);
    if (status == RECO_OK)
        status = reco_model_set_init_std(model, 0.1f);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 7);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_set_loss(trainer, RECO_LOSS_MSE);
    if (status == RECO_OK)
        status = reco_trainer_set_optimizer(trainer,
                                            adagrad ? RECO_OPTIMIZER_ADAGRAD : RECO_OPTIMIZER_SGD);
    if (status == RECO_OK)
        status = reco_trainer_set_learning_rate(trainer, adagrad ? 0.1 : 0.5);
    if (status == RECO_OK)
        status = reco_trainer_set_weight_decay(trainer, 1e-4);
    if (status == RECO_OK)
        status = reco_trainer_set_batch_size(trainer, 64);
    if (status != RECO_OK)
        return fail("setup", status);
    printf("MF with biases, MSE, %s, 60/20/20 split of %zu ratings\n",
           adagrad ? "Adagrad" : "SGD", reco_dataset_size(all));
    for (int epoch = 1; epoch <= epochs && status == RECO_OK; epoch++) {
        double loss, train_rmse = 0.0, valid_rmse = 0.0;
        status = reco_trainer_epoch(trainer, train, &loss);
        if (status == RECO_OK)
            status = rmse(model, train, &train_rmse);
        if (status == RECO_OK)
            status = rmse(model, valid, &valid_rmse);
        if (status == RECO_OK)
            printf("epoch %2d  loss %.4f  train RMSE %.4f  validation RMSE %.4f\n", epoch, loss,
                   train_rmse, valid_rmse);
    }
    double test_rmse = 0.0;
    if (status == RECO_OK && (status = rmse(model, test, &test_rmse)) == RECO_OK)
        printf("test RMSE %.4f\n", test_rmse);
    int code = status == RECO_OK ? 0 : fail("training", status);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    return code;
}

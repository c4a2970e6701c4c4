/* fit: epochs with validation after each, the best parameters kept, early
 * stopping. */
#include <stdlib.h>
#include <time.h>

#include "reco_alloc.h"
#include "trainer_impl.h"

reco_status reco_trainer_set_validation(reco_trainer *trainer, const reco_dataset *valid,
                                        const reco_dataset *exclude, reco_metric metric,
                                        size_t k)
{
    CHECK_TRAINER(trainer);
    if (metric < RECO_METRIC_HR || metric > RECO_METRIC_MSE)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown metric %d", (int)metric);
    if (k < 1 || k > 100000)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "K %zu: expected 1 to 100000", k);
    validation *v = &trainer->validation;
    v->valid = valid;
    v->exclude = exclude;
    v->metric = metric;
    v->k = k;
    v->has_best = v->has_last = 0;
    return RECO_OK;
}

reco_status reco_trainer_set_epoch_callback(reco_trainer *trainer, reco_epoch_fn callback,
                                            void *user_data)
{
    CHECK_TRAINER(trainer);
    trainer->epoch_callback = callback;
    trainer->epoch_data = user_data;
    return RECO_OK;
}

reco_status reco_trainer_set_early_stopping(reco_trainer *trainer, size_t patience)
{
    CHECK_TRAINER(trainer);
    trainer->validation.patience = patience;
    return RECO_OK;
}

reco_status reco_trainer_best(const reco_trainer *trainer, size_t *epoch, double *value)
{
    CHECK_TRAINER(trainer);
    if (!trainer->validation.has_best)
        return reco_fail(RECO_ERR_STATE, "no validation has run");
    if (epoch)
        *epoch = trainer->validation.best_epoch;
    if (value)
        *value = trainer->validation.best_value;
    return RECO_OK;
}

reco_status reco_trainer_last_validation(const reco_trainer *trainer, double *value)
{
    CHECK_TRAINER(trainer);
    if (!trainer->validation.has_last)
        return reco_fail(RECO_ERR_STATE, "no validation has run");
    if (value)
        *value = trainer->validation.last_value;
    return RECO_OK;
}

static int lower_is_better(reco_metric metric)
{
    return metric == RECO_METRIC_RMSE || metric == RECO_METRIC_MAE || metric == RECO_METRIC_MSE;
}

static reco_status evaluate(reco_trainer *trainer, double *value)
{
    const validation *v = &trainer->validation;
    reco_metrics *metrics = NULL;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_set_k(metrics, v->k);
    if (status == RECO_OK) {
        if (lower_is_better(v->metric))
            status = reco_metrics_evaluate_ratings(metrics, trainer->model, v->valid);
        else if ((v->metric == RECO_METRIC_HR || v->metric == RECO_METRIC_NDCG) &&
                 v->valid->negative_offsets)
            status = reco_metrics_evaluate_sampled(metrics, trainer->model, v->valid);
        else
            status = reco_metrics_evaluate_ranking(metrics, trainer->model, v->valid, v->exclude);
    }
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, v->metric, value);
    reco_metrics_free(metrics);
    return status;
}

/* Validates after an epoch: records the value, keeps the best parameters,
 * and sets *stop when patience has run out. */
static reco_status validate(reco_trainer *trainer, int *stop)
{
    validation *v = &trainer->validation;
    double value;
    reco_status status = evaluate(trainer, &value);
    if (status != RECO_OK)
        return status;
    v->last_value = value;
    v->has_last = 1;
    int better = !v->has_best || (lower_is_better(v->metric) ? value < v->best_value
                                                             : value > v->best_value);
    size_t epoch = trainer->epoch - 1;
    if (better) {
        if (!v->best_parameters)
            v->best_parameters = reco_malloc(reco_model_parameter_count(trainer->model) * sizeof(float));
        if (!v->best_parameters)
            return reco_fail_oom();
        status = reco_model_get_parameters(trainer->model, v->best_parameters);
        v->has_best = 1;
        v->best_value = value;
        v->best_epoch = epoch;
    }
    *stop = v->patience > 0 && epoch - v->best_epoch >= v->patience;
    return status;
}

reco_status reco_trainer_fit(reco_trainer *trainer, const reco_dataset *train, size_t epochs)
{
    CHECK_TRAINER(trainer);
    validation *v = &trainer->validation;
    if (v->patience && !v->valid)
        return reco_fail(RECO_ERR_STATE, "early stopping needs a validation set");
    /* a model that grew (fold-in) no longer fits the kept parameters */
    reco_free(v->best_parameters);
    v->best_parameters = NULL;
    v->has_best = 0;
    reco_status status = RECO_OK;
    int stop = 0;
    for (size_t e = 0; e < epochs && status == RECO_OK && !stop; e++) {
        reco_epoch_report report = {.struct_size = sizeof report, .epoch = trainer->epoch};
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        status = reco_trainer_epoch(trainer, train, &report.loss);
        clock_gettime(CLOCK_MONOTONIC, &end);
        report.seconds =
            (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
        if (status == RECO_OK && v->valid)
            status = validate(trainer, &stop);
        if (status == RECO_OK && v->valid) {
            report.validated = 1;
            report.validation = v->last_value;
            report.best = v->best_value;
            report.best_epoch = v->best_epoch;
        }
        if (status == RECO_OK && trainer->epoch_callback &&
            trainer->epoch_callback(&report, trainer->epoch_data))
            stop = 1;
    }
    if (status == RECO_OK && v->has_best)
        status = reco_model_set_parameters(trainer->model, v->best_parameters);
    return status;
}

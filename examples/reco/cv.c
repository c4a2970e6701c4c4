/* reco cv: k-fold cross-validation, as Surprise's cross_validate reports
 * it: each fold's metrics, then their mean and standard deviation. A fold
 * trains a fresh model on the other folds and evaluates it on its own:
 * RMSE and MAE for MSE, Recall@K and NDCG@K over all items (training items
 * left out) for BCE and BPR. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "job.h"
#include "ranks.h"

enum { MAX_FOLDS = 100 };

/* Trains and evaluates fold `fold` of `all`: the metrics' values. */
static reco_status run_fold(const settings *s, reco_dataset *all, size_t folds, size_t fold,
                            unsigned flags, double values[JOB_MAX_METRICS])
{
    run r = {0};
    reco_status status =
        reco_dataset_split_fold(all, folds, fold, s->seed, flags, &r.train, &r.test);
    r.all = all;
    if (status == RECO_OK)
        status = job_build(s, &r);
    for (size_t epoch = 0; epoch < s->epochs && status == RECO_OK; epoch++) {
        status = job_schedule(s, &r, epoch);
        if (status == RECO_OK)
            status = reco_trainer_epoch(r.trainer, r.train, NULL);
    }
    if (status == RECO_OK)
        status = job_evaluate(s, &r, 0, values);
    r.all = NULL; /* the caller's */
    job_run_free(&r);
    return status;
}

static int command_cv(options *opts)
{
    int ok = 1;
    size_t folds = option_count(opts, "folds", 5, 2, MAX_FOLDS, &ok);
    if (!ok)
        return EXIT_USAGE;
    settings s;
    int code = job_read_settings(opts, &s, 1);
    if (code != EXIT_OK)
        return code;
    unsigned flags = s.stratify ? RECO_SPLIT_STRATIFY : 0;
    if (s.protocol == PROTOCOL_SAMPLED) {
        job_settings_free(&s);
        usage_error(opts, "folds are random rows: --protocol ranking or ratings");
        return EXIT_USAGE;
    }
    s.leave_one_out = 0;
    reco_dataset *all = NULL;
    reco_status status = job_read_data(&s, NULL, &all);
    if (status != RECO_OK) {
        reco_dataset_free(all);
        return fail(s.data ? s.data : "synthetic data", status);
    }
    int leader = ranks_rank() == 0;
    if (leader && !s.json)
        printf("%zu-fold cross-validation on %s: %zu users, %zu items, %zu rows\n", folds,
               s.data ? s.data : "synthetic data", reco_dataset_n_users(all),
               reco_dataset_n_items(all), reco_dataset_size(all));
    double values[MAX_FOLDS][JOB_MAX_METRICS], sums[JOB_MAX_METRICS] = {0};
    for (size_t fold = 0; fold < folds && status == RECO_OK; fold++) {
        double start = seconds_now();
        status = run_fold(&s, all, folds, fold, flags, values[fold]);
        if (status != RECO_OK || !leader)
            continue;
        if (s.json)
            printf("{\"fold\": %zu, \"seconds\": %.3f", fold + 1, seconds_now() - start);
        else
            printf("fold %zu %6.2f s", fold + 1, seconds_now() - start);
        job_print_metrics(stdout, &s, values[fold], s.json, 0);
        printf(s.json ? "}\n" : "\n");
        fflush(stdout);
    }
    if (status == RECO_OK && leader) {
        double mean[JOB_MAX_METRICS], deviation[JOB_MAX_METRICS];
        for (size_t m = 0; m < s.n_metrics; m++) {
            for (size_t fold = 0; fold < folds; fold++)
                sums[m] += values[fold][m];
            mean[m] = sums[m] / (double)folds;
            double squares = 0.0;
            for (size_t fold = 0; fold < folds; fold++)
                squares += (values[fold][m] - mean[m]) * (values[fold][m] - mean[m]);
            deviation[m] = sqrt(squares / (double)folds); /* as numpy.std, Surprise's */
        }
        printf(s.json ? "{\"mean\": {" : "mean       ");
        job_print_metrics(stdout, &s, mean, s.json, 1);
        printf(s.json ? "}, \"std\": {" : "\nstd        ");
        job_print_metrics(stdout, &s, deviation, s.json, 1);
        printf(s.json ? "}, \"folds\": %zu}\n" : "\n", folds);
    }
    reco_dataset_free(all);
    return status == RECO_OK ? EXIT_OK : fail("cross-validation", status);
}

static const flag_spec cv_flags[] = {
    {"data", "FILE", "synthetic", "ratings to cross-validate (any format reco reads)"},
    {"folds", "K", "5", "folds"},
    JOB_MODEL_FLAGS,
    {NULL}};

const command_spec cv_command = {"cv", "k-fold cross-validation: each fold's metrics, mean, std",
                                 command_cv, cv_flags};

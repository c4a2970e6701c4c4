/* reco tune: the library's tuner (reco_tuner_*) on a validation holdout
 * carved from the training rows (each user's latest training row for the
 * sampled protocol, a tenth of them for ratings), never on the test set.
 * Trials are built as reco train builds a model from the same flags; the
 * chosen settings are printed as a `reco train` line, retrained on training
 * + validation rows (unless --no-retrain) for the epochs they were best at,
 * and tested once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "ranks.h"

/* What the CLI's builder makes a trial from: the command's settings. */
typedef struct tune_context {
    const settings *base;
    run *data; /* train, valid, test, all, seen and the one backend */
    int json;
} tune_context;

/* The command's settings with what the trial drew over them. */
static settings trial_settings(const settings *base, const reco_trial *trial)
{
    settings s = *base;
    double value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_FACTORS)))
        s.factors = (size_t)value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_LEARNING_RATE)))
        s.lr = value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_WEIGHT_DECAY)))
        s.weight_decay = value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_UNOBSERVED_WEIGHT)))
        s.unobserved_weight = value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_NEGATIVES)))
        s.negatives = (size_t)value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_NEIGHBOURS)))
        s.neighbours = (size_t)value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_WEIGHTING)))
        s.weighting = (reco_weighting)value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_OPTIMIZER)))
        s.optimizer = (reco_optimizer)value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_BIASES)))
        s.biases = value != 0.0;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_INIT_STD)))
        s.init_std = value;
    if (!isnan(value = reco_trial_setting(trial, RECO_SETTING_EPOCHS)))
        s.epochs = (size_t)value;
    return s;
}

/* The tuner's builder: a trial's model and trainer as reco train would make
 * them from the command's flags and the drawn settings, on the one backend. */
static reco_status build_trial(const reco_trial *trial, void *user_data, reco_model **model,
                               reco_trainer **trainer)
{
    const tune_context *context = user_data;
    settings s = trial_settings(context->base, trial);
    /* no validation here: the tuner sets its own */
    run r = {.all = context->data->all, .train = context->data->train,
             .backend = context->data->backend};
    reco_status status = job_build(&s, &r);
    reco_metrics_free(r.metrics);
    *model = r.model;
    *trainer = r.trainer;
    return status;
}

/* One line a trial and rung. */
static int report_trial(const reco_trial *trial, void *user_data)
{
    const tune_context *context = user_data;
    char text[256], label[32];
    reco_trial_flags(trial, text, sizeof text);
    job_metric_label(context->base, 0, label);
    if (context->json)
        printf("{\"trial\": %zu, \"settings\": \"%s\", \"epochs\": %zu, \"best_epoch\": %zu, "
               "\"valid\": {\"%s\": %.6f}, \"seconds\": %.2f}\n",
               reco_trial_id(trial), text, reco_trial_epochs(trial), reco_trial_best_epoch(trial),
               label, reco_trial_score(trial), reco_trial_seconds(trial));
    else
        printf("trial %3zu  %-72s  trained %3zu  valid %s %.4f  %6.1f s\n", reco_trial_id(trial),
               text, reco_trial_epochs(trial), label, reco_trial_score(trial),
               reco_trial_seconds(trial));
    fflush(stdout);
    return 0;
}

/* The chosen settings trained anew for their best epoch count on the
 * training + validation rows (or on the training rows alone), then tested. */
static reco_status final_model(const tune_context *context, const reco_trial *best, int retrain,
                               run *final, settings *chosen)
{
    *chosen = trial_settings(context->base, best);
    const run *data = context->data;
    *final = (run){.all = data->all, .train = retrain ? data->seen : data->train,
                   .test = data->test, .seen = data->seen};
    reco_status status = job_build(chosen, final);
    if (status == RECO_OK)
        status = reco_trainer_fit(final->trainer, final->train, chosen->epochs);
    return status;
}

/* Searches with the library's tuner, this command's builder and report. */
static reco_status search(const settings *s, const tune_context *context, double budget,
                          size_t trials, size_t max_epochs, reco_tuner **tuner)
{
    reco_status status = reco_tuner_new(s->kind, s->loss, tuner);
    if (status == RECO_OK)
        status = reco_tuner_set_budget(*tuner, budget, trials);
    if (status == RECO_OK)
        status = reco_tuner_set_max_epochs(*tuner, max_epochs);
    if (status == RECO_OK)
        status = reco_tuner_set_seed(*tuner, s->seed);
    if (status == RECO_OK)
        status = reco_tuner_set_builder(*tuner, build_trial, (void *)context);
    if (status == RECO_OK)
        status = reco_tuner_set_report(*tuner, report_trial, (void *)context);
    if (status == RECO_OK && !s->json)
        printf("tuning %s on %zu training rows, choosing on %zu validation rows; budget %.0f s%s\n",
               reco_model_kind_name(s->kind), reco_dataset_size(context->data->train),
               reco_dataset_size(context->data->valid), budget, trials ? " or the trials" : "");
    if (status == RECO_OK)
        status = reco_tuner_run(*tuner, NULL, context->data->train, context->data->valid,
                                s->metrics[0], s->k);
    return status;
}

/* The chosen settings as a reco train line, the test metrics, the model;
 * `search_seconds` is the search's time, the refit's is told apart. */
static reco_status conclude(const settings *s, const tune_context *context,
                            const reco_tuner *tuner, int retrain, double search_seconds)
{
    const reco_trial *best = reco_tuner_best(tuner);
    char text[256];
    reco_trial_flags(best, text, sizeof text);
    run final;
    settings chosen;
    double refit_started = seconds_now();
    reco_status status = final_model(context, best, retrain, &final, &chosen);
    double refit_seconds = seconds_now() - refit_started;
    double values[JOB_MAX_METRICS];
    if (status == RECO_OK)
        status = job_evaluate(&chosen, &final, 0, values);
    if (status == RECO_OK && s->json) {
        printf("{\"chosen\": \"--model %s %s\", \"trials\": %zu, \"seconds\": %.1f, "
               "\"retrained\": %s",
               reco_model_kind_name(s->kind), text, reco_tuner_trials_run(tuner),
               search_seconds, retrain ? "true" : "false");
        job_print_metrics(stdout, s, values, 1, 0);
        printf("}\n");
    } else if (status == RECO_OK) {
        printf("chosen after %zu trials in %.0f s of search: reco train --model %s %s\n",
               reco_tuner_trials_run(tuner), search_seconds, reco_model_kind_name(s->kind), text);
        printf("test (%s, %.0f s):", retrain ? "retrained on training + validation rows"
                                     : "the trial's settings, trained without the validation rows",
               refit_seconds);
        job_print_metrics(stdout, s, values, 0, 0);
        printf("\n");
    }
    if (status == RECO_OK && s->out) {
        status = job_describe(&chosen, &final, NULL);
        if (status == RECO_OK)
            status = reco_model_set_metadata(final.model, "tune.chosen", text);
        if (status == RECO_OK)
            status = reco_model_save(final.model, s->out);
    }
    final.all = final.train = final.test = final.seen = NULL; /* the tuner's data */
    job_run_free(&final);
    return status;
}

static int command_tune(options *opts)
{
    int ok = 1;
    double budget = option_number(opts, "budget", 300.0, 0.0, 1e7, &ok);
    size_t trials = option_count(opts, "trials", 0, 0, 100000, &ok);
    size_t max_epochs = option_count(opts, "max-epochs", 0, 0, 100000, &ok);
    int retrain = !option_switch(opts, "no-retrain");
    if (!ok)
        return EXIT_USAGE;
    if (option_switch(opts, "valid")) {
        usage_error(opts, "reco tune carves its validation rows from the training rows; no --valid");
        return EXIT_USAGE;
    }
    if (ranks_world() > 1) {
        usage_error(opts, "reco tune runs on one rank; start it without mpirun");
        return EXIT_USAGE;
    }
    settings s;
    int code = job_read_settings(opts, &s, 0);
    if (code != EXIT_OK)
        return code;
    /* validation from training rows: the latest of each user, or a tenth */
    if (s.train_file || s.leave_one_out)
        s.valid_from_train = 1;
    else if (s.valid_fraction <= 0.0)
        s.valid_fraction = 0.1;
    s.keep_last = 0;
    run data = {0};
    tune_context context = {&s, &data, s.json};
    reco_tuner *tuner = NULL;
    reco_status status = job_load(&s, &data, NULL);
    if (status != RECO_OK) {
        job_run_free(&data);
        return fail(s.train_file ? "pre-split data" : s.data ? s.data : "synthetic data", status);
    }
    status = reco_backend_open(s.backend, &data.backend);
    double started = seconds_now();
    if (status == RECO_OK)
        status = search(&s, &context, budget, trials, max_epochs, &tuner);
    if (status == RECO_OK)
        status = conclude(&s, &context, tuner, retrain, seconds_now() - started);
    reco_tuner_free(tuner);
    job_run_free(&data);
    return status == RECO_OK ? EXIT_OK : fail("tuning", status);
}

static const flag_spec tune_flags[] = {
    {"data", "FILE", "synthetic", "ratings to split (any format reco reads; - for stdin)"},
    {"train", "FILE", NULL, "pre-split training file (with --test)"},
    {"test", "FILE", NULL, "pre-split test file, read with the training file's ids"},
    {"test-negatives-file", "FILE", NULL, "an NCF .negative file for the test rows"},
    {"split", "loo|random", "loo (random for MSE)", "leave-one-out or random holdout"},
    {"test-fraction", "F", "0.2", "random holdout share"},
    {"test-negatives", "N", "99", "sampled negatives per test (and validation) user"},
    {"valid-fraction", "F", "0.1", "random split: the validation share of the rows"},
    {"budget", "SECONDS", "300", "stop drawing trials after this long (0: only --trials)"},
    {"trials", "N", "0 (the budget)", "stop after N trials"},
    {"max-epochs", "N", "48 (iALS 18, EASE and kNN 1)", "epochs of a trial that survives"},
    {"no-retrain", NULL, NULL, "test the best trial's model instead of retraining on "
                               "training + validation rows"},
    {"out", "FILE", NULL, "save the chosen model, its settings in the metadata"},
    JOB_MODEL_FLAGS,
    {NULL}};

const command_spec tune_command = {
    "tune", "search a model's settings on a validation holdout, then test the best once",
    command_tune, tune_flags};

/* reco tune: searches a model family's settings on a validation holdout
 * carved from the training rows (each user's latest training row for the
 * sampled protocol, a tenth of them for ratings), never on the test set.
 *
 * Successive halving (Jamieson and Talwalkar 2016), two rungs: a round
 * draws `width` settings from the seed, trains each for a third of the most
 * epochs, keeps the best third by the validation metric and trains those to
 * the most epochs; rounds repeat while the budget (seconds, or trials)
 * lasts. Shorter first rungs judged too early: iALS at 2 epochs ranks wide
 * factors below narrow ones that end worse. The chosen settings are
 * printed as a `reco train` line, retrained on training + validation rows
 * (unless --no-retrain) for the epochs they were best at, and tested once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* Settings drawn per trial; the rest come from the command's flags. */
typedef struct trial {
    size_t id;
    settings s;
    run r;            /* its model and trainer; the data is the tuner's */
    size_t epochs;    /* trained so far */
    size_t best_epoch; /* 1-based, of its best validation value */
    double value;     /* that value */
    double seconds;
    int alive;
} trial;

typedef struct tuner {
    const settings *base;
    run data;            /* train (without validation), valid, test, all, seen */
    uint64_t rng;
    double budget, started;
    size_t max_trials, trials_run, max_epochs;
    int json, lower_is_better;
    trial best;          /* settings of the best so far (no model) */
    int has_best;
} tuner;

static double uniform(tuner *t)
{
    /* SplitMix64: the draws depend on --seed alone */
    uint64_t z = (t->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double log_uniform(tuner *t, double low, double high)
{
    return exp(log(low) + uniform(t) * (log(high) - log(low)));
}

static size_t pick_size(tuner *t, const size_t *choices, size_t n)
{
    size_t i = (size_t)(uniform(t) * (double)n);
    return choices[i < n ? i : n - 1];
}

/* The family's search space. */
static void draw(tuner *t, settings *s)
{
    static const size_t ials_factors[] = {64, 128, 192, 256};
    static const size_t mf_factors[] = {32, 64, 128};
    static const size_t neighbours[] = {10, 20, 50, 100, 200, 400};
    static const size_t negatives[] = {4, 8, 16};
    switch (s->kind) {
    case RECO_MODEL_IALS:
        s->factors = pick_size(t, ials_factors, 4);
        s->weight_decay = log_uniform(t, 2e-3, 2e-2);
        s->unobserved_weight = log_uniform(t, 0.03, 1.0);
        break;
    case RECO_MODEL_EASE:
        s->weight_decay = log_uniform(t, 10.0, 1e4);
        break;
    case RECO_MODEL_ITEM_KNN:
        s->neighbours = pick_size(t, neighbours, 6);
        s->weighting = (reco_weighting)(uniform(t) * 3.0);
        break;
    case RECO_MODEL_MF:
        s->factors = pick_size(t, mf_factors, 3);
        if (s->loss == RECO_LOSS_MSE) { /* ratings: Adam, biases */
            s->biases = 1;
            s->lr = log_uniform(t, 3e-4, 1e-2);
            s->weight_decay = log_uniform(t, 1e-6, 1e-3);
        } else { /* implicit: SGD on the batch mean, large steps (Rendle et al. 2020) */
            s->optimizer = RECO_OPTIMIZER_SGD;
            s->biases = 1;
            s->init_std = 0.1;
            s->negatives = pick_size(t, negatives, 3);
            s->lr = log_uniform(t, 1.0, 4.0); /* below 1, 16 epochs reached HR@10 0.5 */
            s->weight_decay = log_uniform(t, 3e-6, 1e-4);
        }
        break;
    default: /* GMF, MLP, NeuMF: Adam */
        s->factors = pick_size(t, mf_factors, 3);
        s->negatives = pick_size(t, negatives, 3);
        s->lr = log_uniform(t, 3e-4, 1e-2);
        break;
    }
}

/* The settings a trial drew, as reco train flags. */
static void describe(const settings *s, char *text, size_t size)
{
    switch (s->kind) {
    case RECO_MODEL_IALS:
        snprintf(text, size, "--factors %zu --weight-decay %.3g --unobserved-weight %.3g",
                 s->factors, s->weight_decay, s->unobserved_weight);
        break;
    case RECO_MODEL_EASE:
        snprintf(text, size, "--weight-decay %.4g", s->weight_decay);
        break;
    case RECO_MODEL_ITEM_KNN:
        snprintf(text, size, "--neighbours %zu --weighting %s", s->neighbours,
                 job_weightings[s->weighting]);
        break;
    default: {
        int used = snprintf(text, size, "--factors %zu%s --optimizer %s --lr %.3g --weight-decay %.3g",
                            s->factors, s->biases ? " --biases" : "", job_optimizers[s->optimizer],
                            s->lr, s->weight_decay);
        if (used > 0 && (size_t)used < size && s->loss != RECO_LOSS_MSE)
            used += snprintf(text + used, size - (size_t)used, " --negatives %zu", s->negatives);
        if (used > 0 && (size_t)used < size && s->init_std != 0.01)
            snprintf(text + used, size - (size_t)used, " --init-std %.3g", s->init_std);
        break;
    }
    }
}

static int better(const tuner *t, double a, double b)
{
    return t->lower_is_better ? a < b : a > b;
}

/* A trial's model and trainer on the tuner's data. */
static reco_status trial_start(tuner *t, trial *trial)
{
    trial->r = (run){.all = t->data.all, .train = t->data.train, .test = t->data.test,
                     .valid = t->data.valid, .seen = t->data.seen};
    return job_build(&trial->s, &trial->r);
}

static void trial_stop(trial *trial)
{
    reco_trainer_free(trial->r.trainer);
    reco_model_free(trial->r.model);
    reco_metrics_free(trial->r.metrics);
    reco_backend_free(trial->r.backend);
    trial->r = (run){0};
}

/* Trains a trial up to `epochs` and reads its best validation value. */
static reco_status trial_train(tuner *t, trial *trial, size_t epochs)
{
    double started = seconds_now();
    reco_status status = reco_trainer_fit(trial->r.trainer, t->data.train, epochs - trial->epochs);
    size_t best_epoch;
    if (status == RECO_OK)
        status = reco_trainer_best(trial->r.trainer, &best_epoch, &trial->value);
    trial->seconds += seconds_now() - started;
    if (status != RECO_OK)
        return status;
    trial->epochs = epochs;
    trial->best_epoch = best_epoch + 1;
    char text[256], label[32];
    describe(&trial->s, text, sizeof text);
    job_metric_label(t->base, 0, label);
    if (t->json)
        printf("{\"trial\": %zu, \"settings\": \"%s\", \"epochs\": %zu, \"best_epoch\": %zu, "
               "\"valid\": {\"%s\": %.6f}, \"seconds\": %.2f}\n",
               trial->id, text, epochs, trial->best_epoch, label, trial->value, trial->seconds);
    else
        printf("trial %3zu  %-62s  epochs %3zu  valid %s %.4f (epoch %zu)  %6.1f s\n", trial->id,
               text, epochs, label, trial->value, trial->best_epoch, trial->seconds);
    fflush(stdout);
    if (!t->has_best || better(t, trial->value, t->best.value)) {
        t->best = *trial;
        t->best.r = (run){0};
        t->has_best = 1;
    }
    return RECO_OK;
}

static int out_of_time(const tuner *t)
{
    return t->budget > 0.0 && seconds_now() - t->started >= t->budget;
}

/* No new trial once the time or the trials are spent; trials drawn still
 * finish their round unless the time is. */
static int out_of_budget(const tuner *t)
{
    return out_of_time(t) || (t->max_trials && t->trials_run >= t->max_trials);
}

/* Sorts trials best first (insertion sort: a round has a few dozen). */
static void rank_trials(const tuner *t, trial *trials, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && better(t, trials[j].value, trials[j - 1].value); j--) {
            trial swap = trials[j];
            trials[j] = trials[j - 1];
            trials[j - 1] = swap;
        }
}

/* One bracket of successive halving: `width` trials at the first rung. */
static reco_status run_round(tuner *t, size_t width)
{
    trial *trials = calloc(width, sizeof *trials);
    if (!trials)
        return RECO_ERR_OUT_OF_MEMORY;
    reco_status status = RECO_OK;
    size_t n = 0, epochs = t->max_epochs / 3 ? t->max_epochs / 3 : 1;
    for (; n < width && status == RECO_OK && !out_of_budget(t); n++) {
        trials[n].id = ++t->trials_run;
        trials[n].s = *t->base;
        draw(t, &trials[n].s);
        trials[n].s.epochs = t->max_epochs;
        status = trial_start(t, &trials[n]);
        if (status == RECO_OK)
            status = trial_train(t, &trials[n], epochs);
    }
    size_t alive = n;
    if (status == RECO_OK && epochs < t->max_epochs && !out_of_time(t)) {
        rank_trials(t, trials, alive);
        size_t kept = (alive + 2) / 3;
        for (size_t i = kept; i < alive; i++)
            trial_stop(&trials[i]);
        alive = kept;
        for (size_t i = 0; i < alive && status == RECO_OK && !out_of_time(t); i++)
            status = trial_train(t, &trials[i], t->max_epochs);
    }
    for (size_t i = 0; i < alive; i++)
        trial_stop(&trials[i]);
    free(trials);
    return status;
}

/* The chosen settings trained anew for their best epoch count on the
 * training + validation rows (or on the training rows alone), then tested. */
static reco_status final_model(tuner *t, int retrain, run *final, settings *chosen)
{
    *chosen = t->best.s;
    chosen->epochs = t->best.best_epoch;
    *final = (run){.all = t->data.all, .train = retrain ? t->data.seen : t->data.train,
                   .test = t->data.test, .seen = t->data.seen};
    reco_status status = job_build(chosen, final);
    if (status == RECO_OK)
        status = reco_trainer_fit(final->trainer, final->train, chosen->epochs);
    return status;
}

static int command_tune(options *opts)
{
    settings s;
    if (!job_read_settings(opts, &s, 0))
        return EXIT_USAGE;
    if (s.valid_file) {
        usage_error(opts, "reco tune carves its validation rows from the training rows; no --valid");
        return EXIT_USAGE;
    }
    int ok = 1;
    tuner t = {.base = &s,
               .rng = s.seed,
               .budget = option_number(opts, "budget", 300.0, 0.0, 1e7, &ok),
               .max_trials = option_count(opts, "trials", 0, 0, 100000, &ok),
               .max_epochs = option_count(opts, "max-epochs", 0, 0, 100000, &ok),
               .json = s.json,
               .lower_is_better = s.metrics[0] >= RECO_METRIC_RMSE};
    if (!ok)
        return EXIT_USAGE;
    int closed_form = s.kind == RECO_MODEL_EASE || s.kind == RECO_MODEL_ITEM_KNN;
    if (!t.max_epochs)
        t.max_epochs = closed_form ? 1 : s.kind == RECO_MODEL_IALS ? 18 : 48;
    /* validation from training rows: the latest of each user, or a tenth */
    if (s.train_file || s.leave_one_out)
        s.valid_from_train = 1;
    else if (s.valid_fraction <= 0.0)
        s.valid_fraction = 0.1;
    s.keep_last = 0;
    reco_status status = job_load(&s, &t.data, NULL);
    if (status != RECO_OK) {
        job_run_free(&t.data);
        return fail(s.train_file ? "pre-split data" : s.data ? s.data : "synthetic data", status);
    }
    if (!s.json)
        printf("tuning %s on %zu training rows, choosing on %zu validation rows; budget %.0f s%s\n",
               reco_model_kind_name(s.kind), reco_dataset_size(t.data.train),
               reco_dataset_size(t.data.valid), t.budget, t.max_trials ? " or the trials" : "");
    t.started = seconds_now();
    size_t width = closed_form ? 1 : 9;
    do
        status = run_round(&t, width);
    while (status == RECO_OK && (t.budget > 0.0 || t.max_trials) && !out_of_budget(&t));
    if (status != RECO_OK || !t.has_best) {
        job_run_free(&t.data);
        return fail("tuning", status != RECO_OK ? status : RECO_ERR_STATE);
    }
    char text[256];
    describe(&t.best.s, text, sizeof text);
    int retrain = !option_switch(opts, "no-retrain");
    run final;
    settings chosen;
    status = final_model(&t, retrain, &final, &chosen);
    double values[JOB_MAX_METRICS];
    if (status == RECO_OK)
        status = job_evaluate(&chosen, &final, 0, values);
    if (status == RECO_OK && s.json) {
        printf("{\"chosen\": \"--model %s %s --epochs %zu\", \"trials\": %zu, \"seconds\": %.1f, "
               "\"retrained\": %s",
               reco_model_kind_name(s.kind), text, chosen.epochs, t.trials_run,
               seconds_now() - t.started, retrain ? "true" : "false");
        job_print_metrics(stdout, &s, values, 1, 0);
        printf("}\n");
    } else if (status == RECO_OK) {
        printf("chosen after %zu trials in %.0f s: reco train --model %s %s --epochs %zu\n",
               t.trials_run, seconds_now() - t.started, reco_model_kind_name(s.kind), text,
               chosen.epochs);
        printf("test (%s):", retrain ? "retrained on training + validation rows"
                                     : "the trial's model, trained without the validation rows");
        job_print_metrics(stdout, &s, values, 0, 0);
        printf("\n");
    }
    if (status == RECO_OK && s.out) {
        status = job_describe(&chosen, &final, NULL);
        if (status == RECO_OK)
            status = reco_model_set_metadata(final.model, "tune.chosen", text);
        if (status == RECO_OK)
            status = reco_model_save(final.model, s.out);
    }
    reco_trainer_free(final.trainer);
    reco_model_free(final.model);
    reco_metrics_free(final.metrics);
    reco_backend_free(final.backend);
    job_run_free(&t.data);
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

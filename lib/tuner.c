/* The tuner: each family's search space, and successive halving
 * (Jamieson and Talwalkar 2016) over it within a time or trial budget.
 *
 * Two rungs: a round draws `width` settings, trains each for a third of the
 * most epochs, keeps the best third by the validation value and trains those
 * to the most epochs; rounds repeat while the budget lasts. Shorter first
 * rungs judged too early: iALS at 2 epochs ranks wide factors below narrow
 * ones that end worse.
 *
 * A trial scores its best epoch's value averaged with its neighbours'. The
 * best single epoch favoured noisy settings: on ml-1m, 32-factor MF with
 * large steps swung by 0.005 HR@10 from epoch to epoch, won on one lucky
 * validation epoch and then tested 0.005 below steadier 64-factor runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reco/tuner.h"
#include "reco_alloc.h"
#include "rng.h"
#include "trainer_impl.h"

#define N_SETTINGS (RECO_SETTING_EPOCHS + 1)
#define ROUND_WIDTH 9         /* trials a round starts (closed forms: 1) */
#define SEED_STREAM 0x7475u   /* the draws' own stream of the seed */

/* A trial's validation value after each epoch; its own allocation, so the
 * trainer's epoch callback may keep pointing at it while trials are sorted. */
typedef struct epoch_values {
    const struct reco_tuner *tuner; /* whose budget ends a fit between epochs */
    size_t count, capacity;
    double value[];
} epoch_values;

struct reco_trial {
    size_t id;
    double values[N_SETTINGS]; /* NAN: not drawn */
    size_t epochs, best_epoch; /* trained so far; the best, 1-based */
    double score, seconds;
    reco_model *model;
    reco_trainer *trainer;
    epoch_values *history;
};

/* What the library's builder needs besides the trial. */
typedef struct default_build {
    const reco_tuner *tuner;
    reco_backend *backend;
    const reco_dataset *train;
} default_build;

struct reco_tuner {
    reco_model_kind kind;
    reco_loss loss;
    uint64_t seed;
    size_t threads, max_epochs, max_trials, trials_run;
    double budget, started;
    reco_rng rng;
    reco_trial_build_fn build;
    void *build_data;
    reco_trial_fn report;
    void *report_data;
    int lower_is_better, stopped, has_best;
    reco_trial best; /* settings and scores only: no model */
};

static int closed_form(reco_model_kind kind)
{
    return kind == RECO_MODEL_EASE || kind == RECO_MODEL_ITEM_KNN;
}

static double log_uniform(reco_tuner *tuner, double low, double high)
{
    return exp(log(low) + reco_rng_uniform(&tuner->rng) * (log(high) - log(low)));
}

static double pick(reco_tuner *tuner, const double *choices, size_t count)
{
    return choices[reco_rng_below(&tuner->rng, count)];
}

/* The family's search space: ranges where tuning on ml-1m and ml-100k found
 * its best settings, wide enough for data of other shapes. */
static void draw(reco_tuner *tuner, double *values)
{
    static const double ials_factors[] = {64, 128, 192, 256};
    static const double mf_factors[] = {32, 64, 128};
    static const double neighbours[] = {10, 20, 50, 100, 200, 400};
    static const double negatives[] = {4, 8, 16};
    static const double weightings[] = {RECO_WEIGHTING_COSINE, RECO_WEIGHTING_TFIDF,
                                        RECO_WEIGHTING_BM25};
    for (size_t i = 0; i < N_SETTINGS; i++)
        values[i] = NAN;
    switch (tuner->kind) {
    case RECO_MODEL_IALS:
        values[RECO_SETTING_FACTORS] = pick(tuner, ials_factors, 4);
        values[RECO_SETTING_WEIGHT_DECAY] = log_uniform(tuner, 2e-3, 2e-2);
        values[RECO_SETTING_UNOBSERVED_WEIGHT] = log_uniform(tuner, 0.03, 1.0);
        break;
    case RECO_MODEL_EASE:
        values[RECO_SETTING_WEIGHT_DECAY] = log_uniform(tuner, 10.0, 1e4);
        break;
    case RECO_MODEL_ITEM_KNN:
        values[RECO_SETTING_NEIGHBOURS] = pick(tuner, neighbours, 6);
        values[RECO_SETTING_WEIGHTING] = pick(tuner, weightings, 3);
        break;
    case RECO_MODEL_MF:
        values[RECO_SETTING_BIASES] = 1;
        if (tuner->loss == RECO_LOSS_MSE) { /* ratings: Adam; below 2e-4 decay, it overfits */
            values[RECO_SETTING_FACTORS] = pick(tuner, mf_factors, 3);
            values[RECO_SETTING_OPTIMIZER] = RECO_OPTIMIZER_ADAM;
            values[RECO_SETTING_LEARNING_RATE] = log_uniform(tuner, 5e-4, 5e-3);
            values[RECO_SETTING_WEIGHT_DECAY] = log_uniform(tuner, 2e-4, 3e-3);
        } else { /* implicit: SGD on the batch mean, large steps (Rendle et al. 2020) */
            /* on ml-1m 32 factors or 4 negatives tested HR@10 0.005 below 64
             * factors with 8; 16 negatives doubled an epoch for no gain */
            values[RECO_SETTING_FACTORS] = pick(tuner, mf_factors + 1, 2);
            values[RECO_SETTING_NEGATIVES] = 8;
            values[RECO_SETTING_OPTIMIZER] = RECO_OPTIMIZER_SGD;
            values[RECO_SETTING_INIT_STD] = 0.1;
            /* below 1.5, 16 epochs stayed under HR@10 0.66 on ml-1m; below
             * 1.5e-5 decay the runs peaked by epoch 22 and fell 0.01 by 48 */
            values[RECO_SETTING_LEARNING_RATE] = log_uniform(tuner, 1.5, 4.0);
            values[RECO_SETTING_WEIGHT_DECAY] = log_uniform(tuner, 1.5e-5, 5e-5);
        }
        break;
    default: /* GMF, MLP, NeuMF: Adam */
        values[RECO_SETTING_FACTORS] = pick(tuner, mf_factors, 3);
        values[RECO_SETTING_NEGATIVES] = pick(tuner, negatives, 3);
        values[RECO_SETTING_LEARNING_RATE] = log_uniform(tuner, 3e-4, 1e-2);
        break;
    }
}

reco_status reco_tuner_new(reco_model_kind kind, reco_loss loss, reco_tuner **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (!reco_model_kind_name(kind))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "model kind %d: no such kind", (int)kind);
    if (loss != RECO_LOSS_BCE && loss != RECO_LOSS_MSE && loss != RECO_LOSS_BPR)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "loss %d: no such loss", (int)loss);
    reco_tuner *tuner = reco_calloc(1, sizeof *tuner);
    if (!tuner)
        return reco_fail_oom();
    tuner->kind = kind;
    tuner->loss = loss;
    tuner->seed = 42;
    *out = tuner;
    return RECO_OK;
}

void reco_tuner_free(reco_tuner *tuner)
{
    reco_free(tuner);
}

reco_status reco_tuner_set_budget(reco_tuner *tuner, double seconds, size_t trials)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    if (!(seconds >= 0.0) || !isfinite(seconds))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "budget %g s: expected 0 or more", seconds);
    tuner->budget = seconds;
    tuner->max_trials = trials;
    return RECO_OK;
}

reco_status reco_tuner_set_max_epochs(reco_tuner *tuner, size_t epochs)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    tuner->max_epochs = epochs;
    return RECO_OK;
}

reco_status reco_tuner_set_seed(reco_tuner *tuner, uint64_t seed)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    tuner->seed = seed;
    return RECO_OK;
}

reco_status reco_tuner_set_threads(reco_tuner *tuner, size_t threads)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    tuner->threads = threads;
    return RECO_OK;
}

reco_status reco_tuner_set_builder(reco_tuner *tuner, reco_trial_build_fn build, void *user_data)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    tuner->build = build;
    tuner->build_data = user_data;
    return RECO_OK;
}

reco_status reco_tuner_set_report(reco_tuner *tuner, reco_trial_fn report, void *user_data)
{
    if (!tuner)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner");
    tuner->report = report;
    tuner->report_data = user_data;
    return RECO_OK;
}

static int is_set(const reco_trial *trial, reco_setting setting)
{
    return !isnan(trial->values[setting]);
}

static size_t count_of(const reco_trial *trial, reco_setting setting)
{
    return (size_t)trial->values[setting];
}

static reco_status configure_model(const reco_trial *trial, reco_model *model)
{
    reco_status status = RECO_OK;
    if (is_set(trial, RECO_SETTING_FACTORS))
        status = reco_model_set_factors(model, count_of(trial, RECO_SETTING_FACTORS));
    if (status == RECO_OK && is_set(trial, RECO_SETTING_BIASES))
        status = reco_model_set_biases(model, trial->values[RECO_SETTING_BIASES] != 0.0);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_INIT_STD))
        status = reco_model_set_init_std(model, (float)trial->values[RECO_SETTING_INIT_STD]);
    return status;
}

static reco_status configure_trainer(const reco_tuner *tuner, const reco_trial *trial,
                                     reco_trainer *trainer)
{
    const double *values = trial->values;
    reco_status status = reco_trainer_set_loss(trainer, tuner->loss);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_OPTIMIZER))
        status = reco_trainer_set_optimizer(trainer, (reco_optimizer)values[RECO_SETTING_OPTIMIZER]);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_LEARNING_RATE))
        status = reco_trainer_set_learning_rate(trainer, values[RECO_SETTING_LEARNING_RATE]);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_WEIGHT_DECAY))
        status = reco_trainer_set_weight_decay(trainer, values[RECO_SETTING_WEIGHT_DECAY]);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_NEGATIVES))
        status = reco_trainer_set_negatives(trainer, count_of(trial, RECO_SETTING_NEGATIVES));
    if (status == RECO_OK && is_set(trial, RECO_SETTING_UNOBSERVED_WEIGHT))
        status = reco_trainer_set_unobserved_weight(trainer, values[RECO_SETTING_UNOBSERVED_WEIGHT]);
    if (status == RECO_OK && is_set(trial, RECO_SETTING_NEIGHBOURS))
        status = reco_trainer_set_neighbours(trainer, count_of(trial, RECO_SETTING_NEIGHBOURS),
                                             (reco_weighting)values[RECO_SETTING_WEIGHTING]);
    if (status == RECO_OK)
        status = reco_trainer_set_seed(trainer, tuner->seed);
    if (status == RECO_OK)
        status = reco_trainer_set_threads(trainer, tuner->threads);
    return status;
}

/* The library's builder: a model with the training set's ids, the drawn
 * settings over the library's defaults. */
static reco_status build_default(const reco_trial *trial, void *user_data, reco_model **model,
                                 reco_trainer **trainer)
{
    const default_build *context = user_data;
    const reco_tuner *tuner = context->tuner;
    reco_status status = reco_model_new(tuner->kind, reco_dataset_n_users(context->train),
                                        reco_dataset_n_items(context->train), model);
    if (status == RECO_OK)
        status = reco_model_set_vocabulary(*model, context->train);
    if (status == RECO_OK)
        status = configure_model(trial, *model);
    if (status == RECO_OK)
        status = reco_model_init(*model, context->backend, tuner->seed);
    if (status == RECO_OK)
        status = reco_trainer_new(*model, trainer);
    if (status == RECO_OK)
        status = configure_trainer(tuner, trial, *trainer);
    return status;
}

static void trial_stop(reco_trial *trial)
{
    reco_trainer_free(trial->trainer);
    reco_model_free(trial->model);
    reco_free(trial->history);
    trial->trainer = NULL;
    trial->model = NULL;
    trial->history = NULL;
}

static int better(const reco_tuner *tuner, double a, double b)
{
    return tuner->lower_is_better ? a < b : a > b;
}

static int out_of_time(const reco_tuner *tuner)
{
    return tuner->stopped ||
           (tuner->budget > 0.0 && reco_seconds_now() - tuner->started >= tuner->budget);
}

/* No new trial once the time or the trials are spent. */
static int out_of_budget(const reco_tuner *tuner)
{
    return out_of_time(tuner) || (tuner->max_trials && tuner->trials_run >= tuner->max_trials);
}

/* What one round trains on and is scored by. */
typedef struct round_data {
    const reco_dataset *train, *valid;
    reco_metric metric;
    size_t k;
    reco_trial_build_fn build;
    void *build_data;
} round_data;

/* The trainer's epoch callback: records the value, and stops the fit when
 * the budget's time is spent, so a search overruns it by one epoch at most. */
static int record_epoch(const reco_epoch_report *report, void *user_data)
{
    epoch_values *history = user_data;
    if (report->validated && history->count < history->capacity)
        history->value[history->count++] = report->validation;
    return out_of_time(history->tuner);
}

static reco_status trial_start(const reco_tuner *tuner, const round_data *data,
                               reco_trial *trial)
{
    trial->history = reco_malloc(sizeof *trial->history + tuner->max_epochs * sizeof(double));
    if (!trial->history)
        return reco_fail_oom();
    trial->history->tuner = tuner;
    trial->history->count = 0;
    trial->history->capacity = tuner->max_epochs;
    reco_status status = data->build(trial, data->build_data, &trial->model, &trial->trainer);
    if (status == RECO_OK && (!trial->model || !trial->trainer))
        status = reco_fail(RECO_ERR_STATE, "the tuner's builder returned no model or trainer");
    if (status == RECO_OK)
        status = reco_trainer_set_validation(trial->trainer, data->valid, data->train,
                                             data->metric, data->k);
    if (status == RECO_OK)
        status = reco_trainer_set_epoch_callback(trial->trainer, record_epoch, trial->history);
    return status;
}

/* The best epoch (0-based) by its value averaged with its neighbours'. */
static size_t smoothed_best(const reco_tuner *tuner, const epoch_values *history, double *score)
{
    size_t best = 0;
    for (size_t epoch = 0; epoch < history->count; epoch++) {
        size_t first = epoch ? epoch - 1 : 0;
        size_t last = epoch + 1 < history->count ? epoch + 1 : epoch;
        double sum = 0.0;
        for (size_t e = first; e <= last; e++)
            sum += history->value[e];
        double mean = sum / (double)(last - first + 1);
        if (epoch == 0 || better(tuner, mean, *score)) {
            *score = mean;
            best = epoch;
        }
    }
    return best;
}

/* Trains a trial up to `epochs`, scores it, reports. */
static reco_status trial_train(reco_tuner *tuner, const round_data *data, reco_trial *trial,
                               size_t epochs)
{
    double started = reco_seconds_now();
    reco_status status = reco_trainer_fit(trial->trainer, data->train, epochs - trial->epochs);
    trial->seconds += reco_seconds_now() - started;
    if (status == RECO_OK && !trial->history->count)
        status = reco_fail(RECO_ERR_STATE, "a trial trained without validating");
    if (status != RECO_OK)
        return status;
    trial->epochs = trial->history->count; /* fewer than `epochs` when time ran out */
    trial->best_epoch = smoothed_best(tuner, trial->history, &trial->score) + 1;
    trial->values[RECO_SETTING_EPOCHS] = (double)trial->best_epoch;
    if (!tuner->has_best || better(tuner, trial->score, tuner->best.score)) {
        tuner->best = *trial;
        tuner->best.model = NULL;
        tuner->best.trainer = NULL;
        tuner->best.history = NULL;
        tuner->has_best = 1;
    }
    if (tuner->report && tuner->report(trial, tuner->report_data))
        tuner->stopped = 1;
    return RECO_OK;
}

/* Sorts trials best first (insertion sort: a round has a few). */
static void rank_trials(const reco_tuner *tuner, reco_trial *trials, size_t count)
{
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && better(tuner, trials[j].score, trials[j - 1].score); j--) {
            reco_trial swap = trials[j];
            trials[j] = trials[j - 1];
            trials[j - 1] = swap;
        }
}

static reco_status run_round(reco_tuner *tuner, const round_data *data)
{
    size_t width = closed_form(tuner->kind) ? 1 : ROUND_WIDTH;
    size_t first_rung = tuner->max_epochs / 3 ? tuner->max_epochs / 3 : 1;
    reco_trial *trials = reco_calloc(width, sizeof *trials);
    if (!trials)
        return reco_fail_oom();
    reco_status status = RECO_OK;
    size_t started = 0;
    for (; started < width && status == RECO_OK && !out_of_budget(tuner); started++) {
        reco_trial *trial = &trials[started];
        trial->id = ++tuner->trials_run;
        draw(tuner, trial->values);
        if (trial->id == 1) /* the builder's defaults: a search never ends below them */
            for (size_t i = 0; i < N_SETTINGS; i++)
                trial->values[i] = NAN;
        status = trial_start(tuner, data, trial);
        if (status == RECO_OK)
            status = trial_train(tuner, data, trial, first_rung);
    }
    size_t alive = started;
    if (status == RECO_OK && first_rung < tuner->max_epochs && !out_of_time(tuner)) {
        rank_trials(tuner, trials, alive);
        size_t kept = (alive + 2) / 3;
        for (size_t i = kept; i < alive; i++)
            trial_stop(&trials[i]);
        alive = kept;
        for (size_t i = 0; i < alive && status == RECO_OK && !out_of_time(tuner); i++)
            status = trial_train(tuner, data, &trials[i], tuner->max_epochs);
    }
    for (size_t i = 0; i < started; i++)
        trial_stop(&trials[i]);
    reco_free(trials);
    return status;
}

reco_status reco_tuner_run(reco_tuner *tuner, reco_backend *backend, const reco_dataset *train,
                           const reco_dataset *valid, reco_metric metric, size_t k)
{
    if (!tuner || !train || !valid)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner, training or validation set");
    if (!tuner->build && !backend)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "the library's builder needs a backend");
    if (!reco_dataset_size(valid))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "the validation set is empty: nothing to "
                                                    "choose settings on");
    default_build context = {tuner, backend, train};
    round_data data = {train, valid, metric, k, tuner->build ? tuner->build : build_default,
                       tuner->build ? tuner->build_data : &context};
    if (!tuner->max_epochs)
        tuner->max_epochs = closed_form(tuner->kind)          ? 1
                            : tuner->kind == RECO_MODEL_IALS ? 18
                                                             : 48;
    reco_rng_seed(&tuner->rng, tuner->seed, SEED_STREAM);
    tuner->lower_is_better = metric >= RECO_METRIC_RMSE;
    tuner->trials_run = 0;
    tuner->has_best = 0;
    tuner->stopped = 0;
    tuner->started = reco_seconds_now();
    reco_status status;
    do
        status = run_round(tuner, &data);
    while (status == RECO_OK && (tuner->budget > 0.0 || tuner->max_trials) &&
           !out_of_budget(tuner));
    if (status == RECO_OK && !tuner->has_best)
        status = reco_fail(RECO_ERR_STATE, "the budget ended before any trial was scored");
    return status;
}

const reco_trial *reco_tuner_best(const reco_tuner *tuner)
{
    return tuner && tuner->has_best ? &tuner->best : NULL;
}

size_t reco_tuner_trials_run(const reco_tuner *tuner)
{
    return tuner ? tuner->trials_run : 0;
}

reco_status reco_tuner_fit_best(const reco_tuner *tuner, reco_backend *backend,
                                const reco_dataset *train, reco_model **out)
{
    if (!tuner || !backend || !train || !out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL tuner, backend, data or output");
    *out = NULL;
    if (!tuner->has_best)
        return reco_fail(RECO_ERR_STATE, "the tuner has not run: no best trial");
    default_build context = {tuner, backend, train};
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status = build_default(&tuner->best, &context, &model, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, train, tuner->best.best_epoch);
    reco_trainer_free(trainer);
    if (status != RECO_OK)
        goto fail;
    *out = model;
    return RECO_OK;
fail:
    reco_model_free(model);
    return status;
}

size_t reco_trial_id(const reco_trial *trial)
{
    return trial ? trial->id : 0;
}

double reco_trial_setting(const reco_trial *trial, reco_setting setting)
{
    if (!trial || (int)setting < 0 || (int)setting >= N_SETTINGS)
        return NAN;
    return trial->values[setting];
}

size_t reco_trial_epochs(const reco_trial *trial)
{
    return trial ? trial->epochs : 0;
}

size_t reco_trial_best_epoch(const reco_trial *trial)
{
    return trial ? trial->best_epoch : 0;
}

double reco_trial_score(const reco_trial *trial)
{
    return trial ? trial->score : NAN;
}

double reco_trial_seconds(const reco_trial *trial)
{
    return trial ? trial->seconds : NAN;
}

size_t reco_trial_flags(const reco_trial *trial, char *text, size_t size)
{
    static const char *const optimizers[] = {"sgd", "adagrad", "adam", "adamw"};
    static const char *const weightings[] = {"cosine", "tfidf", "bm25"};
    char buffer[512];
    size_t used = 0;
    buffer[0] = '\0';
#define APPEND(...) used += (size_t)snprintf(buffer + used, sizeof buffer - used, __VA_ARGS__)
    if (trial) {
        const double *values = trial->values;
        if (is_set(trial, RECO_SETTING_FACTORS))
            APPEND(" --factors %zu", count_of(trial, RECO_SETTING_FACTORS));
        if (is_set(trial, RECO_SETTING_BIASES))
            APPEND(" %s", values[RECO_SETTING_BIASES] != 0.0 ? "--biases" : "--no-biases");
        if (is_set(trial, RECO_SETTING_OPTIMIZER))
            APPEND(" --optimizer %s", optimizers[count_of(trial, RECO_SETTING_OPTIMIZER) & 3]);
        if (is_set(trial, RECO_SETTING_LEARNING_RATE))
            APPEND(" --lr %.3g", values[RECO_SETTING_LEARNING_RATE]);
        if (is_set(trial, RECO_SETTING_WEIGHT_DECAY))
            APPEND(" --weight-decay %.3g", values[RECO_SETTING_WEIGHT_DECAY]);
        if (is_set(trial, RECO_SETTING_UNOBSERVED_WEIGHT))
            APPEND(" --unobserved-weight %.3g", values[RECO_SETTING_UNOBSERVED_WEIGHT]);
        if (is_set(trial, RECO_SETTING_NEGATIVES))
            APPEND(" --negatives %zu", count_of(trial, RECO_SETTING_NEGATIVES));
        if (is_set(trial, RECO_SETTING_INIT_STD))
            APPEND(" --init-std %.3g", values[RECO_SETTING_INIT_STD]);
        if (is_set(trial, RECO_SETTING_NEIGHBOURS))
            APPEND(" --neighbours %zu --weighting %s", count_of(trial, RECO_SETTING_NEIGHBOURS),
                   weightings[count_of(trial, RECO_SETTING_WEIGHTING) % 3]);
        if (is_set(trial, RECO_SETTING_EPOCHS))
            APPEND(" --epochs %zu", count_of(trial, RECO_SETTING_EPOCHS));
    }
#undef APPEND
    const char *flags = used ? buffer + 1 : buffer; /* no leading space */
    if (size)
        snprintf(text, size, "%s", flags);
    return strlen(flags);
}

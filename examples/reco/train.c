/* reco train: a model on a ratings file (or the synthetic data), evaluated
 * after every epoch, saved with its vocabulary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "ranks.h"
#include "session.h"
#include "svg.h"

/* The training loss on the test split: each test row with its test
 * negatives (BCE: targets 1 then 0; BPR: one pair per negative) or its
 * rating (MSE), in chunks. NaN when the split has no negatives to use. */
static double held_out_loss(const settings *s, run *r)
{
    enum { CHUNK = 4096 };
    static int32_t users[CHUNK], items[CHUNK], negatives[CHUNK];
    static float targets[CHUNK];
    const reco_dataset *test = r->test;
    int mse = s->loss == RECO_LOSS_MSE, bpr = s->loss == RECO_LOSS_BPR;
    if (mse && !reco_dataset_ratings(test))
        return NAN;
    double weighted = 0.0;
    size_t rows = 0, n = 0;
    for (size_t row = 0; row <= reco_dataset_size(test); row++) {
        size_t n_negatives = 0;
        const int32_t *list = row < reco_dataset_size(test) && !mse
                                  ? reco_dataset_test_negatives(test, row, &n_negatives)
                                  : NULL;
        if (!mse && row < reco_dataset_size(test) && !list)
            return NAN;
        size_t needed = mse ? 1 : bpr ? n_negatives : n_negatives + 1;
        if (n > 0 && (n + needed > CHUNK || row == reco_dataset_size(test))) {
            double loss;
            if (reco_trainer_batch_gradient(r->trainer, users, items, targets, negatives, n,
                                            &loss, NULL) != RECO_OK)
                return NAN;
            weighted += loss * (double)n;
            rows += n;
            n = 0;
        }
        if (row == reco_dataset_size(test) || needed > CHUNK)
            continue;
        int32_t user = reco_dataset_users(test)[row], item = reco_dataset_items(test)[row];
        if (mse || !bpr) {
            users[n] = user;
            items[n] = item;
            targets[n++] = mse ? reco_dataset_ratings(test)[row] : 1.0f;
        }
        for (size_t j = 0; !mse && j < n_negatives; j++, n++) {
            users[n] = user;
            items[n] = bpr ? item : list[j];
            negatives[n] = list[j];
            targets[n] = 0.0f;
        }
    }
    return rows ? weighted / (double)rows : NAN;
}

typedef struct progress_state {
    size_t epochs;
    size_t epoch;
    double started; /* of the epoch */
} progress_state;

/* A live progress line on a terminal (stderr), redrawn every 64 batches. */
static int draw_progress(const reco_progress *progress, void *user_data)
{
    progress_state *state = user_data;
    if (progress->epoch != state->epoch || progress->step == 1) {
        state->epoch = progress->epoch;
        state->started = seconds_now();
    }
    if (progress->step % 64 != 0 && progress->step != progress->steps)
        return 0;
    enum { BAR = 24 };
    char bar[BAR + 1];
    for (size_t i = 0; i < BAR; i++)
        bar[i] = i < progress->step * BAR / progress->steps ? '#' : '.';
    bar[BAR] = '\0';
    double elapsed = seconds_now() - state->started;
    double eta = elapsed * (double)(progress->steps - progress->step) / (double)progress->step;
    fprintf(stderr, "\repoch %zu/%zu [%s] %zu/%zu  loss %.4f  %.2fM samples/s  ETA %.0f s ",
            progress->epoch + 1, state->epochs, bar, progress->step, progress->steps,
            progress->loss, progress->samples_per_second / 1e6, eta);
    if (progress->step == progress->steps)
        fprintf(stderr, "\r%*s\r", 110, "");
    return 0;
}

/* Writes an epoch's line: text, or a JSON object (the history's form).
 * The model file's history (`timed` 0) has no wall times: the same data,
 * settings, seed and threads then give the same bytes. */
static void report(FILE *out, const settings *s, const reco_epoch_report *epoch,
                   const double *values, const double *valid, int json, int timed)
{
    /* a closed-form fit (EASE, item-kNN) has no loss: null, or a dash */
    int has_loss = !isnan(epoch->loss);
    if (json && has_loss)
        fprintf(out, "{\"epoch\": %zu, \"loss\": %.6f", epoch->epoch + 1, epoch->loss);
    else if (json)
        fprintf(out, "{\"epoch\": %zu, \"loss\": null", epoch->epoch + 1);
    else if (has_loss)
        fprintf(out, "epoch %3zu  loss %.4f  %6.2f s", epoch->epoch + 1, epoch->loss,
                epoch->seconds);
    else
        fprintf(out, "epoch %3zu  loss -       %6.2f s", epoch->epoch + 1, epoch->seconds);
    if (json && timed)
        fprintf(out, ", \"seconds\": %.3f", epoch->seconds);
    if (values)
        job_print_metrics(out, s, values, json, 0);
    if (valid && json) {
        fputs(", \"valid\": {", out);
        job_print_metrics(out, s, valid, json, 1);
        fputc('}', out);
    } else if (valid) {
        fputs("  | valid", out);
        job_print_metrics(out, s, valid, json, 0);
    }
    if (epoch->validated)
        fprintf(out,
                json ? ", \"validation\": %.6f, \"best_epoch\": %zu" : "  valid %.4f (best %zu)",
                epoch->validation, epoch->best_epoch + 1);
    fputs(json ? "}\n" : "\n", out);
    fflush(out);
}

/* What the epoch callback of reco train works with. */
typedef struct epoch_context {
    const settings *s;
    run *r;
    int leader;
    double *curves; /* training loss, test loss, then each test metric, per epoch */
    size_t done;
    FILE *history; /* JSON lines, kept in the model file */
    reco_status status;
} epoch_context;

/* After each epoch of fit: the test metrics (every --eval-every epochs and
 * at the last), the line, the curves, and the next epoch's learning rate.
 * Nonzero stops fit (a failure, kept). */
static int after_epoch(const reco_epoch_report *epoch, void *user_data)
{
    epoch_context *c = user_data;
    const settings *s = c->s;
    double values[JOB_MAX_METRICS], valid[JOB_MAX_METRICS];
    size_t i = c->done;
    int evaluated = (i + 1) % s->eval_every == 0 || i + 1 == s->epochs;
    int validated = evaluated && s->keep_last;
    if (evaluated)
        c->status = job_evaluate(s, c->r, 0, values);
    if (c->status == RECO_OK && validated)
        c->status = job_evaluate(s, c->r, 1, valid);
    if (c->status == RECO_OK && c->leader) {
        const double *shown = evaluated ? values : NULL, *checked = validated ? valid : NULL;
        if (evaluated)
            report(stdout, s, epoch, shown, checked, s->json, 1);
        if (c->history)
            report(c->history, s, epoch, shown, checked, 1, 0);
        c->curves[i] = epoch->loss;
        c->curves[s->epochs + i] = s->plot ? held_out_loss(s, c->r) : NAN;
        for (size_t m = 0; m < s->n_metrics; m++)
            c->curves[(m + 2) * s->epochs + i] = evaluated ? values[m] : NAN;
    }
    c->done++;
    if (c->status == RECO_OK)
        c->status = job_schedule(s, c->r, c->done);
    return c->status != RECO_OK;
}

/* Draws the losses and the test metrics per epoch (--plot). */
static int plot_curves(const settings *s, const double *curves, size_t n)
{
    svg_series losses[2] = {{"training loss", curves, n}, {"test loss", curves + s->epochs, n}};
    char names[JOB_MAX_METRICS][32];
    svg_series tests[JOB_MAX_METRICS];
    for (size_t m = 0; m < s->n_metrics; m++)
        tests[m] = (svg_series){job_metric_label(s, m, names[m]), curves + (m + 2) * s->epochs, n};
    /* no test loss without test negatives (full ranking): no empty legend entry */
    size_t n_losses = 1;
    for (size_t e = 0; e < n && n_losses == 1; e++)
        n_losses += isfinite(curves[s->epochs + e]) != 0;
    svg_panel panels[2] = {{"loss", losses, n_losses}, {"test metric", tests, s->n_metrics}};
    return svg_line_chart(s->plot, "reco train: losses and test metrics per epoch", panels, 2);
}

static int command_train(options *opts)
{
    settings s;
    int code = job_read_settings(opts, &s, 0);
    if (code != EXIT_OK)
        return code;
    run r = {0};
    reco_status status = job_load(&s, &r, NULL);
    if (status != RECO_OK) {
        job_run_free(&r);
        return fail(s.train_file ? "pre-split data" : s.data ? s.data : "synthetic data",
                    status);
    }
    if (reco_dataset_size(r.test) == 0) {
        fprintf(stderr, "reco: %s: the test split is empty (%zu rows of %zu users: too few to "
                "hold any out); give more data, or a test file (--train, --test)\n",
                s.data ? s.data : "the data", reco_dataset_size(r.all), reco_dataset_n_users(r.all));
        job_run_free(&r);
        return EXIT_RUNTIME;
    }
    if ((status = job_build(&s, &r)) != RECO_OK) {
        job_run_free(&r);
        return fail("setting up", status);
    }
    /* on several ranks only rank 0 prints and writes files */
    int leader = ranks_rank() == 0;
    if (leader && !s.json && ranks_world() > 1)
        printf("data-parallel over %d ranks: each trains %zu of every %zu samples\n", ranks_world(),
               s.batch / (size_t)ranks_world(), s.batch);
    char backend[256];
    if (reco_backend_describe(r.backend, backend, sizeof backend) != RECO_OK)
        snprintf(backend, sizeof backend, "%s", reco_backend_name(r.backend));
    const char *source = s.train_file ? s.train_file : s.data ? s.data : "synthetic data";
    size_t valid_rows = r.valid ? reco_dataset_size(r.valid) : 0;
    if (leader && s.json) {
        printf("{\"data\": ");
        write_json_string(stdout, source);
        printf(", \"users\": %zu, \"items\": %zu, \"rows\": %zu, \"test_rows\": %zu, "
               "\"valid_rows\": %zu, \"backend\": ",
               reco_dataset_n_users(r.all), reco_dataset_n_items(r.all), reco_dataset_size(r.train),
               reco_dataset_size(r.test), valid_rows);
        write_json_string(stdout, backend);
        printf("}\n");
    } else if (leader) {
        printf("training on %s: %zu users, %zu items, %zu training rows, %zu test rows", source,
               reco_dataset_n_users(r.all), reco_dataset_n_items(r.all), reco_dataset_size(r.train),
               reco_dataset_size(r.test));
        if (valid_rows)
            printf(", %zu validation rows", valid_rows);
        printf(", backend %s\n", backend);
    }
    /* training loss, test loss, each test metric */
    double *curves = calloc((2 + s.n_metrics) * s.epochs, sizeof *curves);
    char *history_text = NULL;
    size_t history_size = 0;
    FILE *history = leader ? open_memstream(&history_text, &history_size) : NULL;
    if (!curves || (leader && !history)) {
        free(curves);
        if (history)
            fclose(history);
        free(history_text);
        job_run_free(&r);
        return fail("training", RECO_ERR_OUT_OF_MEMORY);
    }
    progress_state progress = {s.epochs, 0, 0.0};
    if (leader && isatty(STDERR_FILENO) && !s.json)
        reco_trainer_set_progress(r.trainer, draw_progress, &progress);
    epoch_context context = {&s, &r, leader, curves, 0, history, RECO_OK};
    status = job_schedule(&s, &r, 0);
    if (status == RECO_OK)
        status = reco_trainer_set_epoch_callback(r.trainer, after_epoch, &context);
    if (status == RECO_OK)
        status = reco_trainer_fit(r.trainer, r.train, s.epochs);
    if (status == RECO_OK)
        status = context.status;
    size_t best_epoch;
    double best, values[JOB_MAX_METRICS];
    if (status == RECO_OK && r.valid &&
        reco_trainer_best(r.trainer, &best_epoch, &best) == RECO_OK &&
        (status = job_evaluate(&s, &r, 0, values)) == RECO_OK && leader && !s.json) {
        printf("kept epoch %zu (validation %.4f), on the test set:", best_epoch + 1, best);
        job_print_metrics(stdout, &s, values, 0, 0);
        printf("\n");
    }
    if (history)
        fclose(history);
    if (status == RECO_OK && leader && s.plot && !plot_curves(&s, curves, context.done)) {
        fprintf(stderr, "reco: cannot write %s\n", s.plot);
        free(curves);
        free(history_text);
        job_run_free(&r);
        return EXIT_RUNTIME;
    }
    free(curves);
    if (status == RECO_OK && leader && s.out)
        status = job_describe(&s, &r, history_text);
    free(history_text);
    if (status == RECO_OK && leader && s.out)
        status = reco_model_save(r.model, s.out);
    if (status == RECO_OK && leader && s.json)
        printf("{\"done\": true, \"epochs\": %zu, \"model\": %s%s%s}\n", context.done,
               s.out ? "\"" : "", s.out ? s.out : "null", s.out ? "\"" : "");
    else if (status == RECO_OK && leader && s.out)
        printf("saved %s\n", s.out);
    code = status == RECO_OK ? EXIT_OK : fail("training", status);
    job_run_free(&r);
    return code;
}

static const flag_spec train_flags[] = {
    {"data", "FILE", "synthetic", "ratings to split (any format reco reads; - for stdin)"},
    {"train", "FILE", NULL, "pre-split training file (with --test)"},
    {"test", "FILE", NULL, "pre-split test file, read with the training file's ids"},
    {"test-negatives-file", "FILE", NULL, "an NCF .negative file for the test rows"},
    {"valid", "FILE", NULL, "pre-split validation file: the best epoch's model is kept"},
    {"valid-from-train", NULL, NULL,
     "validation carved from the training rows (each user's latest; ratings: a tenth)"},
    {"patience", "N", "0 (never)",
     "stop after N epochs without a better validation value (--valid, --valid-fraction, "
     "--valid-from-train)"},
    {"split", "loo|random", "loo (random for MSE)", "leave-one-out or random holdout"},
    {"test-fraction", "F", "0.2", "random holdout share"},
    {"test-negatives", "N", "99", "sampled negatives per test user (NCF protocol)"},
    {"valid-fraction", "F", "0 (none)", "random split: a validation share too (best epoch kept)"},
    {"eval-every", "N", "1", "evaluate (and print) every N epochs, and after the last"},
    {"keep-last", NULL, NULL, "with a validation set: report it, keep the last epoch's model"},
    {"pretrained-gmf", "FILE", NULL, "NeuMF from this GMF model file (with --pretrained-mlp)"},
    {"pretrained-mlp", "FILE", NULL, "and this MLP model file, trained on the same ids"},
    {"alpha", "A", "0.5", "pretrained NeuMF head: A x GMF's, (1 - A) x MLP's"},
    {"out", "FILE", NULL, "save the trained model"},
    {"plot", "FILE.svg", NULL, "losses and test metrics per epoch as an SVG chart"},
    JOB_MODEL_FLAGS,
    {NULL}};

const command_spec train_command = {
    "train", "train a model, evaluate it after every epoch, save it", command_train, train_flags};

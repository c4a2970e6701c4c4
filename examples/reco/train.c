/* reco train: a model on a ratings file (or the synthetic data), evaluated
 * after every epoch, saved with its vocabulary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ranks.h"
#include "svg.h"

static int pick(const options *opts, const char *text, const char *const *names, int count,
                const char *flag, int *ok)
{
    char expected[128] = "";
    for (int i = 0; i < count; i++) {
        if (strcmp(text, names[i]) == 0)
            return i;
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
                 i ? ", " : "", names[i]);
    }
    usage_error(opts, "--%s %s: expected one of %s", flag, text, expected);
    *ok = 0;
    return 0;
}

static size_t parse_layers(const options *opts, const char *text, size_t *sizes, int *ok)
{
    size_t n = 0;
    for (const char *p = text; *p && n <= RECO_MAX_LAYERS;) {
        char *end;
        long value = strtol(p, &end, 10);
        if (end == p || value <= 0 || (*end && *end != ',')) {
            usage_error(opts, "--layers %s: expected sizes like 64,32,16,8", text);
            *ok = 0;
            return 0;
        }
        sizes[n++] = (size_t)value;
        p = *end ? end + 1 : end;
    }
    return n;
}

typedef struct settings {
    const char *data;
    const char *train_file, *test_file, *negatives_file; /* pre-split data */
    reco_model_kind kind;
    reco_loss loss;
    reco_optimizer optimizer;
    reco_activation output;
    size_t factors, layers[RECO_MAX_LAYERS + 2], n_layers, negatives, test_negatives;
    size_t epochs, batch, threads, k;
    double lr, momentum, weight_decay, lr_decay, dropout, test_fraction;
    int biases, dense, json, leave_one_out;
    uint64_t seed;
    const char *backend, *out, *plot;
} settings;

static int read_settings(options *opts, settings *s)
{
    static const char *const kinds[] = {"mf", "gmf", "mlp", "neumf"};
    static const char *const losses[] = {"bce", "mse", "bpr"};
    static const char *const optimizers[] = {"sgd", "adagrad", "adam"};
    static const char *const outputs[] = {"identity", "sigmoid", "relu"};
    static const char *const splits[] = {"random", "loo"};
    int ok = 1;
    s->data = option_text(opts, "data", NULL);
    s->train_file = option_text(opts, "train", NULL);
    s->test_file = option_text(opts, "test", NULL);
    s->negatives_file = option_text(opts, "test-negatives-file", NULL);
    if ((s->train_file != NULL) != (s->test_file != NULL) || (s->train_file && s->data) ||
        (s->negatives_file && !s->test_file)) {
        usage_error(opts, "give --data FILE, or --train FILE and --test FILE "
                          "(and --test-negatives-file FILE)");
        ok = 0;
    }
    s->kind =
        (reco_model_kind)pick(opts, option_text(opts, "model", "neumf"), kinds, 4, "model", &ok);
    s->loss = (reco_loss)pick(opts, option_text(opts, "loss", "bce"), losses, 3, "loss", &ok);
    s->optimizer = (reco_optimizer)pick(opts, option_text(opts, "optimizer", "adam"), optimizers, 3,
                                        "optimizer", &ok);
    s->output = (reco_activation)pick(opts, option_text(opts, "output", "identity"), outputs, 3,
                                      "output", &ok);
    s->leave_one_out =
        pick(opts, option_text(opts, "split", s->loss == RECO_LOSS_MSE ? "random" : "loo"), splits,
             2, "split", &ok);
    s->factors = option_count(opts, "factors", 8, 1, 4096, &ok);
    s->n_layers = parse_layers(opts, option_text(opts, "layers", "64,32,16,8"), s->layers, &ok);
    s->negatives = option_count(opts, "negatives", 4, 0, 1000, &ok);
    s->test_negatives = option_count(opts, "test-negatives", 99, 1, 100000, &ok);
    s->epochs = option_count(opts, "epochs", 5, 1, 100000, &ok);
    s->batch = option_count(opts, "batch", 256, 1, 1u << 24, &ok);
    s->threads = option_count(opts, "threads", 0, 0, 1024, &ok);
    s->k = option_count(opts, "k", 10, 1, 100000, &ok);
    s->lr = option_number(opts, "lr", s->optimizer == RECO_OPTIMIZER_ADAM ? 0.001 : 0.01, 1e-12,
                          1e3, &ok);
    s->momentum = option_number(opts, "momentum", 0.0, 0.0, 0.999999, &ok);
    s->weight_decay = option_number(opts, "weight-decay", 0.0, 0.0, 1e3, &ok);
    s->lr_decay = option_number(opts, "lr-decay", 1.0, 1e-9, 1.0, &ok);
    s->dropout = option_number(opts, "dropout", 0.0, 0.0, 0.99, &ok);
    s->test_fraction = option_number(opts, "test-fraction", 0.2, 0.001, 0.999, &ok);
    s->seed = (uint64_t)option_number(opts, "seed", 42, 0, 1e15, &ok);
    s->biases = option_switch(opts, "biases");
    s->dense = option_switch(opts, "dense-embeddings");
    s->json = option_switch(opts, "json");
    s->backend = option_text(opts, "backend", "auto");
    s->out = option_text(opts, "out", NULL);
    s->plot = option_text(opts, "plot", NULL);
    return ok;
}

typedef struct run {
    reco_dataset *all, *train, *test;
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
    reco_metrics *metrics;
} run;

static void run_free(run *r)
{
    ranks_detach(); /* before the trainer it is attached to goes */
    reco_metrics_free(r->metrics);
    reco_trainer_free(r->trainer);
    reco_model_free(r->model);
    reco_backend_free(r->backend);
    reco_dataset_free(r->all);
    reco_dataset_free(r->train);
    reco_dataset_free(r->test);
}

/* Pre-split files: the test file (and its NCF .negative file) read with the
 * training file's vocabulary; `all` is the training file. */
static reco_status load_split(const settings *s, run *r)
{
    reco_status status = reco_dataset_read(s->train_file, RECO_FORMAT_AUTO, &r->train);
    if (status == RECO_OK)
        status = reco_dataset_read_shared(s->test_file, RECO_FORMAT_AUTO, r->train, &r->test);
    if (status == RECO_OK && s->negatives_file)
        status = reco_dataset_read_test_negatives(r->test, s->negatives_file);
    if (status == RECO_OK && !s->negatives_file && s->leave_one_out && s->loss != RECO_LOSS_MSE)
        status = reco_dataset_sample_test_negatives(r->test, r->train, s->test_negatives,
                                                    s->seed);
    if (status == RECO_OK)
        status = reco_dataset_read_shared(s->train_file, RECO_FORMAT_AUTO, r->train, &r->all);
    return status;
}

static reco_status load(const settings *s, run *r)
{
    if (s->train_file)
        return load_split(s, r);
    /* on several ranks, rank 0 reads and the others receive its rows */
    reco_status status = RECO_OK;
    if (ranks_rank() == 0)
        status = s->data ? reco_dataset_read(s->data, RECO_FORMAT_AUTO, &r->all)
                         : reco_dataset_synthetic(943, 1682, 100000, s->seed, &r->all);
    if (ranks_world() > 1) {
        reco_status shared = ranks_share_dataset(&r->all);
        status = status == RECO_OK ? shared : status;
    }
    if (status == RECO_OK)
        status = s->leave_one_out
                     ? reco_dataset_split_leave_one_out(r->all, &r->train, &r->test)
                     : reco_dataset_split_random(r->all, s->test_fraction, s->seed, 0, &r->train,
                                                 &r->test);
    if (status == RECO_OK && s->leave_one_out && s->loss != RECO_LOSS_MSE)
        status = reco_dataset_sample_test_negatives(r->test, r->all, s->test_negatives, s->seed);
    return status;
}

static reco_status build(const settings *s, run *r)
{
    reco_status status = reco_backend_open(s->backend, &r->backend);
    if (status == RECO_OK)
        status = reco_model_new(s->kind, reco_dataset_n_users(r->all), reco_dataset_n_items(r->all),
                                &r->model);
    if (status == RECO_OK)
        status = reco_model_set_factors(r->model, s->factors);
    if (status == RECO_OK && (s->kind == RECO_MODEL_MLP || s->kind == RECO_MODEL_NEUMF))
        status = reco_model_set_layers(r->model, s->layers, s->n_layers);
    if (status == RECO_OK && s->biases)
        status = reco_model_set_biases(r->model, 1);
    if (status == RECO_OK)
        status = reco_model_set_output(r->model, s->output);
    if (status == RECO_OK)
        status = reco_model_set_dropout(r->model, (float)s->dropout);
    if (status == RECO_OK)
        status = reco_model_init(r->model, r->backend, s->seed);
    if (status == RECO_OK)
        status = reco_model_set_vocabulary(r->model, r->all);
    if (status == RECO_OK)
        status = reco_trainer_new(r->model, &r->trainer);
    reco_trainer *t = r->trainer;
    if (status == RECO_OK)
        status = reco_trainer_set_loss(t, s->loss);
    if (status == RECO_OK)
        status = reco_trainer_set_optimizer(t, s->optimizer);
    if (status == RECO_OK)
        status = reco_trainer_set_learning_rate(t, s->lr);
    if (status == RECO_OK)
        status = reco_trainer_set_momentum(t, s->momentum);
    if (status == RECO_OK)
        status = reco_trainer_set_weight_decay(t, s->weight_decay);
    if (status == RECO_OK)
        status = reco_trainer_set_lr_decay(t, s->lr_decay);
    if (status == RECO_OK)
        status = reco_trainer_set_batch_size(t, s->batch);
    if (status == RECO_OK)
        status = reco_trainer_set_negatives(t, s->negatives);
    if (status == RECO_OK)
        status = reco_trainer_set_dense_embeddings(t, s->dense);
    if (status == RECO_OK)
        status = reco_trainer_set_seed(t, s->seed);
    if (status == RECO_OK)
        status = reco_trainer_set_threads(t, s->threads);
    if (status == RECO_OK)
        status = ranks_attach(t);
    if (status == RECO_OK)
        status = reco_metrics_new(&r->metrics);
    if (status == RECO_OK)
        status = reco_metrics_set_k(r->metrics, s->k);
    return status;
}

/* Evaluates on the test split: sampled protocol (its test rows shared out
 * among ranks), full ranking or ratings; the two metrics and their values. */
static reco_status evaluate(const settings *s, run *r, reco_metric metrics[2], double values[2])
{
    reco_metrics_reset(r->metrics);
    if (s->loss != RECO_LOSS_MSE && s->leave_one_out) {
        metrics[0] = RECO_METRIC_HR;
        metrics[1] = RECO_METRIC_NDCG;
        return ranks_evaluate_sampled(r->metrics, r->model, r->test, &values[0], &values[1]);
    }
    int mse = s->loss == RECO_LOSS_MSE;
    metrics[0] = mse ? RECO_METRIC_RMSE : RECO_METRIC_RECALL;
    metrics[1] = mse ? RECO_METRIC_MAE : RECO_METRIC_NDCG;
    reco_status status =
        mse ? reco_metrics_evaluate_ratings(r->metrics, r->model, r->test)
            : reco_metrics_evaluate_ranking(r->metrics, r->model, r->test, r->train);
    for (int m = 0; m < 2 && status == RECO_OK; m++)
        status = reco_metrics_get(r->metrics, metrics[m], &values[m]);
    return status;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

static void report(const settings *s, size_t epoch, double loss, double seconds,
                   const reco_metric metrics[2], const double values[2])
{
    int ranking = metrics[0] != RECO_METRIC_RMSE;
    if (s->json) {
        printf("{\"epoch\": %zu, \"loss\": %.6f, \"seconds\": %.3f", epoch, loss, seconds);
        for (int m = 0; m < 2; m++) {
            if (ranking)
                printf(", \"%s@%zu\": %.6f", reco_metric_name(metrics[m]), s->k, values[m]);
            else
                printf(", \"%s\": %.6f", reco_metric_name(metrics[m]), values[m]);
        }
        printf("}\n");
    } else {
        printf("epoch %3zu  loss %.4f  %6.2f s", epoch, loss, seconds);
        for (int m = 0; m < 2; m++) {
            if (ranking)
                printf("  %s@%zu %.4f", reco_metric_name(metrics[m]), s->k, values[m]);
            else
                printf("  %s %.4f", reco_metric_name(metrics[m]), values[m]);
        }
        printf("\n");
    }
    fflush(stdout);
}

static int command_train(options *opts)
{
    settings s;
    if (!read_settings(opts, &s))
        return EXIT_USAGE;
    run r = {0};
    reco_status status = load(&s, &r);
    if (status != RECO_OK) {
        run_free(&r);
        return fail(s.train_file ? "pre-split data" : s.data ? s.data : "synthetic data",
                    status);
    }
    if ((status = build(&s, &r)) != RECO_OK) {
        run_free(&r);
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
    if (leader && !s.json)
        printf("%s on %s: %zu users, %zu items, %zu training rows, %zu test rows, backend %s\n",
               "training",
               s.train_file ? s.train_file
               : s.data     ? s.data
                            : "synthetic data",
               reco_dataset_n_users(r.all), reco_dataset_n_items(r.all), reco_dataset_size(r.train),
               reco_dataset_size(r.test), backend);
    reco_metric metrics[2];
    /* training loss, test loss, two test metrics */
    double *curves = calloc(4 * s.epochs, sizeof *curves);
    if (!curves) {
        run_free(&r);
        return fail("training", RECO_ERR_OUT_OF_MEMORY);
    }
    progress_state progress = {s.epochs, 0, 0.0};
    if (leader && isatty(STDERR_FILENO) && !s.json)
        reco_trainer_set_progress(r.trainer, draw_progress, &progress);
    for (size_t epoch = 1; epoch <= s.epochs && status == RECO_OK; epoch++) {
        double loss, start = seconds_now();
        status = reco_trainer_epoch(r.trainer, r.train, &loss);
        double seconds = seconds_now() - start;
        double values[2] = {0.0, 0.0};
        if (status == RECO_OK)
            status = evaluate(&s, &r, metrics, values);
        if (status == RECO_OK && leader) {
            report(&s, epoch, loss, seconds, metrics, values);
            curves[epoch - 1] = loss;
            curves[s.epochs + epoch - 1] = s.plot ? held_out_loss(&s, &r) : NAN;
            for (int m = 0; m < 2; m++)
                curves[(size_t)(m + 2) * s.epochs + epoch - 1] = values[m];
        }
    }
    if (status == RECO_OK && leader && s.plot) {
        svg_series series[4] = {{"training loss", curves, s.epochs},
                                {"test loss", curves + s.epochs, s.epochs},
                                {reco_metric_name(metrics[0]), curves + 2 * s.epochs, s.epochs},
                                {reco_metric_name(metrics[1]), curves + 3 * s.epochs, s.epochs}};
        if (!svg_line_chart(s.plot, "reco train: losses and test metrics per epoch", series, 4)) {
            fprintf(stderr, "reco: cannot write %s\n", s.plot);
            free(curves);
            run_free(&r);
            return EXIT_RUNTIME;
        }
    }
    free(curves);
    if (status == RECO_OK && leader && s.out)
        status = reco_model_save(r.model, s.out);
    if (status == RECO_OK && leader && s.json)
        printf("{\"done\": true, \"epochs\": %zu, \"model\": %s%s%s}\n", s.epochs,
               s.out ? "\"" : "", s.out ? s.out : "null", s.out ? "\"" : "");
    else if (status == RECO_OK && leader && s.out)
        printf("saved %s\n", s.out);
    int code = status == RECO_OK ? EXIT_OK : fail("training", status);
    run_free(&r);
    return code;
}

static const flag_spec train_flags[] = {
    {"data", "FILE", "synthetic", "ratings to split (any format reco reads; - for stdin)"},
    {"train", "FILE", NULL, "pre-split training file (with --test)"},
    {"test", "FILE", NULL, "pre-split test file, read with the training file's ids"},
    {"test-negatives-file", "FILE", NULL, "an NCF .negative file for the test rows"},
    {"model", "mf|gmf|mlp|neumf", "neumf", "model kind"},
    {"factors", "N", "8", "MF/GMF latent factors"},
    {"layers", "64,32,16,8", "64,32,16,8", "MLP tower (first: concatenated embedding width)"},
    {"biases", NULL, NULL, "MF user/item/global biases"},
    {"output", "identity|sigmoid|relu", "identity", "output activation"},
    {"dropout", "P", "0", "dropout on tower layers"},
    {"loss", "bce|mse|bpr", "bce", "loss"},
    {"negatives", "K", "4", "sampled negatives per positive (BCE, implicit MSE)"},
    {"optimizer", "sgd|adagrad|adam", "adam", "optimizer"},
    {"lr", "X", "0.001 for Adam, else 0.01", "learning rate"},
    {"momentum", "X", "0", "SGD momentum"},
    {"weight-decay", "X", "0", "L2 added to the gradient"},
    {"lr-decay", "X", "1", "learning rate factor per epoch"},
    {"dense-embeddings", NULL, NULL, "step every embedding row every step (torch.optim's way)"},
    {"batch", "N", "256", "samples per batch"},
    {"epochs", "N", "5", "epochs"},
    {"split", "loo|random", "loo (random for MSE)", "leave-one-out or random holdout"},
    {"test-fraction", "F", "0.2", "random holdout share"},
    {"test-negatives", "N", "99", "sampled negatives per test user (NCF protocol)"},
    {"k", "K", "10", "cut-off of HR, NDCG, Recall"},
    {"backend", "cpu|cuda|auto", "auto", "backend"},
    {"threads", "N", "the CPU budget", "CPU threads (0: the default)"},
    {"seed", "S", "42", "seed of data, split, initialization and sampling"},
    {"out", "FILE", NULL, "save the trained model"},
    {"plot", "FILE.svg", NULL, "losses and test metrics per epoch as an SVG chart"},
    {"json", NULL, NULL, "one JSON object per line"},
    {NULL}};

const command_spec train_command = {
    "train", "train a model, evaluate it after every epoch, save it", command_train, train_flags};

/* The training job that reco train and reco cv share: its settings from
 * the flags, its data, the model and trainer it builds, its evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "ranks.h"

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

int job_read_settings(options *opts, settings *s)
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
    s->valid_file = option_text(opts, "valid", NULL);
    s->patience = option_count(opts, "patience", 0, 0, 100000, &ok);
    if ((s->valid_file || s->patience) && !(s->valid_file && s->train_file)) {
        usage_error(opts, "--valid FILE goes with --train and --test, and --patience with --valid");
        ok = 0;
    }
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
    s->lr_step = option_count(opts, "lr-step", 1, 1, 100000, &ok);
    s->init_std = option_number(opts, "init-std", 0.01, 1e-9, 10.0, &ok);
    s->scale = option_number(opts, "scale", 1.0, 1e-6, 1e6, &ok);
    static const char *const reductions[] = {"sum", "mean"};
    s->mean_reduction =
        pick(opts, option_text(opts, "reduction", "mean"), reductions, 2, "reduction", &ok);
    s->stratify = option_switch(opts, "stratify");
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

reco_status job_schedule(const settings *s, run *r, size_t epoch)
{
    if (s->lr_step == 1)
        return RECO_OK; /* the trainer decays every epoch itself */
    return reco_trainer_set_learning_rate(r->trainer,
                                          s->lr * pow(s->lr_decay, (double)(epoch / s->lr_step)));
}

double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void job_run_free(run *r)
{
    ranks_detach(); /* before the trainer it is attached to goes */
    reco_metrics_free(r->metrics);
    reco_trainer_free(r->trainer);
    reco_model_free(r->model);
    reco_backend_free(r->backend);
    reco_dataset_free(r->all);
    reco_dataset_free(r->train);
    reco_dataset_free(r->test);
    reco_dataset_free(r->valid);
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
        status = reco_dataset_sample_test_negatives(r->test, r->train, s->test_negatives, s->seed);
    if (status == RECO_OK && s->valid_file)
        status = reco_dataset_read_shared(s->valid_file, RECO_FORMAT_AUTO, r->train, &r->valid);
    if (status == RECO_OK && s->valid_file && s->leave_one_out && s->loss != RECO_LOSS_MSE)
        status =
            reco_dataset_sample_test_negatives(r->valid, r->train, s->test_negatives, s->seed + 1);
    if (status == RECO_OK)
        status = reco_dataset_read_shared(s->train_file, RECO_FORMAT_AUTO, r->train, &r->all);
    return status;
}

reco_status job_read_data(const settings *s, reco_dataset **all)
{
    /* on several ranks, rank 0 reads and the others receive its rows */
    reco_status status = RECO_OK;
    if (ranks_rank() == 0)
        status = s->data ? reco_dataset_read(s->data, RECO_FORMAT_AUTO, all)
                         : reco_dataset_synthetic(943, 1682, 100000, s->seed, all);
    if (ranks_world() > 1) {
        reco_status shared = ranks_share_dataset(all);
        status = status == RECO_OK ? shared : status;
    }
    if (status == RECO_OK && s->scale != 1.0) {
        reco_dataset *scaled = NULL;
        status = reco_dataset_scale_ratings(*all, (float)s->scale, &scaled);
        reco_dataset_free(*all);
        *all = scaled;
    }
    return status;
}

reco_status job_load(const settings *s, run *r)
{
    if (s->train_file)
        return load_split(s, r);
    reco_status status = job_read_data(s, &r->all);
    if (status == RECO_OK)
        status = s->leave_one_out ? reco_dataset_split_leave_one_out(r->all, &r->train, &r->test)
                                  : reco_dataset_split_random(r->all, s->test_fraction, s->seed,
                                                              s->stratify ? RECO_SPLIT_STRATIFY : 0,
                                                              &r->train, &r->test);
    if (status == RECO_OK && s->leave_one_out && s->loss != RECO_LOSS_MSE)
        status = reco_dataset_sample_test_negatives(r->test, r->all, s->test_negatives, s->seed);
    return status;
}

reco_status job_build(const settings *s, run *r)
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
        status = reco_model_set_init_std(r->model, (float)s->init_std);
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
        status = reco_trainer_set_lr_decay(t, s->lr_step == 1 ? s->lr_decay : 1.0);
    if (status == RECO_OK)
        status = reco_trainer_set_mean_reduction(t, s->mean_reduction);
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
    if (status == RECO_OK && r->valid) {
        /* the protocol's metric: RMSE for ratings, else HR (sampled) or NDCG */
        reco_metric metric = s->loss == RECO_LOSS_MSE ? RECO_METRIC_RMSE
                             : s->leave_one_out       ? RECO_METRIC_HR
                                                      : RECO_METRIC_NDCG;
        status = reco_trainer_set_validation(t, r->valid, r->train, metric, s->k);
    }
    if (status == RECO_OK && r->valid)
        status = reco_trainer_set_early_stopping(t, s->patience);
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
reco_status job_evaluate(const settings *s, run *r, reco_metric metrics[2], double values[2])
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

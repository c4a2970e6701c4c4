/* The training job that reco train and reco cv share. */
#ifndef RECO_CLI_JOB_H
#define RECO_CLI_JOB_H

#include "cli.h"

typedef struct settings {
    const char *data;
    const char *train_file, *test_file, *negatives_file; /* pre-split data */
    const char *valid_file;                              /* with them: early stopping */
    size_t patience;
    reco_model_kind kind;
    reco_loss loss;
    reco_optimizer optimizer;
    reco_activation output;
    size_t factors, layers[RECO_MAX_LAYERS + 2], n_layers, negatives, test_negatives;
    size_t epochs, batch, threads, k;
    double lr, momentum, weight_decay, lr_decay, dropout, test_fraction, init_std, scale;
    size_t lr_step; /* epochs between learning-rate decays (1: every epoch) */
    int mean_reduction, stratify;
    int biases, dense, json, leave_one_out;
    uint64_t seed;
    const char *backend, *out, *plot;
} settings;

/* What a job holds; job_run_free releases it (and detaches from ranks). */
typedef struct run {
    reco_dataset *all, *train, *test, *valid;
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
    reco_metrics *metrics;
} run;

/* Reads the model, training and evaluation flags; 0 after printing a
 * usage problem. */
int job_read_settings(options *opts, settings *s);

/* The whole data (--data, or the synthetic set), on every rank. */
reco_status job_read_data(const settings *s, reco_dataset **all);

/* The data and its split (or the pre-split files) into r. */
reco_status job_load(const settings *s, run *r);

/* The backend, model (on r->all's vocabulary), trainer and metrics. */
reco_status job_build(const settings *s, run *r);

/* The two metrics the loss and split call for, and their values on r->test. */
reco_status job_evaluate(const settings *s, run *r, reco_metric metrics[2], double values[2]);

/* Sets the learning rate of epoch `epoch` (from 0) of a step schedule:
 * --lr times --lr-decay to the number of whole --lr-step periods behind. */
reco_status job_schedule(const settings *s, run *r, size_t epoch);

void job_run_free(run *r);

/* A monotonic clock, in seconds. */
double seconds_now(void);

/* The flags of the model and its training, shared by train and cv. */
#define JOB_MODEL_FLAGS                                                                            \
    {"model", "mf|gmf|mlp|neumf", "neumf", "model kind"},                                          \
        {"factors", "N", "8", "MF/GMF latent factors"},                                            \
        {"layers", "64,32,16,8", "64,32,16,8", "MLP tower (first: concatenated embedding width)"}, \
        {"biases", NULL, NULL, "MF user/item/global biases"},                                      \
        {"output", "identity|sigmoid|relu", "identity", "output activation"},                      \
        {"dropout", "P", "0", "dropout on tower layers"}, {"loss", "bce|mse|bpr", "bce", "loss"},  \
        {"negatives", "K", "4", "sampled negatives per positive (BCE, implicit MSE)"},             \
        {"optimizer", "sgd|adagrad|adam", "adam", "optimizer"},                                    \
        {"lr", "X", "0.001 for Adam, else 0.01", "learning rate"},                                 \
        {"momentum", "X", "0", "SGD momentum"},                                                    \
        {"weight-decay", "X", "0", "L2 added to the gradient"},                                    \
        {"lr-decay", "X", "1", "learning rate factor, every --lr-step epochs"},                    \
        {"lr-step", "N", "1", "epochs between learning-rate decays (a step schedule)"},            \
        {"init-std", "X", "0.01", "standard deviation of the initial embeddings"},                 \
        {"reduction", "mean|sum", "mean", "MSE loss averaged or summed over a batch"},             \
        {"scale", "X", "1", "multiply every rating by X (0.2 maps 1..5 to 0.2..1)"},               \
        {"stratify", NULL, NULL, "random splits cut each rating value on its own"},                \
        {"dense-embeddings", NULL, NULL,                                                           \
         "step every embedding row every step (torch.optim's way)"},                               \
        {"batch", "N", "256", "samples per batch"}, {"epochs", "N", "5", "epochs"},                \
        {"k", "K", "10", "cut-off of HR, NDCG, Recall"},                                           \
        {"backend", "cpu|cuda|auto", "auto", "backend"},                                           \
        {"threads", "N", "the CPU budget", "CPU threads (0: the default)"},                        \
        {"seed", "S", "42", "seed of data, split, initialization and sampling"},                   \
    {                                                                                              \
        "json", NULL, NULL, "one JSON object per line"                                             \
    }

#endif

/* The training job that reco train and reco cv share. */
#ifndef RECO_CLI_JOB_H
#define RECO_CLI_JOB_H

#include "cli.h"

/* How a model is evaluated: the NCF sampled protocol (test item against
 * its negatives), full ranking of every item, or rating errors. */
typedef enum job_protocol { PROTOCOL_SAMPLED, PROTOCOL_RANKING, PROTOCOL_RATINGS } job_protocol;

enum { JOB_MAX_METRICS = 8 };

typedef struct settings {
    const char *data;
    reco_ids ids;                                        /* how the id columns are read */
    const char *titles;                                  /* its items join the catalog */
    double positive_threshold;                           /* NAN: keep every row (and its rating) */
    double valid_fraction;                               /* random split: a validation part too */
    const char *train_file, *test_file, *negatives_file; /* pre-split data */
    const char *valid_file;                              /* with them: early stopping */
    int valid_from_train; /* validation carved from the training rows */
    size_t patience;
    job_protocol protocol;
    reco_metric metrics[JOB_MAX_METRICS]; /* reported; the first one validates */
    size_t n_metrics;
    size_t eval_every; /* epochs between test evaluations (the last always) */
    const char *pretrained_gmf, *pretrained_mlp; /* NeuMF from these */
    double alpha;
    int fixed_negatives;
    int keep_last; /* validation reported, the last epoch's model kept */
    int xavier;    /* --init xavier */
    reco_model_kind kind;
    reco_loss loss;
    reco_optimizer optimizer;
    reco_activation output;
    size_t factors, layers[RECO_MAX_LAYERS + 2], n_layers, negatives, test_negatives;
    size_t epochs, batch, threads, k;
    double lr, momentum, weight_decay, lr_decay, dropout, test_fraction, init_std, scale;
    double unobserved_weight, confidence; /* iALS */
    reco_solver solver;
    size_t cg_steps;
    size_t neighbours; /* item-kNN */
    reco_weighting weighting;
    size_t lr_step; /* epochs between learning-rate decays (1: every epoch) */
    int mean_reduction, stratify;
    int biases, dense, json, leave_one_out, per_example;
    uint64_t seed;
    const char *backend, *out, *plot;
    reco_dataset *rows; /* read to choose MF's loss; the job's data then */
} settings;

/* What a job holds; job_run_free releases it (and detaches from ranks). */
typedef struct run {
    reco_dataset *all, *train, *test, *valid;
    reco_dataset *seen; /* train + valid: left out of the test ranking (NULL: train) */
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
    reco_metrics *metrics;
} run;

/* Reads the model, training and evaluation flags: EXIT_OK, or the exit
 * status after printing the problem. `random_rows`: the command splits rows
 * at random (reco cv), so the default protocol is full ranking, not sampled.
 * MF without --loss reads the data to choose it (MSE on ratings unless a
 * flag asks for a ranking) and keeps the rows in s->rows for job_load or
 * job_read_data; job_settings_free releases them on a path without those. */
int job_read_settings(options *opts, settings *s, int random_rows);
void job_settings_free(settings *s);

/* The whole data (--data, or the synthetic set, or the rows read for the
 * settings), on every rank; read with the ids of `vocabulary` when not NULL. */
reco_status job_read_data(settings *s, const reco_dataset *vocabulary, reco_dataset **all);

/* --scale, --positive-threshold and --titles (the catalog) applied to *all. */
reco_status job_prepare(const settings *s, reco_dataset **all);

/* r->all split as the flags say into r->train, r->test (with sampled
 * negatives for the sampled protocol), r->valid and r->seen; with
 * --valid-from-train the validation rows come out of the training rows. */
reco_status job_split(const settings *s, run *r);

/* The data and its split (or the pre-split files) into r; files read with
 * the ids of `vocabulary` when not NULL (a saved model's). */
reco_status job_load(settings *s, run *r, const reco_dataset *vocabulary);

/* Takes what reco train recorded in the model's metadata (split, seed,
 * fractions, protocol, K ...) for every flag opts does not give, so that
 * reco eval rebuilds the split train made; then every metric the protocol
 * measures unless --metrics is given. */
void job_settings_from_model(options *opts, settings *s, const reco_model *model);

/* The backend (unless r has one), model (on r->all's vocabulary), trainer
 * and metrics. */
reco_status job_build(const settings *s, run *r);

/* The values of s->metrics by s->protocol on r->test (full ranking without
 * the training and validation items) or, with `valid`, on r->valid
 * (without the training items). */
reco_status job_evaluate(const settings *s, run *r, int valid, double values[JOB_MAX_METRICS]);

/* The name of metric m as reported: "RMSE", "HR@10". Returns label. */
const char *job_metric_label(const settings *s, size_t m, char label[32]);

/* Writes the metrics and their values: "  HR@10 0.6500" or, as JSON,
 * ", \"HR@10\": 0.650000" (no leading comma when `first`). */
void job_print_metrics(FILE *out, const settings *s, const double *values, int json, int first);

/* Records the resolved settings in the model's metadata ("train.*" keys),
 * with `history` (JSON lines, one per epoch) when not NULL. */
reco_status job_describe(const settings *s, run *r, const char *history);

/* Sets the learning rate of epoch `epoch` (from 0) of a step schedule:
 * --lr times --lr-decay to the number of whole --lr-step periods behind. */
reco_status job_schedule(const settings *s, run *r, size_t epoch);

void job_run_free(run *r);

/* A monotonic clock, in seconds. */
double seconds_now(void);

/* The names of reco_optimizer's and reco_weighting's values, in order. */
extern const char *const job_optimizers[4];
extern const char *const job_weightings[3];

/* The model kinds --model names, in reco_model_kind's order. */
#define JOB_KINDS "mf|gmf|mlp|neumf|ials|ease|itemknn"

/* The flags of the model and its training, shared by train and cv. */
#define JOB_MODEL_FLAGS                                                                            \
    {"model", JOB_KINDS, "neumf", "model kind"},                                                   \
        {"factors", "N", "8 (iALS, MF with BCE: 64; MF with MSE: 32)", "latent factors"},       \
        {"layers", "64,32,16,8", "64,32,16,8", "MLP tower (first: concatenated embedding width)"}, \
        {"biases", NULL, NULL, "MF user/item/global biases (on for MF)"},                          \
        {"no-biases", NULL, NULL, "MF without biases"},                                            \
        {"output", "identity|sigmoid|relu", "identity", "output activation"},                      \
        {"dropout", "P", "0", "dropout on tower layers"}, {"loss", "bce|mse|bpr", "bce; MF: mse on ratings", "loss"},  \
        {"negatives", "K", "4 (MF: 8)", "sampled negatives per positive (BCE, implicit MSE)"},     \
        {"optimizer", "sgd|adagrad|adam|adamw", "adam (MF with BCE: sgd)",                         \
         "optimizer (adamw: Adam with decoupled weight decay)"},                                   \
        {"lr", "X", "0.001 for Adam(W) (MF with MSE: 0.002), 2 for MF's SGD with BCE, else 0.01", "learning rate"}, \
        {"momentum", "X", "0", "SGD momentum"},                                                    \
        {"per-example", NULL, NULL,                                                                \
         "--lr and --weight-decay per example (libmf, Surprise): x batch and / batch"},            \
        {"weight-decay", "X", "0 (iALS: 0.007, EASE: 1000, MF with BCE: 2e-5, with MSE and Adam: 1e-3)", \
         "L2 added to the gradient; iALS and EASE: lambda"},                                       \
        {"unobserved-weight", "X", "0.3", "iALS: weight of every pair's squared score (alpha0)"},  \
        {"confidence", "A", "0", "iALS: observed pairs weigh 1 + A x rating"},                     \
        {"solver", "cg|cholesky", "cg", "iALS: conjugate gradient or exact row solves"},           \
        {"cg-steps", "N", "3", "iALS: conjugate-gradient steps per row"},                          \
        {"neighbours", "K", "100", "item-kNN: similar items kept per item"},                       \
        {"weighting", "cosine|tfidf|bm25", "bm25", "item-kNN: how pairs are weighed"},             \
        {"lr-decay", "X", "1", "learning rate factor, every --lr-step epochs"},                    \
        {"lr-step", "N", "1", "epochs between learning-rate decays (a step schedule)"},            \
        {"init-std", "X", "0.01 (iALS, MF with BCE: 0.1)",                                         \
         "standard deviation of the initial embeddings (iALS: over sqrt(factors))"},               \
        {"init", "normal|xavier", "normal", "embeddings N(0, init-std) or Xavier-uniform"},        \
        {"reduction", "mean|sum", "mean", "MSE loss averaged or summed over a batch"},             \
        {"scale", "X", "1", "multiply every rating by X (0.2 maps 1..5 to 0.2..1)"},               \
        {"stratify", NULL, NULL, "random splits cut each rating value on its own"},                \
        {"dense-embeddings", NULL, NULL,                                                           \
         "step every embedding row every step (torch.optim's way)"},                               \
        {"lazy-embeddings", NULL, NULL,                                                            \
         "step only the rows a batch touches, even with weight decay on small tables"},            \
        {"fixed-negatives", NULL, NULL, "draw training negatives once, reuse them every epoch"},   \
        {"positive-threshold", "X", "none", "keep rows rated >= X as implicit positives"},         \
        {"titles", "FILE", NULL,                                                                   \
         "item titles (movies.csv ...): every titled item is a candidate"},                        \
        {"ids", "int|text", "as the data says",                                                    \
         "user and item ids: integers, or text kept as written (docs/datasets.md)"},               \
        {"protocol", "sampled|ranking|ratings", "by loss and split",                               \
         "sampled negatives (NCF), full ranking, or rating errors"},                               \
        {"metrics", "LIST", "by protocol", "hr,ndcg,recall,precision,map,rmse,mae,mse to report"}, \
        {"batch", "N", "256 (1 with --per-example)", "samples per batch"}, {"epochs", "N", "5 (iALS 10, MF with BCE 32, with MSE 16, EASE, kNN 1)", "epochs"},  \
        {"k", "K", "10", "cut-off of HR, NDCG, Recall"},                                           \
        {"backend", "cpu|cuda|auto", "auto", "backend"},                                           \
        {"threads", "N", "the CPU budget", "CPU threads (0: the default)"},                        \
        {"seed", "S", "42", "seed of data, split, initialization and sampling"},                   \
    {                                                                                              \
        "json", NULL, NULL, "one JSON object per line"                                             \
    }

#endif

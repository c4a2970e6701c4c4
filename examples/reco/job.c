/* The training job that reco train and reco cv share: its settings from
 * the flags, its data, the model and trainer it builds, its evaluation. */
#include <math.h>
#include <stdarg.h>
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

/* --ids: how the id columns of the data are read. */
static reco_ids ids_flag(options *opts, int *ok)
{
    static const char *const kinds[] = {"auto", "int", "text"};
    return (reco_ids)pick(opts, option_text(opts, "ids", "auto"), kinds, 3, "ids", ok);
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


const char *const job_optimizers[4] = {"sgd", "adagrad", "adam", "adamw"};
const char *const job_weightings[3] = {"cosine", "tfidf", "bm25"};

/* Parses --metrics against what the protocol measures. */
static size_t parse_metrics(const options *opts, const char *text, job_protocol protocol,
                            reco_metric *metrics, int *ok)
{
    static const char *const names[] = {"hr",  "ndcg", "recall", "precision",
                                        "map", "rmse", "mae",    "mse"};
    static const char *const measured[] = {"hr,ndcg", "hr,ndcg,recall,precision,map",
                                           "rmse,mae,mse"};
    size_t n = 0;
    for (const char *p = text; *p && n < JOB_MAX_METRICS;) {
        size_t length = strcspn(p, ",");
        int found = -1;
        for (int m = 0; m < 8 && found < 0; m++)
            if (strlen(names[m]) == length && strncmp(p, names[m], length) == 0)
                found = m;
        /* names[] follows reco_metric's order */
        int allowed = found >= 0 && strstr(measured[protocol], names[found]) != NULL;
        if (!allowed) {
            usage_error(opts, "--metrics %s: the %s protocol reports %s", text,
                        protocol == PROTOCOL_SAMPLED   ? "sampled"
                        : protocol == PROTOCOL_RANKING ? "ranking"
                                                       : "ratings",
                        measured[protocol]);
            *ok = 0;
            return 0;
        }
        metrics[n++] = (reco_metric)found;
        p += length + (p[length] == ',');
    }
    return n;
}

/* Whether the command's --model is the model kind (train, cv). */
static int kind_flag(const options *opts)
{
    for (const flag_spec *flag = opts->command->flags; flag->name; flag++)
        if (strcmp(flag->name, "model") == 0)
            return flag->value && strcmp(flag->value, JOB_KINDS) == 0;
    return 0;
}

static int read_settings(options *opts, settings *s, int random_rows, const char *loss_default)
{
    static const char *const kinds[] = {"mf", "gmf", "mlp", "neumf", "ials", "ease", "itemknn"};
    static const char *const losses[] = {"bce", "mse", "bpr"};
    static const char *const outputs[] = {"identity", "sigmoid", "relu"};
    static const char *const splits[] = {"random", "loo"};
    int ok = 1;
    s->data = option_text(opts, "data", NULL);
    s->train_file = option_text(opts, "train", NULL);
    s->test_file = option_text(opts, "test", NULL);
    s->negatives_file = option_text(opts, "test-negatives-file", NULL);
    s->valid_file = option_text(opts, "valid", NULL);
    s->valid_from_train = option_switch(opts, "valid-from-train");
    s->patience = option_count(opts, "patience", 0, 0, 100000, &ok);
    if ((s->valid_file && !s->train_file) || (s->valid_file && s->valid_from_train) ||
        (s->patience && !s->valid_file && !s->valid_from_train &&
         !option_switch(opts, "valid-fraction"))) {
        usage_error(opts, "--valid FILE goes with --train and --test, --valid-from-train "
                          "without it, and --patience with --valid, --valid-from-train or "
                          "--valid-fraction");
        ok = 0;
    }
    if ((s->train_file != NULL) != (s->test_file != NULL) || (s->train_file && s->data) ||
        (s->negatives_file && !s->test_file)) {
        usage_error(opts, "give --data FILE, or --train FILE and --test FILE "
                          "(and --test-negatives-file FILE)");
        ok = 0;
    }
    /* reco eval's --model is a model file, not a kind */
    const char *kind = kind_flag(opts) ? option_text(opts, "model", "neumf") : "neumf";
    s->kind = (reco_model_kind)pick(opts, kind, kinds, 7, "model", &ok);
    int ials = s->kind == RECO_MODEL_IALS, ease = s->kind == RECO_MODEL_EASE,
        knn = s->kind == RECO_MODEL_ITEM_KNN;
    s->loss = (reco_loss)pick(opts, option_text(opts, "loss", loss_default), losses, 3, "loss", &ok);
    /* MF on implicit data (BCE with sampled negatives) defaults to what
     * tuning finds on the NCF files (Rendle et al. 2020's recipe: wide
     * factors, biases, 8 negatives, large SGD steps on the batch mean):
     * HR@10 0.72 after 32 epochs, where 8 factors with Adam gave 0.60 */
    int mf_implicit = s->kind == RECO_MODEL_MF && s->loss == RECO_LOSS_BCE;
    /* MF on ratings: biases, 32 factors, Adam at 0.002 with weight decay
     * 1e-3 for 16 epochs: ml-100k 80/20 test RMSE 0.903, where tuning
     * finds 0.90 and 8 factors without biases or decay ended above 1.1 */
    int mf_ratings = s->kind == RECO_MODEL_MF && s->loss == RECO_LOSS_MSE;
    s->optimizer = (reco_optimizer)pick(opts, option_text(opts, "optimizer", mf_implicit ? "sgd" : "adam"),
                                        job_optimizers, 4, "optimizer", &ok);
    s->output = (reco_activation)pick(opts, option_text(opts, "output", "identity"), outputs, 3,
                                      "output", &ok);
    s->leave_one_out =
        pick(opts,
             option_text(opts, "split", random_rows || s->loss == RECO_LOSS_MSE ? "random" : "loo"),
             splits, 2, "split", &ok);
    static const char *const protocols[] = {"sampled", "ranking", "ratings"};
    const char *protocol = s->loss == RECO_LOSS_MSE                ? "ratings"
                           : s->negatives_file || s->leave_one_out ? "sampled"
                                                                   : "ranking";
    s->protocol = (job_protocol)pick(opts, option_text(opts, "protocol", protocol), protocols, 3,
                                     "protocol", &ok);
    static const char *const default_metrics[] = {"hr,ndcg", "recall,ndcg", "rmse,mae"};
    s->n_metrics = parse_metrics(opts, option_text(opts, "metrics", default_metrics[s->protocol]),
                                 s->protocol, s->metrics, &ok);
    s->eval_every = option_count(opts, "eval-every", 1, 1, 1000000, &ok);
    s->titles = option_text(opts, "titles", NULL);
    s->ids = ids_flag(opts, &ok);
    s->positive_threshold = option_number(opts, "positive-threshold", NAN, -1e6, 1e6, &ok);
    s->valid_fraction = option_number(opts, "valid-fraction", 0.0, 0.0, 0.9, &ok);
    if (s->valid_fraction > 0.0 && (s->leave_one_out || s->train_file)) {
        usage_error(opts, "--valid-fraction goes with --data and --split random");
        ok = 0;
    }
    if (s->valid_from_train && !s->train_file && !s->leave_one_out) {
        usage_error(opts, "--valid-from-train goes with --train and --test or --split loo "
                          "(a random split takes --valid-fraction)");
        ok = 0;
    }
    s->pretrained_gmf = option_text(opts, "pretrained-gmf", NULL);
    s->pretrained_mlp = option_text(opts, "pretrained-mlp", NULL);
    s->alpha = option_number(opts, "alpha", 0.5, 0.0, 1.0, &ok);
    s->fixed_negatives = option_switch(opts, "fixed-negatives");
    s->keep_last = option_switch(opts, "keep-last");
    if (s->keep_last &&
        (s->patience || !(s->valid_file || s->valid_fraction > 0.0 || s->valid_from_train))) {
        usage_error(opts, "--keep-last goes with --valid, --valid-from-train or --valid-fraction, "
                          "without --patience");
        ok = 0;
    }
    if ((s->pretrained_gmf != NULL) != (s->pretrained_mlp != NULL) ||
        (s->pretrained_gmf && s->kind != RECO_MODEL_NEUMF)) {
        usage_error(opts, "--pretrained-gmf FILE and --pretrained-mlp FILE go together, with "
                          "--model neumf");
        ok = 0;
    }
    s->factors = option_count(opts, "factors", ials || mf_implicit ? 64 : mf_ratings ? 32 : 8, 1,
                              4096, &ok);
    s->n_layers = parse_layers(opts, option_text(opts, "layers", "64,32,16,8"), s->layers, &ok);
    s->negatives = option_count(opts, "negatives", mf_implicit ? 8 : 4, 0, 1000, &ok);
    s->test_negatives = option_count(opts, "test-negatives", 99, 1, 100000, &ok);
    s->epochs = option_count(opts, "epochs",
                             ials          ? 10
                             : ease || knn ? 1
                             : mf_implicit ? 32
                             : mf_ratings  ? 16
                                           : 5,
                             1, 100000, &ok);
    s->threads = option_count(opts, "threads", 0, 0, 1024, &ok);
    s->k = option_count(opts, "k", 10, 1, 100000, &ok);
    s->lr = option_number(opts, "lr",
                          mf_ratings && s->optimizer >= RECO_OPTIMIZER_ADAM ? 0.002
                          : s->optimizer >= RECO_OPTIMIZER_ADAM              ? 0.001
                          : mf_implicit && s->optimizer == RECO_OPTIMIZER_SGD ? 2.0
                                                                              : 0.01,
                          1e-12,
                          1e3, &ok);
    s->momentum = option_number(opts, "momentum", 0.0, 0.0, 0.999999, &ok);
    s->weight_decay =
        option_number(opts, "weight-decay",
                      ials          ? 0.007
                      : ease        ? 1000.0
                      : mf_implicit ? 2e-5
                      : mf_ratings && s->optimizer == RECO_OPTIMIZER_ADAM ? 1e-3
                                                                          : 0.0,
                      0.0, 1e6, &ok);
    s->unobserved_weight = option_number(opts, "unobserved-weight", 0.3, 0.0, 1e6, &ok);
    s->confidence = option_number(opts, "confidence", 0.0, 0.0, 1e6, &ok);
    static const char *const solvers[] = {"cholesky", "cg"};
    s->solver = (reco_solver)pick(opts, option_text(opts, "solver", "cg"), solvers, 2, "solver", &ok);
    s->cg_steps = option_count(opts, "cg-steps", 3, 1, 64, &ok);
    if (!ials && (option_switch(opts, "unobserved-weight") || option_switch(opts, "confidence") ||
                  option_switch(opts, "solver") || option_switch(opts, "cg-steps"))) {
        usage_error(opts, "--unobserved-weight, --confidence, --solver and --cg-steps go with "
                          "--model ials");
        ok = 0;
    }
    s->neighbours = option_count(opts, "neighbours", 100, 1, 100000, &ok);
    s->weighting = (reco_weighting)pick(opts, option_text(opts, "weighting", "bm25"),
                                        job_weightings, 3, "weighting", &ok);
    if (!knn && (option_switch(opts, "neighbours") || option_switch(opts, "weighting"))) {
        usage_error(opts, "--neighbours and --weighting go with --model itemknn");
        ok = 0;
    }
    s->lr_decay = option_number(opts, "lr-decay", 1.0, 1e-9, 1.0, &ok);
    s->dropout = option_number(opts, "dropout", 0.0, 0.0, 0.99, &ok);
    s->lr_step = option_count(opts, "lr-step", 1, 1, 100000, &ok);
    s->init_std = option_number(opts, "init-std", ials || mf_implicit ? 0.1 : 0.01, 1e-9, 10.0, &ok);
    static const char *const inits[] = {"normal", "xavier"};
    s->xavier = pick(opts, option_text(opts, "init", "normal"), inits, 2, "init", &ok);
    s->scale = option_number(opts, "scale", 1.0, 1e-6, 1e6, &ok);
    static const char *const reductions[] = {"sum", "mean"};
    s->mean_reduction =
        pick(opts, option_text(opts, "reduction", "mean"), reductions, 2, "reduction", &ok);
    s->stratify = option_switch(opts, "stratify");
    s->test_fraction = option_number(opts, "test-fraction", 0.2, 0.001, 0.999, &ok);
    s->seed = (uint64_t)option_number(opts, "seed", 42, 0, 1e15, &ok);
    s->biases = option_switch(opts, "biases") ||
                ((mf_implicit || mf_ratings) && !option_switch(opts, "no-biases"));
    if (option_switch(opts, "biases") && option_switch(opts, "no-biases")) {
        usage_error(opts, "--biases or --no-biases, not both");
        ok = 0;
    }
    s->per_example = option_switch(opts, "per-example");
    /* per-example settings mean per-example steps unless a batch is asked */
    s->batch = option_count(opts, "batch", s->per_example ? 1 : 256, 1, 1u << 24, &ok);
    s->dense = option_switch(opts, "dense-embeddings")  ? 1
               : option_switch(opts, "lazy-embeddings") ? 0
                                                        : -1;
    if (option_switch(opts, "dense-embeddings") && option_switch(opts, "lazy-embeddings")) {
        usage_error(opts, "--dense-embeddings or --lazy-embeddings, not both");
        ok = 0;
    }
    s->json = option_switch(opts, "json");
    s->backend = option_text(opts, "backend", "auto");
    s->out = option_text(opts, "out", NULL);
    s->plot = option_text(opts, "plot", NULL);
    return ok;
}

/* Whether a flag asks MF for a ranking: a loss, sampled negatives, a
 * leave-one-out split, a ranking protocol or metric, implicit positives. */
static int asks_ranking(options *opts)
{
    static const char *const implicit[] = {"loss", "test-negatives-file", "test-negatives",
                                           "negatives", "positive-threshold", "valid-from-train"};
    for (size_t i = 0; i < sizeof implicit / sizeof *implicit; i++)
        if (option_switch(opts, implicit[i]))
            return 1;
    const char *split = option_text(opts, "split", "random");
    const char *protocol = option_text(opts, "protocol", "ratings");
    const char *metrics = option_text(opts, "metrics", "rmse");
    return strcmp(split, "loo") == 0 || strcmp(protocol, "ratings") != 0 ||
           !(strstr(metrics, "rmse") || strstr(metrics, "mae") || strstr(metrics, "mse"));
}

/* Ratings when two values differ: 1-5 stars, not 1s or clicks. */
static int has_ratings(const reco_dataset *data)
{
    const float *ratings = reco_dataset_ratings(data);
    size_t n_rows = reco_dataset_size(data);
    for (size_t row = 1; ratings && row < n_rows; row++)
        if (ratings[row] != ratings[0])
            return 1;
    return 0;
}

/* The rows as the flags name them: --data, --train or the synthetic set,
 * with the ids of `vocabulary` when not NULL; on several ranks, rank 0
 * reads and the others receive its rows. */
static reco_status read_rows(const char *path, reco_ids ids, const reco_dataset *vocabulary,
                             uint64_t seed, reco_dataset **rows)
{
    reco_status status = RECO_OK;
    if (ranks_rank() == 0)
        status = path ? reco_dataset_read_ids(path, RECO_FORMAT_AUTO, ids, vocabulary, rows)
                      : reco_dataset_synthetic(943, 1682, 100000, seed, rows);
    if (ranks_world() > 1) {
        reco_status shared = ranks_share_dataset(rows);
        status = status == RECO_OK ? shared : status;
    }
    return status;
}

int job_read_settings(options *opts, settings *s, int random_rows)
{
    *s = (settings){0};
    int mf = kind_flag(opts) && strcmp(option_text(opts, "model", "neumf"), "mf") == 0;
    const char *train_file = option_text(opts, "train", NULL);
    const char *loss = "bce";
    /* MF's loss follows the data: MSE on ratings unless a flag asks for a
     * ranking (the rows read here are the ones the job then uses) */
    if (mf && !asks_ranking(opts)) {
        int ok = 1;
        uint64_t seed = (uint64_t)option_number(opts, "seed", 42, 0, 1e15, &ok);
        reco_ids ids = ids_flag(opts, &ok);
        if (!ok)
            return EXIT_USAGE;
        reco_status status = read_rows(train_file ? train_file : option_text(opts, "data", NULL),
                                       ids, NULL, seed, &s->rows);
        if (status != RECO_OK) {
            reco_dataset_free(s->rows);
            s->rows = NULL;
            return fail(train_file ? train_file : option_text(opts, "data", "synthetic data"),
                        status);
        }
        loss = has_ratings(s->rows) ? "mse" : "bce";
    }
    reco_dataset *rows = s->rows;
    int ok = read_settings(opts, s, random_rows, loss);
    s->rows = rows;
    if (!ok)
        job_settings_free(s);
    return ok ? EXIT_OK : EXIT_USAGE;
}

void job_settings_free(settings *s)
{
    reco_dataset_free(s->rows);
    s->rows = NULL;
}

/* Hands over the rows job_read_settings read, if it did. */
static int take_rows(settings *s, reco_dataset **rows)
{
    if (!s->rows)
        return 0;
    *rows = s->rows;
    s->rows = NULL;
    return 1;
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
    reco_dataset_free(r->seen);
}

/* Replaces *data by its rows rated >= the threshold, as implicit positives. */
static reco_status keep_positives(const settings *s, reco_dataset **data)
{
    if (isnan(s->positive_threshold) || !*data)
        return RECO_OK;
    reco_dataset *positives = NULL;
    reco_status status = reco_dataset_binarize(*data, (float)s->positive_threshold, &positives);
    reco_dataset_free(*data);
    *data = positives;
    return status;
}

/* --titles: every titled item joins the vocabulary (the catalog to rank). */
static reco_status add_catalog(const settings *s, reco_dataset *data)
{
    if (!s->titles)
        return RECO_OK;
    reco_status status = reco_dataset_read_titles(data, s->titles);
    return status == RECO_OK ? reco_dataset_add_titled_items(data) : status;
}

/* The test (or validation) rows' negatives, for the sampled protocol. */
static reco_status attach_negatives(const settings *s, reco_dataset *rows,
                                    const reco_dataset *interactions, uint64_t seed)
{
    if (s->protocol != PROTOCOL_SAMPLED)
        return RECO_OK;
    return reco_dataset_sample_test_negatives(rows, interactions, s->test_negatives, seed);
}

/* --valid-from-train: validation rows carved out of r->train, which keeps
 * the rest: each user's latest training row for the sampled protocol (as
 * the test split), else a random tenth of the rows. Negatives avoid every
 * training row the user had, `interactions`. */
static reco_status valid_from_train(const settings *s, run *r, const reco_dataset *interactions)
{
    reco_dataset *kept = NULL;
    reco_status status =
        s->protocol == PROTOCOL_SAMPLED
            ? reco_dataset_split_leave_one_out(r->train, &kept, &r->valid)
            : reco_dataset_split_random(r->train, 0.1, s->seed + 2, 0, &kept, &r->valid);
    if (status != RECO_OK)
        return status;
    reco_dataset_free(r->train);
    r->train = kept;
    return attach_negatives(s, r->valid, interactions, s->seed + 1);
}

/* Pre-split files: the test and validation files (and the test's NCF
 * .negative file) read with the training file's vocabulary; `all` is a copy
 * of the training rows. */
static reco_status load_split(settings *s, run *r, const reco_dataset *vocabulary)
{
    reco_status status =
        take_rows(s, &r->train)
            ? RECO_OK
            : reco_dataset_read_ids(s->train_file, RECO_FORMAT_AUTO, s->ids, vocabulary, &r->train);
    if (status == RECO_OK)
        status = add_catalog(s, r->train);
    if (status == RECO_OK)
        status = reco_dataset_read_ids(s->test_file, RECO_FORMAT_AUTO, s->ids, r->train, &r->test);
    if (status == RECO_OK && s->valid_file)
        status =
            reco_dataset_read_ids(s->valid_file, RECO_FORMAT_AUTO, s->ids, r->train, &r->valid);
    if (status == RECO_OK)
        status = keep_positives(s, &r->train);
    if (status == RECO_OK)
        status = keep_positives(s, &r->test);
    if (status == RECO_OK)
        status = keep_positives(s, &r->valid);
    if (status == RECO_OK && s->negatives_file)
        status = reco_dataset_read_test_negatives(r->test, s->negatives_file);
    else if (status == RECO_OK)
        status = attach_negatives(s, r->test, r->train, s->seed);
    if (status == RECO_OK && r->valid)
        status = attach_negatives(s, r->valid, r->train, s->seed + 1);
    if (status == RECO_OK)
        status = reco_dataset_deduplicate(r->train, RECO_DUPLICATES_KEEP_ALL, &r->all);
    if (status == RECO_OK && s->valid_from_train)
        status = valid_from_train(s, r, r->all);
    if (status == RECO_OK && r->valid)
        status = reco_dataset_concat(r->train, r->valid, &r->seen);
    return status;
}

reco_status job_read_data(settings *s, const reco_dataset *vocabulary, reco_dataset **all)
{
    reco_status status = RECO_OK;
    if (!take_rows(s, all))
        status = read_rows(s->data, s->ids, vocabulary, s->seed, all);
    return status == RECO_OK ? job_prepare(s, all) : status;
}

reco_status job_prepare(const settings *s, reco_dataset **all)
{
    reco_status status = RECO_OK;
    if (s->scale != 1.0) {
        reco_dataset *scaled = NULL;
        status = reco_dataset_scale_ratings(*all, (float)s->scale, &scaled);
        reco_dataset_free(*all);
        *all = scaled;
    }
    if (status == RECO_OK)
        status = keep_positives(s, all);
    if (status == RECO_OK)
        status = add_catalog(s, *all);
    return status;
}

reco_status job_load(settings *s, run *r, const reco_dataset *vocabulary)
{
    if (s->train_file)
        return load_split(s, r, vocabulary);
    reco_status status = job_read_data(s, vocabulary, &r->all);
    return status == RECO_OK ? job_split(s, r) : status;
}

reco_status job_split(const settings *s, run *r)
{
    reco_status status = RECO_OK;
    unsigned flags = s->stratify ? RECO_SPLIT_STRATIFY : 0;
    /* the split still runs (file order is what there is), but the user
     * should know it does not hold out the latest rows */
    if (s->leave_one_out && !reco_dataset_timestamps(r->all) && ranks_rank() == 0)
        fprintf(stderr, "reco: note: %s has no timestamps: leave-one-out holds out each user's "
                        "last row in file order\n",
                s->data ? s->data : "the data");
    if (s->leave_one_out)
        status = reco_dataset_split_leave_one_out(r->all, &r->train, &r->test);
    else if (s->valid_fraction > 0.0)
        status = reco_dataset_split_three_way(r->all, s->valid_fraction, s->test_fraction, s->seed,
                                              flags, &r->train, &r->valid, &r->test);
    else
        status = reco_dataset_split_random(r->all, s->test_fraction, s->seed, flags, &r->train,
                                           &r->test);
    if (status == RECO_OK)
        status = attach_negatives(s, r->test, r->all, s->seed);
    if (status == RECO_OK && s->valid_from_train)
        status = valid_from_train(s, r, r->all);
    else if (status == RECO_OK && r->valid)
        status = attach_negatives(s, r->valid, r->all, s->seed + 1);
    /* the test ranking leaves out what training and validation saw */
    if (status == RECO_OK && r->valid)
        status = reco_dataset_concat(r->train, r->valid, &r->seen);
    return status;
}

/* NeuMF from a GMF and an MLP model file trained on the same ids, as the
 * NCF paper pretrains; the data must have those ids too. */
static reco_status pretrained_neumf(const settings *s, run *r)
{
    reco_model *gmf = NULL, *mlp = NULL;
    reco_status status = reco_model_load(s->pretrained_gmf, r->backend, &gmf);
    if (status == RECO_OK)
        status = reco_model_load(s->pretrained_mlp, r->backend, &mlp);
    if (status == RECO_OK)
        status = reco_model_neumf_from_pretrained(gmf, mlp, (float)s->alpha, &r->model);
    if (status == RECO_OK)
        status = reco_model_check_vocabulary(r->model, r->all);
    reco_model_free(gmf);
    reco_model_free(mlp);
    return status;
}

/* A fresh model of the configured kind, initialized from the seed. */
static reco_status fresh_model(const settings *s, run *r)
{
    reco_status status = reco_model_new(s->kind, reco_dataset_n_users(r->all),
                                        reco_dataset_n_items(r->all), &r->model);
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
        status = reco_model_set_xavier_embeddings(r->model, s->xavier);
    if (status == RECO_OK)
        status = reco_model_init(r->model, r->backend, s->seed);
    if (status == RECO_OK)
        status = reco_model_set_vocabulary(r->model, r->all);
    return status;
}

reco_status job_build(const settings *s, run *r)
{
    reco_status status = r->backend ? RECO_OK : reco_backend_open(s->backend, &r->backend);
    if (status == RECO_OK)
        status = s->pretrained_gmf ? pretrained_neumf(s, r) : fresh_model(s, r);
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
        status = reco_trainer_set_per_example(t, s->per_example);
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
        status = reco_trainer_set_fixed_negatives(t, s->fixed_negatives);
    if (status == RECO_OK)
        status = reco_trainer_set_seed(t, s->seed);
    if (status == RECO_OK && s->kind == RECO_MODEL_IALS)
        status = reco_trainer_set_unobserved_weight(t, s->unobserved_weight);
    if (status == RECO_OK && s->kind == RECO_MODEL_IALS)
        status = reco_trainer_set_confidence(t, s->confidence);
    if (status == RECO_OK && s->kind == RECO_MODEL_IALS)
        status = reco_trainer_set_solver(t, s->solver, s->cg_steps);
    if (status == RECO_OK && s->kind == RECO_MODEL_ITEM_KNN)
        status = reco_trainer_set_neighbours(t, s->neighbours, s->weighting);
    if (status == RECO_OK)
        status = reco_trainer_set_threads(t, s->threads);
    /* the best epoch by the first metric reported is kept, unless --keep-last */
    if (status == RECO_OK && r->valid && !s->keep_last)
        status = reco_trainer_set_validation(t, r->valid, r->train, s->metrics[0], s->k);
    if (status == RECO_OK && r->valid && !s->keep_last)
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
 * among ranks), full ranking (training and validation items left out) or
 * ratings. */
reco_status job_evaluate(const settings *s, run *r, int valid, double values[JOB_MAX_METRICS])
{
    reco_metrics_reset(r->metrics);
    reco_status status;
    double hr = 0.0, ndcg = 0.0;
    const reco_dataset *rows = valid ? r->valid : r->test;
    const reco_dataset *seen = valid || !r->seen ? r->train : r->seen;
    if (s->protocol == PROTOCOL_SAMPLED)
        status = ranks_evaluate_sampled(r->metrics, r->model, rows, &hr, &ndcg);
    else if (s->protocol == PROTOCOL_RANKING)
        status = reco_metrics_evaluate_ranking(r->metrics, r->model, rows, seen);
    else
        status = reco_metrics_evaluate_ratings(r->metrics, r->model, rows);
    for (size_t m = 0; m < s->n_metrics && status == RECO_OK; m++) {
        if (s->protocol == PROTOCOL_SAMPLED) /* the ranks' sums, not this rank's */
            values[m] = s->metrics[m] == RECO_METRIC_HR ? hr : ndcg;
        else
            status = reco_metrics_get(r->metrics, s->metrics[m], &values[m]);
    }
    return status;
}

const char *job_metric_label(const settings *s, size_t m, char label[32])
{
    if (s->protocol == PROTOCOL_RATINGS)
        snprintf(label, 32, "%s", reco_metric_name(s->metrics[m]));
    else
        snprintf(label, 32, "%s@%zu", reco_metric_name(s->metrics[m]), s->k);
    return label;
}

void job_print_metrics(FILE *out, const settings *s, const double *values, int json, int first)
{
    for (size_t m = 0; m < s->n_metrics; m++) {
        char name[32];
        job_metric_label(s, m, name);
        if (json)
            fprintf(out, "%s\"%s\": %.6f", first && m == 0 ? "" : ", ", name, values[m]);
        else
            fprintf(out, "  %s %.4f", name, values[m]);
    }
}

/* Appends "key": value pairs of the resolved settings to the metadata. */
static reco_status note(reco_model *model, const char *key, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static reco_status note(reco_model *model, const char *key, const char *format, ...)
{
    char value[512];
    va_list args;
    va_start(args, format);
    vsnprintf(value, sizeof value, format, args);
    va_end(args);
    return reco_model_set_metadata(model, key, value);
}

reco_status job_describe(const settings *s, run *r, const char *history)
{
    static const char *const losses[] = {"bce", "mse", "bpr"};
    static const char *const protocols[] = {"sampled", "ranking", "ratings"};
    static const char *const metric_names[] = {"hr",  "ndcg", "recall", "precision",
                                               "map", "rmse", "mae",    "mse"};
    char layers[128] = "", metrics[128] = "";
    for (size_t i = 0; i < s->n_layers; i++)
        snprintf(layers + strlen(layers), sizeof layers - strlen(layers), "%s%zu", i ? "," : "",
                 s->layers[i]);
    for (size_t m = 0; m < s->n_metrics; m++)
        snprintf(metrics + strlen(metrics), sizeof metrics - strlen(metrics), "%s%s", m ? "," : "",
                 metric_names[s->metrics[m]]);
    reco_model *model = r->model;
    const char *data = s->train_file ? s->train_file : s->data ? s->data : "synthetic";
    reco_status status = note(model, "train.data", "%s", data);
    if (status == RECO_OK && s->test_file)
        status = note(model, "train.test", "%s", s->test_file);
    if (status == RECO_OK && s->valid_file)
        status = note(model, "train.valid", "%s", s->valid_file);
    if (status == RECO_OK && s->valid_from_train)
        status = note(model, "train.valid", "from the training rows (%s)",
                      s->protocol == PROTOCOL_SAMPLED ? "each user's latest" : "a random tenth");
    if (status == RECO_OK && s->titles)
        status = note(model, "train.titles", "%s", s->titles);
    if (status == RECO_OK)
        status = note(model, "train.split", "%s",
                      s->train_file      ? "files"
                      : s->leave_one_out ? "loo"
                                         : "random");
    if (status == RECO_OK)
        status = note(model, "train.stratify", "%s", s->stratify ? "yes" : "no");
    if (status == RECO_OK)
        status = note(model, "train.test_fraction", "%g", s->test_fraction);
    if (status == RECO_OK)
        status = note(model, "train.valid_fraction", "%g", s->valid_fraction);
    if (status == RECO_OK && !isnan(s->positive_threshold))
        status = note(model, "train.positive_threshold", "%g", s->positive_threshold);
    if (status == RECO_OK)
        status = note(model, "train.protocol", "%s", protocols[s->protocol]);
    if (status == RECO_OK)
        status = note(model, "train.metrics", "%s", metrics);
    if (status == RECO_OK)
        status = note(model, "train.k", "%zu", s->k);
    if (status == RECO_OK)
        status = note(model, "train.test_negatives", "%zu", s->test_negatives);
    if (status == RECO_OK)
        status = note(model, "train.loss", "%s", losses[s->loss]);
    if (status == RECO_OK)
        status = note(model, "train.reduction", "%s", s->mean_reduction ? "mean" : "sum");
    if (status == RECO_OK)
        status = note(model, "train.negatives", "%zu%s", s->negatives,
                      s->fixed_negatives ? " (fixed)" : "");
    if (status == RECO_OK)
        status = note(model, "train.optimizer", "%s", job_optimizers[s->optimizer]);
    if (status == RECO_OK)
        status = note(model, "train.lr", "%g", s->lr);
    if (status == RECO_OK)
        status = note(model, "train.lr_schedule", "x%g every %zu epochs", s->lr_decay, s->lr_step);
    if (status == RECO_OK)
        status = note(model, "train.momentum", "%g", s->momentum);
    if (status == RECO_OK)
        status = note(model, "train.weight_decay", "%g%s", s->weight_decay,
                      s->per_example ? " (per example)" : "");
    if (status == RECO_OK && s->kind == RECO_MODEL_ITEM_KNN)
        status = note(model, "train.neighbours", "%zu, %s", s->neighbours,
                      job_weightings[s->weighting]);
    if (status == RECO_OK && s->kind == RECO_MODEL_IALS)
        status = s->solver == RECO_SOLVER_CG
                     ? note(model, "train.ials", "unobserved weight %g, confidence %g, cg %zu steps",
                            s->unobserved_weight, s->confidence, s->cg_steps)
                     : note(model, "train.ials", "unobserved weight %g, confidence %g, cholesky",
                            s->unobserved_weight, s->confidence);
    if (status == RECO_OK)
        status = note(model, "train.embeddings", "%s",
                      s->dense > 0    ? "dense"
                      : s->dense == 0 ? "lazy"
                                      : "auto");
    if (status == RECO_OK)
        status = note(model, "train.batch", "%zu", s->batch);
    if (status == RECO_OK)
        status = note(model, "train.epochs", "%zu", s->epochs);
    if (status == RECO_OK)
        status = s->xavier ? note(model, "train.init", "xavier-uniform")
                           : note(model, "train.init", "normal, std %g", s->init_std);
    if (status == RECO_OK)
        status = note(model, "train.scale", "%g", s->scale);
    if (status == RECO_OK)
        status = note(model, "train.layers", "%s", layers);
    if (status == RECO_OK && s->pretrained_gmf)
        status = note(model, "train.pretrained", "%s + %s, alpha %g", s->pretrained_gmf,
                      s->pretrained_mlp, s->alpha);
    if (status == RECO_OK)
        status = note(model, "train.seed", "%llu", (unsigned long long)s->seed);
    if (status == RECO_OK && history)
        status = reco_model_set_metadata(model, "train.history", history);
    return status;
}

/* The recorded value of train.<key>, unless --<flag> is given. */
static const char *recorded(options *opts, const reco_model *model, const char *flag,
                            const char *key)
{
    return option_switch(opts, flag) ? NULL : reco_model_metadata(model, key);
}

void job_settings_from_model(options *opts, settings *s, const reco_model *model)
{
    const char *value;
    if ((value = recorded(opts, model, "split", "train.split")))
        s->leave_one_out = strcmp(value, "loo") == 0;
    if ((value = recorded(opts, model, "stratify", "train.stratify")))
        s->stratify = strcmp(value, "yes") == 0;
    if ((value = recorded(opts, model, "seed", "train.seed")))
        s->seed = strtoull(value, NULL, 10);
    if ((value = recorded(opts, model, "k", "train.k")))
        s->k = strtoull(value, NULL, 10);
    if ((value = recorded(opts, model, "test-fraction", "train.test_fraction")))
        s->test_fraction = strtod(value, NULL);
    if ((value = recorded(opts, model, "valid-fraction", "train.valid_fraction")))
        s->valid_fraction = strtod(value, NULL);
    if ((value = recorded(opts, model, "test-negatives", "train.test_negatives")))
        s->test_negatives = strtoull(value, NULL, 10);
    if ((value = recorded(opts, model, "positive-threshold", "train.positive_threshold")))
        s->positive_threshold = strtod(value, NULL);
    if ((value = recorded(opts, model, "scale", "train.scale")))
        s->scale = strtod(value, NULL);
    if ((value = recorded(opts, model, "protocol", "train.protocol")))
        s->protocol = strcmp(value, "sampled") == 0   ? PROTOCOL_SAMPLED
                      : strcmp(value, "ranking") == 0 ? PROTOCOL_RANKING
                                                      : PROTOCOL_RATINGS;
    if (option_switch(opts, "metrics"))
        return;
    static const reco_metric every[3][5] = {{RECO_METRIC_HR, RECO_METRIC_NDCG},
                                            {RECO_METRIC_HR, RECO_METRIC_NDCG, RECO_METRIC_RECALL,
                                             RECO_METRIC_PRECISION, RECO_METRIC_MAP},
                                            {RECO_METRIC_RMSE, RECO_METRIC_MAE, RECO_METRIC_MSE}};
    static const size_t counts[3] = {2, 5, 3};
    s->n_metrics = counts[s->protocol];
    memcpy(s->metrics, every[s->protocol], s->n_metrics * sizeof *s->metrics);
}

/* ncf: seed 000's NeuMF job (../shared/PROTOCOLS.md section 1) with its
 * settings: every rating a positive, leave-latest-out, 4 training negatives
 * per positive drawn once (the seed builds its loader before the epoch
 * loop), 100 sampled test negatives per user; NeuMF with 32 GMF factors and
 * an MLP tower 64-32-16-8, N(0, 0.01) tables, Xavier layers, sigmoid + BCE,
 * Adam 1e-3, batch 256, 10 epochs; HR@10 and NDCG@10 after every epoch.
 *
 * Without a ratings file it runs on the built-in synthetic set (943 users,
 * 100,000 ratings), where those settings learn what there is in 2 epochs and
 * then fit the noise (HR@10 0.37 at epoch 2, 0.28 at 10; ml-100k itself
 * peaks at epoch 5). There the demo trains as small data wants: 8 factors,
 * negatives drawn afresh every epoch, Adam 5e-4 decaying by 0.8 an epoch,
 * so that HR@10 rises to its plateau (about 0.35 to 0.40) and stays;
 * --seed000 keeps the tutorial's settings there too.
 *
 * --pretrain EPOCHS trains a GMF and an MLP for EPOCHS epochs each first
 * (Adam 1e-3) and starts NeuMF from them, as the NCF paper does (head =
 * [0.5 h_gmf, 0.5 h_mlp]); --sgd LR then trains NeuMF with plain SGD at LR
 * (the paper's choice after pretraining) instead of Adam.
 *
 * Usage: ncf [--seed000] [--pretrain EPOCHS] [--sgd LR] [ratings-file [epochs [threads]]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco.h"

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "ncf: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return 1;
}

static int report(reco_model *model, const reco_dataset *test, const char *when)
{
    reco_metrics *metrics = NULL;
    double hr = 0.0, ndcg = 0.0;
    reco_status status = reco_metrics_new(&metrics);
    if (status == RECO_OK)
        status = reco_metrics_evaluate_sampled(metrics, model, test);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_HR, &hr);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_NDCG, &ndcg);
    reco_metrics_free(metrics);
    if (status != RECO_OK)
        return fail("evaluation", status);
    printf("%-10s HR@10 %.4f  NDCG@10 %.4f\n", when, hr, ndcg);
    return 0;
}

/* Trains a fresh GMF or MLP for `epochs` epochs with Adam (pretraining). */
static reco_status pretrain(reco_model_kind kind, reco_backend *backend, reco_dataset *all,
                            reco_dataset *train, int epochs, reco_model **out)
{
    reco_trainer *trainer = NULL;
    reco_status status = reco_model_new(kind, reco_dataset_n_users(all),
                                        reco_dataset_n_items(all), out);
    if (status == RECO_OK)
        status = reco_model_set_factors(*out, 32);
    if (status == RECO_OK)
        status = reco_model_set_output(*out, RECO_ACTIVATION_SIGMOID);
    if (status == RECO_OK)
        status = reco_model_init(*out, backend, kind == RECO_MODEL_GMF ? 1 : 2);
    if (status == RECO_OK)
        status = reco_trainer_new(*out, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_set_fixed_negatives(trainer, 1);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, train, (size_t)epochs);
    reco_trainer_free(trainer);
    return status;
}

static const char usage[] =
    "usage: ncf [--seed000] [--pretrain EPOCHS] [--sgd LR] [ratings-file [epochs [threads]]]\n"
    "NeuMF on seed 000's protocol; without a file, on the synthetic dataset with\n"
    "small-data settings (--seed000: the protocol's there too)\n";

int main(int argc, char **argv)
{
    int pretrain_epochs = 0, tutorial = 0;
    double sgd = 0.0;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    while (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') { /* "-": standard input */
        int switch_flag = strcmp(argv[1], "--seed000") == 0;
        int known = switch_flag || strcmp(argv[1], "--pretrain") == 0 || strcmp(argv[1], "--sgd") == 0;
        if (!known || (!switch_flag && argc < 3)) {
            fprintf(stderr, known ? "ncf: %s needs a value\n%s" : "ncf: unknown flag %s\n%s",
                    argv[1], usage);
            return 2;
        }
        int used = switch_flag ? 1 : 2; /* the flag and its value */
        if (switch_flag)
            tutorial = 1;
        else if (strcmp(argv[1], "--pretrain") == 0)
            pretrain_epochs = atoi(argv[2]);
        else
            sgd = atof(argv[2]);
        argv += used;
        argc -= used;
    }
    const char *path = argc > 1 && *argv[1] ? argv[1] : NULL; /* "": the default */
    /* the tutorial's settings on real data or when asked; the small-data ones on the demo set */
    tutorial = tutorial || path || pretrain_epochs > 0;
    int epochs = argc > 2 ? atoi(argv[2]) : 10;
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    reco_model *gmf = NULL, *mlp = NULL;
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    int exit_code = 1;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &all)
                              : reco_dataset_synthetic(943, 1682, 100000, 42, &all);
    if (status != RECO_OK)
        return fail("loading the ratings", status);
    if ((status = reco_dataset_split_leave_one_out(all, &train, &test)) ||
        (status = reco_dataset_sample_test_negatives(test, all, 100, 42))) {
        fail("preparing the NCF protocol", status);
        goto done;
    }
    printf("libreco %s: NeuMF on %s\n", reco_version_string(),
           path ? path : "the synthetic dataset (943 users, 1682 items, 100000 ratings)");
    printf("train %zu positives (+4 negatives each, %s), test %zu users x (1 + 100)\n",
           reco_dataset_size(train), tutorial ? "drawn once" : "drawn afresh every epoch",
           reco_dataset_size(test));
    printf("%s\n", tutorial ? "seed 000's settings: 32 factors, Adam 1e-3"
                            : "small-data settings: 8 factors, Adam 5e-4 x 0.8 an epoch "
                              "(--seed000: the tutorial's)");
    if ((status = reco_backend_open("auto", &backend))) {
        fail("opening a backend", status);
        goto done;
    }
    if (pretrain_epochs > 0) {
        if ((status = pretrain(RECO_MODEL_GMF, backend, all, train, pretrain_epochs, &gmf)) ||
            (status = pretrain(RECO_MODEL_MLP, backend, all, train, pretrain_epochs, &mlp)) ||
            (status = reco_model_neumf_from_pretrained(gmf, mlp, 0.5f, &model))) {
            fail("pretraining", status);
            goto done;
        }
        printf("pretrained GMF and MLP for %d epochs each\n", pretrain_epochs);
    } else if ((status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(all),
                                        reco_dataset_n_items(all), &model)) ||
               (status = reco_model_set_factors(model, tutorial ? 32 : 8)) ||
               (status = reco_model_set_output(model, RECO_ACTIVATION_SIGMOID)) ||
               (status = reco_model_init(model, backend, 42))) {
        fail("setting up NeuMF", status);
        goto done;
    }
    if ((status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_set_threads(trainer, threads > 0 ? (size_t)threads : 0)) ||
        (status = reco_trainer_set_fixed_negatives(trainer, tutorial)) ||
        (!tutorial && (status = reco_trainer_set_learning_rate(trainer, 5e-4))) ||
        (!tutorial && (status = reco_trainer_set_lr_decay(trainer, 0.8))) ||
        (sgd > 0.0 && (status = reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_SGD))) ||
        (sgd > 0.0 && (status = reco_trainer_set_learning_rate(trainer, sgd)))) {
        fail("setting up the trainer", status);
        goto done;
    }
    if (report(model, test, pretrain_epochs > 0 ? "pretrained" : "untrained"))
        goto done;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double loss;
        if ((status = reco_trainer_epoch(trainer, train, &loss))) {
            fail("training", status);
            goto done;
        }
        char when[32];
        snprintf(when, sizeof when, "epoch %d", epoch);
        printf("loss %.4f  ", loss);
        if (report(model, test, when))
            goto done;
    }
    exit_code = 0;
done:
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_model_free(gmf);
    reco_model_free(mlp);
    reco_backend_free(backend);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    return exit_code;
}

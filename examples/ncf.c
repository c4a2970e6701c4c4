/* ncf: NeuMF on the NCF protocol. Leave-one-out by latest timestamp, 99
 * sampled test negatives per user, 4 training negatives per positive, Adam,
 * HR@10 and NDCG@10 after every epoch. Runs on the built-in synthetic dataset,
 * or on a ratings file given as the first argument, where every rating counts
 * as a positive, as in the NCF paper.
 *
 * With --pretrain, a GMF and an MLP are trained first and NeuMF starts from
 * them (the NCF paper's recipe: head = [0.5 h_gmf, 0.5 h_mlp], then SGD).
 *
 * Usage: ncf [--pretrain] [ratings-file [epochs [threads]]] */
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

/* Trains a fresh GMF or MLP for `epochs` epochs (pretraining). */
static reco_status pretrain(reco_model_kind kind, reco_backend *backend, reco_dataset *all,
                            reco_dataset *train, int epochs, reco_model **out)
{
    reco_trainer *trainer = NULL;
    reco_status status = reco_model_new(kind, reco_dataset_n_users(all),
                                        reco_dataset_n_items(all), out);
    if (status == RECO_OK)
        status = reco_model_init(*out, backend, kind == RECO_MODEL_GMF ? 1 : 2);
    if (status == RECO_OK)
        status = reco_trainer_new(*out, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, train, (size_t)epochs);
    reco_trainer_free(trainer);
    return status;
}

int main(int argc, char **argv)
{
    int pretraining = argc > 1 && strcmp(argv[1], "--pretrain") == 0;
    argv += pretraining;
    argc -= pretraining;
    const char *path = argc > 1 ? argv[1] : NULL;
    int epochs = argc > 2 ? atoi(argv[2]) : 5;
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
        (status = reco_dataset_sample_test_negatives(test, all, 99, 42))) {
        fail("preparing the NCF protocol", status);
        goto done;
    }
    printf("libreco %s: NeuMF on %s\n", reco_version_string(),
           path ? path : "the synthetic dataset (943 users, 1682 items, 100000 ratings)");
    printf("train %zu positives (+4 sampled negatives each), test %zu users x (1 + 99)\n",
           reco_dataset_size(train), reco_dataset_size(test));
    if ((status = reco_backend_open("auto", &backend))) {
        fail("opening a backend", status);
        goto done;
    }
    if (pretraining) {
        if ((status = pretrain(RECO_MODEL_GMF, backend, all, train, epochs, &gmf)) ||
            (status = pretrain(RECO_MODEL_MLP, backend, all, train, epochs, &mlp)) ||
            (status = reco_model_neumf_from_pretrained(gmf, mlp, 0.5f, &model))) {
            fail("pretraining", status);
            goto done;
        }
        printf("pretrained GMF and MLP for %d epochs each\n", epochs);
    } else if ((status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(all),
                                        reco_dataset_n_items(all), &model)) ||
               (status = reco_model_init(model, backend, 42))) {
        fail("setting up NeuMF", status);
        goto done;
    }
    if ((status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_set_threads(trainer, threads > 0 ? (size_t)threads : 0)) ||
        (pretraining && (status = reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_SGD))) ||
        (pretraining && (status = reco_trainer_set_learning_rate(trainer, 0.01)))) {
        fail("setting up the trainer", status);
        goto done;
    }
    if (report(model, test, pretraining ? "pretrained" : "untrained"))
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

/* CUDA benchmark: NeuMF with NVIDIA's reference configuration (factors 64,
 * layers 256,256,128,64, batch 1,048,576, 4 negatives, Adam lr 0.0045, betas
 * 0.25/0.5) on a synthetic dataset of ML-20M's shape, and the NCF paper's
 * NeuMF (factors 8, layers 64,32,16,8, batch 256, Adam 0.001) on a synthetic
 * dataset of ml-1m's shape. Exit 77 when no CUDA device is present.
 * Usage: bench_cuda [ml20m|ml1m|all] [epochs] [tf32] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reco/reco.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct config {
    const char *name;
    size_t users, items, ratings, factors, batch;
    size_t layers[4];
    double learning_rate, beta1, beta2;
} config;

static int run(const config *c, int epochs, int fast_math)
{
    double start = now_seconds();
    reco_dataset *train = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status = reco_dataset_synthetic(c->users, c->items, c->ratings, 1, &train);
    printf("%s: %zu users, %zu items, %zu positives (generated in %.1f s)\n", c->name, c->users,
           c->items, c->ratings, now_seconds() - start);
    if (!status)
        status = reco_backend_open("cuda", &backend);
    if (status == RECO_ERR_BACKEND_UNAVAILABLE) {
        printf("skipped: %s\n", reco_last_error());
        reco_dataset_free(train);
        return 77;
    }
    if (!status)
        status = reco_backend_set_fast_math(backend, fast_math);
    if (!status)
        printf("  %s matrix products\n", fast_math ? "TF32" : "FP32");
    if (!status)
        status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(train),
                                reco_dataset_n_items(train), &model);
    if (!status)
        status = reco_model_set_factors(model, c->factors);
    if (!status)
        status = reco_model_set_layers(model, c->layers, 4);
    if (!status)
        status = reco_model_init(model, backend, 1);
    if (!status)
        status = reco_trainer_new(model, &trainer);
    if (!status)
        status = reco_trainer_set_batch_size(trainer, c->batch);
    if (!status)
        status = reco_trainer_set_learning_rate(trainer, c->learning_rate);
    if (!status)
        status = reco_trainer_set_adam_betas(trainer, c->beta1, c->beta2);
    size_t samples = reco_dataset_size(train) * 5;
    for (int epoch = 0; epoch < epochs && !status; epoch++) {
        double loss, begin = now_seconds();
        status = reco_trainer_epoch(trainer, train, &loss);
        double seconds = now_seconds() - begin;
        if (!status)
            printf("  epoch %d: loss %.4f, %.2f s, %.2fM samples/s (sampling and shuffle "
                   "included)\n",
                   epoch + 1, loss, seconds, (double)samples / seconds / 1e6);
    }
    if (status)
        fprintf(stderr, "bench_cuda: %s: %s\n", reco_status_string(status), reco_last_error());
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(train);
    return status ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    int epochs = argc > 2 ? atoi(argv[2]) : 2;
    int fast_math = argc > 3 && strcmp(argv[3], "tf32") == 0;
    static const config ml20m = {"NVIDIA reference NeuMF, ML-20M shape", 138493, 26744,
                                 20000263, 64, 1048576, {256, 256, 128, 64}, 0.0045, 0.25, 0.5};
    static const config ml1m = {"NCF paper NeuMF, ml-1m shape", 6040, 3706, 994169, 8, 256,
                                {64, 32, 16, 8}, 0.001, 0.9, 0.999};
    int result = 0;
    if (strcmp(which, "ml1m") == 0 || strcmp(which, "all") == 0)
        result = run(&ml1m, epochs, fast_math);
    if (result == 0 && (strcmp(which, "ml20m") == 0 || strcmp(which, "all") == 0))
        result = run(&ml20m, epochs, fast_math);
    return result;
}

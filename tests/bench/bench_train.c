/* Training benchmark (issue "CPU backend and training"): NeuMF, 8 factors,
 * layers 64,32,16,8, batch 256, 4 negatives, Adam lr 0.001, 2 threads, on
 * ml-1m-implicit (RECO_DATA_DIR or argv[1]) or, when absent, a synthetic
 * dataset of the same shape. Prints samples/s, seconds per epoch, peak RSS.
 * Usage: bench_train [data_dir] [epochs] [threads] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
    int epochs = argc > 2 ? atoi(argv[2]) : 2;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    reco_dataset *train = NULL;
    const char *source;
    reco_status status = bench_ml1m_train(argc > 1 ? argv[1] : NULL, &train, &source);
    if (status != RECO_OK)
        return bench_fail("bench_train", "data", status);
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    if ((status = reco_backend_open("cpu", &backend)) ||
        (status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(train),
                                 reco_dataset_n_items(train), &model)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_trainer_new(model, &trainer)) ||
        (status = reco_trainer_set_threads(trainer, (size_t)threads)))
        return bench_fail("bench_train", "setup", status);
    bench_print_cpu();
    bench_print_backend(backend);
    printf("NeuMF 8 factors, layers 64,32,16,8, batch 256, 4 negatives, Adam 0.001, %d threads\n"
           "data: %s\n", threads, source);
    size_t samples = reco_dataset_size(train) * 5;
    double best = 1e30;
    for (int epoch = 0; epoch < epochs; epoch++) {
        double loss, start = bench_now();
        if ((status = reco_trainer_epoch(trainer, train, &loss)))
            return bench_fail("bench_train", "epoch", status);
        double seconds = bench_now() - start;
        best = seconds < best ? seconds : best;
        printf("epoch %d: loss %.4f, %.2f s, %.0f samples/s\n", epoch + 1, loss, seconds,
               (double)samples / seconds);
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu_seconds = (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec;
    printf("best epoch %.2f s = %.2fM samples/s; CPU %.1f s in all; peak RSS %.0f MB\n", best,
           (double)samples / best / 1e6, cpu_seconds, (double)usage.ru_maxrss / 1024.0);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(train);
    return 0;
}

/* Memory of a streamed epoch: one NeuMF epoch (8 factors, 64-32-16-8, 4
 * negatives, batch 256, Adam) on a synthetic dataset, by default of
 * ML-20M's shape (138,493 users, 26,744 items, 20M rows). Prints the peak
 * RSS after the data is made and after the epoch, and the epoch's time.
 * Usage: bench_stream [users items rows] [threads] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_common.h"

static double peak_rss_mb(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    size_t n_users = argc > 3 ? strtoull(argv[1], NULL, 10) : 138493;
    size_t n_items = argc > 3 ? strtoull(argv[2], NULL, 10) : 26744;
    size_t n_rows = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000000;
    size_t threads = argc > 4 ? strtoull(argv[4], NULL, 10) : 2;
    bench_print_cpu();
    double started = bench_now();
    reco_dataset *data = NULL;
    reco_status status = reco_dataset_synthetic(n_users, n_items, n_rows, 1, &data);
    if (status != RECO_OK)
        return bench_fail("bench_stream", "data", status);
    printf("synthetic data: %zu users, %zu items, %zu rows in %.1f s; peak RSS %.0f MB\n",
           reco_dataset_n_users(data), reco_dataset_n_items(data), reco_dataset_size(data),
           bench_now() - started, peak_rss_mb());
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    if ((status = reco_backend_open("cpu", &backend)) ||
        (status = reco_backend_set_threads(backend, threads)) ||
        (status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(data),
                                 reco_dataset_n_items(data), &model)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_trainer_new(model, &trainer)))
        return bench_fail("bench_stream", "setup", status);
    bench_print_backend(backend);
    started = bench_now();
    double loss = 0.0;
    if ((status = reco_trainer_epoch(trainer, data, &loss)))
        return bench_fail("bench_stream", "epoch", status);
    double seconds = bench_now() - started;
    printf("NeuMF epoch, %zu threads: loss %.4f, %.1f s (%.2fM samples/s); peak RSS %.0f MB\n",
           threads, loss, seconds, (double)reco_dataset_size(data) * 5 / seconds / 1e6,
           peak_rss_mb());
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(data);
    return 0;
}

/* The C side of the Python binding's overhead: the mean time of one
 * reco_model_recommend (top k, nothing excluded) for users 0, 1, 2, ... of a
 * saved model, on one thread. tests/bench/python_overhead.py runs it.
 * Usage: bench_recommend MODEL_FILE [calls] [k] */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_recommend MODEL_FILE [calls] [k]\n");
        return 2;
    }
    size_t calls = argc > 2 ? (size_t)atol(argv[2]) : 20000;
    size_t k = argc > 3 ? (size_t)atol(argv[3]) : 10;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_status status;
    if ((status = reco_backend_open("cpu", &backend)) ||
        (status = reco_backend_set_threads(backend, 1)) ||
        (status = reco_model_load(argv[1], backend, &model)))
        return bench_fail("bench_recommend", "setup", status);
    int32_t *items = malloc(k * sizeof *items);
    float *scores = malloc(k * sizeof *scores);
    size_t n = 0, n_users = reco_model_n_users(model);
    if (!items || !scores)
        return bench_fail("bench_recommend", "buffers", RECO_ERR_OUT_OF_MEMORY);
    double start = bench_now();
    for (size_t call = 0; call < calls && status == RECO_OK; call++)
        status = reco_model_recommend(model, (int32_t)(call % n_users), k, NULL, items, scores, &n);
    double seconds = bench_now() - start;
    if (status != RECO_OK)
        return bench_fail("bench_recommend", "recommend", status);
    printf("C recommend: %.2f us a call\n", 1e6 * seconds / (double)calls);
    free(items);
    free(scores);
    reco_model_free(model);
    reco_backend_free(backend);
    return 0;
}

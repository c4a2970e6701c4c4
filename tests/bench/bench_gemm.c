/* The tower's products on one batch slice (128 rows of the paper's
 * 64-32-16-8 tower: forward, the weights' gradient, the gradient below, for
 * each layer) by each kernel the CPU has: microseconds a slice, and the
 * ratio to BLIS, measured in turns so that all see the same machine state.
 * Usage: bench_gemm [rows] [rounds] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_gemm.h"

enum { MAX_ROWS = 1024, MAX_DIM = 64 };

static float act[MAX_ROWS * MAX_DIM], weights[MAX_DIM * MAX_DIM], gradient[MAX_DIM * MAX_DIM],
    out[MAX_ROWS * MAX_DIM];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The nine products of a slice of `rows`, `repeats` times; seconds a slice. */
static double time_slice(cpu_gemm_kernel kernel, size_t rows, int repeats)
{
    static const size_t layer_in[] = {64, 32, 16}, layer_out[] = {32, 16, 8};
    double started = now();
    for (int r = 0; r < repeats; r++)
        for (size_t l = 0; l < 3; l++) {
            size_t in = layer_in[l], width = layer_out[l];
            reco_cpu_gemm_by(kernel, 0, 0, rows, width, in, act, in, weights, width, 0.0f, out,
                             width);
            reco_cpu_gemm_by(kernel, 1, 0, width, in, rows, act, width, act, in, 1.0f, gradient,
                             in);
            reco_cpu_gemm_by(kernel, 0, 0, rows, in, width, act, width, weights, in, 0.0f, out, in);
        }
    return (now() - started) / repeats;
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? (size_t)atoi(argv[1]) : 128;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rows < 1 || rows > MAX_ROWS || rounds < 1) {
        fprintf(stderr, "usage: bench_gemm [rows 1..%d] [rounds]\n", MAX_ROWS);
        return 2;
    }
    for (size_t i = 0; i < MAX_ROWS * MAX_DIM; i++)
        act[i] = (float)(i % 97) / 97.0f - 0.5f;
    for (size_t i = 0; i < MAX_DIM * MAX_DIM; i++)
        weights[i] = (float)(i % 89) / 8900.0f;
    double best[3] = {0};
    for (int round = 0; round < rounds; round++)
        for (int k = CPU_GEMM_BLIS; k <= CPU_GEMM_AVX512; k++) {
            if (!reco_cpu_gemm_supported((cpu_gemm_kernel)k))
                continue;
            double seconds = time_slice((cpu_gemm_kernel)k, rows, 2000);
            if (best[k] == 0.0 || seconds < best[k])
                best[k] = seconds;
        }
    printf("the tower's products on a slice of %zu rows (best of %d rounds); in use: %s\n", rows,
           rounds, reco_cpu_gemm_name(reco_cpu_gemm_kernel()));
    for (int k = CPU_GEMM_BLIS; k <= CPU_GEMM_AVX512; k++)
        if (best[k] > 0.0)
            printf("%-9s %7.2f us  %.2fx BLIS\n", reco_cpu_gemm_name((cpu_gemm_kernel)k),
                   best[k] * 1e6, best[CPU_GEMM_BLIS] / best[k]);
    return 0;
}

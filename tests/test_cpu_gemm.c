/* The tower's products: every kernel the CPU has (BLIS, AVX2, AVX-512)
 * against a double-precision reference, on a slice's shapes and on odd ones
 * (rows not a multiple of 4, widths of one vector, beta 0 and 1, A
 * transposed or not), and the shapes the kernels leave to BLIS. Each vector
 * kernel is a meson test of its own that skips on a CPU without it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"
#include "helpers.h"

enum { MAX_DIM = 130 };

static float a[MAX_DIM * MAX_DIM], b[MAX_DIM * MAX_DIM], c[MAX_DIM * MAX_DIM];
static double expected[MAX_DIM * MAX_DIM];

static void fill(float *values, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        values[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
}

/* C (m x n) = op(A) op(B) + beta C by the kernel, against the reference. */
static void check_product(cpu_gemm_kernel kernel, int transpose_a, int transpose_b, size_t m,
                          size_t n, size_t k, float beta)
{
    size_t lda = transpose_a ? m : k, ldb = transpose_b ? k : n, ldc = n;
    fill(a, m * k, 1);
    fill(b, k * n, 2);
    fill(c, m * n, 3);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = beta * (double)c[i * ldc + j];
            for (size_t p = 0; p < k; p++)
                sum += (double)(transpose_a ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(transpose_b ? b[j * ldb + p] : b[p * ldb + j]);
            expected[i * ldc + j] = sum;
        }
    reco_cpu_gemm_by(kernel, transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    for (size_t i = 0; i < m * n; i++)
        ck_assert_msg(fabs((double)c[i] - expected[i]) <= 1e-5 * (double)k,
                      "%s, op %d%d, %zu x %zu x %zu, beta %g: C[%zu] %.9g, expected %.9g",
                      reco_cpu_gemm_name(kernel), transpose_a, transpose_b, m, n, k, beta, i, c[i],
                      expected[i]);
}

/* loop index: the kernel (main adds only kernels this CPU has) */
START_TEST(products_match_the_reference)
{
    cpu_gemm_kernel kernel = (cpu_gemm_kernel)_i;
    ck_assert(reco_cpu_gemm_supported(kernel));
    /* the paper's tower on a 128-row slice: forward, the weights' gradient,
     * the gradient below; then odd rows and single vectors */
    const size_t layers[][2] = {{64, 32}, {32, 16}, {16, 8}, {48, 24}, {128, 64}};
    const size_t rows[] = {128, 1, 3, 5, 127};
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            size_t in = layers[l][0], out = layers[l][1];
            check_product(kernel, 0, 0, rows[r], out, in, 0.0f);
            check_product(kernel, 1, 0, out, in, rows[r], 1.0f);
            check_product(kernel, 0, 0, rows[r], in, out, 0.0f);
            check_product(kernel, 0, 0, rows[r], out, in, 1.0f);
        }
    /* left to BLIS: B transposed, a beta other than 0 and 1, a width of no
     * whole vector */
    check_product(kernel, 0, 1, 7, 40, 16, 0.0f);
    check_product(kernel, 0, 0, 9, 16, 8, 0.5f);
    check_product(kernel, 1, 0, 6, 12, 10, 1.0f);
}
END_TEST

START_TEST(the_kernel_in_use_is_one_the_cpu_has)
{
    cpu_gemm_kernel kernel = reco_cpu_gemm_kernel();
    ck_assert(reco_cpu_gemm_supported(kernel));
    ck_assert(reco_cpu_gemm_supported(CPU_GEMM_BLIS));
    /* the widest unless RECO_SMALL_GEMM chose */
    const char *wanted = getenv("RECO_SMALL_GEMM");
    if (!wanted && reco_cpu_gemm_supported(CPU_GEMM_AVX512))
        ck_assert_int_eq(kernel, CPU_GEMM_AVX512);
}
END_TEST

/* The kernel an argument names ("blis", "avx2", "avx512"), or -1. */
static int kernel_named(const char *name)
{
    static const char *const names[] = {"blis", "avx2", "avx512"};
    for (int k = CPU_GEMM_BLIS; k <= CPU_GEMM_AVX512; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return -1;
}

/* Without an argument: BLIS and the kernel in use. With a kernel's name:
 * that kernel's products, or a skip (exit 77) on a CPU without it, so that
 * meson shows which kernels this machine did not check. */
int main(int argc, char **argv)
{
    int kernel = argc > 1 ? kernel_named(argv[1]) : CPU_GEMM_BLIS;
    if (kernel < 0) {
        fprintf(stderr, "unknown kernel '%s'\n", argv[1]);
        return EXIT_FAILURE;
    }
    if (!reco_cpu_gemm_supported((cpu_gemm_kernel)kernel)) {
        char reason[96];
        snprintf(reason, sizeof reason, "this CPU has no %s kernel",
                 reco_cpu_gemm_name((cpu_gemm_kernel)kernel));
        skip_program(reason);
    }
    Suite *suite = suite_create("cpu_gemm");
    TCase *tcase = test_case(suite, "products");
    tcase_add_loop_test(tcase, products_match_the_reference, kernel, kernel + 1);
    if (argc == 1)
        tcase_add_test(tcase, the_kernel_in_use_is_one_the_cpu_has);
    return run_suite(suite);
}

/* CPU backend: the tower's products. A batch slice's are tiny (about 128
 * rows by 8-64 columns): BLIS packs both operands on every call, which
 * costs as much as the product at these sizes. The backend's own kernels
 * keep a tile of C in registers and read the weights (at most 64 x 64,
 * in the L1 cache) unpacked: on a 2-core Sapphire Rapids the nine products
 * of a 128-row slice of the paper's tower take 21.5 us with AVX2 and 15.3
 * with AVX-512 against BLIS's 29.2 (docs/performance.md). */
#include <blis.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAS_KERNELS 1

#define KERNEL_WIDTH 8
#define KERNEL_TARGET __attribute__((target("avx2,fma")))
#define KERNEL(name) name##_avx2
#include "cpu_gemm_kernels.h"
#undef KERNEL_WIDTH
#undef KERNEL_TARGET
#undef KERNEL

#define KERNEL_WIDTH 16
#define KERNEL_TARGET __attribute__((target("avx512f")))
#define KERNEL(name) name##_avx512
#include "cpu_gemm_kernels.h"
#undef KERNEL_WIDTH
#undef KERNEL_TARGET
#undef KERNEL
#else
#define HAS_KERNELS 0
#endif

static pthread_once_t settled = PTHREAD_ONCE_INIT;
static cpu_gemm_kernel chosen = CPU_GEMM_BLIS;

int reco_cpu_gemm_supported(cpu_gemm_kernel kernel)
{
#if HAS_KERNELS
    __builtin_cpu_init();
    if (kernel == CPU_GEMM_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (kernel == CPU_GEMM_AVX512)
        return __builtin_cpu_supports("avx512f");
#endif
    return kernel == CPU_GEMM_BLIS;
}

static void settle(void)
{
    static const char *const names[] = {"blis", "avx2", "avx512"};
    const char *wanted = getenv("RECO_SMALL_GEMM");
    for (int k = CPU_GEMM_AVX512; k >= CPU_GEMM_BLIS; k--) {
        int named = wanted && strcmp(wanted, "auto") != 0;
        if (reco_cpu_gemm_supported((cpu_gemm_kernel)k) &&
            (!named || strcmp(wanted, names[k]) == 0)) {
            chosen = (cpu_gemm_kernel)k;
            return;
        }
    }
}

cpu_gemm_kernel reco_cpu_gemm_kernel(void)
{
    pthread_once(&settled, settle);
    return chosen;
}

const char *reco_cpu_gemm_name(cpu_gemm_kernel kernel)
{
    return kernel == CPU_GEMM_AVX512 ? "AVX-512" : kernel == CPU_GEMM_AVX2 ? "AVX2+FMA" : "BLIS";
}

/* BLIS on one thread: the backend's own threads already split the work,
 * and BLIS threads would oversubscribe. */
void reco_cpu_blis_gemm(int transpose_a, int transpose_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    bli_sgemm_ex(transpose_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 transpose_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k,
                 &alpha, (float *)a, (inc_t)lda, 1, (float *)b, (inc_t)ldb, 1, &beta, c,
                 (inc_t)ldc, 1, NULL, &rntm);
}

void reco_cpu_blis_trsm(int right, int transpose, size_t m, size_t n, const float *l, size_t ldl,
                        float *b, size_t ldb)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    float one = 1.0f;
    bli_strsm_ex(right ? BLIS_RIGHT : BLIS_LEFT, BLIS_LOWER,
                 transpose ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, BLIS_NONUNIT_DIAG, (dim_t)m,
                 (dim_t)n, &one, (float *)l, (inc_t)ldl, 1, b, (inc_t)ldb, 1, NULL, &rntm);
}

void reco_cpu_gemm_by(cpu_gemm_kernel kernel, int transpose_a, int transpose_b, size_t m, size_t n,
                      size_t k, const float *a, size_t lda, const float *b, size_t ldb, float beta,
                      float *c, size_t ldc)
{
    int fits = !transpose_b && (beta == 0.0f || beta == 1.0f);
#if HAS_KERNELS
    if (fits && kernel == CPU_GEMM_AVX512 && n % 16 == 0) {
        gemm_avx512(transpose_a, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (fits && kernel >= CPU_GEMM_AVX2 && n % 8 == 0) {
        gemm_avx2(transpose_a, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#else
    (void)fits;
    (void)kernel;
#endif
    reco_cpu_blis_gemm(transpose_a, transpose_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void reco_cpu_gemm(int transpose_a, int transpose_b, size_t m, size_t n, size_t k, const float *a,
                   size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    reco_cpu_gemm_by(reco_cpu_gemm_kernel(), transpose_a, transpose_b, m, n, k, a, lda, b, ldb,
                     beta, c, ldc);
}

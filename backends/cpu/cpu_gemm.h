/* CPU backend: the products of the tower, by BLIS or by the backend's own
 * kernels for the small shapes a batch slice has. */
#ifndef RECO_CPU_GEMM_H
#define RECO_CPU_GEMM_H

#include <stddef.h>

/* Who computes a product: BLIS, or a kernel of this backend's for a vector
 * width (8 floats: AVX2 with FMA; 16: AVX-512). */
typedef enum cpu_gemm_kernel {
    CPU_GEMM_BLIS,
    CPU_GEMM_AVX2,
    CPU_GEMM_AVX512,
} cpu_gemm_kernel;

/* The kernel the backend uses, settled once per process: the widest the
 * CPU has, or the one RECO_SMALL_GEMM names ("blis", "avx2", "avx512";
 * "auto": the widest) when the CPU has it. */
cpu_gemm_kernel reco_cpu_gemm_kernel(void);

/* Its name for the backend's description: "BLIS", "AVX2+FMA", "AVX-512". */
const char *reco_cpu_gemm_name(cpu_gemm_kernel kernel);

/* 1 when the CPU can run `kernel`. */
int reco_cpu_gemm_supported(cpu_gemm_kernel kernel);

/* C (m x n) = op(A) op(B) + beta C, row-major, on the calling thread, by
 * `kernel` where it applies (B not transposed, beta 0 or 1, n a multiple
 * of the kernel's width) and by BLIS otherwise. */
void reco_cpu_gemm_by(cpu_gemm_kernel kernel, int transpose_a, int transpose_b, size_t m, size_t n,
                      size_t k, const float *a, size_t lda, const float *b, size_t ldb, float beta,
                      float *c, size_t ldc);

/* C = alpha op(A) op(B) + beta C by BLIS on the calling thread (row-major). */
void reco_cpu_blis_gemm(int transpose_a, int transpose_b, size_t m, size_t n, size_t k, float alpha,
                        const float *a, size_t lda, const float *b, size_t ldb, float beta,
                        float *c, size_t ldc);

/* B (m x n, row-major) = L^-1 B, L^-T B or, with `right`, B L^-1 or B L^-T, for
 * L lower triangular (m x m, or n x n from the right), by BLIS on the
 * calling thread. */
void reco_cpu_blis_trsm(int right, int transpose, size_t m, size_t n, const float *l, size_t ldl,
                        float *b, size_t ldb);

/* The same by the backend's kernel (reco_cpu_gemm_kernel). */
void reco_cpu_gemm(int transpose_a, int transpose_b, size_t m, size_t n, size_t k, const float *a,
                   size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);

#endif

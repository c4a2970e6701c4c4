/* The small products' kernels for one vector width, included by
 * cpu_gemm.c once a width: KERNEL_WIDTH floats a vector, KERNEL_TARGET the
 * instruction set, KERNEL(name) the name with the width's suffix. C tiles
 * of 4 rows x 2 vectors stay in registers while k runs; B's rows (the
 * tower's weights, at most 64 x 64) stay in the L1 cache. No include
 * guard: it is meant to be included once a width. */
typedef float KERNEL(vector) __attribute__((vector_size(4 * KERNEL_WIDTH)));

KERNEL_TARGET static inline KERNEL(vector) KERNEL(load)(const float *from)
{
    KERNEL(vector) value;
    memcpy(&value, from, sizeof value);
    return value;
}

/* c = acc + beta c, for beta 0 or 1 */
KERNEL_TARGET static inline void KERNEL(store)(float *c, KERNEL(vector) acc, float beta)
{
    if (beta != 0.0f)
        acc += KERNEL(load)(c);
    memcpy(c, &acc, sizeof acc);
}

/* Rows [i, i + rows) x columns [j, j + vectors x width) of C = op(A) B + beta C:
 * a_row_step and a_k_step walk A (lda, 1 for A; 1, lda for A^T). */
KERNEL_TARGET static inline __attribute__((always_inline)) void
KERNEL(tile)(size_t rows, size_t vectors, size_t k, const float *a, size_t a_row_step,
             size_t a_k_step, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    KERNEL(vector) acc[4][2] = {{{0}}};
    for (size_t p = 0; p < k; p++) {
        const float *b_row = b + p * ldb;
        KERNEL(vector) b0 = KERNEL(load)(b_row);
        KERNEL(vector) b1 = vectors > 1 ? KERNEL(load)(b_row + KERNEL_WIDTH) : b0;
        const float *a_k = a + p * a_k_step;
        for (size_t r = 0; r < 4; r++) {
            float a_value = r < rows ? a_k[r * a_row_step] : 0.0f;
            acc[r][0] += a_value * b0;
            acc[r][1] += a_value * b1;
        }
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t v = 0; v < vectors; v++)
            KERNEL(store)(c + r * ldc + v * KERNEL_WIDTH, acc[r][v], beta);
}

/* C (m x n) = op(A) B + beta C, n a multiple of KERNEL_WIDTH. */
KERNEL_TARGET static void KERNEL(gemm)(int transpose_a, size_t m, size_t n, size_t k,
                                       const float *a, size_t lda, const float *b, size_t ldb,
                                       float beta, float *c, size_t ldc)
{
    size_t a_row_step = transpose_a ? 1 : lda, a_k_step = transpose_a ? lda : 1;
    for (size_t i = 0; i < m; i += 4) {
        const float *a_i = a + i * a_row_step;
        float *c_i = c + i * ldc;
        size_t j = 0;
        /* whole tiles with constant sizes, which the compiler unrolls */
        if (m - i >= 4) {
            for (; n - j >= 2 * KERNEL_WIDTH; j += 2 * KERNEL_WIDTH)
                KERNEL(tile)(4, 2, k, a_i, a_row_step, a_k_step, b + j, ldb, beta, c_i + j, ldc);
            for (; j < n; j += KERNEL_WIDTH)
                KERNEL(tile)(4, 1, k, a_i, a_row_step, a_k_step, b + j, ldb, beta, c_i + j, ldc);
        } else {
            for (; j < n; j += KERNEL_WIDTH)
                KERNEL(tile)
                (m - i, 1, k, a_i, a_row_step, a_k_step, b + j, ldb, beta, c_i + j, ldc);
        }
    }
}

/* CPU backend: small dense linear algebra that the solver families share,
 * inlined into each caller's vector clones. */
#ifndef RECO_CPU_LINALG_H
#define RECO_CPU_LINALG_H

#include <math.h>
#include <stddef.h>

#include "cpu_internal.h"

/* Sixteen running sums, added in a fixed order at the end: the loop
 * vectorizes (a single sum would not, floats not being associative) and
 * the result is the same on every machine width. */
#define DOT_LANES 16

CPU_INLINE float dot(const float *a, const float *b, size_t n)
{
    float lanes[DOT_LANES] = {0.0f};
    size_t whole = n / DOT_LANES * DOT_LANES;
    for (size_t k = 0; k < whole; k += DOT_LANES)
        for (size_t lane = 0; lane < DOT_LANES; lane++)
            lanes[lane] += a[k + lane] * b[k + lane];
    float sum = 0.0f;
    for (size_t k = whole; k < n; k++)
        sum += a[k] * b[k];
    for (size_t lane = 0; lane < DOT_LANES; lane++)
        sum += lanes[lane];
    return sum;
}

CPU_INLINE void axpy(float alpha, const float *x, float *y, size_t n)
{
    for (size_t k = 0; k < n; k++)
        y[k] += alpha * x[k];
}

/* out = G v (G symmetric, row-major). */
CPU_INLINE void gram_times(const float *gram, const float *v, float *out, size_t dim)
{
    for (size_t i = 0; i < dim; i++)
        out[i] = dot(gram + i * dim, v, dim);
}

/* In place: the lower triangle of the symmetric positive definite `a`
 * (dim x dim, rows `ld` apart) becomes L with L L' = a. Returns 0 on a
 * pivot that is not positive. */
CPU_INLINE int cholesky(float *a, size_t dim, size_t ld)
{
    for (size_t j = 0; j < dim; j++) {
        float *row_j = a + j * ld;
        float pivot = row_j[j] - dot(row_j, row_j, j);
        if (!(pivot > 0.0f))
            return 0;
        float diagonal = sqrtf(pivot), inverse = 1.0f / diagonal;
        row_j[j] = diagonal;
        for (size_t i = j + 1; i < dim; i++) {
            float *row_i = a + i * ld;
            row_i[j] = (row_i[j] - dot(row_i, row_j, j)) * inverse;
        }
    }
    return 1;
}

/* Solves L L' x = b (L from cholesky) in place of b. */
CPU_INLINE void cholesky_solve(const float *l, float *b, size_t dim)
{
    for (size_t i = 0; i < dim; i++)
        b[i] = (b[i] - dot(l + i * dim, b, i)) / l[i * dim + i];
    for (size_t i = dim; i-- > 0;) {
        float sum = b[i];
        for (size_t k = i + 1; k < dim; k++)
            sum -= l[k * dim + i] * b[k];
        b[i] = sum / l[i * dim + i];
    }
}

#endif

/* CPU backend: one half of an iALS alternation (reco_ials_half in
 * reco/backend_impl.h). Every row of the solved side is its own small
 * least-squares problem over the fixed side's factors Y:
 *
 *   A_r = w0 G + sum_j c_rj y_j y_j' + lambda_r I,   b_r = sum_j c_rj y_j
 *
 * with G = Y'Y formed once per half. Rows go to the pool's threads in chunks
 * taken from a shared counter (rows differ in length by orders of
 * magnitude); a row's arithmetic is the same whichever thread takes it, and
 * the loss is summed chunk by chunk in chunk order, so the result does not
 * depend on the thread count.
 *
 * Cholesky forms A_r (its observed part as a product of gathered rows, a
 * block at a time, through the backend's small-matrix kernels) and factors
 * it: d^2 work per entry and d^3 / 6 per row. Conjugate gradient (implicit's
 * method) starts from the row's current factors and never forms A_r: each
 * step is one product with G and one pass over the row's entries, 2 d work
 * per entry. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_gemm.h"
#include "cpu_internal.h"
#include "cpu_linalg.h"
#include "reco_alloc.h"

/* Rows a thread takes at a time, and entries gathered per product. */
#define CHUNK_ROWS 32
#define GATHER_ROWS 64

typedef struct ials_run {
    const reco_ials_half *half;
    cpu_sparse rows;          /* values: the confidences, NULL: all 1 */
    const float *fixed;
    float *solved;
    const float *gram;        /* G, dim x dim */
    float *scratch;           /* per thread: scratch_floats */
    size_t scratch_floats;
    size_t n_chunks;
    atomic_size_t next_chunk;
    atomic_int not_positive;  /* a Cholesky pivot <= 0 (no regularization at all) */
    double *chunk_fit;        /* per chunk, summed in order afterwards */
    double *chunk_penalty;
} ials_run;

/* The row's exact solution into x; 0 when A_r is not positive definite. */
CPU_INLINE int solve_exact(const ials_run *run, size_t row, float lambda, float *x, float *scratch)
{
    const reco_ials_half *half = run->half;
    size_t dim = half->dim;
    float *a = scratch, *gathered = a + dim * dim;
    for (size_t k = 0; k < dim * dim; k++)
        a[k] = half->unobserved_weight * run->gram[k];
    memset(x, 0, dim * sizeof *x);
    size_t first = run->rows.offsets[row], end = run->rows.offsets[row + 1];
    for (size_t start = first; start < end; start += GATHER_ROWS) {
        size_t count = end - start < GATHER_ROWS ? end - start : GATHER_ROWS;
        for (size_t e = 0; e < count; e++) {
            const float *y = run->fixed + (size_t)run->rows.columns[start + e] * dim;
            float c = run->rows.values ? run->rows.values[start + e] : 1.0f;
            float root = sqrtf(c);
            float *g = gathered + e * dim;
            for (size_t k = 0; k < dim; k++)
                g[k] = root * y[k];
            axpy(c, y, x, dim);
        }
        reco_cpu_gemm(1, 0, dim, dim, count, gathered, dim, gathered, dim, 1.0f, a, dim);
    }
    for (size_t k = 0; k < dim; k++)
        a[k * dim + k] += lambda;
    if (!cholesky(a, dim, dim))
        return 0;
    cholesky_solve(a, x, dim);
    return 1;
}

/* out = A_r v without forming A_r. */
CPU_INLINE void row_times(const ials_run *run, size_t row, float lambda, const float *v,
                          float *out)
{
    const reco_ials_half *half = run->half;
    size_t dim = half->dim;
    gram_times(run->gram, v, out, dim);
    for (size_t k = 0; k < dim; k++)
        out[k] = half->unobserved_weight * out[k] + lambda * v[k];
    for (size_t e = run->rows.offsets[row]; e < run->rows.offsets[row + 1]; e++) {
        const float *y = run->fixed + (size_t)run->rows.columns[e] * dim;
        float c = run->rows.values ? run->rows.values[e] : 1.0f;
        axpy(c * dot(y, v, dim), y, out, dim);
    }
}

/* cg_steps conjugate-gradient steps on A_r x = b_r from the row's x. */
CPU_INLINE void solve_cg(const ials_run *run, size_t row, float lambda, float *x, float *scratch)
{
    const reco_ials_half *half = run->half;
    size_t dim = half->dim;
    float *residual = scratch, *direction = residual + dim, *product = direction + dim;
    row_times(run, row, lambda, x, product);
    for (size_t k = 0; k < dim; k++)
        residual[k] = -product[k];
    for (size_t e = run->rows.offsets[row]; e < run->rows.offsets[row + 1]; e++)
        axpy(run->rows.values ? run->rows.values[e] : 1.0f,
             run->fixed + (size_t)run->rows.columns[e] * dim, residual, dim);
    memcpy(direction, residual, dim * sizeof *direction);
    float old_norm = dot(residual, residual, dim);
    for (size_t step = 0; step < half->cg_steps && old_norm > 1e-20f; step++) {
        row_times(run, row, lambda, direction, product);
        float curvature = dot(direction, product, dim);
        if (!(curvature > 0.0f))
            break;
        float alpha = old_norm / curvature;
        axpy(alpha, direction, x, dim);
        axpy(-alpha, product, residual, dim);
        float new_norm = dot(residual, residual, dim);
        float beta = new_norm / old_norm;
        for (size_t k = 0; k < dim; k++)
            direction[k] = residual[k] + beta * direction[k];
        old_norm = new_norm;
    }
}

/* The row's data terms at its factors x: observed squared errors and the
 * unobserved term w0 x' G x. */
CPU_INLINE double row_fit(const ials_run *run, size_t row, const float *x, float *scratch)
{
    const reco_ials_half *half = run->half;
    size_t dim = half->dim;
    double fit = 0.0;
    for (size_t e = run->rows.offsets[row]; e < run->rows.offsets[row + 1]; e++) {
        double error = (double)dot(run->fixed + (size_t)run->rows.columns[e] * dim, x, dim) - 1.0;
        fit += (run->rows.values ? run->rows.values[e] : 1.0f) * error * error;
    }
    gram_times(run->gram, x, scratch, dim);
    return fit + (double)half->unobserved_weight * dot(x, scratch, dim);
}

CPU_VECTOR_CLONES static void solve_rows(void *argument, size_t thread, size_t n_threads)
{
    (void)n_threads;
    ials_run *run = argument;
    const reco_ials_half *half = run->half;
    size_t dim = half->dim;
    float *scratch = run->scratch + thread * run->scratch_floats;
    for (;;) {
        size_t chunk = atomic_fetch_add_explicit(&run->next_chunk, 1, memory_order_relaxed);
        if (chunk >= run->n_chunks)
            return;
        size_t first = half->row_begin + chunk * CHUNK_ROWS;
        size_t end = first + CHUNK_ROWS < half->row_end ? first + CHUNK_ROWS : half->row_end;
        double fit = 0.0, penalty = 0.0;
        for (size_t row = first; row < end; row++) {
            float *x = run->solved + row * dim;
            size_t entries = run->rows.offsets[row + 1] - run->rows.offsets[row];
            float lambda = half->regularization *
                           ((float)entries + half->unobserved_weight * (float)half->rows.n_columns);
            if (half->solver == RECO_SOLVER_CHOLESKY) {
                if (!solve_exact(run, row, lambda, x, scratch))
                    atomic_store_explicit(&run->not_positive, 1, memory_order_relaxed);
            } else {
                solve_cg(run, row, lambda, x, scratch);
            }
            if (half->with_fit)
                fit += row_fit(run, row, x, scratch);
            penalty += (double)lambda * dot(x, x, dim);
        }
        run->chunk_fit[chunk] = fit;
        run->chunk_penalty[chunk] = penalty;
    }
}

reco_status reco_cpu_ials_solve(reco_backend_context *context, const reco_ials_half *half,
                                reco_backend_buffer *solved, const reco_backend_buffer *fixed,
                                reco_ials_loss *loss)
{
    size_t dim = half->dim;
    cpu_pool *pool = reco_cpu_context_pool(context);
    size_t n_threads = reco_cpu_pool_threads(pool);
    ials_run run = {
        .half = half,
        .rows = cpu_sparse_of(&half->rows),
        .fixed = cpu_const_floats(fixed),
        .solved = cpu_floats(solved),
        .n_chunks = (half->row_end - half->row_begin + CHUNK_ROWS - 1) / CHUNK_ROWS,
        /* Cholesky: A and a block of gathered rows; CG: three vectors */
        .scratch_floats = dim * dim + GATHER_ROWS * dim,
    };
    atomic_init(&run.next_chunk, 0);
    atomic_init(&run.not_positive, 0);
    reco_status status = RECO_OK;
    float *gram = reco_malloc_array(dim * dim, sizeof *gram);
    run.scratch = reco_malloc_array(n_threads * run.scratch_floats, sizeof *run.scratch);
    run.chunk_fit = reco_malloc_array(run.n_chunks + 1, sizeof *run.chunk_fit);
    run.chunk_penalty = reco_malloc_array(run.n_chunks + 1, sizeof *run.chunk_penalty);
    if (!gram || !run.scratch || !run.chunk_fit || !run.chunk_penalty) {
        status = reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "cpu backend: out of memory for iALS");
        goto done;
    }
    /* one product on one thread: the same sums whatever the thread count */
    reco_cpu_gemm(1, 0, dim, dim, half->rows.n_columns, run.fixed, dim, run.fixed, dim, 0.0f, gram,
                  dim);
    run.gram = gram;
    reco_cpu_pool_run(pool, solve_rows, &run);
    if (atomic_load(&run.not_positive)) {
        status = reco_backend_fail(RECO_ERR_INVALID_ARGUMENT,
                                   "iALS: a row's system is singular; set a weight decay or an "
                                   "unobserved weight above 0");
        goto done;
    }
    reco_ials_loss total = {0.0, 0.0};
    for (size_t chunk = 0; chunk < run.n_chunks; chunk++) {
        total.fit += run.chunk_fit[chunk];
        total.penalty += run.chunk_penalty[chunk];
    }
    if (loss)
        *loss = total;
done:
    reco_cpu_pool_release(pool);
    reco_free(gram);
    reco_free(run.scratch);
    reco_free(run.chunk_fit);
    reco_free(run.chunk_penalty);
    return status;
}

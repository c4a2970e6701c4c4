/* Sums of sparse gradients in a fixed order, for data-parallel training:
 * the same parts give the same bytes on every rank. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "reco/backend_impl.h"
#include "reco_alloc.h"

reco_status reco_sparse_gradient_alloc(reco_sparse_gradient *g)
{
    if (!g)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL gradient");
    int ok = (g->dense = reco_malloc_array(g->n_dense + 1, sizeof(float))) != NULL;
    for (int side = 0; side < 2 && ok; side++)
        ok = (g->rows[side] = reco_malloc_array(g->capacity[side] + 1, sizeof(int32_t))) != NULL;
    for (int t = 0; t < RECO_N_TABLES && ok; t++)
        if (g->dim[t])
            ok = (g->values[t] =
                      reco_malloc_array(g->capacity[t % 2] * g->dim[t] + 1, sizeof(float))) != NULL;
    g->n_rows[0] = g->n_rows[1] = 0;
    g->loss = 0.0;
    if (!ok) {
        reco_sparse_gradient_free(g);
        return reco_fail_oom();
    }
    return RECO_OK;
}

void reco_sparse_gradient_free(reco_sparse_gradient *g)
{
    if (!g)
        return;
    for (int side = 0; side < 2; side++) {
        reco_free(g->rows[side]);
        g->rows[side] = NULL;
    }
    for (int t = 0; t < RECO_N_TABLES; t++) {
        reco_free(g->values[t]);
        g->values[t] = NULL;
    }
    reco_free(g->dense);
    g->dense = NULL;
}

static int same_shape(const reco_sparse_gradient *a, const reco_sparse_gradient *b)
{
    if (a->n_dense != b->n_dense || a->capacity[0] != b->capacity[0] ||
        a->capacity[1] != b->capacity[1])
        return 0;
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (a->dim[t] != b->dim[t])
            return 0;
    return 1;
}

/* Adds one side of `part` into `out`; slot_of[row] is the row's place in
 * out (-1: not yet there). */
static reco_status add_side(const reco_sparse_gradient *part, int side, int32_t *slot_of,
                            reco_sparse_gradient *out)
{
    for (size_t i = 0; i < part->n_rows[side]; i++) {
        int32_t row = part->rows[side][i];
        if (row < 0 || (size_t)row >= out->capacity[side])
            return reco_fail(RECO_ERR_INVALID_ARGUMENT, "gradient row %d out of range", (int)row);
        int fresh = slot_of[row] < 0;
        if (fresh) {
            slot_of[row] = (int32_t)out->n_rows[side]++;
            out->rows[side][slot_of[row]] = row;
        }
        for (int t = side; t < RECO_N_TABLES; t += 2) {
            size_t dim = out->dim[t];
            const float *from = part->values[t] + i * dim;
            float *to = out->values[t] + (size_t)slot_of[row] * dim;
            for (size_t j = 0; j < dim; j++)
                to[j] = fresh ? from[j] : to[j] + from[j];
        }
    }
    return RECO_OK;
}

reco_status reco_sparse_gradient_sum(const reco_sparse_gradient *const *parts, size_t count,
                                     reco_sparse_gradient *out)
{
    if (!parts || count == 0 || !out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "no gradients to sum");
    for (size_t p = 0; p < count; p++)
        if (!parts[p] || parts[p] == out || !same_shape(parts[p], out))
            return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                             "gradient %zu: NULL, the output itself or of another shape", p);
    size_t widest = out->capacity[0] > out->capacity[1] ? out->capacity[0] : out->capacity[1];
    int32_t *slot_of = reco_malloc_array(widest + 1, sizeof *slot_of);
    if (!slot_of)
        return reco_fail_oom();
    reco_status status = RECO_OK;
    for (int side = 0; side < 2 && status == RECO_OK; side++) {
        memset(slot_of, 0xff, (widest + 1) * sizeof *slot_of);
        out->n_rows[side] = 0;
        for (size_t p = 0; p < count && status == RECO_OK; p++)
            status = add_side(parts[p], side, slot_of, out);
    }
    out->loss = 0.0;
    for (size_t i = 0; i < out->n_dense; i++)
        out->dense[i] = 0.0f;
    for (size_t p = 0; p < count; p++) {
        out->loss += parts[p]->loss;
        for (size_t i = 0; i < out->n_dense; i++)
            out->dense[i] += parts[p]->dense[i];
    }
    reco_free(slot_of);
    return status;
}

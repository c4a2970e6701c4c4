/* Fold-in: a new user's rows learned from the items they liked, with the
 * rest of the model fixed; only that user's rows cross to the backend
 * after each step. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model_impl.h"
#include "reco/trainer.h"
#include "reco_alloc.h"
#include "reco_math.h"
#include "rng.h"

/* Step size of fold-in's SGD on the summed BCE loss of the new user. */
#define FOLD_IN_LEARNING_RATE 0.05f

/* Draws a negative for fold-in: uniform among items not in `liked` (sorted). */
static int32_t draw_unliked(reco_rng *rng, const int32_t *liked, size_t n_liked, size_t n_items)
{
    return reco_nth_untaken(liked, n_liked, reco_rng_below(rng, n_items - n_liked));
}

static int compare_int32(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

/* The flat-vector ranges of the user's rows: (offset, width) per user table. */
static size_t user_row_ranges(const reco_model *model, int32_t user, size_t offsets[3],
                              size_t widths[3])
{
    size_t n = 0, offset = 0;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t dim = model->net.table_dim[t];
        int user_side =
            t == RECO_TABLE_USER_GMF || t == RECO_TABLE_USER_MLP || t == RECO_TABLE_USER_BIAS;
        if (dim && user_side) {
            offsets[n] = offset + (size_t)user * dim;
            widths[n++] = dim;
        }
        offset += model->net.table_rows[t] * dim;
    }
    return n;
}

/* A sorted copy of the items without repeats, its length in *n_distinct;
 * NULL (the error set) when out of memory. The caller frees it. */
static int32_t *sorted_distinct(const int32_t *items, size_t n, size_t *n_distinct)
{
    int32_t *sorted = reco_malloc(n * sizeof *sorted);
    if (!sorted) {
        reco_fail_oom();
        return NULL;
    }
    memcpy(sorted, items, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_int32);
    *n_distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            sorted[(*n_distinct)++] = sorted[i];
    return sorted;
}

/* The liked items, checked: at least one, fewer than all, all in the model. */
static reco_status check_liked(const reco_model *model, const int32_t *liked_items,
                               size_t n_liked)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (n_liked && !liked_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL liked items");
    if (n_liked == 0 || n_liked >= model->n_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%zu liked items: expected at least one, and fewer than all", n_liked);
    int32_t no_user[1] = {0};
    for (size_t i = 0; i < n_liked; i++)
        if (reco_model_check_pairs(model, no_user, liked_items + i, 1) != RECO_OK)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "liked item %d outside the model",
                             (int)liked_items[i]);
    return RECO_OK;
}

/* iALS: user row `user` becomes the exact solution of its least-squares
 * problem for these items (sorted, distinct) with every item fixed
 * (implicit's recalculate_user), through the backend's row solver. */
static reco_status solve_ials_user(reco_model *model, int32_t user, const int32_t *columns,
                                   size_t distinct)
{
    const reco_backend_ops *ops = model->backend->ops;
    reco_backend_context *context = model->backend->context;
    if (!ops->kernels.ials_solve)
        return reco_fail(RECO_ERR_BACKEND_UNAVAILABLE, "the %s backend cannot solve iALS rows",
                         ops->name);
    size_t dim = model->factors;
    float *row = reco_calloc(dim, sizeof *row);
    reco_backend_buffer *buffers[3] = {NULL, NULL, NULL}; /* offsets, columns, the row */
    reco_status status = RECO_OK;
    if (!row) {
        status = reco_fail_oom();
        goto done;
    }
    size_t offsets[2] = {0, distinct};
    const void *host[3] = {offsets, columns, row};
    size_t bytes[3] = {sizeof offsets, distinct * sizeof *columns, dim * sizeof *row};
    for (int b = 0; b < 3 && status == RECO_OK; b++) {
        status = ops->device.buffer_alloc(context, bytes[b], &buffers[b]);
        if (status == RECO_OK)
            status = ops->device.buffer_upload(context, buffers[b], 0, host[b], bytes[b]);
    }
    reco_ials_half half = {
        .rows = {buffers[0], buffers[1], NULL, 1, model->n_items},
        .dim = dim,
        .unobserved_weight = model->ials_unobserved_weight,
        .regularization = model->ials_regularization,
        .solver = RECO_SOLVER_CHOLESKY,
        .row_begin = 0,
        .row_end = 1,
    };
    if (status == RECO_OK)
        status = ops->kernels.ials_solve(context, &half, buffers[2],
                                         model->params.tables[RECO_TABLE_ITEM_GMF], NULL);
    if (status == RECO_OK)
        status = ops->device.buffer_download(context, buffers[2], 0, row, bytes[2]);
    if (status == RECO_OK)
        status = reco_model_upload_range(model, (size_t)user * dim, row, dim);
done:
    for (int b = 0; b < 3; b++)
        if (buffers[b])
            ops->device.buffer_free(context, buffers[b]);
    reco_free(row);
    return status;
}

reco_status reco_model_refit_user(reco_model *model, int32_t user, const int32_t *liked_items,
                                  size_t n_liked)
{
    reco_status status = check_liked(model, liked_items, n_liked);
    if (status != RECO_OK)
        return status;
    if (model->kind != RECO_MODEL_IALS)
        return reco_fail(RECO_ERR_STATE, "refitting a user is an iALS call (an exact solve)");
    if (user < 0 || (size_t)user >= model->n_users)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "user %d outside the model's %zu", (int)user,
                         model->n_users);
    size_t distinct;
    int32_t *items = sorted_distinct(liked_items, n_liked, &distinct);
    if (!items)
        return RECO_ERR_OUT_OF_MEMORY;
    status = solve_ials_user(model, user, items, distinct);
    reco_free(items);
    return status;
}

/* A new user's items join the model's seen items when it keeps them (the
 * item-item kinds' history holds them already). */
static reco_status remember_liked(reco_model *model, const int32_t *items, size_t distinct)
{
    if (reco_kind_is_item_item(model->kind) || !model->history.offsets)
        return RECO_OK;
    return reco_history_add_user(model, items, distinct);
}

/* The solver families' fold-in: a new user row, solved exactly (iALS) or
 * holding its items (EASE, item-kNN: nothing to learn). `items` are sorted
 * and distinct. */
static reco_status fold_in_solved(reco_model *model, const int32_t *items, size_t distinct,
                                  int32_t *user)
{
    reco_status status = reco_model_add_users(model, 1);
    if (status != RECO_OK)
        return status;
    int32_t new_user = (int32_t)(model->n_users - 1);
    status = model->kind == RECO_MODEL_IALS
                 ? solve_ials_user(model, new_user, items, distinct)
                 : reco_history_add_user(model, items, distinct);
    if (status == RECO_OK)
        status = remember_liked(model, items, distinct);
    if (status != RECO_OK) {
        reco_model_drop_users(model, 1);
        return status;
    }
    *user = new_user;
    return RECO_OK;
}

reco_status reco_model_fold_in(reco_model *model, const int32_t *liked_items, size_t n_liked,
                               size_t steps, uint64_t seed, int32_t *user)
{
    reco_status status = check_liked(model, liked_items, n_liked);
    if (status != RECO_OK)
        return status;
    if (!user)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL user");
    size_t distinct;
    int32_t *sorted = sorted_distinct(liked_items, n_liked, &distinct);
    if (!sorted)
        return RECO_ERR_OUT_OF_MEMORY;
    if (model->kind == RECO_MODEL_IALS || reco_kind_is_item_item(model->kind)) {
        status = fold_in_solved(model, sorted, distinct, user);
        reco_free(sorted);
        return status;
    }
    enum { NEGATIVES = 4 };
    size_t batch = n_liked * (1 + NEGATIVES);
    int32_t *users = reco_malloc(batch * sizeof *users),
            *items = reco_malloc(batch * sizeof *items);
    float *targets = reco_malloc(batch * sizeof *targets);
    float *params = NULL, *gradient = NULL;
    reco_trainer *trainer = NULL;
    int added = 0;
    if (!users || !items || !targets) {
        status = reco_fail_oom();
        goto done;
    }
    status = reco_model_add_users(model, 1);
    if (status != RECO_OK)
        goto done;
    added = 1;
    int32_t new_user = (int32_t)(model->n_users - 1);
    size_t offsets[3], widths[3], row_floats = 0;
    size_t n_ranges = user_row_ranges(model, new_user, offsets, widths);
    for (size_t r = 0; r < n_ranges; r++)
        row_floats += widths[r];
    /* the new user's rows, one range a user table, side by side */
    params = reco_malloc(row_floats * sizeof *params);
    gradient = reco_malloc(reco_model_parameter_count(model) * sizeof *gradient);
    if (!params || !gradient) {
        status = reco_fail_oom();
        goto done;
    }
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    for (size_t r = 0, at = 0; r < n_ranges; at += widths[r++])
        for (size_t d = 0; d < widths[r]; d++)
            params[at + d] =
                widths[r] == 1 ? 0.0f : (float)(model->init_std * reco_rng_normal(&rng));
    for (size_t r = 0, at = 0; r < n_ranges && status == RECO_OK; at += widths[r++])
        status = reco_model_upload_range(model, offsets[r], params + at, widths[r]);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    for (size_t step = 0; step < steps && status == RECO_OK; step++) {
        for (size_t i = 0; i < n_liked; i++) {
            size_t base = i * (1 + NEGATIVES);
            users[base] = new_user;
            items[base] = liked_items[i];
            targets[base] = 1.0f;
            for (size_t j = 1; j <= NEGATIVES; j++) {
                users[base + j] = new_user;
                items[base + j] = draw_unliked(&rng, sorted, distinct, model->n_items);
                targets[base + j] = 0.0f;
            }
        }
        double loss;
        status = reco_trainer_batch_gradient(trainer, users, items, targets, NULL, batch, &loss,
                                             gradient);
        /* plain SGD on the summed loss, on the new user's rows only: the
         * rest of the model is frozen, and only those rows go back */
        for (size_t r = 0, at = 0; r < n_ranges && status == RECO_OK; at += widths[r++]) {
            for (size_t d = 0; d < widths[r]; d++)
                params[at + d] -= FOLD_IN_LEARNING_RATE * gradient[offsets[r] + d] * (float)batch;
            status = reco_model_upload_range(model, offsets[r], params + at, widths[r]);
        }
    }
    if (status == RECO_OK)
        status = remember_liked(model, sorted, distinct);
    if (status == RECO_OK)
        *user = new_user;
done:
    reco_trainer_free(trainer);
    if (status != RECO_OK && added)
        reco_model_drop_users(model, 1);
    reco_free(sorted);
    reco_free(users);
    reco_free(items);
    reco_free(targets);
    reco_free(params);
    reco_free(gradient);
    return status;
}

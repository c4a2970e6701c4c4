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

reco_status reco_model_fold_in(reco_model *model, const int32_t *liked_items, size_t n_liked,
                               size_t steps, uint64_t seed, int32_t *user)
{
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (!user || (n_liked && !liked_items))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL liked items or user");
    if (n_liked == 0 || n_liked >= model->n_items)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "%zu liked items: expected at least one, and fewer than all", n_liked);
    int32_t no_user[1] = {0};
    for (size_t i = 0; i < n_liked; i++)
        if (reco_model_check_pairs(model, no_user, liked_items + i, 1) != RECO_OK)
            return reco_fail(RECO_ERR_OUT_OF_RANGE, "liked item %d outside the model",
                             (int)liked_items[i]);
    enum { NEGATIVES = 4 };
    size_t batch = n_liked * (1 + NEGATIVES);
    int32_t *sorted = reco_malloc(n_liked * sizeof *sorted);
    int32_t *users = reco_malloc(batch * sizeof *users),
            *items = reco_malloc(batch * sizeof *items);
    float *targets = reco_malloc(batch * sizeof *targets);
    float *params = NULL, *gradient = NULL;
    reco_trainer *trainer = NULL;
    int added = 0;
    if (!sorted || !users || !items || !targets) {
        status = reco_fail_oom();
        goto done;
    }
    memcpy(sorted, liked_items, n_liked * sizeof *sorted);
    qsort(sorted, n_liked, sizeof *sorted, compare_int32);
    size_t distinct = 0;
    for (size_t i = 0; i < n_liked; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            sorted[distinct++] = sorted[i];
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
        *user = new_user;
done:
    reco_trainer_free(trainer);
    if (status != RECO_OK && added)
        reco_model_drop_users(model, 1);
    free(sorted);
    free(users);
    free(items);
    free(targets);
    free(params);
    free(gradient);
    return status;
}

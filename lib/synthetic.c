/* The built-in synthetic dataset: MovieLens-like ratings from latent factors,
 * so that examples and tests run with no download. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "rng.h"
#include "reco_alloc.h"

#define SYNTHETIC_FACTORS 8
#define SYNTHETIC_FIRST_TIMESTAMP 956700000 /* April 2000, as ml-1m */
#define SYNTHETIC_POPULARITY_EXPONENT 0.8

typedef struct synthetic_model {
    double *user_factors;    /* n_users x SYNTHETIC_FACTORS */
    double *item_factors;    /* n_items x SYNTHETIC_FACTORS */
    double *popularity_cdf;  /* n_items, increasing to 1 */
} synthetic_model;

static void synthetic_model_free(synthetic_model *model)
{
    reco_free(model->user_factors);
    reco_free(model->item_factors);
    reco_free(model->popularity_cdf);
}

static reco_status synthetic_model_init(synthetic_model *model, size_t n_users, size_t n_items,
                                        reco_rng *rng)
{
    model->user_factors = reco_malloc_array(n_users, SYNTHETIC_FACTORS * sizeof(double));
    model->item_factors = reco_malloc_array(n_items, SYNTHETIC_FACTORS * sizeof(double));
    model->popularity_cdf = reco_malloc_array(n_items, sizeof(double));
    size_t *rank = reco_malloc(n_items * sizeof *rank);
    if (!model->user_factors || !model->item_factors || !model->popularity_cdf || !rank) {
        reco_free(rank);
        return reco_fail_oom();
    }
    for (size_t i = 0; i < n_users * SYNTHETIC_FACTORS; i++)
        model->user_factors[i] = reco_rng_normal(rng);
    for (size_t i = 0; i < n_items * SYNTHETIC_FACTORS; i++)
        model->item_factors[i] = reco_rng_normal(rng);
    /* Zipf popularity over a random ranking of the items */
    for (size_t i = 0; i < n_items; i++)
        rank[i] = i;
    for (size_t i = n_items; i > 1; i--) {
        size_t j = (size_t)reco_rng_below(rng, i), swap = rank[i - 1];
        rank[i - 1] = rank[j];
        rank[j] = swap;
    }
    double total = 0.0;
    for (size_t i = 0; i < n_items; i++) {
        total += pow((double)rank[i] + 1.0, -SYNTHETIC_POPULARITY_EXPONENT);
        model->popularity_cdf[i] = total;
    }
    for (size_t i = 0; i < n_items; i++)
        model->popularity_cdf[i] /= total;
    reco_free(rank);
    return RECO_OK;
}

static size_t draw_popular_item(const synthetic_model *model, size_t n_items, reco_rng *rng)
{
    double u = reco_rng_uniform(rng);
    size_t low = 0, high = n_items - 1;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (model->popularity_cdf[middle] <= u)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

/* Affinity of a user for an item, standardized to about N(0, 1). */
static double affinity(const synthetic_model *model, size_t user, size_t item)
{
    const double *u = model->user_factors + user * SYNTHETIC_FACTORS;
    const double *v = model->item_factors + item * SYNTHETIC_FACTORS;
    double dot = 0.0;
    for (int k = 0; k < SYNTHETIC_FACTORS; k++)
        dot += u[k] * v[k];
    return dot / sqrt((double)SYNTHETIC_FACTORS);
}

/* Picks `count` distinct items for a user: popular ones more often, and ones
 * the user has affinity for more often (accepted with probability
 * sigmoid(2 * affinity)). Falls back to a scan when the draws stall. */
static void pick_items(const synthetic_model *model, size_t user, size_t n_items, size_t count,
                       reco_rng *rng, uint8_t *taken, size_t *picked)
{
    size_t n_picked = 0;
    size_t attempts_left = 64 * count + 1024;
    while (n_picked < count && attempts_left-- > 0) {
        size_t item = draw_popular_item(model, n_items, rng);
        if (taken[item])
            continue;
        double acceptance = 1.0 / (1.0 + exp(-2.0 * affinity(model, user, item)));
        if (reco_rng_uniform(rng) >= acceptance)
            continue;
        taken[item] = 1;
        picked[n_picked++] = item;
    }
    for (size_t item = (size_t)reco_rng_below(rng, n_items); n_picked < count;
         item = (item + 1) % n_items) {
        if (!taken[item]) {
            taken[item] = 1;
            picked[n_picked++] = item;
        }
    }
    for (size_t i = 0; i < count; i++)
        taken[picked[i]] = 0;
}

static float rating_of(const synthetic_model *model, size_t user, size_t item, reco_rng *rng)
{
    double rating =
        floor(2.8 + 1.5 * affinity(model, user, item) + 0.5 * reco_rng_normal(rng) + 0.5);
    return (float)(rating < 1.0 ? 1.0 : rating > 5.0 ? 5.0 : rating);
}

reco_status reco_dataset_synthetic(size_t n_users, size_t n_items, size_t n_ratings,
                                   uint64_t seed, reco_dataset **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    if (n_users == 0 || n_items == 0 || n_ratings < n_users)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "synthetic dataset of %zu users, %zu items, %zu ratings: expected at "
                         "least one user and item and one rating per user",
                         n_users, n_items, n_ratings);
    size_t most_per_user = n_ratings / n_users + (n_ratings % n_users != 0);
    if (n_users > INT32_MAX || n_items > INT32_MAX || most_per_user > n_items)
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "%zu ratings do not fit %zu users x %zu items with distinct items",
                         n_ratings, n_users, n_items);
    reco_status status = RECO_OK;
    reco_dataset *dataset = NULL;
    synthetic_model model = {0};
    size_t per_user = n_ratings / n_users, remainder = n_ratings % n_users;
    uint8_t *taken = reco_calloc(n_items, 1);
    size_t *picked = reco_malloc((per_user + 1) * sizeof *picked);
    if (!taken || !picked) {
        status = reco_fail_oom();
        goto fail;
    }
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    status = synthetic_model_init(&model, n_users, n_items, &rng);
    if (status == RECO_OK)
        status = reco_dataset_create(NULL, 1, 1, n_ratings, &dataset);
    if (status != RECO_OK)
        goto fail;
    for (size_t user = 0; user < n_users; user++) {
        size_t count = per_user + (user < remainder);
        int32_t user_index;
        status = reco_id_map_insert(&dataset->vocab->users, (int64_t)user + 1, &user_index);
        if (status != RECO_OK)
            goto fail;
        pick_items(&model, user, n_items, count, &rng, taken, picked);
        int64_t timestamp = SYNTHETIC_FIRST_TIMESTAMP + (int64_t)reco_rng_below(&rng, 30000000);
        for (size_t i = 0; i < count; i++) {
            int32_t item_index;
            status = reco_id_map_insert(&dataset->vocab->items, (int64_t)picked[i] + 1,
                                        &item_index);
            if (status != RECO_OK)
                goto fail;
            timestamp += 1 + (int64_t)reco_rng_below(&rng, 3 * 86400);
            reco_dataset_push(dataset, user_index, item_index,
                              rating_of(&model, user, picked[i], &rng), timestamp);
        }
    }
    synthetic_model_free(&model);
    reco_free(taken);
    reco_free(picked);
    *out = dataset;
    return RECO_OK;
fail:
    synthetic_model_free(&model);
    reco_free(taken);
    reco_free(picked);
    reco_dataset_free(dataset);
    return status;
}

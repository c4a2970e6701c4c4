/* The built-in synthetic generator. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

START_TEST(synthetic_has_the_asked_shape)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(100, 400, 5050, 42, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 5050);
    ck_assert_uint_eq(reco_dataset_n_users(ds), 100);
    ck_assert_uint_le(reco_dataset_n_items(ds), 400);
    const int32_t *users = reco_dataset_users(ds), *items = reco_dataset_items(ds);
    const float *ratings = reco_dataset_ratings(ds);
    const int64_t *timestamps = reco_dataset_timestamps(ds);
    ck_assert_ptr_nonnull(timestamps);
    size_t per_user[100] = {0};
    char *seen = calloc(100 * 400, 1);
    for (size_t i = 0; i < 5050; i++) {
        per_user[users[i]]++;
        ck_assert(ratings[i] >= 1.0f && ratings[i] <= 5.0f);
        ck_assert_float_eq(ratings[i], (float)(int)ratings[i]);
        ck_assert_int_eq(seen[users[i] * 400 + items[i]]++, 0); /* distinct items per user */
        if (i > 0 && users[i] == users[i - 1])
            ck_assert_int_gt(timestamps[i], timestamps[i - 1]);
    }
    free(seen);
    for (int user = 0; user < 100; user++)
        ck_assert_uint_eq(per_user[user], user < 50 ? 51 : 50);
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_user_id(ds, 99, &id));
    ck_assert_int_eq(id, 100);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(synthetic_popularity_is_skewed_and_ratings_spread)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(300, 1000, 30000, 7, &ds));
    size_t n_items = reco_dataset_n_items(ds);
    size_t *count = calloc(n_items, sizeof *count);
    size_t by_rating[6] = {0};
    for (size_t i = 0; i < reco_dataset_size(ds); i++) {
        count[reco_dataset_items(ds)[i]]++;
        by_rating[(int)reco_dataset_ratings(ds)[i]]++;
    }
    /* items appear in order of first use, so sort the counts to find the top 10% */
    size_t top = 0;
    for (size_t round = 0; round < n_items / 10; round++) {
        size_t best = 0;
        for (size_t i = 1; i < n_items; i++)
            if (count[i] > count[best])
                best = i;
        top += count[best];
        count[best] = 0;
    }
    ck_assert_msg(top * 100 > 25 * reco_dataset_size(ds), "top 10%% of items hold %zu of %zu",
                  top, reco_dataset_size(ds));
    for (int rating = 1; rating <= 5; rating++)
        ck_assert_msg(by_rating[rating] * 50 > reco_dataset_size(ds), "rating %d: %zu", rating,
                      by_rating[rating]);
    free(count);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(synthetic_is_reproducible)
{
    reco_dataset *a = NULL, *b = NULL, *c = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(30, 60, 600, 99, &a));
    RECO_ASSERT_OK(reco_dataset_synthetic(30, 60, 600, 99, &b));
    RECO_ASSERT_OK(reco_dataset_synthetic(30, 60, 600, 98, &c));
    ck_assert_mem_eq(reco_dataset_items(a), reco_dataset_items(b), 600 * sizeof(int32_t));
    ck_assert_mem_eq(reco_dataset_ratings(a), reco_dataset_ratings(b), 600 * sizeof(float));
    ck_assert_mem_eq(reco_dataset_timestamps(a), reco_dataset_timestamps(b),
                     600 * sizeof(int64_t));
    ck_assert(memcmp(reco_dataset_ratings(a), reco_dataset_ratings(c), 600 * sizeof(float)) != 0);
    reco_dataset_free(a);
    reco_dataset_free(b);
    reco_dataset_free(c);
}
END_TEST

START_TEST(synthetic_can_fill_every_item)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(3, 5, 15, 1, &ds));
    ck_assert_uint_eq(reco_dataset_n_items(ds), 5);
    reco_dataset_free(ds);
    ck_assert_int_eq(reco_dataset_synthetic(3, 5, 16, 1, &ds), RECO_ERR_OUT_OF_RANGE);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(reco_dataset_synthetic(3, 5, 2, 1, &ds), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_synthetic(3, 5, 3, 1, NULL), RECO_ERR_INVALID_ARGUMENT);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("synthetic");
    TCase *tcase = test_case(suite, "synthetic");
    tcase_add_test(tcase, synthetic_has_the_asked_shape);
    tcase_add_test(tcase, synthetic_popularity_is_skewed_and_ratings_spread);
    tcase_add_test(tcase, synthetic_is_reproducible);
    tcase_add_test(tcase, synthetic_can_fill_every_item);
    return run_suite(suite);
}

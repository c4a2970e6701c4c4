/* Splits: leave-one-out with timestamp ties, random and three-way holdouts,
 * stratification. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

START_TEST(leave_one_out_takes_latest_and_breaks_ties_by_file_order)
{
    reco_dataset *ds = NULL, *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(ds, &train, &test));
    /* user 1: items 20 and 30 share t=300, 20 comes first; user 2: t=50;
     * user 3 has one row and stays in train */
    ck_assert_uint_eq(reco_dataset_size(test), 2);
    ck_assert_int_eq(reco_dataset_users(test)[0], 0);
    ck_assert_int_eq(reco_dataset_items(test)[0], 1);
    ck_assert_float_eq(reco_dataset_ratings(test)[0], 3.0f);
    ck_assert_int_eq(reco_dataset_users(test)[1], 1);
    ck_assert_int_eq(reco_dataset_items(test)[1], 1);
    ck_assert_int_eq(reco_dataset_timestamps(test)[1], 50);
    ck_assert_uint_eq(reco_dataset_size(train), 4);
    const int64_t expected_times[] = {100, 300, 40, 10};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(reco_dataset_timestamps(train)[i], expected_times[i]);
    ck_assert(reco_dataset_shares_vocabulary(train, test));
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(leave_one_out_without_timestamps_holds_out_last_row)
{
    reco_dataset *ds = NULL, *train = NULL, *test = NULL;
    const int64_t users[] = {5, 6, 5, 6, 5}, items[] = {1, 2, 3, 4, 2};
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 5, &ds));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(ds, &train, &test));
    ck_assert_uint_eq(reco_dataset_size(test), 2);
    int64_t id;
    reco_dataset_item_id(test, reco_dataset_items(test)[0], &id);
    ck_assert_int_eq(id, 2);
    reco_dataset_item_id(test, reco_dataset_items(test)[1], &id);
    ck_assert_int_eq(id, 4);
    ck_assert_uint_eq(reco_dataset_size(train), 3);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

/* 20 rows: user i % 4, item i, rating 1 + i % 5, timestamp i. */
static reco_dataset *twenty_rows(void)
{
    int64_t users[20], items[20];
    float ratings[20];
    for (int i = 0; i < 20; i++) {
        users[i] = i % 4;
        items[i] = i;
        ratings[i] = (float)(1 + i % 5);
    }
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, 20, &ds));
    return ds;
}

/* Marks which original rows (items are 0..19 by construction) a part holds,
 * checking it keeps the original order. */
static void mark_rows(const reco_dataset *part, int *owner, int label)
{
    int64_t previous = -1;
    for (size_t i = 0; i < reco_dataset_size(part); i++) {
        int64_t item;
        reco_dataset_item_id(part, reco_dataset_items(part)[i], &item);
        ck_assert_int_gt(item, previous);
        ck_assert_int_eq(owner[item], -1);
        owner[item] = label;
        previous = item;
    }
}

START_TEST(random_split_is_a_seeded_partition)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_random(ds, 0.2, 7, 0, &train, &test));
    ck_assert_uint_eq(reco_dataset_size(test), 4);
    ck_assert_uint_eq(reco_dataset_size(train), 16);
    int owner[20];
    memset(owner, -1, sizeof owner);
    mark_rows(train, owner, 0);
    mark_rows(test, owner, 1);
    for (int i = 0; i < 20; i++)
        ck_assert_int_ne(owner[i], -1);
    /* the generator is ours: these rows are the same on every platform */
    const int64_t expected_test[] = {0, 2, 15, 18};
    for (int i = 0; i < 4; i++) {
        int64_t item;
        reco_dataset_item_id(test, reco_dataset_items(test)[i], &item);
        ck_assert_int_eq(item, expected_test[i]);
    }
    reco_dataset *train_again = NULL, *test_again = NULL, *other_train = NULL, *other_test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_random(ds, 0.2, 7, 0, &train_again, &test_again));
    ck_assert_mem_eq(reco_dataset_items(test), reco_dataset_items(test_again), 4 * sizeof(int32_t));
    RECO_ASSERT_OK(reco_dataset_split_random(ds, 0.2, 8, 0, &other_train, &other_test));
    ck_assert(memcmp(reco_dataset_items(test), reco_dataset_items(other_test),
                     4 * sizeof(int32_t)) != 0);
    reco_dataset_free(train_again);
    reco_dataset_free(test_again);
    reco_dataset_free(other_train);
    reco_dataset_free(other_test);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(three_way_split_sizes_and_partition)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *valid = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_three_way(ds, 0.2, 0.2, 3, 0, &train, &valid, &test));
    ck_assert_uint_eq(reco_dataset_size(train), 12);
    ck_assert_uint_eq(reco_dataset_size(valid), 4);
    ck_assert_uint_eq(reco_dataset_size(test), 4);
    int owner[20];
    memset(owner, -1, sizeof owner);
    mark_rows(train, owner, 0);
    mark_rows(valid, owner, 1);
    mark_rows(test, owner, 2);
    for (int i = 0; i < 20; i++)
        ck_assert_int_ne(owner[i], -1);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

/* The original rows (items 0..19) a part holds, in order. */
static size_t rows_of(const reco_dataset *part, int64_t *rows)
{
    for (size_t i = 0; i < reco_dataset_size(part); i++)
        reco_dataset_item_id(part, reco_dataset_items(part)[i], &rows[i]);
    return reco_dataset_size(part);
}

/* Asserts that a part holds exactly `expected` (n rows, original order). */
static void expect_rows(const reco_dataset *part, const char *name, const int64_t *expected,
                        size_t n)
{
    int64_t got[20];
    ck_assert_msg(rows_of(part, got) == n, "%s: %zu rows, expected %zu", name,
                  reco_dataset_size(part), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == expected[i], "%s row %zu: %lld, expected %lld", name, i,
                      (long long)got[i], (long long)expected[i]);
}

/* dataset.h promises round(n x fraction): 20 x 0.33 = 6.6 rows go to test
 * (7, where truncating gives 6), 20 x 0.32 = 6.4 rows 6. */
START_TEST(random_split_rounds_a_fractional_share)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_random(ds, 0.33, 7, 0, &train, &test));
    /* the generator is ours: these rows are the same on every platform */
    const int64_t expected_test[] = {0, 1, 2, 7, 9, 15, 18};
    expect_rows(test, "test", expected_test, 7);
    ck_assert_uint_eq(reco_dataset_size(train), 13);
    reco_dataset_free(train);
    reco_dataset_free(test);
    RECO_ASSERT_OK(reco_dataset_split_random(ds, 0.32, 7, 0, &train, &test));
    ck_assert_uint_eq(reco_dataset_size(test), 6);
    ck_assert_uint_eq(reco_dataset_size(train), 14);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

/* Unequal shares that are not whole rows: validation 20 x 0.13 = 2.6 -> 3
 * rows, test 20 x 0.28 = 5.6 -> 6 rows, train the other 11; swapping the two
 * fractions, or truncating either share, changes the sizes. */
START_TEST(three_way_split_with_unequal_fractional_shares)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *valid = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_three_way(ds, 0.13, 0.28, 3, 0, &train, &valid, &test));
    const int64_t expected_valid[] = {1, 16, 18};
    const int64_t expected_test[] = {8, 9, 10, 13, 14, 19};
    const int64_t expected_train[] = {0, 2, 3, 4, 5, 6, 7, 11, 12, 15, 17};
    expect_rows(valid, "valid", expected_valid, 3);
    expect_rows(test, "test", expected_test, 6);
    expect_rows(train, "train", expected_train, 11);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

/* Stratified, the rounding is per rating value: each value has 4 rows, so
 * validation 4 x 0.125 = 0.5 -> 1 row and test 4 x 0.375 = 1.5 -> 2 rows of
 * each (truncation: 0 and 1), train the last one. */
START_TEST(stratified_split_rounds_each_ratings_share)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *valid = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_three_way(ds, 0.125, 0.375, 11, RECO_SPLIT_STRATIFY, &train,
                                                &valid, &test));
    int per_rating[3][6] = {{0}};
    const reco_dataset *parts[3] = {train, valid, test};
    const int expected[3] = {1, 1, 2};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < reco_dataset_size(parts[p]); i++)
            per_rating[p][(int)reco_dataset_ratings(parts[p])[i]]++;
    for (int p = 0; p < 3; p++)
        for (int rating = 1; rating <= 5; rating++)
            ck_assert_msg(per_rating[p][rating] == expected[p],
                          "part %d, rating %d: %d rows, expected %d", p, rating,
                          per_rating[p][rating], expected[p]);
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(stratified_split_takes_the_fraction_of_each_rating)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *valid = NULL, *test = NULL;
    /* each rating value has 4 rows: 2 train, 1 valid, 1 test (80/10/10 would
     * round 0.4 down; 50/25/25 is exact) */
    RECO_ASSERT_OK(reco_dataset_split_three_way(ds, 0.25, 0.25, 11, RECO_SPLIT_STRATIFY, &train,
                                                &valid, &test));
    int per_rating[3][6] = {{0}};
    const reco_dataset *parts[3] = {train, valid, test};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < reco_dataset_size(parts[p]); i++)
            per_rating[p][(int)reco_dataset_ratings(parts[p])[i]]++;
    for (int rating = 1; rating <= 5; rating++) {
        ck_assert_int_eq(per_rating[0][rating], 2);
        ck_assert_int_eq(per_rating[1][rating], 1);
        ck_assert_int_eq(per_rating[2][rating], 1);
    }
    reco_dataset_free(train);
    reco_dataset_free(valid);
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

/* 3 folds of 20 rows: test sets of 7, 7 and 6 rows (20 x 1/3, 2/3 cut
 * points) that partition the rows, each train the other rows; with
 * RECO_SPLIT_STRATIFY every fold's test takes from each rating value. */
START_TEST(folds_partition_the_rows)
{
    reco_dataset *ds = twenty_rows();
    int owner[20];
    memset(owner, -1, sizeof owner);
    const size_t sizes[3] = {6, 7, 7};
    for (size_t fold = 0; fold < 3; fold++) {
        reco_dataset *train = NULL, *test = NULL;
        RECO_ASSERT_OK(reco_dataset_split_fold(ds, 3, fold, 5, 0, &train, &test));
        ck_assert_uint_eq(reco_dataset_size(test), sizes[fold]);
        ck_assert_uint_eq(reco_dataset_size(train), 20 - sizes[fold]);
        ck_assert(reco_dataset_shares_vocabulary(train, test));
        int before[20];
        memcpy(before, owner, sizeof before);
        mark_rows(test, owner, (int)fold);
        for (int i = 0; i < 20; i++)
            ck_assert(before[i] == -1 || owner[i] == before[i]); /* no row tested twice */
        reco_dataset_free(train);
        reco_dataset_free(test);
    }
    for (int i = 0; i < 20; i++)
        ck_assert_int_ne(owner[i], -1);
    /* stratified: 4 rows of each rating over 2 folds, 2 of each in each */
    for (size_t fold = 0; fold < 2; fold++) {
        reco_dataset *train = NULL, *test = NULL;
        RECO_ASSERT_OK(reco_dataset_split_fold(ds, 2, fold, 5, RECO_SPLIT_STRATIFY, &train, &test));
        int per_rating[6] = {0};
        for (size_t i = 0; i < reco_dataset_size(test); i++)
            per_rating[(int)reco_dataset_ratings(test)[i]]++;
        for (int rating = 1; rating <= 5; rating++)
            ck_assert_int_eq(per_rating[rating], 2);
        reco_dataset_free(train);
        reco_dataset_free(test);
    }
    reco_dataset *train = (reco_dataset *)1, *test = NULL;
    ck_assert_int_eq(reco_dataset_split_fold(ds, 1, 0, 5, 0, &train, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(train);
    ck_assert_int_eq(reco_dataset_split_fold(ds, 3, 3, 5, 0, &train, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_str_eq(reco_last_error(), "fold 3 of 3: expected at least 2 folds, numbered from 0");
    reco_dataset_free(ds);
}
END_TEST

START_TEST(split_arguments_are_checked)
{
    reco_dataset *ds = twenty_rows(), *train = NULL, *test = NULL, *valid = NULL;
    ck_assert_int_eq(reco_dataset_split_random(ds, 0.0, 1, 0, &train, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_split_random(ds, 1.0, 1, 0, &train, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_split_three_way(ds, 0.5, 0.5, 1, 0, &train, &valid, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_split_random(ds, 0.2, 1, 0x80, &train, &test),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(train);
    reco_dataset *implicit = NULL;
    RECO_ASSERT_OK(reco_dataset_binarize(ds, 3.0f, &implicit));
    ck_assert_int_eq(reco_dataset_split_random(implicit, 0.2, 1, RECO_SPLIT_STRATIFY, &train,
                                               &test),
                     RECO_ERR_STATE);
    reco_dataset_free(implicit);
    reco_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("split");
    TCase *tcase = test_case(suite, "split");
    tcase_add_test(tcase, leave_one_out_takes_latest_and_breaks_ties_by_file_order);
    tcase_add_test(tcase, leave_one_out_without_timestamps_holds_out_last_row);
    tcase_add_test(tcase, random_split_is_a_seeded_partition);
    tcase_add_test(tcase, three_way_split_sizes_and_partition);
    tcase_add_test(tcase, random_split_rounds_a_fractional_share);
    tcase_add_test(tcase, three_way_split_with_unequal_fractional_shares);
    tcase_add_test(tcase, stratified_split_rounds_each_ratings_share);
    tcase_add_test(tcase, stratified_split_takes_the_fraction_of_each_rating);
    tcase_add_test(tcase, split_arguments_are_checked);
    tcase_add_test(tcase, folds_partition_the_rows);
    return run_suite(suite);
}

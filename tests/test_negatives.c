/* Test negatives (read and sampled) and the training negative sampler. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

static void leave_one_out(reco_dataset **all, reco_dataset **train, reco_dataset **test)
{
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(*all, train, test));
}

static void free_all(reco_dataset *a, reco_dataset *b, reco_dataset *c)
{
    reco_dataset_free(a);
    reco_dataset_free(b);
    reco_dataset_free(c);
}

START_TEST(reads_ncf_negatives_and_drops_the_test_item)
{
    reco_dataset *all, *train, *test;
    leave_one_out(&all, &train, &test);
    RECO_ASSERT_OK(reco_dataset_read_test_negatives(test, fixture("ratings.negative")));
    size_t count;
    const int32_t *negatives = reco_dataset_test_negatives(test, 0, &count);
    ck_assert_uint_eq(count, 1); /* "40 20": 20 is the row's own test item */
    ck_assert_int_eq(negatives[0], 3);
    negatives = reco_dataset_test_negatives(test, 1, &count);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(negatives[0], 0);
    ck_assert_int_eq(negatives[1], 2);
    ck_assert_ptr_null(reco_dataset_test_negatives(test, 2, &count));
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_null(reco_dataset_test_negatives(train, 0, &count));
    free_all(all, train, test);
}
END_TEST

START_TEST(negative_file_errors_leave_everything_unchanged)
{
    reco_dataset *all, *train, *test;
    leave_one_out(&all, &train, &test);
    const char *wrong_pair = write_temp_text("pair.negative", "(2,20)\t40\n(1,20)\t10\n");
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, wrong_pair), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(),
                                 "pair.negative:1: names (2,20) but test row 0 is (1,20)"));
    const char *short_file = write_temp_text("short.negative", "(1,20)\t777\n");
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, short_file), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "1 lines, expected one per test row (2)"));
    ck_assert_uint_eq(reco_dataset_n_items(all), 4); /* 777 was not kept */
    const char *long_file =
        write_temp_text("long.negative", "(1,20)\t40\n(2,20)\t10\n(3,10)\t10\n");
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, long_file), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), ":3: more lines than the 2 test rows"));
    char long_id[400] = "(1,20)\t41\t";
    memset(long_id + strlen(long_id), 'x', 300);
    strcat(long_id, "\n(2,20)\t10\n");
    const char *bad_item = write_temp_text("item.negative", long_id);
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, bad_item), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), ":1: a negative item id: expected an id of "
                                                    "at most 255 bytes, got 'xxx"));
    ck_assert_uint_eq(reco_dataset_n_items(all), 4); /* 41 was not kept */
    const char *no_pair = write_temp_text("nopair.negative", "1,20\t40\n");
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, no_pair), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), ":1: expected '(user,item)'"));
    size_t count;
    ck_assert_ptr_null(reco_dataset_test_negatives(test, 0, &count));
    free_all(all, train, test);
}
END_TEST

START_TEST(negative_file_may_name_new_items)
{
    reco_dataset *all, *train, *test;
    leave_one_out(&all, &train, &test);
    const char *path = write_temp_text("new.negative", "(1,20)\t555\n(2,20)\t10\n");
    RECO_ASSERT_OK(reco_dataset_read_test_negatives(test, path));
    ck_assert_uint_eq(reco_dataset_n_items(train), 5);
    size_t count;
    ck_assert_int_eq(reco_dataset_test_negatives(test, 0, &count)[0], 4);
    free_all(all, train, test);
}
END_TEST

/* One user who rated items 0..7 except 3 and 5, another who rated item 0. */
static reco_dataset *almost_full_user(void)
{
    int64_t users[7], items[7];
    int n = 0;
    for (int item = 0; item < 8; item++) {
        if (item == 3 || item == 5)
            continue;
        users[n] = 1;
        items[n++] = item;
    }
    users[n] = 2;
    items[n++] = 3;
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, (size_t)n, &ds));
    return ds;
}

/* Maps an item index of ds back to its external id. */
static int64_t item_id(const reco_dataset *ds, int32_t index)
{
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_item_id(ds, index, &id));
    return id;
}

START_TEST(sampled_test_negatives_are_the_untouched_items)
{
    reco_dataset *all = almost_full_user(), *train, *test;
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &train, &test));
    ck_assert_uint_eq(reco_dataset_size(test), 1);
    /* the vocabulary knows items 0,1,2,4,6,7 and 3 (item 5 appears nowhere):
     * user 1 rated all of them but 3 */
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(test, all, 1, 9));
    size_t count;
    const int32_t *negatives = reco_dataset_test_negatives(test, 0, &count);
    ck_assert_uint_eq(count, 1);
    ck_assert_int_eq(item_id(all, negatives[0]), 3);
    ck_assert_int_eq(reco_dataset_sample_test_negatives(test, all, 2, 9), RECO_ERR_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(),
                                 "user 1 has 1 items left to sample; 2 negatives asked"));
    negatives = reco_dataset_test_negatives(test, 0, &count);
    ck_assert_uint_eq(count, 1); /* the earlier negatives stay */
    free_all(all, train, test);
}
END_TEST

START_TEST(sampled_test_negatives_are_distinct_unseen_and_seeded)
{
    reco_dataset *all = NULL, *train, *test;
    RECO_ASSERT_OK(reco_dataset_synthetic(50, 300, 2000, 5, &all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &train, &test));
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(test, all, 99, 1234));
    int32_t first_row[99];
    size_t count;
    memcpy(first_row, reco_dataset_test_negatives(test, 0, &count), sizeof first_row);
    size_t n_items = reco_dataset_n_items(all);
    char *seen = malloc(n_items);
    for (size_t row = 0; row < reco_dataset_size(test); row++) {
        memset(seen, 0, n_items);
        int32_t user = reco_dataset_users(test)[row];
        for (size_t i = 0; i < reco_dataset_size(all); i++)
            if (reco_dataset_users(all)[i] == user)
                seen[reco_dataset_items(all)[i]] = 1;
        const int32_t *negatives = reco_dataset_test_negatives(test, row, &count);
        ck_assert_uint_eq(count, 99);
        for (size_t j = 0; j < count; j++) {
            ck_assert_int_ge(negatives[j], 0);
            ck_assert_int_lt(negatives[j], (int32_t)n_items);
            ck_assert_int_eq(seen[negatives[j]], 0);
            seen[negatives[j]] = 2; /* a repeat would fail the line above */
        }
    }
    free(seen);
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(test, all, 99, 1234));
    ck_assert_mem_eq(first_row, reco_dataset_test_negatives(test, 0, &count), sizeof first_row);
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(test, all, 99, 4321));
    ck_assert(memcmp(first_row, reco_dataset_test_negatives(test, 0, &count),
                     sizeof first_row) != 0);
    free_all(all, train, test);
}
END_TEST

START_TEST(training_negatives_avoid_positives_and_are_uniform)
{
    /* user 1 rated item 10 of items {10, 11, 12, 13, 14}; user 2 rated 10..13,
     * out of order and 13 twice */
    const int64_t users[] = {1, 2, 2, 2, 2, 2, 3};
    const int64_t items[] = {10, 13, 11, 13, 10, 12, 14};
    reco_dataset *train = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 7, &train));
    enum { K = 4000 };
    int32_t *negatives = malloc(7 * K * sizeof *negatives);
    RECO_ASSERT_OK(reco_dataset_sample_negatives(train, K, 77, 0, negatives));
    int counts[5] = {0};
    for (int j = 0; j < K; j++)
        counts[item_id(train, negatives[j]) - 10]++;
    ck_assert_int_eq(counts[0], 0);
    for (int item = 1; item < 5; item++) /* expected K/4 = 1000, sd ~27 */
        ck_assert_msg(counts[item] > 880 && counts[item] < 1120, "item %d drawn %d times",
                      item + 10, counts[item]);
    for (int row = 1; row < 6; row++)
        for (int j = 0; j < K; j++)
            ck_assert_int_eq(item_id(train, negatives[row * K + j]), 14);
    int32_t *again = malloc(7 * K * sizeof *again);
    RECO_ASSERT_OK(reco_dataset_sample_negatives(train, K, 77, 0, again));
    ck_assert_mem_eq(negatives, again, 7 * K * sizeof *again);
    RECO_ASSERT_OK(reco_dataset_sample_negatives(train, K, 77, 1, again));
    ck_assert(memcmp(negatives, again, K * sizeof *again) != 0);
    free(again);
    free(negatives);
    reco_dataset_free(train);
}
END_TEST

START_TEST(training_negatives_fail_for_a_user_with_every_item)
{
    const int64_t users[] = {1, 1, 2}, items[] = {10, 11, 10};
    reco_dataset *train = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 3, &train));
    int32_t negatives[3];
    ck_assert_int_eq(reco_dataset_sample_negatives(train, 1, 1, 0, negatives),
                     RECO_ERR_OUT_OF_RANGE);
    ck_assert_str_eq(reco_last_error(),
                     "user 1 interacted with every item: no negative to draw");
    reco_dataset_free(train);
}
END_TEST

START_TEST(training_negatives_on_synthetic_data_are_never_positives)
{
    reco_dataset *train = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(200, 500, 20000, 3, &train));
    size_t n = reco_dataset_size(train), n_items = reco_dataset_n_items(train);
    int32_t *negatives = malloc(n * 4 * sizeof *negatives);
    RECO_ASSERT_OK(reco_dataset_sample_negatives(train, 4, 5, 2, negatives));
    char *positive = calloc(reco_dataset_n_users(train) * n_items, 1);
    for (size_t i = 0; i < n; i++)
        positive[(size_t)reco_dataset_users(train)[i] * n_items + reco_dataset_items(train)[i]] = 1;
    for (size_t i = 0; i < n * 4; i++) {
        size_t user = (size_t)reco_dataset_users(train)[i / 4];
        ck_assert_int_lt(negatives[i], (int32_t)n_items);
        ck_assert_int_eq(positive[user * n_items + (size_t)negatives[i]], 0);
    }
    free(positive);
    free(negatives);
    reco_dataset_free(train);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("negatives");
    TCase *test_negatives = test_case(suite, "test negatives");
    tcase_add_test(test_negatives, reads_ncf_negatives_and_drops_the_test_item);
    tcase_add_test(test_negatives, negative_file_errors_leave_everything_unchanged);
    tcase_add_test(test_negatives, negative_file_may_name_new_items);
    tcase_add_test(test_negatives, sampled_test_negatives_are_the_untouched_items);
    tcase_add_test(test_negatives, sampled_test_negatives_are_distinct_unseen_and_seeded);
    TCase *training = test_case(suite, "training negatives");
    tcase_add_test(training, training_negatives_avoid_positives_and_are_uniform);
    tcase_add_test(training, training_negatives_fail_for_a_user_with_every_item);
    tcase_add_test(training, training_negatives_on_synthetic_data_are_never_positives);
    return run_suite(suite);
}

/* In-memory datasets, transformations and item titles. */
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

START_TEST(from_arrays_maps_ids_in_order_of_appearance)
{
    const int64_t users[] = {42, 7, 42, 9};
    const int64_t items[] = {1000, 1000, 5, 1000000000000};
    const float ratings[] = {1.0f, 2.0f, 3.0f, 4.0f};
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, 4, &ds));
    const int32_t expected_users[] = {0, 1, 0, 2}, expected_items[] = {0, 0, 1, 2};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(reco_dataset_users(ds)[i], expected_users[i]);
        ck_assert_int_eq(reco_dataset_items(ds)[i], expected_items[i]);
        ck_assert_float_eq(reco_dataset_ratings(ds)[i], ratings[i]);
    }
    ck_assert_ptr_null(reco_dataset_timestamps(ds));
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_item_id(ds, 2, &id));
    ck_assert_int_eq(id, 1000000000000);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(from_arrays_rejects_bad_values)
{
    const int64_t users[] = {1, -2}, items[] = {1, 1};
    const float ratings[] = {1.0f, NAN};
    reco_dataset *ds = (reco_dataset *)1;
    ck_assert_int_eq(reco_dataset_from_arrays(users, items, NULL, NULL, 2, &ds),
                     RECO_ERR_OUT_OF_RANGE);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(reco_last_error(), "row 1: negative user id -2");
    const int64_t good_users[] = {1, 2};
    ck_assert_int_eq(reco_dataset_from_arrays(good_users, items, ratings, NULL, 2, &ds),
                     RECO_ERR_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "row 1: rating nan is not a finite"));
    ck_assert_int_eq(reco_dataset_from_arrays(NULL, items, NULL, NULL, 2, &ds),
                     RECO_ERR_INVALID_ARGUMENT);
    RECO_ASSERT_OK(reco_dataset_from_arrays(NULL, NULL, NULL, NULL, 0, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 0);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(binarize_keeps_ratings_at_or_above_threshold)
{
    reco_dataset *ds = NULL, *positives = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_binarize(ds, 4.0f, &positives));
    ck_assert_uint_eq(reco_dataset_size(positives), 3); /* ratings 5, 4, 4 */
    ck_assert_ptr_null(reco_dataset_ratings(positives));
    ck_assert(reco_dataset_shares_vocabulary(ds, positives));
    const int32_t expected_items[] = {0, 2, 0};
    const int64_t expected_times[] = {100, 300, 10};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(reco_dataset_items(positives)[i], expected_items[i]);
        ck_assert_int_eq(reco_dataset_timestamps(positives)[i], expected_times[i]);
    }
    reco_dataset *twice = NULL;
    ck_assert_int_eq(reco_dataset_binarize(positives, 1.0f, &twice), RECO_ERR_STATE);
    ck_assert_ptr_null(twice);
    reco_dataset_free(positives);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(scale_multiplies_ratings)
{
    reco_dataset *ds = NULL, *scaled = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_scale_ratings(ds, 0.2f, &scaled));
    ck_assert_uint_eq(reco_dataset_size(scaled), 6);
    ck_assert_float_eq_tol(reco_dataset_ratings(scaled)[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(reco_dataset_ratings(scaled)[4], 0.2f, 1e-6f);
    ck_assert_float_eq(reco_dataset_ratings(ds)[0], 5.0f);
    reco_dataset_free(scaled);
    ck_assert_int_eq(reco_dataset_scale_ratings(ds, 0.0f, &scaled), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(scaled);
    reco_dataset_free(ds);
}
END_TEST

static const char *title_of(const reco_dataset *ds, int64_t item_id)
{
    int32_t index;
    RECO_ASSERT_OK(reco_dataset_item_index(ds, item_id, &index));
    return reco_dataset_item_title(ds, index);
}

START_TEST(titles_from_movies_dat_are_utf8)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_read_titles(ds, fixture("movies.dat")));
    ck_assert_str_eq(title_of(ds, 10), "Toy Story (1995)");
    ck_assert_str_eq(title_of(ds, 20), "Caf\xc3\xa9 au lait (1993)");
    ck_assert_ptr_null(title_of(ds, 30));
    ck_assert_ptr_null(reco_dataset_item_title(ds, 99));
    /* an id with no ratings keeps its title for a later shared read */
    reco_dataset *more = NULL;
    const char *path = write_temp_text("more.dat", "5::99::3::1\n");
    RECO_ASSERT_OK(reco_dataset_read_shared(path, RECO_FORMAT_AUTO, ds, &more));
    ck_assert_str_eq(title_of(more, 99), "Never Rated (2000)");
    reco_dataset_free(more);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(titles_from_movies_csv_honour_quotes)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_read_titles(ds, fixture("movies.csv")));
    ck_assert_str_eq(title_of(ds, 10), "American President, The (1995)");
    ck_assert_str_eq(title_of(ds, 20), "Say \"Hello\" (1990)");
    ck_assert_str_eq(title_of(ds, 30), "Heat (1995)");
    reco_dataset_free(ds);
}
END_TEST

START_TEST(titles_from_u_item)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_read_titles(ds, fixture("u.item")));
    ck_assert_str_eq(title_of(ds, 10), "Toy Story (1995)");
    ck_assert_str_eq(title_of(ds, 40), "Caf\xc3\xa9 (1990)");
    reco_dataset_free(ds);
}
END_TEST

START_TEST(titled_items_join_the_catalog)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    RECO_ASSERT_OK(reco_dataset_read_titles(ds, fixture("movies.dat")));
    ck_assert_uint_eq(reco_dataset_n_items(ds), 4);
    RECO_ASSERT_OK(reco_dataset_add_titled_items(ds));
    ck_assert_uint_eq(reco_dataset_n_items(ds), 5); /* 99 is titled, never rated */
    int32_t index;
    RECO_ASSERT_OK(reco_dataset_item_index(ds, 99, &index));
    ck_assert_int_eq(index, 4);
    ck_assert_str_eq(title_of(ds, 99), "Never Rated (2000)");
    RECO_ASSERT_OK(reco_dataset_add_titled_items(ds)); /* nothing more to add */
    ck_assert_uint_eq(reco_dataset_n_items(ds), 5);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(concat_keeps_rows_in_order_on_one_vocabulary)
{
    reco_dataset *all = NULL, *train = NULL, *test = NULL, *both = NULL, *other = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &train, &test));
    RECO_ASSERT_OK(reco_dataset_concat(train, test, &both));
    ck_assert(reco_dataset_shares_vocabulary(both, all));
    ck_assert_uint_eq(reco_dataset_size(both), reco_dataset_size(all));
    for (size_t i = 0; i < reco_dataset_size(train); i++) {
        ck_assert_int_eq(reco_dataset_users(both)[i], reco_dataset_users(train)[i]);
        ck_assert_int_eq(reco_dataset_items(both)[i], reco_dataset_items(train)[i]);
        ck_assert_float_eq(reco_dataset_ratings(both)[i], reco_dataset_ratings(train)[i]);
    }
    size_t last = reco_dataset_size(both) - 1;
    ck_assert_int_eq(reco_dataset_items(both)[last],
                     reco_dataset_items(test)[reco_dataset_size(test) - 1]);
    ck_assert_ptr_nonnull(reco_dataset_timestamps(both));
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &other));
    reco_dataset *refused = (reco_dataset *)1;
    ck_assert_int_eq(reco_dataset_concat(train, other, &refused), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(refused);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "do not share a vocabulary"));
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(both);
    reco_dataset_free(other);
}
END_TEST

START_TEST(bad_title_files_change_nothing)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    const char *path = write_temp_text("bad.csv", "movieId,title\n10,Good\n11\n");
    ck_assert_int_eq(reco_dataset_read_titles(ds, path), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "bad.csv:3: expected an item id"));
    ck_assert_ptr_null(title_of(ds, 10));
    path = write_temp_text("quote.csv", "10,\"Unterminated\n");
    ck_assert_int_eq(reco_dataset_read_titles(ds, path), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "quote.csv:1: unterminated quoted title"));
    ck_assert_int_eq(reco_dataset_read_titles(ds, temp_path("none.csv")), RECO_ERR_IO);
    reco_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("dataset");
    TCase *arrays = test_case(suite, "arrays");
    tcase_add_test(arrays, from_arrays_maps_ids_in_order_of_appearance);
    tcase_add_test(arrays, from_arrays_rejects_bad_values);
    TCase *transforms = test_case(suite, "transforms");
    tcase_add_test(transforms, binarize_keeps_ratings_at_or_above_threshold);
    tcase_add_test(transforms, scale_multiplies_ratings);
    TCase *titles = test_case(suite, "titles");
    tcase_add_test(titles, titles_from_movies_dat_are_utf8);
    tcase_add_test(titles, titles_from_movies_csv_honour_quotes);
    tcase_add_test(titles, titles_from_u_item);
    tcase_add_test(titles, bad_title_files_change_nothing);
    tcase_add_test(titles, titled_items_join_the_catalog);
    tcase_add_test(transforms, concat_keeps_rows_in_order_on_one_vocabulary);
    return run_suite(suite);
}

/* Readers: every format on a fixture with exact values, and every kind of bad
 * input with its status and message. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

static int64_t user_id_of(const reco_dataset *ds, size_t row)
{
    int64_t id = -1;
    RECO_ASSERT_OK(reco_dataset_user_id(ds, reco_dataset_users(ds)[row], &id));
    return id;
}

static int64_t item_id_of(const reco_dataset *ds, size_t row)
{
    int64_t id = -1;
    RECO_ASSERT_OK(reco_dataset_item_id(ds, reco_dataset_items(ds)[row], &id));
    return id;
}

START_TEST(reads_movielens_dat)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 6);
    ck_assert_uint_eq(reco_dataset_n_users(ds), 3);
    ck_assert_uint_eq(reco_dataset_n_items(ds), 4);
    const int32_t expected_users[] = {0, 0, 0, 1, 1, 2};
    const int32_t expected_items[] = {0, 1, 2, 1, 3, 0};
    const float expected_ratings[] = {5, 3, 4, 2, 1, 4};
    const int64_t expected_times[] = {100, 300, 300, 50, 40, 10};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(reco_dataset_users(ds)[i], expected_users[i]);
        ck_assert_int_eq(reco_dataset_items(ds)[i], expected_items[i]);
        ck_assert_float_eq(reco_dataset_ratings(ds)[i], expected_ratings[i]);
        ck_assert_int_eq(reco_dataset_timestamps(ds)[i], expected_times[i]);
    }
    ck_assert_int_eq(item_id_of(ds, 4), 40);
    int32_t index = -1;
    RECO_ASSERT_OK(reco_dataset_item_index(ds, 30, &index));
    ck_assert_int_eq(index, 2);
    RECO_ASSERT_OK(reco_dataset_user_index(ds, 3, &index));
    ck_assert_int_eq(index, 2);
    ck_assert_int_eq(reco_dataset_user_index(ds, 4, &index), RECO_ERR_OUT_OF_RANGE);
    ck_assert_int_eq(reco_dataset_user_id(ds, 3, &(int64_t){0}), RECO_ERR_OUT_OF_RANGE);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(reads_csv_with_header_and_crlf)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.csv"), RECO_FORMAT_AUTO, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3);
    ck_assert_int_eq(user_id_of(ds, 2), 8);
    ck_assert_int_eq(item_id_of(ds, 1), 200);
    ck_assert_float_eq(reco_dataset_ratings(ds)[1], 3.5f);
    ck_assert_float_eq(reco_dataset_ratings(ds)[2], 0.5f);
    ck_assert_int_eq(reco_dataset_timestamps(ds)[2], 964982224);
    reco_dataset_free(ds);
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.csv"), RECO_FORMAT_CSV, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(reads_tsv)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("u.data"), RECO_FORMAT_TSV, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3);
    ck_assert_uint_eq(reco_dataset_n_users(ds), 2);
    ck_assert_int_eq(user_id_of(ds, 2), 196);
    ck_assert_int_eq(item_id_of(ds, 2), 377);
    ck_assert_int_eq(reco_dataset_users(ds)[2], 0);
    ck_assert_float_eq(reco_dataset_ratings(ds)[2], 1.0f);
    ck_assert_int_eq(reco_dataset_timestamps(ds)[0], 881250949);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(reads_pairs_without_ratings)
{
    reco_dataset *ds = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("pairs.tsv"), RECO_FORMAT_AUTO, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3);
    ck_assert_ptr_null(reco_dataset_ratings(ds));
    ck_assert_ptr_null(reco_dataset_timestamps(ds));
    ck_assert_int_eq(reco_dataset_items(ds)[2], 0);
    reco_dataset_free(ds);
    const char *spaces = write_temp_text("pairs.txt", "5 6\n5 7\n\n  \n6 6\n");
    RECO_ASSERT_OK(reco_dataset_read(spaces, RECO_FORMAT_PAIRS, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3);
    ck_assert_uint_eq(reco_dataset_n_items(ds), 2);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(three_column_csv_has_no_timestamps)
{
    reco_dataset *ds = NULL;
    const char *path = write_temp_text("r.csv", "1,2,4.5\n3,2,1e0\n");
    RECO_ASSERT_OK(reco_dataset_read(path, RECO_FORMAT_AUTO, &ds));
    ck_assert_ptr_nonnull(reco_dataset_ratings(ds));
    ck_assert_ptr_null(reco_dataset_timestamps(ds));
    ck_assert_float_eq(reco_dataset_ratings(ds)[0], 4.5f);
    ck_assert_float_eq(reco_dataset_ratings(ds)[1], 1.0f);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(shared_vocabulary_extends_and_agrees)
{
    reco_dataset *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("pairs.tsv"), RECO_FORMAT_AUTO, &train));
    const char *path = write_temp_text("test.tsv", "2\t1917\n3\t5\n");
    RECO_ASSERT_OK(reco_dataset_read_shared(path, RECO_FORMAT_AUTO, train, &test));
    ck_assert(reco_dataset_shares_vocabulary(train, test));
    ck_assert_int_eq(reco_dataset_users(test)[0], 1);
    ck_assert_int_eq(reco_dataset_items(test)[0], 1);
    ck_assert_int_eq(reco_dataset_users(test)[1], 2);
    ck_assert_int_eq(reco_dataset_items(test)[1], 2);
    ck_assert_uint_eq(reco_dataset_n_items(train), 3);
    reco_dataset_free(train); /* the vocabulary lives on in test */
    int64_t id = 0;
    RECO_ASSERT_OK(reco_dataset_item_id(test, 2, &id));
    ck_assert_int_eq(id, 5);
    reco_dataset_free(test);
}
END_TEST

START_TEST(failed_shared_read_leaves_vocabulary_unchanged)
{
    reco_dataset *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("pairs.tsv"), RECO_FORMAT_AUTO, &train));
    const char *path = write_temp_text("bad.tsv", "9\t9\nu10\t\n");
    ck_assert_int_eq(reco_dataset_read_shared(path, RECO_FORMAT_AUTO, train, &test),
                     RECO_ERR_PARSE);
    ck_assert_ptr_null(test);
    ck_assert_uint_eq(reco_dataset_n_users(train), 2);
    ck_assert_uint_eq(reco_dataset_n_items(train), 2);
    int32_t index;
    ck_assert_int_eq(reco_dataset_user_index(train, 9, &index), RECO_ERR_OUT_OF_RANGE);
    RECO_ASSERT_OK(reco_dataset_user_index(train, 2, &index));
    ck_assert_int_eq(index, 1);
    reco_dataset_free(train);
}
END_TEST

/* Reads `content` and expects `status` with `message` in reco_last_error(). */
static void expect_failure(const char *content, size_t size, reco_format format,
                           reco_status status, const char *message)
{
    const char *path = write_temp_file("bad.dat", content, size);
    reco_dataset *ds = (reco_dataset *)1;
    ck_assert_int_eq(reco_dataset_read(path, format, &ds), status);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(reco_last_error(), message) != NULL, "'%s' lacks '%s'",
                  reco_last_error(), message);
    ck_assert_msg(strstr(reco_last_error(), path) != NULL, "'%s' lacks the path",
                  reco_last_error());
}

#define EXPECT_FAILURE(text, format, status, message) \
    expect_failure(text, sizeof(text) - 1, format, status, message)

START_TEST(missing_file)
{
    reco_dataset *ds = (reco_dataset *)1;
    ck_assert_int_eq(reco_dataset_read(temp_path("absent.dat"), RECO_FORMAT_AUTO, &ds),
                     RECO_ERR_IO);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "absent.dat: cannot open"));
}
END_TEST

START_TEST(empty_and_blank_files)
{
    EXPECT_FAILURE("", RECO_FORMAT_AUTO, RECO_ERR_PARSE, "the input is empty");
    EXPECT_FAILURE("\n \n\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE, "no data lines");
    EXPECT_FAILURE("userId,movieId,rating\n", RECO_FORMAT_CSV, RECO_ERR_PARSE,
                   "a header line but no data lines");
}
END_TEST

START_TEST(short_and_long_lines)
{
    EXPECT_FAILURE("1::2::3::4\n1::2::3\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":2: expected 4 fields separated by '::', got 3");
    EXPECT_FAILURE("1\t2\t3\n1\t2\t3\t4\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":2: expected 3 fields separated by '\\t', got 4");
    EXPECT_FAILURE("1::2::3\n", RECO_FORMAT_MOVIELENS, RECO_ERR_PARSE,
                   ":1: MovieLens '::' format: expected 4 fields separated by '::', got 3");
    EXPECT_FAILURE("1\t2\n", RECO_FORMAT_TSV, RECO_ERR_PARSE, "expected 3 or 4 fields");
    EXPECT_FAILURE("12345\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE, ":1: cannot tell the format");
    size_t size = RECO_MAX_LINE + 100;
    char *long_line = malloc(size + 20);
    memcpy(long_line, "1\t2\t3\n1\t2\t", 10);
    memset(long_line + 10, '7', size);
    expect_failure(long_line, size + 10, RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":2: line of 65640 bytes; expected at most 65536");
    free(long_line);
}
END_TEST

START_TEST(bad_fields)
{
    char long_id[400] = "1::";
    memset(long_id + 3, 'x', 256);
    memcpy(long_id + 259, "::3::4\n", 8);
    expect_failure(long_id, strlen(long_id), RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":1: field 2 (item id): expected an id of at most 255 bytes, got 'xxx");
    EXPECT_FAILURE("1::2::three::4\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":1: field 3 (rating): expected a number, got 'three'");
    EXPECT_FAILURE("1::2::nan::4\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   "field 3 (rating): expected a number, got 'nan'");
    EXPECT_FAILURE("1::2::1e999::4\n", RECO_FORMAT_AUTO, RECO_ERR_OUT_OF_RANGE,
                   "field 3 (rating): expected a finite rating within +-1e+06, got '1e999'");
    EXPECT_FAILURE("1::2::2000000::4\n", RECO_FORMAT_AUTO, RECO_ERR_OUT_OF_RANGE,
                   "expected a finite rating");
    EXPECT_FAILURE("1::2::3::4.5\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   "field 4 (timestamp): expected an integer timestamp, got '4.5'");
    EXPECT_FAILURE("1::::3::4\n", RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   "field 2 (item id): expected an id, got ''");
}
END_TEST

START_TEST(largest_id_is_accepted)
{
    reco_dataset *ds = NULL;
    const char *path = write_temp_text("big.dat", "9223372036854775807::0::3::4\n");
    RECO_ASSERT_OK(reco_dataset_read(path, RECO_FORMAT_AUTO, &ds));
    ck_assert_int_eq(user_id_of(ds, 0), INT64_MAX);
    reco_dataset_free(ds);
}
END_TEST

static const char *item_text(const reco_dataset *ds, int32_t item)
{
    static char text[RECO_ID_TEXT_MAX];
    RECO_ASSERT_OK(reco_dataset_item_id_text(ds, item, text, sizeof text));
    return text;
}

START_TEST(text_ids_are_kept_as_written)
{
    reco_dataset *ds = NULL;
    const char *path = write_temp_text("asin.csv", "u1,B00005N7P0,5\nu2,0001048791,4\nu1,42,3\n");
    /* as the data says, "42" among text ids is refused; read as text, kept */
    EXPECT_STATUS(reco_dataset_read(path, RECO_FORMAT_AUTO, &ds), RECO_ERR_PARSE,
                  "asin.csv:3: field 2 (item id): '42' is an integer id, but the column's ids "
                  "are text (since 'B00005N7P0' on line 1 of ");
    RECO_ASSERT_OK(reco_dataset_read_ids(path, RECO_FORMAT_AUTO, RECO_IDS_TEXT, NULL, &ds));
    ck_assert_uint_eq(reco_dataset_size(ds), 3); /* a rating column: the first line is data */
    ck_assert_uint_eq(reco_dataset_n_users(ds), 2);
    ck_assert_str_eq(item_text(ds, 0), "B00005N7P0");
    ck_assert_str_eq(item_text(ds, 1), "0001048791"); /* leading zeros: a text, kept */
    ck_assert_str_eq(item_text(ds, 2), "42");
    int64_t id;
    int32_t index;
    RECO_ASSERT_OK(reco_dataset_item_id(ds, 2, &id));
    ck_assert_int_eq(id, 42);
    ck_assert_int_eq(reco_dataset_item_id(ds, 0, &id), RECO_ERR_STATE);
    RECO_ASSERT_OK(reco_dataset_item_index_of_text(ds, "42", &index));
    ck_assert_int_eq(index, 2);
    RECO_ASSERT_OK(reco_dataset_item_index_of_text(ds, "0001048791", &index));
    ck_assert_int_eq(index, 1);
    ck_assert_int_eq(reco_dataset_item_index_of_text(ds, "1048791", &index), RECO_ERR_OUT_OF_RANGE);
    RECO_ASSERT_OK(reco_dataset_user_index_of_text(ds, "u2", &index));
    ck_assert_int_eq(index, 1);
    /* a negative number never reaches a text id through the integer lookup */
    ck_assert_int_eq(reco_dataset_item_index(ds, -1, &index), RECO_ERR_OUT_OF_RANGE);
    char small[4];
    ck_assert_int_eq(reco_dataset_item_id_text(ds, 0, small, sizeof small), RECO_ERR_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "needs 11 bytes"));

    /* a test file on the same vocabulary, and a header named by its rating column */
    reco_dataset *test = NULL;
    path = write_temp_text("asin_test.csv", "user,item,rating\nu2,B00005N7P0,1\nu3,x,2\n");
    RECO_ASSERT_OK(reco_dataset_read_shared(path, RECO_FORMAT_AUTO, ds, &test));
    ck_assert_uint_eq(reco_dataset_size(test), 2);
    ck_assert_int_eq(reco_dataset_users(test)[0], 1);
    ck_assert_int_eq(reco_dataset_items(test)[0], 0);
    ck_assert_str_eq(item_text(ds, 3), "x");

    /* titles and NCF .negative files take text ids too */
    path = write_temp_text("asin_titles.dat", "B00005N7P0::The Film (2001)::Drama\n");
    RECO_ASSERT_OK(reco_dataset_read_titles(ds, path));
    ck_assert_str_eq(reco_dataset_item_title(ds, 0), "The Film (2001)");
    path = write_temp_text("asin.negative", "(u2,B00005N7P0)\t42\tnew9\n(u3,x)\t42\n");
    RECO_ASSERT_OK(reco_dataset_read_test_negatives(test, path));
    size_t n_negatives;
    const int32_t *negatives = reco_dataset_test_negatives(test, 0, &n_negatives);
    ck_assert_uint_eq(n_negatives, 2);
    ck_assert_str_eq(item_text(ds, negatives[1]), "new9");
    path = write_temp_text("wrong.negative", "(u3,B00005N7P0)\t42\n");
    ck_assert_int_eq(reco_dataset_read_test_negatives(test, path), RECO_ERR_PARSE);
    ck_assert_ptr_nonnull(
        strstr(reco_last_error(), "names (u3,B00005N7P0) but test row 0 is (u2,B00005N7P0)"));
    reco_dataset_free(test);
    reco_dataset_free(ds);
}
END_TEST

START_TEST(binary_file)
{
    static const char binary[] = "1::2::3::4\n\x7f" "ELF\0\1\2\3";
    expect_failure(binary, sizeof binary - 1, RECO_FORMAT_AUTO, RECO_ERR_PARSE,
                   ":2: binary data (a NUL byte); expected a text file");
}
END_TEST

START_TEST(bad_arguments)
{
    reco_dataset *ds = NULL;
    ck_assert_int_eq(reco_dataset_read(NULL, RECO_FORMAT_AUTO, &ds), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, NULL),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_read(fixture("ratings.dat"), (reco_format)42, &ds),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_dataset_read_shared(fixture("ratings.dat"), RECO_FORMAT_AUTO, NULL, &ds),
                     RECO_ERR_INVALID_ARGUMENT);
    reco_dataset_free(NULL);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("read");
    TCase *formats = test_case(suite, "formats");
    tcase_add_test(formats, reads_movielens_dat);
    tcase_add_test(formats, reads_csv_with_header_and_crlf);
    tcase_add_test(formats, reads_tsv);
    tcase_add_test(formats, reads_pairs_without_ratings);
    tcase_add_test(formats, three_column_csv_has_no_timestamps);
    tcase_add_test(formats, shared_vocabulary_extends_and_agrees);
    tcase_add_test(formats, failed_shared_read_leaves_vocabulary_unchanged);
    tcase_add_test(formats, largest_id_is_accepted);
    tcase_add_test(formats, text_ids_are_kept_as_written);
    TCase *errors = test_case(suite, "errors");
    tcase_add_test(errors, missing_file);
    tcase_add_test(errors, empty_and_blank_files);
    tcase_add_test(errors, short_and_long_lines);
    tcase_add_test(errors, bad_fields);
    tcase_add_test(errors, binary_file);
    tcase_add_test(errors, bad_arguments);
    return run_suite(suite);
}

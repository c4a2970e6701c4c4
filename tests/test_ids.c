/* The id policy (lib/id_map.c, docs/datasets.md "Ids"): a column is integer
 * or text as a whole, decided by its first id or forced; every row of the
 * table in docs/datasets.md is a case here. */
#include <check.h>
#include <string.h>

#include "helpers.h"
#include "reco/dataset.h"

typedef struct id_case {
    const char *text;
    reco_ids ids;
    const char *refused; /* a fragment of the error, or NULL when read */
    size_t users, items; /* when read */
} id_case;

static const id_case cases[] = {
    /* integer columns, decided by the first id */
    {"1::10::5::100\n1.0::11::4::200\n", RECO_IDS_AUTO,
     "ids.dat:2: field 1 (user id): '1.0' is a number not written as an integer id, but the "
     "column's ids are integers (since '1' on line 1 of ",
     0, 0},
    {"1\t10\t5\n1.0\t11\t4\n", RECO_IDS_AUTO, "; write it as 1, or read every id as text (--ids text)",
     0, 0},
    {"1::10::5::100\n+1::11::4::200\n", RECO_IDS_AUTO, ":2: field 1 (user id): '+1' is a number",
     0, 0},
    {"1::10::5::100\n-1::11::4::200\n", RECO_IDS_AUTO,
     "'-1' is a number not written as an integer id, but the column's ids are integers (since "
     "'1' on line 1 of ",
     0, 0},
    {"1::10::5::100\n1::0x1F::4::200\n", RECO_IDS_AUTO,
     ":2: field 2 (item id): '0x1F' is a number not written as an integer id", 0, 0},
    {"1::10::5::100\n1::0x1F::4::200\n", RECO_IDS_AUTO, "write it as 31, or read every id", 0,
     0},
    {"1::10::5::100\n1::1e3::4::200\n", RECO_IDS_AUTO, "write it as 1000, or read every id", 0,
     0},
    {"1::10::5::100\n1\xc3\xa9" "0::11::4::200\n", RECO_IDS_AUTO,
     ":2: field 1 (user id): '1??0' is a text id, but the column's ids are integers", 0, 0},
    {"007::10::5::100\n", RECO_IDS_AUTO,
     ":1: field 1 (user id): '007' is a number not written as an integer id (digits, no sign, "
     "point, exponent or leading zero); write it as 7, or read every id as text (--ids text)",
     0, 0},
    /* text columns */
    {"u1::10::5::100\n2::11::4::200\n", RECO_IDS_AUTO,
     ":2: field 1 (user id): '2' is an integer id, but the column's ids are text (since 'u1' on "
     "line 1 of ",
     0, 0},
    {"u1,B00005N7P0,5\nu2,0001048791,4\n", RECO_IDS_AUTO, NULL, 2, 2},
    /* what no id holds */
    {"1\t10 5\t100\n", RECO_IDS_AUTO,
     ":1: field 2 (item id): the id '10 5' holds a space or tab (a missing separator?)", 0, 0},
    {"1:::10::5::100\n", RECO_IDS_AUTO,
     ":1: field 2 (item id): the id ':10' holds the file's separator", 0, 0},
    {"1\x01::10::5::100\n", RECO_IDS_AUTO,
     ":1: field 1 (user id): the id '1?' holds a control character", 0, 0},
    {"1::::5::100\n", RECO_IDS_AUTO, ":1: field 2 (item id): expected an id, got ''", 0, 0},
    /* forced */
    {"u1::10::5::100\n", RECO_IDS_INT,
     ":1: field 1 (user id): expected an integer id (digits, no sign, point, exponent or "
     "leading zero), got 'u1'",
     0, 0},
    {"1.0::10::5::100\n", RECO_IDS_INT, "got '1.0'; write it as 1", 0, 0},
    {"1::10::5::100\n1.0::11::4::200\n+1::12::3::300\n", RECO_IDS_TEXT, NULL, 3, 3},
    {"u1::10::5::100\n2::11::4::200\n", RECO_IDS_TEXT, NULL, 2, 2},
    {"1\t10 5\t100\n", RECO_IDS_TEXT, "the id '10 5' holds a space or tab", 0, 0},
};

START_TEST(each_case_of_the_table)
{
    const id_case *c = &cases[_i];
    reco_dataset *data = NULL;
    const char *path = write_temp_text("ids.dat", c->text);
    reco_status status = reco_dataset_read_ids(path, RECO_FORMAT_AUTO, c->ids, NULL, &data);
    if (c->refused) {
        ck_assert_int_eq(status, RECO_ERR_PARSE);
        ck_assert_ptr_null(data);
        ck_assert_msg(strstr(reco_last_error(), c->refused), "case %d: '%s' lacks '%s'", _i,
                      reco_last_error(), c->refused);
        return;
    }
    RECO_ASSERT_OK(status);
    ck_assert_uint_eq(reco_dataset_n_users(data), c->users);
    ck_assert_uint_eq(reco_dataset_n_items(data), c->items);
    reco_dataset_free(data);
}
END_TEST

START_TEST(text_ids_are_kept_apart_from_numbers)
{
    reco_dataset *data = NULL;
    const char *path = write_temp_text("text.dat", "1::10::5::100\n1.0::10::4::200\n");
    RECO_ASSERT_OK(reco_dataset_read_ids(path, RECO_FORMAT_AUTO, RECO_IDS_TEXT, NULL, &data));
    char id[RECO_ID_TEXT_MAX];
    RECO_ASSERT_OK(reco_dataset_user_id_text(data, 1, id, sizeof id));
    ck_assert_str_eq(id, "1.0");
    int32_t index;
    RECO_ASSERT_OK(reco_dataset_user_index_of_text(data, "1", &index));
    ck_assert_int_eq(index, 0);
    /* a file read with these ids takes their kind: "1.0" is the same user */
    reco_dataset *test = NULL;
    path = write_temp_text("test.dat", "1.0::10::3::300\n");
    RECO_ASSERT_OK(reco_dataset_read_shared(path, RECO_FORMAT_AUTO, data, &test));
    ck_assert_int_eq(reco_dataset_users(test)[0], 1);
    reco_dataset_free(test);
    /* asking for integers on text ids is refused, not ignored */
    EXPECT_STATUS(reco_dataset_read_ids(path, RECO_FORMAT_AUTO, RECO_IDS_INT, data, &test),
                  RECO_ERR_INVALID_ARGUMENT,
                  "user ids read as integers, but the shared vocabulary's are text");
    EXPECT_STATUS(reco_dataset_read_ids(path, RECO_FORMAT_AUTO, (reco_ids)7, NULL, &test),
                  RECO_ERR_INVALID_ARGUMENT, "unknown id kind 7");
    reco_dataset_free(data);
}
END_TEST

START_TEST(titles_and_negatives_follow_the_columns)
{
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(write_temp_text("r.dat", "1::10::5::100\n1::20::3::150\n"
                                                              "2::20::3::200\n2::10::4::250\n"),
                                     RECO_FORMAT_AUTO, &data));
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("t1.dat", "-1::Film::Drama\n")),
                  RECO_ERR_PARSE, "t1.dat:1: the item id: '-1' is a number not written as an");
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("t2.dat", "+1::Film::Drama\n")),
                  RECO_ERR_PARSE, "t2.dat:1: the item id: '+1' is a number");
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("t3.dat", "abc::Film::Drama\n")),
                  RECO_ERR_PARSE,
                  "t3.dat:1: the item id: 'abc' is a text id, but the column's ids are integers");
    RECO_ASSERT_OK(
        reco_dataset_read_titles(data, write_temp_text("t4.dat", "10::Film (1999)::Drama\n")));
    reco_dataset *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(data, &train, &test));
    EXPECT_STATUS(
        reco_dataset_read_test_negatives(test, write_temp_text("n.negative", "(1,20)\tabc\n")),
        RECO_ERR_PARSE, "n.negative:1: a negative item id: 'abc' is a text id, but the column's");
    EXPECT_STATUS(
        reco_dataset_read_test_negatives(test, write_temp_text("m.negative", "(1.0,20)\t10\n")),
        RECO_ERR_PARSE, "m.negative:1: the user id: '1.0' is a number not written as an");
    ck_assert_uint_eq(reco_dataset_n_items(data), 2);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(data);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("ids");
    TCase *ids = test_case(suite, "ids");
    tcase_add_loop_test(ids, each_case_of_the_table, 0, (int)(sizeof cases / sizeof *cases));
    tcase_add_test(ids, text_ids_are_kept_apart_from_numbers);
    tcase_add_test(ids, titles_and_negatives_follow_the_columns);
    return run_suite(suite);
}

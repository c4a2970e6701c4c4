/* Status names, the error detail and the version. */
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

START_TEST(every_status_has_its_own_name)
{
    for (int a = RECO_OK; a <= RECO_ERR_INTERRUPTED; a++) {
        ck_assert_str_ne(reco_status_string((reco_status)a), "unknown status");
        for (int b = a + 1; b <= RECO_ERR_INTERRUPTED; b++)
            ck_assert_str_ne(reco_status_string((reco_status)a),
                             reco_status_string((reco_status)b));
    }
    ck_assert_str_eq(reco_status_string(RECO_ERR_PARSE), "parse error");
    ck_assert_str_eq(reco_status_string((reco_status)99), "unknown status");
}
END_TEST

START_TEST(version_matches_header)
{
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", RECO_VERSION_MAJOR, RECO_VERSION_MINOR,
             RECO_VERSION_PATCH);
    ck_assert_str_eq(reco_version_string(), expected);
    ck_assert_int_eq(reco_version_number(), RECO_VERSION_NUMBER);
}
END_TEST

START_TEST(last_error_describes_the_failure)
{
    reco_dataset *ds = NULL;
    ck_assert_int_eq(reco_dataset_synthetic(0, 10, 10, 1, &ds), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "synthetic dataset of 0 users"));
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("common");
    TCase *tcase = test_case(suite, "common");
    tcase_add_test(tcase, every_status_has_its_own_name);
    tcase_add_test(tcase, version_matches_header);
    tcase_add_test(tcase, last_error_describes_the_failure);
    return run_suite(suite);
}

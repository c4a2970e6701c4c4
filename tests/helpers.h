/* Shared by the Check suites: fixture paths and temporary files. */
#ifndef RECO_TESTS_HELPERS_H
#define RECO_TESTS_HELPERS_H

#include <check.h>
#include <stddef.h>

#include "reco/reco.h"

/* Fails the test unless `call` returns RECO_OK, naming the status and
 * reco_last_error() (not just "3 != 0"). */
#define RECO_ASSERT_OK(call)                                                              \
    do {                                                                                  \
        reco_status assert_status_ = (call);                                              \
        ck_assert_msg(assert_status_ == RECO_OK, "%s: %s: %s", #call,                     \
                      reco_status_string(assert_status_), reco_last_error());             \
    } while (0)

/* Returns RECO_FIXTURES "/" name in a static buffer. */
const char *fixture(const char *name);

/* Writes `size` bytes to a file in the test's temporary folder (replacing a
 * file of that name) and returns its path (static storage, valid until
 * remove_temp_files()). */
const char *write_temp_file(const char *name, const void *content, size_t size);

/* Same, for a NUL-terminated string. */
const char *write_temp_text(const char *name, const char *content);

/* Asserts that `call` returns `status` with `detail` in reco_last_error(). */
#define EXPECT_STATUS(call, status, detail)                                                        \
    do {                                                                                           \
        reco_status got_ = (call);                                                                 \
        ck_assert_msg(got_ == (status), "%s: %s: %s", #call, reco_status_string(got_),             \
                      reco_last_error());                                                          \
        ck_assert_msg(strstr(reco_last_error(), detail), "'%s' lacks '%s'", reco_last_error(),     \
                      detail);                                                                     \
    } while (0)

/* The bytes of a file (asserting it reads whole) and their number; the
 * caller frees them. */
unsigned char *read_test_file(const char *path, size_t *size);

/* Returns a path in the temporary folder without creating the file. */
const char *temp_path(const char *name);

/* Removes every file written so far and the folder: a checked teardown. */
void remove_temp_files(void);

/* Runs a suite, frees it and returns the process exit status. */
int run_suite(Suite *suite);

/* Prints "SKIP: reason" and exits 77, which meson reports as SKIP: for a
 * test program (or one mode of it) that cannot run on this machine. Call it
 * from main, before the suite runs: inside a Check test an exit is a
 * failure. */
_Noreturn void skip_program(const char *reason);

/* A test case whose tests get their temporary files removed afterwards. */
TCase *test_case(Suite *suite, const char *name);

/* |a - b| / |a| of two vectors (Euclidean norms; 0 / 0 counts as 0). */
double relative_error(const float *a, const float *b, size_t n);

/* Opens the named backend; fails the test unless it opens. */
reco_backend *open_backend(const char *name);

/* What a training test starts from: a backend, a model on it and a trainer. */
typedef struct training_setup {
    reco_backend *backend;
    reco_model *model;
    reco_trainer *trainer;
} training_setup;

/* Makes a `kind` model of n_users x n_items with default settings on
 * `backend` (which the setup now owns), initialized with `seed`, and a
 * trainer on it; fails the test on any error. */
training_setup training_setup_new(reco_backend *backend, reco_model_kind kind, size_t n_users,
                                  size_t n_items, uint64_t seed);

/* The same with the model's dropout set before it is initialized. */
training_setup training_setup_with_dropout(reco_backend *backend, reco_model_kind kind,
                                           size_t n_users, size_t n_items, float dropout,
                                           uint64_t seed);

void training_setup_free(training_setup *setup);

/* A synthetic dataset split leave-one-out, with 99 test negatives a user. */
typedef struct loo_split {
    reco_dataset *all, *train, *test;
} loo_split;

loo_split loo_split_synthetic(size_t n_users, size_t n_items, size_t n_ratings, uint64_t seed,
                              uint64_t negative_seed);

void loo_split_free(loo_split *split);

#endif

/* Shared by the Check suites: fixture paths and temporary files. */
#ifndef RECO_TESTS_HELPERS_H
#define RECO_TESTS_HELPERS_H

#include <check.h>
#include <stddef.h>

/* Returns RECO_FIXTURES "/" name in a static buffer. */
const char *fixture(const char *name);

/* Writes `size` bytes to a file in the test's temporary folder (replacing a
 * file of that name) and returns its path (static storage, valid until
 * remove_temp_files()). */
const char *write_temp_file(const char *name, const void *content, size_t size);

/* Same, for a NUL-terminated string. */
const char *write_temp_text(const char *name, const char *content);

/* Returns a path in the temporary folder without creating the file. */
const char *temp_path(const char *name);

/* Removes every file written so far and the folder: a checked teardown. */
void remove_temp_files(void);

/* Runs a suite, frees it and returns the process exit status. */
int run_suite(Suite *suite);

/* A test case whose tests get their temporary files removed afterwards. */
TCase *test_case(Suite *suite, const char *name);

#endif

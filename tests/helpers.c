#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_TEMP_FILES 64

static char temp_dir[64];
static char temp_files[MAX_TEMP_FILES][256];
static int n_temp_files;

const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", RECO_FIXTURES, name);
    return path;
}

const char *temp_path(const char *name)
{
    if (!temp_dir[0]) {
        strcpy(temp_dir, "/tmp/reco-test-XXXXXX");
        if (!mkdtemp(temp_dir))
            abort();
    }
    char path[sizeof temp_files[0]];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    for (int i = 0; i < n_temp_files; i++)
        if (strcmp(temp_files[i], path) == 0)
            return temp_files[i]; /* the same name again: the same file */
    if (n_temp_files == MAX_TEMP_FILES)
        abort();
    strcpy(temp_files[n_temp_files], path);
    return temp_files[n_temp_files++];
}

const char *write_temp_file(const char *name, const void *content, size_t size)
{
    const char *path = temp_path(name);
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(content, 1, size, file) != size || fclose(file) != 0)
        abort();
    return path;
}

const char *write_temp_text(const char *name, const char *content)
{
    return write_temp_file(name, content, strlen(content));
}

void remove_temp_files(void)
{
    for (int i = 0; i < n_temp_files; i++)
        unlink(temp_files[i]);
    n_temp_files = 0;
    if (temp_dir[0])
        rmdir(temp_dir);
    temp_dir[0] = '\0';
}

int run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void skip_program(const char *reason)
{
    printf("SKIP: %s\n", reason);
    fflush(stdout);
    exit(77);
}

TCase *test_case(Suite *suite, const char *name)
{
    TCase *tcase = tcase_create(name);
    tcase_add_checked_fixture(tcase, NULL, remove_temp_files);
    tcase_set_timeout(tcase, 60);
    suite_add_tcase(suite, tcase);
    return tcase;
}

double relative_error(const float *a, const float *b, size_t n)
{
    double difference = 0.0, norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        difference += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)a[i] * a[i];
    }
    return sqrt(difference) / fmax(sqrt(norm), 1e-30);
}

reco_backend *open_backend(const char *name)
{
    reco_backend *backend = NULL;
    RECO_ASSERT_OK(reco_backend_open(name, &backend));
    return backend;
}

training_setup training_setup_new(reco_backend *backend, reco_model_kind kind, size_t n_users,
                                  size_t n_items, uint64_t seed)
{
    return training_setup_with_dropout(backend, kind, n_users, n_items, 0.0f, seed);
}

training_setup training_setup_with_dropout(reco_backend *backend, reco_model_kind kind,
                                           size_t n_users, size_t n_items, float dropout,
                                           uint64_t seed)
{
    training_setup setup = {.backend = backend};
    RECO_ASSERT_OK(reco_model_new(kind, n_users, n_items, &setup.model));
    RECO_ASSERT_OK(reco_model_set_dropout(setup.model, dropout));
    RECO_ASSERT_OK(reco_model_init(setup.model, backend, seed));
    RECO_ASSERT_OK(reco_trainer_new(setup.model, &setup.trainer));
    return setup;
}

void training_setup_free(training_setup *setup)
{
    reco_trainer_free(setup->trainer);
    reco_model_free(setup->model);
    reco_backend_free(setup->backend);
}

loo_split loo_split_synthetic(size_t n_users, size_t n_items, size_t n_ratings, uint64_t seed,
                              uint64_t negative_seed)
{
    loo_split split;
    RECO_ASSERT_OK(reco_dataset_synthetic(n_users, n_items, n_ratings, seed, &split.all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(split.all, &split.train, &split.test));
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(split.test, split.all, 99, negative_seed));
    return split;
}

void loo_split_free(loo_split *split)
{
    reco_dataset_free(split->all);
    reco_dataset_free(split->train);
    reco_dataset_free(split->test);
}

unsigned char *read_test_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    ck_assert_ptr_nonnull(file);
    fseek(file, 0, SEEK_END);
    *size = (size_t)ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc(*size ? *size : 1);
    ck_assert_uint_eq(fread(bytes, 1, *size, file), *size);
    fclose(file);
    return bytes;
}

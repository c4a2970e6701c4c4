/* Model files: round trips give identical predictions and ids; truncated,
 * bit-flipped, wrong-magic and future-version files are refused with
 * RECO_ERR_FORMAT; saving replaces the file atomically. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "helpers.h"
#include "reco/reco.h"

static reco_model *trained(reco_backend *backend, reco_model_kind kind, reco_dataset **data)
{
    RECO_ASSERT_OK(reco_dataset_synthetic(40, 50, 800, 4, data));
    reco_model *model;
    RECO_ASSERT_OK(
        reco_model_new(kind, reco_dataset_n_users(*data), reco_dataset_n_items(*data), &model));
    const size_t layers[] = {8, 6, 4};
    if (kind == RECO_MODEL_NEUMF || kind == RECO_MODEL_MLP)
        RECO_ASSERT_OK(reco_model_set_layers(model, layers, 3));
    if (kind == RECO_MODEL_MF)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_factors(model, 4));
    RECO_ASSERT_OK(reco_model_init(model, backend, 2));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, *data));
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, *data, 1));
    reco_trainer_free(trainer);
    return model;
}

static void predict_all(reco_model *model, float *scores)
{
    int32_t users[40 * 50], items[40 * 50];
    for (int i = 0; i < 40 * 50; i++) {
        users[i] = i / 50;
        items[i] = i % 50;
    }
    RECO_ASSERT_OK(reco_model_predict(model, users, items, 40 * 50, scores));
}

/* Saving a loaded model gives the bytes of the file it was loaded from,
 * to a file and to a buffer. */
static void expect_saved_again(const reco_model *loaded, const char *path)
{
    const char *again = temp_path("again.reco");
    RECO_ASSERT_OK(reco_model_save(loaded, again));
    size_t size_a, size_b, size_c;
    unsigned char *a = read_test_file(path, &size_a), *b = read_test_file(again, &size_b);
    void *c;
    RECO_ASSERT_OK(reco_model_save_buffer(loaded, &c, &size_c));
    ck_assert_uint_eq(size_a, size_b);
    ck_assert_mem_eq(a, b, size_a);
    ck_assert_uint_eq(size_a, size_c);
    ck_assert_mem_eq(a, c, size_a);
    free(a);
    free(b);
    reco_free(c);
}

/* A model loaded from the bytes of `path` in memory predicts as `model`
 * does and saves to the same bytes. */
static void expect_buffer_round_trip(reco_backend *backend, reco_model *model, const char *path)
{
    size_t size;
    unsigned char *bytes = read_test_file(path, &size);
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load_buffer(bytes, size, backend, &loaded));
    free(bytes); /* the model keeps no pointer into them */
    static float before[40 * 50], after[40 * 50];
    predict_all(model, before);
    predict_all(loaded, after);
    ck_assert_mem_eq(before, after, sizeof before);
    expect_saved_again(loaded, path);
    reco_model_free(loaded);
}

START_TEST(round_trip_predicts_identically)
{
    static const reco_model_kind kinds[] = {RECO_MODEL_MF, RECO_MODEL_GMF, RECO_MODEL_MLP,
                                            RECO_MODEL_NEUMF};
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_dataset *data;
    reco_model *model = trained(backend, kinds[_i], &data);
    const char *path = temp_path("model.reco");
    RECO_ASSERT_OK(reco_model_save(model, path));
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load(path, backend, &loaded));
    ck_assert_int_eq(reco_model_kind_of(loaded), kinds[_i]);
    static float before[40 * 50], after[40 * 50];
    predict_all(model, before);
    predict_all(loaded, after);
    ck_assert_mem_eq(before, after, sizeof before);
    int64_t id;
    int32_t index;
    RECO_ASSERT_OK(reco_model_user_id(loaded, 39, &id));
    ck_assert_int_eq(id, 40);
    RECO_ASSERT_OK(reco_dataset_item_index(data, 17, &index));
    int32_t loaded_index;
    RECO_ASSERT_OK(reco_model_item_index(loaded, 17, &loaded_index));
    ck_assert_int_eq(loaded_index, index);
    expect_saved_again(loaded, path);
    expect_buffer_round_trip(backend, model, path);
    reco_model_free(loaded);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

/* Item indices of the seen items of `user`, as a number (digits by index). */
static int seen_digits(const reco_model *model, int32_t user)
{
    const int32_t *items;
    size_t n;
    RECO_ASSERT_OK(reco_model_seen(model, user, &items, &n));
    int digits = 0;
    for (size_t i = 0; i < n; i++)
        digits = digits * 10 + items[i] + 1;
    return digits;
}

START_TEST(seen_items_round_trip_and_leave_recommendations)
{
    /* users 1, 2, 3 (indices 0-2) had items 10, 20, 30, 40 (indices 0-3) */
    static const int64_t users[] = {1, 1, 1, 2, 2, 3}, items[] = {10, 20, 30, 20, 40, 10};
    static const float ratings[] = {5, 3, 4, 2, 1, 4};
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, 6, &data));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 3, 4, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 2));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, data));
    ck_assert_int_eq(reco_model_has_seen(model), 0);
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_epoch(trainer, data, NULL));
    reco_trainer_free(trainer);
    ck_assert_int_eq(reco_model_has_seen(model), 1);
    ck_assert_int_eq(seen_digits(model, 0), 123);
    ck_assert_int_eq(seen_digits(model, 1), 24);
    ck_assert_int_eq(seen_digits(model, 2), 1);
    const char *path = temp_path("seen.reco");
    RECO_ASSERT_OK(reco_model_save(model, path));
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load(path, backend, &loaded));
    ck_assert_int_eq(seen_digits(loaded, 0), 123);
    ck_assert_int_eq(seen_digits(loaded, 1), 24);
    expect_saved_again(loaded, path);
    /* a NULL exclude leaves the seen items out: user 1 has one item left */
    int32_t top[4];
    float scores[4];
    size_t n;
    RECO_ASSERT_OK(reco_model_recommend(loaded, 0, 4, NULL, top, scores, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(top[0], 3);
    RECO_ASSERT_OK(reco_model_recommend(loaded, 1, 4, NULL, top, scores, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(top[0] + top[1], 0 + 2);
    /* forgotten: nothing left out, and the file has no seen items */
    RECO_ASSERT_OK(reco_model_set_seen(loaded, NULL));
    ck_assert_int_eq(reco_model_has_seen(loaded), 0);
    RECO_ASSERT_OK(reco_model_recommend(loaded, 0, 4, NULL, top, scores, &n));
    ck_assert_uint_eq(n, 4);
    const char *bare = temp_path("bare.reco");
    RECO_ASSERT_OK(reco_model_save(loaded, bare));
    size_t with_size, bare_size;
    unsigned char *with = read_test_file(path, &with_size), *without = read_test_file(bare, &bare_size);
    /* section 8: 12 + 4 + 7 (name) + 24 + 4 x 8 offsets + 6 x 4 columns + 6 x 4 values + 4 */
    ck_assert_uint_eq(with_size - bare_size, 12 + 4 + 7 + 24 + 4 * 8 + 6 * 4 + 6 * 4 + 4);
    reco_model *reloaded;
    RECO_ASSERT_OK(reco_model_load(bare, backend, &reloaded));
    ck_assert_int_eq(reco_model_has_seen(reloaded), 0);
    ck_assert_int_eq(seen_digits(reloaded, 0), 0);
    expect_saved_again(reloaded, bare);
    /* given the training data again, the model saves the trained bytes */
    RECO_ASSERT_OK(reco_model_set_seen(reloaded, data));
    expect_saved_again(reloaded, path);
    const int32_t *seen;
    EXPECT_STATUS(reco_model_seen(reloaded, 3, &seen, &n), RECO_ERR_OUT_OF_RANGE,
                  "user 3 outside the model's 3 users");
    reco_model *ease;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_EASE, 3, 4, &ease));
    EXPECT_STATUS(reco_model_set_seen(ease, NULL), RECO_ERR_STATE,
                  "ease scores a user by its seen items");
    free(with);
    free(without);
    reco_model_free(ease);
    reco_model_free(reloaded);
    reco_model_free(loaded);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

START_TEST(text_ids_and_metadata_round_trip)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_dataset *data;
    const char *csv = write_temp_text("asin.csv", "u1,B00005N7P0,5\nu2,0001048791,4\nu1,42,3\n");
    RECO_ASSERT_OK(reco_dataset_read_ids(csv, RECO_FORMAT_AUTO, RECO_IDS_TEXT, NULL, &data));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 2, 3, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, data));
    RECO_ASSERT_OK(reco_model_set_metadata(model, "train.loss", "mse"));
    RECO_ASSERT_OK(reco_model_set_metadata(model, "gone", "x"));
    RECO_ASSERT_OK(reco_model_set_metadata(model, "train.history", "[1, 2]"));
    RECO_ASSERT_OK(reco_model_set_metadata(model, "train.loss", "bpr"));
    RECO_ASSERT_OK(reco_model_set_metadata(model, "gone", NULL));
    ck_assert_int_eq(reco_model_set_metadata(model, "", "x"), RECO_ERR_OUT_OF_RANGE);
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    ck_assert_int_eq(reco_model_set_metadata(model, long_key, "x"), RECO_ERR_OUT_OF_RANGE);
    const char *path = temp_path("text.reco");
    RECO_ASSERT_OK(reco_model_save(model, path));
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load(path, backend, &loaded));
    char text[RECO_ID_TEXT_MAX];
    RECO_ASSERT_OK(reco_model_item_id_text(loaded, 1, text, sizeof text));
    ck_assert_str_eq(text, "0001048791");
    RECO_ASSERT_OK(reco_model_user_id_text(loaded, 1, text, sizeof text));
    ck_assert_str_eq(text, "u2");
    int32_t index;
    RECO_ASSERT_OK(reco_model_item_index_of_text(loaded, "B00005N7P0", &index));
    ck_assert_int_eq(index, 0);
    RECO_ASSERT_OK(reco_model_item_index_of_text(loaded, "42", &index));
    ck_assert_int_eq(index, 2);
    RECO_ASSERT_OK(reco_model_user_index_of_text(loaded, "u1", &index));
    ck_assert_int_eq(index, 0);
    int64_t id;
    RECO_ASSERT_OK(reco_model_item_id(loaded, 2, &id));
    ck_assert_int_eq(id, 42);
    ck_assert_int_eq(reco_model_item_id(loaded, 0, &id), RECO_ERR_STATE);
    ck_assert_uint_eq(reco_model_metadata_count(loaded), 2);
    ck_assert_str_eq(reco_model_metadata_key(loaded, 0), "train.loss");
    ck_assert_str_eq(reco_model_metadata(loaded, "train.loss"), "bpr");
    ck_assert_str_eq(reco_model_metadata(loaded, "train.history"), "[1, 2]");
    ck_assert_ptr_null(reco_model_metadata(loaded, "gone"));
    ck_assert_ptr_null(reco_model_metadata_key(loaded, 2));
    /* a file read on the model's vocabulary gets the model's indices */
    reco_dataset *vocabulary, *reread;
    RECO_ASSERT_OK(reco_model_vocabulary_dataset(loaded, &vocabulary));
    ck_assert_uint_eq(reco_dataset_size(vocabulary), 0);
    csv = write_temp_text("asin2.csv", "u2,42,1\nu9,B00005N7P0,2\n");
    RECO_ASSERT_OK(reco_dataset_read_shared(csv, RECO_FORMAT_AUTO, vocabulary, &reread));
    ck_assert_int_eq(reco_dataset_users(reread)[0], 1);
    ck_assert_int_eq(reco_dataset_items(reread)[0], 2);
    ck_assert_int_eq(reco_dataset_users(reread)[1], 2); /* new: after the model's */
    ck_assert_int_eq(reco_dataset_items(reread)[1], 0);
    /* the data it was trained on has its ids; a file that starts elsewhere does not */
    RECO_ASSERT_OK(reco_model_check_vocabulary(loaded, data));
    ck_assert_int_eq(reco_model_check_vocabulary(loaded, reread), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "has 2 users, the data 3: other ids"));
    reco_dataset *swapped;
    csv = write_temp_text("swapped.csv", "u2,0001048791,4\nu1,B00005N7P0,5\nu1,42,3\n");
    RECO_ASSERT_OK(reco_dataset_read_ids(csv, RECO_FORMAT_AUTO, RECO_IDS_TEXT, NULL, &swapped));
    ck_assert_int_eq(reco_model_check_vocabulary(loaded, swapped), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(
        strstr(reco_last_error(), "user index 0 is id 'u1' in the model, 'u2' in the data"));
    reco_dataset_free(swapped);
    reco_dataset_free(reread);
    reco_dataset_free(vocabulary);
    expect_saved_again(loaded, path);
    reco_model_free(loaded);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

/* A trained NeuMF, saved: returns the file's bytes (the caller frees them). */
static unsigned char *saved_neumf(reco_backend *backend, reco_dataset **data, reco_model **model,
                                  size_t *size)
{
    *model = trained(backend, RECO_MODEL_NEUMF, data);
    const char *path = temp_path("saved.reco");
    RECO_ASSERT_OK(reco_model_save(*model, path));
    return read_test_file(path, size);
}

/* Refused from a file and from memory alike, with the same detail but for
 * the name ("model buffer" instead of the path). */
static void expect_refused(reco_backend *backend, const unsigned char *bytes, size_t size,
                           const char *message)
{
    const char *path = write_temp_file("bad.reco", bytes, size);
    reco_model *model = (reco_model *)1;
    ck_assert_int_eq(reco_model_load(path, backend, &model), RECO_ERR_FORMAT);
    ck_assert_ptr_null(model);
    char from_file[4200];
    snprintf(from_file, sizeof from_file, "%s", reco_last_error() + strlen(path));
    if (message)
        ck_assert_msg(strstr(from_file, message), "'%s' lacks '%s'", from_file, message);
    model = (reco_model *)1;
    ck_assert_int_eq(reco_model_load_buffer(bytes, size, backend, &model), RECO_ERR_FORMAT);
    ck_assert_ptr_null(model);
    ck_assert_int_eq(strncmp(reco_last_error(), "model buffer", 12), 0);
    ck_assert_str_eq(reco_last_error() + 12, from_file);
    remove(path);
}

START_TEST(damaged_files_are_refused)
{
    reco_backend *backend = open_backend("cpu");
    reco_dataset *data;
    reco_model *model;
    size_t size;
    unsigned char *bytes = saved_neumf(backend, &data, &model, &size);
    /* every truncation */
    for (size_t length = 0; length < size; length += length < 64 ? 1 : 97)
        expect_refused(backend, bytes, length, NULL);
    expect_refused(backend, bytes, size - 1, NULL);
    /* a flipped bit in each of many places, checksums included */
    for (size_t position = 0; position < size; position += position < 64 ? 1 : 31) {
        bytes[position] ^= 0x10;
        expect_refused(backend, bytes, size, NULL);
        bytes[position] ^= 0x10;
    }
    /* trailing garbage */
    unsigned char *longer = malloc(size + 3);
    memcpy(longer, bytes, size);
    memcpy(longer + size, "xyz", 3);
    expect_refused(backend, longer, size + 3, "bytes after the end section");
    free(longer);
    unsigned char saved = bytes[0];
    bytes[0] = 'X';
    expect_refused(backend, bytes, size, "bad magic (not a libreco model)");
    bytes[0] = saved;
    bytes[8] = 2; /* format version 2 */
    expect_refused(backend, bytes, size, "format version 2 is newer than this library's 1");
    bytes[8] = 1;
    reco_model *fine;
    const char *restored = write_temp_file("restored.reco", bytes, size);
    RECO_ASSERT_OK(reco_model_load(restored, backend, &fine));
    reco_model_free(fine);
    reco_model *none;
    ck_assert_int_eq(reco_model_load(temp_path("missing.reco"), backend, &none), RECO_ERR_IO);
    ck_assert_int_eq(reco_model_load_buffer(NULL, 0, backend, &none), RECO_ERR_FORMAT);
    ck_assert_str_eq(reco_last_error(),
                     "model buffer: truncated header (not a libreco model) at byte 0");
    ck_assert_int_eq(reco_model_load_buffer(NULL, 8, backend, &none), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_model_load_buffer(bytes, size, NULL, &none), RECO_ERR_INVALID_ARGUMENT);
    void *out = (void *)1;
    size_t out_size = 1;
    ck_assert_int_eq(reco_model_save_buffer(NULL, &out, &out_size), RECO_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(out_size, 0);
    free(bytes);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

/* A model section whose settings are refused: the load's detail wraps the
 * setter's own detail (formatted from reco_last_error() into itself). */
START_TEST(invalid_settings_wrap_the_setters_detail)
{
    reco_backend *backend = open_backend("cpu");
    reco_dataset *data;
    reco_model *model;
    size_t size;
    unsigned char *bytes = saved_neumf(backend, &data, &model, &size);
    /* the model section: tag at 16, length at 20, payload at 28, which ends
     * with the f32 dropout and the f32 init std */
    unsigned char *section = bytes + 16, *payload = section + 12;
    uint64_t length = 0;
    memcpy(&length, section + 4, sizeof length);
    ck_assert_uint_ge(length, 8);
    float dropout = 2.0f;
    memcpy(payload + length - 8, &dropout, sizeof dropout);
    uint32_t crc = (uint32_t)crc32_z(0, section, 12 + (size_t)length); /* as the format does */
    memcpy(payload + length, &crc, sizeof crc);
    const char *bad = write_temp_file("settings-bad.reco", bytes, size);
    reco_model *loaded = (reco_model *)1;
    ck_assert_int_eq(reco_model_load(bad, backend, &loaded), RECO_ERR_FORMAT);
    ck_assert_ptr_null(loaded);
    char expected[4200];
    snprintf(expected, sizeof expected, "%s: invalid model settings: dropout 2: expected [0, 1)",
             bad);
    ck_assert_str_eq(reco_last_error(), expected);
    free(bytes);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

START_TEST(save_replaces_atomically)
{
    reco_backend *backend;
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    reco_dataset *data;
    reco_model *model = trained(backend, RECO_MODEL_GMF, &data);
    const char *path = write_temp_text("model.reco", "an older file");
    RECO_ASSERT_OK(reco_model_save(model, path));
    reco_model *loaded;
    RECO_ASSERT_OK(reco_model_load(path, backend, &loaded));
    reco_model_free(loaded);
    /* no temporary file is left beside it */
    char directory[256];
    snprintf(directory, sizeof directory, "%s", path);
    *strrchr(directory, '/') = '\0';
    DIR *dir = opendir(directory);
    struct dirent *entry;
    while ((entry = readdir(dir)))
        ck_assert_ptr_null(strstr(entry->d_name, ".tmp-"));
    closedir(dir);
    /* an impossible place fails cleanly */
    ck_assert_int_eq(reco_model_save(model, "/nonexistent-dir/model.reco"), RECO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(reco_last_error(), "cannot create a temporary file"));
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("model_file");
    TCase *tcase = test_case(suite, "model file");
    tcase_set_timeout(tcase, 300);
    tcase_add_loop_test(tcase, round_trip_predicts_identically, 0, 4);
    tcase_add_test(tcase, text_ids_and_metadata_round_trip);
    tcase_add_test(tcase, seen_items_round_trip_and_leave_recommendations);
    tcase_add_test(tcase, damaged_files_are_refused);
    tcase_add_test(tcase, save_replaces_atomically);
    tcase_add_test(tcase, invalid_settings_wrap_the_setters_detail);
    return run_suite(suite);
}

/* Untrusted model files and saves: headers that lie about sizes (refused
 * before anything is allocated, under an address-space cap), bad values
 * (NaN, NUL in names, negative or one-sided ids), and saves that keep
 * modes and links and leave no temporary file behind. */
#define _GNU_SOURCE /* setenv, mkfifo, symlink */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "helpers.h"

/* ---- model files built by hand -------------------------------------- */

typedef struct bytes {
    uint8_t data[1 << 16];
    size_t size;
} bytes;

static void put(bytes *b, const void *data, size_t size)
{
    ck_assert_uint_le(b->size + size, sizeof b->data);
    memcpy(b->data + b->size, data, size);
    b->size += size;
}

static void put_u32(bytes *b, uint32_t value)
{
    put(b, &value, 4); /* the test machines are little-endian, as the format */
}

static void put_u64(bytes *b, uint64_t value)
{
    put(b, &value, 8);
}

static void put_f32(bytes *b, float value)
{
    put(b, &value, 4);
}

/* Appends a section (tag, length, payload, CRC) with the given payload. */
static void put_section(bytes *b, uint32_t tag, const bytes *payload)
{
    size_t start = b->size;
    put_u32(b, tag);
    put_u64(b, payload->size);
    put(b, payload->data, payload->size);
    put_u32(b, (uint32_t)crc32_z(0, b->data + start, b->size - start));
}

static bytes *file_claiming(uint32_t kind, uint64_t users, uint64_t items, uint64_t factors)
{
    static bytes file, model, end;
    file.size = model.size = end.size = 0;
    put(&file, "RECOMODL", 8);
    put_u32(&file, 1);
    put_u32(&file, 0x01020304u);
    put_u32(&model, kind);
    put_u64(&model, users);
    put_u64(&model, items);
    put_u64(&model, factors);
    put_u32(&model, 4);
    static const uint64_t sizes[4] = {64, 32, 16, 8};
    for (int i = 0; i < 4; i++)
        put_u64(&model, sizes[i]);
    put_u32(&model, 0);
    put_u32(&model, 0);
    put_f32(&model, 0.0f);
    put_f32(&model, 0.01f);
    put_section(&file, 1, &model);
    put_section(&file, 0, &end);
    return &file;
}

/* Caps the address space near what the process uses now, so that a load
 * that allocated what a lying header claims fails loudly. The sanitizers
 * reserve terabytes of address space up front: there, no cap. */
static void cap_address_space(void)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    ck_assert_ptr_nonnull(statm);
    ck_assert_int_eq(fscanf(statm, "%lu", &pages), 1);
    fclose(statm);
    rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
    struct rlimit limit = {cap, cap};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &limit), 0);
#endif
}

START_TEST(headers_claiming_absurd_sizes_are_refused_before_allocating)
{
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 1));
    cap_address_space(); /* this test runs in its own process */
    static const struct {
        uint32_t kind;
        uint64_t users, items, factors;
    } claims[] = {
        {3, 64u << 20, 64u << 20, 8},    /* NeuMF, 64M users and items */
        {0, INT32_MAX, INT32_MAX, 4096}, /* MF at every maximum */
        {1, 1000, 1000, 4096},           /* 16 MB of GMF tables in a few hundred bytes */
    };
    for (size_t c = 0; c < sizeof claims / sizeof *claims; c++) {
        bytes *file =
            file_claiming(claims[c].kind, claims[c].users, claims[c].items, claims[c].factors);
        const char *path = write_temp_file("liar.reco", file->data, file->size);
        reco_model *model = (reco_model *)1;
        EXPECT_STATUS(reco_model_load(path, backend, &model), RECO_ERR_FORMAT,
                      "need more parameters than the file holds at byte");
        ck_assert_ptr_null(model);
    }
    /* a size beyond the documented maxima is a refused setting */
    bytes *file = file_claiming(3, (uint64_t)1 << 40, 10, 8);
    const char *path = write_temp_file("liar.reco", file->data, file->size);
    reco_model *model = NULL;
    EXPECT_STATUS(reco_model_load(path, backend, &model), RECO_ERR_FORMAT,
                  "invalid model settings");
    reco_backend_free(backend);
}
END_TEST

/* A saved NeuMF with a vocabulary, as bytes, and its sections' offsets. */
static bytes *saved_model(void)
{
    static bytes file;
    int64_t users[6] = {1, 1, 2, 2, 3, 3}, items[6] = {10, 20, 10, 30, 20, 30};
    reco_dataset *data = NULL;
    reco_backend *backend = open_backend("cpu");
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 6, &data));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_NEUMF, 3, 3, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, data));
    const char *path = temp_path("saved.reco");
    RECO_ASSERT_OK(reco_model_save(model, path));
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    file.size = fread(file.data, 1, sizeof file.data, in);
    fclose(in);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
    return &file;
}

/* Copies `from` section by section, letting `edit` change or drop each
 * payload (return 0 to drop), and recomputes every checksum. */
static void rebuild(const bytes *from, bytes *to, int (*edit)(uint32_t tag, bytes *payload))
{
    to->size = 0;
    put(to, from->data, 16);
    size_t position = 16;
    while (position + 12 <= from->size) {
        uint32_t tag;
        uint64_t length;
        memcpy(&tag, from->data + position, 4);
        memcpy(&length, from->data + position + 4, 8);
        static bytes payload;
        payload.size = 0;
        put(&payload, from->data + position + 12, (size_t)length);
        if (edit(tag, &payload))
            put_section(to, tag, &payload);
        position += 16 + (size_t)length;
    }
}

static int nan_in_head_bias(uint32_t tag, bytes *payload)
{
    /* the head bias tensor: name "head.bias", one value, last in its payload */
    if (tag == 4 && payload->size > 13 && memcmp(payload->data + 4, "head.bias", 9) == 0) {
        float nan = NAN;
        memcpy(payload->data + payload->size - 4, &nan, 4);
    }
    return 1;
}

static int nul_in_a_name(uint32_t tag, bytes *payload)
{
    if (tag == 4 && payload->size > 13 && memcmp(payload->data + 4, "head.bias", 9) == 0)
        payload->data[4 + 4] = '\0'; /* "head\0bias" */
    return 1;
}

static int negative_user_id(uint32_t tag, bytes *payload)
{
    if (tag == 2) {
        int64_t id = -5;
        memcpy(payload->data + 8, &id, 8);
    }
    return 1;
}

static int no_item_ids(uint32_t tag, bytes *payload)
{
    (void)payload;
    return tag != 3;
}

/* Every (user, item) score of a model file, loaded on `backend`: 3 x 3. */
static void scores_of_file(const char *path, reco_backend *backend, float *scores)
{
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_model_load(path, backend, &model));
    const int32_t users[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2}, items[9] = {0, 1, 2, 0, 1, 2, 0, 1, 2};
    RECO_ASSERT_OK(reco_model_predict(model, users, items, 9, scores));
    int64_t id;
    RECO_ASSERT_OK(reco_model_item_id(model, 2, &id));
    ck_assert_int_eq(id, 30); /* the vocabulary came through too */
    reco_model_free(model);
}

/* A gzipped model file loads as the model it packs: the same scores, bit for
 * bit, as the plain file's. */
START_TEST(gzipped_model_files_load)
{
    bytes *model_file = saved_model();
    const char *plain = write_temp_file("plain.reco", model_file->data, model_file->size);
    const char *packed = temp_path("model.reco.gz");
    gzFile out = gzopen(packed, "wb");
    ck_assert_int_eq(gzwrite(out, model_file->data, (unsigned)model_file->size),
                     (int)model_file->size);
    gzclose(out);
    reco_backend *backend = open_backend("cpu");
    float from_plain[9], from_packed[9];
    scores_of_file(plain, backend, from_plain);
    scores_of_file(packed, backend, from_packed);
    ck_assert_mem_eq(from_plain, from_packed, sizeof from_plain);
    /* not a model of zeros: NeuMF initialized with seed 1 scores apart */
    ck_assert_float_ne(from_plain[0], from_plain[4]);
    reco_backend_free(backend);
}
END_TEST

START_TEST(model_files_with_bad_values_are_refused)
{
    bytes *good = saved_model();
    static bytes bad;
    static const struct {
        int (*edit)(uint32_t, bytes *);
        const char *detail;
    } cases[] = {
        {nan_in_head_bias, "a weight that is not a finite number at byte"},
        {nul_in_a_name, "a tensor name holds a NUL byte"},
        {negative_user_id, "a negative id that names no text id"},
        {no_item_ids, "user ids without item ids"},
    };
    reco_backend *backend = open_backend("cpu");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        rebuild(good, &bad, cases[c].edit);
        const char *path = write_temp_file("bad.reco", bad.data, bad.size);
        reco_model *model = NULL;
        EXPECT_STATUS(reco_model_load(path, backend, &model), RECO_ERR_FORMAT, cases[c].detail);
    }
    reco_backend_free(backend);
}
END_TEST

/* ---- saving ------------------------------------------------------------ */

static reco_model *small_model(reco_backend *backend)
{
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 4, 4, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    return model;
}

static mode_t mode_of(const char *path)
{
    struct stat info;
    ck_assert_int_eq(stat(path, &info), 0);
    return info.st_mode & 07777;
}

START_TEST(saves_keep_modes_and_links)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = small_model(backend);
    const char *path = temp_path("kept.reco");
    mode_t old_umask = umask(022);
    RECO_ASSERT_OK(reco_model_save(model, path));
    ck_assert_uint_eq(mode_of(path), 0644); /* a new file: 0666 less the umask */
    umask(077);
    remove(path);
    RECO_ASSERT_OK(reco_model_save(model, path));
    ck_assert_uint_eq(mode_of(path), 0600);
    umask(old_umask);
    ck_assert_int_eq(chmod(path, 0640), 0);
    RECO_ASSERT_OK(reco_model_save(model, path));
    ck_assert_uint_eq(mode_of(path), 0640); /* a replaced file keeps its mode */
    /* through a symbolic link: the target is replaced, the link stays */
    const char *link = temp_path("link.reco");
    ck_assert_int_eq(symlink("kept.reco", link), 0);
    RECO_ASSERT_OK(reco_model_save(model, link));
    struct stat info;
    ck_assert_int_eq(lstat(link, &info), 0);
    ck_assert(S_ISLNK(info.st_mode));
    ck_assert_uint_eq(mode_of(path), 0640);
    reco_model *loaded = NULL;
    RECO_ASSERT_OK(reco_model_load(link, backend, &loaded));
    reco_model_free(loaded);
    /* a dangling link gets its target made */
    const char *dangling = temp_path("dangling.reco");
    const char *made = temp_path("made.reco");
    ck_assert_int_eq(symlink("made.reco", dangling), 0);
    RECO_ASSERT_OK(reco_model_save(model, dangling));
    ck_assert_int_eq(access(made, F_OK), 0);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

/* Counts the files in the test folder whose names contain `part`. */
static int files_named(const char *part)
{
    DIR *folder = opendir(temp_path(""));
    ck_assert_ptr_nonnull(folder);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(folder));)
        count += strstr(entry->d_name, part) != NULL;
    closedir(folder);
    return count;
}

START_TEST(saves_leave_no_temporary_files)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = small_model(backend);
    /* a save that fails at its rename (the target is a folder) */
    const char *folder = temp_path("taken.reco");
    ck_assert_int_eq(mkdir(folder, 0700), 0);
    EXPECT_STATUS(reco_model_save(model, folder), RECO_ERR_IO, "cannot rename into place");
    ck_assert_int_eq(files_named(".tmp-"), 0);
    rmdir(folder);
    /* a save killed part-way left one behind: the next save removes it,
     * and leaves the one of a process that still runs */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale_name[64], live_name[64];
    snprintf(stale_name, sizeof stale_name, "m.reco.tmp-%ld-0badf00d", (long)dead);
    snprintf(live_name, sizeof live_name, "m.reco.tmp-%ld-0badf00d", (long)getppid());
    const char *stale = write_temp_text(stale_name, "half a model");
    const char *live = write_temp_text(live_name, "a save in progress");
    RECO_ASSERT_OK(reco_model_save(model, temp_path("m.reco")));
    ck_assert_int_ne(access(stale, F_OK), 0);
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(files_named(".tmp-"), 1);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("untrusted_models");
    TCase *models = test_case(suite, "model files");
    tcase_add_test(models, headers_claiming_absurd_sizes_are_refused_before_allocating);
    tcase_add_test(models, model_files_with_bad_values_are_refused);
    tcase_add_test(models, gzipped_model_files_load);
    TCase *saving = test_case(suite, "saving");
    tcase_add_test(saving, saves_keep_modes_and_links);
    tcase_add_test(saving, saves_leave_no_temporary_files);
    return run_suite(suite);
}

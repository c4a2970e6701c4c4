/* Untrusted files and streams: model files whose headers lie, inputs that
 * are not regular files (directories, devices, FIFOs, pipes, standard
 * input), gzip, the text edge cases the readers decide (BOM, CR-only lines,
 * "-0", header columns, quotes, duplicates), checked sizes, and saves that
 * keep modes and links and leave no temporary file behind. */
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

#define EXPECT_STATUS(call, status, detail)                                                \
    do {                                                                                   \
        reco_status got_ = (call);                                                         \
        ck_assert_msg(got_ == (status), "%s: %s: %s", #call, reco_status_string(got_),     \
                      reco_last_error());                                                  \
        ck_assert_msg(strstr(reco_last_error(), detail), "'%s' lacks '%s'",                \
                      reco_last_error(), detail);                                          \
    } while (0)

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
        {3, 64u << 20, 64u << 20, 8},     /* NeuMF, 64M users and items */
        {0, INT32_MAX, INT32_MAX, 4096},  /* MF at every maximum */
        {1, 1000, 1000, 4096},            /* 16 MB of GMF tables in a few hundred bytes */
    };
    for (size_t c = 0; c < sizeof claims / sizeof *claims; c++) {
        bytes *file = file_claiming(claims[c].kind, claims[c].users, claims[c].items,
                                    claims[c].factors);
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
        {negative_user_id, "a negative id in the vocabulary"},
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

/* ---- inputs that are not regular files ------------------------------- */

START_TEST(directories_and_devices)
{
    reco_dataset *data = NULL;
    const char *folder = temp_path("folder");
    ck_assert_int_eq(mkdir(folder, 0700), 0);
    EXPECT_STATUS(reco_dataset_read(folder, RECO_FORMAT_AUTO, &data), RECO_ERR_IO,
                  "is a directory; expected a file");
    reco_backend *backend = open_backend("cpu");
    reco_model *model = NULL;
    EXPECT_STATUS(reco_model_load(folder, backend, &model), RECO_ERR_IO, "is a directory");
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    EXPECT_STATUS(reco_dataset_read_titles(data, folder), RECO_ERR_IO, "is a directory");
    rmdir(folder);
    EXPECT_STATUS(reco_dataset_read_titles(data, "/dev/null"), RECO_ERR_PARSE,
                  "the input is empty");
    reco_dataset *other = NULL;
    EXPECT_STATUS(reco_dataset_read("/dev/null", RECO_FORMAT_AUTO, &other), RECO_ERR_PARSE,
                  "/dev/null: the input is empty");
    EXPECT_STATUS(reco_dataset_read("/dev/zero", RECO_FORMAT_AUTO, &other), RECO_ERR_PARSE,
                  "/dev/zero:1: binary data (a NUL byte)");
    EXPECT_STATUS(reco_model_load("/dev/zero", backend, &model), RECO_ERR_FORMAT,
                  "bad magic (not a libreco model)");
    reco_backend_free(backend);
    reco_dataset_free(data);
}
END_TEST

/* Writes `content` into `path` (a FIFO or a pipe) from a child process. */
static pid_t write_from_child(const char *path, int fd, const void *content, size_t size)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int out = path ? open(path, O_WRONLY) : fd;
        if (out < 0 || write(out, content, size) != (ssize_t)size)
            _exit(1);
        _exit(0);
    }
    return pid;
}

static const char ratings_text[] = "1::10::5::100\n1::20::3::300\n2::10::4::200\n";

START_TEST(fifos_pipes_and_standard_input)
{
    const char *fifo = temp_path("ratings.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* nobody writes: a clear error after the wait, not a hang */
    setenv("RECO_FIFO_WAIT_MS", "200", 1);
    reco_dataset *data = NULL;
    EXPECT_STATUS(reco_dataset_read(fifo, RECO_FORMAT_AUTO, &data), RECO_ERR_IO,
                  "no data within 200 ms");
    unsetenv("RECO_FIFO_WAIT_MS");
    /* a writer: read as a stream */
    pid_t writer = write_from_child(fifo, -1, ratings_text, strlen(ratings_text));
    RECO_ASSERT_OK(reco_dataset_read(fifo, RECO_FORMAT_AUTO, &data));
    waitpid(writer, NULL, 0);
    ck_assert_uint_eq(reco_dataset_size(data), 3);
    reco_dataset_free(data);
    /* standard input, "-", as `reco train --data -` reads it */
    int ends[2];
    ck_assert_int_eq(pipe(ends), 0);
    writer = write_from_child(NULL, ends[1], ratings_text, strlen(ratings_text));
    close(ends[1]);
    int saved = dup(STDIN_FILENO);
    ck_assert_int_eq(dup2(ends[0], STDIN_FILENO), STDIN_FILENO);
    close(ends[0]);
    reco_status status = reco_dataset_read("-", RECO_FORMAT_AUTO, &data);
    dup2(saved, STDIN_FILENO);
    close(saved);
    waitpid(writer, NULL, 0);
    RECO_ASSERT_OK(status);
    ck_assert_uint_eq(reco_dataset_size(data), 3);
    reco_dataset_free(data);
    /* a pipe through /dev/fd, as `--data <(zcat ratings.gz)` gives it */
    ck_assert_int_eq(pipe(ends), 0);
    writer = write_from_child(NULL, ends[1], ratings_text, strlen(ratings_text));
    close(ends[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", ends[0]);
    status = reco_dataset_read(path, RECO_FORMAT_AUTO, &data);
    close(ends[0]);
    waitpid(writer, NULL, 0);
    RECO_ASSERT_OK(status);
    ck_assert_uint_eq(reco_dataset_size(data), 3);
    reco_dataset_free(data);
}
END_TEST

/* Gzips `text` (twice over, as two members, when `members` is 2). */
static const char *gzip_file(const char *name, const char *text, int members)
{
    const char *path = temp_path(name);
    remove(path);
    for (int m = 0; m < members; m++) {
        gzFile out = gzopen(path, "ab");
        ck_assert_ptr_nonnull(out);
        ck_assert_int_eq(gzputs(out, text), (int)strlen(text));
        ck_assert_int_eq(gzclose(out), Z_OK);
    }
    return path;
}

START_TEST(gzip_compressed_inputs)
{
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(gzip_file("r.dat.gz", ratings_text, 1), RECO_FORMAT_AUTO,
                                     &data));
    ck_assert_uint_eq(reco_dataset_size(data), 3);
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_item_id(data, 1, &id));
    ck_assert_int_eq(id, 20);
    reco_dataset_free(data);
    RECO_ASSERT_OK(reco_dataset_read(gzip_file("r2.dat.gz", ratings_text, 2), RECO_FORMAT_AUTO,
                                     &data));
    ck_assert_uint_eq(reco_dataset_size(data), 6);
    reco_dataset_free(data);
    /* a cut-off stream */
    const char *whole = gzip_file("cut.gz", ratings_text, 1);
    FILE *in = fopen(whole, "rb");
    uint8_t buffer[256];
    size_t size = fread(buffer, 1, sizeof buffer, in);
    fclose(in);
    const char *cut = write_temp_file("cut2.gz", buffer, size - 6);
    EXPECT_STATUS(reco_dataset_read(cut, RECO_FORMAT_AUTO, &data), RECO_ERR_PARSE,
                  "truncated gzip data");
    buffer[12] ^= 0xff; /* inside the deflate data */
    const char *corrupt = write_temp_file("corrupt.gz", buffer, size);
    EXPECT_STATUS(reco_dataset_read(corrupt, RECO_FORMAT_AUTO, &data), RECO_ERR_PARSE, "gzip");
    /* a gzipped model loads too */
    bytes *model_file = saved_model();
    const char *packed = temp_path("model.reco.gz");
    gzFile out = gzopen(packed, "wb");
    ck_assert_int_eq(gzwrite(out, model_file->data, (unsigned)model_file->size),
                     (int)model_file->size);
    gzclose(out);
    reco_backend *backend = open_backend("cpu");
    reco_model *model = NULL;
    RECO_ASSERT_OK(reco_model_load(packed, backend, &model));
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

/* ---- text edge cases, decided ------------------------------------------ */

static void expect_rows(const char *text, size_t rows, int64_t first_user)
{
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(write_temp_text("edge.txt", text), RECO_FORMAT_AUTO, &data));
    ck_assert_uint_eq(reco_dataset_size(data), rows);
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_user_id(data, 0, &id));
    ck_assert_int_eq(id, first_user);
    reco_dataset_free(data);
}

static void expect_refused(const char *text, reco_status status, const char *detail)
{
    reco_dataset *data = NULL;
    EXPECT_STATUS(reco_dataset_read(write_temp_text("edge.txt", text), RECO_FORMAT_AUTO, &data),
                  status, detail);
    ck_assert_ptr_null(data);
}

START_TEST(byte_order_marks_in_every_format)
{
    expect_rows("\xEF\xBB\xBF" "7::10::5::100\n8::20::3::300\n", 2, 7);
    expect_rows("\xEF\xBB\xBF" "7\t10\t5\t100\n8\t20\t3\t300\n", 2, 7);
    expect_rows("\xEF\xBB\xBF" "userId,movieId,rating\n7,10,5\n", 1, 7);
    expect_rows("\xEF\xBB\xBF" "7,10,5\n", 1, 7);
    expect_rows("\xEF\xBB\xBF" "7 10\n8 20\n", 2, 7);
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    RECO_ASSERT_OK(reco_dataset_read_titles(
        data, write_temp_text("titles.dat", "\xEF\xBB\xBF" "10::Toy Story (1995)::Comedy\n")));
    int32_t item;
    RECO_ASSERT_OK(reco_dataset_item_index(data, 10, &item));
    ck_assert_str_eq(reco_dataset_item_title(data, item), "Toy Story (1995)");
    reco_dataset_free(data);
}
END_TEST

START_TEST(every_line_of_cr_only_files_is_read)
{
    expect_rows("7::10::5::100\r8::20::3::300\r9::30::1::400\r", 3, 7);
    expect_rows("7::10::5::100\r\n8::20::3::300\r\n", 2, 7);
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    RECO_ASSERT_OK(reco_dataset_read_titles(
        data, write_temp_text("titles.csv", "movieId,title,genres\r10,Toy,Comedy\r"
                                            "20,\"Heat, the\",Action\r")));
    int32_t item;
    RECO_ASSERT_OK(reco_dataset_item_index(data, 20, &item));
    ck_assert_str_eq(reco_dataset_item_title(data, item), "Heat, the");
    reco_dataset_free(data);
}
END_TEST

START_TEST(signs_header_columns_and_quotes)
{
    expect_refused("-0::10::5::100\n", RECO_ERR_OUT_OF_RANGE, "expected an id in [0, 2^63)");
    expect_refused("1::-0::5::100\n", RECO_ERR_OUT_OF_RANGE, "field 2 (item id)");
    expect_refused("userId,movieId,rating,timestamp,tag\n1,10,5,100\n", RECO_ERR_PARSE,
                   "4 fields, but the header line names 5");
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("junk.csv",
                                                                 "movieId,title\n"
                                                                 "10,\"Toy\"junk,Comedy\n")),
                  RECO_ERR_PARSE, "junk.csv:2: text after the closing quote of a title");
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("minus.dat", "-0::Toy::C\n")),
                  RECO_ERR_PARSE, "minus.dat:1");
    ck_assert_ptr_null(reco_dataset_item_title(data, 0));
    reco_dataset_free(data);
}
END_TEST

START_TEST(duplicate_pairs_kept_or_refused)
{
    int64_t users[5] = {1, 1, 2, 1, 2}, items[5] = {10, 20, 10, 10, 30};
    float ratings[5] = {1, 2, 3, 4, 5};
    reco_dataset *data = NULL, *out = NULL;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, ratings, NULL, 5, &data));
    RECO_ASSERT_OK(reco_dataset_deduplicate(data, RECO_DUPLICATES_KEEP_ALL, &out));
    ck_assert_uint_eq(reco_dataset_size(out), 5);
    reco_dataset_free(out);
    static const float first[4] = {1, 2, 3, 5}, last[4] = {2, 3, 4, 5};
    RECO_ASSERT_OK(reco_dataset_deduplicate(data, RECO_DUPLICATES_KEEP_FIRST, &out));
    ck_assert_uint_eq(reco_dataset_size(out), 4);
    ck_assert_int_eq(memcmp(reco_dataset_ratings(out), first, sizeof first), 0);
    reco_dataset_free(out);
    RECO_ASSERT_OK(reco_dataset_deduplicate(data, RECO_DUPLICATES_KEEP_LAST, &out));
    ck_assert_int_eq(memcmp(reco_dataset_ratings(out), last, sizeof last), 0);
    ck_assert(reco_dataset_shares_vocabulary(data, out));
    reco_dataset_free(out);
    EXPECT_STATUS(reco_dataset_deduplicate(data, RECO_DUPLICATES_REFUSE, &out),
                  RECO_ERR_INVALID_ARGUMENT, "rows 1 and 4 repeat user 1 and item 10");
    ck_assert_ptr_null(out);
    EXPECT_STATUS(reco_dataset_deduplicate(data, (reco_duplicates)9, &out),
                  RECO_ERR_INVALID_ARGUMENT, "unknown duplicates policy 9");
    reco_dataset_free(data);
}
END_TEST

START_TEST(sizes_from_input_are_checked)
{
    reco_dataset *data = NULL, *scaled = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    int32_t negatives[4];
    EXPECT_STATUS(reco_dataset_sample_negatives(data, SIZE_MAX / 2, 1, 0, negatives),
                  RECO_ERR_OUT_OF_RANGE, "too many");
    EXPECT_STATUS(reco_dataset_scale_ratings(data, 1e38f, &scaled), RECO_ERR_OUT_OF_RANGE,
                  "is outside");
    ck_assert_ptr_null(scaled);
    reco_dataset *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(data, &train, &test));
    EXPECT_STATUS(reco_dataset_sample_test_negatives(test, data, SIZE_MAX / 2, 1),
                  RECO_ERR_OUT_OF_RANGE, "negatives a row");
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(data);
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
    Suite *suite = suite_create("untrusted");
    TCase *models = test_case(suite, "model files");
    tcase_add_test(models, headers_claiming_absurd_sizes_are_refused_before_allocating);
    tcase_add_test(models, model_files_with_bad_values_are_refused);
    TCase *inputs = test_case(suite, "inputs");
    tcase_add_test(inputs, directories_and_devices);
    tcase_add_test(inputs, fifos_pipes_and_standard_input);
    tcase_add_test(inputs, gzip_compressed_inputs);
    TCase *text = test_case(suite, "text edge cases");
    tcase_add_test(text, byte_order_marks_in_every_format);
    tcase_add_test(text, every_line_of_cr_only_files_is_read);
    tcase_add_test(text, signs_header_columns_and_quotes);
    tcase_add_test(text, duplicate_pairs_kept_or_refused);
    tcase_add_test(text, sizes_from_input_are_checked);
    TCase *saving = test_case(suite, "saving");
    tcase_add_test(saving, saves_keep_modes_and_links);
    tcase_add_test(saving, saves_leave_no_temporary_files);
    return run_suite(suite);
}

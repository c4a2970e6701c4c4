/* Untrusted inputs: streams that are not regular files (directories,
 * devices, FIFOs, pipes, standard input), gzip, and the text edge cases
 * the readers decide (BOM, CR-only lines, "-0", header columns, quotes,
 * duplicates, checked sizes). */
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
    RECO_ASSERT_OK(
        reco_dataset_read(gzip_file("r.dat.gz", ratings_text, 1), RECO_FORMAT_AUTO, &data));
    ck_assert_uint_eq(reco_dataset_size(data), 3);
    int64_t id;
    RECO_ASSERT_OK(reco_dataset_item_id(data, 1, &id));
    ck_assert_int_eq(id, 20);
    reco_dataset_free(data);
    RECO_ASSERT_OK(
        reco_dataset_read(gzip_file("r2.dat.gz", ratings_text, 2), RECO_FORMAT_AUTO, &data));
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
    buffer[10] = 0x07; /* the first deflate block: of the reserved type 3 */
    const char *corrupt = write_temp_file("corrupt.gz", buffer, size);
    EXPECT_STATUS(reco_dataset_read(corrupt, RECO_FORMAT_AUTO, &data), RECO_ERR_PARSE, "gzip");
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
    expect_rows("\xEF\xBB\xBF"
                "7::10::5::100\n8::20::3::300\n",
                2, 7);
    expect_rows("\xEF\xBB\xBF"
                "7\t10\t5\t100\n8\t20\t3\t300\n",
                2, 7);
    expect_rows("\xEF\xBB\xBF"
                "userId,movieId,rating\n7,10,5\n",
                1, 7);
    expect_rows("\xEF\xBB\xBF"
                "7,10,5\n",
                1, 7);
    expect_rows("\xEF\xBB\xBF"
                "7 10\n8 20\n",
                2, 7);
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    RECO_ASSERT_OK(reco_dataset_read_titles(
        data, write_temp_text("titles.dat", "\xEF\xBB\xBF"
                                            "10::Toy Story (1995)::Comedy\n")));
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
    /* a sign makes a number written another way: refused as the data says,
     * a text id kept as written when ids are text, never a number */
    reco_dataset *signed_ids = NULL;
    const char *edge = write_temp_text("edge.txt", "-0::10::5::100\n");
    EXPECT_STATUS(reco_dataset_read(edge, RECO_FORMAT_AUTO, &signed_ids), RECO_ERR_PARSE,
                  "edge.txt:1: field 1 (user id): '-0' is a number not written as an integer "
                  "id (digits, no sign, point, exponent or leading zero); write it as 0, or "
                  "read every id as text (--ids text)");
    RECO_ASSERT_OK(reco_dataset_read_ids(edge, RECO_FORMAT_AUTO, RECO_IDS_TEXT, NULL, &signed_ids));
    char text[RECO_ID_TEXT_MAX];
    RECO_ASSERT_OK(reco_dataset_user_id_text(signed_ids, 0, text, sizeof text));
    ck_assert_str_eq(text, "-0");
    int64_t number;
    EXPECT_STATUS(reco_dataset_user_id(signed_ids, 0, &number), RECO_ERR_STATE, "text id '-0'");
    reco_dataset_free(signed_ids);
    expect_refused("1::::5::100\n", RECO_ERR_PARSE, "field 2 (item id): expected an id");
    expect_refused("userId,movieId,rating,timestamp,tag\n1,10,5,100\n", RECO_ERR_PARSE,
                   "4 fields, but the header line names 5");
    reco_dataset *data = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &data));
    EXPECT_STATUS(
        reco_dataset_read_titles(data, write_temp_text("junk.csv", "movieId,title\n"
                                                                   "10,\"Toy\"junk,Comedy\n")),
        RECO_ERR_PARSE, "junk.csv:2: text after the closing quote of a title");
    EXPECT_STATUS(reco_dataset_read_titles(data, write_temp_text("minus.dat", "::Toy::C\n")),
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

int main(void)
{
    Suite *suite = suite_create("untrusted_inputs");
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
    return run_suite(suite);
}

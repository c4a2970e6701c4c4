/* Dataset benchmark: parse speed on a synthetic ml-1m-sized '::' file (always
 * available), then the real MovieLens files when RECO_DATA_DIR (or argv[1])
 * names the shared data folder, checking their counts. Exit 77 = skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reco/reco.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Reads a file `repeats` times and reports the best MB/s; keeps the last. */
static int timed_read(const char *label, const char *path, reco_format format,
                      const reco_dataset *share_with, int repeats, reco_dataset **out)
{
    double best = 1e30;
    *out = NULL;
    for (int r = 0; r < repeats; r++) {
        reco_dataset_free(*out);
        *out = NULL;
        double start = now_seconds();
        reco_status status = share_with ? reco_dataset_read_shared(path, format, share_with, out)
                                        : reco_dataset_read(path, format, out);
        double elapsed = now_seconds() - start;
        if (status != RECO_OK) {
            fprintf(stderr, "%s: %s: %s\n", label, reco_status_string(status), reco_last_error());
            return 0;
        }
        if (elapsed < best)
            best = elapsed;
    }
    double megabytes = (double)file_size(path) / 1e6;
    printf("%-28s %9zu rows %6zu users %6zu items  %7.1f MB  %7.3f s  %7.1f MB/s\n", label,
           reco_dataset_size(*out), reco_dataset_n_users(*out), reco_dataset_n_items(*out),
           megabytes, best, megabytes / best);
    return 1;
}

/* The synthetic ml-1m as a '::' file; with `text_ids`, user and item ids
 * written as words ("u17", "i2044"), as Amazon or Last.fm files have them. */
static int write_synthetic_file(const char *path, int text_ids)
{
    reco_dataset *dataset = NULL;
    if (reco_dataset_synthetic(6040, 3706, 1000209, 42, &dataset) != RECO_OK)
        return 0;
    FILE *file = fopen(path, "w");
    if (!file) {
        reco_dataset_free(dataset);
        return 0;
    }
    const int32_t *users = reco_dataset_users(dataset), *items = reco_dataset_items(dataset);
    const float *ratings = reco_dataset_ratings(dataset);
    const int64_t *timestamps = reco_dataset_timestamps(dataset);
    for (size_t i = 0; i < reco_dataset_size(dataset); i++) {
        int64_t user_id, item_id;
        reco_dataset_user_id(dataset, users[i], &user_id);
        reco_dataset_item_id(dataset, items[i], &item_id);
        fprintf(file, "%s%lld::%s%lld::%d::%lld\n", text_ids ? "u" : "", (long long)user_id,
                text_ids ? "i" : "", (long long)item_id, (int)ratings[i], (long long)timestamps[i]);
    }
    reco_dataset_free(dataset);
    return fclose(file) == 0;
}

static int check(const char *what, size_t got, size_t expected)
{
    if (got == expected)
        return 1;
    fprintf(stderr, "%s: got %zu, expected %zu\n", what, got, expected);
    return 0;
}

static int bench_real(const char *data_dir)
{
    char train_path[4096], test_path[4096], negative_path[4096], udata_path[4096];
    snprintf(train_path, sizeof train_path, "%s/ml-1m-implicit/ml-1m.implicit.train.tsv", data_dir);
    snprintf(test_path, sizeof test_path, "%s/ml-1m-implicit/ml-1m.implicit.test.tsv", data_dir);
    snprintf(negative_path, sizeof negative_path,
             "%s/ml-1m-implicit/ml-1m.implicit.test.negative", data_dir);
    snprintf(udata_path, sizeof udata_path, "%s/ml-100k/u.data", data_dir);
    reco_dataset *train = NULL, *test = NULL, *ml100k = NULL;
    int ok = timed_read("ml-1m-implicit train", train_path, RECO_FORMAT_AUTO, NULL, 5, &train) &&
             timed_read("ml-1m-implicit test", test_path, RECO_FORMAT_AUTO, train, 1, &test) &&
             timed_read("ml-100k u.data", udata_path, RECO_FORMAT_AUTO, NULL, 5, &ml100k);
    if (ok) {
        double start = now_seconds();
        reco_status status = reco_dataset_read_test_negatives(test, negative_path);
        printf("%-28s %9.3f s\n", "ml-1m-implicit negatives", now_seconds() - start);
        size_t n_negatives = 0;
        reco_dataset_test_negatives(test, 0, &n_negatives);
        ok = status == RECO_OK && check("ml-1m train rows", reco_dataset_size(train), 994169) &&
             check("ml-1m users", reco_dataset_n_users(train), 6040) &&
             check("ml-1m items", reco_dataset_n_items(train), 3706) &&
             check("ml-1m test rows", reco_dataset_size(test), 6040) &&
             check("ml-1m negatives of row 0", n_negatives, 99) &&
             check("ml-100k rows", reco_dataset_size(ml100k), 100000) &&
             check("ml-100k users", reco_dataset_n_users(ml100k), 943) &&
             check("ml-100k items", reco_dataset_n_items(ml100k), 1682);
        if (status != RECO_OK)
            fprintf(stderr, "negatives: %s\n", reco_last_error());
    }
    if (ok) {
        int32_t *negatives = malloc(reco_dataset_size(train) * 4 * sizeof *negatives);
        double start = now_seconds();
        ok = negatives && reco_dataset_sample_negatives(train, 4, 1, 0, negatives) == RECO_OK;
        double first = now_seconds() - start;
        start = now_seconds();
        ok = ok && reco_dataset_sample_negatives(train, 4, 1, 1, negatives) == RECO_OK;
        printf("%-28s %9.3f s (first epoch, with index: %.3f s)\n",
               "training negatives x4", now_seconds() - start, first);
        free(negatives);
    }
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(ml100k);
    return ok;
}

int main(int argc, char **argv)
{
    const char *data_dir = argc > 1 ? argv[1] : getenv("RECO_DATA_DIR");
    char synthetic_path[] = "/tmp/reco-bench-XXXXXX";
    int fd = mkstemp(synthetic_path);
    if (fd < 0)
        return 1;
    close(fd);
    reco_dataset *synthetic = NULL;
    int ok =
        write_synthetic_file(synthetic_path, 0) &&
        timed_read("synthetic ml-1m '::'", synthetic_path, RECO_FORMAT_AUTO, NULL, 5, &synthetic) &&
        check("synthetic rows", reco_dataset_size(synthetic), 1000209);
    reco_dataset_free(synthetic);
    synthetic = NULL;
    ok = ok && write_synthetic_file(synthetic_path, 1) &&
         timed_read("synthetic ml-1m text ids", synthetic_path, RECO_FORMAT_AUTO, NULL, 5,
                    &synthetic) &&
         check("synthetic text-id users", reco_dataset_n_users(synthetic), 6040);
    reco_dataset_free(synthetic);
    unlink(synthetic_path);
    if (!ok)
        return 1;
    if (!data_dir || access(data_dir, R_OK) != 0) {
        printf("RECO_DATA_DIR not set or unreadable: skipping the MovieLens files\n");
        return 77;
    }
    return bench_real(data_dir) ? 0 : 1;
}

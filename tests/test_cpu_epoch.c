/* The CPU backend's epoch builder (backends/cpu/cpu_epoch.c), called
 * directly: every positive once, every negative outside its user's items,
 * all untaken items reachable, and the same samples whatever the number of
 * threads. Linked with the backend's static library, not through libreco. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "helpers.h"

enum { N_USERS = 4, N_ITEMS = 9, N_ROWS = 10, NEGATIVES = 4 };

/* user 0: items 1, 3, 4; user 1: 0; user 2: 2, 5, 6, 7, 8; user 3: 8 */
static const int32_t row_users[N_ROWS] = {0, 2, 0, 1, 2, 3, 2, 0, 2, 2};
static const int32_t row_items[N_ROWS] = {3, 5, 1, 0, 2, 8, 7, 4, 6, 8};
static const float row_ratings[N_ROWS] = {1, 2, 3, 4, 5, 1, 2, 3, 4, 5};
static const size_t user_offsets[N_USERS + 1] = {0, 3, 4, 9, 10};
static const int32_t user_items[N_ROWS] = {1, 3, 4, 0, 2, 5, 6, 7, 8, 8};

/* The CPU backend's buffers are host memory. */
#define BUFFER(array) ((const reco_backend_buffer *)(const void *)(array))
#define OUT(array) ((reco_backend_buffer *)(void *)(array))

static const reco_epoch_data data = {BUFFER(row_users),
                                     BUFFER(row_items),
                                     BUFFER(row_ratings),
                                     N_ROWS,
                                     BUFFER(user_offsets),
                                     BUFFER(user_items),
                                     N_USERS,
                                     N_ITEMS};

typedef struct samples {
    int32_t users[N_ROWS * (1 + NEGATIVES)];
    int32_t items[N_ROWS * (1 + NEGATIVES)];
    float targets[N_ROWS * (1 + NEGATIVES)];
    int32_t negatives[N_ROWS * (1 + NEGATIVES)];
} samples;

static int user_has(int32_t user, int32_t item)
{
    for (size_t i = user_offsets[user]; i < user_offsets[user + 1]; i++)
        if (user_items[i] == item)
            return 1;
    return 0;
}

static void build(size_t n_threads, const reco_epoch_plan *plan, samples *out)
{
    cpu_context context = {.pool_lock = PTHREAD_MUTEX_INITIALIZER,
                           .pool = reco_cpu_pool_create(n_threads)};
    ck_assert_ptr_nonnull(context.pool);
    memset(out, 0xee, sizeof *out);
    reco_epoch_buffers buffers = {OUT(out->users), OUT(out->items), OUT(out->targets),
                                  plan->pairs ? OUT(out->negatives) : NULL};
    RECO_ASSERT_OK(reco_cpu_epoch_samples(&context, &data, plan, &buffers));
    reco_cpu_pool_release(context.pool);
}

START_TEST(every_positive_once_and_negatives_untaken)
{
    reco_epoch_plan plan = {.negatives = NEGATIVES, .seed = 7, .epoch = 0};
    samples got;
    build(2, &plan, &got);
    int positives_seen[N_ROWS] = {0};
    size_t per_user[N_USERS] = {0}, rows_of_user[N_USERS] = {0};
    for (size_t r = 0; r < N_ROWS; r++)
        rows_of_user[row_users[r]]++;
    for (size_t i = 0; i < N_ROWS * (1 + NEGATIVES); i++) {
        ck_assert_int_lt(got.users[i], N_USERS);
        ck_assert_int_ge(got.items[i], 0);
        ck_assert_int_lt(got.items[i], N_ITEMS);
        per_user[got.users[i]]++;
        if (got.targets[i] == 1.0f) {
            size_t r = 0;
            while (r < N_ROWS && (row_users[r] != got.users[i] || row_items[r] != got.items[i]))
                r++;
            ck_assert_uint_lt(r, N_ROWS);
            positives_seen[r]++;
        } else {
            ck_assert_float_eq(got.targets[i], 0.0f);
            ck_assert(!user_has(got.users[i], got.items[i]));
        }
    }
    for (size_t r = 0; r < N_ROWS; r++)
        ck_assert_int_eq(positives_seen[r], 1);
    for (int32_t u = 0; u < N_USERS; u++)
        ck_assert_uint_eq(per_user[u], rows_of_user[u] * (1 + NEGATIVES));
}
END_TEST

enum { BIG_USERS = 300, BIG_ITEMS = 64, BIG_PER_USER = 10, BIG_ROWS = BIG_USERS * BIG_PER_USER };

/* Builds an epoch of a larger dataset (about 15 samples a shuffle bucket). */
static int32_t *build_big(size_t n_threads, uint64_t epoch)
{
    static int32_t users[BIG_ROWS], items[BIG_ROWS];
    static size_t offsets[BIG_USERS + 1];
    for (int32_t u = 0; u < BIG_USERS; u++) {
        offsets[u + 1] = offsets[u] + BIG_PER_USER;
        for (int32_t j = 0; j < BIG_PER_USER; j++) {
            users[u * BIG_PER_USER + j] = u;
            items[u * BIG_PER_USER + j] = (u % 5) + 6 * j; /* sorted */
        }
    }
    reco_epoch_data big = {BUFFER(users),   BUFFER(items), NULL,      BIG_ROWS,
                           BUFFER(offsets), BUFFER(items), BIG_USERS, BIG_ITEMS};
    reco_epoch_plan plan = {.negatives = NEGATIVES, .seed = 3, .epoch = epoch};
    size_t n = BIG_ROWS * (1 + NEGATIVES);
    int32_t *out = malloc(n * (2 * sizeof(int32_t) + sizeof(float)));
    ck_assert_ptr_nonnull(out);
    cpu_context context = {.pool_lock = PTHREAD_MUTEX_INITIALIZER,
                           .pool = reco_cpu_pool_create(n_threads)};
    ck_assert_ptr_nonnull(context.pool);
    reco_epoch_buffers buffers = {OUT(out), OUT(out + n), OUT(out + 2 * n), NULL};
    RECO_ASSERT_OK(reco_cpu_epoch_samples(&context, &big, &plan, &buffers));
    reco_cpu_pool_release(context.pool);
    return out;
}

START_TEST(the_same_samples_for_any_thread_count)
{
    size_t bytes = BIG_ROWS * (1 + NEGATIVES) * (2 * sizeof(int32_t) + sizeof(float));
    int32_t *one = build_big(1, 2);
    for (size_t threads = 2; threads <= 5; threads++) {
        int32_t *other = build_big(threads, 2);
        ck_assert_mem_eq(one, other, bytes);
        free(other);
    }
    int32_t *next_epoch = build_big(2, 3);
    ck_assert(memcmp(one, next_epoch, bytes) != 0);
    free(next_epoch);
    free(one);
}
END_TEST

START_TEST(every_untaken_item_is_drawn)
{
    /* over 200 epochs, user 0 (items 1, 3, 4) draws each of 0, 2, 5, 6, 7, 8 and
     * user 2 draws each of 0, 1, 3, 4 */
    int drawn[N_USERS][N_ITEMS] = {{0}};
    for (uint64_t epoch = 0; epoch < 200; epoch++) {
        reco_epoch_plan plan = {.negatives = NEGATIVES, .seed = 11, .epoch = epoch};
        samples got;
        build(2, &plan, &got);
        for (size_t i = 0; i < N_ROWS * (1 + NEGATIVES); i++)
            if (got.targets[i] == 0.0f)
                drawn[got.users[i]][got.items[i]]++;
    }
    for (int32_t u = 0; u < N_USERS; u++)
        for (int32_t item = 0; item < N_ITEMS; item++)
            ck_assert_int_eq(drawn[u][item] > 0, !user_has(u, item));
}
END_TEST

START_TEST(pairs_and_explicit_targets)
{
    reco_epoch_plan pairs = {.negatives = 1, .pairs = 1, .seed = 5};
    samples got;
    build(3, &pairs, &got);
    int seen[N_ROWS] = {0};
    for (size_t i = 0; i < N_ROWS; i++) {
        ck_assert(user_has(got.users[i], got.items[i]));
        ck_assert(!user_has(got.users[i], got.negatives[i]));
        ck_assert_int_lt(got.negatives[i], N_ITEMS);
        for (size_t r = 0; r < N_ROWS; r++)
            seen[r] += row_users[r] == got.users[i] && row_items[r] == got.items[i];
    }
    for (size_t r = 0; r < N_ROWS; r++)
        ck_assert_int_eq(seen[r], 1);
    reco_epoch_plan ratings = {.negatives = 0, .explicit_targets = 1, .seed = 5};
    build(2, &ratings, &got);
    float sum = 0.0f;
    for (size_t i = 0; i < N_ROWS; i++) {
        size_t r = 0;
        while (row_users[r] != got.users[i] || row_items[r] != got.items[i])
            r++;
        ck_assert_float_eq(got.targets[i], row_ratings[r]);
        sum += got.targets[i];
    }
    ck_assert_float_eq(sum, 30.0f);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cpu_epoch");
    TCase *tcase = tcase_create("epoch samples");
    tcase_add_test(tcase, every_positive_once_and_negatives_untaken);
    tcase_add_test(tcase, the_same_samples_for_any_thread_count);
    tcase_add_test(tcase, every_untaken_item_is_drawn);
    tcase_add_test(tcase, pairs_and_explicit_targets);
    suite_add_tcase(suite, tcase);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

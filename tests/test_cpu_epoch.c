/* The sampling law (backends/common/reco_sampling.h) and the CPU
 * backend's epoch builder, called directly: the Feistel permutations are
 * bijections with their inverses; every positive once, every negative
 * outside its user's items, all untaken items reachable; the same samples
 * whatever the number of threads; an epoch of several chunks with a short
 * block holds every row once, and any range of it built on its own is that
 * range of the whole (streaming). Linked with the static library. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "helpers.h"
#include "reco_epoch_build.h"

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
                                     N_ITEMS,
                                     0};

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
    reco_epoch_plan whole = *plan;
    whole.count = N_ROWS * (plan->pairs ? 1 : 1 + plan->negatives);
    RECO_ASSERT_OK(reco_cpu_epoch_samples(&context, &data, &whole, &buffers));
    reco_cpu_pool_release(context.pool);
}

static int compare_pairs(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

/* The epoch's (user, item) samples as sorted keys: the multiset, order aside. */
static void sorted_pairs(const samples *s, int64_t *pairs)
{
    for (size_t i = 0; i < N_ROWS * (1 + NEGATIVES); i++)
        pairs[i] = (int64_t)s->users[i] * N_ITEMS + s->items[i];
    qsort(pairs, N_ROWS * (1 + NEGATIVES), sizeof *pairs, compare_pairs);
}

START_TEST(fixed_negatives_keep_the_first_epochs_in_a_new_order)
{
    reco_epoch_plan first = {.negatives = NEGATIVES, .seed = 5, .epoch = 0};
    reco_epoch_plan fixed = {.negatives = NEGATIVES, .seed = 5, .epoch = 3, .negative_epoch = 0};
    reco_epoch_plan fresh = {.negatives = NEGATIVES, .seed = 5, .epoch = 3, .negative_epoch = 3};
    static samples a, b, c;
    build(2, &first, &a);
    build(2, &fixed, &b);
    build(2, &fresh, &c);
    static int64_t pairs_a[N_ROWS * (1 + NEGATIVES)], pairs_b[N_ROWS * (1 + NEGATIVES)],
        pairs_c[N_ROWS * (1 + NEGATIVES)];
    sorted_pairs(&a, pairs_a);
    sorted_pairs(&b, pairs_b);
    sorted_pairs(&c, pairs_c);
    ck_assert_mem_eq(pairs_a, pairs_b, sizeof pairs_a);       /* the same negatives */
    ck_assert(memcmp(a.items, b.items, sizeof a.items) != 0); /* in another order */
    ck_assert(memcmp(pairs_a, pairs_c, sizeof pairs_a) != 0); /* fresh ones differ */
}
END_TEST

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

/* Builds an epoch of a larger dataset (188 blocks, the last one short). */
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
    reco_epoch_data big = {BUFFER(users), BUFFER(items), NULL,      BIG_ROWS, BUFFER(offsets),
                           BUFFER(items), BIG_USERS,     BIG_ITEMS, 0};
    size_t n = BIG_ROWS * (1 + NEGATIVES);
    reco_epoch_plan plan = {
        .negatives = NEGATIVES, .seed = 3, .epoch = epoch, .count = n, .negative_epoch = epoch};
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
        reco_epoch_plan plan = {
            .negatives = NEGATIVES, .seed = 11, .epoch = epoch, .negative_epoch = epoch};
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

START_TEST(permutations_are_bijections)
{
    static uint8_t seen[70000];
    const uint64_t sizes[] = {1, 2, 3, 16, 17, 1000, 4097, 65536, 69999};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        reco_permutation p = reco_permutation_make(sizes[k], 0x1234 + k);
        memset(seen, 0, sizeof seen);
        size_t fixed = 0;
        for (uint64_t x = 0; x < sizes[k]; x++) {
            uint64_t y = reco_permute(&p, x);
            ck_assert_uint_lt(y, sizes[k]);
            ck_assert_int_eq(seen[y], 0);
            seen[y] = 1;
            ck_assert_uint_eq(reco_unpermute(&p, y), x);
            fixed += y == x;
        }
        /* a random permutation fixes about one point */
        ck_assert_uint_le(fixed, sizes[k] < 100 ? sizes[k] : 8);
    }
}
END_TEST

enum { CHUNKED_ROWS = 2 * RECO_CHUNK_BLOCKS * RECO_BLOCK_ROWS + 1000 + 7 };

static void build_chunked(reco_sample_source *source, size_t first, size_t count, int32_t *out)
{
    reco_sample_sink sink = {out, out + count, (float *)(out + 2 * count), NULL};
    ck_assert_int_eq(reco_epoch_build(source, first, count, &sink, reco_run_serially, NULL), 0);
}

START_TEST(chunked_epochs_hold_every_row_once_and_stream)
{
    /* three chunks, the last short, and a short last block: ratings as
     * targets (no negatives) name each row */
    size_t n = CHUNKED_ROWS;
    int32_t *users = malloc(n * sizeof *users), *items = malloc(n * sizeof *items);
    float *ratings = malloc(n * sizeof *ratings);
    int32_t *whole = malloc(3 * n * sizeof *whole), *part = malloc(3 * n * sizeof *part);
    uint8_t *seen = calloc(n, 1);
    ck_assert(users && items && ratings && whole && part && seen);
    for (size_t r = 0; r < n; r++) {
        users[r] = (int32_t)(r / 20);
        items[r] = (int32_t)(r % 20);
        ratings[r] = (float)r;
    }
    reco_epoch_plan plan = {.explicit_targets = 1, .seed = 9, .epoch = 1, .negative_epoch = 1};
    reco_sample_source source =
        reco_sample_source_make(users, items, ratings, n, NULL, NULL, 20, &plan);
    build_chunked(&source, 0, n, whole);
    const float *targets = (const float *)(whole + 2 * n);
    size_t in_order = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = (size_t)targets[i];
        ck_assert_uint_lt(r, n);
        ck_assert_int_eq(seen[r], 0);
        seen[r] = 1;
        ck_assert_int_eq(whole[i], users[r]);
        ck_assert_int_eq(whole[n + i], items[r]);
        in_order += i > 0 && targets[i] == targets[i - 1] + 1.0f;
    }
    ck_assert_uint_lt(in_order, 100);
    /* any range, built alone, is that range of the whole */
    const size_t ranges[][2] = {{0, 1}, {n / 2 - 1, 3}, {n / 3, n / 2}, {n - 5, 5}};
    for (size_t k = 0; k < 4; k++) {
        size_t first = ranges[k][0], count = ranges[k][1];
        build_chunked(&source, first, count, part);
        for (size_t i = 0; i < count; i++) {
            ck_assert_int_eq(part[i], whole[first + i]);
            ck_assert_int_eq(part[count + i], whole[n + first + i]);
            ck_assert_float_eq(((float *)(part + 2 * count))[i], targets[first + i]);
        }
    }
    free(users);
    free(items);
    free(ratings);
    free(whole);
    free(part);
    free(seen);
}
END_TEST

/* Runs a task's threads one after the other: three, unless told. */
static void run_as_three(void *runner, reco_parallel_task task, void *argument)
{
    (void)runner;
    for (size_t thread = 0; thread < 3; thread++)
        task(argument, thread, 3);
}

/* The builder (tabled permutations or not, row by row) against the law's
 * own per-place function (reco_chunk_sample_write, the CUDA backend's): the
 * same sample at every place of a three-chunk epoch, with negatives drawn
 * from per-user lists and as BPR pairs. */
START_TEST(the_builder_writes_the_law_place_by_place)
{
    enum { PER_USER = 20, CATALOG = 3 * PER_USER };
    size_t n = CHUNKED_ROWS, n_users = (n + PER_USER - 1) / PER_USER;
    int32_t *users = malloc(n * sizeof *users), *items = malloc(n * sizeof *items);
    size_t *offsets = malloc((n_users + 1) * sizeof *offsets);
    int32_t *built = malloc(4 * 5 * n * sizeof *built), *law = malloc(4 * 5 * n * sizeof *law);
    ck_assert(users && items && offsets && built && law);
    for (size_t r = 0; r < n; r++) {
        users[r] = (int32_t)(r / PER_USER);
        items[r] = (int32_t)(3 * (r % PER_USER) + users[r] % 3);
    }
    for (size_t u = 0; u <= n_users; u++)
        offsets[u] = u * PER_USER < n ? u * PER_USER : n;
    const reco_epoch_plan plans[] = {{.negatives = 4, .seed = 3, .epoch = 2, .negative_epoch = 2},
                                     {.negatives = 1, .pairs = 1, .seed = 4, .epoch = 1}};
    const unsigned tabled_bits[] = {32, 0};
    for (size_t k = 0; k < 4; k++) {
        reco_epoch_tabled_bits = tabled_bits[k / 2];
        reco_sample_source source =
            reco_sample_source_make(users, items, NULL, n, offsets, items, CATALOG, &plans[k % 2]);
        reco_epoch_layout layout = reco_epoch_layout_make(&source);
        size_t count = layout.n_samples;
        ck_assert_uint_eq(layout.n_chunks, 3);
        reco_sample_sink into_built = {built, built + count, (float *)(built + 2 * count),
                                       built + 3 * count};
        reco_sample_sink into_law = {law, law + count, (float *)(law + 2 * count), law + 3 * count};
        if (!source.pairs)
            into_built.negatives = into_law.negatives = NULL;
        ck_assert_int_eq(reco_epoch_build(&source, 0, count, &into_built, run_as_three, NULL), 0);
        size_t place = 0;
        for (size_t c = 0; c < layout.n_chunks; c++) {
            reco_chunk chunk = reco_chunk_make(&source, &layout, c);
            for (size_t u = 0; u < chunk.n_samples; u++)
                reco_chunk_sample_write(&source, &layout, &chunk, NULL, u, &into_law, place++);
        }
        ck_assert_uint_eq(place, count);
        ck_assert_mem_eq(built, law, (source.pairs ? 4 : 3) * count * sizeof *built);
    }
    reco_epoch_tabled_bits = 32;
    free(users);
    free(items);
    free(offsets);
    free(built);
    free(law);
}
END_TEST

/* The hook of lib/trainer_epoch.c: samples an epoch is made in at a time. */
extern size_t reco_epoch_window_samples;

/* Two epochs of GMF made in one window and in windows of three batches
 * (the last batch short) on the CPU backend: the same parameters, bit for
 * bit. */
START_TEST(epochs_made_in_windows_train_the_same)
{
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(60, 90, 1500, 2, &data));
    static float reference[4000], got[4000];
    size_t count = 0;
    const size_t windows[] = {(size_t)1 << 20, 3 * 100};
    for (int run = 0; run < 2; run++) {
        reco_epoch_window_samples = windows[run];
        training_setup t =
            training_setup_new(open_backend("cpu"), RECO_MODEL_GMF, reco_dataset_n_users(data),
                               reco_dataset_n_items(data), 3);
        RECO_ASSERT_OK(reco_trainer_set_batch_size(t.trainer, 100));
        RECO_ASSERT_OK(reco_trainer_fit(t.trainer, data, 2));
        count = reco_model_parameter_count(t.model);
        ck_assert_uint_le(count, 4000);
        RECO_ASSERT_OK(reco_model_get_parameters(t.model, run == 0 ? reference : got));
        training_setup_free(&t);
    }
    reco_epoch_window_samples = (size_t)1 << 20;
    ck_assert_mem_eq(reference, got, count * sizeof(float));
    reco_dataset_free(data);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cpu_epoch");
    /* the helpers' 60 s: Check's 4 s default ran out under ASan on a busy machine */
    TCase *tcase = test_case(suite, "epoch samples");
    tcase_add_test(tcase, every_positive_once_and_negatives_untaken);
    tcase_add_test(tcase, the_same_samples_for_any_thread_count);
    tcase_add_test(tcase, every_untaken_item_is_drawn);
    tcase_add_test(tcase, fixed_negatives_keep_the_first_epochs_in_a_new_order);
    tcase_add_test(tcase, pairs_and_explicit_targets);
    tcase_add_test(tcase, permutations_are_bijections);
    tcase_add_test(tcase, chunked_epochs_hold_every_row_once_and_stream);
    tcase_add_test(tcase, the_builder_writes_the_law_place_by_place);
    tcase_add_test(tcase, epochs_made_in_windows_train_the_same);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

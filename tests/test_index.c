/* The approximate top-K index: with ef past the number of items a search
 * finds every item, so its top k is the exact one; at a small ef most of
 * it; filters and seen items apply; index files round-trip byte for byte
 * and damaged or foreign ones are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

enum { USERS = 40, ITEMS = 600, K = 10 };

/* Biased MF of random factors (std 1) over USERS x ITEMS. */
static reco_model *random_model(reco_backend *backend, reco_model_kind kind, int biases)
{
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kind, USERS, ITEMS, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 12));
    if (biases)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 1.0f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 3));
    return model;
}

static void recommend_both(const reco_model *model, const reco_index *index, size_t ef,
                           const reco_filter *filter, int32_t *exact, int32_t *found,
                           float *exact_scores, float *found_scores)
{
    int32_t users[USERS];
    size_t counts[USERS];
    for (int u = 0; u < USERS; u++)
        users[u] = u;
    RECO_ASSERT_OK(reco_model_recommend_filtered(model, users, USERS, K, filter, exact,
                                                 exact_scores, counts));
    RECO_ASSERT_OK(reco_model_recommend_approximate(model, index, users, USERS, K, ef, filter,
                                                    found, found_scores, counts));
    for (int u = 0; u < USERS; u++)
        ck_assert_uint_eq(counts[u], K);
}

START_TEST(an_exhaustive_search_is_exact)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = random_model(backend, _i ? RECO_MODEL_GMF : RECO_MODEL_MF, !_i);
    reco_index *index;
    RECO_ASSERT_OK(reco_index_build(model, 8, 40, 5, &index));
    static int32_t exact[USERS * K], found[USERS * K];
    static float exact_scores[USERS * K], found_scores[USERS * K];
    recommend_both(model, index, ITEMS + 1, NULL, exact, found, exact_scores, found_scores);
    for (int i = 0; i < USERS * K; i++) {
        ck_assert_int_eq(found[i], exact[i]);
        ck_assert_float_eq_tol(found_scores[i], exact_scores[i], 1e-4f);
    }
    /* a small ef finds most of the exact top 10 */
    recommend_both(model, index, 12, NULL, exact, found, exact_scores, found_scores);
    int hits = 0;
    for (int u = 0; u < USERS; u++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                hits += exact[u * K + i] == found[u * K + j];
    ck_assert_int_ge(hits, USERS * K * 8 / 10);
    ck_assert_int_lt(hits, USERS * K);
    reco_index_free(index);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(filters_and_seen_items_apply)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = random_model(backend, RECO_MODEL_MF, 1);
    reco_index *index;
    RECO_ASSERT_OK(reco_index_build(model, 8, 40, 5, &index));
    static int32_t exact[USERS * K], found[USERS * K], unfiltered[USERS * K];
    static float exact_scores[USERS * K], found_scores[USERS * K];
    recommend_both(model, index, ITEMS + 1, NULL, unfiltered, found, exact_scores, found_scores);
    /* user 0's best 3 left out for everyone, items 0-99 the only candidates */
    reco_filter *filter;
    RECO_ASSERT_OK(reco_filter_new(model, &filter));
    RECO_ASSERT_OK(reco_filter_exclude_items(filter, unfiltered, 3));
    int32_t only[100];
    for (int i = 0; i < 100; i++)
        only[i] = i;
    RECO_ASSERT_OK(reco_filter_only_items(filter, only, 100));
    recommend_both(model, index, ITEMS + 1, filter, exact, found, exact_scores, found_scores);
    ck_assert_mem_eq(found, exact, sizeof exact);
    for (int i = 0; i < USERS * K; i++) {
        ck_assert_int_lt(found[i], 100);
        ck_assert(found[i] != unfiltered[0] && found[i] != unfiltered[1]);
    }
    reco_filter_free(filter);
    EXPECT_STATUS(reco_model_recommend_approximate(model, index, only, 1, K, 0, NULL, found,
                                                   found_scores, (size_t[1]){0}),
                  RECO_ERR_INVALID_ARGUMENT, "ef 0: expected 1 to 100000");
    reco_index_free(index);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(index_files_round_trip)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = random_model(backend, RECO_MODEL_MF, 1);
    reco_index *index, *loaded;
    RECO_ASSERT_OK(reco_index_build(model, 8, 40, 5, &index));
    const char *path = temp_path("items.hnsw"), *again = temp_path("again.hnsw");
    RECO_ASSERT_OK(reco_index_save(index, path));
    RECO_ASSERT_OK(reco_index_load(model, path, &loaded));
    RECO_ASSERT_OK(reco_index_save(loaded, again));
    size_t size_a, size_b;
    unsigned char *a = read_test_file(path, &size_a), *b = read_test_file(again, &size_b);
    ck_assert_uint_eq(size_a, size_b);
    ck_assert_mem_eq(a, b, size_a);
    static int32_t exact[USERS * K], first[USERS * K], second[USERS * K];
    static float scores[USERS * K], found_scores[USERS * K];
    recommend_both(model, index, 12, NULL, exact, first, scores, found_scores);
    recommend_both(model, loaded, 12, NULL, exact, second, scores, found_scores);
    ck_assert_mem_eq(first, second, sizeof first);
    /* a flipped byte, a truncated file, another model's shape */
    a[size_a / 2] ^= 1;
    reco_index *refused = NULL;
    const char *damaged = write_temp_file("damaged.hnsw", a, size_a);
    EXPECT_STATUS(reco_index_load(model, damaged, &refused), RECO_ERR_FORMAT, "checksum");
    const char *truncated = write_temp_file("truncated.hnsw", b, size_b - 9);
    EXPECT_STATUS(reco_index_load(model, truncated, &refused), RECO_ERR_FORMAT, "truncated");
    reco_model *other;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, USERS, ITEMS, &other));
    RECO_ASSERT_OK(reco_model_set_factors(other, 12));
    RECO_ASSERT_OK(reco_model_init(other, backend, 3));
    EXPECT_STATUS(reco_index_load(other, path, &refused), RECO_ERR_FORMAT,
                  "an index of another model's shape");
    ck_assert_ptr_null(refused);
    reco_model *neumf;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_NEUMF, USERS, ITEMS, &neumf));
    RECO_ASSERT_OK(reco_model_init(neumf, backend, 3));
    EXPECT_STATUS(reco_index_build(neumf, 8, 40, 5, &refused), RECO_ERR_STATE,
                  "neumf has no item factors to search by inner product");
    free(a);
    free(b);
    reco_model_free(neumf);
    reco_model_free(other);
    reco_index_free(loaded);
    reco_index_free(index);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("index");
    TCase *tcase = test_case(suite, "index");
    tcase_set_timeout(tcase, 60);
    tcase_add_loop_test(tcase, an_exhaustive_search_is_exact, 0, 2);
    tcase_add_test(tcase, filters_and_seen_items_apply);
    tcase_add_test(tcase, index_files_round_trip);
    return run_suite(suite);
}

/* Serving: recommendations, similar items, embeddings, vocabularies on the
 * model, and fold-in of a new user. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "reco/reco.h"

/* MF, factors 2, 2 users, 4 items, no biases, given factor rows. */
static reco_model *mf_with(reco_backend *backend, const float users[4], const float items[8])
{
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 2, 4, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 2));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    float params[4 + 8 + 3];
    memcpy(params, users, 4 * sizeof *params);
    memcpy(params + 4, items, 8 * sizeof *params);
    params[12] = params[13] = 1.0f;
    params[14] = 0.0f;
    RECO_ASSERT_OK(reco_model_set_parameters(model, params));
    return model;
}

static const float user_rows[4] = {1, 0, 0, 1};              /* user 0 -> x, user 1 -> y */
static const float item_rows[8] = {1, 0, 0, 1, 1, 1, -1, 0};  /* items (1,0) (0,1) (1,1) (-1,0) */

START_TEST(recommend_excludes_seen_items)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = mf_with(backend, user_rows, item_rows);
    /* ids 0..3 appear in order, so ids and indices agree: user 0 has seen
     * items 0 and 2, user 1 items 1 and 3 */
    const int64_t seen_users[] = {0, 1, 0, 1}, seen_items[] = {0, 1, 2, 3};
    reco_dataset *seen;
    RECO_ASSERT_OK(reco_dataset_from_arrays(seen_users, seen_items, NULL, NULL, 4, &seen));
    int32_t items[4];
    float scores[4];
    size_t n;
    /* user 0 scores items 1, 0, 1, -1: items 0 and 2 tie, lower index first */
    RECO_ASSERT_OK(reco_model_recommend(model, 0, 3, NULL, items, scores, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(items[0], 0);
    ck_assert_int_eq(items[1], 2);
    ck_assert_int_eq(items[2], 1);
    ck_assert_float_eq(scores[0], 1.0f);
    ck_assert_float_eq(scores[2], 0.0f);
    RECO_ASSERT_OK(reco_model_recommend(model, 0, 3, seen, items, scores, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(items[0], 1);
    ck_assert_int_eq(items[1], 3);
    ck_assert_float_eq(scores[1], -1.0f);
    /* user 1 scores items 0, 1, 1, 0 and has seen 1 and 3 */
    const int32_t users[2] = {1, 0};
    int32_t batch_items[2 * 2];
    float batch_scores[2 * 2];
    size_t counts[2];
    RECO_ASSERT_OK(
        reco_model_recommend_batch(model, users, 2, 2, seen, batch_items, batch_scores, counts));
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_int_eq(batch_items[0], 2);
    ck_assert_int_eq(batch_items[1], 0);
    ck_assert_uint_eq(counts[1], 2);
    ck_assert_int_eq(batch_items[2], 1);
    ck_assert_int_eq(batch_items[3], 3);
    ck_assert_int_eq(reco_model_recommend(model, 5, 3, NULL, items, scores, &n),
                     RECO_ERR_OUT_OF_RANGE);
    reco_dataset_free(seen);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

/* recommend against a brute force over reco_model_predict, for every kind
 * (MF and GMF rank through one matrix product, MLP and NeuMF through the
 * forward pass) */
START_TEST(recommend_matches_brute_force)
{
    static const reco_model_kind kinds[] = {RECO_MODEL_MF, RECO_MODEL_GMF, RECO_MODEL_MLP,
                                            RECO_MODEL_NEUMF};
    reco_backend *backend = open_backend("cpu");
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(kinds[_i], 7, 300, &model));
    if (kinds[_i] == RECO_MODEL_MF)
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_set_output(model, RECO_ACTIVATION_SIGMOID));
    RECO_ASSERT_OK(reco_model_set_init_std(model, 0.5f));
    RECO_ASSERT_OK(reco_model_init(model, backend, 11));
    if (kinds[_i] == RECO_MODEL_MF) { /* non-zero biases */
        float *params = malloc(reco_model_parameter_count(model) * sizeof *params);
        RECO_ASSERT_OK(reco_model_get_parameters(model, params));
        for (size_t i = 0; i < 7 + 300; i++)
            params[(7 + 300) * 8 + i] = 0.01f * (float)(i % 13);
        RECO_ASSERT_OK(reco_model_set_parameters(model, params));
        free(params);
    }
    int32_t users[7], items[7 * 5];
    float scores[7 * 5];
    size_t counts[7];
    for (int u = 0; u < 7; u++)
        users[u] = u;
    RECO_ASSERT_OK(reco_model_recommend_batch(model, users, 7, 5, NULL, items, scores, counts));
    for (int u = 0; u < 7; u++) {
        int32_t pair_users[300], pair_items[300];
        float all[300];
        for (int i = 0; i < 300; i++) {
            pair_users[i] = u;
            pair_items[i] = i;
        }
        RECO_ASSERT_OK(reco_model_predict(model, pair_users, pair_items, 300, all));
        ck_assert_uint_eq(counts[u], 5);
        for (int r = 0; r < 5; r++) {
            /* the r-th recommendation beats every item not recommended */
            ck_assert_float_eq_tol(scores[u * 5 + r], all[items[u * 5 + r]], 1e-5f);
            size_t better = 0;
            for (int i = 0; i < 300; i++)
                better += all[i] > all[items[u * 5 + r]] + 1e-5f;
            ck_assert_uint_le(better, (size_t)r);
        }
    }
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(similar_items_by_cosine)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model = mf_with(backend, user_rows, item_rows);
    int32_t items[3];
    float similarities[3];
    size_t n;
    RECO_ASSERT_OK(reco_model_similar_items(model, 0, 3, items, similarities, &n));
    ck_assert_uint_eq(n, 3);
    const int32_t expected_items[] = {2, 1, 3};
    const float expected[] = {0.70710678f, 0.0f, -1.0f};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(items[i], expected_items[i]);
        ck_assert_float_eq_tol(similarities[i], expected[i], 1e-6f);
    }
    ck_assert_int_eq(reco_model_similar_items(model, 4, 3, items, similarities, &n),
                     RECO_ERR_OUT_OF_RANGE);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(embeddings_concatenate_gmf_and_mlp)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_NEUMF, 3, 5, &model));
    const size_t layers[] = {4, 2};
    RECO_ASSERT_OK(reco_model_set_layers(model, layers, 2));
    RECO_ASSERT_OK(reco_model_set_factors(model, 3));
    RECO_ASSERT_OK(reco_model_init(model, backend, 7));
    ck_assert_uint_eq(reco_model_embedding_dim(model), 5);
    float params[512], users[3 * 5], items[5 * 5];
    ck_assert_uint_lt(reco_model_parameter_count(model), 512);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    RECO_ASSERT_OK(reco_model_get_user_embeddings(model, users));
    RECO_ASSERT_OK(reco_model_get_item_embeddings(model, items));
    /* flat order: user GMF (3x3), item GMF (5x3), user MLP (3x2), item MLP (5x2) */
    for (int u = 0; u < 3; u++)
        for (int d = 0; d < 5; d++)
            ck_assert_float_eq(users[u * 5 + d], d < 3 ? params[u * 3 + d]
                                                       : params[24 + u * 2 + d - 3]);
    for (int i = 0; i < 5; i++)
        for (int d = 0; d < 5; d++)
            ck_assert_float_eq(items[i * 5 + d], d < 3 ? params[9 + i * 3 + d]
                                                       : params[30 + i * 2 + d - 3]);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

/* Biased MF's biases are the flat vector's bias tables and its last value
 * (the layout of docs/training.md); a model without biases has none. */
START_TEST(biases_of_biased_mf)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 3, 4, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 2));
    RECO_ASSERT_OK(reco_model_set_biases(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 3));
    size_t count = reco_model_parameter_count(model);
    /* user factors 6, item factors 8, user biases 3, item biases 4, head 2 + 1 */
    ck_assert_uint_eq(count, 24);
    float parameters[24];
    for (size_t i = 0; i < count; i++)
        parameters[i] = (float)i;
    RECO_ASSERT_OK(reco_model_set_parameters(model, parameters));
    float users[3], items[4], global;
    RECO_ASSERT_OK(reco_model_get_biases(model, users, items, &global));
    ck_assert_float_eq(users[0], 14.0f);
    ck_assert_float_eq(users[2], 16.0f);
    ck_assert_float_eq(items[0], 17.0f);
    ck_assert_float_eq(items[3], 20.0f);
    ck_assert_float_eq(global, 23.0f);
    RECO_ASSERT_OK(reco_model_get_biases(model, NULL, NULL, &global));
    reco_model_free(model);
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 3, 4, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 3));
    ck_assert_int_eq(reco_model_get_biases(model, users, items, &global), RECO_ERR_STATE);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

/* Users with embeddings (1,0), (0.9,0.1), (0,1), (-1,0): user 0's nearest
 * are 1 (cosine 0.9939), then 2 (0), then 3 (-1). */
START_TEST(similar_users_by_cosine)
{
    reco_backend *backend = open_backend("cpu");
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 4, 3, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 2));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    float parameters[64] = {1, 0, 0.9f, 0.1f, 0, 1, -1, 0}; /* the user table comes first */
    ck_assert_uint_le(reco_model_parameter_count(model), 64);
    float original[64];
    RECO_ASSERT_OK(reco_model_get_parameters(model, original));
    memcpy(parameters + 8, original + 8, (reco_model_parameter_count(model) - 8) * sizeof(float));
    RECO_ASSERT_OK(reco_model_set_parameters(model, parameters));
    int32_t users[3];
    float similarities[3];
    size_t n = 0;
    RECO_ASSERT_OK(reco_model_similar_users(model, 0, 3, users, similarities, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(users[0], 1);
    ck_assert_int_eq(users[1], 2);
    ck_assert_int_eq(users[2], 3);
    ck_assert_float_eq_tol(similarities[0], 0.9f / sqrtf(0.82f), 1e-6f);
    ck_assert_float_eq_tol(similarities[1], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(similarities[2], -1.0f, 1e-6f);
    ck_assert_int_eq(reco_model_similar_users(model, 4, 3, users, similarities, &n),
                     RECO_ERR_OUT_OF_RANGE);
    reco_model_free(model);
    reco_backend_free(backend);
}
END_TEST

START_TEST(model_vocabulary_maps_ids)
{
    reco_backend *backend = open_backend("cpu");
    reco_dataset *data;
    const int64_t users[] = {100, 200}, items[] = {7, 9};
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 2, &data));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 2, 2, &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    int64_t id;
    ck_assert_int_eq(reco_model_user_id(model, 0, &id), RECO_ERR_STATE);
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, data));
    RECO_ASSERT_OK(reco_model_user_id(model, 1, &id));
    ck_assert_int_eq(id, 200);
    int32_t index;
    RECO_ASSERT_OK(reco_model_item_index(model, 9, &index));
    ck_assert_int_eq(index, 1);
    ck_assert_int_eq(reco_model_item_index(model, 8, &index), RECO_ERR_OUT_OF_RANGE);
    RECO_ASSERT_OK(reco_model_item_id(model, 0, &id));
    ck_assert_int_eq(id, 7);
    ck_assert_int_eq(reco_model_item_id(model, 2, &id), RECO_ERR_OUT_OF_RANGE);
    RECO_ASSERT_OK(reco_model_user_index(model, 100, &index));
    ck_assert_int_eq(index, 0);
    ck_assert_uint_eq(reco_model_n_items(model), 2);
    reco_model *small;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 1, 2, &small));
    ck_assert_int_eq(reco_model_set_vocabulary(small, data), RECO_ERR_OUT_OF_RANGE);
    reco_model_free(small);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

START_TEST(fold_in_learns_one_user_and_freezes_the_rest)
{
    reco_backend *backend = open_backend("cpu");
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_synthetic(100, 150, 4000, 5, &data));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 100, reco_dataset_n_items(data), &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 3));
    reco_trainer *trainer;
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_learning_rate(trainer, 0.01));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, data, 3));
    size_t before = reco_model_parameter_count(model);
    float *old = malloc(before * sizeof *old);
    RECO_ASSERT_OK(reco_model_get_parameters(model, old));
    const int32_t liked[] = {0, 1, 2, 3, 4, 5};
    int32_t user = -1;
    RECO_ASSERT_OK(reco_model_fold_in(model, liked, 6, 30, 9, &user));
    ck_assert_int_eq(user, 100);
    ck_assert_uint_eq(reco_model_n_users(model), 101);
    size_t after = reco_model_parameter_count(model);
    ck_assert_uint_eq(after, before + 8); /* one GMF user row of 8 factors */
    float *now = malloc(after * sizeof *now);
    RECO_ASSERT_OK(reco_model_get_parameters(model, now));
    /* the old user rows and everything after the new row are unchanged */
    ck_assert_mem_eq(now, old, 100 * 8 * sizeof *now);
    ck_assert_mem_eq(now + 101 * 8, old + 100 * 8, (before - 100 * 8) * sizeof *now);
    /* the new user prefers what it liked to the rest */
    int32_t users[150], items[150];
    float scores[150];
    size_t n_items = reco_dataset_n_items(data);
    for (size_t i = 0; i < n_items; i++) {
        users[i] = user;
        items[i] = (int32_t)i;
    }
    RECO_ASSERT_OK(reco_model_predict(model, users, items, n_items, scores));
    double liked_mean = 0.0, other_mean = 0.0;
    for (size_t i = 0; i < n_items; i++) {
        if (i < 6)
            liked_mean += scores[i] / 6.0;
        else
            other_mean += scores[i] / (double)(n_items - 6);
    }
    ck_assert_msg(liked_mean > other_mean + 0.5, "liked %g, others %g", liked_mean, other_mean);
    /* the trainer notices the model grew and keeps working */
    RECO_ASSERT_OK(reco_trainer_fit(trainer, data, 1));
    free(old);
    free(now);
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

/* Recommends for `user` under `filter`; returns the items as digits
 * (item index + 1 each, best first). */
static long filtered_digits(const reco_model *model, const reco_filter *filter, int32_t user)
{
    int32_t items[6];
    float scores[6];
    size_t n;
    RECO_ASSERT_OK(reco_model_recommend_filtered(model, &user, 1, 6, filter, items, scores, &n));
    long digits = 0;
    for (size_t i = 0; i < n; i++)
        digits = digits * 10 + items[i] + 1;
    return digits;
}

/* MF by hand: user 0's factor 1, user 1's -1, item i's 6 - i, so user 0
 * ranks items 0..5 in order and user 1 the other way; user 0 saw items 0, 2
 * and 4, user 1 items 1, 3 and 5. */
START_TEST(filters_leave_out_lists_tags_and_seen_items)
{
    static const int64_t user_ids[] = {1, 2, 1, 2, 1, 2}, item_ids[] = {1, 2, 3, 4, 5, 6};
    reco_backend *backend = open_backend("cpu");
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_from_arrays(user_ids, item_ids, NULL, NULL, 6, &data));
    reco_model *model;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, 2, 6, &model));
    RECO_ASSERT_OK(reco_model_set_factors(model, 1));
    RECO_ASSERT_OK(reco_model_init(model, backend, 1));
    RECO_ASSERT_OK(reco_model_set_vocabulary(model, data));
    float params[32];
    ck_assert_uint_le(reco_model_parameter_count(model), 32);
    RECO_ASSERT_OK(reco_model_get_parameters(model, params));
    const float factors[8] = {1, -1, 6, 5, 4, 3, 2, 1};
    memcpy(params, factors, sizeof factors);
    RECO_ASSERT_OK(reco_model_set_parameters(model, params));
    RECO_ASSERT_OK(reco_model_set_seen(model, data));
    /* no filter: the model's seen items left out */
    ck_assert_int_eq(filtered_digits(model, NULL, 0), 246);
    ck_assert_int_eq(filtered_digits(model, NULL, 1), 531);
    reco_filter *filter;
    RECO_ASSERT_OK(reco_filter_new(model, &filter));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 246);
    const int32_t excluded[] = {3, 3}, only[] = {0, 1, 2, 3};
    RECO_ASSERT_OK(reco_filter_exclude_items(filter, excluded, 2));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 26);
    RECO_ASSERT_OK(reco_filter_only_items(filter, only, 4));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 2);
    RECO_ASSERT_OK(reco_filter_set_seen(filter, RECO_SEEN_NONE, NULL));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 123);
    ck_assert_int_eq(filtered_digits(model, filter, 1), 321);
    const int32_t outside = 6;
    EXPECT_STATUS(reco_filter_only_items(filter, &outside, 1), RECO_ERR_OUT_OF_RANGE,
                  "item 6 outside the model's 6 items");
    EXPECT_STATUS(reco_filter_set_seen(filter, RECO_SEEN_DATASET, NULL),
                  RECO_ERR_INVALID_ARGUMENT, "expected the model's, a dataset's");
    reco_filter_free(filter);
    /* tags: movies.dat genres; id 99 is no item of the model's */
    const char *dat = write_temp_text("tags.dat", "1::A (1995)::Comedy|Drama\n2::B::Horror\n"
                                                  "3::C::Comedy\n4::D::Drama|Horror\n"
                                                  "5::E::Comedy\n99::Z::Noir\n6::F::Western\n");
    reco_item_tags *tags;
    RECO_ASSERT_OK(reco_item_tags_read(model, dat, &tags));
    ck_assert_uint_eq(reco_item_tags_count(tags), 4);
    ck_assert_str_eq(reco_item_tags_name(tags, 3), "Western");
    ck_assert_int_eq(reco_item_tags_has(tags, 3, "Horror"), 1);
    ck_assert_int_eq(reco_item_tags_has(tags, 3, "Comedy"), 0);
    RECO_ASSERT_OK(reco_filter_new(model, &filter));
    RECO_ASSERT_OK(reco_filter_set_seen(filter, RECO_SEEN_NONE, NULL));
    RECO_ASSERT_OK(reco_filter_include_tag(filter, tags, "Comedy"));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 135);
    RECO_ASSERT_OK(reco_filter_exclude_tag(filter, tags, "Drama"));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 35);
    RECO_ASSERT_OK(reco_filter_include_tag(filter, tags, "Horror"));
    ck_assert_int_eq(filtered_digits(model, filter, 0), 235);
    EXPECT_STATUS(reco_filter_include_tag(filter, tags, "Noir"), RECO_ERR_INVALID_ARGUMENT,
                  "no item has the tag 'Noir' (tags: Comedy, Drama, Horror, Western)");
    /* the seen items of a dataset instead: user 1 had items 1, 3 and 5 */
    RECO_ASSERT_OK(reco_filter_set_seen(filter, RECO_SEEN_DATASET, data));
    ck_assert_int_eq(filtered_digits(model, filter, 1), 53);
    reco_filter_free(filter);
    reco_item_tags_free(tags);
    /* u.item's flags (Animation, Children's, Comedy) and a malformed line */
    const char *uitem = write_temp_text(
        "u.item", "2|B (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    RECO_ASSERT_OK(reco_item_tags_read(model, uitem, &tags));
    ck_assert_int_eq(reco_item_tags_has(tags, 1, "Children's"), 1);
    ck_assert_uint_eq(reco_item_tags_count(tags), 3);
    reco_item_tags_free(tags);
    const char *bad = write_temp_text("bad.dat", "1::A::Comedy\njunk\n");
    EXPECT_STATUS(reco_item_tags_read(model, bad, &tags), RECO_ERR_PARSE,
                  "bad.dat:2: expected an item id and '::'");
    ck_assert_ptr_null(tags);
    reco_model_free(model);
    reco_dataset_free(data);
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("serving");
    TCase *tcase = test_case(suite, "serving");
    tcase_set_timeout(tcase, 300);
    tcase_add_test(tcase, recommend_excludes_seen_items);
    tcase_add_test(tcase, filters_leave_out_lists_tags_and_seen_items);
    tcase_add_loop_test(tcase, recommend_matches_brute_force, 0, 4);
    tcase_add_test(tcase, similar_items_by_cosine);
    tcase_add_test(tcase, embeddings_concatenate_gmf_and_mlp);
    tcase_add_test(tcase, model_vocabulary_maps_ids);
    tcase_add_test(tcase, biases_of_biased_mf);
    tcase_add_test(tcase, similar_users_by_cosine);
    tcase_add_test(tcase, fold_in_learns_one_user_and_freezes_the_rest);
    return run_suite(suite);
}

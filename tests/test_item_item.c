/* EASE and item-kNN against references computed here in double precision:
 * EASE's B from a Gauss-Jordan inverse (on more items than one block of the
 * backend's blocked factorization), item-kNN's neighbours under each
 * weighting from implicit's formulas; scoring, fold-in, thread counts,
 * files (round trip and truncation), settings, memory and a backend that
 * lacks the fits. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_handle.h"
#include "helpers.h"
#include "model_impl.h"

/* A reproducible implicit data set: user u has each item with a chance
 * that falls with the item's index, so items differ in popularity. */
static reco_dataset *random_pairs(size_t n_users, size_t n_items, double density, uint64_t seed)
{
    size_t capacity = n_users * n_items, n = 0;
    int64_t *users = malloc(capacity * sizeof *users), *items = malloc(capacity * sizeof *items);
    ck_assert_ptr_nonnull(users);
    ck_assert_ptr_nonnull(items);
    uint64_t state = seed;
    for (size_t u = 0; u < n_users; u++)
        for (size_t i = 0; i < n_items; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            double draw = (double)(state >> 11) / 9007199254740992.0;
            if (draw < density * (1.5 - (double)i / (double)n_items) || i == u % n_items) {
                users[n] = (int64_t)u;
                items[n] = (int64_t)i;
                n++;
            }
        }
    reco_dataset *dataset;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, n, &dataset));
    free(users);
    free(items);
    return dataset;
}

static training_setup item_item_setup(reco_model_kind kind, size_t n_users, size_t n_items)
{
    training_setup setup = {open_backend("cpu"), NULL, NULL};
    RECO_ASSERT_OK(reco_model_new(kind, n_users, n_items, &setup.model));
    RECO_ASSERT_OK(reco_model_init(setup.model, setup.backend, 1));
    RECO_ASSERT_OK(reco_trainer_new(setup.model, &setup.trainer));
    return setup;
}

/* The dense 0/1 matrix of a data set (users x items). */
static double *dense_of(const reco_dataset *data, size_t n_users, size_t n_items)
{
    double *x = calloc(n_users * n_items, sizeof *x);
    ck_assert_ptr_nonnull(x);
    const int32_t *users = reco_dataset_users(data), *items = reco_dataset_items(data);
    for (size_t k = 0; k < reco_dataset_size(data); k++)
        x[(size_t)users[k] * n_items + (size_t)items[k]] = 1.0;
    return x;
}

/* In place: a becomes its inverse (n x n, Gauss-Jordan with partial pivots). */
static void invert(double *a, size_t n)
{
    double *inverse = calloc(n * n, sizeof *inverse);
    ck_assert_ptr_nonnull(inverse);
    for (size_t i = 0; i < n; i++)
        inverse[i * n + i] = 1.0;
    for (size_t c = 0; c < n; c++) {
        size_t pivot = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[pivot * n + c]))
                pivot = r;
        for (size_t k = 0; k < n; k++) {
            double swap = a[c * n + k];
            a[c * n + k] = a[pivot * n + k];
            a[pivot * n + k] = swap;
            swap = inverse[c * n + k];
            inverse[c * n + k] = inverse[pivot * n + k];
            inverse[pivot * n + k] = swap;
        }
        double scale = 1.0 / a[c * n + c];
        for (size_t k = 0; k < n; k++) {
            a[c * n + k] *= scale;
            inverse[c * n + k] *= scale;
        }
        for (size_t r = 0; r < n; r++) {
            double factor = a[r * n + c];
            if (r == c || factor == 0.0)
                continue;
            for (size_t k = 0; k < n; k++) {
                a[r * n + k] -= factor * a[c * n + k];
                inverse[r * n + k] -= factor * inverse[c * n + k];
            }
        }
    }
    memcpy(a, inverse, n * n * sizeof *a);
    free(inverse);
}

START_TEST(ease_is_the_closed_form)
{
    /* 300 items: three of the factorization's 128-item blocks */
    const size_t n_users = 400, n_items = 300;
    const double lambda = 50.0;
    reco_dataset *data = random_pairs(n_users, n_items, 0.08, 3);
    training_setup setup = item_item_setup(RECO_MODEL_EASE, n_users, n_items);
    RECO_ASSERT_OK(reco_trainer_set_weight_decay(setup.trainer, lambda));
    double loss;
    RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, &loss));
    ck_assert(isnan(loss));
    double *x = dense_of(data, n_users, n_items);
    double *p = calloc(n_items * n_items, sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t u = 0; u < n_users; u++)
        for (size_t i = 0; i < n_items; i++)
            if (x[u * n_items + i] != 0.0)
                for (size_t j = 0; j < n_items; j++)
                    p[i * n_items + j] += x[u * n_items + j];
    for (size_t i = 0; i < n_items; i++)
        p[i * n_items + i] += lambda;
    invert(p, n_items);
    const float *b = setup.model->item_item.weights;
    ck_assert_ptr_nonnull(b);
    double largest_error = 0.0, largest = 0.0;
    for (size_t i = 0; i < n_items; i++)
        for (size_t j = 0; j < n_items; j++) {
            double expected = i == j ? 0.0 : -p[i * n_items + j] / p[j * n_items + j];
            largest = fmax(largest, fabs(expected));
            largest_error = fmax(largest_error, fabs(b[i * n_items + j] - expected));
        }
    ck_assert_double_lt(largest_error, 1e-4 * largest);
    /* a user's score is the sum of B's rows of its items */
    int32_t users[3] = {7, 7, 8}, items[3] = {0, 299, 5};
    float scores[3];
    RECO_ASSERT_OK(reco_model_predict(setup.model, users, items, 3, scores));
    for (int q = 0; q < 3; q++) {
        double expected = 0.0;
        for (size_t j = 0; j < n_items; j++)
            if (x[(size_t)users[q] * n_items + j] != 0.0 && j != (size_t)items[q])
                expected -= p[j * n_items + (size_t)items[q]] / p[(size_t)items[q] * n_items + (size_t)items[q]];
        ck_assert_double_eq_tol(scores[q], expected, 1e-4 * (1.0 + fabs(expected)));
    }
    free(x);
    free(p);
    reco_dataset_free(data);
    training_setup_free(&setup);
}
END_TEST

/* implicit's weights of each pair (user rows of the dense matrix). */
static void reference_weights(const double *x, size_t n_users, size_t n_items,
                              reco_weighting weighting, double k1, double b, double *w)
{
    double total = 0.0;
    double *item_sum = calloc(n_items, sizeof *item_sum), *norm = calloc(n_items, sizeof *norm);
    ck_assert_ptr_nonnull(item_sum);
    ck_assert_ptr_nonnull(norm);
    for (size_t u = 0; u < n_users; u++)
        for (size_t i = 0; i < n_items; i++) {
            item_sum[i] += x[u * n_items + i];
            total += x[u * n_items + i];
        }
    for (size_t u = 0; u < n_users; u++) {
        double count = 0.0;
        for (size_t i = 0; i < n_items; i++)
            count += x[u * n_items + i] != 0.0;
        double idf = log((double)n_items) - log1p(count);
        for (size_t i = 0; i < n_items; i++) {
            double r = x[u * n_items + i], length = 1.0 - b + b * item_sum[i] / (total / n_items);
            double value = r == 0.0 ? 0.0
                           : weighting == RECO_WEIGHTING_COSINE ? r
                           : weighting == RECO_WEIGHTING_TFIDF  ? sqrt(r) * idf
                                                                : r * (k1 + 1.0) / (k1 * length + r) * idf;
            w[u * n_items + i] = value;
            norm[i] += value * value;
        }
    }
    if (weighting != RECO_WEIGHTING_BM25)
        for (size_t u = 0; u < n_users; u++)
            for (size_t i = 0; i < n_items; i++)
                if (norm[i] > 0.0)
                    w[u * n_items + i] /= sqrt(norm[i]);
    free(item_sum);
    free(norm);
}

START_TEST(item_knn_keeps_each_items_k_nearest_by_implicits_weights)
{
    const size_t n_users = 60, n_items = 40, k = 7;
    reco_dataset *data = random_pairs(n_users, n_items, 0.15, 5);
    double *x = dense_of(data, n_users, n_items), *w = malloc(n_users * n_items * sizeof *w);
    ck_assert_ptr_nonnull(w);
    /* each weighting, and BM25 with K1 and B of its own too */
    const struct {
        reco_weighting weighting;
        double k1, b;
    } cases[] = {{RECO_WEIGHTING_COSINE, 1.2, 0.75}, {RECO_WEIGHTING_TFIDF, 1.2, 0.75},
                 {RECO_WEIGHTING_BM25, 1.2, 0.75}, {RECO_WEIGHTING_BM25, 3.0, 0.3}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int weighting = (int)cases[c].weighting;
        training_setup setup = item_item_setup(RECO_MODEL_ITEM_KNN, n_users, n_items);
        RECO_ASSERT_OK(reco_trainer_set_neighbours(setup.trainer, k, (reco_weighting)weighting));
        if (c == 3)
            RECO_ASSERT_OK(reco_trainer_set_bm25(setup.trainer, cases[c].k1, cases[c].b));
        RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, NULL));
        reference_weights(x, n_users, n_items, (reco_weighting)weighting, cases[c].k1, cases[c].b, w);
        const reco_sparse_rows *neighbours = &setup.model->item_item.neighbours;
        for (size_t i = 0; i < n_items; i++) {
            double s[40];
            int shares[40];
            for (size_t j = 0; j < n_items; j++) {
                s[j] = 0.0;
                shares[j] = 0;
                for (size_t u = 0; u < n_users; u++) {
                    s[j] += w[u * n_items + i] * w[u * n_items + j];
                    shares[j] |= x[u * n_items + i] != 0.0 && x[u * n_items + j] != 0.0;
                }
            }
            /* the k largest among items that share a user (i itself
             * included): as many as that, none below the k-th largest
             * (float weights may order near-ties otherwise) */
            double sorted[40];
            size_t sharing = 0;
            for (size_t j = 0; j < n_items; j++)
                if (shares[j])
                    sorted[sharing++] = s[j];
            for (size_t a = 0; a < sharing; a++)
                for (size_t b = a + 1; b < sharing; b++)
                    if (sorted[b] > sorted[a]) {
                        double swap = sorted[a];
                        sorted[a] = sorted[b];
                        sorted[b] = swap;
                    }
            size_t expected = sharing < k ? sharing : k;
            ck_assert_uint_eq(neighbours->offsets[i + 1] - neighbours->offsets[i], expected);
            for (size_t e = neighbours->offsets[i]; e < neighbours->offsets[i + 1]; e++) {
                int32_t j = neighbours->columns[e];
                ck_assert_msg(shares[j] && s[j] >= sorted[expected - 1] - 1e-5,
                              "weighting %d: item %zu keeps %d", weighting, i, (int)j);
                ck_assert_double_eq_tol(neighbours->values[e], s[j], 1e-5 * (1.0 + fabs(s[j])));
                if (e > neighbours->offsets[i])
                    ck_assert_int_gt(j, neighbours->columns[e - 1]);
            }
        }
        /* a user's score: its items' rows summed */
        int32_t user = 3, item = 11;
        float score;
        RECO_ASSERT_OK(reco_model_predict(setup.model, &user, &item, 1, &score));
        double expected = 0.0;
        for (size_t j = 0; j < n_items; j++) {
            if (x[(size_t)user * n_items + j] == 0.0)
                continue;
            for (size_t e = neighbours->offsets[j]; e < neighbours->offsets[j + 1]; e++)
                if (neighbours->columns[e] == item)
                    expected += neighbours->values[e];
        }
        ck_assert_double_eq_tol(score, expected, 1e-5 * (1.0 + fabs(expected)));
        training_setup_free(&setup);
    }
    free(x);
    free(w);
    reco_dataset_free(data);
}
END_TEST

/* A fitted model's bytes: B, or the neighbours' columns and values. */
static void fitted_on(reco_model_kind kind, const reco_dataset *data, size_t threads,
                      float **values, size_t *n_values, int32_t **columns)
{
    training_setup setup = item_item_setup(kind, 200, 150);
    RECO_ASSERT_OK(reco_backend_set_threads(setup.backend, threads));
    RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, NULL));
    reco_item_item *fitted = &setup.model->item_item;
    if (kind == RECO_MODEL_EASE) {
        *n_values = 150 * 150;
        *values = fitted->weights;
        fitted->weights = NULL;
        *columns = NULL;
    } else {
        *n_values = fitted->neighbours.offsets[fitted->neighbours.n_rows];
        *values = fitted->neighbours.values;
        *columns = fitted->neighbours.columns;
        fitted->neighbours.values = NULL;
        fitted->neighbours.columns = NULL;
    }
    training_setup_free(&setup);
}

START_TEST(thread_counts_give_the_same_bytes)
{
    reco_dataset *data = random_pairs(200, 150, 0.1, 9);
    for (int kind = RECO_MODEL_EASE; kind <= RECO_MODEL_ITEM_KNN; kind++) {
        float *one;
        int32_t *one_columns;
        size_t n;
        fitted_on((reco_model_kind)kind, data, 1, &one, &n, &one_columns);
        for (size_t threads = 2; threads <= 3; threads++) {
            float *many;
            int32_t *many_columns;
            size_t n_many;
            fitted_on((reco_model_kind)kind, data, threads, &many, &n_many, &many_columns);
            ck_assert_uint_eq(n_many, n);
            ck_assert_msg(memcmp(one, many, n * sizeof *one) == 0, "kind %d, %zu threads", kind,
                          threads);
            if (one_columns)
                ck_assert_mem_eq(one_columns, many_columns, n * sizeof *one_columns);
            free(many);
            free(many_columns);
        }
        free(one);
        free(one_columns);
    }
    reco_dataset_free(data);
}
END_TEST

START_TEST(files_fold_in_and_serving)
{
    reco_dataset *data = random_pairs(80, 60, 0.1, 11);
    for (int kind = RECO_MODEL_EASE; kind <= RECO_MODEL_ITEM_KNN; kind++) {
        training_setup setup = item_item_setup((reco_model_kind)kind, 80, 60);
        if (kind == RECO_MODEL_ITEM_KNN)
            RECO_ASSERT_OK(reco_trainer_set_neighbours(setup.trainer, 9, RECO_WEIGHTING_TFIDF));
        RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, NULL));
        RECO_ASSERT_OK(reco_model_set_vocabulary(setup.model, data));
        const char *path = temp_path("item_item.reco");
        RECO_ASSERT_OK(reco_model_save(setup.model, path));
        reco_model *loaded;
        RECO_ASSERT_OK(reco_model_load(path, setup.backend, &loaded));
        ck_assert_int_eq(reco_model_kind_of(loaded), kind);
        int32_t items[10], again[10];
        float scores[10], scores_again[10];
        size_t n, n_again;
        RECO_ASSERT_OK(reco_model_recommend(setup.model, 4, 10, data, items, scores, &n));
        RECO_ASSERT_OK(reco_model_recommend(loaded, 4, 10, data, again, scores_again, &n_again));
        ck_assert_uint_eq(n, n_again);
        ck_assert_mem_eq(items, again, n * sizeof *items);
        ck_assert_mem_eq(scores, scores_again, n * sizeof *scores);
        if (kind == RECO_MODEL_ITEM_KNN) {
            ck_assert_uint_eq(loaded->item_item.k, 9);
            ck_assert_int_eq(loaded->item_item.weighting, RECO_WEIGHTING_TFIDF);
        }
        /* a folded-in user who had user 4's items scores as user 4 */
        const reco_sparse_rows *history = &setup.model->history;
        const int32_t *had = history->columns + history->offsets[4];
        size_t n_had = history->offsets[5] - history->offsets[4];
        int32_t user;
        RECO_ASSERT_OK(reco_model_fold_in(loaded, had, n_had, 0, 0, &user));
        ck_assert_int_eq(user, 80);
        int32_t pair_users[2] = {4, 80}, pair_items[2] = {items[0], items[0]};
        float pair_scores[2];
        RECO_ASSERT_OK(reco_model_predict(loaded, pair_users, pair_items, 2, pair_scores));
        ck_assert_float_eq(pair_scores[0], pair_scores[1]);
        /* no embeddings; similar items from the item-item weights */
        ck_assert_uint_eq(reco_model_embedding_dim(loaded), 0);
        float embedding[1];
        EXPECT_STATUS(reco_model_get_item_embeddings(loaded, embedding), RECO_ERR_STATE,
                      "no embeddings");
        EXPECT_STATUS(reco_model_similar_users(loaded, 0, 3, items, scores, &n), RECO_ERR_STATE,
                      "no user embeddings");
        RECO_ASSERT_OK(reco_model_similar_items(loaded, 2, 3, items, scores, &n));
        ck_assert_uint_ge(n, 1);
        ck_assert_int_ne(items[0], 2);
        /* every truncation of the file is refused, none crashes */
        FILE *file = fopen(path, "rb");
        ck_assert_ptr_nonnull(file);
        static unsigned char bytes[1 << 16];
        size_t size = fread(bytes, 1, sizeof bytes, file);
        fclose(file);
        ck_assert_uint_lt(size, sizeof bytes);
        for (size_t cut = 0; cut < size; cut += 1 + size / 97) {
            reco_model *broken = NULL;
            ck_assert_int_eq(reco_model_load(write_temp_file("cut.reco", bytes, cut),
                                             setup.backend, &broken),
                             RECO_ERR_FORMAT);
            ck_assert_ptr_null(broken);
        }
        reco_model_free(loaded);
        training_setup_free(&setup);
    }
    reco_dataset_free(data);
}
END_TEST

/* Serving threads: each recommends for every user and compares with the
 * lists made on one thread first. */
typedef struct serving_job {
    const reco_model *model;
    const reco_dataset *exclude;
    const int32_t *expected; /* n_users x 10 */
    size_t n_users;
    int mismatches;
} serving_job;

static void *serve(void *argument)
{
    serving_job *job = argument;
    for (int round = 0; round < 3; round++)
        for (size_t u = 0; u < job->n_users; u++) {
            int32_t items[10];
            float scores[10];
            size_t n;
            if (reco_model_recommend(job->model, (int32_t)u, 10, job->exclude, items, scores, &n) !=
                    RECO_OK ||
                memcmp(items, job->expected + u * 10, n * sizeof *items) != 0)
                job->mismatches++;
        }
    return NULL;
}

START_TEST(many_threads_serve_one_model)
{
    reco_dataset *data = random_pairs(120, 90, 0.1, 13);
    for (int kind = RECO_MODEL_EASE; kind <= RECO_MODEL_ITEM_KNN; kind++) {
        training_setup setup = item_item_setup((reco_model_kind)kind, 120, 90);
        RECO_ASSERT_OK(reco_trainer_epoch(setup.trainer, data, NULL));
        int32_t *expected = calloc(120 * 10, sizeof *expected);
        ck_assert_ptr_nonnull(expected);
        for (size_t u = 0; u < 120; u++) {
            float scores[10];
            size_t n;
            RECO_ASSERT_OK(reco_model_recommend(setup.model, (int32_t)u, 10, data,
                                                expected + u * 10, scores, &n));
        }
        serving_job jobs[4];
        pthread_t threads[4];
        for (int t = 0; t < 4; t++) {
            jobs[t] = (serving_job){setup.model, data, expected, 120, 0};
            ck_assert_int_eq(pthread_create(&threads[t], NULL, serve, &jobs[t]), 0);
        }
        for (int t = 0; t < 4; t++) {
            pthread_join(threads[t], NULL);
            ck_assert_int_eq(jobs[t].mismatches, 0);
        }
        free(expected);
        training_setup_free(&setup);
    }
    reco_dataset_free(data);
}
END_TEST

START_TEST(settings_memory_and_backends_are_checked)
{
    training_setup mf = training_setup_new(open_backend("cpu"), RECO_MODEL_MF, 5, 5, 1);
    EXPECT_STATUS(reco_trainer_set_neighbours(mf.trainer, 10, RECO_WEIGHTING_BM25),
                  RECO_ERR_STATE, "item-kNN setting");
    training_setup_free(&mf);
    training_setup knn = item_item_setup(RECO_MODEL_ITEM_KNN, 5, 5);
    ck_assert_int_eq(reco_trainer_set_neighbours(knn.trainer, 0, RECO_WEIGHTING_BM25),
                     RECO_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(reco_trainer_set_neighbours(knn.trainer, 5, (reco_weighting)3),
                     RECO_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(reco_trainer_set_bm25(knn.trainer, 1.2, 1.5), RECO_ERR_INVALID_ARGUMENT, "B");
    training_setup_free(&knn);

    /* EASE on three million items is refused before it allocates */
    const int64_t users[] = {0, 1}, items[] = {0, 1};
    reco_dataset *data;
    RECO_ASSERT_OK(reco_dataset_from_arrays(users, items, NULL, NULL, 2, &data));
    training_setup huge = item_item_setup(RECO_MODEL_EASE, 2, 3000000);
    EXPECT_STATUS(reco_trainer_epoch(huge.trainer, data, NULL), RECO_ERR_OUT_OF_MEMORY,
                  "EASE on 3000000 items needs");
    training_setup_free(&huge);

    reco_backend *cpu = open_backend("cpu");
    static reco_backend_ops lacking;
    lacking = *cpu->ops;
    lacking.name = "no-item-item";
    lacking.kernels.ease_fit = NULL;
    lacking.kernels.item_neighbours = NULL;
    RECO_ASSERT_OK(reco_backend_register(&lacking));
    reco_backend_free(cpu);
    for (int kind = RECO_MODEL_EASE; kind <= RECO_MODEL_ITEM_KNN; kind++) {
        training_setup setup = {open_backend("no-item-item"), NULL, NULL};
        RECO_ASSERT_OK(reco_model_new((reco_model_kind)kind, 2, 2, &setup.model));
        RECO_ASSERT_OK(reco_model_init(setup.model, setup.backend, 1));
        RECO_ASSERT_OK(reco_trainer_new(setup.model, &setup.trainer));
        EXPECT_STATUS(reco_trainer_epoch(setup.trainer, data, NULL),
                      RECO_ERR_BACKEND_UNAVAILABLE, "cannot fit");
        training_setup_free(&setup);
    }
    reco_dataset_free(data);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("item_item");
    TCase *tc = test_case(suite, "item_item");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ease_is_the_closed_form);
    tcase_add_test(tc, item_knn_keeps_each_items_k_nearest_by_implicits_weights);
    tcase_add_test(tc, thread_counts_give_the_same_bytes);
    tcase_add_test(tc, files_fold_in_and_serving);
    tcase_add_test(tc, many_threads_serve_one_model);
    tcase_add_test(tc, settings_memory_and_backends_are_checked);
    return run_suite(suite);
}

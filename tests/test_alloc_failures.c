/* Allocation failures are survivable: every public call that allocates is
 * run with its 1st, 2nd, ... allocation failing (reco_alloc_fail_at, the
 * internal hook of lib/alloc.c, as SQLite's test_malloc.c does) until it
 * runs through. Each failure must return RECO_ERR_OUT_OF_MEMORY with a
 * detail, leave the objects passed in as they were (checked after every
 * failure) and leak nothing (the sanitized build's LeakSanitizer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "reco_alloc.h"

/* Runs `call` with the n-th allocation failing for n = 1, 2, ... until n is
 * past every allocation the call makes. A failing run must say "out of
 * memory" and then pass `after_failure`; a run that absorbed its failure
 * and succeeded, and the final run, are undone by `after_success`. */
#define WALK_FAILURES(call, after_failure, after_success)                                  \
    for (size_t n_ = 1;; n_++) {                                                           \
        reco_alloc_fail_at(n_);                                                            \
        reco_status status_ = (call);                                                      \
        size_t made_ = reco_alloc_fail_at(0);                                              \
        if (status_ != RECO_OK) {                                                          \
            ck_assert_msg(made_ >= n_, "%s failed with no allocation failing: %s: %s",     \
                          #call, reco_status_string(status_), reco_last_error());          \
            ck_assert_msg(status_ == RECO_ERR_OUT_OF_MEMORY,                               \
                          "%s with allocation %zu failing: %s: %s", #call, n_,             \
                          reco_status_string(status_), reco_last_error());                 \
            ck_assert_msg(reco_last_error()[0] != '\0', "%s: no detail", #call);           \
            after_failure;                                                                 \
            continue;                                                                      \
        }                                                                                  \
        after_success;                                                                     \
        if (made_ < n_)                                                                    \
            break;                                                                         \
    }

/* Several statements as one macro argument. */
#define STEPS(...)                                                                         \
    do {                                                                                   \
        __VA_ARGS__                                                                        \
    } while (0)

/* A digest of a dataset's rows, to see that a failed call left it alone. */
static uint64_t dataset_digest(const reco_dataset *dataset)
{
    uint64_t digest = reco_dataset_size(dataset) * 0x9e3779b97f4a7c15ull;
    const int32_t *users = reco_dataset_users(dataset), *items = reco_dataset_items(dataset);
    for (size_t i = 0; i < reco_dataset_size(dataset); i++)
        digest = (digest ^ (uint64_t)users[i] ^ ((uint64_t)items[i] << 32)) * 0x100000001b3ull;
    return digest;
}

/* A model's parameters, copied out (the caller frees them). */
static float *parameters_of(const reco_model *model)
{
    size_t count = reco_model_parameter_count(model);
    float *values = malloc(count * sizeof *values);
    ck_assert_ptr_nonnull(values);
    RECO_ASSERT_OK(reco_model_get_parameters(model, values));
    return values;
}

static void assert_parameters_unchanged(const reco_model *model, const float *before)
{
    float *now = parameters_of(model);
    ck_assert_int_eq(memcmp(now, before, reco_model_parameter_count(model) * sizeof *now), 0);
    free(now);
}

/* A synthetic leave-one-out split with 10 test negatives a row. */
static loo_split small_split(void)
{
    loo_split split;
    RECO_ASSERT_OK(reco_dataset_synthetic(30, 40, 400, 7, &split.all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(split.all, &split.train, &split.test));
    RECO_ASSERT_OK(reco_dataset_sample_test_negatives(split.test, split.all, 10, 8));
    return split;
}

/* A small trained NeuMF on a synthetic leave-one-out split. */
typedef struct trained {
    loo_split split;
    training_setup setup;
} trained;

static trained trained_neumf(void)
{
    trained t;
    t.split = small_split();
    t.setup = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF,
                                 reco_dataset_n_users(t.split.all),
                                 reco_dataset_n_items(t.split.all), 3);
    RECO_ASSERT_OK(reco_trainer_fit(t.setup.trainer, t.split.train, 1));
    RECO_ASSERT_OK(reco_model_set_vocabulary(t.setup.model, t.split.all));
    return t;
}

static void trained_free(trained *t)
{
    training_setup_free(&t->setup);
    loo_split_free(&t->split);
}

START_TEST(readers_and_constructors)
{
    static const char *files[] = {"ratings.dat", "ratings.csv", "u.data", "pairs.tsv"};
    reco_dataset *out = NULL;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        WALK_FAILURES(reco_dataset_read(fixture(files[f]), RECO_FORMAT_AUTO, &out),
                      ck_assert_ptr_null(out), reco_dataset_free(out));
    static const int64_t users[] = {5, 5, 9, 12}, items[] = {1, 2, 1, 3};
    static const float ratings[] = {4, 3, 5, 1};
    static const int64_t times[] = {10, 20, 30, 40};
    WALK_FAILURES(reco_dataset_from_arrays(users, items, ratings, times, 4, &out),
                  ck_assert_ptr_null(out), reco_dataset_free(out));
    WALK_FAILURES(reco_dataset_synthetic(20, 15, 120, 1, &out), ck_assert_ptr_null(out),
                  reco_dataset_free(out));
    reco_dataset *base = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &base));
    WALK_FAILURES(reco_dataset_read_shared(fixture("ratings.dat"), RECO_FORMAT_AUTO, base, &out),
                  ck_assert_ptr_null(out), reco_dataset_free(out));
    reco_dataset_free(base);
}
END_TEST

START_TEST(transforms_and_splits)
{
    reco_dataset *data = NULL, *a = NULL, *b = NULL, *c = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(20, 15, 150, 2, &data));
    uint64_t digest = dataset_digest(data);
    WALK_FAILURES(reco_dataset_binarize(data, 3.5f, &a),
                  STEPS(ck_assert_ptr_null(a); ck_assert(dataset_digest(data) == digest);),
                  reco_dataset_free(a));
    WALK_FAILURES(reco_dataset_scale_ratings(data, 0.2f, &a),
                  STEPS(ck_assert_ptr_null(a); ck_assert(dataset_digest(data) == digest);),
                  reco_dataset_free(a));
    WALK_FAILURES(reco_dataset_split_leave_one_out(data, &a, &b),
                  STEPS(ck_assert_ptr_null(a); ck_assert_ptr_null(b);
                        ck_assert(dataset_digest(data) == digest);),
                  STEPS(reco_dataset_free(a); reco_dataset_free(b);));
    WALK_FAILURES(reco_dataset_split_random(data, 0.2, 5, RECO_SPLIT_STRATIFY, &a, &b),
                  STEPS(ck_assert_ptr_null(a); ck_assert_ptr_null(b);),
                  STEPS(reco_dataset_free(a); reco_dataset_free(b);));
    WALK_FAILURES(reco_dataset_split_three_way(data, 0.2, 0.2, 5, 0, &a, &b, &c),
                  STEPS(ck_assert_ptr_null(a); ck_assert_ptr_null(b); ck_assert_ptr_null(c);),
                  STEPS(reco_dataset_free(a); reco_dataset_free(b); reco_dataset_free(c);));
    ck_assert(dataset_digest(data) == digest);
    reco_dataset_free(data);
}
END_TEST

START_TEST(negatives_and_titles)
{
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    RECO_ASSERT_OK(reco_dataset_synthetic(20, 15, 150, 3, &all));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &train, &test));
    size_t count = 0;
    WALK_FAILURES(reco_dataset_sample_test_negatives(test, all, 5, 9),
                  ck_assert_ptr_null(reco_dataset_test_negatives(test, 0, &count)), (void)0);
    ck_assert_ptr_nonnull(reco_dataset_test_negatives(test, 0, &count));
    ck_assert_uint_eq(count, 5);
    size_t rows = reco_dataset_size(train);
    int32_t *negatives = malloc(rows * 4 * sizeof *negatives);
    ck_assert_ptr_nonnull(negatives);
    /* a new dataset each run: its item lists are built (and kept) by the call */
    for (size_t n = 1;; n++) {
        reco_dataset *fresh = NULL, *held_out = NULL;
        RECO_ASSERT_OK(reco_dataset_split_leave_one_out(all, &fresh, &held_out));
        reco_dataset_free(held_out);
        reco_alloc_fail_at(n);
        reco_status status = reco_dataset_sample_negatives(fresh, 4, 1, 0, negatives);
        size_t made = reco_alloc_fail_at(0);
        reco_dataset_free(fresh);
        if (made < n) {
            RECO_ASSERT_OK(status);
            break;
        }
        ck_assert_int_eq(status, RECO_ERR_OUT_OF_MEMORY);
    }
    free(negatives);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(all);

    reco_dataset *ratings = NULL, *loo_train = NULL, *loo_test = NULL;
    RECO_ASSERT_OK(reco_dataset_read(fixture("ratings.dat"), RECO_FORMAT_AUTO, &ratings));
    WALK_FAILURES(reco_dataset_read_titles(ratings, fixture("movies.dat")),
                  ck_assert_ptr_null(reco_dataset_item_title(ratings, 0)), (void)0);
    ck_assert_ptr_nonnull(reco_dataset_item_title(ratings, 0));
    RECO_ASSERT_OK(reco_dataset_split_leave_one_out(ratings, &loo_train, &loo_test));
    WALK_FAILURES(reco_dataset_read_test_negatives(loo_test, fixture("ratings.negative")),
                  ck_assert_ptr_null(reco_dataset_test_negatives(loo_test, 0, &count)), (void)0);
    ck_assert_ptr_nonnull(reco_dataset_test_negatives(loo_test, 0, &count));
    reco_dataset_free(loo_train);
    reco_dataset_free(loo_test);
    reco_dataset_free(ratings);
}
END_TEST

START_TEST(backends_models_and_files)
{
    reco_backend *backend = NULL;
    WALK_FAILURES(reco_backend_open("cpu", &backend), ck_assert_ptr_null(backend),
                  reco_backend_free(backend));
    RECO_ASSERT_OK(reco_backend_open("cpu", &backend));
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 2));
    WALK_FAILURES(reco_backend_set_threads(backend, 3),
                  ck_assert_uint_eq(reco_backend_threads(backend), 2),
                  RECO_ASSERT_OK(reco_backend_set_threads(backend, 2)));
    reco_model *model = NULL;
    WALK_FAILURES(reco_model_new(RECO_MODEL_NEUMF, 12, 9, &model), ck_assert_ptr_null(model),
                  reco_model_free(model));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_NEUMF, 12, 9, &model));
    int32_t user = 0, item = 0;
    float score;
    /* a failed init leaves the model uninitialized, and it may try again */
    WALK_FAILURES(reco_model_init(model, backend, 4),
                  ck_assert_int_eq(reco_model_predict(model, &user, &item, 1, &score),
                                   RECO_ERR_STATE),
                  (void)0);
    RECO_ASSERT_OK(reco_model_predict(model, &user, &item, 1, &score));
    reco_model_free(model);

    trained t = trained_neumf();
    reco_model *trained_model = t.setup.model;
    float *before = parameters_of(trained_model);
    const char *path = temp_path("model.reco");
    WALK_FAILURES(reco_model_save(trained_model, path),
                  ck_assert_int_ne(access(path, F_OK), 0), remove(path));
    RECO_ASSERT_OK(reco_model_save(trained_model, path));
    reco_model *loaded = NULL;
    WALK_FAILURES(reco_model_load(path, backend, &loaded), ck_assert_ptr_null(loaded),
                  reco_model_free(loaded));
    WALK_FAILURES(reco_model_set_vocabulary(trained_model, t.split.all), (void)0, (void)0);
    reco_model *gmf = NULL, *mlp = NULL, *neumf = NULL;
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_GMF, 12, 9, &gmf));
    RECO_ASSERT_OK(reco_model_init(gmf, backend, 1));
    RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MLP, 12, 9, &mlp));
    RECO_ASSERT_OK(reco_model_init(mlp, backend, 2));
    WALK_FAILURES(reco_model_neumf_from_pretrained(gmf, mlp, 0.5f, &neumf),
                  ck_assert_ptr_null(neumf), reco_model_free(neumf));
    assert_parameters_unchanged(trained_model, before);
    free(before);
    reco_model_free(gmf);
    reco_model_free(mlp);
    reco_backend_free(backend);
    trained_free(&t);
}
END_TEST

START_TEST(training)
{
    loo_split split = small_split();
    training_setup setup = training_setup_new(open_backend("cpu"), RECO_MODEL_NEUMF,
                                              reco_dataset_n_users(split.all),
                                              reco_dataset_n_items(split.all), 3);
    reco_trainer *trainer = NULL;
    WALK_FAILURES(reco_trainer_new(setup.model, &trainer), ck_assert_ptr_null(trainer),
                  reco_trainer_free(trainer));
    static const reco_optimizer optimizers[] = {RECO_OPTIMIZER_ADAM, RECO_OPTIMIZER_SGD,
                                                RECO_OPTIMIZER_ADAGRAD};
    for (size_t o = 0; o < sizeof optimizers / sizeof *optimizers; o++) {
        RECO_ASSERT_OK(reco_trainer_new(setup.model, &trainer));
        RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, optimizers[o]));
        float *before = parameters_of(setup.model);
        double loss;
        /* a failed epoch has not stepped the model */
        WALK_FAILURES(reco_trainer_epoch(trainer, split.train, &loss),
                      assert_parameters_unchanged(setup.model, before),
                      STEPS(free(before); before = parameters_of(setup.model);));
        free(before);
        reco_trainer_free(trainer);
    }
    RECO_ASSERT_OK(reco_trainer_new(setup.model, &trainer));
    RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_BPR));
    WALK_FAILURES(reco_trainer_fit(trainer, split.train, 1), (void)0, (void)0);
    reco_trainer_free(trainer);
    training_setup_free(&setup);
    loo_split_free(&split);
}
END_TEST

/* Biased MF on ratings, rating by rating (mf_epoch, its packed ratings) on
 * 1 and 2 threads and in batches: a failed epoch has not moved the model,
 * the global bias's start at the mean included. */
START_TEST(training_biased_mf)
{
    loo_split split = small_split();
    reco_backend *backend = open_backend("cpu");
    static const size_t batch_sizes[] = {1, 1, 16}, threads[] = {1, 2, 2};
    for (size_t run = 0; run < 3; run++) {
        reco_model *model;
        RECO_ASSERT_OK(reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(split.all),
                                      reco_dataset_n_items(split.all), &model));
        RECO_ASSERT_OK(reco_model_set_biases(model, 1));
        RECO_ASSERT_OK(reco_model_init(model, backend, 3));
        reco_trainer *trainer;
        RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
        RECO_ASSERT_OK(reco_trainer_set_loss(trainer, RECO_LOSS_MSE));
        RECO_ASSERT_OK(reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_SGD));
        RECO_ASSERT_OK(reco_trainer_set_batch_size(trainer, batch_sizes[run]));
        RECO_ASSERT_OK(reco_trainer_set_threads(trainer, threads[run]));
        float *before = parameters_of(model);
        double loss;
        WALK_FAILURES(reco_trainer_epoch(trainer, split.train, &loss),
                      assert_parameters_unchanged(model, before),
                      STEPS(free(before); before = parameters_of(model);));
        free(before);
        reco_trainer_free(trainer);
        reco_model_free(model);
    }
    reco_backend_free(backend);
    loo_split_free(&split);
}
END_TEST

START_TEST(serving_and_metrics)
{
    trained t = trained_neumf();
    reco_model *model = t.setup.model;
    float *before = parameters_of(model);
    int32_t users[3] = {0, 1, 2}, items[30], pair_items[3] = {0, 1, 2};
    float scores[30];
    size_t counts[3], n = 0;
    WALK_FAILURES(reco_model_predict(model, users, pair_items, 3, scores), (void)0, (void)0);
    WALK_FAILURES(reco_model_recommend(model, 1, 5, t.split.train, items, scores, &n), (void)0,
                  (void)0);
    WALK_FAILURES(
        reco_model_recommend_batch(model, users, 3, 5, t.split.train, items, scores, counts),
        (void)0, (void)0);
    WALK_FAILURES(reco_model_similar_items(model, 2, 5, items, scores, &n), (void)0, (void)0);
    size_t n_users = reco_model_n_users(model);
    int32_t liked[3] = {1, 4, 6}, new_user = -1;
    WALK_FAILURES(reco_model_fold_in(model, liked, 3, 5, 11, &new_user),
                  STEPS(ck_assert_uint_eq(reco_model_n_users(model), n_users);
                        assert_parameters_unchanged(model, before);),
                  (void)0);
    ck_assert_int_eq(new_user, (int32_t)n_users);
    reco_metrics *metrics = NULL;
    WALK_FAILURES(reco_metrics_new(&metrics), ck_assert_ptr_null(metrics),
                  reco_metrics_free(metrics));
    RECO_ASSERT_OK(reco_metrics_new(&metrics));
    WALK_FAILURES(reco_metrics_evaluate_sampled(metrics, model, t.split.test), (void)0,
                  reco_metrics_reset(metrics));
    WALK_FAILURES(reco_metrics_evaluate_ranking(metrics, model, t.split.test, t.split.train),
                  (void)0, reco_metrics_reset(metrics));
    WALK_FAILURES(reco_metrics_evaluate_ratings(metrics, model, t.split.test), (void)0,
                  reco_metrics_reset(metrics));
    reco_metrics_free(metrics);
    free(before);
    trained_free(&t);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("alloc_failures");
    TCase *tcase = test_case(suite, "every allocation may fail");
    tcase_set_timeout(tcase, 300);
    tcase_add_test(tcase, readers_and_constructors);
    tcase_add_test(tcase, transforms_and_splits);
    tcase_add_test(tcase, negatives_and_titles);
    tcase_add_test(tcase, backends_models_and_files);
    tcase_add_test(tcase, training);
    tcase_add_test(tcase, training_biased_mf);
    tcase_add_test(tcase, serving_and_metrics);
    return run_suite(suite);
}

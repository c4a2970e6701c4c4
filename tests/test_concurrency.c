/* The concurrency contract (include/reco/common.h), under load: one trained
 * model served by several threads while another thread trains a second
 * model on the same backend and a third changes the backend's threads;
 * trainers on one backend sharing one training set; every answer equal to
 * the single-threaded one. CI runs this suite under ThreadSanitizer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define SERVERS 4
#define ROUNDS 12
#define TOP_K 10

/* What one request returns, to compare bit for bit. */
typedef struct answers {
    int32_t recommended[TOP_K];
    float recommended_scores[TOP_K];
    size_t n_recommended;
    int32_t similar[TOP_K];
    float similarities[TOP_K];
    size_t n_similar;
    float predicted[8];
    double hr, ndcg;
} answers;

typedef struct served {
    const reco_model *model;
    const reco_dataset *train;
    const reco_dataset *test;
} served;

/* Answers the requests of user `user`; 0 on success. */
static int answer(const served *s, int32_t user, answers *out)
{
    memset(out, 0, sizeof *out);
    int32_t users[8], items[8];
    for (int i = 0; i < 8; i++) {
        users[i] = user;
        items[i] = (user * 7 + i * 5) % (int32_t)reco_model_n_items(s->model);
    }
    reco_metrics *metrics = NULL;
    int failed =
        reco_model_recommend(s->model, user, TOP_K, s->train, out->recommended,
                             out->recommended_scores, &out->n_recommended) != RECO_OK ||
        reco_model_similar_items(s->model, user % (int32_t)reco_model_n_items(s->model), TOP_K,
                                 out->similar, out->similarities, &out->n_similar) != RECO_OK ||
        reco_model_predict(s->model, users, items, 8, out->predicted) != RECO_OK ||
        reco_metrics_new(&metrics) != RECO_OK ||
        reco_metrics_evaluate_sampled(metrics, s->model, s->test) != RECO_OK ||
        reco_metrics_get(metrics, RECO_METRIC_HR, &out->hr) != RECO_OK ||
        reco_metrics_get(metrics, RECO_METRIC_NDCG, &out->ndcg) != RECO_OK;
    reco_metrics_free(metrics);
    return failed;
}

typedef struct server {
    pthread_t thread;
    const served *served;
    const answers *expected; /* per user */
    size_t n_users;
    size_t offset;
    int mismatches;
    int failures;
} server;

static void *serve(void *opaque)
{
    server *self = opaque;
    for (size_t round = 0; round < ROUNDS; round++) {
        int32_t user = (int32_t)((self->offset + round * 5) % self->n_users);
        answers got;
        if (answer(self->served, user, &got)) {
            self->failures++;
            continue;
        }
        if (memcmp(&got, &self->expected[user], sizeof got) != 0)
            self->mismatches++;
    }
    return NULL;
}

typedef struct trainer_job {
    pthread_t thread;
    reco_backend *backend;
    const reco_dataset *train;
    reco_model_kind kind;
    int per_rating;    /* MF with MSE rating by rating (batch size 1, SGD) */
    float *parameters; /* out: the trained model's parameters */
    size_t n_parameters;
    reco_status status;
} trainer_job;

static void *run_trainer(void *opaque)
{
    trainer_job *job = opaque;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    job->status = reco_model_new(job->kind, reco_dataset_n_users(job->train),
                                 reco_dataset_n_items(job->train), &model);
    if (job->status == RECO_OK)
        job->status = reco_model_init(model, job->backend, 5);
    if (job->status == RECO_OK)
        job->status = reco_trainer_new(model, &trainer);
    if (job->status == RECO_OK && job->per_rating)
        job->status = reco_trainer_set_loss(trainer, RECO_LOSS_MSE);
    if (job->status == RECO_OK && job->per_rating)
        job->status = reco_trainer_set_optimizer(trainer, RECO_OPTIMIZER_SGD);
    if (job->status == RECO_OK && job->per_rating)
        job->status = reco_trainer_set_batch_size(trainer, 1);
    if (job->status == RECO_OK)
        job->status = reco_trainer_fit(trainer, job->train, 2);
    if (job->status == RECO_OK) {
        job->n_parameters = reco_model_parameter_count(model);
        job->parameters = malloc(job->n_parameters * sizeof *job->parameters);
        job->status = job->parameters ? reco_model_get_parameters(model, job->parameters)
                                      : RECO_ERR_OUT_OF_MEMORY;
    }
    reco_trainer_free(trainer);
    reco_model_free(model);
    return NULL;
}

typedef struct thread_changer {
    pthread_t thread;
    reco_backend *backend;
    int stop;
    pthread_mutex_t lock;
} thread_changer;

static void *change_threads(void *opaque)
{
    thread_changer *self = opaque;
    for (size_t round = 0;; round++) {
        pthread_mutex_lock(&self->lock);
        int stop = self->stop;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            return NULL;
        reco_backend_set_threads(self->backend, 1 + round % 3);
    }
}

static reco_model *trained_model(reco_backend *backend, reco_model_kind kind,
                                 const reco_dataset *train)
{
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    RECO_ASSERT_OK(reco_model_new(kind, reco_dataset_n_users(train), reco_dataset_n_items(train),
                                  &model));
    RECO_ASSERT_OK(reco_model_init(model, backend, 9));
    RECO_ASSERT_OK(reco_trainer_new(model, &trainer));
    RECO_ASSERT_OK(reco_trainer_fit(trainer, train, 2));
    reco_trainer_free(trainer);
    return model;
}

/* The model trained beside the servers against one trained alone on a
 * backend of 2 threads. Without churn: the same bits. With the threads
 * changing under it, each epoch ran on the 1, 2 or 3 slices the backend had
 * as it began, which sum in other orders: float rounding apart (alone at 1
 * and 3 threads it ends 6e-8 from 2, relative). */
static void expect_as_trained_alone(const trainer_job *beside, int churn)
{
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 2));
    trainer_job alone = {.backend = backend, .train = beside->train, .kind = beside->kind};
    run_trainer(&alone);
    RECO_ASSERT_OK(alone.status);
    ck_assert_uint_eq(alone.n_parameters, beside->n_parameters);
    double error = relative_error(alone.parameters, beside->parameters, alone.n_parameters);
    if (churn)
        ck_assert_msg(error < 1e-5, "trained beside the servers: parameters %g from alone", error);
    else
        ck_assert_msg(
            memcmp(alone.parameters, beside->parameters, alone.n_parameters * sizeof(float)) == 0,
            "trained beside the servers: other bits (relative error %g)", error);
    free(alone.parameters);
    reco_backend_free(backend);
}

/* Serves `kind` from SERVERS threads while another thread trains a NeuMF
 * on the same backend and, with `churn`, another changes its threads; the
 * answers, and the model trained meanwhile, are what they are alone. */
static void serve_while_training(reco_model_kind kind, int churn)
{
    loo_split split = loo_split_synthetic(60, 150, 1500, 4, 5);
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 2));
    reco_model *model = trained_model(backend, kind, split.train);
    served s = {model, split.train, split.test};
    size_t n_users = reco_dataset_n_users(split.all);
    answers *expected = calloc(n_users, sizeof *expected);
    ck_assert_ptr_nonnull(expected);
    for (size_t user = 0; user < n_users; user++)
        ck_assert_int_eq(answer(&s, (int32_t)user, &expected[user]), 0);

    trainer_job job = {.backend = backend, .train = split.train, .kind = RECO_MODEL_NEUMF};
    thread_changer changer = {.backend = backend, .lock = PTHREAD_MUTEX_INITIALIZER};
    server servers[SERVERS];
    ck_assert_int_eq(pthread_create(&job.thread, NULL, run_trainer, &job), 0);
    if (churn)
        ck_assert_int_eq(pthread_create(&changer.thread, NULL, change_threads, &changer), 0);
    for (size_t i = 0; i < SERVERS; i++) {
        servers[i] = (server){.served = &s, .expected = expected, .n_users = n_users,
                              .offset = i * 13};
        ck_assert_int_eq(pthread_create(&servers[i].thread, NULL, serve, &servers[i]), 0);
    }
    for (size_t i = 0; i < SERVERS; i++) {
        pthread_join(servers[i].thread, NULL);
        ck_assert_msg(servers[i].failures == 0, "server %zu: %d failed calls", i,
                      servers[i].failures);
        ck_assert_msg(servers[i].mismatches == 0, "server %zu: %d answers differ", i,
                      servers[i].mismatches);
    }
    pthread_join(job.thread, NULL);
    if (churn) {
        pthread_mutex_lock(&changer.lock);
        changer.stop = 1;
        pthread_mutex_unlock(&changer.lock);
        pthread_join(changer.thread, NULL);
    }
    RECO_ASSERT_OK(job.status);
    expect_as_trained_alone(&job, churn);
    free(job.parameters);
    free(expected);
    reco_model_free(model);
    reco_backend_free(backend);
    loo_split_free(&split);
}

START_TEST(neumf_served_while_another_model_trains)
{
    serve_while_training(RECO_MODEL_NEUMF, 0);
}
END_TEST

START_TEST(mf_served_while_threads_change)
{
    serve_while_training(RECO_MODEL_MF, 1);
}
END_TEST

/* Three trainers on one backend and one training set (whose item lists are
 * built on first use, here by all at once), one of them MF rating by rating
 * (its rounds wait on the pool's barrier), give what each gives alone. */
START_TEST(trainers_share_a_backend_and_a_dataset)
{
    reco_backend *backend = open_backend("cpu");
    RECO_ASSERT_OK(reco_backend_set_threads(backend, 2));
    enum { JOBS = 3 };
    trainer_job alone[JOBS], together[JOBS];
    static const reco_model_kind kinds[JOBS] = {RECO_MODEL_GMF, RECO_MODEL_NEUMF, RECO_MODEL_MF};
    for (int run = 0; run < 2; run++) {
        trainer_job *jobs = run == 0 ? alone : together;
        reco_dataset *train = NULL;
        RECO_ASSERT_OK(reco_dataset_synthetic(50, 80, 900, 6, &train));
        for (int j = 0; j < JOBS; j++) {
            jobs[j] = (trainer_job){
                .backend = backend, .train = train, .kind = kinds[j], .per_rating = j == 2};
            if (run == 0) {
                run_trainer(&jobs[j]);
                continue;
            }
            ck_assert_int_eq(pthread_create(&jobs[j].thread, NULL, run_trainer, &jobs[j]), 0);
        }
        for (int j = 0; run == 1 && j < JOBS; j++)
            pthread_join(jobs[j].thread, NULL);
        reco_dataset_free(train);
    }
    for (int j = 0; j < JOBS; j++) {
        RECO_ASSERT_OK(alone[j].status);
        RECO_ASSERT_OK(together[j].status);
        ck_assert_uint_eq(alone[j].n_parameters, together[j].n_parameters);
        ck_assert_int_eq(memcmp(alone[j].parameters, together[j].parameters,
                                alone[j].n_parameters * sizeof(float)),
                         0);
        free(alone[j].parameters);
        free(together[j].parameters);
    }
    reco_backend_free(backend);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("concurrency");
    TCase *tcase = test_case(suite, "threads");
    tcase_set_timeout(tcase, 600);
    tcase_add_test(tcase, neumf_served_while_another_model_trains);
    tcase_add_test(tcase, mf_served_while_threads_change);
    tcase_add_test(tcase, trainers_share_a_backend_and_a_dataset);
    return run_suite(suite);
}

/* Serving benchmark: top-10 recommendations (training items excluded) for
 * random users of a trained NeuMF and a trained MF model on ml-1m-implicit
 * (RECO_DATA_DIR or argv[1]; else a synthetic set of its shape; 3,706
 * items), then of MF models of 64 random factors over catalogs of 27k and
 * 1M items (6,040 users, a million synthetic pairs as their seen items),
 * from 1, 2 and, where the process has the CPUs, 4 threads at once:
 * requests/s, p50 and p99 latency, and a check that every answer equals the
 * one the single thread gave; then batches of 256 users from 1 and 2
 * threads (users/s, latency per batch).
 * Usage: bench_serving [data_dir] [requests per thread] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"

#define TOP_K 10
#define MAX_THREADS 4

typedef struct answer {
    int32_t items[TOP_K];
    float scores[TOP_K];
    size_t n;
} answer;

typedef struct client {
    pthread_t thread;
    const reco_model *model;
    const reco_dataset *train;
    const int32_t *users;      /* the requests, in order */
    size_t n_requests;
    answer *answers;           /* one per request */
    double *latencies;         /* seconds, one per request */
    size_t batch;              /* users a request: 1, or a batch (answers not kept) */
    reco_status status;
} client;

static void *run_client(void *opaque)
{
    client *c = opaque;
    if (c->batch > 1) {
        int32_t *items = malloc(c->batch * TOP_K * sizeof *items);
        float *scores = malloc(c->batch * TOP_K * sizeof *scores);
        size_t *counts = malloc(c->batch * sizeof *counts);
        if (!items || !scores || !counts)
            c->status = RECO_ERR_OUT_OF_MEMORY;
        for (size_t r = 0; r < c->n_requests && c->status == RECO_OK; r++) {
            double start = bench_now();
            c->status = reco_model_recommend_batch(c->model, c->users + r * c->batch, c->batch,
                                                   TOP_K, c->train, items, scores, counts);
            c->latencies[r] = bench_now() - start;
        }
        free(items);
        free(scores);
        free(counts);
        return NULL;
    }
    for (size_t r = 0; r < c->n_requests && c->status == RECO_OK; r++) {
        double start = bench_now();
        answer *a = &c->answers[r];
        c->status = reco_model_recommend(c->model, c->users[r], TOP_K, c->train, a->items,
                                         a->scores, &a->n);
        c->latencies[r] = bench_now() - start;
    }
    return NULL;
}

static int compare_doubles(const void *a, const void *b)
{
    double left = *(const double *)a, right = *(const double *)b;
    return (left > right) - (left < right);
}

/* Serves every request of `users` split over n_threads clients; fills
 * answers (in request order) and prints the figures. */
static int serve(const char *name, const reco_model *model, const reco_dataset *train,
                 const int32_t *users, size_t n_requests, size_t n_threads, size_t batch,
                 answer *answers, const answer *expected)
{
    client clients[MAX_THREADS];
    double *latencies = malloc(n_requests * sizeof *latencies);
    if (!latencies)
        return bench_fail("bench_serving", "latencies", RECO_ERR_OUT_OF_MEMORY);
    size_t per_thread = n_requests / n_threads;
    double start = bench_now();
    for (size_t t = 0; t < n_threads; t++) {
        clients[t] = (client){.model = model, .train = train,
                              .users = users + t * per_thread * batch, .n_requests = per_thread,
                              .answers = answers + t * per_thread,
                              .latencies = latencies + t * per_thread, .batch = batch,
                              .status = RECO_OK};
        pthread_create(&clients[t].thread, NULL, run_client, &clients[t]);
    }
    reco_status status = RECO_OK;
    for (size_t t = 0; t < n_threads; t++) {
        pthread_join(clients[t].thread, NULL);
        if (clients[t].status != RECO_OK)
            status = clients[t].status;
    }
    double seconds = bench_now() - start;
    if (status != RECO_OK) {
        free(latencies);
        return bench_fail("bench_serving", "recommend", status);
    }
    size_t served = per_thread * n_threads, differ = 0;
    for (size_t r = 0; expected && r < served; r++)
        differ += memcmp(&answers[r], &expected[r], sizeof *answers) != 0;
    qsort(latencies, served, sizeof *latencies, compare_doubles);
    if (batch > 1)
        printf("%-8s %zu thread(s): %8.0f users/s in batches of %zu, p50 %7.3f ms, p99 %7.3f ms "
               "a batch\n",
               name, n_threads, (double)(served * batch) / seconds, batch,
               1e3 * latencies[served / 2], 1e3 * latencies[served * 99 / 100]);
    else
        printf("%-8s %zu thread(s): %8.0f requests/s, p50 %7.3f ms, p99 %7.3f ms, %s\n", name,
               n_threads, (double)served / seconds, 1e3 * latencies[served / 2],
               1e3 * latencies[served * 99 / 100],
               expected ? (differ ? "ANSWERS DIFFER" : "answers identical")
                        : "(the reference answers)");
    free(latencies);
    return differ != 0;
}

/* Single requests from 1, 2 (and 4) threads, then batches of 256 users
 * from 1 and 2; `train` NULL: the model's seen items left out. */
static int serve_all(const char *name, const reco_model *model, const reco_dataset *train,
                     size_t n_users, size_t requests_per_thread)
{
    enum { BATCH = 256 };
    size_t n_requests = requests_per_thread * MAX_THREADS;
    /* the batches: as many users as the single requests had, at least two */
    size_t batches = n_requests / BATCH > 2 ? n_requests / BATCH : 2;
    size_t n_users_drawn = n_requests > batches * BATCH ? n_requests : batches * BATCH;
    int32_t *users = malloc(n_users_drawn * sizeof *users);
    answer *reference = calloc(n_requests, sizeof *reference);
    answer *answers = calloc(n_requests, sizeof *answers);
    int failed = !users || !reference || !answers;
    srand(7);
    for (size_t r = 0; !failed && r < n_users_drawn; r++)
        users[r] = (int32_t)((size_t)rand() % n_users);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    failed = failed || serve(name, model, train, users, n_requests, 1, 1, reference, NULL);
    for (size_t threads = 2; !failed && threads <= MAX_THREADS; threads *= 2) {
        if (threads > 2 && (long)threads > cpus)
            break;
        memset(answers, 0, n_requests * sizeof *answers);
        failed = serve(name, model, train, users, n_requests, threads, 1, answers, reference);
    }
    for (size_t threads = 1; !failed && threads <= 2; threads++)
        failed = serve(name, model, train, users, batches - batches % threads, threads, BATCH,
                       answers, NULL);
    free(users);
    free(reference);
    free(answers);
    return failed;
}

static int bench_model(const char *name, reco_model_kind kind, reco_backend *backend,
                       reco_dataset *train, size_t requests_per_thread)
{
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    reco_status status;
    if ((status = reco_model_new(kind, reco_dataset_n_users(train), reco_dataset_n_items(train),
                                 &model)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_trainer_new(model, &trainer)) ||
        (kind == RECO_MODEL_MF && (status = reco_trainer_set_loss(trainer, RECO_LOSS_BPR))) ||
        (status = reco_trainer_fit(trainer, train, 1)))
        return bench_fail("bench_serving", "training", status);
    int failed = serve_all(name, model, train, reco_dataset_n_users(train), requests_per_thread);
    reco_trainer_free(trainer);
    reco_model_free(model);
    return failed;
}

/* MF of 64 random factors over a catalog of n_items, its seen items a
 * million synthetic pairs of 6,040 users. */
static int bench_catalog(const char *name, reco_backend *backend, size_t n_items,
                         size_t requests_per_thread)
{
    reco_dataset *pairs = NULL;
    reco_model *model = NULL;
    reco_status status;
    if ((status = reco_dataset_synthetic(6040, n_items, 1000000, 7, &pairs)) ||
        (status = reco_model_new(RECO_MODEL_MF, reco_dataset_n_users(pairs), n_items, &model)) ||
        (status = reco_model_set_factors(model, 64)) ||
        (status = reco_model_init(model, backend, 1)) ||
        (status = reco_model_set_seen(model, pairs)))
        return bench_fail("bench_serving", "catalog", status);
    int failed = serve_all(name, model, NULL, reco_dataset_n_users(pairs), requests_per_thread);
    reco_model_free(model);
    reco_dataset_free(pairs);
    return failed;
}

int main(int argc, char **argv)
{
    size_t requests = argc > 2 ? (size_t)atol(argv[2]) : 200;
    reco_dataset *train = NULL;
    const char *source;
    reco_status status = bench_ml1m_train(argc > 1 ? argv[1] : NULL, &train, &source);
    if (status != RECO_OK)
        return bench_fail("bench_serving", "data", status);
    reco_backend *backend = NULL;
    if ((status = reco_backend_open("cpu", &backend)))
        return bench_fail("bench_serving", "backend", status);
    bench_print_cpu();
    printf("top-%d for random users, training items excluded; data: %s\n"
           "backend threads %zu (each request uses them when they are free, else its own)\n",
           TOP_K, source, reco_backend_threads(backend));
    int failed = bench_model("NeuMF", RECO_MODEL_NEUMF, backend, train, requests) ||
                 bench_model("MF", RECO_MODEL_MF, backend, train, requests * 10) ||
                 bench_catalog("MF 27k", backend, 26744, requests * 2) ||
                 bench_catalog("MF 1M", backend, 1000000, requests / 4 ? requests / 4 : 1);
    reco_backend_free(backend);
    reco_dataset_free(train);
    return failed;
}

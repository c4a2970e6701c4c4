/* Exact against approximate top-10 on synthetic factors: ITEMS items and
 * QUERIES users of DIM factors, clustered as trained factors are (256
 * centres, each vector a centre plus half as much noise, scaled by a
 * log-normal popularity), in an MF model. Exact: the users ranked in one
 * batch (the backend's rank_items: products of blocks); approximate: an
 * HNSW index (m 16, ef_construction 100 unless given), one request at a
 * time from each thread, at each ef of a comma-separated list (100 unless
 * given). Prints, for 1 and 2 threads, `exact Q q/s` and
 * `approximate Q q/s recall@10 R` (R: the share of the exact top 10 the
 * index finds), with the index's build time.
 * Usage: bench_retrieval ITEMS DIM [EF,EF... [QUERIES [M [EF_CONSTRUCTION]]]] */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define TOP_K 10
#define CENTRES 256

typedef struct client {
    pthread_t thread;
    const reco_model *model;
    const reco_index *index;
    const int32_t *users;
    size_t n, ef;
    int32_t *items;
    reco_status status;
} client;

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static double normal(uint64_t *state)
{
    double u = ((double)(next_random(state) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(next_random(state) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* n rows of dim: a centre plus noise, times a log-normal scale. */
static void clustered(float *rows, size_t n, size_t dim, const float *centres, uint64_t *state)
{
    for (size_t r = 0; r < n; r++) {
        const float *centre = centres + (next_random(state) % CENTRES) * dim;
        double scale = exp(0.3 * normal(state)) / sqrt((double)dim);
        for (size_t d = 0; d < dim; d++)
            rows[r * dim + d] = (float)(scale * (centre[d] + 0.5 * normal(state)));
    }
}

static void *run_client(void *opaque)
{
    client *c = opaque;
    float scores[TOP_K];
    size_t count;
    for (size_t r = 0; r < c->n && c->status == RECO_OK; r++)
        c->status = reco_model_recommend_approximate(c->model, c->index, c->users + r, 1, TOP_K,
                                                     c->ef, NULL, c->items + r * TOP_K, scores,
                                                     &count);
    return NULL;
}

/* Approximate requests of `users` from `threads` threads: q/s. */
static double approximate(const reco_model *model, const reco_index *index, const int32_t *users,
                          size_t n, size_t ef, size_t threads, int32_t *items, reco_status *status)
{
    client clients[2];
    double start = bench_now();
    for (size_t t = 0; t < threads; t++) {
        size_t first = n * t / threads, last = n * (t + 1) / threads;
        clients[t] = (client){.model = model, .index = index, .users = users + first,
                              .n = last - first, .ef = ef, .items = items + first * TOP_K};
        pthread_create(&clients[t].thread, NULL, run_client, &clients[t]);
    }
    for (size_t t = 0; t < threads; t++) {
        pthread_join(clients[t].thread, NULL);
        if (clients[t].status != RECO_OK)
            *status = clients[t].status;
    }
    return (double)n / (bench_now() - start);
}

static double recall(const int32_t *exact, const int32_t *found, size_t n)
{
    size_t hits = 0;
    for (size_t q = 0; q < n; q++)
        for (size_t i = 0; i < TOP_K; i++)
            for (size_t j = 0; j < TOP_K; j++)
                hits += exact[q * TOP_K + i] == found[q * TOP_K + j];
    return (double)hits / (double)(n * TOP_K);
}

/* An MF model of the synthetic factors, no seen items, no biases. */
static reco_status make_model(reco_backend *backend, size_t n_items, size_t dim, size_t n_users,
                              reco_model **out)
{
    reco_model *model = NULL;
    reco_status status = reco_model_new(RECO_MODEL_MF, n_users, n_items, &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, dim);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 1);
    size_t count = reco_model_parameter_count(model);
    float *params = malloc(count * sizeof *params), *centres = malloc(CENTRES * dim * sizeof *centres);
    if (status == RECO_OK && (!params || !centres))
        status = RECO_ERR_OUT_OF_MEMORY;
    if (status == RECO_OK)
        status = reco_model_get_parameters(model, params);
    uint64_t state = 88172645463325252ull;
    for (size_t c = 0; status == RECO_OK && c < CENTRES * dim; c++)
        centres[c] = (float)normal(&state);
    if (status == RECO_OK) {
        clustered(params, n_users, dim, centres, &state);
        clustered(params + n_users * dim, n_items, dim, centres, &state);
        status = reco_model_set_parameters(model, params);
    }
    free(params);
    free(centres);
    if (status != RECO_OK) {
        reco_model_free(model);
        return status;
    }
    *out = model;
    return RECO_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_retrieval ITEMS DIM [EF,EF... [QUERIES [M [EF_CONSTRUCTION]]]]\n");
        return 2;
    }
    size_t n_items = strtoul(argv[1], NULL, 10), dim = strtoul(argv[2], NULL, 10);
    const char *efs = argc > 3 ? argv[3] : "100";
    size_t n_queries = argc > 4 ? strtoul(argv[4], NULL, 10) : 2000;
    size_t m = argc > 5 ? strtoul(argv[5], NULL, 10) : 16;
    size_t ef_construction = argc > 6 ? strtoul(argv[6], NULL, 10) : 100;
    bench_print_cpu();
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_index *index = NULL;
    reco_status status = reco_backend_open("cpu", &backend);
    if (status == RECO_OK)
        status = make_model(backend, n_items, dim, n_queries, &model);
    if (status != RECO_OK)
        return bench_fail("bench_retrieval", "model", status);
    printf("%zu items, %zu factors, %zu queries, top %d\n", n_items, dim, n_queries, TOP_K);
    double start = bench_now();
    if ((status = reco_index_build(model, m, ef_construction, 42, &index)) != RECO_OK)
        return bench_fail("bench_retrieval", "index", status);
    printf("index built in %.1f s (m %zu, ef_construction %zu, one thread)\n", bench_now() - start,
           m, ef_construction);
    int32_t *users = malloc(n_queries * sizeof *users);
    int32_t *exact = malloc(n_queries * TOP_K * sizeof *exact);
    int32_t *found = malloc(n_queries * TOP_K * sizeof *found);
    float *scores = malloc(n_queries * TOP_K * sizeof *scores);
    size_t *counts = malloc(n_queries * sizeof *counts);
    for (size_t q = 0; q < n_queries; q++)
        users[q] = (int32_t)q;
    for (size_t threads = 1; threads <= 2 && status == RECO_OK; threads++) {
        status = reco_backend_set_threads(backend, threads);
        start = bench_now();
        if (status == RECO_OK)
            status = reco_model_recommend_batch(model, users, n_queries, TOP_K, NULL, exact,
                                                scores, counts);
        double exact_rate = (double)n_queries / (bench_now() - start);
        if (status == RECO_OK)
            printf("%zu thread%s: exact %.1f q/s\n", threads, threads > 1 ? "s" : "", exact_rate);
        for (char *next = (char *)efs; status == RECO_OK && *next; next += *next == ',') {
            size_t ef = strtoul(next, &next, 10);
            double rate = approximate(model, index, users, n_queries, ef, threads, found, &status);
            if (status == RECO_OK)
                printf("%zu thread%s: approximate %.1f q/s recall@10 %.4f (ef %zu, %.1fx exact)\n",
                       threads, threads > 1 ? "s" : "", rate, recall(exact, found, n_queries), ef,
                       rate / exact_rate);
        }
    }
    free(users);
    free(exact);
    free(found);
    free(scores);
    free(counts);
    reco_index_free(index);
    reco_model_free(model);
    reco_backend_free(backend);
    return status == RECO_OK ? 0 : bench_fail("bench_retrieval", "ranking", status);
}

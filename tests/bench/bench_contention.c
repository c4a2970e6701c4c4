/* Contention benchmark: the NeuMF epoch of bench_train (8 factors, layers
 * 64,32,16,8, batch 256, 4 negatives, Adam) with 2 threads against 1 thread
 * (a) with the whole process confined to one core, (b) beside one CPU-bound
 * competitor process per core, (c) on an idle machine, all in one run, and
 * the ratio 2 threads / 1 thread of each. Bars: (a) <= 1.3, (b) <= 1.3,
 * (c) as before. Data: ml-1m-implicit under RECO_DATA_DIR or argv[1], else a
 * synthetic set of its shape. Usage: bench_contention [data_dir] [epochs] */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_CORES 256

/* Confines the calling thread (and the threads it starts later) to the
 * CPUs of `set`. */
static void confine(const cpu_set_t *set)
{
    sched_setaffinity(0, sizeof *set, set);
}

/* Starts one busy process pinned to each CPU of `set`; returns how many. */
static size_t start_competitors(const cpu_set_t *set, pid_t *pids)
{
    size_t count = 0;
    for (int cpu = 0; cpu < MAX_CORES; cpu++) {
        if (!CPU_ISSET(cpu, set))
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            volatile unsigned long spin = 0;
            for (;;)
                spin++;
        }
        if (pid > 0)
            pids[count++] = pid;
    }
    return count;
}

static void stop_competitors(const pid_t *pids, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
}

typedef struct run {
    reco_backend *backend;
    reco_trainer *trainer;
    reco_dataset *train;
    int epochs;
} run;

/* Best epoch time with `threads` threads (the pool is restarted so that its
 * threads take the caller's affinity), or a negative value on failure. */
static double best_epoch(const run *r, size_t threads)
{
    reco_status status;
    if ((status = reco_backend_set_threads(r->backend, threads == 1 ? 2 : 1)) ||
        (status = reco_backend_set_threads(r->backend, threads))) {
        bench_fail("bench_contention", "threads", status);
        return -1.0;
    }
    double best = 1e30;
    for (int epoch = 0; epoch < r->epochs; epoch++) {
        double loss, start = bench_now();
        if ((status = reco_trainer_epoch(r->trainer, r->train, &loss))) {
            bench_fail("bench_contention", "epoch", status);
            return -1.0;
        }
        double seconds = bench_now() - start;
        best = seconds < best ? seconds : best;
    }
    return best;
}

static int report(const char *name, const run *r)
{
    double one = best_epoch(r, 1), two = best_epoch(r, 2);
    if (one < 0.0 || two < 0.0)
        return 1;
    printf("%-44s 1 thread %6.2f s, 2 threads %6.2f s, ratio %.2f\n", name, one, two, two / one);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int epochs = argc > 2 ? atoi(argv[2]) : 1;
    run r = {.epochs = epochs > 0 ? epochs : 1};
    const char *source;
    reco_status status = bench_ml1m_train(argc > 1 ? argv[1] : NULL, &r.train, &source);
    if (status != RECO_OK)
        return bench_fail("bench_contention", "data", status);
    reco_model *model = NULL;
    if ((status = reco_backend_open("cpu", &r.backend)) ||
        (status = reco_model_new(RECO_MODEL_NEUMF, reco_dataset_n_users(r.train),
                                 reco_dataset_n_items(r.train), &model)) ||
        (status = reco_model_init(model, r.backend, 1)) ||
        (status = reco_trainer_new(model, &r.trainer)))
        return bench_fail("bench_contention", "setup", status);
    bench_print_cpu();
    printf("NeuMF 8 factors, layers 64,32,16,8, batch 256, 4 negatives, Adam; best of %d epoch(s)\n"
           "data: %s\n", r.epochs, source);
    cpu_set_t all, first;
    sched_getaffinity(0, sizeof all, &all);
    CPU_ZERO(&first);
    for (int cpu = 0; cpu < MAX_CORES; cpu++)
        if (CPU_ISSET(cpu, &all)) {
            CPU_SET(cpu, &first);
            break;
        }
    int failed = report("(c) idle", &r);
    confine(&first);
    failed |= report("(a) confined to one core", &r);
    confine(&all);
    pid_t pids[MAX_CORES];
    size_t competitors = start_competitors(&all, pids);
    char name[64];
    snprintf(name, sizeof name, "(b) beside %zu busy processes, one per core", competitors);
    failed |= report(name, &r);
    stop_competitors(pids, competitors);
    reco_trainer_free(r.trainer);
    reco_model_free(model);
    reco_backend_free(r.backend);
    reco_dataset_free(r.train);
    return failed;
}

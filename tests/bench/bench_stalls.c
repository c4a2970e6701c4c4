/* How often the machine stops a running thread: one thread per CPU reads
 * the clock in a loop for a few seconds and counts the gaps between two
 * reads longer than 20 us, 100 us and 1 ms (interrupts, the kernel's work,
 * or, on a virtual machine, its host running something else). A training
 * step waits for its slowest thread, so with two threads every gap on
 * either one stalls both: the time lost here, doubled, is about what the
 * epoch of bench_train loses to it. Usage: bench_stalls [seconds] */
#define _GNU_SOURCE /* sched_setaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 256

typedef struct watch {
    int cpu;
    double seconds;
    uint64_t gaps[3]; /* longer than 20 us, 100 us, 1 ms */
    uint64_t lost_ns; /* in gaps longer than 20 us */
} watch;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watch_cpu(void *argument)
{
    watch *w = argument;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
    static const uint64_t limits[3] = {20000, 100000, 1000000};
    uint64_t start = now_ns(), last = start, end = start + (uint64_t)(w->seconds * 1e9);
    while (last < end) {
        uint64_t now = now_ns(), gap = now - last;
        last = now;
        if (gap <= limits[0])
            continue;
        w->lost_ns += gap;
        for (int k = 0; k < 3; k++)
            w->gaps[k] += gap > limits[k];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    cpu_set_t allowed;
    if (seconds <= 0.0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        fprintf(stderr, "usage: bench_stalls [seconds > 0]\n");
        return 2;
    }
    static watch watches[MAX_CPUS];
    static pthread_t threads[MAX_CPUS];
    size_t n = 0;
    for (int cpu = 0; cpu < MAX_CPUS; cpu++)
        if (CPU_ISSET(cpu, &allowed))
            watches[n++] = (watch){.cpu = cpu, .seconds = seconds};
    size_t started = 0;
    while (started < n &&
           pthread_create(&threads[started], NULL, watch_cpu, &watches[started]) == 0)
        started++;
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    printf("%zu CPUs, %.1f s each: gaps between two clock reads of one spinning thread\n", started,
           seconds);
    for (size_t i = 0; i < started; i++) {
        const watch *w = &watches[i];
        printf("cpu %d: > 20 us %.0f/s, > 100 us %.1f/s, > 1 ms %.1f/s; lost %.2f%% of the time\n",
               w->cpu, (double)w->gaps[0] / seconds, (double)w->gaps[1] / seconds,
               (double)w->gaps[2] / seconds, 100.0 * (double)w->lost_ns / (seconds * 1e9));
    }
    return started == n ? 0 : 1;
}

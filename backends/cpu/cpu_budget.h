/* CPU backend: the default thread count, the process's CPU budget. */
#ifndef RECO_CPU_BUDGET_H
#define RECO_CPU_BUDGET_H

#include <stddef.h>

/* Most threads a backend will start. */
#define CPU_BUDGET_MAX_THREADS 1024

/* The default thread count: RECO_NUM_THREADS when it holds a whole number
 * in [1, CPU_BUDGET_MAX_THREADS]; else the CPUs of the process's affinity
 * mask, capped by its cgroup CPU quota (v2 cpu.max, or v1 CFS quota over
 * period, the smallest on the way to the root) rounded up; at least 1. */
size_t reco_cpu_budget_threads(void);

/* The pieces, exposed for tests: a cgroup v2 cpu.max line ("150000 100000"
 * is 1.5 CPUs, "max 100000" none: 0), a v1 quota/period pair (-1: 0),
 * affinity capped by a quota, a RECO_NUM_THREADS value (0 when invalid). */
double reco_cpu_budget_parse_cpu_max(const char *text);
double reco_cpu_budget_parse_cfs(const char *quota_text, const char *period_text);
size_t reco_cpu_budget_combine(size_t affinity_cpus, double quota_cpus);
size_t reco_cpu_budget_parse_override(const char *text);

#endif

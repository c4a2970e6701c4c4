/* CPU backend: how many threads the process may keep busy. A container or
 * a `taskset` gives a process fewer CPUs than the machine has; threads beyond
 * them only wait for each other. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT_S */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_budget.h"

/* Upper bound on the CPUs of the affinity mask we ask for. */
#define MAX_CPUS 4096
/* Longest cgroup path we follow. */
#define PATH_BYTES 4096

double reco_cpu_budget_parse_cpu_max(const char *text)
{
    char quota[32];
    unsigned long long period = 0;
    if (sscanf(text, "%31s %llu", quota, &period) != 2 || period == 0 ||
        strcmp(quota, "max") == 0)
        return 0.0;
    char *end;
    errno = 0;
    double value = strtod(quota, &end);
    if (errno || end == quota || *end || !(value > 0.0))
        return 0.0;
    return value / (double)period;
}

double reco_cpu_budget_parse_cfs(const char *quota_text, const char *period_text)
{
    long long quota = 0, period = 0;
    if (sscanf(quota_text, "%lld", &quota) != 1 || sscanf(period_text, "%lld", &period) != 1 ||
        quota <= 0 || period <= 0)
        return 0.0;
    return (double)quota / (double)period;
}

size_t reco_cpu_budget_combine(size_t affinity_cpus, double quota_cpus)
{
    size_t budget = affinity_cpus ? affinity_cpus : 1;
    if (quota_cpus > 0.0) {
        double rounded = ceil(quota_cpus);
        if (rounded < (double)budget)
            budget = rounded < 1.0 ? 1 : (size_t)rounded;
    }
    return budget;
}

/* Reads a small file into text; returns 0 when it cannot. */
static int read_small(const char *path, char *text, size_t size)
{
    FILE *file = fopen(path, "re");
    if (!file)
        return 0;
    size_t length = fread(text, 1, size - 1, file);
    fclose(file);
    text[length] = '\0';
    return length > 0;
}

static size_t affinity_cpus(void)
{
    cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
    size_t bytes = CPU_ALLOC_SIZE(MAX_CPUS), count = 0;
    if (set && sched_getaffinity(0, bytes, set) == 0)
        count = (size_t)CPU_COUNT_S(bytes, set);
    if (set)
        CPU_FREE(set);
    if (count == 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        count = online > 0 ? (size_t)online : 1;
    }
    return count;
}

/* The process's cgroup path for a controller ("" is v2's unified line),
 * from /proc/self/cgroup; returns 0 when absent. */
static int cgroup_path(const char *controller, char *path, size_t size)
{
    FILE *file = fopen("/proc/self/cgroup", "re");
    if (!file)
        return 0;
    char line[PATH_BYTES + 128];
    int found = 0;
    while (!found && fgets(line, sizeof line, file)) {
        char *first = strchr(line, ':');
        char *second = first ? strchr(first + 1, ':') : NULL;
        if (!second)
            continue;
        *second = '\0';
        const char *controllers = first + 1;
        int match = controller[0] ? strstr(controllers, controller) != NULL
                                  : controllers[0] == '\0';
        if (!match)
            continue;
        second[1 + strcspn(second + 1, "\n")] = '\0';
        snprintf(path, size, "%s", second + 1);
        found = 1;
    }
    fclose(file);
    return found;
}

/* The smallest quota (in CPUs) on the way from the cgroup to the root of
 * the hierarchy mounted at `mount`, or 0 when none: a parent's quota binds
 * its children too. v2 reads cpu.max, v1 cpu.cfs_quota_us/cpu.cfs_period_us. */
static double hierarchy_quota(const char *mount, const char *cgroup, int v2)
{
    char folder[PATH_BYTES], file[PATH_BYTES + 32], text[64], period[64];
    double smallest = 0.0;
    snprintf(folder, sizeof folder, "%s%s", mount, cgroup);
    for (;;) {
        double quota = 0.0;
        if (v2) {
            snprintf(file, sizeof file, "%s/cpu.max", folder);
            if (read_small(file, text, sizeof text))
                quota = reco_cpu_budget_parse_cpu_max(text);
        } else {
            snprintf(file, sizeof file, "%s/cpu.cfs_quota_us", folder);
            int have = read_small(file, text, sizeof text);
            snprintf(file, sizeof file, "%s/cpu.cfs_period_us", folder);
            if (have && read_small(file, period, sizeof period))
                quota = reco_cpu_budget_parse_cfs(text, period);
        }
        if (quota > 0.0 && (smallest == 0.0 || quota < smallest))
            smallest = quota;
        char *slash = strrchr(folder, '/');
        if (!slash || (size_t)(slash - folder) < strlen(mount))
            break;
        *slash = '\0';
    }
    return smallest;
}

static double quota_cpus(void)
{
    char cgroup[PATH_BYTES];
    if (cgroup_path("", cgroup, sizeof cgroup)) {
        double quota = hierarchy_quota("/sys/fs/cgroup", cgroup, 1);
        if (quota > 0.0)
            return quota;
    }
    if (cgroup_path("cpu", cgroup, sizeof cgroup)) {
        double quota = hierarchy_quota("/sys/fs/cgroup/cpu", cgroup, 0);
        if (quota == 0.0)
            quota = hierarchy_quota("/sys/fs/cgroup/cpu,cpuacct", cgroup, 0);
        return quota;
    }
    return 0.0;
}

size_t reco_cpu_budget_parse_override(const char *text)
{
    if (!text || !text[0])
        return 0;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end || text[0] == '-' || value == 0 || value > CPU_BUDGET_MAX_THREADS)
        return 0;
    return (size_t)value;
}

size_t reco_cpu_budget_threads(void)
{
    size_t forced = reco_cpu_budget_parse_override(getenv("RECO_NUM_THREADS"));
    if (forced)
        return forced;
    return reco_cpu_budget_combine(affinity_cpus(), quota_cpus());
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_fail(const char *program, const char *what, reco_status status)
{
    fprintf(stderr, "%s: %s: %s: %s\n", program, what, reco_status_string(status),
            reco_last_error());
    return 1;
}

void bench_print_cpu(void)
{
    FILE *file = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (file && fgets(line, sizeof line, file))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            printf("cpu: %s", strchr(line, ':') + 2);
            break;
        }
    if (file)
        fclose(file);
}

void bench_print_backend(const reco_backend *backend)
{
    char line[256];
    if (reco_backend_describe(backend, line, sizeof line) == RECO_OK)
        printf("backend %s\n", line);
}

reco_status bench_ml1m_train(const char *data_dir, reco_dataset **train, const char **source)
{
    static char path[4096];
    if (!data_dir || !data_dir[0])
        data_dir = getenv("RECO_DATA_DIR");
    reco_status status = RECO_ERR_IO;
    if (data_dir) {
        snprintf(path, sizeof path, "%s/ml-1m-implicit/ml-1m.implicit.train.tsv", data_dir);
        status = reco_dataset_read(path, RECO_FORMAT_AUTO, train);
        *source = path;
    }
    if (status != RECO_OK) {
        *source = "synthetic ml-1m shape (6040 x 3706, 994169)";
        status = reco_dataset_synthetic(6040, 3706, 994169, 42, train);
    }
    return status;
}

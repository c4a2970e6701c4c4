/* What the benchmarks share: a clock, failure reports, the CPU's name and
 * the ml-1m-implicit training set (or a synthetic set of its shape). */
#ifndef RECO_BENCH_COMMON_H
#define RECO_BENCH_COMMON_H

#include "reco/reco.h"

/* Seconds on a monotonic clock. */
double bench_now(void);

/* Prints "<program>: <what>: <status>: <detail>" to stderr; returns 1. */
int bench_fail(const char *program, const char *what, reco_status status);

/* Prints "cpu: <model name>" from /proc/cpuinfo, when it has one. */
void bench_print_cpu(void);

/* Prints reco_backend_describe's line: the threads and kernels in use. */
void bench_print_backend(const reco_backend *backend);

/* Reads DATA_DIR/ml-1m-implicit/ml-1m.implicit.train.tsv, DATA_DIR being
 * data_dir or else $RECO_DATA_DIR, or when neither has it makes a synthetic
 * set of the same shape; *source names what was loaded (static storage). */
reco_status bench_ml1m_train(const char *data_dir, reco_dataset **train, const char **source);

#endif

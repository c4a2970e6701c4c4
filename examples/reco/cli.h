/* reco, the command-line tool: shared declarations. */
#ifndef RECO_CLI_H
#define RECO_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "reco/reco.h"

/* Exit codes. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* "--name value" flags and "--name" switches after the command word. */
typedef struct options {
    int count;
    const char *names[64];
    const char *values[64]; /* NULL for a switch */
    int used[64];
} options;

/* Parses argv[first..]; returns 0 and prints the problem on a malformed line. */
int options_parse(options *opts, int argc, char **argv, int first);

/* Typed lookups with defaults; each marks the flag used. A bad value prints
 * the problem and sets *ok to 0. */
const char *option_text(options *opts, const char *name, const char *fallback);
int option_switch(options *opts, const char *name);
double option_number(options *opts, const char *name, double fallback, double low, double high,
                     int *ok);
size_t option_count(options *opts, const char *name, size_t fallback, size_t low, size_t high,
                    int *ok);

/* Prints an unknown flag and returns 0 when any flag went unused. */
int options_all_used(const options *opts);

/* Prints "reco: what: status: detail" and returns EXIT_RUNTIME. */
int fail(const char *what, reco_status status);

int command_train(options *opts);
int command_info(options *opts);
int command_eval(options *opts);
int command_recommend(options *opts);
int command_similar(options *opts);

#endif

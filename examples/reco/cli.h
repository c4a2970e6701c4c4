/* reco, the command-line tool: shared declarations. */
#ifndef RECO_CLI_H
#define RECO_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reco/reco.h"

/* Exit codes. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* A flag a command has: its name, what its value is (NULL for a switch),
 * its default as help shows it (NULL: none) and one line of help. */
typedef struct flag_spec {
    const char *name;
    const char *value;
    const char *fallback;
    const char *help;
} flag_spec;

typedef struct options options;

/* A command: its name, a line saying what it does, its code and its flags
 * (ended by an entry with a NULL name). */
typedef struct command_spec {
    const char *name;
    const char *synopsis;
    int (*run)(options *);
    const flag_spec *flags;
} command_spec;

enum { OPTIONS_MAX = 64, OPTIONS_HELP = -1 };

/* The flags given after the command word. */
struct options {
    const command_spec *command;
    int count;
    const char *names[OPTIONS_MAX];
    const char *values[OPTIONS_MAX]; /* NULL for a switch */
};

/* Parses argv[first..] against the command's flags: EXIT_OK, OPTIONS_HELP
 * (help asked for and printed), or EXIT_USAGE after printing the problem
 * (as JSON on stderr when --json is among the flags). */
int options_parse(options *opts, int argc, char **argv, int first, const command_spec *command);

/* Checks, before any work, that each output the flags name (--out, --plot;
 * a PREFIX's folder) can be written: a missing or read-only folder, or a
 * folder where a file goes, is a usage error naming the flag (EXIT_USAGE). */
int options_check_outputs(const options *opts);

/* The name among `names` nearest `name` when it is near enough to be a
 * typo, else NULL: the "did you mean" of flags and commands. */
const char *nearest_name(const char *name, const char *const *names, size_t count);

/* Prints the command's usage and flags with their defaults. */
void command_help(const command_spec *command, FILE *out);

/* Prints a usage problem of the command opts holds (NULL: none). */
void usage_error(const options *opts, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Typed lookups with defaults. A bad value prints the problem and sets *ok
 * to 0. */
const char *option_text(options *opts, const char *name, const char *fallback);
int option_switch(options *opts, const char *name);
double option_number(options *opts, const char *name, double fallback, double low, double high,
                     int *ok);
size_t option_count(options *opts, const char *name, size_t fallback, size_t low, size_t high,
                    int *ok);

/* Prints "reco: what: status: detail" and returns EXIT_RUNTIME. */
int fail(const char *what, reco_status status);

/* reco(1) in roff, from the commands' flag tables. */
void manual_page(FILE *out, const command_spec *const *commands, size_t n);

/* The completion script of `shell` ("bash" or "zsh") from the same
 * tables; -1 for another shell. */
int completion_script(FILE *out, const char *shell, const command_spec *const *commands,
                      size_t n);

extern const command_spec train_command, tune_command, cv_command, info_command, eval_command, recommend_command,
    similar_command, export_command;

#endif

/* Command-line flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int options_parse(options *opts, int argc, char **argv, int first)
{
    opts->count = 0;
    for (int i = first; i < argc; i++) {
        /* --name, or -name for the short spellings people type (-k 10) */
        const char *name = argv[i] + (strncmp(argv[i], "--", 2) == 0 ? 2 : 1);
        if (argv[i][0] != '-' || !*name) {
            fprintf(stderr, "reco: expected a --flag, got '%s'\n", argv[i]);
            return 0;
        }
        if (opts->count == 64) {
            fprintf(stderr, "reco: too many flags\n");
            return 0;
        }
        opts->names[opts->count] = name;
        opts->values[opts->count] = NULL;
        opts->used[opts->count] = 0;
        if (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0' ||
                             (argv[i + 1][1] >= '0' && argv[i + 1][1] <= '9')))
            opts->values[opts->count] = argv[++i];
        opts->count++;
    }
    return 1;
}

static int find(options *opts, const char *name)
{
    for (int i = 0; i < opts->count; i++)
        if (strcmp(opts->names[i], name) == 0) {
            opts->used[i] = 1;
            return i;
        }
    return -1;
}

const char *option_text(options *opts, const char *name, const char *fallback)
{
    int i = find(opts, name);
    return i >= 0 && opts->values[i] ? opts->values[i] : fallback;
}

int option_switch(options *opts, const char *name)
{
    return find(opts, name) >= 0;
}

double option_number(options *opts, const char *name, double fallback, double low, double high,
                     int *ok)
{
    const char *text = option_text(opts, name, NULL);
    if (!text)
        return fallback;
    char *end;
    double value = strtod(text, &end);
    if (*end || !(value >= low && value <= high)) {
        fprintf(stderr, "reco: --%s %s: expected a number in [%g, %g]\n", name, text, low, high);
        *ok = 0;
        return fallback;
    }
    return value;
}

size_t option_count(options *opts, const char *name, size_t fallback, size_t low, size_t high,
                    int *ok)
{
    return (size_t)option_number(opts, name, (double)fallback, (double)low, (double)high, ok);
}

int options_all_used(const options *opts)
{
    for (int i = 0; i < opts->count; i++)
        if (!opts->used[i]) {
            fprintf(stderr, "reco: unknown flag --%s\n", opts->names[i]);
            return 0;
        }
    return 1;
}

int fail(const char *what, reco_status status)
{
    fprintf(stderr, "reco: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return EXIT_RUNTIME;
}

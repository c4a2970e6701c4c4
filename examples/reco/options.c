/* Command-line flags, strictly: each command declares its flags (name,
 * value, default, help), and a flag it does not have, a flag given twice, a
 * flag without its value or a value out of range is a usage error naming
 * the flag (exit 2), with the nearest flag the command has as a guess. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int json_errors;

/* Writes `text` as the inside of a JSON string. */
static void json_text(FILE *out, const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 32)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
}

void usage_error(const options *opts, const char *format, ...)
{
    char detail[512];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    const char *command = opts && opts->command ? opts->command->name : NULL;
    if (json_errors) {
        fputs("{\"error\": \"usage\", \"detail\": \"", stderr);
        json_text(stderr, detail);
        fprintf(stderr, "\"%s%s%s}\n", command ? ", \"command\": \"" : "", command ? command : "",
                command ? "\"" : "");
    } else {
        fprintf(stderr, "reco%s%s: %s\n", command ? " " : "", command ? command : "", detail);
    }
}

/* Levenshtein distance of two short names (longer ones count as far). */
static size_t distance(const char *a, const char *b)
{
    enum { LONGEST = 40 };
    size_t n = strlen(a), m = strlen(b), row[LONGEST + 1];
    if (n > LONGEST || m > LONGEST)
        return LONGEST;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            best = above + 1 < best ? above + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[m];
}

static const flag_spec *find_spec(const command_spec *command, const char *name)
{
    for (const flag_spec *f = command->flags; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const char *nearest_name(const char *name, const char *const *names, size_t count)
{
    const char *best = NULL;
    size_t best_distance = (strlen(name) + 2) / 3 + 1;
    for (size_t i = 0; i < count; i++) {
        size_t d = distance(name, names[i]);
        int prefix = strncmp(names[i], name, strlen(name)) == 0 && strlen(name) >= 3;
        if (prefix)
            d = 1;
        if (d < best_distance) {
            best = names[i];
            best_distance = d;
        }
    }
    return best;
}

/* The command's flag nearest `name`, when it is near enough to be a typo. */
static const char *guess(const command_spec *command, const char *name)
{
    const char *names[OPTIONS_MAX * 2];
    size_t count = 0;
    for (const flag_spec *f = command->flags; f->name && count < OPTIONS_MAX * 2; f++)
        names[count++] = f->name;
    return nearest_name(name, names, count);
}

/* A value may start with '-' only as a number ("-1") or as "-" itself. */
static int looks_like_value(const char *text)
{
    return text[0] != '-' || text[1] == '\0' || (text[1] >= '0' && text[1] <= '9') ||
           text[1] == '.';
}

void command_help(const command_spec *command, FILE *out)
{
    fprintf(out, "usage: reco %s [--flag value ...]\n\n%s\n\n", command->name, command->synopsis);
    for (const flag_spec *f = command->flags; f->name; f++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", f->name, f->value ? " " : "",
                 f->value ? f->value : "");
        fprintf(out, "  %-28s %s", left, f->help);
        if (f->fallback)
            fprintf(out, " (default: %s)", f->fallback);
        fputc('\n', out);
    }
}

int options_parse(options *opts, int argc, char **argv, int first, const command_spec *command)
{
    opts->count = 0;
    opts->command = command;
    for (int i = first; i < argc; i++)
        json_errors |= strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-json") == 0;
    for (int i = first; i < argc; i++) {
        /* --name, or -name for the short spellings people type (-k 10) */
        const char *name = argv[i] + (strncmp(argv[i], "--", 2) == 0 ? 2 : 1);
        if (argv[i][0] != '-' || !*name) {
            usage_error(opts, "expected a --flag, got '%s'", argv[i]);
            return EXIT_USAGE;
        }
        if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
            command_help(command, stdout);
            return OPTIONS_HELP;
        }
        const flag_spec *spec = find_spec(command, name);
        if (!spec) {
            const char *near = guess(command, name);
            usage_error(opts, "unknown flag --%s%s%s%s (reco help %s lists them)", name,
                        near ? "; did you mean --" : "", near ? near : "", near ? "?" : "",
                        command->name);
            return EXIT_USAGE;
        }
        for (int k = 0; k < opts->count; k++)
            if (strcmp(opts->names[k], spec->name) == 0) {
                usage_error(opts, "--%s given twice", spec->name);
                return EXIT_USAGE;
            }
        if (opts->count == OPTIONS_MAX) {
            usage_error(opts, "too many flags");
            return EXIT_USAGE;
        }
        opts->names[opts->count] = spec->name;
        opts->values[opts->count] = NULL;
        if (spec->value) {
            if (i + 1 == argc || !looks_like_value(argv[i + 1])) {
                usage_error(opts, "--%s needs a value (%s)", spec->name, spec->value);
                return EXIT_USAGE;
            }
            opts->values[opts->count] = argv[++i];
        }
        opts->count++;
    }
    return EXIT_OK;
}

/* What stops `path` from being written (a file, or with `prefix` the start
 * of files' names), in `why`; 0 when nothing does that can be seen now. */
static int unwritable(const char *path, int prefix, char *why, size_t why_size)
{
    char folder[4096];
    const char *slash = strrchr(path, '/');
    struct stat info;
    if (strlen(path) >= sizeof folder) {
        snprintf(why, why_size, "the path is too long");
        return 1;
    }
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else
        snprintf(folder, sizeof folder, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(folder, &info) != 0) {
        snprintf(why, why_size, errno == ENOENT ? "no folder %s" : "%s: %s", folder,
                 strerror(errno));
        return 1;
    }
    if (!S_ISDIR(info.st_mode)) {
        snprintf(why, why_size, "%s is not a folder", folder);
        return 1;
    }
    if (access(folder, W_OK | X_OK) != 0) {
        snprintf(why, why_size, "the folder %s is not writable: %s", folder, strerror(errno));
        return 1;
    }
    if (!prefix && stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
        snprintf(why, why_size, "%s is a folder, not a file", path);
        return 1;
    }
    return 0;
}

int options_check_outputs(const options *opts)
{
    for (int i = 0; i < opts->count; i++) {
        if (strcmp(opts->names[i], "out") != 0 && strcmp(opts->names[i], "plot") != 0)
            continue;
        const flag_spec *spec = find_spec(opts->command, opts->names[i]);
        char why[4200];
        if (opts->values[i] &&
            unwritable(opts->values[i], strcmp(spec->value, "PREFIX") == 0, why, sizeof why)) {
            usage_error(opts, "cannot write --%s %s: %s", opts->names[i], opts->values[i], why);
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static int find(const options *opts, const char *name)
{
    for (int i = 0; i < opts->count; i++)
        if (strcmp(opts->names[i], name) == 0)
            return i;
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
    if (end == text || *end || !(value >= low && value <= high)) {
        usage_error(opts, "--%s %s: expected a number from %g to %g", name, text, low, high);
        *ok = 0;
        return fallback;
    }
    return value;
}

size_t option_count(options *opts, const char *name, size_t fallback, size_t low, size_t high,
                    int *ok)
{
    const char *text = option_text(opts, name, NULL);
    double value = option_number(opts, name, (double)fallback, (double)low, (double)high, ok);
    if (text && *ok && value != (double)(size_t)value) {
        usage_error(opts, "--%s %s: expected a whole number", name, text);
        *ok = 0;
    }
    return (size_t)value;
}

int fail(const char *what, reco_status status)
{
    if (json_errors) {
        fprintf(stderr, "{\"error\": \"%s\", \"what\": \"", reco_status_string(status));
        json_text(stderr, what);
        fputs("\", \"detail\": \"", stderr);
        json_text(stderr, reco_last_error());
        fputs("\"}\n", stderr);
    } else {
        /* a detail that names its input already ("nope.data: cannot open")
         * is not prefixed with it again, nor the status its own words */
        const char *detail = reco_last_error();
        size_t named = strlen(what);
        if (strncmp(detail, what, named) == 0 && detail[named] == ':')
            fprintf(stderr, "reco: %s: %s\n", reco_status_string(status), detail);
        else if (strcmp(detail, reco_status_string(status)) == 0 || !detail[0])
            fprintf(stderr, "reco: %s: %s\n", what, reco_status_string(status));
        else
            fprintf(stderr, "reco: %s: %s: %s\n", what, reco_status_string(status), detail);
    }
    return EXIT_RUNTIME;
}

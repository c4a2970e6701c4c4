/* reco: train, inspect and query libreco models from the shell.
 * Exit codes: 0 ok, 1 runtime error (reason on stderr), 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ranks.h"

static const command_spec *const commands[] = {
    &train_command,     &tune_command,    &cv_command,    &info_command, &eval_command,
    &recommend_command, &similar_command, &export_command};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *out)
{
    fputs("usage: reco COMMAND [--flag value ...]\n"
          "       reco help COMMAND | reco COMMAND --help | reco --version\n"
          "       reco completion bash|zsh | reco --man-page\n\n",
          out);
    for (size_t c = 0; c < N_COMMANDS; c++)
        fprintf(out, "  %-10s %s\n", commands[c]->name, commands[c]->synopsis);
    fputs("\nFlags take one dash or two (-k 10, --k 10); reco(1) and cli.md (share/doc/libreco)\n"
          "have them all.\n",
          out);
}

static const command_spec *find_command(const char *name)
{
    for (size_t c = 0; c < N_COMMANDS; c++)
        if (strcmp(name, commands[c]->name) == 0)
            return commands[c];
    return NULL;
}

/* "unknown command 'trian'; did you mean train?" */
static void unknown_command(const char *what, const char *word)
{
    const char *names[N_COMMANDS];
    for (size_t c = 0; c < N_COMMANDS; c++)
        names[c] = commands[c]->name;
    const char *near = nearest_name(word, names, N_COMMANDS);
    usage_error(NULL, "%s '%s'%s%s%s", what, word, near ? "; did you mean " : "", near ? near : "",
                near ? "?" : "");
}

static int run(const command_spec *command, int argc, char **argv)
{
    /* `reco info model.reco`: a leading file name stands for --model */
    int first = 2;
    if (argc > 2 && argv[2][0] != '-') {
        argv[1] = "--model";
        first = 1;
    }
    options opts;
    int parsed = options_parse(&opts, argc, argv, first, command);
    if (parsed != EXIT_OK)
        return parsed == OPTIONS_HELP ? EXIT_OK : EXIT_USAGE;
    if (options_check_outputs(&opts) != EXIT_OK)
        return EXIT_USAGE;
    if (ranks_start(&argc, &argv) != 0)
        return EXIT_RUNTIME;
    int code = command->run(&opts);
    ranks_stop();
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--version") == 0 || strcmp(word, "version") == 0) {
        printf("reco %d.%d.%d (libreco %s)\n", RECO_VERSION_MAJOR, RECO_VERSION_MINOR,
               RECO_VERSION_PATCH, reco_version_string());
        return EXIT_OK;
    }
    if (strcmp(word, "--man-page") == 0) {
        manual_page(stdout, commands, N_COMMANDS);
        return EXIT_OK;
    }
    if (strcmp(word, "completion") == 0) {
        if (argc != 3 || completion_script(stdout, argv[2], commands, N_COMMANDS) != 0) {
            usage_error(NULL, "completion needs a shell: bash or zsh");
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }
    if (strcmp(word, "help") == 0 || strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        if (argc < 3) {
            usage(stdout);
            return EXIT_OK;
        }
        const command_spec *command = find_command(argv[2]);
        if (!command) {
            unknown_command("no command", argv[2]);
            return EXIT_USAGE;
        }
        command_help(command, stdout);
        return EXIT_OK;
    }
    const command_spec *command = find_command(word);
    if (!command) {
        unknown_command("unknown command", word);
        usage(stderr);
        return EXIT_USAGE;
    }
    return run(command, argc, argv);
}

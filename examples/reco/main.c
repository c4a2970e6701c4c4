/* reco: train, inspect and query libreco models from the shell.
 * Exit codes: 0 ok, 1 runtime error (reason on stderr), 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ranks.h"

static const char usage[] =
    "usage: reco COMMAND [--flag value ...]\n"
    "\n"
    "  train      train a model: --data FILE (or the built-in synthetic data), --model\n"
    "             mf|gmf|mlp|neumf, --loss bce|mse|bpr, --optimizer sgd|adagrad|adam,\n"
    "             --epochs, --lr, --batch, --factors, --layers 64,32,16,8, --negatives,\n"
    "             --split loo|random, --k, --backend cpu|cuda|auto, --threads, --seed,\n"
    "             --out model.reco, --plot FILE.svg, --json (see docs/cli.md)\n"
    "  info       describe a model file: [--model] FILE [--json]\n"
    "  eval       evaluate on the split train made: --model FILE --data FILE [--split\n"
    "             loo|random] [--k 10] [--seed S] [--json]\n"
    "  recommend  top items for a user: --model FILE --data FILE --user ID [--k 10]\n"
    "             [--titles movies.dat] [--json]\n"
    "  similar    items nearest an item: --model FILE --item ID [--k 10] [--data FILE\n"
    "             --titles FILE] [--plot FILE.svg] [--json]\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(options *);
    } commands[] = {{"train", command_train},
                    {"info", command_info},
                    {"eval", command_eval},
                    {"recommend", command_recommend},
                    {"similar", command_similar}};
    options opts;
    for (size_t c = 0; c < sizeof commands / sizeof *commands; c++) {
        if (strcmp(argv[1], commands[c].name) != 0)
            continue;
        /* `reco info model.reco`: a leading file name stands for --model */
        int first = 2;
        if (argc > 2 && argv[2][0] != '-') {
            argv[1] = "--model";
            first = 1;
        }
        if (!options_parse(&opts, argc, argv, first))
            return EXIT_USAGE;
        if (ranks_start(&argc, &argv) != 0)
            return EXIT_RUNTIME;
        int code = commands[c].run(&opts);
        ranks_stop();
        return code;
    }
    fprintf(stderr, "reco: unknown command '%s'\n\n%s", argv[1], usage);
    return EXIT_USAGE;
}

/* ncf: the NCF protocol's data on the built-in synthetic dataset (or on a
 * ratings file given as the first argument): leave-one-out by latest
 * timestamp, 99 sampled test negatives per user, 4 training negatives per
 * positive. Model training joins it with the trainer. */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

static int fail(const char *what, reco_status status)
{
    fprintf(stderr, "ncf: %s: %s: %s\n", what, reco_status_string(status), reco_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    int32_t *negatives = NULL;
    int exit_code = 1;
    reco_status status = argc > 1 ? reco_dataset_read(argv[1], RECO_FORMAT_AUTO, &all)
                                  : reco_dataset_synthetic(943, 1682, 100000, 42, &all);
    if (status != RECO_OK)
        return fail("loading the ratings", status);
    status = reco_dataset_split_leave_one_out(all, &train, &test);
    if (status != RECO_OK) {
        fail("leave-one-out split", status);
        goto done;
    }
    status = reco_dataset_sample_test_negatives(test, all, 99, 42);
    if (status != RECO_OK) {
        fail("test negatives", status);
        goto done;
    }
    negatives = malloc(reco_dataset_size(train) * 4 * sizeof *negatives);
    if (!negatives) {
        fail("training negatives", RECO_ERR_OUT_OF_MEMORY);
        goto done;
    }
    status = reco_dataset_sample_negatives(train, 4, 42, 0, negatives);
    if (status != RECO_OK) {
        fail("training negatives", status);
        goto done;
    }
    printf("libreco %s, NCF protocol on %s\n", reco_version_string(),
           argc > 1 ? argv[1] : "the synthetic dataset");
    printf("users %zu, items %zu, interactions %zu\n", reco_dataset_n_users(all),
           reco_dataset_n_items(all), reco_dataset_size(all));
    printf("train %zu positives + %zu sampled negatives per epoch; test %zu users x (1 + 99)\n",
           reco_dataset_size(train), reco_dataset_size(train) * 4, reco_dataset_size(test));
    exit_code = 0;
done:
    free(negatives);
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    return exit_code;
}

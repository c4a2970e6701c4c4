/* libFuzzer harness: the ratings readers, each format and AUTO and each id
 * kind (the first byte picks the format, then the ids), then what a caller
 * does next with the dataset. */
#include "fuzz_input.h"
#include "reco/reco.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    reco_format format = (reco_format)(data[0] % 5);
    reco_ids ids = (reco_ids)(data[0] / 5 % 3);
    const char *path = fuzz_write_input(data + 1, size - 1);
    reco_dataset *dataset = NULL;
    if (!path || reco_dataset_read_ids(path, format, ids, NULL, &dataset) != RECO_OK)
        return 0;
    reco_dataset *train = NULL, *test = NULL;
    if (reco_dataset_split_leave_one_out(dataset, &train, &test) == RECO_OK &&
        reco_dataset_size(test) > 0)
        reco_dataset_sample_test_negatives(test, dataset, 1, 1);
    int64_t id;
    if (reco_dataset_n_users(dataset) > 0)
        reco_dataset_user_id(dataset, 0, &id);
    reco_dataset_free(train);
    reco_dataset_free(test);
    reco_dataset_free(dataset);
    return 0;
}

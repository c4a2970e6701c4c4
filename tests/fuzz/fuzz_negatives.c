/* libFuzzer harness: the NCF .negative reader, against the leave-one-out
 * test rows of a small dataset (users 0..3, items 0..9). */
#include "fuzz_input.h"
#include "reco/reco.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t users[16], items[16], times[16];
    for (int i = 0; i < 16; i++) {
        users[i] = i % 4;
        items[i] = (i * 3) % 10;
        times[i] = i;
    }
    reco_dataset *all = NULL, *train = NULL, *test = NULL;
    if (reco_dataset_from_arrays(users, items, NULL, times, 16, &all) != RECO_OK ||
        reco_dataset_split_leave_one_out(all, &train, &test) != RECO_OK)
        abort();
    const char *path = fuzz_write_input(data, size);
    if (path && reco_dataset_read_test_negatives(test, path) == RECO_OK) {
        size_t count;
        for (size_t row = 0; row < reco_dataset_size(test); row++)
            reco_dataset_test_negatives(test, row, &count);
    }
    reco_dataset_free(all);
    reco_dataset_free(train);
    reco_dataset_free(test);
    return 0;
}

/* libFuzzer harness: the titles reader (movies.dat, u.item, movies.csv) on
 * a dataset whose items are 1..20. */
#include "fuzz_input.h"
#include "reco/reco.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static reco_dataset *dataset;
    if (!dataset) {
        int64_t users[20], items[20];
        for (int i = 0; i < 20; i++) {
            users[i] = i % 4;
            items[i] = i + 1;
        }
        if (reco_dataset_from_arrays(users, items, NULL, NULL, 20, &dataset) != RECO_OK)
            abort();
    }
    const char *path = fuzz_write_input(data, size);
    if (path && reco_dataset_read_titles(dataset, path) == RECO_OK)
        for (int32_t item = 0; item < 20; item++)
            reco_dataset_item_title(dataset, item);
    return 0;
}

// The public headers compile as C++ and link without name mangling.
#include <cstdio>

#include "reco/reco.h"

int main()
{
    reco_dataset *dataset = nullptr;
    if (reco_dataset_synthetic(4, 8, 8, 1, &dataset) != RECO_OK)
        return 1;
    bool ok = reco_dataset_size(dataset) == 8 &&
              reco_version_number() == RECO_VERSION_NUMBER;
    reco_dataset_free(dataset);
    std::printf("%s\n", ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return ok ? 0 : 1;
}

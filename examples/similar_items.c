/* similar_items: items nearest a given item by cosine similarity of the
 * embeddings a GMF model learned, with titles when given.
 * Usage: similar_items [ratings-file [titles-file [item-id]]] */
#include <stdio.h>
#include <stdlib.h>

#include "reco/reco.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL, *titles = argc > 2 ? argv[2] : NULL;
    int64_t item_id = argc > 3 ? atoll(argv[3]) : 1;
    reco_dataset *data = NULL;
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    reco_trainer *trainer = NULL;
    int32_t item, items[10];
    float similarities[10];
    size_t n = 0;
    reco_status status = path ? reco_dataset_read(path, RECO_FORMAT_AUTO, &data)
                              : reco_dataset_synthetic(943, 1682, 100000, 5, &data);
    if (status == RECO_OK && titles)
        status = reco_dataset_read_titles(data, titles);
    if (status == RECO_OK)
        status = reco_backend_open("auto", &backend);
    if (status == RECO_OK)
        status = reco_model_new(RECO_MODEL_GMF, reco_dataset_n_users(data),
                                reco_dataset_n_items(data), &model);
    if (status == RECO_OK)
        status = reco_model_set_factors(model, 16);
    if (status == RECO_OK)
        status = reco_model_init(model, backend, 5);
    if (status == RECO_OK)
        status = reco_trainer_new(model, &trainer);
    if (status == RECO_OK)
        status = reco_trainer_fit(trainer, data, 5);
    if (status == RECO_OK)
        status = reco_dataset_item_index(data, item_id, &item);
    if (status == RECO_OK)
        status = reco_model_similar_items(model, item, 10, items, similarities, &n);
    if (status != RECO_OK) {
        fprintf(stderr, "similar_items: %s: %s\n", reco_status_string(status), reco_last_error());
        return 1;
    }
    const char *title = reco_dataset_item_title(data, item);
    printf("items nearest %lld %s\n", (long long)item_id, title ? title : "");
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        reco_dataset_item_id(data, items[i], &id);
        title = reco_dataset_item_title(data, items[i]);
        printf("  %.4f  %-8lld %s\n", similarities[i], (long long)id, title ? title : "");
    }
    reco_trainer_free(trainer);
    reco_model_free(model);
    reco_backend_free(backend);
    reco_dataset_free(data);
    return 0;
}

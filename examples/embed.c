/* embed: the smallest program that serves a libreco model. It loads a model
 * file and prints the scores of (user, item) pairs given by their original
 * ids. Build it against an installed libreco:
 *   cc embed.c $(pkg-config --cflags --libs libreco) -o embed
 * Usage: embed model.reco USER_ID ITEM_ID [ITEM_ID ...] */
#include <stdio.h>
#include <stdlib.h>

#include <reco/reco.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: embed model.reco USER_ID ITEM_ID [ITEM_ID ...]\n");
        return 2;
    }
    reco_backend *backend = NULL;
    reco_model *model = NULL;
    int32_t user;
    reco_status status = reco_backend_open("cpu", &backend);
    if (status == RECO_OK)
        status = reco_model_load(argv[1], backend, &model);
    if (status == RECO_OK)
        status = reco_model_user_index(model, atoll(argv[2]), &user);
    for (int i = 3; i < argc && status == RECO_OK; i++) {
        int32_t item;
        float score;
        status = reco_model_item_index(model, atoll(argv[i]), &item);
        if (status == RECO_OK)
            status = reco_model_predict(model, &user, &item, 1, &score);
        if (status == RECO_OK)
            printf("%s %s %.6f\n", argv[2], argv[i], score);
    }
    if (status != RECO_OK)
        fprintf(stderr, "embed: %s\n", reco_last_error());
    reco_model_free(model);
    reco_backend_free(backend);
    return status == RECO_OK ? 0 : 1;
}

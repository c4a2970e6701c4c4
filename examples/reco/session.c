/* A model loaded for questions, with the data it was trained on. */
#include <stdio.h>

#include "session.h"

void session_free(session *s)
{
    reco_model_free(s->model);
    reco_backend_free(s->backend);
    reco_dataset_free(s->data);
}

/* Loads --model, and --data (+ --titles) when given; the data's vocabulary
 * must be the model's, as when the model was trained on that file. */
int open_session(options *opts, session *s, int need_data)
{
    const char *model_path = option_text(opts, "model", NULL);
    const char *data_path = option_text(opts, "data", NULL);
    const char *titles = option_text(opts, "titles", NULL);
    const char *backend = option_text(opts, "backend", "cpu");
    if (!model_path || (need_data && !data_path) || (titles && !data_path)) {
        usage_error(opts, "needs --model FILE%s",
                    need_data || titles ? " and --data FILE (the ratings it was trained on)" : "");
        return EXIT_USAGE;
    }
    reco_status status = reco_backend_open(backend, &s->backend);
    if (status == RECO_OK)
        status = reco_model_load(model_path, s->backend, &s->model);
    if (status != RECO_OK)
        return fail(model_path, status);
    if (data_path) {
        status = reco_dataset_read(data_path, RECO_FORMAT_AUTO, &s->data);
        size_t rated = status == RECO_OK ? reco_dataset_n_items(s->data) : 0, titled = 0;
        if (status == RECO_OK && titles)
            status = reco_dataset_read_titles(s->data, titles);
        if (status != RECO_OK)
            return fail(data_path, status);
        for (size_t i = 0; titles && i < rated; i++)
            titled += reco_dataset_item_title(s->data, (int32_t)i) != NULL;
        /* titles of another dataset would print the wrong names, or none */
        if (titles && 2 * titled < rated) {
            fprintf(stderr,
                    "reco: %s names %zu of the %zu items rated in %s: titles of "
                    "another dataset?\n",
                    titles, titled, rated, data_path);
            return EXIT_RUNTIME;
        }

        int64_t data_id, model_id;
        int32_t last = (int32_t)reco_dataset_n_items(s->data) - 1;
        if (reco_dataset_n_items(s->data) != reco_model_n_items(s->model) ||
            reco_dataset_item_id(s->data, last, &data_id) != RECO_OK ||
            reco_model_item_id(s->model, last, &model_id) != RECO_OK || data_id != model_id) {
            fprintf(stderr, "reco: %s is not the data %s was trained on\n", data_path, model_path);
            return EXIT_RUNTIME;
        }
    }
    return EXIT_OK;
}

/* A model loaded for questions, with the data it was trained on. */
#include <stdio.h>

#include "session.h"

const char *id_text(const reco_model *model, int users, int32_t index, char *text)
{
    reco_status status = users ? reco_model_user_id_text(model, index, text, RECO_ID_TEXT_MAX)
                               : reco_model_item_id_text(model, index, text, RECO_ID_TEXT_MAX);
    if (status != RECO_OK)
        snprintf(text, RECO_ID_TEXT_MAX, "%d", (int)index);
    return text;
}

void write_json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        if ((unsigned char)*p < 0x20)
            fprintf(out, "\\u%04x", (unsigned char)*p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

void write_json_id(FILE *out, const reco_model *model, int users, int32_t index)
{
    int64_t id;
    char text[RECO_ID_TEXT_MAX];
    reco_status status =
        users ? reco_model_user_id(model, index, &id) : reco_model_item_id(model, index, &id);
    if (status == RECO_OK)
        fprintf(out, "%lld", (long long)id);
    else
        write_json_string(out, id_text(model, users, index, text));
}

void session_free(session *s)
{
    reco_model_free(s->model);
    reco_backend_free(s->backend);
    reco_dataset_free(s->data);
    reco_dataset_free(s->titled);
    reco_filter_free(s->filter);
    reco_index_free(s->index);
}

int session_check(const session *s, const reco_dataset *data, const char *path)
{
    /* another dataset's ids would be new to the model, or mean other things */
    size_t known = reco_model_n_items(s->model), named = reco_dataset_n_items(data);
    if (named > known && 2 * (named - known) > named) {
        fprintf(stderr,
                "reco: %zu of the %zu items %s names are unknown to the model: not "
                "the data it was trained on\n",
                named - known, named, path);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int session_read(const session *s, const char *path, reco_dataset **out)
{
    reco_dataset *vocabulary = NULL;
    reco_status status = reco_model_vocabulary_dataset(s->model, &vocabulary);
    if (status == RECO_OK)
        status = reco_dataset_read_shared(path, RECO_FORMAT_AUTO, vocabulary, out);
    reco_dataset_free(vocabulary);
    if (status != RECO_OK)
        return fail(path, status);
    return session_check(s, *out, path);
}

/* Loads --model, and --data (+ --titles) when given, read with the model's
 * vocabulary. */
int open_session(options *opts, session *s, int need_data)
{
    const char *model_path = option_text(opts, "model", NULL);
    const char *data_path = option_text(opts, "data", NULL);
    const char *titles = option_text(opts, "titles", NULL);
    const char *backend = option_text(opts, "backend", "cpu");
    if (!model_path) {
        usage_error(opts, "needs --model FILE%s",
                    need_data == 1 ? " and --data FILE (the ratings it was trained on)" : "");
        return EXIT_USAGE;
    }
    /* titles alone name a recommendation's items (and give its genres) */
    if (!data_path && (need_data == 1 || (titles && need_data != SESSION_TITLES_ALONE))) {
        usage_error(opts, "%s --data FILE (the ratings the model was trained on%s)",
                    titles ? "--titles needs" : "needs",
                    titles ? ": titles are matched to its item ids" : "");
        return EXIT_USAGE;
    }
    reco_status status = reco_backend_open(backend, &s->backend);
    if (status == RECO_OK)
        status = reco_model_load(model_path, s->backend, &s->model);
    if (status != RECO_OK)
        return fail(model_path, status);
    if (!data_path && titles) {
        /* titles on the model's own ids, for the names alone */
        status = reco_model_vocabulary_dataset(s->model, &s->titled);
        if (status == RECO_OK)
            status = reco_dataset_read_titles(s->titled, titles);
        return status == RECO_OK ? EXIT_OK : fail(titles, status);
    }
    if (!data_path)
        return EXIT_OK;
    int code = session_read(s, data_path, &s->data);
    if (code != EXIT_OK || !titles)
        return code;
    size_t rated = reco_dataset_n_items(s->data), titled = 0;
    if ((status = reco_dataset_read_titles(s->data, titles)) != RECO_OK)
        return fail(titles, status);
    for (size_t i = 0; i < rated; i++)
        titled += reco_dataset_item_title(s->data, (int32_t)i) != NULL;
    /* titles of another dataset would print the wrong names, or none */
    if (2 * titled < rated) {
        fprintf(stderr, "reco: %s names %zu of the %zu items of %s: titles of another dataset?\n",
                titles, titled, rated, data_path);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

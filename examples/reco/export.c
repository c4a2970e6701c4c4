/* reco export: a model's user and item factors (its embeddings: GMF then
 * MLP), biases and external ids, as TSV or NumPy .npy files, for use
 * outside libreco (seed 001's get_W / get_H). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "session.h"

/* One side's ids, factors and (biased MF) biases. */
typedef struct side {
    const char *name; /* "user" or "item" */
    size_t rows;
    char *ids;      /* rows x RECO_ID_TEXT_MAX, as text */
    int numeric;    /* every id an integer: .npy ids as int64 */
    float *factors; /* rows x dim */
    float *biases;  /* rows, or NULL */
} side;

static void side_free(side *s)
{
    free(s->ids);
    free(s->factors);
    free(s->biases);
}

static reco_status side_load(const reco_model *model, int users, int with_biases, side *s)
{
    size_t dim = reco_model_embedding_dim(model);
    s->name = users ? "user" : "item";
    s->rows = users ? reco_model_n_users(model) : reco_model_n_items(model);
    s->ids = malloc((s->rows + 1) * RECO_ID_TEXT_MAX);
    s->factors = malloc((s->rows * dim + 1) * sizeof *s->factors);
    s->biases = with_biases ? malloc((s->rows + 1) * sizeof *s->biases) : NULL;
    if (!s->ids || !s->factors || (with_biases && !s->biases))
        return RECO_ERR_OUT_OF_MEMORY;
    reco_status status = users ? reco_model_get_user_embeddings(model, s->factors)
                               : reco_model_get_item_embeddings(model, s->factors);
    s->numeric = 1;
    for (size_t i = 0; i < s->rows && status == RECO_OK; i++) {
        char *text = s->ids + i * RECO_ID_TEXT_MAX;
        id_text(model, users, (int32_t)i, text);
        int64_t id;
        s->numeric = s->numeric && (users ? reco_model_user_id(model, (int32_t)i, &id)
                                          : reco_model_item_id(model, (int32_t)i, &id)) == RECO_OK;
    }
    if (status == RECO_OK && with_biases)
        status =
            reco_model_get_biases(model, users ? s->biases : NULL, users ? NULL : s->biases, NULL);
    return status;
}

static int write_tsv(const char *path, const side *s, size_t dim)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return 0;
    fprintf(out, "%s_id", s->name);
    for (size_t d = 0; d < dim; d++)
        fprintf(out, "\tf%zu", d);
    fputs(s->biases ? "\tbias\n" : "\n", out);
    for (size_t i = 0; i < s->rows; i++) {
        fputs(s->ids + i * RECO_ID_TEXT_MAX, out);
        for (size_t d = 0; d < dim; d++)
            fprintf(out, "\t%.9g", s->factors[i * dim + d]);
        if (s->biases)
            fprintf(out, "\t%.9g", s->biases[i]);
        fputc('\n', out);
    }
    int written = !ferror(out);
    return fclose(out) == 0 && written;
}

/* A NumPy .npy file (format 1.0, little-endian): `descr` '<f4', '<i8' or '|S8',
 * `shape` as Python writes it: "(n,)", "(n, d)" or "()". */
static int write_npy(const char *path, const char *descr, const char *shape, const void *data,
                     size_t bytes)
{
    char header[256];
    int length = snprintf(header, sizeof header,
                          "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    /* magic (6) + version (2) + header length (2) + header + newline: a multiple of 64 */
    size_t total = (10 + (size_t)length + 1 + 63) / 64 * 64;
    FILE *out = fopen(path, "wb");
    if (!out)
        return 0;
    unsigned short header_length = (unsigned short)(total - 10);
    unsigned char prefix[10] = {0x93,
                                'N',
                                'U',
                                'M',
                                'P',
                                'Y',
                                1,
                                0,
                                (unsigned char)(header_length & 0xff),
                                (unsigned char)(header_length >> 8)};
    fwrite(prefix, 1, sizeof prefix, out);
    fputs(header, out);
    for (size_t i = 10 + (size_t)length; i < total - 1; i++)
        fputc(' ', out);
    fputc('\n', out);
    int written = fwrite(data, 1, bytes, out) == bytes && !ferror(out);
    return fclose(out) == 0 && written;
}

static int write_npy_side(const char *prefix, const side *s, size_t dim, char *path,
                          size_t path_size)
{
    char shape[64], descr[16];
    snprintf(path, path_size, "%s_%s_ids.npy", prefix, s->name);
    snprintf(shape, sizeof shape, "(%zu,)", s->rows);
    /* integer ids as int64; text ids as fixed-width byte strings (numpy 'S') */
    size_t width = 1;
    for (size_t i = 0; i < s->rows; i++)
        if (strlen(s->ids + i * RECO_ID_TEXT_MAX) > width)
            width = strlen(s->ids + i * RECO_ID_TEXT_MAX);
    size_t item_size = s->numeric ? sizeof(int64_t) : width;
    char *packed = calloc(s->rows + 1, item_size);
    if (!packed)
        return 0;
    for (size_t i = 0; i < s->rows; i++) {
        const char *text = s->ids + i * RECO_ID_TEXT_MAX;
        if (s->numeric) {
            int64_t id = strtoll(text, NULL, 10);
            memcpy(packed + i * item_size, &id, sizeof id);
        } else {
            memcpy(packed + i * item_size, text, strlen(text));
        }
    }
    snprintf(descr, sizeof descr, s->numeric ? "<i8" : "|S%zu", width);
    int written = write_npy(path, descr, shape, packed, s->rows * item_size);
    free(packed);
    if (!written)
        return 0;
    snprintf(path, path_size, "%s_%s_factors.npy", prefix, s->name);
    snprintf(shape, sizeof shape, "(%zu, %zu)", s->rows, dim);
    if (!write_npy(path, "<f4", shape, s->factors, s->rows * dim * sizeof *s->factors))
        return 0;
    snprintf(path, path_size, "%s_%s_biases.npy", prefix, s->name);
    snprintf(shape, sizeof shape, "(%zu,)", s->rows);
    return !s->biases || write_npy(path, "<f4", shape, s->biases, s->rows * sizeof *s->biases);
}

static int command_export(options *opts)
{
    const char *model_path = option_text(opts, "model", NULL);
    const char *prefix = option_text(opts, "out", NULL);
    const char *format = option_text(opts, "format", "tsv");
    int json = option_switch(opts, "json"), npy = strcmp(format, "npy") == 0;
    if (!model_path || !prefix) {
        usage_error(opts, "needs --model FILE and --out PREFIX");
        return EXIT_USAGE;
    }
    if (!npy && strcmp(format, "tsv") != 0) {
        usage_error(opts, "--format %s: expected tsv or npy", format);
        return EXIT_USAGE;
    }
    session loaded = {0};
    side sides[2] = {{0}, {0}};
    float global_bias = 0.0f;
    int code = open_session(opts, &loaded, 0);
    reco_model *model = loaded.model;
    int biases =
        code == EXIT_OK && reco_model_get_biases(model, NULL, NULL, &global_bias) == RECO_OK;
    reco_status status = RECO_OK;
    for (int s = 0; s < 2 && code == EXIT_OK && status == RECO_OK; s++)
        status = side_load(model, s == 0, biases, &sides[s]);
    if (code == EXIT_OK && status != RECO_OK)
        code = fail(model_path, status);
    size_t dim = model ? reco_model_embedding_dim(model) : 0;
    char path[4096];
    for (int s = 0; s < 2 && code == EXIT_OK; s++) {
        snprintf(path, sizeof path, "%s_%ss.tsv", prefix, sides[s].name);
        if (!(npy ? write_npy_side(prefix, &sides[s], dim, path, sizeof path)
                  : write_tsv(path, &sides[s], dim))) {
            fprintf(stderr, "reco: cannot write %s\n", path);
            code = EXIT_RUNTIME;
        }
    }
    if (code == EXIT_OK && npy && biases) {
        snprintf(path, sizeof path, "%s_global_bias.npy", prefix);
        if (!write_npy(path, "<f4", "()", &global_bias, sizeof global_bias)) {
            fprintf(stderr, "reco: cannot write %s\n", path);
            code = EXIT_RUNTIME;
        }
    }
    if (code == EXIT_OK && json)
        printf("{\"users\": %zu, \"items\": %zu, \"dim\": %zu, \"biases\": %s, \"global_bias\": "
               "%.9g, \"format\": \"%s\", \"prefix\": \"%s\"}\n",
               sides[0].rows, sides[1].rows, dim, biases ? "true" : "false", global_bias, format,
               prefix);
    else if (code == EXIT_OK && biases)
        printf("exported %zu users and %zu items, %zu factors and biases, to %s_*.%s; global "
               "bias %.6g\n",
               sides[0].rows, sides[1].rows, dim, prefix, format, global_bias);
    else if (code == EXIT_OK)
        printf("exported %zu users and %zu items, %zu factors, to %s_*.%s\n", sides[0].rows,
               sides[1].rows, dim, prefix, format);
    for (int s = 0; s < 2; s++)
        side_free(&sides[s]);
    session_free(&loaded);
    return code;
}

static const flag_spec export_flags[] = {
    {"model", "FILE", NULL, "the model file (or give it as the first word)"},
    {"out", "PREFIX", NULL, "writes PREFIX_users.tsv and PREFIX_items.tsv (or the .npy files)"},
    {"format", "tsv|npy", "tsv", "TSV (id, factors, bias) or NumPy: ids, factors, biases apart"},
    {"json", NULL, NULL, "a JSON summary"},
    {NULL}};

const command_spec export_command = {"export",
                                     "write a model's factors, biases and ids as TSV or .npy",
                                     command_export, export_flags};

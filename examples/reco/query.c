/* reco info, recommend and similar: questions to a saved model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "job.h"
#include "session.h"
#include "projection.h"
#include "svg.h"

static const char *kind_name(reco_model_kind kind)
{
    const char *name = reco_model_kind_name(kind);
    return name ? name : "unknown";
}

static int command_info(options *opts)
{
    int json = option_switch(opts, "json");
    const char *path = option_text(opts, "model", NULL);
    if (!path) {
        usage_error(opts, "needs --model FILE (or the file as its first word)");
        return EXIT_USAGE;
    }
    session s = {0};
    int code = open_session(opts, &s, 0);
    if (code == EXIT_OK) {
        char id[RECO_ID_TEXT_MAX];
        int vocabulary = reco_model_n_users(s.model) == 0 ||
                         reco_model_user_id_text(s.model, 0, id, sizeof id) != RECO_ERR_STATE;
        size_t n_notes = reco_model_metadata_count(s.model);
        if (json)
            printf("{\"model\": \"%s\", \"users\": %zu, \"items\": %zu, \"parameters\": %zu, "
                   "\"embedding_dim\": %zu, \"vocabulary\": %s, \"metadata\": {",
                   kind_name(reco_model_kind_of(s.model)), reco_model_n_users(s.model),
                   reco_model_n_items(s.model), reco_model_parameter_count(s.model),
                   reco_model_embedding_dim(s.model), vocabulary ? "true" : "false");
        else
            printf("%s: %s model, %zu users x %zu items, %zu parameters, embeddings of %zu, "
                   "%s\n",
                   path, kind_name(reco_model_kind_of(s.model)), reco_model_n_users(s.model),
                   reco_model_n_items(s.model), reco_model_parameter_count(s.model),
                   reco_model_embedding_dim(s.model),
                   vocabulary ? "original ids kept" : "no vocabulary");
        /* what reco train recorded: its settings, then the history per epoch */
        for (size_t i = 0; i < n_notes; i++) {
            const char *key = reco_model_metadata_key(s.model, i);
            const char *value = reco_model_metadata(s.model, key);
            if (json) {
                printf("%s", i ? ", " : "");
                write_json_string(stdout, key);
                printf(": ");
                write_json_string(stdout, value);
            } else if (strchr(value, '\n')) { /* the history: a line per epoch */
                printf("%s:\n", key);
                for (const char *line = value; *line;) {
                    size_t length = strcspn(line, "\n");
                    printf("  %.*s\n", (int)length, line);
                    line += length + (line[length] != '\0');
                }
            } else {
                printf("%-26s %s\n", key, value);
            }
        }
        if (json)
            printf("}}\n");
    }
    session_free(&s);
    return code;
}

/* Prints ranked items (or users) with their ids, scores and titles. */
static void print_items(const session *s, const int32_t *items, const float *scores, size_t n,
                        int json, const char *score_name, int users)
{
    if (json)
        printf("[");
    char id[RECO_ID_TEXT_MAX];
    for (size_t i = 0; i < n; i++) {
        const reco_dataset *titled = s->data ? s->data : s->titled;
        const char *title = titled && !users ? reco_dataset_item_title(titled, items[i]) : NULL;
        if (json) {
            printf("%s{\"%s\": ", i ? ", " : "", users ? "user" : "item");
            write_json_id(stdout, s->model, users, items[i]);
            printf(", \"%s\": %.6f", score_name, scores[i]);
            if (title) {
                printf(", \"title\": ");
                write_json_string(stdout, title);
            }
            printf("}");
        } else {
            printf("%3zu. %-8s %s %.4f  %s\n", i + 1, id_text(s->model, users, items[i], id),
                   score_name, scores[i], title ? title : "");
        }
    }
    if (json)
        printf("]");
}

/* The items a picture shows: the query, its neighbours, then every other
 * item or, past `limit`, an even stride of them (t-SNE is O(n^2)). */
static size_t pick_points(size_t n_items, int32_t query, const int32_t *near, size_t n_near,
                          size_t limit, int32_t *chosen, unsigned char *roles)
{
    size_t n = 0;
    chosen[n] = query;
    roles[n++] = SVG_QUERY;
    for (size_t i = 0; i < n_near; i++) {
        chosen[n] = near[i];
        roles[n++] = SVG_NEIGHBOUR;
    }
    size_t others = n_items - 1 - n_near, room = limit > n ? limit - n : 0;
    size_t stride = others > room && room > 0 ? (others + room - 1) / room : 1;
    for (size_t item = 0, seen = 0; item < n_items && n < limit; item++) {
        int taken = (int32_t)item == query;
        for (size_t i = 0; i < n_near && !taken; i++)
            taken = near[i] == (int32_t)item;
        if (!taken && seen++ % stride == 0) {
            chosen[n] = (int32_t)item;
            roles[n++] = SVG_OTHER;
        }
    }
    return n;
}

/* Draws the item embeddings in two dimensions (PCA or t-SNE), the query item
 * and its neighbours highlighted and labelled with their titles (or ids). */
static int plot_items(const session *s, const char *path, int tsne, size_t limit, int32_t query,
                      const int32_t *near, size_t n_near)
{
    size_t n_items = reco_model_n_items(s->model), dim = reco_model_embedding_dim(s->model);
    float *all = malloc(n_items * dim * sizeof *all), *rows = malloc(n_items * dim * sizeof *rows);
    double *x = malloc(n_items * sizeof *x), *y = malloc(n_items * sizeof *y);
    int32_t *chosen = malloc(n_items * sizeof *chosen);
    unsigned char *roles = malloc(n_items);
    const char **labels = calloc(n_items, sizeof *labels);
    char(*ids)[RECO_ID_TEXT_MAX] = malloc((n_near + 1) * sizeof *ids);
    int ok = all && rows && x && y && chosen && roles && labels && ids &&
             reco_model_get_item_embeddings(s->model, all) == RECO_OK;
    size_t n = ok ? pick_points(n_items, query, near, n_near, limit, chosen, roles) : 0;
    for (size_t i = 0; i < n; i++)
        memcpy(rows + i * dim, all + (size_t)chosen[i] * dim, dim * sizeof *rows);
    double shares[2] = {0.0, 0.0};
    ok = ok && (tsne ? projection_tsne(rows, n, dim, 30.0, x, y)
                     : projection_pca(rows, n, dim, x, y, shares));
    for (size_t i = 0; ok && i <= n_near; i++) {
        const reco_dataset *titled = s->data ? s->data : s->titled;
        const char *title = titled ? reco_dataset_item_title(titled, chosen[i]) : NULL;
        labels[i] = title ? title : id_text(s->model, 0, chosen[i], ids[i]);
    }
    char x_label[64], y_label[64], title[160];
    snprintf(x_label, sizeof x_label, tsne ? "t-SNE 1" : "principal component 1 (%.0f%%)",
             100.0 * shares[0]);
    snprintf(y_label, sizeof y_label, tsne ? "t-SNE 2" : "principal component 2 (%.0f%%)",
             100.0 * shares[1]);
    snprintf(title, sizeof title, "%zu item embeddings (%s), %s and its %zu nearest", n,
             tsne ? "t-SNE, cosine" : "PCA", labels[0] ? labels[0] : "the item", n_near);
    ok = ok && svg_scatter(path, title, x_label, y_label, x, y, labels, roles, n);
    free(all), free(rows), free(x), free(y), free(chosen), free(roles), free(labels), free(ids);
    return ok;
}

/* What differs between `recommend` (for a user) and `similar` (to an item). */
typedef struct ranked_query {
    const char *command, *id_flag, *json_list, *score_name;
    int needs_data;  /* recommend: the seen items, from the model or the training data */
    int users;       /* the ranks are users (similar --user) */
    int plots;       /* similar: --plot draws the item map */
    reco_status (*index_of)(const reco_model *, const char *, int32_t *);
    reco_status (*rank)(session *, int32_t, size_t, int32_t *, float *, size_t *);
} ranked_query;

static reco_status recommend_for(session *s, int32_t user, size_t k, int32_t *items,
                                 float *scores, size_t *n)
{
    if (s->index)
        return reco_model_recommend_approximate(s->model, s->index, &user, 1, k, s->ef, s->filter,
                                                items, scores, n);
    return reco_model_recommend_filtered(s->model, &user, 1, k, s->filter, items, scores, n);
}

static reco_status similar_to(session *s, int32_t item, size_t k, int32_t *items,
                              float *scores, size_t *n)
{
    return reco_model_similar_items(s->model, item, k, items, scores, n);
}

/* Writes one user's list: TSV lines (user, item, rank, score) or a JSON line. */
static void write_user_list(FILE *out, const session *s, int32_t user, const int32_t *items,
                            const float *scores, size_t n, int json)
{
    char user_id[RECO_ID_TEXT_MAX], item_id[RECO_ID_TEXT_MAX];
    id_text(s->model, 1, user, user_id);
    if (json) {
        fputs("{\"user\": ", out);
        write_json_id(out, s->model, 1, user);
        fputs(", \"items\": [", out);
    }
    for (size_t i = 0; i < n; i++) {
        if (json) {
            fputs(i ? ", " : "", out);
            write_json_id(out, s->model, 0, items[i]);
        } else {
            fprintf(out, "%s\t%s\t%zu\t%.6g\n", user_id, id_text(s->model, 0, items[i], item_id),
                    i + 1, scores[i]);
        }
    }
    if (json) {
        fputs("], \"scores\": [", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%s%.6g", i ? ", " : "", scores[i]);
        fputs("]}\n", out);
    }
}

/* reco recommend --all: every user's top k, seen items left out, ranked in
 * blocks of users (one product per block on the CPU backend's threads). */
static int recommend_all(options *opts, const session *s, size_t k, int json)
{
    enum { BLOCK = 4096 };
    const char *path = option_text(opts, "out", NULL);
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "reco: cannot write %s\n", path);
        return EXIT_RUNTIME;
    }
    if (!json)
        fputs("user_id\titem_id\trank\tscore\n", out);
    int32_t users[BLOCK];
    int32_t *items = malloc(BLOCK * k * sizeof *items);
    float *scores = malloc(BLOCK * k * sizeof *scores);
    size_t counts[BLOCK], n_users = reco_model_n_users(s->model);
    reco_status status = items && scores ? RECO_OK : RECO_ERR_OUT_OF_MEMORY;
    for (size_t first = 0; first < n_users && status == RECO_OK; first += BLOCK) {
        size_t n = n_users - first < BLOCK ? n_users - first : BLOCK;
        for (size_t u = 0; u < n; u++)
            users[u] = (int32_t)(first + u);
        status = s->index ? reco_model_recommend_approximate(s->model, s->index, users, n, k,
                                                             s->ef, s->filter, items, scores,
                                                             counts)
                          : reco_model_recommend_filtered(s->model, users, n, k, s->filter,
                                                          items, scores, counts);
        for (size_t u = 0; u < n && status == RECO_OK; u++)
            write_user_list(out, s, users[u], items + u * k, scores + u * k, counts[u], json);
    }
    free(items);
    free(scores);
    int written = !ferror(out);
    if (path && fclose(out) != 0)
        written = 0;
    if (status != RECO_OK)
        return fail("recommend --all", status);
    if (!written) {
        fprintf(stderr, "reco: cannot write %s\n", path ? path : "standard output");
        return EXIT_RUNTIME;
    }
    if (path)
        fprintf(stderr, "wrote the top %zu of %zu users to %s\n", k, n_users, path);
    return EXIT_OK;
}

/* Reads the item ids of `path` (whitespace-separated, as the model names
 * them) into a new array; an exit code, the problem printed. */
static int read_item_list(const session *s, const char *path, int32_t **items, size_t *n)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "reco: cannot read %s\n", path);
        return EXIT_RUNTIME;
    }
    char id[RECO_ID_TEXT_MAX];
    size_t capacity = 0;
    int code = EXIT_OK;
    *items = NULL;
    *n = 0;
    while (code == EXIT_OK && fscanf(file, "%255s", id) == 1) {
        if (*n == capacity) {
            capacity = capacity ? 2 * capacity : 256;
            int32_t *grown = realloc(*items, capacity * sizeof *grown);
            if (!grown) {
                code = fail(path, RECO_ERR_OUT_OF_MEMORY);
                break;
            }
            *items = grown;
        }
        if (reco_model_item_index_of_text(s->model, id, *items + *n) != RECO_OK) {
            fprintf(stderr, "reco: %s: item %s is not the model's\n", path, id);
            code = EXIT_RUNTIME;
        }
        ++*n;
    }
    fclose(file);
    return code;
}

/* --genre A,B: items of genre A or B; --not-genre C,D: none of genre C or
 * D (the --titles file's genres). */
static int filter_genres(const session *s, const char *genres[2], const char *titles)
{
    reco_item_tags *tags = NULL;
    reco_status status = reco_item_tags_read(s->model, titles, &tags);
    if (status != RECO_OK)
        return fail(titles, status);
    int code = EXIT_OK;
    for (int g = 0; g < 2 && code == EXIT_OK; g++) {
        char *list = genres[g] ? strdup(genres[g]) : NULL, *save = NULL;
        if (genres[g] && !list)
            status = RECO_ERR_OUT_OF_MEMORY;
        for (char *name = list ? strtok_r(list, ",", &save) : NULL; name && status == RECO_OK;
             name = strtok_r(NULL, ",", &save))
            status = g ? reco_filter_exclude_tag(s->filter, tags, name)
                       : reco_filter_include_tag(s->filter, tags, name);
        free(list);
        if (status != RECO_OK)
            code = fail(g ? "--not-genre" : "--genre", status);
    }
    reco_item_tags_free(tags);
    return code;
}

/* recommend's filter: --data's items (or the model's seen items) left out,
 * then --exclude, --only and --genre. An exit code, the problem printed. */
static int make_filter(options *opts, session *s)
{
    const char *lists[2] = {option_text(opts, "exclude", NULL), option_text(opts, "only", NULL)};
    const char *genres[2] = {option_text(opts, "genre", NULL), option_text(opts, "not-genre", NULL)};
    const char *titles = option_text(opts, "titles", NULL);
    if ((genres[0] || genres[1]) && !titles) {
        usage_error(opts, "--genre and --not-genre need --titles FILE (the items' genres)");
        return EXIT_USAGE;
    }
    reco_status status = reco_filter_new(s->model, &s->filter);
    if (status == RECO_OK && s->data)
        status = reco_filter_set_seen(s->filter, RECO_SEEN_DATASET, s->data);
    if (status != RECO_OK)
        return fail("recommend", status);
    int code = EXIT_OK;
    for (int l = 0; l < 2 && code == EXIT_OK; l++) {
        int32_t *items = NULL;
        size_t n = 0;
        if (lists[l] && (code = read_item_list(s, lists[l], &items, &n)) == EXIT_OK) {
            status = l == 0 ? reco_filter_exclude_items(s->filter, items, n)
                            : reco_filter_only_items(s->filter, items, n);
            if (status != RECO_OK)
                code = fail(lists[l], status);
        }
        free(items);
    }
    return code == EXIT_OK && (genres[0] || genres[1]) ? filter_genres(s, genres, titles) : code;
}

/* --approximate: the index beside the model (MODEL.hnsw), built and saved
 * there when it is not yet; an exit code, the problem printed. */
static int open_index(options *opts, session *s)
{
    int ok = 1;
    s->ef = option_count(opts, "ef", 100, 1, 100000, &ok);
    if (!ok)
        return EXIT_USAGE;
    char path[4096];
    snprintf(path, sizeof path, "%s.hnsw", option_text(opts, "model", ""));
    FILE *exists = fopen(path, "rb");
    if (exists) {
        fclose(exists);
        reco_status status = reco_index_load(s->model, path, &s->index);
        return status == RECO_OK ? EXIT_OK : fail(path, status);
    }
    reco_status status = reco_index_build(s->model, 16, 100, 42, &s->index);
    if (status != RECO_OK)
        return fail("--approximate", status);
    if (reco_index_save(s->index, path) == RECO_OK)
        fprintf(stderr, "built the item index %s (m 16, ef_construction 100)\n", path);
    else
        fprintf(stderr, "reco: built the item index, but cannot save it as %s: %s\n", path,
                reco_last_error());
    return EXIT_OK;
}

/* Looks the id up, ranks, prints (and, for items, plots). */
static int run_ranked_query(options *opts, const ranked_query *query)
{
    int ok = 1, json = option_switch(opts, "json");
    const char *wanted = option_text(opts, query->id_flag, NULL);
    const char *plot = query->plots ? option_text(opts, "plot", NULL) : NULL;
    size_t k = option_count(opts, "k", 10, 1, 10000, &ok);
    const char *projection = option_text(opts, "projection", "pca");
    int tsne = strcmp(projection, "tsne") == 0;
    if (!tsne && strcmp(projection, "pca") != 0) {
        usage_error(opts, "--projection %s: expected pca or tsne", projection);
        ok = 0;
    }
    size_t limit = option_count(opts, "points", tsne ? 1000 : 100000000, 2, 100000000, &ok);
    session s = {0};
    int code = open_session(opts, &s, query->needs_data ? SESSION_TITLES_ALONE : 0);
    if (code == EXIT_OK && query->needs_data && !s.data && !reco_model_has_seen(s.model)) {
        usage_error(opts, "needs --data FILE (the ratings it was trained on): the model keeps "
                          "no seen items");
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && query->needs_data)
        code = make_filter(opts, &s);
    if (code == EXIT_OK && query->needs_data && option_switch(opts, "approximate"))
        code = open_index(opts, &s);
    else if (code == EXIT_OK && option_switch(opts, "ef")) {
        usage_error(opts, "--ef goes with --approximate");
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && ok && query->needs_data && option_switch(opts, "all")) {
        code = wanted ? (usage_error(opts, "--all and --%s: one or the other", query->id_flag),
                         EXIT_USAGE)
                      : recommend_all(opts, &s, k, json);
        session_free(&s);
        return code;
    }
    if (code == EXIT_OK && (!ok || !wanted)) {
        if (!wanted)
            usage_error(opts, "needs --%s ID", query->id_flag);
        code = EXIT_USAGE;
    }
    int32_t index = 0;
    reco_status status = RECO_OK;
    if (code == EXIT_OK && (status = query->index_of(s.model, wanted, &index)))
        code = fail(query->id_flag, status);
    int32_t *items = malloc(k * sizeof *items);
    float *scores = malloc(k * sizeof *scores);
    size_t n = 0;
    if (code == EXIT_OK && (status = query->rank(&s, index, k, items, scores, &n)))
        code = fail(query->command, status);
    /* EASE and item-kNN rank items by their own weights, not by embeddings */
    reco_model_kind kind = code == EXIT_OK ? reco_model_kind_of(s.model) : RECO_MODEL_MF;
    int item_item = !query->needs_data && (kind == RECO_MODEL_EASE || kind == RECO_MODEL_ITEM_KNN);
    if (code == EXIT_OK) {
        if (json) {
            printf("{\"%s\": ", query->id_flag);
            write_json_id(stdout, s.model, query->users || query->needs_data, index);
            printf(", \"%s\": ", query->json_list);
        } else if (query->needs_data && s.data)
            printf("top %zu for user %s (items rated in %s left out):\n", n, wanted,
                   option_text(opts, "data", ""));
        else if (query->needs_data)
            printf("top %zu for user %s (its training items left out):\n", n, wanted);
        else if (item_item)
            printf("items nearest item %s by the %s model's item-item weights:\n", wanted,
                   kind_name(kind));
        else
            printf("%s nearest %s %s by cosine of embeddings:\n", query->users ? "users" : "items",
                   query->id_flag, wanted);
        print_items(&s, items, scores, n, json, item_item ? "weight" : query->score_name,
                    query->users);
        if (json)
            printf("}\n");
        if (plot && !plot_items(&s, plot, tsne, limit, index, items, n)) {
            fprintf(stderr, "reco: cannot write %s\n", plot);
            code = EXIT_RUNTIME;
        }
    }
    free(items);
    free(scores);
    session_free(&s);
    return code;
}

static int command_recommend(options *opts)
{
    static const ranked_query query = {
        "recommend",  "user", "items", "score", 1, 0, 0, reco_model_user_index_of_text,
        recommend_for};
    return run_ranked_query(opts, &query);
}

static reco_status similar_users_to(session *s, int32_t user, size_t k, int32_t *users,
                                    float *scores, size_t *n)
{
    return reco_model_similar_users(s->model, user, k, users, scores, n);
}

static int command_similar(options *opts)
{
    static const ranked_query items = {
        "similar", "item", "similar", "cosine", 0, 0, 1, reco_model_item_index_of_text, similar_to};
    static const ranked_query users = {
        "similar",       "user", "similar", "cosine", 0, 1, 0, reco_model_user_index_of_text,
        similar_users_to};
    if (option_switch(opts, "user") &&
        (option_switch(opts, "item") || option_switch(opts, "plot"))) {
        usage_error(opts, "--user goes without --item and --plot");
        return EXIT_USAGE;
    }
    if ((option_switch(opts, "projection") || option_switch(opts, "points")) &&
        !option_switch(opts, "plot")) {
        usage_error(opts, "--projection and --points go with --plot");
        return EXIT_USAGE;
    }
    return run_ranked_query(opts, option_switch(opts, "user") ? &users : &items);
}

/* reco eval: the split reco train made (from what it recorded in the model,
 * or the flags), or the pre-split files, read with the model's ids; every
 * metric the protocol measures. */
static int command_eval(options *opts)
{
    settings st;
    int code = job_read_settings(opts, &st, 0);
    if (code != EXIT_OK)
        return code;
    if (!st.data && !st.train_file) {
        usage_error(opts, "needs --data FILE, or --train FILE and --test FILE");
        return EXIT_USAGE;
    }
    session s = {0};
    run r = {0};
    reco_dataset *vocabulary = NULL;
    code = open_session(opts, &s, 0);
    reco_status status = RECO_OK;
    if (code == EXIT_OK) {
        job_settings_from_model(opts, &st, s.model);
        /* --data was read with the model's ids by the session: split it here */
        r.all = s.data;
        s.data = NULL;
        if (r.all && (status = job_prepare(&st, &r.all)) == RECO_OK)
            status = job_split(&st, &r);
        else if (!r.all &&
                 (status = reco_model_vocabulary_dataset(s.model, &vocabulary)) == RECO_OK)
            status = job_load(&st, &r, vocabulary);
        if (status != RECO_OK)
            code = fail(st.train_file ? "pre-split data" : st.data, status);
    }
    if (code == EXIT_OK && st.train_file)
        code = session_check(&s, r.all, st.train_file);
    double values[JOB_MAX_METRICS];
    r.model = s.model; /* the session's */
    if (code == EXIT_OK && (status = reco_metrics_new(&r.metrics)) == RECO_OK &&
        (status = reco_metrics_set_k(r.metrics, st.k)) == RECO_OK)
        status = job_evaluate(&st, &r, 0, values);
    if (code == EXIT_OK && status != RECO_OK)
        code = fail("evaluation", status);
    if (code == EXIT_OK) {
        printf(st.json ? "{\"rows\": %zu" : "%zu test rows", reco_dataset_size(r.test));
        job_print_metrics(stdout, &st, values, st.json, 0);
        printf(st.json ? "}\n" : "\n");
    }
    r.model = NULL;
    job_run_free(&r);
    reco_dataset_free(vocabulary);
    session_free(&s);
    return code;
}

/* The flags of the query commands; each command takes those it reads. */
#define MODEL_FLAG                                                                                 \
    {                                                                                              \
        "model", "FILE", NULL, "the model file (or give it as the first word)"                     \
    }
#define DATA_FLAG                                                                                  \
    {                                                                                              \
        "data", "FILE", NULL, "the ratings the model was trained on (its ids)"                     \
    }
#define TITLES_FLAG                                                                                \
    {                                                                                              \
        "titles", "FILE", NULL, "item titles: movies.dat, u.item or movies.csv"                    \
    }
#define BACKEND_FLAG                                                                               \
    {                                                                                              \
        "backend", "cpu|cuda|auto", "cpu", "backend to load the model on"                          \
    }
#define JSON_FLAG                                                                                  \
    {                                                                                              \
        "json", NULL, NULL, "one JSON object per line"                                             \
    }
#define K_FLAG                                                                                     \
    {                                                                                              \
        "k", "K", "10", "how many"                                                                 \
    }

static const flag_spec info_flags[] = {MODEL_FLAG, BACKEND_FLAG, JSON_FLAG, {NULL}};
const command_spec info_command = {"info", "describe a model file", command_info, info_flags};

static const flag_spec eval_flags[] = {
    MODEL_FLAG,
    DATA_FLAG,
    {"train", "FILE", NULL, "pre-split training file reco train read (with --test)"},
    {"test", "FILE", NULL, "pre-split test file"},
    {"valid", "FILE", NULL, "pre-split validation file: its items are left out of the ranking too"},
    {"test-negatives-file", "FILE", NULL, "an NCF .negative file for the test rows"},
    BACKEND_FLAG,
    {"split", "loo|random", "as trained (loo)", "the split reco train made"},
    {"test-fraction", "F", "as trained (0.2)", "random holdout share"},
    {"valid-fraction", "F", "as trained (0)", "validation share of the random split"},
    {"test-negatives", "N", "as trained (99)", "sampled negatives per test user"},
    {"positive-threshold", "X", "as trained (none)", "keep rows rated >= X as positives"},
    {"stratify", NULL, "as trained", "the random split cut each rating value on its own"},
    {"protocol", "sampled|ranking|ratings", "as trained", "how to evaluate"},
    {"metrics", "LIST", "all the protocol measures", "hr,ndcg,recall,precision,map,rmse,mae,mse"},
    {"k", "K", "as trained (10)", "cut-off of HR, NDCG, Recall, Precision, MAP"},
    {"seed", "S", "as trained (42)", "the seed of the split and the test negatives"},
    JSON_FLAG,
    {NULL}};
const command_spec eval_command = {"eval", "evaluate a model on the split reco train made",
                                   command_eval, eval_flags};

static const flag_spec recommend_flags[] = {
    MODEL_FLAG,
    {"data", "FILE", "the model's seen items",
     "ratings whose items are left out (a model from reco train keeps its training items)"},
    TITLES_FLAG,
    BACKEND_FLAG,
    {"user", "ID", NULL, "the user (its id in the data)"},
    {"all", NULL, NULL,
     "every user instead: TSV (user, item, rank, score), "
     "JSON lines with --json"},
    {"out", "FILE", "standard output", "where --all writes"},
    {"exclude", "FILE", NULL, "item ids (whitespace-separated) never recommended"},
    {"only", "FILE", NULL, "item ids that alone may be recommended (a candidate set)"},
    {"genre", "LIST", NULL, "only items of one of these genres (A,B) of --titles"},
    {"not-genre", "LIST", NULL, "no item of these genres (A,B) of --titles"},
    {"approximate", NULL, NULL,
     "search the item index MODEL.hnsw (built and saved there when missing): MF, GMF, iALS"},
    {"ef", "N", "100", "--approximate: candidates a search keeps (more: higher recall, slower)"},
    K_FLAG,
    JSON_FLAG,
    {NULL}};
const command_spec recommend_command = {"recommend", "top items for a user, seen items left out",
                                        command_recommend, recommend_flags};

static const flag_spec similar_flags[] = {
    MODEL_FLAG,
    DATA_FLAG,
    TITLES_FLAG,
    BACKEND_FLAG,
    {"item", "ID", NULL, "the item (its id in the data)"},
    {"user", "ID", NULL, "a user instead: the users nearest it"},
    K_FLAG,
    {"plot", "FILE.svg", NULL, "draw the item embeddings, the item and its neighbours"},
    {"projection", "pca|tsne", "pca", "the picture: principal components, or t-SNE (cosine)"},
    {"points", "N", "every item (t-SNE: 1000)",
     "items drawn: the item, its neighbours, a stride of the rest"},
    JSON_FLAG,
    {NULL}};
const command_spec similar_command = {"similar",
                                      "items nearest an item (or users nearest a user) by "
                                      "embedding cosine",
                                      command_similar, similar_flags};

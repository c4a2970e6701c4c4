/* Index files (docs/model-format.md, "Index files"): the HNSW graph of an
 * index, in the model file's checksummed sections (sections.c), written
 * atomically; read whole and checked (every list inside its node's layers,
 * every neighbour a node of that layer) before any index exists. The
 * vectors are not saved: the model gives them again. */
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "index_impl.h"
#include "input.h"
#include "reco_alloc.h"
#include "sections.h"

#define INDEX_MAGIC "RECOHNSW"
#define INDEX_FORMAT_VERSION 1u
#define BYTE_ORDER_MARK 0x01020304u
enum { SECTION_END = 0, SECTION_GRAPH = 1 };

static void put_list(reco_writer *w, const int32_t *list, size_t slots)
{
    for (size_t s = 0; s < slots; s++)
        reco_put_u32(w, (uint32_t)list[s]);
}

reco_status reco_index_save(const reco_index *index, const char *path)
{
    if (!index || !path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL index or path");
    const reco_hnsw *g = &index->graph;
    reco_writer w = {0};
    reco_put_header(&w, INDEX_MAGIC, INDEX_FORMAT_VERSION);
    size_t start = reco_begin_section(&w, SECTION_GRAPH);
    reco_put_u64(&w, index->n_items);
    reco_put_u64(&w, index->factors);
    reco_put_u32(&w, (uint32_t)index->biases);
    reco_put_u64(&w, g->m);
    reco_put_u64(&w, g->ef_construction);
    reco_put_u64(&w, index->seed);
    reco_put_u32(&w, (uint32_t)g->max_level);
    reco_put_u32(&w, (uint32_t)g->entry);
    reco_put_bytes(&w, g->levels, g->n);
    put_list(&w, g->layer0, g->n * (2 * g->m + 1));
    for (size_t i = 0; i < g->n; i++)
        if (g->levels[i])
            put_list(&w, g->upper[i], g->levels[i] * (g->m + 1));
    reco_end_section(&w, start);
    reco_end_section(&w, reco_begin_section(&w, SECTION_END));
    reco_status status = w.failed ? reco_fail_oom() : reco_write_atomically(path, w.data, w.size);
    reco_free(w.data);
    return status;
}

/* A neighbour list of `slots` (count, nodes) on `layer`: the count at most
 * the slots left, each node of the graph and on that layer. */
static void read_list(reco_reader *r, const uint8_t *levels, size_t n, int layer, int32_t *list,
                      size_t slots)
{
    for (size_t s = 0; s < slots; s++)
        list[s] = (int32_t)reco_get_u32(r, "truncated neighbour list");
    if (r->status == RECO_OK && (list[0] < 0 || (size_t)list[0] >= slots))
        reco_format_error(r, "a neighbour count larger than its list");
    for (int32_t e = 1; r->status == RECO_OK && e <= list[0]; e++)
        if (list[e] < 0 || (size_t)list[e] >= n || levels[list[e]] < layer)
            reco_format_error(r, "a neighbour outside the graph or its layer");
}

/* The graph section into `lists`, checked against the model's shape. */
static void read_graph(reco_reader *r, const reco_index *shape, reco_hnsw *lists, uint64_t *seed)
{
    size_t end;
    if (reco_open_section(r, &end) != SECTION_GRAPH) {
        reco_format_error(r, "expected the graph section");
        return;
    }
    uint64_t n = reco_get_u64(r, "truncated graph section");
    uint64_t factors = reco_get_u64(r, "truncated graph section");
    uint32_t biases = reco_get_u32(r, "truncated graph section");
    uint64_t m = reco_get_u64(r, "truncated graph section");
    lists->ef_construction = (size_t)reco_get_u64(r, "truncated graph section");
    *seed = reco_get_u64(r, "truncated graph section");
    uint32_t max_level = reco_get_u32(r, "truncated graph section");
    int32_t entry = (int32_t)reco_get_u32(r, "truncated graph section");
    if (r->status != RECO_OK)
        return;
    if (n != shape->n_items || factors != shape->factors || biases != (uint32_t)shape->biases) {
        reco_format_error(r, "an index of another model's shape");
        return;
    }
    if (m < 4 || m > 64 || max_level > 255 || (n && (entry < 0 || (uint64_t)entry >= n)) ||
        n > (end - r->position) / (4 * (2 * m + 1) + 1)) {
        reco_format_error(r, "graph settings that do not fit the section");
        return;
    }
    lists->m = (size_t)m;
    lists->max_level = (int)max_level;
    lists->entry = n ? entry : -1;
    lists->levels = reco_calloc(n ? n : 1, 1);
    lists->layer0 = reco_malloc_array(n ? n * (2 * m + 1) : 1, sizeof *lists->layer0);
    lists->upper = reco_calloc(n ? n : 1, sizeof *lists->upper);
    if (!lists->levels || !lists->layer0 || !lists->upper) {
        r->status = reco_fail_oom();
        return;
    }
    const uint8_t *levels = reco_take(r, (size_t)n, "truncated levels");
    if (levels)
        memcpy(lists->levels, levels, (size_t)n);
    for (size_t i = 0; i < n && r->status == RECO_OK; i++)
        if (lists->levels[i] > max_level || (i == (size_t)entry && lists->levels[i] != max_level))
            reco_format_error(r, "a level above the graph's top, or an entry below it");
    for (size_t i = 0; i < n && r->status == RECO_OK; i++)
        read_list(r, lists->levels, (size_t)n, 0, lists->layer0 + i * (2 * m + 1), 2 * m + 1);
    for (size_t i = 0; i < n && r->status == RECO_OK; i++) {
        size_t slots = lists->levels[i] * ((size_t)m + 1);
        if (!slots)
            continue;
        if (slots * 4 > end - r->position) {
            reco_format_error(r, "truncated neighbour list");
            return;
        }
        if (!(lists->upper[i] = reco_malloc_array(slots, sizeof(int32_t)))) {
            r->status = reco_fail_oom();
            return;
        }
        for (int layer = 1; layer <= lists->levels[i] && r->status == RECO_OK; layer++)
            read_list(r, lists->levels, (size_t)n, layer,
                      lists->upper[i] + (size_t)(layer - 1) * (m + 1), (size_t)m + 1);
    }
    reco_close_section(r, end);
}

static void free_lists(reco_hnsw *lists, size_t n)
{
    if (lists->upper)
        for (size_t i = 0; i < n; i++)
            reco_free(lists->upper[i]);
    reco_free(lists->upper);
    reco_free(lists->levels);
    reco_free(lists->layer0);
}

reco_status reco_index_load(const reco_model *model, const char *path, reco_index **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = NULL;
    reco_index shape = {0};
    reco_status status = reco_index_check_model(model);
    if (status != RECO_OK)
        return status;
    if (!path)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL path");
    reco_index_describe(model, &shape);
    reco_reader r = {.path = path};
    uint8_t *data = NULL;
    status = reco_input_read(path, RECO_INPUT_BINARY, INDEX_MAGIC, &data, &r.size);
    if (status != RECO_OK)
        return status;
    r.data = data;
    uint32_t version, mark;
    reco_get_header(&r, INDEX_MAGIC, "index", &version, &mark);
    if (r.status == RECO_OK && (version != INDEX_FORMAT_VERSION || mark != BYTE_ORDER_MARK))
        reco_format_error(&r, "an unknown version or byte-order mark");
    reco_hnsw lists = {0};
    uint64_t seed = 0;
    if (r.status == RECO_OK)
        read_graph(&r, &shape, &lists, &seed);
    size_t end;
    if (r.status == RECO_OK && reco_open_section(&r, &end) != SECTION_END)
        reco_format_error(&r, "expected the end section");
    if (r.status == RECO_OK)
        reco_close_section(&r, end);
    if (r.status == RECO_OK && r.position != r.size)
        reco_format_error(&r, "bytes after the end section");
    status = r.status;
    if (status == RECO_OK)
        status = reco_index_make(model, lists.m, lists.ef_construction, seed, &lists, out);
    free_lists(&lists, shape.n_items);
    reco_free(data);
    return status;
}

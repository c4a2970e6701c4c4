/* HNSW: see hnsw.h. Distances are negated inner products, for building as
 * for searching (not a metric: the heuristic of algorithm 4 still thins a
 * node's links to those that no nearer kept link covers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hnsw.h"
#include "reco_alloc.h"
#include "rng.h"

/* Visit marks of one search: a node is visited when its mark is the
 * current generation, so a search clears nothing. */
struct reco_hnsw_visits {
    uint32_t *marks;
    uint32_t generation;
    reco_hnsw_visits *next;
};

/* (distance, node) entries of a binary heap; `max` orders it farthest
 * first (the results), else nearest first (the candidates). */
typedef struct hnsw_entry {
    float distance;
    int32_t node;
} hnsw_entry;

typedef struct hnsw_heap {
    hnsw_entry *entries;
    size_t count, capacity;
    int max;
} hnsw_heap;

float reco_hnsw_dot(const float *a, const float *b, size_t dim)
{
    float lanes[16] = {0};
    for (size_t i = 0; i < dim; i += 16)
        for (size_t l = 0; l < 16; l++)
            lanes[l] += a[i + l] * b[i + l];
    float sum = 0.0f;
    for (size_t l = 0; l < 16; l++)
        sum += lanes[l];
    return sum;
}

static float distance(const reco_hnsw *graph, const float *query, int32_t node)
{
    return -reco_hnsw_dot(query, graph->vectors + (size_t)node * graph->dim, graph->width);
}

static int above(const hnsw_heap *heap, hnsw_entry a, hnsw_entry b)
{
    return heap->max ? a.distance > b.distance : a.distance < b.distance;
}

static int heap_push(hnsw_heap *heap, float d, int32_t node)
{
    if (heap->count == heap->capacity) {
        size_t capacity = heap->capacity ? 2 * heap->capacity : 64;
        hnsw_entry *grown = reco_realloc(heap->entries, capacity * sizeof *grown);
        if (!grown)
            return 0;
        heap->entries = grown;
        heap->capacity = capacity;
    }
    size_t at = heap->count++;
    hnsw_entry entry = {d, node};
    while (at > 0 && above(heap, entry, heap->entries[(at - 1) / 2])) {
        heap->entries[at] = heap->entries[(at - 1) / 2];
        at = (at - 1) / 2;
    }
    heap->entries[at] = entry;
    return 1;
}

static hnsw_entry heap_pop(hnsw_heap *heap)
{
    hnsw_entry top = heap->entries[0], last = heap->entries[--heap->count];
    size_t at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= heap->count)
            break;
        if (child + 1 < heap->count && above(heap, heap->entries[child + 1], heap->entries[child]))
            child++;
        if (!above(heap, heap->entries[child], last))
            break;
        heap->entries[at] = heap->entries[child];
        at = child;
    }
    if (heap->count)
        heap->entries[at] = last;
    return top;
}

/* Node's neighbour list on `layer`: its count, then the nodes. */
static int32_t *neighbours(const reco_hnsw *graph, int32_t node, int layer)
{
    if (layer == 0)
        return graph->layer0 + (size_t)node * (2 * graph->m + 1);
    return graph->upper[node] + (size_t)(layer - 1) * (graph->m + 1);
}

static reco_hnsw_visits *take_visits(reco_hnsw *graph)
{
    pthread_mutex_lock(&graph->visits_lock);
    reco_hnsw_visits *visits = graph->spare;
    if (visits)
        graph->spare = visits->next;
    pthread_mutex_unlock(&graph->visits_lock);
    if (!visits) {
        visits = reco_calloc(1, sizeof *visits);
        if (visits && !(visits->marks = reco_calloc(graph->n ? graph->n : 1, sizeof *visits->marks))) {
            reco_free(visits);
            visits = NULL;
        }
    }
    return visits;
}

static void give_visits(reco_hnsw *graph, reco_hnsw_visits *visits)
{
    pthread_mutex_lock(&graph->visits_lock);
    visits->next = graph->spare;
    graph->spare = visits;
    pthread_mutex_unlock(&graph->visits_lock);
}

/* Algorithm 2: the ef nodes nearest `query` on `layer` reachable from
 * `start`, into `results` (a max-heap). 0 when out of memory. */
static int search_layer(const reco_hnsw *graph, const float *query, int32_t start, size_t ef,
                        int layer, reco_hnsw_visits *visits, hnsw_heap *candidates,
                        hnsw_heap *results)
{
    candidates->count = results->count = 0;
    if (++visits->generation == 0) {
        memset(visits->marks, 0, graph->n * sizeof *visits->marks);
        visits->generation = 1;
    }
    float d = distance(graph, query, start);
    visits->marks[start] = visits->generation;
    if (!heap_push(candidates, d, start) || !heap_push(results, d, start))
        return 0;
    while (candidates->count) {
        hnsw_entry nearest = heap_pop(candidates);
        if (nearest.distance > results->entries[0].distance)
            break;
        const int32_t *list = neighbours(graph, nearest.node, layer);
        for (int32_t e = 1; e <= list[0]; e++) {
            int32_t next = list[e];
            if (visits->marks[next] == visits->generation)
                continue;
            visits->marks[next] = visits->generation;
            float dn = distance(graph, query, next);
            if (results->count < ef || dn < results->entries[0].distance) {
                if (!heap_push(candidates, dn, next) || !heap_push(results, dn, next))
                    return 0;
                if (results->count > ef)
                    heap_pop(results);
            }
        }
    }
    return 1;
}

/* Greedy descent (ef 1) from the entry point to layer `to`. */
static int32_t descend(const reco_hnsw *graph, const float *query, int to)
{
    int32_t current = graph->entry;
    float best = distance(graph, query, current);
    for (int layer = graph->max_level; layer > to; layer--) {
        for (int moved = 1; moved;) {
            moved = 0;
            const int32_t *list = neighbours(graph, current, layer);
            for (int32_t e = 1; e <= list[0]; e++) {
                float d = distance(graph, query, list[e]);
                if (d < best) {
                    best = d;
                    current = list[e];
                    moved = 1;
                }
            }
        }
    }
    return current;
}

/* Algorithm 4 (the heuristic): from candidates sorted nearest first, keeps
 * up to `limit` that are nearer the base than any node kept before them,
 * then fills the room left with the nearest of those it passed over (the
 * paper's keepPrunedConnections), which keeps the graph connected. */
static size_t select_neighbours(const reco_hnsw *graph, const hnsw_entry *sorted, size_t n,
                                size_t limit, int32_t *kept)
{
    size_t count = 0;
    uint8_t passed[4096 + 2 * 64 + 2] = {0};
    for (size_t c = 0; c < n && count < limit; c++) {
        const float *vector = graph->vectors + (size_t)sorted[c].node * graph->dim;
        int good = 1;
        for (size_t r = 0; r < count && good; r++)
            good = distance(graph, vector, kept[r]) > sorted[c].distance;
        if (good)
            kept[count++] = sorted[c].node;
        else
            passed[c] = 1;
    }
    for (size_t c = 0; c < n && count < limit; c++)
        if (passed[c])
            kept[count++] = sorted[c].node;
    return count;
}

static int by_distance(const void *a, const void *b)
{
    const hnsw_entry *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Adds `node` to `other`'s list on `layer`, pruning a full list by the
 * heuristic (a simpler rule, the farthest link replaced, was measured to
 * lose half the recall: the heuristic's far links join the clusters). */
static void link_back(reco_hnsw *graph, int32_t other, int32_t node, int layer,
                      hnsw_entry *scratch)
{
    int32_t *list = neighbours(graph, other, layer);
    size_t limit = layer == 0 ? 2 * graph->m : graph->m;
    const float *base = graph->vectors + (size_t)other * graph->dim;
    if ((size_t)list[0] < limit) {
        list[++list[0]] = node;
        return;
    }
    size_t n = 0;
    for (int32_t e = 1; e <= list[0]; e++)
        scratch[n++] = (hnsw_entry){distance(graph, base, list[e]), list[e]};
    scratch[n++] = (hnsw_entry){distance(graph, base, node), node};
    qsort(scratch, n, sizeof *scratch, by_distance);
    list[0] = (int32_t)select_neighbours(graph, scratch, n, limit, list + 1);
}

/* Algorithm 1: inserts node i. 0 when out of memory. */
static int insert(reco_hnsw *graph, int32_t node, reco_hnsw_visits *visits, hnsw_heap *heaps,
                  hnsw_entry *scratch)
{
    int level = graph->levels[node];
    if (graph->entry < 0) {
        graph->entry = node;
        graph->max_level = level;
        return 1;
    }
    const float *vector = graph->vectors + (size_t)node * graph->dim;
    int32_t start = descend(graph, vector, level);
    for (int layer = level < graph->max_level ? level : graph->max_level; layer >= 0; layer--) {
        if (!search_layer(graph, vector, start, graph->ef_construction, layer, visits, &heaps[0],
                          &heaps[1]))
            return 0;
        size_t n = heaps[1].count;
        memcpy(scratch, heaps[1].entries, n * sizeof *scratch);
        qsort(scratch, n, sizeof *scratch, by_distance);
        start = scratch[0].node;
        int32_t *list = neighbours(graph, node, layer);
        list[0] = (int32_t)select_neighbours(graph, scratch, n, layer == 0 ? 2 * graph->m : graph->m,
                                             list + 1);
        for (int32_t e = 1; e <= list[0]; e++)
            link_back(graph, list[e], node, layer, scratch);
    }
    if (level > graph->max_level) {
        graph->max_level = level;
        graph->entry = node;
    }
    return 1;
}

/* Pruning can leave a node no link into it on layer 0, and then no search
 * finds it (the large items MIPS wants most are prone to it). Each such
 * node is linked from the first of its own neighbours with room, or else
 * takes the last place of the first whose last link points to a node that
 * other links reach. 0 when out of memory. */
static int connect_orphans(reco_hnsw *graph)
{
    size_t slots = 2 * graph->m + 1;
    uint32_t *in = reco_calloc(graph->n ? graph->n : 1, sizeof *in);
    if (!in)
        return 0;
    for (size_t i = 0; i < graph->n; i++)
        for (int32_t e = 1; e <= graph->layer0[i * slots]; e++)
            in[graph->layer0[i * slots + e]]++;
    for (size_t i = 0; i < graph->n; i++) {
        const int32_t *own = graph->layer0 + i * slots;
        for (int32_t e = 1; in[i] == 0 && (int32_t)i != graph->entry && e <= own[0]; e++) {
            int32_t *list = graph->layer0 + (size_t)own[e] * slots;
            if ((size_t)list[0] < 2 * graph->m) {
                list[++list[0]] = (int32_t)i;
                in[i]++;
            } else if (in[list[list[0]]] > 1) {
                in[list[list[0]]]--;
                list[list[0]] = (int32_t)i;
                in[i]++;
            }
        }
    }
    reco_free(in);
    return 1;
}

void reco_hnsw_free(reco_hnsw *graph)
{
    if (graph->upper)
        for (size_t i = 0; i < graph->n; i++)
            reco_free(graph->upper[i]);
    reco_free(graph->upper);
    reco_free(graph->layer0);
    reco_free(graph->levels);
    reco_free(graph->vectors);
    while (graph->spare) {
        reco_hnsw_visits *next = graph->spare->next;
        reco_free(graph->spare->marks);
        reco_free(graph->spare);
        graph->spare = next;
    }
    pthread_mutex_destroy(&graph->visits_lock);
    memset(graph, 0, sizeof *graph);
}

/* Each node's top layer: floor(-ln(U) / ln(m)), at most 255 (the paper's
 * m_L = 1 / ln m), and room for its lists. */
static reco_status lay_out(reco_hnsw *graph, uint64_t seed)
{
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    double scale = 1.0 / log((double)graph->m);
    for (size_t i = 0; i < graph->n; i++) {
        double u = reco_rng_uniform(&rng);
        double level = -log(u > 0.0 ? u : 1e-300) * scale;
        graph->levels[i] = (uint8_t)(level > 255.0 ? 255.0 : level);
        if (graph->levels[i] &&
            !(graph->upper[i] = reco_calloc(graph->levels[i] * (graph->m + 1), sizeof(int32_t))))
            return reco_fail_oom();
    }
    return RECO_OK;
}

reco_status reco_hnsw_build(const float *vectors, size_t n, size_t dim, size_t query_dim,
                            size_t m, size_t ef_construction, uint64_t seed, reco_hnsw *graph)
{
    memset(graph, 0, sizeof *graph);
    pthread_mutex_init(&graph->visits_lock, NULL);
    *graph = (reco_hnsw){.n = n, .dim = dim, .width = dim, .query_dim = query_dim, .m = m,
                         .ef_construction = ef_construction, .entry = -1,
                         .visits_lock = graph->visits_lock};
    graph->vectors = reco_malloc_array(n ? n * dim : 1, sizeof *graph->vectors);
    graph->levels = reco_calloc(n ? n : 1, 1);
    graph->upper = reco_calloc(n ? n : 1, sizeof *graph->upper);
    graph->layer0 = reco_calloc(n ? n * (2 * m + 1) : 1, sizeof *graph->layer0);
    hnsw_heap heaps[2] = {{NULL, 0, 0, 0}, {NULL, 0, 0, 1}};
    hnsw_entry *scratch = reco_malloc_array(ef_construction + 2 * m + 2, sizeof *scratch);
    reco_hnsw_visits *visits = NULL;
    reco_status status = RECO_OK;
    if (!graph->vectors || !graph->levels || !graph->upper || !graph->layer0 || !scratch)
        status = reco_fail_oom();
    if (status == RECO_OK)
        status = lay_out(graph, seed);
    if (status == RECO_OK && !(visits = take_visits(graph)))
        status = reco_fail_oom();
    if (status == RECO_OK)
        memcpy(graph->vectors, vectors, n * dim * sizeof *vectors);
    for (size_t i = 0; i < n && status == RECO_OK; i++)
        if (!insert(graph, (int32_t)i, visits, heaps, scratch))
            status = reco_fail_oom();
    if (status == RECO_OK && !connect_orphans(graph))
        status = reco_fail_oom();
    if (visits)
        give_visits(graph, visits);
    reco_free(heaps[0].entries);
    reco_free(heaps[1].entries);
    reco_free(scratch);
    if (status != RECO_OK)
        reco_hnsw_free(graph);
    return status;
}

reco_status reco_hnsw_adopt(const float *vectors, size_t n, size_t dim, size_t query_dim,
                            reco_hnsw *lists, reco_hnsw *graph)
{
    float *copy = reco_malloc_array(n ? n * dim : 1, sizeof *copy);
    if (!copy)
        return reco_fail_oom();
    memcpy(copy, vectors, n * dim * sizeof *copy);
    *graph = *lists;
    graph->n = n;
    graph->dim = graph->width = dim;
    graph->query_dim = query_dim;
    graph->vectors = copy;
    graph->spare = NULL;
    pthread_mutex_init(&graph->visits_lock, NULL);
    lists->levels = NULL;
    lists->layer0 = NULL;
    lists->upper = NULL;
    return RECO_OK;
}

size_t reco_hnsw_search(reco_hnsw *graph, const float *query, size_t ef, int32_t *nodes,
                        float *products)
{
    if (graph->entry < 0 || ef == 0)
        return 0;
    reco_hnsw_visits *visits = take_visits(graph);
    hnsw_heap heaps[2] = {{NULL, 0, 0, 0}, {NULL, 0, 0, 1}};
    size_t count = 0;
    if (!visits) {
        reco_fail_oom();
        return 0;
    }
    /* a query is zero past query_dim: its products need no more */
    reco_hnsw view = *graph;
    view.width = graph->query_dim;
    if (search_layer(&view, query, descend(&view, query, 0), ef, 0, visits, &heaps[0],
                     &heaps[1])) {
        /* the max-heap pops farthest first: fill from the back */
        count = heaps[1].count;
        for (size_t i = count; i > 0; i--) {
            hnsw_entry entry = heap_pop(&heaps[1]);
            nodes[i - 1] = entry.node;
            products[i - 1] = -entry.distance;
        }
    } else {
        reco_fail_oom();
    }
    give_visits(graph, visits);
    reco_free(heaps[0].entries);
    reco_free(heaps[1].entries);
    return count;
}

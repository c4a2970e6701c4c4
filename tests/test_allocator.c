/* reco_set_allocator: with a counting allocator installed first, a whole
 * session (read, train MF and NeuMF on the CPU backend's aligned buffers,
 * evaluate, save and load from memory, recommend) allocates only through
 * it, frees every byte it took, frees nothing it did not give (a magic
 * header checks each block), and passes the user pointer on every call.
 * After that, the allocator can no longer be changed. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reco/reco.h"

#define BLOCK_MAGIC 0x7265636f616c6c63ull /* "recoallc" */

typedef struct counter {
    atomic_size_t live_bytes, live_blocks, calls;
} counter;

/* Each block is a 16-byte header (magic, size) before the caller's bytes. */
typedef struct header {
    uint64_t magic, size;
} header;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__, __LINE__, #cond,     \
                    reco_last_error());                                               \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)
#define CHECK_OK(call) CHECK((call) == RECO_OK)

static counter the_counter;

static counter *counter_of(void *user)
{
    CHECK(user == &the_counter);
    atomic_fetch_add(&the_counter.calls, 1);
    return user;
}

static void *counted(counter *c, header *block, size_t size)
{
    if (!block)
        return NULL;
    block->magic = BLOCK_MAGIC;
    block->size = size;
    atomic_fetch_add(&c->live_bytes, size);
    atomic_fetch_add(&c->live_blocks, 1);
    return block + 1;
}

/* The header of a block this allocator gave, taken off the counts. */
static header *uncounted(counter *c, void *memory)
{
    header *block = (header *)memory - 1;
    CHECK(block->magic == BLOCK_MAGIC);
    block->magic = 0;
    atomic_fetch_sub(&c->live_bytes, block->size);
    atomic_fetch_sub(&c->live_blocks, 1);
    return block;
}

static void *count_malloc(void *user, size_t size)
{
    CHECK(size > 0);
    return counted(counter_of(user), malloc(sizeof(header) + size), size);
}

static void *count_calloc(void *user, size_t count, size_t size)
{
    CHECK(count > 0 && size > 0 && count <= (SIZE_MAX - sizeof(header)) / size);
    return counted(counter_of(user), calloc(1, sizeof(header) + count * size), count * size);
}

static void *count_realloc(void *user, void *memory, size_t size)
{
    counter *c = counter_of(user);
    CHECK(size > 0);
    if (!memory)
        return counted(c, malloc(sizeof(header) + size), size);
    header *old = uncounted(c, memory);
    header *grown = realloc(old, sizeof(header) + size);
    if (!grown) {
        counted(c, old, old->size);
        return NULL;
    }
    return counted(c, grown, size);
}

static void count_free(void *user, void *memory)
{
    CHECK(memory != NULL);
    free(uncounted(counter_of(user), memory));
}

/* Trains a small model of `kind` and checks that a copy through memory
 * predicts identically. */
static void session(reco_backend *backend, const reco_dataset *data, reco_model_kind kind)
{
    reco_model *model, *copy;
    CHECK_OK(reco_model_new(kind, reco_dataset_n_users(data), reco_dataset_n_items(data),
                            &model));
    const size_t layers[] = {8, 4};
    if (kind == RECO_MODEL_NEUMF)
        CHECK_OK(reco_model_set_layers(model, layers, 2));
    CHECK_OK(reco_model_set_factors(model, 4));
    CHECK_OK(reco_model_init(model, backend, 7));
    CHECK_OK(reco_model_set_vocabulary(model, data));
    reco_trainer *trainer;
    CHECK_OK(reco_trainer_new(model, &trainer));
    CHECK_OK(reco_trainer_fit(trainer, data, 2));
    reco_trainer_free(trainer);
    void *bytes;
    size_t size;
    CHECK_OK(reco_model_save_buffer(model, &bytes, &size));
    CHECK_OK(reco_model_load_buffer(bytes, size, backend, &copy));
    reco_free(bytes);
    int32_t users[3] = {0, 1, 2}, items[3] = {3, 4, 5};
    float a[3], b[3];
    CHECK_OK(reco_model_predict(model, users, items, 3, a));
    CHECK_OK(reco_model_predict(copy, users, items, 3, b));
    CHECK(memcmp(a, b, sizeof a) == 0);
    int32_t top[5];
    float scores[5];
    size_t found;
    CHECK_OK(reco_model_recommend(copy, 0, 5, data, top, scores, &found));
    CHECK(found == 5);
    reco_model_free(copy);
    reco_model_free(model);
}

int main(void)
{
    CHECK(reco_set_allocator(count_malloc, NULL, count_realloc, count_free, &the_counter) ==
          RECO_ERR_INVALID_ARGUMENT);
    CHECK_OK(reco_set_allocator(count_malloc, count_calloc, count_realloc, count_free,
                                &the_counter));
    reco_backend *backend;
    CHECK_OK(reco_backend_open("cpu", &backend));
    CHECK_OK(reco_backend_set_threads(backend, 2));
    reco_dataset *data;
    CHECK_OK(reco_dataset_synthetic(30, 40, 600, 3, &data));
    session(backend, data, RECO_MODEL_MF);
    session(backend, data, RECO_MODEL_NEUMF);
    CHECK(atomic_load(&the_counter.live_blocks) > 0);
    reco_dataset_free(data);
    reco_backend_free(backend);
    CHECK(reco_set_allocator(NULL, NULL, NULL, NULL, NULL) == RECO_ERR_STATE);
    CHECK(strstr(reco_last_error(), "must come before any other libreco call"));
    size_t calls = atomic_load(&the_counter.calls);
    printf("%zu allocator calls; %zu bytes in %zu blocks left\n", calls,
           atomic_load(&the_counter.live_bytes), atomic_load(&the_counter.live_blocks));
    CHECK(calls > 100);
    CHECK(atomic_load(&the_counter.live_bytes) == 0);
    CHECK(atomic_load(&the_counter.live_blocks) == 0);
    return 0;
}

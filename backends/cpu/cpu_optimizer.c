/* CPU backend: SGD (momentum), Adagrad and Adam, in the forms torch.optim
 * uses, on the dense vector and on embedding rows: only the rows a batch
 * touched (lazy), or every row with a zero gradient for the rest (dense). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

typedef struct cpu_optimizer_state {
    float *dense_first;   /* SGD momentum buffer, Adagrad sum, Adam first moment */
    float *dense_second;  /* Adam second moment */
    float *table_first[RECO_N_TABLES];
    float *table_second[RECO_N_TABLES];
    float *zeros;         /* the gradient of untouched rows, widest table */
} cpu_optimizer_state;

typedef struct step_rule {
    int kind;
    float learning_rate;
    float momentum;
    float beta1, beta2, epsilon, weight_decay;
    float adam_step_size;        /* lr / (1 - beta1^t) */
    float adam_correction2_sqrt; /* sqrt(1 - beta2^t) */
    int first_step;
} step_rule;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
/* one build runs everywhere; AVX2 machines get the wider loops */
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

VECTOR_CLONES
static void step_sgd(const step_rule *rule, float *restrict param, const float *restrict grad,
                     float *restrict buffer, size_t n)
{
    float lr = rule->learning_rate, decay = rule->weight_decay, momentum = rule->momentum;
    if (!buffer) {
        for (size_t i = 0; i < n; i++)
            param[i] -= lr * (grad[i] + decay * param[i]);
        return;
    }
    float keep = rule->first_step ? 0.0f : momentum;
    for (size_t i = 0; i < n; i++) {
        buffer[i] = keep * buffer[i] + (grad[i] + decay * param[i]);
        param[i] -= lr * buffer[i];
    }
}

VECTOR_CLONES
static void step_adagrad(const step_rule *rule, float *restrict param, const float *restrict grad,
                         float *restrict sum, size_t n)
{
    float lr = rule->learning_rate, decay = rule->weight_decay, epsilon = rule->epsilon;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + decay * param[i];
        sum[i] += g * g;
        param[i] -= lr * g / (sqrtf(sum[i]) + epsilon);
    }
}

VECTOR_CLONES
static void step_adam(const step_rule *rule, float *restrict param, const float *restrict grad,
                      float *restrict first, float *restrict second, size_t n)
{
    float beta1 = rule->beta1, beta2 = rule->beta2, decay = rule->weight_decay;
    float step_size = rule->adam_step_size, correction = rule->adam_correction2_sqrt;
    float epsilon = rule->epsilon;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + decay * param[i];
        first[i] = first[i] * beta1 + (1.0f - beta1) * g;
        second[i] = second[i] * beta2 + (1.0f - beta2) * g * g;
        param[i] -= step_size * first[i] / (sqrtf(second[i]) / correction + epsilon);
    }
}

/* Steps n parameters with their gradient (all zeros for rows a batch did not
 * touch in dense-embedding mode: they still decay and move under momentum). */
static void step_values(const step_rule *rule, float *param, const float *grad, float *first,
                        float *second, size_t n)
{
    switch (rule->kind) {
    case 0: step_sgd(rule, param, grad, first, n); break;
    case 1: step_adagrad(rule, param, grad, first, n); break;
    default: step_adam(rule, param, grad, first, second, n); break;
    }
}

static int needs_second(int kind)
{
    return kind == 2;
}

static int needs_first(int kind, float momentum)
{
    return kind != 0 || momentum > 0.0f;
}

void cpu_optimizer_destroy(void *context, void *opaque)
{
    (void)context;
    cpu_optimizer_state *state = opaque;
    if (!state)
        return;
    free(state->dense_first);
    free(state->dense_second);
    free(state->zeros);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        free(state->table_first[t]);
        free(state->table_second[t]);
    }
    free(state);
}

reco_status cpu_optimizer_create(void *context, const reco_net_desc *net,
                                 const reco_optimizer_config *config, void **out)
{
    cpu_optimizer_state *state = calloc(1, sizeof *state);
    if (!state)
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory");
    int first = needs_first(config->kind, config->momentum), second = needs_second(config->kind);
    size_t widest = 1;
    for (int t = 0; t < RECO_N_TABLES; t++)
        if (net->table_dim[t] > widest)
            widest = net->table_dim[t];
    int ok = (state->zeros = calloc(widest, sizeof(float))) != NULL;
    if (first)
        ok &= (state->dense_first = calloc(net->n_dense, sizeof(float))) != NULL;
    if (second)
        ok &= (state->dense_second = calloc(net->n_dense, sizeof(float))) != NULL;
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t size = net->table_rows[t] * net->table_dim[t];
        if (!size)
            continue;
        if (first)
            ok &= (state->table_first[t] = calloc(size, sizeof(float))) != NULL;
        if (second)
            ok &= (state->table_second[t] = calloc(size, sizeof(float))) != NULL;
    }
    if (!ok) {
        cpu_optimizer_destroy(context, state);
        return reco_backend_fail(RECO_ERR_OUT_OF_MEMORY, "out of memory for optimizer state");
    }
    *out = state;
    return RECO_OK;
}

static float *at(float *base, size_t offset)
{
    return base ? base + offset : NULL;
}

/* Steps the dense range [begin, end). */
static void step_dense_range(const step_rule *rule, float *dense, const float *grad,
                             cpu_optimizer_state *state, size_t begin, size_t end)
{
    if (end > begin)
        step_values(rule, dense + begin, grad + begin, at(state->dense_first, begin),
                    at(state->dense_second, begin), end - begin);
}

typedef struct step_pass {
    const step_rule *rule;
    const reco_net_desc *net;
    reco_net_params *params;
    cpu_workspace *workspace;
    cpu_optimizer_state *state;
    int dense_embeddings;
} step_pass;

static size_t share(size_t n, size_t part, size_t parts)
{
    return n * part / parts;
}

/* Thread `thread` steps its share of the dense vector and of every table's
 * rows: elements are independent, so any split gives the same bits. */
static void step_task(void *argument, size_t thread, size_t n_threads)
{
    const step_pass *p = argument;
    const reco_net_desc *net = p->net;
    float *dense = p->params->dense;
    const float *grad = p->workspace->dense_grad;
    size_t trainable_end = net->train_head_weights ? net->head_b_offset : net->head_w_offset;
    size_t begin = share(trainable_end, thread, n_threads);
    size_t end = share(trainable_end, thread + 1, n_threads);
    step_dense_range(p->rule, dense, grad, p->state, begin, end);
    if (net->train_head_bias && thread == 0)
        step_dense_range(p->rule, dense, grad, p->state, net->head_b_offset, net->n_dense);
    for (int t = 0; t < RECO_N_TABLES; t++) {
        size_t dim = net->table_dim[t];
        if (!dim)
            continue;
        float *table = p->params->tables[t];
        const cpu_table_grad *table_grad = &p->workspace->tables[t];
        float *first = p->state->table_first[t], *second = p->state->table_second[t];
        if (p->dense_embeddings) {
            size_t rows = net->table_rows[t];
            for (size_t row = share(rows, thread, n_threads);
                 row < share(rows, thread + 1, n_threads); row++) {
                int32_t slot = table_grad->slot_of_row[row];
                const float *row_grad =
                    slot < 0 ? p->state->zeros : table_grad->grads + (size_t)slot * dim;
                step_values(p->rule, table + row * dim, row_grad, at(first, row * dim),
                            at(second, row * dim), dim);
            }
            continue;
        }
        size_t touched = table_grad->n_rows;
        for (size_t r = share(touched, thread, n_threads); r < share(touched, thread + 1, n_threads);
             r++) {
            size_t offset = (size_t)table_grad->rows[r] * dim;
            step_values(p->rule, table + offset, table_grad->grads + r * dim, at(first, offset),
                        at(second, offset), dim);
        }
    }
}

reco_status cpu_optimizer_step(void *context, const reco_net_desc *net, reco_net_params *params,
                               void *opaque_workspace, void *opaque_state,
                               const reco_optimizer_config *config, float learning_rate,
                               uint64_t step)
{
    cpu_context *cpu = context;
    step_rule rule = {
        .kind = config->kind,
        .learning_rate = learning_rate,
        .momentum = config->momentum,
        .beta1 = config->beta1,
        .beta2 = config->beta2,
        .epsilon = config->epsilon,
        .weight_decay = config->weight_decay,
        .adam_step_size = (float)(learning_rate / (1.0 - pow(config->beta1, (double)step))),
        .adam_correction2_sqrt = (float)sqrt(1.0 - pow(config->beta2, (double)step)),
        .first_step = step == 1,
    };
    step_pass pass = {&rule, net, params, opaque_workspace, opaque_state,
                      config->dense_embeddings};
    cpu_pool_run(cpu->pool, step_task, &pass);
    return RECO_OK;
}

/* The double-precision reference network (see reference_net.h): one sample
 * at a time, straight from the model's definition:
 *   gmf = p_u * q_i (elementwise); x0 = [u_mlp, i_mlp];
 *   x(l+1) = dropout(relu(W_l x_l + b_l)); logit = h . [gmf, x_L] + b
 *   (+ b_u + b_i for biased MF); score = act(logit). */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "reference_net.h"

#define WIDEST 256
#define ABSENT ((size_t)-1)

/* Where each part of the flat parameter vector starts, in the order of
 * reco_model_parameter_count's comment: embedding tables (GMF user, GMF
 * item, MLP user, MLP item, user bias, item bias), then each layer's
 * weights (out x in, row-major) and biases, then the head. */
typedef struct layout {
    size_t user_gmf, item_gmf, user_mlp, item_mlp, user_bias, item_bias;
    size_t gmf_dim, mlp_dim, n_tower; /* n_tower: Linear+ReLU layers */
    size_t weight[RECO_MAX_LAYERS], bias[RECO_MAX_LAYERS];
    size_t head_w, head_b, count;
    int train_head_w, train_head_b; /* MF's head is fixed at ones */
} layout;

static int has_gmf(reco_model_kind kind)
{
    return kind == RECO_MODEL_MF || kind == RECO_MODEL_GMF || kind == RECO_MODEL_NEUMF;
}

static int has_mlp(reco_model_kind kind)
{
    return kind == RECO_MODEL_MLP || kind == RECO_MODEL_NEUMF;
}

/* Takes `size` places from *next and returns where they start. */
static size_t take(size_t *next, size_t size)
{
    size_t start = *next;
    *next += size;
    return start;
}

static layout layout_of(const reference_shape *s)
{
    layout l = {.user_gmf = ABSENT,
                .item_gmf = ABSENT,
                .user_mlp = ABSENT,
                .item_mlp = ABSENT,
                .user_bias = ABSENT,
                .item_bias = ABSENT};
    size_t next = 0;
    l.gmf_dim = has_gmf(s->kind) ? s->factors : 0;
    l.mlp_dim = has_mlp(s->kind) ? s->layers[0] / 2 : 0;
    l.n_tower = has_mlp(s->kind) ? s->n_layers - 1 : 0;
    if (l.gmf_dim) {
        l.user_gmf = take(&next, s->n_users * l.gmf_dim);
        l.item_gmf = take(&next, s->n_items * l.gmf_dim);
    }
    if (l.mlp_dim) {
        l.user_mlp = take(&next, s->n_users * l.mlp_dim);
        l.item_mlp = take(&next, s->n_items * l.mlp_dim);
    }
    int biased = s->kind == RECO_MODEL_MF && s->biases;
    if (biased) {
        l.user_bias = take(&next, s->n_users);
        l.item_bias = take(&next, s->n_items);
    }
    for (size_t k = 0; k < l.n_tower; k++) {
        assert(s->layers[k] <= WIDEST && s->layers[k + 1] <= WIDEST);
        l.weight[k] = take(&next, s->layers[k] * s->layers[k + 1]);
        l.bias[k] = take(&next, s->layers[k + 1]);
    }
    assert(l.gmf_dim <= WIDEST);
    l.head_w = take(&next, l.gmf_dim + (l.n_tower ? s->layers[l.n_tower] : 0));
    l.head_b = take(&next, 1);
    l.count = next;
    l.train_head_w = s->kind != RECO_MODEL_MF;
    l.train_head_b = s->kind != RECO_MODEL_MF || biased;
    return l;
}

size_t reference_parameter_count(const reference_shape *shape)
{
    return layout_of(shape).count;
}

/* SplitMix64's finalizer, as the sampling law in docs/training.md uses it. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Inverted dropout of unit `unit` of tower layer `layer` for a sample: a
 * pure function of (seed, sample, layer, unit), 0 or 1 / (1 - p). Written
 * again here from the law, so that a change to the library's is seen. */
static double dropout_scale(uint64_t seed, uint64_t sample, size_t layer, size_t unit, double p)
{
    uint64_t h =
        mix64(seed ^ mix64(sample * 0x9e3779b97f4a7c15ull + layer * 0x632be59bd9b4e019ull + unit));
    float uniform = (float)(h >> 40) * 0x1.0p-24f;
    return uniform < (float)p ? 0.0 : 1.0 / (1.0 - p);
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* log(1 + e^x), without overflow. */
static double softplus(double x)
{
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double activate(reco_activation output, double logit)
{
    if (output == RECO_ACTIVATION_SIGMOID)
        return sigmoid(logit);
    if (output == RECO_ACTIVATION_RELU)
        return logit > 0.0 ? logit : 0.0;
    return logit;
}

static double slope(reco_activation output, double logit)
{
    if (output == RECO_ACTIVATION_SIGMOID)
        return sigmoid(logit) * (1.0 - sigmoid(logit));
    if (output == RECO_ACTIVATION_RELU)
        return logit > 0.0 ? 1.0 : 0.0;
    return 1.0;
}

/* One sample's forward values, kept for its backward pass. */
typedef struct sample_pass {
    int32_t user, item;
    double gmf[WIDEST];
    double x[RECO_MAX_LAYERS + 1][WIDEST]; /* x[0] the MLP input, x[k+1] layer k's output */
    double mask[RECO_MAX_LAYERS][WIDEST];  /* layer k's dropout scales (1 without) */
    double logit;
} sample_pass;

static void tower_forward(const reference_shape *s, const layout *l, const float *params,
                          uint64_t sample, int training, sample_pass *a)
{
    for (size_t k = 0; k < l->mlp_dim; k++) {
        a->x[0][k] = params[l->user_mlp + (size_t)a->user * l->mlp_dim + k];
        a->x[0][l->mlp_dim + k] = params[l->item_mlp + (size_t)a->item * l->mlp_dim + k];
    }
    for (size_t layer = 0; layer < l->n_tower; layer++) {
        size_t in = s->layers[layer], out = s->layers[layer + 1];
        const float *w = params + l->weight[layer];
        for (size_t j = 0; j < out; j++) {
            double sum = params[l->bias[layer] + j];
            for (size_t k = 0; k < in; k++)
                sum += (double)w[j * in + k] * a->x[layer][k];
            a->mask[layer][j] = training && s->dropout > 0.0
                                    ? dropout_scale(s->dropout_seed, sample, layer, j, s->dropout)
                                    : 1.0;
            a->x[layer + 1][j] = (sum > 0.0 ? sum : 0.0) * a->mask[layer][j];
        }
    }
}

/* The logit of (user, item); `sample` is its place in the batch (BPR's
 * negatives come after the n positives), which picks its dropout masks. */
static double forward(const reference_shape *s, const layout *l, const float *params, int32_t user,
                      int32_t item, uint64_t sample, int training, sample_pass *a)
{
    a->user = user;
    a->item = item;
    double logit = params[l->head_b];
    for (size_t k = 0; k < l->gmf_dim; k++) {
        a->gmf[k] = (double)params[l->user_gmf + (size_t)user * l->gmf_dim + k] *
                    params[l->item_gmf + (size_t)item * l->gmf_dim + k];
        logit += a->gmf[k] * params[l->head_w + k];
    }
    tower_forward(s, l, params, sample, training, a);
    if (l->n_tower)
        for (size_t j = 0; j < s->layers[l->n_tower]; j++)
            logit += a->x[l->n_tower][j] * params[l->head_w + l->gmf_dim + j];
    if (l->user_bias != ABSENT)
        logit += (double)params[l->user_bias + user] + params[l->item_bias + item];
    return a->logit = logit;
}

/* Back through the tower from d loss / d (last layer's output). */
static void tower_backward(const reference_shape *s, const layout *l, const float *params,
                           const sample_pass *a, double *delta, double *gradient)
{
    double below[WIDEST];
    for (size_t layer = l->n_tower; layer-- > 0;) {
        size_t in = s->layers[layer], out = s->layers[layer + 1];
        const float *w = params + l->weight[layer];
        memset(below, 0, in * sizeof *below);
        for (size_t j = 0; j < out; j++) {
            /* a dropped or dead unit passes nothing back */
            double d = a->x[layer + 1][j] > 0.0 ? delta[j] * a->mask[layer][j] : 0.0;
            gradient[l->bias[layer] + j] += d;
            for (size_t k = 0; k < in; k++) {
                gradient[l->weight[layer] + j * in + k] += d * a->x[layer][k];
                below[k] += d * w[j * in + k];
            }
        }
        memcpy(delta, below, in * sizeof *below);
    }
    for (size_t k = 0; k < l->mlp_dim; k++) {
        gradient[l->user_mlp + (size_t)a->user * l->mlp_dim + k] += delta[k];
        gradient[l->item_mlp + (size_t)a->item * l->mlp_dim + k] += delta[l->mlp_dim + k];
    }
}

/* Adds one sample's gradient, given d loss / d logit. */
static void backward(const reference_shape *s, const layout *l, const float *params,
                     const sample_pass *a, double dlogit, double *gradient)
{
    if (l->train_head_b)
        gradient[l->head_b] += dlogit;
    for (size_t k = 0; k < l->gmf_dim; k++) {
        double h = params[l->head_w + k];
        if (l->train_head_w)
            gradient[l->head_w + k] += dlogit * a->gmf[k];
        gradient[l->user_gmf + (size_t)a->user * l->gmf_dim + k] +=
            dlogit * h * params[l->item_gmf + (size_t)a->item * l->gmf_dim + k];
        gradient[l->item_gmf + (size_t)a->item * l->gmf_dim + k] +=
            dlogit * h * params[l->user_gmf + (size_t)a->user * l->gmf_dim + k];
    }
    if (l->user_bias != ABSENT) {
        gradient[l->user_bias + a->user] += dlogit;
        gradient[l->item_bias + a->item] += dlogit;
    }
    if (!l->n_tower)
        return;
    double delta[WIDEST];
    size_t last = s->layers[l->n_tower];
    for (size_t j = 0; j < last; j++) {
        double h = params[l->head_w + l->gmf_dim + j];
        if (l->train_head_w)
            gradient[l->head_w + l->gmf_dim + j] += dlogit * a->x[l->n_tower][j];
        delta[j] = dlogit * h;
    }
    tower_backward(s, l, params, a, delta, gradient);
}

/* BCE with logits and the squared error of act(logit), per row. */
static double pointwise(const reference_shape *s, const layout *l, const float *params,
                        const reference_batch *b, double *gradient)
{
    sample_pass a;
    double total = 0.0;
    for (size_t r = 0; r < b->n; r++) {
        double logit = forward(s, l, params, b->users[r], b->items[r], r, 1, &a);
        double target = b->targets[r], dlogit;
        if (b->loss == RECO_LOSS_BCE) {
            total += softplus(logit) - target * logit;
            dlogit = sigmoid(logit) - target;
        } else {
            double error = activate(s->output, logit) - target;
            total += error * error;
            dlogit = 2.0 * error * slope(s->output, logit);
        }
        if (gradient)
            backward(s, l, params, &a, dlogit / (double)b->n, gradient);
    }
    return total / (double)b->n;
}

/* BPR: -log sigmoid(act(positive) - act(negative)) per pair. */
static double pairwise(const reference_shape *s, const layout *l, const float *params,
                       const reference_batch *b, double *gradient)
{
    sample_pass positive, negative;
    double total = 0.0;
    for (size_t r = 0; r < b->n; r++) {
        double up = forward(s, l, params, b->users[r], b->items[r], r, 1, &positive);
        double down = forward(s, l, params, b->users[r], b->negatives[r], b->n + r, 1, &negative);
        double difference = activate(s->output, up) - activate(s->output, down);
        total += softplus(-difference);
        /* d softplus(-x) / dx = -sigmoid(-x) */
        double d_difference = -sigmoid(-difference) / (double)b->n;
        if (!gradient)
            continue;
        backward(s, l, params, &positive, d_difference * slope(s->output, up), gradient);
        backward(s, l, params, &negative, -d_difference * slope(s->output, down), gradient);
    }
    return total / (double)b->n;
}

double reference_loss_and_gradient(const reference_shape *shape, const float *params,
                                   const reference_batch *batch, double *gradient)
{
    layout l = layout_of(shape);
    if (gradient)
        memset(gradient, 0, l.count * sizeof *gradient);
    if (batch->loss == RECO_LOSS_BPR)
        return pairwise(shape, &l, params, batch, gradient);
    return pointwise(shape, &l, params, batch, gradient);
}

void reference_scores(const reference_shape *shape, const float *params, const int32_t *users,
                      const int32_t *items, size_t n, double *scores)
{
    sample_pass a;
    layout l = layout_of(shape);
    for (size_t r = 0; r < n; r++)
        scores[r] =
            activate(shape->output, forward(shape, &l, params, users[r], items[r], r, 0, &a));
}

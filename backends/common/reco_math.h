/* The math the core, the CPU backend and the CUDA backend share, written
 * once: compiled by the C compiler and by nvcc (for host and device), in the
 * manner of ggml's ggml-common.h. Every backend's results depend on these
 * exact operations (masks bit for bit, the same random streams), so there
 * is no second copy to keep equal. */
#ifndef RECO_MATH_H
#define RECO_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define RECO_SHARED static __host__ __device__ __forceinline__
#elif defined(__GNUC__)
/* forced, so that the CPU backend's AVX2 clones inline their own copy */
#define RECO_SHARED static inline __attribute__((always_inline))
#else
#define RECO_SHARED static inline
#endif

/* The activations a network's output may have (reco_activation's values). */
enum { RECO_MATH_IDENTITY = 0, RECO_MATH_SIGMOID = 1, RECO_MATH_RELU = 2 };

/* SplitMix64's finalizer: 64 well-mixed bits from any 64-bit value, the
 * building block of every counter-based random draw. */
RECO_SHARED uint64_t reco_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The next value of a SplitMix64 stream whose state is *state. */
RECO_SHARED uint64_t reco_splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    return reco_mix64(*state);
}

/* Where part `part` of `parts` nearly equal parts of n things begins: how
 * threads, ranks and GPU blocks share rows out alike. */
RECO_SHARED size_t reco_share(size_t n, size_t part, size_t parts)
{
    return n * part / parts;
}

/* The rank-th item (from 0, increasing) not in the sorted, distinct list
 * `taken` of `count` items: rank plus the number of m with
 * taken[m] - m <= rank, by a binary search without data-dependent branches. */
RECO_SHARED int32_t reco_nth_untaken(const int32_t *taken, size_t count, uint64_t rank)
{
    if (count == 0)
        return (int32_t)rank;
    size_t low = 0; /* taken[m] - m <= rank for every m < low */
    for (size_t length = count; length > 1; length -= length / 2) {
        size_t middle = low + length / 2;
        size_t keep = (uint64_t)(taken[middle] - (int32_t)middle) <= rank;
        low += (length / 2) & (0 - keep);
    }
    return (int32_t)(rank + low + ((uint64_t)(taken[low] - (int32_t)low) <= rank));
}

/* Inverted dropout as a pure function of (seed, sample, layer, unit): 0 for
 * a dropped unit, 1 / (1 - p) for a kept one, whatever the slicing. */
RECO_SHARED float reco_dropout_scale(uint64_t seed, uint64_t sample, size_t layer, size_t unit,
                                     float probability)
{
    uint64_t h = reco_mix64(seed ^ reco_mix64(sample * 0x9e3779b97f4a7c15ull +
                                              layer * 0x632be59bd9b4e019ull + unit));
    float u = (float)(h >> 40) * 0x1.0p-24f;
    return u < probability ? 0.0f : 1.0f / (1.0f - probability);
}

/* The output activation of a logit, and its derivative. */
RECO_SHARED float reco_activate(int activation, float logit)
{
    if (activation == RECO_MATH_SIGMOID)
        return 1.0f / (1.0f + expf(-logit));
    if (activation == RECO_MATH_RELU)
        return logit > 0.0f ? logit : 0.0f;
    return logit;
}

RECO_SHARED float reco_activation_slope(int activation, float logit)
{
    if (activation == RECO_MATH_SIGMOID) {
        float s = 1.0f / (1.0f + expf(-logit));
        return s * (1.0f - s);
    }
    if (activation == RECO_MATH_RELU)
        return logit > 0.0f ? 1.0f : 0.0f;
    return 1.0f;
}

/* log(1 + e^x) without overflow: the BPR loss of a score difference -x. */
RECO_SHARED double reco_softplus(double x)
{
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* One optimizer step's arithmetic, in torch.optim's forms: the settings
 * and, for Adam, the bias corrections of step t. */
typedef struct reco_step_rule {
    int kind; /* reco_optimizer: 0 SGD, 1 Adagrad, 2 Adam, 3 AdamW */
    float learning_rate, momentum, beta1, beta2, epsilon, weight_decay;
    float adam_step_size;        /* lr / (1 - beta1^t) */
    float adam_correction2_sqrt; /* sqrt(1 - beta2^t) */
    int first_step;              /* t == 1: SGD's momentum buffer starts at the gradient */
    uint64_t step;               /* t */
} reco_step_rule;

RECO_SHARED reco_step_rule reco_step_rule_make(int kind, float learning_rate, float momentum,
                                               float beta1, float beta2, float epsilon,
                                               float weight_decay, uint64_t step)
{
    reco_step_rule rule = {kind,
                           learning_rate,
                           momentum,
                           beta1,
                           beta2,
                           epsilon,
                           weight_decay,
                           (float)(learning_rate / (1.0 - pow(beta1, (double)step))),
                           (float)sqrt(1.0 - pow(beta2, (double)step)),
                           step == 1,
                           step};
    return rule;
}

/* 1 for the optimizers with Adam's two moments (Adam, AdamW). */
RECO_SHARED int reco_optimizer_is_adam(int kind)
{
    return kind == 2 || kind == 3;
}

/* One parameter's step given its gradient. `first` is SGD's momentum buffer
 * (NULL without momentum), Adagrad's sum of squares or Adam's first moment;
 * `second` is Adam's second moment. Weight decay is L2 added to the gradient,
 * except AdamW's, decoupled: the parameter shrinks by lr x decay first, as
 * torch.optim.AdamW does. */
RECO_SHARED void reco_optimizer_update(reco_step_rule rule, float *param, float grad,
                                       float *first, float *second)
{
    float g = rule.kind == 3 ? grad : grad + rule.weight_decay * *param;
    if (rule.kind == 3)
        *param -= rule.learning_rate * rule.weight_decay * *param;
    if (rule.kind == 0) {
        if (first) {
            *first = (rule.first_step ? 0.0f : rule.momentum) * *first + g;
            g = *first;
        }
        *param -= rule.learning_rate * g;
    } else if (rule.kind == 1) {
        *first += g * g;
        *param -= rule.learning_rate * g / (sqrtf(*first) + rule.epsilon);
    } else {
        *first = *first * rule.beta1 + (1.0f - rule.beta1) * g;
        *second = *second * rule.beta2 + (1.0f - rule.beta2) * g * g;
        *param -= rule.adam_step_size * *first /
                  (sqrtf(*second) / rule.adam_correction2_sqrt + rule.epsilon);
    }
}

/* What dense steps do to a row over the `idle` steps its gradient is zero:
 * momentum (SGD's buffer, Adam's first moment) keeps moving it while it
 * decays. Lazy steps replay this when the row is next touched, so that they
 * train as dense steps do at the cost of the touched rows only (a row touched
 * once every 20 steps moves about 9x further under Adam than its one step).
 * For SGD it is exact; Adam's idle steps take step t's bias corrections and
 * leave eps out of the series, which the first epoch's steps make exact
 * enough. Weight decay of idle steps is not replayed. */
typedef struct reco_idle_steps {
    float series;       /* the parameter moves by -step size x series x
                           (SGD: the buffer; Adam: m / its denominator) */
    float first_decay;  /* the buffer or first moment is multiplied by this */
    float second_decay; /* Adam's second moment is multiplied by this */
} reco_idle_steps;

/* The steps a row last stepped at step `last` (0: never) sat idle. */
RECO_SHARED uint64_t reco_idle_count(reco_step_rule rule, uint64_t last)
{
    return last == 0 || last + 1 >= rule.step ? 0 : rule.step - last - 1;
}

/* The replay of `idle` steps; it depends on the rule's kind, momentum and
 * betas only, so a backend may keep a table of it. Adagrad does not move
 * without a gradient: nothing to replay. Adam's moments always decay; its
 * series needs beta1^2 < beta2 to converge, and is 0 otherwise. */
RECO_SHARED reco_idle_steps reco_idle_steps_make(reco_step_rule rule, uint64_t idle)
{
    reco_idle_steps steps = {0.0f, 1.0f, 1.0f};
    double decay = 0.0, ratio = 0.0;
    if (rule.kind == 0 && rule.momentum > 0.0f) {
        decay = ratio = rule.momentum;
    } else if (reco_optimizer_is_adam(rule.kind)) {
        decay = rule.beta1;
        if ((double)rule.beta1 * rule.beta1 < (double)rule.beta2)
            ratio = rule.beta1 / sqrt((double)rule.beta2);
        steps.second_decay = (float)pow((double)rule.beta2, (double)idle);
    } else {
        return steps;
    }
    steps.series = (float)(ratio * (1.0 - pow(ratio, (double)idle)) / (1.0 - ratio));
    steps.first_decay = (float)pow(decay, (double)idle);
    return steps;
}

/* 1 when replaying `idle` changes anything. */
RECO_SHARED int reco_idle_steps_change(reco_idle_steps idle)
{
    return idle.series != 0.0f || idle.first_decay != 1.0f || idle.second_decay != 1.0f;
}

/* Replays the idle steps on one parameter, before its step. The factors
 * are the same for a whole row: a loop over one hoists them. */
RECO_SHARED void reco_optimizer_replay(reco_step_rule rule, reco_idle_steps idle, float *param,
                                       float *first, float *second)
{
    if (rule.kind == 0) {
        *param -= rule.learning_rate * idle.series * *first;
        *first *= idle.first_decay;
    } else {
        float move = rule.adam_step_size * idle.series;
        float inverse_correction = 1.0f / rule.adam_correction2_sqrt;
        *param -= move * *first / (sqrtf(*second) * inverse_correction + rule.epsilon);
        *first *= idle.first_decay;
        *second *= idle.second_decay;
    }
}

#endif

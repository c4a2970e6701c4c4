/* Metrics: the sampled NCF protocol, full ranking and rating errors,
 * accumulated per user (or per row) in a reco_metrics handle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_impl.h"
#include "error.h"
#include "ranking.h"
#include "reco/metrics.h"
#include "reco_alloc.h"

#define N_METRICS 8
#define MAX_K 100000

struct reco_metrics {
    size_t k;
    reco_tie_policy ties;
    double sum[N_METRICS];
    size_t count[N_METRICS];
};

reco_status reco_metrics_new(reco_metrics **out)
{
    if (!out)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *out = reco_calloc(1, sizeof **out);
    if (!*out)
        return reco_fail_oom();
    (*out)->k = 10;
    return RECO_OK;
}

void reco_metrics_free(reco_metrics *metrics)
{
    reco_free(metrics);
}

void reco_metrics_reset(reco_metrics *metrics)
{
    if (!metrics)
        return;
    memset(metrics->sum, 0, sizeof metrics->sum);
    memset(metrics->count, 0, sizeof metrics->count);
}

reco_status reco_metrics_set_k(reco_metrics *metrics, size_t k)
{
    if (!metrics)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL metrics");
    if (k < 1 || k > MAX_K)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "K %zu: expected 1 to %d", k, MAX_K);
    metrics->k = k;
    reco_metrics_reset(metrics);
    return RECO_OK;
}

reco_status reco_metrics_set_tie_policy(reco_metrics *metrics, reco_tie_policy policy)
{
    if (!metrics)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL metrics");
    if (policy != RECO_TIES_PESSIMISTIC && policy != RECO_TIES_OPTIMISTIC)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown tie policy %d", (int)policy);
    metrics->ties = policy;
    return RECO_OK;
}

static void add(reco_metrics *metrics, reco_metric metric, double value)
{
    metrics->sum[metric] += value;
    metrics->count[metric]++;
}

static reco_status check_inputs(const reco_metrics *metrics, const reco_model *model,
                                const reco_dataset *test)
{
    if (!metrics || !test)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL metrics or dataset");
    reco_status status = reco_model_check_ready(model);
    if (status != RECO_OK)
        return status;
    if (reco_dataset_n_users(test) > reco_model_n_users(model) ||
        reco_dataset_n_items(test) > reco_model_n_items(model))
        return reco_fail(RECO_ERR_OUT_OF_RANGE,
                         "the dataset has %zu users and %zu items; the model %zu and %zu",
                         reco_dataset_n_users(test), reco_dataset_n_items(test),
                         reco_model_n_users(model), reco_model_n_items(model));
    return RECO_OK;
}

reco_status reco_metrics_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                          const reco_dataset *test)
{
    return reco_metrics_evaluate_sampled_rows(metrics, model, test, 0, test ? test->size : 0);
}

/* Candidates scored in one call: a call per test row (about 100 pairs) cost
 * more in dispatch than in scoring. */
#define SAMPLED_PAIRS_A_CALL 4096

/* HR and NDCG of one test row from its candidates' scores, the positive's first. */
static void add_sampled_row(reco_metrics *metrics, const float *scores, size_t n_negatives)
{
    size_t above = 0;
    for (size_t i = 1; i <= n_negatives; i++)
        above +=
            metrics->ties == RECO_TIES_PESSIMISTIC ? scores[i] >= scores[0] : scores[i] > scores[0];
    int hit = above < metrics->k;
    add(metrics, RECO_METRIC_HR, hit);
    add(metrics, RECO_METRIC_NDCG, hit ? 1.0 / log2((double)above + 2.0) : 0.0);
}

reco_status reco_metrics_evaluate_sampled_rows(reco_metrics *metrics, const reco_model *model,
                                               const reco_dataset *test, size_t first_row,
                                               size_t n_rows)
{
    reco_status status = check_inputs(metrics, model, test);
    if (status != RECO_OK)
        return status;
    if (first_row > test->size || n_rows > test->size - first_row)
        return reco_fail(RECO_ERR_OUT_OF_RANGE, "rows %zu to %zu of a test set of %zu", first_row,
                         first_row + n_rows, test->size);
    if (!test->negative_offsets)
        return reco_fail(RECO_ERR_STATE, "the test set has no test negatives attached");
    size_t end = first_row + n_rows, capacity = SAMPLED_PAIRS_A_CALL;
    for (size_t row = first_row; row < end; row++) {
        size_t n = test->negative_offsets[row + 1] - test->negative_offsets[row] + 1;
        capacity = n > capacity ? n : capacity;
    }
    int32_t *users = reco_malloc(capacity * sizeof *users);
    int32_t *items = reco_malloc(capacity * sizeof *items);
    float *scores = reco_malloc(capacity * sizeof *scores);
    if (!users || !items || !scores) {
        status = reco_fail_oom();
        goto done;
    }
    for (size_t row = first_row; row < end && status == RECO_OK;) {
        /* the candidates of as many rows as fill a call, each row's positive first */
        size_t group_end = row, filled = 0;
        for (; group_end < end; group_end++) {
            size_t n_negatives;
            const int32_t *negatives = reco_dataset_test_negatives(test, group_end, &n_negatives);
            if (filled + n_negatives + 1 > capacity)
                break;
            items[filled] = test->items[group_end];
            memcpy(items + filled + 1, negatives, n_negatives * sizeof *items);
            for (size_t i = 0; i <= n_negatives; i++)
                users[filled + i] = test->users[group_end];
            filled += n_negatives + 1;
        }
        status = reco_model_predict(model, users, items, filled, scores);
        for (size_t offset = 0; status == RECO_OK && row < group_end; row++) {
            size_t n_negatives = test->negative_offsets[row + 1] - test->negative_offsets[row];
            add_sampled_row(metrics, scores + offset, n_negatives);
            offset += n_negatives + 1;
        }
    }
done:
    reco_free(users);
    reco_free(items);
    reco_free(scores);
    return status;
}

/* Scores one user's top K against its relevant (sorted) items. */
static void score_ranking(reco_metrics *metrics, const int32_t *top, size_t n_top,
                          const int32_t *relevant, size_t n_relevant)
{
    size_t k = metrics->k, hits = 0, ideal = n_relevant < k ? n_relevant : k;
    double dcg = 0.0, ideal_dcg = 0.0, precision_sum = 0.0;
    for (size_t rank = 0; rank < n_top; rank++) {
        if (!reco_sorted_contains(relevant, n_relevant, top[rank]))
            continue;
        hits++;
        dcg += 1.0 / log2((double)rank + 2.0);
        precision_sum += (double)hits / (double)(rank + 1);
    }
    for (size_t rank = 0; rank < ideal; rank++)
        ideal_dcg += 1.0 / log2((double)rank + 2.0);
    add(metrics, RECO_METRIC_HR, hits > 0);
    add(metrics, RECO_METRIC_NDCG, dcg / ideal_dcg);
    add(metrics, RECO_METRIC_RECALL, (double)hits / (double)n_relevant);
    add(metrics, RECO_METRIC_PRECISION, (double)hits / (double)k);
    add(metrics, RECO_METRIC_MAP, precision_sum / (double)ideal);
}

reco_status reco_metrics_evaluate_ranking(reco_metrics *metrics, const reco_model *model,
                                          const reco_dataset *test, const reco_dataset *exclude)
{
    reco_status status = check_inputs(metrics, model, test);
    if (status != RECO_OK)
        return status;
    if (exclude && !reco_dataset_shares_vocabulary(test, exclude))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "the test set and the excluded set do not share a vocabulary");
    const reco_user_rows *relevant = NULL, *excluded = NULL;
    int32_t *users = NULL, *top_items = NULL;
    float *top_scores = NULL;
    size_t *counts = NULL, n_users = 0, k = metrics->k;
    status = reco_dataset_user_rows(test, &relevant);
    if (status == RECO_OK && exclude)
        status = reco_dataset_user_rows(exclude, &excluded);
    if (status == RECO_OK) {
        size_t capacity = relevant->n_users ? relevant->n_users : 1;
        users = reco_malloc(capacity * sizeof *users);
        counts = reco_malloc(capacity * sizeof *counts);
        top_items = reco_malloc(capacity * k * sizeof *top_items);
        top_scores = reco_malloc(capacity * k * sizeof *top_scores);
        if (!users || !counts || !top_items || !top_scores)
            status = reco_fail_oom();
    }
    for (size_t user = 0; status == RECO_OK && user < relevant->n_users; user++) {
        size_t n_relevant;
        reco_user_rows_of(relevant, (int32_t)user, &n_relevant);
        if (n_relevant > 0)
            users[n_users++] = (int32_t)user;
    }
    if (status == RECO_OK)
        status = reco_rank_users(model, users, n_users, k, &(reco_rank_filter){excluded, NULL},
                                 top_items, top_scores, counts);
    for (size_t u = 0; status == RECO_OK && u < n_users; u++) {
        size_t n_relevant;
        const int32_t *user_relevant = reco_user_rows_of(relevant, users[u], &n_relevant);
        score_ranking(metrics, top_items + u * k, counts[u], user_relevant, n_relevant);
    }
    reco_free(users);
    reco_free(counts);
    reco_free(top_items);
    reco_free(top_scores);
    return status;
}

reco_status reco_metrics_evaluate_ratings(reco_metrics *metrics, const reco_model *model,
                                          const reco_dataset *test)
{
    reco_status status = check_inputs(metrics, model, test);
    if (status != RECO_OK)
        return status;
    if (!test->ratings)
        return reco_fail(RECO_ERR_STATE, "the test set has no ratings");
    enum { CHUNK = 8192 };
    float *scores = reco_malloc(CHUNK * sizeof *scores);
    if (!scores)
        return reco_fail_oom();
    for (size_t begin = 0; begin < test->size && status == RECO_OK; begin += CHUNK) {
        size_t count = test->size - begin < CHUNK ? test->size - begin : CHUNK;
        status = reco_model_predict(model, test->users + begin, test->items + begin, count,
                                    scores);
        for (size_t i = 0; status == RECO_OK && i < count; i++) {
            double error = (double)scores[i] - (double)test->ratings[begin + i];
            add(metrics, RECO_METRIC_MSE, error * error);
            add(metrics, RECO_METRIC_MAE, fabs(error));
        }
    }
    reco_free(scores);
    return status;
}

reco_status reco_metrics_get(const reco_metrics *metrics, reco_metric metric, double *value)
{
    if (!metrics || !value)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL metrics or output");
    if (metric < RECO_METRIC_HR || metric > RECO_METRIC_MSE)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown metric %d", (int)metric);
    reco_metric source = metric == RECO_METRIC_RMSE ? RECO_METRIC_MSE : metric;
    size_t evaluated = 0;
    for (int m = RECO_METRIC_HR; m <= RECO_METRIC_MSE; m++)
        evaluated += metrics->count[m];
    if (evaluated == 0)
        return reco_fail(RECO_ERR_STATE, "no %s: the evaluated rows were none (an empty test "
                         "set: too few rows to hold any out?)", reco_metric_name(metric));
    if (metrics->count[source] == 0)
        return reco_fail(RECO_ERR_STATE, "%s was not evaluated", reco_metric_name(metric));
    double mean = metrics->sum[source] / (double)metrics->count[source];
    *value = metric == RECO_METRIC_RMSE ? sqrt(mean) : mean;
    return RECO_OK;
}

size_t reco_metrics_count(const reco_metrics *metrics, reco_metric metric)
{
    if (!metrics || metric < RECO_METRIC_HR || metric > RECO_METRIC_MSE)
        return 0;
    return metrics->count[metric == RECO_METRIC_RMSE ? RECO_METRIC_MSE : metric];
}

const char *reco_metric_name(reco_metric metric)
{
    static const char *const names[N_METRICS] = {"HR",  "NDCG", "Recall", "Precision",
                                                 "MAP", "RMSE", "MAE",    "MSE"};
    return metric >= RECO_METRIC_HR && metric <= RECO_METRIC_MSE ? names[metric] : "unknown";
}

/* libreco — evaluation: sampled leave-one-out (NCF), full ranking, ratings.
 *
 * A reco_metrics handle accumulates per-user (or per-row) results over one or
 * more evaluate calls; reco_metrics_get returns their mean.
 *
 * Threads (see reco/common.h): a reco_metrics handle is used by one thread at
 * a time; the evaluate calls only read the model and the datasets, so
 * threads with a reco_metrics each may evaluate one model at once. */
#ifndef RECO_METRICS_H
#define RECO_METRICS_H

#include "reco/common.h"
#include "reco/dataset.h"
#include "reco/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_metrics reco_metrics;

typedef enum reco_metric {
    RECO_METRIC_HR = 0,        /* hit ratio @K: share of users with a relevant item in the top K */
    RECO_METRIC_NDCG = 1,      /* binary-relevance NDCG @K, ideal DCG over min(K, relevant) */
    RECO_METRIC_RECALL = 2,    /* relevant items in the top K / relevant items */
    RECO_METRIC_PRECISION = 3, /* relevant items in the top K / K */
    RECO_METRIC_MAP = 4,       /* mean average precision @K, normalized by min(K, relevant) */
    RECO_METRIC_RMSE = 5,
    RECO_METRIC_MAE = 6,
    RECO_METRIC_MSE = 7
} reco_metric;

/* How the sampled protocol ranks a test item that scores the same as a
 * negative: pessimistic (default) puts the test item below it. */
typedef enum reco_tie_policy {
    RECO_TIES_PESSIMISTIC = 0,
    RECO_TIES_OPTIMISTIC = 1
} reco_tie_policy;

/* Creates an empty accumulator with K = 10 and pessimistic ties. The caller
 * owns *out and frees it with reco_metrics_free (NULL is a no-op). */
RECO_API reco_status reco_metrics_new(reco_metrics **out);
RECO_API void reco_metrics_free(reco_metrics *metrics);

/* The cut-off K of the ranking metrics (1..100000). Clears the results. */
RECO_API reco_status reco_metrics_set_k(reco_metrics *metrics, size_t k);
/* How the sampled protocol ranks ties (see reco_tie_policy). */
RECO_API reco_status reco_metrics_set_tie_policy(reco_metrics *metrics, reco_tie_policy policy);

/* Forgets every accumulated result. */
RECO_API void reco_metrics_reset(reco_metrics *metrics);

/* NCF protocol: for each row of `test` (with test negatives attached, see
 * reco_dataset_sample_test_negatives), ranks the test item among its
 * negatives and accumulates HR@K and NDCG@K. */
RECO_API reco_status reco_metrics_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                                   const reco_dataset *test);

/* The same for rows [first_row, first_row + n_rows) of `test` only, so that
 * processes can share a test set out and add up their sums (value times
 * reco_metrics_count). RECO_ERR_OUT_OF_RANGE past the test set's end. */
RECO_API reco_status reco_metrics_evaluate_sampled_rows(reco_metrics *metrics,
                                                        const reco_model *model,
                                                        const reco_dataset *test, size_t first_row,
                                                        size_t n_rows);

/* Full ranking: for each user with rows in `test` (its relevant items),
 * scores every item, drops the user's items in `exclude` (may be NULL;
 * usually the training set), takes the top K (score descending, then item
 * index) and accumulates HR, NDCG, Recall, Precision and MAP @K. */
RECO_API reco_status reco_metrics_evaluate_ranking(reco_metrics *metrics, const reco_model *model,
                                                   const reco_dataset *test,
                                                   const reco_dataset *exclude);

/* Rating prediction: accumulates squared and absolute errors of the model's
 * scores against the ratings of `test` (RMSE, MAE, MSE). */
RECO_API reco_status reco_metrics_evaluate_ratings(reco_metrics *metrics, const reco_model *model,
                                                   const reco_dataset *test);

/* Writes the mean of a metric over what was evaluated. RECO_ERR_STATE when
 * no evaluate call produced it yet. */
RECO_API reco_status reco_metrics_get(const reco_metrics *metrics, reco_metric metric,
                                      double *value);

/* Number of users (ranking metrics) or rows (rating metrics) accumulated. */
RECO_API size_t reco_metrics_count(const reco_metrics *metrics, reco_metric metric);

/* A short constant name: "HR", "NDCG", "Recall", ... */
RECO_API const char *reco_metric_name(reco_metric metric);

#ifdef __cplusplus
}
#endif

#endif

/* Splits: leave-one-out by latest timestamp, random holdout, three-way;
 * optionally stratified by rating value. Every split assigns each row a part
 * (0 train, 1 test, 2 validation) and then selects the parts in row order. */
#include <math.h>
#include <stdlib.h>

#include "dataset_impl.h"
#include "error.h"
#include "rng.h"
#include "reco_alloc.h"

enum { PART_TRAIN = 0, PART_TEST = 1, PART_VALID = 2 };

/* Materializes train/test/valid from a part assignment; outs[PART_*]. */
static reco_status select_parts(const reco_dataset *dataset, const uint8_t *part, int n_parts,
                                reco_dataset **const *outs)
{
    reco_status status = RECO_OK;
    for (int which = 0; which < n_parts; which++) {
        status = reco_dataset_select(dataset, part, (uint8_t)which, 1, outs[which]);
        if (status != RECO_OK)
            goto fail;
    }
    return RECO_OK;
fail:
    for (int which = 0; which < n_parts; which++) {
        reco_dataset_free(*outs[which]);
        *outs[which] = NULL;
    }
    return status;
}

static int is_later(const reco_dataset *dataset, size_t row, size_t than)
{
    /* equal timestamps keep the earlier row: pandas rank(method='first') */
    if (!dataset->timestamps)
        return row > than;
    return dataset->timestamps[row] > dataset->timestamps[than];
}

reco_status reco_dataset_split_leave_one_out(const reco_dataset *dataset,
                                             reco_dataset **train, reco_dataset **test)
{
    if (!train || !test)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
    *train = *test = NULL;
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    reco_status status = RECO_OK;
    size_t n_users = dataset->vocab->users.count;
    size_t *latest = reco_malloc((n_users ? n_users : 1) * sizeof *latest);
    size_t *count = reco_calloc(n_users ? n_users : 1, sizeof *count);
    uint8_t *part = reco_calloc(dataset->size ? dataset->size : 1, 1);
    reco_dataset *test_rows = NULL;
    if (!latest || !count || !part) {
        status = reco_fail_oom();
        goto done;
    }
    for (size_t row = 0; row < dataset->size; row++) {
        int32_t user = dataset->users[row];
        if (count[user]++ == 0 || is_later(dataset, row, latest[user]))
            latest[user] = row;
    }
    for (size_t user = 0; user < n_users; user++)
        if (count[user] >= 2)
            part[latest[user]] = PART_TEST;
    reco_dataset **outs[2] = {train, &test_rows};
    status = select_parts(dataset, part, 2, outs);
    if (status != RECO_OK)
        goto done;
    /* one row per user: reorder the test rows by user index */
    reco_dataset *ordered = NULL;
    status = reco_dataset_create(dataset->vocab, dataset->ratings != NULL,
                                 dataset->timestamps != NULL, test_rows->size, &ordered);
    if (status != RECO_OK) {
        reco_dataset_free(*train);
        *train = NULL;
        goto done;
    }
    for (size_t user = 0; user < n_users; user++) {
        if (count[user] < 2)
            continue;
        size_t row = latest[user];
        reco_dataset_push(ordered, dataset->users[row], dataset->items[row],
                          dataset->ratings ? dataset->ratings[row] : 0.0f,
                          dataset->timestamps ? dataset->timestamps[row] : 0);
    }
    *test = ordered;
done:
    reco_dataset_free(test_rows);
    reco_free(latest);
    reco_free(count);
    reco_free(part);
    return status;
}

static void shuffle(size_t *rows, size_t n, reco_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)reco_rng_below(rng, i);
        size_t swap = rows[i - 1];
        rows[i - 1] = rows[j];
        rows[j] = swap;
    }
}

static size_t rounded_share(size_t n, double fraction)
{
    return (size_t)floor((double)n * fraction + 0.5);
}

/* What a random split holds out: shares (n_folds 0), or fold `fold` of
 * n_folds nearly equal folds. */
typedef struct split_plan {
    double test_fraction, valid_fraction;
    size_t n_folds, fold;
} split_plan;

/* Shuffles one group of rows and marks its test (and valid) rows: the
 * leading shares, or the fold's run of the shuffled order. */
static void assign_group(size_t *rows, size_t n, const split_plan *plan, reco_rng *rng,
                         uint8_t *part)
{
    shuffle(rows, n, rng);
    if (plan->n_folds) {
        size_t end = n * (plan->fold + 1) / plan->n_folds;
        for (size_t i = n * plan->fold / plan->n_folds; i < end; i++)
            part[rows[i]] = PART_TEST;
        return;
    }
    size_t n_test = rounded_share(n, plan->test_fraction);
    size_t n_valid = rounded_share(n, plan->valid_fraction);
    if (n_test + n_valid > n)
        n_valid = n - n_test;
    for (size_t i = 0; i < n_test; i++)
        part[rows[i]] = PART_TEST;
    for (size_t i = n_test; i < n_test + n_valid; i++)
        part[rows[i]] = PART_VALID;
}

typedef struct rated_row {
    float rating;
    size_t row;
} rated_row;

static int by_rating_then_row(const void *a, const void *b)
{
    const rated_row *left = a, *right = b;
    if (left->rating != right->rating)
        return left->rating < right->rating ? -1 : 1;
    return left->row < right->row ? -1 : left->row > right->row;
}

/* Orders rows by rating value (then row) so that each value is one run. */
static reco_status group_by_rating(const reco_dataset *dataset, size_t *rows)
{
    rated_row *keyed = reco_malloc((dataset->size ? dataset->size : 1) * sizeof *keyed);
    if (!keyed)
        return reco_fail_oom();
    for (size_t i = 0; i < dataset->size; i++)
        keyed[i] = (rated_row){dataset->ratings[i], i};
    qsort(keyed, dataset->size, sizeof *keyed, by_rating_then_row);
    for (size_t i = 0; i < dataset->size; i++)
        rows[i] = keyed[i].row;
    reco_free(keyed);
    return RECO_OK;
}

static reco_status split_random(const reco_dataset *dataset, const split_plan *plan, uint64_t seed,
                                unsigned flags, int n_parts, reco_dataset **const *outs)
{
    for (int which = 0; which < n_parts; which++) {
        if (!outs[which])
            return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL output");
        *outs[which] = NULL;
    }
    if (!dataset)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "NULL dataset");
    if (plan->n_folds && (plan->n_folds < 2 || plan->fold >= plan->n_folds))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "fold %zu of %zu: expected at least 2 folds, numbered from 0", plan->fold,
                         plan->n_folds);
    if (!plan->n_folds && !(plan->test_fraction > 0.0 && plan->valid_fraction >= 0.0 &&
                            plan->test_fraction + plan->valid_fraction < 1.0))
        return reco_fail(RECO_ERR_INVALID_ARGUMENT,
                         "fractions test %g, validation %g: expected test > 0, validation "
                         ">= 0 and their sum < 1",
                         plan->test_fraction, plan->valid_fraction);
    if (flags & ~RECO_SPLIT_STRATIFY)
        return reco_fail(RECO_ERR_INVALID_ARGUMENT, "unknown split flags 0x%x", flags);
    if ((flags & RECO_SPLIT_STRATIFY) && !dataset->ratings)
        return reco_fail(RECO_ERR_STATE, "cannot stratify by rating: the dataset has none");
    reco_status status = RECO_OK;
    size_t n = dataset->size;
    size_t *rows = reco_malloc((n ? n : 1) * sizeof *rows);
    uint8_t *part = reco_calloc(n ? n : 1, 1);
    if (!rows || !part) {
        status = reco_fail_oom();
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    reco_rng rng;
    reco_rng_seed(&rng, seed, 0);
    if (flags & RECO_SPLIT_STRATIFY) {
        status = group_by_rating(dataset, rows);
        if (status != RECO_OK)
            goto done;
        for (size_t begin = 0, end; begin < n; begin = end) {
            for (end = begin + 1; end < n && dataset->ratings[rows[end]] ==
                                                 dataset->ratings[rows[begin]]; end++)
                ;
            assign_group(rows + begin, end - begin, plan, &rng, part);
        }
    } else {
        assign_group(rows, n, plan, &rng, part);
    }
    status = select_parts(dataset, part, n_parts, outs);
done:
    reco_free(rows);
    reco_free(part);
    return status;
}

reco_status reco_dataset_split_random(const reco_dataset *dataset, double test_fraction,
                                      uint64_t seed, unsigned flags, reco_dataset **train,
                                      reco_dataset **test)
{
    reco_dataset **outs[3] = {train, test, NULL};
    split_plan plan = {.test_fraction = test_fraction};
    return split_random(dataset, &plan, seed, flags, 2, outs);
}

reco_status reco_dataset_split_fold(const reco_dataset *dataset, size_t n_folds, size_t fold,
                                    uint64_t seed, unsigned flags, reco_dataset **train,
                                    reco_dataset **test)
{
    reco_dataset **outs[3] = {train, test, NULL};
    split_plan plan = {.n_folds = n_folds, .fold = fold};
    return split_random(dataset, &plan, seed, flags, 2, outs);
}

reco_status reco_dataset_split_three_way(const reco_dataset *dataset, double valid_fraction,
                                         double test_fraction, uint64_t seed, unsigned flags,
                                         reco_dataset **train, reco_dataset **valid,
                                         reco_dataset **test)
{
    reco_dataset **outs[3] = {train, test, valid};
    split_plan plan = {.test_fraction = test_fraction, .valid_fraction = valid_fraction};
    return split_random(dataset, &plan, seed, flags, 3, outs);
}

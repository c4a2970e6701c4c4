/* libreco — datasets: interaction logs, vocabularies, splits, negatives.
 *
 * A reco_dataset is an immutable-size list of interactions (user, item,
 * optional rating, optional timestamp). External ids (integers, or texts
 * such as "u1", as in the input files) are mapped to dense indices (int32, 0..n-1) by a vocabulary
 * in order of first appearance. Every dataset derived from another (a split, a filter, a file read
 * with reco_dataset_read_shared) shares its vocabulary, so user and item indices agree between
 * train, validation and test. A vocabulary is reference-counted: free datasets in any order.
 *
 * Thread safety: distinct datasets may be used from distinct threads. Calls
 * that add ids to a shared vocabulary (reco_dataset_read_shared,
 * reco_dataset_read_test_negatives, reco_dataset_read_titles) must not run
 * concurrently with any other call on a dataset sharing that vocabulary. */
#ifndef RECO_DATASET_H
#define RECO_DATASET_H

#include "reco/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_dataset reco_dataset;

/* Text formats of rating files. */
typedef enum reco_format {
    RECO_FORMAT_AUTO = 0,      /* decided from the first line, see docs/datasets.md */
    RECO_FORMAT_MOVIELENS = 1, /* user::item::rating::timestamp (ml-1m, ml-10m ratings.dat) */
    RECO_FORMAT_CSV = 2,       /* optional header, user,item,rating[,timestamp] (ml-latest) */
    RECO_FORMAT_TSV = 3,       /* user<TAB>item<TAB>rating[<TAB>timestamp] (ml-100k u.data, NCF .rating) */
    RECO_FORMAT_PAIRS = 4      /* user item, separated by a tab, a comma or a space; implicit */
} reco_format;

/* Largest accepted |rating|; NaN and infinities are always rejected. */
#define RECO_RATING_LIMIT 1e6

/* Longest accepted line of any text input, in bytes (excluding the newline). */
#define RECO_MAX_LINE 65536

/* Threads (see reco/common.h): every call below reads its dataset, except
 * reco_dataset_read_titles, reco_dataset_sample_test_negatives and
 * reco_dataset_read_test_negatives, which change it, and
 * reco_dataset_read_shared, which adds ids to the vocabulary it shares (a
 * change of every dataset on that vocabulary). */

/* Reads a ratings file into a new dataset with a new vocabulary. Lines may end
 * in LF or CRLF; blank lines are skipped. On failure *out is NULL and
 * reco_last_error() names the file, the line and what was expected.
 * The caller owns *out and frees it with reco_dataset_free(). */
RECO_API reco_status reco_dataset_read(const char *path, reco_format format,
                                       reco_dataset **out);

/* Like reco_dataset_read, but maps ids through the vocabulary of `vocabulary_of`
 * (typically the training file when reading a separate test file); ids it has
 * not seen are appended to that shared vocabulary. */
RECO_API reco_status reco_dataset_read_shared(const char *path, reco_format format,
                                              const reco_dataset *vocabulary_of,
                                              reco_dataset **out);

/* How the id columns of a text input are read (docs/datasets.md, "Ids").
 * An id column is integer or text as a whole; an id never holds
 * whitespace, a control character or the file's separator. */
typedef enum reco_ids {
    RECO_IDS_AUTO = 0, /* each column's first id decides; a column that mixes the kinds is
                          refused, and so is a number written another way ("1.0", "+1") */
    RECO_IDS_INT = 1,  /* canonical decimal integers only (digits, no leading zero, < 2^63) */
    RECO_IDS_TEXT = 2  /* every id is text, compared as written ("1" and "1.0" differ) */
} reco_ids;

/* reco_dataset_read (vocabulary_of NULL) or reco_dataset_read_shared, with
 * the ids read as `ids` says. A shared vocabulary keeps the kind its ids
 * already have: asking for another fails with RECO_ERR_INVALID_ARGUMENT. */
RECO_API reco_status reco_dataset_read_ids(const char *path, reco_format format, reco_ids ids,
                                           const reco_dataset *vocabulary_of, reco_dataset **out);

/* Builds a dataset from n interactions held in memory. users and items are
 * external ids (>= 0); ratings and timestamps may each be NULL. The arrays
 * are copied. The caller owns *out. */
RECO_API reco_status reco_dataset_from_arrays(const int64_t *users, const int64_t *items,
                                              const float *ratings, const int64_t *timestamps,
                                              size_t n, reco_dataset **out);

/* Generates a MovieLens-like dataset with no download: latent-factor ratings
 * 1..5, Zipf-skewed item popularity, per-user increasing timestamps. Users get
 * n_ratings / n_users interactions each (the remainder spread over the first
 * users), on distinct items. User ids are 1..n_users, item ids 1..n_items.
 * The same arguments always give the same bytes. The caller owns *out. */
RECO_API reco_status reco_dataset_synthetic(size_t n_users, size_t n_items, size_t n_ratings,
                                            uint64_t seed, reco_dataset **out);

/* Frees a dataset; NULL is a no-op. The vocabulary goes with its last user. */
RECO_API void reco_dataset_free(reco_dataset *dataset);

/* Number of interactions (rows). */
RECO_API size_t reco_dataset_size(const reco_dataset *dataset);

/* Number of users / items in the (shared) vocabulary: valid indices are
 * 0 .. n-1. Derived datasets report the size of the whole vocabulary. */
RECO_API size_t reco_dataset_n_users(const reco_dataset *dataset);
RECO_API size_t reco_dataset_n_items(const reco_dataset *dataset);

/* Column arrays of reco_dataset_size() elements, owned by the dataset and
 * valid until it is freed. ratings is NULL for implicit data, timestamps NULL
 * when the input had none. */
RECO_API const int32_t *reco_dataset_users(const reco_dataset *dataset);
RECO_API const int32_t *reco_dataset_items(const reco_dataset *dataset);
RECO_API const float *reco_dataset_ratings(const reco_dataset *dataset);
RECO_API const int64_t *reco_dataset_timestamps(const reco_dataset *dataset);

/* Returns 1 when a and b share one vocabulary (their indices agree), else 0. */
RECO_API int reco_dataset_shares_vocabulary(const reco_dataset *a, const reco_dataset *b);

/* Vocabulary lookups. The _id calls map an index back to the external id
 * (RECO_ERR_OUT_OF_RANGE for a bad index); the _index calls map an external
 * id to its index (RECO_ERR_OUT_OF_RANGE when the id is unknown). */
RECO_API reco_status reco_dataset_user_id(const reco_dataset *dataset, int32_t user_index,
                                          int64_t *user_id);
RECO_API reco_status reco_dataset_item_id(const reco_dataset *dataset, int32_t item_index,
                                          int64_t *item_id);
RECO_API reco_status reco_dataset_user_index(const reco_dataset *dataset, int64_t user_id,
                                             int32_t *user_index);
RECO_API reco_status reco_dataset_item_index(const reco_dataset *dataset, int64_t item_id,
                                             int32_t *item_index);

/* Ids that are not numbers. Readers take an id of 1 to RECO_ID_TEXT_MAX - 1
 * bytes, integer or text as reco_ids says: a canonical decimal integer
 * (digits, no leading zero, below 2^63) is an integer id, as the calls
 * above give it; a text id ("u1", "B00005N7P0", "007") is kept as written.
 * reco_dataset_user_id fails with RECO_ERR_STATE on a text id. The _id_text
 * calls write either kind as text with its NUL (at most RECO_ID_TEXT_MAX
 * bytes; RECO_ERR_OUT_OF_RANGE when `size` is too small); the
 * _index_of_text calls find an index from that text (RECO_ERR_OUT_OF_RANGE
 * when unknown). */
#define RECO_ID_TEXT_MAX 256
RECO_API reco_status reco_dataset_user_id_text(const reco_dataset *dataset, int32_t user_index,
                                               char *text, size_t size);
RECO_API reco_status reco_dataset_item_id_text(const reco_dataset *dataset, int32_t item_index,
                                               char *text, size_t size);
RECO_API reco_status reco_dataset_user_index_of_text(const reco_dataset *dataset, const char *text,
                                                     int32_t *user_index);
RECO_API reco_status reco_dataset_item_index_of_text(const reco_dataset *dataset, const char *text,
                                                     int32_t *item_index);

/* Reads item titles into the dataset's vocabulary: MovieLens movies.dat
 * (id::title::genres, Latin-1), u.item (id|title|..., Latin-1) or movies.csv
 * (header, RFC 4180 quoting, UTF-8), told apart by the first line. Titles are
 * kept as UTF-8 for every id in the file, including ids with no ratings yet. */
RECO_API reco_status reco_dataset_read_titles(reco_dataset *dataset, const char *path);

/* Adds every item that has a title (reco_dataset_read_titles) but no index
 * yet to the vocabulary, after the others, in the titles file's order: a
 * model sized on the dataset then scores the whole catalog, rated or not
 * (seed 004's 9,742 movies, 18 of them unrated). A change of the shared
 * vocabulary, like reco_dataset_read_shared. */
RECO_API reco_status reco_dataset_add_titled_items(reco_dataset *dataset);

/* Returns the UTF-8 title of an item index, or NULL when none was read or the
 * index is out of range. Owned by the vocabulary. */
RECO_API const char *reco_dataset_item_title(const reco_dataset *dataset, int32_t item_index);

/* What to do with rows that repeat a (user, item) pair. The readers keep
 * every row, as the file has them (MovieLens files have no repeats); a
 * caller that wants one row a pair deduplicates. */
typedef enum reco_duplicates {
    RECO_DUPLICATES_KEEP_ALL = 0,   /* a copy of the dataset */
    RECO_DUPLICATES_KEEP_FIRST = 1, /* the pair's first row in dataset order */
    RECO_DUPLICATES_KEEP_LAST = 2,  /* its last row: a later rating replaces an earlier one */
    RECO_DUPLICATES_REFUSE = 3      /* RECO_ERR_INVALID_ARGUMENT naming two rows of a pair */
} reco_duplicates;

/* New dataset on the same vocabulary with the rows `policy` keeps, in their
 * order. The caller owns *out. */
RECO_API reco_status reco_dataset_deduplicate(const reco_dataset *dataset, reco_duplicates policy,
                                              reco_dataset **out);

/* New dataset of the rows whose rating is >= threshold, without ratings
 * (implicit positives). Fails with RECO_ERR_STATE on a dataset with no ratings. */
RECO_API reco_status reco_dataset_binarize(const reco_dataset *dataset, float threshold,
                                           reco_dataset **out);

/* New dataset whose ratings are multiplied by scale (e.g. 0.2 maps 1..5 to
 * 0.2..1). scale must be finite and non-zero (RECO_ERR_INVALID_ARGUMENT),
 * and every scaled rating within +-RECO_RATING_LIMIT, the readers' bound
 * (RECO_ERR_OUT_OF_RANGE naming the row). */
RECO_API reco_status reco_dataset_scale_ratings(const reco_dataset *dataset, float scale,
                                                reco_dataset **out);

/* New dataset of first's rows then second's, which must share a vocabulary
 * (RECO_ERR_INVALID_ARGUMENT otherwise): e.g. train + validation, to leave
 * both out of a test ranking. Ratings and timestamps are kept when both
 * have them. The caller owns *out. */
RECO_API reco_status reco_dataset_concat(const reco_dataset *first, const reco_dataset *second,
                                         reco_dataset **out);

/* Leave-one-out: for each user with at least two interactions, the latest one
 * by timestamp goes to *test; among rows sharing the latest timestamp the one
 * earliest in the dataset is held out (pandas rank(method='first',
 * ascending=False), as the PyTorch NCF tutorials do). Without timestamps the
 * user's last row is held out. Users with a single interaction stay in train.
 * *test has one row per such user in increasing user index; *train keeps the
 * other rows in their order. Both share the vocabulary. */
RECO_API reco_status reco_dataset_split_leave_one_out(const reco_dataset *dataset,
                                                      reco_dataset **train,
                                                      reco_dataset **test);

/* Flags of the random splits. */
#define RECO_SPLIT_STRATIFY 1u /* split each rating value separately, by the same fractions */

/* Random global holdout: round(n * test_fraction) rows, drawn uniformly with
 * the seed, go to *test, the rest to *train; each part keeps the original row
 * order. With RECO_SPLIT_STRATIFY the rounding is done per rating value. */
RECO_API reco_status reco_dataset_split_random(const reco_dataset *dataset, double test_fraction,
                                               uint64_t seed, unsigned flags,
                                               reco_dataset **train, reco_dataset **test);

/* k-fold cross-validation: the rows, shuffled with the seed (each rating
 * value on its own with RECO_SPLIT_STRATIFY), are cut into n_folds nearly
 * equal folds; fold `fold` (from 0) goes to *test, the rest to *train, each
 * in the original row order. One seed gives folds that partition the rows.
 * RECO_ERR_INVALID_ARGUMENT for fewer than 2 folds or fold >= n_folds. */
RECO_API reco_status reco_dataset_split_fold(const reco_dataset *dataset, size_t n_folds,
                                             size_t fold, uint64_t seed, unsigned flags,
                                             reco_dataset **train, reco_dataset **test);

/* Three-way random split (60/20/20: valid 0.2, test 0.2; 80/10/10: 0.1, 0.1).
 * Same rules as reco_dataset_split_random; train gets what is left. */
RECO_API reco_status reco_dataset_split_three_way(const reco_dataset *dataset,
                                                  double valid_fraction, double test_fraction,
                                                  uint64_t seed, unsigned flags,
                                                  reco_dataset **train, reco_dataset **valid,
                                                  reco_dataset **test);

/* NCF protocol test negatives: for every row of `test`, draws n_negatives
 * distinct items, uniformly among the items its user never interacted with in
 * `interactions` (pass the full dataset, before the split). Seeded. Replaces
 * negatives attached earlier. RECO_ERR_OUT_OF_RANGE when a user has fewer
 * than n_negatives items left to draw from. */
RECO_API reco_status reco_dataset_sample_test_negatives(reco_dataset *test,
                                                        const reco_dataset *interactions,
                                                        size_t n_negatives, uint64_t seed);

/* Reads test negatives from an NCF .negative file: line i is
 * "(user,item)<TAB>neg1<TAB>..." and must name the user and item of row i of
 * `test`. An item listed both as the row's test item and as one of its
 * negatives is dropped from the negatives (the NCF evaluate.py keys scores by
 * item, so it never counts twice); such rows have one negative fewer. Item ids
 * not yet in the vocabulary are added to it. */
RECO_API reco_status reco_dataset_read_test_negatives(reco_dataset *test, const char *path);

/* Returns the negatives attached to row `row` of a test dataset and writes
 * their count to *n_negatives; NULL (count 0) when none are attached or the
 * row is out of range. Owned by the dataset. */
RECO_API const int32_t *reco_dataset_test_negatives(const reco_dataset *test, size_t row,
                                                    size_t *n_negatives);

/* Training negatives for one epoch: for row i writes k items to
 * negatives[i*k .. i*k+k-1], each drawn uniformly (with replacement) among the
 * items the row's user has no row for in `train`. The same (seed, epoch)
 * always gives the same items: those a trainer with that seed and k
 * negatives draws for the epoch (docs/training.md, "Sampling"). RECO_ERR_
 * OUT_OF_RANGE when k > 0 and a user has every item. The first call builds and caches a per-user
 * index in `train`. negatives must hold reco_dataset_size(train) * k items. */
RECO_API reco_status reco_dataset_sample_negatives(const reco_dataset *train, size_t k,
                                                   uint64_t seed, uint64_t epoch,
                                                   int32_t *negatives);

#ifdef __cplusplus
}
#endif

#endif

/* libreco — models: MF, GMF, MLP, NeuMF and iALS.
 *
 * A model is created with its kind and the vocabulary sizes, configured with
 * setters (each validated at once), then initialized on a backend with a
 * seed. Users and items are dense indices, as reco_dataset gives them.
 *
 * Threads (see reco/common.h): the calls that take a const reco_model read
 * it, and any number of threads may make them at once on one model:
 * predict, recommend, recommend_batch, similar_items, the embeddings, the
 * parameters, the id lookups, save, and the reco_metrics_evaluate_* calls
 * (one reco_metrics per thread). The others change it (configuration, init,
 * set_parameters, set_vocabulary, fold_in, and a trainer's epochs on it) and
 * run alone on it. Each scoring call takes scratch memory of its own. */
#ifndef RECO_MODEL_H
#define RECO_MODEL_H

#include "reco/backend.h"
#include "reco/common.h"
#include "reco/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_model reco_model;

/* Most Linear + ReLU layers an MLP tower may have. */
#define RECO_MAX_LAYERS 8

typedef enum reco_model_kind {
    RECO_MODEL_MF = 0,    /* p_u . q_i (+ b_u + b_i + mu with biases) */
    RECO_MODEL_GMF = 1,   /* act(h . (p_u * q_i) + b) */
    RECO_MODEL_MLP = 2,   /* act(h . tower(p_u ++ q_i) + b) */
    RECO_MODEL_NEUMF = 3, /* act(h . [GMF, MLP tower] + b), separate embeddings */
    RECO_MODEL_IALS = 4,  /* p_u . q_i trained by implicit alternating least squares
                             (Rendle et al. 2022): MF's layout, no biases, solved
                             row by row instead of by gradient steps */
    RECO_MODEL_EASE = 5,  /* x_u . B[:, i]: the user's training items times an item-item
                             matrix in closed form (Steck, WWW 2019) */
    RECO_MODEL_ITEM_KNN = 6 /* sum over the user's items j of s_ji, each item's k most
                             similar items (implicit's cosine, TF-IDF, BM25) */
} reco_model_kind;

/* How item-kNN weighs each user's pairs before the item-item products
 * (implicit's definitions). */
typedef enum reco_weighting {
    RECO_WEIGHTING_COSINE = 0, /* each item's column normalized to unit length */
    RECO_WEIGHTING_TFIDF = 1,  /* sqrt(r) x idf of the user, then normalized */
    RECO_WEIGHTING_BM25 = 2    /* BM25 (K1 1.2, B 0.75) over each item's users */
} reco_weighting;

typedef enum reco_activation {
    RECO_ACTIVATION_IDENTITY = 0,
    RECO_ACTIVATION_SIGMOID = 1,
    RECO_ACTIVATION_RELU = 2
} reco_activation;

/* EASE and item-kNN (the item-item kinds) score a user by the items it
 * had in training, which the model keeps (and its file): a model learns
 * them in training, fold-in adds a user's. They have no embeddings
 * (reco_model_embedding_dim is 0; the embedding calls and similar_users say
 * RECO_ERR_STATE); similar_items ranks an item's row of the item-item
 * matrix. */

/* Creates an uninitialized model for n_users x n_items. Defaults: 8 factors,
 * layers 64,32,16,8 (the first is the concatenated embedding width, so the
 * MLP embeddings have 32 columns), no MF biases, identity output, no dropout,
 * embeddings N(0, 0.01); iALS: 64 factors, factors N(0, 0.1 / sqrt(64))
 * (its init std is divided by the square root of the factors, as Rendle et
 * al.'s code does). The caller owns *out. */
RECO_API reco_status reco_model_new(reco_model_kind kind, size_t n_users, size_t n_items,
                                    reco_model **out);

/* Frees a model and its backend memory; NULL is a no-op. */
RECO_API void reco_model_free(reco_model *model);

/* Configuration, before reco_model_init (RECO_ERR_STATE after). */
/* Latent factors of MF and of the GMF part (1..4096). */
RECO_API reco_status reco_model_set_factors(reco_model *model, size_t factors);
/* MLP tower: sizes[0] is the concatenated embedding width (even), then the
 * output width of each Linear+ReLU layer; 2 to RECO_MAX_LAYERS+1 sizes. */
RECO_API reco_status reco_model_set_layers(reco_model *model, const size_t *sizes,
                                           size_t n_sizes);
/* MF only: learn user, item and global biases (default off). */
RECO_API reco_status reco_model_set_biases(reco_model *model, int enabled);
/* Output activation applied to the logit to make the score. */
RECO_API reco_status reco_model_set_output(reco_model *model, reco_activation activation);
/* Dropout probability on MLP layer outputs during training, in [0, 1). */
RECO_API reco_status reco_model_set_dropout(reco_model *model, float probability);
/* Standard deviation of the normal initialization of embeddings (> 0). */
RECO_API reco_status reco_model_set_init_std(reco_model *model, float std);

/* 1: embedding tables start Xavier-uniform, U(+-sqrt(6 / (rows + columns)))
 * per table, as nn.init.xavier_uniform_ on an nn.Embedding (seed 004); 0
 * (default): N(0, init std). */
RECO_API reco_status reco_model_set_xavier_embeddings(reco_model *model, int enabled);
/* Allocates the parameters on `backend` and initializes them from `seed`:
 * embeddings N(0, std), dense layers Xavier-uniform, biases zero (MF: head
 * fixed to ones). The model keeps a reference to the backend. */
RECO_API reco_status reco_model_init(reco_model *model, reco_backend *backend, uint64_t seed);

/* Builds an initialized NeuMF from a trained GMF and MLP (same users, items,
 * backend), as the NCF paper does: embeddings and tower copied, head =
 * [alpha * h_gmf, (1 - alpha) * h_mlp], bias alpha * b_gmf + (1 - alpha) *
 * b_mlp. The output activation is the GMF's. When both have vocabularies
 * they must hold the same ids (RECO_ERR_INVALID_ARGUMENT), and the NeuMF
 * keeps them. The caller owns *out. */
RECO_API reco_status reco_model_neumf_from_pretrained(const reco_model *gmf,
                                                      const reco_model *mlp, float alpha,
                                                      reco_model **out);

/* The short name of a kind ("mf", "gmf", "mlp", "neumf", "ials"), the
 * one the CLI and model listings use; NULL for a value that names none.
 * Static storage. */
RECO_API const char *reco_model_kind_name(reco_model_kind kind);

/* The model's kind, and its numbers of user and item rows (fold-in adds
 * users). */
RECO_API reco_model_kind reco_model_kind_of(const reco_model *model);
RECO_API size_t reco_model_n_users(const reco_model *model);
RECO_API size_t reco_model_n_items(const reco_model *model);

/* Scores n (user, item) index pairs: scores[i] = act(logit). Fails with
 * RECO_ERR_OUT_OF_RANGE on an index outside the model, RECO_ERR_STATE before
 * reco_model_init. */
RECO_API reco_status reco_model_predict(const reco_model *model, const int32_t *users,
                                        const int32_t *items, size_t n, float *scores);

/* Number of floats in the flat parameter vector: every embedding table in
 * the order GMF user, GMF item, MLP user, MLP item, user bias, item bias
 * (present ones only, rows x columns), then for each layer its weights
 * (out x in) and biases, then the head weights and bias. */
RECO_API size_t reco_model_parameter_count(const reco_model *model);

/* Copies all parameters out to / in from a flat vector of
 * reco_model_parameter_count() floats (see there for the order). */
RECO_API reco_status reco_model_get_parameters(const reco_model *model, float *parameters);
RECO_API reco_status reco_model_set_parameters(reco_model *model, const float *parameters);

/* Keeps a copy of the dataset's vocabulary (it must have at most the model's
 * users and items), so that the model, and a model file, map indices back to
 * the original ids. */
RECO_API reco_status reco_model_set_vocabulary(reco_model *model, const reco_dataset *dataset);

/* A dataset with no rows on a copy of the model's vocabulary: files read
 * with reco_dataset_read_shared on it get the model's indices (ids it does
 * not know are added after them), whatever files the model was trained
 * from. RECO_ERR_STATE when the model has no vocabulary. The caller owns
 * *out. */
RECO_API reco_status reco_model_vocabulary_dataset(const reco_model *model, reco_dataset **out);
/* RECO_OK when the dataset's vocabulary holds the model's ids at the same
 * indices (it was trained on that data, or on files read with the same
 * ids); else RECO_ERR_INVALID_ARGUMENT naming the first difference, or
 * RECO_ERR_STATE when the model has no vocabulary. */
RECO_API reco_status reco_model_check_vocabulary(const reco_model *model,
                                                 const reco_dataset *dataset);
/* Vocabulary lookups (RECO_ERR_STATE when the model has none,
 * RECO_ERR_OUT_OF_RANGE for an unknown id or index). */
RECO_API reco_status reco_model_user_id(const reco_model *model, int32_t user_index,
                                        int64_t *user_id);
RECO_API reco_status reco_model_item_id(const reco_model *model, int32_t item_index,
                                        int64_t *item_id);
RECO_API reco_status reco_model_user_index(const reco_model *model, int64_t user_id,
                                           int32_t *user_index);
RECO_API reco_status reco_model_item_index(const reco_model *model, int64_t item_id,
                                           int32_t *item_index);

/* Text ids (see reco_dataset_user_id_text): the id of an index as text,
 * integer or not, and the index of an id given as text. The model file
 * keeps text ids. */
RECO_API reco_status reco_model_user_id_text(const reco_model *model, int32_t user_index,
                                             char *text, size_t size);
RECO_API reco_status reco_model_item_id_text(const reco_model *model, int32_t item_index,
                                             char *text, size_t size);
RECO_API reco_status reco_model_user_index_of_text(const reco_model *model, const char *text,
                                                   int32_t *user_index);
RECO_API reco_status reco_model_item_index_of_text(const reco_model *model, const char *text,
                                                   int32_t *item_index);
/* Metadata: UTF-8 key/value notes kept with the model and in its file (reco
 * train stores its flags and per-epoch history there). Setting a key again
 * replaces its value, a NULL value removes the key. Keys are 1 to 255
 * bytes, values at most 16 MiB (RECO_ERR_OUT_OF_RANGE). */
RECO_API reco_status reco_model_set_metadata(reco_model *model, const char *key, const char *value);
/* The value of a key, or NULL. Owned by the model: valid until that key is
 * set again or the model is freed. */
RECO_API const char *reco_model_metadata(const reco_model *model, const char *key);
/* Number of keys, and key number i in the order they were first set (NULL
 * past the end). */
RECO_API size_t reco_model_metadata_count(const reco_model *model);
RECO_API const char *reco_model_metadata_key(const reco_model *model, size_t i);
/* Top-k items for a user by score, best first (ties by item index), leaving
 * out the user's items in `exclude`, or, when exclude is NULL, the user's
 * seen items the model keeps (reco_model_has_seen; nothing when it keeps
 * none). Writes up to k items and scores and their count to *n. */
RECO_API reco_status reco_model_recommend(const reco_model *model, int32_t user, size_t k,
                                          const reco_dataset *exclude, int32_t *items,
                                          float *scores, size_t *n);

/* reco_model_recommend for n_users users at once: user u's list starts at
 * items[u * k] and scores[u * k], and its length is counts[u]. */
RECO_API reco_status reco_model_recommend_batch(const reco_model *model, const int32_t *users,
                                                size_t n_users, size_t k,
                                                const reco_dataset *exclude, int32_t *items,
                                                float *scores, size_t *counts);

/* Seen items: each user's training items, kept by the model (and in its
 * file) so that recommend leaves them out without the training data. A
 * trainer's epoch sets them from its training set (for every kind); the
 * item-item kinds (EASE, item-kNN) score with them. 1 when the model keeps
 * them, else 0. */
RECO_API int reco_model_has_seen(const reco_model *model);

/* The seen items of `user`, sorted and distinct: *items points into the
 * model (valid until the model is trained, folded into or given other seen
 * items), *n their count; 0 items for a user without any or a model that
 * keeps none. */
RECO_API reco_status reco_model_seen(const reco_model *model, int32_t user, const int32_t **items,
                                     size_t *n);

/* Replaces the seen items by `data`'s user-item pairs (indices of the
 * model's: read it with reco_model_vocabulary_dataset's ids), or forgets
 * them when data is NULL, so that recommend with a NULL exclude leaves
 * nothing out and a save writes no seen items. RECO_ERR_STATE for EASE and
 * item-kNN, which score with theirs. Mutates the model: not while other
 * threads use it. */
RECO_API reco_status reco_model_set_seen(reco_model *model, const reco_dataset *data);

/* Width of the exported embeddings: GMF factors plus MLP embedding columns. */
RECO_API size_t reco_model_embedding_dim(const reco_model *model);

/* Copies the user (n_users x dim) or item (n_items x dim) embedding matrix,
 * each row the GMF factors followed by the MLP embedding (the "get_W / get_H"
 * of the tutorials). */
RECO_API reco_status reco_model_get_user_embeddings(const reco_model *model, float *embeddings);
RECO_API reco_status reco_model_get_item_embeddings(const reco_model *model, float *embeddings);

/* Biased MF's biases: n_users user biases, n_items item biases and the
 * global bias, each written where its pointer is not NULL.
 * RECO_ERR_STATE for a model without biases. */
RECO_API reco_status reco_model_get_biases(const reco_model *model, float *user_biases,
                                           float *item_biases, float *global_bias);

/* The k items most similar to `item` by cosine similarity of item
 * embeddings, most similar first, the item itself left out. */
RECO_API reco_status reco_model_similar_items(const reco_model *model, int32_t item, size_t k,
                                              int32_t *items, float *similarities, size_t *n);

/* The same among users: the k users nearest `user` by the cosine of user
 * embeddings, the user itself left out. */
RECO_API reco_status reco_model_similar_users(const reco_model *model, int32_t user, size_t k,
                                              int32_t *users, float *similarities, size_t *n);

/* Folds in a new user without retraining: adds one user row (index written
 * to *user), initializes it, then runs `steps` SGD steps of BCE on its liked
 * items and 4 sampled negatives each, changing that user's rows only. An
 * iALS model instead solves the row exactly, with the regularization and
 * unobserved weight it was trained with (steps and seed unused). On
 * failure the model keeps its former users and parameters. */
RECO_API reco_status reco_model_fold_in(reco_model *model, const int32_t *liked_items,
                                        size_t n_liked, size_t steps, uint64_t seed,
                                        int32_t *user);

/* iALS only (RECO_ERR_STATE otherwise): replaces existing user `user`'s
 * factors with the exact solution for the items it now has, the items
 * fixed (implicit's recalculate_user): a changed user without retraining.
 * Changes only that user's row. */
RECO_API reco_status reco_model_refit_user(reco_model *model, int32_t user,
                                           const int32_t *liked_items, size_t n_liked);

/* Saves the model (kind, hyperparameters, vocabulary, tensors) in the
 * versioned, checksummed, little-endian format of docs/model-format.md, to a
 * temporary file that is synced and renamed over `path`. */
RECO_API reco_status reco_model_save(const reco_model *model, const char *path);

/* Loads a model file onto `backend`. A truncated, corrupt, wrong-magic or
 * future-version file gives RECO_ERR_FORMAT. The caller owns *out. */
RECO_API reco_status reco_model_load(const char *path, reco_backend *backend, reco_model **out);

/* Writes the bytes reco_model_save would write to a file into memory:
 * *bytes (the caller's, released with reco_free) and *size. Both are set to
 * NULL and 0 on failure. Reads the model only. */
RECO_API reco_status reco_model_save_buffer(const reco_model *model, void **bytes, size_t *size);

/* Loads a model from the `size` bytes of a model file in memory, with
 * every check of reco_model_load (bounds, checksums, shapes, finite
 * weights); errors name "model buffer" and the byte offset. The bytes stay
 * the caller's and may be released as soon as this returns. */
RECO_API reco_status reco_model_load_buffer(const void *bytes, size_t size, reco_backend *backend,
                                            reco_model **out);

#ifdef __cplusplus
}
#endif

#endif

/* libreco tuner: searches a model family's settings on a validation set.
 *
 * A tuner draws settings from the family's search space (seeded: the same
 * seed draws the same trials), trains each on the training rows and scores
 * it on the validation rows after every epoch, and spends its budget by
 * successive halving: a round trains `width` trials for a third of the most
 * epochs, keeps the best third and trains those to the most. The first
 * trial draws nothing: it runs the builder's defaults, so that a search
 * never ends below them on the validation set. The caller
 * carves the validation rows out of its training data (never the test set),
 * then retrains the best trial's settings and tests once. */
#ifndef RECO_TUNER_H
#define RECO_TUNER_H

#include "reco/common.h"
#include "reco/dataset.h"
#include "reco/metrics.h"
#include "reco/model.h"
#include "reco/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct reco_tuner reco_tuner;
typedef struct reco_trial reco_trial; /* one drawn setting and how it did */

/* The settings a trial may draw; which ones depends on the family (iALS:
 * factors, weight decay, unobserved weight; EASE: weight decay; item-kNN:
 * neighbours, weighting; MF: factors, learning rate, weight decay, and with
 * BCE negatives, SGD, biases, init std; GMF, MLP, NeuMF: factors,
 * negatives, learning rate). EPOCHS is the trial's best epoch count. */
typedef enum reco_setting {
    RECO_SETTING_FACTORS = 0,
    RECO_SETTING_LEARNING_RATE = 1,
    RECO_SETTING_WEIGHT_DECAY = 2,
    RECO_SETTING_UNOBSERVED_WEIGHT = 3,
    RECO_SETTING_NEGATIVES = 4,
    RECO_SETTING_NEIGHBOURS = 5,
    RECO_SETTING_WEIGHTING = 6, /* a reco_weighting value */
    RECO_SETTING_OPTIMIZER = 7, /* a reco_optimizer value */
    RECO_SETTING_BIASES = 8,    /* 1: with biases */
    RECO_SETTING_INIT_STD = 9,
    RECO_SETTING_EPOCHS = 10
} reco_setting;

/* Makes a trial's untrained model and trainer from its settings (read with
 * reco_trial_setting; a NAN one is the caller's to choose). The tuner sets
 * the validation and the epoch callback, fits, and frees the trainer, then
 * the model. */
typedef reco_status (*reco_trial_build_fn)(const reco_trial *trial, void *user_data,
                                           reco_model **model, reco_trainer **trainer);

/* Called after each rung a trial trains (its score is then current); return
 * nonzero to end the search there (run then returns RECO_OK). */
typedef int (*reco_trial_fn)(const reco_trial *trial, void *user_data);

/* A tuner for models of `kind` trained with `loss` (the search space of MF
 * differs by loss). Free it with reco_tuner_free. Defaults: seed 42, a
 * budget of one round, the family's most epochs (iALS 18, EASE and
 * item-kNN 1, the others 48), the library's own builder. */
RECO_API reco_status reco_tuner_new(reco_model_kind kind, reco_loss loss, reco_tuner **out);
RECO_API void reco_tuner_free(reco_tuner *tuner);

/* Stops drawing trials once `seconds` have passed (0: no time limit) or
 * `trials` were drawn (0: no limit); with both 0, one round is run. A round
 * under way still finishes its trials unless the time is spent; when it is,
 * the trial training stops after its epoch, keeping the score it reached. */
RECO_API reco_status reco_tuner_set_budget(reco_tuner *tuner, double seconds, size_t trials);
/* The epochs a trial that survives trains (0: the family's default). */
RECO_API reco_status reco_tuner_set_max_epochs(reco_tuner *tuner, size_t epochs);
/* Seeds the draws and every trial's model and sampling. */
RECO_API reco_status reco_tuner_set_seed(reco_tuner *tuner, uint64_t seed);
/* Threads of the library's builder's trainers (0: the CPU budget). */
RECO_API reco_status reco_tuner_set_threads(reco_tuner *tuner, size_t threads);
/* Replaces the library's builder (NULL restores it), e.g. to honour
 * settings the tuner does not draw (batch, layers, a schedule). */
RECO_API reco_status reco_tuner_set_builder(reco_tuner *tuner, reco_trial_build_fn build,
                                            void *user_data);
/* Calls `report` after each rung of each trial (NULL: none). */
RECO_API reco_status reco_tuner_set_report(reco_tuner *tuner, reco_trial_fn report,
                                           void *user_data);

/* Searches: trials train on `train` and are scored on `valid` by `metric`
 * at K = k as reco_trainer_set_validation does (lower is better for RMSE,
 * MAE, MSE), leaving `train`'s items out of full rankings. The library's
 * builder makes models on `backend` with `train`'s ids; a caller's builder
 * may take NULL. RECO_ERR_STATE when no trial finished a rung. */
RECO_API reco_status reco_tuner_run(reco_tuner *tuner, reco_backend *backend,
                                    const reco_dataset *train, const reco_dataset *valid,
                                    reco_metric metric, size_t k);

/* The best trial so far (NULL before any); owned by the tuner, valid until
 * the next run or free. */
RECO_API const reco_trial *reco_tuner_best(const reco_tuner *tuner);
/* The number of trials drawn so far. */
RECO_API size_t reco_tuner_trials_run(const reco_tuner *tuner);

/* Trains the best trial's settings afresh with the library's builder on
 * `train` (e.g. training + validation rows) for its best epoch count, and
 * returns the model in *out (the caller frees it). */
RECO_API reco_status reco_tuner_fit_best(const reco_tuner *tuner, reco_backend *backend,
                                         const reco_dataset *train, reco_model **out);

/* A trial's number (1-based, in draw order). */
RECO_API size_t reco_trial_id(const reco_trial *trial);
/* The value of `setting` the trial drew, NAN when it drew none. */
RECO_API double reco_trial_setting(const reco_trial *trial, reco_setting setting);
/* The epochs trained so far, the best of them (1-based) and its score, and
 * the seconds spent training and validating. The score is the best epoch's
 * validation value averaged with its neighbours' (one lucky epoch of a
 * noisy run does not win); a one-epoch trial scores its one value. */
RECO_API size_t reco_trial_epochs(const reco_trial *trial);
RECO_API size_t reco_trial_best_epoch(const reco_trial *trial);
RECO_API double reco_trial_score(const reco_trial *trial);
RECO_API double reco_trial_seconds(const reco_trial *trial);
/* Writes the drawn settings as `reco train` flags ("--factors 64 --lr
 * 2.1 ...", with --epochs once trained) into text, truncated to size
 * (NUL-terminated); returns the length the whole text needs, as snprintf. */
RECO_API size_t reco_trial_flags(const reco_trial *trial, char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif

/* libreco-mpi — data-parallel training over MPI, a library of its own
 * beside libreco (which never links MPI): link with
 * `pkg-config --libs libreco-mpi`. Every rank of the communicator runs the
 * same program on the same data; see docs/scale.md. */
#ifndef RECO_MPI_H
#define RECO_MPI_H

#include <mpi.h>

#include "reco/reco.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RECO_BUILDING_MPI)
#define RECO_MPI_API __attribute__((visibility("default")))
#else
#define RECO_MPI_API
#endif

typedef struct reco_mpi_trainer reco_mpi_trainer;

/* Makes `trainer` one rank of `comm`: of every batch of batch_size samples
 * it trains its share of the rows, and the ranks' gradients are summed in
 * rank order (MPI_Allgatherv, then the same sum on every rank), so every
 * rank takes the same step and the models stay equal, bit for bit. On a
 * backend that sums gradients on its devices (CUDA with NCCL: one rank per
 * GPU), the ranks join its device group instead, its id sent by MPI. Every
 * rank must make the same model (same seed), trainer settings and training
 * set, and call the same training functions. The caller owns *out, which
 * must live while the trainer trains and be freed before the trainer;
 * reco_mpi_trainer_free makes the trainer train alone again. Collective
 * over `comm`. */
RECO_MPI_API reco_status reco_mpi_trainer_new(reco_trainer *trainer, MPI_Comm comm,
                                              reco_mpi_trainer **out);
RECO_MPI_API void reco_mpi_trainer_free(reco_mpi_trainer *mpi_trainer);

/* Gives every rank of `comm` the dataset that rank `root` has in *source
 * (the others pass NULL): its rows in order, with their external ids,
 * ratings and timestamps, rebuilt on every rank (root included) so that
 * every rank has the same vocabulary. The caller owns *out. Collective. */
RECO_MPI_API reco_status reco_mpi_dataset_broadcast(const reco_dataset *source, int root,
                                                    MPI_Comm comm, reco_dataset **out);

/* HR@K and NDCG@K on the NCF protocol with the test rows shared out among
 * the ranks (reco_metrics_evaluate_sampled_rows) and the sums added in rank
 * order: the same values on every rank. `metrics` sets K and the tie
 * policy and holds this rank's share afterwards. Collective. */
RECO_MPI_API reco_status reco_mpi_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                                   const reco_dataset *test, MPI_Comm comm,
                                                   double *hr, double *ndcg);

#ifdef __cplusplus
}
#endif

#endif

/* reco under mpirun: this process's rank among the job's, and the parts of
 * `reco train` that differ on several ranks (through libreco-mpi). Built
 * without MPI, or started without a launcher, the process is rank 0 of 1
 * and every function here leaves things as they are. */
#ifndef RECO_CLI_RANKS_H
#define RECO_CLI_RANKS_H

#include "reco/reco.h"

/* Joins the MPI job when a launcher started the process; returns 0, or -1
 * (with a message) when MPI cannot start. ranks_stop leaves it. */
int ranks_start(int *argc, char ***argv);
void ranks_stop(void);
int ranks_rank(void);
int ranks_world(void);

/* On several ranks: replaces *data on every rank by rank 0's rows (rank 0
 * reads, the others pass NULL), rebuilt everywhere with one vocabulary. */
reco_status ranks_share_dataset(reco_dataset **data);

/* On several ranks: makes `trainer` data-parallel over the job; ranks_detach
 * (or the end) undoes it. */
reco_status ranks_attach(reco_trainer *trainer);
void ranks_detach(void);

/* HR and NDCG on the sampled protocol: on several ranks with the test rows
 * shared out, the same values on every rank. */
reco_status ranks_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                   const reco_dataset *test, double *hr, double *ndcg);

#endif

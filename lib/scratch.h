/* Internal: the scratch memory of scoring calls on one model. Every call
 * that scores (predict, recommend, evaluation) takes a workspace of its own
 * and gives it back, so that threads serving one model never share one. */
#ifndef RECO_LIB_SCRATCH_H
#define RECO_LIB_SCRATCH_H

#include <pthread.h>

#include "backend_handle.h"

/* Idle workspaces kept for later calls; more are made when more threads
 * score at once, and freed when given back to a full stack. */
#define RECO_SCRATCH_KEPT 16

typedef struct reco_scratch {
    pthread_mutex_t lock; /* held only to push or pop */
    const reco_backend *backend;
    const reco_net_desc *net;
    size_t rows;
    reco_backend_workspace *idle[RECO_SCRATCH_KEPT];
    size_t n_idle;
} reco_scratch;

/* Starts an empty stack for workspaces of `rows` rows of `net` on `backend`
 * (both must outlive it). */
void reco_scratch_init(reco_scratch *scratch, const reco_backend *backend, const reco_net_desc *net,
                       size_t rows);

/* Frees the idle workspaces (after the network changed shape). */
void reco_scratch_empty(reco_scratch *scratch);

/* Frees the idle workspaces and the lock; none may be out. */
void reco_scratch_destroy(reco_scratch *scratch);

/* Takes an idle workspace, or makes one. */
reco_status reco_scratch_take(reco_scratch *scratch, reco_backend_workspace **workspace);

/* Gives a workspace back (NULL is a no-op). */
void reco_scratch_give(reco_scratch *scratch, reco_backend_workspace *workspace);

#endif

/* reco under mpirun (see ranks.h). */
#include <stdio.h>
#include <stdlib.h>

#include "ranks.h"

/* HR and NDCG of every test row, on this process. */
static reco_status evaluate_here(reco_metrics *metrics, const reco_model *model,
                                 const reco_dataset *test, double *hr, double *ndcg)
{
    reco_status status = reco_metrics_evaluate_sampled(metrics, model, test);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_HR, hr);
    if (status == RECO_OK)
        status = reco_metrics_get(metrics, RECO_METRIC_NDCG, ndcg);
    return status;
}

#ifdef RECO_WITH_MPI
#include "reco/mpi.h"

static int rank_index, world_size = 1, joined;
static reco_mpi_trainer *attached;

/* Open MPI, PMIx and the classic PMI each announce a launched process. */
static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int ranks_start(int *argc, char ***argv)
{
    if (!launched())
        return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "reco: MPI could not start\n");
        return -1;
    }
    joined = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_index);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    return 0;
}

void ranks_stop(void)
{
    ranks_detach();
    if (joined)
        MPI_Finalize();
    joined = 0;
}

reco_status ranks_share_dataset(reco_dataset **data)
{
    if (world_size == 1)
        return RECO_OK;
    reco_dataset *shared = NULL;
    reco_status status = reco_mpi_dataset_broadcast(*data, 0, MPI_COMM_WORLD, &shared);
    reco_dataset_free(*data);
    *data = shared;
    return status;
}

reco_status ranks_attach(reco_trainer *trainer)
{
    return world_size == 1 ? RECO_OK : reco_mpi_trainer_new(trainer, MPI_COMM_WORLD, &attached);
}

void ranks_detach(void)
{
    reco_mpi_trainer_free(attached);
    attached = NULL;
}

reco_status ranks_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                   const reco_dataset *test, double *hr, double *ndcg)
{
    if (world_size == 1)
        return evaluate_here(metrics, model, test, hr, ndcg);
    return reco_mpi_evaluate_sampled(metrics, model, test, MPI_COMM_WORLD, hr, ndcg);
}

#else

static const int rank_index = 0, world_size = 1;

int ranks_start(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK"))
        fprintf(stderr, "reco: started by an MPI launcher, but this reco has no MPI: every "
                        "rank trains alone (run reco-mpi, built with -Dmpi=enabled and "
                        "libopenmpi-dev, to train data-parallel)\n");
    return 0;
}

void ranks_stop(void)
{
}

reco_status ranks_share_dataset(reco_dataset **data)
{
    (void)data;
    return RECO_OK;
}

reco_status ranks_attach(reco_trainer *trainer)
{
    (void)trainer;
    return RECO_OK;
}

void ranks_detach(void)
{
}

reco_status ranks_evaluate_sampled(reco_metrics *metrics, const reco_model *model,
                                   const reco_dataset *test, double *hr, double *ndcg)
{
    return evaluate_here(metrics, model, test, hr, ndcg);
}

#endif

int ranks_rank(void)
{
    return rank_index;
}

int ranks_world(void)
{
    return world_size;
}

/* Internal: an opened backend, shared by reference between its caller and
 * the models made on it. */
#ifndef RECO_LIB_BACKEND_HANDLE_H
#define RECO_LIB_BACKEND_HANDLE_H

#include <stdatomic.h>

#include "reco/backend_impl.h"

struct reco_backend {
    atomic_size_t references;
    const reco_backend_ops *ops;
    reco_backend_context *context;
};

void reco_backend_retain(reco_backend *backend);

#endif

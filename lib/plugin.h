/* Internal: backends shipped as plug-in modules (the CUDA backend), loaded
 * on first use so that libreco itself needs no GPU libraries. */
#ifndef RECO_LIB_PLUGIN_H
#define RECO_LIB_PLUGIN_H

#include "reco/backend_impl.h"

/* Loads the module of a plug-in backend ("cuda") and returns its ops, or
 * NULL with RECO_ERR_BACKEND_UNAVAILABLE recorded. The module is looked for
 * in $RECO_BACKEND_DIR, in libreco/ beside libreco.so (the installed
 * layout), beside libreco.so (the build tree), then in the configured
 * install directory. Loaded modules stay loaded. */
const reco_backend_ops *reco_plugin_load(const char *name);

/* Checks a backend's table as reco_backend_register does: struct_size,
 * abi_version and every mandatory function. RECO_ERR_INVALID_ARGUMENT with
 * the reason otherwise. */
reco_status reco_backend_check_ops(const reco_backend_ops *ops);

#endif

/* CPU backend: which BLIS kernels its products run on. */
#ifndef RECO_CPU_BLAS_H
#define RECO_CPU_BLAS_H

#include <stddef.h>

/* Settles, once per process and before the backend's first product, the
 * BLIS sub-configuration (kernels) in use, and returns its name
 * ("haswell", "zen3", "generic", ...). See docs/backends.md: the user's
 * BLIS_ARCH_TYPE wins; else RECO_BLIS_ARCH names one ("auto": BLIS's own
 * choice); else, on a CPU with AVX2 and FMA, haswell, since Debian's BLIS
 * falls back to its reference kernels on CPUs newer than itself. */
const char *reco_cpu_blas_kernels(void);

/* Why those kernels: "BLIS_ARCH_TYPE", "RECO_BLIS_ARCH", "AVX2+FMA",
 * "BLIS's choice" or "BLIS was already in use". */
const char *reco_cpu_blas_reason(void);

#endif

/* CPU backend: the BLIS kernels. Debian's libblis 0.9 picks its kernels
 * from CPUID once, at its initialisation, and falls back to slow reference
 * code (`generic`) on CPUs it does not know (AMD family 0x1A, Zen 5: 72% of
 * an epoch in reference kernels, 2x slower). Its shared library exports no
 * way to pick a context by name, only the numeric BLIS_ARCH_TYPE variable
 * read at that moment; so, unless the user chose, libreco sets it for the
 * duration of BLIS's detection and removes it again: the process's
 * environment is as it was afterwards. When the program used BLIS before,
 * its choice stands, and is reported. Setting a variable is not safe while
 * other threads read the environment: the first reco_backend_open("cpu")
 * does it, so a program that starts threads reading the environment first
 * can open the backend before them, or set BLIS_ARCH_TYPE itself. */
#include <blis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_blas.h"

static pthread_once_t settled = PTHREAD_ONCE_INIT;
static const char *kernels = "unknown", *reason = "unknown";

/* The arch of a sub-configuration name, or -1. */
static int arch_named(const char *name)
{
    for (int id = 0; id < BLIS_NUM_ARCHS; id++) {
        const char *known = bli_arch_string((arch_t)id);
        if (known && strcmp(known, name) == 0)
            return id;
    }
    return -1;
}

static int has_avx2_fma(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static void settle(void)
{
    const char *user = getenv("RECO_BLIS_ARCH");
    int wanted = -1;
    if (getenv("BLIS_ARCH_TYPE")) {
        reason = "BLIS_ARCH_TYPE";
    } else if (user && strcmp(user, "auto") != 0) {
        wanted = arch_named(user);
        reason = wanted >= 0 ? "RECO_BLIS_ARCH" : "BLIS's choice (RECO_BLIS_ARCH names no kernels)";
    } else if (!user && has_avx2_fma()) {
        wanted = arch_named("haswell");
        reason = "AVX2+FMA";
    } else {
        reason = "BLIS's choice";
    }
    if (wanted >= 0) {
        char value[16];
        snprintf(value, sizeof value, "%d", wanted);
        setenv("BLIS_ARCH_TYPE", value, 1);
    }
    /* BLIS 0.9 looks the requested kernels up among its contexts, which
     * bli_init registers: querying before it would abort on any request */
    bli_init();
    arch_t in_use = bli_arch_query_id();
    if (wanted >= 0) {
        unsetenv("BLIS_ARCH_TYPE");
        if ((int)in_use != wanted)
            reason = "BLIS was already in use";
    }
    kernels = bli_arch_string(in_use);
}

const char *reco_cpu_blas_kernels(void)
{
    pthread_once(&settled, settle);
    return kernels;
}

const char *reco_cpu_blas_reason(void)
{
    pthread_once(&settled, settle);
    return reason;
}

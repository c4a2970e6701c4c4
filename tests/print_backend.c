/* Prints reco_backend_describe of a newly opened CPU backend, then
 * BLIS_ARCH_TYPE as the process's environment holds it afterwards: what
 * tests/test_blis_kernels.sh checks. */
#include <stdio.h>
#include <stdlib.h>

#include <reco/reco.h>

int main(void)
{
    reco_backend *backend = NULL;
    char line[256];
    if (reco_backend_open("cpu", &backend) != RECO_OK ||
        reco_backend_describe(backend, line, sizeof line) != RECO_OK) {
        fprintf(stderr, "print_backend: %s\n", reco_last_error());
        return 1;
    }
    const char *variable = getenv("BLIS_ARCH_TYPE");
    printf("%s\nBLIS_ARCH_TYPE=%s\n", line, variable ? variable : "(unset)");
    reco_backend_free(backend);
    return 0;
}

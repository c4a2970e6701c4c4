/* Prints the thread count of a newly opened CPU backend: the default that
 * tests/test_taskset.sh checks under taskset. */
#include <stdio.h>

#include <reco/reco.h>

int main(void)
{
    reco_backend *backend = NULL;
    if (reco_backend_open("cpu", &backend) != RECO_OK) {
        fprintf(stderr, "print_threads: %s\n", reco_last_error());
        return 1;
    }
    printf("%zu\n", reco_backend_threads(backend));
    reco_backend_free(backend);
    return 0;
}

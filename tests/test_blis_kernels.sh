#!/bin/sh
# The BLIS kernels of the CPU backend: never BLIS's reference ("generic")
# kernels on a CPU with AVX2 and FMA unless asked; RECO_BLIS_ARCH picks
# them by name; a BLIS_ARCH_TYPE of the user's is obeyed and kept; the
# variable libreco sets for BLIS's detection is gone afterwards. The small
# products run on the backend's kernels where the CPU has AVX2 and FMA,
# on BLIS's when RECO_SMALL_GEMM=blis.
# Usage: test_blis_kernels.sh path/to/print_backend
set -eu
print=$1
. "$(dirname "$0")/check.sh"
out=$(env -u BLIS_ARCH_TYPE -u RECO_BLIS_ARCH "$print")
echo "$out"
if grep -q -w avx2 /proc/cpuinfo && grep -q -w fma /proc/cpuinfo; then
    check "AVX2+FMA: not the generic kernels" sh -c "! echo '$out' | grep -q 'generic kernels'"
    check "AVX2+FMA: says why" sh -c "echo '$out' | grep -q -e '(AVX2+FMA)' -e '(BLIS was already in use)'"
fi
check "libreco's variable is gone afterwards" sh -c "echo '$out' | grep -q '^BLIS_ARCH_TYPE=(unset)$'"
if grep -q -w avx2 /proc/cpuinfo && grep -q -w fma /proc/cpuinfo && [ -z "${RECO_SMALL_GEMM:-}" ]; then
    check "AVX2+FMA: small products by the backend's kernels" sh -c "echo '$out' | grep -q -e 'small products AVX2+FMA' -e 'small products AVX-512'"
fi
out=$(env RECO_SMALL_GEMM=blis "$print")
check "RECO_SMALL_GEMM=blis leaves small products to BLIS" sh -c "echo '$out' | grep -q 'small products BLIS'"
out=$(env -u BLIS_ARCH_TYPE RECO_BLIS_ARCH=generic "$print")
check "RECO_BLIS_ARCH picks by name" sh -c "echo '$out' | grep -q 'generic kernels (RECO_BLIS_ARCH)'"
out=$(env -u BLIS_ARCH_TYPE RECO_BLIS_ARCH=auto "$print")
check "RECO_BLIS_ARCH=auto leaves it to BLIS" sh -c 'echo "$1" | grep -q "(BLIS.s choice)"' sh "$out"
out=$(env -u RECO_BLIS_ARCH BLIS_ARCH_TYPE=25 "$print")
check "the user's BLIS_ARCH_TYPE is obeyed" sh -c "echo '$out' | grep -q 'generic kernels (BLIS_ARCH_TYPE)'"
check "and kept" sh -c "echo '$out' | grep -q '^BLIS_ARCH_TYPE=25$'"
echo "1 passed, 0 failed"

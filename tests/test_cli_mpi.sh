#!/bin/sh
# The plain reco links no MPI; reco-mpi under `mpirun -n 2` trains
# data-parallel and writes a model that the plain reco reads.
# Usage: test_cli_mpi.sh path/to/reco path/to/reco-mpi path/to/mpirun
set -eu
reco=$1
reco_mpi=$2
mpirun=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

check "reco needs no MPI library" sh -c "! (readelf -d '$reco' | grep NEEDED | grep -qi mpi)"
check "reco-mpi needs libreco-mpi" sh -c "readelf -d '$reco_mpi' | grep NEEDED | grep -q libreco-mpi"

"$mpirun" -n 2 --oversubscribe "$reco_mpi" train --epochs 2 --threads 1 --out "$tmp/m.reco" \
    > "$tmp/out.txt" 2> "$tmp/err.txt"
check "two ranks share each batch" grep -q "data-parallel over 2 ranks" "$tmp/out.txt"
check "rank 0 alone prints" test "$(grep -c 'data-parallel over' "$tmp/out.txt")" -eq 1
check "the plain reco reads the model" sh -c "'$reco' info '$tmp/m.reco' | grep -q 'neumf model, 943 users x 1682 items'"

"$mpirun" -n 2 --oversubscribe "$reco" train --epochs 1 --threads 1 --out "$tmp/alone.reco" \
    > /dev/null 2> "$tmp/alone.txt"
check "the plain reco under mpirun says to run reco-mpi" grep -q "run reco-mpi" "$tmp/alone.txt"
echo "1 passed, 0 failed"

#!/bin/sh
# libreco against PyTorch on the same machine, data and model (issue "CPU
# backend and training"): bench_train, then ncf_torch.py, then bench_train
# again, so that both see the same machine state; prints the ratio of
# PyTorch's training seconds per epoch to libreco's best whole epoch
# (sampling and shuffling included on libreco's side only).
# Usage: compare_torch.sh [DATA_DIR] [BUILD_DIR] [threads]
# DATA_DIR defaults to $RECO_DATA_DIR; exits 77 (skipped) without it or
# without a python3 that has torch (Debian: apt-get install python3-torch).
set -eu
data_dir=${1:-${RECO_DATA_DIR:-}}
build_dir=${2:-build}
threads=${3:-2}
here=$(dirname "$0")
python=${PYTHON:-/usr/bin/python3}
program=compare_torch
. "$here/torch_common.sh"
"$build_dir/tests/bench/bench_train" "$data_dir" 3 "$threads" | tee -a "$log"
OMP_NUM_THREADS=$threads "$python" "$here/ncf_torch.py" "$data_dir" 1 "$threads" | tee -a "$log"
"$build_dir/tests/bench/bench_train" "$data_dir" 3 "$threads" | tee -a "$log"
awk '/^epoch [0-9]+:/ { s = $5 + 0; if (!best || s < best) best = s }
     /^torch epoch/ { for (i = 1; i <= NF; i++) if ($i == "training") torch = $(i + 1) + 0 }
     END { if (best && torch) printf "PyTorch %.2f s / libreco %.2f s = %.1fx\n",
                                     torch, best, torch / best }' "$log"

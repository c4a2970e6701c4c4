#!/bin/sh
# The NCF job from Python (libreco's package, ncf_python.py) against the same
# job in PyTorch (ncf_torch.py), one after the other on the same machine:
# seconds per training epoch, their ratio, and HR@10 after each epoch.
# Usage: compare_python.sh [DATA_DIR] [BUILD_DIR] [epochs] [threads]
# Exits 77 (skipped) without ml-1m-implicit or without a python3 with torch.
set -eu
data_dir=${1:-${RECO_DATA_DIR:-}}
build_dir=${2:-build}
epochs=${3:-3}
threads=${4:-2}
here=$(dirname "$0")
python=${PYTHON:-/usr/bin/python3}
program=compare_python
. "$here/torch_common.sh"
grep -m1 'model name' /proc/cpuinfo | tee -a "$log"
LIBRECO_PATH="$build_dir/lib" PYTHONPATH="$here/../../python" \
    "$python" "$here/ncf_python.py" "$data_dir" "$epochs" "$threads" | tee -a "$log"
OMP_NUM_THREADS=$threads "$python" "$here/ncf_torch.py" "$data_dir" "$epochs" "$threads" |
    tee -a "$log"
awk '/^python epoch/ { for (i = 1; i <= NF; i++) if ($i == "training") { p += $(i + 1); np++ } }
     /^torch epoch/ { for (i = 1; i <= NF; i++) if ($i == "training") { t += $(i + 1); nt++ } }
     END { if (np && nt) printf "PyTorch %.2f s / libreco from Python %.2f s an epoch = %.1fx\n",
                                t / nt, p / np, (t / nt) / (p / np) }' "$log"

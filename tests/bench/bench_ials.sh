#!/bin/sh
# The baselines (iALS, EASE, item-kNN) against implicit, in one script on one
# machine (2 threads each):
#  1. the NCF ml-1m files (train, test, 99 negatives): implicit at 64
#     factors, regularization 0.1, alpha 4, 15 iterations (its HR@10 after
#     each, fit time without evaluation), then libreco's `reco train --model
#     ials` with the issue's settings at 64 (10 epochs) and 192 factors (12),
#     and its defaults; libreco's time to implicit's final HR@10 is the sum
#     of its epoch times (reading the files not counted, building the
#     sparse rows counted) up to the first epoch at or above it.
#     EASE (lambda 1000) and item-kNN (BM25, K 100) on the same files,
#     item-kNN beside implicit's BM25Recommender (fit time, HR@10).
#  2. an ML-20M-shaped synthetic set (138,493 users x 26,744 items, 20M
#     pairs): seconds per iteration at 64 factors and each side's peak RSS.
# Builds implicit from the peers folder in a scratch copy (cython3,
# python3-dev, python3-scipy, python3-threadpoolctl, g++).
# Usage: bench_ials.sh path/to/reco [data-dir [peers-dir]]; exit 77 (skipped)
# without the data or implicit's sources (RECO_DATA_DIR, RECO_PEERS_DIR).
# RECO_BENCH_SKIP_20M=1 leaves part 2 out.
set -eu
reco=$1
here=$(cd "$(dirname "$0")" && pwd)
data=${2:-${RECO_DATA_DIR:-}}
peers=${3:-${RECO_PEERS_DIR:-${data:+$data/../peers}}}
ncf=$data/ml-1m-implicit
if [ -z "$data" ] || [ ! -r "$ncf/ml-1m.implicit.train.tsv" ] || [ ! -r "$peers/implicit/build_cpu.py" ]; then
    echo "bench_ials: needs RECO_DATA_DIR (ml-1m-implicit) and implicit's sources; skipped"
    exit 77
fi
if ! /usr/bin/python3 -c 'import Cython, scipy, threadpoolctl' 2> /dev/null; then
    echo "bench_ials: needs cython3, python3-scipy and python3-threadpoolctl; skipped"
    exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$peers/implicit" "$scratch/implicit-src"
(cd "$scratch/implicit-src" && /usr/bin/python3 build_cpu.py > "$scratch/build.log" 2>&1) ||
    { tail -n 30 "$scratch/build.log"; exit 1; }
peer() { PYTHONPATH="$scratch/implicit-src" /usr/bin/python3 "$here/ials_implicit.py" "$@"; }
lscpu | sed -n 's/^Model name: *//p' | head -n 1

echo "== NCF ml-1m: implicit ALS, 64 factors, reg 0.1, alpha 4, 15 iterations, 2 threads"
peer ncf "$ncf/ml-1m.implicit.train.tsv" "$ncf/ml-1m.implicit.test.tsv" \
    "$ncf/ml-1m.implicit.test.negative" 64 0.1 4 15 2 | tee "$scratch/implicit.json"
target=$(grep '"iteration": 15,' "$scratch/implicit.json" | sed 's/.*"HR@10": \([0-9.]*\).*/\1/')
implicit_fit=$(grep '"done"' "$scratch/implicit.json" | sed 's/.*"fit_seconds": \([0-9.]*\).*/\1/')
if [ -z "$target" ] || [ -z "$implicit_fit" ]; then
    echo "bench_ials: implicit's run failed" >&2
    exit 1
fi

# $1: label; the rest: reco train flags. Prints the last epoch's metrics,
# the seconds to the first epoch with HR@10 >= $target, and that over
# implicit's fit.
libreco() {
    label=$1
    shift
    "$reco" train --train "$ncf/ml-1m.implicit.train.tsv" --test "$ncf/ml-1m.implicit.test.tsv" \
        --test-negatives-file "$ncf/ml-1m.implicit.test.negative" --model ials --threads 2 \
        --json "$@" > "$scratch/libreco.json"
    awk -v label="$label" -v target="$target" -v implicit="$implicit_fit" '
        /"epoch"/ { match($0, /"seconds": [0-9.]+/); s = substr($0, RSTART + 11, RLENGTH - 11)
                    match($0, /"HR@10": [0-9.]+/); hr = substr($0, RSTART + 9, RLENGTH - 9)
                    match($0, /"NDCG@10": [0-9.]+/); nd = substr($0, RSTART + 11, RLENGTH - 11)
                    total += s; epochs++
                    if (!reached && hr + 0 >= target + 0) { reached = epochs; at = total } }
        END { printf "%-34s epochs %2d  HR@10 %.4f  NDCG@10 %.4f  %5.2f s/epoch", label, epochs, hr, nd, total / epochs
              if (reached) printf "  HR@10 >= %s after epoch %d: %.2f s = %.2fx implicit\x27s fit\n", target, reached, at, at / implicit
              else printf "  never reached HR@10 %s\n", target }' "$scratch/libreco.json"
}
echo "== NCF ml-1m: libreco iALS, 2 threads (implicit's fit: ${implicit_fit} s to HR@10 $target)"
libreco "defaults (64 factors, CG)"
libreco "64, wd 0.007, w0 0.3, std 0.1, CG" --factors 64 --weight-decay 0.007 \
    --unobserved-weight 0.3 --init-std 0.1 --epochs 10
libreco "64, ... Cholesky" --factors 64 --weight-decay 0.007 --unobserved-weight 0.3 \
    --init-std 0.1 --epochs 10 --solver cholesky
libreco "192, 12 epochs, CG" --factors 192 --weight-decay 0.007 --unobserved-weight 0.3 \
    --init-std 0.1 --epochs 12
libreco "192, 12 epochs, Cholesky" --factors 192 --weight-decay 0.007 --unobserved-weight 0.3 \
    --init-std 0.1 --epochs 12 --solver cholesky

echo "== NCF ml-1m: EASE and item-kNN (fit = the one epoch), implicit's BM25 item-kNN"
for model in ease itemknn; do
    "$reco" train --train "$ncf/ml-1m.implicit.train.tsv" --test "$ncf/ml-1m.implicit.test.tsv" \
        --test-negatives-file "$ncf/ml-1m.implicit.test.negative" --model $model --threads 2 |
        grep '^epoch' | sed "s/^/libreco $model: /"
done
peer knn "$ncf/ml-1m.implicit.train.tsv" "$ncf/ml-1m.implicit.test.tsv" \
    "$ncf/ml-1m.implicit.test.negative" 100 2 2> /dev/null | sed 's/^/implicit BM25, K 100: /'

[ "${RECO_BENCH_SKIP_20M:-0}" = 1 ] && exit 0
echo "== ML-20M shape: 138,493 x 26,744, 20M pairs, 64 factors, 2 threads"
peer make-synthetic "$scratch/20m.tsv" 138493 26744 20000000
peer synthetic "$scratch/20m.tsv" 64 3 2 | sed 's/^/implicit: /'
/usr/bin/time -f "libreco peak RSS %M KB" "$reco" train --data "$scratch/20m.tsv" --model ials \
    --factors 64 --epochs 3 --threads 2 --json 2> "$scratch/time" |
    grep '"epoch"' | sed 's/^/libreco: /'
cat "$scratch/time"

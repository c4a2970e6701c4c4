#!/bin/sh
# The whole job "top K for every user into a TSV, training items left out":
# `reco recommend --all` (its seen items from the model file) against
# implicit 0.7.3's batch recommend on the same factors (`reco export --format
# npy`; read the pairs, CSR, recommend, write), 2 threads each, each job
# timed whole (wall seconds and peak RSS), twice, alternating; then the two
# outputs' top-K sets compared user by user.
# The model: MF with BCE at 64 factors (no biases: the exported factors
# are the whole score), one epoch on a popularity-skewed synthetic set,
# the ML-20M shape unless USERS ITEMS PAIRS are given.
# Builds implicit from the peers folder in a scratch copy (cython3,
# python3-dev, python3-scipy, python3-threadpoolctl, g++).
# Usage: bench_recommend_all.sh path/to/reco [USERS ITEMS PAIRS [K]]; exit
# 77 (skipped) without implicit's sources (RECO_PEERS_DIR, or
# RECO_DATA_DIR/../peers); RECO_IMPLICIT_BUILT names a copy built already;
# RECO_BENCH_SCRATCH names a folder kept between runs, whose pairs, model
# and factors are made once (so that a later run times the jobs alone).
set -eu
reco=$1
users=${2:-138493}
items=${3:-26744}
pairs=${4:-20000000}
k=${5:-10}
here=$(cd "$(dirname "$0")" && pwd)
data=${RECO_DATA_DIR:-}
peers=${RECO_PEERS_DIR:-${data:+$data/../peers}}
if [ -z "$peers" ] || [ ! -r "$peers/implicit/build_cpu.py" ]; then
    echo "bench_recommend_all: needs implicit's sources (RECO_PEERS_DIR or RECO_DATA_DIR); skipped"
    exit 77
fi
if ! /usr/bin/python3 -c 'import Cython, scipy, threadpoolctl' 2> /dev/null; then
    echo "bench_recommend_all: needs cython3, python3-scipy and python3-threadpoolctl; skipped"
    exit 77
fi
if [ -n "${RECO_BENCH_SCRATCH:-}" ]; then
    scratch=$RECO_BENCH_SCRATCH
    mkdir -p "$scratch"
    rm -f "$scratch"/*.times "$scratch/implicit-src"
else
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
fi
if [ -n "${RECO_IMPLICIT_BUILT:-}" ]; then
    # a copy built before (build_cpu.py done in it), to time again without building
    ln -s "$RECO_IMPLICIT_BUILT" "$scratch/implicit-src"
else
    cp -r "$peers/implicit" "$scratch/implicit-src"
    (cd "$scratch/implicit-src" && /usr/bin/python3 build_cpu.py > "$scratch/build.log" 2>&1) ||
        { tail -n 30 "$scratch/build.log"; exit 1; }
fi
peer() { PYTHONPATH="$scratch/implicit-src" /usr/bin/python3 "$here/ials_implicit.py" "$@"; }
lscpu | sed -n 's/^Model name: *//p' | head -n 1

echo "== $users users x $items items, $pairs pairs, MF 64 factors one epoch, top $k, 2 threads"
[ -s "$scratch/pairs.tsv" ] || peer make-synthetic "$scratch/pairs.tsv" "$users" "$items" "$pairs"
head -n 1 "$scratch/pairs.tsv" > "$scratch/test.tsv"
[ -s "$scratch/m.reco" ] ||
    RECO_NUM_THREADS=2 "$reco" train --train "$scratch/pairs.tsv" --test "$scratch/test.tsv" \
        --model mf --loss bce --no-biases --factors 64 --epochs 1 --out "$scratch/m.reco" > /dev/null
[ -s "$scratch/m_item_factors.npy" ] ||
    "$reco" export "$scratch/m.reco" --out "$scratch/m" --format npy > /dev/null
ls -l "$scratch/m.reco" | awk '{printf "model file with its seen items: %.0f MB\n", $5 / 1e6}'

# $1: label, the rest: the command; prints wall seconds and peak RSS
timed() {
    label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$scratch/time" "$@" > "$scratch/out.txt" 2> "$scratch/err.txt" ||
        { cat "$scratch/err.txt"; exit 1; }
    read -r seconds rss < "$scratch/time"
    echo "$label: whole job $seconds s, peak RSS $((rss / 1024)) MB $(cat "$scratch/out.txt")"
    echo "$seconds" >> "$scratch/$label.times"
}
uptime
for round in 1 2; do
    timed libreco env RECO_NUM_THREADS=2 "$reco" recommend --model "$scratch/m.reco" --all \
        --k "$k" --out "$scratch/libreco.tsv"
    timed implicit env OPENBLAS_NUM_THREADS=2 PYTHONPATH="$scratch/implicit-src" \
        /usr/bin/python3 "$here/ials_implicit.py" recommend "$scratch/pairs.tsv" "$scratch/m" \
        "$k" 2 "$scratch/implicit.tsv"
done
uptime
best() { sort -n "$scratch/$1.times" | head -n 1; }
awk -v a="$(best libreco)" -v b="$(best implicit)" \
    'BEGIN { printf "best of 2: libreco %.2f s, implicit %.2f s: libreco / implicit = %.2f\n", a, b, a / b }'
peer same-sets "$scratch/libreco.tsv" "$scratch/implicit.tsv"

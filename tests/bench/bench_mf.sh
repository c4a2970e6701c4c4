#!/bin/sh
# Explicit MF against libmf, in one script on one machine: builds libmf's
# mf-train from the peers folder in a scratch folder, writes the same 80/20
# split of each data set for both (0-based ids, "user item rating"), and
# for factors 32 and 128 on 1 and 2 threads reports each side's CPU per
# epoch and test RMSE after E epochs (20; 4 on the 10M set). CPU per epoch
# is (CPU of a (L + E)-epoch run - CPU of an L-epoch run) / E with E = 200
# (4 on the 10M set), user + system, so reading the data and evaluating
# cancel out and /usr/bin/time's 10 ms steps do not matter. libmf runs with its defaults (-l2 0.1 -r 0.1, its adaptive
# learning rate); libreco trains biased MF rating by rating (batch size 1)
# with SGD, lr 0.01, weight decay 0.15 (the best of 0.1-0.25 on the two
# MovieLens sets), tables N(0, 0.05).
# Data: ml-100k, ml-latest-small and a 10M-rating synthetic file.
# Usage: bench_mf.sh path/to/reco [data-dir [peers-dir]]; exit 77 (skipped)
# when the data or libmf's sources are absent (RECO_DATA_DIR, RECO_PEERS_DIR).
set -eu
reco=$1
data=${2:-${RECO_DATA_DIR:-}}
peers=${3:-${RECO_PEERS_DIR:-${data:+$data/../peers}}}
if [ -z "$data" ] || [ ! -r "$data/ml-100k/u.data" ] || [ ! -r "$peers/libmf/mf.cpp" ]; then
    echo "bench_mf: needs RECO_DATA_DIR (the MovieLens files) and libmf's sources; skipped"
    exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$peers/libmf/"* "$scratch/"
make -C "$scratch" > "$scratch/make.log" 2>&1 || { cat "$scratch/make.log"; exit 1; }
lscpu | sed -n 's/^Model name: *//p' | head -n 1

# $1: input lines "user item rating" (any ids); writes $2.train and $2.test
split_80_20() {
    awk -v out="$2" 'BEGIN { srand(1) }
        { if (!($1 in user)) user[$1] = nu++; if (!($2 in item)) item[$2] = ni++
          line = user[$1] " " item[$2] " " $3
          if (rand() < 0.8) print line > (out ".train"); else print line > (out ".test") }'
}
awk -F'\t' '{ print $1, $2, $3 }' "$data/ml-100k/u.data" | split_80_20 - "$scratch/ml-100k"
awk -F, 'NR > 1 { print $1, $2, $3 }' "$data/ml-latest-small/ratings.csv" |
    split_80_20 - "$scratch/ml-latest-small"
# 10M ratings of 100,000 users on 20,000 items from 8 latent factors plus noise
awk 'BEGIN { srand(7)
    for (f = 0; f < 8; f++) { for (u = 0; u < 100000; u++) pu[u, f] = rand() - 0.5
                              for (i = 0; i < 20000; i++) qi[i, f] = rand() - 0.5 }
    for (n = 0; n < 10000000; n++) {
        u = int(rand() * 100000); i = int(20000 * rand() * rand())
        r = 3.5
        for (f = 0; f < 8; f++) r += 2 * pu[u, f] * qi[i, f]
        r += rand() - 0.5; r = r < 1 ? 1 : r > 5 ? 5 : int(r + 0.5)
        print u, i, r } }' | split_80_20 - "$scratch/synthetic-10m"

# Runs a command under /usr/bin/time: its output in $scratch/out, its CPU
# seconds (user + system) in $seconds; a failure stops the script.
timed() {
    if ! /usr/bin/time -f "%U %S" "$@" 2> "$scratch/time" > "$scratch/out"; then
        cat "$scratch/time" "$scratch/out" >&2
        exit 1
    fi
    seconds=$(tail -n 1 "$scratch/time" | awk '{ print $1 + $2 }')
}
libmf() { # set, factors, threads, epochs
    timed "$scratch/mf-train" -k "$2" -s "$3" -t "$4" "$scratch/$1.train" "$scratch/model"
}
libmf_rmse() {
    "$scratch/mf-predict" -e 0 "$scratch/$1.test" "$scratch/model" "$scratch/predictions" |
        sed -n 's/RMSE = //p'
}
reco_train() { # set, factors, threads, epochs
    timed "$reco" train --train "$scratch/$1.train" --test "$scratch/$1.test" --model mf \
        --biases --loss mse --protocol ratings --batch 1 --optimizer sgd --lr 0.01 \
        --weight-decay 0.15 --init-std 0.05 --factors "$2" --threads "$3" --epochs "$4" \
        --eval-every "$4" --json
}

printf '%-16s %4s %3s %6s | %12s %7s | %12s %7s | %s\n' data k thr epochs "libmf ms/ep" RMSE \
    "libreco ms/ep" RMSE "CPU ratio"
for set in ml-100k ml-latest-small synthetic-10m; do
    epochs=20 timing=200
    [ "$set" = synthetic-10m ] && epochs=4 timing=4
    for k in 32 128; do
        for threads in 1 2; do
            libmf "$set" "$k" "$threads" $((epochs + timing))
            b=$seconds
            libmf "$set" "$k" "$threads" "$epochs"
            a=$seconds
            libmf_error=$(libmf_rmse "$set")
            reco_train "$set" "$k" "$threads" "$epochs"
            c=$seconds
            reco_error=$(sed -n 's/.*"RMSE": \([0-9.]*\).*/\1/p' "$scratch/out" | tail -n 1)
            reco_train "$set" "$k" "$threads" $((epochs + timing))
            d=$seconds
            awk -v set="$set" -v k="$k" -v t="$threads" -v e="$timing" -v epochs="$epochs" -v a="$a" -v b="$b" \
                -v c="$c" -v d="$d" -v le="$libmf_error" -v re="$reco_error" 'BEGIN {
                    lm = (b - a) / e * 1000; rm = (d - c) / e * 1000
                    printf "%-16s %4d %3d %6d | %12.2f %7.4f | %12.2f %7.4f | %.2f\n",
                        set, k, t, epochs, lm, le, rm, re, (rm > 0 ? lm / rm : 0) }'
        done
    done
done

#!/bin/sh
# reco tune and reco train --valid-from-train on the built-in synthetic
# data: the validation rows come out of the training rows (one a user for
# leave-one-out), a seed and a trial count give the same trials and choice,
# the trials are ranked by validation (the chosen one has the best value),
# the chosen line trains, and the test set is reported once.
# Usage: test_tune.sh path/to/reco
set -eu
reco=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

# --valid-from-train: 943 users, each gives its latest training row
"$reco" train --model ials --factors 8 --epochs 2 --valid-from-train --json > "$tmp/valid.json"
rows=$(sed -n 's/.*"rows": \([0-9]*\).*/\1/p' "$tmp/valid.json")
valid=$(sed -n 's/.*"valid_rows": \([0-9]*\).*/\1/p' "$tmp/valid.json")
"$reco" train --model ials --factors 8 --epochs 2 --json > "$tmp/plain.json"
plain=$(sed -n 's/.*"rows": \([0-9]*\).*/\1/p' "$tmp/plain.json")
check "943 validation rows ($valid)" test "$valid" -eq 943
check "they leave the training rows ($plain - $valid = $rows)" test $((plain - valid)) -eq "$rows"
check "--valid-from-train wants a split it can carve from" \
    sh -c "! '$reco' train --split random --loss mse --valid-from-train 2> /dev/null"

# 4 trials of 1 + 2 epochs, twice: the same trials and choice
tune() { # seed, then more flags
    seed=$1
    shift
    "$reco" tune --model ials --trials 4 --budget 0 --max-epochs 3 --seed "$seed" --json "$@"
}
tune 7 > "$tmp/a.json"
tune 7 > "$tmp/b.json"
strip() { sed 's/"seconds": [0-9.]*//' "$1"; }
check "a seed gives the same trials and choice" test "$(strip "$tmp/a.json")" = "$(strip "$tmp/b.json")"
check "every trial reports" test "$(grep -c '"trial"' "$tmp/a.json")" -ge 4
chosen=$(sed -n 's/.*"chosen": "\([^"]*\)".*/\1/p' "$tmp/a.json")
check "a choice is made ($chosen)" test -n "$chosen"
check "the test metrics are reported once" test "$(grep -v '"trial"' "$tmp/a.json" | grep -c '"HR@10"')" -eq 1
check "the survivors train on" test "$(grep -c '"epochs": 3' "$tmp/a.json")" -ge 1
# the chosen settings are those of the trial with the best validation value
best=$(sed -n 's/.*"settings": "\([^"]*\)".*"valid": {"HR@10": \([0-9.]*\)}.*/\2 \1/p' "$tmp/a.json" |
    sort -rn | head -n 1 | cut -d' ' -f2-)
check "the best trial is chosen ($best)" sh -c "echo '$chosen' | grep -qF -- '$best'"
# the chosen line is a reco train command that runs
# shellcheck disable=SC2086
check "the chosen settings train" "$reco" train $chosen --threads 1 > /dev/null
tune 8 > "$tmp/c.json"
check "another seed draws other settings" sh -c "! cmp -s '$tmp/a.json' '$tmp/c.json'"
check "--out saves the chosen model" tune 7 --out "$tmp/tuned.reco" > /dev/null
check "with its settings" sh -c "'$reco' info '$tmp/tuned.reco' | grep -q '^tune.chosen'"
check "tune takes no --valid file" sh -c "! '$reco' tune --model ials --valid x 2> /dev/null"
echo "tune: all checks passed"

#!/bin/sh
# The five reference tutorials' protocols (../shared/PROTOCOLS.md, seeds 000
# to 004) run from the reco command line on small data made here, each with
# the seed's settings, and checked against what the protocol must show; then
# ids that are not numbers, end to end.
# Usage: test_protocols.sh path/to/reco
set -eu
reco=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
last() { # the last value of a JSON key in a file of JSON lines
    sed -n "s/.*\"$1\": \([-0-9.e]*\).*/\1/p" "$2" | tail -n 1
}
above() { # description, value, bound
    check "$1 ($2 > $3)" awk -v v="$2" -v b="$3" 'BEGIN { exit !(v > b) }'
}

# Ratings with a pattern to learn: 300 users x 30 ratings over items 0..499;
# a user rates 15 items of its group (item % 10 == user % 10) 5 and 15
# others 2; timestamps increase. $1 and $2 prefix the user and item ids.
groups() {
    awk -v pu="$1" -v pi="$2" 'BEGIN {
        OFS = "\t"; t = 1000
        for (u = 1; u <= 300; u++)
            for (j = 0; j < 15; j++) {
                print pu u, pi (((u * 7 + j * 13) % 50) * 10 + u % 10), 5, t++
                print pu u, pi (((u * 11 + j * 17) % 50) * 10 + (u + 3) % 10), 2, t++
            }
    }'
}
groups "" "" > "$tmp/groups.tsv"
# movies.csv-style titles for items 0..519: 20 of them never rated
awk 'BEGIN { print "movieId,title,genres"
             for (i = 0; i < 520; i++) printf "%d,\"Film %d, the\",Drama\n", i, i }' \
    > "$tmp/titles.csv"

# Seed 000: NeuMF (GMF + MLP tower), N(0, 0.01) tables, Xavier layers,
# sigmoid + BCE, Adam 1e-3, batch 256, 4 training negatives drawn once,
# leave-latest-out, HR@10 and NDCG@10 against 100 sampled test negatives.
"$reco" train --model neumf --factors 8 --layers 16,8 --output sigmoid --loss bce \
    --optimizer adam --lr 0.001 --batch 256 --negatives 4 --fixed-negatives --split loo \
    --test-negatives 100 --k 10 --epochs 2 --json --out "$tmp/seed000.reco" > "$tmp/seed000.json"
above "seed 000: HR@10 against 100 negatives beats chance (10/101)" "$(last HR@10 "$tmp/seed000.json")" 0.2
"$reco" info "$tmp/seed000.reco" > "$tmp/seed000.txt"
check "seed 000: the model file records fixed negatives" grep -q '^train.negatives  *4 (fixed)$' "$tmp/seed000.txt"
check "seed 000: and the protocol" grep -q '^train.protocol  *sampled$' "$tmp/seed000.txt"
# the NCF paper's pretraining: GMF and MLP apart, then NeuMF from both with
# its own optimizer (SGD) and epochs; it starts where they ended
"$reco" train --model gmf --epochs 2 --out "$tmp/gmf.reco" > /dev/null
"$reco" train --model mlp --epochs 2 --out "$tmp/mlp.reco" > /dev/null
"$reco" train --model neumf --pretrained-gmf "$tmp/gmf.reco" --pretrained-mlp "$tmp/mlp.reco" \
    --alpha 0.5 --optimizer sgd --lr 0.01 --epochs 1 --json > "$tmp/pretrained.json"
"$reco" train --model neumf --optimizer sgd --lr 0.01 --epochs 1 --json > "$tmp/fresh.json"
pretrained=$(last HR@10 "$tmp/pretrained.json")
above "pretrained NeuMF beats a fresh one after an SGD epoch" "$pretrained" "$(last HR@10 "$tmp/fresh.json")"
set +e
"$reco" train --data "$tmp/groups.tsv" --model neumf --pretrained-gmf "$tmp/gmf.reco" \
    --pretrained-mlp "$tmp/mlp.reco" --epochs 1 > /dev/null 2> "$tmp/error.txt"
check "pretrained models of other ids are refused" test $? -eq 1
check "naming the difference" grep -q "the model has 943 users, the data 300: other ids" "$tmp/error.txt"
set -e

# Seed 001: MF of 10 factors through one Linear 10->1 and a ReLU (GMF with a
# ReLU output), N(0, 1) tables, MSE summed over the batch, Adagrad 1e-4,
# batch 200, one epoch on a global random 80/20 holdout; the factor
# matrices W and H exported.
"$reco" train --data "$tmp/groups.tsv" --model gmf --factors 10 --output relu --init-std 1 \
    --loss mse --reduction sum --optimizer adagrad --lr 1e-4 --batch 200 --epochs 1 \
    --split random --test-fraction 0.2 --json --out "$tmp/seed001.reco" > "$tmp/seed001.json"
check "seed 001: RMSE and MAE" grep -q '"RMSE": [0-9.]*, "MAE": [0-9.]*' "$tmp/seed001.json"
"$reco" export "$tmp/seed001.reco" --out "$tmp/seed001" --format npy > /dev/null
check "seed 001: W is 300 x 10" sh -c "head -c 128 '$tmp/seed001_user_factors.npy' | grep -a -q \"'shape': (300, 10)\""
check "seed 001: H is 500 x 10" sh -c "head -c 128 '$tmp/seed001_item_factors.npy' | grep -a -q \"'shape': (500, 10)\""
"$reco" export "$tmp/seed001.reco" --out "$tmp/seed001" > /dev/null
check "seed 001: one Adagrad epoch at 1e-4 leaves W near its N(0, 1) draw" awk -F'\t' '
    NR > 1 { for (i = 2; i <= 11; i++) { s += ($i < 0 ? -$i : $i); n++ } }
    END { exit !(s / n > 0.7 && s / n < 0.9) }' "$tmp/seed001_users.tsv"

# Seed 002: ratings / 5, stratified 60/20/20, 16 factors N(0, 1), MSE mean,
# plain SGD 1e-3, batch 256; validation and test loss per epoch.
"$reco" train --data "$tmp/groups.tsv" --model mf --factors 16 --init-std 1 --scale 0.2 \
    --stratify --split random --valid-fraction 0.2 --test-fraction 0.2 --keep-last --loss mse \
    --optimizer sgd --lr 0.001 --batch 256 --epochs 3 --json > "$tmp/seed002.json"
check "seed 002: a line per epoch with test and validation RMSE" \
    test "$(grep -c '"RMSE": [0-9.]*, "MAE": [0-9.]*, "valid": {"RMSE"' "$tmp/seed002.json")" -eq 3
check "seed 002: 60/20/20 of 9,000 rows" grep -q '"rows": 5400, "test_rows": 1800, "valid_rows": 1800' "$tmp/seed002.json"

# Seed 003: NCF for rating regression: GMF 32 + MLP 256-128-64-32 with
# dropout 0.5, no output activation, MSE, Adam; MAE on the test ratings.
"$reco" train --data "$tmp/groups.tsv" --model neumf --factors 32 --layers 256,128,64,32 \
    --dropout 0.5 --output identity --loss mse --optimizer adam --split random --epochs 2 \
    --metrics mae,rmse --json > "$tmp/seed003.json"
mae=$(last MAE "$tmp/seed003.json")
check "seed 003: MAE below predicting 0 ($mae)" awk -v v="$mae" 'BEGIN { exit !(v < 3.5) }'

# Seed 004: ratings >= 4 as positives, the catalog from the titles file
# (unrated items too), random 80/10/10 (seed 1), BPR-MF 32 factors with
# Xavier tables, Adam with coupled weight decay 1e-6 on every row, an
# exponential decay stepped every N epochs, batch 1024, validation every N
# epochs, the last model kept, full ranking @20 leaving out training (and,
# for the test, validation) items: Recall, Precision, NDCG.
"$reco" train --data "$tmp/groups.tsv" --titles "$tmp/titles.csv" --positive-threshold 4 \
    --split random --valid-fraction 0.1 --test-fraction 0.1 --seed 1 --model mf --factors 32 \
    --init xavier --loss bpr --optimizer adam --lr 0.01 --weight-decay 1e-6 --dense-embeddings \
    --lr-decay 0.95 --lr-step 10 --batch 1024 --epochs 20 --eval-every 10 --keep-last \
    --protocol ranking --metrics recall,precision,ndcg --k 20 --out "$tmp/seed004.reco" \
    > "$tmp/seed004.txt"
check "seed 004: the catalog is the titles file's 520 items" grep -q '300 users, 520 items, 3600 training rows, 450 test rows' "$tmp/seed004.txt"
check "seed 004: a line every 10 epochs" test "$(grep -c '^epoch' "$tmp/seed004.txt")" -eq 2
check "seed 004: test and validation metrics @20" grep -q 'Recall@20 [0-9.]*  Precision@20 [0-9.]*  NDCG@20 [0-9.]*  | valid  Recall@20' "$tmp/seed004.txt"
recall=$(grep '^epoch  20 ' "$tmp/seed004.txt" | sed -e 's/  | valid.*//' -e 's/.*Recall@20 \([0-9.]*\).*/\1/')
above "seed 004: Recall@20 learns the groups" "$recall" 0.5
"$reco" eval "$tmp/seed004.reco" --data "$tmp/groups.tsv" --json > "$tmp/seed004_eval.json"
check "seed 004: eval rebuilds the split and agrees ($recall)" grep -q "\"rows\": 450, .*\"Recall@20\": $recall" "$tmp/seed004_eval.json"
check "seed 004: eval reports every ranking metric, no RMSE" sh -c "grep -q '\"MAP@20\"' '$tmp/seed004_eval.json' && ! grep -q RMSE '$tmp/seed004_eval.json'"
"$reco" info "$tmp/seed004.reco" > "$tmp/seed004_info.txt"
for key in "train.positive_threshold  *4" "train.lr_schedule  *x0.95 every 10 epochs" \
    "train.init  *xavier-uniform" "train.embeddings  *dense" "train.titles"; do
    check "seed 004: info shows $key" grep -q "^$key" "$tmp/seed004_info.txt"
done
check "seed 004: info shows the history" test "$(grep -c '^  {"epoch": ' "$tmp/seed004_info.txt")" -eq 20
"$reco" recommend "$tmp/seed004.reco" --data "$tmp/groups.tsv" --titles "$tmp/titles.csv" \
    --user 7 --k 10 --json > "$tmp/seed004_recommend.json"
check "seed 004: recommendations come with titles" grep -q '"title": "Film [0-9]*, the"' "$tmp/seed004_recommend.json"
# 5b: GMF pointwise, BCE with logits, one negative per positive, batch 64
"$reco" train --data "$tmp/groups.tsv" --positive-threshold 4 --split random --model gmf \
    --factors 16 --init xavier --loss bce --negatives 1 --batch 64 --epochs 10 \
    --protocol ranking --metrics hr,ndcg --k 20 --json > "$tmp/seed004b.json"
above "seed 004b: GMF HR@20 by full ranking" "$(last HR@20 "$tmp/seed004b.json")" 0.6

# Ids that are not numbers: "u7", "i123"; a model keeps them, the commands print them
groups u i > "$tmp/words.tsv"
"$reco" train --data "$tmp/words.tsv" --model mf --loss bpr --split random --epochs 3 \
    --out "$tmp/words.reco" > /dev/null
"$reco" recommend "$tmp/words.reco" --data "$tmp/words.tsv" --user u7 --k 3 --json \
    > "$tmp/words.json"
check "text ids: recommend takes and prints them" grep -q '^{"user": "u7", "items": \[{"item": "i[0-9]*"' "$tmp/words.json"
"$reco" similar "$tmp/words.reco" --item i17 --k 2 > "$tmp/words_similar.txt"
check "text ids: similar names the item" grep -q 'items nearest item i17' "$tmp/words_similar.txt"
"$reco" recommend "$tmp/words.reco" --data "$tmp/words.tsv" --all --k 1 --out "$tmp/words_all.tsv" 2> /dev/null
check "text ids: recommend --all writes them" sh -c "sed -n 2p '$tmp/words_all.tsv' | grep -q '^u1	i[0-9]*	1	'"
"$reco" export "$tmp/words.reco" --out "$tmp/words" --format npy > /dev/null
check "text ids: .npy ids as byte strings" sh -c "head -c 128 '$tmp/words_user_ids.npy' | grep -a -q \"'descr': '|S4'.*'shape': (300,)\""
set +e
"$reco" recommend "$tmp/words.reco" --data "$tmp/words.tsv" --user 7 2> "$tmp/error.txt"
check "text ids: a user the model does not know is an error" test $? -eq 1
check "naming it" grep -q "unknown user id '7'" "$tmp/error.txt"
echo "1 passed, 0 failed"

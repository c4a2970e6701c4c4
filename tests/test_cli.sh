#!/bin/sh
# The reco command-line tool end to end: training (plain and JSON), model
# files, recommendations with titles, similar items, its exit codes, and its
# strict flags (every bad line a usage error naming the flag), help, version.
# Usage: test_cli.sh path/to/reco path/to/fixtures
set -eu
reco=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

"$reco" train --epochs 2 --json --out "$tmp/synthetic.reco" > "$tmp/train.json"
check "two epoch lines" test "$(grep -c '"epoch"' "$tmp/train.json")" -eq 2
hr=$(sed -n 's/.*"HR@10": \([0-9.]*\).*/\1/p' "$tmp/train.json" | tail -n 1)
check "HR@10 after two epochs ($hr) above 0.25" awk -v hr="$hr" 'BEGIN { exit !(hr > 0.25) }'
check "a final JSON object" grep -q '"done": true' "$tmp/train.json"
"$reco" info --model "$tmp/synthetic.reco" --json > "$tmp/info.json"
check "info names the shape" grep -q '"model": "neumf", "users": 943, "items": 1682' "$tmp/info.json"
check "info takes the file as its first word" sh -c "'$reco' info '$tmp/synthetic.reco' | grep -q 'neumf model, 943 users x 1682 items'"

# the fixture: user 2 rated items 20 and 40 of 10, 20, 30, 40
"$reco" train --data "$fixtures/ratings.dat" --split random --test-fraction 0.3 --model mf \
    --epochs 1 --out "$tmp/fixture.reco" > "$tmp/plain.txt"
check "plain output names the data" grep -q "training on .*ratings.dat: 3 users, 4 items" "$tmp/plain.txt"
"$reco" train --data "$fixtures/ratings.dat" --split random --test-fraction 0.3 --model mf \
    --epochs 1 --lazy-embeddings --out "$tmp/lazy.reco" > /dev/null
check "the model file records lazy embedding steps" sh -c "'$reco' info '$tmp/lazy.reco' | grep -q '^train.embeddings *lazy$'"
check "and the default as auto" sh -c "'$reco' info '$tmp/fixture.reco' | grep -q '^train.embeddings *auto$'"
"$reco" recommend --model "$tmp/fixture.reco" --data "$fixtures/ratings.dat" \
    --titles "$fixtures/movies.dat" --user 2 --k 5 --json > "$tmp/recommend.json"
check "recommends item 10 with its title" grep -q '"item": 10, "score": [-0-9.]*, "title": "Toy Story (1995)"' "$tmp/recommend.json"
check "recommends item 30" grep -q '"item": 30' "$tmp/recommend.json"
check "leaves out items user 2 rated" sh -c "! grep -q -e '\"item\": 20' -e '\"item\": 40' '$tmp/recommend.json'"
"$reco" similar --model "$tmp/fixture.reco" --item 10 --k 2 --json > "$tmp/similar.json"
check "two similar items" test "$(grep -o '"cosine"' "$tmp/similar.json" | wc -l)" -eq 2
"$reco" similar --model "$tmp/fixture.reco" --user 2 --k 5 --json > "$tmp/similar_users.json"
check "the other two users nearest user 2" grep -q '^{"user": 2, "similar": \[{"user": [13], "cosine": [-0-9.]*}, {"user": [13], "cosine": [-0-9.]*}\]}$' "$tmp/similar_users.json"

# the model keeps its training items: recommend needs no --data to leave them out
printf '3::30::4::500\n' > "$tmp/held_out.dat"
"$reco" train --train "$fixtures/ratings.dat" --test "$tmp/held_out.dat" --model mf --epochs 1 \
    --protocol ratings --out "$tmp/seen.reco" > /dev/null
"$reco" recommend --model "$tmp/seen.reco" --user 2 --k 5 --json > "$tmp/seen.json"
check "without --data, user 2 gets exactly the items it did not rate" sh -c "grep -o '\"item\": [0-9]*' '$tmp/seen.json' | sort | tr '\n' ' ' | grep -qx '\"item\": 10 \"item\": 30 '"
"$reco" recommend --model "$tmp/seen.reco" --user 2 --k 5 > "$tmp/seen.txt"
check "and says its training items were left out" grep -q "top 2 for user 2 (its training items left out)" "$tmp/seen.txt"
"$reco" recommend --model "$tmp/seen.reco" --all --k 4 --out "$tmp/seen_all.tsv" 2> /dev/null
"$reco" recommend --model "$tmp/seen.reco" --data "$fixtures/ratings.dat" --all --k 4 \
    --out "$tmp/data_all.tsv" 2> /dev/null
check "--all without --data is --all with the training data" cmp -s "$tmp/seen_all.tsv" "$tmp/data_all.tsv"
# filters: user 2 may get items 10 and 30 (10 is Animation and Comedy, 30 has no genre)
items_of() { "$reco" recommend --model "$tmp/seen.reco" --user 2 --k 5 --json "$@" | grep -o '"item": [0-9]*' | cut -d' ' -f2 | tr '\n' ' '; }
echo 30 > "$tmp/exclude.txt"
printf '20\n30\n' > "$tmp/only.txt"
check "--exclude leaves item 30 out" test "$(items_of --exclude "$tmp/exclude.txt")" = "10 "
check "--only keeps items 20 and 30, of which 20 is seen" test "$(items_of --only "$tmp/only.txt")" = "30 "
check "--genre Comedy keeps item 10" test "$(items_of --genre Comedy --titles "$fixtures/movies.dat")" = "10 "
check "--not-genre Animation leaves item 10 out" test "$(items_of --not-genre Animation --titles "$fixtures/movies.dat")" = "30 "
check "--approximate finds the exact items" test "$(items_of --approximate)" = "$(items_of)"
check "and saves the index beside the model" test -s "$tmp/seen.reco.hnsw"
check "which the next call reads" test "$(items_of --approximate --ef 5)" = "$(items_of)"
echo 77 > "$tmp/unknown.txt"
check "an unknown item in --only is refused" sh -c "'$reco' recommend --model '$tmp/seen.reco' --user 2 --only '$tmp/unknown.txt' 2>&1 | grep -q 'unknown.txt: item 77 is not the model'"

# eval rebuilds the split train made and agrees with its last epoch
"$reco" train --data "$fixtures/ratings.dat" --model gmf --test-negatives 1 --k 1 --epochs 2 \
    --json --out "$tmp/loo.reco" --plot "$tmp/train.svg" > "$tmp/loo.json"
trained=$(sed -n 's/.*"HR@1": \([0-9.]*\).*/\1/p' "$tmp/loo.json" | tail -n 1)
"$reco" eval --model "$tmp/loo.reco" --data "$fixtures/ratings.dat" --test-negatives 1 --k 1 \
    --json > "$tmp/eval.json"
check "eval agrees with training ($trained)" grep -q "\"rows\": 2, \"HR@1\": $trained" "$tmp/eval.json"
# the training chart: a loss panel and a metric panel, each with its own
# y axis of round ticks, four series, legends, and nothing outside the view box
inside() { # the SVG's every coordinate within its 720 x 440 view box
    tr ' ' '\n' < "$1" | sed -n -e 's/^\(x\|y\|cx\|cy\|x1\|x2\|y1\|y2\)="\([-0-9.]*\)".*/\1 \2/p' \
        -e 's/^points="\([-0-9.]*\),\([-0-9.]*\)$/x \1\ny \2/p' -e 's/^\([-0-9.]*\),\([-0-9.]*\)$/x \1\ny \2/p' |
        awk '{ limit = ($1 ~ /x/) ? 720 : 440; if ($2 < 0 || $2 > limit) bad++ } END { exit bad > 0 }'
}
check "two panels" test "$(grep -c 'class="frame"' "$tmp/train.svg")" -eq 2
check "four series" test "$(grep -c 'class="series"' "$tmp/train.svg")" -eq 4
check "tick labels on both axes" test "$(grep -c 'class="tick"' "$tmp/train.svg")" -ge 10
check "axis titles" grep -q '>epoch</text>' "$tmp/train.svg"
check "legends name the metrics at K" grep -q 'class="legend"[^>]*>HR@1</text>' "$tmp/train.svg"
check "everything inside the view box" inside "$tmp/train.svg"
"$reco" train --epochs 1 --plot "$tmp/one.svg" > /dev/null
check "one epoch is drawn as points" sh -c "! grep -q '<polyline' '$tmp/one.svg' && test \$(grep -c '<circle' '$tmp/one.svg') -eq 4"
check "and its axes are round numbers" sh -c "! grep -q 'class=\"tick\"[^>]*>-' '$tmp/one.svg'"
check "one epoch: inside the view box" inside "$tmp/one.svg"
"$reco" train --epochs 2 --split random --protocol ranking --metrics hr,ndcg,recall,precision,map \
    --plot "$tmp/ranking.svg" > /dev/null
check "full ranking: no test loss to draw, no empty legend entry" sh -c "! grep -q 'test loss' '$tmp/ranking.svg'"
check "five metrics, five colours" test "$(grep -o 'class="series" fill="#[0-9a-f]*"' "$tmp/ranking.svg" | sort -u | wc -l)" -eq 6
"$reco" similar --model "$tmp/loo.reco" --item 10 --k 2 --data "$fixtures/ratings.dat" \
    --titles "$fixtures/movies.dat" --plot "$tmp/items.svg" > /dev/null
check "the item plot has a point per item" test "$(grep -c 'class="point"' "$tmp/items.svg")" -eq 4
check "the query stands out" grep -q '<text class="label" [^>]*font-weight="bold"[^>]*>Toy Story (1995)</text>' "$tmp/items.svg"
check "its neighbours are labelled" test "$(grep -c 'class="label"' "$tmp/items.svg")" -eq 3
check "axis titles name the components" grep -q '>principal component 1 ([0-9]*%)</text>' "$tmp/items.svg"
check "round ticks on both axes" test "$(grep -c 'class="tick"' "$tmp/items.svg")" -ge 6
check "a legend" grep -q 'class="legend"[^>]*>query</text>' "$tmp/items.svg"
check "the item plot: inside the view box" inside "$tmp/items.svg"
no_overlap() { # no two labels' boxes (6.6 px a character, 12 px high) overlap
    sed -n 's/.*class="label" x="\([-0-9.]*\)" y="\([-0-9.]*\)"[^>]*>\([^<]*\)<.*/\1 \2 \3/p' "$1" |
        awk '{ x[NR] = $1; y[NR] = $2; w[NR] = 6.6 * (length($0) - length($1) - length($2) - 2) }
             END { for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
                       if (x[i] < x[j] + w[j] && x[j] < x[i] + w[i] && y[i] - 12 < y[j] && y[j] - 12 < y[i]) bad++
                   exit bad > 0 }'
}
check "labels do not collide" no_overlap "$tmp/items.svg"
"$reco" similar --model "$tmp/loo.reco" --item 10 --k 2 --data "$fixtures/ratings.dat" \
    --titles "$fixtures/movies.dat" --plot "$tmp/tsne.svg" --projection tsne > /dev/null
check "t-SNE: a point per item" test "$(grep -c 'class="point"' "$tmp/tsne.svg")" -eq 4
check "t-SNE: its axes" grep -q '>t-SNE 2</text>' "$tmp/tsne.svg"
check "t-SNE: inside the view box" inside "$tmp/tsne.svg"

# pre-split files: the test file shares the training file's ids, negatives from a file
printf '1\t10\n1\t20\n2\t20\n2\t30\n3\t10\n3\t40\n' > "$tmp/train.tsv"
printf '1\t30\n2\t40\n' > "$tmp/test.tsv"
printf '(1,30)\t40\n(2,40)\t10\n' > "$tmp/test.negative"
"$reco" train --train "$tmp/train.tsv" --test "$tmp/test.tsv" \
    --test-negatives-file "$tmp/test.negative" --model gmf --k 1 --epochs 1 --json \
    > "$tmp/split.json"
"$reco" train --train "$tmp/train.tsv" --test "$tmp/test.tsv" \
    --test-negatives-file "$tmp/test.negative" --model gmf --k 1 --epochs 1 --json \
    --out "$tmp/split.reco" > "$tmp/split2.json"
trained=$(sed -n 's/.*"HR@1": \([0-9.]*\).*/\1/p' "$tmp/split2.json" | tail -n 1)
check "pre-split training evaluates the two test rows" grep -q '"test_rows": 2,' "$tmp/split.json"
check "and --out changes nothing of it (HR@1 $trained)" grep -q "\"HR@1\": $trained," "$tmp/split.json"
# HR@1 by hand: each test user's candidates are its test item and its one
# negative (its other items are in train.tsv), so a hit is the test item
# first in the model's own recommendations
hits=0
for user_item in 1:30 2:40; do
    top=$("$reco" recommend --model "$tmp/split.reco" --data "$tmp/train.tsv" \
        --user "${user_item%:*}" --k 1 --json | sed -n 's/^.*"items": \[{"item": \([0-9]*\),.*$/\1/p')
    [ "$top" != "${user_item#*:}" ] || hits=$((hits + 1))
done
check "pre-split HR@1 $trained is the model's: $hits of 2 test items first" \
    test "$trained" = "$(awk -v hits="$hits" 'BEGIN { printf "%.6f", hits / 2 }')"
"$reco" eval "$tmp/split.reco" --train "$tmp/train.tsv" --test "$tmp/test.tsv" \
    --test-negatives-file "$tmp/test.negative" --k 1 --json > "$tmp/split_eval.json"
check "eval takes the pre-split files and agrees ($trained)" grep -q "\"rows\": 2, \"HR@1\": $trained" "$tmp/split_eval.json"
# full ranking: item 40 is user 1's test item; with --valid naming it too it is left out
printf '1\t40\n' > "$tmp/valid40.tsv"
printf '1\t40\n' > "$tmp/test40.tsv"
"$reco" train --train "$tmp/train.tsv" --test "$tmp/test40.tsv" --protocol ranking --model mf \
    --loss bpr --k 2 --epochs 1 --out "$tmp/rank.reco" > /dev/null
"$reco" eval "$tmp/rank.reco" --train "$tmp/train.tsv" --test "$tmp/test40.tsv" --json > "$tmp/rank.json"
"$reco" eval "$tmp/rank.reco" --train "$tmp/train.tsv" --test "$tmp/test40.tsv" \
    --valid "$tmp/valid40.tsv" --json > "$tmp/rank_valid.json"
check "eval ranks the test item among the unseen" grep -q '"HR@2": 1.000000' "$tmp/rank.json"
check "eval --valid leaves validation items out of the ranking" grep -q '"HR@2": 0.000000' "$tmp/rank_valid.json"
# validation: a step too small to improve it, so patience 1 stops after epoch 2
printf '1\t40\n3\t20\n' > "$tmp/valid.tsv"
"$reco" train --train "$tmp/train.tsv" --test "$tmp/test.tsv" --valid "$tmp/valid.tsv" \
    --patience 1 --model gmf --k 1 --test-negatives 1 --optimizer sgd --lr 1e-12 --epochs 20 \
    > "$tmp/valid.txt"
check "early stopping after two epochs" test "$(grep -c '^epoch' "$tmp/valid.txt")" -eq 2
check "each epoch shows its validation" grep -q 'valid [0-9.]* (best 1)' "$tmp/valid.txt"
check "the first epoch's model is kept" grep -q '^kept epoch 1 (validation ' "$tmp/valid.txt"
set +e
"$reco" train --train "$tmp/train.tsv" 2> /dev/null
check "--train without --test is a usage error" test $? -eq 2
"$reco" train --bogus 1 2> /dev/null
check "a usage error exits 2" test $? -eq 2
"$reco" train --lazy-embeddings --dense-embeddings --epochs 1 2> "$tmp/both.txt"
check "--lazy-embeddings with --dense-embeddings is a usage error" test $? -eq 2
check "which names both" grep -q -- '--dense-embeddings or --lazy-embeddings, not both' "$tmp/both.txt"
printf '1|Alpha|x\n2|Beta|x\n' > "$tmp/other.item"
"$reco" recommend --model "$tmp/fixture.reco" --data "$fixtures/ratings.dat" \
    --titles "$tmp/other.item" --user 2 > /dev/null 2> "$tmp/error.txt"
check "titles of another dataset are refused" test $? -eq 1
check "with the count" grep -q "names 0 of the 4 items of .*: titles of another dataset?" "$tmp/error.txt"
"$reco" info --model "$tmp/missing.reco" 2> "$tmp/error.txt"
check "a runtime error exits 1" test $? -eq 1
check "and says why" grep -q "cannot open" "$tmp/error.txt"

# recommend --all: every user's list, seen items left out, as the one-user query gives it
"$reco" recommend --model "$tmp/fixture.reco" --data "$fixtures/ratings.dat" --all --k 2 \
    --out "$tmp/all.tsv" 2> /dev/null
check "a header, then user, item, rank, score" sh -c "head -n 1 '$tmp/all.tsv' | grep -q '^user_id	item_id	rank	score$'"
check "user 2 gets items 10 and 30, in the query's order" sh -c "grep '^2	' '$tmp/all.tsv' | cut -f2 | tr '\n' ' ' | grep -q \"^$(grep -o '"item": [0-9]*' "$tmp/recommend.json" | head -n 2 | cut -d' ' -f2 | tr '\n' ' ')\$\""
"$reco" recommend --model "$tmp/fixture.reco" --data "$fixtures/ratings.dat" --all --k 2 --json \
    > "$tmp/all.json"
check "a JSON line per user" test "$(grep -c '^{"user": [0-9]*, "items": \[' "$tmp/all.json")" -eq 3

# export: factors, biases and ids as TSV, and as NumPy files
"$reco" train --data "$fixtures/ratings.dat" --model mf --factors 8 --biases --loss mse --split random \
    --test-fraction 0.3 --epochs 1 --out "$tmp/biased.reco" > /dev/null
"$reco" export "$tmp/biased.reco" --out "$tmp/biased" --json > "$tmp/export.json"
check "export says what it wrote" grep -q '"users": 3, "items": 4, "dim": 8, "biases": true' "$tmp/export.json"
"$reco" train --data "$fixtures/ratings.dat" --split random --test-fraction 0.3 --model gmf \
    --factors 8 --epochs 1 --out "$tmp/unbiased.reco" > /dev/null
"$reco" export "$tmp/unbiased.reco" --out "$tmp/unbiased" > "$tmp/export.txt"
check "export without biases ends at the file pattern" grep -qx "exported 3 users and 4 items, 8 factors, to $tmp/unbiased_\*.tsv" "$tmp/export.txt"
"$reco" train --data "$fixtures/pairs.tsv" --split loo --model mf --epochs 1 > /dev/null 2> "$tmp/loo.txt"
check "leave-one-out without timestamps says so" grep -qF "reco: note: $fixtures/pairs.tsv has no timestamps: leave-one-out holds out each user's last row in file order" "$tmp/loo.txt"
"$reco" train --data "$fixtures/ratings.dat" --split loo --test-negatives 1 --model mf --epochs 1 > /dev/null 2> "$tmp/loo.txt"
check "and with timestamps says nothing" test ! -s "$tmp/loo.txt"
check "a header and a line per user" test "$(wc -l < "$tmp/biased_users.tsv")" -eq 4
check "id, 8 factors and a bias a line" awk -F'\t' 'NR > 1 && NF != 10 { exit 1 }' "$tmp/biased_items.tsv"
check "the header names the columns" grep -q "^item_id	f0	.*	f7	bias$" "$tmp/biased_items.tsv"
"$reco" export "$tmp/biased.reco" --out "$tmp/biased" --format npy > /dev/null
check "a .npy of 4 x 8 float32 factors" sh -c "head -c 128 '$tmp/biased_item_factors.npy' | grep -a -q \"'descr': '<f4', 'fortran_order': False, 'shape': (4, 8)\""
check "and int64 ids" sh -c "head -c 128 '$tmp/biased_user_ids.npy' | grep -a -q \"'descr': '<i8'.*'shape': (3,)\""
check "and the global bias" test -s "$tmp/biased_global_bias.npy"

# protocol flags: initial spread, rating scale (the global bias starts at the
# scaled mean), sum reduction, step schedule, stratified split
"$reco" train --model mf --biases --loss mse --optimizer sgd --lr 1e-9 --epochs 1 \
    --init-std 0.5 --scale 0.2 --stratify --out "$tmp/protocol.reco" > /dev/null
"$reco" export "$tmp/protocol.reco" --out "$tmp/protocol" --json > "$tmp/protocol.json"
check "--init-std 0.5 spreads the factors" awk -F'\t' 'NR > 1 { for (i = 2; i <= 9; i++) { s += ($i < 0 ? -$i : $i); n++ } }
    END { exit !(s / n > 0.3 && s / n < 0.5) }' "$tmp/protocol_users.tsv"
check "--scale 0.2 scales the ratings" sh -c "grep -q '\"global_bias\": 0\.[5-8]' '$tmp/protocol.json'"
mean_loss=$("$reco" train --model mf --loss mse --epochs 1 --json | sed -n 's/.*"loss": \([0-9.]*\).*/\1/p' | head -n 1)
sum_loss=$("$reco" train --model mf --loss mse --epochs 1 --reduction sum --json | sed -n 's/.*"loss": \([0-9.]*\).*/\1/p' | head -n 1)
check "--reduction sum sums a batch's losses ($sum_loss against $mean_loss)" awk -v s="$sum_loss" -v m="$mean_loss" 'BEGIN { exit !(s > 20 * m) }'
check "a step schedule trains" sh -c "'$reco' train --model gmf --epochs 3 --lr-decay 0.5 --lr-step 2 --json | grep -c '\"epoch\"' | grep -q 3"

# a small dataset for the runs below: 200 users, 300 items, ratings 1 to 5
awk 'BEGIN { for (i = 0; i < 6000; i++)
    printf "%d\t%d\t%d\t%d\n", i % 200 + 1, (i * 37 + int(i / 200) * 11) % 300 + 1, 1 + i % 7 % 5, i }' \
    > "$tmp/small.tsv"
# unequal shares that are not whole rows: 6000 x 0.123 = 737.8 -> 738 test
# rows, 6000 x 0.0456 = 273.6 -> 274 validation rows (truncated: 737, 273)
"$reco" train --data "$tmp/small.tsv" --model mf --loss mse --split random --test-fraction 0.123 \
    --valid-fraction 0.0456 --epochs 1 --json > "$tmp/shares.json"
check "--test-fraction 0.123 --valid-fraction 0.0456: 4988, 738 and 274 rows" \
    grep -q '"rows": 4988, "test_rows": 738, "valid_rows": 274,' "$tmp/shares.json"
# determinism end to end: a seed and a thread count give the same model
# (compared through export and recommend: the files differ, their metadata
# holds each epoch's wall time); --backend cpu and --threads are obeyed
for threads in 1 2 3; do
    for run in a b; do
        name="$tmp/t$threads$run"
        "$reco" train --data "$tmp/small.tsv" --backend cpu --threads "$threads" --epochs 2 \
            --json --out "$name.reco" > "$name.json"
        "$reco" export "$name.reco" --out "$name" > /dev/null
        "$reco" recommend --model "$name.reco" --data "$tmp/small.tsv" --all --k 5 \
            --out "$name.top.tsv" 2> /dev/null
        sed -n 's/"seconds": [0-9.]*, //p' "$name.json" | grep '"epoch"' > "$name.metrics"
    done
    check "--backend cpu --threads $threads: the CPU backend on $threads threads" \
        grep -q -E "\"backend\": \"cpu: $threads threads?, " "$tmp/t${threads}a.json"
    check "$threads threads: the same factors twice" \
        cmp -s "$tmp/t${threads}a_users.tsv" "$tmp/t${threads}b_users.tsv"
    check "$threads threads: the same item factors twice" \
        cmp -s "$tmp/t${threads}a_items.tsv" "$tmp/t${threads}b_items.tsv"
    check "$threads threads: the same recommendations and scores twice" \
        cmp -s "$tmp/t${threads}a.top.tsv" "$tmp/t${threads}b.top.tsv"
    check "$threads threads: the same losses and metrics twice" \
        cmp -s "$tmp/t${threads}a.metrics" "$tmp/t${threads}b.metrics"
    check "$threads threads: two epochs of them" test "$(wc -l < "$tmp/t${threads}a.metrics")" -eq 2
done
check "the recommendations list 5 items for each of 200 users" \
    test "$(wc -l < "$tmp/t1a.top.tsv")" -eq 1001
"$reco" train --data "$tmp/small.tsv" --backend tpu --epochs 1 > /dev/null 2> "$tmp/backend.txt"
check "--backend tpu is a runtime error (exit 1)" test $? -eq 1
check "naming the backend" grep -q "unknown backend 'tpu'" "$tmp/backend.txt"
"$reco" train --data "$tmp/small.tsv" --backend cuda --epochs 1 --json > "$tmp/cuda.json" \
    2> "$tmp/backend.txt"
code=$?
if [ "$code" -eq 0 ]; then
    check "--backend cuda trains on CUDA" grep -q '"backend": "cuda' "$tmp/cuda.json"
else
    check "--backend cuda without a device: exit 1 ($code)" test "$code" -eq 1
    check "saying the backend is unavailable" grep -q "backend unavailable.*backend 'cuda'" "$tmp/backend.txt"
fi
# --momentum: SGD's buffer starts at the first gradient (torch's rule), so
# with one step an epoch (a batch of every rating) it changes nothing in the
# first epoch and changes the second; 0 is the default
for momentum in none 0 0.9; do
    for epochs in 1 2; do
        name="$tmp/momentum_${momentum}_$epochs"
        set -- --data "$tmp/small.tsv" --backend cpu --model mf --loss mse --optimizer sgd \
            --lr 0.05 --batch 100000 --epochs "$epochs" --out "$name.reco"
        [ "$momentum" = none ] || set -- "$@" --momentum "$momentum"
        "$reco" train "$@" > /dev/null
        "$reco" export "$name.reco" --out "$name" > /dev/null
    done
done
check "--momentum 0 is the default" \
    cmp -s "$tmp/momentum_none_2_users.tsv" "$tmp/momentum_0_2_users.tsv"
check "--momentum 0.9: the first step is plain SGD's" \
    cmp -s "$tmp/momentum_0_1_users.tsv" "$tmp/momentum_0.9_1_users.tsv"
check "--momentum 0.9: the second step is not" \
    sh -c "! cmp -s '$tmp/momentum_0_2_users.tsv' '$tmp/momentum_0.9_2_users.tsv'"
check "the model file records the momentum" \
    sh -c "'$reco' info '$tmp/momentum_0.9_2.reco' | grep -q '^train.momentum *0.9\$'"

# k-fold cross-validation: a line per fold, then mean and standard deviation
"$reco" cv --folds 3 --epochs 1 --model mf --biases --loss mse --json > "$tmp/cv.json"
check "three folds" test "$(grep -c '"fold"' "$tmp/cv.json")" -eq 3
check "the mean is the folds' mean" awk -F'"RMSE": ' '
    /"fold"/ { split($2, v, /[,}]/); sum += v[1]; n++ }
    /"mean"/ { split($2, v, /[,}]/); mean = v[1] }
    END { exit !(n == 3 && mean > 0.5 && mean < 1.5 && (sum / n - mean) ^ 2 < 1e-10) }' "$tmp/cv.json"
check "and a standard deviation" grep -q '"std": {"RMSE": [0-9.]*, "MAE": [0-9.]*}' "$tmp/cv.json"

# strict flags: every bad line is a usage error (2) that names the flag
usage_case() { # description, expected text on stderr, then the reco arguments
    what=$1
    expected=$2
    shift 2
    "$reco" "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"
    code=$?
    check "$what exits 2 (got $code)" test "$code" -eq 2
    check "$what says '$expected'" grep -qF -- "$expected" "$tmp/err.txt"
    check "$what trains nothing" test ! -s "$tmp/out.txt"
}
usage_case "a value-flag last" "--out needs a value (FILE)" train --epochs 1 --out
usage_case "a value-flag before another flag" "--epochs needs a value (N)" train --epochs --json
usage_case "a flag twice" "--epochs given twice" train --epochs 1 --epochs 2
usage_case "a typo" "unknown flag --epoch; did you mean --epochs?" train --epoch 1
usage_case "a prefix" "did you mean --test-negatives" eval --test-neg 5
usage_case "a flag of another command" "unknown flag --user" train --user 3
usage_case "a value out of range" "--epochs 0: expected a number from 1 to 100000" train --epochs 0
usage_case "a fraction for a count" "--batch 2.5: expected a whole number" train --batch 2.5
usage_case "a word for a number" "--lr fast: expected a number" train --lr fast
usage_case "a kind it does not have" "--model nope: expected one of mf, gmf, mlp, neumf" train --model nope
usage_case "a stray word" "expected a --flag, got 'extra'" train --epochs 1 extra
usage_case "an unknown command" "unknown command 'trian'; did you mean train?" trian
usage_case "help for an unknown command" "no command 'nope'" help nope
usage_case "help for a misspelt command" "no command 'recomend'; did you mean recommend?" help recomend
# every output is checked before any work: 200 epochs would take minutes
start=$(date +%s)
usage_case "--out in no folder" "cannot write --out /nonexistent/dir/x.reco: no folder /nonexistent/dir" train --out /nonexistent/dir/x.reco --epochs 200
check "fails at once, before training" test $(($(date +%s) - start)) -le 2
usage_case "--plot in no folder" "cannot write --plot /nonexistent/p.svg: no folder /nonexistent" train --plot /nonexistent/p.svg --epochs 200
usage_case "--out a folder" "cannot write --out $tmp: $tmp is a folder, not a file" train --out "$tmp" --epochs 200
usage_case "tune's --out" "cannot write --out /nonexistent/t.reco" tune --out /nonexistent/t.reco
usage_case "an export prefix in no folder" "cannot write --out /nonexistent/p: no folder /nonexistent" export "$tmp/fixture.reco" --out /nonexistent/p
usage_case "recommend --out in no folder" "cannot write --out /nonexistent/all.tsv" recommend "$tmp/fixture.reco" --all --out /nonexistent/all.tsv
usage_case "similar --plot in no folder" "cannot write --plot /nonexistent/x.svg" similar "$tmp/fixture.reco" --item 10 --plot /nonexistent/x.svg
usage_case "titles without data" "--titles needs --data FILE (the ratings the model was trained on: titles are matched to its item ids)" similar "$tmp/fixture.reco" --item 10 --titles "$fixtures/movies.dat"
usage_case "one fold" "--folds 1: expected a number from 2 to 100" cv --folds 1
usage_case "a train-only flag to cv" "unknown flag --out" cv --out m.reco
usage_case "an unknown reduction" "--reduction max: expected one of sum, mean" train --reduction max
usage_case "an unknown export format" "--format csv: expected tsv or npy" export m.reco --out x --format csv
usage_case "eval with --train and no --test" "give --data FILE, or --train FILE and --test FILE" eval m.reco --train x.tsv
usage_case "--valid without pre-split files" "--valid FILE goes with --train and --test" train --valid x.tsv
usage_case "a user and an item" "--user goes without --item and --plot" similar "$tmp/fixture.reco" --user 2 --item 10
usage_case "a projection without a plot" "--projection and --points go with --plot" similar "$tmp/fixture.reco" --item 10 --projection tsne
usage_case "an unknown projection" "--projection umap: expected pca or tsne" similar "$tmp/fixture.reco" --item 10 --plot x.svg --projection umap
usage_case "--ef without --approximate" "--ef goes with --approximate" recommend "$tmp/seen.reco" --user 2 --ef 10
usage_case "a genre without titles" "--genre and --not-genre need --titles FILE" recommend "$tmp/seen.reco" --user 2 --genre Comedy
usage_case "a user and --all" "--all and --user: one or the other" recommend "$tmp/fixture.reco" --data "$fixtures/ratings.dat" --all --user 2
"$reco" train --json --bogus 1 2> "$tmp/err.json"
check "--json makes usage errors JSON" grep -q '^{"error": "usage", "detail": "unknown flag --bogus.*", "command": "train"}$' "$tmp/err.json"
"$reco" info --model "$tmp/missing.reco" --json 2> "$tmp/err.json"
check "--json makes runtime errors JSON" grep -q '^{"error": ".*", "what": ".*missing.reco", "detail": ".*cannot open.*"}$' "$tmp/err.json"
# help and version go to standard output and exit 0
for words in "help train" "train --help" "train -h" "help"; do
    # shellcheck disable=SC2086
    "$reco" $words > "$tmp/help.txt"
    check "reco $words exits 0" test $? -eq 0
done
check "help lists the flags with defaults" sh -c "'$reco' help train | grep -q -- '--epochs N .*(default: 5 (iALS 10, MF with BCE 32, with MSE 16, EASE, kNN 1))'"
check "help lists every command" test "$("$reco" help | grep -c -E '^  (train|tune|cv|info|eval|recommend|similar|export) ')" -eq 8
check "--version names the library" sh -c "'$reco' --version | grep -q '^reco [0-9.]* (libreco [0-9.]*)$'"
"$reco" 2> /dev/null
check "no command is a usage error" test $? -eq 2
echo "1 passed, 0 failed"

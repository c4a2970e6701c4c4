#!/bin/sh
# reco's inputs end to end: streams parsed as they arrive (an endless or a
# stalled pipe fails at its first bad line), the id rules and --ids, errors
# that name their input once, empty test splits said in words, and model
# files that are the same bytes for the same data, settings, seed and threads.
# Usage: test_input_cli.sh path/to/reco path/to/fixtures
set -eu
reco=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

# an endless stream whose first line is no rating: refused at once, not
# read whole (it never ends); `timeout` would kill a reader that waits
status=0
yes | timeout 10 "$reco" train --data - > /dev/null 2> "$tmp/yes.err" || status=$?
check "yes | reco train fails (status $status), not timed out" test "$status" -eq 1
check "naming line 1" grep -q '^reco: parse error: -:1: cannot tell the format' "$tmp/yes.err"
# a writer that stalls after its first lines: they are judged before the
# rest comes. stalled NAME TEXT: reco's status reading FIFO NAME that gets
# TEXT, then nothing for 30 s; its errors in NAME.err
stalled() {
    mkfifo "$tmp/$1"
    { printf "$2"; sleep 30; } > "$tmp/$1" &
    writer=$!
    code=0
    timeout 10 "$reco" train --data "$tmp/$1" > /dev/null 2> "$tmp/$1.err" || code=$?
    kill "$writer" 2> /dev/null || true
    echo "$code"
}
status=$(stalled bad '1::10::5::100\n1::x y::5::100\n')
check "a stalled FIFO's bad line fails at once (status $status)" test "$status" -eq 1
check "naming line 2" grep -q "bad:2: field 2 (item id): the id 'x y' holds a space" "$tmp/bad.err"
# and a first line shorter than any format's magic bytes
status=$(stalled short 'y\n')
check "a stalled FIFO's short first line fails at once (status $status)" test "$status" -eq 1
check "naming line 1" grep -q "short:1: cannot tell the format" "$tmp/short.err"

# the id rules
printf '1\t10\t5\n2\t20\t4\n1.0\t30\t3\n' > "$tmp/mixed.tsv"
status=0
"$reco" train --data "$tmp/mixed.tsv" > /dev/null 2> "$tmp/mixed.err" || status=$?
check "a user column of 1 and 1.0 is refused" test "$status" -eq 1
check "naming the line of 1.0" grep -q "mixed.tsv:3: field 1 (user id): '1.0' is a number not written as an integer id, but the column's ids are integers (since '1' on line 1 of .*mixed.tsv); write it as 1, or read every id as text (--ids text)" "$tmp/mixed.err"
"$reco" train --data "$tmp/mixed.tsv" --ids text --split random --test-fraction 0.34 --model mf \
    --epochs 1 --loss mse > "$tmp/text.out"
check "--ids text reads 1 and 1.0 as two users" grep -q "mixed.tsv: 3 users, 3 items" "$tmp/text.out"
status=0
"$reco" train --data "$tmp/mixed.tsv" --ids number > /dev/null 2> "$tmp/usage.err" || status=$?
check "--ids takes int or text only (status $status)" test "$status" -eq 2
status=0
"$reco" train --data "$fixtures/ratings.dat" --ids text --model mf --test-negatives 1 \
    --epochs 1 > /dev/null || status=$?
check "integers read as text train too" test "$status" -eq 0

# errors name their input once
status=0
"$reco" train --data "$tmp/nope.data" > /dev/null 2> "$tmp/nope.err" || status=$?
check "a missing file fails" test "$status" -eq 1
check "named once" test "$(cat "$tmp/nope.err")" = "reco: I/O error: $tmp/nope.data: cannot open: No such file or directory"

# too little data for a test split: said in words, before training
printf '1\t10\t5\n2\t11\t4\n' > "$tmp/tiny.tsv"
status=0
"$reco" train --data "$tmp/tiny.tsv" --split random --epochs 1 > /dev/null 2> "$tmp/tiny.err" || status=$?
check "a tiny data set fails" test "$status" -eq 1
check "saying the test split is empty" grep -q "tiny.tsv: the test split is empty (2 rows of 2 users: too few to hold any out)" "$tmp/tiny.err"

# the same data, settings, seed and threads: the same model bytes; the wall
# times go to the output only
for run in 1 2; do
    "$reco" train --data "$fixtures/ratings.dat" --test-negatives 1 --seed 5 --threads 2 --epochs 3 --json \
        --out "$tmp/m$run.reco" > "$tmp/run$run.json"
done
check "two identical runs write identical files" cmp "$tmp/m1.reco" "$tmp/m2.reco"
check "the output has the epochs' seconds" grep -q '"seconds": [0-9.]*' "$tmp/run1.json"
"$reco" info --model "$tmp/m1.reco" > "$tmp/info.txt"
check "the model's history has three epochs" test "$(grep -c '{"epoch": ' "$tmp/info.txt")" -eq 3
check "and no wall time" sh -c "! grep -q seconds '$tmp/info.txt'"
echo "1 passed, 0 failed"

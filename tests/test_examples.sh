#!/bin/sh
# The example programs on the synthetic data, with their outputs checked, and
# embed.c built against the *installed* library through pkg-config (part
# "programs", the default); the installed Python package (part "python")
# and a fully static program (part "static"), each of which exits 77 (a
# skip) where it cannot run: no Python package installed, a sanitized build.
# Usage: test_examples.sh build-root source-root [programs|python|static]
set -eu
build=$1
source=$2
part=${3:-programs}
examples="$build/examples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
above() { awk -v value="$1" -v bound="$2" 'BEGIN { exit !(value > bound) }'; }
below() { awk -v value="$1" -v bound="$2" 'BEGIN { exit !(value < bound) }'; }
skip() { echo "SKIP: $1"; exit 77; }

# a sanitized build of libreco needs its runtime in the program too
sanitize=
if ldd "$build/lib/libreco.so.0" | grep -q libasan; then
    sanitize="-fsanitize=address,undefined"
fi

# Installs the build under $tmp/root and points pkg-config there.
install_build() {
    meson install -C "$build" --destdir "$tmp/root" --no-rebuild > "$tmp/install.log"
    pc=$(find "$tmp/root" -name libreco.pc | head -n 1)
    check "libreco.pc is installed" test -n "$pc"
    export PKG_CONFIG_PATH="$(dirname "$pc")"
    export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
    libdir=$(dirname "$(find "$tmp/root" -name 'libreco.so.0' | head -n 1)")
}

case $part in
python)
    [ -z "$sanitize" ] || skip "a sanitized libreco cannot be loaded into python3"
    install_build
    package=$(find "$tmp/root" -path '*dist-packages/libreco/__init__.py' | head -n 1)
    [ -n "$package" ] || skip "this build installs no Python package (no python3 with numpy, or -Dpython=disabled)"
    version=$(PYTHONPATH="$(dirname "$(dirname "$package")")" LIBRECO_PATH="$libdir" \
        /usr/bin/python3 -c 'import libreco; print(libreco.version())')
    check "the installed Python package loads the installed library (got '$version')" \
        test "$version" = "$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$source/meson.build")"
    echo "1 passed, 0 failed"
    exit 0
    ;;
static)
    # a sanitized build has no static runtime to link with
    [ -z "$sanitize" ] || skip "a sanitized build has no static runtime to link a program with"
    install_build
    cc -std=c11 -static "$source/tests/static_consumer.c" \
        $(pkg-config --cflags libreco) $(pkg-config --static --libs libreco) \
        -o "$tmp/static_consumer" 2> "$tmp/static.log" ||
        { cat "$tmp/static.log"; check "a static program links" false; }
    check "the static program has no dynamic loader" \
        sh -c "! readelf -l '$tmp/static_consumer' | grep -q INTERP"
    check "the static program trains and finds no CUDA module" \
        sh -c "'$tmp/static_consumer' | grep -q ': ok\$'"
    echo "1 passed, 0 failed"
    exit 0
    ;;
programs) ;;
*) echo "unknown part '$part'"; exit 1 ;;
esac

"$examples/ncf" > "$tmp/ncf.txt"
hr=$(sed -n 's/.*epoch 2 *HR@10 \([0-9.]*\).*/\1/p' "$tmp/ncf.txt")
check "ncf reaches HR@10 above 0.3 against 100 negatives (got '$hr')" above "${hr:-0}" 0.3
check "ncf runs 10 epochs" test "$(grep -c '^loss' "$tmp/ncf.txt")" -eq 10
# the README's main job: its curve rises and does not fall (last within 0.01 of the best)
last=$(sed -n 's/.*epoch 10 *HR@10 \([0-9.]*\).*/\1/p' "$tmp/ncf.txt")
best=$(sed -n 's/.*epoch [0-9]* *HR@10 \([0-9.]*\).*/\1/p' "$tmp/ncf.txt" | sort -rn | head -n 1)
check "ncf's last epoch ($last) is within 0.01 of its best ($best)" above "${last:-0}" "$(awk -v best="${best:-1}" 'BEGIN { print best - 0.01 }')"
check "and above its first" above "${last:-0}" "$(sed -n 's/.*epoch 1 *HR@10 \([0-9.]*\).*/\1/p' "$tmp/ncf.txt")"
"$examples/ncf" --seed000 "" 1 > "$tmp/ncf000.txt"
check "--seed000 keeps the tutorial's settings on the demo set" grep -q "drawn once" "$tmp/ncf000.txt"

"$examples/ncf" --pretrain 2 --sgd 0.01 "$tmp/absent.dat" > "$tmp/pretrain.txt" 2>&1 && exit 1
"$examples/ncf" --help > "$tmp/help.txt"
check "ncf --help prints its usage, not a file error" grep -q '^usage: ncf \[--seed000\] \[--pretrain EPOCHS\]' "$tmp/help.txt"
code=0
"$examples/ncf" --epochs 3 > /dev/null 2> "$tmp/flag.txt" || code=$?
check "ncf with an unknown flag is a usage error (got $code)" test "$code" -eq 2
check "naming the flag" grep -q '^ncf: unknown flag --epochs' "$tmp/flag.txt"
"$examples/ncf" --pretrain 3 --sgd 0.01 > "$tmp/pretrain.txt"
hr=$(sed -n 's/^pretrained *HR@10 \([0-9.]*\).*/\1/p' "$tmp/pretrain.txt")
check "NeuMF from pretrained GMF and MLP starts above HR@10 0.25 (got '$hr')" above "${hr:-0}" 0.25

"$examples/mf_ratings" "" 100 > "$tmp/mf.txt"
check "mf_ratings (seed 002) prints epochs 1, 50 and 100" test "$(grep -c '^epoch' "$tmp/mf.txt")" -eq 3
first=$(sed -n 's/^epoch   1 .*validation RMSE \([0-9.]*\) stars/\1/p' "$tmp/mf.txt")
rmse=$(sed -n 's/^test RMSE \([0-9.]*\) stars/\1/p' "$tmp/mf.txt")
check "mf_ratings: N(0, 1) tables start far off (validation RMSE $first stars)" above "${first:-0}" 10
check "mf_ratings: and SGD brings it down (test RMSE $rmse)" below "${rmse:-99}" "$first"

"$examples/mf_relu" > "$tmp/mf_relu.txt"
dead=$(sed -n 's/.*; \([0-9.]*\)% of test predictions are exactly 0.*/\1/p' "$tmp/mf_relu.txt")
check "mf_relu (seed 001): the ReLU kills about half the predictions ($dead%)" \
    awk -v v="${dead:-0}" 'BEGIN { exit !(v > 35 && v < 65) }'
check "mf_relu: the demo pair" grep -q '^  linear [-0-9.]* -> ReLU [0-9.]*$' "$tmp/mf_relu.txt"
check "mf_relu: W and H" grep -q '^W: 943 x 10, H: 1682 x 10' "$tmp/mf_relu.txt"

"$examples/ncf_ratings" "" 2 > "$tmp/ncf_ratings.txt"
mae=$(sed -n 's/^epoch  2 .*test MAE \([0-9.]*\)/\1/p' "$tmp/ncf_ratings.txt")
check "ncf_ratings (seed 003): test MAE below 1 ($mae)" below "${mae:-9}" 1
check "ncf_ratings: five similar items" test "$(grep -c '^  [0-9]* *[-0-9.]*$' "$tmp/ncf_ratings.txt")" -eq 5

"$examples/bpr" "" "" 30 > "$tmp/bpr.txt"
recall=$(sed -n 's/^test: Recall@20 \([0-9.]*\).*/\1/p' "$tmp/bpr.txt")
check "bpr (seed 004) Recall@20 above 0.05 (got '$recall')" above "${recall:-0}" 0.05
check "bpr validates at epoch 0" grep -q '^validation, epoch 0: Recall@20' "$tmp/bpr.txt"
check "bpr lists 10 suggestions" test "$(sed -n '/^suggestions for user/,$p' "$tmp/bpr.txt" | wc -l)" -eq 11

"$examples/similar_items" > "$tmp/similar.txt"
check "similar_items lists 10 items" test "$(grep -c '^  [-0-9]' "$tmp/similar.txt")" -eq 10

# embed against the installed library
install_build
cc -std=c11 -Wall -Werror $sanitize "$source/examples/embed.c" \
    $(pkg-config --cflags --libs libreco) -o "$tmp/embed"
"$build/examples/reco/reco" train --epochs 1 --out "$tmp/model.reco" > /dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/embed" "$tmp/model.reco" 1 1 2 > "$tmp/embed.txt"
check "embed prints two scores" test "$(grep -c '^1 [12] [-0-9.]*$' "$tmp/embed.txt")" -eq 2
check "embed links the installed library" sh -c "LD_LIBRARY_PATH='$libdir' ldd '$tmp/embed' | grep -q '$libdir/libreco.so.0'"
echo "1 passed, 0 failed"

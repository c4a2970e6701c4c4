#!/bin/sh
# reco(1) and the bash and zsh completions are written from the flag tables:
# every command and every flag that `reco help` lists appears in each, the
# pages render without a groff warning, and the bash completion completes.
# Usage: test_manual.sh path/to/reco reco.1 bash-completion zsh-completion libreco.3
set -eu
reco=$1
page=$2
bash_script=$3
zsh_script=$4
library_page=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

commands=$("$reco" help | sed -n 's/^  \([a-z]*\)  .*/\1/p')
check "reco help lists commands" test -n "$commands"
flags=0
for command in $commands; do
    check "reco.1 has a section for $command" grep -qxF ".SS \"reco $command\"" "$page"
    check "the zsh completion describes $command" grep -qF "    '$command:" "$zsh_script"
    # the command's part of each file, once
    sed -n "/^\.SS \"reco $command\"\$/,/^\.SS /p" "$page" > "$tmp/section"
    grep "^    $command) flags=" "$bash_script" > "$tmp/bash_line"
    sed -n "/^  $command)\$/,/;;\$/p" "$zsh_script" > "$tmp/block"
    for flag in $("$reco" help "$command" | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p'); do
        flags=$((flags + 1))
        escaped=$(printf '%s' "$flag" | sed 's/-/\\-/g')
        check "reco.1 names $command --$flag" grep -qF "\\fB\\-\\-$escaped\\fR" "$tmp/section"
        check "bash completes $command --$flag" grep -qE -- "--$flag[ \"]" "$tmp/bash_line"
        check "zsh completes $command --$flag" grep -qF -- "'--$flag[" "$tmp/block"
    done
done
check "as many flag entries in reco.1 as reco help lists ($flags)" test "$(grep -c '^\\fB\\-\\-' "$page")" -eq "$flags"

if command -v groff > /dev/null 2>&1; then
    for manual in "$page" "$library_page"; do
        groff -man -Tutf8 -ww -z "$manual" 2> "$tmp/warnings"
        check "$manual renders without a warning: $(head -n 3 "$tmp/warnings")" test ! -s "$tmp/warnings"
    done
    groff -man -Tutf8 "$page" 2> /dev/null | sed 's/.\x08//g' > "$tmp/page.txt"
    check "the rendered page shows train's --epochs" grep -q -- '--epochs N' "$tmp/page.txt"
fi

# the bash completion, run as bash would: COMP_WORDS and COMP_CWORD in,
# COMPREPLY out
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _reco; printf "%s\n" "${COMPREPLY[@]}"' \
        sh "$bash_script" "$@"
}
if command -v bash > /dev/null 2>&1; then
    check "bash: a command from its start" test "$(complete_words reco trai)" = train
    check "bash: a flag from its start" test "$(complete_words reco train --epo)" = --epochs
    check "bash: a choice of values" test "$(complete_words reco export m.reco --format '' | tr '\n' ' ')" = "tsv npy "
    check "bash: a model kind" sh -c "printf '%s\n' \"\$0\" | grep -qx neumf" "$(complete_words reco train --model '')"
    check "bash: no flag offered for a number" test -z "$(complete_words reco train --epochs '')"
    touch "$tmp/ratings.dat"
    check "bash: a file for a FILE" test "$(complete_words reco train --data "$tmp/rat")" = "$tmp/ratings.dat"
    check "bash: help's commands" test "$(complete_words reco help simi)" = similar
fi
if command -v zsh > /dev/null 2>&1; then
    check "the zsh completion parses" zsh -n "$zsh_script"
fi
echo "1 passed, 0 failed"

#!/bin/sh
# The exported ABI: every RECO_API function in the headers is in the version
# script and exported by libreco.so, and nothing else named reco_ is; and
# docs/api.md names every one of them.
# The static archive defines no global symbol outside the reco_ prefix.
# Usage: test_abi.sh source-root path/to/libreco.so path/to/libreco.a
set -eu
source=$1
library=$2
archive=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -ho 'RECO_API [^(]*(' "$source"/include/reco/*.h | sed 's/($//' | awk '{print $NF}' |
    tr -d '*' | grep '^reco_' | sort > "$tmp/headers"
sed -n 's/^ *\(reco_[a-z0-9_]*\);$/\1/p' "$source/lib/libreco.map" | sort > "$tmp/map"
nm -D --defined-only "$library" | awk '{print $3}' | sed 's/@.*//' | grep '^reco_' | sort > "$tmp/exported"
if ! diff -u "$tmp/headers" "$tmp/map"; then
    echo "FAILED: lib/libreco.map differs from the RECO_API functions of the headers"
    exit 1
fi
if ! diff -u "$tmp/headers" "$tmp/exported"; then
    echo "FAILED: libreco.so exports differ from the RECO_API functions of the headers"
    exit 1
fi
missing=$(while read -r name; do
    grep -q "\`$name\`" "$source/docs/api.md" || echo "$name"
done < "$tmp/headers")
if [ -n "$missing" ]; then
    echo "FAILED: docs/api.md does not name: $missing"
    exit 1
fi
# (AddressSanitizer adds its own __odr_asan.* markers in a sanitized build)
foreign=$(nm -g --defined-only "$archive" | awk 'NF == 3 {print $3}' |
    grep -v -e '^reco_' -e '^__odr_asan\.' || true)
if [ -n "$foreign" ]; then
    echo "FAILED: libreco.a defines globals outside the reco_ prefix:" $foreign
    exit 1
fi
echo "1 passed, 0 failed"

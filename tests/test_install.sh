#!/bin/sh
# The installed tree, as a user gets it: `meson install` into a scratch
# folder, moved elsewhere (any prefix), then reco runs with an empty
# environment and links no MPI, its manual pages render, its completions
# and guides are there, and a CMake project (the CMake package, then
# pkg-config's imported target) builds and runs against it.
# Usage: test_install.sh path/to/meson BUILD_ROOT SOURCE_ROOT
set -eu
meson=$1
build=$2
source=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"

"$meson" install -C "$build" --destdir "$tmp/dest" --no-rebuild --quiet > "$tmp/install.txt" 2>&1 ||
    { cat "$tmp/install.txt"; exit 1; }
installed=$(find "$tmp/dest" -path '*/bin/reco' -type f)
check "reco is installed" test -n "$installed"
mv "$(dirname "$(dirname "$installed")")" "$tmp/moved"
P=$tmp/moved
libdir=$(dirname "$(find "$P" -name 'libreco.so.0' | head -n 1)")
check "libreco is installed" test -d "$libdir"

env -i "$P/bin/reco" --version > "$tmp/version.txt"
check "the moved reco runs with an empty environment" grep -qx "reco [0-9.]* (libreco [0-9.]*)" "$tmp/version.txt"
check "reco needs no MPI library" sh -c "! (readelf -d '$P/bin/reco' | grep NEEDED | grep -qi mpi)"
if command -v ldd > /dev/null 2>&1; then
    env -i ldd "$P/bin/reco" > "$tmp/ldd.txt"
    check "ldd names no libmpi" sh -c "! grep -qi mpi '$tmp/ldd.txt'"
    check "ldd finds libreco in the moved tree" grep -qF "libreco.so.0 => $P/" "$tmp/ldd.txt"
fi
if [ -x "$P/bin/reco-mpi" ]; then
    env -i "$P/bin/reco-mpi" --version > "$tmp/version.txt"
    check "the moved reco-mpi runs too" grep -qx "reco [0-9.]* (libreco [0-9.]*)" "$tmp/version.txt"
fi

check "reco.1 is installed" test -f "$P/share/man/man1/reco.1"
check "libreco.3 is installed" test -f "$P/share/man/man3/libreco.3"
if command -v man > /dev/null 2>&1; then
    MANWIDTH=100 man -P cat -l "$P/share/man/man1/reco.1" > "$tmp/reco.txt" 2> /dev/null
    check "man -l renders reco.1" grep -q 'reco train' "$tmp/reco.txt"
    MANWIDTH=100 man -P cat -l "$P/share/man/man3/libreco.3" > "$tmp/libreco.txt" 2> /dev/null
    check "man -l renders libreco.3" grep -q 'reco_model_load_buffer' "$tmp/libreco.txt"
fi
check "the bash completion is installed" grep -q 'complete -o filenames -F _reco reco' "$P/share/bash-completion/completions/reco"
check "the zsh completion is installed" grep -q '^#compdef reco' "$P/share/zsh/site-functions/_reco"
check "the guides are installed" test -f "$P/share/doc/libreco/cli.md" -a -f "$P/share/doc/libreco/embedding.md"
check "the CMake package is installed" test -f "$libdir/cmake/libreco/libreco-config.cmake" -a -f "$libdir/cmake/libreco/libreco-config-version.cmake"

if ! command -v cmake > /dev/null 2>&1; then
    echo "no cmake: the CMake consumer is not built"
    echo "1 passed, 0 failed"
    exit 0
fi
# a sanitized libreco needs its runtime in the program too
flags=
if readelf -d "$libdir/libreco.so.0" | grep NEEDED | grep -q libasan; then
    flags="-fsanitize=address,undefined"
fi
contains() { printf '%s' "$1" | grep -q "$2"; }
consumer() { # name, then cmake arguments
    name=$1
    shift
    cmake -S "$source/tests/cmake_consumer" -B "$tmp/$name" -DCMAKE_C_FLAGS="$flags" \
        -DCMAKE_PREFIX_PATH="$P" "$@" > "$tmp/$name.txt" 2>&1 &&
        cmake --build "$tmp/$name" >> "$tmp/$name.txt" 2>&1 ||
        { cat "$tmp/$name.txt"; return 1; }
    ASAN_OPTIONS=detect_leaks=0 "$tmp/$name/app"
}
out=$(consumer package)
check "the CMake package's program runs: $out" contains "$out" 'the same bytes again'
if [ -f "$libdir/libreco-mpi.so.0" ]; then
    check "libreco::mpi is an imported target" grep -q 'libreco::mpi: an imported target' "$tmp/package.txt"
fi
if consumer wrong -DLIBRECO_WANTED=99 > "$tmp/wrong.out" 2>&1; then
    check "find_package(libreco 99) fails" false
fi
check "naming the version found" grep -q 'version: 0\.1\.0' "$tmp/wrong.out"
if command -v pkg-config > /dev/null 2>&1; then
    # the .pc files name the configured prefix: point them at the moved tree
    pc=$(dirname "$(find "$P" -name libreco.pc)")
    out=$(PKG_CONFIG_PATH=$pc consumer pkgconfig -DVIA_PKG_CONFIG=ON "-DPKG_CONFIG_ARGN=--define-variable=prefix=$P")
    check "pkg_check_modules(... IMPORTED_TARGET libreco)'s program runs: $out" contains "$out" 'the same bytes again'
fi
echo "1 passed, 0 failed"

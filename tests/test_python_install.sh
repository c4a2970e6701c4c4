#!/bin/sh
# The two ways docs/python.md installs the Python package, each from a fresh
# copy of the sources, imported from another folder:
#   meson install: into the folder the meson summary names for the prefix;
#   pip install --no-build-isolation --no-index . in a venv (meson-python).
# Both build the library again (-Dcuda=disabled, to keep the time down; the
# module is built the same way otherwise). Skips (77) without python3-mesonpy
# or python3-venv. Usage: test_python_install.sh SOURCE_DIR
set -eu
source=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
skip() { echo "SKIP: $1"; exit 77; }
/usr/bin/python3 -c 'import mesonpy, numpy' 2> /dev/null ||
    skip "no meson-python or numpy for /usr/bin/python3 (Debian: python3-mesonpy python3-numpy)"
/usr/bin/python3 -m venv --help > /dev/null 2>&1 || skip "no python3 venv (Debian: python3-venv)"
passed=0
check() { # description, command...
    what=$1
    shift
    if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; echo "$passed passed, 1 failed"; exit 1; fi
}
# a copy without build folders: what a user downloads
mkdir "$tmp/src"
tar -C "$source" --exclude='./build*' --exclude='./.mesonpy-*' --exclude=./.git --exclude=./.gl \
    -cf - . | tar -C "$tmp/src" -xf -
mkdir "$tmp/elsewhere"

# meson install, a prefix python3 does not search: the summary names the folder
meson setup "$tmp/build" "$tmp/src" --prefix "$tmp/prefix" -Dcuda=disabled -Dtests=false \
    -Dexamples=false -Dmpi=disabled -Dpython=enabled > "$tmp/setup.log"
folder=$(sed -n 's/^ *Python package folder *: \([^ ]*\).*/\1/p' "$tmp/setup.log")
check "the summary names the Python package folder under the prefix ('$folder')" \
    sh -c "case '$folder' in '$tmp/prefix'/*) true ;; *) false ;; esac"
check "the summary names the interpreter" grep -q "Python *: /usr/bin/python3" "$tmp/setup.log"
meson install -C "$tmp/build" > "$tmp/install.log"
version=$(cd "$tmp/elsewhere" && PYTHONPATH="$folder" /usr/bin/python3 -c \
    'import pylibreco; print(pylibreco.version())')
check "meson install: the package imports and loads its library (got '$version')" \
    test "$version" = "$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$source/meson.build")"

# pip in a venv, offline
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
(cd "$tmp/src" && "$tmp/venv/bin/pip" install --no-build-isolation --no-index \
    --config-settings=setup-args=-Dcuda=disabled . > "$tmp/pip.log" 2>&1) || { tail -30 "$tmp/pip.log"; check "pip install" false; }
where=$(cd "$tmp/elsewhere" && "$tmp/venv/bin/python3" -c \
    'import pylibreco, pylibreco._native as n; print(pylibreco.__file__, n.lib._name)')
check "pip install: the venv imports the package and its bundled library ($where)" \
    sh -c "case '$where' in '$tmp/venv/'*'.pylibreco.mesonpy.libs/libreco.so'*) true ;; *) false ;; esac"
trained=$(cd "$tmp/elsewhere" && "$tmp/venv/bin/python3" -c '
from pylibreco.implicit.als import AlternatingLeastSquares
from scipy.sparse import csr_matrix
model = AlternatingLeastSquares(factors=4, iterations=2, random_state=1)
model.fit(csr_matrix([[1.0, 0, 1], [0, 1, 1]]), show_progress=False)
print(model.user_factors.shape)' 2>&1 || true)
check "pip install: implicit's API trains from the venv (got '$trained')" test "$trained" = "(2, 4)"
echo "$passed passed, 0 failed"

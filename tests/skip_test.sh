#!/bin/sh
# Stands in for a test that cannot run on this machine: prints why and
# exits 77, which meson reports as SKIP. With --fail-in-ci, when CI is
# "true" (CI services set it) it fails instead: there every suite must run.
# Usage: skip_test.sh [--fail-in-ci] REASON
fail_in_ci=0
if [ "${1:-}" = "--fail-in-ci" ]; then
    fail_in_ci=1
    shift
fi
if [ "$fail_in_ci" = 1 ] && [ "${CI:-}" = "true" ]; then
    echo "FAILED: $1 (CI=true: this suite must run here)"
    exit 1
fi
echo "SKIP: $1"
exit 77

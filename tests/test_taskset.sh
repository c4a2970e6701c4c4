#!/bin/sh
# Under `taskset -c 0` the default thread count is 1; RECO_NUM_THREADS
# overrides it, and a value that is not a count is ignored.
# Usage: test_taskset.sh path/to/print_threads
set -eu
program=$1
command -v taskset > /dev/null || { echo "taskset is absent"; exit 77; }
cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')
check() {
    expected=$1
    shift
    got=$("$@")
    if [ "$got" != "$expected" ]; then
        echo "FAILED: $* gave $got threads, expected $expected"
        exit 1
    fi
}
check 1 env -u RECO_NUM_THREADS taskset -c "$cpu" "$program"
check 3 env RECO_NUM_THREADS=3 taskset -c "$cpu" "$program"
check 1 env RECO_NUM_THREADS=many taskset -c "$cpu" "$program"
echo "1 passed, 0 failed"

# Sourced by compare_torch.sh and compare_python.sh: exits 77 (skipped)
# unless $data_dir holds ml-1m-implicit and $python has torch and numpy;
# sets $log, a temporary file removed on exit. $program names the caller.
if [ -z "$data_dir" ] || [ ! -f "$data_dir/ml-1m-implicit/ml-1m.implicit.test.negative" ]; then
    echo "$program: no ml-1m-implicit under '$data_dir' (set RECO_DATA_DIR)" >&2
    exit 77
fi
if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
    echo "$program: $python has no torch (Debian: apt-get install python3-torch)" >&2
    exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT

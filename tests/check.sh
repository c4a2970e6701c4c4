# Sourced by the shell tests: check DESCRIPTION COMMAND... runs the command
# and, when it fails, prints "FAILED: DESCRIPTION" and exits 1.
check() {
    what=$1
    shift
    if ! "$@"; then
        echo "FAILED: $what"
        exit 1
    fi
}

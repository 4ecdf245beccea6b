# Sourced by every workload script inside the container (Debian's dash).
set -eu
export HOME=/tmp
say() { echo "$WORKLOAD: $*"; }
fail() {
    echo "$WORKLOAD: FAILED: $*" >&2
    exit 1
}
# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
    n=$(($1 * 10))
    shift
    until "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || fail "timed out waiting for: $*"
        sleep 0.1
    done
}
# as USER COMMAND...: runs COMMAND as USER, as a container image's entry point would.
as() {
    u=$1
    shift
    setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

#!/usr/bin/env bash
# A logging OCI runtime: records how a client (podman through conmon, containerd's
# io.containerd.runc.v2 shim, ...) calls its runtime, then runs the real runtime.
#
# Point the client at this script (`podman --runtime`, `ctr run --runc-binary`, a
# containerd `BinaryName`). Settings come from the environment, or, because clients do not
# pass the caller's environment through, from a file named like this script plus `.env`
# (a copy of the script in a temporary directory with its own `.env` is the usual set-up):
#
#   OCI_LOG_DIR      where to write (default /tmp/oci-log-runtime); `calls.log` gets one
#                    block per call; copies of config.json, process.json and the update
#                    resources go next to it as NNNN-config.json, NNNN-process.json, ...
#   OCI_LOG_RUNTIME  the real runtime (default runc)
#
# For commands whose output the client parses (state, list, ps, features, --version,
# spec, and every short command), the real runtime runs as a child: its stdout, stderr
# and exit status are logged, then passed on unchanged. `create`, `run` and `exec` hand
# their stdio to the container, so the real runtime replaces this script (exec) and only
# the call is logged.
set -u

# What the client handed over, taken before this script opens anything of its own: the
# listing runs in a child whose output goes to a file, so no pipe of this shell shows up.
tty=""
for f in 0 1 2; do [ -t $f ] && tty+=" $f"; done
snap="$(mktemp)"
(
    for f in 0 1 2; do
        case " $tty " in *" $f "*) printf 'fd%s: tty ' $f ;; *) printf 'fd%s: ' $f ;; esac
        readlink /proc/$$/fd/$f || echo closed
    done
    printf 'fds:'
    find /proc/$$/fd -mindepth 1 -maxdepth 1 ! -name 255 -printf ' %f=%l'
    echo
) >"$snap" 2>/dev/null

self="${BASH_SOURCE[0]}"
if [ -f "$self.env" ]; then
    # shellcheck disable=SC1090
    . "$self.env"
fi
dir="${OCI_LOG_DIR:-/tmp/oci-log-runtime}"
runtime="${OCI_LOG_RUNTIME:-runc}"
mkdir -p "$dir"
log="$dir/calls.log"

# A sequence number per call, taken under a lock: shims call the runtime concurrently.
# The lock takes a free descriptor: the client's own (--preserve-fds) start at 3.
exec {lock}>>"$dir/.lock"
flock "$lock"
n=$(($(cat "$dir/.seq" 2>/dev/null || echo 0) + 1))
echo "$n" >"$dir/.seq"
flock -u "$lock"
exec {lock}>&-
seq=$(printf '%04d' "$n")

# The subcommand: the first argument that is not a global option (or a global option's value).
cmd=""
args=("$@")
i=0
while [ $i -lt ${#args[@]} ]; do
    a="${args[$i]}"
    case "$a" in
        --root | --log | --log-format | --criu | --rootless) i=$((i + 2)); continue ;;
        -*) i=$((i + 1)); continue ;;
        *) cmd="$a"; break ;;
    esac
done

# The option value that follows NAME (or is joined to it with `=`) among the arguments.
opt() {
    local name="$1" prev="" x
    for x in "${args[@]}"; do
        if [ "$prev" = "$name" ]; then printf '%s' "$x"; return 0; fi
        case "$x" in "$name="*) printf '%s' "${x#"$name="}"; return 0 ;; esac
        prev="$x"
    done
    return 1
}


block() {
    echo "### $seq $(date -u +%H:%M:%S.%N) pid=$$ ppid=$PPID parent=$(tr '\0' ' ' </proc/$PPID/cmdline 2>/dev/null)"
    printf 'argv:'
    printf ' %q' "$0" "$@"
    echo
    echo "cmd: ${cmd:-<none>}"
    echo "cwd: $(pwd)"
    cat "$snap" # fd 255 is bash's own script
    echo "umask: $(umask)  uid: $(id -u)  cgroup: $(tr '\n' ' ' </proc/self/cgroup | cut -c1-300)"
    echo "limits: $(grep -E "processes|open files" /proc/$$/limits | tr -s " " | tr "\n" ";")"
    echo "env:"
    env | LC_ALL=C sort | sed 's/^/  /'
}

append() {
    flock "$dir/.lock" cat >>"$log"
}

# Keep the files the call refers to.
save() { [ -n "$2" ] && [ -f "$2" ] && cp "$2" "$dir/$seq-$1" && echo "saved: $2 -> $seq-$1"; }
notes=""
case "$cmd" in
    create | run)
        bundle="$(opt --bundle || opt -b || pwd)"
        notes+="$(save config.json "$bundle/config.json")"$'\n'
        ;;
    exec)
        notes+="$(save process.json "$(opt --process || opt -p || true)")"$'\n'
        ;;
    update)
        r="$(opt --resources || opt -r || true)"
        if [ "$r" = "-" ]; then
            cat >"$dir/$seq-resources.json"
            exec 0<"$dir/$seq-resources.json"
            notes+="saved: stdin -> $seq-resources.json"$'\n'
        else
            notes+="$(save resources.json "$r")"$'\n'
        fi
        ;;
esac

case "$cmd" in
    create | run | exec)
        { block "$@"; printf '%s' "$notes"; echo "(exec $runtime)"; } | append
        rm -f "$snap"
        exec "$runtime" "$@"
        ;;
esac

out="$(mktemp)"
errf="$(mktemp)"
"$runtime" "$@" >"$out" 2>"$errf"
rc=$?
{
    block "$@"
    printf '%s' "$notes"
    echo "exit: $rc"
    if [ -s "$out" ]; then echo "stdout:"; sed 's/^/  | /' "$out"; echo; fi
    if [ -s "$errf" ]; then echo "stderr:"; sed 's/^/  | /' "$errf"; echo; fi
} | append
cat "$out"
cat "$errf" >&2
rm -f "$out" "$errf" "$snap"
exit "$rc"

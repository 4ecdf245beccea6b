#!/usr/bin/env bash
# Records how podman (through conmon) and containerd (through its io.containerd.runc.v2
# shim) drive an OCI runtime, as docs/oci-clients.md describes: every flow of that
# document runs through scripts/oci-log-runtime.sh in front of RUNTIME.
#
#   sudo scripts/oci-clients-record.sh [RUNTIME [OUTDIR]]
#
# RUNTIME defaults to runc; OUTDIR (default: a new temporary directory) receives
# calls.log and the config.json, process.json and resources files the clients wrote.
# Everything else lives in a temporary directory: podman's storage, containers.conf and
# image; a containerd started with its own config, root, state and socket. On exit it
# stops that containerd, removes the temporary directory and the cgroup directories the
# runs left behind. podman runs with --network none unless PODMAN_NETWORK=default (the
# default network adds netavark firewall chains to the host).
#
# Needs root and the Debian packages podman, conmon, containerd, runc, busybox-static.
set -euo pipefail

runtime="$(command -v "${1:-runc}")"
out="$(realpath -m "${2:-$(mktemp -d /tmp/oci-record.XXXXXX)}")"
here="$(cd "$(dirname "$0")" && pwd)"
network="${PODMAN_NETWORK:-none}"
ns=ocirecord
[ "$(id -u)" -eq 0 ] || { echo "oci-clients-record: needs root" >&2; exit 1; }
for tool in podman conmon containerd ctr busybox script; do
    command -v "$tool" >/dev/null || { echo "oci-clients-record: \`$tool\` is missing (apt-get install podman conmon containerd busybox-static util-linux)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/oci-clients.XXXXXX)"
ctrd_pid=""
cleanup() {
    set +e
    [ -n "$ctrd_pid" ] && kill "$ctrd_pid" 2>/dev/null && wait "$ctrd_pid" 2>/dev/null
    [ -x "$work/bin/rec-podman" ] && "$work/bin/rec-podman" rm -fa -t 0 >/dev/null 2>&1
    [ -x "$work/bin/rec-podman" ] && "$work/bin/rec-podman" rmi -af >/dev/null 2>&1
    grep -F " $work/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$work"
    # The parents runc leaves behind; rmdir removes them only when empty.
    for d in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/*/libpod_parent; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rmdir "/run/containerd/runc/$ns" 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$out" "$work/bin"
cp "$here/oci-log-runtime.sh" "$work/bin/runtime"
printf 'OCI_LOG_DIR=%q\nOCI_LOG_RUNTIME=%q\n' "$out" "$runtime" >"$work/bin/runtime.env"
wrapper="$work/bin/runtime"
mark() { printf '\n======== %s\n' "$*" | flock "$out/.lock" tee -a "$out/calls.log" >/dev/null; }
run() { timeout 120 "$@" || echo "(exit $?)"; }

# An image made offline: busybox-static and its links.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
chroot "$work/rootfs" /bin/busybox --install -s /bin
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' >"$work/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
mkdir -p "$work/vol" && echo data >"$work/vol/f"
cat >"$work/deny-mkdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF

# podman: its own storage; ulimits at or below this host's hard limits (root lacks
# CAP_SYS_RESOURCE); --log for the wrapper, named `runtime`.
conf() {
    cat <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$(cat /proc/sys/kernel/pid_max):$(cat /proc/sys/kernel/pid_max)"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
$1
EOF
}
conf 'runtime_supports_json = ["runtime"]' >"$work/containers.conf"
conf '' >"$work/plain.conf"
conf "$(printf 'runtime_supports_json = ["runtime"]\nno_pivot_root = true')" >"$work/nopivot.conf"
# Commands in files rather than functions, so that `timeout` and `script` run them too.
cat >"$work/bin/rec-podman" <<EOF
#!/bin/sh
CONTAINERS_CONF="\${PODCONF:-$work/containers.conf}" exec podman --root "$work/pstore" \\
    --runroot "$work/prun" --tmpdir "$work/ptmp" --runtime "$wrapper" "\$@"
EOF
cat >"$work/bin/rec-podman-run" <<EOF
#!/bin/sh
exec "$work/bin/rec-podman" run --network "$network" "\$@"
EOF
chmod +x "$work/bin/rec-podman" "$work/bin/rec-podman-run"
export PATH="$work/bin:$PATH"
rec-podman import "$work/rootfs.tar" localhost/bb:latest >/dev/null

mark "podman run --rm echo hi"; run rec-podman-run --rm localhost/bb echo hi
mark "podman run --rm sh -c 'exit 3'"; run rec-podman-run --rm localhost/bb sh -c 'exit 3'
mark "podman run --rm /nonexistent"; run rec-podman-run --rm localhost/bb /nonexistent
mark "podman run -d, exec, exec -it, exec -d, logs, ps, top, pause, unpause, update, kill, rm"
run rec-podman-run -d --name d1 localhost/bb sleep 1000
run rec-podman exec d1 echo in
run rec-podman exec d1 sh -c 'exit 5'
run script -qec "$work/bin/rec-podman exec -it d1 sh -c 'tty; exit 4'" /dev/null
run rec-podman exec --user 1000 --workdir /tmp --env FOO=bar d1 sh -c 'id; pwd; echo $FOO'
run rec-podman exec d1 /nonexistent
run rec-podman exec -d d1 sleep 5
run rec-podman logs d1; run rec-podman ps; run rec-podman top d1
run rec-podman pause d1; run rec-podman unpause d1
run rec-podman update --memory 128m --cpu-shares 512 d1
run rec-podman kill d1; run rec-podman rm d1
mark "podman stop (TERM ignored, then KILL)"; run rec-podman-run -d --name d2 localhost/bb sleep 1000; run rec-podman stop -t 2 d2; run rec-podman rm d2
mark "podman rm -f of a running container"; run rec-podman-run -d --name d3 localhost/bb sleep 1000; run rec-podman rm -f d3
mark "podman run -it"; run script -qec "$work/bin/rec-podman-run -it --rm localhost/bb sh -c 'tty; exit 6'" /dev/null
mark "podman run -i"; echo piped | run rec-podman-run -i --rm localhost/bb cat
mark "podman run with options"
run rec-podman-run --rm --memory 64m --pids-limit 100 --cap-add SYS_PTRACE --cap-drop NET_RAW --read-only \
    -v "$work/vol:/data:ro" --user 1000:1000 --security-opt "seccomp=$work/deny-mkdir.json" \
    --security-opt no-new-privileges --hostname box --tmpfs /scratch:size=1m --env A=b -w /tmp \
    localhost/bb sh -c 'id; cat /data/f; mkdir /tmp/x'
mark "podman run --pid=host, stop (kill --all)"; run rec-podman-run -d --pid=host --name h1 localhost/bb sleep 1000; run rec-podman stop -t 1 h1; run rec-podman rm h1
mark "podman run --preserve-fds 2"; run rec-podman-run --rm --preserve-fds 2 localhost/bb ls -l /proc/self/fd 3</dev/null 4</dev/null
mark "podman --cgroup-manager systemd (no systemd here)"; run rec-podman --cgroup-manager systemd run --network "$network" --rm localhost/bb true
mark "podman without runtime_supports_json (no --log)"; PODCONF="$work/plain.conf" run rec-podman-run --rm localhost/bb /nonexistent
mark "podman no_pivot_root"; PODCONF="$work/nopivot.conf" run rec-podman-run --rm localhost/bb true
mark "podman info"; run rec-podman info >/dev/null

# containerd: its own config, root, state and sockets; CRI off.
mkdir -p "$work/ctrd"
cat >"$work/ctrd/config.toml" <<EOF
version = 2
root = "$work/ctrd/root"
state = "$work/ctrd/state"
[grpc]
  address = "$work/ctrd/sock"
[ttrpc]
  address = "$work/ctrd/sock.ttrpc"
[debug]
  address = "$work/ctrd/debug.sock"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    disable = true
  [plugins."io.containerd.internal.v1.opt"]
    path = "$work/ctrd/opt"
EOF
containerd --config "$work/ctrd/config.toml" >"$work/ctrd/log" 2>&1 &
ctrd_pid=$!
for _ in $(seq 100); do [ -S "$work/ctrd/sock" ] && break; sleep 0.1; done
cat >"$work/bin/rec-ctr" <<EOF
#!/bin/sh
exec ctr -a "$work/ctrd/sock" -n "$ns" "\$@"
EOF
cat >"$work/bin/rec-ctr-run" <<EOF
#!/bin/sh
exec "$work/bin/rec-ctr" run --runtime io.containerd.runc.v2 --runc-binary "$wrapper" "\$@"
EOF
chmod +x "$work/bin/rec-ctr" "$work/bin/rec-ctr-run"
stopped() { for _ in $(seq 100); do rec-ctr task ls | grep -q "^$1 .*STOPPED" && return 0; sleep 0.1; done; return 1; }
rec-podman save --format oci-archive -o "$work/bb-oci.tar" localhost/bb >/dev/null
rec-ctr image import --base-name localhost/bb "$work/bb-oci.tar" >/dev/null

mark "ctr run --rm echo hi"; run rec-ctr-run --rm localhost/bb:latest c1 echo hi
mark "ctr run --rm exit 9"; run rec-ctr-run --rm localhost/bb:latest c2 sh -c 'exit 9'
mark "ctr run --rm /nonexistent"; run rec-ctr-run --rm localhost/bb:latest c3 /nonexistent; rec-ctr container rm c3 2>/dev/null || true
mark "ctr run -d, task exec, exec -t, exec of a missing program, ps, pause, resume, kill, kill of a stopped task, delete"
run rec-ctr-run -d localhost/bb:latest c4 sleep 1000
run rec-ctr task exec --exec-id e1 c4 sh -c 'echo in; exit 3'
run script -qec "$work/bin/rec-ctr task exec -t --exec-id e2 c4 sh -c 'tty; exit 2'" /dev/null
run rec-ctr task exec --exec-id e3 c4 /nonexistent
run rec-ctr task ps c4; run rec-ctr task pause c4; run rec-ctr task resume c4
run rec-ctr task kill -s SIGKILL c4; stopped c4 || true
run rec-ctr task kill c4
run rec-ctr task delete c4; run rec-ctr container delete c4
mark "ctr task kill -a"; run rec-ctr-run -d localhost/bb:latest c5 sh -c 'sleep 1000 & sleep 1000'; run rec-ctr task kill -a -s SIGKILL c5; stopped c5 || true; run rec-ctr task delete c5; run rec-ctr container delete c5
mark "ctr task delete -f of a running task"; run rec-ctr-run -d localhost/bb:latest c6 sleep 1000; run rec-ctr task delete -f c6; run rec-ctr container delete c6
mark "ctr run -t"; run script -qec "$work/bin/rec-ctr-run --rm -t localhost/bb:latest c7 sh -c 'tty; exit 7'" /dev/null
mark "ctr run with options"
run rec-ctr-run --rm --seccomp --memory-limit 67108864 --cap-add CAP_SYS_PTRACE --cap-drop CAP_NET_RAW \
    --mount "type=bind,src=$work/vol,dst=/data,options=rbind:ro" --env A=b --cwd /tmp --read-only \
    --annotation org.example=1 --cpus 0.5 localhost/bb:latest c8 sh -c 'id; pwd'
mark "ctr --runc-systemd-cgroup (no systemd here)"; run rec-ctr-run --rm --runc-systemd-cgroup --cgroup system.slice:rec:c9 localhost/bb:latest c9 true; rec-ctr container rm c9 2>/dev/null || true

echo "oci-clients-record: $(grep -c '^### ' "$out/calls.log") runtime calls recorded in $out/calls.log"

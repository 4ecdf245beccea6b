#!/usr/bin/env python3
"""Random runs of syscage, judged by the README's rules, with a leak check around them.

Started by scripts/soak.sh (which builds syscage with fault injection); needs root. Each
run gets random options (user, user namespace, limits, read-only root, tmpfs, profile,
terminal, --report, learn, unprivileged caller), a command with a known outcome, and
perhaps a signal (SIGKILL, SIGTERM, SIGINT) at a random moment from 0 to 300 ms, or a
set-up step made to fail. Up to 16 run at once. The choices come from the seed alone; the
timing is the machine's, so a seed replays the same runs, not the same races.

Each run's exit status must be one the README allows for what happened to it, syscage's
own lines on stderr must have the `syscage:` form, and the -o / --report files must be
there or not as the README says (a new one appears only when the run ends, whole: never
after a failure before the command starts, never in part after syscage is killed). Before and after
all runs: host mounts, cgroups in every hierarchy, processes, temporary files (anything
else in the output directories, the filter cache's) and this driver's open descriptors
must be the same. A summary table is printed; any deviation makes the exit status 1.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

# Set-up steps whose failure tests/e2e_lifecycle.rs also injects (SYSCAGE_FAULT).
FAULT_STEPS = [
    "create the container's namespaces",
    "write the uid/gid maps",
    "move the init into its cgroup",
    "set the hostname",
    "mount `proc` on `/proc`",
    "mount `tmpfs` on `/dev`",
    "mount `devpts` on `/dev/pts`",
    "mask `/proc/kcore`",
    "make `/proc/sys` read-only",
    "pivot_root into the new root",
    "bring up the loopback interface",
    "set no_new_privs",
    "load the seccomp filter",
]

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}
TIMEOUT = 60.0


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


class World:
    """The files the runs use: a copy of syscage and a busybox root anyone can read."""

    def __init__(self, binary, seed):
        self.dir = tempfile.mkdtemp(prefix=f"syscage-soak-{seed}-")
        os.chmod(self.dir, 0o755)
        self.bin = os.path.join(self.dir, "syscage")
        shutil.copy2(binary, self.bin)
        os.chmod(self.bin, 0o755)
        self.root = os.path.join(self.dir, "rootfs")
        # Every mount point the options use exists: an unprivileged run could not make it.
        for d in ["bin", "etc", "tmp", "run", "root", "home/user", "proc", "dev", "sys"]:
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        bb = next(p for p in ["/bin/busybox", "/usr/bin/busybox"] if os.path.exists(p))
        shutil.copy2(bb, os.path.join(self.root, "bin/busybox"))
        applets = subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                os.symlink("busybox", os.path.join(self.root, "bin", a))
        here = os.path.dirname(os.path.abspath(__file__))
        sh("gcc", "-static", "-O2", "-pthread", "-o", os.path.join(self.root, "probe"),
           os.path.join(here, "..", "tests", "probes", "probe.c"))
        with open(os.path.join(self.root, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
                    "nobody:x:65534:65534::/:/bin/false\n")
        with open(os.path.join(self.root, "etc/group"), "w") as f:
            f.write("root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n")
        os.chmod(os.path.join(self.root, "tmp"), 0o1777)
        # Where -o and --report write: one for root, one for the unprivileged user.
        self.out = os.path.join(self.dir, "out")
        self.out_nobody = os.path.join(self.dir, "out-nobody")
        os.makedirs(self.out)
        os.makedirs(self.out_nobody)
        os.chown(self.out_nobody, 65534, 65534)
        self.cache_home = os.path.join(self.dir, "cache-nobody")
        os.makedirs(self.cache_home)
        os.chown(self.cache_home, 65534, 65534)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def pick(rng, world, n, seed):
    """The n-th run: what it is, its arguments and what it may end with."""
    marker = f"soak-{seed}-{n}"
    nobody = rng.random() < 0.15
    kind = rng.choice(["true", "exit", "signal", "notfound", "noexec", "badopt",
                       "sleep", "sigterm", "ignoreterm", "report", "learn", "fds",
                       "tty", "fault", "deny"])
    if nobody and kind == "fault":
        kind = "true"
    out = world.out_nobody if nobody else world.out
    run = {"n": n, "kind": kind, "nobody": nobody, "marker": marker, "env": {},
           "file": None, "expect": set(), "stdout": None}
    opts = ["--rootfs", world.root, "--hostname", marker]
    if rng.random() < 0.5:
        opts += ["--tmpfs", "/tmp"]
    if rng.random() < 0.2:
        opts += ["--read-only"]
    if rng.random() < 0.25:
        opts += ["-u", "1000:1000"]
    if not nobody and rng.random() < 0.25:
        opts += ["--userns"]
    if not nobody and rng.random() < 0.3 and kind != "badopt":
        opts += rng.choice([["--memory", "64m"], ["--pids-limit", "64"], ["--cpus", "0.5"],
                            ["--memory", "32m", "--pids-limit", "32"]])
    if rng.random() < 0.2 and kind != "badopt":
        opts += ["--seccomp", rng.choice(["default", "contained", "unconfined"])]
    sub = "run"
    cmd = ["/bin/true"]
    exp = {0}
    if kind == "exit":
        code = rng.randrange(1, 120)
        cmd, exp = ["/bin/sh", "-c", f"exit {code}"], {code}
    elif kind == "signal":
        s = rng.choice(["TERM", "SEGV", "KILL", "USR1"])
        cmd, exp = ["/probe", "kill_self", s], {128 + getattr(signal, "SIG" + s)}
    elif kind == "notfound":
        cmd, exp = ["/nonexistent"], {127}
    elif kind == "noexec":
        cmd, exp = ["/etc/passwd"], {126}
    elif kind == "badopt":
        opts += rng.choice([["--memory", "lots"], ["--stop-timeout", "-1"], ["--cap-add", "NOPE"],
                            ["--seccomp", "/nonexistent.json"]])
        exp = {125}
    elif kind == "sleep":
        cmd, exp = ["/bin/sleep", "5"], {0}
    elif kind == "sigterm":
        cmd, exp = ["/probe", "sigterm_wait"], {0}
    elif kind == "ignoreterm":
        opts += ["--stop-timeout", "1"]
        cmd, exp = ["/bin/sh", "-c", "trap '' TERM INT; sleep 3"], {0}
    elif kind == "fds":
        cmd, exp = ["/bin/sh", "-c", "cd /proc/self/fd && echo *"], {0}
        run["stdout"] = "0 1 2 3\n"
    elif kind == "tty":
        opts += ["-t"]
        cmd, exp = ["/bin/sh", "-c", "exit 3"], {3}
    elif kind == "fault":
        run["env"]["SYSCAGE_FAULT"] = rng.choice(FAULT_STEPS)
        if "uid/gid" in run["env"]["SYSCAGE_FAULT"] and "--userns" not in opts:
            opts += ["--userns"]
        if "cgroup" in run["env"]["SYSCAGE_FAULT"] and "--memory" not in opts:
            opts += ["--memory", "64m"]
        if "seccomp" in run["env"]["SYSCAGE_FAULT"] and "unconfined" in opts:
            opts[opts.index("unconfined")] = "default"
        exp = {125}
    elif kind in ("report", "learn", "deny"):
        calls = rng.choice(["keyctl", "bpf"])
        cmd, exp = ["/probe", "deny_loop", str(rng.choice([100, 1000, 5000])), calls], {0}
        if kind == "report":
            run["file"] = os.path.join(out, f"report-{n}.json")
            opts = ["--report=" + run["file"]] + opts
        elif kind == "learn":
            sub = "learn"
            run["file"] = os.path.join(out, f"learned-{n}.json")
            opts = ["-o", run["file"]] + [o for o in opts if o != "--seccomp" and o not in
                                          ("default", "contained", "unconfined")]
    # Cgroup limits need root: an unprivileged run is refused (125).
    if nobody and any(o in opts for o in ("--memory", "--pids-limit", "--cpus")):
        exp = {125}
    run["argv"] = (NOBODY if nobody else []) + [world.bin, sub] + opts + ["--"] + cmd
    run["expect"] = exp
    r = rng.random()
    run["signal"] = None if r < 0.4 else rng.choice(list(SIGNALS))
    if kind == "sigterm" and run["signal"] in (None, "INT"):
        run["signal"] = "TERM"
    run["delay"] = rng.uniform(0.0, 0.3)
    if nobody:
        run["env"]["XDG_CACHE_HOME"] = world.cache_home
    return run


def whole(path, kind):
    """Whether a learned profile is one JSON document, a report JSON lines."""
    try:
        text = open(path).read()
        if kind == "learn":
            json.loads(text)
        else:
            for line in text.splitlines():
                json.loads(line)
        return True
    except (OSError, ValueError):
        return False


def judge(run, code, stdout, stderr, took):
    """The deviations of one finished run, from the README's rules."""
    bad = []
    sig = run["signal"]
    allowed = set(run["expect"])
    if sig == "KILL":
        allowed.add(-signal.SIGKILL)
    elif sig in ("TERM", "INT"):
        n = SIGNALS[sig]
        # Before the command: 128+N, cleanly. During: forwarded, so the command's answer.
        # Before syscage's main blocks it (the dynamic loader's time after execve): the
        # default action, -N, with nothing made yet (checked below and by the leak check).
        allowed.update({128 + n, -n})
        if run["kind"] == "ignoreterm":
            allowed.add(137)
    if code not in allowed:
        bad.append(f"exit {code}, allowed {sorted(allowed)}")
    if "before the command started" in stderr and sig not in ("TERM", "INT"):
        bad.append("stopped before the command started without a signal")
    if run["stdout"] is not None and code == 0 and stdout != run["stdout"]:
        bad.append(f"stdout {stdout!r}, expected {run['stdout']!r}")
    # syscage's lines: `syscage: ...`, and the report's indented continuation lines.
    if code != -signal.SIGKILL:
        for line in stderr.splitlines():
            if not (line.startswith("syscage: ") or line.startswith("  ")):
                bad.append(f"stderr line without `syscage:`: {line!r}")
                break
    f = run["file"]
    if f is not None and code != -signal.SIGKILL:
        exists = os.path.exists(f)
        never_started = code == 125 or code < 0 or "before the command started" in stderr
        if never_started and exists:
            bad.append(f"{os.path.basename(f)} exists though the command never started")
        if code == 0 and not exists:
            bad.append(f"{os.path.basename(f)} missing after a successful run")
        if code == 0 and exists and not whole(f, run["kind"]):
            bad.append(f"{os.path.basename(f)} is not whole after a successful run")
    # A SIGKILL after syscage put the file in place leaves it, legitimately, and when the
    # kill landed cannot be seen from here; what must never be is a part of one.
    if f is not None and code == -signal.SIGKILL and os.path.exists(f) and not whole(f, run["kind"]):
        bad.append(f"{os.path.basename(f)} left partial by a SIGKILLed run")
    if run["kind"] == "ignoreterm" and code == 137 and took > 1.0 + 3.0 + 0.3:
        bad.append(f"grace period kill after {took:.1f} s")
    return bad


def one(run, pids, lock):
    env = dict(os.environ)
    env.update(run["env"])
    started = time.monotonic()
    p = subprocess.Popen(run["argv"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    with lock:
        pids.add(p.pid)
    out = {}

    def drain(name, stream):
        out[name] = stream.read().decode(errors="replace")

    readers = [threading.Thread(target=drain, args=(k, s))
               for k, s in (("stdout", p.stdout), ("stderr", p.stderr))]
    for t in readers:
        t.start()
    if run["signal"]:
        time.sleep(run["delay"])
        try:
            os.kill(p.pid, SIGNALS[run["signal"]])
        except ProcessLookupError:
            pass
    try:
        code = p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        for t in readers:
            t.join()
        return run, None, out.get("stdout", ""), out.get("stderr", ""), TIMEOUT, [
            f"no exit within {TIMEOUT:.0f} s"]
    took = time.monotonic() - started
    for t in readers:
        t.join()
    bad = judge(run, code, out["stdout"], out["stderr"], took)
    return run, code, out["stdout"], out["stderr"], took, bad


# --- the leak check ---------------------------------------------------------------------

def cgroup_hierarchies():
    hs = []
    for line in open("/proc/self/mountinfo"):
        left, _, right = line.partition(" - ")
        if right.split(" ")[0] in ("cgroup", "cgroup2"):
            hs.append(left.split(" ")[4].replace("\\040", " "))
    return hs


def snapshot(world):
    own_fds = sorted(os.listdir("/proc/self/fd"))
    return {
        "mounts": set(l.split(" ", 4)[4] for l in open("/proc/self/mountinfo")),
        "fds": len(own_fds),
    }


def leftovers(world, pids, seed, before):
    found = []
    after = snapshot(world)
    for m in sorted(after["mounts"] - before["mounts"]):
        found.append(f"mount: {m.strip()}")
    if after["fds"] != before["fds"]:
        found.append(f"open descriptors of the driver: {before['fds']} before, {after['fds']} after")
    pidns = os.stat("/proc/self/ns/pid").st_ino
    for h in cgroup_hierarchies():
        d = os.path.join(h, "syscage")
        if not os.path.isdir(d):
            continue
        for e in os.listdir(d):
            m = re.fullmatch(r"(\d+)-(\d+)-(\d+)", e)
            if m and int(m.group(1)) == pidns and int(m.group(2)) in pids:
                found.append(f"cgroup: {os.path.join(d, e)}")
    marker = f"soak-{seed}-"
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) == os.getpid():
            continue
        try:
            cmdline = open(f"/proc/{e}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            exe = os.readlink(f"/proc/{e}/exe")
        except OSError:
            continue
        if marker in cmdline or exe == world.bin:
            found.append(f"process {e}: {cmdline.strip()}")
    for out in (world.out, world.out_nobody):
        for e in os.listdir(out):
            if not re.fullmatch(r"(report|learned)-\d+\.json", e):
                found.append(f"temporary file: {os.path.join(out, e)}")
    for cache in ("/var/cache/syscage", os.path.join(world.cache_home, "syscage")):
        if not os.path.isdir(cache):
            continue
        for e in os.listdir(cache):
            m = re.fullmatch(r"\..*\.(\d+)", e)
            if m and int(m.group(1)) in pids:
                found.append(f"filter cache temporary: {os.path.join(cache, e)}")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--parallel", type=int, default=16)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: needs root (it runs containers as root and as nobody)")
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 2**31)
    print(f"soak: seed {seed}, {a.minutes:g} minutes, up to {a.parallel} runs at once "
          f"(again: scripts/soak.sh --seed {seed} --minutes {a.minutes:g})", flush=True)
    rng = random.Random(seed)
    world = World(a.binary, seed)
    before = snapshot(world)
    pids, lock = set(), threading.Lock()
    results = []
    end = time.monotonic() + a.minutes * 60
    n = 0
    with ThreadPoolExecutor(max_workers=a.parallel) as pool:
        pending = set()
        while time.monotonic() < end or pending:
            while time.monotonic() < end and len(pending) < a.parallel:
                pending.add(pool.submit(one, pick(rng, world, n, seed), pids, lock))
                n += 1
            done = {f for f in pending if f.done()}
            if not done:
                time.sleep(0.01)
                continue
            for f in done:
                pending.remove(f)
                results.append(f.result())
    # A last run removes the cgroups SIGKILLed runs left (the README's promise).
    sweep = subprocess.run([world.bin, "run", "--rootfs", world.root, "--", "/bin/true"],
                           capture_output=True, text=True)
    deadline = time.monotonic() + 10
    while True:
        leaks = leftovers(world, pids, seed, before)
        if not leaks or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if sweep.returncode != 0:
        leaks.append(f"the sweeping run failed: {sweep.returncode} {sweep.stderr.strip()}")

    table = defaultdict(Counter)
    deviations = []
    for run, code, stdout, stderr, took, bad in results:
        key = run["kind"] + (" (nobody)" if run["nobody"] else "")
        table[key]["runs"] += 1
        table[key][run["signal"] or "no signal"] += 1
        if bad:
            table[key]["deviations"] += 1
            deviations.append((run, code, stderr, bad))
    cols = ["runs", "no signal", "KILL", "TERM", "INT", "deviations"]
    print(f"\n{'kind':<20}" + "".join(f"{c:>12}" for c in cols))
    for k in sorted(table):
        print(f"{k:<20}" + "".join(f"{table[k][c]:>12}" for c in cols))
    total = Counter()
    for k in table:
        total.update(table[k])
    print(f"{'all':<20}" + "".join(f"{total[c]:>12}" for c in cols))
    print(f"\nleak check: {len(leaks)} leftover(s)")
    for l in leaks:
        print(f"  {l}")
    if deviations:
        print(f"\n{len(deviations)} deviation(s); the first ones:")
        for run, code, stderr, bad in deviations[:20]:
            env = " ".join(f"{k}={v!r}" for k, v in run["env"].items() if k != "XDG_CACHE_HOME")
            print(f"  run {run['n']} ({run['kind']}, signal {run['signal']} after "
                  f"{run['delay'] * 1000:.0f} ms): {'; '.join(bad)}")
            print(f"    {env} {' '.join(run['argv'])}".rstrip())
            for line in stderr.strip().splitlines()[:3]:
                print(f"    | {line}")
    ok = not deviations and not leaks
    if ok:
        world.remove()
    else:
        print(f"\nfiles kept in {world.dir}")
    print(f"\nsoak: {len(results)} runs, {len(deviations)} deviations, {len(leaks)} leftovers: "
          f"{'ok' if ok else 'FAILED'} (seed {seed})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

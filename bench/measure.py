"""The measurements of bench/run.sh, run inside its private mount namespace.

Every table compares rows measured in this one invocation, on this machine; ratios are
against `crun run` without a filter, as the issue that asked for the suite says. Start-up
timing is this script's own (every row started once per round, in a new random order each
round), the other timings hyperfine's (medians); peak memory GNU time's maximum resident set size, per-call cost the
probe's own loop (`/probe bench`), compile time syscage's compile_time example.
"""
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

repo, root, work, quick = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
S = f"{repo}/target/release/syscage"
RUNS = 8 if quick else 40
WARMUP = 2 if quick else 5
CALLS = "50000" if quick else "300000"
DOCKER = f"{repo}/profiles/docker-default.json"
results_dir = f"{repo}/bench/results"
os.makedirs(results_dir, exist_ok=True)


def bundle(variant, args, name):
    """A copy of a prepared bundle with another command."""
    d = tempfile.mkdtemp(prefix=f"bundle-{name}-", dir=work)
    with open(f"{work}/bundle-{variant}/config.json") as f:
        c = json.load(f)
    c["process"]["args"] = args
    with open(f"{d}/config.json", "w") as f:
        json.dump(c, f)
    return d


def start_rows():
    true = ["/bin/true"]
    run = [S, "run", "--rootfs", root]
    return [
        ("exec /bin/true (floor)", true),
        ("syscage, default profile", run + ["--", "/bin/true"]),
        ("syscage, unconfined", [S, "run", "--seccomp", "unconfined", "--rootfs", root, "--", "/bin/true"]),
        ("syscage, default, --memory (cgroup)", [S, "run", "--memory", "256m", "--rootfs", root, "--", "/bin/true"]),
        ("syscage, default, --userns", [S, "run", "--userns", "--rootfs", root, "--", "/bin/true"]),
        ("syscage as OCI runtime, no filter", [S, "--root", f"{work}/state", "run", "-b", f"{work}/bundle-plain", "bench-sc"]),
        ("syscage as OCI runtime, Docker profile", [S, "--root", f"{work}/state", "run", "-b", f"{work}/bundle-docker", "bench-sc-d"]),
        ("crun, no filter", ["crun", "run", "-b", f"{work}/bundle-plain", "bench-crun"]),
        ("crun, Docker profile", ["crun", "run", "-b", f"{work}/bundle-docker", "bench-crun-d"]),
        ("runc, no filter", ["runc", "run", "-b", f"{work}/bundle-plain", "bench-runc"]),
        ("runc, Docker profile", ["runc", "run", "-b", f"{work}/bundle-docker", "bench-runc-d"]),
        ("bwrap --unshare-all, no filter", ["bwrap", "--unshare-all", "--ro-bind", root, "/", "/bin/true"]),
        ("firejail --noprofile", ["firejail", "--noprofile", "--quiet", "/bin/true"]),
        ("unshare + chroot", ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "chroot", root, "/bin/true"]),
    ]


def hyperfine(rows, extra):
    out = f"{work}/hf.json"
    cmd = ["hyperfine", "-N", "--style", "none", "--warmup", str(WARMUP), "--runs", str(RUNS), "--export-json", out] + extra
    for name, argv in rows:
        cmd += ["-n", name, " ".join(argv)]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"hyperfine failed: {p.stderr.strip()}")
    with open(out) as f:
        data = json.load(f)["results"]
    return {r["command"]: r for r in data}


def interleaved(rows, idle, runs, warmup):
    """RUNS starts of each row, one row at a time in rounds, each round in a new random
    order. Runs of one row, then of the next, were biased: the kernel frees a finished
    sandbox's network namespace later, in a worker, so the row after a slow one paid for
    its predecessor's clean-up (the default filter measured slower than the default filter
    with --memory, which does more)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    fa = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
    res = {name: {"times": [], "user": [], "system": []} for name, _ in rows}
    order = list(rows)
    rng = random.Random(13)
    for r in range(warmup + runs):
        rng.shuffle(order)
        for name, argv in order:
            if idle:
                time.sleep(0.05)
            t = time.perf_counter()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=fa)
            _, status, ru = os.wait4(pid, 0)
            dt = time.perf_counter() - t
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"{name} failed: {' '.join(argv)} (status {os.waitstatus_to_exitcode(status)})")
            if r >= warmup:
                res[name]["times"].append(dt)
                res[name]["user"].append(ru.ru_utime)
                res[name]["system"].append(ru.ru_stime)
    os.close(devnull)
    return {name: {"median": statistics.median(m["times"]), "user": statistics.mean(m["user"]),
                   "system": statistics.mean(m["system"])} for name, m in res.items()}


def peak_rss(argv, n=5):
    vals = []
    for _ in range(n):
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            vals.append(int(p.stderr.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            pass
    return int(statistics.median(vals)) if vals else None


def per_call_rows():
    probe = ["/probe", "bench", CALLS]
    run = [S, "run", "--rootfs", root, "--tmpfs", "/tmp"]
    minimal = f"{work}/allow-all.json"
    with open(minimal, "w") as f:
        f.write('{"defaultAction": "SCMP_ACT_ALLOW"}\n')
    # The least a filter that looks at an argument costs: the kernel's action cache answers
    # only calls allowed whatever their arguments, so these four enter the filter.
    checked = f"{work}/allow-all-checked.json"
    with open(checked, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 0x5412, "op": "SCMP_CMP_EQ"}]},
            {"names": ["fchmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 0o4000, "valueTwo": 0o4000, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}]},
        ]}, f)
    return [
        # In a mount namespace of its own with a tmpfs /tmp, as in the sandboxes (the
        # host's /tmp is a disk file system, where fchmod costs more).
        # The probe is read before the tmpfs hides it (it may live below /tmp).
        ("no filter (host)", ["unshare", "-m", "sh", "-c", f'exec 3<"$0" && mount -t tmpfs none /tmp && cat <&3 >/tmp/probe && chmod 755 /tmp/probe && cd /tmp && exec ./probe bench {CALLS}', f"{root}/probe"]),
        ("minimal filter (allows everything)", [S, "run", "--seccomp", minimal, "--rootfs", root, "--tmpfs", "/tmp", "--"] + probe),
        ("minimal filter checking one argument of ioctl, fchmod, personality, socket", [S, "run", "--seccomp", checked, "--rootfs", root, "--tmpfs", "/tmp", "--"] + probe),
        ("syscage, unconfined", [S, "run", "--seccomp", "unconfined", "--rootfs", root, "--tmpfs", "/tmp", "--"] + probe),
        ("syscage, default", run + ["--"] + probe),
        ("syscage, contained", [S, "run", "--seccomp", "contained", "--rootfs", root, "--tmpfs", "/tmp", "--"] + probe),
        ("Docker profile, binary tree (syscage)", [S, "run", "--seccomp", DOCKER, "--rootfs", root, "--tmpfs", "/tmp", "--"] + probe),
        ("crun, Docker profile", ["crun", "run", "-b", bundle("docker", probe, "crun"), "bench-crun-p"]),
        ("runc, Docker profile", ["runc", "run", "-b", bundle("docker", probe, "runc"), "bench-runc-p"]),
    ]


def per_call(rows, n=3 if quick else 9):
    """N runs of the probe in each row, in rounds, each round in a new random order (as the
    start rows), and the least of each row's runs: the machine's speed drifts by more than
    the few nanoseconds compared between rows from one minute to the next, and a slow
    moment only adds time (medians put Docker's profile's fchmod 33 ns ahead of the
    default's in one full run and 96 ns behind it in the next). The least per column, or
    why the row failed."""
    cols = {name: {"getpid": [], "fchmod": [], "personality": [], "ioctl": [], "socket": []} for name, _ in rows}
    failed = {}
    order = list(rows)
    rng = random.Random(17)
    for _ in range(n):
        rng.shuffle(order)
        for name, argv in order:
            if name in failed:
                continue
            p = subprocess.run(argv, capture_output=True, text=True)
            line = next((l for l in p.stdout.splitlines() if l.startswith("bench: ")), None)
            if line is None:
                failed[name] = (p.stdout + p.stderr).strip()[:200]
                continue
            for kv in line[len("bench: "):].split():
                k, v = kv.split("=")
                cols[name][k].append(float(v))
    return {name: (None, failed[name]) if name in failed else
            ({k: min(v) for k, v in cols[name].items()}, None) for name, _ in rows}


def compile_times():
    p = subprocess.run([f"{repo}/target/release/examples/compile_time", "5" if quick else "15", DOCKER], capture_output=True, text=True, check=True, cwd=repo)
    rows = []
    for line in p.stdout.splitlines():
        name, cold, cached, insns = line.split()
        rows.append((name, int(insns), float(cold), float(cached)))
    return rows


def learn_rows():
    # hyperfine -N splits commands at spaces: the workload is a script in the root.
    with open(f"{root}/workload.sh", "w") as f:
        f.write("for i in $(seq 300); do echo $i > /tmp/f; cat /tmp/f >/dev/null; done; /probe threads 8 >/dev/null\n")
    base = ["--rootfs", root, "--tmpfs", "/tmp", "--", "/bin/sh", "/workload.sh"]
    return [
        ("syscage run (default profile)", [S, "run"] + base),
        ("syscage learn", [S, "learn", "-o", "/dev/null"] + base),
        ("strace -f -c, syscage run", ["strace", "-f", "-c", "-o", "/dev/null", S, "run"] + base),
    ]


def podman_setup():
    """podman with its own storage under the bench's directory, the cgroupfs manager (no
    systemd here), ulimits at this host's hard limits (root lacks CAP_SYS_RESOURCE), and
    the bench root imported offline as an image. None when podman is missing."""
    if not shutil.which("podman"):
        return None
    d = f"{work}/podman"
    os.makedirs(d, exist_ok=True)
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = f.read().strip()
    conf = f"{d}/containers.conf"
    with open(conf, "w") as f:
        f.write(f'[containers]\ndefault_ulimits = ["nofile={hard}:{hard}", "nproc={pid_max}:{pid_max}"]\n'
                '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime_supports_json = ["syscage"]\n')
    os.environ["CONTAINERS_CONF"] = conf
    base = ["podman", "--root", f"{d}/storage", "--runroot", f"{d}/run", "--tmpdir", f"{d}/tmp"]
    tar = f"{d}/rootfs.tar"
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
    subprocess.run(base + ["import", tar, "localhost/syscage-bench:latest"], check=True, stdout=subprocess.DEVNULL)
    return base


def podman_rows(base):
    args = ["run", "--rm", "--network", "none", "localhost/syscage-bench:latest", "/bin/true"]
    return [
        ("podman run --rm, syscage", base + ["--runtime", S] + args),
        ("podman run --rm, runc", base + ["--runtime", shutil.which("runc")] + args),
    ]


def podman_teardown(base):
    subprocess.run(base + ["rmi", "-af"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except StopIteration:
        return "?"


def ms(x):
    return f"{x * 1000:.2f}"


def main():
    global RUNS, WARMUP
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = start_rows()
    # The sandboxes that start in a few milliseconds are interleaved among themselves, the
    # OCI runtimes and firejail among themselves: runc's and firejail's clean-up after a
    # start (tens of milliseconds of kernel work) would otherwise land on a few-ms start.
    heavy = {"crun", "runc", "firejail"}
    groups = [[r for r in rows if (r[1][0] in heavy or "OCI" in r[0]) == h] for h in (False, True)]
    back, idle = {}, {}
    for g in groups:
        back.update(interleaved(g, False, RUNS, WARMUP))
        idle.update(interleaved(g, True, RUNS, WARMUP))
    rss = {name: peak_rss(argv) for name, argv in rows}
    ref = "crun, no filter"
    out = []
    out.append(f"Measured {started} on {platform.node()}: {os.cpu_count()} CPUs ({cpu_model()}), "
               f"kernel {platform.release()}; {version([S, '--version'])}, libseccomp {version(['dpkg-query', '-W', '-f=${Version}', 'libseccomp2'])}, "
               f"{version(['crun', '--version'])}, {version(['runc', '--version'])}, {version(['bwrap', '--version'])}, "
               f"{version(['firejail', '--version'])}. {RUNS} starts per row{' (--quick)' if quick else ''}, one per row in each round, rounds in random order.")
    out.append("")
    out.append("### Start to exit of `/bin/true`")
    out.append("")
    out.append("Median wall time; CPU is user+system (mean); x is the ratio to `crun, no filter` in the same mode. "
               "\"After idle\" sleeps 50 ms before each start (the first cgroup v1 write after idle is slow on this machine).")
    out.append("")
    out.append("| sandbox | back to back (ms) | x crun | CPU (ms) | after 50 ms idle (ms) | x crun | CPU (ms) | peak RSS (KiB) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, _ in rows:
        b, i = back[name], idle[name]
        out.append(f"| {name} | {ms(b['median'])} | {b['median'] / back[ref]['median']:.2f} | {ms(b['user'] + b['system'])} | "
                   f"{ms(i['median'])} | {i['median'] / idle[ref]['median']:.2f} | {ms(i['user'] + i['system'])} | {rss[name] or '?'} |")
    out.append("")

    out.append("### Cost per system call under each filter")
    out.append("")
    out.append(f"Nanoseconds per call, the least of several runs of `/probe bench {CALLS}` inside each sandbox (in rounds, as the start rows; a slow moment of the machine only adds time) "
               "(`fchmod` of a tmpfs file with mode 0644, `personality(0xffffffff)`, `ioctl(TCGETS)` on /dev/null, "
               "`socket(AF_INET, SOCK_STREAM | 0x40000000, 0)`: the filter checks the family, then the kernel refuses the unknown flag with EINVAL before it makes a socket).")
    out.append("")
    out.append("| filter | getpid | fchmod | personality | ioctl | socket |")
    out.append("|---|---:|---:|---:|---:|---:|")
    pc = {}
    call_rows = per_call_rows()
    measured = per_call(call_rows)
    for name, _ in call_rows:
        v, err = measured[name]
        pc[name] = v
        if v:
            out.append(f"| {name} | {v['getpid']:.0f} | {v['fchmod']:.0f} | {v['personality']:.0f} | {v['ioctl']:.0f} | {v['socket']:.0f} |")
        else:
            out.append(f"| {name} | failed: {err} | | | | |")
    out.append("")

    out.append("### Filter compile time")
    out.append("")
    out.append("| profile | BPF instructions | cold (ms) | from syscage's cache (µs) |")
    out.append("|---|---:|---:|---:|")
    ct = compile_times()
    for name, insns, cold, cached in ct:
        label = "built-in default" if name == "default" else "Docker's default (x86_64, x86, x32)"
        out.append(f"| {label} | {insns} | {cold:.1f} | {cached:.0f} |")
    out.append("")

    out.append("### Learning a profile against tracing")
    out.append("")
    out.append("The same workload (300 shell loop iterations with `echo`/`cat`, then 8 threads), median wall time.")
    out.append("")
    lr = learn_rows()
    RUNS, WARMUP = (3, 1) if quick else (10, 2)
    lh = hyperfine(lr, [])
    basel = lh[lr[0][0]]["median"]
    out.append("| run | median (ms) | overhead over plain run (ms) |")
    out.append("|---|---:|---:|")
    for name, _ in lr:
        m = lh[name]["median"]
        out.append(f"| {name} | {ms(m)} | {ms(m - basel)} |")
    out.append("")

    out.append("### As the OCI runtime of podman")
    out.append("")
    pb = podman_setup()
    pm = None
    if pb:
        prow = podman_rows(pb)
        RUNS, WARMUP = (4, 1) if quick else (15, 3)
        pm = hyperfine(prow, [])
        podman_teardown(pb)
        out.append(f"`podman run --rm --network none IMAGE /bin/true` ({version(['podman', '--version'])}, conmon, the cgroupfs manager), "
                   "podman's own default seccomp profile, median wall time. crun is not in this table: crun 1.8 refuses the "
                   "hybrid cgroup layout podman sees.")
        out.append("")
        out.append("| runtime | median (ms) | x runc |")
        out.append("|---|---:|---:|")
        for name, _ in prow:
            out.append(f"| {name} | {ms(pm[name]['median'])} | {pm[name]['median'] / pm[prow[1][0]]['median']:.2f} |")
    else:
        out.append("podman is not installed: no rows.")
    out.append("")

    # Targets, checked on these numbers.
    sd, bw, cd, cp = back["syscage, default profile"]["median"], back["bwrap --unshare-all, no filter"]["median"], back["crun, Docker profile"]["median"], back["crun, no filter"]["median"]
    mem_ = back["syscage, default, --memory (cgroup)"]["median"]
    out.append("### Targets")
    out.append("")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")
    out.append(f"| start, default filter <= 1.5x bwrap without filter | {sd / bw:.2f}x | {'yes' if sd <= 1.5 * bw else 'no'} |")
    # Issue 13's targets.
    su = back["syscage, unconfined"]["median"]
    sn = back["syscage, default, --userns"]["median"]
    out.append(f"| start, default filter <= 1.2x bwrap without filter (issue 13) | {sd / bw:.2f}x | {'yes' if sd <= 1.2 * bw else 'no'} |")
    out.append(f"| start, unconfined <= 1.1x bwrap without filter (issue 13) | {su / bw:.2f}x | {'yes' if su <= 1.1 * bw else 'no'} |")
    out.append(f"| start, --userns within 5% of the run without it (issue 13) | {sn / sd:.3f}x | {'yes' if abs(sn / sd - 1) <= 0.05 else 'no'} |")
    mi, ci = idle["syscage, default, --memory (cgroup)"]["median"], idle["crun, no filter"]["median"]
    out.append(f"| start with --memory after 50 ms idle <= 0.5x crun without filter (issue 13) | {mi / ci:.2f}x | {'yes' if mi <= 0.5 * ci else 'no'} |")
    out.append(f"| start, default filter <= 0.25x crun with Docker's profile | {sd / cd:.2f}x | {'yes' if sd <= 0.25 * cd else 'no'} |")
    out.append(f"| start with --memory no slower than crun without filter | {mem_ / cp:.2f}x | {'yes' if mem_ <= cp else 'no'} |")
    dt = pc.get("Docker profile, binary tree (syscage)")
    de = pc.get("syscage, default")
    floor = pc.get("minimal filter (allows everything)")
    if dt and de:
        for k in ("getpid", "fchmod", "personality", "ioctl", "socket"):
            out.append(f"| per call `{k}`: default <= Docker's profile (binary tree) | {de[k]:.0f} vs {dt[k]:.0f} ns | {'yes' if de[k] <= dt[k] + 20 else 'no'} (+-20 ns noise) |")
    if dt and de:
        for k in ("fchmod", "personality", "ioctl", "socket"):
            out.append(f"| per call `{k}`: default within 5 ns of Docker's profile (binary tree) (issue 13) | {de[k]:.0f} vs {dt[k]:.0f} ns | {'yes' if de[k] <= dt[k] + 5 else 'no'} |")
    cfloor = pc.get("minimal filter checking one argument of ioctl, fchmod, personality, socket")
    if de and cfloor:
        for k in ("fchmod", "personality", "ioctl", "socket"):
            out.append(f"| per call `{k}`: default within 5 ns of the floor of a filter that checks its argument | {de[k]:.0f} vs {cfloor[k]:.0f} ns | {'yes' if de[k] <= cfloor[k] + 5 else 'no'} |")
    if de and floor:
        for k in ("getpid",):
            out.append(f"| `{k}` at the floor of any filter (the kernel's action cache answers it) | {de[k]:.0f} vs {floor[k]:.0f} ns (minimal filter) | {'yes' if de[k] <= floor[k] + 20 else 'no'} (+-20 ns noise) |")
    od, op = back["syscage as OCI runtime, Docker profile"]["median"], back["syscage as OCI runtime, no filter"]["median"]
    out.append(f"| OCI create+start+delete, Docker profile <= 0.5x crun with the same bundle | {od / cd:.2f}x | {'yes' if od <= 0.5 * cd else 'no'} |")
    out.append(f"| OCI, Docker profile, no slower than crun without any filter | {od / cp:.2f}x | {'yes' if od <= cp else 'no'} |")
    if pm:
        ps_, pr = pm["podman run --rm, syscage"]["median"], pm["podman run --rm, runc"]["median"]
        out.append(f"| podman run --rm with syscage no slower than with runc | {ps_ / pr:.2f}x | {'yes' if ps_ <= pr else 'no'} |")
    osr, ocr = rss["syscage as OCI runtime, Docker profile"], rss["crun, Docker profile"]
    if osr and ocr:
        out.append(f"| peak memory of the OCI runtime below crun's | {osr} vs {ocr} KiB | {'yes' if osr < ocr else 'no'} |")
    sr, br = rss["syscage, default profile"], rss["bwrap --unshare-all, no filter"]
    if sr and br:
        out.append(f"| peak memory of a start <= bwrap's + 1 MiB (issue 13) | {sr} vs {br} + 1024 KiB | {'yes' if sr <= br + 1024 else 'no'} |")
    sr, cr = rss["syscage, default profile"], rss["crun, Docker profile"]
    if sr and cr:
        out.append(f"| peak memory of a start below crun's | {sr} vs {cr} KiB | {'yes' if sr < cr else 'no'} |")
    learn_o = lh["syscage learn"]["median"] - basel
    strace_o = lh["strace -f -c, syscage run"]["median"] - basel
    out.append(f"| learn several times faster than strace -f -c (overhead) | {ms(learn_o)} vs {ms(strace_o)} ms ({strace_o / max(learn_o, 1e-6):.1f}x) | {'yes' if strace_o >= 3 * learn_o else 'no'} |")
    out.append("")
    text = "\n".join(out)
    print(text)
    with open(f"{results_dir}/latest.md", "w") as f:
        f.write(text + "\n")
    chart(rows, back, idle, pc)


def chart(rows, back, idle, pc):
    if not shutil.which("gnuplot"):
        print("gnuplot is missing: no chart")
        return
    d = tempfile.mkdtemp(dir=work)
    with open(f"{d}/start.dat", "w") as f:
        for name, _ in rows:
            f.write(f"\"{name}\" {back[name]['median'] * 1000:.3f} {idle[name]['median'] * 1000:.3f}\n")
    with open(f"{d}/calls.dat", "w") as f:
        for name, v in pc.items():
            if v:
                f.write(f"\"{name}\" {v['getpid']:.1f} {v['fchmod']:.1f} {v['personality']:.1f} {v['ioctl']:.1f} {v['socket']:.1f}\n")
    script = f"""
set terminal pngcairo size 1400,1100 font 'sans,10'
set output '{results_dir}/chart.png'
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 left nomirror
set key top left
set title 'Start to exit of /bin/true (median ms, lower is better)'
set ylabel 'ms'
# Both axes from 0: an axis cut above 0 makes small differences look large.
set yrange [0:*]
plot '{d}/start.dat' using 2:xtic(1) title 'back to back', '' using 3 title 'after 50 ms idle'
set title 'Cost per system call under each filter (ns, lower is better)'
set ylabel 'ns'
plot '{d}/calls.dat' using 2:xtic(1) title 'getpid', '' using 3 title 'fchmod', '' using 4 title 'personality', '' using 5 title 'ioctl(TCGETS)', '' using 6 title 'socket'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    print(f"\nchart: {results_dir}/chart.png")


main()

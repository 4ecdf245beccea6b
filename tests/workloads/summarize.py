#!/usr/bin/env python3
"""Prints the table of a workload run and fails on a denial under `default` that is not
deliberate.

summarize.py RESULTS DELIBERATE WORKLOAD...: RESULTS holds, for each workload W and profile
P, W.P.rc (exit status), W.P.secs (wall time), W.P.out and W.P.err (output) and W.P.json
(the --report=FILE events). Exit status 0 when every workload works under both profiles
and `default` denied nothing but deliberate calls; 1 otherwise.
"""
import json
import os
import sys
from collections import Counter, defaultdict

PROFILES = ("unconfined", "default")


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def deliberate_list(path):
    out = {}
    for line in read(path).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            syscall, action, reason = line.split(None, 2)
            out[(syscall, action)] = reason
    return out


def report(path):
    """(events, totals): the denied-call events, and the count per (syscall, action) from
    the summary line (which keeps counting after the event cap)."""
    events, totals = [], Counter()
    for line in read(path).splitlines():
        e = json.loads(line)
        if "summary" in e:
            for s in e["summary"]:
                totals[(s["syscall"], s["action"])] += s["count"]
        else:
            events.append(e)
    if not totals:
        for e in events:
            totals[(e["syscall"], e["action"])] += 1
    return events, totals


def status(results, w, p):
    rc = read(f"{results}/{w}.{p}.rc", "?").strip()
    secs = read(f"{results}/{w}.{p}.secs", "?").strip()
    if rc == "0":
        return True, f"ok {secs}s"
    word = {"124": "timeout", "137": "killed"}.get(rc, f"exit {rc}")
    return False, f"FAILED ({word}) {secs}s"


def arg_groups(events):
    """Groups events by the decoded arguments that take few values; an argument with many
    values (junk in a register, an address) is listed apart."""
    values = defaultdict(set)
    for e in events:
        for d in e.get("decoded", []):
            name, _, value = d.partition("=")
            values[name].add(value)
    varying = {n for n, v in values.items() if len(v) > 3}
    groups = Counter()
    for e in events:
        fixed = [d for d in e.get("decoded", []) if d.partition("=")[0] not in varying]
        groups[(e.get("comm", "?"), e.get("exe", "?"), ", ".join(fixed))] += 1
    return groups, {n: sorted(values[n]) for n in sorted(varying)}


def main():
    results, deliberate_path, workloads = sys.argv[1], sys.argv[2], sys.argv[3:]
    deliberate = deliberate_list(deliberate_path)
    rows, failures, details = [], [], []
    for w in workloads:
        cells = [w]
        for p in PROFILES:
            ok, text = status(results, w, p)
            cells.append(text)
            if not ok:
                err = read(f"{results}/{w}.{p}.err").strip().splitlines()
                failures.append(f"{w} under {p}: {text}; last lines of its output:")
                failures.extend("    " + l for l in (err[-8:] or ["(nothing on stderr)"]))
        events, totals = report(f"{results}/{w}.default.json")
        denied = []
        for (syscall, action), n in sorted(totals.items(), key=lambda kv: -kv[1]):
            known = (syscall, action) in deliberate
            denied.append(f"{syscall} {action} x{n}" + (" (deliberate)" if known else " (NOT deliberate)"))
            if not known:
                failures.append(f"{w}: {syscall} denied under default ({action} x{n}), not on the deliberate list")
                mine = [e for e in events if (e["syscall"], e["action"]) == (syscall, action)]
                groups, varying = arg_groups(mine)
                rule = mine[0].get("rule", "?") if mine else "?"
                details.append(f"  {w}: {syscall} {action} x{n}, by {rule}")
                for (comm, exe, args), c in groups.most_common():
                    details.append(f"      x{c:<4} {comm} ({exe}): {syscall}({args})")
                for name, vals in varying.items():
                    shown = ", ".join(vals[:6]) + (", ..." if len(vals) > 6 else "")
                    details.append(f"      {name} took {len(vals)} values: {shown}")
        cells.append("; ".join(denied) or "none")
        rows.append(cells)

    head = ["workload", "unconfined", "default", "denied under default"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    line = lambda cells: "  ".join(c.ljust(widths[i]) if i < 3 else c for i, c in enumerate(cells))
    print(line(head))
    print(line(["-" * w for w in widths] + ["-" * 20]))
    for r in rows:
        print(line(r))
    if details:
        print("\ndenials under default that are not deliberate:")
        print("\n".join(details))
    if failures:
        print("\nFAILED:")
        print("\n".join("  " + f for f in failures))
        return 1
    print(f"\nall {len(workloads)} workloads work under both profiles; default denied only deliberate calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())

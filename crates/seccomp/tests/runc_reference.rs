//! syscage reads a profile as runc reads it. For thousands of generated profiles (several
//! conditions on one argument, on several arguments, mixed; every operator; unconditional
//! and conditional entries; entries with the default's action), syscage's compiled program
//! is compared, call by call, with a reference built the way runc's `matchCall` builds it:
//! straight from the profile into libseccomp, one `seccomp_rule_add` per entry and name,
//! split into one rule per condition when the entry compares an argument more than once,
//! with no syscage planner in between. Both programs run in syscage's BPF interpreter.
//!
//! Where syscage differs on purpose, the generator stays out of the way: values fit the
//! width the kernel reads of their argument and calls leave the upper bits of narrow
//! arguments clear (syscage compares the bits the kernel reads, runc all 64); calls newer
//! than the profile are not compared (syscage answers ENOSYS, as runc's own stub does
//! outside libseccomp); every conditional rule of a call shares one action (libseccomp's
//! choice between overlapping conditional rules of different actions is not a format's
//! meaning; `profile lint` reports such profiles).

use libseccomp::{ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use std::io::{Read, Seek};
use std::os::fd::AsFd;
use syscage_policy::arch::{Arch, AUDIT_ARCH_X86_64};
use syscage_policy::{plan, profile, resolve, syscalls, Action, Context};
use syscage_seccomp::bpf::{self, SeccompData, SockFilter};
use syscage_seccomp::compile;

/// SplitMix64: a fixed seed, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Calls with arguments of every width libseccomp 2.5.4 knows by name.
const CALLS: &[&str] = &[
    "ioctl",
    "socket",
    "personality",
    "dup3",
    "prctl",
    "mmap",
    "kill",
    "fchmod",
    "openat",
    "lseek",
    "madvise",
    "clone",
    "setns",
    "getpid",
];

const OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

#[derive(Debug, Clone)]
struct Cond {
    index: u8,
    op: &'static str,
    value: u64,
    two: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    names: Vec<&'static str>,
    action: Action,
    args: Vec<Cond>,
}

/// A value of `bits` width, often one the other conditions and calls use too.
fn value(r: &mut Rng, bits: u32) -> u64 {
    let w = syscage_policy::cond::width_mask(bits);
    let v = match r.below(6) {
        0 => r.below(4),
        1 => 0x5412 + r.below(12),
        2 => 1u64 << r.below(u64::from(bits)),
        3 => w - r.below(3),
        _ => r.next(),
    };
    v & w
}

fn bits(name: &str, index: u8) -> u32 {
    syscalls::arg_bits(syscalls::lookup(name).expect("known call"), index)
}

fn gen_entry(r: &mut Rng, call: &'static str, action: Action) -> Entry {
    let arity = syscalls::lookup(call).map(|s| s.args.len()).unwrap_or(0);
    let n = match r.below(5) {
        0 => 0,
        1 | 2 => 1,
        3 => 2,
        _ => 2 + r.below(3) as usize,
    };
    let mut args = Vec::new();
    for _ in 0..n {
        // Mostly the call's own arguments, sometimes a register it does not use.
        let top = (arity.max(1) + usize::from(r.below(4) == 0)).min(6);
        // Repeating an index is the point: half the time, the previous one.
        let index = match args.last() {
            Some(Cond { index, .. }) if r.below(2) == 0 => *index,
            _ => r.below(top as u64) as u8,
        };
        let b = bits(call, index);
        let op = *r.pick(OPS);
        let (value, two) = if op == "SCMP_CMP_MASKED_EQ" {
            let mask = value(r, b) | if r.below(2) == 0 { 0xff } else { 0 };
            let mask = mask & syscage_policy::cond::width_mask(b);
            // Mostly a value within the mask (else it never matches, also worth a case).
            let v = value(r, b) & if r.below(8) == 0 { u64::MAX } else { mask };
            (mask, v)
        } else {
            (value(r, b), 0)
        };
        args.push(Cond {
            index,
            op,
            value,
            two,
        });
    }
    Entry {
        names: vec![call],
        action,
        args,
    }
}

fn to_json(default: Action, entries: &[Entry]) -> String {
    let mut calls = Vec::new();
    for e in entries {
        let args: Vec<String> = e
            .args
            .iter()
            .map(|c| {
                if c.op == "SCMP_CMP_MASKED_EQ" {
                    format!(
                        r#"{{"index": {}, "value": {}, "valueTwo": {}, "op": "{}"}}"#,
                        c.index, c.value, c.two, c.op
                    )
                } else {
                    format!(
                        r#"{{"index": {}, "value": {}, "op": "{}"}}"#,
                        c.index, c.value, c.op
                    )
                }
            })
            .collect();
        let errno = e
            .action
            .data()
            .map(|v| format!(r#", "errnoRet": {v}"#))
            .unwrap_or_default();
        let names: Vec<String> = e.names.iter().map(|n| format!("\"{n}\"")).collect();
        calls.push(format!(
            r#"{{"names": [{}], "action": "{}"{errno}, "args": [{}]}}"#,
            names.join(", "),
            e.action.docker_name(),
            args.join(", ")
        ));
    }
    let derrno = default
        .data()
        .map(|v| format!(r#", "defaultErrnoRet": {v}"#))
        .unwrap_or_default();
    format!(
        r#"{{"defaultAction": "{}"{derrno}, "syscalls": [{}]}}"#,
        default.docker_name(),
        calls.join(", ")
    )
}

fn scmp_op(c: &Cond) -> (ScmpCompareOp, u64) {
    match c.op {
        "SCMP_CMP_NE" => (ScmpCompareOp::NotEqual, c.value),
        "SCMP_CMP_LT" => (ScmpCompareOp::Less, c.value),
        "SCMP_CMP_LE" => (ScmpCompareOp::LessOrEqual, c.value),
        "SCMP_CMP_EQ" => (ScmpCompareOp::Equal, c.value),
        "SCMP_CMP_GE" => (ScmpCompareOp::GreaterEqual, c.value),
        "SCMP_CMP_GT" => (ScmpCompareOp::Greater, c.value),
        _ => (ScmpCompareOp::MaskedEqual(c.value), c.two),
    }
}

/// The program runc would load for the profile (`InitSeccomp` and `matchCall`, native
/// ABI only); `None` when libseccomp refuses it (runc would fail to start).
fn reference(default: Action, entries: &[Entry]) -> Option<Vec<SockFilter>> {
    let def = compile::scmp_action(default);
    let mut ctx = ScmpFilterContext::new(def).ok()?;
    ctx.set_ctl_nnp(false).ok()?;
    for e in entries {
        let act = compile::scmp_action(e.action);
        if e.action == default {
            continue; // "This rule is redundant, silently skip it"
        }
        for name in &e.names {
            let sc = ScmpSyscall::from_name(name).ok()?;
            if e.args.is_empty() {
                ctx.add_rule(act, sc).ok()?;
                continue;
            }
            let conds: Vec<ScmpArgCompare> = e
                .args
                .iter()
                .map(|c| {
                    let (op, v) = scmp_op(c);
                    ScmpArgCompare::new(u32::from(c.index), op, v)
                })
                .collect();
            let mut count = [0u32; 6];
            for c in &e.args {
                count[usize::from(c.index)] += 1;
            }
            if count.iter().any(|n| *n > 1) {
                for c in &conds {
                    ctx.add_rule_conditional(act, sc, std::slice::from_ref(c))
                        .ok()?;
                }
            } else {
                ctx.add_rule_conditional(act, sc, &conds).ok()?;
            }
        }
    }
    let mut f = std::fs::File::from(
        nix::sys::memfd::memfd_create("reference", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).ok()?,
    );
    ctx.export_bpf(f.as_fd()).ok()?;
    let mut bytes = Vec::new();
    f.rewind().ok()?;
    f.read_to_end(&mut bytes).ok()?;
    bpf::from_bytes(&bytes)
}

/// What runc's rules for a call say, read directly: the rules `reference` adds (one per
/// condition when an argument repeats), compared on 64 bits, a MASKED_EQ value under its
/// mask; an unconditional rule decides alone. Where libseccomp's program says otherwise,
/// libseccomp did not build what it was given.
fn rules_say(default: Action, entries: &[Entry], call: &str, args: &[u64; 6]) -> Action {
    let holds = |c: &Cond| {
        let a = args[usize::from(c.index)];
        match c.op {
            "SCMP_CMP_NE" => a != c.value,
            "SCMP_CMP_LT" => a < c.value,
            "SCMP_CMP_LE" => a <= c.value,
            "SCMP_CMP_EQ" => a == c.value,
            "SCMP_CMP_GE" => a >= c.value,
            "SCMP_CMP_GT" => a > c.value,
            _ => a & c.value == c.two & c.value,
        }
    };
    let mine = || {
        entries
            .iter()
            .filter(move |e| e.action != default && e.names.contains(&call))
    };
    if let Some(e) = mine().find(|e| e.args.is_empty()) {
        return e.action;
    }
    for e in mine() {
        let mut count = [0u32; 6];
        for c in &e.args {
            count[usize::from(c.index)] += 1;
        }
        let hit = if count.iter().any(|n| *n > 1) {
            e.args.iter().any(holds)
        } else {
            e.args.iter().all(holds)
        };
        if hit {
            return e.action;
        }
    }
    default
}

fn run(prog: &[SockFilter], nr: u32, args: [u64; 6]) -> Action {
    let data = SeccompData {
        nr,
        arch: AUDIT_ARCH_X86_64,
        instruction_pointer: 0,
        args,
    };
    Action::from_ret(bpf::run(prog, &data).expect("program runs"))
}

/// A call's registers: each argument a value near the profile's, its upper bits clear
/// when the kernel reads it narrower than 64 bits.
fn call_args(r: &mut Rng, call: &str, entries: &[Entry]) -> [u64; 6] {
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        let b = bits(call, i as u8);
        let seen: Vec<u64> = entries
            .iter()
            .filter(|e| e.names.contains(&call))
            .flat_map(|e| e.args.iter())
            .filter(|c| usize::from(c.index) == i)
            .flat_map(|c| [c.value, c.two])
            .collect();
        *a = match (r.below(4), seen.is_empty()) {
            (0 | 1, false) => {
                let v = *r.pick(&seen);
                match r.below(4) {
                    0 => v.wrapping_add(1),
                    1 => v.wrapping_sub(1),
                    2 => v ^ (1 << r.below(u64::from(b))),
                    _ => v,
                }
            }
            _ => value(r, b),
        } & syscage_policy::cond::width_mask(b);
    }
    args
}

#[test]
fn syscage_decides_as_runc_builds_the_profile() {
    let mut r = Rng(0x5eed_0009);
    let defaults = [
        Action::Errno(1),
        Action::Allow,
        Action::KillProcess,
        Action::Log,
    ];
    let actions = [
        Action::Allow,
        Action::Errno(1),
        Action::Errno(55),
        Action::KillThread,
        Action::Trap,
        Action::Log,
    ];
    let (mut pairs, mut profiles, mut refused_by_runc, mut split) = (0usize, 0usize, 0, 0);
    let (mut too_complex, mut libseccomp_wrong, mut differ_count) = (0, 0, 0);
    let mut first_wrong = String::new();
    let mut differ = Vec::new();
    while pairs < 12_000 {
        let default = *r.pick(&defaults);
        // One action per call for its conditional rules; an unconditional entry may
        // take another (libseccomp lets it decide alone, and so does syscage).
        let mut entries = Vec::new();
        let calls: Vec<&'static str> = (0..1 + r.below(3)).map(|_| *r.pick(CALLS)).collect();
        for call in &calls {
            let action = if r.below(8) == 0 {
                default
            } else {
                *r.pick(&actions)
            };
            for _ in 0..1 + r.below(3) {
                let mut e = gen_entry(&mut r, call, action);
                if e.args.is_empty() && r.below(3) != 0 {
                    e = gen_entry(&mut r, call, action);
                }
                if e.args.is_empty() && r.below(4) == 0 {
                    e.action = *r.pick(&actions);
                }
                entries.push(e);
            }
        }
        // The call every profile needs to start a container, so the profile is usable.
        entries.push(Entry {
            names: vec!["execve"],
            action: Action::Allow,
            args: vec![],
        });
        let text = to_json(default, &entries);
        let Some(want_prog) = reference(default, &entries) else {
            refused_by_runc += 1;
            continue;
        };
        let p = profile::parse(&text, Default::default()).expect(&text);
        split += p
            .syscalls()
            .iter()
            .filter(|e| e.alternatives().len() > 1)
            .count();
        let policy = match resolve::resolve("gen", &p, &Context::docker_default()) {
            Ok(p) => p,
            // An allow-all default with execve denied cannot happen here; anything else
            // is a bug.
            Err(e) => panic!("{e}: {text}"),
        };
        // syscage refuses rules that need more than 512 cubes to compile exactly (several
        // inequalities on 32-bit arguments of one call): not a difference of meaning.
        let Ok(pl) = plan::plan(&policy) else {
            too_complex += 1;
            continue;
        };
        let got_prog = compile::compile(&pl).expect(&text).program;
        profiles += 1;
        for _ in 0..30 {
            let call = *r.pick(&calls);
            let s = syscalls::lookup(call).unwrap();
            let nr = syscalls::number(s, Arch::X86_64).unwrap();
            if policy.is_newer(Arch::X86_64, nr) {
                continue;
            }
            let args = call_args(&mut r, call, &entries);
            let (got, want) = (run(&got_prog, nr, args), run(&want_prog, nr, args));
            let meant = rules_say(default, &entries, call, &args);
            pairs += 1;
            if want != meant {
                libseccomp_wrong += 1;
                if first_wrong.is_empty() {
                    first_wrong = format!(
                        "e.g. {call}{args:x?}: libseccomp {want}, its rules {meant}, syscage {got}: {text}"
                    );
                }
            }
            if (got != want && want == meant) || got != meant {
                if differ.len() < 10 {
                    differ.push(format!(
                        "{call}{args:x?}: syscage {got}, runc {want} (its rules say {meant})\n  {text}"
                    ));
                }
                differ_count += 1;
            }
        }
    }
    println!(
        "{pairs} calls on {profiles} profiles ({split} entries with a repeated argument); {refused_by_runc} profiles libseccomp refused, {too_complex} syscage refused as too complex; {libseccomp_wrong} calls where libseccomp's program differs from the rules it was given; {differ_count} differences"
    );
    println!("{first_wrong}");
    assert!(
        too_complex * 10 < profiles,
        "{too_complex} of {profiles} too complex"
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(split > 500, "the generator repeats arguments: {split}");
}

/// Entries of a profile syscage wrote, for `reference`.
fn entries_of(text: &str) -> (Action, Vec<Entry>) {
    let v: serde_json::Value = serde_json::from_str(text).expect("JSON");
    let action = |o: &serde_json::Value, name: &str, ret: &str| {
        let n = o[name].as_str().expect("action");
        let r = o.get(ret).and_then(|x| x.as_u64()).map(|x| x as u16);
        Action::from_docker(n, r).expect("known action")
    };
    let default = action(&v, "defaultAction", "defaultErrnoRet");
    let mut out = Vec::new();
    // A SeccompProfile without entries leaves `syscalls` out.
    for e in v["syscalls"].as_array().into_iter().flatten() {
        let names: Vec<&'static str> = e["names"]
            .as_array()
            .expect("names")
            .iter()
            .filter_map(|n| syscalls::lookup(n.as_str()?).map(|s| s.name))
            .filter(|n| ScmpSyscall::from_name(n).is_ok())
            .collect();
        let args = e
            .get("args")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .map(|c| Cond {
                        index: c["index"].as_u64().expect("index") as u8,
                        op: OPS
                            .iter()
                            .find(|o| **o == c["op"].as_str().expect("op"))
                            .expect("known op"),
                        value: c["value"].as_u64().expect("value"),
                        two: c.get("valueTwo").and_then(|x| x.as_u64()).unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Entry {
            names,
            action: action(e, "action", "errnoRet"),
            args,
        });
    }
    (default, out)
}

/// Registers as a program may leave them: random upper bits on arguments the kernel
/// reads narrower, half of the time.
fn junk_upper(r: &mut Rng, call: &str, mut args: [u64; 6]) -> [u64; 6] {
    for (i, a) in args.iter_mut().enumerate() {
        let b = bits(call, i as u8);
        if b < 64 && r.below(2) == 0 {
            *a |= r.next() & !syscage_policy::cond::width_mask(b);
        }
    }
    args
}

#[test]
fn what_syscage_writes_means_the_same_under_runc() {
    let mut r = Rng(0x5eed_0091);
    let defaults = [Action::Errno(1), Action::Allow];
    let actions = [
        Action::Allow,
        Action::Errno(1),
        Action::Errno(55),
        Action::Log,
    ];
    let mut cases: Vec<(String, String)> = ["default", "contained"]
        .iter()
        .map(|b| {
            let t = syscage_policy::builtin::get(b).unwrap().text().unwrap();
            (b.to_string(), t.to_string())
        })
        .collect();
    for i in 0..150 {
        let default = *r.pick(&defaults);
        let mut calls: Vec<&'static str> = (0..1 + r.below(3)).map(|_| *r.pick(CALLS)).collect();
        calls.sort_unstable();
        calls.dedup();
        let mut entries = Vec::new();
        // One action per call: conditional rules of different actions that overlap are
        // what `profile lint` calls conflicting, and libseccomp may refuse them.
        for call in &calls {
            let action = *r.pick(&actions);
            for _ in 0..1 + r.below(3) {
                entries.push(gen_entry(&mut r, call, action));
            }
        }
        entries.push(Entry {
            names: vec!["execve"],
            action: Action::Allow,
            args: vec![],
        });
        cases.push((format!("generated {i}"), to_json(default, &entries)));
    }
    let (mut pairs, mut libseccomp_wrong, mut skipped, mut spo) = (0usize, 0usize, 0usize, 0);
    let mut differ = Vec::new();
    for (label, text) in &cases {
        let p = profile::parse(text, Default::default()).expect(text);
        let policy = resolve::resolve("t", &p, &Context::docker_default()).expect(text);
        let Ok(pl) = plan::plan(&policy) else {
            skipped += 1;
            continue;
        };
        let ours = compile::compile(&pl).expect(text).program;
        // The Docker form of the built-ins keeps `includes`/`excludes`, which Docker and
        // Podman resolve and runc ignores: runtimes get the OCI form.
        let mut written = vec![("oci", profile::policy_to_oci(&policy, false).expect(text))];
        // The Security Profiles Operator installs a resource's `spec` on the node as the
        // JSON of this same object; the resource holds no value above 2^63-1.
        match profile::spo::policy_to_spo(&policy, "t", &[]) {
            Ok(yaml) => {
                let spec = profile::yaml::to_value(&yaml).expect(&yaml)["spec"].to_string();
                written.push(("spo", spec));
                spo += 1;
            }
            Err(profile::spo::WriteError::Value { .. }) => {}
            Err(e) => panic!("{label}: {e}"),
        }
        if label.starts_with("generated") {
            written.push(("json", profile::to_json(&p).expect(text)));
        }
        let names: Vec<&'static str> = p
            .syscalls()
            .iter()
            .flat_map(|e| e.names().iter())
            .filter_map(|n| syscalls::lookup(n).map(|s| s.name))
            .filter(|n| {
                ScmpSyscall::from_name(n).is_ok() && syscalls::lookup(n).unwrap().x86_64.is_some()
            })
            .collect();
        for (form, w) in &written {
            let (wd, we) = entries_of(w);
            let Some(theirs) = reference(wd, &we) else {
                panic!(
                    "{label}: libseccomp refuses what syscage wrote ({form}):\n{w}\nfrom {text}"
                );
            };
            for _ in 0..40 {
                let call = *r.pick(&names);
                let s = syscalls::lookup(call).unwrap();
                let nr = syscalls::number(s, Arch::X86_64).unwrap();
                if policy.is_newer(Arch::X86_64, nr) {
                    continue;
                }
                let base = call_args(&mut r, call, &[]);
                // Values the rules compare, on the terminal-injection requests too.
                let mut args = base;
                if r.below(2) == 0 {
                    let i = r.below(6) as usize;
                    args[i] = *r.pick(&[0x5412u64, 0x541c, 22, 0o4755, 0o2000, 0o100, 40]);
                }
                let args = junk_upper(&mut r, call, args);
                let got = run(&ours, nr, args);
                let want = run(&theirs, nr, args);
                let meant = rules_say(wd, &we, call, &args);
                pairs += 1;
                if want != meant {
                    libseccomp_wrong += 1;
                }
                if got != meant && differ.len() < 10 {
                    differ.push(format!(
                        "{label} ({form}): {call}{args:x?}: syscage {got}, the written profile under runc {want} (its rules say {meant})"
                    ));
                }
            }
        }
    }
    println!("{pairs} calls on {} profiles as written by syscage ({spo} also as a SeccompProfile); {skipped} too complex; {libseccomp_wrong} where libseccomp's program differs from its rules", cases.len());
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(pairs > 10_000, "{pairs}");
    assert!(
        spo * 2 > cases.len(),
        "{spo} of {} as a SeccompProfile",
        cases.len()
    );
}

//! What the reader's tests share: a generator of structurally valid profiles (Docker JSON,
//! and the same as a Security Profiles Operator resource in YAML), and the check that two
//! policies decide every call alike.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use syscage_policy::arch::Arch;
use syscage_policy::{eval, syscalls, Policy};

/// Calls with arguments of every width, the multiplexed socket calls, and calls that
/// matter to the linter.
pub const CALLS: &[&str] = &[
    "ioctl",
    "socket",
    "personality",
    "fchmod",
    "fchmodat",
    "openat",
    "clone",
    "unshare",
    "mmap",
    "kill",
    "prctl",
    "dup3",
    "lseek",
    "getpid",
    "read",
    "write",
    "mknodat",
    "setns",
    "bind",
    "mseal",
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

fn bits(call: &str, index: u8) -> u32 {
    syscalls::lookup(call)
        .map(|s| syscalls::arg_bits(s, index))
        .unwrap_or(64)
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// A value an argument of `bits` can hold, often one that matters.
fn value(bits: u32) -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => 0u64..4,
        1 => Just(0x5412u64),
        1 => Just(0x541cu64),
        1 => Just(40u64),
        1 => Just(0o4755u64),
        2 => (0u32..64).prop_map(|b| 1u64 << b),
        // Values above 2^63-1 are rarer: the SeccompProfile form cannot hold them.
        4 => 0..=i64::MAX as u64,
        1 => any::<u64>(),
    ]
    .prop_map(move |v| v & mask(bits))
}

/// One condition on an argument of `names` (mostly arguments the first takes), with a
/// value every one of them can hold.
fn condition(names: Vec<&'static str>) -> impl Strategy<Value = Value> {
    let arity = syscalls::lookup(names[0])
        .map(|s| s.args.len())
        .unwrap_or(6);
    // Mostly what real profiles compare with (equality and masks); inequalities on narrow
    // arguments take many cases to compile, and several on one call too many.
    let op = prop_oneof![
        3 => Just("SCMP_CMP_EQ"),
        3 => Just("SCMP_CMP_MASKED_EQ"),
        2 => prop::sample::select(OPS),
    ];
    (0..arity.clamp(1, 6) as u8, op)
        .prop_flat_map(move |(index, op)| {
            let b = names.iter().map(|n| bits(n, index)).min().unwrap_or(64);
            (Just(index), Just(op), value(b), value(b))
        })
        .prop_map(|(index, op, v, two)| {
            if op == "SCMP_CMP_MASKED_EQ" {
                json!({"index": index, "value": v, "valueTwo": two & v, "op": op})
            } else {
                json!({"index": index, "value": v, "op": op})
            }
        })
}

fn action() -> impl Strategy<Value = (String, Option<u64>)> {
    prop_oneof![
        4 => Just(("SCMP_ACT_ALLOW".to_string(), None)),
        3 => prop::sample::select(vec![1u64, 13, 38, 95, 4094])
            .prop_map(|e| ("SCMP_ACT_ERRNO".to_string(), Some(e))),
        1 => Just(("SCMP_ACT_ERRNO".to_string(), None)),
        1 => Just(("SCMP_ACT_LOG".to_string(), None)),
        1 => Just(("SCMP_ACT_TRAP".to_string(), None)),
        1 => Just(("SCMP_ACT_KILL_PROCESS".to_string(), None)),
        1 => Just(("SCMP_ACT_KILL_THREAD".to_string(), None)),
        1 => (1u64..100).prop_map(|v| ("SCMP_ACT_TRACE".to_string(), Some(v))),
    ]
}

fn entry() -> impl Strategy<Value = Value> {
    (prop::sample::subsequence(CALLS, 1..3), action(), 0usize..4)
        .prop_flat_map(|(names, action, n)| {
            (
                Just(names.clone()),
                Just(action),
                prop::collection::vec(condition(names), n),
            )
        })
        .prop_map(|(names, (action, ret), args)| {
            let mut e = json!({"names": names, "action": action});
            if let Some(r) = ret {
                e["errnoRet"] = json!(r);
            }
            if !args.is_empty() {
                e["args"] = Value::Array(args);
            }
            e
        })
}

/// A Docker-format profile that the reader accepts: a default action, maybe other ABIs,
/// entries with conditions that fit their arguments, and `execve` allowed (mostly) so
/// that resolution keeps it.
pub fn profile() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(json!({"defaultAction": "SCMP_ACT_ERRNO"})),
            Just(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1})),
            Just(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38})),
            Just(json!({"defaultAction": "SCMP_ACT_ALLOW"})),
            Just(json!({"defaultAction": "SCMP_ACT_KILL_PROCESS"})),
            Just(json!({"defaultAction": "SCMP_ACT_LOG"})),
        ],
        prop::sample::subsequence(
            vec!["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            0..3,
        ),
        prop::collection::vec(entry(), 0..10),
        0u8..20,
    )
        .prop_map(|(mut p, arches, mut entries, execve)| {
            if !arches.is_empty() {
                p["architectures"] = json!(arches);
            }
            if execve > 0 {
                entries
                    .push(json!({"names": ["execve", "exit_group"], "action": "SCMP_ACT_ALLOW"}));
            }
            p["syscalls"] = Value::Array(entries);
            p
        })
}

/// A Docker-format profile as a `SeccompProfile` resource: `defaultErrnoRet` has no place
/// there (its ERRNO is EPERM), the rest is the same.
pub fn as_resource(profile: &Value, name: &str) -> Value {
    let mut spec = profile.clone();
    if let Some(o) = spec.as_object_mut() {
        o.remove("defaultErrnoRet");
    }
    json!({
        "apiVersion": "security-profiles-operator.x-k8s.io/v1beta1",
        "kind": "SeccompProfile",
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// A JSON value as block-style YAML (strings always quoted, so that every reader reads
/// them alike).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    block(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap(),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        Value::Object(o) if o.is_empty() => "{}".to_string(),
        other => other.to_string(),
    }
}

fn block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, x) in o {
                match x {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        block(x, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        block(x, indent, out);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(x))),
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                match x {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        block(x, indent + 2, &mut inner);
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                    Value::Array(b) if !b.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        block(x, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(x))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// Argument vectors for a call: zero, every value either policy's rules compare, each
/// one off, with a masked bit flipped, and with junk in the upper bits.
fn probes(a: &Policy, b: &Policy, name: &str) -> Vec<[u64; 6]> {
    let mut vals: Vec<BTreeSet<u64>> = vec![BTreeSet::from([0u64, u64::MAX]); 6];
    for r in a
        .rules()
        .iter()
        .chain(b.rules())
        .filter(|r| r.name() == name)
    {
        for c in r.conds() {
            let i = usize::from(c.index());
            let v = c.value();
            for x in [v, v.wrapping_add(1), v.wrapping_sub(1), v | 0xdead << 32] {
                vals[i].insert(x);
            }
            if let syscage_policy::Op::MaskedEq(m) = c.op() {
                vals[i].insert(v ^ (m & m.wrapping_neg()));
                vals[i].insert(v | !m);
            }
        }
    }
    let mut out = vec![[0u64; 6]];
    for (i, vs) in vals.iter().enumerate() {
        for v in vs {
            let mut p = [0u64; 6];
            p[i] = *v;
            out.push(p);
        }
    }
    // Every argument at once at a compared value.
    let mut all = [0u64; 6];
    for (i, vs) in vals.iter().enumerate() {
        all[i] = *vs.iter().nth(1).unwrap_or(&0);
    }
    out.push(all);
    out
}

/// Whether two policies decide every call alike: the same ABIs, and for every call
/// number of each (and the numbers around the newer-than-profile boundary), with the
/// argument values either compares, the same action.
pub fn same_decisions(a: &Policy, b: &Policy) -> Result<(), String> {
    if a.arches() != b.arches() {
        return Err(format!("ABIs {:?} and {:?}", a.arches(), b.arches()));
    }
    for &arch in a.arches() {
        let audit = arch.audit_arch().ok_or("a foreign ABI")?;
        let max = syscalls::max_number(arch).unwrap_or(0);
        let low = if arch == Arch::X32 { 0x4000_0000 } else { 0 };
        for nr in low..=max + 3 {
            let s = syscalls::by_number(arch, nr);
            let name = s.map(|s| s.name).unwrap_or("");
            for p in probes(a, b, name) {
                let da = eval::decide_raw(a, audit, nr, &p);
                let db = eval::decide_raw(b, audit, nr, &p);
                if da.action != db.action {
                    return Err(format!(
                        "{arch} call {nr} ({name}) {p:x?}: {} by {}, then {} by {}",
                        da.action,
                        da.by.describe(a),
                        db.action,
                        db.by.describe(b)
                    ));
                }
            }
        }
    }
    Ok(())
}

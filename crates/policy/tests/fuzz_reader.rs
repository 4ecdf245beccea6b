//! A short fuzz run of the profile readers for CI (the long runs use the cargo-fuzz target
//! in `fuzz/`): any text gives a profile or an error, never a panic, and an accepted
//! profile must plan as the evaluator decides.
//!
//! Random bytes and random JSON rarely get past the strict reader, so they test little
//! beyond "no panic". Most cases here are built to be accepted: structurally valid
//! profiles (Docker JSON, and the same as a SeccompProfile in YAML and JSON), and real
//! profiles mutated in their JSON tree rather than their bytes. Each test counts how many
//! cases reach the comparison of the plan with the evaluator, and fails when too few do
//! (`FUZZ_DEBUG=1` prints why each of the others stopped).

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::cell::Cell;
use syscage_policy::arch::{Arch, AUDIT_ARCH_X86_64};
use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{eval, plan, resolve, syscalls, Context};

const SEEDS: &[&str] = &[
    include_str!("../../../profiles/docker-default.json"),
    include_str!("fixtures/profiles/conflicts.json"),
    include_str!("../profiles/contained.json"),
];

/// How far a text got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    Refused,
    Read,
    Resolved,
    /// The plan was compared with the evaluator, call by call.
    Compared,
}

fn exercise(text: &str) -> Reached {
    let p = match profile::parse(text, ReadOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            if std::env::var_os("FUZZ_DEBUG").is_some() {
                eprintln!("REFUSED {e}");
            }
            return Reached::Refused;
        }
    };
    let _ = profile::to_json(&p);
    let policy = match resolve::resolve("fuzz", &p, &Context::docker_default()) {
        Ok(p) => p,
        Err(e) => {
            if std::env::var_os("FUZZ_DEBUG").is_some() {
                eprintln!("UNRESOLVED {e}");
            }
            return Reached::Read;
        }
    };
    let _ = profile::policy_to_oci(&policy, false);
    let _ = profile::spo::policy_to_spo(&policy, "fuzz", &[]);
    let pl = match plan::plan(&policy) {
        Ok(p) => p,
        Err(e) => {
            if std::env::var_os("FUZZ_DEBUG").is_some() {
                eprintln!("UNPLANNED {e}");
            }
            return Reached::Resolved;
        }
    };
    for s in syscalls::all().iter().step_by(11) {
        let Some(nr) = syscalls::number(s, Arch::X86_64) else {
            continue;
        };
        let args = [0, 0x5412, 1 << 32 | 40, u64::MAX, 0o4755, 7];
        assert_eq!(
            pl.decide(Arch::X86_64, nr, &args),
            eval::decide_raw(&policy, AUDIT_ARCH_X86_64, nr, &args).action,
            "{text}"
        );
    }
    // The names the profile compares, with the values its rules compare.
    for r in policy.rules() {
        let Some(nr) = syscalls::number(r.syscall(), Arch::X86_64) else {
            continue;
        };
        let mut args = [0u64; 6];
        for c in r.conds() {
            args[usize::from(c.index())] = c.value();
        }
        for a in [
            args,
            args.map(|v| v.wrapping_add(1)),
            args.map(|v| v | 0xf << 32),
        ] {
            assert_eq!(
                pl.decide(Arch::X86_64, nr, &a),
                eval::decide_raw(&policy, AUDIT_ARCH_X86_64, nr, &a).action,
                "{text}"
            );
        }
    }
    Reached::Compared
}

/// Runs `cases` of `strategy` through `exercise` and returns how many reached the
/// comparison.
fn count<S: Strategy>(
    cases: u32,
    strategy: S,
    text: impl Fn(S::Value) -> Vec<String>,
) -> (usize, usize) {
    let (total, compared) = (Cell::new(0usize), Cell::new(0usize));
    TestRunner::new(Config::with_cases(cases))
        .run(&strategy, |v| {
            for t in text(v) {
                total.set(total.get() + 1);
                if exercise(&t) == Reached::Compared {
                    compared.set(compared.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    (total.get(), compared.get())
}

#[test]
fn structured_profiles_reach_planning() {
    let (total, compared) = count(1500, support::profile(), |v| {
        let spo = support::as_resource(&v, "fuzz");
        vec![v.to_string(), support::to_yaml(&spo), spo.to_string()]
    });
    println!(
        "structured profiles: {compared} of {total} reached the plan-versus-evaluator comparison"
    );
    // The rest (about one in six): rules too complex to compile exactly, values above
    // 2^63-1 in the SeccompProfile forms, which refuse them, profiles that deny execve.
    assert!(compared * 4 >= total * 3, "{compared} of {total}");
}

/// A change to a JSON tree at a place chosen by `at`: a value replaced by another from
/// the tree, a key dropped, an array item repeated, a number nudged.
fn mutate(v: &mut Value, at: &mut impl Iterator<Item = u64>) {
    let choice = at.next().unwrap_or(0);
    match v {
        Value::Object(o) if !o.is_empty() => {
            let keys: Vec<String> = o.keys().cloned().collect();
            let k = &keys[(choice as usize) % keys.len()];
            if choice.is_multiple_of(7) && k != "defaultAction" {
                o.remove(k);
            } else if let Some(x) = o.get_mut(k) {
                mutate(x, at);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = (choice as usize) % a.len();
            match choice % 5 {
                0 => {
                    let x = a[i].clone();
                    a.push(x);
                }
                1 => {
                    a.remove(i);
                }
                _ => mutate(&mut a[i], at),
            }
        }
        Value::Number(n) => {
            let x = n.as_u64().unwrap_or(0);
            *v = Value::from(match choice % 4 {
                0 => x.wrapping_add(1),
                1 => x.wrapping_sub(1),
                2 => x ^ (1 << (choice % 64)),
                _ => choice % 64,
            });
        }
        Value::String(s) => {
            const SWAPS: &[(&str, &str)] = &[
                ("SCMP_CMP_EQ", "SCMP_CMP_NE"),
                ("SCMP_CMP_NE", "SCMP_CMP_GT"),
                ("SCMP_CMP_MASKED_EQ", "SCMP_CMP_EQ"),
                ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"),
                ("SCMP_ACT_ERRNO", "SCMP_ACT_LOG"),
                ("CAP_SYS_ADMIN", "CAP_SYS_PTRACE"),
                ("amd64", "arm64"),
            ];
            for (a, b) in SWAPS {
                if s == a {
                    *s = b.to_string();
                    return;
                }
            }
            let names = support::CALLS;
            if syscalls::lookup(s).is_some() {
                *s = names[(choice as usize) % names.len()].to_string();
            }
        }
        _ => {}
    }
}

#[test]
fn mutated_profiles_reach_planning() {
    let seeds: Vec<Value> = SEEDS
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
    let strategy = (
        0..SEEDS.len(),
        prop::collection::vec(any::<u64>(), 1..40),
        1usize..4,
    );
    let (total, compared) = count(1500, strategy, |(seed, choices, n)| {
        let mut v = seeds[seed].clone();
        let mut at = choices.into_iter().cycle();
        for _ in 0..n {
            mutate(&mut v, &mut at);
        }
        vec![v.to_string()]
    });
    println!(
        "mutated profiles: {compared} of {total} reached the plan-versus-evaluator comparison"
    );
    assert!(compared * 2 >= total, "{compared} of {total}");
}

#[test]
fn mangled_bytes_never_panic() {
    // Real profiles and a SeccompProfile with bytes changed, cut, dropped or inserted: for
    // the parsers' sake (JSON and YAML), not the planner's.
    let yaml = support::to_yaml(&support::as_resource(
        &serde_json::from_str(SEEDS[1]).unwrap(),
        "conflicts",
    ));
    let texts: Vec<String> = SEEDS.iter().map(|s| s.to_string()).chain([yaml]).collect();
    let strategy = (
        0..texts.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
    );
    let (total, compared) = count(1500, strategy, |(seed, cuts)| {
        let mut bytes = texts[seed].as_bytes().to_vec();
        for (at, byte, how) in cuts {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes.truncate(i),
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, byte),
            }
        }
        String::from_utf8(bytes).into_iter().collect()
    });
    println!("mangled bytes: {compared} of {total} reached the plan-versus-evaluator comparison");
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "SCMP_ACT_ALLOW",
            "SCMP_ACT_ERRNO",
            "SCMP_CMP_MASKED_EQ",
            "ioctl",
            "execve",
            "CAP_SYS_ADMIN",
            "SCMP_ARCH_X86",
            "amd64",
            "4.8",
            "SeccompProfile",
            "security-profiles-operator.x-k8s.io/v1beta1",
            ""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "defaultAction",
                        "defaultErrnoRet",
                        "syscalls",
                        "names",
                        "action",
                        "args",
                        "index",
                        "value",
                        "valueTwo",
                        "op",
                        "includes",
                        "excludes",
                        "caps",
                        "arches",
                        "minKernel",
                        "errnoRet",
                        "archMap",
                        "architectures",
                        "flags",
                        "apiVersion",
                        "kind",
                        "metadata",
                        "name",
                        "spec",
                        "baseProfileName",
                        "state"
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

#[test]
fn random_json_never_panics() {
    let (total, compared) = count(1500, json(), |v| vec![v.to_string(), support::to_yaml(&v)]);
    println!(
        "random JSON and YAML: {compared} of {total} reached the plan-versus-evaluator comparison"
    );
}

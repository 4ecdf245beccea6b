//! A short fuzz run of the profile reader for CI (the long runs use the cargo-fuzz target
//! in `fuzz/`): mutated real profiles and random JSON must give a profile or an error,
//! never a panic, and an accepted profile must plan as the evaluator decides.

use proptest::prelude::*;
use syscage_policy::arch::{Arch, AUDIT_ARCH_X86_64};
use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{eval, plan, resolve, syscalls, Context};

const SEEDS: &[&str] = &[
    include_str!("../../../profiles/docker-default.json"),
    include_str!("fixtures/profiles/conflicts.json"),
    include_str!("../profiles/contained.json"),
];

fn exercise(text: &str) {
    let Ok(p) = profile::parse(text, ReadOptions::default()) else {
        return;
    };
    let _ = profile::to_json(&p);
    let Ok(policy) = resolve::resolve("fuzz", &p, &Context::docker_default()) else {
        return;
    };
    let Ok(pl) = plan::plan(&policy) else { return };
    for s in syscalls::all().iter().step_by(11) {
        let Some(nr) = syscalls::number(s, Arch::X86_64) else {
            continue;
        };
        let args = [0, 0x5412, 1 << 32 | 40, u64::MAX, 0o4755, 7];
        assert_eq!(
            pl.decide(Arch::X86_64, nr, &args),
            eval::decide_raw(&policy, AUDIT_ARCH_X86_64, nr, &args).action
        );
    }
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
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
            ""
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
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
                        "flags"
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn mutated_profiles(seed in 0usize..3, cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8)) {
        let mut bytes = SEEDS[seed].as_bytes().to_vec();
        for (at, byte, how) in cuts {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes.truncate(i),
                2 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(text) = String::from_utf8(bytes) {
            exercise(&text);
        }
    }

    #[test]
    fn random_json(v in json()) {
        exercise(&v.to_string());
    }
}

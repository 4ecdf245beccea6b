//! Any bytes given to the profile readers (Docker/OCI JSON, and the Security Profiles
//! Operator's SeccompProfile in YAML or JSON): they must return a profile or an error,
//! never panic; a profile they accept must resolve (or be refused), be written in every
//! format (or be refused) and plan without panicking, and the plan must decide every probed
//! call as the evaluator does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syscage_policy::arch::{Arch, AUDIT_ARCH_X86_64};
use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{eval, plan, resolve, syscalls, Context};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = ReadOptions { ignore_unknown_names: data.len() % 2 == 0, allow_errno_zero: data.len() % 3 == 0 };
    let Ok(p) = profile::parse(text, opts) else { return };
    let _ = profile::to_json(&p);
    let Ok(policy) = resolve::resolve("fuzz", &p, &Context::docker_default()) else { return };
    let _ = profile::policy_to_oci(&policy, false);
    let _ = profile::spo::policy_to_spo(&policy, "fuzz", &[]);
    let Ok(pl) = plan::plan(&policy) else { return };
    for (i, s) in syscalls::all().iter().enumerate().step_by(7) {
        let Some(nr) = syscalls::number(s, Arch::X86_64) else { continue };
        let args = [i as u64, 0x5412, 1 << 32 | 40, u64::MAX, 0o4755, 0];
        let want = eval::decide_raw(&policy, AUDIT_ARCH_X86_64, nr, &args).action;
        assert_eq!(pl.decide(Arch::X86_64, nr, &args), want);
    }
});

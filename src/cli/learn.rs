//! `syscage learn`.

use super::run::{config, require_user_notification, RunArgs};
use super::CliError;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use syscage_policy::profile::{self, ReadOptions};
use syscage_policy::{builtin, resolve, Context};
use syscage_seccomp::filter::NotifyMode;
use syscage_supervise::learn::{self, Learner};

#[derive(Args)]
#[command(
    after_help = "The command runs as `syscage run` would, under the --seccomp profile (default: default), with every system call it and its children make observed. The profile written allows exactly what ran, default-deny with EPERM."
)]
pub struct LearnArgs {
    /// Write the learned profile to this file (default: standard output).
    #[arg(short = 'o', long, value_name = "PROFILE")]
    output: Option<PathBuf>,
    /// Widen this (learned or allow-list) profile with what the run uses.
    #[arg(long, value_name = "PROFILE")]
    merge: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

impl LearnArgs {
    pub fn verbose(&self) -> bool {
        self.run.verbose
    }
}

pub fn run(a: LearnArgs) -> Result<i32, CliError> {
    require_user_notification("learn")?;
    if a.run.reporting() {
        return Err(CliError::setup(
            "--report does not apply to learn: learn reports what it learned",
        ));
    }
    // Bad inputs fail before the command runs.
    let old = match &a.merge {
        Some(p) => {
            let shown = p.display().to_string();
            let loaded = builtin::load(&shown, ReadOptions::default())
                .map_err(|e| CliError::setup(format!("--merge {e}")))?;
            let prof = loaded.profile.ok_or_else(|| {
                CliError::setup(format!(
                    "--merge `{shown}`: not an allow-list (it has no filter)"
                ))
            })?;
            learn::merge(&shown, &prof, &prof).map_err(CliError::setup)?;
            Some((shown, prof))
        }
        None => None,
    };
    // Written to a temporary file next to the output, renamed at the end: the output may
    // be the very profile the run uses (`learn -o p.json --seccomp p.json`).
    let tmp_out = a.output.as_ref().map(|p| {
        let mut t = p.clone().into_os_string();
        t.push(format!(".syscage-{}", std::process::id()));
        PathBuf::from(t)
    });
    let (cfg, built) = config(&a.run, NotifyMode::Learn)?;
    let base = built
        .policy
        .clone()
        .ok_or_else(|| CliError::setup("learn needs a policy to answer with"))?;
    let mut out_file = match (&a.output, &tmp_out) {
        (Some(p), Some(t)) => Some(std::fs::File::create(t).map_err(|e| {
            CliError::setup(format!(
                "-o `{}`: cannot write the learned profile: {e}",
                p.display()
            ))
        })?),
        _ => None,
    };
    let mut learner = Learner::new(base);
    let result = syscage_runtime::run(&cfg, &mut learner);
    let code = match result {
        Ok(c) => c,
        Err(e) => {
            if let Some(t) = &tmp_out {
                let _ = std::fs::remove_file(t);
            }
            return Err(CliError::new(&e, e.exit_code()));
        }
    };
    let learned = learner.learned();
    let mut prof = learned.to_profile();
    if let Some((name, o)) = &old {
        prof = learn::merge(name, o, &prof).map_err(CliError::setup)?;
    }
    let text = profile::to_json(&prof);
    match (out_file.take(), &a.output, &tmp_out) {
        (Some(mut f), Some(p), Some(t)) => {
            let written = f
                .write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .and_then(|()| std::fs::rename(t, p));
            if let Err(e) = written {
                let _ = std::fs::remove_file(t);
                return Err(CliError::setup(format!(
                    "-o `{}`: cannot write the learned profile: {e}",
                    p.display()
                )));
            }
        }
        _ => print!("{text}"),
    }
    if !learned.by_name.is_empty() {
        let names: Vec<&str> = learned.by_name.iter().copied().collect();
        eprintln!(
            "syscage: learned by name only (more than {} distinct argument values seen): {}",
            learn::MAX_VALUES,
            names.join(", ")
        );
    }
    // What it learned, and what the default profile would not allow.
    let calls = learned.used.len();
    let with_args = learned
        .used
        .iter()
        .filter(|((_, n), _)| learn::CONSTRAINED.iter().any(|(c, ..)| c == n))
        .count();
    let observed: u64 = learned.used.values().map(|(n, _)| n).sum();
    eprintln!("syscage: learned {calls} system calls ({with_args} with their arguments) from {observed} calls{}", a.output.as_ref().map(|p| format!("; wrote {}", p.display())).unwrap_or_default());
    if !learned.denied.is_empty() {
        let denied: Vec<String> = learned
            .denied
            .iter()
            .map(|((n, act), c)| format!("{n} x{c} ({act})"))
            .collect();
        eprintln!(
            "syscage: denied by the `{}` profile while learning, and left denied: {}",
            built.name,
            denied.join(", ")
        );
    }
    let def = builtin::load("default", ReadOptions::default())
        .ok()
        .and_then(|l| l.profile);
    if let Some(def) = def {
        if let Ok(reference) = resolve::resolve(
            "default",
            &def,
            &Context {
                caps: cfg.caps,
                kernel: super::run::kernel_version(),
                extra_arches: vec![],
            },
        ) {
            for w in learn::beyond(&reference, &learned) {
                eprintln!("syscage: warning: the learned profile allows {w}");
            }
        }
    }
    Ok(code)
}

//! `syscage learn`.

use super::profile::convert::{self, Format};
use super::run::{config, require_user_notification, RunArgs};
use super::CliError;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use syscage_policy::errno::io_text;
use syscage_policy::profile::{self, spo, ReadOptions};
use syscage_policy::{builtin, resolve, Context};
use syscage_seccomp::filter::NotifyMode;
use syscage_supervise::learn::{self, Learner};
use syscage_supervise::output::Output;

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
    /// The format to write: docker (the default), oci (what containerd and CRI-O load for
    /// Kubernetes' `seccompProfile: {type: Localhost}`) or spo (a Security Profiles
    /// Operator SeccompProfile); oci and spo are resolved for the run's capabilities.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "docker")]
    format: Format,
    /// With --format spo: the resource's metadata.name (default: the output file's name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
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
    let resource = resource_name(&a)?;
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
    let (cfg, built) = config(&a.run, NotifyMode::Learn)?;
    let base = built
        .policy
        .clone()
        .ok_or_else(|| CliError::setup("learn needs a policy to answer with"))?;
    // Where -o writes is opened now, so a path that cannot be written fails before the
    // command runs; nothing is named there until the profile is written (see `Output`).
    let out = a
        .output
        .as_deref()
        .map(|p| Output::open(p).map_err(|e| write_error(p, &e)))
        .transpose()?;
    let mut learner = Learner::new(base.clone());
    let result = syscage_runtime::run(&cfg, &mut learner);
    let code = match result {
        Ok(c) => c,
        // `out` goes without a trace.
        Err(e) => return Err(CliError::new(&e, e.exit_code())),
    };
    if let Some(why) = learner.killed_by_filter() {
        eprintln!("syscage: {why}");
    }
    let learned = learner.learned();
    let (mut prof, too_complex) = learned.to_profile(&base).map_err(CliError::setup)?;
    if let Some((name, o)) = &old {
        prof = learn::merge(name, o, &prof).map_err(CliError::setup)?;
    }
    let text = match a.format {
        Format::Docker => profile::to_json(&prof)
            .map_err(|e| CliError::setup(format!("cannot write the learned profile: {e}")))?,
        format => {
            // Resolved as the run was: its capabilities, kernel and ABIs.
            let ctx = Context {
                caps: cfg.caps,
                kernel: super::run::kernel_version(),
                extra_arches: base.arches().to_vec(),
                supervised: false,
            };
            let policy = resolve::resolve("learned", &prof, &ctx)
                .map_err(|e| CliError::setup(format!("cannot write the learned profile: {e}")))?;
            let source = format!("a run of `{}`", a.run.command_line());
            let header = convert::header("syscage learn", &source, &policy, cfg.caps);
            convert::write_policy(format, &policy, "learned", &resource, &header)?
        }
    };
    match out {
        Some(mut o) => {
            let p = o.path().to_path_buf();
            o.write_all(text.as_bytes())
                .and_then(|()| o.commit())
                .map_err(|e| write_error(&p, &e))?
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes())
                .and_then(|()| o.flush())
                .map_err(|e| {
                    CliError::setup(format!(
                        "cannot write the learned profile to standard output: {}",
                        io_text(&e)
                    ))
                })?
        }
    }
    if !learned.by_name.is_empty() {
        let names: Vec<&str> = learned.by_name.iter().copied().collect();
        eprintln!(
            "syscage: learned by name, with the `{}` profile's conditions (more than {} distinct argument values seen): {}",
            built.name,
            learn::MAX_VALUES,
            names.join(", ")
        );
    }
    if !too_complex.is_empty() {
        eprintln!(
            "syscage: warning: left denied, the `{}` profile's rules for them being too complex to keep exactly: {}",
            built.name,
            too_complex.join(", ")
        );
    }
    // What it learned, and what the default profile would not allow.
    let calls = learned.used.len();
    let with_args = learned
        .used
        .iter()
        .filter(|((_, n), _)| {
            syscage_supervise::constrained::CONSTRAINED
                .iter()
                .any(|(c, ..)| c == n)
        })
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
                supervised: false,
            },
        ) {
            for w in learn::beyond(&reference, &learned) {
                eprintln!("syscage: warning: the learned profile allows {w}");
            }
        }
    }
    Ok(code)
}

/// The metadata.name of a learned SeccompProfile: `--name`, else the output file's.
fn resource_name(a: &LearnArgs) -> Result<String, CliError> {
    match (&a.name, a.format) {
        (Some(_), f) if f != Format::Spo => Err(CliError::setup(
            "--name names a SeccompProfile: it goes with --format spo",
        )),
        (Some(n), _) if !spo::is_name(n) => Err(CliError::setup(format!(
            "--name: {}",
            spo::WriteError::BadName(n.clone())
        ))),
        (Some(n), _) => Ok(n.clone()),
        (None, _) => Ok(a
            .output
            .as_ref()
            .map(|o| spo::name_from(&o.display().to_string()))
            .unwrap_or_else(|| "learned".to_string())),
    }
}

fn write_error(p: &std::path::Path, e: &std::io::Error) -> CliError {
    CliError::setup(format!(
        "-o `{}`: cannot write the learned profile: {}",
        p.display(),
        io_text(e)
    ))
}

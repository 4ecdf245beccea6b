//! `syscage profile convert`, and the formats `learn --format` writes.

use super::{load, request, resolved, Target};
use crate::cli::CliError;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use syscage_policy::errno::io_text;
use syscage_policy::profile::{self, spo, Profile};
use syscage_policy::Policy;
use syscage_supervise::output::Output;

/// A format syscage writes profiles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Docker's JSON, as written (`includes`/`excludes` kept for Docker and Podman to
    /// resolve).
    Docker,
    /// The OCI runtime spec's `linux.seccomp` object, resolved: what containerd and CRI-O
    /// load for `seccompProfile: {type: Localhost}`, and what runc and crun read.
    Oci,
    /// The Security Profiles Operator's SeccompProfile resource (YAML), resolved.
    Spo,
}

impl Format {
    fn what(self) -> &'static str {
        match self {
            Format::Docker => "a Docker profile",
            Format::Oci => "an OCI profile",
            Format::Spo => "a SeccompProfile",
        }
    }
}

#[derive(Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    target: Target,
    /// The format to write.
    #[arg(long = "to", value_enum, value_name = "FORMAT")]
    to: Format,
    /// Write to FILE (whole, or not at all) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// With --to spo: the resource's metadata.name (default: the output file's name, else
    /// the profile's, made a valid name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

pub fn run(a: ConvertArgs) -> Result<i32, CliError> {
    let t = &a.target;
    if a.name.is_some() && a.to != Format::Spo {
        return Err(CliError::setup(
            "--name names a SeccompProfile: it goes with --to spo",
        ));
    }
    let text = if a.to == Format::Docker {
        let resolving = !(t.cap_add.is_empty()
            && t.cap_drop.is_empty()
            && t.arch.is_empty()
            && t.seccomp_allow.is_empty()
            && t.seccomp_deny.is_empty());
        if resolving {
            return Err(CliError::setup(
                "--to docker writes the profile as written, for Docker to resolve: --cap-add, --cap-drop, --arch, --seccomp-allow and --seccomp-deny go with --to oci or spo",
            ));
        }
        let loaded = load(&request(t)?)?;
        let p = loaded.profile.ok_or_else(|| no_filter(&t.profile))?;
        write_profile(&p, &t.profile)?
    } else {
        let (req, name, policy) = resolved(t)?;
        let resource = match (&a.name, &a.output) {
            (Some(n), _) => n.clone(),
            (None, Some(o)) => spo::name_from(&o.display().to_string()),
            (None, None) => spo::name_from(&name),
        };
        let from = format!("profile `{name}`");
        let header = header("syscage profile convert", &from, &policy, req.caps);
        write_policy(a.to, &policy, &name, &resource, &header)?
    };
    emit(a.output.as_deref(), &text, "the profile")?;
    Ok(0)
}

fn no_filter(name: &str) -> CliError {
    CliError::setup(format!(
        "profile `{name}` has no filter: nothing to convert"
    ))
}

/// A profile as Docker JSON.
pub(crate) fn write_profile(p: &Profile, name: &str) -> Result<String, CliError> {
    profile::to_json(p).map_err(|e| CliError::setup(format!("cannot write profile `{name}`: {e}")))
}

/// A resolved policy in `format` (not `Docker`, which is a profile's): `resource` names a
/// SeccompProfile, `header` says where it came from.
pub(crate) fn write_policy(
    format: Format,
    p: &Policy,
    name: &str,
    resource: &str,
    header: &[String],
) -> Result<String, CliError> {
    let cannot = |e: &dyn std::fmt::Display| {
        CliError::setup(format!(
            "cannot write profile `{name}` as {}: {e}",
            format.what()
        ))
    };
    match format {
        Format::Oci => profile::policy_to_oci(p, false).map_err(|e| cannot(&e)),
        Format::Spo => spo::policy_to_spo(p, resource, header).map_err(|e| cannot(&e)),
        Format::Docker => Err(cannot(
            &"it is resolved: write it as OCI or a SeccompProfile",
        )),
    }
}

/// Comment lines for a SeccompProfile: what wrote it, from what (`profile `web.json``),
/// and for what.
pub(crate) fn header(
    by: &str,
    from: &str,
    p: &Policy,
    caps: syscage_policy::CapSet,
) -> Vec<String> {
    let arches: Vec<String> = p.arches().iter().map(|a| a.to_string()).collect();
    vec![
        format!(
            "Written by `{by}` (syscage {}) from {from}.",
            env!("CARGO_PKG_VERSION")
        ),
        format!(
            "Resolved for the ABIs {} and the capabilities {caps}: write it again for others.",
            arches.join(", ")
        ),
    ]
}

/// Writes `text` to `path` (whole, or nothing), or to standard output.
pub(crate) fn emit(path: Option<&Path>, text: &str, what: &str) -> Result<(), CliError> {
    let Some(p) = path else {
        out!("{text}");
        return Ok(());
    };
    let fail = |e: std::io::Error| {
        CliError::setup(format!(
            "-o `{}`: cannot write {what}: {}",
            p.display(),
            io_text(&e)
        ))
    };
    let mut o = Output::open(p).map_err(fail)?;
    o.write_all(text.as_bytes()).map_err(fail)?;
    o.commit().map_err(fail)
}

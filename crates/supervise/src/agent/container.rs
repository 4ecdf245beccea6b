//! One container served by the agent, on its own thread: what its metadata and
//! annotations ask, the answers to its notified calls, and, when it ends, its report and
//! learned profile. Whatever goes wrong is said in one line and never leaves a call
//! unanswered: without a usable profile every notified call is refused with EPERM (the
//! denial the paired profile was written to notify), and the container is served until
//! its last process is gone.

use super::place::Allowed;
use super::source::Profiles;
use super::{peer, say};
use crate::answer::{self, Kills};
use crate::learn::Learned;
use crate::meta::{Metadata, Notified, ANNOTATION_LEARN, ANNOTATION_REPORT};
use crate::output::Output;
use crate::report::Recorder;
use crate::text::escape;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use syscage_policy::arch::Arch;
use syscage_policy::{profile, syscalls, Policy};
use syscage_seccomp::notify::{Notification, Response};

/// What every container's thread shares.
pub struct Shared {
    pub allowed: Allowed,
    pub profiles: Profiles,
    /// Readable once the agent stops.
    pub stop: OwnedFd,
}

/// What the agent does for one container (all its processes: with `--one-container`,
/// every connection shares it).
pub struct Job {
    who: String,
    policy: Option<Arc<Policy>>,
    /// The profile resolved differently from the one the paired profile was written from:
    /// a call it would now let run is refused (the paired profile meant to deny it).
    refuse_runs: bool,
    recorder: Option<Arc<Recorder>>,
    learn: Option<(Mutex<Learned>, Output)>,
    kills: Kills,
}

/// What one runtime's connection brought: the notification fd, the container process
/// state (when it was usable) and how messages name the container.
pub struct Connection {
    pub fd: OwnedFd,
    pub state: Option<peer::ProcessState>,
    pub who: String,
}

/// Reads the state and the fd a runtime sends. What is wrong is said in one line; `None`
/// when there is no notification fd to serve.
pub fn receive(conn: OwnedFd) -> Option<Connection> {
    use nix::sys::socket::{getsockopt, setsockopt, sockopt};
    let timeout = nix::sys::time::TimeVal::new(peer::TIMEOUT.as_secs() as i64, 0);
    let _ = setsockopt(&conn, sockopt::ReceiveTimeout, &timeout);
    let runtime = getsockopt(&conn, sockopt::PeerCredentials)
        .map(|c| c.pid())
        .unwrap_or(0);
    let received = peer::receive(&conn);
    drop(conn);
    let (state, broken) = match received.state {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e)),
    };
    let who = match &state {
        // Raw here: `say` escapes whole lines, the summary escapes it itself.
        Some(s) => format!("container `{}`", s.state.id),
        None => format!("a container (runtime pid {runtime})"),
    };
    let fd = peer::seccomp_fd(state.as_ref(), received.fds);
    // One line for what went wrong, with what it means for the container's calls.
    let fd = match (broken, fd) {
        (None, Ok(fd)) => fd,
        (Some(e), Ok(fd)) => {
            say(&format!(
                "{who}: {e}; its notified calls are refused with EPERM"
            ));
            fd
        }
        (Some(e), Err(_)) | (None, Err(e)) => {
            say(&format!("{who}: {e}"));
            return None;
        }
    };
    Some(Connection { fd, state, who })
}

/// Serves the runtime's connection: reads the state and the fd, then the container's
/// notified calls until it ends or the agent stops.
pub fn serve(conn: OwnedFd, shared: &Shared) {
    let Some(c) = receive(conn) else {
        return;
    };
    let job = Job::plan(c.state.as_ref(), shared, c.who);
    job.serve(c.fd, shared);
    job.finish();
}

impl Job {
    pub fn plan(state: Option<&peer::ProcessState>, shared: &Shared, who: String) -> Job {
        let mut job = Job {
            who,
            policy: None,
            refuse_runs: false,
            recorder: None,
            learn: None,
            kills: Kills::default(),
        };
        let Some(state) = state else {
            return job;
        };
        let id = state.state.id.as_str();
        let meta = match Metadata::parse(state.metadata.as_deref().unwrap_or("")) {
            Ok(m) => m,
            Err(e) => {
                say(&format!(
                    "{}: {e}; its notified calls are refused with EPERM",
                    job.who
                ));
                return job;
            }
        };
        match shared.profiles.policy(&meta) {
            Ok(p) => {
                let digest = crate::pair::digest(&p);
                if let Some(want) = meta.digest.as_deref().filter(|w| *w != digest) {
                    job.refuse_runs = true;
                    say(&format!("{}: profile `{}` now resolves to other rules than the paired profile was written from (digest {digest}, written for {want}); calls it would let run are refused with EPERM (hint: write the paired profile again with `syscage profile show`)", job.who, p.name()));
                }
                job.policy = Some(Arc::new(p));
            }
            Err(e) => {
                say(&format!(
                    "{}: {e}; its notified calls are refused with EPERM",
                    job.who
                ));
                return job;
            }
        }
        // A path an annotation names must hold `{id}`: the pod chooses it, and must not be
        // able to overwrite another container's file in the allowed directories.
        let from = |key: &str, meta: &Option<String>| -> Option<String> {
            match state.state.annotations.get(key) {
                Some(p) if p.contains("{id}") => Some(p.clone()),
                Some(p) => {
                    say(&format!("{}: annotation {key} `{p}`: the file name must hold `{{id}}` (the container's id), so that no container can overwrite another's; nothing is written", job.who));
                    None
                }
                None => meta.clone(),
            }
        };
        let report = from(ANNOTATION_REPORT, &meta.report);
        let learn = from(ANNOTATION_LEARN, &meta.learn);
        if let (Some(asked), Some(p)) = (report, &job.policy) {
            match shared.allowed.output("report", &asked, id) {
                Ok(o) => {
                    let shown = o.path().to_path_buf();
                    job.recorder = Some(Arc::new(Recorder::new(Arc::clone(p), Some((o, shown)))));
                }
                Err(e) => say(&format!("{}: {e}; no report is written", job.who)),
            }
        }
        if let Some(asked) = learn {
            if meta.notify != Some(Notified::All) {
                say(&format!("{}: learn `{asked}`: the profile notifies only the calls it denies, so nothing that runs can be learned (hint: pair the profile with `syscage profile show NAME --json --notify-all`)", job.who));
            } else {
                match shared.allowed.output("learn", &asked, id) {
                    Ok(o) => job.learn = Some((Mutex::new(Learned::default()), o)),
                    Err(e) => say(&format!("{}: {e}; no profile is learned", job.who)),
                }
            }
        }
        tracing::info!(
            "{}: answering as `{}`{}{}",
            job.who,
            job.policy.as_ref().map(|p| p.name()).unwrap_or("?"),
            if job.recorder.is_some() {
                ", with a report"
            } else {
                ""
            },
            if job.learn.is_some() {
                ", learning"
            } else {
                ""
            }
        );
        job
    }

    /// How messages name the container.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// Answers the calls notified on `fd` until its processes are gone or the agent stops.
    pub fn serve(&self, fd: OwnedFd, shared: &Shared) {
        let stop = match shared.stop.try_clone() {
            Ok(s) => s,
            Err(e) => {
                say(&format!(
                    "{}: cannot duplicate the stop descriptor: {e}",
                    self.who
                ));
                return;
            }
        };
        crate::serve(fd, stop, |fd, n| self.answer(fd, n));
    }

    /// The answer to one notified call, recorded as the container asked.
    fn answer(&self, fd: &OwnedFd, n: &Notification) -> Response {
        let Some(p) = &self.policy else {
            return Response::Errno(libc::EPERM);
        };
        let (d, resp, kill) = answer::answer(p, n);
        if let Some(r) = &self.recorder {
            r.record(fd, n, &d);
        }
        if let Some((l, _)) = &self.learn {
            if let Ok(mut l) = l.lock() {
                l.observe(n, d.action);
            }
        }
        if kill {
            self.kills.kill(fd, n);
        }
        if self.refuse_runs && resp == Response::Continue {
            return Response::Errno(libc::EPERM);
        }
        resp
    }

    /// Writes the report and the learned profile, and says what they hold.
    pub fn finish(self) {
        let who = &self.who;
        let shown = escape(who.as_bytes());
        if let Some(r) = &self.recorder {
            let failed = r.close(None);
            // The summary `run --report` prints, each line naming the container.
            let mut text = String::new();
            for line in r.summary(None).lines() {
                match line.strip_prefix("syscage: report: ") {
                    Some(rest) => {
                        text.push_str(&format!("syscage: agent: {shown}: report: {rest}\n"))
                    }
                    None => text.push_str(&format!("{line}\n")),
                }
            }
            super::emit(&text);
            if let Some(e) = failed {
                say(&format!(
                    "{who}: cannot write the report: {}",
                    syscage_policy::errno::io_text(&e)
                ));
            }
        }
        if let (Some((learned, out)), Some(p)) = (self.learn, &self.policy) {
            let mut learned = learned.into_inner().unwrap_or_default();
            // `write` is never notified (the runtime writes the notification fd with it):
            // it is learned as far as the base profile lets it run.
            if let Some(write) = syscalls::lookup("write") {
                if crate::bound::allowed(p, Arch::X86_64, write).is_some_and(|c| !c.is_empty()) {
                    learned.record(Arch::X86_64, "write", &[0; 6]);
                }
            }
            let path: PathBuf = out.path().to_path_buf();
            let (text, too_complex) = match learned
                .to_profile(p)
                .map_err(|e| e.to_string())
                .and_then(|(prof, tc)| {
                    profile::to_json(&prof)
                        .map(|t| (t, tc))
                        .map_err(|e| e.to_string())
                }) {
                Ok(x) => x,
                Err(why) => {
                    say(&format!(
                        "{who}: learn `{}`: cannot write the learned profile: {why}",
                        path.display()
                    ));
                    return;
                }
            };
            let mut out = out;
            let written = out.write_all(text.as_bytes()).and_then(|()| out.commit());
            match written {
                Ok(()) => {
                    let calls = learned.used.len();
                    let observed: u64 = learned.used.values().map(|(n, _)| n).sum();
                    say(&format!(
                        "{who}: learned {calls} system calls from {observed} calls; wrote {}",
                        path.display()
                    ));
                }
                Err(e) => say(&format!(
                    "{who}: learn `{}`: cannot write the learned profile: {}",
                    path.display(),
                    syscage_policy::errno::io_text(&e)
                )),
            }
            if !too_complex.is_empty() {
                say(&format!("{who}: left denied, the profile's rules for them being too complex to keep exactly: {}", too_complex.join(", ")));
            }
        }
    }
}

//! `run --report[=FILE]`: every call the filter denies is recorded, as a structured
//! event, while the program sees exactly the errno it would see without the report.
//!
//! The filter is compiled with its denials turned into notifications; the supervisor
//! decides each one with the original policy and answers with its errno. A kill is
//! carried out by the supervisor (SIGKILL to the process; syscage still exits 159 when it
//! was the command): the kernel offers no way to answer a notification with SIGSYS. TRAP
//! stays in the kernel and is not reported.

use crate::answer::{abi_of, sigsys_cause, Kills};
use crate::constrained::allow_hint;
use crate::decode::{self, Processes};
use crate::output::Output;
use crate::text::escape;
use crate::Worker;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use syscage_policy::eval;
use syscage_policy::{syscalls, Policy};
use syscage_runtime::Supervisor;
use syscage_seccomp::notify::{self, Notification};
use thiserror::Error;

/// Events beyond this many go into the counts only (a loop of a million denied calls
/// must not write a million lines).
pub const MAX_EVENTS: usize = 10_000;

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("--report `{path}`: cannot write the report: {}", syscage_policy::errno::io_text(.source))]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// One denied call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub time: String,
    pub host_pid: u32,
    pub container_pid: Option<u32>,
    /// The process name and program (as JSON strings; bytes that are not UTF-8 become
    /// U+FFFD).
    pub comm: String,
    pub exe: String,
    pub syscall: String,
    pub nr: u32,
    pub abi: String,
    pub args: Vec<String>,
    pub decoded: Vec<String>,
    pub action: String,
    pub rule: String,
    /// Who made the call, escaped for the summary: `PROGRAM (pid N)`.
    #[serde(skip)]
    pub who: String,
}

#[derive(Debug, Clone)]
struct Group {
    count: u64,
    first: Event,
    allow_hint: String,
}

#[derive(Default)]
struct State {
    file: Option<BufWriter<Output>>,
    /// The first error writing the file: nothing more is written, and the run says so.
    write_error: Option<std::io::Error>,
    written: usize,
    total: u64,
    groups: BTreeMap<(String, String, String), Group>,
    procs: Processes,
}

/// The record of one container's denied calls: the events file and the counts behind
/// the summary. `run --report` and `syscage agent` both feed it.
pub struct Recorder {
    policy: Arc<Policy>,
    path: Option<PathBuf>,
    state: Mutex<State>,
}

impl Recorder {
    /// A record of the calls `policy` (the policy as the user gave it, before
    /// instrumenting) denies, with the events written to `file` (shown as `path`).
    pub fn new(policy: Arc<Policy>, file: Option<(Output, PathBuf)>) -> Recorder {
        let (file, path) = match file {
            Some((o, p)) => (Some(BufWriter::new(o)), Some(p)),
            None => (None, None),
        };
        Recorder {
            policy,
            path,
            state: Mutex::new(State {
                file,
                ..State::default()
            }),
        }
    }

    /// Records a notified call the policy decided with `d` (calls it lets run are not
    /// recorded).
    pub fn record(&self, fd: &OwnedFd, n: &Notification, d: &eval::Decision) {
        if !d.action.is_denial() {
            return;
        }
        let Ok(mut s) = self.state.lock() else { return };
        s.total += 1;
        let arch = abi_of(n.data.arch, n.data.nr);
        let name = syscalls::by_number(arch, n.data.nr)
            .map(|s| s.name)
            .unwrap_or("?");
        let rule_key = format!("{:?}", d.by);
        let key = (name.to_string(), d.action.to_string(), rule_key);
        let need_event =
            !s.groups.contains_key(&key) || (s.file.is_some() && s.written < MAX_EVENTS);
        if need_event {
            let e = event(&self.policy, n, d, fd, &mut s.procs);
            if s.written < MAX_EVENTS {
                if let Ok(line) = serde_json::to_string(&e) {
                    s.write(&line);
                }
                s.written += 1;
            }
            let hint = allow_hint(&self.policy, arch, name, &n.data.args);
            s.groups.entry(key.clone()).or_insert(Group {
                count: 0,
                first: e,
                allow_hint: hint,
            });
        }
        if let Some(g) = s.groups.get_mut(&key) {
            g.count += 1;
        }
    }

    /// The total number of denied calls seen so far.
    pub fn total(&self) -> u64 {
        self.state.lock().map(|s| s.total).unwrap_or(0)
    }

    /// The human summary: each denied call with its count, first occurrence and rule, and
    /// what would allow it; `sigsys` says why the command died of SIGSYS, if it did.
    pub fn summary(&self, sigsys: Option<&str>) -> String {
        let Ok(s) = self.state.lock() else {
            return String::new();
        };
        let killed = sigsys
            .map(|why| format!("syscage: report: {why}\n"))
            .unwrap_or_default();
        if s.total == 0 {
            return if killed.is_empty() {
                "syscage: report: no call was denied\n".to_string()
            } else {
                killed
            };
        }
        let mut out = format!(
            "syscage: report: {} denied call{} ({} kind{})\n",
            s.total,
            plural(s.total),
            s.groups.len(),
            plural(s.groups.len() as u64)
        );
        let mut groups: Vec<&Group> = s.groups.values().collect();
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.first.syscall.cmp(&b.first.syscall))
        });
        for g in groups {
            let e = &g.first;
            out.push_str(&format!(
                "  {:<16} x{:<8} {} by {}\n",
                e.syscall, g.count, e.action, e.rule
            ));
            out.push_str(&format!(
                "      first: {}({}) from {}\n",
                e.syscall,
                e.decoded.join(", "),
                e.who
            ));
            out.push_str(&format!("      to allow: {}\n", g.allow_hint));
        }
        if let Some(p) = &self.path {
            out.push_str(&format!(
                "  events: {} (JSON lines; at most {MAX_EVENTS} events, then counts)\n",
                p.display()
            ));
        }
        out.push_str(&killed);
        out
    }

    /// Ends the events file with the counts and puts it in place; the first error writing
    /// it, if any.
    pub fn close(&self, sigsys: Option<&str>) -> Option<std::io::Error> {
        self.state.lock().ok().and_then(|mut s| s.close(sigsys))
    }
}

pub struct Reporter {
    recorder: Arc<Recorder>,
    kills: Arc<Kills>,
    worker: Option<Worker>,
    command: Option<i32>,
    /// Why the command died of SIGSYS, when the filter (not syscage) killed it.
    sigsys: Option<String>,
}

impl Reporter {
    /// A reporter for `policy` (the policy as the user gave it, before instrumenting).
    /// The file, if any, is opened now, so that an unwritable path fails before the
    /// container starts; it is put in place when the run ends (see [`Output`]), so a run
    /// that fails before its command starts, or a syscage killed, leaves an earlier report
    /// as it was and makes none.
    pub fn new(policy: Policy, path: Option<&Path>) -> Result<Reporter, ReportError> {
        let file = match path {
            Some(p) => Some((
                Output::open(p).map_err(|source| ReportError::Write {
                    path: p.display().to_string(),
                    source,
                })?,
                p.to_path_buf(),
            )),
            None => None,
        };
        Ok(Reporter {
            recorder: Arc::new(Recorder::new(Arc::new(policy), file)),
            kills: Arc::new(Kills::default()),
            worker: None,
            command: None,
            sigsys: None,
        })
    }

    /// The total number of denied calls seen so far.
    pub fn total(&self) -> u64 {
        self.recorder.total()
    }

    /// The human summary (see [`Recorder::summary`]).
    pub fn summary(&self) -> String {
        self.recorder.summary(self.sigsys.as_deref())
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `2026-11-28T14:03:09.123Z` for a time since the epoch.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Builds the event for a denied call.
pub fn event(
    policy: &Policy,
    n: &Notification,
    d: &eval::Decision,
    fd: &OwnedFd,
    procs: &mut Processes,
) -> Event {
    let arch = abi_of(n.data.arch, n.data.nr);
    let info = syscalls::by_number(arch, n.data.nr);
    let name = info
        .map(|s| s.name.to_string())
        .unwrap_or_else(|| format!("syscall_{}", n.data.nr));
    let mut read_path = |addr: u64| {
        let s = decode::read_string(n.pid, addr)?;
        // The process could have changed its memory or died: only trust what was read
        // while the call was still waiting.
        notify::id_valid(fd.as_fd(), n.id).then_some(s)
    };
    let decoded = info
        .map(|s| decode::decode_args(s, &n.data.args, &mut read_path))
        .unwrap_or_default();
    let mut p = procs.get(n.pid);
    // Read while the call still waited, or it may describe a process that reuses the pid.
    if !notify::id_valid(fd.as_fd(), n.id) {
        p.comm = b"?".to_vec();
        p.exe = b"?".to_vec();
        p.container_pid = None;
    }
    let program = if p.exe.is_empty() { &p.comm } else { &p.exe };
    let who = match p.container_pid {
        Some(pid) => format!("{} (pid {pid})", escape(program)),
        None => escape(&p.comm),
    };
    Event {
        time: rfc3339(std::time::SystemTime::now()),
        host_pid: n.pid,
        container_pid: p.container_pid,
        comm: String::from_utf8_lossy(&p.comm).into_owned(),
        exe: String::from_utf8_lossy(&p.exe).into_owned(),
        syscall: name,
        nr: n.data.nr,
        abi: arch.to_string(),
        args: n.data.args.iter().map(|a| format!("{a:#x}")).collect(),
        decoded,
        action: d.action.to_string(),
        rule: d.by.describe(policy),
        who,
    }
}

impl Supervisor for Reporter {
    fn started(&mut self, host_pid: i32) {
        self.command = Some(host_pid);
    }

    fn listener(
        &mut self,
        fd: OwnedFd,
        _host_pid: i32,
    ) -> Result<(), syscage_runtime::parent::SupervisorError> {
        let recorder = Arc::clone(&self.recorder);
        let kills = Arc::clone(&self.kills);
        let worker = Worker::spawn(fd, move |fd, n| {
            let (d, resp, kill) = crate::answer::answer(&recorder.policy, n);
            recorder.record(fd, n, &d);
            if kill {
                kills.kill(fd, n);
            }
            resp
        })?;
        self.worker = Some(worker);
        Ok(())
    }

    fn finished(&mut self, code: i32) -> i32 {
        if let Some(mut w) = self.worker.take() {
            w.join();
        }
        // The status is the kernel's SIGSYS (syscage kills with SIGKILL): the filter itself
        // killed the command.
        if code == 128 + libc::SIGSYS && self.command.is_some() {
            self.sigsys = sigsys_cause(&self.recorder.policy, true);
        }
        let failed = self.recorder.close(self.sigsys.as_deref());
        eprint!("{}", self.summary());
        if let (Some(source), Some(p)) = (failed, &self.recorder.path) {
            let e = ReportError::Write {
                path: p.display().to_string(),
                source,
            };
            eprintln!("syscage: {e}");
        }
        self.kills.exit_code(code, self.command)
    }
}

impl State {
    /// Writes one line of the report, unless writing already failed.
    fn write(&mut self, line: &str) {
        if let (Some(f), None) = (self.file.as_mut(), &self.write_error) {
            if let Err(e) = writeln!(f, "{line}") {
                self.write_error = Some(e);
            }
        }
    }

    /// Ends the file with the counts and puts it in place; the first error, if any (the
    /// file then holds what was written before it).
    fn close(&mut self, sigsys: Option<&str>) -> Option<std::io::Error> {
        let counts: Vec<serde_json::Value> = self
            .groups
            .values()
            .map(|g| serde_json::json!({"syscall": g.first.syscall, "action": g.first.action, "rule": g.first.rule, "count": g.count}))
            .collect();
        let mut last = serde_json::json!({"summary": counts, "total": self.total});
        if let Some(why) = sigsys {
            last["killed_by_filter"] = why.into();
        }
        let last = last.to_string();
        self.write(&last);
        let f = self.file.take()?;
        let put = f
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(Output::commit);
        match (self.write_error.take(), put) {
            (Some(e), _) | (None, Err(e)) => Some(e),
            (None, Ok(())) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_870_247_369);
        assert_eq!(rfc3339(t), "2026-11-28T12:50:47.369Z");
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn an_unwritable_report_is_refused_with_the_path() {
        let p = Policy::allow_all();
        let err = Reporter::new(p, Some(Path::new("/nonexistent-dir/r.jsonl")))
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "--report `/nonexistent-dir/r.jsonl`: cannot write the report: No such file or directory (ENOENT)");
    }
}

//! A running `syscage agent` for the end-to-end tests, and the program that plays an OCI
//! runtime's part for it (`tests/probes/notify_peer.c`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A fresh directory for one test, with `out/` for the agent to write in.
pub fn workdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syscage-agent-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("out")).expect("mkdir");
    d
}

/// Builds `notify_peer` once per test run.
pub fn peer_program() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes/notify_peer.c");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("notify_peer");
        let tmp = out.with_extension(format!("{}", std::process::id()));
        let st = Command::new("gcc")
            .args(["-static", "-O2", "-Wall", "-o"])
            .arg(&tmp)
            .arg(&src)
            .status()
            .expect("gcc runs (install gcc and libc6-dev)");
        assert!(st.success(), "notify_peer.c compiles");
        std::fs::rename(&tmp, &out).expect("install notify_peer");
        out
    })
}

/// A container process state as runc and crun send it.
pub fn state(id: &str, metadata: &str, annotations: &[(&str, &str)]) -> String {
    let ann: serde_json::Map<String, serde_json::Value> = annotations
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    serde_json::json!({
        "ociVersion": "1.0.2",
        "fds": ["seccompFd"],
        "pid": 4242,
        "metadata": metadata,
        "state": {"ociVersion": "1.0.2", "id": id, "status": "creating", "pid": 4242,
                  "bundle": "/", "annotations": ann}
    })
    .to_string()
}

/// Starts `notify_peer SOCKET STATE N`, the state written to a file first (`nofd:`
/// before the file sends it without the descriptor; `-` sends no state).
pub fn spawn_peer(agent: &Agent, state: &str, calls: u64) -> Child {
    let arg = match state {
        "-" | "nofd:-" => state.to_string(),
        s => {
            let (prefix, body) = match s.strip_prefix("nofd:") {
                Some(b) => ("nofd:", b),
                None => ("", s),
            };
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let f = agent.dir.join(format!("state-{n}.json"));
            std::fs::write(&f, body).expect("write state");
            format!("{prefix}{}", f.display())
        }
    };
    Command::new(peer_program())
        .arg(&agent.socket)
        .arg(arg)
        .arg(calls.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notify_peer")
}

/// Waits for a peer (at most `limit`) and returns its line.
pub fn peer_line(child: Child, limit: Duration) -> String {
    let r = support_wait(child, limit);
    assert_eq!(r.0, Some(0), "notify_peer: {}{}", r.1, r.2);
    r.1.trim_end().to_string()
}

fn support_wait(mut child: Child, limit: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("reaped");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running agent, stopped (SIGTERM) when dropped.
pub struct Agent {
    pub child: Option<Child>,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub out: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Agent {
    /// `syscage agent --socket DIR/a.sock --allow-dir DIR/out EXTRA...`, once its socket
    /// exists (the agent makes it when it is ready).
    pub fn start(dir: &Path, extra: &[&str]) -> Agent {
        let socket = dir.join("a.sock");
        let out = dir.join("out");
        let mut child = Command::new(env!("CARGO_BIN_EXE_syscage"))
            .arg("agent")
            .arg("--socket")
            .arg(&socket)
            .arg("--allow-dir")
            .arg(&out)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn syscage agent");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&lines);
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        let start = Instant::now();
        while !socket.exists() {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("the agent exited ({st}): {:?}", lines.lock().unwrap());
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no socket");
            std::thread::sleep(Duration::from_millis(5));
        }
        Agent {
            child: Some(child),
            dir: dir.to_path_buf(),
            socket,
            out,
            lines,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0)
    }

    /// Everything the agent said so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) until the agent has said `line`, and returns it.
    pub fn wait_line(&self, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| pred(l)) {
                return l;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the agent never said it; it said:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the exact line.
    pub fn wait_exact(&self, line: &str) {
        self.wait_line(|l| l == line);
    }

    /// The agent's resident memory, from /proc.
    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    /// Stops the agent with SIGTERM; its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(c.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let start = Instant::now();
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = c.kill();
                let _ = c.wait();
                panic!("the agent did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The lines of a report file: the events, and the closing counts.
pub fn report(path: &Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("report `{}`: {e}", path.display()));
    let mut v: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let last = v.pop().expect("the counts line");
    (v, last)
}

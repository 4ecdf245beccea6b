//! `--log FILE` and `--log-format`: what the OCI commands say besides their output.
//!
//! An error is one line on stderr (`syscage: ...`) and, with `--log`, one line appended to
//! the file: `{"level":"error","msg":"...","time":"RFC 3339"}` in JSON (containerd's shim
//! reads the file as a stream of such objects and gives up at the first it cannot read;
//! podman reads the whole file as one), else `time="..." level=error msg="..."`.
//! Warnings go to the file only when there is one (`create`'s standard streams are the
//! container's, and the clients always pass `--log`); without `--log`, to stderr, as
//! runc writes its warnings there.
//! syscage's own tracing events (RUST_LOG) go to the file the same way, never to stderr.

use std::io::Write;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Log {
    file: Option<PathBuf>,
    json: bool,
}

fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    syscage_oci::state::rfc3339(t.as_secs() as i64, t.subsec_nanos())
}

impl Log {
    pub fn new(file: Option<PathBuf>, json: bool) -> Log {
        Log { file, json }
    }

    pub fn file(&self) -> Option<&PathBuf> {
        self.file.as_ref()
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// One line in the log's format.
    pub fn line(&self, level: &str, msg: &str) -> String {
        if self.json {
            let v = serde_json::json!({"level": level, "msg": msg, "time": now()});
            format!("{v}\n")
        } else {
            format!("time=\"{}\" level={level} msg={:?}\n", now(), msg)
        }
    }

    fn append(&self, level: &str, msg: &str) -> bool {
        let Some(path) = &self.file else {
            return false;
        };
        let line = self.line(level, msg);
        // One write of the whole line, appended: concurrent commands of one container
        // share the file (the shim passes the same log to all of them).
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
        true
    }

    /// An error: on stderr and in the log.
    pub fn error(&self, msg: &str) {
        eprintln!("syscage: {msg}");
        let _ = self.append("error", msg);
    }

    /// A warning: in the log, or on stderr without one.
    pub fn warning(&self, msg: &str) {
        if !self.append("warning", msg) {
            eprintln!("syscage: warning: {msg}");
        }
    }

    /// Sends tracing events (RUST_LOG, warnings of the runtime) to the log.
    pub fn install(&self) {
        use tracing_subscriber::EnvFilter;
        let filter = match std::env::var("RUST_LOG") {
            Ok(v) if !v.is_empty() => EnvFilter::new(v),
            _ => EnvFilter::new("warn"),
        };
        let log = self.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(move || Events { log: log.clone() })
            .event_format(Plain)
            .try_init();
    }
}

/// Each event's message alone; [`Events`] puts it in the log's format.
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut w: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            tracing::Level::INFO => "info",
            _ => "debug",
        };
        write!(w, "{level} ")?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// A writer that turns `LEVEL message\n` into a line of the log.
struct Events {
    log: Log,
}

impl Write for Events {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        for l in text.lines() {
            let (level, msg) = l.split_once(' ').unwrap_or(("info", l));
            self.log.append(level, msg);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_as_the_shim_reads_them() {
        let dir = std::env::temp_dir().join(format!("syscage-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.json");
        let log = Log::new(Some(path.clone()), true);
        log.append("error", "container does not exist: \"x\"");
        log.warning("w");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["level"], "error");
        assert_eq!(lines[0]["msg"], "container does not exist: \"x\"");
        assert_eq!(lines[1]["level"], "warning");
        let t = lines[0]["time"].as_str().unwrap();
        // 2026-12-02T05:16:25.876995005Z
        assert_eq!(t.len(), 30);
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T');
        let text_log = Log::new(None, false);
        assert!(text_log
            .line("error", "a \"b\"")
            .ends_with(" level=error msg=\"a \\\"b\\\"\"\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

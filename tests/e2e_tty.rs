//! Terminals: an interactive shell on syscage's terminal, and `-t` with the container's
//! own pseudo-terminal (where Ctrl-C reaches the command through the container's line
//! discipline). The test gives syscage a terminal of its own making.

mod support;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Starts syscage on a new pseudo-terminal (as its controlling terminal); returns the
/// child and the master side.
fn on_a_terminal(args: &[&str]) -> (std::process::Child, std::fs::File) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave: OwnedFd = pty.slave;
    let master = std::fs::File::from(pty.master);
    let s = slave.as_raw_fd();
    let mut cmd = Command::new(syscage());
    cmd.args(args)
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::ioctl(s, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(slave);
    (child, master)
}

/// Reads from the terminal until `want` shows up (or 10 s pass).
fn read_until(master: &mut std::fs::File, want: &str) -> String {
    let fd = master.as_raw_fd();
    let _ = nix::fcntl::fcntl(
        // SAFETY: `fd` is the master's, open for as long as `master` is borrowed here.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while !seen.contains(want) && Instant::now() < deadline {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            // EIO: every slave is closed, nothing more will come.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    seen
}

/// Reads from the terminal until a whole line starting with `prefix` shows up (or 10 s
/// pass); returns that line, or all that was read.
fn read_line_of(master: &mut std::fs::File, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Some(i) = seen.find(prefix) {
            if let Some(j) = seen[i..].find('\n') {
                return seen[i..i + j].trim_end().to_string();
            }
        }
        let more = read_until(master, "\n");
        if more.is_empty() {
            break;
        }
        seen.push_str(&more);
    }
    seen
}

fn wait(mut child: std::process::Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            // Killed by a signal: minus its number (never the 128+N syscage exits with).
            return s.code().unwrap_or_else(|| -s.signal().unwrap_or(0));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("syscage did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[ignore = "needs root"]
fn interactive_shell_on_syscages_terminal() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let (child, mut m) = on_a_terminal(&["run", "--rootfs", &root, "--", "/bin/sh"]);
    m.write_all(b"echo TERM=$TERM; echo sum $((40+2))\n")
        .unwrap();
    let out = read_until(&mut m, "sum 42");
    assert!(out.contains("sum 42"), "{out}");
    // syscage's TERM (xterm when it has none) is passed when stdin is a terminal; the
    // line below is the shell's output, not the echo of the typed `TERM=$TERM`.
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
    assert!(
        out.contains(&format!("\nTERM={term}\r\n")),
        "TERM is passed when stdin is a terminal: {out:?}"
    );
    m.write_all(b"exit 3\n").unwrap();
    assert_eq!(wait(child), 3);
}

#[test]
#[ignore = "needs root"]
fn own_pseudo_terminal_with_tty() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let (child, mut m) = on_a_terminal(&["run", "-t", "--rootfs", &root, "--", "/bin/sh"]);
    m.write_all(b"tty; echo done-$((6*7))\n").unwrap();
    let out = read_until(&mut m, "done-42");
    assert!(
        out.contains("/dev/pts/0"),
        "the container's own devpts: {out}"
    );
    // Ctrl-C reaches the foreground command through the container's terminal. The
    // command says it is there (as the foreground job, before it becomes the sleep).
    m.write_all(b"sh -c 'echo ready-$((2*4)); exec sleep 100'\n")
        .unwrap();
    read_until(&mut m, "ready-8");
    m.write_all(&[3]).unwrap();
    // The shell is back long before the sleep would have ended.
    m.write_all(b"echo back-$((1+1))\n").unwrap();
    let out = read_until(&mut m, "back-2");
    assert!(out.contains("^C") && out.contains("back-2"), "{out}");
    m.write_all(b"exit 5\n").unwrap();
    assert_eq!(wait(child), 5);
}

#[test]
#[ignore = "needs root"]
fn ctrl_c_stops_a_command_without_tty() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    let (child, mut m) = on_a_terminal(&[
        "run",
        "--rootfs",
        &root,
        "--",
        "/bin/sh",
        "-c",
        "echo ready; exec sleep 100",
    ]);
    read_until(&mut m, "ready");
    m.write_all(&[3]).unwrap();
    assert_eq!(wait(child), 130);
}

#[test]
#[ignore = "needs root"]
fn container_has_no_controlling_terminal_without_tty() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    // Field 6 of /proc/self/stat is the session, field 7 the controlling terminal.
    let (child, mut m) = on_a_terminal(&[
        "run",
        "--rootfs",
        &root,
        "--",
        "/bin/sh",
        "-c",
        "cut -d' ' -f6,7 /proc/self/stat | sed 's/^/stat=/'",
    ]);
    let line = read_line_of(&mut m, "stat=");
    assert_eq!(wait(child), 0);
    assert_eq!(
        line, "stat=1 0",
        "session 1 (the container's init), no controlling terminal"
    );
}

#[test]
#[ignore = "needs root"]
fn terminal_input_cannot_be_injected_without_tty() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    // Unconfined, so that the kernel decides, not the filter: the container's stdin is a
    // pipe syscage relays, not the terminal (and the container is in a session of its
    // own, so even a terminal it opened would not be its controlling one).
    let (child, mut m) = on_a_terminal(&[
        "run",
        "--seccomp",
        "unconfined",
        "--rootfs",
        &root,
        "--",
        "/probe",
        "tiocsti_stdin",
    ]);
    let line = read_line_of(&mut m, "tiocsti_stdin");
    assert_eq!(wait(child), 0);
    assert_eq!(
        line, "tiocsti_stdin: blocked errno=25 (ENOTTY)",
        "TIOCSTI on the container's stdin"
    );
}

#[test]
#[ignore = "needs root"]
fn ctrl_c_reaches_the_commands_process_group_without_tty() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    // The shell catches SIGINT and waits for its sleep: it goes on only if the sleep got
    // the signal too, as it would from a terminal.
    let (child, mut m) = on_a_terminal(&[
        "run",
        "--rootfs",
        &root,
        "--",
        "/bin/sh",
        "-c",
        "trap 'echo trapped' INT; sh -c 'echo armed; exec sleep 100'; echo after=$?",
    ]);
    // Ctrl-C once the trap is set and the sleep's process says it is there.
    let armed = read_until(&mut m, "armed\r\n");
    assert!(armed.ends_with("armed\r\n"), "{armed:?}");
    m.write_all(&[3]).unwrap();
    // Everything until the terminal closes.
    let out = read_until(&mut m, "\0");
    assert_eq!(wait(child), 0);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert_eq!(lines, ["^Ctrapped", "after=130"]);
}

#[test]
#[ignore = "needs root"]
fn tty_with_piped_input_ends_when_the_input_does() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    // stdin a pipe, not a terminal: its end becomes the container terminal's Ctrl-D (twice
    // for the unfinished last line), so `cat` ends instead of waiting forever.
    let mut child = Command::new(syscage())
        .args(["run", "-t", "--rootfs", &root, "--", "/bin/cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"one\ntwo").unwrap();
    let r = wait_timeout(child, Duration::from_secs(10));
    assert_eq!(r.code, 0, "{r:?}");
    // The terminal echoes what it is given and cat writes it back (with \r\n line ends);
    // how the two interleave is the scheduler's.
    assert_eq!(
        (
            r.stdout.matches("one\r\n").count(),
            r.stdout.matches("two").count(),
            r.stdout.len()
        ),
        (2, 2, 16),
        "{r:?}"
    );
}

/// What a container could change on a terminal: line discipline, file status flags of the
/// open file description, termios, window size, exclusive mode.
#[derive(Debug, PartialEq, Eq)]
struct TermState {
    ldisc: i32,
    status_flags: i32,
    termios: String,
    window: (u16, u16),
    exclusive: i32,
}

fn term_state(fd: std::os::fd::BorrowedFd<'_>) -> TermState {
    let raw = fd.as_raw_fd();
    let mut ldisc = -1;
    // SAFETY: winsize is plain integers; all zeroes is a valid value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let mut excl = -1;
    // SAFETY: each ioctl reads into the variable given, of the right type.
    unsafe {
        libc::ioctl(raw, libc::TIOCGETD, &mut ldisc);
        libc::ioctl(raw, libc::TIOCGWINSZ, &mut ws);
        libc::ioctl(raw, libc::TIOCGEXCL, &mut excl);
    }
    let t = nix::sys::termios::tcgetattr(fd).unwrap();
    // The kernel's termios has 19 control characters; the C library's array is longer,
    // and musl leaves the rest as it found it (glibc zeroes it).
    const KERNEL_NCCS: usize = 19;
    TermState {
        ldisc,
        status_flags: nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL).unwrap(),
        termios: format!(
            "{:?} {:?} {:?} {:?} {:?}",
            t.input_flags,
            t.output_flags,
            t.control_flags,
            t.local_flags,
            &t.control_chars[..KERNEL_NCCS]
        ),
        window: (ws.ws_row, ws.ws_col),
        exclusive: excl,
    }
}

/// A pseudo-terminal standing in for the user's: 40x100, syscage's stdin, stdout and
/// stderr on its slave (the same open file description, as a shell gives them).
fn users_terminal() -> (OwnedFd, std::fs::File) {
    let ws = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&ws), None).unwrap();
    (pty.slave, std::fs::File::from(pty.master))
}

fn spawn_on(slave: &OwnedFd, args: &[&str]) -> std::process::Child {
    Command::new(syscage())
        .args(args)
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()))
        .spawn()
        .unwrap()
}

#[test]
#[ignore = "needs root"]
fn a_hostile_container_cannot_break_the_users_terminal() {
    need_root!();
    use std::os::fd::AsFd;
    let root = rootfs().to_str().unwrap().to_string();
    let (slave, mut master) = users_terminal();
    let before = term_state(slave.as_fd());
    assert_eq!(
        (before.ldisc, before.window, before.exclusive),
        (0, (40, 100), 0)
    );
    // Unconfined: the kernel decides, and the terminal is out of reach anyway.
    let child = spawn_on(
        &slave,
        &[
            "run",
            "--seccomp",
            "unconfined",
            "--rootfs",
            &root,
            "--",
            "/probe",
            "tty_wreck",
        ],
    );
    let line = read_line_of(&mut master, "tty_wreck:");
    assert_eq!(wait(child), 0, "{line}");
    assert_eq!(term_state(slave.as_fd()), before);
    // Only O_NONBLOCK on the container's own pipes: nothing on a terminal.
    assert_eq!(line, "tty_wreck: ok value=3");
}

#[test]
#[ignore = "needs root"]
fn tty_mode_restores_the_users_terminal_however_syscage_ends() {
    need_root!();
    use std::os::fd::AsFd;
    let root = rootfs().to_str().unwrap().to_string();
    let (slave, mut master) = users_terminal();
    let before = term_state(slave.as_fd());
    // The container breaks its own terminal and exits.
    let child = spawn_on(
        &slave,
        &[
            "run",
            "-t",
            "--seccomp",
            "unconfined",
            "--rootfs",
            &root,
            "--",
            "/probe",
            "tty_wreck",
        ],
    );
    let out = read_until(&mut master, "value=");
    assert_eq!(wait(child), 0, "{out}");
    assert_eq!(
        term_state(slave.as_fd()),
        before,
        "after the command exited"
    );
    // syscage ends by a forwarded signal, and by signals it does not expect.
    for (sig, code) in [
        (libc::SIGTERM, 143),
        (libc::SIGALRM, -libc::SIGALRM),
        (libc::SIGSEGV, -libc::SIGSEGV),
    ] {
        let child = spawn_on(
            &slave,
            &[
                "run",
                "-t",
                "--rootfs",
                &root,
                "--",
                "/bin/sh",
                "-c",
                "echo ready; sleep 100",
            ],
        );
        // Raw once the relay runs; the container says it runs.
        let out = read_until(&mut master, "ready");
        assert!(out.contains("ready"), "{out}");
        let raw = term_state(slave.as_fd());
        assert_ne!(raw.termios, before.termios, "raw mode while it runs");
        // SAFETY: a plain kill(2).
        unsafe { libc::kill(child.id() as i32, sig) };
        assert_eq!(wait(child), code, "signal {sig}");
        assert_eq!(term_state(slave.as_fd()), before, "after signal {sig}");
    }
}

#[test]
#[ignore = "needs root"]
fn tty_with_a_mebibyte_of_piped_input_ends_with_the_container() {
    need_root!();
    let root = rootfs().to_str().unwrap().to_string();
    for (command, signal, code) in [
        (&["/bin/sleep", "1"][..], None, 0),
        (
            &["/bin/sh", "-c", "echo ready; sleep 100"][..],
            Some(libc::SIGTERM),
            143,
        ),
    ] {
        let mut args = vec!["run", "-t", "--rootfs", &root, "--"];
        args.extend_from_slice(command);
        let mut child = Command::new(syscage())
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            // Lines, as `yes` writes: the terminal keeps whole lines until the buffer
            // is full, then writing to it blocks.
            let chunk = b"y\n".repeat(2048);
            for _ in 0..256 {
                if input.write_all(&chunk).is_err() {
                    break;
                }
            }
        });
        if let Some(sig) = signal {
            let mut out = child.stdout.take().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&seen).contains("ready") {
                let n = out.read(&mut buf).unwrap();
                assert!(n > 0, "no `ready`: {}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
            child.stdout = Some(out);
            // SAFETY: a plain kill(2).
            unsafe { libc::kill(child.id() as i32, sig) };
        }
        let r = wait_timeout(child, Duration::from_secs(20));
        assert_eq!(
            r.code, code,
            "{command:?}: exit {} stderr {}",
            r.code, r.stderr
        );
        assert_eq!(r.stderr, "");
        let _ = feeder.join();
    }
}

//! Turning a notified call into words: the process it came from, and its arguments
//! decoded where that is simple (flags, ioctl requests, socket families, modes, paths).

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use syscage_policy::syscalls::{ArgType, SyscallInfo};

/// The process behind a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its pid on the host.
    pub host_pid: u32,
    /// Its pid inside the container (the last `NSpid` field).
    pub container_pid: Option<u32>,
    /// Its name and program, as the kernel has them: bytes the container chose (print
    /// them through [`crate::text::escape`]).
    pub comm: Vec<u8>,
    pub exe: Vec<u8>,
}

/// Process details by pid, read once per process: an entry is kept with the process's
/// start time and read again when the pid now belongs to another process. (The exe can
/// change at execve; a report names the program that made the first denied call.)
#[derive(Default)]
pub struct Processes(HashMap<u32, (u64, Process)>);

impl Processes {
    pub fn get(&mut self, pid: u32) -> Process {
        let started = start_time(pid).unwrap_or(0);
        match self.0.get(&pid) {
            Some((t, p)) if *t == started => p.clone(),
            _ => {
                let p = read_process(pid);
                self.0.insert(pid, (started, p.clone()));
                p
            }
        }
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
fn start_time(pid: u32) -> Option<u64> {
    syscage_runtime::sys::ProcStat::read(pid)?.start_time()
}

fn read_process(pid: u32) -> Process {
    let base = format!("/proc/{pid}");
    let mut comm = std::fs::read(format!("{base}/comm")).unwrap_or_default();
    // The kernel ends the name with a newline of its own.
    if comm.last() == Some(&b'\n') {
        comm.pop();
    }
    let exe = std::fs::read_link(format!("{base}/exe"))
        .map(|p| std::os::unix::ffi::OsStringExt::into_vec(p.into_os_string()))
        .unwrap_or_default();
    let container_pid = std::fs::read_to_string(format!("{base}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("NSpid:"))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|p| p.parse().ok())
        });
    Process {
        host_pid: pid,
        container_pid,
        comm,
        exe,
    }
}

/// Reads a NUL-terminated string (at most 4096 bytes) from a process's memory. The caller
/// checks the notification is still valid afterwards before trusting it.
pub fn read_string(pid: u32, addr: u64) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    let f = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut buf = vec![0u8; 4096];
    let mut got = 0;
    while got < buf.len() {
        // Read in page-sized steps so a string near the end of a mapping still reads.
        let end = (got + 256).min(buf.len());
        match f.read_at(&mut buf[got..end], addr + got as u64) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf[got..got + n].contains(&0) {
                    got += n;
                    break;
                }
                got += n;
            }
        }
    }
    let end = buf[..got].iter().position(|b| *b == 0)?;
    buf.truncate(end);
    Some(buf)
}

const CLONE_FLAGS: &[(u64, &str)] = &[
    (0x0000_0100, "CLONE_VM"),
    (0x0000_0200, "CLONE_FS"),
    (0x0000_0400, "CLONE_FILES"),
    (0x0000_0800, "CLONE_SIGHAND"),
    (0x0000_1000, "CLONE_PIDFD"),
    (0x0000_2000, "CLONE_PTRACE"),
    (0x0000_4000, "CLONE_VFORK"),
    (0x0000_8000, "CLONE_PARENT"),
    (0x0001_0000, "CLONE_THREAD"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0004_0000, "CLONE_SYSVSEM"),
    (0x0008_0000, "CLONE_SETTLS"),
    (0x0010_0000, "CLONE_PARENT_SETTID"),
    (0x0020_0000, "CLONE_CHILD_CLEARTID"),
    (0x0040_0000, "CLONE_DETACHED"),
    (0x0080_0000, "CLONE_UNTRACED"),
    (0x0100_0000, "CLONE_CHILD_SETTID"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x8000_0000, "CLONE_IO"),
];

const FAMILIES: &[(u64, &str)] = &[
    (0, "AF_UNSPEC"),
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (3, "AF_AX25"),
    (4, "AF_IPX"),
    (5, "AF_APPLETALK"),
    (9, "AF_X25"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
    (21, "AF_RDS"),
    (29, "AF_CAN"),
    (30, "AF_TIPC"),
    (31, "AF_BLUETOOTH"),
    (38, "AF_ALG"),
    (40, "AF_VSOCK"),
    (41, "AF_KCM"),
    (44, "AF_XDP"),
];

const IOCTLS: &[(u64, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x540B, "TCFLSH"),
    (0x540E, "TIOCSCTTY"),
    (0x540F, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x541B, "FIONREAD"),
    (0x541C, "TIOCLINUX"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5429, "TIOCGSID"),
    (0x5441, "TIOCGPTPEER"),
    (0x5451, "FIOCLEX"),
    (0x5450, "FIONCLEX"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
];

const PRCTLS: &[(u64, &str)] = &[
    (1, "PR_SET_PDEATHSIG"),
    (4, "PR_SET_DUMPABLE"),
    (15, "PR_SET_NAME"),
    (16, "PR_GET_NAME"),
    (22, "PR_SET_SECCOMP"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (47, "PR_CAP_AMBIENT"),
];

const PERSONALITIES: &[(u64, &str)] = &[
    (0x0000_0000, "PER_LINUX"),
    (0x0000_0008, "PER_LINUX32"),
    (0x0004_0000, "ADDR_NO_RANDOMIZE"),
    (0x0040_0000, "READ_IMPLIES_EXEC"),
    (0x0002_0000, "UNAME26"),
    (0xffff_ffff, "query"),
];

fn lookup(table: &'static [(u64, &'static str)], v: u64) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
}

fn flags(table: &[(u64, &str)], v: u64) -> String {
    let mut parts: Vec<String> = table
        .iter()
        .filter(|(b, _)| v & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known: u64 = table.iter().map(|(b, _)| b).fold(0, |a, b| a | b);
    let rest = v & !known;
    if rest != 0 || parts.is_empty() {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

/// A short, readable form of a request number: its name when syscage knows it.
pub fn ioctl_name(req: u64) -> Option<&'static str> {
    lookup(IOCTLS, req & 0xffff_ffff)
}

/// The name of a prctl option, when syscage knows it.
pub fn prctl_name(option: u64) -> Option<&'static str> {
    lookup(PRCTLS, option & 0xffff_ffff)
}

/// A family name, e.g. `AF_VSOCK`.
pub fn family_name(f: u64) -> Option<&'static str> {
    lookup(FAMILIES, f & 0xffff_ffff)
}

/// The arguments of a call, decoded: `family=AF_VSOCK`, `cmd=TIOCSTI`, `path="/etc"`.
pub fn decode_args(
    s: &SyscallInfo,
    args: &[u64; 6],
    read_path: &mut dyn FnMut(u64) -> Option<Vec<u8>>,
) -> Vec<String> {
    s.args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let v = args[i];
            let text = match (s.name, a.name, a.ty) {
                ("clone", "clone_flags", _) | ("unshare", _, _) => flags(CLONE_FLAGS, v & !0xff),
                ("socket" | "socketpair", "family", _) => family_name(v)
                    .map(str::to_string)
                    .unwrap_or_else(|| (v & 0xffff_ffff).to_string()),
                ("ioctl", "cmd", _) => ioctl_name(v)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{:#x}", v & 0xffff_ffff)),
                ("prctl", "option", _) => lookup(PRCTLS, v & 0xffff_ffff)
                    .map(str::to_string)
                    .unwrap_or_else(|| (v & 0xffff_ffff).to_string()),
                ("personality", _, _) => lookup(PERSONALITIES, v & 0xffff_ffff)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{:#x}", v & 0xffff_ffff)),
                (_, _, ArgType::Path) => match read_path(v) {
                    Some(p) => format!("\"{}\"", crate::text::escape(&p)),
                    None => format!("{v:#x}"),
                },
                (_, "mode", _) => format!("{:#o}", v & 0xffff),
                (_, _, ArgType::Int) => ((v as u32) as i32).to_string(),
                (_, _, ArgType::UInt) => (v & 0xffff_ffff).to_string(),
                (_, _, ArgType::UShort) => (v & 0xffff).to_string(),
                (_, _, ArgType::Ptr) => format!("{v:#x}"),
                (_, _, ArgType::Long) if v > 0xffff => format!("{v:#x}"),
                (_, _, ArgType::Long) => v.to_string(),
            };
            format!("{}={text}", a.name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_policy::syscalls::lookup as sys;

    #[test]
    fn decodes_the_interesting_arguments() {
        let mut no = |_| None;
        let d = |n: &str, a: [u64; 6], r: &mut dyn FnMut(u64) -> Option<Vec<u8>>| {
            decode_args(sys(n).unwrap(), &a, r)
        };
        assert_eq!(
            d("socket", [40 | 1 << 32, 1, 0, 0, 0, 0], &mut no),
            vec!["family=AF_VSOCK", "type=1", "protocol=0"]
        );
        assert_eq!(
            d("ioctl", [3, 0x5412, 0x7fff0000, 0, 0, 0], &mut no),
            vec!["fd=3", "cmd=TIOCSTI", "arg=0x7fff0000"]
        );
        assert_eq!(
            d("unshare", [0x1000_0000, 0, 0, 0, 0, 0], &mut no),
            vec!["unshare_flags=CLONE_NEWUSER"]
        );
        assert_eq!(
            d("fchmod", [3, 0o4755, 0, 0, 0, 0], &mut no),
            vec!["fd=3", "mode=0o4755"]
        );
        let mut path = |a| (a == 0x1000).then(|| b"/etc/shadow".to_vec());
        assert_eq!(
            d("chmod", [0x1000, 0o644, 0, 0, 0, 0], &mut path),
            vec!["filename=\"/etc/shadow\"", "mode=0o644"]
        );
        assert_eq!(
            d("openat", [u64::MAX - 99, 0x2000, 0, 0, 0, 0], &mut no)[0],
            "dfd=-100"
        );
    }

    #[test]
    fn reads_strings_from_a_process() {
        let s = std::ffi::CString::new("hello path").unwrap();
        let got = read_string(std::process::id(), s.as_ptr() as u64);
        assert_eq!(got.as_deref(), Some(&b"hello path"[..]));
        assert_eq!(read_string(std::process::id(), 0), None);
        let mut procs = Processes::default();
        let me = procs.get(std::process::id());
        assert_eq!(me.host_pid, std::process::id());
        assert!(!me.comm.is_empty());
        assert!(start_time(std::process::id()).unwrap() > 0);
        // A pid that now names another process is read again.
        procs.0.get_mut(&std::process::id()).unwrap().0 = 1;
        procs.0.get_mut(&std::process::id()).unwrap().1.comm = b"old".to_vec();
        assert_eq!(procs.get(std::process::id()).comm, me.comm);
    }
}

//! The walls syscage builds before the command: mounts that another writer of the root
//! file system cannot race, propagation that keeps later host mounts out, bounded tmpfs,
//! files of the root read safely, and a user namespace for the host's own file system.
//! They need root (CI runs as root); without it each says SKIPPED on stderr.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// A copy of the test root file system that this test may change.
fn private_rootfs(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("syscage-walls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let st = Command::new("cp")
        .arg("-a")
        .arg(rootfs())
        .arg(&dir)
        .status()
        .expect("cp runs");
    assert!(st.success(), "copy the root file system");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn cstr(p: &std::path::Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

/// Swaps `a` and `b` with renameat2(RENAME_EXCHANGE) as fast as it can until `stop`.
fn swapper(
    a: PathBuf,
    b: PathBuf,
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let (ca, cb) = (cstr(&a), cstr(&b));
        while !stop.load(Ordering::Relaxed) {
            // The system call itself: nix offers renameat2 only with glibc, and the musl
            // that Rust ships has no wrapper (these tests also run on the musl build).
            // SAFETY: two NUL-terminated paths that live across the call.
            if unsafe {
                libc::syscall(
                    libc::SYS_renameat2,
                    libc::AT_FDCWD,
                    ca.as_ptr(),
                    libc::AT_FDCWD,
                    cb.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            } == 0
            {
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}

/// The runc CVE-2021-30465 class: while another process swaps directories of the root
/// file system with links (to a missing path, to a host directory) and with other
/// directories, no start may come up with a writable /proc/sys or an unmasked /proc file,
/// and nothing is made outside the root. A start may fail instead (the set-up notices);
/// it must never succeed wrongly. (What the swapping does after the start, such as
/// renaming the container's /proc away, cannot take down a wall: the masks and read-only
/// binds are mounts inside syscage's own procfs, wherever that is moved.)
#[test]
#[ignore = "needs root"]
fn mounts_cannot_be_raced_by_another_writer_of_the_root() {
    need_root!();
    let r = private_rootfs("race");
    let outside =
        std::env::temp_dir().join(format!("syscage-walls-outside-{}", std::process::id()));
    let missing = format!("/syscage-walls-missing-{}", std::process::id());
    let vol = std::env::temp_dir().join(format!("syscage-walls-vol-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::create_dir_all(r.join("mnt")).unwrap();
    // Each target alternates with a link or a decoy directory.
    std::os::unix::fs::symlink(&missing, r.join("proc.x")).unwrap();
    std::os::unix::fs::symlink(&outside, r.join("mnt.x")).unwrap();
    std::fs::create_dir_all(r.join("sys.x/kernel")).unwrap();
    std::fs::create_dir_all(r.join("dev.x")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = ["proc", "mnt", "sys", "dev"]
        .iter()
        .map(|d| {
            swapper(
                r.join(d),
                r.join(format!("{d}.x")),
                stop.clone(),
                swaps.clone(),
            )
        })
        .collect();
    let v = format!("{}:/mnt/vol", vol.display());
    let (mut intact, mut moved, mut refused) = (0, 0, 0);
    let mut wrong = Vec::new();
    for _ in 0..200 {
        let run = syscage_run(&[
            "run",
            "--rootfs",
            s(&r),
            "-v",
            &v,
            "--tmpfs",
            "/mnt/t",
            "--",
            "/probe",
            "walls",
        ]);
        let line = run.stdout.as_str();
        match run.code {
            0 if line == "walls: proc_sys=EROFS masked=0 proc=proc sys=sysfs dev=tmpfs\n" => {
                intact += 1
            }
            // The swapping goes on while the command runs: the container may find its
            // /proc renamed away (a link or a decoy in its place), never a wall down.
            0 if line.starts_with("walls: ")
                && !line.contains("proc_sys=WRITABLE")
                && line.contains(" masked=0 ") =>
            {
                moved += 1
            }
            125 | 127 if line.is_empty() && run.stderr.starts_with("syscage: ") => refused += 1,
            _ => wrong.push(format!("{run:?}")),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let made_outside: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let missing_made = Path::new(&missing).exists();
    let _ = std::fs::remove_dir_all(&r);
    let _ = std::fs::remove_dir_all(&outside);
    let _ = std::fs::remove_dir_all(&vol);
    eprintln!(
        "race: {intact} starts intact, {moved} with /proc, /sys or /dev renamed away after the start, {refused} refused, {} wrong; {} swaps",
        wrong.len(),
        swaps.load(Ordering::Relaxed)
    );
    assert!(wrong.is_empty(), "starts with a wall missing: {wrong:#?}");
    assert_eq!(made_outside, Vec::<PathBuf>::new(), "made outside the root");
    assert!(!missing_made, "{missing} made on the host");
    assert!(intact > 0, "the race must not stop every start");
    assert_eq!(host_mounts_with("syscage-walls-race"), Vec::<String>::new());
}

/// In a private mount namespace whose `/` is shared (systemd's default), a tmpfs the host
/// mounts below a volume after the container started does not appear in it: volumes are
/// private unless asked, and a read-only one stays read-only whatever is mounted later.
/// With `:rslave` it does appear (and a read-only rslave volume is refused).
#[test]
#[ignore = "needs root"]
fn host_mounts_made_later_stay_out_of_private_volumes() {
    need_root!();
    let base = std::env::temp_dir().join(format!("syscage-walls-prop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("vol/sub")).unwrap();
    std::fs::create_dir_all(base.join("sig")).unwrap();
    // The container says it runs through a second, writable volume; whatever fails, the
    // container is killed with the script (trap) and nothing waits more than 20 s.
    let script = format!(
        r#"set -e
mount --make-rshared /
B={base}
run() {{
    timeout 20 {syscage} run --rootfs {root} -v "$B/vol:/data$1" -v "$B/sig:/mnt" -- /bin/sh -c '
        touch /mnt/up
        while [ ! -e /mnt/go ]; do sleep 0.01; done
        if [ -e /data/sub/marker ]; then echo seen; else echo unseen; fi
        if touch /data/sub/new 2>/dev/null; then echo writable; else echo refused; fi' &
    pid=$!
    trap "kill $pid 2>/dev/null" EXIT
    n=0
    while [ ! -e "$B/sig/up" ]; do
        kill -0 $pid 2>/dev/null || {{ wait $pid || true; echo "the container ended first"; exit 1; }}
        n=$((n+1)); [ $n -lt 2000 ] || {{ echo "the container did not start"; exit 1; }}
        sleep 0.01
    done
    mount -t tmpfs -o size=1m none "$B/vol/sub"
    touch "$B/vol/sub/marker"
    touch "$B/sig/go"
    wait $pid
    trap - EXIT
    umount "$B/vol/sub"
    rm -f "$B/sig/go" "$B/sig/up"
}}
echo ro; run :ro
echo default; run ""
echo rslave; run :rslave
"#,
        base = base.display(),
        syscage = syscage(),
        root = rootfs().display(),
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "unchanged", "sh", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .expect("unshare runs");
    let _ = std::fs::remove_dir_all(&base);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "ro\nunseen\nrefused\ndefault\nunseen\nwritable\nrslave\nseen\nwritable\n"
    );
}

/// Without `--rootfs` the host's `/` is read-only and, since another mount of the host
/// must not become writable there later, private too.
#[test]
#[ignore = "needs root"]
fn the_host_view_is_private_and_read_only() {
    need_root!();
    let r = syscage_run(&[
        "run",
        "--",
        "/bin/sh",
        "-c",
        "grep -cE 'shared:|master:' /proc/self/mountinfo; touch /var/tmp/syscage-probe 2>&1 | grep -c 'Read-only'",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "0\n1\n"), "{r:?}");
}

#[test]
#[ignore = "needs root"]
fn every_tmpfs_is_bounded_and_charged_to_the_container() {
    need_root!();
    // The default size, and Docker's options.
    let r = container(
        &["--tmpfs", "/tmp/t", "--tmpfs", "/tmp/small:size=1m,mode=700,noexec"],
        &[
            "/bin/sh",
            "-c",
            "df -k /tmp/t /tmp/small | tail -n 2 | awk '{print $2}'; stat -c %a /tmp/small; grep ' /tmp/small ' /proc/self/mountinfo | grep -o noexec",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "262144\n1024\n700\nnoexec\n"),
        "{r:?}"
    );
    // Filling it past its size: ENOSPC, not the host's memory.
    let r = container(
        &["--tmpfs", "/tmp/small:size=1m"],
        &[
            "/bin/dd",
            "if=/dev/zero",
            "of=/tmp/small/f",
            "bs=64k",
            "count=32",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("No space left on device"), "{r:?}");
    // The scratch /tmp and /run of a read-only root are bounded too.
    let r = container(
        &["--read-only"],
        &["/bin/sh", "-c", "df -k /run | tail -n 1 | awk '{print $2}'"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "65536\n"), "{r:?}");
    // With --memory, what a tmpfs holds is the container's memory: a 64 MiB file in a
    // 16 MiB container is killed by the limit, not kept as the host's shared memory.
    let r = container(
        &["--memory", "16m", "--tmpfs", "/tmp/big:size=128m"],
        &[
            "/bin/dd",
            "if=/dev/zero",
            "of=/tmp/big/f",
            "bs=1M",
            "count=64",
        ],
    );
    assert_eq!(r.code, 137, "{r:?}");
    let r = container(
        &["--tmpfs", "/tmp/big:size=128m"],
        &[
            "/bin/dd",
            "if=/dev/zero",
            "of=/tmp/big/f",
            "bs=1M",
            "count=64",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // `dev` is refused: a device node there would open the host's device.
    let r = container(&["--tmpfs", "/tmp/d:dev"], &["/bin/true"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, "syscage: --tmpfs `/tmp/d:dev`: `dev`: device nodes made there would reach the host's devices; syscage keeps every tmpfs nodev\n")
    );
}

/// A FIFO left at /etc/passwd (by an earlier run that had the root writable) must not
/// hang the next run; a link there is resolved inside the root, never on the host.
#[test]
#[ignore = "needs root"]
fn files_of_the_root_are_read_without_blocking_or_leaving_it() {
    need_root!();
    let r = private_rootfs("passwd");
    std::fs::remove_file(r.join("etc/passwd")).unwrap();
    nix::unistd::mkfifo(
        &r.join("etc/passwd"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let child = spawn_syscage(
        &[],
        &[
            "run",
            "--rootfs",
            s(&r),
            "--",
            "/bin/sh",
            "-c",
            "echo $HOME",
        ],
    );
    let run = wait_timeout(child, Duration::from_secs(20));
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "/root\n", "syscage: warning: `/etc/passwd` of the root file system is not a regular file; ignored\n")
    );
    // A link to the host's /etc/passwd reads the root's /etc/passwd... which is not
    // there: HOME falls back, the host's file is never read.
    std::fs::remove_file(r.join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", r.join("etc/passwd")).unwrap();
    let run = syscage_run(&[
        "run",
        "--rootfs",
        s(&r),
        "-u",
        "1000",
        "--",
        "/bin/sh",
        "-c",
        "echo $HOME",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "/\n"), "{run:?}");
    let _ = std::fs::remove_dir_all(&r);
}

/// Without --rootfs the container is in a user namespace: its root is an unprivileged
/// host id, which cannot read root's files nor act as root on host sockets; --userns=host
/// opts out with a warning.
#[test]
#[ignore = "needs root"]
fn without_a_root_file_system_container_root_is_not_host_root() {
    need_root!();
    let r = syscage_run(&[
        "run",
        "--",
        "/bin/sh",
        "-c",
        "cat /proc/self/uid_map | tr -s ' '; cat /etc/shadow >/dev/null 2>&1 || echo shadow-refused",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, " 0 1879048192 65536\nshadow-refused\n", ""),
        "{r:?}"
    );
    let r = syscage_run(&[
        "run",
        "--userns=host",
        "--",
        "/bin/sh",
        "-c",
        "cat /proc/self/uid_map | tr -s ' '",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (0, " 0 0 4294967295\n", "syscage: warning: --userns=host without --rootfs: the container's root is the host's root, with Docker's capabilities, over the host's whole file system (read-only)\n"),
    );
    let r = syscage_run(&["run", "--userns=maybe", "--", "/bin/true"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (125, "syscage: --userns `maybe`: expected `private` (an unprivileged range of host ids) or `host`\n")
    );
}

/// `--user` as Docker reads it: names from the root file system, the primary group from
/// its /etc/passwd, else group 0.
#[test]
#[ignore = "needs root"]
fn users_are_resolved_in_the_root_file_system() {
    need_root!();
    let id = |u: &str| container(&["-u", u], &["/bin/sh", "-c", "echo $(id -u):$(id -g)"]);
    for (user, want) in [
        ("user", "1000:1000\n"),
        ("1000", "1000:1000\n"),
        ("4242", "4242:0\n"),
        ("nobody:user", "65534:1000\n"),
        ("1000:5", "1000:5\n"),
    ] {
        let r = id(user);
        assert_eq!((r.code, r.stdout.as_str()), (0, want), "{user}: {r:?}");
    }
    let r = id("ghost");
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            125,
            "syscage: --user `ghost`: no user `ghost` in the root file system's /etc/passwd\n"
        )
    );
}

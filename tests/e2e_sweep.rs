//! A run removes the cgroups killed runs left behind (with or without cgroups of its own), but only those its user may remove:
//! an unprivileged run neither stalls on root's leftovers nor prints about them. Alone in
//! its test binary, so that no other run of this suite sweeps the leftovers first (root
//! runs of other people on the same machine may: the test then proves less, never more).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

#[test]
#[ignore = "needs root"]
fn an_unprivileged_run_leaves_roots_leftover_cgroups_alone() {
    if !root(module_path!()) {
        return;
    }
    // Leftovers of runs whose syscage is gone (a pid with another start time), made by
    // root in every hierarchy syscage uses.
    let me = syscage_runtime::cgroup::Owner::me().unwrap();
    let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
    let marks = syscage_runtime::cgmark::Marks::for_caller().unwrap();
    let mut gone_names = Vec::new();
    let mut made = Vec::new();
    for h in &layout.hierarchies {
        let parent = h.path().join("syscage");
        if std::fs::create_dir_all(&parent).is_err() {
            continue;
        }
        for i in 0..3u64 {
            let gone = syscage_runtime::cgroup::Owner {
                start: me.start + 1_000_000 + i,
                ..me
            };
            let d = parent.join(gone.name());
            if std::fs::create_dir(&d).is_ok() {
                made.push(d);
            }
            // A killed run leaves its mark too (see cgmark): that is what makes a run
            // without cgroups sweep.
            std::mem::forget(marks.add(&gone).unwrap());
            gone_names.push(gone.name());
        }
    }
    assert!(made.len() >= 3, "no cgroup hierarchy to test on: {made:?}");

    let dir = std::env::temp_dir().join(format!("syscage-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let st = Command::new("cp")
        .arg("-a")
        .arg(syscage())
        .arg(rootfs())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let root = dir.join("rootfs").to_str().unwrap().to_string();
    let started = Instant::now();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(dir.join("syscage"))
        .args(["run", "--rootfs", &root, "--", "/bin/true"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), ""),
        "the unprivileged run"
    );
    assert!(
        took < Duration::from_secs(1),
        "the unprivileged run took {took:?}"
    );
    // A run by root removes them (unless a run by someone else on this machine did).
    let r = container(&[], &["/bin/true"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r:?}");
    for d in &made {
        assert!(!d.exists(), "{} was removed", d.display());
    }
    for n in &gone_names {
        let m = Path::new("/run/syscage-cgroups").join(n);
        assert!(!m.exists(), "the mark {} was removed", m.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run killed with its cgroup (nothing it could clean up) leaves it; the next run, one
/// that asks for no cgroup, removes it: the mark the killed run left makes it sweep.
#[test]
#[ignore = "needs root"]
fn a_killed_runs_cgroup_is_removed_by_the_next_plain_run() {
    if !root(module_path!()) {
        return;
    }
    let layout = syscage_runtime::cgroup::Layout::detect().unwrap();
    let Some(h) = layout.find(syscage_runtime::cgroup::Controller::Memory) else {
        skip(module_path!(), "no memory controller");
    };
    let mut child = spawn_syscage(
        &[],
        &[
            "run",
            "--memory",
            "32m",
            "--rootfs",
            rootfs().to_str().unwrap(),
            "--",
            "/bin/sleep",
            "100",
        ],
    );
    let me = syscage_runtime::cgroup::Owner::me().unwrap();
    let owner = syscage_runtime::cgroup::Owner {
        pid: child.id(),
        start: syscage_runtime::cgroup::process_start(child.id()).unwrap(),
        ..me
    };
    let cg = h.path().join("syscage").join(owner.name());
    let mark = Path::new("/run/syscage-cgroups").join(owner.name());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(cg.exists() && mark.exists()) {
        assert!(Instant::now() < deadline, "{} never appeared", cg.display());
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The init dies with its parent (PR_SET_PDEATHSIG); the cgroup and the mark stay.
    assert!(cg.exists() && mark.exists());
    let r = container(&[], &["/bin/true"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    // The sweep waits for the cgroup to empty (a second at most), then removes both.
    while cg.exists() || mark.exists() {
        assert!(
            Instant::now() < deadline,
            "{} or {} stayed",
            cg.display(),
            mark.display()
        );
        let r = container(&[], &["/bin/true"]);
        assert_eq!(r.code, 0, "{r:?}");
    }
}

//! Fault injection for the tests that prove a failure at any step leaves nothing behind:
//! with the `fault-injection` feature, a step whose description contains the value of
//! `SYSCAGE_FAULT` fails with ENOTRECOVERABLE. Without the feature this is a no-op.

use nix::errno::Errno;

#[cfg(feature = "fault-injection")]
pub fn inject(step: &str) -> Result<(), Errno> {
    match std::env::var("SYSCAGE_FAULT") {
        Ok(v) if !v.is_empty() && step.contains(v.as_str()) => Err(Errno::ENOTRECOVERABLE),
        _ => Ok(()),
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn inject(_step: &str) -> Result<(), Errno> {
    Ok(())
}

/// With the `fault-injection` feature, stops this process (SIGSTOP) at the named point
/// when `SYSCAGE_STOP_AT` names it exactly, so that a test can act at that moment (send a
/// signal, look at the container's processes) and then continue it with SIGCONT.
#[cfg(feature = "fault-injection")]
pub fn stop_here(point: &str) {
    if std::env::var("SYSCAGE_STOP_AT").is_ok_and(|v| v == point) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn stop_here(_point: &str) {}

/// With the `fault-injection` feature, a point where a process that cannot stop itself (a
/// pid namespace's init ignores its own SIGSTOP) waits while a test looks at the others:
/// when `SYSCAGE_HOLD_AT` names the point exactly, [`Hold::at`] opens `SYSCAGE_HOLD_FILE`
/// (while the host's files are still in view) and [`Hold::wait`] returns once the test has
/// removed it.
pub struct Hold(#[allow(dead_code)] Option<std::os::fd::OwnedFd>);

impl Hold {
    #[cfg(feature = "fault-injection")]
    pub fn at(point: &str) -> Hold {
        if !std::env::var("SYSCAGE_HOLD_AT").is_ok_and(|v| v == point) {
            return Hold(None);
        }
        let Ok(f) = std::env::var("SYSCAGE_HOLD_FILE") else {
            return Hold(None);
        };
        Hold(
            nix::fcntl::open(
                f.as_str(),
                nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .ok(),
        )
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub fn at(_point: &str) -> Hold {
        Hold(None)
    }

    #[cfg(feature = "fault-injection")]
    pub fn wait(self) {
        if let Some(fd) = &self.0 {
            while nix::sys::stat::fstat(fd).is_ok_and(|st| st.st_nlink > 0) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }

    #[cfg(not(feature = "fault-injection"))]
    #[inline(always)]
    pub fn wait(self) {}
}

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

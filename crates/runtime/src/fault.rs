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

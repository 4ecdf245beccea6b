//! The hand-over of the command's seccomp notification fd to syscage, and the report of a
//! failed `execve`, through the page of memory syscage shares with the container's
//! processes (mapped before they are forked, so at the same address in all of them).
//!
//! Why not the socket: once the command has loaded its filter, any system call it makes
//! may be notified (under `learn` every one is; under `--report` those the profile denies;
//! with an OCI `listenerPath` those the profile marks), and nobody answers a notification
//! before syscage holds the fd. The fd is CLOEXEC, so the command must not execute before
//! syscage has its copy (pidfd_getfd). Between the load and `execve` the command may only
//! make calls that cannot be notified, and neither side may spin or wait without end.
//!
//! The order:
//! 1. Before loading, the command registers a robust futex list (set_robust_list(2))
//!    whose one entry is the page's LOCK word, stores its thread id in LOCK, and announces
//!    the fd number on the socket (`Listener`).
//! 2. It loads the filter with [`allow_rule`] in front: `futex(&LOCK, FUTEX_WAKE, ...)`
//!    and `futex(&TAKEN, FUTEX_WAIT, ...)`, those two addresses and operations on x86_64,
//!    are allowed before the profile is consulted. Until `execve` the command makes no
//!    other call.
//! 3. It clears LOCK, wakes syscage if it sleeps on it, and sleeps on TAKEN.
//! 4. syscage, once it has read `Listener`, sleeps on LOCK until LOCK holds no thread id:
//!    either the command cleared it (the filter is loaded), or the kernel marked it
//!    FUTEX_OWNER_DIED because the command died first, however it died (SIGKILL, the OOM
//!    killer): the robust list makes that wake-up the kernel's, not the command's.
//! 5. syscage takes the fd, hands it to its supervisor (which starts answering), sets
//!    TAKEN and wakes the command, which executes.
//!
//! Neither wait can last: the command's ends when syscage sets TAKEN or dies (the init's
//! parent-death signal then takes the whole pid namespace); syscage's ends when the command
//! loads its filter or dies. In each mode:
//! - plain, without a listener: no hand-over and no rule;
//! - `--report`: the rule allows the two calls even under a profile that denies `futex`,
//!   so the report never shows syscage's own calls, and nothing waits for an answer;
//! - `learn`: every call but the rule's two is notified; the learned profile holds the
//!   command's calls only.
//!
//! What the rule lets through after `execve`: `futex` on two addresses of a page the new
//! program does not have (a program that maps its own memory there can wait on it or wake
//! itself: nothing outside it). The rule is built per run, since the page's address
//! changes, and is put in front of the cached program; it counts against the kernel's
//! limit of 4096 instructions.

use crate::sys::{self, SharedPage};
use nix::errno::Errno;
use std::sync::atomic::Ordering::SeqCst;
use syscage_seccomp::bpf::{SockFilter, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};

/// The 64-bit word holding the errno of a failed `execve` (0 when it did not fail).
pub const EXEC_ERRNO: usize = 2;
/// The robust list entry (a 64-bit word: its `next` pointer) ...
const ROBUST_ENTRY: usize = 8;
/// ... and its futex, the 32-bit word right after it (byte 72).
const LOCK: usize = 18;
/// Set by syscage once it holds the notification fd (32-bit word at byte 128).
const TAKEN: usize = 32;

// include/uapi/linux/futex.h
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
// include/uapi/linux/audit.h, include/uapi/linux/seccomp.h
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const NR_FUTEX: u32 = 202;

/// The command, before loading its filter: arms the robust list and takes LOCK.
pub fn arm(shared: &SharedPage) -> Result<(), Errno> {
    // The robust entry must be in place before LOCK holds the thread id: a death in
    // between would otherwise leave LOCK held with nobody to mark it.
    shared.register_robust(ROBUST_ENTRY)?;
    shared
        .word32(LOCK)
        .store(sys::gettid() as u32 & FUTEX_TID_MASK, SeqCst);
    Ok(())
}

/// The command, right after loading its filter: says so, and sleeps until syscage holds
/// the notification fd. Only the two calls [`allow_rule`] allows are made; if one of them
/// fails otherwise than the futex way (the rule did not match), the command must not go
/// on to `execve` and leaves.
pub fn loaded_then_wait(shared: &SharedPage) {
    let lock = shared.word32(LOCK);
    if lock.swap(0, SeqCst) & FUTEX_WAITERS != 0 && sys::futex_wake(lock, 1).is_err() {
        sys::exit_now(125);
    }
    let taken = shared.word32(TAKEN);
    while taken.load(SeqCst) == 0 {
        match sys::futex_wait(taken, 0) {
            Ok(()) | Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(_) => sys::exit_now(125),
        }
    }
}

/// What became of the command while syscage waited for its filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// The filter is loaded; the fd is at the announced number.
    Yes,
    /// The command died first (its last words, if any, are on the socket).
    CommandGone,
}

/// syscage, after `Listener`: sleeps until the command has loaded its filter or died.
pub fn wait_loaded(shared: &SharedPage) -> Result<Loaded, Errno> {
    let lock = shared.word32(LOCK);
    loop {
        let v = lock.load(SeqCst);
        if v & FUTEX_OWNER_DIED != 0 {
            return Ok(Loaded::CommandGone);
        }
        if v & FUTEX_TID_MASK == 0 {
            return Ok(Loaded::Yes);
        }
        if v & FUTEX_WAITERS == 0
            && lock
                .compare_exchange(v, v | FUTEX_WAITERS, SeqCst, SeqCst)
                .is_err()
        {
            continue;
        }
        match sys::futex_wait(lock, v | FUTEX_WAITERS) {
            Ok(()) | Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// syscage, once its supervisor holds the fd: lets the command execute.
pub fn release(shared: &SharedPage) -> Result<(), Errno> {
    let taken = shared.word32(TAKEN);
    taken.store(1, SeqCst);
    sys::futex_wake(taken, i32::MAX)
}

/// The errno of the command's failed `execve`, or 0.
pub fn exec_errno(shared: &SharedPage) -> i32 {
    shared.word(EXEC_ERRNO).load(SeqCst) as i32
}

/// The command, after a failed `execve` (no system call: the filter is loaded).
pub fn set_exec_errno(shared: &SharedPage, e: Errno) {
    shared.word(EXEC_ERRNO).store(e as u64, SeqCst);
}

/// The instructions put in front of the command's program when it hands over its
/// notification fd: the two futex calls of the hand-over, exactly, are allowed; every
/// other call falls through to the program (see the module comment).
pub fn allow_rule(shared: &SharedPage) -> Vec<SockFilter> {
    let (lock, taken) = (shared.addr32(LOCK), shared.addr32(TAKEN));
    debug_assert_eq!(lock >> 32, taken >> 32, "one page");
    let ld = |off: u32| SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, off);
    let jeq = |k: u32, jt: u8, jf: u8| SockFilter::jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
    // Offsets in struct seccomp_data: nr 0, arch 4, args[i] at 16 + 8i (low word first).
    const END: u8 = 16;
    let to = |from: u8, target: u8| target - from - 1;
    vec![
        /* 0 */ ld(4),
        /* 1 */ jeq(AUDIT_ARCH_X86_64, 0, to(1, END)),
        /* 2 */ ld(0),
        /* 3 */ jeq(NR_FUTEX, 0, to(3, END)),
        /* 4 */ ld(20),
        /* 5 */ jeq((lock >> 32) as u32, 0, to(5, END)),
        /* 6 */ ld(28),
        /* 7 */ jeq(0, 0, to(7, END)),
        /* 8 */ ld(24),
        /* 9 */ jeq(FUTEX_WAKE, 0, to(9, 12)),
        /* 10 */ ld(16),
        /* 11 */ jeq(lock as u32, to(11, 15), to(11, END)),
        /* 12 */ jeq(FUTEX_WAIT, 0, to(12, END)),
        /* 13 */ ld(16),
        /* 14 */ jeq(taken as u32, to(14, 15), to(14, END)),
        /* 15 */ SockFilter::stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscage_seccomp::bpf::{run, SeccompData};

    const DENY: u32 = 0x0005_0001; // SECCOMP_RET_ERRNO | EPERM

    fn decide(prog: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let d = SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        };
        run(prog, &d).unwrap()
    }

    #[test]
    fn the_rule_allows_the_two_hand_over_calls_and_nothing_else() {
        let page = SharedPage::new().unwrap();
        let mut prog = allow_rule(&page);
        prog.push(SockFilter::stmt(BPF_RET | BPF_K, DENY));
        let (lock, taken) = (page.addr32(LOCK), page.addr32(TAKEN));
        let x64 = AUDIT_ARCH_X86_64;
        let call = |a0: u64, op: u64| [a0, op, 0, 0, 0, 0];
        assert_eq!(decide(&prog, x64, 202, call(lock, 1)), SECCOMP_RET_ALLOW);
        assert_eq!(decide(&prog, x64, 202, call(taken, 0)), SECCOMP_RET_ALLOW);
        // Not the other operation on either word, nor the other word, nor upper bits.
        assert_eq!(decide(&prog, x64, 202, call(lock, 0)), DENY);
        assert_eq!(decide(&prog, x64, 202, call(taken, 1)), DENY);
        assert_eq!(decide(&prog, x64, 202, call(taken, 1 << 32)), DENY);
        assert_eq!(decide(&prog, x64, 202, call(lock ^ 1 << 32, 1)), DENY);
        assert_eq!(decide(&prog, x64, 202, call(lock + 4, 1)), DENY);
        assert_eq!(decide(&prog, x64, 202, call(taken ^ 1 << 40, 0)), DENY);
        // Not another call with the same arguments, nor another ABI's futex.
        assert_eq!(decide(&prog, x64, 0, call(taken, 0)), DENY);
        assert_eq!(decide(&prog, x64, 202 | 0x4000_0000, call(taken, 0)), DENY);
        assert_eq!(decide(&prog, 0x4000_0003, 240, call(taken, 0)), DENY);
    }

    #[test]
    fn the_command_waits_until_released_and_says_when_loaded() {
        let page = SharedPage::new().unwrap();
        // A thread stands in for the command (same page, same address).
        page.word32(LOCK).store(4242, SeqCst);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| wait_loaded(&page));
            let cmd = s.spawn(|| loaded_then_wait(&page));
            assert_eq!(waiter.join().unwrap(), Ok(Loaded::Yes));
            release(&page).unwrap();
            cmd.join().unwrap();
        });
        assert_eq!(page.word32(LOCK).load(SeqCst), 0);
    }

    #[test]
    fn a_command_that_dies_wakes_syscage_through_its_robust_list() {
        let page = SharedPage::new().unwrap();
        // A thread stands in for the command: it arms and ends while holding LOCK; the
        // kernel walks the thread's robust list as it exits.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                arm(&page).unwrap();
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            assert_eq!(wait_loaded(&page), Ok(Loaded::CommandGone));
        });
    }
}

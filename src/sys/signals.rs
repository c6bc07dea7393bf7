//! SIGTERM, SIGINT and SIGHUP turned into a flag that long waits poll.
//!
//! CLUSTERPRO and Pacemaker end a hung resource action with SIGTERM. When that happens we
//! must take the child's whole process group down with us instead of dying at once and
//! leaving orphans behind, so the handler only records the signal; the wait loops in
//! `process` and `lock` notice it within a few milliseconds and clean up.

use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: nix::libc::c_int) {
    // Only an atomic store: async-signal-safe.
    PENDING.store(signal, Ordering::SeqCst);
}

/// Installs the handlers. Called once by commands that run children.
pub fn install() -> anyhow::Result<()> {
    let action = SigAction::new(SigHandler::Handler(record), SaFlags::SA_RESTART, SigSet::empty());
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        // SAFETY: the handler only stores into an atomic.
        unsafe { sigaction(signal, &action) }.map_err(|e| anyhow::anyhow!("cannot install a handler for {signal}: {e}"))?;
    }
    Ok(())
}

/// Ignores SIGHUP from now on: for a command that must run to its end when the terminal
/// that started it goes away (an ssh session dropped during `eva-ha restart`, which would
/// otherwise leave the cluster's monitoring suspended). SIGTERM and SIGINT still count.
pub fn ignore_hangup() -> anyhow::Result<()> {
    let action = SigAction::new(SigHandler::SigIgn, SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: ignoring a signal installs no handler.
    unsafe { sigaction(Signal::SIGHUP, &action) }.map_err(|e| anyhow::anyhow!("cannot ignore SIGHUP: {e}"))?;
    Ok(())
}

/// The signal received since `install`, if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Returns an [`Interrupted`] error when a signal arrived.
pub fn check() -> Result<(), Interrupted> {
    pending().map_or(Ok(()), |s| Err(Interrupted(s)))
}

/// We were asked to stop by a signal (the number).
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted by {}", signal_name(self.0))
    }
}

impl std::error::Error for Interrupted {}

/// Sleeps for `d`, waking every 20 ms to return early when a signal arrives.
pub fn sleep(d: std::time::Duration) -> Result<(), Interrupted> {
    let until = std::time::Instant::now() + d;
    loop {
        check()?;
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
    }
}

pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.to_string())
}

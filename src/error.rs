//! Exit statuses and the errors that carry them.
//!
//! CLUSTERPRO only looks at zero versus non-zero, but an administrator reading a log and the
//! Pacemaker agent to come both need to tell "the operation failed" from "you configured it
//! wrong" from "something is not installed". Errors travel as `anyhow::Error` with context;
//! the few that decide a specific status carry a [`Classified`] marker somewhere in their
//! chain, and [`exit_status`] (called only by `main`) finds it.

use std::fmt;

use crate::sys::process::ProcessError;

/// The documented exit statuses besides 0, 2 (bad command line, decided by clap in `main`)
/// and 128+N (interrupted by signal N). The numbers follow the OCF resource-agent API so
/// that the Pacemaker front end can return them unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: the operation was attempted and failed (a unit, a script, the lock).
    Failed,
    /// 5: a required program, script or file is missing.
    NotInstalled,
    /// 6: not configured, or the configuration is invalid.
    NotConfigured,
}

impl ExitKind {
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Failed => 1,
            ExitKind::NotInstalled => 5,
            ExitKind::NotConfigured => 6,
        }
    }
}

/// An error whose message is complete in itself and which decides the exit status.
#[derive(Debug)]
pub struct Classified {
    pub kind: ExitKind,
    pub message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

pub fn classified(kind: ExitKind, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified { kind, message: message.into() })
}

pub fn not_configured(message: impl Into<String>) -> anyhow::Error {
    classified(ExitKind::NotConfigured, message)
}

pub fn not_installed(message: impl Into<String>) -> anyhow::Error {
    classified(ExitKind::NotInstalled, message)
}

pub fn failed(message: impl Into<String>) -> anyhow::Error {
    classified(ExitKind::Failed, message)
}

/// The exit status for an error: the first classified cause decides; an interrupted child
/// means we were interrupted (128 + signal, as a shell would report); a program that could
/// not be found is "not installed"; anything else is a plain failure.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Classified>() {
            return c.kind.code();
        }
        if let Some(p) = cause.downcast_ref::<ProcessError>() {
            match p {
                ProcessError::NotFound { .. } => return ExitKind::NotInstalled.code(),
                ProcessError::Interrupted { signal, .. } => return 128 + *signal as u8,
                _ => {}
            }
        }
        if let Some(i) = cause.downcast_ref::<crate::sys::signals::Interrupted>() {
            return 128 + i.0 as u8;
        }
    }
    ExitKind::Failed.code()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn classified_cause_decides_even_under_context() {
        let e = Err::<(), _>(not_configured("install_dir is not configured")).context("eva-start").unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert_eq!(format!("{e:#}"), "eva-start: install_dir is not configured");
    }

    #[test]
    fn missing_program_is_not_installed() {
        let e = anyhow::Error::new(ProcessError::NotFound { command: "systemctl".into() });
        assert_eq!(exit_status(&e), 5);
    }

    #[test]
    fn interrupted_is_128_plus_signal() {
        let e = anyhow::Error::new(ProcessError::Interrupted { command: "x".into(), signal: 15 });
        assert_eq!(exit_status(&e), 143);
    }

    #[test]
    fn anything_else_is_failure() {
        assert_eq!(exit_status(&anyhow::anyhow!("boom")), 1);
    }
}

//! The system plumbing: the only modules that touch processes, signals, files, systemd,
//! the container runtime's client and CLUSTERPRO's own commands. The core uses them
//! through these narrow interfaces, so every external command goes through `process`.

pub mod clp;
pub mod files;
pub mod leftovers;
pub mod lock;
pub mod logging;
pub mod monitoring;
pub mod platform;
pub mod process;
pub mod runtime;
pub mod signals;
pub mod systemd;
pub mod tls;

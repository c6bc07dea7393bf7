//! One module per command, each with one entry function `run`.
//!
//! The commands are front ends: they load the configuration, take the lock, log the
//! cluster's context and call the core (`node`). Failures of the commands the cluster runs
//! also go to the cluster's alert log.

pub mod cli;
mod clusterpro;
pub mod pacemaker;
mod tools;

use crate::front::cli::Command;
use crate::sys::clp as cluster;

/// Runs `command`; `name` is how it was invoked (`eva-start`). Success is 0, or the
/// resource agent's other non-error status (7: not running).
pub fn run(name: &str, command: Command) -> anyhow::Result<u8> {
    let alerts = matches!(command, Command::Start(_) | Command::Stop(_) | Command::Genw(_));
    let result = match command {
        Command::Start(args) => clusterpro::start::run(name, args),
        Command::Stop(args) => clusterpro::stop::run(name, args),
        Command::Config(args) => tools::show_config::run(args),
        Command::Genw(args) => clusterpro::genw::run(args),
        Command::Verify(args) => clusterpro::verify::run(args),
        Command::Check(args) => clusterpro::check::run(args),
        Command::Generate(args) => tools::generate::run(args),
        Command::Ocf(args) => return pacemaker::run(name, args),
    };
    // Interrupted, we have no time left, and the cluster reports its own timeout.
    let interrupted = crate::sys::signals::pending().is_some();
    if let (Err(e), true, false) = (&result, alerts, interrupted) {
        cluster::alert(&format!("{name} failed: {e:#}"));
    }
    result.map(|()| 0)
}

/// Logs CLUSTERPRO's variables when it called us.
pub(crate) fn log_cluster_context() {
    if let Some(vars) = cluster::environment(|v| std::env::var(v).ok()) {
        tracing::info!("cluster: {vars}");
    }
}

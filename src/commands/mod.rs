//! One module per command, each with one entry function `run`.
//!
//! The commands are front ends: they load the configuration, take the lock, log the
//! cluster's context and call the core (`node`). Failures of the commands the cluster runs
//! also go to the cluster's alert log.

mod check;
mod config;
mod generate;
mod genw;
mod ocf;
mod start;
mod stop;
mod verify;

use crate::cli::Command;
use crate::cluster;

/// Runs `command`; `name` is how it was invoked (`eva-start`). Success is 0, or the
/// resource agent's other non-error status (7: not running).
pub fn run(name: &str, command: Command) -> anyhow::Result<u8> {
    let alerts = matches!(command, Command::Start(_) | Command::Stop(_) | Command::Genw(_));
    let result = match command {
        Command::Start(args) => start::run(name, args),
        Command::Stop(args) => stop::run(name, args),
        Command::Config(args) => config::run(args),
        Command::Genw(args) => genw::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Check(args) => check::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Ocf(args) => return ocf::run(name, args),
    };
    // Interrupted, we have no time left, and the cluster reports its own timeout.
    let interrupted = crate::signals::pending().is_some();
    if let (Err(e), true, false) = (&result, alerts, interrupted) {
        cluster::alert(&format!("{name} failed: {e:#}"));
    }
    result.map(|()| 0)
}

/// Logs CLUSTERPRO's variables when it called us.
fn log_cluster_context() {
    if let Some(vars) = cluster::environment(|v| std::env::var(v).ok()) {
        tracing::info!("cluster: {vars}");
    }
}

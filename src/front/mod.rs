//! The front ends: how clusters and administrators call eva-ha. Each command is a module
//! with one entry function `run`; this module dispatches to it, logs the error chain once
//! (`{:#}`) and turns the outcome into the exit status. The CLUSTERPRO commands use the
//! documented statuses of `crate::error`; the Pacemaker agent maps onto OCF's own codes
//! (`pacemaker::status`).

pub mod cli;
mod clusterpro;
pub mod pacemaker;
mod tools;

use cli::Command;

use crate::sys::{clp, logging};

/// Runs `command`, invoked as `name` (`eva-start`, `eva-ha config`), and returns the exit
/// status.
pub fn run(name: &str, command: Command) -> u8 {
    let log = command.log();
    // A resource agent's stdout is its meta-data; Pacemaker logs what it prints on stderr.
    let agent = matches!(command, Command::Ocf(_));
    logging::init(log.verbosity(), log.log_format, agent);
    let cluster_runs_it = matches!(command, Command::Start(_) | Command::Stop(_) | Command::Genw(_));
    let monitor = matches!(command, Command::Genw(_));
    let result = match command {
        Command::Ocf(args) => return pacemaker::run(name, args),
        Command::Start(args) => clusterpro::start::run(name, args),
        Command::Stop(args) => clusterpro::stop::run(name, args),
        Command::Genw(args) => clusterpro::genw::run(args),
        Command::Check(args) => clusterpro::check::run(args),
        Command::Verify(args) => clusterpro::verify::run(args),
        Command::Config(args) => tools::show_config::run(args),
        Command::Generate(args) => tools::generate::run(args),
    };
    match result {
        Ok(()) => 0,
        // The cluster stops its monitor on every planned move: no alarm in its log.
        Err(e) if monitor && interrupted(&e) => {
            tracing::info!("{name}: {e:#}: the monitor was stopped");
            crate::error::exit_status(&e)
        }
        Err(e) => {
            tracing::error!("{name}: {e:#}");
            // Interrupted, we have no time left, and the cluster reports its own timeout.
            if cluster_runs_it && crate::sys::signals::pending().is_none() {
                clp::alert(&format!("{name} failed: {e:#}"));
            }
            crate::error::exit_status(&e)
        }
    }
}

/// Whether `e` says a signal interrupted us (status 128 + N).
fn interrupted(e: &anyhow::Error) -> bool {
    crate::error::exit_status(e) > 128
}

/// Logs CLUSTERPRO's variables when it called us.
fn log_cluster_context() {
    if let Some(vars) = clp::environment(|v| std::env::var(v).ok()) {
        tracing::info!("cluster: {vars}");
    }
}

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
    // A failed restart leaves the master to the cluster: its alert log should say why.
    let restart = matches!(command, Command::Restart(_));
    // eva-start and eva-stop leave a record of their run, for eva-ha status.
    let recorded = match &command {
        Command::Start(a) => Some(("eva-start", a.config.overrides.clone())),
        Command::Stop(a) => Some(("eva-stop", a.config.overrides.clone())),
        _ => None,
    };
    let started = (std::time::Instant::now(), chrono::Local::now());
    let result = match command {
        Command::Ocf(args) => return pacemaker::run(name, args),
        Command::Start(args) => clusterpro::start::run(name, args),
        Command::Stop(args) => clusterpro::stop::run(name, args),
        Command::Genw(args) => clusterpro::genw::run(args),
        Command::Check(args) => clusterpro::check::run(args),
        Command::Verify(args) => clusterpro::verify::run(args),
        Command::Config(args) => tools::show_config::run(args),
        Command::Generate(args) => tools::generate::run(args),
        Command::Status(args) => tools::status::run(args),
        Command::Restart(args) => tools::restart::run(name, args),
    };
    if let Some((what, overrides)) = recorded {
        record_run(what, &overrides, started, result.as_ref().err(), clp::environment(|v| std::env::var(v).ok()));
    }
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
            if (cluster_runs_it || restart) && crate::sys::signals::pending().is_none() {
                clp::alert(&format!("{name} failed: {e:#}"));
            }
            crate::error::exit_status(&e)
        }
    }
}

/// Records a run of eva-start or eva-stop in the node's history (`history_dir`). A run that
/// failed to read its configuration has no history to write to.
pub(crate) fn record_run(
    command: &str,
    overrides: &crate::config::Overrides,
    started: (std::time::Instant, chrono::DateTime<chrono::Local>),
    failure: Option<&anyhow::Error>,
    context: Option<String>,
) {
    let Ok(cfg) = crate::config::Config::load(overrides) else { return };
    let (status, outcome, error) = match failure {
        None => (0, "ok", None),
        Some(e) if interrupted(e) => (crate::error::exit_status(e), "interrupted", Some(format!("{e:#}"))),
        Some(e) => (crate::error::exit_status(e), "failed", Some(format!("{e:#}"))),
    };
    let run = crate::ha::history::Run {
        command: command.to_owned(),
        started: started.1.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        seconds: (started.0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        result: outcome.to_owned(),
        status,
        error,
        context,
    };
    if let Err(e) = crate::ha::history::record(&cfg.history_dir, run) {
        tracing::warn!("cannot record this run for eva-ha status: {e:#}");
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

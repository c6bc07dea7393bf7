//! `eva-stop`: the Exec resource's stop script.

use crate::config::Config;
use crate::front::cli::StopArgs;
use crate::ha::node;
use crate::sys::{lock, signals};

pub fn run(name: &str, args: StopArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    signals::install()?;
    super::super::log_cluster_context();
    let _lock = lock::acquire(&cfg.lock_file, *cfg.lock_timeout, name)?;
    let report = node::stop(&cfg)?;
    match report.script_problem {
        Some(problem) if args.strict => Err(problem.context("the stop script failed (--strict)")),
        _ => Ok(()),
    }
}

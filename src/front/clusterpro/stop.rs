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
    // The cluster runs its Exec resource with CLP_EVENT set; without it, an administrator.
    let cause = if std::env::var_os("CLP_EVENT").is_some() { node::StopCause::Cluster } else { node::StopCause::Hand };
    let report = node::stop(&cfg, cause)?;
    match report.script_problem {
        Some(problem) if args.strict => Err(problem.context("the stop script failed (--strict)")),
        _ => Ok(()),
    }
}

//! `eva-start`: the Exec resource's start script.

use crate::config::Config;
use crate::error::failed;
use crate::front::cli::StartArgs;
use crate::ha::node;
use crate::sys::clp as cluster;
use crate::sys::{lock, signals};

pub fn run(name: &str, args: StartArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    signals::install()?;
    super::super::log_cluster_context();
    if cluster::disk_failed(|v| std::env::var(v).ok()) {
        return Err(failed(
            "CLP_DISK=FAILURE: the cluster reports the shared disk resource failed, and EVA's data is on it; not starting",
        ));
    }
    let _lock = lock::acquire(&cfg.lock_file, *cfg.lock_timeout, name)?;
    // Taking over with another configuration.json than the last active node used: the
    // guide's update procedure was half done.
    if let Some(differs) = crate::ha::setup::differs_from_last_active(&cfg) {
        tracing::warn!("{differs}");
        cluster::alert(&differs);
    }
    let plan = node::prepare_start(&cfg)?;
    node::start(&cfg, plan)
}

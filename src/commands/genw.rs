//! `eva-genw`: the CLUSTERPRO custom monitor (asynchronous: the monitor fails when we end).
//!
//! Runs quietly while all is well; exits 1 with one line naming the container as soon as
//! one dies with an exit code that counts, or when the engine stays unreachable.

use crate::cli::GenwArgs;
use crate::config::Config;
use crate::docker::Runtime;
use crate::error::failed;
use crate::monitor::{self, Watch};
use crate::signals;

pub fn run(args: GenwArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.common.config)?;
    signals::install()?;
    super::log_cluster_context();
    let runtime = Runtime::locate(cfg.runtime, cfg.filters.clone())?;
    let watch = Watch {
        ignore_exit_codes: cfg.ignore_exit_codes.clone(),
        initial_delay: cfg.initial_delay,
        daemon_grace: cfg.daemon_grace,
    };
    let death = monitor::watch(&runtime, &watch)?;
    Err(failed(death.describe()))
}

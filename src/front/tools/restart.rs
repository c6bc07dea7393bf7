//! `eva-ha restart`: the guide's update procedure on the active node (`ha::restart`), under
//! the lock for its whole length, and deaf to SIGHUP: an ssh session that drops mid-restart
//! must not leave the monitoring suspended.

use crate::config::Config;
use crate::front::cli::RestartArgs;
use crate::ha::restart::{self, Request};
use crate::sys::{lock, signals};

pub fn run(name: &str, args: RestartArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    signals::install()?;
    signals::ignore_hangup()?;
    let _lock = lock::acquire(&cfg.lock_file, *cfg.lock_timeout, name)?;
    restart::restart(&cfg, &Request { master_config: args.master_config, dry_run: args.dry_run })
}

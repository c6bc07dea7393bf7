//! `eva-ha config`: the effective configuration, as TOML, with each value's origin.

use crate::cli::ConfigArgs;
use crate::config::Config;

pub fn run(args: ConfigArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.common.config)?;
    print!("{}", cfg.to_toml());
    Ok(())
}

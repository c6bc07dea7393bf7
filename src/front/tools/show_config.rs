//! `eva-ha config`: the effective configuration, as TOML, with each value's origin.

use crate::config::Config;
use crate::front::cli::ConfigArgs;

pub fn run(args: ConfigArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    print!("{}", cfg.to_toml());
    Ok(())
}

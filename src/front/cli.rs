//! The command line as typed: raw flags, before any validation.
//!
//! Every command shares one set of configuration flags ([`ConfigFlags`]) and logging flags
//! ([`LogFlags`]); `config::Config::load` turns the flags, the environment and the file into
//! the validated configuration. Flag values are parsed by clap, so a malformed flag is a
//! usage error (status 2) while a malformed file or variable is a configuration error (6).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::ha::token::TokenFormat;
use crate::sys::logging::LogFormat;

/// Version and the git commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("EVA_HA_GIT_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "eva-ha",
    version = VERSION,
    about = "High availability for the NEC EVA master node under CLUSTERPRO X",
    long_about = "High availability for the NEC EVA master node under CLUSTERPRO X.\n\n\
        Also runs as eva-start, eva-stop, eva-genw, eva-check and eva-verify when invoked \
        under those names (symbolic links to this binary)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the units and the EVA master (CLUSTERPRO Exec resource start script).
    Start(StartArgs),
    /// Stop the EVA master and the units (CLUSTERPRO Exec resource stop script).
    Stop(StopArgs),
    /// Watch for containers that die with an error (CLUSTERPRO custom monitor).
    Genw(GenwArgs),
    /// Check that this node is set up as the guide requires (links, owners, uids, units, scripts).
    Check(CheckArgs),
    /// Check that the EVA master answers its REST API (the guide's curl …/versions).
    Verify(VerifyArgs),
    /// Print the effective configuration and where each value comes from.
    Config(ConfigArgs),
    /// The OCF resource agent for Pacemaker (also invoked as eva-master).
    Ocf(OcfArgs),
    /// Write the man pages or the shell completions into a directory (for packaging).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

impl Command {
    /// The subcommand's name: `start`, `stop`, …
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start(_) => "start",
            Command::Stop(_) => "stop",
            Command::Genw(_) => "genw",
            Command::Check(_) => "check",
            Command::Verify(_) => "verify",
            Command::Config(_) => "config",
            Command::Ocf(_) => "ocf",
            Command::Generate(_) => "generate",
        }
    }

    /// The flags every command has.
    pub fn common(&self) -> &Common {
        match self {
            Command::Start(a) => &a.common,
            Command::Stop(a) => &a.common,
            Command::Config(a) => &a.common,
            Command::Ocf(a) => &a.common,
            Command::Genw(a) => &a.common,
            Command::Verify(a) => &a.common,
            Command::Check(a) => &a.common,
            Command::Generate(a) => &a.common,
        }
    }

    /// The subcommand name for an invocation name such as `/usr/sbin/eva-start`: the
    /// basename's suffix decides, so `x86_64-eva-start` works too.
    pub fn for_invocation(argv0: &str) -> Option<&'static str> {
        let base = argv0.rsplit('/').next().unwrap_or(argv0);
        [
            ("eva-start", "start"),
            ("eva-stop", "stop"),
            ("eva-genw", "genw"),
            ("eva-check", "check"),
            ("eva-verify", "verify"),
            ("eva-master", "ocf"),
        ]
        .into_iter()
        .find(|(name, _)| base.ends_with(name))
        .map(|(_, sub)| sub)
    }
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Fail when the stop script fails, not only when a unit will not stop.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct GenwArgs {
    /// Also judge the deaths since this time (nanoseconds since the epoch): a watch that
    /// takes over from an earlier one (used by the Pacemaker agent).
    #[arg(long, value_name = "NS", hide = true)]
    pub since_ns: Option<i64>,
    /// Write the verdict into this file before exiting (used by the Pacemaker agent).
    #[arg(long, value_name = "FILE", hide = true)]
    pub death_file: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The URL to check.
    #[arg(long, value_name = "URL", conflicts_with = "master", required_unless_present = "master")]
    pub url: Option<String>,
    /// The master's (floating) address or name: checks https://HOST:3000/versions.
    #[arg(long, value_name = "HOST")]
    pub master: Option<String>,
    /// REST API user; the password comes from EVA_HA_PASSWORD or --password-file, never
    /// from the command line.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// File holding the password (one trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Trust the CA certificates in this PEM file instead of the system's.
    #[arg(long, value_name = "PEM", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Keep trying until the master answers or this many seconds have passed.
    #[arg(long, value_name = "SECS", value_parser = parse_secs_or_zero, default_value = "0")]
    pub wait: Duration,
    /// Deadline for one request, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs, default_value = "10")]
    pub timeout: Duration,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct OcfArgs {
    /// start, stop, monitor, meta-data or validate-all (others exit 3). Parameters come
    /// from the OCF_RESKEY_<name> environment variables (see meta-data).
    #[arg(value_name = "ACTION")]
    pub action: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write: `man` (one page per command, section 1) or `completions` (bash, zsh
    /// and fish, in subdirectories).
    #[arg(value_name = "WHAT")]
    pub what: Generated,
    /// The directory to write into (created when missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generated {
    Man,
    Completions,
}

/// The flags every command accepts.
#[derive(Debug, Args)]
pub struct Common {
    #[command(flatten)]
    pub config: ConfigFlags,
    #[command(flatten)]
    pub log: LogFlags,
}

/// Configuration flags: each overrides the file key of the same name and its
/// `EVA_HA_<KEY>` environment variable.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Configuration")]
pub struct ConfigFlags {
    /// Configuration file [default: $EVA_HA_CONFIG, else /etc/eva-ha/eva-ha.toml if present].
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// EVA's install directory, where the master scripts are.
    #[arg(long, value_name = "DIR")]
    pub install_dir: Option<PathBuf>,
    /// EVA's worker configuration, which holds workerToken.
    #[arg(long, value_name = "FILE")]
    pub worker_config: Option<PathBuf>,
    /// How the token is passed: json (what `jq .workerToken` prints, quotes included) or raw.
    #[arg(long, value_name = "FORMAT")]
    pub token_format: Option<TokenFormat>,
    /// The systemd units the master needs, comma-separated.
    #[arg(long, value_name = "UNITS", value_delimiter = ',')]
    pub units: Option<Vec<String>>,
    /// The master's start script, relative to the install directory.
    #[arg(long, value_name = "FILE")]
    pub start_script: Option<PathBuf>,
    /// The master's stop script, relative to the install directory.
    #[arg(long, value_name = "FILE")]
    pub stop_script: Option<PathBuf>,
    /// Deadline for each master script, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub script_timeout: Option<Duration>,
    /// Deadline for each systemctl start or stop, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub unit_timeout: Option<Duration>,
    /// Lock file that keeps two runs from interleaving.
    #[arg(long, value_name = "FILE")]
    pub lock_file: Option<PathBuf>,
    /// How long to wait for the lock, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub lock_timeout: Option<Duration>,
    /// When a start fails, leave what it started running (default: stop it again).
    #[arg(long)]
    pub no_rollback: bool,
    /// Container runtime eva-genw watches.
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<crate::sys::runtime::Kind>,
    /// Exit codes of a dying container that do not count as a failure, comma-separated.
    #[arg(long, value_name = "CODES", value_delimiter = ',', allow_negative_numbers = true)]
    pub ignore_exit_codes: Option<Vec<i64>>,
    /// Watch only containers matching this filter: label=KEY[=VALUE] or container=NAME
    /// (repeatable; all must match).
    #[arg(long = "filter", value_name = "FILTER", value_parser = parse_filter)]
    pub filters: Option<Vec<String>>,
    /// Seconds before eva-genw's first verdict (deaths during it still count).
    #[arg(long, value_name = "SECS", value_parser = parse_secs_or_zero)]
    pub initial_delay: Option<Duration>,
    /// Seconds the engine may stay unreachable before eva-genw fails (0: wait forever).
    #[arg(long, value_name = "SECS", value_parser = parse_secs_or_zero)]
    pub daemon_grace: Option<Duration>,
    /// Where the shared disk is mounted on the active node.
    #[arg(long, value_name = "DIR")]
    pub shared_mount: Option<PathBuf>,
    /// EVA's data directory, a link to <shared mount>/pulse.
    #[arg(long, value_name = "DIR")]
    pub pulse_dir: Option<PathBuf>,
    /// MongoDB's data directory, a link to <shared mount>/pulse/mongo.
    #[arg(long, value_name = "DIR")]
    pub mongo_dir: Option<PathBuf>,
    /// PostgreSQL's data directory, a link to <shared mount>/pulse/pg_data.
    #[arg(long, value_name = "DIR")]
    pub pgdata_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogFlags {
    /// More detail (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less detail (-q warnings and errors, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
    /// Log line format.
    #[arg(long, value_name = "FORMAT", env = "EVA_HA_LOG_FORMAT", default_value = "human")]
    pub log_format: LogFormat,
}

impl LogFlags {
    pub fn verbosity(&self) -> i8 {
        self.verbose.min(10) as i8 - self.quiet.min(10) as i8
    }
}

/// Checks a scope filter on the command line, so that a malformed one is a usage error.
fn parse_filter(text: &str) -> Result<String, String> {
    crate::sys::runtime::Filter::parse(text).map(|_| text.to_owned())
}

/// Parses a positive number of seconds, fractions allowed: `1500`, `0.5`.
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    secs_to_duration(parse_number(text)?, false)
}

/// Like [`parse_secs`], but 0 is allowed (no delay; wait forever).
pub fn parse_secs_or_zero(text: &str) -> Result<Duration, String> {
    secs_to_duration(parse_number(text)?, true)
}

fn parse_number(text: &str) -> Result<f64, String> {
    text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds"))
}

/// The largest timeout we accept: a week.
const MAX_SECS: f64 = 7.0 * 86400.0;

pub fn secs_to_duration(secs: f64, zero_ok: bool) -> Result<Duration, String> {
    let low_ok = if zero_ok { secs >= 0.0 } else { secs > 0.0 };
    if secs.is_finite() && low_ok && secs <= MAX_SECS {
        Ok(Duration::from_secs_f64(secs))
    } else {
        let low = if zero_ok { "from 0" } else { "above 0" };
        Err(format!("{secs} is not a number of seconds {low} up to {MAX_SECS}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn invocation_names() {
        assert_eq!(Command::for_invocation("/usr/sbin/eva-start"), Some("start"));
        assert_eq!(Command::for_invocation("eva-stop"), Some("stop"));
        assert_eq!(Command::for_invocation("x86_64-eva-genw"), Some("genw"));
        assert_eq!(Command::for_invocation("./eva-check"), Some("check"));
        assert_eq!(Command::for_invocation("eva-verify"), Some("verify"));
        assert_eq!(Command::for_invocation("/usr/lib/ocf/resource.d/eva-ha/eva-master"), Some("ocf"));
        assert_eq!(Command::for_invocation("/usr/sbin/eva-ha"), None);
        assert_eq!(Command::for_invocation("eva-start/eva-ha"), None);
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("1500"), Ok(Duration::from_secs(1500)));
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("abc").is_err());
        assert!(parse_secs("inf").is_err());
        assert!(parse_secs("NaN").is_err());
        assert_eq!(parse_secs_or_zero("0"), Ok(Duration::ZERO));
        assert!(parse_secs_or_zero("-0.1").is_err());
    }
}

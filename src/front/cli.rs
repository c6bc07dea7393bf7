//! The command line as typed: raw flags, before any validation.
//!
//! One table, [`LINKS`], maps the name a command is invoked under (a symbolic link such as
//! `eva-start`) to its subcommand; [`parse`] uses it, and so do the man pages. Each command
//! accepts the configuration flags of the settings it reads ([`ConfigFlags`], made from
//! the declarations in `config::settings`) and no others, so that a flag that would be
//! ignored is a usage error; the logging flags ([`LogFlags`]) are on every command. Flag
//! values are checked by clap, so a malformed flag is a usage error (status 2) while a
//! malformed file or variable is a configuration error (6).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, ALL, AnyKey, Flag, Given, Names, Origin, Overrides};
use crate::sys::logging::LogFormat;

/// Version and the git commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("EVA_HA_GIT_COMMIT"), ")");

/// The multi-call binary's own name: `eva-ha SUBCOMMAND`.
pub const MULTI_CALL: &str = "eva-ha";

/// The commands that have a name of their own (a symbolic link to the binary): the link
/// name and the subcommand it runs.
pub const LINKS: &[(&str, &str)] = &[
    ("eva-start", "start"),
    ("eva-stop", "stop"),
    ("eva-genw", "genw"),
    ("eva-check", "check"),
    ("eva-verify", "verify"),
    ("eva-master", "ocf"),
];

/// How the binary was invoked, by the basename of argv[0].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// `eva-ha`: the first argument names the command.
    MultiCall,
    /// A link: (its name, the subcommand).
    Link(&'static str, &'static str),
    /// Any other name.
    Unknown(String),
}

/// Whether `base` is `name`, or `name` after a prefix that ends in a separator
/// (`x86_64-eva-start`): never a bare suffix (`fooeva-start`).
fn is_named(base: &str, name: &str) -> bool {
    base.strip_suffix(name).is_some_and(|prefix| prefix.is_empty() || prefix.ends_with(|c: char| !c.is_ascii_alphanumeric()))
}

/// The invocation for an argv[0] such as `/usr/sbin/eva-start`.
pub fn invocation(argv0: &str) -> Invocation {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    if let Some((link, sub)) = LINKS.iter().find(|(link, _)| is_named(base, link)) {
        return Invocation::Link(link, sub);
    }
    if is_named(base, MULTI_CALL) { Invocation::MultiCall } else { Invocation::Unknown(base.to_owned()) }
}

/// The link name of a subcommand, if it has one.
pub fn link_of(sub: &str) -> Option<&'static str> {
    LINKS.iter().find(|(_, s)| *s == sub).map(|(link, _)| *link)
}

#[derive(Debug, Parser)]
#[command(
    name = "eva-ha",
    version = VERSION,
    about = "High availability for the NEC EVA master node under CLUSTERPRO X (and Pacemaker)",
    long_about = "High availability for the NEC EVA master node under CLUSTERPRO X.\n\n\
        Also runs as eva-start, eva-stop, eva-genw, eva-check and eva-verify when invoked \
        under those names (symbolic links to this binary), and as eva-master, the Pacemaker \
        resource agent ocf:eva-ha:eva-master."
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
    /// What is going on on this node: its role, the units, the last start and stop, the
    /// containers, the Pacemaker watcher, the lock (within 2 s, whatever does not answer).
    Status(StatusArgs),
    /// Restart the EVA master in place on the active node, the cluster's monitoring of its
    /// group suspended meanwhile; optionally install a new configuration.json first.
    Restart(RestartArgs),
    /// The OCF resource agent for Pacemaker (also invoked as eva-master).
    Ocf(OcfArgs),
    /// Write the man pages, the shell completions or the configuration documents (for packaging).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

impl Command {
    /// The logging flags every command has.
    pub fn log(&self) -> &LogFlags {
        match self {
            Command::Start(a) => &a.log,
            Command::Stop(a) => &a.log,
            Command::Genw(a) => &a.log,
            Command::Check(a) => &a.log,
            Command::Verify(a) => &a.log,
            Command::Config(a) => &a.log,
            Command::Status(a) => &a.log,
            Command::Restart(a) => &a.log,
            Command::Ocf(a) => &a.log,
            Command::Generate(a) => &a.log,
        }
    }
}

/// Parses the command line: the command, and the name to report it under (`eva-start`,
/// `eva-ha config`).
pub fn parse(argv: Vec<OsString>) -> Result<(String, Command), clap::Error> {
    let argv0 = argv.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    match invocation(&argv0) {
        Invocation::MultiCall => {
            let command = Cli::try_parse_from(argv)?.command;
            let sub = Cli::command().get_subcommands().map(|s| s.get_name().to_owned()).find(|n| name_of(&command) == n);
            Ok((format!("{MULTI_CALL} {}", sub.unwrap_or_default()), command))
        }
        // Named as invoked (`x86_64-eva-stop`), so that the log says what the cluster ran.
        Invocation::Link(_, sub) => {
            let base = argv0.rsplit('/').next().unwrap_or(&argv0).to_owned();
            let command = parse_as(&base, sub, argv)?;
            Ok((base, command))
        }
        Invocation::Unknown(base) => {
            let names: Vec<&str> = std::iter::once(MULTI_CALL).chain(LINKS.iter().map(|(l, _)| *l)).collect();
            Err(Cli::command().error(
                clap::error::ErrorKind::InvalidValue,
                format!("invoked as `{base}`, which is not a name of this program: invoke it as {}", names.join(", ")),
            ))
        }
    }
}

fn name_of(command: &Command) -> &'static str {
    match command {
        Command::Start(_) => "start",
        Command::Stop(_) => "stop",
        Command::Genw(_) => "genw",
        Command::Check(_) => "check",
        Command::Verify(_) => "verify",
        Command::Config(_) => "config",
        Command::Status(_) => "status",
        Command::Restart(_) => "restart",
        Command::Ocf(_) => "ocf",
        Command::Generate(_) => "generate",
    }
}

/// The clap definition of a subcommand as its link presents it: named after the link, with
/// the subcommand's about and arguments.
pub fn link_command(link: &str, sub: &str) -> clap::Command {
    let cmd = Cli::command().find_subcommand(sub).cloned().unwrap_or_else(|| panic!("no subcommand {sub}"));
    cmd.name(link.to_owned()).bin_name(link.to_owned()).version(VERSION)
}

/// Parses `argv` for the subcommand `sub`, invoked under its own name `link`.
fn parse_as(link: &str, sub: &str, argv: Vec<OsString>) -> Result<Command, clap::Error> {
    let matches = link_command(link, sub).try_get_matches_from(argv)?;
    from_sub_matches(sub, &matches)
}

fn from_sub_matches(sub: &str, m: &ArgMatches) -> Result<Command, clap::Error> {
    Ok(match sub {
        "start" => Command::Start(StartArgs::from_arg_matches(m)?),
        "stop" => Command::Stop(StopArgs::from_arg_matches(m)?),
        "genw" => Command::Genw(GenwArgs::from_arg_matches(m)?),
        "check" => Command::Check(CheckArgs::from_arg_matches(m)?),
        "verify" => Command::Verify(VerifyArgs::from_arg_matches(m)?),
        "ocf" => Command::Ocf(OcfArgs::from_arg_matches(m)?),
        other => unreachable!("{other} has no link"),
    })
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub config: ConfigFlags<{ config::START }>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Fail when the stop script fails, not only when a unit will not stop.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub config: ConfigFlags<{ config::STOP }>,
    #[command(flatten)]
    pub log: LogFlags,
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
    /// After writing the verdict, tell Pacemaker that this resource failed on
    /// --pacemaker-node (`crm_resource --fail`; used by the Pacemaker agent).
    #[arg(long, value_name = "RESOURCE", hide = true, requires_all = ["death_file", "pacemaker_node"])]
    pub pacemaker_resource: Option<String>,
    /// The node of --pacemaker-resource.
    #[arg(long, value_name = "NODE", hide = true, requires = "pacemaker_resource")]
    pub pacemaker_node: Option<String>,
    /// Judge the deaths since the previous --once on this node and exit: 0 when none
    /// counts, 1 naming it (CLUSTERPRO's synchronous custom monitor).
    #[arg(long, conflicts_with_all = ["since_ns", "death_file", "pacemaker_resource"])]
    pub once: bool,
    #[command(flatten)]
    pub config: ConfigFlags<{ config::GENW }>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigFlags<{ config::CHECK }>,
    #[command(flatten)]
    pub log: LogFlags,
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
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct OcfArgs {
    /// start, stop, monitor, meta-data or validate-all (others exit 3). Parameters come
    /// from the OCF_RESKEY_<name> environment variables (see meta-data).
    #[arg(value_name = "ACTION")]
    pub action: String,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print it as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigFlags<{ config::STATUS }>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Install this file as <install_dir>/configuration.json before the restart (the previous
    /// one is kept beside it, timestamped, and put back if the master will not restart).
    #[arg(long, value_name = "FILE")]
    pub master_config: Option<PathBuf>,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub config: ConfigFlags<{ config::RESTART }>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub config: ConfigFlags<{ config::EVERY }>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write: `man` (one page per command, section 1) or `completions` (bash, zsh
    /// and fish, in subdirectories) into DIR; `example` (eva-ha.toml.example) or
    /// `config-table` (the configuration table of docs/admin-guide.md) or `support-matrix`
    /// (README's supported platforms) on stdout.
    #[arg(value_name = "WHAT")]
    pub what: Generated,
    /// The directory to write into (created when missing); for `man` and `completions`.
    #[arg(value_name = "DIR", required_if_eq_any = [("what", "man"), ("what", "completions")])]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub log: LogFlags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generated {
    Man,
    Completions,
    Example,
    ConfigTable,
    SupportMatrix,
}

/// The configuration flags of the settings that the commands in `READERS` (bits of
/// `config::START` …) read, and `--config`: made from the declarations, so that each
/// command has exactly its own.
#[derive(Clone, Debug, Default)]
pub struct ConfigFlags<const READERS: u8> {
    pub overrides: Overrides,
}

impl<const READERS: u8> ConfigFlags<READERS> {
    fn keys() -> impl Iterator<Item = &'static dyn AnyKey> {
        ALL.iter().copied().filter(|k| k.meta().read_by & READERS != 0)
    }
}

impl<const READERS: u8> FromArgMatches for ConfigFlags<READERS> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut overrides = Overrides { file: m.get_one::<PathBuf>("config").cloned(), given: Vec::new() };
        for key in Self::keys() {
            let items: Vec<String> = match key.meta().flag {
                Flag::Negate if m.get_flag(key.name()) => vec!["false".to_owned()],
                Flag::Negate => continue,
                _ => match m.get_many::<String>(key.name()) {
                    Some(values) => values.cloned().collect(),
                    None => continue,
                },
            };
            overrides.given.push(Given { key: key.name(), items, origin: Origin::Flag(key.long_flag()) });
        }
        Ok(ConfigFlags { overrides })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl<const READERS: u8> Args for ConfigFlags<READERS> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = cmd.next_help_heading("Configuration").arg(
            Arg::new("config").short('c').long("config").value_name("FILE").value_parser(clap::value_parser!(PathBuf)).help(
                format!("Configuration file [default: ${}, else {} if present]", config::FILE_VARIABLE, config::DEFAULT_FILE),
            ),
        );
        for key in Self::keys() {
            cmd = cmd.arg(flag(key));
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// A setting's flag, as its declaration says.
fn flag(key: &'static dyn AnyKey) -> Arg {
    let meta = key.meta();
    let default = key.default_text();
    let help = match (meta.flag, default.is_empty()) {
        (Flag::Negate, _) | (_, true) => format!("{}.", meta.doc),
        (_, false) => format!("{} [default: {default}]", meta.doc),
    };
    let check = move |text: &str| key.check_flag(text).map(|()| text.to_owned());
    let arg = Arg::new(key.name()).long(key.long_flag()).help(help);
    match meta.flag {
        Flag::Value(value_name) => {
            arg.value_name(value_name).action(ArgAction::Set).allow_negative_numbers(true).value_parser(check)
        }
        Flag::Repeat { value_name, .. } => arg.value_name(value_name).action(ArgAction::Append).value_parser(check),
        Flag::Negate => arg.action(ArgAction::SetTrue),
    }
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

/// A positive number of seconds, fractions allowed: `1500`, `0.5`.
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let d = parse_secs_or_zero(text)?;
    if d.is_zero() { Err(format!("{text} is not a number of seconds above 0")) } else { Ok(d) }
}

/// Like [`parse_secs`], but 0 is allowed (no delay; wait forever).
pub fn parse_secs_or_zero(text: &str) -> Result<Duration, String> {
    <Duration as config::value::Value>::from_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        for (link, sub) in LINKS {
            link_command(link, sub).debug_assert();
        }
    }

    #[test]
    fn invocation_names() {
        assert_eq!(invocation("/usr/sbin/eva-start"), Invocation::Link("eva-start", "start"));
        assert_eq!(invocation("eva-stop"), Invocation::Link("eva-stop", "stop"));
        assert_eq!(invocation("x86_64-eva-genw"), Invocation::Link("eva-genw", "genw"));
        assert_eq!(invocation("./eva-check"), Invocation::Link("eva-check", "check"));
        assert_eq!(invocation("eva-verify"), Invocation::Link("eva-verify", "verify"));
        assert_eq!(invocation("/usr/lib/ocf/resource.d/eva-ha/eva-master"), Invocation::Link("eva-master", "ocf"));
        assert_eq!(invocation("/usr/sbin/eva-ha"), Invocation::MultiCall);
        assert_eq!(invocation("eva-start/eva-ha"), Invocation::MultiCall);
        assert_eq!(invocation("fooeva-start"), Invocation::Unknown("fooeva-start".into()));
        assert_eq!(invocation("eva-started"), Invocation::Unknown("eva-started".into()));
        assert_eq!(invocation("/tmp/evaha"), Invocation::Unknown("evaha".into()));
    }

    #[test]
    fn an_unknown_name_is_a_usage_error() {
        let e = parse(vec!["fooeva-start".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("fooeva-start"), "{e}");
    }

    #[test]
    fn each_command_has_the_flags_of_what_it_reads_and_no_others() {
        let flags = |link: &str, sub: &str| -> Vec<String> {
            let mut cmd = link_command(link, sub);
            cmd.build();
            cmd.get_arguments().filter_map(|a| a.get_long().map(str::to_owned)).collect()
        };
        let start = flags("eva-start", "start");
        assert!(start.contains(&"install-dir".to_owned()) && start.contains(&"no-rollback".to_owned()), "{start:?}");
        assert!(!start.contains(&"daemon-grace".to_owned()), "{start:?}");
        let genw = flags("eva-genw", "genw");
        assert!(genw.contains(&"filter".to_owned()) && !genw.contains(&"install-dir".to_owned()), "{genw:?}");
        for (link, sub) in [("eva-verify", "verify"), ("eva-master", "ocf")] {
            let f = flags(link, sub);
            for key in ALL {
                assert!(!f.contains(&key.long_flag()), "{link} has --{}", key.long_flag());
            }
            assert!(!f.contains(&"config".to_owned()), "{link} has --config");
            assert!(f.contains(&"log-format".to_owned()), "{link}: {f:?}");
        }
        let e = parse(vec!["eva-verify".into(), "--master".into(), "x".into(), "--install-dir".into(), "/x".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--install-dir"), "{e}");
    }

    #[test]
    fn flags_become_overrides_with_their_origin() {
        let (_, command) = parse(
            ["eva-ha", "config", "--units", "a,b", "--filter", "label=x", "--filter", "container=y", "--no-rollback"]
                .map(OsString::from)
                .to_vec(),
        )
        .unwrap();
        let Command::Config(args) = command else { panic!("not config") };
        let given = &args.config.overrides.given;
        let units = given.iter().find(|g| g.key == "units").unwrap();
        assert_eq!((units.items.clone(), units.origin.clone()), (vec!["a,b".to_owned()], Origin::Flag("units".into())));
        let filters = given.iter().find(|g| g.key == "filters").unwrap();
        assert_eq!(filters.items, ["label=x", "container=y"]);
        assert_eq!(given.iter().find(|g| g.key == "rollback").unwrap().items, ["false"]);
        let e = parse(["eva-ha", "genw", "--filter", "name=x"].map(OsString::from).to_vec()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
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

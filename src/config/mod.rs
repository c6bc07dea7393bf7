//! The validated configuration, and where each value came from.
//!
//! Layers, lowest first: the guide's defaults, a TOML file, `EVA_HA_*` environment
//! variables, command-line flags. The file is `--config`, else `$EVA_HA_CONFIG`, else
//! `/etc/eva-ha/eva-ha.toml` when it exists; a file that was named explicitly must exist. An
//! unknown key, a wrong type or an impossible value is an error naming the key and its
//! source (file and line, or variable). A setting without a default (`install_dir`) is
//! only required by the commands that use it, through [`Config::install_dir`].

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::not_configured;
use crate::front::cli::{ConfigFlags, secs_to_duration};
use crate::ha::token::TokenFormat;
use crate::sys::runtime::{Filter, Kind};

pub const DEFAULT_FILE: &str = "/etc/eva-ha/eva-ha.toml";
pub const DEFAULT_WORKER_CONFIG: &str = "/opt/pulse/worker/config/configuration.json";
pub const DEFAULT_UNITS: &[&str] = &["docker", "mongod.service", "postgresql-9.5.service"];
pub const DEFAULT_START_SCRIPT: &str = "start-master-rhel.sh";
pub const DEFAULT_STOP_SCRIPT: &str = "stop-master.sh";
/// Inside CLUSTERPRO's default 1800 s Exec resource timeout, so that a hung master script
/// is reported by us, with its name, rather than by the cluster.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(1500);
/// A unit start or stop; with the script timeout still inside 1800 s.
pub const DEFAULT_UNIT_TIMEOUT: Duration = Duration::from_secs(240);
pub const DEFAULT_LOCK_FILE: &str = "/run/eva-ha.lock";
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// The guide's genw.sh ignores deaths with these exit codes: a clean exit, and SIGKILL
/// (`docker kill`, `docker stop` after its grace).
pub const DEFAULT_IGNORE_EXIT_CODES: &[i64] = &[0, 137];
/// The guide's genw.sh sleeps 5 s before its first check.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_secs(5);
pub const DEFAULT_DAEMON_GRACE: Duration = Duration::from_secs(60);
/// The three directories the guide moves to the shared disk and links back.
pub const DEFAULT_PULSE_DIR: &str = "/opt/pulse";
pub const DEFAULT_MONGO_DIR: &str = "/var/lib/mongo";
pub const DEFAULT_PGDATA_DIR: &str = "/var/lib/pgsql/9.5/data";

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "file {}", p.display()),
            Origin::Env(v) => write!(f, "environment {v}"),
            Origin::Flag(n) => write!(f, "flag --{n}"),
        }
    }
}

/// The configuration every command shares.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    install_dir: Option<PathBuf>,
    pub worker_config: PathBuf,
    pub token_format: TokenFormat,
    pub units: Vec<String>,
    pub start_script: PathBuf,
    pub stop_script: PathBuf,
    pub script_timeout: Duration,
    pub unit_timeout: Duration,
    pub lock_file: PathBuf,
    pub lock_timeout: Duration,
    pub rollback: bool,
    pub runtime: Kind,
    pub ignore_exit_codes: Vec<i64>,
    pub filters: Vec<Filter>,
    pub initial_delay: Duration,
    /// `None`: wait for the engine forever.
    pub daemon_grace: Option<Duration>,
    /// Where the shared disk is mounted on the active node; no default.
    pub shared_mount: Option<PathBuf>,
    pub pulse_dir: PathBuf,
    pub mongo_dir: PathBuf,
    pub pgdata_dir: PathBuf,
    /// Key name to the origin of its value.
    pub origins: BTreeMap<&'static str, Origin>,
}

/// One layer: what a file, the environment or the flags say. The file is deserialized
/// straight into it, so its field names are the file's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    install_dir: Option<PathBuf>,
    worker_config: Option<PathBuf>,
    token_format: Option<TokenFormat>,
    units: Option<Vec<String>>,
    start_script: Option<PathBuf>,
    stop_script: Option<PathBuf>,
    script_timeout: Option<f64>,
    unit_timeout: Option<f64>,
    lock_file: Option<PathBuf>,
    lock_timeout: Option<f64>,
    rollback: Option<bool>,
    runtime: Option<Kind>,
    ignore_exit_codes: Option<Vec<i64>>,
    filters: Option<Vec<String>>,
    initial_delay: Option<f64>,
    daemon_grace: Option<f64>,
    shared_mount: Option<PathBuf>,
    pulse_dir: Option<PathBuf>,
    mongo_dir: Option<PathBuf>,
    pgdata_dir: Option<PathBuf>,
}

/// The environment variable for a key.
pub fn env_name(key: &str) -> String {
    format!("EVA_HA_{}", key.to_ascii_uppercase())
}

impl Config {
    /// Loads the configuration from the real environment.
    pub fn load(flags: &ConfigFlags) -> anyhow::Result<Config> {
        Config::load_with(flags, |name| std::env::var_os(name))
    }

    /// Loads the configuration with `env` standing for the environment.
    pub fn load_with(flags: &ConfigFlags, env: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<Config> {
        let (file, file_layer) = read_file(flags, &env)?;
        let env_layer = env_layer(&env)?;
        let flag_layer = flag_layer(flags);
        let mut origins = BTreeMap::new();
        let file_origin = || Origin::File(file.clone().unwrap_or_default());

        macro_rules! pick {
            ($key:ident, $flag:expr) => {{
                let key = stringify!($key);
                if let Some(v) = flag_layer.$key.clone() {
                    origins.insert(key, Origin::Flag($flag.to_owned()));
                    Some(v)
                } else if let Some(v) = env_layer.$key.clone() {
                    origins.insert(key, Origin::Env(env_name(key)));
                    Some(v)
                } else if let Some(v) = file_layer.$key.clone() {
                    origins.insert(key, file_origin());
                    Some(v)
                } else {
                    origins.insert(key, Origin::Default);
                    None
                }
            }};
        }

        let install_dir = pick!(install_dir, "install-dir");
        let worker_config = pick!(worker_config, "worker-config").unwrap_or_else(|| DEFAULT_WORKER_CONFIG.into());
        let token_format = pick!(token_format, "token-format").unwrap_or_default();
        let units = pick!(units, "units").unwrap_or_else(|| DEFAULT_UNITS.iter().map(|u| u.to_string()).collect());
        let start_script = pick!(start_script, "start-script").unwrap_or_else(|| DEFAULT_START_SCRIPT.into());
        let stop_script = pick!(stop_script, "stop-script").unwrap_or_else(|| DEFAULT_STOP_SCRIPT.into());
        let script_timeout = pick!(script_timeout, "script-timeout");
        let unit_timeout = pick!(unit_timeout, "unit-timeout");
        let lock_file = pick!(lock_file, "lock-file").unwrap_or_else(|| DEFAULT_LOCK_FILE.into());
        let lock_timeout = pick!(lock_timeout, "lock-timeout");
        let rollback = pick!(rollback, "no-rollback").unwrap_or(true);
        let runtime = pick!(runtime, "runtime").unwrap_or_default();
        let ignore_exit_codes =
            pick!(ignore_exit_codes, "ignore-exit-codes").unwrap_or_else(|| DEFAULT_IGNORE_EXIT_CODES.to_vec());
        let filters = pick!(filters, "filter").unwrap_or_default();
        let initial_delay = pick!(initial_delay, "initial-delay");
        let daemon_grace = pick!(daemon_grace, "daemon-grace");
        let shared_mount = pick!(shared_mount, "shared-mount");
        let pulse_dir = pick!(pulse_dir, "pulse-dir").unwrap_or_else(|| DEFAULT_PULSE_DIR.into());
        let mongo_dir = pick!(mongo_dir, "mongo-dir").unwrap_or_else(|| DEFAULT_MONGO_DIR.into());
        let pgdata_dir = pick!(pgdata_dir, "pgdata-dir").unwrap_or_else(|| DEFAULT_PGDATA_DIR.into());

        let invalid = |key: &str, problem: String| not_configured(format!("{key} ({}): {problem}", origins[key]));
        let secs_from = |zero_ok: bool, key: &str, value: Option<f64>, default: Duration| match value {
            None => Ok(default),
            Some(v) => secs_to_duration(v, zero_ok).map_err(|p| invalid(key, p)),
        };
        let secs = |key: &str, value: Option<f64>, default: Duration| secs_from(false, key, value, default);
        let absolute = |key: &str, path: &Path| {
            if path.is_absolute() { Ok(()) } else { Err(invalid(key, format!("{} is not an absolute path", path.display()))) }
        };
        if let Some(dir) = &install_dir {
            absolute("install_dir", dir)?;
        }
        absolute("worker_config", &worker_config)?;
        if let Some(mount) = &shared_mount {
            absolute("shared_mount", mount)?;
        }
        absolute("pulse_dir", &pulse_dir)?;
        absolute("mongo_dir", &mongo_dir)?;
        absolute("pgdata_dir", &pgdata_dir)?;
        absolute("lock_file", &lock_file)?;
        for (key, script) in [("start_script", &start_script), ("stop_script", &stop_script)] {
            if script.as_os_str().is_empty() {
                return Err(invalid(key, "is empty".into()));
            }
        }
        validate_units(&units).map_err(|p| invalid("units", p))?;
        let filters =
            filters.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>().map_err(|p| invalid("filters", p))?;
        let daemon_grace = secs_from(true, "daemon_grace", daemon_grace, DEFAULT_DAEMON_GRACE)?;

        Ok(Config {
            script_timeout: secs("script_timeout", script_timeout, DEFAULT_SCRIPT_TIMEOUT)?,
            unit_timeout: secs("unit_timeout", unit_timeout, DEFAULT_UNIT_TIMEOUT)?,
            lock_timeout: secs("lock_timeout", lock_timeout, DEFAULT_LOCK_TIMEOUT)?,
            initial_delay: secs_from(true, "initial_delay", initial_delay, DEFAULT_INITIAL_DELAY)?,
            daemon_grace: (!daemon_grace.is_zero()).then_some(daemon_grace),
            runtime,
            ignore_exit_codes,
            filters,
            shared_mount,
            pulse_dir,
            mongo_dir,
            pgdata_dir,
            file,
            install_dir,
            worker_config,
            token_format,
            units,
            start_script,
            stop_script,
            lock_file,
            rollback,
            origins,
        })
    }

    /// EVA's install directory; an error when nobody configured it.
    pub fn install_dir(&self) -> anyhow::Result<&Path> {
        self.install_dir.as_deref().ok_or_else(|| {
            not_configured(format!(
                "install_dir is not configured: set install_dir in {}, {} or --install-dir",
                self.file.as_deref().unwrap_or(Path::new(DEFAULT_FILE)).display(),
                env_name("install_dir"),
            ))
        })
    }

    /// The configuration as TOML, each line commented with the value's origin; the token
    /// is not part of it.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# eva-ha effective configuration\n# file: {}\n",
            match &self.file {
                Some(f) => f.display().to_string(),
                None => format!("none ({DEFAULT_FILE} absent)"),
            }
        );
        let path = |p: &Path| toml::Value::String(p.display().to_string());
        let secs = |d: Duration| {
            let s = d.as_secs_f64();
            if s.fract() == 0.0 { toml::Value::Integer(s as i64) } else { toml::Value::Float(s) }
        };
        let lines: Vec<(&str, Option<toml::Value>)> = vec![
            ("install_dir", self.install_dir.as_deref().map(path)),
            ("worker_config", Some(path(&self.worker_config))),
            ("token_format", Some(toml::Value::String(self.token_format.to_string()))),
            ("units", Some(toml::Value::Array(self.units.iter().cloned().map(toml::Value::String).collect()))),
            ("start_script", Some(path(&self.start_script))),
            ("stop_script", Some(path(&self.stop_script))),
            ("script_timeout", Some(secs(self.script_timeout))),
            ("unit_timeout", Some(secs(self.unit_timeout))),
            ("lock_file", Some(path(&self.lock_file))),
            ("lock_timeout", Some(secs(self.lock_timeout))),
            ("rollback", Some(toml::Value::Boolean(self.rollback))),
            ("runtime", Some(toml::Value::String(self.runtime.to_string()))),
            (
                "ignore_exit_codes",
                Some(toml::Value::Array(self.ignore_exit_codes.iter().map(|&c| toml::Value::Integer(c)).collect())),
            ),
            ("filters", Some(toml::Value::Array(self.filters.iter().map(|f| toml::Value::String(f.to_string())).collect()))),
            ("initial_delay", Some(secs(self.initial_delay))),
            ("daemon_grace", Some(secs(self.daemon_grace.unwrap_or(Duration::ZERO)))),
            ("shared_mount", self.shared_mount.as_deref().map(path)),
            ("pulse_dir", Some(path(&self.pulse_dir))),
            ("mongo_dir", Some(path(&self.mongo_dir))),
            ("pgdata_dir", Some(path(&self.pgdata_dir))),
        ];
        for (key, value) in lines {
            let origin = &self.origins[key];
            match value {
                Some(v) => out.push_str(&format!("{key} = {v}  # {origin}\n")),
                None => out.push_str(&format!("# {key} is not configured\n")),
            }
        }
        out
    }
}

/// Unit names as systemctl takes them: no empty or duplicate names, nothing that could be
/// read as an option or needs quoting.
fn validate_units(units: &[String]) -> Result<(), String> {
    if units.is_empty() {
        return Err("the list is empty".into());
    }
    for (i, unit) in units.iter().enumerate() {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
        if unit.is_empty() || unit.starts_with('-') || !unit.chars().all(ok_char) {
            return Err(format!("{unit:?} is not a systemd unit name"));
        }
        if units[..i].contains(unit) {
            return Err(format!("{unit} is listed twice"));
        }
    }
    Ok(())
}

fn read_file(flags: &ConfigFlags, env: &impl Fn(&str) -> Option<OsString>) -> anyhow::Result<(Option<PathBuf>, Layer)> {
    let (path, explicit) = match (&flags.config, env("EVA_HA_CONFIG").filter(|v| !v.is_empty())) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) => (PathBuf::from(p), true),
        (None, None) => (PathBuf::from(DEFAULT_FILE), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok((None, Layer::default())),
        Err(e) => return Err(not_configured(format!("configuration file {}: {e}", path.display()))),
    };
    let layer = toml::from_str::<Layer>(&text).map_err(|e| {
        let mut message = e.message().trim().replace("expected f64", "expected a number of seconds");
        message = message.replace("expected a sequence", "expected a list");
        let mut at = String::new();
        if let Some(span) = e.span() {
            let (line, col) = line_col(&text, span.start);
            at = format!(":{line}:{col}");
            // A type error points at the value: name the key it belongs to.
            let key = text.lines().nth(line - 1).and_then(|l| l.split_once('=')).map(|(k, _)| k.trim());
            if let Some(key) = key.filter(|k| !k.is_empty() && !message.contains(*k)) {
                message = format!("{key}: {message}");
            }
        }
        not_configured(format!("configuration file {}{at}: {message}", path.display()))
    })?;
    Ok((Some(path), layer))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |nl| before.len() - nl - 1) + 1;
    (line, col)
}

fn env_layer(env: &impl Fn(&str) -> Option<OsString>) -> anyhow::Result<Layer> {
    let get = |key: &str| -> anyhow::Result<Option<String>> {
        let name = env_name(key);
        match env(&name) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => {
                v.into_string().map(Some).map_err(|_| not_configured(format!("{key} (environment {name}): not valid UTF-8")))
            }
        }
    };
    let parse = |key: &str, text: String, want: &str| -> anyhow::Result<f64> {
        text.trim().parse().map_err(|_| not_configured(format!("{key} (environment {}): {text:?} is not {want}", env_name(key))))
    };
    let secs = |key: &str| get(key)?.map(|t| parse(key, t, "a number of seconds")).transpose();
    Ok(Layer {
        install_dir: get("install_dir")?.map(PathBuf::from),
        worker_config: get("worker_config")?.map(PathBuf::from),
        token_format: get("token_format")?
            .map(|t| {
                one_of(&t).map_err(|p| not_configured(format!("token_format (environment {}): {p}", env_name("token_format"))))
            })
            .transpose()?,
        units: get("units")?.map(|t| list(&t).map(str::to_owned).collect()),
        start_script: get("start_script")?.map(PathBuf::from),
        stop_script: get("stop_script")?.map(PathBuf::from),
        script_timeout: secs("script_timeout")?,
        unit_timeout: secs("unit_timeout")?,
        lock_file: get("lock_file")?.map(PathBuf::from),
        lock_timeout: secs("lock_timeout")?,
        runtime: get("runtime")?
            .map(|t| one_of(&t).map_err(|p| not_configured(format!("runtime (environment {}): {p}", env_name("runtime")))))
            .transpose()?,
        ignore_exit_codes: get("ignore_exit_codes")?
            .map(|t| {
                exit_codes(&t).map_err(|p| {
                    not_configured(format!("ignore_exit_codes (environment {}): {p}", env_name("ignore_exit_codes")))
                })
            })
            .transpose()?,
        filters: get("filters")?.map(|t| list(&t).map(str::to_owned).collect()),
        initial_delay: secs("initial_delay")?,
        daemon_grace: secs("daemon_grace")?,
        shared_mount: get("shared_mount")?.map(PathBuf::from),
        pulse_dir: get("pulse_dir")?.map(PathBuf::from),
        mongo_dir: get("mongo_dir")?.map(PathBuf::from),
        pgdata_dir: get("pgdata_dir")?.map(PathBuf::from),
        rollback: get("rollback")?
            .map(|t| match t.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(not_configured(format!("rollback (environment {}): {t:?} is not true or false", env_name("rollback")))),
            })
            .transpose()?,
    })
}

/// A list in an environment variable or an OCF parameter: comma- or space-separated.
pub fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|u| !u.is_empty())
}

/// One of an enum's names, as clap spells them (`json`, `podman`); the error lists them.
pub fn one_of<T: clap::ValueEnum>(text: &str) -> Result<T, String> {
    T::from_str(text.trim(), false).map_err(|_| {
        let names: Vec<String> =
            T::value_variants().iter().filter_map(|v| v.to_possible_value()).map(|p| p.get_name().to_owned()).collect();
        format!("{text:?} is not {}", names.join(" or "))
    })
}

/// A list of exit codes: `0,137 143`.
pub fn exit_codes(text: &str) -> Result<Vec<i64>, String> {
    list(text).map(|c| c.parse::<i64>()).collect::<Result<Vec<_>, _>>().map_err(|_| format!("{text:?} is not a list of numbers"))
}

fn flag_layer(flags: &ConfigFlags) -> Layer {
    Layer {
        install_dir: flags.install_dir.clone(),
        worker_config: flags.worker_config.clone(),
        token_format: flags.token_format,
        units: flags.units.clone(),
        start_script: flags.start_script.clone(),
        stop_script: flags.stop_script.clone(),
        script_timeout: flags.script_timeout.map(|d| d.as_secs_f64()),
        unit_timeout: flags.unit_timeout.map(|d| d.as_secs_f64()),
        lock_file: flags.lock_file.clone(),
        lock_timeout: flags.lock_timeout.map(|d| d.as_secs_f64()),
        rollback: flags.no_rollback.then_some(false),
        runtime: flags.runtime,
        ignore_exit_codes: flags.ignore_exit_codes.clone(),
        filters: flags.filters.clone(),
        initial_delay: flags.initial_delay.map(|d| d.as_secs_f64()),
        daemon_grace: flags.daemon_grace.map(|d| d.as_secs_f64()),
        shared_mount: flags.shared_mount.clone(),
        pulse_dir: flags.pulse_dir.clone(),
        mongo_dir: flags.mongo_dir.clone(),
        pgdata_dir: flags.pgdata_dir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_status;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        move |name| map.get(name).cloned()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eva-ha.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn flags_with(path: &Path) -> ConfigFlags {
        ConfigFlags { config: Some(path.to_owned()), ..Default::default() }
    }

    #[test]
    fn defaults_are_the_guides() {
        let (_d, path) = file("");
        let c = Config::load_with(&flags_with(&path), env(&[])).unwrap();
        assert_eq!(c.worker_config, Path::new("/opt/pulse/worker/config/configuration.json"));
        assert_eq!(c.units, ["docker", "mongod.service", "postgresql-9.5.service"]);
        assert_eq!(c.start_script, Path::new("start-master-rhel.sh"));
        assert_eq!(c.stop_script, Path::new("stop-master.sh"));
        assert_eq!(c.token_format, TokenFormat::Json);
        assert_eq!(c.script_timeout, Duration::from_secs(1500));
        assert!(c.rollback);
        assert_eq!(c.origins["units"], Origin::Default);
        let e = c.install_dir().unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert!(e.to_string().starts_with("install_dir is not configured"), "{e}");
    }

    #[test]
    fn precedence_file_env_flag() {
        let (_d, path) = file("install_dir = \"/file\"\nunits = [\"a\", \"b\"]\nscript_timeout = 10\nunit_timeout = 2.5\n");
        let e = env(&[("EVA_HA_INSTALL_DIR", "/env"), ("EVA_HA_SCRIPT_TIMEOUT", "20")]);
        let mut flags = flags_with(&path);
        let c = Config::load_with(&flags, &e).unwrap();
        assert_eq!(c.install_dir().unwrap(), Path::new("/env"));
        assert_eq!(c.units, ["a", "b"]);
        assert_eq!(c.script_timeout, Duration::from_secs(20));
        assert_eq!(c.unit_timeout, Duration::from_millis(2500));
        assert_eq!(c.origins["units"], Origin::File(path.clone()));
        assert_eq!(c.origins["install_dir"], Origin::Env("EVA_HA_INSTALL_DIR".into()));

        flags.install_dir = Some("/flag".into());
        flags.script_timeout = Some(Duration::from_secs(30));
        let c = Config::load_with(&flags, &e).unwrap();
        assert_eq!(c.install_dir().unwrap(), Path::new("/flag"));
        assert_eq!(c.script_timeout, Duration::from_secs(30));
        assert_eq!(c.origins["install_dir"], Origin::Flag("install-dir".into()));
    }

    #[test]
    fn config_file_from_environment_and_default_absent() {
        let (_d, path) = file("install_dir = \"/from-env-file\"\n");
        let c = Config::load_with(&ConfigFlags::default(), env(&[("EVA_HA_CONFIG", path.to_str().unwrap())])).unwrap();
        assert_eq!(c.install_dir().unwrap(), Path::new("/from-env-file"));
        assert_eq!(c.file.as_deref(), Some(path.as_path()));
    }

    #[test]
    fn explicit_file_must_exist() {
        let e = Config::load_with(&flags_with(Path::new("/nonexistent/eva.toml")), env(&[])).unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert!(e.to_string().contains("/nonexistent/eva.toml"), "{e}");
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let (_d, path) = file("install_dir = \"/opt/eva\"\ninstal_dir = \"/typo\"\n");
        let e = Config::load_with(&flags_with(&path), env(&[])).unwrap_err();
        let msg = e.to_string();
        assert_eq!(exit_status(&e), 6);
        assert!(msg.contains(&format!("{}:2:1", path.display())), "{msg}");
        assert!(msg.contains("instal_dir"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn wrong_type_and_bad_values_name_the_key() {
        for (text, want) in [
            ("units = \"docker\"\n", ":1:9: units: invalid type: string \"docker\", expected a list"),
            ("script_timeout = \"soon\"\n", ":1:18: script_timeout: invalid type: string \"soon\", expected a number of seconds"),
            ("token_format = \"yaml\"\n", ":1:16: token_format: unknown variant `yaml`, expected `json` or `raw`"),
            ("rollback = 1\n", ":1:12: rollback: invalid type: integer `1`, expected a boolean"),
        ] {
            let (_d, path) = file(text);
            let e = Config::load_with(&flags_with(&path), env(&[])).unwrap_err();
            assert_eq!(exit_status(&e), 6);
            assert_eq!(e.to_string(), format!("configuration file {}{want}", path.display()));
        }
        for (text, want) in [
            ("script_timeout = 0\n", "script_timeout (file "),
            ("units = []\n", "units (file "),
            ("units = [\"docker\", \"docker\"]\n", "docker is listed twice"),
            ("units = [\"--force\"]\n", "\"--force\" is not a systemd unit name"),
            ("install_dir = \"relative/dir\"\n", "relative/dir is not an absolute path"),
        ] {
            let (_d, path) = file(text);
            let e = Config::load_with(&flags_with(&path), env(&[])).unwrap_err();
            assert_eq!(exit_status(&e), 6);
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn bad_environment_names_the_variable() {
        let (_d, path) = file("");
        for (var, value) in [
            ("EVA_HA_SCRIPT_TIMEOUT", "soon"),
            ("EVA_HA_TOKEN_FORMAT", "yaml"),
            ("EVA_HA_ROLLBACK", "maybe"),
            ("EVA_HA_UNIT_TIMEOUT", "-3"),
        ] {
            let e = Config::load_with(&flags_with(&path), env(&[(var, value)])).unwrap_err();
            assert_eq!(exit_status(&e), 6);
            assert!(e.to_string().contains(var), "{var}: {e}");
        }
    }

    #[test]
    fn units_from_environment_split_on_commas_and_spaces() {
        let (_d, path) = file("");
        let c = Config::load_with(&flags_with(&path), env(&[("EVA_HA_UNITS", "a.service, b.service c")])).unwrap();
        assert_eq!(c.units, ["a.service", "b.service", "c"]);
    }

    #[test]
    fn example_file_uncommented_is_valid_and_gives_the_defaults() {
        let example = include_str!("../eva-ha.toml.example");
        let settings: String = example
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .filter(|l| l.contains(" = ") && !l.starts_with(' '))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(settings.lines().count(), 20, "{settings}");
        let (_d, path) = file(&settings);
        let c = Config::load_with(&flags_with(&path), env(&[])).unwrap();
        // The example's values are the defaults, but for the two settings without one.
        let (_d2, empty) = file("install_dir = \"/home/eva/eva-master\"\nshared_mount = \"/mnt/sdb2\"\n");
        let d = Config::load_with(&flags_with(&empty), env(&[])).unwrap();
        let strip = |t: String| t.lines().map(|l| l.split("  #").next().unwrap().to_owned()).collect::<Vec<_>>()[2..].join("\n");
        assert_eq!(strip(c.to_toml()), strip(d.to_toml()));
    }

    #[test]
    fn printed_configuration_is_valid_toml_with_origins() {
        let (_d, path) = file("install_dir = \"/opt/eva\"\nunit_timeout = 2.5\n");
        let c = Config::load_with(&flags_with(&path), env(&[])).unwrap();
        let text = c.to_toml();
        assert!(text.contains(&format!("install_dir = \"/opt/eva\"  # file {}", path.display())), "{text}");
        assert!(text.contains("unit_timeout = 2.5"), "{text}");
        assert!(text.contains("script_timeout = 1500  # default"), "{text}");
        let back: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(back["units"].as_array().unwrap().len(), 3);
    }
}

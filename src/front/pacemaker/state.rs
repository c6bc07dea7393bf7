//! eva-master: the same logic as eva-start/eva-stop/eva-genw, as an OCF resource agent for
//! Pacemaker (OCF 1.1; exit codes, parameters and meta-data as `ra-api-1.dtd` has them).
//!
//! Pacemaker calls the agent with an action and `OCF_RESKEY_<name>` parameters, and asks
//! `monitor` every interval whether the resource runs. A periodic monitor cannot see a
//! container that died between two calls, nor count on the engine's 256-event replay
//! buffer, so `start` also launches an eva-genw watcher (detached, one subscription) that
//! writes a verdict file when a container dies with a counted exit code; `monitor` reads
//! it. The state (`/run/eva-ha/ocf/<instance>/`) says that the master was started here;
//! /run is emptied at boot, when nothing of the master runs either.

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{self, Config};
use crate::error::not_configured;
use crate::front::cli::ConfigFlags;

/// OCF exit codes.
pub const OCF_SUCCESS: u8 = 0;
pub const OCF_ERR_GENERIC: u8 = 1;
pub const OCF_ERR_UNIMPLEMENTED: u8 = 3;
pub const OCF_NOT_RUNNING: u8 = 7;

/// Where the agent keeps its state, per resource instance.
pub const STATE_ROOT: &str = "/run/eva-ha/ocf";

/// The parameters, in meta-data order: name, type, default, short and long description.
pub const PARAMETERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "config",
        "string",
        crate::config::DEFAULT_FILE,
        "eva-ha configuration file",
        "The eva-ha TOML configuration file (as for eva-start). The other parameters override its keys.",
    ),
    (
        "install_dir",
        "string",
        "",
        "EVA install directory",
        "EVA's install directory, where start-master-rhel.sh and stop-master.sh are. Required here or in the file.",
    ),
    (
        "worker_config",
        "string",
        crate::config::DEFAULT_WORKER_CONFIG,
        "worker configuration",
        "EVA's worker configuration.json, which holds workerToken.",
    ),
    (
        "token_format",
        "string",
        "json",
        "token format: json or raw",
        "How the worker token is passed to the start script: json (what `jq .workerToken` prints, quotes included) or raw.",
    ),
    (
        "units",
        "string",
        "docker mongod.service postgresql-9.5.service",
        "systemd units",
        "The systemd units the master needs, space- or comma-separated; started and stopped together.",
    ),
    (
        "start_script",
        "string",
        crate::config::DEFAULT_START_SCRIPT,
        "master start script",
        "The master's start script, relative to install_dir.",
    ),
    (
        "stop_script",
        "string",
        crate::config::DEFAULT_STOP_SCRIPT,
        "master stop script",
        "The master's stop script, relative to install_dir.",
    ),
    (
        "runtime",
        "string",
        "docker",
        "container runtime: docker or podman",
        "The container runtime whose container deaths the monitor watches.",
    ),
    (
        "ignore_exit_codes",
        "string",
        "0,137",
        "ignored container exit codes",
        "Exit codes of a dying container that are not failures, comma-separated. An OOM kill always is one.",
    ),
    (
        "filters",
        "string",
        "",
        "containers watched",
        "Watch only the containers matching all of these filters (label=KEY[=VALUE], container=NAME), space-separated; empty watches all.",
    ),
];

/// The OCF parameters as configuration flags (they override the file and the environment).
pub fn flags(env: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<ConfigFlags> {
    let get = |name: &str| -> anyhow::Result<Option<String>> {
        match env(&format!("OCF_RESKEY_{name}")) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v.into_string().map(Some).map_err(|_| not_configured(format!("OCF_RESKEY_{name} is not valid UTF-8"))),
        }
    };
    let invalid = |name: &str, problem: String| not_configured(format!("OCF_RESKEY_{name}: {problem}"));
    let list = |text: &str| -> Vec<String> { config::list(text).map(str::to_owned).collect() };
    Ok(ConfigFlags {
        config: get("config")?.map(PathBuf::from),
        install_dir: get("install_dir")?.map(PathBuf::from),
        worker_config: get("worker_config")?.map(PathBuf::from),
        token_format: get("token_format")?.map(|t| config::one_of(&t).map_err(|p| invalid("token_format", p))).transpose()?,
        units: get("units")?.map(|t| list(&t)),
        start_script: get("start_script")?.map(PathBuf::from),
        stop_script: get("stop_script")?.map(PathBuf::from),
        runtime: get("runtime")?.map(|t| config::one_of(&t).map_err(|p| invalid("runtime", p))).transpose()?,
        ignore_exit_codes: get("ignore_exit_codes")?
            .map(|t| config::exit_codes(&t).map_err(|p| invalid("ignore_exit_codes", p)))
            .transpose()?,
        filters: get("filters")?
            .map(|t| {
                let filters = list(&t);
                match filters.iter().find_map(|f| crate::sys::runtime::Filter::parse(f).err()) {
                    Some(problem) => Err(invalid("filters", problem)),
                    None => Ok(filters),
                }
            })
            .transpose()?,
        ..ConfigFlags::default()
    })
}

/// Fits the deadlines into Pacemaker's timeout for this action (`OCF_RESKEY_CRM_meta_timeout`,
/// milliseconds), keeping a margin so that we fail cleanly, naming what hung, before
/// Pacemaker kills us: a tenth of it, at least 5 s. The units get at most a third of the
/// rest, the master script what remains.
pub fn fit_timeouts(cfg: &mut Config, meta_timeout_ms: Option<u64>) {
    let Some(ms) = meta_timeout_ms.filter(|ms| *ms > 0) else { return };
    let total = Duration::from_millis(ms);
    let margin = (total / 10).max(Duration::from_secs(5));
    let available = total.saturating_sub(margin).max(Duration::from_secs(2));
    cfg.unit_timeout = cfg.unit_timeout.min(available / 3);
    cfg.script_timeout = cfg.script_timeout.min(available.saturating_sub(cfg.unit_timeout)).max(Duration::from_secs(1));
    cfg.lock_timeout = cfg.lock_timeout.min(available / 3);
}

/// The agent's meta-data, valid against resource-agents' `ra-api-1.dtd`.
pub fn meta_data() -> String {
    let mut xml = String::from(concat!(
        "<?xml version=\"1.0\"?>\n",
        "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n",
        "<resource-agent name=\"eva-master\" version=\"",
        env!("CARGO_PKG_VERSION"),
        "\">\n",
        "<version>1.1</version>\n",
        "<longdesc lang=\"en\">\n",
        "The master node of NEC's EVA video-analytics platform: starts the systemd units it needs\n",
        "(docker, mongod, postgresql-9.5 by default) in one transaction, then EVA's start-master-rhel.sh\n",
        "with the worker token from EVA's configuration.json; stops them in reverse. The monitor fails\n",
        "when a unit is no longer active, or when an application container died with a counted exit\n",
        "code since the start (a watcher holds one container-event subscription, so no death between\n",
        "two monitor calls is missed). The same logic as eva-start, eva-stop and eva-genw.\n",
        "</longdesc>\n",
        "<shortdesc lang=\"en\">NEC EVA master node (eva-ha)</shortdesc>\n",
        "<parameters>\n",
    ));
    for (name, kind, default, short, long) in PARAMETERS {
        xml.push_str(&format!(
            "<parameter name=\"{name}\" unique=\"0\" required=\"0\">\n<longdesc lang=\"en\">{}</longdesc>\n<shortdesc lang=\"en\">{}</shortdesc>\n<content type=\"{kind}\" default=\"{}\"/>\n</parameter>\n",
            escape(long),
            escape(short),
            escape(default)
        ));
    }
    xml.push_str(concat!(
        "</parameters>\n",
        "<actions>\n",
        "<action name=\"start\" timeout=\"1800s\"/>\n",
        "<action name=\"stop\" timeout=\"1800s\"/>\n",
        "<action name=\"monitor\" timeout=\"60s\" interval=\"30s\" depth=\"0\"/>\n",
        "<action name=\"meta-data\" timeout=\"5s\"/>\n",
        "<action name=\"validate-all\" timeout=\"60s\"/>\n",
        "</actions>\n",
        "</resource-agent>\n",
    ));
    xml
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What `start` leaves for `monitor` and `stop`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// When the master was started (ns since the epoch).
    pub started_ns: i64,
    pub watcher_pid: i32,
    /// The last time the watcher was seen running (ns): a replacement catches up from here.
    pub watched_until_ns: i64,
}

/// The agent's state directory for one resource instance.
pub struct StateDir(pub PathBuf);

impl StateDir {
    pub fn for_instance(instance: Option<String>) -> StateDir {
        let name: String = instance
            .unwrap_or_else(|| "eva-master".into())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
            .collect();
        StateDir(Path::new(STATE_ROOT).join(name))
    }

    fn state_file(&self) -> PathBuf {
        self.0.join("state.json")
    }

    pub fn death_file(&self) -> PathBuf {
        self.0.join("death")
    }

    pub fn watcher_log(&self) -> PathBuf {
        self.0.join("watcher.log")
    }

    pub fn read(&self) -> Option<State> {
        serde_json::from_slice(&fs::read(self.state_file()).ok()?).ok()
    }

    pub fn write(&self, state: &State) -> std::io::Result<()> {
        fs::create_dir_all(&self.0)?;
        let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        crate::sys::files::write_atomically(&self.state_file(), &json)
    }

    /// The recorded death, if a watcher wrote one.
    pub fn death(&self) -> Option<String> {
        fs::read_to_string(self.death_file()).ok().map(|t| t.trim().to_owned())
    }

    /// Removes the state and the verdict: the resource is stopped.
    pub fn clear(&self) -> std::io::Result<()> {
        for file in [self.state_file(), self.death_file()] {
            match fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether `pid` is a live eva-ha genw watcher (not a recycled pid).
pub fn watcher_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit(')').next().unwrap_or("").split_whitespace().next().unwrap_or("");
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    state != "Z" && cmdline.split(|b| *b == 0).any(|arg| arg == b"genw")
}

/// Starts a detached eva-genw watcher (its own session, output to the state directory)
/// that judges deaths from `since_ns` on and writes its verdict into the death file.
pub fn spawn_watcher(dir: &StateDir, cfg: &Config, since_ns: i64) -> anyhow::Result<i32> {
    fs::create_dir_all(&dir.0)?;
    let log = fs::OpenOptions::new().create(true).append(true).open(dir.watcher_log())?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("genw");
    // The resolved settings, as flags: they override whatever the watcher would read.
    if let Some(file) = &cfg.file {
        cmd.arg("--config").arg(file);
    }
    cmd.arg("--runtime").arg(cfg.runtime.program());
    let codes: Vec<String> = cfg.ignore_exit_codes.iter().map(i64::to_string).collect();
    cmd.arg(format!("--ignore-exit-codes={}", codes.join(",")));
    for filter in &cfg.filters {
        cmd.arg("--filter").arg(filter.to_string());
    }
    cmd.arg("--initial-delay")
        .arg("0")
        .arg("--daemon-grace")
        .arg(cfg.daemon_grace.map_or(0.0, |d| d.as_secs_f64()).to_string())
        .arg("--since-ns")
        .arg(since_ns.to_string())
        .arg("--death-file")
        .arg(dir.death_file())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
    }
    let child = cmd.spawn()?;
    Ok(child.id() as i32)
}

/// Stops a watcher (SIGTERM, then SIGKILL) and waits until it is gone.
pub fn stop_watcher(pid: i32) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    if !watcher_alive(pid) {
        return;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    for i in 0..100 {
        if !watcher_alive(pid) {
            return;
        }
        if i == 60 {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ha::token::TokenFormat;
    use crate::sys::runtime::Kind;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn parameters_become_flags() {
        let f = flags(env(&[
            ("OCF_RESKEY_install_dir", "/opt/eva"),
            ("OCF_RESKEY_units", "docker, mongod.service postgresql-9.5.service"),
            ("OCF_RESKEY_token_format", "raw"),
            ("OCF_RESKEY_ignore_exit_codes", "0,137 143"),
            ("OCF_RESKEY_runtime", "podman"),
            ("OCF_RESKEY_filters", "label=eva container=crowd"),
            ("OCF_RESKEY_worker_config", ""),
        ]))
        .unwrap();
        assert_eq!(f.install_dir.as_deref(), Some(Path::new("/opt/eva")));
        assert_eq!(f.units.unwrap(), ["docker", "mongod.service", "postgresql-9.5.service"]);
        assert_eq!(f.token_format, Some(TokenFormat::Raw));
        assert_eq!(f.ignore_exit_codes.unwrap(), [0, 137, 143]);
        assert_eq!(f.runtime, Some(Kind::Podman));
        assert_eq!(f.filters.unwrap(), ["label=eva", "container=crowd"]);
        assert_eq!(f.worker_config, None, "an empty parameter is unset");
    }

    #[test]
    fn bad_parameters_are_not_configured_naming_them() {
        for (name, value) in [
            ("OCF_RESKEY_token_format", "yaml"),
            ("OCF_RESKEY_ignore_exit_codes", "zero"),
            ("OCF_RESKEY_runtime", "rkt"),
            ("OCF_RESKEY_filters", "name=x"),
        ] {
            let e = flags(env(&[(name, value)])).unwrap_err();
            assert_eq!(crate::error::exit_status(&e), 6);
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn timeouts_fit_inside_pacemakers() {
        let mut cfg =
            Config::load_with(&ConfigFlags { config: Some("/dev/null".into()), ..Default::default() }, |_| None).unwrap();
        fit_timeouts(&mut cfg, Some(120_000));
        // 120 s, 12 s margin: units 36 s, script 72 s; nothing above 108 s in all.
        assert_eq!(cfg.unit_timeout, Duration::from_secs(36));
        assert_eq!(cfg.script_timeout, Duration::from_secs(72));
        assert!(cfg.unit_timeout + cfg.script_timeout <= Duration::from_secs(108));
        let mut cfg2 =
            Config::load_with(&ConfigFlags { config: Some("/dev/null".into()), ..Default::default() }, |_| None).unwrap();
        fit_timeouts(&mut cfg2, Some(3_600_000));
        assert_eq!((cfg2.unit_timeout, cfg2.script_timeout), (Duration::from_secs(240), Duration::from_secs(1500)));
        fit_timeouts(&mut cfg2, None);
        assert_eq!(cfg2.script_timeout, Duration::from_secs(1500));
    }

    #[test]
    fn meta_data_lists_every_parameter_and_action() {
        let xml = meta_data();
        for (name, ..) in PARAMETERS {
            assert!(xml.contains(&format!("<parameter name=\"{name}\"")), "{name}");
        }
        for action in ["start", "stop", "monitor", "meta-data", "validate-all"] {
            assert!(xml.contains(&format!("<action name=\"{action}\"")), "{action}");
        }
        assert!(xml.starts_with("<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">"));
    }

    #[test]
    fn state_dir_names_are_safe() {
        assert_eq!(StateDir::for_instance(Some("eva:0/../x".into())).0, Path::new("/run/eva-ha/ocf/eva_0_.._x"));
        assert_eq!(StateDir::for_instance(None).0, Path::new("/run/eva-ha/ocf/eva-master"));
    }
}

//! eva-master: the same logic as eva-start/eva-stop/eva-genw, as an OCF resource agent for
//! Pacemaker (OCF 1.1; exit codes, parameters and meta-data as `ra-api-1.dtd` has them).
//!
//! Pacemaker calls the agent with an action and `OCF_RESKEY_<name>` parameters, and asks
//! `monitor` every interval whether the resource runs. A periodic monitor cannot see a
//! container that died between two calls, nor count on the engine's 256-event replay
//! buffer, so `start` also launches an eva-genw watcher (detached, one subscription) that
//! writes a verdict file when a container dies with a counted exit code; `monitor` reads
//! it (`state`). This module owns the agent's exit codes: every outcome becomes one of
//! OCF's, and nothing else in eva-ha knows them.

pub mod push;
pub mod state;

use std::ffi::OsString;
use std::time::Duration;

use crate::config::{self, ALL, Config, Given, Origin, Overrides};
use crate::error::{ExitKind, failed, not_configured};
use crate::front::cli::OcfArgs;
use crate::ha::death_watch::{self, now_ns};
use crate::ha::node;
use crate::sys::runtime::Runtime;
use crate::sys::systemd::{Job, Systemd, UnitState, units_deadline};
use crate::sys::{lock, signals};
use state::{State, StateDir};

/// OCF exit codes.
pub const OCF_SUCCESS: u8 = 0;
pub const OCF_ERR_GENERIC: u8 = 1;
pub const OCF_ERR_UNIMPLEMENTED: u8 = 3;
pub const OCF_ERR_INSTALLED: u8 = 5;
pub const OCF_ERR_CONFIGURED: u8 = 6;
pub const OCF_NOT_RUNNING: u8 = 7;

/// How long `start` waits for monitor to say running.
const SETTLE: Duration = Duration::from_secs(10);

/// The parameter that names the configuration file; the others are the settings declared
/// as OCF parameters (`config::settings`).
const CONFIG_PARAMETER: &str = "config";

/// Runs an action and returns its OCF exit code.
pub fn run(name: &str, args: OcfArgs) -> u8 {
    match act(name, &args.action) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{name}: {e:#}");
            status(&e)
        }
    }
}

/// The OCF code for a failed action. Ours are OCF's numbers already, but OCF has no 128+N:
/// an interrupted action is a generic failure.
pub fn status(e: &anyhow::Error) -> u8 {
    match crate::error::exit_status(e) {
        code if code == ExitKind::NotInstalled.code() => OCF_ERR_INSTALLED,
        code if code == ExitKind::NotConfigured.code() => OCF_ERR_CONFIGURED,
        _ => OCF_ERR_GENERIC,
    }
}

fn act(name: &str, action: &str) -> anyhow::Result<u8> {
    if action == "meta-data" {
        // Runs as any user and needs no configuration.
        print!("{}", meta_data());
        return Ok(OCF_SUCCESS);
    }
    if !matches!(action, "start" | "stop" | "monitor" | "validate-all") {
        tracing::error!("{name}: action {action:?} is not implemented");
        return Ok(OCF_ERR_UNIMPLEMENTED);
    }
    let overrides = parameters(|v| std::env::var_os(v))?;
    let mut cfg = Config::load(&overrides)?;
    let meta_timeout = std::env::var("OCF_RESKEY_CRM_meta_timeout").ok().and_then(|t| t.parse().ok());
    fit_timeouts(&mut cfg, meta_timeout);
    let dir = StateDir::for_instance(std::env::var("OCF_RESOURCE_INSTANCE").ok());
    signals::install()?;
    match action {
        "validate-all" => validate(&cfg).map(|_| OCF_SUCCESS),
        "monitor" => monitor(&cfg, &dir),
        _ => {
            // Start and stop leave a record of their run, for eva-ha status.
            let started = (std::time::Instant::now(), chrono::Local::now());
            let result = lock::acquire(&cfg.lock_file, *cfg.lock_timeout, name).and_then(|_lock| match action {
                "start" => start(&cfg, &dir),
                _ => stop(&cfg, &dir),
            });
            super::record_run(
                &format!("eva-master {action}"),
                &overrides,
                started,
                result.as_ref().err(),
                Some("pacemaker".into()),
            );
            result
        }
    }
}

/// The `OCF_RESKEY_<name>` parameters: the file, and the settings that are parameters,
/// which override the file and the environment. An empty parameter is unset.
pub fn parameters(env: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<Overrides> {
    let get = |name: &str| -> anyhow::Result<Option<String>> {
        let var = format!("OCF_RESKEY_{name}");
        match env(&var) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v.into_string().map(Some).map_err(|_| not_configured(format!("{var} is not valid UTF-8"))),
        }
    };
    let mut overrides = Overrides { file: get(CONFIG_PARAMETER)?.map(Into::into), given: Vec::new() };
    for key in ALL.iter().filter(|k| k.meta().ocf.is_some()) {
        if let Some(text) = get(key.name())? {
            overrides.given.push(Given {
                key: key.name(),
                items: vec![text],
                origin: Origin::Ocf(format!("OCF_RESKEY_{}", key.name())),
            });
        }
    }
    Ok(overrides)
}

/// Fits the deadlines into Pacemaker's timeout for this action (`OCF_RESKEY_CRM_meta_timeout`,
/// milliseconds), keeping a margin so that we fail cleanly, naming what hung, before
/// Pacemaker kills us: a tenth of it, at least 5 s. The units get at most half of the
/// rest, the master script what remains.
pub fn fit_timeouts(cfg: &mut Config, meta_timeout_ms: Option<u64>) {
    let Some(ms) = meta_timeout_ms.filter(|ms| *ms > 0) else { return };
    let total = Duration::from_millis(ms);
    let margin = (total / 10).max(Duration::from_secs(5));
    let available = total.saturating_sub(margin).max(Duration::from_secs(2));
    // The units' own deadline (unset) stays when half of the time holds it, as it does
    // for the guide's units under the 1800 s start timeout docs/pacemaker.md gives.
    let guide_units = units_deadline(&[], Job::Start) + Duration::from_secs(60);
    cfg.unit_timeout.value = match *cfg.unit_timeout {
        Some(t) => Some(t.min(available / 2)),
        None if available / 2 >= guide_units => None,
        None => Some(available / 2),
    };
    let units = cfg.unit_timeout.unwrap_or(guide_units);
    cfg.script_timeout.value = cfg.script_timeout.min(available.saturating_sub(units)).max(Duration::from_secs(1));
    cfg.lock_timeout.value = cfg.lock_timeout.min(available / 3);
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
    let mut parameter = |name: &str, short: &str, long: &str, default: &str| {
        xml.push_str(&format!(
            "<parameter name=\"{name}\" unique=\"0\" required=\"0\">\n<longdesc lang=\"en\">{}</longdesc>\n<shortdesc lang=\"en\">{}</shortdesc>\n<content type=\"string\" default=\"{}\"/>\n</parameter>\n",
            escape(long),
            escape(short),
            escape(default)
        ));
    };
    parameter(
        CONFIG_PARAMETER,
        "eva-ha configuration file",
        "The eva-ha TOML configuration file (as for eva-start). The other parameters override its keys.",
        config::DEFAULT_FILE,
    );
    for key in ALL {
        if let Some(short) = key.meta().ocf {
            parameter(key.name(), short, &format!("{}.", key.meta().doc), &key.default_text());
        }
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

/// eva-start's checks, and the container runtime the watcher needs.
fn validate(cfg: &Config) -> anyhow::Result<node::StartPlan> {
    Runtime::locate(*cfg.runtime, cfg.filters.value.clone())?;
    node::prepare_start(cfg)
}

fn monitor(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    let state = dir.read();
    let units = match Systemd::locate(*cfg.unit_timeout) {
        Ok(systemd) => systemd.show(&cfg.units)?,
        // A probe on a node without systemd: nothing of ours can run there.
        Err(_) if state.is_none() => return Ok(OCF_NOT_RUNNING),
        Err(e) => return Err(e),
    };
    let running: Vec<&UnitState> = units.iter().filter(|u| !u.is_down()).collect();
    let Some(mut state) = state else {
        if running.is_empty() {
            return Ok(OCF_NOT_RUNNING);
        }
        let names: Vec<String> = running.iter().map(|u| format!("{} ({})", u.name, u.describe())).collect();
        return Err(failed(format!("not started by the cluster, yet running here: {}", names.join(", "))));
    };
    if let Some(death) = dir.death() {
        return Err(failed(death));
    }
    // The engine's unit while systemd restarts it (Docker's Restart=always after a crash:
    // activating, auto-restart) is the watcher's to judge, as eva-genw does: it waits
    // daemon_grace for the engine, and fails at once when the unit is down for good.
    let restarting_engine =
        |u: &UnitState| u.is_named(&cfg.engine_unit) && matches!(death_watch::classify(u), death_watch::Service::Changing(_));
    let down: Vec<String> = units
        .iter()
        .filter(|u| !u.is_active() && !restarting_engine(u))
        .map(|u| format!("{} ({})", u.name, u.describe()))
        .collect();
    if !down.is_empty() {
        return Err(failed(format!("unit(s) no longer active: {}", down.join(", "))));
    }
    if state::watcher_alive(state.watcher_pid) {
        state.watched_until_ns = now_ns();
    } else {
        // Catch up from when it was last seen: replayed events and finished containers.
        tracing::warn!("the container watcher (pid {}) is gone; starting another from its last check", state.watcher_pid);
        state.watcher_pid = state::spawn_watcher(dir, cfg, state.watched_until_ns, push_target().as_ref())?;
    }
    dir.write(&state)?;
    Ok(OCF_SUCCESS)
}

/// What the watcher names when it tells Pacemaker of a failure (`push`): this action's
/// resource and node, as Pacemaker passed them; `None` without them (and then a WARN line
/// says why).
fn push_target() -> Option<push::Target> {
    push::Target::from_environment(|name| std::env::var(name).ok())
        .inspect_err(|why| tracing::warn!("{why}: a container death reaches Pacemaker at the next monitor only"))
        .ok()
}

fn start(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    if let Ok(OCF_SUCCESS) = monitor(cfg, dir) {
        tracing::info!("already running");
        return Ok(OCF_SUCCESS);
    }
    if let Some(old) = dir.read() {
        state::stop_watcher(old.watcher_pid);
    }
    dir.clear()?;
    let started_ns = now_ns();
    let plan = validate(cfg)?;
    node::start(cfg, plan)?;
    let watcher_pid = state::spawn_watcher(dir, cfg, started_ns, push_target().as_ref())?;
    dir.write(&State { started_ns, watcher_pid, watched_until_ns: started_ns })?;
    // Done only once monitor agrees.
    let until = std::time::Instant::now() + SETTLE;
    loop {
        match monitor(cfg, dir) {
            Ok(OCF_SUCCESS) => return Ok(OCF_SUCCESS),
            Ok(_) | Err(_) if std::time::Instant::now() < until => signals::sleep(Duration::from_millis(200))?,
            Ok(code) => return Err(failed(format!("started, but monitor says {code}"))),
            Err(e) => return Err(e.context("started, but monitor fails")),
        }
    }
}

/// The watcher is asked to go first and waited for last: it takes up to its tick (half a
/// second) to notice, time the stop need not spend waiting (it writes no verdict once
/// signalled, and the planned-stop marker covers what the stop removes).
fn stop(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    let asked = std::time::Instant::now();
    let watcher = dir.read().map(|state| state.watcher_pid).filter(|&pid| state::ask_watcher_to_go(pid));
    // Whatever follows, the master is no longer ours to report as started.
    dir.clear()?;
    let stopped = node::stop(cfg, node::StopCause::Agent);
    if let Some(pid) = watcher {
        state::wait_watcher(pid, asked);
        // A verdict it wrote as it went is void.
        dir.clear()?;
    }
    let report = stopped?;
    if let Some(problem) = report.script_problem {
        tracing::warn!("the stop script failed ({problem:#}), but every unit is stopped");
    }
    Ok(OCF_SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ha::token::TokenFormat;
    use crate::sys::runtime::{Filter, Kind};
    use std::collections::HashMap;
    use std::path::Path;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        move |name| map.get(name).cloned()
    }

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut overrides = parameters(env(vars))?;
        overrides.file.get_or_insert_with(|| "/dev/null".into());
        Config::load_with(&overrides, &|_| None)
    }

    #[test]
    fn parameters_override_the_file() {
        let c = load(&[
            ("OCF_RESKEY_install_dir", "/opt/eva"),
            ("OCF_RESKEY_units", "docker, mongod.service postgresql-9.5.service"),
            ("OCF_RESKEY_token_format", "raw"),
            ("OCF_RESKEY_ignore_exit_codes", "0,137 143"),
            ("OCF_RESKEY_runtime", "podman"),
            ("OCF_RESKEY_filters", "label=eva container=crowd"),
            ("OCF_RESKEY_worker_config", ""),
        ])
        .unwrap();
        assert_eq!(c.install_dir().unwrap(), Path::new("/opt/eva"));
        assert_eq!(c.install_dir.origin, Origin::Ocf("OCF_RESKEY_install_dir".into()));
        assert_eq!(*c.units, ["docker", "mongod.service", "postgresql-9.5.service"]);
        assert_eq!(*c.token_format, TokenFormat::Raw);
        assert_eq!(*c.ignore_exit_codes, [0, 137, 143]);
        assert_eq!(*c.runtime, Kind::Podman);
        assert_eq!(*c.filters, [Filter::parse("label=eva").unwrap(), Filter::parse("container=crowd").unwrap()]);
        assert_eq!(c.worker_config.origin, Origin::Default, "an empty parameter is unset");
    }

    #[test]
    fn bad_parameters_are_not_configured_naming_them() {
        for (name, value) in [
            ("OCF_RESKEY_token_format", "yaml"),
            ("OCF_RESKEY_ignore_exit_codes", "zero"),
            ("OCF_RESKEY_runtime", "rkt"),
            ("OCF_RESKEY_filters", "name=x"),
        ] {
            let e = load(&[(name, value)]).unwrap_err();
            assert_eq!(status(&e), OCF_ERR_CONFIGURED);
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn timeouts_fit_inside_pacemakers() {
        let mut cfg = load(&[]).unwrap();
        fit_timeouts(&mut cfg, Some(120_000));
        // 120 s, 12 s margin: units 54 s, script 54 s; nothing above 108 s in all.
        assert_eq!(*cfg.unit_timeout, Some(Duration::from_secs(54)));
        assert_eq!(*cfg.script_timeout, Duration::from_secs(54));
        assert!(cfg.unit_timeout.unwrap() + *cfg.script_timeout <= Duration::from_secs(108));
        let mut cfg2 = load(&[]).unwrap();
        fit_timeouts(&mut cfg2, Some(3_600_000));
        assert_eq!((*cfg2.unit_timeout, *cfg2.script_timeout), (None, Duration::from_secs(1440)));
        fit_timeouts(&mut cfg2, None);
        assert_eq!(*cfg2.script_timeout, Duration::from_secs(1440));
    }

    #[test]
    fn meta_data_lists_every_parameter_and_action() {
        let xml = meta_data();
        let names: Vec<&str> =
            std::iter::once(CONFIG_PARAMETER).chain(ALL.iter().filter(|k| k.meta().ocf.is_some()).map(|k| k.name())).collect();
        assert_eq!(names.len(), 10);
        for name in names {
            assert!(xml.contains(&format!("<parameter name=\"{name}\"")), "{name}");
        }
        for action in ["start", "stop", "monitor", "meta-data", "validate-all"] {
            assert!(xml.contains(&format!("<action name=\"{action}\"")), "{action}");
        }
        assert!(xml.starts_with("<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">"));
    }

    #[test]
    fn failures_map_onto_ocf_codes() {
        assert_eq!(status(&crate::error::not_installed("x")), OCF_ERR_INSTALLED);
        assert_eq!(status(&crate::error::failed("x")), OCF_ERR_GENERIC);
        assert_eq!(status(&anyhow::Error::new(crate::sys::signals::Interrupted(15))), OCF_ERR_GENERIC);
    }
}

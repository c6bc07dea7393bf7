//! `eva-master ACTION` / `eva-ha ocf ACTION`: the Pacemaker resource agent's entry.

pub mod state;

use std::time::Duration;

use crate::config::Config;
use crate::error::failed;
use crate::front::cli::OcfArgs;
use crate::ha::death_watch::now_ns;
use crate::ha::node;
use crate::sys::runtime::Runtime;
use crate::sys::systemd::{Systemd, UnitState};
use crate::sys::{lock, signals};
use state::{self as ocf, OCF_ERR_UNIMPLEMENTED, OCF_NOT_RUNNING, OCF_SUCCESS, State, StateDir};

/// How long `start` waits for monitor to say running.
const SETTLE: Duration = Duration::from_secs(10);

pub fn run(name: &str, args: OcfArgs) -> anyhow::Result<u8> {
    let action = args.action.as_str();
    if action == "meta-data" {
        // Runs as any user and needs no configuration.
        print!("{}", ocf::meta_data());
        return Ok(OCF_SUCCESS);
    }
    if !matches!(action, "start" | "stop" | "monitor" | "validate-all") {
        tracing::error!("{name}: action {action:?} is not implemented");
        return Ok(OCF_ERR_UNIMPLEMENTED);
    }
    let flags = ocf::flags(|v| std::env::var_os(v))?;
    let mut cfg = Config::load(&flags)?;
    let meta_timeout = std::env::var("OCF_RESKEY_CRM_meta_timeout").ok().and_then(|t| t.parse().ok());
    ocf::fit_timeouts(&mut cfg, meta_timeout);
    let dir = StateDir::for_instance(std::env::var("OCF_RESOURCE_INSTANCE").ok());
    signals::install()?;
    match action {
        "validate-all" => validate(&cfg).map(|_| OCF_SUCCESS),
        "monitor" => monitor(&cfg, &dir),
        "start" => {
            let _lock = lock::acquire(&cfg.lock_file, cfg.lock_timeout, name)?;
            start(&cfg, &dir)
        }
        _ => {
            let _lock = lock::acquire(&cfg.lock_file, cfg.lock_timeout, name)?;
            stop(&cfg, &dir)
        }
    }
}

/// eva-start's checks, and the container runtime the watcher needs.
fn validate(cfg: &Config) -> anyhow::Result<node::StartPlan> {
    Runtime::locate(cfg.runtime, cfg.filters.clone())?;
    node::prepare_start(cfg)
}

/// 0 running; 7 cleanly stopped; an error when partly running or failed.
fn monitor(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    let state = dir.read();
    let units = match Systemd::locate(cfg.unit_timeout) {
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
    let down: Vec<String> = units.iter().filter(|u| !u.is_active()).map(|u| format!("{} ({})", u.name, u.describe())).collect();
    if !down.is_empty() {
        return Err(failed(format!("unit(s) no longer active: {}", down.join(", "))));
    }
    if ocf::watcher_alive(state.watcher_pid) {
        state.watched_until_ns = now_ns();
    } else {
        // Catch up from when it was last seen: replayed events and finished containers.
        tracing::warn!("the container watcher (pid {}) is gone; starting another from its last check", state.watcher_pid);
        state.watcher_pid = ocf::spawn_watcher(dir, cfg, state.watched_until_ns)?;
    }
    dir.write(&state)?;
    Ok(OCF_SUCCESS)
}

fn start(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    if let Ok(OCF_SUCCESS) = monitor(cfg, dir) {
        tracing::info!("already running");
        return Ok(OCF_SUCCESS);
    }
    if let Some(old) = dir.read() {
        ocf::stop_watcher(old.watcher_pid);
    }
    dir.clear()?;
    let started_ns = now_ns();
    let plan = validate(cfg)?;
    node::start(cfg, plan)?;
    let watcher_pid = ocf::spawn_watcher(dir, cfg, started_ns)?;
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

fn stop(cfg: &Config, dir: &StateDir) -> anyhow::Result<u8> {
    if let Some(state) = dir.read() {
        ocf::stop_watcher(state.watcher_pid);
    }
    // Whatever follows, the master is no longer ours to report as started.
    dir.clear()?;
    let report = node::stop(cfg)?;
    if let Some(problem) = report.script_problem {
        tracing::warn!("the stop script failed ({problem:#}), but every unit is stopped");
    }
    Ok(OCF_SUCCESS)
}

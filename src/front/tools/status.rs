//! `eva-ha status`: what is going on on this node, for a person or, with `--json`, for a
//! script. After a failover an administrator asks "is this node the active one, are the
//! units up, when did the master last start or stop here and why, do the containers run,
//! who holds the lock?": one command answers, changes nothing, and answers within 2 s even
//! when the engine or systemd does not (that part then says "unknown" and why).

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::Config;
use crate::front::cli::StatusArgs;
use crate::front::pacemaker::state::{self as agent, StateDir};
use crate::ha::{history, setup};
use crate::sys::lock;
use crate::sys::logging::Secs;
use crate::sys::runtime::Runtime;
use crate::sys::systemd::Systemd;

/// The whole answer's deadline.
const DEADLINE: Duration = Duration::from_millis(1900);
/// The container runtime's calls (ps, inspect) get this much each.
const RUNTIME_CALL: Duration = Duration::from_millis(1500);

/// A part of the answer: its value, or why it is unknown.
type Part = Result<Value, String>;

/// The parts, in the order they are shown.
const PARTS: &[&str] = &["role", "units", "runs", "containers", "pacemaker", "lock"];

pub fn run(args: StatusArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    let parts = gather(&cfg);
    if args.json {
        let doc: serde_json::Map<String, Value> = parts
            .iter()
            .map(|(name, part)| (name.to_string(), part.clone().unwrap_or_else(|why| json!({ "unknown": why }))))
            .collect();
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", human(&parts));
    }
    Ok(())
}

/// Each part from a thread of its own, waited for until [`DEADLINE`].
fn gather(cfg: &Config) -> Vec<(&'static str, Part)> {
    let (tx, rx) = mpsc::channel::<(&'static str, Part)>();
    for &name in PARTS {
        let tx = tx.clone();
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            let part = match name {
                "role" => role(&cfg),
                "units" => units(&cfg),
                "runs" => runs(&cfg),
                "containers" => containers(&cfg),
                "pacemaker" => pacemaker(),
                _ => lock_holder(&cfg),
            };
            let _ = tx.send((name, part));
        });
    }
    drop(tx);
    let until = Instant::now() + DEADLINE;
    let mut got: Vec<(&'static str, Part)> = Vec::new();
    while got.len() < PARTS.len() {
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(part) => got.push(part),
            Err(_) => break,
        }
    }
    PARTS
        .iter()
        .map(|&name| match got.iter().position(|(n, _)| *n == name) {
            Some(i) => got.swap_remove(i),
            None => (name, Err(format!("no answer within {}", Secs(Duration::from_secs(2))))),
        })
        .collect()
}

fn role(cfg: &Config) -> Part {
    let Some(mount) = cfg.shared_mount.value.as_deref() else {
        return Err("shared_mount is not configured".into());
    };
    // A planned stop (eva-stop ran, no eva-start since): the monitor reports no deaths.
    let stop = crate::ha::node::planned_stop(cfg);
    let planned_stop = stop.as_ref().map(|s| s.text.clone());
    let stopped_by = stop.as_ref().and_then(|s| s.cause).map(|c| c.word());
    // A stop by hand past its grace: what eva-genw alerts.
    let overdue = stop
        .as_ref()
        .and_then(|s| crate::ha::node::manual_stop_alert(s, chrono::Local::now().fixed_offset(), *cfg.manual_stop_grace, None));
    let suspended = std::fs::read_to_string(crate::ha::restart::suspended_record(cfg)).ok().map(|t| t.trim().to_owned());
    match setup::is_mount_point(mount) {
        Ok(mounted) => Ok(json!({
            "role": if mounted { "active" } else { "standby" },
            "shared_mount": mount,
            "mounted": mounted,
            "planned_stop": planned_stop,
            "stopped_by": stopped_by,
            "stopped_by_hand_overdue": overdue,
            "monitoring_suspended": suspended,
        })),
        Err(e) => Err(format!("{}: {}", mount.display(), crate::sys::files::plain(&e))),
    }
}

fn units(cfg: &Config) -> Part {
    let systemd = Systemd::locate(None).map_err(|e| format!("{e:#}"))?;
    let states = systemd.show(&cfg.units).map_err(|e| format!("{e:#}"))?;
    Ok(states
        .iter()
        .map(|u| json!({ "unit": u.name, "state": u.describe(), "active": u.is_active(), "since": u.changed }))
        .collect())
}

fn runs(cfg: &Config) -> Part {
    let runs = history::load(&cfg.history_dir).map_err(|e| format!("{e:#}"))?;
    let last = |command: &str| history::last(&runs, command).map_or(Value::Null, |r| json!(r));
    Ok(json!({
        "eva-start": last("eva-start"),
        "eva-stop": last("eva-stop"),
        "eva-master start": last("eva-master start"),
        "eva-master stop": last("eva-master stop"),
    }))
}

fn containers(cfg: &Config) -> Part {
    let mut runtime = Runtime::locate(*cfg.runtime, cfg.filters.value.clone()).map_err(|e| format!("{e:#}"))?;
    runtime.call_timeout = RUNTIME_CALL;
    let ids = runtime.all().map_err(|e| format!("{e:#}"))?;
    let states = runtime.inspect(&ids).map_err(|e| format!("{e:#}"))?;
    Ok(states
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "id": crate::ha::death_watch::short(&s.id),
                "image": s.image,
                "state": if s.status.is_empty() { if s.running { "running" } else { "exited" } } else { s.status.as_str() },
                "exit_code": s.exit_code,
                "restart_count": s.restart_count,
                "health": s.health,
            })
        })
        .collect())
}

/// The agent's instances on this node: since when the master runs, the watcher, its verdict.
fn pacemaker() -> Part {
    let root = Path::new(agent::STATE_ROOT);
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(json!([])),
        Err(e) => return Err(format!("{} {}", root.display(), crate::sys::files::plain(&e))),
    };
    let mut instances = Vec::new();
    for entry in entries.flatten() {
        let dir = StateDir(entry.path());
        let Some(state) = dir.read() else { continue };
        let started = chrono::DateTime::from_timestamp_nanos(state.started_ns).with_timezone(&chrono::Local);
        instances.push(json!({
            "instance": entry.file_name().to_string_lossy(),
            "started": started.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "watcher_pid": state.watcher_pid,
            "watcher_running": agent::watcher_alive(state.watcher_pid),
            "verdict": dir.death(),
        }));
    }
    Ok(Value::Array(instances))
}

fn lock_holder(cfg: &Config) -> Part {
    match lock::holder(&cfg.lock_file) {
        Ok(holder) => Ok(json!({ "file": cfg.lock_file.value, "held_by": holder })),
        Err(e) => Err(format!("{} {}", cfg.lock_file.display(), crate::sys::files::plain(&e))),
    }
}

/// The answer for a person: one line, or a few, per part.
fn human(parts: &[(&'static str, Part)]) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: String| out.push_str(&format!("{label:<11} {text}\n"));
    for (name, part) in parts {
        let value = match part {
            Ok(v) => v,
            Err(why) => {
                line(name, format!("unknown: {why}"));
                continue;
            }
        };
        let text = |v: &Value, key: &str| v[key].as_str().unwrap_or("").to_owned();
        match *name {
            "role" => {
                let mut t = match text(value, "role").as_str() {
                    "active" => format!("active: the shared disk is mounted at {}", text(value, "shared_mount")),
                    _ => format!("standby: the shared disk is not mounted at {}", text(value, "shared_mount")),
                };
                if let Some(stop) = value["planned_stop"].as_str() {
                    let by = match value["stopped_by"].as_str() {
                        Some("hand") => " by hand",
                        Some("cluster") => " by the cluster",
                        Some("agent") => " by the Pacemaker agent",
                        Some("restart") => " by eva-ha restart",
                        _ => "",
                    };
                    t.push_str(&format!("; stopped{by} ({stop}), no start since"));
                }
                line("role", t);
                if let Some(overdue) = value["stopped_by_hand_overdue"].as_str() {
                    line("WARNING", overdue.to_owned());
                }
                if let Some(suspended) = value["monitoring_suspended"].as_str() {
                    line("monitoring", format!("{suspended} (not resumed yet)"));
                }
            }
            "units" => {
                for u in value.as_array().into_iter().flatten() {
                    line("unit", format!("{} {} since {}", text(u, "unit"), text(u, "state"), text(u, "since")));
                }
            }
            "runs" => {
                for command in ["eva-start", "eva-stop", "eva-master start", "eva-master stop"] {
                    let r = &value[command];
                    if r.is_null() {
                        if !command.starts_with("eva-master") {
                            line(command, "no run recorded on this node".into());
                        }
                        continue;
                    }
                    let mut t = format!("{} at {}, {}s", text(r, "result"), text(r, "started"), r["seconds"]);
                    if let Some(context) = r["context"].as_str() {
                        t.push_str(&format!(" ({context})"));
                    }
                    if let Some(error) = r["error"].as_str() {
                        t.push_str(&format!(": {error}"));
                    }
                    line(command, t);
                }
            }
            "containers" => {
                let list = value.as_array().cloned().unwrap_or_default();
                if list.is_empty() {
                    line("containers", "none".into());
                }
                for c in list {
                    let mut t = format!(
                        "{} ({}) {}, exit code {}, restarted {} time(s)",
                        text(&c, "name"),
                        text(&c, "id"),
                        text(&c, "state"),
                        c["exit_code"],
                        c["restart_count"]
                    );
                    if let Some(health) = c["health"].as_str() {
                        t.push_str(&format!(", {health}"));
                    }
                    line("container", t);
                }
            }
            "pacemaker" => {
                for i in value.as_array().into_iter().flatten() {
                    let watcher = if i["watcher_running"].as_bool() == Some(true) {
                        format!("watcher running (pid {})", i["watcher_pid"])
                    } else {
                        "watcher gone (the next monitor starts another)".into()
                    };
                    let verdict = i["verdict"].as_str().map_or_else(|| "no death since".to_owned(), |v| format!("verdict: {v}"));
                    line("pacemaker", format!("{} started {}, {watcher}, {verdict}", text(i, "instance"), text(i, "started")));
                }
            }
            _ => line(
                "lock",
                match value["held_by"].as_str() {
                    Some(holder) => format!("{} held by {holder}", text(value, "file")),
                    None => format!("{} free", text(value, "file")),
                },
            ),
        }
    }
    out
}

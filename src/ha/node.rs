//! The EVA master node's lifecycle: bring the units and the master up, take them down.
//!
//! This is the core that every front end shares (the CLUSTERPRO commands now, the Pacemaker
//! agent later); it knows nothing of how it was invoked. A start validates everything it
//! can before it touches anything ([`prepare_start`]), starts all units in one systemctl
//! call, confirms each is active, runs the master's start script under a deadline, and when
//! a step fails puts back what this run started, so that the shared disk can be released.
//! A stop does everything it can even when a part fails: the units are stopped whatever the
//! stop script did, and it is a success exactly when no unit is left running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::error::{failed, not_installed};
use crate::ha::token::Token;
use crate::sys::files::plain;
use crate::sys::leftovers;
use crate::sys::logging::Step;
use crate::sys::process::{Cmd, Stream, is_executable};
use crate::sys::signals;
use crate::sys::systemd::{Job, Systemd, UnitState, unit_id, units_deadline};

/// Journal lines shown for a unit that failed.
const JOURNAL_LINES: usize = 10;
/// How long a stop waits for the container engine's answer to `GET /_ping` before it counts
/// it as frozen: a healthy engine answers from memory, in milliseconds; taking a busy one
/// for frozen costs only the stop script's own docker steps (the engine stops the
/// containers as it stops).
const ENGINE_PING: Duration = Duration::from_secs(1);
/// How long the monitor's word that the engine did not answer
/// ([`mark_engine_unanswered`]) stands in for a ping: the cluster stops the group seconds
/// after its monitor fails; an older word is stale and the engine is pinged again.
const UNANSWERED_STANDS: Duration = Duration::from_secs(120);

/// What a validated start will do.
pub struct StartPlan {
    install_dir: PathBuf,
    script: PathBuf,
    token_arg: String,
    secrets: [String; 2],
    systemd: Systemd,
    before: Vec<UnitState>,
}

/// Checks everything eva-start needs, touching nothing: the install directory and start
/// script, the worker token, systemctl, and that every unit is installed.
pub fn prepare_start(cfg: &Config) -> anyhow::Result<StartPlan> {
    let step = Step::start();
    let install_dir = existing_dir(cfg)?;
    let script = script_path(&install_dir, &cfg.start_script, "start script")?;
    let token = Token::read(&cfg.worker_config)?;
    let token_arg = format!("--token={}", token.formatted(*cfg.token_format)?);
    let systemd = Systemd::locate(*cfg.unit_timeout)?;
    let before = systemd.show(&cfg.units)?;
    if let Some(missing) = before.iter().find(|u| !u.is_loaded()) {
        return Err(not_installed(format!("unit {} is not installed (systemctl: LoadState=not-found)", missing.name)));
    }
    step.done(format_args!(
        "validated: {}, worker token from {} ({} format), units {}",
        script.display(),
        cfg.worker_config.display(),
        *cfg.token_format,
        describe_all(&before)
    ));
    Ok(StartPlan { install_dir, script, token_arg, secrets: token.secrets(), systemd, before })
}

/// Starts the units and the master as `plan` says; when that fails, puts back what this
/// run started.
pub fn start(cfg: &Config, plan: StartPlan) -> anyhow::Result<()> {
    let whole = Step::start();
    match bring_up(cfg, &plan) {
        Ok(()) => {
            whole.done(format_args!("EVA master started"));
            Ok(())
        }
        Err((err, master_ran)) => {
            rollback(cfg, &plan, master_ran);
            Err(err)
        }
    }
}

/// The units, then the master script. The error says whether the master script ran.
fn bring_up(cfg: &Config, plan: &StartPlan) -> Result<(), (anyhow::Error, bool)> {
    let systemd = &plan.systemd;
    // A new start: the last planned stop is over, and deaths count again; what the last
    // monitor said of the engine is past.
    clear_planned_stop(cfg);
    take_engine_unanswered(cfg);
    let step = Step::start();
    let call = systemd.start(&cfg.units, systemd.deadline(&plan.before, Job::Start));
    if let Some(signal) = signals::pending() {
        // Cut short; a query now would be cut short too and hide what we were doing.
        let err = match call {
            Err(e) => e.into(),
            Ok(()) => signals::Interrupted(signal).into(),
        };
        return Err((err, false));
    }
    let now = systemd.show(&cfg.units).map_err(|e| (e, false))?;
    let down: Vec<&UnitState> = now.iter().filter(|u| !u.is_active()).collect();
    if !down.is_empty() || call.is_err() {
        for unit in &down {
            tracing::error!("unit {} did not start: {}", unit.name, unit.describe());
            log_journal(systemd, unit);
        }
        let names = if down.is_empty() {
            "the units".to_owned()
        } else {
            down.iter().map(|u| format!("{} ({})", u.name, u.describe())).collect::<Vec<_>>().join(", ")
        };
        let err = match call {
            Err(e) => anyhow::Error::new(e).context(format!("{names} did not start")),
            Ok(()) => failed(format!("{names} did not stay active after systemctl start succeeded")),
        };
        return Err((err, false));
    }
    step.done(format_args!("units active: {}", cfg.units.join(", ")));

    start_master(cfg, plan).map_err(|e| (e, true))
}

/// Runs the master's start script with the worker token, as a start does once the units
/// are up (its half of an in-place restart too): under `script_timeout`, the token masked.
pub fn start_master(cfg: &Config, plan: &StartPlan) -> anyhow::Result<()> {
    let StartPlan { install_dir, script, token_arg, secrets, .. } = plan;
    let cmd = Cmd::new(script)
        .secret_arg(token_arg, "--token=***", &secrets[0])
        .redact(&secrets[1])
        .current_dir(install_dir)
        .timeout(*cfg.script_timeout);
    run_script(&cmd, script)
}

/// Runs the master's stop script only, under `script_timeout`; the units stay up (the first
/// half of an in-place restart).
pub fn stop_master(cfg: &Config, plan: &StartPlan) -> anyhow::Result<()> {
    let stop = script_path(&plan.install_dir, &cfg.stop_script, "stop script")?;
    run_script(&Cmd::new(&stop).current_dir(&plan.install_dir).timeout(*cfg.script_timeout), &stop)
}

impl StartPlan {
    /// The install directory the plan runs the scripts in.
    pub fn install_dir(&self) -> &Path {
        &self.install_dir
    }

    /// The start script the plan runs.
    pub fn script(&self) -> &Path {
        &self.script
    }
}

/// What a stop achieved besides stopping the units.
#[derive(Debug, Default)]
pub struct StopReport {
    /// The stop script failed, timed out or could not be run.
    pub script_problem: Option<anyhow::Error>,
}

/// Runs the stop script (a failure is reported, not fatal), then stops every unit and
/// confirms none is left running; failed units are counted as stopped and reset.
pub fn stop(cfg: &Config, cause: StopCause) -> anyhow::Result<StopReport> {
    let whole = Step::start();
    mark_planned_stop(cfg, cause);
    let systemd = Systemd::locate(*cfg.unit_timeout)?;
    let mut report = StopReport::default();

    stop_a_frozen_engine(cfg, &systemd)?;
    let script = cfg
        .install_dir()
        .and_then(|_| existing_dir(cfg))
        .and_then(|dir| script_path(&dir, &cfg.stop_script, "stop script").map(|s| (dir, s)));
    match script.and_then(|(dir, script)| run_script(&Cmd::new(&script).current_dir(&dir).timeout(*cfg.script_timeout), &script))
    {
        Ok(()) => {}
        Err(e) => {
            if signals::pending().is_some() {
                return Err(e);
            }
            tracing::warn!("stop script: {e:#}; stopping the units anyway");
            report.script_problem = Some(e);
        }
    }

    let step = Step::start();
    let stuck = stop_units(&systemd, &cfg.units)?;
    if !stuck.is_empty() {
        return Err(failed(format!("unit(s) would not stop: {}", stuck.join(", "))));
    }
    step.done(format_args!("units stopped: {}", cfg.units.join(", ")));
    end_leftovers(cfg)?;
    whole.done(format_args!("EVA master stopped"));
    Ok(report)
}

/// Stops the container engine's unit first when the engine is frozen (its socket takes the
/// connection and never answers: a stopped or hung dockerd; a podman node has no such
/// socket). The stop script's docker
/// commands would otherwise wait on it until `script_timeout` and be killed before the
/// script's other steps, which then never run; with the engine stopped they fail at once.
/// Its containers go with it (or are ended after the units, see [`end_leftovers`]).
/// The monitor's word, when it gave up on an engine that did not answer moments ago, is
/// taken instead of a ping, which would wait [`ENGINE_PING`] on a frozen engine.
fn stop_a_frozen_engine(cfg: &Config, systemd: &Systemd) -> anyhow::Result<()> {
    let word = take_engine_unanswered(cfg);
    let unit = &*cfg.engine_unit;
    if unit.is_empty() {
        return Ok(());
    }
    let Some(why) = word.or_else(|| crate::sys::runtime::docker_frozen(ENGINE_PING)) else {
        return Ok(());
    };
    tracing::warn!(
        "the container engine does not answer ({why}): stopping {unit} before the stop script, whose docker commands would wait on it until script_timeout"
    );
    let step = Step::start();
    let stuck = stop_units(systemd, std::slice::from_ref(&cfg.engine_unit.value))?;
    if stuck.is_empty() {
        step.done(format_args!("{unit} stopped"));
    }
    Ok(())
}

/// Ends the container processes that the stopped engine left running (see
/// `sys::leftovers`), naming each; an error when one would not go, and when a docker
/// engine still runs in this node: then they are still its (maybe one that `DOCKER_HOST`
/// does not name), nothing is ended, and the cluster's action for a failed stop takes over.
/// Only where the units stopped include docker's own (`engine_unit`, else docker.service):
/// an engine that eva-ha does not stop is not ours, nor are the containers it runs.
fn end_leftovers(cfg: &Config) -> anyhow::Result<()> {
    let engine = if cfg.engine_unit.is_empty() { "docker.service" } else { cfg.engine_unit.as_str() };
    if !*cfg.end_leftovers || !cfg.units.iter().any(|u| unit_id(u) == unit_id(engine)) {
        return Ok(());
    }
    let scan = leftovers::scan(Path::new("/proc"), &cfg.containerd_sockets);
    let found = scan.leftovers;
    if found.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = found.iter().map(leftovers::describe).collect();
    if let Some(engine) = scan.engines.first() {
        return Err(failed(format!(
            "{} container process(es) still run after the units stopped, and so does a docker engine ({engine}): not ending them ({})",
            found.len(),
            names.join(", ")
        )));
    }
    tracing::warn!(
        "the engine is stopped, but {} container process(es) it started still run; ending them: {}",
        found.len(),
        names.join(", ")
    );
    let stuck = leftovers::end(&found);
    if stuck.is_empty() {
        Ok(())
    } else {
        let names: Vec<String> = stuck.iter().map(leftovers::describe).collect();
        Err(failed(format!("container process(es) of the stopped engine would not end: {}", names.join(", "))))
    }
}

/// Stops `units` in one call and reads them back: returns the ones still running, each
/// with its state; failed ones are reset so that the next start is clean. A unit that is
/// not installed is not running: systemctl complains about it but stops the others.
fn stop_units(systemd: &Systemd, units: &[String]) -> anyhow::Result<Vec<String>> {
    // The units' own stop timeouts, unless the administrator set a deadline.
    let deadline = match systemd.explicit_deadline() {
        Some(deadline) => deadline,
        None => units_deadline(&systemd.show(units)?, Job::Stop),
    };
    let call = systemd.stop(units, deadline);
    signals::check()?;
    let after = systemd.show(units)?;
    for missing in after.iter().filter(|u| !u.is_loaded()) {
        tracing::warn!("unit {} is not installed: nothing to stop", missing.name);
    }
    let failed_units: Vec<String> = after.iter().filter(|u| u.is_failed()).map(|u| u.name.clone()).collect();
    if !failed_units.is_empty() {
        tracing::info!("{} failed earlier; counted as stopped, clearing with reset-failed", failed_units.join(", "));
        if let Err(e) = systemd.reset_failed(&failed_units) {
            tracing::warn!("{e}");
        }
    }
    let stuck: Vec<&UnitState> = after.iter().filter(|u| !u.is_down()).collect();
    if let (Err(e), false) = (&call, stuck.is_empty()) {
        tracing::error!("{e}");
    }
    for unit in &stuck {
        tracing::error!("unit {} is still running: {}", unit.name, unit.describe());
        log_journal(systemd, unit);
    }
    Ok(stuck.iter().map(|u| format!("{} ({})", u.name, u.describe())).collect())
}

/// Puts back what a failed start did: the stop script when the start script ran, then the
/// units this run started (not those that were active before it). Skipped when disabled,
/// or when we were interrupted (the cluster wants us gone quickly and runs its stop action).
fn rollback(cfg: &Config, plan: &StartPlan, master_ran: bool) {
    if signals::pending().is_some() {
        tracing::warn!("interrupted: not rolling back; run eva-stop to clean up");
        return;
    }
    if !*cfg.rollback {
        tracing::warn!("rollback disabled: leaving the node as the failed start left it");
        return;
    }
    let what = if master_ran { "the stop script, then the units this run started" } else { "the units this run started" };
    tracing::warn!("the start failed; rolling back: {what}");
    let step = Step::start();
    if master_ran {
        if let Err(e) = stop_a_frozen_engine(cfg, &plan.systemd) {
            tracing::warn!("rollback: {e:#}");
        }
        if let Err(e) = stop_master(cfg, plan) {
            tracing::warn!("rollback: {e:#}");
        }
    }
    let was_active = |name: &str| plan.before.iter().any(|u| u.name == name && u.is_active());
    let started: Vec<String> = match plan.systemd.show(&cfg.units) {
        Ok(now) => now.into_iter().filter(|u| !u.is_down() && !was_active(&u.name)).map(|u| u.name).collect(),
        Err(e) => {
            tracing::error!("rollback: {e:#}");
            return;
        }
    };
    if started.is_empty() {
        step.done(format_args!("rollback: no unit was started by this run"));
        return;
    }
    match stop_units(&plan.systemd, &started) {
        Ok(stuck) if stuck.is_empty() => {
            step.done(format_args!("rollback: stopped {}", started.join(", ")));
            if let Err(e) = end_leftovers(cfg) {
                tracing::error!("rollback: {e:#}");
            }
        }
        Ok(stuck) => tracing::error!("rollback: could not stop {}", stuck.join(", ")),
        Err(e) => tracing::error!("rollback: {e:#}"),
    }
}

/// Runs a master script, streaming its output into our log; a non-zero exit is an error
/// carrying its last stderr line.
fn run_script(cmd: &Cmd, script: &Path) -> anyhow::Result<()> {
    let step = Step::start();
    let name = script.file_name().map_or_else(|| script.display().to_string(), |n| n.to_string_lossy().into_owned());
    tracing::info!("running {}", cmd.display());
    let mut last_err = String::new();
    let status = cmd.stream(|stream, line| match stream {
        Stream::Stdout => tracing::info!("{name}: {line}"),
        Stream::Stderr => {
            tracing::info!("{name} (stderr): {line}");
            if !line.trim().is_empty() {
                last_err = line.to_owned();
            }
        }
    })?;
    if !status.success() {
        return Err(cmd.failure(status, &last_err).into());
    }
    step.done(format_args!("{name} finished"));
    Ok(())
}

fn log_journal(systemd: &Systemd, unit: &UnitState) {
    let name = if unit.id.is_empty() { &unit.name } else { &unit.id };
    for line in systemd.journal_tail(name, JOURNAL_LINES) {
        tracing::error!("  journal {name}: {line}");
    }
}

fn describe_all(units: &[UnitState]) -> String {
    units.iter().map(|u| format!("{} {}", u.name, u.active_state)).collect::<Vec<_>>().join(", ")
}

/// The install directory, which must exist; an error names it and where it was set.
fn existing_dir(cfg: &Config) -> anyhow::Result<PathBuf> {
    let dir = cfg.install_dir()?;
    let named = || format!("install_dir {} ({})", dir.display(), cfg.install_dir.origin.at());
    match dir.metadata() {
        Ok(m) if m.is_dir() => Ok(dir.to_owned()),
        Ok(_) => Err(not_installed(format!("{} is not a directory", named()))),
        Err(e) => Err(not_installed(format!("{} {}", named(), plain(&e)))),
    }
}

/// `name` resolved in the install directory; it must be an executable file.
fn script_path(install_dir: &Path, name: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let path = install_dir.join(name);
    let meta = path.metadata().map_err(|e| not_installed(format!("{what} {} {}", path.display(), plain(&e))))?;
    if !meta.is_file() {
        return Err(not_installed(format!("{what} {} is not a regular file", path.display())));
    }
    if !is_executable(&path) {
        return Err(not_installed(format!("{what} {} is not executable", path.display())));
    }
    Ok(path)
}

/// The file that says a planned stop of this node is in progress: eva-stop (and the
/// agent's stop) writes it before it stops anything, and the next start removes it. The
/// death watch reads it: the containers the stop script removes are not deaths that count,
/// nor is the engine going away.
pub fn planned_stop_marker(cfg: &Config) -> PathBuf {
    cfg.state_dir.join("planned-stop")
}

/// What made a planned stop, recorded in its marker: a stop made by hand leaves the master
/// down with the cluster's monitor quiet, so it is the one that must not last unnoticed
/// ([`manual_stop_alert`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// CLUSTERPRO's Exec resource (CLP_EVENT set).
    Cluster,
    /// The Pacemaker agent's stop.
    Agent,
    /// `eva-ha restart`, between its stop and its start.
    Restart,
    /// eva-stop run by an administrator.
    Hand,
}

impl StopCause {
    /// The word in the marker.
    pub fn word(self) -> &'static str {
        match self {
            StopCause::Cluster => "cluster",
            StopCause::Agent => "agent",
            StopCause::Restart => "restart",
            StopCause::Hand => "hand",
        }
    }

    fn from_word(word: &str) -> Option<StopCause> {
        [StopCause::Cluster, StopCause::Agent, StopCause::Restart, StopCause::Hand].into_iter().find(|c| c.word() == word)
    }
}

/// A planned stop as its marker tells it. Markers written before the cause was recorded
/// (`pid N since T`) have none, and are read as before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedStop {
    /// The marker's text, trimmed.
    pub text: String,
    pub since: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub cause: Option<StopCause>,
}

impl PlannedStop {
    /// `pid 42 since 2026-12-01T10:00:00+09:00 cause hand`.
    pub fn parse(text: &str) -> PlannedStop {
        let words: Vec<&str> = text.split_whitespace().collect();
        let after = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).copied();
        PlannedStop {
            text: text.trim().to_owned(),
            since: after("since").and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
            cause: after("cause").and_then(StopCause::from_word),
        }
    }
}

/// The planned stop under way on this node, if any.
pub fn planned_stop(cfg: &Config) -> Option<PlannedStop> {
    std::fs::read_to_string(planned_stop_marker(cfg)).ok().map(|t| PlannedStop::parse(&t))
}

/// The alert due for a stop made by hand that has lasted `grace` or more, when the last
/// one (`last_alert`) is `grace` old or there was none: the master is down and the
/// cluster's monitor, seeing the marker, says nothing. `None` for any other stop.
pub fn manual_stop_alert(
    stop: &PlannedStop,
    now: chrono::DateTime<chrono::FixedOffset>,
    grace: Duration,
    last_alert: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Option<String> {
    if stop.cause != Some(StopCause::Hand) {
        return None;
    }
    let since = stop.since?;
    let grace_td = chrono::TimeDelta::from_std(grace).ok()?;
    let down = now.signed_duration_since(since);
    if down < grace_td || last_alert.is_some_and(|last| now.signed_duration_since(last) < grace_td) {
        return None;
    }
    let down = crate::sys::logging::Secs(Duration::from_secs(down.num_seconds().max(0) as u64));
    Some(format!(
        "the EVA master was stopped by hand (eva-stop) at {}, {down} ago, and has not been started since; the cluster's monitor ignores it while it is down: start it (eva-start) or move the group (said again every {})",
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        crate::sys::logging::Secs(grace)
    ))
}

/// Marks a planned stop, with what made it; the next start clears it.
pub fn mark_planned_stop(cfg: &Config, cause: StopCause) {
    let marker = planned_stop_marker(cfg);
    let text = format!(
        "pid {} since {} cause {}\n",
        std::process::id(),
        chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        cause.word()
    );
    if let Err(e) = write_marker(cfg, &marker, &text) {
        // The stop goes on: at worst the monitor reports what the stop script removes.
        tracing::warn!("cannot mark the planned stop in {}: {e}", marker.display());
    }
}

/// The file in which the monitor (eva-genw, the agent's watcher) leaves word that it gave up
/// on a docker engine that did not answer: the stop that follows takes it instead of a ping
/// of its own ([`stop_a_frozen_engine`]). Removed by that stop and by the next start.
pub fn engine_unanswered_marker(cfg: &Config) -> PathBuf {
    cfg.state_dir.join("engine-unanswered")
}

/// Leaves the monitor's verdict on the engine for the stop that follows; a failure to write
/// it costs that stop only a ping.
pub fn mark_engine_unanswered(cfg: &Config, verdict: &str) {
    let marker = engine_unanswered_marker(cfg);
    if let Err(e) = write_marker(cfg, &marker, &format!("{verdict}\n")) {
        tracing::warn!("cannot leave word of the unanswered engine in {}: {e}", marker.display());
    }
}

/// The monitor's verdict on the engine, removed; `None` when there is none or it is older
/// than [`UNANSWERED_STANDS`].
fn take_engine_unanswered(cfg: &Config) -> Option<String> {
    let marker = engine_unanswered_marker(cfg);
    let verdict = std::fs::read_to_string(&marker).ok()?;
    let age = std::fs::metadata(&marker).and_then(|m| m.modified()).ok().and_then(|at| at.elapsed().ok());
    remove_marker(&marker, "engine-unanswered marker");
    let fresh = age.is_some_and(|age| age < UNANSWERED_STANDS);
    fresh.then(|| format!("the monitor found: {}", verdict.trim()))
}

/// Ends a planned stop (a start does, and `eva-ha restart` on every way out).
pub fn clear_planned_stop(cfg: &Config) {
    remove_marker(&planned_stop_marker(cfg), "planned-stop marker");
}

/// Writes one of the markers in `state_dir`, which it creates when it is missing.
fn write_marker(cfg: &Config, marker: &Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(&cfg.state_dir.value).and_then(|()| crate::sys::files::write_atomically(marker, text.as_bytes()))
}

/// Removes one of the markers in `state_dir` (`what` names it in the warning when that
/// fails); one that is not there is no failure.
fn remove_marker(marker: &Path, what: &str) {
    match std::fs::remove_file(marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!("cannot remove the {what} {}: {e}", marker.display());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn markers_old_and_new() {
        let old = PlannedStop::parse("pid 42 since 2026-12-01T10:00:00+09:00\n");
        assert_eq!((old.since, old.cause), (Some(at("2026-12-01T10:00:00+09:00")), None));
        let new = PlannedStop::parse("pid 42 since 2026-12-01T10:00:00+09:00 cause hand\n");
        assert_eq!(new.cause, Some(StopCause::Hand));
        assert_eq!(PlannedStop::parse("garbage").since, None);
    }

    #[test]
    fn a_stop_by_hand_is_told_after_the_grace_and_again_each_grace() {
        let grace = Duration::from_secs(600);
        let stop = PlannedStop::parse("pid 42 since 2026-12-01T10:00:00+09:00 cause hand");
        assert_eq!(manual_stop_alert(&stop, at("2026-12-01T10:09:59+09:00"), grace, None), None);
        let told = manual_stop_alert(&stop, at("2026-12-01T10:10:00+09:00"), grace, None).unwrap();
        assert!(told.contains("2026-12-01T10:00:00+09:00") && told.contains("600s ago"), "{told}");
        let last = Some(at("2026-12-01T10:10:00+09:00"));
        assert_eq!(manual_stop_alert(&stop, at("2026-12-01T10:19:59+09:00"), grace, last), None);
        assert!(manual_stop_alert(&stop, at("2026-12-01T10:20:00+09:00"), grace, last).is_some());
        for other in ["cluster", "agent", "restart"] {
            let stop = PlannedStop::parse(&format!("pid 42 since 2026-12-01T10:00:00+09:00 cause {other}"));
            assert_eq!(manual_stop_alert(&stop, at("2026-12-02T10:00:00+09:00"), grace, None), None);
        }
        let old = PlannedStop::parse("pid 42 since 2026-12-01T10:00:00+09:00");
        assert_eq!(manual_stop_alert(&old, at("2026-12-02T10:00:00+09:00"), grace, None), None);
    }
}

//! `eva-ha restart`: the guide's "Checking and updating" procedure as one command on the
//! active node: suspend the cluster's monitoring of the group, optionally install a new
//! `<install_dir>/configuration.json`, restart the master in place (its stop script, then
//! its start script with the worker token; the units stay up), check that its containers
//! run again, resume the monitoring.
//!
//! Why it is careful: done by hand, a forgotten resume leaves the group unwatched for good,
//! and a forgotten suspend fails the group over in the middle of the update. So the
//! preconditions are checked before anything changes; the monitoring is resumed and the
//! planned-stop marker cleared on every way out (a `Drop` guard, and resuming runs even
//! after SIGTERM); a record in `state_dir` says the monitoring is suspended until it is
//! resumed, which eva-check and `eva-ha status` report, so that a restart killed with
//! SIGKILL or cut by a power loss does not go unnoticed. A master that will not start with a
//! new configuration gets the previous one back and one more restart; whatever then
//! happens, the monitoring is resumed, so that a master that still will not start is the
//! cluster's to fail over.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::Config;
use crate::error::{failed, not_configured, not_installed};
use crate::ha::node::{self, StartPlan, StopCause};
use crate::ha::setup;
use crate::ha::token::Token;
use crate::sys::files::plain;
use crate::sys::logging::Step;
use crate::sys::monitoring::{self as suspend, Suspended};
use crate::sys::runtime::Runtime;

/// How long the engine may take to answer the preflight probe.
const ENGINE_PROBE: Duration = Duration::from_secs(2);
/// How long the containers that ran before the restart may take to run again once the start
/// script has returned: `daemon_grace`, the time eva-genw gives containers to come back
/// after an engine outage; this when it is 0 (eva-genw's "wait for ever").
const BACK_WITHIN: Duration = Duration::from_secs(60);

fn back_within(cfg: &Config) -> Duration {
    cfg.daemon_grace().unwrap_or(BACK_WITHIN)
}

/// The record that the monitoring is suspended: `<state_dir>/monitoring-suspended`.
pub fn suspended_record(cfg: &Config) -> PathBuf {
    cfg.state_dir.join("monitoring-suspended")
}

/// What was asked.
pub struct Request {
    /// A new `configuration.json` to install.
    pub master_config: Option<PathBuf>,
    /// Print the plan, change nothing.
    pub dry_run: bool,
}

/// What the checks found, to carry out.
struct Plan {
    start: StartPlan,
    runtime: Runtime,
    suspend: suspend::Plan,
    /// The new configuration's bytes, and where they go.
    new_config: Option<(PathBuf, Vec<u8>)>,
    dest: PathBuf,
    mount: PathBuf,
}

/// Restarts the master in place as `req` says. The caller holds the lock.
pub fn restart(cfg: &Config, req: &Request) -> anyhow::Result<()> {
    let plan = prepare(cfg, req)?;
    if req.dry_run {
        for line in describe(cfg, &plan) {
            println!("{line}");
        }
        println!("dry run: nothing changed");
        return Ok(());
    }
    let step = Step::start();
    let record = suspended_record(cfg);
    let at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let text =
        format!("monitoring suspended by eva-ha restart at {at} (pid {}): {}\n", std::process::id(), plan.suspend.describe());
    std::fs::create_dir_all(&cfg.state_dir.value)
        .and_then(|()| crate::sys::files::write_atomically(&record, text.as_bytes()))
        .with_context(|| format!("cannot record the suspension in {}", record.display()))?;
    let suspended = match plan.suspend.suspend() {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&record);
            return Err(e.context("suspending the monitoring"));
        }
    };
    match &plan.suspend {
        suspend::Plan::Nothing(why) => step.done(format_args!("monitoring: {why}")),
        p => step.done(format_args!("monitoring suspended: {}", p.describe())),
    }
    let guard = Guard { cfg, suspended, record, resumed: false };
    let outcome = carry_out(cfg, &plan);
    match (outcome, guard.finish()) {
        (Ok(()), resumed) => resumed,
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(resume)) => {
            tracing::error!("{resume:#}");
            Err(e)
        }
    }
}

/// Everything checked, nothing touched.
fn prepare(cfg: &Config, req: &Request) -> anyhow::Result<Plan> {
    let step = Step::start();
    let mount = cfg.shared_mount.value.clone().ok_or_else(|| {
        not_configured("shared_mount is not configured: eva-ha restart must know that this node holds the shared disk")
    })?;
    match setup::is_mount_point(&mount) {
        Ok(true) => {}
        Ok(false) => {
            return Err(failed(format!(
                "the shared disk is not mounted at {} (shared_mount): this is not the active node; run eva-ha restart on the node that holds it",
                mount.display()
            )));
        }
        Err(e) => return Err(failed(format!("cannot tell whether {} is mounted: {e}", mount.display()))),
    }
    let runtime = Runtime::locate(*cfg.runtime, cfg.filters.value.clone())?;
    if let Err(why) = runtime.probe(ENGINE_PROBE) {
        return Err(failed(format!(
            "the {} engine does not answer ({why}): the stop script would hang with the monitoring suspended; not restarting",
            *cfg.runtime
        )));
    }
    let new_config = match &req.master_config {
        None => None,
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| not_installed(format!("--master-config {} {}", path.display(), plain(&e))))?;
            let token = Token::from_json(&bytes)
                .map_err(|problem| not_configured(format!("--master-config {}: {problem}", path.display())))?;
            if let Ok(worker) = Token::read(&cfg.worker_config)
                && worker.secrets()[1] != token.secrets()[1]
            {
                tracing::warn!(
                    "the workerToken of {} differs from the worker config's ({}): the master is started with the worker config's, as eva-start does",
                    path.display(),
                    cfg.worker_config.display()
                );
            }
            Some((path.clone(), bytes))
        }
    };
    let start = node::prepare_start(cfg)?;
    let dest = start.install_dir().join("configuration.json");
    let suspend = suspend::plan(cfg);
    step.done(format_args!("restart checked: this node holds the shared disk at {}, the engine answers", mount.display()));
    Ok(Plan { start, runtime, suspend, new_config, dest, mount })
}

/// The plan, one line a step, for `--dry-run`.
fn describe(cfg: &Config, plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!("1. suspend the monitoring: {}", plan.suspend.describe())];
    if let Some((path, _)) = &plan.new_config {
        lines.push(format!(
            "2. keep {} as {}.<time>, install {} in its place (same owner and mode)",
            plan.dest.display(),
            plan.dest.display(),
            path.display()
        ));
    }
    lines.push(format!(
        "3. mark the planned stop (cause restart), run {} then {} --token=*** in {} (each within {}s); the units stay up",
        cfg.stop_script.display(),
        plan.start.script().display(),
        plan.start.install_dir().display(),
        cfg.script_timeout.as_secs()
    ));
    lines.push(format!("4. check that the containers that run now run again (within {}s)", back_within(cfg).as_secs()));
    if plan.new_config.is_some() {
        lines.push(format!(
            "5. record the new configuration's hash on the shared disk ({})",
            setup::records_dir(&plan.mount).display()
        ));
    }
    lines.push("6. clear the planned stop, resume the monitoring".into());
    lines
}

/// The restart proper, between the suspension and the resume.
fn carry_out(cfg: &Config, plan: &Plan) -> anyhow::Result<()> {
    let before = running_names(&plan.runtime).unwrap_or_else(|e| {
        tracing::warn!(
            "cannot list the running containers before the restart ({e:#}): the check after it only asks that some run"
        );
        Vec::new()
    });
    node::mark_planned_stop(cfg, StopCause::Restart);
    let previous = match &plan.new_config {
        Some((path, bytes)) => Some(install(&plan.dest, path, bytes).context("installing the new configuration.json")?),
        None => None,
    };
    if let Err((what, e)) = restart_master(cfg, &plan.start) {
        let mut told = format!("the {what} failed");
        if let Some(Some(backup)) = &previous {
            tracing::warn!("the {what} failed: {e:#}; putting back the previous configuration.json and restarting once more");
            match restore(&plan.dest, backup)
                .and_then(|()| restart_master(cfg, &plan.start).map_err(|(w, e)| e.context(format!("the {w}"))))
            {
                Ok(()) => told.push_str("; the previous configuration.json was put back and the master restarted with it"),
                Err(again) => {
                    told.push_str(&format!("; with the previous configuration.json put back, the restart failed too: {again:#}"))
                }
            }
        }
        return Err(failed(format!("{told}: {e:#}")));
    }
    // From here on nothing is restarted again: the master runs.
    check_back(&plan.runtime, &before, back_within(cfg))?;
    if let Some((_, bytes)) = &plan.new_config {
        tell_the_other_node(plan, bytes);
    }
    Ok(())
}

/// The stop script, then the start script; the failing step named.
fn restart_master(cfg: &Config, start: &StartPlan) -> Result<(), (&'static str, anyhow::Error)> {
    node::stop_master(cfg, start).map_err(|e| ("stop script", e))?;
    node::start_master(cfg, start).map_err(|e| ("start script", e))
}

/// Keeps the file at `dest` beside it (`configuration.json.<time>`) and puts `bytes` in its
/// place atomically, with its owner and mode. The previous file's copy, when there was one.
fn install(dest: &Path, from: &Path, bytes: &[u8]) -> anyhow::Result<Option<PathBuf>> {
    let step = Step::start();
    let old = match dest.metadata() {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(failed(format!("{} {}", dest.display(), plain(&e)))),
    };
    let backup = match &old {
        Some(_) => {
            let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
            let backup = dest.with_file_name(format!("configuration.json.{stamp}"));
            std::fs::copy(dest, &backup).with_context(|| format!("cannot keep {} as {}", dest.display(), backup.display()))?;
            Some(backup)
        }
        None => None,
    };
    replace(dest, bytes, old.as_ref())?;
    match &backup {
        Some(b) => {
            step.done(format_args!("installed {} as {} (the previous kept as {})", from.display(), dest.display(), b.display()))
        }
        None => step.done(format_args!("installed {} as {} (there was none)", from.display(), dest.display())),
    }
    Ok(backup)
}

/// Puts the kept copy back.
fn restore(dest: &Path, backup: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(backup).with_context(|| format!("cannot read {}", backup.display()))?;
    let old = backup.metadata().ok();
    replace(dest, &bytes, old.as_ref())?;
    tracing::info!("put back {} from {}", dest.display(), backup.display());
    Ok(())
}

/// Writes `bytes` beside `dest`, gives it `like`'s owner and mode (else 0644), renames it
/// over `dest`.
fn replace(dest: &Path, bytes: &[u8], like: Option<&std::fs::Metadata>) -> anyhow::Result<()> {
    let tmp = dest.with_file_name(".configuration.json.eva-ha-new");
    let shown = dest.display();
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mode = like.map_or(0o644, |m| m.permissions().mode() & 0o7777);
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", tmp.display()))?;
    if let Some(m) = like {
        std::os::unix::fs::chown(&tmp, Some(m.uid()), Some(m.gid()))
            .with_context(|| format!("cannot give {} the owner of {shown} ({}:{})", tmp.display(), m.uid(), m.gid()))?;
    }
    std::fs::rename(&tmp, dest).with_context(|| format!("cannot rename {} over {shown}", tmp.display()))
}

/// The names of the running containers in scope.
fn running_names(runtime: &Runtime) -> anyhow::Result<Vec<String>> {
    let ids = runtime.running()?;
    Ok(runtime.inspect(&ids)?.into_iter().filter(|s| s.running).map(|s| s.name).collect())
}

/// Every container that ran before the restart runs again (or, when none was known, some
/// container runs), within `within` ([`back_within`]).
fn check_back(runtime: &Runtime, before: &[String], within: Duration) -> anyhow::Result<()> {
    let step = Step::start();
    let until = Instant::now() + within;
    loop {
        let now = running_names(runtime);
        let missing: Vec<&String> = match &now {
            Ok(names) => before.iter().filter(|n| !names.contains(n)).collect(),
            Err(_) => before.iter().collect(),
        };
        let some = now.as_ref().is_ok_and(|names| !names.is_empty());
        if missing.is_empty() && (some || !before.is_empty()) {
            let count = now.map(|n| n.len()).unwrap_or(0);
            step.done(format_args!("the master is back: {count} container(s) running"));
            return Ok(());
        }
        if Instant::now() >= until {
            let why = match now {
                Err(e) => format!("cannot list them: {e:#}"),
                Ok(_) if before.is_empty() => "none runs".to_owned(),
                Ok(_) => format!("not running: {}", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
            };
            return Err(failed(format!(
                "the check failed: the start script succeeded but the master's containers did not all run again within {}s ({why}); not restarting again",
                within.as_secs()
            )));
        }
        crate::sys::signals::sleep(Duration::from_secs(1))?;
    }
}

/// Records the new hash on the shared disk and says that the other node's copy differs, with
/// the command that copies it.
fn tell_the_other_node(plan: &Plan, bytes: &[u8]) {
    let hash = setup::config_hash(bytes);
    match setup::record_installed_config(&plan.mount, &hash) {
        Err(e) => tracing::warn!("cannot record the new configuration on the shared disk: {e}"),
        Ok(others) if others.is_empty() => tracing::warn!(
            "no other node has recorded itself on the shared disk: copy {} to the standby node's install directory",
            plan.dest.display()
        ),
        Ok(others) => {
            for other in others.iter().filter(|o| o.config_sha256.as_deref() != Some(hash.as_str())) {
                tracing::warn!(
                    "{}'s configuration.json (as recorded at {}) now differs from this one; copy it: {}",
                    other.host,
                    other.recorded_at,
                    setup::copy_command(plan.start.install_dir(), &other.host)
                );
            }
        }
    }
}

/// Resumes the monitoring and clears the planned stop on every way out.
struct Guard<'a> {
    cfg: &'a Config,
    suspended: Suspended,
    record: PathBuf,
    resumed: bool,
}

impl Guard<'_> {
    fn finish(mut self) -> anyhow::Result<()> {
        self.resumed = true;
        self.end()
    }

    fn end(&self) -> anyhow::Result<()> {
        node::clear_planned_stop(self.cfg);
        let step = Step::start();
        self.suspended.resume()?;
        if let Err(e) = std::fs::remove_file(&self.record) {
            tracing::warn!("cannot remove {}: {e}", self.record.display());
        }
        if self.suspended.anything() {
            step.done(format_args!("monitoring resumed"));
        }
        Ok(())
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if !self.resumed
            && let Err(e) = self.end()
        {
            tracing::error!("{e:#}");
        }
    }
}

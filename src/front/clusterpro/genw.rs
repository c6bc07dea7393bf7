//! `eva-genw`: the CLUSTERPRO custom monitor (asynchronous: the monitor fails when we end).
//!
//! Runs quietly while all is well; exits 1 with one line naming the container as soon as
//! one dies with an exit code that counts, or when the engine stays unreachable.

use crate::config::Config;
use crate::error::failed;
use crate::front::cli::GenwArgs;
use crate::front::pacemaker::push;
use crate::ha::death_watch::{self, Unanswered, Watch};
use crate::ha::node;
use crate::ha::once::{self, Once};
use crate::sys::runtime::{Kind, Runtime};
use crate::sys::{files, signals};

pub fn run(args: GenwArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    signals::install()?;
    super::super::log_cluster_context();
    let mut runtime = Runtime::locate(*cfg.runtime, cfg.filters.value.clone())?;
    runtime.unit = Some(cfg.engine_unit.value.clone()).filter(|u| !u.is_empty());
    if args.once {
        runtime.call_timeout = std::time::Duration::from_secs(5);
        let once = Once {
            runtime: &runtime,
            ignore_exit_codes: &cfg.ignore_exit_codes,
            daemon_grace: cfg.daemon_grace(),
            state_dir: &cfg.state_dir,
            planned_stop: node::planned_stop_marker(&cfg),
            manual_stop_grace: *cfg.manual_stop_grace,
            first_since_ns: once::first_since(&cfg.history_dir),
        };
        let summary = once.check().inspect_err(|e| leave_word(&cfg, &runtime, e))?;
        tracing::info!("{summary}");
        return Ok(());
    }
    watch_manual_stops(&cfg);
    let watch = Watch {
        ignore_exit_codes: cfg.ignore_exit_codes.value.clone(),
        initial_delay: *cfg.initial_delay,
        daemon_grace: cfg.daemon_grace(),
        since_ns: args.since_ns,
    };
    // The verdict: a death that counts, or the engine lost; also into the death file when
    // asked (the Pacemaker agent's monitor reads it), unless we were told to stop.
    let verdict = match death_watch::watch(&runtime, &watch, Some(node::planned_stop_marker(&cfg))) {
        Ok(death) => failed(death.describe()),
        Err(e) => e,
    };
    leave_word(&cfg, &runtime, &verdict);
    if let (Some(file), None) = (&args.death_file, signals::pending()) {
        match files::write_atomically(file, format!("{verdict:#}\n").as_bytes()) {
            Err(e) => tracing::error!("cannot record the verdict in {}: {e}", file.display()),
            // Recorded where the agent's monitor reads it: now Pacemaker hears of it at once.
            Ok(()) => {
                if let (Some(resource), Some(node), Some(dir)) =
                    (&args.pacemaker_resource, &args.pacemaker_node, push::state_dir_of(file))
                {
                    push::report(&cfg, &dir, &push::Target { resource: resource.clone(), node: node.clone() });
                }
            }
        }
    }
    Err(verdict)
}

/// A verdict that docker's engine did not answer is left for the stop that the cluster runs
/// next (`node::mark_engine_unanswered`), unless we were told to stop. Not for podman,
/// which has no engine to stop first.
fn leave_word(cfg: &Config, runtime: &Runtime, verdict: &anyhow::Error) {
    if let (Some(unanswered), None, Kind::Docker) = (Unanswered::in_chain(verdict), signals::pending(), runtime.kind) {
        node::mark_engine_unanswered(cfg, &unanswered.0);
    }
}

/// While the watch runs: a stop made by hand that lasts beyond `manual_stop_grace` is
/// alerted (a WARN line and clplogcmd), again each grace, never failed over for. The death
/// watch stays quiet during every planned stop; this is what keeps a master stopped by hand
/// from being left down silently.
fn watch_manual_stops(cfg: &Config) {
    let cfg = cfg.clone();
    std::thread::spawn(move || {
        let mut last = None;
        loop {
            if let Some(stop) = node::planned_stop(&cfg) {
                let now = chrono::Local::now().fixed_offset();
                if let Some(alert) = node::manual_stop_alert(&stop, now, *cfg.manual_stop_grace, last) {
                    tracing::warn!("{alert}");
                    crate::sys::clp::alert(&alert);
                    last = Some(now);
                }
            } else {
                last = None;
            }
            if signals::sleep(MANUAL_STOP_LOOK).is_err() {
                return;
            }
        }
    });
}

/// How often eva-genw looks at the planned-stop marker for a stop made by hand.
const MANUAL_STOP_LOOK: std::time::Duration = std::time::Duration::from_secs(1);

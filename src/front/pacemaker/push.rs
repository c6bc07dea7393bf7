//! Telling Pacemaker of a failure the moment the agent's watcher knows it, instead of at the
//! next `monitor`, which may be a whole interval (30–60 s at many sites) away.
//!
//! The watcher (an `eva-ha genw` that `start` or `monitor` spawned) writes its verdict where
//! `monitor` reads it, then runs `crm_resource --fail --resource <primitive> --node <node>`.
//! What that does, from Pacemaker's source (ClusterLabs/pacemaker, `tools/crm_resource.c`
//! and `crm_resource_runtime.c`, `cli_resource_fail()` → `send_lrm_rsc_op()` with
//! `CRM_OP_LRM_FAIL`, since 1.0; RHEL 7.5 ships 1.1.18): the controller records a failed
//! `asyncmon` operation (interval 0, rc 1) for the resource on that node; the fail count
//! rises (by 2 per call before 2.1.6, often: commit a457eb83fe), and `migration-threshold`
//! and `failure-timeout` apply. It takes only a primitive's id (a group's is refused: "We
//! can only process primitive resources"), needs `--node`, and waits for the controller's
//! answer, which can block without quorum: hence a deadline.
//!
//! It pushes only while the failure is still the resource's: it takes the agent's lock
//! without waiting (a start or stop in progress decides the resource's fate itself), and
//! re-reads the agent's state: this watcher must be the one recorded there (a watcher left
//! behind by a stop, or replaced by `monitor`, is not), and no planned stop may be under
//! way. It pushes once per failure (the marker `pushed` beside the verdict, cleared with
//! it). When it cannot push, the next `monitor` is the backstop, and the log says why.
//! After a push `monitor` still reports the failure: it is the truth, and the cluster is
//! already recovering the resource.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::sys::lock;
use crate::sys::process::{Cmd, find_program};
use crate::sys::signals;

use super::state::StateDir;

/// How long `crm_resource --fail` may take: it answers in milliseconds when the
/// controller does, and blocks without quorum.
const PUSH_DEADLINE: Duration = Duration::from_secs(10);

/// The resource and the node a push names: Pacemaker's `OCF_RESOURCE_INSTANCE` (the
/// primitive's own id) and `OCF_RESKEY_CRM_meta_on_node`, handed to the watcher by the
/// action that spawned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub resource: String,
    pub node: String,
}

impl Target {
    /// From the action's environment, as Pacemaker set it; `None` (and why) when a part
    /// is missing: then failures reach Pacemaker at the next `monitor` only.
    pub fn from_environment(var: impl Fn(&str) -> Option<String>) -> Result<Target, String> {
        let get = |name: &str| var(name).filter(|v| !v.is_empty()).ok_or_else(|| format!("no {name} in the environment"));
        Ok(Target { resource: get("OCF_RESOURCE_INSTANCE")?, node: get("OCF_RESKEY_CRM_meta_on_node")? })
    }
}

/// Why the failure recorded in `dir` is no longer this watcher's to push, if it is not.
fn not_ours(cfg: &Config, dir: &StateDir) -> Option<String> {
    let me = std::process::id() as i32;
    match dir.read() {
        None => return Some("the resource is stopped (no agent state)".into()),
        Some(state) if state.watcher_pid != me => {
            return Some(format!("this watcher (pid {me}) is no longer the resource's: pid {} is", state.watcher_pid));
        }
        Some(_) => {}
    }
    let marker = crate::ha::node::planned_stop_marker(cfg);
    if marker.exists() {
        return Some(format!("a planned stop is under way ({})", marker.display()));
    }
    if dir.pushed_file().exists() {
        return Some("Pacemaker was told already".into());
    }
    None
}

/// Tells Pacemaker that the resource failed on this node, when the failure is still the
/// resource's (see the module's documentation). Never fails: a push that cannot be made
/// leaves the failure to the next `monitor`, and says why.
pub fn report(cfg: &Config, dir: &StateDir, target: &Target) {
    if signals::pending().is_some() {
        return;
    }
    let _lock = match lock::acquire(&cfg.lock_file, Duration::ZERO, "eva-master watcher") {
        Ok(lock) => lock,
        Err(e) => {
            tracing::info!("not telling Pacemaker: {e:#}; the action under way decides");
            return;
        }
    };
    if let Some(why) = not_ours(cfg, dir) {
        tracing::info!("not telling Pacemaker: {why}");
        return;
    }
    // Once, whatever the call's outcome: the next monitor is the backstop.
    if let Err(e) = crate::sys::files::write_atomically(&dir.pushed_file(), b"") {
        tracing::warn!("not telling Pacemaker: cannot mark {}: {e}; the next monitor reports the failure", dir.0.display());
        return;
    }
    let Some(crm_resource) = find_program("crm_resource") else {
        tracing::warn!("cannot tell Pacemaker: crm_resource is not installed; the next monitor reports the failure");
        return;
    };
    let cmd =
        Cmd::new(crm_resource).args(["--fail", "--resource", &target.resource, "--node", &target.node]).timeout(PUSH_DEADLINE);
    match cmd.checked_output() {
        Ok(_) => tracing::info!("told Pacemaker at once: `{}`", cmd.display()),
        Err(e) => tracing::warn!("could not tell Pacemaker ({e}); the next monitor reports the failure"),
    }
}

/// The watcher's flags for `target`, as `spawn_watcher` passes them on.
pub fn flags(target: &Target) -> [String; 4] {
    ["--pacemaker-resource".into(), target.resource.clone(), "--pacemaker-node".into(), target.node.clone()]
}

/// The state directory of a watcher whose verdict goes to `death_file`.
pub fn state_dir_of(death_file: &Path) -> Option<StateDir> {
    death_file.parent().map(|d| StateDir(d.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_comes_from_pacemakers_variables() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(
            Target::from_environment(env(&[("OCF_RESOURCE_INSTANCE", "eva-master"), ("OCF_RESKEY_CRM_meta_on_node", "node1")])),
            Ok(Target { resource: "eva-master".into(), node: "node1".into() })
        );
        assert_eq!(
            Target::from_environment(env(&[("OCF_RESOURCE_INSTANCE", "eva-master")])),
            Err("no OCF_RESKEY_CRM_meta_on_node in the environment".into())
        );
        assert_eq!(
            Target::from_environment(env(&[("OCF_RESOURCE_INSTANCE", ""), ("OCF_RESKEY_CRM_meta_on_node", "n")])),
            Err("no OCF_RESOURCE_INSTANCE in the environment".into())
        );
    }
}

//! Suspending the cluster's monitoring of the EVA group, and only of it, for the length of an
//! `eva-ha restart`.
//!
//! The guide's update procedure begins "suspend CLUSTERPRO monitoring": a master restarted
//! in place makes its containers die and its processes vanish, which the group's monitors
//! would take for a failure and fail over. What is suspended is exactly the group's
//! monitors, on every server, never the whole cluster:
//! - CLUSTERPRO: `clpmonctrl -s -h SERVER -m MONITOR` for each monitor of `clp_monitors`
//!   on each server, `clpmonctrl -r …` to resume (the form NEC's own procedures use, e.g.
//!   EXPRESSCLUSTER/ScheduleMirroring's README). The servers are the `<server>` section of
//!   `clpstat --local` (see [`parse_servers`]); when they cannot be listed, the monitors are
//!   suspended on this server only (`clpmonctrl` without `-h`), and the log says so.
//! - Pacemaker: the primitive `pcmk_resource` is unmanaged (`crm_resource --resource R
//!   --meta --set-parameter is-managed --parameter-value false`, not the cluster-wide
//!   maintenance mode), then the failures its monitor recorded meanwhile are cleaned up
//!   (`crm_resource --cleanup --resource R`) and it is managed again. Options as in
//!   ClusterLabs/pacemaker tools/crm_resource.c at Pacemaker-1.1.18 and Pacemaker-2.1.5.
//! - Neither (no `clpmonctrl`, no `crm_resource` knowing the resource): nothing is
//!   suspended, and the log says so.
//!
//! Resuming runs even after SIGTERM or SIGINT ([`Cmd::despite_signals`]): a restart that is
//! cut short must not leave the group unwatched.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::error::failed;
use crate::sys::process::{Cmd, find_program};

/// Deadline of one clpstat, clpmonctrl or crm_resource call (crm_resource can block
/// without quorum).
const CALL: Duration = Duration::from_secs(30);

/// What will be suspended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// CLUSTERPRO: these monitors on these servers (`None`: this server only, unlisted).
    Clusterpro { clpmonctrl: PathBuf, servers: Option<Vec<String>>, monitors: Vec<String> },
    /// Pacemaker: this primitive.
    /// `unmanaged_before`: an administrator had unmanaged it already (its meta attribute
    /// `is-managed` is `false`): it is left unmanaged at the end, as it was.
    Pacemaker { crm_resource: PathBuf, resource: String, unmanaged_before: bool },
    /// Nothing (the reason).
    Nothing(String),
}

/// Finds the cluster software on this node and what of it to suspend.
pub fn plan(cfg: &Config) -> Plan {
    if let Some(clpmonctrl) = find_program("clpmonctrl") {
        let monitors = cfg.clp_monitors.value.clone();
        if monitors.is_empty() {
            return Plan::Nothing(
                "CLUSTERPRO is installed but clp_monitors names no monitor of the EVA group: nothing suspended".into(),
            );
        }
        let servers = match list_servers() {
            Ok(servers) if !servers.is_empty() => Some(servers),
            Ok(_) => {
                tracing::warn!("clpstat --local listed no server: suspending the monitors on this server only");
                None
            }
            Err(e) => {
                tracing::warn!("cannot list the cluster's servers ({e:#}): suspending the monitors on this server only");
                None
            }
        };
        return Plan::Clusterpro { clpmonctrl, servers, monitors };
    }
    if let Some(crm_resource) = find_program("crm_resource") {
        let resource = cfg.pcmk_resource.value.clone();
        let located = Cmd::new(&crm_resource).args(["--resource", &resource, "--locate"]).timeout(CALL).checked_output();
        return match located {
            Ok(_) => {
                let unmanaged_before = is_managed(&crm_resource, &resource) == Some(false);
                Plan::Pacemaker { crm_resource, resource, unmanaged_before }
            }
            Err(e) => {
                Plan::Nothing(format!("Pacemaker does not know resource {resource} (pcmk_resource): {e}; nothing suspended"))
            }
        };
    }
    Plan::Nothing("no cluster software on this node (neither clpmonctrl nor crm_resource): nothing suspended".into())
}

impl Plan {
    /// One line for the log and `--dry-run`.
    pub fn describe(&self) -> String {
        match self {
            Plan::Clusterpro { servers, monitors, .. } => match servers {
                Some(servers) => format!(
                    "CLUSTERPRO monitors {} on server(s) {} (clpmonctrl -s / -r)",
                    monitors.join(", "),
                    servers.join(", ")
                ),
                None => format!(
                    "CLUSTERPRO monitors {} on this server only: the servers could not be listed (clpmonctrl -s / -r)",
                    monitors.join(", ")
                ),
            },
            Plan::Pacemaker { resource, unmanaged_before: false, .. } => {
                format!("Pacemaker resource {resource}: unmanaged (is-managed=false), cleaned up and managed again after")
            }
            Plan::Pacemaker { resource, unmanaged_before: true, .. } => format!(
                "Pacemaker resource {resource}: unmanaged already (is-managed=false, set before): cleaned up after and left unmanaged, as it was"
            ),
            Plan::Nothing(why) => why.clone(),
        }
    }

    /// Suspends; on a failure half-way, resumes what was suspended and returns the error.
    pub fn suspend(&self) -> anyhow::Result<Suspended> {
        match self {
            Plan::Clusterpro { clpmonctrl, servers, monitors } => {
                let mut done = Suspended { plan: self.clone(), done: Vec::new() };
                let targets: Vec<Option<&String>> = match servers {
                    Some(s) => s.iter().map(Some).collect(),
                    None => vec![None],
                };
                for server in targets {
                    for monitor in monitors {
                        match clpmonctrl_cmd(clpmonctrl, "-s", server, monitor).checked_output() {
                            Ok(_) => done.done.push((server.cloned(), monitor.clone())),
                            Err(e) => {
                                let _ = done.resume();
                                return Err(failed(format!("cannot suspend monitor {monitor}: {e}")));
                            }
                        }
                    }
                }
                Ok(done)
            }
            Plan::Pacemaker { crm_resource, resource, unmanaged_before } => {
                if !unmanaged_before {
                    managed(crm_resource, resource, false)
                        .map_err(|e| failed(format!("cannot unmanage Pacemaker resource {resource}: {e}")))?;
                }
                Ok(Suspended { plan: self.clone(), done: Vec::new() })
            }
            Plan::Nothing(_) => Ok(Suspended { plan: self.clone(), done: Vec::new() }),
        }
    }
}

/// What was suspended, to resume.
#[derive(Debug)]
pub struct Suspended {
    plan: Plan,
    /// CLUSTERPRO: (server, monitor) suspended.
    done: Vec<(Option<String>, String)>,
}

impl Suspended {
    /// Resumes everything suspended, going on past a failure; the error names each that
    /// would not resume.
    pub fn resume(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        match &self.plan {
            Plan::Clusterpro { clpmonctrl, .. } => {
                for (server, monitor) in &self.done {
                    if let Err(e) = clpmonctrl_cmd(clpmonctrl, "-r", server.as_ref(), monitor).despite_signals().checked_output()
                    {
                        problems.push(format!("monitor {monitor}: {e}"));
                    }
                }
            }
            Plan::Pacemaker { crm_resource, resource, unmanaged_before } => {
                // The failures its monitor recorded while unmanaged are the restart's doing.
                let cleanup = Cmd::new(crm_resource)
                    .args(["--cleanup", "--resource", resource])
                    .timeout(CALL)
                    .despite_signals()
                    .checked_output();
                if let Err(e) = cleanup {
                    problems.push(format!("cleanup of {resource}: {e}"));
                }
                if !unmanaged_before && let Err(e) = managed(crm_resource, resource, true) {
                    problems.push(format!("managing {resource} again: {e}"));
                }
            }
            Plan::Nothing(_) => {}
        }
        if problems.is_empty() { Ok(()) } else { Err(failed(format!("cannot resume the monitoring: {}", problems.join("; ")))) }
    }

    /// Whether anything was suspended.
    pub fn anything(&self) -> bool {
        !matches!(self.plan, Plan::Nothing(_))
    }
}

fn clpmonctrl_cmd(clpmonctrl: &PathBuf, action: &str, server: Option<&String>, monitor: &str) -> Cmd {
    let mut cmd = Cmd::new(clpmonctrl).arg(action);
    if let Some(server) = server {
        cmd = cmd.arg("-h").arg(server);
    }
    cmd.arg("-m").arg(monitor).timeout(CALL)
}

/// The resource's own meta attribute `is-managed`, when it has one (`crm_resource --meta
/// --get-parameter`: the value, or "Attribute … not found" and a failure when unset, which
/// means managed, the default).
fn is_managed(crm_resource: &PathBuf, resource: &str) -> Option<bool> {
    let out = Cmd::new(crm_resource)
        .args(["--resource", resource, "--meta", "--get-parameter", "is-managed"])
        .timeout(CALL)
        .checked_output()
        .ok()?;
    match out.stdout.trim() {
        "false" | "no" | "0" | "off" => Some(false),
        "true" | "yes" | "1" | "on" => Some(true),
        _ => None,
    }
}

fn managed(crm_resource: &PathBuf, resource: &str, value: bool) -> Result<(), crate::sys::process::ProcessError> {
    Cmd::new(crm_resource)
        .args(["--resource", resource, "--meta", "--set-parameter", "is-managed", "--parameter-value"])
        .arg(if value { "true" } else { "false" })
        .timeout(CALL)
        .despite_signals()
        .checked_output()
        .map(drop)
}

/// The servers of `clpstat --local`.
fn list_servers() -> anyhow::Result<Vec<String>> {
    let clpstat = find_program("clpstat").ok_or_else(|| anyhow::anyhow!("clpstat is not installed"))?;
    let out = Cmd::new(clpstat).arg("--local").timeout(CALL).checked_output()?;
    Ok(parse_servers(&out.stdout))
}

/// The server names of clpstat's `<server>` section: its least indented lines (a leading
/// `*` marks this server and counts as indentation), each `NAME ....: STATUS`; the more
/// indented lines under each are its heartbeats. Read as NEC's sample scripts in the
/// EXPRESSCLUSTER GitHub organisation read it (the server name is the first word after the
/// `*`, the section ends at `<group>`).
pub fn parse_servers(text: &str) -> Vec<String> {
    let mut in_section = false;
    let mut lines: Vec<(usize, String)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('<') {
            in_section = trimmed.starts_with("<server>");
            continue;
        }
        if !in_section || !trimmed.contains(':') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches([' ', '\t', '*']).len();
        let name = trimmed.trim_start_matches('*').split([' ', '\t', '.', ':']).next().unwrap_or("");
        if !name.is_empty() {
            lines.push((indent, name.to_owned()));
        }
    }
    let least = lines.iter().map(|(i, _)| *i).min().unwrap_or(0);
    lines.into_iter().filter(|(i, _)| *i == least).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_clpstat() {
        let text = " ===================== CLUSTER STATUS ======================
  Cluster : cluster
  <server>
   *server1 .........: Online
      lanhb1         : Normal           LAN Heartbeat
      diskhb1        : Normal           DISK Heartbeat
    server2 .........: Online
      lanhb1         : Normal           LAN Heartbeat
  <group>
    failover ........: Online
      current        : server1
  <monitor>
    genw-eva         : Normal
 =============================================================
";
        assert_eq!(parse_servers(text), ["server1", "server2"]);
        assert_eq!(parse_servers("no such section"), Vec::<String>::new());
    }
}

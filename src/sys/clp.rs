//! What CLUSTERPRO tells a script, and how a failure reaches the cluster's alert log.
//!
//! CLUSTERPRO runs Exec resource scripts with `CLP_*` variables that say why (start at
//! cluster startup, failover, manual move…) and where. Logging them makes a resource log
//! explain itself. `CLP_DISK=FAILURE` means the group's disk resource failed: EVA's data
//! lives on that disk, so eva-start refuses. When `clplogcmd` is installed, a failure is also
//! sent to the alert log, where Cluster WebUI shows it.

use std::time::Duration;

use crate::sys::process::{Cmd, find_program};

/// The variables we log, in this order.
pub const VARIABLES: &[&str] = &["CLP_EVENT", "CLP_SERVER", "CLP_DISK", "CLP_FACTOR", "CLP_GROUPNAME", "CLP_RESOURCENAME"];

/// `CLP_EVENT=START CLP_SERVER=HOME …` for the variables that are set, or `None`.
pub fn environment(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set: Vec<String> = VARIABLES.iter().filter_map(|v| env(v).map(|value| format!("{v}={value}"))).collect();
    (!set.is_empty()).then(|| set.join(" "))
}

/// True when CLUSTERPRO reports that the group's shared disk failed.
pub fn disk_failed(env: impl Fn(&str) -> Option<String>) -> bool {
    env("CLP_DISK").is_some_and(|v| v.trim().eq_ignore_ascii_case("FAILURE"))
}

/// clplogcmd accepts messages of up to 511 bytes.
const MAX_ALERT: usize = 500;

/// Sends `message` to the cluster's alert log with `clplogcmd -m MSG -l ERR` when clplogcmd
/// is installed; a failure to do so is only logged.
pub fn alert(message: &str) {
    let Some(clplogcmd) = find_program("clplogcmd") else {
        return;
    };
    let mut end = message.len().min(MAX_ALERT);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cmd = Cmd::new(clplogcmd).arg("-m").arg(&message[..end]).arg("-l").arg("ERR").timeout(Duration::from_secs(10));
    if let Err(e) = cmd.checked_output() {
        tracing::warn!("could not send the failure to the cluster alert log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_lists_only_set_variables_in_order() {
        let env = |v: &str| match v {
            "CLP_SERVER" => Some("OTHER".to_owned()),
            "CLP_EVENT" => Some("FAILOVER".to_owned()),
            _ => None,
        };
        assert_eq!(environment(env).as_deref(), Some("CLP_EVENT=FAILOVER CLP_SERVER=OTHER"));
        assert_eq!(environment(|_| None), None);
    }

    #[test]
    fn disk_failure() {
        assert!(disk_failed(|v| (v == "CLP_DISK").then(|| "FAILURE".to_owned())));
        assert!(!disk_failed(|v| (v == "CLP_DISK").then(|| "SUCCESS".to_owned())));
        assert!(!disk_failed(|_| None));
    }
}

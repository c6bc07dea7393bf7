//! What eva-start and eva-stop did on this node, for `eva-ha status`: after a failover an
//! administrator wants to know at once when the master was last started or stopped here,
//! for which cluster event, how long it took and, when it failed, why.
//!
//! The runs are kept in `<history_dir>/runs.json` (a JSON array, the newest last, at most
//! [`KEEP`] per command), rewritten atomically after each run. A record holds no secret:
//! the error line is the one already printed, which never holds the token.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sys::files;

/// How many runs of each command are kept.
pub const KEEP: usize = 20;

/// One run of a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// `eva-start`, `eva-stop`, `eva-master start`, `eva-master stop`.
    pub command: String,
    /// When it began (RFC 3339, local time).
    pub started: String,
    pub seconds: f64,
    /// `ok`, `failed` or `interrupted`.
    pub result: String,
    /// The exit status.
    pub status: u8,
    /// The error line, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Who asked: CLUSTERPRO's variables (`CLP_EVENT=START CLP_SERVER=HOME …`), `pacemaker`,
    /// or nothing (by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

fn file(dir: &Path) -> PathBuf {
    dir.join("runs.json")
}

/// The runs recorded in `dir`, oldest first; none when there is no record yet.
pub fn load(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let path = file(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: not a run history: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!("{} {}", path.display(), files::plain(&e))),
    }
}

/// Adds `run` to the history in `dir`, keeping the newest [`KEEP`] runs of each command.
pub fn record(dir: &Path, run: Run) -> anyhow::Result<()> {
    // A history that cannot be read is replaced rather than blocking the record.
    let mut runs = load(dir).unwrap_or_default();
    runs.push(run);
    let mut kept = Vec::with_capacity(runs.len());
    for (i, r) in runs.iter().enumerate() {
        let newer = runs[i + 1..].iter().filter(|n| n.command == r.command).count();
        if newer < KEEP {
            kept.push(r.clone());
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{} {}", dir.display(), files::plain(&e)))?;
    let json = serde_json::to_vec_pretty(&kept)?;
    files::write_atomically(&file(dir), &json).map_err(|e| anyhow::anyhow!("{} {}", file(dir).display(), files::plain(&e)))
}

/// The newest run of `command`.
pub fn last<'a>(runs: &'a [Run], command: &str) -> Option<&'a Run> {
    runs.iter().rev().find(|r| r.command == command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &str, n: usize) -> Run {
        Run {
            command: command.into(),
            started: format!("2026-12-01T10:00:{n:02}+00:00"),
            seconds: 2.5,
            result: "ok".into(),
            status: 0,
            error: None,
            context: Some("CLP_EVENT=START".into()),
        }
    }

    #[test]
    fn a_bounded_history_per_command_newest_last() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), Vec::new());
        for n in 0..KEEP + 5 {
            record(dir.path(), run("eva-start", n)).unwrap();
        }
        record(dir.path(), run("eva-stop", 99)).unwrap();
        let runs = load(dir.path()).unwrap();
        assert_eq!(runs.iter().filter(|r| r.command == "eva-start").count(), KEEP);
        assert_eq!(last(&runs, "eva-start").unwrap().started, format!("2026-12-01T10:00:{:02}+00:00", KEEP + 4));
        assert_eq!(last(&runs, "eva-stop").unwrap().started, "2026-12-01T10:00:99+00:00");
        assert_eq!(last(&runs, "eva-master start"), None);
    }
}

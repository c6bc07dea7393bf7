//! The agent's state on the node: what `start` leaves for `monitor` and `stop`, under
//! `/run/eva-ha/ocf/<instance>/` (emptied at boot, when nothing of the master runs either),
//! and the detached container watcher that `start` launches and `monitor` replaces when
//! it is gone.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::push::Target;
use crate::config::{Config, GENW};

/// Where the agent keeps its state, per resource instance.
pub const STATE_ROOT: &str = "/run/eva-ha/ocf";

/// What `start` leaves for `monitor` and `stop`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// When the master was started (ns since the epoch).
    pub started_ns: i64,
    pub watcher_pid: i32,
    /// The last time the watcher was seen running (ns): a replacement catches up from here.
    pub watched_until_ns: i64,
}

/// The agent's state directory for one resource instance.
pub struct StateDir(pub PathBuf);

impl StateDir {
    pub fn for_instance(instance: Option<String>) -> StateDir {
        let name: String = instance
            .unwrap_or_else(|| "eva-master".into())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
            .collect();
        StateDir(Path::new(STATE_ROOT).join(name))
    }

    fn state_file(&self) -> PathBuf {
        self.0.join("state.json")
    }

    pub fn death_file(&self) -> PathBuf {
        self.0.join("death")
    }

    /// Written when the watcher told Pacemaker of its verdict (`push`): once per failure.
    pub fn pushed_file(&self) -> PathBuf {
        self.0.join("pushed")
    }

    pub fn watcher_log(&self) -> PathBuf {
        self.0.join("watcher.log")
    }

    pub fn read(&self) -> Option<State> {
        serde_json::from_slice(&fs::read(self.state_file()).ok()?).ok()
    }

    pub fn write(&self, state: &State) -> std::io::Result<()> {
        fs::create_dir_all(&self.0)?;
        let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        crate::sys::files::write_atomically(&self.state_file(), &json)
    }

    /// The recorded death, if a watcher wrote one.
    pub fn death(&self) -> Option<String> {
        fs::read_to_string(self.death_file()).ok().map(|t| t.trim().to_owned())
    }

    /// Removes the state and the verdict: the resource is stopped.
    pub fn clear(&self) -> std::io::Result<()> {
        for file in [self.state_file(), self.death_file(), self.pushed_file()] {
            match fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether `pid` is a live eva-ha genw watcher (not a recycled pid).
pub fn watcher_alive(pid: i32) -> bool {
    let cmdline = || fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    crate::sys::process::is_running(pid) && cmdline().split(|b| *b == 0).any(|arg| arg == b"genw")
}

/// Starts a detached eva-genw watcher (its own session, output to the state directory)
/// that judges deaths from `since_ns` on and writes its verdict into the death file, then
/// tells Pacemaker of it at once when there is a `target` (`push`).
pub fn spawn_watcher(dir: &StateDir, cfg: &Config, since_ns: i64, target: Option<&Target>) -> anyhow::Result<i32> {
    fs::create_dir_all(&dir.0)?;
    let log = fs::OpenOptions::new().create(true).append(true).open(dir.watcher_log())?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("genw");
    if let Some(file) = &cfg.file {
        cmd.arg("--config").arg(file);
    }
    // The watch starts at once; the settings as resolved here (parameters included), as
    // flags: they override whatever the watcher would read.
    let mut watch = cfg.clone();
    watch.initial_delay.value = Duration::ZERO;
    cmd.args(watch.flags_for(GENW))
        .arg("--since-ns")
        .arg(since_ns.to_string())
        .arg("--death-file")
        .arg(dir.death_file())
        .args(target.map(super::push::flags).into_iter().flatten())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
    }
    let child = cmd.spawn()?;
    Ok(child.id() as i32)
}

/// How long a watcher asked to go has before it gets SIGKILL, and before we stop waiting.
const WATCHER_TERM: Duration = Duration::from_secs(3);
const WATCHER_GONE: Duration = Duration::from_secs(5);

/// Stops a watcher (SIGTERM, then SIGKILL) and waits until it is gone.
pub fn stop_watcher(pid: i32) {
    let asked = Instant::now();
    if ask_watcher_to_go(pid) {
        wait_watcher(pid, asked);
    }
}

/// Sends a live watcher SIGTERM, without waiting: it notices within its tick (half a
/// second) while the caller goes on; [`wait_watcher`] then makes sure it went. False when
/// there was none.
pub fn ask_watcher_to_go(pid: i32) -> bool {
    if !watcher_alive(pid) {
        return false;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    true
}

/// Waits until a watcher asked to go at `asked` is gone: SIGKILL once it has had
/// [`WATCHER_TERM`], no more waiting after [`WATCHER_GONE`].
pub fn wait_watcher(pid: i32, asked: Instant) {
    let mut killed = false;
    while watcher_alive(pid) && asked.elapsed() < WATCHER_GONE {
        if !killed && asked.elapsed() >= WATCHER_TERM {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_names_are_safe() {
        assert_eq!(StateDir::for_instance(Some("eva:0/../x".into())).0, Path::new("/run/eva-ha/ocf/eva_0_.._x"));
        assert_eq!(StateDir::for_instance(None).0, Path::new("/run/eva-ha/ocf/eva-master"));
    }
}

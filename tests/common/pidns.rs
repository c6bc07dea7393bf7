//! A pid namespace of the test's own, for the runs that end processes (eva-stop's
//! `end_leftovers`): made with `unshare --pid --fork --mount-proc`, its /proc lists only
//! what the test started in it, so that eva-stop, which reads /proc as on a node, can find
//! (and kill) nothing else of this machine, where a real docker engine and other
//! engineers' tests run. Its init is a `sleep`: when the namespace is dropped the init is
//! killed, and the kernel kills everything left in it.
//!
//! Pids inside differ from the host's: what the processes started in it write, and what
//! eva-stop logs, are the namespace's; [`PidNamespace::alive`] takes those.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::require;

pub struct PidNamespace {
    holder: Child,
    /// The host's pid of the namespace's init.
    init: i32,
}

impl PidNamespace {
    /// A new namespace; `None` (the test is skipped, or fails under CI: see [`require`])
    /// where `unshare` cannot make one (it needs root).
    #[track_caller]
    pub fn new() -> Option<PidNamespace> {
        let spawned = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "--kill-child", "sleep", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut holder) = spawned else {
            require("unshare (util-linux)", false);
            return None;
        };
        let until = Instant::now() + Duration::from_secs(10);
        let init = loop {
            if let Some(init) = child_of(holder.id() as i32) {
                break Some(init);
            }
            if holder.try_wait().ok().flatten().is_some() || Instant::now() >= until {
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        match init {
            Some(init) => Some(PidNamespace { holder, init }),
            None => {
                let _ = holder.kill();
                let _ = holder.wait();
                require("a pid namespace of the test's own (unshare --pid --mount-proc: root)", false);
                None
            }
        }
    }

    /// The words that run a program inside: `nsenter` into the namespace and its /proc.
    pub fn prefix(&self) -> Vec<String> {
        ["nsenter", "-t", &self.init.to_string(), "--pid", "--mount", "--"].map(str::to_owned).to_vec()
    }

    /// Starts `script` (bash) inside, with `args` as "$1"…, in a session of its own, and
    /// reaps it in the background: `exec -a NAME PROGRAM` in it gives a process argv[0] NAME.
    pub fn spawn(&self, script: &str, args: &[&str], env: &[(&str, &Path)]) {
        let mut cmd = Command::new(&self.prefix()[0]);
        cmd.args(&self.prefix()[1..])
            .args(["bash", "-c", script, "bash"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Its own session: not ours to signal with the test's group.
        unsafe {
            cmd.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
        }
        let mut child = {
            let _forking = super::node::FORKING.lock().unwrap_or_else(|e| e.into_inner());
            cmd.spawn().unwrap()
        };
        std::thread::spawn(move || child.wait());
    }

    /// Whether the process the namespace knows as `pid` still runs (and is no zombie).
    pub fn alive(&self, pid: i32) -> bool {
        std::fs::read_to_string(self.proc().join(format!("{pid}/stat"))).is_ok_and(|s| {
            let state = s.rsplit(')').next().unwrap_or("").split_whitespace().next().unwrap_or("");
            state != "Z"
        })
    }

    /// The namespace's /proc, seen from outside.
    fn proc(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/proc", self.init))
    }
}

impl Drop for PidNamespace {
    fn drop(&mut self) {
        // The init's death takes the whole namespace with it.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.init), nix::sys::signal::Signal::SIGKILL);
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A child of `parent`, from the host's /proc.
fn child_of(parent: i32) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let ppid: i32 = stat.rsplit(')').next()?.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent).then_some(pid)
    })
}

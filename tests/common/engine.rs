//! A private Docker engine for a test: its own dockerd (and the containerd it supervises),
//! data root, exec root and socket, so that a test can stop and restart the engine without
//! disturbing anything else, and a busybox image imported into it (no registry needed).
//! Launching, waiting, cleaning up and the busybox image are scripts/private-engine.sh's,
//! the one implementation that scripts/bench-genw.sh uses too.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::require;
use super::support::{eva_ha, have};

pub const IMAGE: &str = "eva-bb";

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/private-engine.sh");

/// `scripts/private-engine.sh ARGS…`
fn script(args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(SCRIPT).args(args);
    cmd
}

pub struct Engine {
    dir: tempfile::TempDir,
    dockerd: Option<Child>,
    live_restore: bool,
}

impl Engine {
    /// Starts a private engine with the busybox image, or None when dockerd or busybox is
    /// missing (and we may skip).
    #[track_caller]
    pub fn start(live_restore: bool) -> Option<Engine> {
        if !require("dockerd (apt-get install docker.io)", have("dockerd"))
            || !require("a static busybox at /bin/busybox (apt-get install busybox-static)", Path::new("/bin/busybox").exists())
        {
            return None;
        }
        // Short path: the socket's must fit in 108 bytes.
        let dir = tempfile::Builder::new().prefix("eva-eng").tempdir_in("/tmp").unwrap();
        let mut engine = Engine { dir, dockerd: None, live_restore };
        engine.launch();
        engine.import_busybox();
        Some(engine)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `unix:///tmp/eva-engXXXX/docker.sock`
    pub fn host(&self) -> String {
        format!("unix://{}", self.path("docker.sock").display())
    }

    /// (Re)starts dockerd and waits until it answers.
    #[track_caller]
    pub fn launch(&mut self) {
        assert!(self.dockerd.is_none(), "already running");
        let log = fs::OpenOptions::new().create(true).append(true).open(self.path("dockerd.log")).unwrap();
        let dir = self.dir.path().to_str().unwrap();
        // The script execs dockerd: the child is dockerd itself.
        let mut cmd = script(&["dockerd", dir]);
        cmd.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
        if self.live_restore {
            cmd.arg("--live-restore");
        }
        let child = cmd.spawn().unwrap();
        let pid = child.id().to_string();
        self.dockerd = Some(child);
        if !script(&["wait", dir, "60", &pid]).status().unwrap().success() {
            panic!("private dockerd did not answer; log:\n{}", fs::read_to_string(self.path("dockerd.log")).unwrap_or_default());
        }
    }

    /// Sends dockerd `signal` (SIGSTOP freezes it, SIGCONT thaws it).
    pub fn signal_dockerd(&self, signal: nix::sys::signal::Signal) {
        let child = self.dockerd.as_ref().expect("dockerd runs");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    }

    /// Stops dockerd with SIGTERM and waits for it to exit.
    pub fn shut_down(&mut self) {
        let Some(mut child) = self.dockerd.take() else { return };
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(40);
        while Instant::now() < until {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker").arg("--host").arg(self.host()).args(args).output().unwrap()
    }

    /// Runs docker and returns its trimmed stdout, asserting success.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn import_busybox(&self) {
        let mut docker = Command::new("docker");
        docker.arg("--host").arg(self.host());
        import_busybox(docker, IMAGE);
    }

    /// Starts `eva-ha genw` against this engine with `args`.
    pub fn genw(&self, args: &[&str]) -> Monitor {
        let mut cmd = eva_ha("genw");
        cmd.args(args).env("DOCKER_HOST", self.host());
        Monitor::spawn(&mut cmd, &self.host())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.dockerd.is_some() {
            let ids = self.docker(&["ps", "-aq"]);
            let ids = String::from_utf8_lossy(&ids.stdout).split_whitespace().map(str::to_owned).collect::<Vec<_>>();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.iter().map(String::as_str));
                let _ = self.docker(&args);
            }
        }
        self.shut_down();
        // Whatever still runs from this engine's directory (containerd, shims), its mounts.
        let _ = script(&["clean", self.dir.path().to_str().unwrap()]).status();
    }
}

/// Imports a busybox image as `tag` with `cli` (a `docker` or `podman` command to which
/// `import …` is added): a root file system of /bin/busybox and a few applet links
/// (scripts/private-engine.sh busybox-tar), no registry needed.
#[track_caller]
pub fn import_busybox(mut cli: Command, tag: &str) {
    let mut tar = script(&["busybox-tar"]).stdout(Stdio::piped()).spawn().unwrap();
    let out = cli.args(["import", "--change", "CMD [\"/bin/sh\"]", "-", tag]).stdin(tar.stdout.take().unwrap()).output().unwrap();
    assert!(tar.wait().unwrap().success());
    assert!(out.status.success(), "import {tag}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A running `eva-ha genw`.
pub struct Monitor {
    child: Child,
    output: Arc<Mutex<String>>,
    pub started: Instant,
    host: String,
}

impl Monitor {
    /// Spawns `cmd` with its output collected; `host` identifies its engine.
    pub fn spawn(cmd: &mut Command, host: &str) -> Monitor {
        let mut child = cmd
            .env_remove("EVA_HA_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Monitor { child, output, started: Instant::now(), host: host.to_owned() }
    }

    /// The pids of the monitor's children whose command line contains `needle`.
    pub fn children_matching(&self, needle: &str) -> Vec<i32> {
        let me = self.child.id().to_string();
        fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let ppid = stat.rsplit(')').next().unwrap_or("").split_whitespace().nth(1).unwrap_or("");
                let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                ppid == me && String::from_utf8_lossy(&cmdline).contains(needle)
            })
            .collect()
    }
}

impl Monitor {
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the output contains `needle`; panics with the output after `within`.
    #[track_caller]
    pub fn wait_for(&self, needle: &str, within: Duration) {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if self.output().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {needle:?} within {within:?}; output:\n{}", self.output());
    }

    /// Waits for the monitor to exit: its status and when.
    #[track_caller]
    pub fn exit(&mut self, within: Duration) -> (Option<i32>, Instant) {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                let at = Instant::now();
                std::thread::sleep(Duration::from_millis(50)); // the readers' last lines
                return (status.code(), at);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the monitor did not exit within {within:?}; output:\n{}", self.output());
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// The pids of processes talking to this monitor's engine (its `docker events`).
    pub fn engine_clients(&self) -> Vec<i32> {
        let needle = format!("DOCKER_HOST={}", self.host);
        fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid != self.child.id() as i32)
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
            })
            .filter(|pid| super::alive(*pid))
            .collect()
    }

    /// The last ERROR line.
    pub fn error_line(&self) -> String {
        self.output().lines().rev().find(|l| l.contains(" ERROR ")).unwrap_or("").to_owned()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

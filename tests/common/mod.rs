//! The shared harness of the integration tests: a temporary node with fake `systemctl`,
//! `journalctl` and master scripts, and a builder that runs the real binary against it.
//! The fakes are shell scripts under `tests/fakes/`, each listing its knobs in its header;
//! they find the node's directories through the environment every run gets (FAKE_SYSTEMD,
//! EVA_TEST_MASTER, FAKE_ENGINE_ROOT, FAKE_CLPLOGCMD_LOG).
//!
//! `Test::new()` lays out, under one temporary directory:
//! - `bin/`: first on PATH; holds the fake `systemctl` and `journalctl`
//!   (tests/fakes/systemctl, tests/fakes/journalctl)
//!   and whatever a test adds with `write_executable("bin/…")`;
//! - `systemd/`: the fake's unit states (`<unit>.state`) and knobs (`<unit>.fail`, …), and
//!   `calls`, one line per systemctl invocation;
//! - `eva/`: the install directory, with stand-in master scripts that record what they got
//!   in `master/`;
//! - `configuration.json` with a worker token, and `eva-ha.toml` pointing at all of it;
//! - `docker/` and `podman/`, once a test asks for a fake container runtime with
//!   [`Test::fake_docker`] / [`Test::fake_podman`] (tests/fakes/engine).
//!
//! A test is built with the builder methods, then either `run()` (wait for the end, with a
//! watchdog) or `launch()` (a [`Running`] process to signal and wait for). `fork()` gives a
//! second builder on the same node, for a run alongside another.
#![allow(dead_code)]

pub mod engine;
pub mod https;

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal;

pub const BIN: &str = env!("CARGO_BIN_EXE_eva-ha");
pub const TOKEN: &str = "tok-SECRET-4f1c";
pub const UNITS: [&str; 3] = ["docker", "mongod.service", "postgresql-9.5.service"];
/// The unit ids the fake keeps state under.
pub const IDS: [&str; 3] = ["docker.service", "mongod.service", "postgresql-9.5.service"];
/// What `systemctl start` / `stop` get for the default units.
pub const START_CALL: &str = "start -- docker mongod.service postgresql-9.5.service";
pub const STOP_CALL: &str = "stop -- docker mongod.service postgresql-9.5.service";
/// Longest any run may take before the harness kills it and fails the test.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// tests/fakes/systemctl; its header lists its knobs.
const FAKE_SYSTEMCTL: &str = include_str!("../fakes/systemctl");

/// tests/fakes/journalctl; its header lists its knobs.
const FAKE_JOURNALCTL: &str = include_str!("../fakes/journalctl");

/// tests/fakes/start-master-rhel.sh; its header lists its knobs.
const START_SCRIPT: &str = include_str!("../fakes/start-master-rhel.sh");

/// tests/fakes/stop-master.sh; its header lists its knobs.
const STOP_SCRIPT: &str = include_str!("../fakes/stop-master.sh");

/// tests/fakes/clplogcmd; its header lists its knobs.
const FAKE_CLPLOGCMD: &str = include_str!("../fakes/clplogcmd");

/// tests/fakes/engine; its header lists its knobs.
const FAKE_ENGINE: &str = include_str!("../fakes/engine");

/// Held while a fake is written and while a child is forked. A child forked by another
/// test's thread while a fake is still open for writing keeps a copy of that descriptor
/// until it execs, and running the fake meanwhile fails with ETXTBSY ("Text file busy").
static FORKING: Mutex<()> = Mutex::new(());

pub struct Test {
    pub tmp: Arc<tempfile::TempDir>,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    invoke_as: Option<String>,
}

/// What a run left behind; it owns the test, so the node stays until the run is dropped
/// (`run.test` runs again on the same node).
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub root: PathBuf,
    pub test: Test,
}

impl Test {
    pub fn new() -> Test {
        let tmp = tempfile::tempdir().unwrap();
        let t = Test { tmp: Arc::new(tmp), args: Vec::new(), env: Vec::new(), invoke_as: None };
        let root = t.root().to_owned();
        let t = t
            .write_executable("bin/systemctl", FAKE_SYSTEMCTL)
            .write_executable("bin/journalctl", FAKE_JOURNALCTL)
            .write_executable("eva/start-master-rhel.sh", START_SCRIPT)
            .write_executable("eva/stop-master.sh", STOP_SCRIPT)
            .write("configuration.json", &format!("{{\"masterIp\": \"10.0.0.1\", \"workerToken\": \"{TOKEN}\"}}\n"))
            .write(
                "eva-ha.toml",
                &format!(
                    "install_dir = \"{r}/eva\"\nworker_config = \"{r}/configuration.json\"\nlock_file = \"{r}/eva-ha.lock\"\n",
                    r = root.display()
                ),
            );
        fs::create_dir_all(root.join("systemd")).unwrap();
        fs::create_dir_all(root.join("master")).unwrap();
        t
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(self, rel: &str, content: &str) -> Test {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        self
    }

    pub fn write_executable(self, rel: &str, content: &str) -> Test {
        // No child may be forked while the file is open for writing (see FORKING).
        let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
        let t = self.write(rel, content);
        fs::set_permissions(t.path(rel), fs::Permissions::from_mode(0o755)).unwrap();
        t
    }

    pub fn remove(self, rel: &str) -> Test {
        let _ = fs::remove_file(self.path(rel));
        self
    }

    /// Sets a file's permission bits: `mode("eva/start-master-rhel.sh", 0o644)`.
    pub fn mode(self, rel: &str, mode: u32) -> Test {
        fs::set_permissions(self.path(rel), fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    /// Sets `key` in eva-ha.toml to `value` (TOML text: `"raw"`, `1.5`), replacing it if set.
    pub fn config(self, key: &str, value: &str) -> Test {
        let text = self.without_config_text(key) + &format!("{key} = {value}\n");
        self.write("eva-ha.toml", &text)
    }

    /// Removes `key` from eva-ha.toml.
    pub fn unset_config(self, key: &str) -> Test {
        let text = self.without_config_text(key);
        self.write("eva-ha.toml", &text)
    }

    fn without_config_text(&self, key: &str) -> String {
        let text = fs::read_to_string(self.path("eva-ha.toml")).unwrap();
        let is_key = |line: &str| line.split_once('=').is_some_and(|(k, _)| k.trim() == key);
        text.lines().filter(|l| !is_key(l)).map(|l| format!("{l}\n")).collect()
    }

    /// Writes configuration.json with `workerToken` set to `json`, the value's JSON text as
    /// it appears in the file (`"abc"`, `null`, `42`).
    pub fn worker_token_json(self, json: &str) -> Test {
        self.write("configuration.json", &format!("{{\"masterIp\": \"10.0.0.1\", \"workerToken\": {json}}}\n"))
    }

    /// Installs a fake `clplogcmd` on PATH; [`Run::alerts`] returns its calls.
    pub fn clplogcmd(self) -> Test {
        self.write_executable("bin/clplogcmd", FAKE_CLPLOGCMD)
    }

    /// Installs a fake `docker` on PATH (tests/fakes/engine), with an engine that answers
    /// (version 27.5.1) and, until scripted otherwise, no events.
    pub fn fake_docker(self) -> Test {
        self.fake_engine("docker", "27.5.1")
    }

    /// Installs a fake `podman` on PATH, like [`Test::fake_docker`] (version 4.9.3).
    pub fn fake_podman(self) -> Test {
        self.fake_engine("podman", "4.9.3")
    }

    fn fake_engine(self, name: &str, version: &str) -> Test {
        fs::create_dir_all(self.path(&format!("{name}/inspect"))).unwrap();
        self.write_executable(&format!("bin/{name}"), FAKE_ENGINE).write(&format!("{name}/version"), &format!("{version}\n"))
    }

    /// What the `n`th event subscription of the fake `engine` (`docker`, `podman`) prints,
    /// one line each; afterwards it waits, unless [`Test::events_end`].
    pub fn events(self, engine: &str, n: usize, lines: &[&str]) -> Test {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.write(&format!("{engine}/events-{n}"), &text)
    }

    /// What the `n`th `docker events` prints (see [`Test::events`]).
    pub fn docker_events(self, n: usize, lines: &[&str]) -> Test {
        self.events("docker", n, lines)
    }

    /// Lines the `n`th `docker events` prints on stderr.
    pub fn docker_events_stderr(self, n: usize, lines: &[&str]) -> Test {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.write(&format!("docker/events-{n}.stderr"), &text)
    }

    /// Every `docker events` fails at once with `message`, while `version` answers.
    pub fn docker_events_fail(self, message: &str) -> Test {
        self.write("docker/events.fail", &format!("{message}\n"))
    }

    /// The `n`th subscription of `engine` ends after its lines, with exit status `status`.
    pub fn events_end(self, engine: &str, n: usize, status: i32) -> Test {
        self.write(&format!("{engine}/events-{n}.end"), &status.to_string())
    }

    /// The `n`th `docker events` ends after its lines, and the engine is unreachable for
    /// the next `failed_pings` `docker version` calls.
    pub fn docker_events_end_down(self, n: usize, failed_pings: usize) -> Test {
        self.events_end("docker", n, 1).write(&format!("docker/events-{n}.down"), &failed_pings.to_string())
    }

    /// What the fake `engine`'s `inspect` prints for container `id` (a JSON object).
    pub fn inspect(self, engine: &str, id: &str, json: &str) -> Test {
        self.write(&format!("{engine}/inspect/{id}.json"), json)
    }

    pub fn docker_inspect(self, id: &str, json: &str) -> Test {
        self.inspect("docker", id, json)
    }

    /// `docker inspect` fails for every container (permission denied).
    pub fn docker_inspect_fails(self) -> Test {
        self.write("docker/inspect.fail", "")
    }

    /// The containers `docker ps --all … --filter status=exited` lists.
    pub fn docker_ps(self, ids: &[&str]) -> Test {
        let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
        self.write("docker/ps", &text)
    }

    /// The docker engine does not answer, ever.
    pub fn docker_down(self) -> Test {
        self.write("docker/down", "")
    }

    /// Sets a fake-systemctl knob or state: `unit("mongod.service", "fail", "")`.
    pub fn unit(self, id: &str, knob: &str, content: &str) -> Test {
        let rel = format!("systemd/{id}.{knob}");
        self.write(&rel, content)
    }

    /// Marks units as already running.
    pub fn active(self, ids: &[&str]) -> Test {
        ids.iter().fold(self, |t, id| t.unit(id, "state", "active\n"))
    }

    pub fn arg(mut self, arg: &str) -> Test {
        self.args.push(arg.into());
        self
    }

    pub fn args(self, args: &[&str]) -> Test {
        args.iter().fold(self, |t, a| t.arg(a))
    }

    /// Forgets the arguments given so far (for a second run on the same node).
    pub fn clear_args(mut self) -> Test {
        self.args.clear();
        self
    }

    /// A builder for the same node (same directory, arguments, environment and name), to run
    /// alongside this one; the directory lives until the last of them is dropped.
    pub fn fork(&self) -> Test {
        Test { tmp: Arc::clone(&self.tmp), args: self.args.clone(), env: self.env.clone(), invoke_as: self.invoke_as.clone() }
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs the binary through a link with this name (`eva-start`) instead of `eva-ha`.
    pub fn invoked_as(mut self, name: &str) -> Test {
        self.invoke_as = Some(name.to_owned());
        self
    }

    pub fn command(&self) -> Command {
        let program = match &self.invoke_as {
            Some(name) => {
                let link = self.path(&format!("links/{name}"));
                fs::create_dir_all(link.parent().unwrap()).unwrap();
                let _ = fs::remove_file(&link);
                std::os::unix::fs::symlink(BIN, &link).unwrap();
                link
            }
            None => PathBuf::from(BIN),
        };
        let mut cmd = Command::new(program);
        let path = format!("{}:{}", self.path("bin").display(), std::env::var("PATH").unwrap_or_default());
        cmd.args(&self.args)
            .env("PATH", path)
            .env("FAKE_SYSTEMD", self.path("systemd"))
            .env("EVA_TEST_MASTER", self.path("master"))
            .env("FAKE_ENGINE_ROOT", self.root())
            .env("FAKE_CLPLOGCMD_LOG", self.path("clplogcmd.log"))
            .env("EVA_HA_CONFIG", self.path("eva-ha.toml"))
            .env_remove("EVA_HA_LOG_FORMAT")
            .stdin(Stdio::null());
        for var in ["CLP_EVENT", "CLP_SERVER", "CLP_DISK", "CLP_FACTOR", "CLP_GROUPNAME", "CLP_RESOURCENAME"] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn spawn(&self) -> Child {
        let mut cmd = self.command();
        let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Starts the binary without waiting for it; its output is collected as it comes.
    pub fn launch(self) -> Running {
        let started = Instant::now();
        let mut child = self.spawn();
        // Each pipe is read into a buffer shared with the test as it comes, so that a test
        // can wait for a line while the run goes on.
        let collect = |mut pipe: Box<dyn Read + Send>| {
            let live = Arc::new(Mutex::new(Vec::new()));
            let shared = Arc::clone(&live);
            let handle = std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => shared.lock().unwrap().extend_from_slice(&chunk[..n]),
                    }
                }
                shared.lock().unwrap().clone()
            });
            (handle, live)
        };
        let (stdout, live_stdout) = collect(Box::new(child.stdout.take().unwrap()));
        let (stderr, _) = collect(Box::new(child.stderr.take().unwrap()));
        Running { child, started, stdout: Some(stdout), stderr: Some(stderr), live_stdout, reaped: false, test: self }
    }

    /// Runs to the end (at most [`WATCHDOG`]).
    pub fn run(self) -> Run {
        self.launch().wait(WATCHDOG)
    }

    /// Runs and asserts the exit status.
    pub fn status(self, code: i32) -> Run {
        let run = self.run();
        assert_eq!(run.code, Some(code), "exit status\n{}", run.dump());
        run
    }

    pub fn success(self) -> Run {
        self.status(0)
    }
}

/// A run in progress, from [`Test::launch`]. Dropped without [`Running::wait`] (a test
/// that panicked), it is stopped: SIGTERM, so that it takes its children down, then SIGKILL.
pub struct Running {
    pub child: Child,
    started: Instant,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// What the run printed on stdout so far.
    live_stdout: Arc<Mutex<Vec<u8>>>,
    reaped: bool,
    pub test: Test,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` to the binary (only to it, not to its children).
    pub fn signal(&self, signal: Signal) -> &Running {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal).unwrap();
        self
    }

    /// Waits until `master/<name>` exists (at most 10 s); panics, stopping the run, if not.
    pub fn wait_master(&mut self, name: &str) -> &mut Running {
        let path = self.test.path("master").join(name);
        if !wait_for(&path, Duration::from_secs(10)) {
            let status = self.stop();
            let run = self.finish(status);
            panic!("master/{name} never appeared\n{}", run.dump());
        }
        self
    }

    /// What the run printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        String::from_utf8_lossy(&self.live_stdout.lock().unwrap()).into_owned()
    }

    /// Waits until stdout contains `needle` (at most `within`); panics, stopping the run,
    /// if it does not, or if the run ends first.
    pub fn wait_stdout(&mut self, needle: &str, within: Duration) -> &mut Running {
        let until = Instant::now() + within;
        loop {
            if self.stdout_so_far().contains(needle) {
                return self;
            }
            let ended = self.child.try_wait().unwrap();
            if ended.is_some() || Instant::now() >= until {
                let status = match ended {
                    Some(status) => {
                        self.reaped = true;
                        status
                    }
                    None => self.stop(),
                };
                let run = self.finish(status);
                let why = if ended.is_some() { "the run ended" } else { "timed out" };
                panic!("stdout never had {needle:?} ({why})\n{}", run.dump());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the binary still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the end, at most `within`; panics, stopping the run, if it takes longer.
    pub fn wait(mut self, within: Duration) -> Run {
        let until = self.started + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.reaped = true;
                return self.finish(status);
            }
            if Instant::now() >= until {
                let status = self.stop();
                let run = self.finish(status);
                panic!("still running after {within:?}: stopped\n{}", run.dump());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, up to 8 s to clean up, then SIGKILL.
    fn stop(&mut self) -> ExitStatus {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(8);
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.reaped = true;
                return status;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        self.reaped = true;
        self.child.wait().unwrap()
    }

    fn finish(&mut self, status: ExitStatus) -> Run {
        let elapsed = self.started.elapsed();
        let stdout = self.stdout.take().map(|h| h.join().unwrap()).unwrap_or_default();
        let stderr = self.stderr.take().map(|h| h.join().unwrap()).unwrap_or_default();
        Run::from_output(Output { status, stdout, stderr }, elapsed, self.test.fork())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            self.stop();
        }
    }
}

impl Run {
    pub fn from_output(out: Output, elapsed: Duration, test: Test) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
            root: test.root().to_owned(),
            test,
        }
    }

    pub fn dump(&self) -> String {
        let mut dump = format!("--- stdout\n{}--- stderr\n{}--- calls\n{}", self.stdout, self.stderr, self.calls().join("\n"));
        for engine in ["docker", "podman"] {
            if self.root.join(engine).exists() {
                let calls: Vec<String> = self.engine_calls(engine).iter().map(|c| c.join(" ")).collect();
                dump.push_str(&format!("\n--- {engine} calls\n{}", calls.join("\n")));
            }
        }
        dump
    }

    /// The invocations of the fake `engine` (`docker`, `podman`), each as its arguments.
    pub fn engine_calls(&self, engine: &str) -> Vec<Vec<String>> {
        fs::read_to_string(self.root.join(engine).join("calls"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.strip_suffix('\x1f').unwrap_or(l).split('\x1f').map(str::to_owned).collect())
            .collect()
    }

    /// The invocations of the fake docker.
    pub fn docker_calls(&self) -> Vec<Vec<String>> {
        self.engine_calls("docker")
    }

    /// The fake docker's invocations of `verb` (`events`, `inspect`, `version`, `ps`).
    pub fn docker_calls_of(&self, verb: &str) -> Vec<Vec<String>> {
        self.docker_calls().into_iter().filter(|c| c.first().is_some_and(|v| v == verb)).collect()
    }

    /// The systemctl invocations, one per line (`start -- docker mongod.service …`).
    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.root.join("systemd/calls")).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// The calls that change something (not show/is-active).
    pub fn changes(&self) -> Vec<String> {
        self.calls().into_iter().filter(|c| !c.starts_with("show") && !c.starts_with("is-active")).collect()
    }

    pub fn state(&self, id: &str) -> String {
        fs::read_to_string(self.root.join(format!("systemd/{id}.state"))).map_or("inactive".into(), |s| s.trim().to_owned())
    }

    pub fn master(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.root.join("master").join(name)).ok()
    }

    pub fn master_bytes(&self, name: &str) -> Option<Vec<u8>> {
        fs::read(self.root.join("master").join(name)).ok()
    }

    /// The pids written in a file under the node's directory (`master/child.pid`).
    pub fn pids(&self, rel: &str) -> Vec<i32> {
        let text = fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}\n{}", self.dump()));
        text.split_whitespace().map(|p| p.parse().unwrap()).collect()
    }

    /// Asserts that the processes whose pids are in `rel` are all gone.
    pub fn assert_gone(&self, rel: &str) -> &Run {
        let pids = self.pids(rel);
        assert!(!pids.is_empty(), "no pid in {rel}");
        for pid in pids {
            assert!(!alive(pid), "process {pid} from {rel} is still running\n{}", self.dump());
        }
        self
    }

    /// The calls of the fake clplogcmd, each as its argument list.
    pub fn alerts(&self) -> Vec<Vec<String>> {
        let text = fs::read_to_string(self.root.join("clplogcmd.log")).unwrap_or_default();
        text.split('\x1e')
            .filter(|c| !c.is_empty())
            .map(|c| c.strip_suffix('\x1f').unwrap_or(c).split('\x1f').map(str::to_owned).collect())
            .collect()
    }

    /// The number of lines in `master/stop.count`: how often the stop script ran.
    pub fn stop_script_runs(&self) -> usize {
        self.master("stop.count").map_or(0, |s| s.lines().count())
    }

    /// The error line `main` printed: the last ERROR line of stdout.
    pub fn error_line(&self) -> &str {
        self.stdout.lines().rev().find(|l| l.contains(" ERROR ")).unwrap_or("")
    }

    pub fn assert_stdout_contains(&self, needle: &str) -> &Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{}", self.dump());
        self
    }

    pub fn assert_stdout_lacks(&self, needle: &str) -> &Run {
        assert!(!self.stdout.contains(needle), "stdout has {needle:?}\n{}", self.dump());
        self
    }

    /// The run ended with one error line, the last line of stdout, from `name`
    /// (`eva-start`) and containing each of `needles`; nothing went to stderr, and the
    /// token appears nowhere.
    pub fn assert_error(&self, name: &str, needles: &[&str]) -> &Run {
        let last = self.stdout.lines().last().unwrap_or("");
        assert!(last.contains(&format!(" ERROR {name}: ")), "last line is not {name}'s error line\n{}", self.dump());
        for needle in needles {
            assert!(last.contains(needle), "error line lacks {needle:?}: {last}\n{}", self.dump());
        }
        assert_eq!(self.stderr, "", "stderr\n{}", self.dump());
        self.assert_token_hidden()
    }

    /// Nothing was changed: no systemctl start, stop or reset-failed, no master script run.
    pub fn assert_untouched(&self) -> &Run {
        assert_eq!(self.changes(), Vec::<String>::new(), "{}", self.dump());
        assert_eq!(self.master("argc"), None, "the start script ran\n{}", self.dump());
        assert_eq!(self.stop_script_runs(), 0, "the stop script ran\n{}", self.dump());
        self
    }

    /// Each default unit is in `state` (`active`, `inactive`).
    pub fn assert_states(&self, state: &str) -> &Run {
        for id in IDS {
            assert_eq!(self.state(id), state, "{id}\n{}", self.dump());
        }
        self
    }

    pub fn assert_elapsed_below(&self, limit: Duration) -> &Run {
        assert!(self.elapsed < limit, "took {:?}, limit {limit:?}\n{}", self.elapsed, self.dump());
        self
    }

    /// No trace of the worker token anywhere we print.
    pub fn assert_token_hidden(&self) -> &Run {
        for out in [&self.stdout, &self.stderr] {
            assert!(!out.contains(TOKEN), "token leaked\n{}", self.dump());
        }
        self
    }
}

/// True when the process `pid` still exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s.rsplit(')').next().unwrap_or("").split_whitespace().next().unwrap_or("");
        state != "Z"
    })
}

/// Waits until `path` exists, at most `within`.
pub fn wait_for(path: &Path, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Under CI a missing prerequisite fails the test; elsewhere the test is skipped, loudly.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") || std::env::var("EVA_HA_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("prerequisite missing: {what} (CI=true: failing instead of skipping)");
    }
    eprintln!("SKIPPED: prerequisite missing: {what}");
    false
}

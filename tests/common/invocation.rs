//! The invocation: one run of the real binary against a [`Node`], with its argv, its
//! environment and the name it is invoked as; then either [`Test::run`] (wait for the end,
//! with a watchdog), [`Test::status`] / [`Test::success`] (and expect an exit status), or
//! [`Test::launch`] (a [`Running`] process to signal and wait for). [`Test::fork`] gives a
//! second builder on the same node, for a run alongside another.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::node::FORKING;
use super::{BIN, Node, Run, WATCHDOG, wait_for};

/// The cluster's environment for a script resource, which a test must set itself.
const CLUSTER_VARIABLES: [&str; 6] = ["CLP_EVENT", "CLP_SERVER", "CLP_DISK", "CLP_FACTOR", "CLP_GROUPNAME", "CLP_RESOURCENAME"];

/// A run of the binary on a node, being put together; its builder methods for the node are
/// in [`super::node`], those for the command line here.
#[must_use = "a Test does nothing until it is run (run, status, success, launch)"]
pub struct Test {
    pub node: Node,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    unset: Vec<String>,
    invoke_as: Option<String>,
    /// Words before the binary (`nsenter … --`), from [`Test::within`].
    prefix: Vec<String>,
}

impl Test {
    /// A run on a new [`Node`], without arguments.
    pub fn new() -> Test {
        Test { node: Node::new(), args: Vec::new(), env: Vec::new(), unset: Vec::new(), invoke_as: None, prefix: Vec::new() }
    }

    #[must_use = "a builder method returns the builder"]
    pub fn arg(mut self, arg: &str) -> Test {
        self.args.push(arg.into());
        self
    }

    #[must_use = "a builder method returns the builder"]
    pub fn args(self, args: &[&str]) -> Test {
        args.iter().fold(self, |t, a| t.arg(a))
    }

    /// Forgets the arguments given so far (for a second run on the same node).
    #[must_use = "a builder method returns the builder"]
    pub fn clear_args(mut self) -> Test {
        self.args.clear();
        self
    }

    /// A builder for the same node (same directory, arguments, environment and name), to run
    /// alongside this one; the directory lives until the last of them is dropped.
    pub fn fork(&self) -> Test {
        Test {
            node: self.node.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            unset: self.unset.clone(),
            invoke_as: self.invoke_as.clone(),
            prefix: self.prefix.clone(),
        }
    }

    /// Sets an environment variable for the run (after the node's: this one wins).
    #[must_use = "a builder method returns the builder"]
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Leaves a variable of the node's environment out of the run (as a caller that does not
    /// set it would).
    #[must_use = "a builder method returns the builder"]
    pub fn without_env(mut self, key: &str) -> Test {
        self.unset.push(key.to_owned());
        self
    }

    /// Runs the binary as `eva-ha` again (after [`Test::invoked_as`] on a fork).
    #[must_use = "a builder method returns the builder"]
    pub fn invoked_as_multi(mut self) -> Test {
        self.invoke_as = None;
        self
    }

    /// Runs the binary behind `prefix` (a [`super::PidNamespace::prefix`]).
    #[must_use = "a builder method returns the builder"]
    pub fn within(mut self, prefix: Vec<String>) -> Test {
        self.prefix = prefix;
        self
    }

    /// Runs the binary through a link with this name (`eva-start`) instead of `eva-ha`.
    #[must_use = "a builder method returns the builder"]
    pub fn invoked_as(mut self, name: &str) -> Test {
        self.invoke_as = Some(name.to_owned());
        self
    }

    /// The command: the binary (or a link to it named as [`Test::invoked_as`] says, behind
    /// [`Test::within`]'s prefix), the arguments, the node's environment (see
    /// [`Node::environment`]) and then the test's, stdin from /dev/null.
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
        // What runs first: the test's prefix (`nsenter … --`), then RHEL 7.5's kernel.
        let words: Vec<OsString> = self
            .prefix
            .iter()
            .map(OsString::from)
            .chain(kernel_wrapper().map(OsString::from))
            .chain([program.into_os_string()])
            .collect();
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]);
        cmd.args(&self.args).envs(self.node.environment()).env_remove("EVA_HA_LOG_FORMAT").stdin(Stdio::null());
        for var in CLUSTER_VARIABLES {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for k in &self.unset {
            cmd.env_remove(k);
        }
        cmd
    }

    pub fn spawn(&self) -> Child {
        let mut cmd = self.command();
        let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Starts the binary without waiting for it; its output is collected as it comes.
    #[track_caller]
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
    #[track_caller]
    pub fn run(self) -> Run {
        self.launch().wait(WATCHDOG)
    }

    /// Runs and asserts the exit status.
    #[track_caller]
    pub fn status(self, code: i32) -> Run {
        let run = self.run();
        assert_eq!(run.code, Some(code), "exit status\n{}", run.dump());
        run
    }

    #[track_caller]
    pub fn success(self) -> Run {
        self.status(0)
    }
}

/// A run in progress, from [`Test::launch`]. Dropped without [`Running::wait`] (a test
/// that panicked), it is stopped: SIGTERM, so that it takes its children down, then SIGKILL.
#[must_use = "dropping a Running stops the run"]
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
    #[track_caller]
    pub fn signal(&self, signal: Signal) -> &Running {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal).unwrap();
        self
    }

    /// Waits until `master/<name>` exists (at most 10 s); panics, stopping the run, if not.
    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
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

/// `EVA_TEST_KERNEL=3.10`: every run goes through scripts/kernel-3.10.py, which refuses the
/// system calls Linux added after 3.10 as RHEL 7.5's kernel does (scripts/test.sh runs the
/// fake-node suites so once).
fn kernel_wrapper() -> Option<PathBuf> {
    match std::env::var("EVA_TEST_KERNEL").ok()?.as_str() {
        "3.10" => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/kernel-3.10.py")),
        other => panic!("EVA_TEST_KERNEL={other}: only 3.10 is modelled"),
    }
}

//! The shared harness of the integration tests: a temporary node with fake `systemctl`,
//! `journalctl` and master scripts, and a builder that runs the real binary against it.
//!
//! `Test::new()` lays out, under one temporary directory:
//! - `bin/`: first on PATH; holds the fake `systemctl` and `journalctl` (see FAKE_SYSTEMCTL)
//!   and whatever a test adds with `write_executable("bin/…")`;
//! - `systemd/`: the fake's unit states (`<unit>.state`) and knobs (`<unit>.fail`, …), and
//!   `calls`, one line per systemctl invocation;
//! - `eva/`: the install directory, with stand-in master scripts that record what they got
//!   in `master/`;
//! - `configuration.json` with a worker token, and `eva-ha.toml` pointing at all of it;
//! - `docker/` and `podman/`, once a test asks for a fake container runtime with
//!   [`Test::fake_docker`] / [`Test::fake_podman`] (see FAKE_ENGINE).
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

/// A fake systemctl keeping unit states in files. Knobs, per unit id (`docker.service`):
/// `.missing` (not installed), `.fail` (start fails), `.hang` (start hangs in activating),
/// `.stuck` (stop returns but the unit stays active), `.stophang` (stop hangs),
/// `.delay` (seconds a start takes). A hanging start or stop writes the fake's pid and its
/// sleeper's to `<id>.pids`, so that a test can check that both are gone afterwards.
const FAKE_SYSTEMCTL: &str = r#"#!/bin/sh
S="$FAKE_SYSTEMD"
echo "$*" >> "$S/calls"
verb=$1; shift
case "$1" in --property=*) shift ;; esac
[ "$1" = "--" ] && shift
id() { case "$1" in *.*) echo "$1" ;; *) echo "$1.service" ;; esac; }
state() { cat "$S/$(id "$1").state" 2>/dev/null || echo inactive; }
set_state() { echo "$2" > "$S/$(id "$1").state"; }
rc=0
for u in "$@"; do
  i=$(id "$u")
  case "$verb" in
    start)
      if [ -e "$S/$i.missing" ]; then echo "Failed to start $i: Unit $i not found." >&2; rc=5; continue; fi
      if [ -e "$S/$i.hang" ]; then set_state "$u" activating; sleep 1000 & echo "$$ $!" > "$S/$i.pids"; wait; fi
      [ -e "$S/$i.delay" ] && sleep "$(cat "$S/$i.delay")"
      if [ -e "$S/$i.fail" ]; then
        set_state "$u" failed
        echo "Job for $i failed because the control process exited with error code." >&2
        echo "See \"systemctl status $i\" and \"journalctl -xeu $i\" for details." >&2
        rc=1
      else
        set_state "$u" active
      fi ;;
    stop)
      if [ -e "$S/$i.missing" ]; then echo "Failed to stop $i: Unit $i not loaded." >&2; rc=5; continue; fi
      if [ -e "$S/$i.stophang" ]; then set_state "$u" deactivating; sleep 1000 & echo "$$ $!" > "$S/$i.pids"; wait; fi
      [ -e "$S/$i.stuck" ] && continue
      [ "$(state "$u")" = failed ] || set_state "$u" inactive ;;
    reset-failed)
      [ "$(state "$u")" = failed ] && set_state "$u" inactive ;;
    show)
      st=$(state "$u"); load=loaded; sub=running; res=success
      [ -e "$S/$i.missing" ] && load=not-found
      case "$st" in
        inactive) sub=dead ;; failed) sub=failed; res=exit-code ;;
        activating) sub=start ;; deactivating) sub=stop-sigterm ;;
      esac
      printf 'Id=%s\nLoadState=%s\nActiveState=%s\nSubState=%s\nResult=%s\n\n' "$i" "$load" "$st" "$sub" "$res" ;;
    is-active)
      [ "$(state "$u")" = active ] || rc=3 ;;
    *) echo "fake systemctl: unsupported verb $verb" >&2; exit 64 ;;
  esac
done
exit $rc
"#;

const FAKE_JOURNALCTL: &str = r#"#!/bin/sh
for last; do :; done
echo "2026-11-25T10:00:00+0000 node fake[1]: journal line 1 of $last"
echo "2026-11-25T10:00:01+0000 node fake[1]: journal line 2 of $last"
"#;

/// The stand-in start script: checks the units are active (as EVA's would need), records
/// its arguments byte for byte, echoes them (so tests can see the token masked), and
/// honours `master/start.exit`, `master/start.sleep` (sleep that long, with a background
/// child, pids in `child.pid` and `script.pid`), `master/start.hold` (wait until
/// `master/release` exists; `holding` says it is waiting) and `master/start.daemon` (leave a
/// background process running, pid in `daemon.pid`, as EVA's script leaves containers).
const START_SCRIPT: &str = r#"#!/bin/sh
M="$EVA_TEST_MASTER"
for u in docker mongod.service postgresql-9.5.service; do
  systemctl is-active -- "$u" || { echo "$u is not active" >&2; exit 9; }
done
printf '%s' "$#" > "$M/argc"
printf '%s' "$1" > "$M/arg1"
pwd > "$M/cwd"
printf 'start-master: got %s\n' "$1"
printf 'start-master: to stderr %s\n' "$1" >&2
if [ -e "$M/start.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  echo $$ > "$M/script.pid"
  touch "$M/sleeping"
  sleep "$(cat "$M/start.sleep")"
fi
if [ -e "$M/start.hold" ]; then
  touch "$M/holding"
  while [ ! -e "$M/release" ]; do [ -d "$M" ] || exit 1; sleep 0.05; done
fi
if [ -e "$M/start.daemon" ]; then
  sleep 60 > /dev/null 2>&1 &
  echo $! > "$M/daemon.pid"
fi
touch "$M/started"
exit "$(cat "$M/start.exit" 2>/dev/null || echo 0)"
"#;

/// The stand-in stop script: counts its runs in `master/stop.count`, records in
/// `master/stop.saw` which units were active when it ran, and honours `master/stop.exit`
/// and `master/stop.sleep` (pids in `child.pid` and `stop.pid`).
const STOP_SCRIPT: &str = r#"#!/bin/sh
M="$EVA_TEST_MASTER"
echo "stop-master: stopping"
echo x >> "$M/stop.count"
for u in docker mongod.service postgresql-9.5.service; do
  systemctl is-active -- "$u" && printf '%s ' "$u" >> "$M/stop.saw"
done
echo >> "$M/stop.saw"
if [ -e "$M/stop.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  echo $$ > "$M/stop.pid"
  touch "$M/sleeping"
  sleep "$(cat "$M/stop.sleep")"
fi
rm -f "$M/started"
exit "$(cat "$M/stop.exit" 2>/dev/null || echo 0)"
"#;

/// A fake `clplogcmd` (installed by [`Test::clplogcmd`]): each call appends its arguments,
/// each ended by 0x1f, and then 0x1e, to the file named in the script.
const FAKE_CLPLOGCMD: &str = r#"#!/bin/sh
printf '%s\037' "$@" >> "@LOG@"
printf '\036' >> "@LOG@"
"#;

/// A fake container runtime client, installed as `bin/docker` by [`Test::fake_docker`] and
/// as `bin/podman` by [`Test::fake_podman`]; it is scripted by the files under `<name>/`
/// (`docker/` or `podman/`) in the node's directory:
/// - `calls`: each invocation's argv, one line each, every argument ended by 0x1f;
/// - `version`: what `version` prints. Absent, or `down` present: "cannot connect" on
///   stderr, exit 1. A number in `down` is how many more calls fail before the engine is
///   back (then `down` is removed); an empty `down` fails them all;
/// - `events-N`: the lines the Nth `events` prints on stdout (`events-N.stderr` on stderr;
///   each subscription's pid goes to `events.pids`);
///   then it waits (until killed, or the node's directory is gone), unless `events-N.end`
///   exists: then it exits with the status that file holds (0 when empty), first copying
///   `events-N.down` to `down` when there is one (the engine went away with it);
/// - `events.fail`: every `events` prints this on stderr and exits 1 at once (a daemon that
///   answers `version` but refuses the subscription);
/// - `inspect/<ID>.json`: the object `inspect` prints for that id, in a JSON array with the
///   others asked for; an id without one is "No such object" on stderr and exit 1.
///   `inspect.fail`: exit 1, "permission denied" on stderr, nothing on stdout;
/// - `ps`: what `ps` prints (ids, one a line); nothing when absent.
const FAKE_ENGINE: &str = r#"#!/bin/sh
name=${0##*/}
D='@ROOT@'/$name
[ -d "$D" ] || exit 70
record=$(printf '%s\037' "$@")
printf '%s\n' "$record" >> "$D/calls"
unreachable() {
  if [ "$name" = podman ]; then
    echo 'Error: unable to connect to Podman socket: dial unix /run/podman/podman.sock: connect: no such file or directory' >&2
  else
    echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2
  fi
  exit 1
}
case "$1" in
version)
  if [ -e "$D/down" ]; then
    left=$(cat "$D/down")
    if [ -n "$left" ]; then
      if [ "$left" -le 1 ]; then rm -f "$D/down"; else echo $((left - 1)) > "$D/down"; fi
    fi
    unreachable
  fi
  [ -e "$D/version" ] || unreachable
  cat "$D/version" ;;
events)
  [ -e "$D/down" ] && unreachable
  n=$(( $(cat "$D/events.count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$D/events.count"
  echo $$ >> "$D/events.pids"
  if [ -e "$D/events.fail" ]; then cat "$D/events.fail" >&2; exit 1; fi
  [ -e "$D/events-$n.stderr" ] && cat "$D/events-$n.stderr" >&2
  [ -e "$D/events-$n" ] && cat "$D/events-$n"
  if [ -e "$D/events-$n.end" ]; then
    [ -e "$D/events-$n.down" ] && cp "$D/events-$n.down" "$D/down"
    code=$(cat "$D/events-$n.end")
    exit "${code:-0}"
  fi
  while [ -d "$D" ]; do sleep 0.2; done ;;
inspect)
  shift
  [ "$1" = --type ] && shift 2
  if [ -e "$D/inspect.fail" ]; then
    echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: connect: permission denied' >&2
    exit 1
  fi
  rc=0
  sep=
  printf '['
  for id; do
    if [ -e "$D/inspect/$id.json" ]; then
      printf '%s' "$sep"
      cat "$D/inspect/$id.json"
      sep=,
    else
      echo "Error: No such object: $id" >&2
      rc=1
    fi
  done
  echo ']'
  exit $rc ;;
ps)
  [ -e "$D/ps" ] && cat "$D/ps"
  exit 0 ;;
*)
  echo "fake $name: unsupported command $1" >&2
  exit 64 ;;
esac
"#;

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
        let log = self.path("clplogcmd.log");
        self.write_executable("bin/clplogcmd", &FAKE_CLPLOGCMD.replace("@LOG@", log.to_str().unwrap()))
    }

    /// Installs a fake `docker` on PATH (see FAKE_ENGINE), with an engine that answers
    /// (version 27.5.1) and, until scripted otherwise, no events.
    pub fn fake_docker(self) -> Test {
        self.fake_engine("docker", "27.5.1")
    }

    /// Installs a fake `podman` on PATH, like [`Test::fake_docker`] (version 4.9.3).
    pub fn fake_podman(self) -> Test {
        self.fake_engine("podman", "4.9.3")
    }

    fn fake_engine(self, name: &str, version: &str) -> Test {
        let script = FAKE_ENGINE.replace("@ROOT@", self.root().to_str().unwrap());
        fs::create_dir_all(self.path(&format!("{name}/inspect"))).unwrap();
        self.write_executable(&format!("bin/{name}"), &script).write(&format!("{name}/version"), &format!("{version}\n"))
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

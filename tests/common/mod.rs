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
//! - `configuration.json` with a worker token, and `eva-ha.toml` pointing at all of it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_eva-ha");
pub const TOKEN: &str = "tok-SECRET-4f1c";
pub const UNITS: [&str; 3] = ["docker", "mongod.service", "postgresql-9.5.service"];

/// A fake systemctl keeping unit states in files. Knobs, per unit id (`docker.service`):
/// `.missing` (not installed), `.fail` (start fails), `.hang` (start hangs in activating),
/// `.stuck` (stop returns but the unit stays active), `.stophang` (stop hangs),
/// `.delay` (seconds a start takes).
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
      if [ -e "$S/$i.hang" ]; then set_state "$u" activating; sleep 1000; fi
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
      if [ -e "$S/$i.stophang" ]; then set_state "$u" deactivating; sleep 1000; fi
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
/// honours `master/start.exit` and `master/start.sleep`.
const START_SCRIPT: &str = r#"#!/bin/sh
M="$EVA_TEST_MASTER"
for u in docker mongod.service postgresql-9.5.service; do
  systemctl is-active -- "$u" || { echo "$u is not active" >&2; exit 9; }
done
printf '%s' "$#" > "$M/argc"
printf '%s' "$1" > "$M/arg1"
pwd > "$M/cwd"
echo "start-master: got $1"
echo "start-master: to stderr $1" >&2
if [ -e "$M/start.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  echo $$ > "$M/script.pid"
  touch "$M/sleeping"
  sleep "$(cat "$M/start.sleep")"
fi
touch "$M/started"
exit "$(cat "$M/start.exit" 2>/dev/null || echo 0)"
"#;

const STOP_SCRIPT: &str = r#"#!/bin/sh
M="$EVA_TEST_MASTER"
echo "stop-master: stopping"
echo x >> "$M/stop.count"
if [ -e "$M/stop.sleep" ]; then
  sleep 1000 &
  echo $! > "$M/child.pid"
  sleep "$(cat "$M/stop.sleep")"
fi
rm -f "$M/started"
exit "$(cat "$M/stop.exit" 2>/dev/null || echo 0)"
"#;

pub struct Test {
    pub tmp: tempfile::TempDir,
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
        let t = Test { tmp, args: Vec::new(), env: Vec::new(), invoke_as: None };
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
        let t = self.write(rel, content);
        fs::set_permissions(t.path(rel), fs::Permissions::from_mode(0o755)).unwrap();
        t
    }

    pub fn remove(self, rel: &str) -> Test {
        let _ = fs::remove_file(self.path(rel));
        self
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
        self.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    pub fn run(self) -> Run {
        let started = Instant::now();
        let out = self.command().output().unwrap();
        Run::from_output(out, started.elapsed(), self)
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
        format!("--- stdout\n{}--- stderr\n{}--- calls\n{}", self.stdout, self.stderr, self.calls().join("\n"))
    }

    /// The systemctl invocations, one per line (`start -- docker mongod.service …`).
    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.root.join("systemd/calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
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

    /// The error line `main` printed: the last ERROR line of stdout.
    pub fn error_line(&self) -> &str {
        self.stdout.lines().rev().find(|l| l.contains(" ERROR ")).unwrap_or("")
    }

    pub fn assert_stdout_contains(&self, needle: &str) -> &Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{}", self.dump());
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

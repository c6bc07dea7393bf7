//! The shared harness of the integration tests.
//!
//! - [`node`]: the fixture, a fake node in a temporary directory: the fake `systemctl`,
//!   `journalctl`, container runtime and `clplogcmd` first on PATH, stand-in master scripts,
//!   `configuration.json` and `eva-ha.toml`. The fakes are shell scripts under
//!   `tests/fakes/`, each listing its knobs in its header.
//! - [`invocation`]: a [`Test`], the builder of one run of the real binary against a node
//!   (argv, environment, the name it is invoked as), then either `run()` (wait for the end,
//!   with a watchdog) or `launch()` (a [`Running`] process to signal and wait for).
//! - [`run`]: what a run left behind ([`Run`]) and the expectations on it; [`Argv`] reads a
//!   fake's recorded arguments by flag name.
//! - [`support`]: what the end-to-end tests share (the repository's scripts, Docker,
//!   printing a command's output).
//! - [`pidns`]: a pid namespace of the test's own, for the runs that may end processes.
//! - [`engine`] and [`https`]: a private Docker engine, and a stand-in for EVA's REST API.
#![allow(dead_code)]

pub mod engine;
pub mod https;
pub mod invocation;
pub mod node;
pub mod pidns;
pub mod run;
pub mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

// Not every test file uses all of them.
#[allow(unused_imports)]
pub use invocation::{Running, Test};
#[allow(unused_imports)]
pub use nix::sys::signal::Signal;
#[allow(unused_imports)]
pub use node::Node;
#[allow(unused_imports)]
pub use pidns::PidNamespace;
#[allow(unused_imports)]
pub use run::{Argv, Run};

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

/// The systemd versions the fake systemctl models (tests/fakes/systemctl): RHEL 7's, RHEL 8's,
/// RHEL 9's and Debian 12's.
pub const SYSTEMD_VERSIONS: [&str; 3] = ["219", "239", "252"];

/// The systemd the fake systemctl behaves as in every test that does not choose one:
/// `EVA_TEST_SYSTEMD` (scripts/test.sh runs the fake-node suites once per version), else 252.
pub fn systemd_version() -> String {
    match std::env::var("EVA_TEST_SYSTEMD") {
        Ok(v) if SYSTEMD_VERSIONS.contains(&v.as_str()) => v,
        Ok(v) => panic!("EVA_TEST_SYSTEMD={v}: the fake systemctl models {SYSTEMD_VERSIONS:?}"),
        Err(_) => "252".into(),
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
#[track_caller]
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

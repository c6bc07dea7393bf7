//! What the end-to-end tests share: the repository's scripts, the Docker engine they need,
//! commands in containers, and a command's output for assertions and their messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{BIN, UNITS, require};

/// The repository's root (where scripts/ is).
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A file of the repository: `repo_path("scripts/node.sh")`.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(REPO).join(rel)
}

/// The binary with `subcommand` (`verify`, `genw`), outside any node: no configuration
/// file (EVA_HA_CONFIG=/dev/null) and the default log format.
pub fn eva_ha(subcommand: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg(subcommand).env("EVA_HA_CONFIG", "/dev/null").env_remove("EVA_HA_LOG_FORMAT");
    cmd
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().is_ok_and(|o| o.status.success())
}

/// A Docker engine answers `docker info`; when not, the test fails under CI and is skipped,
/// loudly, elsewhere (see [`require`]).
#[track_caller]
pub fn docker_ready() -> bool {
    require(
        "a running Docker engine (scripts/ensure-docker.sh)",
        Command::new("docker").arg("info").output().is_ok_and(|o| o.status.success()),
    )
}

/// Runs one of the repository's scripts (`run("scripts/cluster.sh", &["up", name])`).
#[track_caller]
pub fn run(script: &str, args: &[&str]) -> Output {
    Command::new(repo_path(script)).args(args).output().unwrap()
}

/// Runs scripts/node.sh with `args`, asserting success.
#[track_caller]
pub fn node_sh(args: &[&str]) {
    let out = run("scripts/node.sh", args);
    assert!(out.status.success(), "node.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `script` with sh inside the container.
#[track_caller]
pub fn exec(container: &str, script: &str) -> Output {
    Command::new("docker").args(["exec", container, "sh", "-c", script]).output().unwrap()
}

/// The default units' states in the container (`systemctl is-active`), space-separated:
/// `active active active`.
pub fn unit_states(container: &str) -> String {
    let out = exec(container, &format!("systemctl is-active {}", UNITS.join(" ")));
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes the container (and its anonymous volumes), ignoring failures: for `Drop`.
pub fn remove_container(container: &str) {
    let _ = Command::new("docker").args(["rm", "-f", "-v", container]).output();
}

/// What the command printed: stdout, then stderr.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The command's exit status and output, labelled: for an assertion's message (and to
/// search in).
pub fn report(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

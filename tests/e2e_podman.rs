//! eva-genw --runtime podman end to end against Debian's real podman (events from its
//! file backend). Podman needs no daemon; containers here run with the resource limits
//! this sandbox allows (`--ulimit`) and no network. Without podman the tests fail under
//! CI=true and skip loudly elsewhere.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::engine::Monitor;
use common::require;
use common::support::eva_ha;
use nix::sys::signal::Signal;

const IMAGE: &str = "localhost/eva-ha-test-bb";
const SOON: Duration = Duration::from_secs(15);

fn podman(args: &[&str]) -> Output {
    Command::new("podman").args(args).output().unwrap()
}

/// Podman is there and has the busybox image; None when we may skip.
fn ready() -> Option<()> {
    let present = Command::new("podman").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require("podman (apt-get install podman)", present) {
        return None;
    }
    let runtime = oci_runtime();
    let have_runtime = Command::new(runtime).arg("--version").output().is_ok_and(|o| o.status.success());
    if !require(&format!("the OCI runtime {runtime} (apt-get install {runtime})"), have_runtime) {
        return None;
    }
    if !podman(&["image", "exists", IMAGE]).status.success() {
        common::engine::import_busybox(Command::new("podman"), IMAGE);
    }
    Some(())
}

/// The OCI runtime for our containers: crun (podman's default) refuses a hybrid cgroup
/// layout (v1 controllers beside a v2 `unified` tree, as on some CI machines), runc runs
/// there. eva-genw itself never needs it: events, inspect and ps do not start containers.
fn oci_runtime() -> &'static str {
    if std::path::Path::new("/sys/fs/cgroup/unified").is_dir() { "runc" } else { "crun" }
}

/// `podman run -d` with this sandbox's limits; the container's id.
#[track_caller]
fn run(name: &str, extra: &[&str], script: &str) -> String {
    let mut args = vec![
        "--runtime",
        oci_runtime(),
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[IMAGE, "sh", "-c", script]);
    let out = podman(&args);
    assert!(out.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Unique container names, removed at the end.
struct Names(Vec<String>);

impl Names {
    fn new(test: &str, names: &[&str]) -> Names {
        Names(names.iter().map(|n| format!("eva-ha-{test}-{n}-{}", std::process::id())).collect())
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        let mut args = vec!["rm", "-f", "--ignore"];
        args.extend(self.0.iter().map(String::as_str));
        let _ = podman(&args);
    }
}

/// One test at a time: an unscoped monitor judges every container's death, the other
/// tests' too.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn genw(args: &[&str]) -> Monitor {
    let mut full = vec!["--runtime", "podman", "--initial-delay", "0"];
    full.extend_from_slice(args);
    Monitor::spawn(eva_ha("genw").args(full), "podman")
}

#[test]
fn podman_deaths_are_judged_like_dockers() {
    let Some(()) = ready() else { return };
    let _alone = one_at_a_time();
    let names = Names::new("judge", &["clean", "killed", "masked"]);
    let mut monitor = genw(&[]);
    monitor.wait_for("watching podman", SOON);
    run(&names.0[0], &[], "exit 0");
    run(&names.0[1], &[], "sleep 100");
    assert!(podman(&["kill", &names.0[1]]).status.success());
    monitor.wait_for(&format!("container {} (", names.0[0]), SOON);
    monitor.wait_for(&format!("container {} (", names.0[1]), SOON);
    assert!(monitor.is_running(), "{}", monitor.output());
    // A label named exitCode does not hide the real code.
    let id = run(&names.0[2], &["--label", "exitCode=0"], "exit 3");
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    let error = monitor.error_line();
    assert!(error.contains(&format!("container {} ({}, image {IMAGE}", names.0[2], &id[..12])), "{error}");
    assert!(error.contains("exit code 3"), "{error}");
}

#[test]
fn a_label_scope_is_judged_by_the_containers_own_labels() {
    let Some(()) = ready() else { return };
    let _alone = one_at_a_time();
    let names = Names::new("scope", &["outside", "removed", "inside"]);
    let label = format!("eva-ha-test={}", std::process::id());
    let scope = format!("label={label}");
    let mut monitor = genw(&["-v", "--filter", &scope]);
    monitor.wait_for("watching podman", SOON);
    // Outside the scope: not judged, whatever its exit code.
    let outside = run(&names.0[0], &[], "exit 3");
    monitor.wait_for(&format!("container {} ({}) died: out of scope (not {scope})", names.0[0], &outside[..12]), SOON);
    // Inside, removed as it ends: judged (by its state or, once gone, by its event).
    run(&names.0[1], &["--rm", "--label", &label], "exit 0");
    monitor.wait_for(&format!("container {} (", names.0[1]), SOON);
    assert!(monitor.is_running(), "{}", monitor.output());
    let inside = run(&names.0[2], &["--label", &label], "exit 3");
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    let error = monitor.error_line();
    assert!(error.contains(&format!("container {} ({}, image {IMAGE}", names.0[2], &inside[..12])), "{error}");
    assert!(error.contains("exit code 3"), "{error}");
}

#[test]
fn sigterm_ends_the_podman_monitor_and_its_subscription() {
    let Some(()) = ready() else { return };
    let _alone = one_at_a_time();
    let mut monitor = genw(&[]);
    monitor.wait_for("watching podman", SOON);
    let subscription = monitor.children_matching("events");
    assert!(!subscription.is_empty(), "no podman events child");
    let sent = std::time::Instant::now();
    monitor.signal(Signal::SIGTERM);
    let (code, at) = monitor.exit(SOON);
    assert_eq!(code, Some(143));
    assert!(at.duration_since(sent) < Duration::from_secs(1), "took {:?}", at.duration_since(sent));
    assert!(subscription.iter().all(|pid| !common::alive(*pid)), "subscription left behind");
}

//! eva-stop against fake systemctl/journalctl and stand-in master scripts.

mod common;

use std::time::Duration;

use common::*;

fn eva_stop(t: Test) -> Test {
    t.invoked_as("eva-stop")
}

#[test]
fn stops_the_master_then_the_units_in_one_call() {
    let started = Test::new().invoked_as("eva-start").success();
    started.assert_states("active");
    let run = eva_stop(started.test.fork().clear_args()).success();
    assert_eq!(run.changes(), [START_CALL, STOP_CALL], "{}", run.dump());
    assert_eq!(run.stop_script_runs(), 1);
    // The stop script ran while the units were still up: before systemctl stop.
    assert_eq!(run.master("stop.saw").unwrap().trim(), "docker mongod.service postgresql-9.5.service");
    assert_eq!(run.master("started"), None, "the stop script ran to its end");
    run.assert_states("inactive")
        .assert_stdout_contains("stop-master.sh: stop-master: stopping")
        .assert_stdout_contains("units stopped: docker, mongod.service, postgresql-9.5.service")
        .assert_stdout_contains("EVA master stopped")
        .assert_token_hidden();
    assert_eq!(run.stderr, "");
}

#[test]
fn stopping_a_stopped_node_succeeds_again() {
    let first = eva_stop(Test::new()).success();
    let second = eva_stop(first.test.fork()).success();
    assert_eq!(second.changes(), [STOP_CALL, STOP_CALL], "{}", second.dump());
    assert_eq!(second.stop_script_runs(), 2);
    second.assert_states("inactive").assert_stdout_contains("EVA master stopped");
}

#[test]
fn eva_stop_never_needs_the_worker_token() {
    let run = eva_stop(Test::new().active(&IDS).remove("configuration.json")).success();
    run.assert_states("inactive");
}

#[test]
fn a_failing_stop_script_is_a_warning_unless_strict() {
    let run = eva_stop(Test::new().active(&IDS).write("master/stop.exit", "4")).success();
    let warning = run.stdout.lines().find(|l| l.contains(" WARN ")).unwrap_or_else(|| panic!("no warning\n{}", run.dump()));
    assert!(warning.contains("stop-master.sh") && warning.contains("exit status 4"), "{warning}");
    assert!(warning.contains("stopping the units anyway"), "{warning}");
    assert_eq!(run.changes(), [STOP_CALL]);
    run.assert_states("inactive");

    let run = eva_stop(Test::new().active(&IDS).write("master/stop.exit", "4").arg("--strict")).status(1);
    run.assert_error("eva-stop", &["the stop script failed (--strict)", "stop-master.sh", "exit status 4"]);
    assert_eq!(run.changes(), [STOP_CALL], "units are stopped even so\n{}", run.dump());
    run.assert_states("inactive");
}

#[test]
fn a_missing_stop_script_still_stops_the_units_and_strict_says_not_installed() {
    let t = Test::new().active(&IDS).remove("eva/stop-master.sh");
    let script = t.path("eva/stop-master.sh");
    let run = eva_stop(t).success();
    run.assert_states("inactive").assert_stdout_contains(&format!("stop script {}", script.display()));
    assert_eq!(run.changes(), [STOP_CALL]);

    let t = Test::new().active(&IDS).remove("eva/stop-master.sh").arg("--strict");
    let script = t.path("eva/stop-master.sh");
    let run = eva_stop(t).status(5);
    run.assert_error("eva-stop", &["--strict", "stop script", &script.display().to_string()]);
    run.assert_states("inactive");
    assert_eq!(run.changes(), [STOP_CALL]);
}

#[test]
fn without_install_dir_the_units_are_still_stopped_and_strict_says_not_configured() {
    let run = eva_stop(Test::new().active(&IDS).unset_config("install_dir")).success();
    run.assert_states("inactive").assert_stdout_contains("install_dir is not configured");
    assert_eq!(run.stop_script_runs(), 0);
    assert_eq!(run.changes(), [STOP_CALL]);

    let run = eva_stop(Test::new().active(&IDS).unset_config("install_dir").arg("--strict")).status(6);
    run.assert_error("eva-stop", &["--strict", "install_dir is not configured"]);
    run.assert_states("inactive");
}

#[test]
fn a_hung_stop_script_times_out_the_units_are_stopped_and_nothing_is_left() {
    let run = eva_stop(Test::new().active(&IDS).write("master/stop.sleep", "100").args(&["--script-timeout", "1"])).success();
    let warning = run.stdout.lines().find(|l| l.contains(" WARN ")).unwrap_or_else(|| panic!("no warning\n{}", run.dump()));
    assert!(warning.contains("stop-master.sh") && warning.contains("timed out after 1s"), "{warning}");
    run.assert_states("inactive")
        .assert_gone("master/child.pid")
        .assert_gone("master/stop.pid")
        .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.changes(), [STOP_CALL]);
}

#[test]
fn a_failed_unit_counts_as_stopped_and_is_reset() {
    let run =
        eva_stop(Test::new().active(&["docker.service", "postgresql-9.5.service"]).unit("mongod.service", "state", "failed\n"))
            .success();
    assert_eq!(run.changes(), [STOP_CALL, "reset-failed -- mongod.service"], "{}", run.dump());
    run.assert_states("inactive").assert_stdout_contains("mongod.service failed earlier; counted as stopped");
}

#[test]
fn a_unit_that_will_not_stop_fails_the_stop_with_its_journal() {
    let run = eva_stop(Test::new().active(&IDS).unit("mongod.service", "stuck", "")).status(1);
    run.assert_error("eva-stop", &["would not stop", "mongod.service (active/running)"])
        .assert_stdout_contains("unit mongod.service is still running")
        .assert_stdout_contains(
            "journal mongod.service: 2026-11-25T10:00:00+0000 node fake[1]: journal line 1 of mongod.service",
        );
    assert_eq!(run.state("mongod.service"), "active");
    assert_eq!(run.state("docker.service"), "inactive");
    assert_eq!(run.state("postgresql-9.5.service"), "inactive");
    assert!(run.error_line().contains("mongod.service") && !run.error_line().contains("docker"), "{}", run.dump());
}

#[test]
fn a_unit_that_is_not_installed_is_a_warning() {
    let t = Test::new().active(&["docker.service", "mongod.service"]).unit("postgresql-9.5.service", "missing", "");
    let run = eva_stop(t).success();
    run.assert_stdout_contains("unit postgresql-9.5.service is not installed: nothing to stop")
        .assert_stdout_contains("EVA master stopped");
    assert!(!run.stdout.contains(" ERROR "), "a missing unit is no error\n{}", run.dump());
    assert_eq!(run.state("docker.service"), "inactive");
    assert_eq!(run.state("mongod.service"), "inactive");
    let stops: Vec<String> = run.changes().into_iter().filter(|c| c.starts_with("stop ")).collect();
    assert_eq!(stops.len(), 1, "one stop call\n{}", run.dump());
    assert!(stops[0].contains("docker") && stops[0].contains("mongod.service"), "{}", run.dump());
}

#[test]
fn a_hung_unit_stop_times_out_naming_the_unit() {
    let run = eva_stop(Test::new().active(&IDS).unit("docker.service", "stophang", "").args(&["--unit-timeout", "1"])).status(1);
    run.assert_error("eva-stop", &["would not stop", "docker (deactivating/stop-sigterm)"])
        .assert_stdout_contains("timed out after 1s")
        .assert_gone("systemd/docker.service.pids")
        .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.state("docker.service"), "deactivating");
}

#[test]
fn sigterm_during_the_stop_script_exits_143_and_leaves_nothing() {
    let mut running = eva_stop(Test::new().active(&IDS).write("master/stop.sleep", "100")).launch();
    running.wait_master("sleeping").signal(Signal::SIGTERM);
    let run = running.wait(Duration::from_secs(10));
    assert_eq!(run.code, Some(143), "{}", run.dump());
    run.assert_error("eva-stop", &["stop-master.sh", "we received SIGTERM"])
        .assert_gone("master/child.pid")
        .assert_gone("master/stop.pid")
        .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.changes(), Vec::<String>::new(), "interrupted before the units\n{}", run.dump());
}

#[test]
fn a_stop_failure_goes_to_the_cluster_alert_log() {
    let run = eva_stop(Test::new().clplogcmd().active(&IDS).unit("mongod.service", "stuck", "")).status(1);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.dump());
    assert!(
        alerts[0].flag("-m").is_some_and(|m| m.starts_with("eva-stop failed: unit(s) would not stop: mongod.service")),
        "{alerts:?}"
    );

    let run = eva_stop(Test::new().clplogcmd().active(&IDS).write("master/stop.exit", "4")).success();
    assert_eq!(run.alerts(), Vec::<Vec<String>>::new(), "a warning is no failure\n{}", run.dump());
}

#[test]
fn eva_stop_marks_a_planned_stop_for_the_monitor_and_eva_start_clears_it() {
    let run = eva_stop(Test::new().active(&IDS)).success();
    let marker = run.root.join("state/planned-stop");
    let text = std::fs::read_to_string(&marker).unwrap_or_else(|e| panic!("{}: {e}\n{}", marker.display(), run.dump()));
    assert!(text.starts_with("pid ") && text.contains(" since "), "{text}");
    let run = run.test.fork().clear_args().invoked_as("eva-start").success();
    assert!(!marker.exists(), "a new start ends the planned stop\n{}", run.dump());
}

/// A node for the tests of `end_leftovers`: the units active, the step on, and a pid
/// namespace of its own in which eva-stop runs, so that it sees (and may end) only the
/// processes the test starts there; `None` where no namespace can be made (skipped).
fn leftovers_node() -> Option<(Test, PidNamespace)> {
    let ns = PidNamespace::new()?;
    let t = Test::new().active(&IDS).config("end_leftovers", "true").within(ns.prefix());
    Some((t, ns))
}

/// Runs `script` (bash) in `ns`, which writes what "$1" names (`pids`, under the test's
/// root) when it runs: returns the pids it wrote there, the namespace's.
fn started(ns: &PidNamespace, root: &std::path::Path, name: &str, script: &str, args: &[&str]) -> Vec<i32> {
    let pids = root.join(format!("{name}.pids"));
    let file = pids.to_str().unwrap();
    let all: Vec<&str> = [file].into_iter().chain(args.iter().copied()).collect();
    ns.spawn(script, &all, &[("FAKE_SHIM_PIDS", &pids)]);
    assert!(wait_for(&pids, Duration::from_secs(10)), "{name} did not start");
    std::fs::read_to_string(&pids).unwrap().split_whitespace().map(|p| p.parse().unwrap()).collect()
}

/// A shim as containerd runs one for a docker container, with its container below it, in
/// `ns`: `tests/fakes/containerd-shim` under the name containerd-shim-runc-v2, for the
/// containerd at `socket`. Returns (shim pid, container pid), the namespace's.
fn shim(ns: &PidNamespace, root: &std::path::Path, id: &str, socket: &std::path::Path) -> (i32, i32) {
    let fake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fakes/containerd-shim");
    let socket = socket.to_str().unwrap();
    let script = r#"shift; exec -a containerd-shim-runc-v2 /bin/sh "$@""#;
    let pids = started(ns, root, &format!("shim-{id}"), script, &[fake, "-namespace", "moby", "-id", id, "-address", socket]);
    (pids[0], pids[1])
}

/// A docker engine as /proc shows one: a process whose argv[0] is `dockerd`, in `ns`.
fn dockerd(ns: &PidNamespace, root: &std::path::Path) -> i32 {
    started(ns, root, "dockerd", r#"echo $$ > "$1.tmp" && mv "$1.tmp" "$1" && exec -a dockerd sleep 1000"#, &[])[0]
}

#[test]
fn the_containers_a_dead_engine_left_running_are_ended_and_named() {
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    // The node's containerd (eva-ha.toml's containerd_sockets) and another one's.
    let (shim_pid, container_pid) = shim(&ns, &root, "aaaa1111bbbb2222cccc", &root.join("containerd.sock"));
    let (other_shim, other_container) = shim(&ns, &root, "dddd3333", &root.join("other-containerd.sock"));
    // The engine is dead: no dockerd, nothing answers on its socket.
    let run = eva_stop(t.env("DOCKER_HOST", &format!("unix://{}", root.join("docker.sock").display()))).success();
    let still = [ns.alive(shim_pid), ns.alive(container_pid), ns.alive(other_shim), ns.alive(other_container)];
    assert_eq!(still, [false, false, true, true], "the node's container and shim ended, the other engine's not\n{}", run.dump());
    // A dead engine is not a frozen one: its clients fail at once, the stop script runs first.
    assert_eq!(run.changes(), [STOP_CALL], "{}", run.dump());
    run.assert_stdout_contains("the engine is stopped, but 2 container process(es) it started still run; ending them: ")
        .assert_stdout_contains(&format!("pid {container_pid} sleep (container aaaa1111bbbb)"))
        .assert_stdout_contains(&format!("pid {shim_pid} containerd-shim-runc-v2 (shim of container aaaa1111bbbb)"));
}

#[test]
fn while_a_dockerd_runs_nothing_is_ended_and_the_stop_fails_naming_it() {
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    let (shim_pid, container_pid) = shim(&ns, &root, "eeee4444", &root.join("containerd.sock"));
    let engine = dockerd(&ns, &root);
    // DOCKER_HOST names a socket where nothing listens, while the engine runs: it used to
    // be taken for dead, and its containers were killed.
    let run = eva_stop(t.env("DOCKER_HOST", &format!("unix://{}", root.join("elsewhere.sock").display()))).status(1);
    assert_eq!([ns.alive(shim_pid), ns.alive(container_pid), ns.alive(engine)], [true, true, true], "{}", run.dump());
    run.assert_error(
        "eva-stop",
        &["2 container process(es) still run", &format!("a docker engine (pid {engine} dockerd)"), "not ending them"],
    )
    .assert_stdout_lacks("ending them:");
    assert_eq!(run.error_line().lines().count(), 1, "{}", run.dump());
    run.assert_states("inactive");
}

#[test]
fn an_engine_that_answers_keeps_its_containers_and_the_stop_fails() {
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    let (shim_pid, container_pid) = shim(&ns, &root, "ffff5555", &root.join("containerd.sock"));
    let engine = dockerd(&ns, &root);
    let host = answering_engine(&t);
    let run = eva_stop(t.env("DOCKER_HOST", &host)).status(1);
    assert_eq!([ns.alive(shim_pid), ns.alive(container_pid)], [true, true], "{}", run.dump());
    run.assert_error("eva-stop", &[&format!("pid {engine} dockerd")]);
}

#[test]
fn without_end_leftovers_nothing_is_looked_for() {
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    let (shim_pid, container_pid) = shim(&ns, &root, "abab6666", &root.join("containerd.sock"));
    let run = eva_stop(t.arg("--no-end-leftovers")).success();
    assert_eq!([ns.alive(shim_pid), ns.alive(container_pid)], [true, true], "{}", run.dump());
    run.assert_stdout_lacks("ending them");
}

#[test]
fn an_engine_outside_the_units_is_not_ours_nor_are_its_containers() {
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    let (shim_pid, container_pid) = shim(&ns, &root, "cdcd7777", &root.join("containerd.sock"));
    let engine = dockerd(&ns, &root);
    // docker is left to the node (not among the units): its containers run on, no failure.
    let run = eva_stop(t.config("units", r#"["mongod.service", "postgresql-9.5.service"]"#)).success();
    assert_eq!([ns.alive(shim_pid), ns.alive(container_pid), ns.alive(engine)], [true, true, true], "{}", run.dump());
    run.assert_stdout_lacks("ending them").assert_stdout_contains("EVA master stopped");
}

/// A cgroup shaped as docker's cgroupfs driver makes them, `…/docker/<64-hex id>`, below our
/// own in the hierarchy eva-ha reads (`devices` on cgroup v1, the unified one on v2), under
/// a directory of the test's own; removed when dropped.
struct DockerCgroup {
    top: std::path::PathBuf,
    dir: std::path::PathBuf,
    id: String,
}

impl DockerCgroup {
    fn new() -> Option<DockerCgroup> {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let line = |pick: &dyn Fn(&str, &str) -> bool| {
            own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                pick(id, controllers).then(|| path.to_owned())
            })
        };
        let base = match line(&|_, c| c.split(',').any(|c| c == "devices")) {
            Some(path) => format!("/sys/fs/cgroup/devices{path}"),
            None => format!("/sys/fs/cgroup{}", line(&|id, c| id == "0" && c.is_empty())?),
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let id = format!("{:032x}{:032x}", nanos, std::process::id());
        let top = std::path::Path::new(&base).join(format!("eva-ha-test-{}-{nanos}", std::process::id()));
        let dir = top.join("docker").join(&id);
        let made = std::fs::create_dir_all(&dir);
        let cgroup = DockerCgroup { top, dir, id };
        require("a cgroup the test may make (root, cgroupfs)", made.is_ok()).then_some(cgroup)
    }
}

impl Drop for DockerCgroup {
    fn drop(&mut self) {
        // Its process may take a moment to leave once killed.
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir(&self.dir).is_err() && self.dir.exists() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir(self.top.join("docker"));
        let _ = std::fs::remove_dir(&self.top);
    }
}

#[test]
fn a_container_whose_shim_went_down_with_the_engine_is_found_by_its_cgroup() {
    // Made first, dropped last: after the namespace, and whatever ran in it, is gone.
    let Some(cgroup) = DockerCgroup::new() else { return };
    let Some((t, ns)) = leftovers_node() else { return };
    let root = t.root().to_owned();
    // No shim: the container's process, alone in its cgroup (as a unit that kills its whole
    // cgroup leaves it).
    let dir = cgroup.dir.to_str().unwrap();
    let script = r#"echo $$ > "$2/cgroup.procs" && echo $$ > "$1.tmp" && mv "$1.tmp" "$1" && exec sleep 1000"#;
    let pid = started(&ns, &root, "container", script, &[dir])[0];
    let run = eva_stop(t).success();
    assert!(!ns.alive(pid), "{}", run.dump());
    run.assert_stdout_contains("the engine is stopped, but 1 container process(es) it started still run; ending them: ")
        .assert_stdout_contains(&format!("pid {pid} sleep (container {})", &cgroup.id[..12]));
}

#[test]
fn a_frozen_engine_is_stopped_before_the_stop_script() {
    let t = Test::new().active(&IDS);
    let socket = t.root().join("docker.sock");
    // A stopped dockerd: the kernel takes the connection, nobody answers.
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    let run = eva_stop(t.env("DOCKER_HOST", &format!("unix://{}", socket.display()))).success();
    assert_eq!(run.changes(), ["stop -- docker.service", STOP_CALL], "{}", run.dump());
    // The stop script ran with the engine already stopped, the other units still up.
    assert_eq!(run.master("stop.saw").unwrap().trim(), "mongod.service postgresql-9.5.service");
    run.assert_states("inactive")
        .assert_stdout_contains("the container engine does not answer (no answer from ")
        .assert_stdout_contains("stopping docker.service before the stop script")
        .assert_stdout_contains("docker.service stopped")
        .assert_stdout_contains("EVA master stopped");
}

/// An engine that answers its pings, on a socket in the test's root.
fn answering_engine(t: &Test) -> String {
    let socket = t.root().join("docker.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
        }
    });
    format!("unix://{}", socket.display())
}

const UNANSWERED: &str = "state/engine-unanswered";

#[test]
fn the_monitors_word_that_the_engine_did_not_answer_stops_it_first_without_a_ping() {
    let t = Test::new().active(&IDS).write(UNANSWERED, "the docker engine has been unreachable for 10s: no answer\n");
    // The engine answers now: only the monitor's word can make the stop take it for frozen.
    let host = answering_engine(&t);
    let run = eva_stop(t.env("DOCKER_HOST", &host)).success();
    assert_eq!(run.changes(), ["stop -- docker.service", STOP_CALL], "{}", run.dump());
    run.assert_stdout_contains(
        "the container engine does not answer (the monitor found: the docker engine has been unreachable for 10s: no answer)",
    )
    .assert_states("inactive");
    assert!(!run.test.path(UNANSWERED).exists(), "the word is taken once\n{}", run.dump());
}

#[test]
fn a_stale_word_from_the_monitor_is_dropped_and_the_engine_pinged() {
    let t = Test::new().active(&IDS).write(UNANSWERED, "the docker engine has been unreachable for 10s: no answer\n");
    let three_minutes_ago = std::time::SystemTime::now() - Duration::from_secs(180);
    std::fs::File::options().write(true).open(t.path(UNANSWERED)).unwrap().set_modified(three_minutes_ago).unwrap();
    let host = answering_engine(&t);
    let run = eva_stop(t.env("DOCKER_HOST", &host)).success();
    assert_eq!(run.changes(), [STOP_CALL], "the engine answered: the stop script first\n{}", run.dump());
    run.assert_stdout_lacks("does not answer");
    assert!(!run.test.path(UNANSWERED).exists(), "{}", run.dump());
}

#[test]
fn a_start_drops_the_last_monitors_word() {
    let run = Test::new()
        .write(UNANSWERED, "the docker engine has been unreachable for 10s: no answer\n")
        .invoked_as("eva-start")
        .success();
    assert!(!run.test.path(UNANSWERED).exists(), "{}", run.dump());
}

//! eva-genw end to end against a real Docker engine: a private dockerd per test (see
//! tests/common/engine.rs), so engine restarts disturb nothing else. Without dockerd the
//! tests fail under CI=true and skip loudly elsewhere.

mod common;

use std::time::Duration;

use common::engine::{Engine, IMAGE};
use nix::sys::signal::Signal;

const SOON: Duration = Duration::from_secs(10);

#[test]
fn a_death_is_detected_at_once_and_named() {
    let Some(engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "0"]);
    monitor.wait_for("watching docker", SOON);
    let id = engine.ok(&["run", "-d", "--name", "crash1", IMAGE, "sh", "-c", "exit 3"]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    let error = monitor.error_line();
    assert!(
        error.contains(&format!("container crash1 ({}, image {IMAGE}) died with exit code 3, not OOM-killed", &id[..12])),
        "{error}"
    );
}

#[test]
fn clean_exits_kills_and_stops_are_ignored_then_an_error_counts() {
    let Some(engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "0"]);
    monitor.wait_for("watching docker", SOON);
    engine.ok(&["run", "--name", "clean", IMAGE, "sh", "-c", "exit 0"]);
    engine.ok(&["run", "-d", "--name", "killed", IMAGE, "sleep", "100"]);
    engine.ok(&["kill", "killed"]);
    engine.ok(&["run", "-d", "--name", "stopped", IMAGE, "sh", "-c", "trap '' TERM; sleep 100"]);
    engine.ok(&["stop", "-t", "1", "stopped"]);
    for name in ["clean", "killed", "stopped"] {
        monitor.wait_for(&format!("container {name} ("), SOON);
    }
    let out = monitor.output();
    assert!(
        out.contains("container clean (") && out.contains("died with exit code 0, not OOM-killed (from inspect): ignored"),
        "{out}"
    );
    assert_eq!(out.matches("died with exit code 137, not OOM-killed (from inspect): ignored").count(), 2, "{out}");
    assert!(monitor.is_running(), "{out}");

    engine.ok(&["run", "-d", "--name", "broken", IMAGE, "sh", "-c", "exit 4"]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1));
    assert!(monitor.error_line().contains("container broken ("), "{}", monitor.output());
}

#[test]
fn a_label_named_exit_code_does_not_hide_a_death() {
    let Some(engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "0"]);
    monitor.wait_for("watching docker", SOON);
    // The engine copies labels over the event's attributes: the event says exitCode=0.
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "masked",
        "--label",
        "exitCode=0",
        "--label",
        "note=exitCode=0",
        IMAGE,
        "sh",
        "-c",
        "exit 3",
    ]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(
        monitor.error_line().contains("container masked (") && monitor.error_line().contains("exit code 3"),
        "{}",
        monitor.output()
    );
}

#[test]
fn ignored_exit_codes_and_scope_filters_are_configurable() {
    let Some(engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "0", "--ignore-exit-codes", "0,137,143", "--filter", "label=eva"]);
    monitor.wait_for("watching docker", SOON);
    engine.ok(&["run", "-d", "--name", "outsider", IMAGE, "sh", "-c", "exit 5"]);
    engine.ok(&["run", "-d", "--name", "termed", "--label", "eva", IMAGE, "sh", "-c", "exit 143"]);
    monitor.wait_for("container termed (", SOON);
    assert!(monitor.is_running(), "{}", monitor.output());
    assert!(!monitor.output().contains("outsider"), "out of scope, yet seen:\n{}", monitor.output());
    engine.ok(&["run", "-d", "--name", "insider", "--label", "eva", IMAGE, "sh", "-c", "exit 5"]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1));
    assert!(monitor.error_line().contains("container insider ("), "{}", monitor.output());
}

#[test]
fn a_death_during_the_initial_delay_counts_when_it_ends() {
    let Some(engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "2"]);
    monitor.wait_for("watching docker", SOON);
    engine.ok(&["run", "-d", "--name", "early", IMAGE, "sh", "-c", "exit 3"]);
    let (code, at) = monitor.exit(SOON);
    assert_eq!(code, Some(1));
    assert!(at.duration_since(monitor.started) >= Duration::from_secs(2), "{}", monitor.output());
    assert!(monitor.error_line().contains("container early ("), "{}", monitor.output());
}

#[test]
fn a_death_while_the_engine_is_down_is_caught_when_it_returns() {
    // With live restore, containers outlive the engine; one that dies meanwhile is found
    // dead on restore, and the engine emits no event for it.
    let Some(mut engine) = Engine::start(true) else { return };
    engine.ok(&["run", "-d", "--name", "orphan", IMAGE, "sh", "-c", "sleep 4; exit 3"]);
    let mut monitor = engine.genw(&["--initial-delay", "0"]);
    monitor.wait_for("watching docker", SOON);
    engine.shut_down();
    monitor.wait_for("reconnecting", SOON);
    std::thread::sleep(Duration::from_secs(5)); // the container dies while the engine is down
    assert!(monitor.is_running(), "{}", monitor.output());
    engine.launch();
    let (code, _) = monitor.exit(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(monitor.output().contains("answers again"), "{}", monitor.output());
    assert!(
        monitor.error_line().contains("container orphan (") && monitor.error_line().contains("exit code 3"),
        "{}",
        monitor.output()
    );
}

#[test]
fn a_container_killed_by_an_engine_restart_is_caught() {
    // Without live restore the engine stops its containers when it stops: a death around
    // the restart, reported either by the event stream before it closes or by catching up.
    let Some(mut engine) = Engine::start(false) else { return };
    engine.ok(&["run", "-d", "--name", "victim", IMAGE, "sh", "-c", "trap 'exit 143' TERM; sleep 100 & wait"]);
    let mut monitor = engine.genw(&["--initial-delay", "0"]);
    monitor.wait_for("watching docker", SOON);
    engine.shut_down();
    engine.launch();
    let (code, _) = monitor.exit(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(
        monitor.error_line().contains("container victim (") && monitor.error_line().contains("exit code 143"),
        "{}",
        monitor.output()
    );
}

#[test]
fn a_container_the_restarted_engine_does_not_bring_back_fails_after_the_grace() {
    // Without live restore the engine stops its containers (exit 0: ignored) and starts
    // again only those whose restart policy says so: "lost" (on-failure) stays down.
    let Some(mut engine) = Engine::start(false) else { return };
    let idle = "trap 'exit 0' TERM; sleep 1000 & wait";
    engine.ok(&["run", "-d", "--name", "back", "--restart", "always", IMAGE, "sh", "-c", idle]);
    let lost = engine.ok(&["run", "-d", "--name", "lost", "--restart", "on-failure", IMAGE, "sh", "-c", idle]);
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "5"]);
    monitor.wait_for("watching docker", SOON);
    engine.shut_down();
    engine.launch();
    monitor.wait_for("answers again", SOON);
    let (code, _) = monitor.exit(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{}", monitor.output());
    let error = monitor.error_line();
    assert!(
        error.contains(&format!(
            "1 container(s) that ran before the docker engine went away do not run again 5s after it came back: lost ({}, exited, exit code 0)",
            &lost[..12]
        )),
        "{}",
        monitor.output()
    );
    // With it removed, an engine restart that brings "back" back is no failure.
    engine.ok(&["rm", "-f", "lost"]);
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "5"]);
    monitor.wait_for("watching docker", SOON);
    engine.shut_down();
    engine.launch();
    monitor.wait_for("container(s) that ran before the docker engine went away run again", Duration::from_secs(30));
    assert!(monitor.is_running(), "{}", monitor.output());
}

#[test]
fn an_engine_unreachable_beyond_the_grace_fails() {
    let Some(mut engine) = Engine::start(false) else { return };
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "2"]);
    monitor.wait_for("watching docker", SOON);
    engine.shut_down();
    let (code, at) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(at.duration_since(monitor.started) >= Duration::from_secs(2));
    assert!(monitor.error_line().contains("the docker engine has been unreachable for 2s"), "{}", monitor.output());
}

#[test]
fn a_frozen_engine_fails_after_the_grace_and_a_thawed_one_in_time_does_not() {
    let Some(engine) = Engine::start(false) else { return };
    // Frozen for longer than the grace: its event stream neither sends nor ends, its socket
    // takes the probe and never answers.
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "3"]);
    monitor.wait_for("watching docker", SOON);
    engine.signal_dockerd(Signal::SIGSTOP);
    let (code, at) = monitor.exit(Duration::from_secs(30));
    engine.signal_dockerd(Signal::SIGCONT);
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(
        monitor.error_line().contains("the docker engine has been unreachable for 3s: no answer from "),
        "{}",
        monitor.output()
    );
    assert!(at.duration_since(monitor.started) < Duration::from_secs(20), "{}", monitor.output());
    // Frozen for less than the grace: no alarm; a death afterwards still counts.
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "30"]);
    monitor.wait_for("watching docker", SOON);
    engine.signal_dockerd(Signal::SIGSTOP);
    monitor.wait_for("does not answer while its event stream is quiet", Duration::from_secs(20));
    engine.signal_dockerd(Signal::SIGCONT);
    monitor.wait_for("answers again", Duration::from_secs(20));
    engine.ok(&["run", "-d", "--name", "after-thaw", IMAGE, "sh", "-c", "exit 5"]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1), "{}", monitor.output());
    assert!(monitor.error_line().contains("container after-thaw ("), "{}", monitor.output());
}

#[test]
fn an_engine_down_at_start_is_waited_for() {
    let Some(mut engine) = Engine::start(false) else { return };
    engine.shut_down();
    let mut monitor = engine.genw(&["--initial-delay", "0", "--daemon-grace", "30"]);
    monitor.wait_for("does not answer", SOON);
    engine.launch();
    monitor.wait_for("answers again", Duration::from_secs(20));
    engine.ok(&["run", "-d", "--name", "late", IMAGE, "sh", "-c", "exit 7"]);
    let (code, _) = monitor.exit(SOON);
    assert_eq!(code, Some(1));
    assert!(monitor.error_line().contains("container late ("), "{}", monitor.output());
}

#[test]
fn sigterm_ends_the_monitor_within_a_second_with_its_subscription() {
    let Some(engine) = Engine::start(false) else { return };
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let mut monitor = engine.genw(&["--initial-delay", "0"]);
        monitor.wait_for("watching docker", SOON);
        assert!(!monitor.engine_clients().is_empty(), "no docker events subscription found");
        let sent = std::time::Instant::now();
        monitor.signal(signal);
        let (code, at) = monitor.exit(SOON);
        assert!(at.duration_since(sent) < Duration::from_secs(1), "took {:?}", at.duration_since(sent));
        assert_eq!(code, Some(128 + signal as i32));
        assert_eq!(monitor.engine_clients(), Vec::<i32>::new(), "subscription left behind");
    }
}

#[test]
fn status_lists_the_engines_containers_and_says_unknown_within_2_s_when_it_is_frozen() {
    let Some(engine) = Engine::start(false) else { return };
    engine.ok(&["run", "-d", "--name", "st-running", IMAGE, "sh", "-c", "sleep 100"]);
    let _ = engine.docker(&["run", "--name", "st-exited", IMAGE, "sh", "-c", "exit 3"]);
    let status = || {
        let started = std::time::Instant::now();
        let out = std::process::Command::new(common::BIN)
            .args(["status", "--json"])
            .env("EVA_HA_CONFIG", "/dev/null")
            .env("DOCKER_HOST", engine.host())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (doc, started.elapsed())
    };
    let (doc, _) = status();
    let containers = doc["containers"].as_array().unwrap_or_else(|| panic!("{doc}"));
    let find = |name: &str| containers.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name}: {doc}"));
    assert_eq!(find("st-running")["state"], "running", "{doc}");
    assert_eq!((find("st-exited")["state"].as_str(), find("st-exited")["exit_code"].as_i64()), (Some("exited"), Some(3)));
    engine.signal_dockerd(Signal::SIGSTOP);
    let (doc, took) = status();
    engine.signal_dockerd(Signal::SIGCONT);
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert!(doc["containers"]["unknown"].is_string(), "{doc}");
}

#[test]
fn once_judges_each_death_once_also_past_the_replay_buffer_and_an_engine_restart() {
    let Some(mut engine) = Engine::start(false) else { return };
    let state = tempfile::tempdir().unwrap();
    let once = |engine: &Engine| {
        let out = std::process::Command::new(common::BIN)
            .args(["genw", "--once"])
            .env("EVA_HA_CONFIG", "/dev/null")
            .env("EVA_HA_STATE_DIR", state.path())
            .env("EVA_HA_HISTORY_DIR", state.path())
            .env("DOCKER_HOST", engine.host())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = once(&engine);
    assert_eq!(code, Some(0), "{out}");
    let _ = engine.docker(&["run", "--name", "once-crash", IMAGE, "sh", "-c", "exit 3"]);
    let (code, out) = once(&engine);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("container once-crash (") && out.contains("exit code 3"), "{out}");
    let (code, out) = once(&engine);
    assert_eq!(code, Some(0), "a death is reported once: {out}");
    // A death, then more than the engine's 256 buffered events (health checks) before the
    // next call: the container's own state still says it.
    let _ = engine.docker(&["run", "--name", "once-late", IMAGE, "sh", "-c", "exit 4"]);
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "once-busy",
        "--health-cmd",
        "true",
        "--health-interval",
        "100ms",
        IMAGE,
        "sh",
        "-c",
        "sleep 100",
    ]);
    std::thread::sleep(Duration::from_secs(9));
    let (code, out) = once(&engine);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("container once-late (") && out.contains("exit code 4"), "{out}");
    engine.ok(&["rm", "-f", "once-busy"]);
    let (code, out) = once(&engine);
    assert_eq!(code, Some(0), "{out}");
    // A death, then the engine restarts (and forgets its events) before the next call.
    let _ = engine.docker(&["run", "--name", "once-before-restart", IMAGE, "sh", "-c", "exit 5"]);
    engine.shut_down();
    engine.launch();
    let (code, out) = once(&engine);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("container once-before-restart (") && out.contains("exit code 5"), "{out}");
    let (code, out) = once(&engine);
    assert_eq!(code, Some(0), "{out}");
}

//! The commands on every systemd the supported platforms ship: 219 (RHEL 7.5), 239 (RHEL 8)
//! and 252 (RHEL 9, Debian 12), as the fake systemctl models each from its source
//! (tests/fakes/systemctl names the tags and files). The real systemd 252 runs in
//! e2e_systemd.rs; scripts/test.sh also runs the other fake-node suites once per version
//! (`EVA_TEST_SYSTEMD`).
//!
//! The first test holds the fake to its sources, independently of eva-ha: a fake that only
//! agreed with eva-ha would prove nothing.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// What eva-ha asked for before it knew better: StateChangeTimestamp is upstream v229.
const OLD_PROPERTIES: &str = "Id,LoadState,ActiveState,SubState,Result,TimeoutStartUSec,TimeoutStopUSec,StateChangeTimestamp";

/// The fake systemctl alone, as systemd `version`, on a fresh node's unit states.
fn systemctl(node: &Node, version: &str, args: &[&str]) -> std::process::Output {
    Command::new(node.path("bin/systemctl"))
        .args(args)
        .env("FAKE_SYSTEMD", node.path("systemd"))
        .env("FAKE_SYSTEMD_VERSION", version)
        .output()
        .unwrap()
}

#[test]
fn the_fake_fails_a_show_naming_a_property_only_later_versions_have_as_219_does() {
    let node = Node::new();
    let units = ["--", "docker", "mongod.service", "postgresql-9.5.service"];
    for version in SYSTEMD_VERSIONS {
        let property = format!("--property={OLD_PROPERTIES}");
        let out = systemctl(&node, version, &[&["show", &property], &units[..]].concat());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let blocks = stdout.split("\n\n").filter(|b| !b.trim().is_empty()).count();
        if version == "219" {
            // v219-57 show_one(): the block printed, -ENXIO logged at debug level; show()
            // returns at once: exit 1, nothing on stderr, the later units left out.
            assert_eq!((out.status.code(), blocks), (Some(1), 1), "{version}: {stdout}");
            assert!(!stdout.contains("StateChangeTimestamp"), "{stdout}");
        } else {
            assert_eq!((out.status.code(), blocks), (Some(0), 3), "{version}: {stdout}");
        }
        assert!(out.stderr.is_empty(), "{version}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // An infinite timeout: 0 on 219 (format_timespan of its "no timeout"), infinity after.
    let node = Node::new();
    node.write("systemd/docker.service.timeout", "infinity 1min 30s\n");
    for (version, want) in [("219", "TimeoutStartUSec=0\n"), ("252", "TimeoutStartUSec=infinity\n")] {
        let out = systemctl(&node, version, &["show", "--property=TimeoutStartUSec", "--", "docker"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{version}");
    }
    let out = systemctl(&node, "219", &["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("systemd 219\n"));
}

#[test]
fn start_and_stop_work_on_every_systemd() {
    for version in SYSTEMD_VERSIONS {
        let started = Test::new().systemd(version).invoked_as("eva-start").success();
        started.assert_states("active").assert_stdout_contains("EVA master started");
        assert!(started.master("started").is_some(), "{version}: the master did not start\n{}", started.dump());
        let stopped = started.test.fork().clear_args().invoked_as("eva-stop").success();
        stopped.assert_states("inactive").assert_stdout_contains("EVA master stopped");
        assert_eq!(stopped.changes(), [START_CALL, STOP_CALL], "{version}\n{}", stopped.dump());
    }
}

#[test]
fn a_failed_start_rolls_back_on_every_systemd() {
    for version in SYSTEMD_VERSIONS {
        let run = Test::new().systemd(version).invoked_as("eva-start").unit("mongod.service", "fail", "").status(1);
        assert!(run.error_line().contains("mongod.service"), "{version}\n{}", run.dump());
        for id in IDS {
            assert!(
                matches!(run.state(id).as_str(), "inactive" | "failed"),
                "{version}: {id} left {}\n{}",
                run.state(id),
                run.dump()
            );
        }
        assert!(run.changes().iter().any(|c| c.starts_with("stop --")), "{version}: no rollback\n{}", run.dump());
    }
}

#[test]
fn status_says_since_when_each_unit_is_in_its_state_on_every_systemd() {
    for version in SYSTEMD_VERSIONS {
        let started = Test::new().systemd(version).invoked_as("eva-start").success();
        let run = started.test.fork().clear_args().invoked_as_multi().fake_docker().args(&["status", "--json"]).success();
        let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()));
        let units = doc["units"].as_array().unwrap_or_else(|| panic!("{version}: {doc}"));
        assert_eq!(units.len(), 3, "{version}: {doc}");
        for unit in units {
            assert_eq!(unit["active"], true, "{version}: {doc}");
            // `Sat 2026-12-05 07:16:09 UTC`, from ActiveEnterTimestamp.
            let since = unit["since"].as_str().unwrap_or_default();
            assert!(since.len() > 20 && since.contains(':'), "{version}: since {since:?}\n{doc}");
        }
    }
}

#[test]
fn eva_genw_learns_the_engine_units_state_on_every_systemd() {
    for version in SYSTEMD_VERSIONS {
        let run = Test::new()
            .systemd(version)
            .fake_docker()
            .docker_down()
            .unit("docker.service", "state", "failed\n")
            .args(&["genw", "--daemon-grace", "60"])
            .status(1);
        assert!(
            run.error_line().contains("its unit docker.service is failed"),
            "{version}: the unit's state was not read\n{}",
            run.dump()
        );
    }
}

#[test]
fn the_agent_starts_monitors_and_stops_on_every_systemd() {
    for version in SYSTEMD_VERSIONS {
        let instance = format!("evatest-platform-{version}-{}", std::process::id());
        let agent = |t: Test, action: &str| t.clear_args().env("OCF_RESOURCE_INSTANCE", &instance).args(&["ocf", action]);
        let t = Test::new().systemd(version).fake_docker();
        let run = agent(t, "monitor").status(7);
        let run = agent(run.test, "start").success();
        let run = agent(run.test, "monitor").success();
        let run = agent(run.test, "stop").success();
        run.assert_states("inactive");
        agent(run.test, "monitor").status(7);
        let _ = std::fs::remove_dir_all(format!("/run/eva-ha/ocf/{instance}"));
    }
}

#[test]
fn eva_genw_reads_a_death_as_docker_1_13_1_prints_it() {
    // moby v1.13.1: api/types/events/events.go (Message: status, id, from, Type, Action,
    // Actor{ID, Attributes}, time, timeNano; no scope, which came later) and
    // daemon/monitor.go (a die event's attributes: exitCode, then the container's
    // labels, image and name, daemon/events.go).
    let id = "5b5b8c1de55e3c0f0a2b2c79a4cf1ed5f0b5c3e5c4b7a8d9e0f1a2b3c4d5e6f7";
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64 + 500_000_000;
    let die = serde_json::json!({
        "status": "die", "id": id, "from": "eva/crowd:3.2",
        "Type": "container", "Action": "die",
        "Actor": {"ID": id, "Attributes": {"exitCode": "3", "image": "eva/crowd:3.2", "name": "usecase-crowd"}},
        "time": at / 1_000_000_000, "timeNano": at,
    });
    let t =
        Test::new().systemd("219").fake_docker().write("docker/version", "1.13.1\n").unit("docker.service", "state", "active\n");
    let socket = format!("unix://{}", t.path("no-engine.sock").display());
    let run =
        t.env("DOCKER_HOST", &socket).docker_events(1, &[&die.to_string()]).args(&["genw", "--initial-delay", "0"]).status(1);
    assert!(run.error_line().contains("usecase-crowd") && run.error_line().contains("exit code 3"), "{}", run.dump());
    run.assert_stdout_lacks("older than eva-ha's minimum");
}

//! eva-master (`eva-ha ocf ACTION`) against fake systemctl, journalctl, docker and master
//! scripts: the OCF exit codes, the state kept between actions, the container watcher and
//! its verdict, Pacemaker's timeout. The real thing (ocf-tester, a Pacemaker cluster) is in
//! e2e_ocf.rs.

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::json;

const CRASH: &str = "cdb2e0d0f873ce5326e87cf7dec48de8da3043cfc950a7eba05a059150e873f5";

/// One resource instance: its own state directory under /run/eva-ha/ocf, removed (and its
/// watcher stopped) at the end.
struct Instance {
    name: String,
}

impl Instance {
    fn new(test: &str) -> Instance {
        Instance { name: format!("evatest-{test}-{}", std::process::id()) }
    }

    fn dir(&self) -> PathBuf {
        PathBuf::from("/run/eva-ha/ocf").join(&self.name)
    }

    fn watcher_pid(&self) -> i32 {
        let state: serde_json::Value = serde_json::from_slice(&std::fs::read(self.dir().join("state.json")).unwrap()).unwrap();
        state["watcher_pid"].as_i64().unwrap() as i32
    }

    /// An agent test: fake node and docker, the instance, the action.
    fn agent(&self, t: Test, action: &str) -> Test {
        t.clear_args().env("OCF_RESOURCE_INSTANCE", &self.name).args(&["ocf", action])
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Ok(state) = std::fs::read(self.dir().join("state.json"))
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&state)
            && let Some(pid) = v["watcher_pid"].as_i64()
        {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(self.dir());
    }
}

fn node() -> Test {
    Test::new().fake_docker()
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
}

#[test]
fn start_monitor_stop_keep_ocf_semantics() {
    let i = Instance::new("cycle");
    let run = i.agent(node(), "monitor").status(7);
    assert_eq!(run.changes(), Vec::<String>::new(), "a probe changes nothing\n{}", run.dump());

    let run = i.agent(run.test, "start").success();
    assert_eq!(run.changes(), ["start -- docker mongod.service postgresql-9.5.service"], "{}", run.dump());
    assert!(run.master("started").is_some(), "the master script did not run\n{}", run.dump());
    assert!(run.stdout.is_empty(), "a resource agent logs on stderr\n{}", run.dump());
    assert!(run.stderr.contains("EVA master started"), "{}", run.dump());
    let watcher = i.watcher_pid();
    assert!(alive(watcher), "no watcher");

    let run = i.agent(run.test, "monitor").success();
    // start on a running resource succeeds and changes nothing.
    let run = i.agent(run.test, "start").success();
    assert!(run.stderr.contains("already running"), "{}", run.dump());
    assert_eq!(run.changes().iter().filter(|c| c.starts_with("start")).count(), 1, "{}", run.dump());

    let run = i.agent(run.test, "stop").success();
    assert!(!alive(watcher), "the watcher survived stop");
    for id in ["docker.service", "mongod.service", "postgresql-9.5.service"] {
        assert_eq!(run.state(id), "inactive");
    }
    let run = i.agent(run.test, "monitor").status(7);
    i.agent(run.test, "stop").success();
}

#[test]
fn a_container_death_since_start_fails_the_monitor() {
    let i = Instance::new("death");
    let t = node();
    let run = i.agent(t, "start").success();
    // The watcher subscribed before it is killed below (else its replacement's would be the first).
    run.wait_calls_of("docker", "events", 1, Duration::from_secs(10));
    let at = now_ns() + 1_000_000_000;
    let finished = chrono::DateTime::from_timestamp_nanos(at).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    // The watcher's next subscription delivers a death that counts.
    let die = json!({"Type": "container", "Action": "die",
        "Actor": {"ID": CRASH, "Attributes": {"exitCode": "0", "exitCode-label": "x", "image": "eva/crowd:3.2", "name": "crowd"}},
        "time": at / 1_000_000_000, "timeNano": at});
    let state = json!({"Id": CRASH, "Name": "/crowd", "Config": {"Image": "eva/crowd:3.2", "Labels": {"exitCode": "0"}},
        "State": {"Running": false, "OOMKilled": false, "ExitCode": 3, "StartedAt": finished, "FinishedAt": finished}});
    let t = run.test.docker_inspect(CRASH, &state.to_string());
    // Kill the watcher: its replacement (started by monitor) subscribes again and gets it.
    let t = t.docker_events(2, &[&die.to_string()]);
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(i.watcher_pid()), nix::sys::signal::Signal::SIGKILL);
    let run = i.agent(t, "monitor").success();
    assert!(run.stderr.contains("is gone; starting another"), "{}", run.dump());
    let death = i.dir().join("death");
    assert!(wait_for(&death, Duration::from_secs(10)), "no verdict written\n{}", run.dump());
    let run = i.agent(run.test, "monitor").status(1);
    assert!(
        run.stderr.contains("container crowd (cdb2e0d0f873, image eva/crowd:3.2) died with exit code 3, not OOM-killed"),
        "{}",
        run.dump()
    );
    // A stop clears it; the next start is clean.
    let run = i.agent(run.test, "stop").success();
    assert!(!death.exists());
    i.agent(run.test, "monitor").status(7);
}

#[test]
fn a_unit_down_or_running_outside_the_cluster_is_an_error_not_7() {
    let i = Instance::new("units");
    let run = i.agent(node(), "start").success();
    let run = i.agent(run.test.unit("mongod.service", "state", "inactive\n"), "monitor").status(1);
    assert!(run.stderr.contains("unit(s) no longer active: mongod.service (inactive/dead)"), "{}", run.dump());
    let run = i.agent(run.test.unit("mongod.service", "state", "active\n"), "monitor").success();
    // The engine's unit while systemd restarts it is the watcher's to judge (it waits
    // daemon_grace); failed, it is down for good.
    let run = i.agent(run.test.unit("docker.service", "state", "activating\n"), "monitor").success();
    let run = i.agent(run.test.unit("docker.service", "state", "failed\n"), "monitor").status(1);
    assert!(run.stderr.contains("unit(s) no longer active: docker (failed, result exit-code)"), "{}", run.dump());
    let run = i.agent(run.test, "stop").success();

    // Running, but not started by the cluster (no state): partly or wholly, it is 1.
    let run = i.agent(run.test.active(&["docker.service"]), "monitor").status(1);
    assert!(run.stderr.contains("not started by the cluster, yet running here: docker"), "{}", run.dump());
}

#[test]
fn a_dead_watcher_is_replaced() {
    let i = Instance::new("watcher");
    let run = i.agent(node(), "start").success();
    // The first watcher subscribed before it is killed (the second subscription is its replacement's).
    run.wait_calls_of("docker", "events", 1, Duration::from_secs(10));
    let first = i.watcher_pid();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first), nix::sys::signal::Signal::SIGKILL).unwrap();
    let run = i.agent(run.test, "monitor").success();
    let second = i.watcher_pid();
    assert_ne!(first, second);
    assert!(alive(second), "{}", run.dump());
    // It subscribes again (taking over from the last check).
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while run.docker_calls_of("events").len() < 2 {
        assert!(std::time::Instant::now() < until, "no second subscription\n{}", run.dump());
        std::thread::sleep(Duration::from_millis(50));
    }
    i.agent(run.test, "stop").success();
    assert!(!alive(second));
}

#[test]
fn actions_and_parameters() {
    let i = Instance::new("actions");
    // meta-data needs no configuration.
    let run = i.agent(node().env("EVA_HA_CONFIG", "/nonexistent.toml"), "meta-data").success();
    assert!(run.stdout.starts_with("<?xml"), "{}", run.dump());
    for action in ["notify", "promote", "demote", "migrate_to", "reload", "bogus"] {
        let run = i.agent(node(), action).status(3);
        assert!(run.stderr.contains("is not implemented"), "{}", run.dump());
    }
    let run = node().args(&["ocf"]).status(2);
    assert!(run.stderr.contains("ACTION"), "{}", run.dump());

    i.agent(node(), "validate-all").success();
    let run = i.agent(node().unset_config("install_dir"), "validate-all").status(6);
    assert!(run.stderr.contains("install_dir is not configured"), "{}", run.dump());
    // OCF_RESKEY_ parameters override the file.
    let run = i.agent(node().env("OCF_RESKEY_install_dir", "/nonexistent/eva"), "validate-all").status(5);
    assert!(run.stderr.contains("/nonexistent/eva"), "{}", run.dump());
    let run = i.agent(node().env("OCF_RESKEY_token_format", "yaml"), "validate-all").status(6);
    assert!(run.stderr.contains("OCF_RESKEY_token_format"), "{}", run.dump());
    assert_eq!(run.changes(), Vec::<String>::new());
}

#[test]
fn the_action_fails_cleanly_inside_pacemakers_timeout() {
    let i = Instance::new("timeout");
    // 8 s from Pacemaker: a 5 s margin leaves 3 s, 1.5 s for the units and 1.5 s for the script.
    let t = node().write("master/start.sleep", "100").env("OCF_RESKEY_CRM_meta_timeout", "8000");
    let run = i.agent(t, "start").status(1);
    assert!(run.elapsed < Duration::from_secs(8), "{:?}\n{}", run.elapsed, run.dump());
    assert!(run.stderr.contains("timed out after 1.50s"), "{}", run.dump());
    run.assert_gone("master/child.pid");
    assert!(!i.dir().join("state.json").exists(), "a failed start left state");
}

#[test]
fn sigterm_during_an_action_is_a_generic_failure() {
    let i = Instance::new("signal");
    let mut running = i.agent(node().write("master/start.sleep", "100"), "start").launch();
    running.wait_master("sleeping");
    running.signal(nix::sys::signal::Signal::SIGTERM);
    let run = running.wait(Duration::from_secs(10));
    assert_eq!(run.code, Some(1), "OCF has no 128+N\n{}", run.dump());
}

/// What each Pacemaker's executor puts in an OCF agent's environment, from its source
/// (ClusterLabs/pacemaker, `lib/services/services_linux.c`, `set_ocf_env()` and
/// `add_action_env_vars()`): the operation's parameters as `OCF_RESKEY_<name>`, the
/// controller's meta attributes among them (`CRM_meta_timeout` in ms, `CRM_meta_interval` in
/// ms, 0 for a probe or a start), then `OCF_RA_VERSION_MAJOR`/`_MINOR` (1.0 up to 2.0.5, 1.1
/// from 2.1.0: `include/crm/common/agents.h` PCMK_OCF_MINOR_VERSION), `OCF_ROOT`,
/// `OCF_EXIT_REASON_PREFIX`, `OCF_RESOURCE_INSTANCE`, `_TYPE` and `_PROVIDER`; the rest is the
/// daemon's own environment, started by systemd (PATH and little else). Pacemaker passes no
/// EVA_HA_CONFIG: the configuration comes as the parameter `config`.
const PACEMAKERS: [(&str, &str); 3] = [("Pacemaker-1.1.18", "0"), ("Pacemaker-2.0.5", "0"), ("Pacemaker-2.1.5", "1")];

#[test]
fn the_agent_works_in_the_environment_each_pacemaker_gives_it() {
    for (tag, minor) in PACEMAKERS {
        let instance = format!("evatest-pcmk-{}-{}", tag.replace('.', "-"), std::process::id());
        let op = |t: Test, action: &str, interval_ms: &str| {
            let config = t.path("eva-ha.toml");
            t.clear_args()
                .invoked_as("eva-master")
                .arg(action)
                .without_env("EVA_HA_CONFIG")
                .env("OCF_RESKEY_config", config.to_str().unwrap())
                .env("OCF_RESKEY_CRM_meta_timeout", "120000")
                .env("OCF_RESKEY_CRM_meta_interval", interval_ms)
                .env("OCF_RESKEY_CRM_meta_name", if interval_ms == "0" { action } else { "monitor" })
                .env("OCF_RESKEY_CRM_meta_on_node", "node1")
                .env("OCF_RA_VERSION_MAJOR", "1")
                .env("OCF_RA_VERSION_MINOR", minor)
                .env("OCF_ROOT", "/usr/lib/ocf")
                .env("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")
                .env("OCF_RESOURCE_INSTANCE", &instance)
                .env("OCF_RESOURCE_TYPE", "eva-master")
                .env("OCF_RESOURCE_PROVIDER", "eva-ha")
        };
        let t = node();
        let run = op(t, "meta-data", "0").success();
        assert!(run.stdout.contains("<resource-agent name=\"eva-master\""), "{tag}\n{}", run.dump());
        // The probe before a start: not running (7), nothing changed.
        let run = op(run.test, "monitor", "0").env("OCF_RESKEY_CRM_meta_op_target_rc", "7").status(7);
        assert_eq!(run.changes(), Vec::<String>::new(), "{tag}\n{}", run.dump());
        let run = op(run.test, "start", "0").success();
        run.assert_states("active");
        let run = op(run.test, "monitor", "10000").success();
        let run = op(run.test, "stop", "0").success();
        run.assert_states("inactive");
        op(run.test, "monitor", "10000").status(7);
        let _ = std::fs::remove_dir_all(PathBuf::from("/run/eva-ha/ocf").join(&instance));
    }
}

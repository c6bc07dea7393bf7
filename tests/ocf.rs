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

/// A death that counts (exit 3) at `at_ns`, and the container's state, for the watcher.
fn counted_death(t: Test, n: usize, at_ns: i64, exit_code: i64) -> Test {
    let finished = chrono::DateTime::from_timestamp_nanos(at_ns).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let die = json!({"Type": "container", "Action": "die",
        "Actor": {"ID": CRASH, "Attributes": {"exitCode": exit_code.to_string(), "image": "eva/crowd:3.2", "name": "crowd"}},
        "time": at_ns / 1_000_000_000, "timeNano": at_ns});
    let state = json!({"Id": CRASH, "Name": "/crowd", "Config": {"Image": "eva/crowd:3.2", "Labels": {}},
        "State": {"Running": false, "OOMKilled": false, "ExitCode": exit_code, "StartedAt": finished, "FinishedAt": finished}});
    t.docker_inspect(CRASH, &state.to_string()).docker_events(n, &[&die.to_string()])
}

/// What the fake crm_resource was called with, one line a call.
fn crm_calls(t: &Test) -> Vec<String> {
    std::fs::read_to_string(t.path("pacemaker/calls")).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// Starts the agent, then has its watcher replaced (as monitor does when one is gone) by one
/// whose subscription delivers `exit_code`'s death: the death comes after the start has
/// settled, as in production.
fn started_then_death(i: &Instance, t: Test, exit_code: i64) -> Run {
    let t = t.env("OCF_RESKEY_CRM_meta_on_node", "node1");
    let run = i.agent(t, "start").success();
    run.wait_calls_of("docker", "events", 1, Duration::from_secs(10));
    let t = counted_death(run.test, 2, now_ns() + 1_000_000_000, exit_code);
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(i.watcher_pid()), nix::sys::signal::Signal::SIGKILL);
    let run = i.agent(t, "monitor").success();
    assert!(run.stderr.contains("is gone; starting another"), "{}", run.dump());
    run
}

#[test]
fn a_counted_death_is_told_to_pacemaker_at_once_after_the_verdict_and_only_once() {
    for (version, fail_count) in [("1.1.18", "2"), ("2.0.5", "2"), ("2.1.5", "2"), ("2.1.6", "1")] {
        let i = Instance::new(&format!("push-{}", version.replace('.', "")));
        let t = node().pacemaker(version).env("FAKE_PACEMAKER_DEATH", i.dir().join("death").to_str().unwrap());
        let run = started_then_death(&i, t, 3);
        assert!(wait_for(&i.dir().join("pushed"), Duration::from_secs(10)), "{version}: no push\n{}", run.dump());
        assert!(wait_for(&run.test.path(&format!("pacemaker/failcount.{}.node1", i.name)), Duration::from_secs(5)));
        assert_eq!(crm_calls(&run.test), [format!("--fail --resource {} --node node1", i.name)], "{version}");
        // The verdict was where monitor reads it before Pacemaker was told.
        let seen = std::fs::read_to_string(run.test.path(&format!("pacemaker/seen.{}", i.name))).unwrap_or_default();
        assert!(seen.contains("died with exit code 3"), "{version}: {seen:?}");
        // The fail count this Pacemaker ends with: 2 before 2.1.6 (a457eb83fe), else 1.
        let count = std::fs::read_to_string(run.test.path(&format!("pacemaker/failcount.{}.node1", i.name))).unwrap();
        assert_eq!(count.trim(), fail_count, "{version}");
        // monitor still says failed (the truth; the cluster is already recovering), and
        // no second push comes of it.
        let run = i.agent(run.test, "monitor").status(1);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(crm_calls(&run.test).len(), 1, "{version}\n{}", run.dump());
        let log = std::fs::read_to_string(i.dir().join("watcher.log")).unwrap_or_default();
        assert!(log.contains("told Pacemaker at once: `") && log.contains("crm_resource --fail --resource"), "{log}");
        // A stop clears the mark with the verdict.
        i.agent(run.test, "stop").success();
        assert!(!i.dir().join("pushed").exists());
    }
}

#[test]
fn an_ignored_exit_code_is_never_told() {
    let i = Instance::new("push-ignored");
    let run = started_then_death(&i, node().pacemaker("2.1.5"), 0);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(crm_calls(&run.test), Vec::<String>::new(), "{}", run.dump());
    let run = i.agent(run.test, "monitor").success();
    i.agent(run.test, "stop").success();
}

/// A watcher run by hand as the agent spawns one, on a state directory the test lays out:
/// `state.json` saying which watcher is the resource's (`watcher_pid`), or none.
fn watcher_on(t: Test, dir: &std::path::Path, watcher_pid: Option<i32>) -> Test {
    std::fs::create_dir_all(dir).unwrap();
    if let Some(pid) = watcher_pid {
        let state = json!({"started_ns": now_ns(), "watcher_pid": pid, "watched_until_ns": now_ns()});
        std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
    }
    let death = dir.join("death");
    counted_death(t, 1, now_ns() + 500_000_000, 3).args(&[
        "genw",
        "--initial-delay",
        "0",
        "--death-file",
        death.to_str().unwrap(),
        "--pacemaker-resource",
        "eva-master",
        "--pacemaker-node",
        "node1",
    ])
}

#[test]
fn a_watcher_whose_failure_is_no_longer_the_resources_never_tells() {
    // Left behind by a stop (no state), replaced (another watcher recorded), while an action
    // holds the agent's lock: the verdict is written, no push. (A planned stop that is
    // under way before the death: no verdict at all, below.)
    for case in ["no state", "replaced", "lock held"] {
        let t = node().pacemaker("2.1.5");
        let dir = t.path("ocf");
        let t = watcher_on(t, &dir, (case != "no state").then_some(if case == "replaced" { 1 } else { 0 }));
        let _held;
        if case == "lock held" {
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(t.path("eva-ha.lock")).unwrap();
            _held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, e)| e).unwrap();
        }
        // Its own pid is the resource's watcher, but for the cases that say otherwise.
        let own = case != "no state" && case != "replaced";
        let running = t.launch();
        if own {
            let pid = running.pid();
            let state = json!({"started_ns": now_ns(), "watcher_pid": pid, "watched_until_ns": now_ns()});
            std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
        }
        let run = running.wait(Duration::from_secs(20));
        assert_eq!(run.code, Some(1), "{case}\n{}", run.dump());
        assert!(dir.join("death").exists(), "{case}: the verdict is still recorded\n{}", run.dump());
        assert_eq!(crm_calls(&run.test), Vec::<String>::new(), "{case}\n{}", run.dump());
        let why = match case {
            "no state" => "the resource is stopped",
            "replaced" => "is no longer the resource's: pid 1 is",
            _ => "another eva-ha run is in progress",
        };
        run.assert_stdout_contains("not telling Pacemaker").assert_stdout_contains(why);
    }
    // During a planned stop (crm resource stop, a move) the death is the stop's doing.
    let t = node().pacemaker("2.1.5").write("state/planned-stop", "pid 1 since now\n");
    let dir = t.path("ocf");
    let mut running = watcher_on(t, &dir, None).launch();
    running.wait_stdout("not a failure, the node is being stopped", Duration::from_secs(10));
    running.signal(Signal::SIGTERM);
    let run = running.wait(Duration::from_secs(10));
    assert!(!dir.join("death").exists(), "{}", run.dump());
    assert_eq!(crm_calls(&run.test), Vec::<String>::new(), "{}", run.dump());
}

#[test]
fn a_push_that_hangs_is_cut_at_its_deadline_and_the_monitor_remains() {
    let t = node().pacemaker("2.1.5").write("pacemaker/hang", "");
    let dir = t.path("ocf");
    let running = watcher_on(t, &dir, None).launch();
    let state = json!({"started_ns": now_ns(), "watcher_pid": running.pid(), "watched_until_ns": now_ns()});
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
    let run = running.wait(Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.dump());
    run.assert_stdout_contains("could not tell Pacemaker").assert_stdout_contains("the next monitor reports the failure");
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    run.assert_gone("pacemaker/hang.pids");
}

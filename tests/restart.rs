//! `eva-ha restart` against the fake node: the group's monitors suspended on every server
//! (fake clpmonctrl/clpstat) or the Pacemaker resource unmanaged (fake crm_resource), the
//! master's stop and start scripts, a new configuration.json installed and put back, the
//! refusals that change nothing; and a stop made by hand that eva-genw --once alerts.
//!
//! The shared disk is `/proc` (a mount point on any Linux, never written: the node records
//! cannot be written there, which the restart only warns about), so that no test touches
//! this machine's state.

mod common;

use common::*;

const APP: &str = "4e4b7d0c0a5f7c3e9b1d2a6f8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e";
const OLD: &str = "{\"workerToken\": \"tok-SECRET-4f1c\", \"version\": 1}\n";
const NEW: &str = "{\"workerToken\": \"tok-SECRET-4f1c\", \"version\": 2}\n";

fn app_inspect() -> String {
    serde_json::json!({"Id": APP, "Name": "/usecase-crowd", "RestartCount": 0,
        "Config": {"Image": "eva/crowd:3.2", "Labels": {}},
        "State": {"Status": "running", "Running": true, "ExitCode": 0,
            "StartedAt": "2026-12-01T10:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"}})
    .to_string()
}

/// An active node: units up, the master's container running, the shared disk "mounted".
/// The engine probe asks docker's socket first: one in the node that nothing listens on,
/// so that the fake client answers, never this machine's engine.
fn active() -> Test {
    let t = Test::new();
    let socket = format!("unix://{}/docker.sock", t.path("").display().to_string().trim_end_matches('/'));
    t.env("DOCKER_HOST", &socket)
        .invoked_as_multi()
        .active(&IDS)
        .fake_docker()
        .docker_ps(&[APP])
        .docker_inspect(APP, &app_inspect())
        .config("shared_mount", "\"/proc\"")
        .write("eva/configuration.json", OLD)
        .arg("restart")
}

fn clusterpro(t: Test) -> Test {
    t.clusterpro().config("clp_monitors", "[\"genw-eva\", \"psw-mongod\"]")
}

fn lines(t: &Run, rel: &str) -> Vec<String> {
    std::fs::read_to_string(t.test.path(rel)).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[track_caller]
fn assert_resumed(run: &Run) {
    assert!(!run.test.path("state/monitoring-suspended").exists(), "{}", run.dump());
    assert!(!run.test.path("state/planned-stop").exists(), "{}", run.dump());
    assert_eq!(lines(run, "clusterpro/suspended"), Vec::<String>::new(), "{}", run.dump());
}

#[test]
fn under_clusterpro_each_monitor_is_suspended_on_each_server_then_resumed() {
    let run = clusterpro(active()).success();
    assert_eq!(
        lines(&run, "clusterpro/calls"),
        [
            "-s -h server1 -m genw-eva",
            "-s -h server1 -m psw-mongod",
            "-s -h server2 -m genw-eva",
            "-s -h server2 -m psw-mongod",
            "-r -h server1 -m genw-eva",
            "-r -h server1 -m psw-mongod",
            "-r -h server2 -m genw-eva",
            "-r -h server2 -m psw-mongod",
        ],
        "{}",
        run.dump()
    );
    assert_resumed(&run);
    assert_eq!(run.stop_script_runs(), 1, "{}", run.dump());
    assert_eq!(run.master("arg1").as_deref(), Some(&*format!("--token=\"{TOKEN}\"")), "{}", run.dump());
    // The units stay up: no systemctl start or stop.
    assert!(!run.calls().iter().any(|c| c.starts_with("start ") || c.starts_with("stop ")), "{:?}", run.calls());
    run.assert_stdout_contains("monitoring suspended").assert_stdout_contains("the master is back").assert_stdout_lacks(TOKEN);
}

#[test]
fn when_the_servers_cannot_be_listed_this_server_only_and_it_says_so() {
    let run = clusterpro(active()).write("clusterpro/clpstat.fail", "").success();
    assert_eq!(lines(&run, "clusterpro/calls")[0], "-s -m genw-eva", "{}", run.dump());
    run.assert_stdout_contains("on this server only");
    assert_resumed(&run);
}

#[test]
fn a_monitor_that_will_not_suspend_resumes_the_others_and_restarts_nothing() {
    let run = clusterpro(active()).write("clusterpro/down", "server2\n").status(1);
    assert_eq!(run.stop_script_runs(), 0, "{}", run.dump());
    assert!(run.error_line().contains("cannot suspend monitor genw-eva"), "{}", run.dump());
    assert_resumed(&run);
}

#[test]
fn under_pacemaker_the_resource_is_unmanaged_cleaned_up_and_managed_again() {
    for version in ["1.1.18", "2.1.5"] {
        let run = active().pacemaker(version).success();
        let calls = lines(&run, "pacemaker/calls");
        assert_eq!(
            calls,
            [
                "--resource eva-master --locate",
                "--resource eva-master --meta --get-parameter is-managed",
                "--resource eva-master --meta --set-parameter is-managed --parameter-value false",
                "--cleanup --resource eva-master",
                "--resource eva-master --meta --set-parameter is-managed --parameter-value true",
            ],
            "{version}: {}",
            run.dump()
        );
        assert_eq!(lines(&run, "pacemaker/meta.eva-master.is-managed"), ["true"], "{}", run.dump());
        assert_resumed(&run);
    }
}

#[test]
fn a_resource_an_administrator_had_unmanaged_is_left_unmanaged() {
    let run = active().pacemaker("2.1.5").write("pacemaker/meta.eva-master.is-managed", "false\n").success();
    let calls = lines(&run, "pacemaker/calls");
    assert_eq!(
        calls,
        [
            "--resource eva-master --locate",
            "--resource eva-master --meta --get-parameter is-managed",
            "--cleanup --resource eva-master",
        ],
        "{}",
        run.dump()
    );
    assert_eq!(lines(&run, "pacemaker/meta.eva-master.is-managed"), ["false"], "{}", run.dump());
    run.assert_stdout_contains("unmanaged already (is-managed=false, set before)");
    assert_resumed(&run);
}

#[test]
fn without_cluster_software_it_says_nothing_was_suspended() {
    let run = active().success();
    run.assert_stdout_contains("nothing suspended");
    assert_eq!(run.stop_script_runs(), 1, "{}", run.dump());
}

#[test]
fn on_a_standby_node_it_refuses_and_changes_nothing() {
    let t = clusterpro(active());
    let root = t.path("").display().to_string();
    let run = t.config("shared_mount", &format!("\"{}\"", root.trim_end_matches('/'))).status(1);
    assert!(run.error_line().contains("this is not the active node"), "{}", run.dump());
    assert_eq!(lines(&run, "clusterpro/calls"), Vec::<String>::new());
    assert_eq!(run.stop_script_runs(), 0);
}

#[test]
fn a_frozen_or_absent_engine_is_refused_before_anything_changes() {
    let run = clusterpro(active()).docker_down().status(1);
    assert!(run.error_line().contains("does not answer"), "{}", run.dump());
    assert_eq!(lines(&run, "clusterpro/calls"), Vec::<String>::new());
    assert_eq!(run.stop_script_runs(), 0);
}

#[test]
fn a_new_configuration_without_a_worker_token_is_refused() {
    let t = clusterpro(active()).write("new.json", "{\"version\": 2}\n");
    let new = t.path("new.json").display().to_string();
    let run = t.args(&["--master-config", &new]).status(6);
    assert!(run.error_line().contains("workerToken is missing"), "{}", run.dump());
    assert_eq!(std::fs::read_to_string(run.test.path("eva/configuration.json")).unwrap(), OLD);
    assert_eq!(lines(&run, "clusterpro/calls"), Vec::<String>::new());
    let run = run
        .test
        .fork()
        .clear_args()
        .args(&["restart", "--master-config", &run.test.path("nope.json").display().to_string()])
        .status(5);
    assert_eq!(run.stop_script_runs(), 0);
}

#[test]
fn a_new_configuration_is_installed_and_the_previous_kept() {
    let t = clusterpro(active()).write("new.json", NEW).mode("eva/configuration.json", 0o640);
    let new = t.path("new.json").display().to_string();
    let run = t.args(&["--master-config", &new]).success();
    let dest = run.test.path("eva/configuration.json");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), NEW);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o7777, 0o640);
    let kept: Vec<_> = std::fs::read_dir(run.test.path("eva"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("configuration.json."))
        .collect();
    assert_eq!(kept.len(), 1, "{}", run.dump());
    assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), OLD);
    assert_resumed(&run);
}

#[test]
fn a_master_that_will_not_start_gets_the_previous_configuration_and_one_more_restart() {
    let t = clusterpro(active()).write("new.json", NEW).write("master/start.exit", "3");
    let new = t.path("new.json").display().to_string();
    let run = t.clplogcmd().args(&["--master-config", &new]).status(1);
    assert!(run.error_line().contains("the start script failed"), "{}", run.dump());
    assert!(run.error_line().contains("previous configuration.json put back"), "{}", run.dump());
    assert_eq!(std::fs::read_to_string(run.test.path("eva/configuration.json")).unwrap(), OLD);
    assert_eq!(run.stop_script_runs(), 2, "{}", run.dump());
    assert_resumed(&run);
    assert!(!run.alerts().is_empty(), "the failure goes to the alert log: {}", run.dump());
}

#[test]
fn a_failed_stop_script_without_a_new_configuration_is_not_retried() {
    let run = clusterpro(active()).write("master/stop.exit", "2").status(1);
    assert!(run.error_line().contains("the stop script failed"), "{}", run.dump());
    assert_eq!(run.stop_script_runs(), 1);
    assert_resumed(&run);
}

#[test]
fn containers_that_do_not_come_back_fail_the_check_and_nothing_is_restarted_again() {
    // The start script succeeds, but usecase-crowd does not run again within daemon_grace.
    let run = clusterpro(active()).config("daemon_grace", "1").write("master/stop.forget", "").status(1);
    assert!(
        run.error_line().contains("did not all run again within 1s (not running: usecase-crowd); not restarting again"),
        "{}",
        run.dump()
    );
    assert_eq!((run.stop_script_runs(), run.master("started").is_some()), (1, true), "one stop, one start\n{}", run.dump());
    assert_resumed(&run);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = clusterpro(active()).write("new.json", NEW);
    let new = t.path("new.json").display().to_string();
    let run = t.args(&["--master-config", &new, "--dry-run"]).success();
    run.assert_stdout_contains("suspend the monitoring").assert_stdout_contains("dry run: nothing changed");
    assert_eq!(lines(&run, "clusterpro/calls"), Vec::<String>::new());
    assert_eq!(run.stop_script_runs(), 0);
    assert_eq!(std::fs::read_to_string(run.test.path("eva/configuration.json")).unwrap(), OLD);
}

#[test]
fn a_suspension_left_behind_is_reported_by_status() {
    let t = Test::new()
        .invoked_as_multi()
        .write("state/monitoring-suspended", "monitoring suspended by eva-ha restart at 2026-12-01T10:00:00+09:00 (pid 1): x\n")
        .config("shared_mount", "\"/proc\"")
        .args(&["status"]);
    let run = t.success();
    run.assert_stdout_contains("monitoring suspended by eva-ha restart at 2026-12-01T10:00:00+09:00");
}

#[test]
fn a_stop_by_hand_past_its_grace_is_alerted_by_genw_once_without_failing() {
    let t = Test::new()
        .invoked_as_multi()
        .fake_docker()
        .clplogcmd()
        .write("state/planned-stop", "pid 1 since 2020-01-01T00:00:00+00:00 cause hand\n")
        .args(&["genw", "--once"]);
    let run = t.success();
    run.assert_stdout_contains("stopped by hand (eva-stop) at 2020-01-01T00:00:00+00:00");
    assert_eq!(run.alerts().len(), 1, "{}", run.dump());
    // Said again only after another grace.
    let again = run.test.fork().success();
    assert_eq!(again.alerts().len(), 1, "{}", again.dump());
    // A stop by the cluster is never alerted.
    let t = Test::new()
        .invoked_as_multi()
        .fake_docker()
        .clplogcmd()
        .write("state/planned-stop", "pid 1 since 2020-01-01T00:00:00+00:00 cause cluster\n")
        .args(&["genw", "--once"]);
    assert!(t.success().alerts().is_empty());
}

#[test]
fn eva_stop_records_what_made_the_stop() {
    let run = Test::new().invoked_as("eva-stop").active(&IDS).success();
    let marker = std::fs::read_to_string(run.test.path("state/planned-stop")).unwrap();
    assert!(marker.trim_end().ends_with("cause hand"), "{marker}");
    let run = Test::new().invoked_as("eva-stop").env("CLP_EVENT", "STOP").active(&IDS).success();
    let marker = std::fs::read_to_string(run.test.path("state/planned-stop")).unwrap();
    assert!(marker.trim_end().ends_with("cause cluster"), "{marker}");
}

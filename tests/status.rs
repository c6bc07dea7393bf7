//! `eva-ha status` against the fake node: the role, the units, the runs eva-start and
//! eva-stop recorded, the containers, the lock; within 2 s when the engine hangs.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const APP: &str = "4e4b7d0c0a5f7c3e9b1d2a6f8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e";

fn status_json(t: Test) -> Value {
    let run = t.args(&["status", "--json"]).success();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()))
}

fn app_inspect() -> String {
    serde_json::json!({"Id": APP, "Name": "/usecase-crowd", "RestartCount": 2,
        "Config": {"Image": "eva/crowd:3.2", "Labels": {}},
        "State": {"Status": "running", "Running": true, "ExitCode": 0, "Health": {"Status": "healthy"},
            "StartedAt": "2026-12-01T10:00:00Z", "FinishedAt": "2026-12-01T09:59:59Z"}})
    .to_string()
}

#[test]
fn after_a_start_it_shows_the_units_the_run_and_the_containers() {
    let started = Test::new().invoked_as("eva-start").env("CLP_EVENT", "START").env("CLP_SERVER", "HOME").success();
    let t =
        started.test.fork().clear_args().invoked_as_multi().fake_docker().docker_ps(&[APP]).docker_inspect(APP, &app_inspect());
    let doc = status_json(t);
    let units = doc["units"].as_array().unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(units.len(), 3, "{doc}");
    assert!(units.iter().all(|u| u["active"] == true), "{doc}");
    let start = &doc["runs"]["eva-start"];
    assert_eq!((start["result"].as_str(), start["status"].as_u64()), (Some("ok"), Some(0)), "{doc}");
    assert!(start["context"].as_str().unwrap().contains("CLP_EVENT=START"), "{doc}");
    assert!(doc["runs"]["eva-stop"].is_null(), "{doc}");
    let app = &doc["containers"][0];
    assert_eq!(app["name"], "usecase-crowd", "{doc}");
    assert_eq!(
        (app["state"].as_str(), app["restart_count"].as_u64(), app["health"].as_str()),
        (Some("running"), Some(2), Some("healthy"))
    );
    assert_eq!(doc["lock"]["held_by"], Value::Null, "{doc}");
    assert!(doc["role"]["unknown"].as_str().unwrap().contains("shared_mount is not configured"), "{doc}");
    let changes = started.changes().len();
    let again = started.test.fork().clear_args().invoked_as_multi().args(&["status"]).success();
    assert_eq!(again.changes().len(), changes, "status changes nothing\n{}", again.dump());
}

#[test]
fn a_failed_stop_is_recorded_with_its_error_line() {
    let run = Test::new().active(&IDS).unit("docker.service", "stuck", "").invoked_as("eva-stop").status(1);
    let doc = status_json(run.test.fork().clear_args().invoked_as_multi());
    let stop = &doc["runs"]["eva-stop"];
    assert_eq!((stop["result"].as_str(), stop["status"].as_u64()), (Some("failed"), Some(1)), "{doc}");
    assert!(stop["error"].as_str().unwrap().contains("would not stop: docker"), "{doc}");
    let text = run.test.fork().clear_args().invoked_as_multi().args(&["status"]).success();
    text.assert_stdout_contains("eva-stop    failed at ").assert_stdout_contains("would not stop: docker").assert_token_hidden();
}

#[test]
fn a_hanging_engine_is_unknown_and_the_answer_comes_within_two_seconds() {
    let t = Test::new().fake_docker().write("docker/hang", "").args(&["status"]);
    let run = t.success();
    run.assert_stdout_contains("containers  unknown: ").assert_elapsed_below(Duration::from_millis(2500));
    run.assert_stdout_contains("unit        docker inactive");
}

#[test]
fn the_lock_holder_is_named() {
    let t = Test::new().write("master/start.hold", "").invoked_as("eva-start");
    let mut holding = t.fork().launch();
    holding.wait_master("holding");
    let run = t.clear_args().invoked_as_multi().args(&["status"]).success();
    run.assert_stdout_contains(&format!("held by pid {} (eva-start)", holding.pid()));
    std::fs::write(run.root.join("master/release"), "").unwrap();
    let _ = holding.wait(Duration::from_secs(10));
}

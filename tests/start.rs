//! eva-start against fake systemctl/journalctl and stand-in master scripts.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn starts_units_in_one_call_then_the_master_with_the_jq_token() {
    let run = Test::new().invoked_as("eva-start").success();
    assert_eq!(run.changes(), [START_CALL], "{}", run.dump());
    run.assert_states("active");
    assert_eq!(run.master("arg1").unwrap(), format!("--token=\"{TOKEN}\""));
    assert_eq!(run.master("argc").unwrap(), "1");
    assert_eq!(run.master("cwd").unwrap().trim(), run.root.join("eva").to_str().unwrap());
    assert_eq!(run.stderr, "", "{}", run.dump());
    run.assert_token_hidden()
        .assert_stdout_contains("--token=***")
        .assert_stdout_contains("start-master: got --token=***")
        .assert_stdout_contains("start-master: to stderr --token=***")
        .assert_stdout_contains("EVA master started");
}

#[test]
fn raw_token_format_from_flag_environment_or_file_passes_the_bare_token() {
    let raw = format!("--token={TOKEN}");
    let runs = [
        Test::new().invoked_as("eva-start").args(&["--token-format", "raw"]).success(),
        Test::new().invoked_as("eva-start").env("EVA_HA_TOKEN_FORMAT", "raw").success(),
        Test::new().invoked_as("eva-start").config("token_format", "\"raw\"").success(),
    ];
    for run in &runs {
        assert_eq!(run.master("arg1").unwrap(), raw, "{}", run.dump());
        assert_eq!(run.master("argc").unwrap(), "1");
        run.assert_token_hidden().assert_stdout_contains("(raw format)").assert_stdout_contains("got --token=***");
    }
    // The flag beats the file.
    let run = Test::new().invoked_as("eva-start").config("token_format", "\"raw\"").args(&["--token-format", "json"]).success();
    assert_eq!(run.master("arg1").unwrap(), format!("--token=\"{TOKEN}\""));
}

/// Tokens as they may appear in configuration.json (JSON text). Each holds `SECRET`, which
/// must then appear nowhere in our output.
const TRICKY_TOKENS: &[&str] = &[
    r#""SECRET-plain-0123""#,
    r#""SECRET \"quoted\" 'single'""#,
    r#""SECRET back\\slash \\\\ double \\""#,
    r#""SECRET with  spaces and a trailing space ""#,
    r#""SECRET non-ASCII: é 日本語 😀""#,
    r#""SECRET escaped non-ASCII: \u00e9 \u65e5 \ud83d\ude00 \/""#,
    r#""SECRET newline\nand tab\tand CR\r and \b \f""#,
    r#""SECRET controls \u0001 \u001f \u007f end""#,
    r#""SECRET $(id) `id` ${HOME} * ; | & > <""#,
    r#""--SECRET=-x -- --token=y""#,
];

/// The bytes `jq .workerToken FILE` prints, without its trailing newline.
fn jq_token(file: &std::path::Path) -> Vec<u8> {
    let out = Command::new("jq").arg(".workerToken").arg(file).output().unwrap();
    assert!(out.status.success(), "jq failed on {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    let mut bytes = out.stdout;
    assert_eq!(bytes.pop(), Some(b'\n'), "jq output ends with a newline");
    bytes
}

#[test]
fn json_token_matches_live_jq_byte_for_byte() {
    let jq_present = Command::new("jq").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require("jq (for the live comparison with jq .workerToken)", jq_present) {
        return;
    }
    for json in TRICKY_TOKENS {
        let run = Test::new().invoked_as("eva-start").worker_token_json(json).run();
        assert_eq!(run.code, Some(0), "token {json}\n{}", run.dump());
        let want = jq_token(&run.root.join("configuration.json"));
        let arg = run.master_bytes("arg1").unwrap();
        let got = arg.strip_prefix(b"--token=").unwrap_or_else(|| panic!("token {json}: arg1 lacks --token="));
        assert_eq!(
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(&want),
            "token {json}: eva-ha passed other bytes than jq prints"
        );
        assert_eq!(got, &want[..], "token {json}");
        assert_eq!(run.master("argc").unwrap(), "1", "token {json}: one argument");
        for out in [&run.stdout, &run.stderr] {
            assert!(!out.contains("SECRET"), "token {json} leaked\n{}", run.dump());
        }
        run.assert_stdout_contains("got --token=***");
    }
}

// ---------------------------------------------------------------------------------------
// Validation: refused before anything is touched.

/// Runs eva-start on `t`, expects `code` and an error line containing `needles`, and that
/// nothing was started.
#[track_caller]
fn refused(t: Test, code: i32, needles: &[&str]) -> Run {
    let run = t.invoked_as("eva-start").status(code);
    run.assert_error("eva-start", needles).assert_untouched().assert_states("inactive");
    run
}

#[test]
fn refuses_without_install_dir() {
    let t = Test::new().unset_config("install_dir");
    let file = t.path("eva-ha.toml");
    refused(t, 6, &["install_dir is not configured", file.to_str().unwrap(), "EVA_HA_INSTALL_DIR"]);
}

#[test]
fn refuses_a_nonexistent_install_dir() {
    let t = Test::new();
    let dir = t.path("no-such-dir");
    let t = t.args(&["--install-dir", dir.to_str().unwrap()]);
    refused(t, 5, &["install_dir", dir.to_str().unwrap(), "(flag --install-dir) does not exist"]);
}

#[test]
fn refuses_a_missing_start_script() {
    let t = Test::new().remove("eva/start-master-rhel.sh");
    let script = t.path("eva/start-master-rhel.sh");
    refused(t, 5, &["start script", script.to_str().unwrap(), "does not exist"]);
}

#[test]
fn refuses_a_start_script_that_is_not_executable() {
    let t = Test::new().mode("eva/start-master-rhel.sh", 0o644);
    let script = t.path("eva/start-master-rhel.sh");
    refused(t, 5, &["start script", script.to_str().unwrap(), "is not executable"]);
}

#[test]
fn refuses_a_missing_worker_config() {
    let t = Test::new().remove("configuration.json");
    let file = t.path("configuration.json");
    refused(t, 5, &["worker config", file.to_str().unwrap(), "does not exist"]);
}

#[test]
fn refuses_a_worker_config_that_is_not_json() {
    let t = Test::new().write("configuration.json", &format!("{{\"workerToken\": \"{TOKEN}\" \"masterIp\": 1}}\n"));
    let file = t.path("configuration.json");
    refused(t, 6, &["worker config", file.to_str().unwrap(), "invalid JSON"]);
}

#[test]
fn refuses_a_worker_token_that_is_missing_null_a_number_or_empty() {
    for (json, problem) in [
        (None, "key workerToken is missing"),
        (Some("null"), "key workerToken is null, expected a string"),
        (Some("42"), "key workerToken is a number, expected a string"),
        (Some("\"\""), "key workerToken is an empty string"),
    ] {
        let t = match json {
            Some(json) => Test::new().worker_token_json(json),
            None => Test::new().write("configuration.json", "{\"masterIp\": \"10.0.0.1\"}\n"),
        };
        let file = t.path("configuration.json");
        refused(t, 6, &["worker config", file.to_str().unwrap(), problem]);
    }
}

#[test]
fn refuses_when_the_cluster_reports_the_disk_failed() {
    let run = refused(
        Test::new().env("CLP_DISK", "FAILURE").env("CLP_EVENT", "START"),
        1,
        &["CLP_DISK=FAILURE", "shared disk", "not starting"],
    );
    run.assert_stdout_contains("cluster: CLP_EVENT=START CLP_DISK=FAILURE");
}

#[test]
fn refuses_a_unit_that_is_not_installed() {
    let t = Test::new().unit("mongod.service", "missing", "");
    refused(t, 5, &["unit mongod.service is not installed"]);
}

#[test]
fn refuses_an_unknown_key_in_the_configuration_file() {
    let t = Test::new().config("instal_dir", "\"/typo\"");
    let file = t.path("eva-ha.toml");
    let run = refused(t, 6, &[file.to_str().unwrap(), "unknown field `instal_dir`"]);
    assert_eq!(run.stdout.lines().count(), 1, "only the error line\n{}", run.dump());
}

#[test]
fn refuses_an_explicit_configuration_file_that_is_missing() {
    let t = Test::new();
    let file = t.path("nowhere/eva-ha.toml");
    refused(
        t.args(&["--config", file.to_str().unwrap()]),
        6,
        &["configuration file", file.to_str().unwrap(), "(given with --config or the OCF parameter config) does not exist"],
    );
}

// ---------------------------------------------------------------------------------------
// Failures after the start began: reported, and what this run started is put back.

#[test]
fn a_unit_that_fails_is_named_with_its_journal_and_the_others_are_rolled_back() {
    let run = Test::new().invoked_as("eva-start").unit("mongod.service", "fail", "").status(1);
    run.assert_error("eva-start", &["mongod.service (failed", "exit-code", "did not start"])
        .assert_stdout_contains("journal mongod.service: 2026-11-25T10:00:00+0000 node fake[1]: journal line 1 of mongod.service")
        .assert_stdout_contains("journal line 2 of mongod.service")
        .assert_stdout_contains("WARN the start failed; rolling back: the units this run started")
        .assert_stdout_contains("rollback: stopped docker, postgresql-9.5.service");
    assert_eq!(run.master("argc"), None, "the master script must not run\n{}", run.dump());
    assert_eq!(run.changes(), [START_CALL, "stop -- docker postgresql-9.5.service"], "{}", run.dump());
    assert_eq!(run.state("docker.service"), "inactive");
    assert_eq!(run.state("postgresql-9.5.service"), "inactive");
    assert_eq!(run.state("mongod.service"), "failed");
    assert_eq!(run.stop_script_runs(), 0, "the master never ran: no stop script\n{}", run.dump());
}

#[test]
fn no_rollback_leaves_the_started_units_running() {
    let run = Test::new().invoked_as("eva-start").unit("mongod.service", "fail", "").arg("--no-rollback").status(1);
    run.assert_error("eva-start", &["mongod.service"]).assert_stdout_contains("rollback disabled");
    assert_eq!(run.changes(), [START_CALL], "{}", run.dump());
    assert_eq!(run.state("docker.service"), "active");
    assert_eq!(run.state("postgresql-9.5.service"), "active");
    assert_eq!(run.master("argc"), None);
}

#[test]
fn rollback_leaves_units_that_were_already_running() {
    let run = Test::new().invoked_as("eva-start").active(&["docker.service"]).unit("mongod.service", "fail", "").status(1);
    run.assert_error("eva-start", &["mongod.service"]);
    assert_eq!(run.changes(), [START_CALL, "stop -- postgresql-9.5.service"], "{}", run.dump());
    assert_eq!(run.state("docker.service"), "active");
    assert_eq!(run.state("postgresql-9.5.service"), "inactive");
}

#[test]
fn a_failing_master_script_is_named_and_rolled_back_with_the_stop_script() {
    let run = Test::new().invoked_as("eva-start").write("master/start.exit", "3").status(1);
    let script = run.root.join("eva/start-master-rhel.sh");
    run.assert_error("eva-start", &[script.to_str().unwrap(), "--token=***", "exit status 3", "to stderr --token=***"]);
    assert_eq!(run.stop_script_runs(), 1, "rollback runs the stop script\n{}", run.dump());
    assert_eq!(run.master("stop.saw").unwrap().trim(), "docker mongod.service postgresql-9.5.service");
    assert_eq!(run.changes(), [START_CALL, STOP_CALL], "{}", run.dump());
    run.assert_states("inactive");
}

#[test]
fn a_hung_master_script_times_out_and_leaves_no_process_behind() {
    let run = Test::new().invoked_as("eva-start").write("master/start.sleep", "100").args(&["--script-timeout", "1"]).status(1);
    run.assert_error("eva-start", &["start-master-rhel.sh", "timed out after 1s", "process group was killed"])
        .assert_gone("master/script.pid")
        .assert_gone("master/child.pid")
        .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.master("started"), None);
    assert_eq!(run.stop_script_runs(), 1, "{}", run.dump());
    run.assert_states("inactive");
}

#[test]
fn a_hung_unit_start_times_out_and_leaves_no_process_behind() {
    let run = Test::new().invoked_as("eva-start").unit("docker.service", "hang", "").args(&["--unit-timeout", "1"]).status(1);
    run.assert_error(
        "eva-start",
        &["docker (activating/start)", "did not start", "systemctl start -- docker", "timed out after 1s"],
    )
    .assert_gone("systemd/docker.service.pids")
    .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.master("argc"), None, "the master script must not run\n{}", run.dump());
    // The fake got no further than docker; the rollback stops what is still activating.
    assert_eq!(run.changes(), [START_CALL, "stop -- docker"], "{}", run.dump());
    assert_eq!(run.state("docker.service"), "inactive");
}

#[test]
fn sigterm_and_sigint_stop_the_master_script_and_exit_128_plus_n() {
    for (signal, code, name) in [(Signal::SIGTERM, 143, "SIGTERM"), (Signal::SIGINT, 130, "SIGINT")] {
        let mut running = Test::new().invoked_as("eva-start").clplogcmd().write("master/start.sleep", "100").launch();
        running.wait_master("sleeping").signal(signal);
        let run = running.wait(Duration::from_secs(10));
        assert_eq!(run.code, Some(code), "{name}\n{}", run.dump());
        run.assert_error("eva-start", &["start-master-rhel.sh", &format!("we received {name}")])
            .assert_stdout_contains("interrupted: not rolling back")
            .assert_gone("master/script.pid")
            .assert_gone("master/child.pid")
            .assert_elapsed_below(Duration::from_secs(8));
        assert_eq!(run.master("started"), None);
        // Interrupted: the cluster will run its stop action; we only took our children down.
        assert_eq!(run.changes(), [START_CALL], "{}", run.dump());
        assert_eq!(run.stop_script_runs(), 0);
        // No time left for the alert log: the cluster reports its own timeout.
        assert_eq!(run.alerts(), Vec::<Vec<String>>::new());
    }
}

#[test]
fn sigterm_during_a_hung_unit_start_exits_143_naming_systemctl_start() {
    let running = Test::new().invoked_as("eva-start").unit("docker.service", "hang", "").launch();
    let pids = running.test.path("systemd/docker.service.pids");
    assert!(wait_for(&pids, Duration::from_secs(10)), "the fake systemctl never hung");
    running.signal(Signal::SIGTERM);
    let run = running.wait(Duration::from_secs(10));
    assert_eq!(run.code, Some(143), "{}", run.dump());
    run.assert_error("eva-start", &["systemctl start -- docker", "we received SIGTERM"])
        .assert_stdout_contains("interrupted: not rolling back")
        .assert_gone("systemd/docker.service.pids")
        .assert_elapsed_below(Duration::from_secs(8));
    assert_eq!(run.master("argc"), None, "the master script must not run\n{}", run.dump());
    assert_eq!(run.changes(), [START_CALL], "{}", run.dump());
}

#[test]
fn the_lock_keeps_a_second_run_out_and_is_free_again_afterwards() {
    let mut first = Test::new().invoked_as("eva-start").write("master/start.hold", "").launch();
    first.wait_master("holding");
    let lock = first.test.path("eva-ha.lock");

    let second = first.test.fork().invoked_as("eva-stop").args(&["--lock-timeout", "0.5"]).status(1);
    second.assert_error(
        "eva-stop",
        &[
            &format!("lock {} is still held by pid {} (eva-start)", lock.display(), first.pid()),
            "another eva-ha run is in progress",
        ],
    );
    assert_eq!(second.stop_script_runs(), 0, "the stop must not have begun\n{}", second.dump());
    assert_eq!(second.changes(), [START_CALL], "{}", second.dump());

    first.test.node.write("master/release", "");
    let first = first.wait(Duration::from_secs(10));
    assert_eq!(first.code, Some(0), "{}", first.dump());
    first.assert_states("active");

    let again = first.test.fork().invoked_as("eva-stop").args(&["--lock-timeout", "0.5"]).success();
    assert_eq!(again.stop_script_runs(), 1);
    again.assert_states("inactive");
}

#[test]
fn daemons_the_master_script_leaves_running_do_not_hold_the_lock() {
    let run = Test::new().invoked_as("eva-start").write("master/start.daemon", "").success();
    let daemon = run.pids("master/daemon.pid")[0];
    let still_running = alive(daemon);
    let stop = run.test.fork().invoked_as("eva-stop").args(&["--lock-timeout", "0.5"]).run();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(daemon), Signal::SIGKILL);
    assert!(still_running, "the daemon should outlive eva-start\n{}", run.dump());
    assert_eq!(stop.code, Some(0), "{}", stop.dump());
}

// ---------------------------------------------------------------------------------------
// The cluster's context, and how we log.

const CLUSTER_ENV: [(&str, &str); 6] = [
    ("CLP_EVENT", "FAILOVER"),
    ("CLP_SERVER", "OTHER"),
    ("CLP_DISK", "SUCCESS"),
    ("CLP_FACTOR", "GROUPFAILOVER"),
    ("CLP_GROUPNAME", "failover-eva"),
    ("CLP_RESOURCENAME", "exec-eva"),
];

fn in_cluster(t: Test) -> Test {
    CLUSTER_ENV.iter().fold(t, |t, (k, v)| t.env(k, v))
}

#[test]
fn cluster_variables_are_logged_on_one_line() {
    let run = in_cluster(Test::new().invoked_as("eva-start")).success();
    let want = "cluster: CLP_EVENT=FAILOVER CLP_SERVER=OTHER CLP_DISK=SUCCESS CLP_FACTOR=GROUPFAILOVER \
                CLP_GROUPNAME=failover-eva CLP_RESOURCENAME=exec-eva";
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains("cluster: ")).collect();
    assert_eq!(lines.len(), 1, "{}", run.dump());
    assert!(lines[0].ends_with(want), "{}\n{}", lines[0], run.dump());
    assert!(lines[0].contains(" INFO "), "{}", lines[0]);
}

#[test]
fn a_failure_goes_to_the_cluster_alert_log_without_the_token() {
    let run = in_cluster(Test::new().invoked_as("eva-start").clplogcmd().write("master/start.exit", "3")).status(1);
    run.assert_error("eva-start", &["exit status 3"]);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}\n{}", run.dump());
    let args = &alerts[0];
    let message = args.flag("-m").unwrap_or_else(|| panic!("no -m MESSAGE: {args:?}"));
    assert_eq!(args, &["-m", message, "-l", "ERR"], "{args:?}");
    assert!(message.starts_with("eva-start failed: "), "{message}");
    assert!(message.contains("exit status 3"), "{message}");
    assert!(message.contains("--token=***"), "{message}");
    assert!(!message.contains(TOKEN) && !message.contains("SECRET"), "token in the alert: {message}");
    assert!(message.len() <= 511, "clplogcmd takes at most 511 bytes: {}", message.len());
}

#[test]
fn a_validation_failure_also_goes_to_the_alert_log() {
    let run = Test::new().invoked_as("eva-start").clplogcmd().unit("mongod.service", "missing", "").status(5);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{}", run.dump());
    assert_eq!(
        alerts[0].flag("-m"),
        Some("eva-start failed: unit mongod.service is not installed (systemctl: LoadState=not-found)")
    );
}

#[test]
fn success_sends_no_alert() {
    let run = in_cluster(Test::new().invoked_as("eva-start").clplogcmd()).success();
    assert_eq!(run.alerts(), Vec::<Vec<String>>::new());
    assert!(!run.root.join("clplogcmd.log").exists());
}

#[test]
fn json_log_format_gives_one_object_per_line() {
    for t in [
        Test::new().invoked_as("eva-start").args(&["--log-format", "json"]),
        Test::new().invoked_as("eva-start").env("EVA_HA_LOG_FORMAT", "json").write("master/start.exit", "3"),
    ] {
        let run = t.run();
        assert!(run.stdout.lines().count() >= 4, "{}", run.dump());
        let mut with_elapsed = 0;
        for line in run.stdout.lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{}", run.dump()));
            let obj = v.as_object().unwrap_or_else(|| panic!("not an object: {line}"));
            let level = obj["level"].as_str().unwrap();
            assert!(["INFO", "WARN", "ERROR"].contains(&level), "{line}");
            assert!(obj["message"].as_str().is_some_and(|m| !m.is_empty()), "{line}");
            assert!(obj["timestamp"].is_string(), "{line}");
            with_elapsed += obj.get("elapsed").is_some_and(|e| e.as_str().is_some_and(|s| s.ends_with('s'))) as usize;
        }
        assert!(with_elapsed >= 1, "steps carry an elapsed field\n{}", run.dump());
        run.assert_token_hidden();
        if run.code == Some(1) {
            let last: serde_json::Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
            assert_eq!(last["level"], "ERROR");
            assert!(last["message"].as_str().unwrap().starts_with("eva-start: "), "{last}");
        } else {
            assert_eq!(run.code, Some(0), "{}", run.dump());
        }
    }
}

#[test]
fn quiet_drops_info_lines_but_keeps_the_error() {
    let run = Test::new().invoked_as("eva-start").arg("-q").success();
    assert_eq!(run.stdout, "", "nothing to say on success with -q\n{}", run.dump());

    let run = Test::new().invoked_as("eva-start").arg("-q").write("master/start.exit", "3").status(1);
    run.assert_error("eva-start", &["exit status 3"]);
    assert!(!run.stdout.contains(" INFO "), "{}", run.dump());

    let run = Test::new().invoked_as("eva-start").arg("-qq").unit("mongod.service", "fail", "").status(1);
    run.assert_error("eva-start", &["mongod.service"]);
    assert!(run.stdout.lines().all(|l| l.contains(" ERROR ")), "{}", run.dump());
}

#[test]
fn verbose_shows_the_commands_run() {
    let run = Test::new().invoked_as("eva-start").arg("-v").success();
    run.assert_stdout_contains(" DEBUG running ").assert_stdout_contains("systemctl start -- docker").assert_token_hidden();
}

/// The run's own shared disk: a tmpfs mounted at `shared` in a mount namespace of the run's
/// own (nothing of this machine is mounted or written), laid out from `seed` first.
fn on_a_shared_disk_of_its_own(t: Test, shared: &std::path::Path, seed: &std::path::Path) -> Test {
    let script = r#"mount -t tmpfs eva-shared "$0" && cp -a "$1/." "$0/" && shift && exec "$@""#;
    let prefix =
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, shared.to_str().unwrap(), seed.to_str().unwrap()];
    t.within(prefix.map(str::to_owned).to_vec())
}

#[test]
fn taking_over_with_another_configuration_than_the_last_active_node_used_warns_and_alerts() {
    for (theirs, warned) in [("0".repeat(64), true), (String::new(), false)] {
        let t = Test::new().invoked_as("eva-start").clplogcmd();
        let (shared, seed) = (t.path("shared"), t.path("seed"));
        std::fs::create_dir_all(&shared).unwrap();
        let mine = "{\"workerToken\": \"x\", \"masterIp\": \"10.0.0.1\"}\n";
        // The other node's record, as eva-check and eva-ha restart write it on the shared disk.
        let theirs = if theirs.is_empty() { eva_ha_sha256(mine.as_bytes()) } else { theirs };
        let record = serde_json::json!({"host": "eva-standby-1", "users": {}, "config_sha256": theirs,
            "eva_ha_version": "0.1.0", "recorded_at": "2026-12-01T10:00:00+00:00"});
        let t = t
            .write("eva/configuration.json", mine)
            .write("seed/pulse/.eva-ha/nodes/eva-standby-1.json", &record.to_string())
            .config("shared_mount", &format!("{:?}", shared.to_str().unwrap()));
        let run = on_a_shared_disk_of_its_own(t, &shared, &seed).success();
        run.assert_states("active");
        let said = "differs from the configuration.json that eva-standby-1 used (as recorded at 2026-12-01T10:00:00+00:00)";
        if warned {
            run.assert_stdout_contains(said);
            assert!(run.alerts().iter().any(|a| a.iter().any(|w| w.contains(said))), "{:?}", run.alerts());
        } else {
            run.assert_stdout_lacks("differs from the configuration.json");
        }
    }
}

/// sha256 in hex, as the node records hold a configuration's.
fn eva_ha_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

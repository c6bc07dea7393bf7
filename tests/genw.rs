//! eva-genw against a fake `docker` (and `podman`) first on PATH: the failure modes a real
//! engine rarely shows on demand (unreadable event lines, a failing inspect, a replayed
//! event, an engine that goes away and comes back, one that never answers). The fake is
//! scripted per test through files under the node's directory (see the header of
//! tests/fakes/engine); the end-to-end tests against real engines are in e2e_docker.rs.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};

/// Longest a monitor run may take here; a hung binary fails the test after it.
const SOON: Duration = Duration::from_secs(10);

/// Container ids as docker prints them, and their short forms as eva-genw names them.
const CRASH: &str = "cdb2e0d0f873ce5326e87cf7dec48de8da3043cfc950a7eba05a059150e873f5";
const KEEP: &str = "6ca7ea2feefc88ecb5ed6356ed963f47dc9137f82526fdd25d618ea626d0803f";
const GONE: &str = "283bb9deef02e6843abfb538efa1eca70801bd8a701c3f98191e123496339247";
const OLD: &str = "cba06b5736faf67e54b07b561eae94395e774c517a7d910a54369e1263ccfbd4";
const IMAGE: &str = "eva/crowd:3.2";

fn short(id: &str) -> &str {
    &id[..12]
}

/// A time shortly after the monitor starts (so that it becomes the watermark), with a
/// nanosecond part that needs zero-padding: whole seconds + 4321 ns.
fn soon_ns() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    (now + 10) * 1_000_000_000 + 4321
}

fn rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `--since` as eva-genw passes it: seconds.nanoseconds.
fn since(ns: i64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// A die event as docker 25+ prints it (no legacy fields).
fn die(id: &str, name: &str, exit_code: &str, time_ns: i64) -> String {
    json!({
        "Type": "container", "Action": "die",
        "Actor": {"ID": id, "Attributes": {"execDuration": "1", "exitCode": exit_code, "image": IMAGE, "name": name}},
        "scope": "local", "time": time_ns / 1_000_000_000, "timeNano": time_ns,
    })
    .to_string()
}

/// A die event as older docker prints it, with the legacy `status`/`id`/`from` fields.
fn die_legacy(id: &str, name: &str, exit_code: &str, time_ns: i64) -> String {
    json!({
        "status": "die", "id": id, "from": IMAGE,
        "Type": "container", "Action": "die",
        "Actor": {"ID": id, "Attributes": {"exitCode": exit_code, "image": IMAGE, "name": name}},
        "scope": "local", "time": time_ns / 1_000_000_000, "timeNano": time_ns,
    })
    .to_string()
}

/// Any other container event (`start`, `health_status: unhealthy`).
fn other(id: &str, name: &str, action: &str, time_ns: i64) -> String {
    json!({
        "status": action, "id": id, "from": IMAGE,
        "Type": "container", "Action": action,
        "Actor": {"ID": id, "Attributes": {"image": IMAGE, "name": name}},
        "scope": "local", "time": time_ns / 1_000_000_000, "timeNano": time_ns,
    })
    .to_string()
}

/// What `docker inspect` says of a container that finished at `finished_ns`.
fn state(id: &str, name: &str, exit_code: i64, oom_killed: bool, finished_ns: i64) -> Value {
    json!({
        "Id": id, "Name": format!("/{name}"),
        "Config": {"Image": IMAGE, "Labels": {"com.nec.eva": "usecase"}},
        "State": {
            "Status": "exited", "Running": false, "Paused": false, "Restarting": false,
            "OOMKilled": oom_killed, "Dead": false, "Pid": 0, "ExitCode": exit_code, "Error": "",
            "StartedAt": rfc3339(finished_ns - 60_000_000_000), "FinishedAt": rfc3339(finished_ns),
        },
    })
}

fn inspect(id: &str, name: &str, exit_code: i64, oom_killed: bool, finished_ns: i64) -> String {
    state(id, name, exit_code, oom_killed, finished_ns).to_string()
}

/// `eva-ha genw --initial-delay 0` on a node with a fake docker.
fn genw() -> Test {
    // The engine's unit is active, as under systemd while dockerd runs (or hangs); nothing
    // listens on the socket that DOCKER_HOST names, so a probe of a quiet stream asks the
    // fake client instead.
    let t = Test::new().fake_docker().unit("docker.service", "state", "active\n");
    let socket = format!("unix://{}", t.path("no-engine.sock").display());
    t.env("DOCKER_HOST", &socket).args(&["genw", "--initial-delay", "0"])
}

/// `unix://PATH`, for DOCKER_HOST.
fn unix(path: &Path) -> String {
    format!("unix://{}", path.display())
}

/// Runs to the end within [`SOON`] and expects exit status 1.
#[track_caller]
fn fails(t: Test) -> Run {
    let run = t.launch().wait(SOON);
    assert_eq!(run.code, Some(1), "exit status\n{}", run.dump());
    run
}

/// The run ended with one ERROR line, the last, from `name`, with each of `needles`; and
/// no event subscription was left running.
#[track_caller]
fn assert_one_error(run: &Run, name: &str, needles: &[&str]) {
    run.assert_error(name, needles);
    assert_eq!(run.stdout.matches(" ERROR ").count(), 1, "one error line\n{}", run.dump());
    if run.root.join("docker/events.pids").exists() {
        run.assert_gone("docker/events.pids");
    }
}

/// `container NAME (SHORT, image eva/crowd:3.2) died with …`
fn named(name: &str, id: &str) -> String {
    format!("container {name} ({}, image {IMAGE}) died with", short(id))
}

fn count(run: &Run, needle: &str) -> usize {
    run.stdout.lines().filter(|l| l.contains(needle)).count()
}

// ---------------------------------------------------------------------------------------
// Event lines.

#[test]
fn unreadable_event_lines_are_skipped_with_a_warning_and_the_next_death_counts() {
    let t = soon_ns();
    let run = fails(genw().docker_events(
        1,
        &[
            "garbage",
            r#"{"Type":"container","Action":"die","Actor":{"ID":"#,
            "[]",
            "",
            "{}",
            r#"{"Type":"container","Action":"die","time":1}"#,
            &die(CRASH, "crash", "3", t),
        ],
    ));
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    assert_eq!(count(&run, "WARN skipping an event line that cannot be read"), 6, "{}", run.dump());
    for (reason, line) in [
        ("(not JSON: ", "): garbage"),
        ("(not JSON: ", r#"): {"Type":"container","Action":"die","Actor":{"ID":"#),
        ("(not a JSON object)", "): []"),
        ("(not JSON: EOF", "): "),
        ("(neither a docker nor a podman event)", "): {}"),
        ("(a die event without a container id)", r#"): {"Type":"container","Action":"die","time":1}"#),
    ] {
        assert!(
            run.stdout.lines().any(|l| l.contains(reason) && l.ends_with(line)),
            "no warning {reason} … {line}\n{}",
            run.dump()
        );
    }
    assert_eq!(run.docker_calls_of("inspect"), [["inspect", "--type", "container", CRASH]], "{}", run.dump());
}

#[test]
fn both_docker_event_shapes_are_judged_and_other_events_are_not_deaths() {
    let t = soon_ns();
    // Legacy shape ignored, current shape counts; then the other way round.
    type Shape = fn(&str, &str, &str, i64) -> String;
    for (first, second) in [(die_legacy as Shape, die as Shape), (die, die_legacy)] {
        let run = fails(genw().docker_events(
            1,
            &[
                &other(KEEP, "keep", "start", t - 2_000_000_000),
                &other(KEEP, "keep", "health_status: healthy", t - 1_000_000_000),
                &other(CRASH, "crash", "health_status: unhealthy", t - 1_000_000_000),
                &other(CRASH, "crash", "kill", t - 1_000_000),
                &first(KEEP, "keep", "0", t),
                &second(CRASH, "crash", "3", t + 1),
            ],
        ));
        assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
        run.assert_stdout_contains(&format!("{} exit code 0, not OOM-killed (from event): ignored", named("keep", KEEP)));
        assert_eq!(count(&run, ": ignored"), 1, "{}", run.dump());
        // Only the two deaths were looked at.
        let inspects = run.docker_calls_of("inspect");
        let inspected: Vec<&str> = inspects.iter().flat_map(|c| c.operands()).collect();
        assert_eq!(inspected, [KEEP, CRASH], "{}", run.dump());
        run.assert_stdout_lacks("skipping an event line");
    }
}

// ---------------------------------------------------------------------------------------
// Judging a death.

#[test]
fn the_containers_own_exit_code_beats_a_label_that_overrides_the_events() {
    let t = soon_ns();
    // A label named exitCode makes docker's event say 0; the container says 3.
    let mut crash = state(CRASH, "crash", 3, false, t + 1_000);
    crash["Config"]["Labels"]["exitCode"] = json!("0");
    let run = fails(genw().docker_events(1, &[&die(CRASH, "crash", "0", t)]).docker_inspect(CRASH, &crash.to_string()));
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
}

#[test]
fn a_restarted_container_whose_label_hides_the_exit_code_counts_as_unknown() {
    let t = soon_ns();
    let mut crash = state(CRASH, "crash", 0, false, t + 1_000);
    crash["Config"]["Labels"]["exitCode"] = json!("0");
    crash["State"]["Running"] = json!(true);
    crash["State"]["Status"] = json!("running");
    let run = fails(genw().docker_events(1, &[&die(CRASH, "crash", "0", t)]).docker_inspect(CRASH, &crash.to_string()));
    assert_one_error(&run, "eva-ha genw", &[&format!("{} an unknown exit code, not OOM-killed", named("crash", CRASH))]);
}

#[test]
fn a_failing_inspect_is_a_warning_and_the_event_decides() {
    let t = soon_ns();
    let run = fails(
        genw()
            .docker_inspect_fails()
            .docker_inspect(KEEP, &inspect(KEEP, "keep", 3, false, t))
            .docker_events(1, &[&die(KEEP, "keep", "0", t), &die(CRASH, "crash", "3", t + 1)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    run.assert_stdout_contains(&format!("{} exit code 0, not OOM-killed (from event): ignored", named("keep", KEEP)));
    for id in [KEEP, CRASH] {
        let warning = run
            .stdout
            .lines()
            .find(|l| l.contains(&format!("WARN cannot inspect container {}: ", short(id))))
            .unwrap_or_else(|| panic!("no warning for {id}\n{}", run.dump()));
        assert!(warning.contains("permission denied") && warning.ends_with("; judging by the event"), "{warning}");
    }
}

#[test]
fn a_container_already_gone_is_judged_by_its_event_without_a_warning() {
    let t = soon_ns();
    let run = fails(genw().docker_events(1, &[&die(GONE, "gone", "137", t), &die(CRASH, "crash", "3", t + 1)]));
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    run.assert_stdout_contains(&format!("{} exit code 137, not OOM-killed (from event): ignored", named("gone", GONE)));
    run.assert_stdout_lacks("cannot inspect");
    assert_eq!(run.docker_calls_of("inspect").len(), 2, "{}", run.dump());
}

// ---------------------------------------------------------------------------------------
// Which exit codes count.

#[test]
fn exit_codes_0_and_137_are_ignored_by_default() {
    let t = soon_ns();
    let run = fails(
        genw()
            .docker_inspect(KEEP, &inspect(KEEP, "keep", 0, false, t))
            .docker_inspect(GONE, &inspect(GONE, "gone", 137, false, t + 1))
            .docker_events(
                1,
                &[&die(KEEP, "keep", "0", t), &die(GONE, "gone", "137", t + 1), &die(CRASH, "crash", "143", t + 2)],
            ),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 143, not OOM-killed", named("crash", CRASH))]);
    run.assert_stdout_contains(&format!("{} exit code 0, not OOM-killed (from inspect): ignored", named("keep", KEEP)));
    run.assert_stdout_contains(&format!("{} exit code 137, not OOM-killed (from inspect): ignored", named("gone", GONE)));
    run.assert_stdout_contains("ignoring exit codes [0, 137]");
}

#[test]
fn ignored_exit_codes_from_flag_environment_or_file() {
    let t = soon_ns();
    let scripted = || genw().docker_events(1, &[&die(KEEP, "keep", "143", t), &die(CRASH, "crash", "3", t + 1)]);
    for (how, test) in [
        ("flag", scripted().args(&["--ignore-exit-codes", "0,137,143"])),
        ("environment", scripted().env("EVA_HA_IGNORE_EXIT_CODES", "0 137,143")),
        ("file", scripted().config("ignore_exit_codes", "[0, 137, 143]")),
    ] {
        let run = fails(test);
        assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
        assert!(
            run.stdout.contains(&format!("{} exit code 143, not OOM-killed (from event): ignored", named("keep", KEEP))),
            "{how}\n{}",
            run.dump()
        );
        assert!(run.stdout.contains("ignoring exit codes [0, 137, 143]"), "{how}\n{}", run.dump());
    }
}

#[test]
fn an_oom_kill_counts_even_with_an_ignored_exit_code() {
    let t = soon_ns();
    let run = fails(
        genw()
            .docker_inspect(CRASH, &inspect(CRASH, "crash", 137, true, t + 500_000_000))
            .docker_events(1, &[&die(CRASH, "crash", "137", t)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 137, OOM-killed", named("crash", CRASH))]);
}

#[test]
fn a_death_during_the_initial_delay_is_reported_when_it_ends() {
    let t = soon_ns();
    let run = fails(
        Test::new().fake_docker().args(&["genw", "--initial-delay", "1"]).docker_events(1, &[&die(CRASH, "crash", "3", t)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&named("crash", CRASH)]);
    run.assert_stdout_contains("counts, reported when the initial delay ends");
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}\n{}", run.elapsed, run.dump());
}

// ---------------------------------------------------------------------------------------
// The subscription ends: reconnect, resume, catch up.

#[test]
fn a_lost_subscription_resumes_from_the_last_event_and_a_replayed_event_is_judged_once() {
    let t = soon_ns();
    let launched = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
    let run = fails(
        genw()
            .arg("-v")
            .docker_events(1, &[&die(KEEP, "keep", "0", t)])
            .events_end("docker", 1, 1)
            .docker_events(2, &[&die(KEEP, "keep", "0", t), &die(CRASH, "crash", "3", t + 1_000_000)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    assert_eq!(
        count(&run, &format!("{} exit code 0, not OOM-killed (from event): ignored", named("keep", KEEP))),
        1,
        "{}",
        run.dump()
    );
    run.assert_stdout_contains(&format!("event for {} at {t} seen before", short(KEEP)))
        .assert_stdout_contains("the event subscription ended (exit status 1); reconnecting")
        .assert_stdout_contains("the docker engine answers again (version 27.5.1)")
        .assert_stdout_contains("caught up: 0 container(s) finished while the subscription was down, of 0 finished in all");

    let events = run.docker_calls_of("events");
    assert_eq!(events.len(), 2, "{}", run.dump());
    let expected = |since: &str| {
        ["events", "--filter", "type=container", "--filter", "event=die", "--since", since, "--format", "{{json .}}"]
            .map(str::to_owned)
            .to_vec()
    };
    // The first subscription starts from when the monitor started.
    let first_since = events[0].flag("--since").unwrap_or_else(|| panic!("no --since\n{}", run.dump()));
    let first: f64 = first_since.parse().unwrap();
    assert!(first * 1e9 >= launched as f64 - 1e9 && first * 1e9 < t as f64, "first --since {first}\n{}", run.dump());
    assert_eq!(events[0], expected(first_since));
    // The second resumes from the last event seen, to the nanosecond.
    assert_eq!(events[1], expected(&since(t)), "{}", run.dump());
    assert!(since(t).ends_with(".000004321"));
    // The replayed event was recognised without asking docker again.
    assert_eq!(run.docker_calls_of("inspect").len(), 2, "{}", run.dump());
    // One catch-up of the finished containers; the running ones listed at each connection.
    let ps = run.docker_calls_of("ps");
    assert_eq!(ps.iter().filter(|c| c.iter().any(|a| a == "--all")).count(), 1, "{}", run.dump());
    assert_eq!(ps.iter().filter(|c| c.iter().any(|a| a == "status=running")).count(), 2, "{}", run.dump());
}

#[test]
fn a_death_while_the_engine_was_down_is_caught_up_when_it_answers_again() {
    let t = soon_ns();
    let run = fails(
        genw()
            .docker_events(1, &[&die(KEEP, "keep", "0", t)])
            .docker_events_end_down(1, 2)
            .docker_ps(&[KEEP, CRASH, OLD])
            .docker_inspect(KEEP, &inspect(KEEP, "keep", 0, false, t + 1_000))
            // Died after the last event, and no event says so.
            .docker_inspect(CRASH, &inspect(CRASH, "crash", 3, false, t + 5_000_000_000))
            // Died long before the monitor started: not ours.
            .docker_inspect(OLD, &inspect(OLD, "old", 3, false, t - 3_600_000_000_000)),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    run.assert_stdout_contains("the event subscription ended (exit status 1); reconnecting")
        .assert_stdout_contains("WARN the docker engine does not answer (")
        .assert_stdout_contains("Cannot connect to the Docker daemon")
        .assert_stdout_contains("retrying up to 60s")
        .assert_stdout_contains("the docker engine answers again (version 27.5.1) after ")
        .assert_stdout_contains("caught up: 1 container(s) finished while the subscription was down, of 3 finished in all");
    assert_eq!(count(&run, ": ignored"), 1, "the death already judged is not judged again\n{}", run.dump());
    run.assert_stdout_lacks("container old (");
    assert_eq!(run.docker_calls_of("version").len(), 4, "one ping, two failures, one answer\n{}", run.dump());
    let ps: Vec<_> = run.docker_calls_of("ps").into_iter().filter(|c| c.iter().any(|a| a == "--all")).collect();
    assert_eq!(
        ps,
        [["ps", "--all", "--no-trunc", "--quiet", "--filter", "status=exited", "--filter", "status=dead"]],
        "{}",
        run.dump()
    );
    let events = run.docker_calls_of("events");
    assert_eq!(events.len(), 2, "{}", run.dump());
    assert_eq!(events[1].flag("--since"), Some(since(t).as_str()), "{}", run.dump());
}

// ---------------------------------------------------------------------------------------
// The engine does not answer.

#[test]
fn an_engine_unreachable_beyond_the_grace_fails_in_one_line() {
    let run = fails(genw().args(&["--daemon-grace", "1"]).docker_down());
    assert_one_error(
        &run,
        "eva-ha genw",
        &[
            "the docker engine has been unreachable for 1s: ",
            "version --format '{{.Server.Version}}'",
            "Cannot connect to the Docker daemon",
        ],
    );
    run.assert_stdout_contains("retrying up to 1s");
    assert!(run.elapsed >= Duration::from_secs(1) && run.elapsed < Duration::from_secs(5), "{:?}\n{}", run.elapsed, run.dump());
    assert!(run.docker_calls_of("version").len() >= 2, "{}", run.dump());
    assert_eq!(run.docker_calls_of("events").len(), 0, "{}", run.dump());
}

#[test]
fn an_engine_lost_mid_watch_beyond_the_grace_fails() {
    let run = fails(genw().args(&["--daemon-grace", "1"]).docker_events_end_down(1, 1000));
    assert_one_error(
        &run,
        "eva-ha genw",
        &["the docker engine has been unreachable for 1s: ", "Cannot connect to the Docker daemon"],
    );
    run.assert_stdout_contains("the event subscription ended (exit status 1); reconnecting");
}

#[test]
fn a_subscription_that_keeps_failing_is_an_outage_too() {
    // The engine answers `version` but every `events` fails at once: no spinning, and after
    // the grace the monitor fails naming the subscription's error.
    let run =
        fails(genw().args(&["--daemon-grace", "1"]).docker_events_fail("Error response from daemon: invalid filter 'label'"));
    assert_one_error(
        &run,
        "eva-ha genw",
        &["no working docker event subscription for 1s: Error response from daemon: invalid filter 'label'"],
    );
    assert!(run.elapsed >= Duration::from_secs(1) && run.elapsed < Duration::from_secs(5), "{:?}\n{}", run.elapsed, run.dump());
    let subscriptions = run.docker_calls_of("events").len();
    assert!((2..=12).contains(&subscriptions), "{subscriptions} subscriptions in {:?}: backoff?\n{}", run.elapsed, run.dump());
}

#[test]
fn a_zero_grace_waits_for_the_engine_until_stopped() {
    let t = genw().args(&["--daemon-grace", "0"]).docker_down().clplogcmd();
    let mut monitor = t.launch();
    monitor.wait_stdout("retrying forever", SOON);
    std::thread::sleep(Duration::from_secs(2));
    assert!(monitor.is_running(), "{}", monitor.stdout_so_far());
    monitor.signal(Signal::SIGTERM);
    let run = monitor.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
    assert!(run.docker_calls_of("version").len() >= 3, "it kept trying\n{}", run.dump());
    run.assert_stdout_lacks("unreachable for");
    assert_eq!(run.alerts(), Vec::<Vec<String>>::new(), "no alert when stopped by the cluster");
    // Stopped by the cluster, as on every planned move: said at info, no ERROR line.
    run.assert_stdout_contains(" INFO eva-ha genw: interrupted by SIGTERM: the monitor was stopped")
        .assert_stdout_lacks(" ERROR ");
}

#[test]
fn the_subscriptions_stderr_is_logged_as_warnings() {
    let t = soon_ns();
    let run = fails(
        genw()
            .docker_events_stderr(1, &["Error response from daemon: client version 1.22 is too old", "second complaint"])
            .events_end("docker", 1, 1)
            .docker_events(2, &[&die(CRASH, "crash", "3", t)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&named("crash", CRASH)]);
    for line in ["Error response from daemon: client version 1.22 is too old", "second complaint"] {
        assert!(
            run.stdout.lines().any(|l| l.contains(" WARN ") && l.ends_with(&format!("docker events: {line}"))),
            "{line}\n{}",
            run.dump()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The cluster's alert log.

#[test]
fn a_death_goes_to_the_cluster_alert_log_under_the_invocation_name() {
    let t = soon_ns();
    let death = format!("{} exit code 3, not OOM-killed", named("crash", CRASH));
    let run = fails(genw().clplogcmd().docker_events(1, &[&die(CRASH, "crash", "3", t)]));
    assert_one_error(&run, "eva-ha genw", &[&death]);
    assert_eq!(run.alerts(), [vec!["-m".to_owned(), format!("eva-ha genw failed: {death}"), "-l".into(), "ERR".into()]]);

    let run = fails(
        Test::new()
            .fake_docker()
            .clplogcmd()
            .invoked_as("eva-genw")
            .args(&["--initial-delay", "0"])
            .docker_events(1, &[&die(CRASH, "crash", "3", t)]),
    );
    assert_one_error(&run, "eva-genw", &[&death]);
    assert_eq!(run.alerts(), [vec!["-m".to_owned(), format!("eva-genw failed: {death}"), "-l".into(), "ERR".into()]]);
}

#[test]
fn no_alert_while_all_is_well() {
    let t = soon_ns();
    let mut monitor = genw().clplogcmd().docker_events(1, &[&die(KEEP, "keep", "0", t)]).launch();
    monitor.wait_stdout(": ignored", SOON);
    assert!(monitor.is_running(), "{}", monitor.stdout_so_far());
    assert!(!monitor.test.path("clplogcmd.log").exists(), "{}", monitor.stdout_so_far());
    monitor.signal(Signal::SIGTERM);
    let run = monitor.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
    assert_eq!(run.alerts(), Vec::<Vec<String>>::new());
    run.assert_gone("docker/events.pids");
}

// ---------------------------------------------------------------------------------------
// Podman.

#[test]
fn podman_died_events_are_watched_with_podman_alone() {
    let t = soon_ns();
    let podman_id = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a";
    let podman_image = "localhost/eva-bb:latest";
    let events = [
        // Podman 4: Time as RFC 3339 text; a clean exit has no ContainerExitCode.
        json!({"ID": KEEP, "Image": podman_image, "Name": "keep", "Status": "died", "Time": rfc3339(t), "Type": "container", "Attributes": {}}),
        // Podman 5: `time` in seconds, with timeNano.
        json!({"ID": GONE, "Image": podman_image, "Name": "gone", "Status": "died", "time": t / 1_000_000_000,
               "timeNano": t + 1, "Type": "container", "Attributes": {"image": podman_image, "name": "gone"}, "ContainerExitCode": 137}),
        json!({"ID": podman_id, "Image": podman_image, "Name": "p1", "Status": "start", "Time": rfc3339(t), "Type": "container"}),
        // A label named exitCode only reaches Attributes, not ContainerExitCode.
        json!({"ID": podman_id, "Image": podman_image, "Name": "p1", "Status": "died", "Time": rfc3339(t + 2),
               "Type": "container", "Attributes": {"exitCode": "0", "image": podman_image, "name": "p1"}, "ContainerExitCode": 3}),
    ]
    .map(|e| e.to_string());
    let lines: Vec<&str> = events.iter().map(String::as_str).collect();
    let launched = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64;
    for how in ["flag", "environment"] {
        let test = Test::new().fake_docker().fake_podman().args(&["genw", "--initial-delay", "0"]).events("podman", 1, &lines);
        let test = match how {
            "flag" => test.args(&["--runtime", "podman"]),
            _ => test.env("EVA_HA_RUNTIME", "podman"),
        };
        let run = fails(test);
        run.assert_error(
            "eva-ha genw",
            &[&format!("container p1 ({}, image {podman_image}) died with exit code 3, not OOM-killed", &podman_id[..12])],
        );
        run.assert_stdout_contains(&format!("container keep ({}, image {podman_image}) died with exit code 0", short(KEEP)))
            .assert_stdout_contains(&format!("container gone ({}, image {podman_image}) died with exit code 137", short(GONE)))
            .assert_stdout_contains("watching podman 4.9.3 for container deaths");
        assert_eq!(count(&run, ": ignored"), 2, "{}", run.dump());
        let calls = run.engine_calls("podman");
        assert_eq!(calls[0], ["version", "--format", "{{.Version}}"], "the first call\n{}", run.dump());
        let events = run.engine_calls_of("podman", "events");
        assert_eq!(events.len(), 1, "{}", run.dump());
        let since_arg = events[0].flag("--since").unwrap_or_else(|| panic!("no --since\n{}", run.dump()));
        let expected =
            ["events", "--filter", "type=container", "--filter", "event=died", "--since", since_arg, "--format", "json"];
        assert_eq!(events[0], expected, "{}", run.dump());
        // Podman reads a Unix time as a float: it gets RFC 3339, to the nanosecond.
        let since = chrono::DateTime::parse_from_rfc3339(since_arg).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()));
        let since = since.timestamp_nanos_opt().unwrap();
        assert!(since >= launched - 1_000_000_000 && since < t, "--since {since_arg}\n{}", run.dump());
        assert_eq!(run.engine_calls_of("podman", "inspect").len(), 3, "{}", run.dump());
        assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new(), "docker was called\n{}", run.dump());
    }
}

const PODMAN_IMAGE: &str = "localhost/eva-bb:latest";
/// A container outside the scope.
const WEB: &str = "9b0e2c6f1d4a8e7b3c5d2f1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d";

/// A died event as podman `version` prints it (tests/data/README.md, "Podman by version"):
/// 1.5–2.1 (`1.6.4`) without Attributes, 2.2–4.2 (`4.2.0`) with `"Attributes":null`; in
/// both no labels, `ContainerExitCode` left out when 0, `Time` in the host's zone (+09:00).
fn podman_died(version: &str, id: &str, name: &str, exit_code: i64, time_ns: i64) -> String {
    let code = if exit_code == 0 { String::new() } else { format!("\"ContainerExitCode\":{exit_code},") };
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    let time =
        chrono::DateTime::from_timestamp_nanos(time_ns).with_timezone(&jst).to_rfc3339_opts(chrono::SecondsFormat::Nanos, false);
    let attributes = match version {
        "1.6.4" => "",
        "4.2.0" => ",\"Attributes\":null",
        _ => panic!("no died shape for podman {version}"),
    };
    format!(
        r#"{{{code}"ID":"{id}","Image":"{PODMAN_IMAGE}","Name":"{name}","Status":"died","Time":"{time}","Type":"container"{attributes}}}"#
    )
}

/// What `podman inspect` says of a container that finished at `finished_ns` with `labels`
/// (containers/podman v1.6.4 libpod/container_inspect.go, v4.2.0
/// libpod/define/container_inspect.go: `Id`, `State`, `ImageName`, `Name` without a
/// slash, `Config.Labels`).
fn podman_inspect(id: &str, name: &str, labels: Value, exit_code: i64, finished_ns: i64) -> String {
    json!({
        "Id": id, "Name": name, "ImageName": PODMAN_IMAGE,
        "State": {
            "OciVersion": "1.0.1-dev", "Status": "exited", "Running": false, "Paused": false, "Restarting": false,
            "OOMKilled": false, "Dead": false, "Pid": 0, "ExitCode": exit_code, "Error": "",
            "StartedAt": rfc3339(finished_ns - 60_000_000_000), "FinishedAt": rfc3339(finished_ns),
        },
        "Config": {"Image": PODMAN_IMAGE, "Labels": labels},
    })
    .to_string()
}

/// `eva-ha genw -v --runtime podman` with a fake podman of `version`.
fn podman_genw(version: &str) -> Test {
    Test::new().fake_podman_at(version).args(&["genw", "-v", "--initial-delay", "0", "--runtime", "podman"])
}

/// The events subscriptions (and `--once`'s replays, with `--until`) of a run: none
/// carries a scope filter.
#[track_caller]
fn assert_podman_events_unscoped(run: &Run) {
    let events = run.engine_calls_of("podman", "events");
    assert!(!events.is_empty(), "{}", run.dump());
    for call in &events {
        let since = call.flag("--since").unwrap_or_else(|| panic!("no --since\n{}", run.dump()));
        let mut expected = vec!["events", "--filter", "type=container", "--filter", "event=died", "--since", since];
        if let Some(until) = call.flag("--until") {
            expected.extend(["--until", until]);
        }
        expected.extend(["--format", "json"]);
        assert_eq!(call, &expected, "{}", run.dump());
    }
}

/// What the run's fake podman prints for one more subscription with `lines`, given eva-ha's
/// arguments plus `extra`: its exit status and its lines.
fn podman_as_asked(run: &Run, lines: &[&str], extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let n = run.engine_calls_of("podman", "events").len() + 1;
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(run.root.join(format!("podman/events-{n}")), text).unwrap();
    std::fs::write(run.root.join(format!("podman/events-{n}.end")), "0").unwrap();
    let mut args: Vec<&str> = vec!["events", "--filter", "type=container", "--filter", "event=died"];
    args.extend(extra);
    args.extend(["--since", "2026-01-01T00:00:00Z", "--format", "json"]);
    let out =
        std::process::Command::new(run.root.join("bin/podman")).args(&args).env("FAKE_ENGINE_ROOT", &run.root).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

#[test]
fn podman_before_4_3_a_label_scope_is_judged_by_the_containers_own_labels() {
    for version in ["1.6.4", "4.2.0"] {
        let t = soon_ns();
        let lines = [
            podman_died(version, WEB, "web", 3, t),
            podman_died(version, GONE, "gone", 0, t + 1_000_000),
            podman_died(version, CRASH, "crash", 3, t + 2_000_000),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let test = podman_genw(version)
            .args(&["--filter", "label=com.nec.eva"])
            .events("podman", 1, &lines)
            .inspect("podman", WEB, &podman_inspect(WEB, "web", json!({"app": "web"}), 3, t))
            .inspect("podman", CRASH, &podman_inspect(CRASH, "crash", json!({"com.nec.eva": "usecase"}), 3, t + 2_000_000));
        let run = fails(test);
        run.assert_error(
            "eva-ha genw",
            &[&format!("container crash ({}, image {PODMAN_IMAGE}) died with exit code 3", short(CRASH))],
        );
        run.assert_stdout_contains(&format!("container web ({}) died: out of scope (not label=com.nec.eva)", short(WEB)))
            .assert_stdout_contains(&format!("container gone ({}) died: labels unreadable: container gone; counted", short(GONE)))
            .assert_stdout_contains(&format!("container gone ({}, image {PODMAN_IMAGE}) died with exit code 0", short(GONE)));
        assert_eq!(count(&run, "container web ("), 1, "the out-of-scope death is not judged\n{}", run.dump());
        assert_eq!(count(&run, ": ignored"), 1, "{}", run.dump());
        assert_podman_events_unscoped(&run);
        // The filter eva-ha no longer passes would have hidden the death: this podman
        // prints no died line through it (1.6.4: an invalid filter, lost; 4.2.0: no labels
        // on the line), and every line without it.
        let (code, passed) = podman_as_asked(&run, &lines, &["--filter", "label=com.nec.eva=usecase"]);
        assert_eq!((code, passed.len()), (Some(0), 0), "podman {version}: {passed:?}");
        let (code, passed) = podman_as_asked(&run, &lines, &[]);
        assert_eq!((code, passed.len()), (Some(0), 3), "podman {version}: {passed:?}");
    }
}

#[test]
fn podman_a_removed_container_in_a_label_scope_counts_by_its_event() {
    let t = soon_ns();
    let line = podman_died("4.2.0", GONE, "gone", 5, t);
    let run = fails(podman_genw("4.2.0").args(&["--filter", "label=com.nec.eva=usecase"]).events("podman", 1, &[&line]));
    run.assert_error("eva-ha genw", &[&format!("container gone ({}, image {PODMAN_IMAGE}) died with exit code 5", short(GONE))]);
    run.assert_stdout_contains(&format!("container gone ({}) died: labels unreadable: container gone; counted", short(GONE)));
    assert_podman_events_unscoped(&run);
}

#[test]
fn podman_a_container_scope_is_judged_by_the_events_name_without_inspecting_others() {
    let t = soon_ns();
    let lines = [podman_died("1.6.4", WEB, "web", 3, t), podman_died("1.6.4", CRASH, "crowd", 3, t + 1_000_000)];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = fails(podman_genw("1.6.4").args(&["--filter", "container=crowd"]).events("podman", 1, &lines));
    run.assert_error(
        "eva-ha genw",
        &[&format!("container crowd ({}, image {PODMAN_IMAGE}) died with exit code 3", short(CRASH))],
    );
    run.assert_stdout_contains(&format!("container web ({}) died: out of scope (not container=crowd)", short(WEB)));
    let inspected = run.engine_calls_of("podman", "inspect");
    assert!(inspected.iter().all(|c| !c.iter().any(|a| a == WEB)), "{}", run.dump());
    assert_podman_events_unscoped(&run);
}

#[test]
fn podman_once_with_a_label_scope_judges_only_the_containers_in_it() {
    let t = soon_ns() - 2_000_000_000;
    let started = (chrono::Local::now() - chrono::Duration::seconds(60)).to_rfc3339();
    let history = json!([{"command": "eva-start", "started": started, "seconds": 2.0, "result": "ok", "status": 0}]);
    let lines = [podman_died("4.2.0", WEB, "web", 3, t), podman_died("4.2.0", CRASH, "crash", 0, t + 1_000_000)];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = Test::new()
        .fake_podman_at("4.2.0")
        .write("history/runs.json", &history.to_string())
        .args(&["genw", "-v", "--once", "--runtime", "podman", "--filter", "label=com.nec.eva"])
        .events("podman", 1, &lines)
        .events_end("podman", 1, 0)
        .write("podman/ps", &format!("{WEB}\n{CRASH}\n"))
        .inspect("podman", WEB, &podman_inspect(WEB, "web", json!({"app": "web"}), 3, t))
        .inspect("podman", CRASH, &podman_inspect(CRASH, "crash", json!({"com.nec.eva": "usecase"}), 0, t + 1_000_000))
        .run();
    assert_eq!(run.code, Some(0), "{}", run.dump());
    run.assert_stdout_contains("1 container death(s) since the last check, none that counts")
        .assert_stdout_contains(&format!("container web ({}) died: out of scope (not label=com.nec.eva)", short(WEB)));
    assert_podman_events_unscoped(&run);
    for ps in run.engine_calls_of("podman", "ps") {
        assert!(!ps.iter().any(|a| a.starts_with("label=")), "{ps:?}\n{}", run.dump());
    }
}

#[test]
fn podman_before_1_5_is_said_once_and_the_watch_goes_on() {
    let t = soon_ns();
    let line = podman_died("1.6.4", CRASH, "crash", 3, t);
    let warning =
        "WARN podman 1.4.4 is older than eva-ha's minimum 1.5.0 (`podman events` exists from 1.2 and takes `--format json`";
    // The monitor: one WARN, then it watches on (a refusing monitor would fail the group
    // over to an equally old node, and back).
    let mut monitor = podman_genw("1.4.4").events("podman", 1, &[&line]).launch();
    monitor.wait_stdout(warning, SOON);
    std::thread::sleep(Duration::from_secs(1));
    assert!(monitor.is_running(), "{}", monitor.stdout_so_far());
    monitor.signal(Signal::SIGTERM);
    let run = monitor.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
    assert_eq!(count(&run, warning), 1, "{}", run.dump());
    // What podman 1.4 printed for the death: the word json (tests/fakes/engine), no death.
    let (code, printed) = podman_as_asked(&run, &[&line], &[]);
    assert_eq!((code, printed), (Some(0), vec!["json".to_owned()]));
    // --once: said by the first call, not again by the next.
    let first = podman_genw("1.4.4").args(&["--once"]).success();
    assert_eq!(count(&first, warning), 1, "{}", first.dump());
    let second = first.test.fork().success();
    assert_eq!(count(&second, warning), 0, "{}", second.dump());
}

#[test]
fn an_engine_below_the_minimum_is_watched_all_the_same_after_one_warning() {
    let t = soon_ns();
    let run = fails(genw().write("docker/version", "1.12.6\n").docker_events(1, &[&die(CRASH, "crash", "3", t)]));
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3", named("crash", CRASH))]);
    assert_eq!(count(&run, "WARN docker engine 1.12.6 is older than eva-ha's minimum 1.13.0"), 1, "{}", run.dump());
    run.assert_stdout_contains("watching docker 1.12.6 for container deaths");
}

#[test]
fn podman_not_installed_exits_5_naming_it() {
    let real = FALLBACK_DIRS.iter().map(|d| Path::new(d).join("podman")).find(|p| p.exists());
    if let Some(real) = real {
        eprintln!("SKIPPED: a real podman is installed ({}); eva-genw would find it", real.display());
        return;
    }
    let t = Test::new().fake_docker().args(&["genw", "--initial-delay", "0", "--runtime", "podman"]);
    let only_bin = t.path("bin");
    let run = t.env("PATH", only_bin.to_str().unwrap()).status(5);
    assert_one_error(&run, "eva-ha genw", &["podman not found"]);
    assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new());
}

/// The directories eva-ha searches after PATH (src/process.rs).
const FALLBACK_DIRS: [&str; 6] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

// ---------------------------------------------------------------------------------------
// Log format and configuration.

#[test]
fn json_logs_are_json_on_every_line() {
    let t = soon_ns();
    let run = fails(
        genw()
            .args(&["--log-format", "json"])
            .docker_events(1, &["garbage", &die(KEEP, "keep", "0", t), &die(CRASH, "crash", "3", t + 1)]),
    );
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", run.dump())))
        .collect();
    assert!(lines.len() >= 4, "{}", run.dump());
    assert!(lines.iter().all(Value::is_object));
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR", "{last}");
    let message = last["message"].as_str().unwrap();
    assert!(message.starts_with("eva-ha genw: ") && message.contains(&named("crash", CRASH)), "{message}");
    assert!(
        lines.iter().any(|l| l["level"] == "WARN" && l["message"].as_str().unwrap().ends_with("): garbage")),
        "{}",
        run.dump()
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn configuration_errors_are_one_line_and_call_no_engine() {
    // A malformed --filter is a usage error on the command line, a configuration error
    // in the file or the environment.
    let run = genw().args(&["--filter", "name=x"]).status(2);
    assert!(run.stderr.contains("\"name=x\" is not label=KEY[=VALUE] or container=NAME"), "{}", run.dump());
    assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new());
    let run = genw().env("EVA_HA_FILTERS", "label=eva name=x").status(6);
    assert_one_error(
        &run,
        "eva-ha genw",
        &["filters (environment EVA_HA_FILTERS): ", "\"name=x\" is not label=KEY[=VALUE] or container=NAME"],
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new());

    let run = genw().env("EVA_HA_RUNTIME", "rkt").status(6);
    assert_one_error(&run, "eva-ha genw", &["runtime (environment EVA_HA_RUNTIME): \"rkt\" is not docker or podman"]);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new());

    // A malformed flag value that clap parses is a usage error.
    let run = genw().args(&["--runtime", "rkt"]).status(2);
    assert!(run.stderr.contains("invalid value 'rkt'"), "{}", run.dump());
    assert_eq!(run.docker_calls(), Vec::<Vec<String>>::new());
}

// ---------------------------------------------------------------------------------------
// Lines recorded from real engines (tests/data/, when present).

/// The lines of `tests/data/<name>`, or None (and a note) when the file is not there.
fn recorded(name: &str) -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text.lines().map(str::to_owned).collect()),
        Err(e) => {
            eprintln!("SKIPPED: no recorded lines in {} ({e})", path.display());
            None
        }
    }
}

/// Feeds the recorded other and death lines of `engine`, then the replay of the deaths in
/// `replayed` (the same events, perhaps in another shape), then a death with exit code
/// 42; every recorded exit code is ignored. Each recorded death must be judged exactly
/// once, no line skipped as unreadable, and the monitor end on the last death.
fn replay_recorded(
    engine: &str,
    other: &str,
    deaths: &str,
    replayed: &[&str],
    exit_code: fn(&Value) -> Option<i64>,
    last: String,
) {
    let (Some(other), Some(deaths)) = (recorded(other), recorded(deaths)) else { return };
    let mut replays = Vec::new();
    for name in replayed {
        let Some(lines) = recorded(name) else { return };
        replays.extend(lines);
    }
    let mut codes: Vec<i64> = deaths.iter().map(|l| exit_code(&serde_json::from_str(l).unwrap()).unwrap_or(0)).collect();
    codes.extend([0, 137]);
    codes.sort();
    codes.dedup();
    assert!(!codes.contains(&42));
    let ignore = codes.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let lines: Vec<&str> = other.iter().chain(&deaths).chain(&replays).map(String::as_str).chain([last.as_str()]).collect();
    let t = Test::new().fake_docker().fake_podman().args(&[
        "genw",
        "--initial-delay",
        "0",
        "--runtime",
        engine,
        "--ignore-exit-codes",
        &ignore,
    ]);
    let run = fails(t.events(engine, 1, &lines));
    run.assert_error("eva-ha genw", &["died with exit code 42, not OOM-killed"]);
    assert_eq!(count(&run, ": ignored"), deaths.len(), "{}", run.dump());
    run.assert_stdout_lacks("skipping an event line").assert_stdout_lacks(" WARN ");
}

#[test]
fn recorded_docker_lines_are_read_and_a_replay_in_the_other_shape_is_not_judged_again() {
    let last = die(CRASH, "crash", "42", soon_ns());
    let code = |e: &Value| e["Actor"]["Attributes"]["exitCode"].as_str().and_then(|c| c.parse().ok());
    replay_recorded("docker", "docker-events-other.jsonl", "docker-events.jsonl", &["docker-events-modern.jsonl"], code, last);
}

#[test]
fn recorded_podman_lines_are_read() {
    let last = json!({"ID": CRASH, "Image": "localhost/eva-bb:latest", "Name": "crash", "Status": "died",
                      "Time": rfc3339(soon_ns()), "Type": "container", "Attributes": {}, "ContainerExitCode": 42})
    .to_string();
    replay_recorded("podman", "podman-events-other.jsonl", "podman-events.jsonl", &[], |e| e["ContainerExitCode"].as_i64(), last);
}

// ---------------------------------------------------------------------------------------
// A frozen engine, one that will not come back, a planned stop.

#[test]
fn a_frozen_engine_behind_a_quiet_stream_fails_after_the_grace() {
    // dockerd stopped with SIGSTOP: its socket still takes connections (the kernel's
    // backlog) and answers nothing; the stream is quiet.
    let t = genw().args(&["--daemon-grace", "2"]);
    let socket = t.path("frozen.sock");
    let _frozen = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let run = t.env("DOCKER_HOST", &unix(&socket)).launch().wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(1), "{}", run.dump());
    assert_one_error(&run, "eva-ha genw", &["the docker engine has been unreachable for 2s: no answer from ", "frozen.sock"]);
    run.assert_stdout_contains("does not answer while its event stream is quiet");
    // Word for the stop that follows, which then need not ping the engine again.
    let word = std::fs::read_to_string(run.test.path("state/engine-unanswered")).unwrap_or_default();
    assert!(word.starts_with("the docker engine has been unreachable for 2s: no answer from "), "{word:?}\n{}", run.dump());
    // The first probe after 5 s of quiet, unanswered within 1 s (half the grace).
    assert!(run.elapsed >= Duration::from_secs(5) && run.elapsed < Duration::from_secs(12), "{:?}\n{}", run.elapsed, run.dump());
}

#[test]
fn a_quiet_engine_that_answers_its_probes_is_no_failure() {
    let t = genw().args(&["--daemon-grace", "1"]);
    let socket = t.path("engine.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&answered);
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let mut running = t.env("DOCKER_HOST", &unix(&socket)).launch();
    running.wait_stdout("watching docker", SOON);
    std::thread::sleep(Duration::from_secs(7));
    assert!(running.is_running(), "a quiet engine that answers is no failure");
    running.signal(Signal::SIGTERM);
    let run = running.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
    assert!(answered.load(std::sync::atomic::Ordering::SeqCst) >= 1, "probed on its socket\n{}", run.dump());
    run.assert_stdout_lacks("does not answer");
}

#[test]
fn an_engine_whose_unit_failed_fails_at_once_naming_the_unit() {
    let run = fails(genw().args(&["--daemon-grace", "60"]).docker_down().unit("docker.service", "state", "failed\n"));
    assert_one_error(
        &run,
        "eva-ha genw",
        &["the docker engine is down and will not come back: its unit docker.service is failed", "systemd is not restarting it"],
    );
    assert!(run.elapsed < Duration::from_secs(5), "not the minute's grace: {:?}\n{}", run.elapsed, run.dump());
    // A dead engine is no frozen one: its clients fail at once, no word for the stop.
    assert!(!run.test.path("state/engine-unanswered").exists(), "{}", run.dump());
}

#[test]
fn an_engine_that_systemd_is_restarting_is_waited_for() {
    let t = soon_ns();
    let run = fails(
        genw()
            .args(&["--daemon-grace", "60"])
            .write("docker/down", "5")
            .unit("docker.service", "state", "activating\n")
            .docker_events(1, &[&die(CRASH, "crash", "3", t)]),
    );
    assert_one_error(&run, "eva-ha genw", &[&format!("{} exit code 3, not OOM-killed", named("crash", CRASH))]);
    run.assert_stdout_lacks("will not come back");
}

#[test]
fn during_a_planned_stop_the_containers_it_removes_are_not_deaths() {
    let t = soon_ns();
    let mut running = genw()
        .write("state/planned-stop", "pid 4242 since 2026-12-01T12:00:00+00:00\n")
        .docker_events(1, &[&die(CRASH, "crash", "143", t)])
        .launch();
    running.wait_stdout("not a failure, the node is being stopped (pid 4242 since", SOON);
    running.signal(Signal::SIGTERM);
    let run = running.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
}

// ---------------------------------------------------------------------------------------
// eva-genw --once: the synchronous monitor.

fn once() -> Test {
    // The node's last successful start, a minute ago: where the first call looks back to.
    let started = (chrono::Local::now() - chrono::Duration::seconds(60)).to_rfc3339();
    let history = serde_json::json!([{"command": "eva-start", "started": started, "seconds": 2.0, "result": "ok", "status": 0}]);
    let t =
        Test::new().fake_docker().unit("docker.service", "state", "active\n").write("history/runs.json", &history.to_string());
    let socket = format!("unix://{}", t.path("no-engine.sock").display());
    t.env("DOCKER_HOST", &socket).args(&["genw", "--once"])
}

#[test]
fn once_reports_a_death_once_even_when_two_calls_overlap() {
    let t = soon_ns() - 2_000_000_000;
    let death = die(CRASH, "crash", "3", t);
    // Every replay has the death (the engine keeps it), and ends.
    let mut node = once();
    for n in 1..=3 {
        node = node.docker_events(n, &[&death]).events_end("docker", n, 0);
    }
    let first = node.fork().launch();
    let second = node.fork().launch();
    let runs = [first.wait(SOON), second.wait(SOON)];
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.code).collect();
    assert!(codes.contains(&Some(1)) && codes.contains(&Some(0)), "one reports it, the other not: {codes:?}\n{}", runs[0].dump());
    let reporter = runs.iter().find(|r| r.code == Some(1)).unwrap();
    reporter.assert_error("eva-ha genw", &[&format!("{} exit code 3", named("crash", CRASH))]);
    let third = node.run();
    assert_eq!(third.code, Some(0), "{}", third.dump());
}

#[test]
fn once_counts_an_engine_away_only_beyond_the_grace_across_calls() {
    let node = once().args(&["--daemon-grace", "1"]).docker_down();
    let run = node.fork().run();
    assert_eq!(run.code, Some(0), "{}", run.dump());
    run.assert_stdout_contains("within the grace");
    std::thread::sleep(Duration::from_millis(1200));
    let run = node.fork().run();
    assert_eq!(run.code, Some(1), "{}", run.dump());
    run.assert_error("eva-ha genw", &["the docker engine has been unreachable for "]);
    let word = std::fs::read_to_string(run.test.path("state/engine-unanswered")).unwrap_or_default();
    assert!(word.starts_with("the docker engine has been unreachable for "), "{word:?}\n{}", run.dump());
}

#[test]
fn once_warns_of_an_engine_below_the_minimum_once_across_calls() {
    let node = once().write("docker/version", "1.12.6\n").events_end("docker", 1, 0).events_end("docker", 2, 0);
    let first = node.fork().run();
    assert_eq!(first.code, Some(0), "{}", first.dump());
    assert_eq!(count(&first, "WARN docker engine 1.12.6 is older than eva-ha's minimum 1.13.0"), 1, "{}", first.dump());
    let second = node.fork().run();
    assert_eq!(second.code, Some(0), "{}", second.dump());
    assert_eq!(count(&second, "is older than eva-ha's minimum"), 0, "said once\n{}", second.dump());
}

#[test]
fn once_during_a_planned_stop_counts_nothing() {
    let t = soon_ns();
    let run = once()
        .write("state/planned-stop", "pid 1 since now\n")
        .docker_events(1, &[&die(CRASH, "crash", "3", t)])
        .events_end("docker", 1, 0)
        .run();
    assert_eq!(run.code, Some(0), "{}", run.dump());
    run.assert_stdout_contains("the node is being stopped");
}

#[test]
fn a_master_stopped_by_hand_is_alerted_each_grace_without_failing_over() {
    // eva-stop run by an administrator an hour ago: the marker says so.
    let since = (chrono::Local::now() - chrono::TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let t = genw()
        .args(&["--manual-stop-grace", "1"])
        .clplogcmd()
        .write("state/planned-stop", &format!("pid 1 since {since} cause hand\n"));
    let mut monitor = t.launch();
    monitor.wait_stdout("was stopped by hand (eva-stop)", SOON);
    // Said again once the grace has passed again, and the monitor runs on.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(monitor.is_running(), "{}", monitor.stdout_so_far());
    monitor.signal(Signal::SIGTERM);
    let run = monitor.wait(SOON);
    assert_eq!(run.code, Some(143), "{}", run.dump());
    let said = count(&run, &format!("WARN the EVA master was stopped by hand (eva-stop) at {since}"));
    assert!(said >= 2, "said {said} times\n{}", run.dump());
    let alerts = run.alerts();
    assert!(alerts.len() >= 2 && alerts.iter().all(|a| a.iter().any(|w| w.contains("stopped by hand"))), "{alerts:?}");
    // A stop the cluster made is never alerted.
    let t = genw()
        .args(&["--manual-stop-grace", "1"])
        .clplogcmd()
        .write("state/planned-stop", &format!("pid 1 since {since} cause cluster\n"));
    let monitor = t.launch();
    std::thread::sleep(Duration::from_secs(2));
    monitor.signal(Signal::SIGTERM);
    let run = monitor.wait(SOON);
    assert_eq!(count(&run, "stopped by hand"), 0, "{}", run.dump());
    assert_eq!(run.alerts(), Vec::<Vec<String>>::new());
}

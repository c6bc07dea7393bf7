//! eva-check's platform lines against the fake node: systemd's and the container runtime's
//! versions, as each prints them, judged against the support table (src/ha/support.rs).
//! The rest of eva-check runs on real nodes (e2e_check.rs).

mod common;

use common::*;
use serde_json::Value;

/// eva-check's lines, as `--json` gives them (its log line follows the document).
fn checks(t: Test, flags: &[&str]) -> Vec<Value> {
    let run = t.args(&["check", "--json"]).args(flags).run();
    let doc: Value = serde_json::Deserializer::from_str(&run.stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON document\n{}", run.dump()));
    doc["checks"].as_array().unwrap_or_else(|| panic!("{doc}")).clone()
}

/// The one line of `check` about `subject`.
#[track_caller]
fn line<'a>(checks: &'a [Value], check: &str, subject: &str) -> &'a Value {
    let found: Vec<&Value> = checks.iter().filter(|c| c["check"] == check && c["subject"] == subject).collect();
    assert_eq!(found.len(), 1, "one {check} line for {subject}: {checks:#?}");
    found[0]
}

#[track_caller]
fn says(line: &Value, status: &str, needles: &[&str]) {
    assert_eq!(line["status"], status, "{line:#}");
    let text = format!("{} {}", line["message"], line["fix"]);
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} in {line:#}");
    }
}

#[test]
fn the_os_release_and_debian_12s_systemd_and_docker_are_supported() {
    let c = checks(Test::new().systemd("252").fake_docker().write("docker/version", "20.10.24+dfsg1\n"), &[]);
    let os = c.iter().find(|l| l["check"] == "os").unwrap_or_else(|| panic!("an os line: {c:#?}"));
    assert!(os["status"] != "FAIL", "{os:#}");
    says(line(&c, "systemd", "systemctl"), "OK", &["systemd 252: supported (minimum 219, lowest tested 219)"]);
    says(line(&c, "runtime", "docker client"), "OK", &["docker client 20.10.24+dfsg1: supported (minimum 1.13.0"]);
    says(line(&c, "runtime", "docker engine"), "OK", &["docker engine 20.10.24+dfsg1: supported"]);
}

#[test]
fn below_the_minimum_is_a_fail_naming_it_and_what_to_do() {
    let t = Test::new().fake_docker().write("docker/version", "1.12.6\n").write("systemd/version", "systemd 208\n+PAM\n");
    let c = checks(t, &[]);
    says(line(&c, "systemd", "systemctl"), "FAIL", &["systemd 208 is older than eva-ha's minimum 219", "RHEL 7.5 ships 219"]);
    says(
        line(&c, "runtime", "docker client"),
        "FAIL",
        &["docker client 1.12.6 is older than eva-ha's minimum 1.13.0", "`events`", "docker-ce 18.09 or later"],
    );
    says(line(&c, "runtime", "docker engine"), "FAIL", &["docker engine 1.12.6 is older than eva-ha's minimum 1.13.0"]);
}

#[test]
fn between_the_minimum_and_the_lowest_tested_is_a_warning() {
    let c = checks(Test::new().fake_docker().write("docker/version", "1.13.0\n"), &[]);
    says(
        line(&c, "runtime", "docker client"),
        "WARN",
        &["1.13.0 is at or above the minimum 1.13.0", "1.13.1 (RHEL 7 extras, modelled)"],
    );
}

#[test]
fn a_stopped_engine_is_fine_and_its_version_waits() {
    let c = checks(Test::new().fake_docker().docker_down(), &[]);
    says(line(&c, "runtime", "docker engine"), "OK", &["does not answer", "Cannot connect to the Docker daemon"]);
    // The fake prints nothing then; a real client prints its own version (sys::platform's tests).
    says(line(&c, "runtime", "docker client"), "WARN", &["cannot read docker client's version"]);
}

#[test]
fn an_old_podman_fails_and_a_label_filter_is_no_concern_of_its_version() {
    let podman = |version: &str| {
        let t = Test::new().fake_podman().write("podman/version", &format!("{version}\n")).env("EVA_HA_FILTERS", "label=eva");
        checks(t, &["--runtime", "podman"])
    };
    let c = podman("1.4.4");
    says(line(&c, "runtime", "podman"), "FAIL", &["podman 1.4.4 is older than eva-ha's minimum 1.5.0", "--format json"]);
    // Its died events carry no labels (before 4.3), but eva-ha applies the filter itself.
    assert!(!c.iter().any(|l| l["subject"] == "filters"), "{c:#?}");
    let c = podman("4.2.0");
    says(line(&c, "runtime", "podman"), "OK", &["podman 4.2.0: supported"]);
    assert!(!c.iter().any(|l| l["subject"] == "filters"), "{c:#?}");
    let c = podman("4.3.1");
    says(line(&c, "runtime", "podman"), "OK", &["podman 4.3.1: supported"]);
    assert!(!c.iter().any(|l| l["subject"] == "filters"), "{c:#?}");
}

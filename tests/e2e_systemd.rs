//! End to end on a real systemd: node containers from scripts/node.sh (Debian with systemd
//! as PID 1, stand-in docker and mongod units, the real PostgreSQL behind a
//! postgresql-9.5.service unit, stand-in master scripts), with the binary installed by
//! scripts/install.sh. Needs a Docker engine; scripts/test.sh starts one. Without one the
//! tests fail under CI=true and skip loudly elsewhere.

mod common;

use std::process::Output;

use common::BIN;
use common::support::{docker_ready, exec, node_sh, remove_container, report, unit_states};

/// The token in scripts/node/configuration.json.
const NODE_TOKEN: &str = "sandbox-0123456789abcdef";

struct Node {
    name: String,
}

impl Node {
    /// Boots a node and installs the binary, or returns None when there is no engine
    /// (and we may skip).
    #[track_caller]
    fn boot(test: &str) -> Option<Node> {
        if !docker_ready() {
            return None;
        }
        let node = Node { name: format!("eva-ha-e2e-{test}-{}", std::process::id()) };
        node_sh(&["run", &node.name]);
        node_sh(&["install", &node.name, BIN]);
        Some(node)
    }

    /// Runs `script` with sh inside the node.
    fn sh(&self, script: &str) -> Output {
        exec(&self.name, script)
    }

    /// Runs `script` and returns its stdout, asserting success.
    #[track_caller]
    fn ok(&self, script: &str) -> String {
        let out = self.sh(script);
        assert!(out.status.success(), "{script}: {}", report(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn states(&self) -> String {
        unit_states(&self.name)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        remove_container(&self.name);
    }
}

#[test]
fn start_then_stop_on_real_systemd_with_real_postgresql() {
    let Some(node) = Node::boot("cycle") else { return };
    assert_eq!(node.states(), "inactive inactive inactive");

    // As CLUSTERPRO would run it: the link, a minimal environment without PATH.
    let out = node.sh("env -i CLP_EVENT=START CLP_SERVER=HOME /usr/local/sbin/eva-start");
    let log = report(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains(NODE_TOKEN), "token leaked: {log}");
    assert!(log.contains("cluster: CLP_EVENT=START CLP_SERVER=HOME"), "{log}");
    assert!(log.contains("--token=***"), "{log}");
    assert!(log.contains("EVA master started"), "{log}");

    assert_eq!(node.states(), "active active active");
    assert_eq!(node.ok("runuser -u postgres -- psql -tAc 'select 40 + 2'"), "42");
    // The master received exactly what the guide's `jq .workerToken` gives.
    assert_eq!(node.ok("cat /run/eva-master/token"), node.ok("jq .workerToken /opt/pulse/worker/config/configuration.json"));
    let master = node.ok("cat /run/eva-master/master.pid");
    node.ok(&format!("kill -0 {master}"));

    let out = node.sh("eva-stop");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert_eq!(node.states(), "inactive inactive inactive");
    assert!(!node.sh("pgrep -x postgres").status.success(), "postgres still running");
    assert!(!node.sh(&format!("kill -0 {master}")).status.success(), "master still running");

    // Stopping a stopped node succeeds and changes nothing.
    let out = node.sh("eva-ha stop");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert_eq!(node.states(), "inactive inactive inactive");
}

#[test]
fn a_unit_that_fails_to_start_is_named_and_the_rest_rolled_back() {
    let Some(node) = Node::boot("fail") else { return };
    node.ok("mkdir -p /etc/systemd/system/mongod.service.d && \
         printf '[Service]\\nExecStartPre=/bin/sh -c \"echo mongod: cannot open /var/lib/mongo >&2; exit 100\"\\n' \
           > /etc/systemd/system/mongod.service.d/break.conf && systemctl daemon-reload");
    let out = node.sh("eva-start");
    let log = report(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let error = log.lines().rev().find(|l| l.contains(" ERROR ")).unwrap_or_default();
    assert!(error.contains("mongod.service (failed, result exit-code) did not start"), "{log}");
    // Its real journal is in our log.
    assert!(log.contains("journal mongod.service:") && log.contains("cannot open /var/lib/mongo"), "{log}");
    // The master was not started, and what this run started was stopped again.
    assert!(!node.sh("test -e /run/eva-master/token").status.success(), "master ran: {log}");
    assert_eq!(node.states(), "inactive failed inactive", "{log}");

    // eva-stop counts the failed unit as stopped and clears it for the next start.
    let out = node.sh("eva-stop");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert_eq!(node.states(), "inactive inactive inactive");

    // Repaired, the next start works.
    node.ok("rm -r /etc/systemd/system/mongod.service.d && systemctl daemon-reload");
    let out = node.sh("eva-start");
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    assert_eq!(node.states(), "active active active");
}

#[test]
fn validation_failures_touch_no_unit() {
    let Some(node) = Node::boot("validate") else { return };
    // The guide's missing key: the sample passed --token=null; we refuse, touching nothing.
    node.ok("echo '{\"masterIp\": \"10.0.0.1\"}' > /opt/pulse/worker/config/configuration.json");
    let out = node.sh("eva-start");
    assert_eq!(out.status.code(), Some(6), "{}", report(&out));
    assert!(report(&out).contains("configuration.json: key workerToken is missing"), "{}", report(&out));
    assert_eq!(node.states(), "inactive inactive inactive");

    // A unit that is not installed: status 5, nothing started.
    node.ok("echo '{\"workerToken\": \"t\"}' > /opt/pulse/worker/config/configuration.json");
    let out = node.sh("eva-start --units docker,mongod.service,postgresql-9.5.service,nosuch.service");
    assert_eq!(out.status.code(), Some(5), "{}", report(&out));
    assert!(report(&out).contains("unit nosuch.service is not installed"), "{}", report(&out));
    assert_eq!(node.states(), "inactive inactive inactive");
}

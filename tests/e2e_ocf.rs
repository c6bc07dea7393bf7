//! eva-master, the OCF resource agent, end to end: Debian's `ocf-tester` against it on a
//! real-systemd node, and a real two-node Pacemaker/Corosync cluster (scripts/cluster.sh)
//! running it in a group with an IPaddr2 floating IP. Needs a Docker engine; without one
//! the tests fail under CI=true and skip loudly elsewhere.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::BIN;
use common::support::{docker_ready, exec, repo_path, report, run, unit_states as states};

const AGENT: &str = "/usr/lib/ocf/resource.d/eva-ha/eva-master";

/// Polls `check` every 0.5 s until it holds; panics with `what` and the cluster status.
#[track_caller]
fn wait_until(what: &str, within: Duration, cluster: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < within {
        if check() {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let status = exec(&format!("{cluster}-1"), "crm_mon -1 -r -f");
    panic!("{what}: not within {within:?}\n{}", report(&status));
}

#[test]
fn ocf_tester_passes() {
    if !docker_ready() {
        return;
    }
    let node = format!("eva-ha-ocft-{}", std::process::id());
    let out = run("scripts/node.sh", &["run", &node]);
    assert!(out.status.success(), "{}", report(&out));
    let _guard = Guard(vec![format!("node.sh rm {node}")]);
    let out = run("scripts/node.sh", &["install", &node, BIN]);
    assert!(out.status.success(), "{}", report(&out));

    let out = exec(&node, &format!("ocf-tester -n eva -o install_dir=/opt/eva {AGENT}"));
    let tester = report(&out);
    assert_eq!(out.status.code(), Some(0), "{tester}");
    assert!(tester.contains(&format!("{AGENT} passed all tests")), "{tester}");
    // Left clean: nothing running, no state.
    assert_eq!(states(&node), "inactive inactive inactive", "{tester}");

    // meta-data as any user, valid against the DTD.
    let out = exec(
        &node,
        &format!("cd /usr/share/resource-agents && su nobody -s /bin/sh -c '{AGENT} meta-data' | xmllint --noout --valid -"),
    );
    assert!(out.status.success(), "{}", report(&out));
    // Probes where nothing runs: 7, even when the runtime is missing.
    let out = exec(
        &node,
        &format!(
            "mv /usr/bin/docker /usr/bin/docker.off; OCF_RESKEY_CRM_meta_interval=0 OCF_RESKEY_install_dir=/opt/eva {AGENT} monitor; echo rc=$?; mv /usr/bin/docker.off /usr/bin/docker"
        ),
    );
    assert!(report(&out).contains("rc=7"), "{}", report(&out));
}

/// Removes test containers and clusters at the end.
struct Guard(Vec<String>);

impl Drop for Guard {
    fn drop(&mut self) {
        for cmd in &self.0 {
            let mut words = cmd.split(' ');
            let script = format!("scripts/{}", words.next().unwrap());
            let _ = Command::new(repo_path(&script)).args(words).output();
        }
    }
}

#[test]
fn a_two_node_pacemaker_cluster_runs_moves_recovers_and_stops_the_master() {
    if !docker_ready() {
        return;
    }
    let name = format!("evapm{}", std::process::id() % 100_000);
    let out = run("scripts/cluster.sh", &["up", &name]);
    let _guard = Guard(vec![format!("cluster.sh down {name}")]);
    assert!(out.status.success(), "{}", report(&out));
    let vip = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let out = run("scripts/cluster.sh", &["install", &name, BIN]);
    assert!(out.status.success(), "{}", report(&out));
    let (n1, n2) = (format!("{name}-1"), format!("{name}-2"));

    // The group, in one transaction: a floating IP, then the master.
    let cib = format!(
        "primitive vip ocf:heartbeat:IPaddr2 params ip={vip} cidr_netmask=24 nic=eth0 op monitor interval=10s timeout=20s\n\
         primitive eva-master ocf:eva-ha:eva-master params install_dir=/opt/eva \
           op start timeout=300s interval=0 op stop timeout=300s interval=0 op monitor interval=5s timeout=30s\n\
         group eva vip eva-master meta resource-stickiness=100\n"
    );
    let out = exec(&n1, &format!("printf '%s' '{cib}' | crm configure load update -"));
    assert!(out.status.success(), "{}", report(&out));

    let active_node = || -> Option<String> {
        let out = exec(&n1, "crm_resource --resource eva-master --locate");
        let t = String::from_utf8_lossy(&out.stdout).into_owned();
        [&n1, &n2].into_iter().find(|n| t.contains(&format!("running on: {n}"))).cloned()
    };
    let took = wait_until("the group started", Duration::from_secs(60), &name, || {
        active_node().is_some_and(|n| states(&n) == "active active active")
    });
    let first = active_node().unwrap();
    let other = if first == n1 { n2.clone() } else { n1.clone() };
    eprintln!("started on {first} in {took:?}");
    assert_eq!(states(&other), "inactive inactive inactive");
    assert!(
        exec(&first, &format!("ip -4 addr show eth0 | grep -q ' {vip}/'")).status.success(),
        "the floating IP is not on {first}"
    );
    assert!(exec(&first, "test -s /run/eva-master/token").status.success(), "the master did not start on {first}");

    // Standby moves the group; the units follow.
    assert!(exec(&n1, &format!("crm node standby {first}")).status.success());
    let took = wait_until("the group moved", Duration::from_secs(60), &name, || {
        active_node().as_deref() == Some(other.as_str())
            && states(&other) == "active active active"
            && states(&first) == "inactive inactive inactive"
    });
    eprintln!("moved to {other} in {took:?}");
    assert!(exec(&n1, &format!("crm node online {first}")).status.success());

    // A unit stopped behind the cluster's back: monitor catches it, Pacemaker recovers.
    assert!(exec(&other, "systemctl stop mongod.service").status.success());
    let took = wait_until("the failure counted", Duration::from_secs(60), &name, || {
        let out = exec(&n1, &format!("crm_failcount --query --resource eva-master --node {other}"));
        !String::from_utf8_lossy(&out.stdout).contains("value=0")
    });
    eprintln!("failure seen in {took:?}");
    let took = wait_until("recovered", Duration::from_secs(60), &name, || {
        states(&other) == "active active active" && active_node().is_some()
    });
    eprintln!("recovered in {took:?}");
    // What the agent said, as Pacemaker logged it.
    let log = exec(&other, "cat /var/log/pacemaker/pacemaker.log 2>/dev/null; journalctl --no-pager -q 2>/dev/null");
    assert!(
        report(&log).contains("unit(s) no longer active: mongod.service"),
        "{}",
        report(&log).lines().rev().take(60).collect::<Vec<_>>().join("\n")
    );
    assert!(exec(&n1, "crm resource cleanup eva-master").status.success());

    // Stopping the group stops everything on both nodes.
    assert!(exec(&n1, "crm resource stop eva").status.success());
    let took = wait_until("everything stopped", Duration::from_secs(60), &name, || {
        states(&n1) == "inactive inactive inactive" && states(&n2) == "inactive inactive inactive" && active_node().is_none()
    });
    eprintln!("stopped everywhere in {took:?}");
    for node in [&n1, &n2] {
        assert!(
            !exec(node, &format!("ip -4 addr show eth0 | grep -q ' {vip}/'")).status.success(),
            "the floating IP is still on {node}"
        );
        assert!(!exec(node, "pgrep -f '[e]va-ha genw'").status.success(), "a watcher is left on {node}");
    }
}

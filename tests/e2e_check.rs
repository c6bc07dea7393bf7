//! eva-check on real-systemd node containers (scripts/node.sh): two nodes sharing one Docker
//! volume as the shared disk, laid out as the guide prescribes, pass; then each way a node
//! drifts from that setup fails, naming the culprit. A third node without the shared disk
//! is a standby: it is told so and the rest is checked.

mod common;

use std::process::{Command, Output};

use common::BIN;
use common::support::{docker_ready, exec, node_sh, remove_container, text};

/// The guide's setup on a node. On the active node the data moves to the shared disk; on
/// the standby the local copies are deleted. Both link back and chown the links.
const LAYOUT_ACTIVE: &str = r#"set -e
mkdir -p /var/lib/mongo /var/lib/pgsql/9.5/data
mv /opt/pulse /mnt/shared/pulse && ln -s /mnt/shared/pulse /opt/pulse
mv /var/lib/mongo /mnt/shared/pulse/mongo && ln -s /mnt/shared/pulse/mongo /var/lib/mongo
chown -h mongod:mongod /var/lib/mongo
mv /var/lib/pgsql/9.5/data /mnt/shared/pulse/pg_data && ln -s /mnt/shared/pulse/pg_data /var/lib/pgsql/9.5/data
chown -h postgres:postgres /var/lib/pgsql/9.5/data
echo '{"masterIp": "10.0.0.100", "port": 3000}' > /opt/eva/configuration.json
"#;
const LAYOUT_STANDBY: &str = r#"set -e
mkdir -p /var/lib/pgsql/9.5
rm -rf /opt/pulse /var/lib/mongo /var/lib/pgsql/9.5/data
ln -s /mnt/shared/pulse /opt/pulse
ln -s /mnt/shared/pulse/mongo /var/lib/mongo && chown -h mongod:mongod /var/lib/mongo
ln -s /mnt/shared/pulse/pg_data /var/lib/pgsql/9.5/data && chown -h postgres:postgres /var/lib/pgsql/9.5/data
echo '{"masterIp": "10.0.0.100", "port": 3000}' > /opt/eva/configuration.json
"#;

struct Node {
    name: String,
}

impl Node {
    #[track_caller]
    fn boot(name: &str, volume: Option<&str>, layout: &str) -> Node {
        let node = Node { name: name.to_owned() };
        let mount = volume.map(|v| format!("{v}:/mnt/shared"));
        let mut args = vec!["run", name];
        if let Some(m) = &mount {
            args.extend(["-v", m]);
        } else {
            args.extend(["--tmpfs", "/mnt/unused"]);
        }
        node_sh(&args);
        node_sh(&["install", name, BIN]);
        node.ok(layout);
        node
    }

    fn sh(&self, cmd: &str) -> Output {
        exec(&self.name, cmd)
    }

    #[track_caller]
    fn ok(&self, cmd: &str) -> String {
        let out = self.sh(cmd);
        assert!(out.status.success(), "{cmd}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// eva-check's exit status and table.
    fn check(&self) -> (Option<i32>, String) {
        let out = self.sh("eva-check --shared-mount /mnt/shared");
        (out.status.code(), text(&out))
    }

    #[track_caller]
    fn passes(&self) -> String {
        let (code, table) = self.check();
        assert_eq!(code, Some(0), "{}: expected no FAIL:\n{table}", self.name);
        assert!(!table.contains("\nFAIL "), "{table}");
        table
    }

    /// eva-check fails, with a FAIL line that contains every needle.
    #[track_caller]
    fn fails_with(&self, needles: &[&str]) -> String {
        let (code, table) = self.check();
        assert_eq!(code, Some(1), "{}: expected a FAIL:\n{table}", self.name);
        assert!(
            table.lines().any(|l| l.starts_with("FAIL") && needles.iter().all(|n| l.contains(n))),
            "no FAIL line with {needles:?}:\n{table}"
        );
        table
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        remove_container(&self.name);
    }
}

struct Volume(String);

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["volume", "rm", "-f", &self.0]).output();
    }
}

#[test]
fn two_nodes_laid_out_per_the_guide_pass_and_each_drift_fails_naming_the_culprit() {
    if !docker_ready() {
        return;
    }
    let id = std::process::id();
    let volume = Volume(format!("eva-ha-shared-{id}"));
    let out = Command::new("docker").args(["volume", "create", &volume.0]).output().unwrap();
    assert!(out.status.success());
    let a = Node::boot(&format!("eva-ha-check-a-{id}"), Some(&volume.0), LAYOUT_ACTIVE);
    let b = Node::boot(&format!("eva-ha-check-b-{id}"), Some(&volume.0), LAYOUT_STANDBY);

    let table = a.passes();
    assert!(table.contains("mounted here: this is the active node"), "{table}");
    assert!(table.contains("/var/lib/mongo") && table.contains("owned by mongod:mongod"), "{table}");
    let table = b.passes();
    assert!(table.contains("mongod uid 990 gid 990 on both nodes"), "{table}");
    assert!(table.contains("configuration.json identical on both nodes"), "{table}");
    a.passes();

    // A plain directory instead of a link.
    a.ok("rm /var/lib/mongo && mkdir /var/lib/mongo");
    a.fails_with(&["/var/lib/mongo", "a plain directory, not a link into the shared disk"]);
    a.ok("rmdir /var/lib/mongo && ln -s /mnt/shared/pulse/mongo /var/lib/mongo && chown -h mongod:mongod /var/lib/mongo");
    a.passes();

    // The link's owner.
    a.ok("chown -h root:root /var/lib/mongo");
    a.fails_with(&["/var/lib/mongo", "owned by 0:0, not mongod:mongod"]);
    a.ok("chown -h mongod:mongod /var/lib/mongo");

    // A link off the shared disk.
    a.ok("ln -sfn /var/tmp /var/lib/pgsql/9.5/data && chown -h postgres:postgres /var/lib/pgsql/9.5/data");
    a.fails_with(&["/var/lib/pgsql/9.5/data", "points off the shared disk: /var/tmp"]);
    a.ok("ln -sfn /mnt/shared/pulse/pg_data /var/lib/pgsql/9.5/data && chown -h postgres:postgres /var/lib/pgsql/9.5/data");

    // A unit enabled at boot; docker.socket enabled is a warning.
    a.ok("systemctl enable mongod.service 2>/dev/null");
    a.fails_with(&["mongod.service", "enabled at boot"]);
    a.ok("systemctl disable mongod.service 2>/dev/null");
    a.ok("printf '[Socket]\\nListenStream=/run/docker-standin.sock\\n[Install]\\nWantedBy=sockets.target\\n' > /etc/systemd/system/docker.socket && systemctl daemon-reload && systemctl enable docker.socket 2>/dev/null");
    let table = a.passes();
    assert!(
        table.lines().any(|l| l.starts_with("WARN") && l.contains("docker.socket") && l.contains("socket activation")),
        "{table}"
    );
    a.ok("systemctl disable docker.socket 2>/dev/null");

    // A worker config without its token.
    a.ok("cp /opt/pulse/worker/config/configuration.json /var/tmp/wc && echo '{\"masterIp\": \"10.0.0.100\"}' > /opt/pulse/worker/config/configuration.json");
    a.fails_with(&["/opt/pulse/worker/config/configuration.json", "key workerToken is missing"]);
    a.ok("cp /var/tmp/wc /opt/pulse/worker/config/configuration.json");

    // A world-writable master script.
    a.ok("chmod o+w /opt/eva/start-master-rhel.sh");
    a.fails_with(&["/opt/eva/start-master-rhel.sh", "writable by everyone"]);
    a.ok("chmod o-w /opt/eva/start-master-rhel.sh");
    a.passes();

    // The master configuration edited on one node only.
    b.ok("echo '{\"masterIp\": \"10.0.0.200\"}' > /opt/eva/configuration.json");
    b.fails_with(&[&a.name, "configuration.json differs"]);
    b.ok("echo '{\"masterIp\": \"10.0.0.100\", \"port\": 3000}' > /opt/eva/configuration.json");
    b.passes();

    // The second node's mongod has another uid: both nodes see it, naming the other one.
    b.ok("sed -i 's/^mongod:x:990:/mongod:x:991:/' /etc/passwd && chown -h mongod /var/lib/mongo");
    b.fails_with(&[&a.name, "mongod is uid 991 gid 990 here but uid 990 gid 990"]);
    a.fails_with(&[&b.name, "mongod is uid 990 gid 990 here but uid 991 gid 990", "cannot be written"]);
}

#[test]
fn a_standby_without_the_shared_disk_is_told_so_and_checked_for_the_rest() {
    if !docker_ready() {
        return;
    }
    let standby = Node::boot(&format!("eva-ha-check-s-{}", std::process::id()), None, LAYOUT_STANDBY);
    let table = standby.passes();
    assert!(
        table.lines().any(|l| l.starts_with("WARN") && l.contains("/mnt/shared") && l.contains("not mounted here")),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("OK") && l.contains("/var/lib/mongo")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("WARN") && l.contains("worker token")), "{table}");
    // --json for machines.
    let json = standby.ok("eva-check --shared-mount /mnt/shared --json");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["summary"]["fail"], 0, "{json}");
    assert!(doc["checks"].as_array().unwrap().iter().any(|c| c["status"] == "WARN" && c["check"] == "shared disk"), "{json}");
}

//! The failover drills' nodes, end to end (scripts/drill-nodes.sh): two real-systemd nodes
//! with a real Docker engine each, the real PostgreSQL with its data on a shared disk, and
//! the EVA master stand-in (four application containers, the REST API on port 3000). The
//! test drives them as a cluster would: the shared disk and the floating IP to node 1,
//! eva-start there, then everything a client and an administrator see (the containers on
//! node 1's own engine, PostgreSQL and the REST API through the floating IP, eva-check), a
//! row written through the floating IP; eva-stop, the disk and the IP to node 2, eva-start
//! there, and the row is still there. Needs a Docker engine; without one the test fails
//! under CI=true and skips loudly elsewhere.

mod common;

use std::process::Output;
use std::time::Instant;

use common::BIN;
use common::support::{docker_ready, eva_ha, exec, report, run};

/// The four application units the guide supports on a clustered master.
const APPS: [&str; 4] = ["usecase-watchlist", "usecase-gender-age", "usecase-people-counting", "usecase-crowd"];
/// scripts/node-drill/eva-rest.env and pg-drill.env.
const REST_USER: &str = "admin";
const REST_PASSWORD: &str = "drill-Rest-7c2e";
const PG_PASSWORD: &str = "drill-Pg-4b9d";
/// The token in the worker configuration (scripts/node/configuration.json), as jq prints it.
const TOKEN_JSON: &str = "\"sandbox-0123456789abcdef\"";
/// A minimal configuration, as an administrator writes it on both nodes.
const CONFIG: &str = "install_dir = \"/home/eva/eva-master\"\nshared_mount = \"/mnt/shared\"\n";

/// Removes the pair at the end, whatever happened.
struct Pair(String);

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = run("scripts/drill-nodes.sh", &["down", &self.0]);
    }
}

impl Pair {
    fn node(&self, n: u8) -> String {
        format!("{}-{n}", self.0)
    }

    #[track_caller]
    fn drill(&self, args: &[&str]) -> String {
        let mut all = vec![args[0], self.0.as_str()];
        all.extend(&args[1..]);
        let out = run("scripts/drill-nodes.sh", &all);
        assert!(out.status.success(), "drill-nodes.sh {all:?}: {}", report(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `script` on node `n`, asserting success; its stdout.
    #[track_caller]
    fn ok(&self, n: u8, script: &str) -> String {
        let out = exec(&self.node(n), script);
        assert!(out.status.success(), "{}: {script}: {}\n{}", self.node(n), report(&out), self.state());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn state(&self) -> String {
        let out = run("scripts/drill-nodes.sh", &["state", &self.0]);
        format!("drill-nodes.sh state:\n{}", String::from_utf8_lossy(&out.stdout))
    }

    /// eva-start on node `n` as CLUSTERPRO runs it: an empty environment, CLP_* variables.
    #[track_caller]
    fn eva_start(&self, n: u8) -> String {
        let node = self.node(n);
        self.ok(n, &format!("env -i CLP_EVENT=START CLP_SERVER={node} CLP_DISK=SUCCESS /usr/local/sbin/eva-start 2>&1"))
    }

    #[track_caller]
    fn eva_stop(&self, n: u8) -> String {
        let node = self.node(n);
        self.ok(n, &format!("env -i CLP_SERVER={node} /usr/local/sbin/eva-stop 2>&1"))
    }

    fn units(&self, n: u8) -> String {
        let out = exec(&self.node(n), "systemctl is-active docker.service mongod.service postgresql-9.5.service");
        String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The application containers running on node `n`'s own engine, sorted.
    #[track_caller]
    fn running_apps(&self, n: u8) -> Vec<String> {
        let out = self.ok(n, "docker ps --filter label=com.nec.eva.app --filter status=running --format '{{.Names}}'");
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// psql through the floating IP from node `client`, as the test user: its output.
    #[track_caller]
    fn sql(&self, client: u8, vip: &str, sql: &str) -> String {
        self.ok(client, &format!("PGPASSWORD={PG_PASSWORD} PGCONNECT_TIMEOUT=5 psql -X -q -tA -v ON_ERROR_STOP=1 -h {vip} -U drill -d drill -c \"{sql}\""))
            .trim()
            .to_owned()
    }

    /// eva-check on node `n`: its status and table.
    fn check(&self, n: u8) -> (Option<i32>, String) {
        let out = exec(&self.node(n), "eva-check 2>&1");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// eva-verify from the host, a client on the network: the guide's check after a failover.
#[track_caller]
fn verify(vip: &str) -> Output {
    eva_ha("verify")
        .args(["--url", &format!("https://{vip}:3000/versions"), "--user", REST_USER, "--insecure", "--wait", "30"])
        .env("EVA_HA_PASSWORD", REST_PASSWORD)
        .output()
        .unwrap()
}

fn sorted_apps() -> Vec<String> {
    let mut apps: Vec<String> = APPS.iter().map(|a| a.to_string()).collect();
    apps.sort();
    apps
}

#[test]
fn the_master_runs_on_real_engines_and_its_data_follows_the_shared_disk_to_the_other_node() {
    if !docker_ready() {
        return;
    }
    let started = Instant::now();
    let pair = Pair(format!("evadrill-t{}", std::process::id() % 100_000));
    let vip = pair.drill(&["up"]).trim().to_owned();
    let up = started.elapsed();
    pair.drill(&["install", BIN]);
    for n in [1, 2] {
        pair.ok(n, &format!("printf '%s' '{CONFIG}' > /etc/eva-ha/eva-ha.toml"));
        // Nothing runs before the cluster (here the test) starts it.
        assert_eq!(pair.units(n), "inactive inactive inactive", "{}", pair.state());
    }
    let host_engine =
        String::from_utf8_lossy(&std::process::Command::new("docker").args(["info", "-f", "{{.ID}}"]).output().unwrap().stdout)
            .trim()
            .to_owned();

    // Node 1 takes the group: the shared disk and the floating IP, then eva-start.
    pair.drill(&["acquire", "1"]);
    assert_eq!(pair.drill(&["holder"]).trim(), pair.node(1));
    let t = Instant::now();
    let log = pair.eva_start(1);
    let start1 = t.elapsed();
    assert!(log.contains("--token=***"), "{log}");
    assert!(!log.contains("sandbox-0123456789abcdef"), "the token was logged: {log}");
    assert_eq!(pair.units(1), "active active active", "{log}\n{}", pair.state());
    assert_eq!(pair.units(2), "inactive inactive inactive");
    // The master got the token as jq prints it.
    assert_eq!(pair.ok(1, "cat /run/eva-master/token"), TOKEN_JSON);
    // The four applications, on node 1's own engine (vfs, not the host's engine), none on node 2.
    assert_eq!(pair.running_apps(1), sorted_apps(), "{}", pair.state());
    let engine = pair.ok(1, "docker info -f '{{.ID}} {{.Driver}}'");
    let (id, driver) = engine.trim().split_once(' ').unwrap();
    assert_eq!(driver, "vfs");
    assert_ne!(id, host_engine, "node 1 talks to the host's engine");
    let policy = pair.ok(1, "docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.NetworkMode}}' usecase-crowd");
    assert_eq!(policy.trim(), "always none");
    assert!(!exec(&pair.node(2), "docker info").status.success(), "node 2's engine runs");

    // A client writes through the floating IP (from node 2, a host on the network).
    pair.sql(2, &vip, "CREATE TABLE drill (id int PRIMARY KEY, note text)");
    pair.sql(2, &vip, "INSERT INTO drill VALUES (1, 'written on node 1')");
    assert_eq!(pair.sql(2, &vip, "SELECT note FROM drill WHERE id = 1"), "written on node 1");
    assert_eq!(pair.sql(2, &vip, "SELECT inet_server_addr()"), vip);

    // The REST API answers through the floating IP, from node 1.
    let out = verify(&vip);
    let said = report(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("HTTP 200") && said.contains(&pair.node(1)), "{said}");
    assert!(!said.contains(REST_PASSWORD), "{said}");

    // eva-check on the active node: nothing fails; the only warning is that no other node
    // has recorded itself on the shared disk yet.
    let (code, table) = pair.check(1);
    assert_eq!(code, Some(0), "{table}");
    assert!(table.contains("mounted here: this is the active node"), "{table}");
    let warnings: Vec<&str> = table.lines().filter(|l| l.starts_with("WARN") || l.starts_with("FAIL")).collect();
    assert!(warnings.len() <= 1 && warnings.iter().all(|w| w.contains("no other node has recorded")), "{table}");

    // An application crashes (exit 3): eva-genw, on the node's real engine, reports it and
    // ends (the custom monitor's failure); the engine restarts the application.
    let out = exec(
        &pair.node(1),
        "eva-genw --initial-delay 0 > /tmp/genw.log 2>&1 & g=$!; sleep 1; docker exec usecase-crowd kill -USR1 1; \
         wait $g; echo \"genw=$?\"; cat /tmp/genw.log",
    );
    let genw = report(&out);
    assert!(genw.contains("genw=1") && genw.contains("usecase-crowd") && genw.contains("exit code 3"), "{genw}");
    let restarted = (0..50).any(|_| {
        let out = exec(&pair.node(1), "docker inspect -f '{{.RestartCount}} {{.State.Running}}' usecase-crowd");
        std::thread::sleep(std::time::Duration::from_millis(100));
        String::from_utf8_lossy(&out.stdout).trim() == "1 true"
    });
    assert!(restarted, "usecase-crowd was not restarted by its engine\n{}", pair.state());

    // eva-stop: nothing left running on node 1; the disk and the IP move to node 2.
    let t = Instant::now();
    let log = pair.eva_stop(1);
    let stop1 = t.elapsed();
    assert_eq!(pair.units(1), "inactive inactive inactive", "{log}");
    let t = Instant::now();
    pair.drill(&["move", "2"]);
    let moved = t.elapsed();
    assert_eq!(pair.drill(&["holder"]).trim(), pair.node(2));
    assert!(!exec(&pair.node(1), "mountpoint -q /mnt/shared").status.success(), "node 1 still has the shared disk");

    let t = Instant::now();
    let log = pair.eva_start(2);
    let start2 = t.elapsed();
    assert_eq!(pair.units(2), "active active active", "{log}\n{}", pair.state());
    assert_eq!(pair.running_apps(2), sorted_apps(), "{}", pair.state());
    // What was written through the floating IP before the move is there (client: node 1 now).
    assert_eq!(pair.sql(1, &vip, "SELECT note FROM drill WHERE id = 1"), "written on node 1");
    pair.sql(1, &vip, "INSERT INTO drill VALUES (2, 'written on node 2')");
    let out = verify(&vip);
    let said = report(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(&pair.node(2)), "the REST API did not follow the move: {said}");
    // mongod's data is on the shared disk too: both nodes' starts are in its log.
    let starts = pair.ok(2, "cat /var/lib/mongo/starts.log");
    assert!(starts.contains(&pair.node(1)) && starts.contains(&pair.node(2)), "{starts}");

    // eva-check on node 2 now compares itself with node 1's record: all OK.
    let (code, table) = pair.check(2);
    assert_eq!(code, Some(0), "{table}");
    assert!(!table.lines().any(|l| l.starts_with("WARN") || l.starts_with("FAIL")), "{table}");
    assert!(table.contains(&pair.node(1)), "{table}");

    pair.eva_stop(2);
    assert_eq!(pair.units(2), "inactive inactive inactive");
    pair.drill(&["release", "2"]);
    assert_eq!(pair.drill(&["holder"]).trim(), "none");
    eprintln!(
        "drill pair: up {up:?}, eva-start on node 1 {start1:?}, eva-stop {stop1:?}, move {moved:?}, eva-start on node 2 {start2:?}, all {:?}",
        started.elapsed()
    );
}

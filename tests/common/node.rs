//! The fixture: a fake node under one temporary directory, its fakes and its settings.
//!
//! [`Node::new`] lays out:
//! - `bin/`: first on PATH; holds the fake `systemctl` and `journalctl`
//!   (tests/fakes/systemctl, tests/fakes/journalctl), and whatever a test adds with
//!   `write_executable("bin/…")`;
//! - `systemd/`: the fake's unit states (`<unit>.state`) and knobs (`<unit>.fail`, …), and
//!   `calls`, one line per systemctl invocation;
//! - `eva/`: the install directory, with the stand-in master scripts
//!   (tests/fakes/start-master-rhel.sh, tests/fakes/stop-master.sh) that record what they got
//!   in `master/`;
//! - `configuration.json` with a worker token, and `eva-ha.toml` pointing at all of it,
//!   with `end_leftovers = false`: a run in this machine's /proc must never end a process
//!   the test did not start (tests/stop.rs turns it on in a pid namespace of its own);
//! - `docker/` and `podman/`, once a test asks for a fake container runtime with
//!   [`Test::fake_docker`] / [`Test::fake_podman`] (tests/fakes/engine);
//! - `clplogcmd.log`, what the fake `clplogcmd` got, once a test installs it with
//!   [`Test::clplogcmd`] (tests/fakes/clplogcmd).
//!
//! The fakes find these directories through the environment [`Node::environment`] gives
//! every run (FAKE_SYSTEMD, EVA_TEST_MASTER, FAKE_ENGINE_ROOT, FAKE_CLPLOGCMD_LOG). The
//! builder methods on [`Test`] here set the node up; [`Node`]'s readers give back what the
//! fakes recorded.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{TOKEN, Test};

const FAKE_SYSTEMCTL: &str = include_str!("../fakes/systemctl");
const FAKE_JOURNALCTL: &str = include_str!("../fakes/journalctl");
const FAKE_ENGINE: &str = include_str!("../fakes/engine");
const FAKE_CLPLOGCMD: &str = include_str!("../fakes/clplogcmd");
const FAKE_CRM_RESOURCE: &str = include_str!("../fakes/crm_resource");
const FAKE_CLPMONCTRL: &str = include_str!("../fakes/clpmonctrl");
const FAKE_CLPSTAT: &str = include_str!("../fakes/clpstat");
const START_SCRIPT: &str = include_str!("../fakes/start-master-rhel.sh");
const STOP_SCRIPT: &str = include_str!("../fakes/stop-master.sh");

/// Held while a fake is written and while a child is forked. A child forked by another
/// test's thread while a fake is still open for writing keeps a copy of that descriptor
/// until it execs, and running the fake meanwhile fails with ETXTBSY ("Text file busy").
pub(crate) static FORKING: Mutex<()> = Mutex::new(());

/// A fake node: its directory lives until the last clone is dropped.
#[must_use]
#[derive(Clone)]
pub struct Node {
    tmp: Arc<tempfile::TempDir>,
}

impl Node {
    /// A new node, laid out as the module's documentation says.
    pub fn new() -> Node {
        let node = Node { tmp: Arc::new(tempfile::tempdir().unwrap()) };
        node.write_executable("bin/systemctl", FAKE_SYSTEMCTL);
        node.write_executable("bin/journalctl", FAKE_JOURNALCTL);
        node.write_executable("eva/start-master-rhel.sh", START_SCRIPT);
        node.write_executable("eva/stop-master.sh", STOP_SCRIPT);
        node.write("configuration.json", &format!("{{\"masterIp\": \"10.0.0.1\", \"workerToken\": \"{TOKEN}\"}}\n"));
        node.write(
            "eva-ha.toml",
            &format!(
                "install_dir = \"{r}/eva\"\nworker_config = \"{r}/configuration.json\"\nlock_file = \"{r}/eva-ha.lock\"\nstate_dir = \"{r}/state\"\nhistory_dir = \"{r}/history\"\ncontainerd_sockets = [\"{r}/containerd.sock\"]\nend_leftovers = false\n",
                r = node.root().display()
            ),
        );
        fs::create_dir_all(node.path("systemd")).unwrap();
        fs::create_dir_all(node.path("master")).unwrap();
        node
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// What every run on this node gets in its environment: `bin/` first on PATH, the
    /// directories the fakes work in, and eva-ha.toml as the configuration.
    pub fn environment(&self) -> Vec<(&'static str, OsString)> {
        let mut path = self.path("bin").into_os_string();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        vec![
            ("PATH", path),
            ("FAKE_SYSTEMD", self.path("systemd").into()),
            ("EVA_TEST_MASTER", self.path("master").into()),
            ("FAKE_ENGINE_ROOT", self.root().into()),
            ("FAKE_CLPLOGCMD_LOG", self.path("clplogcmd.log").into()),
            ("EVA_HA_CONFIG", self.path("eva-ha.toml").into()),
            ("FAKE_SYSTEMD_VERSION", super::systemd_version().into()),
            ("FAKE_PACEMAKER", self.path("pacemaker").into()),
            ("FAKE_CLP", self.path("clusterpro").into()),
        ]
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
    }

    pub fn write_executable(&self, rel: &str, content: &str) {
        // No child may be forked while the file is open for writing (see FORKING).
        let _forking = FORKING.lock().unwrap_or_else(|e| e.into_inner());
        self.write(rel, content);
        self.set_mode(rel, 0o755);
    }

    pub fn remove(&self, rel: &str) {
        let _ = fs::remove_file(self.path(rel));
    }

    pub fn set_mode(&self, rel: &str, mode: u32) {
        fs::set_permissions(self.path(rel), fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Sets `key` in eva-ha.toml to `value` (TOML text), replacing it if set.
    pub fn set_config(&self, key: &str, value: &str) {
        let text = self.config_without(key) + &format!("{key} = {value}\n");
        self.write("eva-ha.toml", &text);
    }

    /// Removes `key` from eva-ha.toml.
    pub fn unset_config(&self, key: &str) {
        let text = self.config_without(key);
        self.write("eva-ha.toml", &text);
    }

    fn config_without(&self, key: &str) -> String {
        let text = fs::read_to_string(self.path("eva-ha.toml")).unwrap();
        let is_key = |line: &str| line.split_once('=').is_some_and(|(k, _)| k.trim() == key);
        text.lines().filter(|l| !is_key(l)).map(|l| format!("{l}\n")).collect()
    }

    /// The systemctl invocations, one per line (`start -- docker mongod.service …`).
    pub fn systemctl_calls(&self) -> Vec<String> {
        fs::read_to_string(self.path("systemd/calls")).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// The fake systemctl's state of unit `id` (`docker.service`): `inactive` when unset.
    pub fn state(&self, id: &str) -> String {
        fs::read_to_string(self.path(&format!("systemd/{id}.state"))).map_or("inactive".into(), |s| s.trim().to_owned())
    }

    /// A file the master scripts wrote, under `master/`.
    pub fn master(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.path("master").join(name)).ok()
    }

    pub fn master_bytes(&self, name: &str) -> Option<Vec<u8>> {
        fs::read(self.path("master").join(name)).ok()
    }

    /// The invocations of the fake `engine` (`docker`, `podman`), each as its arguments.
    pub fn engine_calls(&self, engine: &str) -> Vec<Vec<String>> {
        fs::read_to_string(self.path(engine).join("calls"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.strip_suffix('\x1f').unwrap_or(l).split('\x1f').map(str::to_owned).collect())
            .collect()
    }

    /// The calls of the fake clplogcmd, each as its argument list.
    pub fn alerts(&self) -> Vec<Vec<String>> {
        let text = fs::read_to_string(self.path("clplogcmd.log")).unwrap_or_default();
        text.split('\x1e')
            .filter(|c| !c.is_empty())
            .map(|c| c.strip_suffix('\x1f').unwrap_or(c).split('\x1f').map(str::to_owned).collect())
            .collect()
    }
}

/// The builder methods that set the node up (files, fakes, settings); each returns the
/// builder, to chain.
impl Test {
    pub fn root(&self) -> &Path {
        self.node.root()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.node.path(rel)
    }

    #[must_use = "a builder method returns the builder"]
    pub fn write(self, rel: &str, content: &str) -> Test {
        self.node.write(rel, content);
        self
    }

    #[must_use = "a builder method returns the builder"]
    pub fn write_executable(self, rel: &str, content: &str) -> Test {
        self.node.write_executable(rel, content);
        self
    }

    #[must_use = "a builder method returns the builder"]
    pub fn remove(self, rel: &str) -> Test {
        self.node.remove(rel);
        self
    }

    /// Sets a file's permission bits: `mode("eva/start-master-rhel.sh", 0o644)`.
    #[must_use = "a builder method returns the builder"]
    pub fn mode(self, rel: &str, mode: u32) -> Test {
        self.node.set_mode(rel, mode);
        self
    }

    /// Sets `key` in eva-ha.toml to `value` (TOML text: `"raw"`, `1.5`), replacing it if set.
    #[must_use = "a builder method returns the builder"]
    pub fn config(self, key: &str, value: &str) -> Test {
        self.node.set_config(key, value);
        self
    }

    /// Removes `key` from eva-ha.toml.
    #[must_use = "a builder method returns the builder"]
    pub fn unset_config(self, key: &str) -> Test {
        self.node.unset_config(key);
        self
    }

    /// Writes configuration.json with `workerToken` set to `json`, the value's JSON text as
    /// it appears in the file (`"abc"`, `null`, `42`).
    #[must_use = "a builder method returns the builder"]
    pub fn worker_token_json(self, json: &str) -> Test {
        self.write("configuration.json", &format!("{{\"masterIp\": \"10.0.0.1\", \"workerToken\": {json}}}\n"))
    }

    /// Installs the fake `crm_resource` on PATH (tests/fakes/crm_resource), behaving as
    /// Pacemaker `version` does; it records its calls under `pacemaker/`.
    #[must_use = "a builder method returns the builder"]
    pub fn pacemaker(self, version: &str) -> Test {
        fs::create_dir_all(self.path("pacemaker")).unwrap();
        self.write_executable("bin/crm_resource", FAKE_CRM_RESOURCE).env("FAKE_PACEMAKER_VERSION", version)
    }

    /// Installs the fake `clpmonctrl` and `clpstat` on PATH (tests/fakes/clpmonctrl,
    /// tests/fakes/clpstat), with servers server1 (this one) and server2; they record under
    /// `clusterpro/`.
    #[must_use = "a builder method returns the builder"]
    pub fn clusterpro(self) -> Test {
        fs::create_dir_all(self.path("clusterpro")).unwrap();
        self.write_executable("bin/clpmonctrl", FAKE_CLPMONCTRL).write_executable("bin/clpstat", FAKE_CLPSTAT)
    }

    /// Installs the fake `clplogcmd` on PATH; [`super::Run::alerts`] returns its calls.
    #[must_use = "a builder method returns the builder"]
    pub fn clplogcmd(self) -> Test {
        self.write_executable("bin/clplogcmd", FAKE_CLPLOGCMD)
    }

    /// Installs a fake `docker` on PATH (tests/fakes/engine), with an engine that answers
    /// (version 27.5.1) and, until scripted otherwise, no events.
    #[must_use = "a builder method returns the builder"]
    pub fn fake_docker(self) -> Test {
        self.fake_engine("docker", "27.5.1")
    }

    /// Installs a fake `podman` on PATH, like [`Test::fake_docker`] (version 4.9.3).
    #[must_use = "a builder method returns the builder"]
    pub fn fake_podman(self) -> Test {
        self.fake_engine("podman", "4.9.3")
    }

    /// Installs a fake `podman` of `version` on PATH: its `events` applies the scope
    /// filters it is given as that version does (tests/fakes/engine).
    #[must_use = "a builder method returns the builder"]
    pub fn fake_podman_at(self, version: &str) -> Test {
        self.fake_engine("podman", version)
    }

    fn fake_engine(self, name: &str, version: &str) -> Test {
        fs::create_dir_all(self.path(&format!("{name}/inspect"))).unwrap();
        self.write_executable(&format!("bin/{name}"), FAKE_ENGINE).write(&format!("{name}/version"), &format!("{version}\n"))
    }

    /// What the `n`th event subscription of the fake `engine` (`docker`, `podman`) prints,
    /// one line each; afterwards it waits, unless [`Test::events_end`].
    #[must_use = "a builder method returns the builder"]
    pub fn events(self, engine: &str, n: usize, lines: &[&str]) -> Test {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.write(&format!("{engine}/events-{n}"), &text)
    }

    /// What the `n`th `docker events` prints (see [`Test::events`]).
    #[must_use = "a builder method returns the builder"]
    pub fn docker_events(self, n: usize, lines: &[&str]) -> Test {
        self.events("docker", n, lines)
    }

    /// Lines the `n`th `docker events` prints on stderr.
    #[must_use = "a builder method returns the builder"]
    pub fn docker_events_stderr(self, n: usize, lines: &[&str]) -> Test {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.write(&format!("docker/events-{n}.stderr"), &text)
    }

    /// Every `docker events` fails at once with `message`, while `version` answers.
    #[must_use = "a builder method returns the builder"]
    pub fn docker_events_fail(self, message: &str) -> Test {
        self.write("docker/events.fail", &format!("{message}\n"))
    }

    /// The `n`th subscription of `engine` ends after its lines, with exit status `status`.
    #[must_use = "a builder method returns the builder"]
    pub fn events_end(self, engine: &str, n: usize, status: i32) -> Test {
        self.write(&format!("{engine}/events-{n}.end"), &status.to_string())
    }

    /// The `n`th `docker events` ends after its lines, and the engine is unreachable for
    /// the next `failed_pings` `docker version` calls.
    #[must_use = "a builder method returns the builder"]
    pub fn docker_events_end_down(self, n: usize, failed_pings: usize) -> Test {
        self.events_end("docker", n, 1).write(&format!("docker/events-{n}.down"), &failed_pings.to_string())
    }

    /// What the fake `engine`'s `inspect` prints for container `id` (a JSON object).
    #[must_use = "a builder method returns the builder"]
    pub fn inspect(self, engine: &str, id: &str, json: &str) -> Test {
        self.write(&format!("{engine}/inspect/{id}.json"), json)
    }

    #[must_use = "a builder method returns the builder"]
    pub fn docker_inspect(self, id: &str, json: &str) -> Test {
        self.inspect("docker", id, json)
    }

    /// `docker inspect` fails for every container (permission denied).
    #[must_use = "a builder method returns the builder"]
    pub fn docker_inspect_fails(self) -> Test {
        self.write("docker/inspect.fail", "")
    }

    /// The containers `docker ps --all … --filter status=exited` lists.
    #[must_use = "a builder method returns the builder"]
    pub fn docker_ps(self, ids: &[&str]) -> Test {
        let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
        self.write("docker/ps", &text)
    }

    /// The docker engine does not answer, ever.
    #[must_use = "a builder method returns the builder"]
    pub fn docker_down(self) -> Test {
        self.write("docker/down", "")
    }

    /// Sets a fake-systemctl knob or state: `unit("mongod.service", "fail", "")`.
    #[must_use = "a builder method returns the builder"]
    pub fn unit(self, id: &str, knob: &str, content: &str) -> Test {
        let rel = format!("systemd/{id}.{knob}");
        self.write(&rel, content)
    }

    /// The fake systemctl behaves as systemd `version` does (219, 239, 252), whatever
    /// `EVA_TEST_SYSTEMD` says.
    #[must_use = "a builder method returns the builder"]
    pub fn systemd(self, version: &str) -> Test {
        self.env("FAKE_SYSTEMD_VERSION", version)
    }

    /// Marks units as already running.
    #[must_use = "a builder method returns the builder"]
    pub fn active(self, ids: &[&str]) -> Test {
        ids.iter().fold(self, |t, id| t.unit(id, "state", "active\n"))
    }
}

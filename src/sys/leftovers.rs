//! The container processes that a dead docker engine leaves running.
//!
//! dockerd runs its containers through containerd: each container's processes run below a
//! shim, in a cgroup of the container's own. When dockerd dies (killed, or stopped with
//! live-restore on, or with docker-ce's containerd, which is its own unit and outlives
//! `systemctl stop docker`), the containers go on, invisible to `docker ps`, and a failover
//! then starts the same containers on the other node: two masters. So once the units are
//! stopped, whatever still runs of the node's docker containers is ended, and named in the
//! log. Two ways find them, because neither alone sees every case:
//!
//! - **By cgroup**, whatever the shim and whether or not it still runs (a unit that kills
//!   its whole cgroup takes the shims with it and leaves the containers' processes, in
//!   cgroups of their own, running with no parent but init). docker puts a container in
//!   `/docker/<64-hex id>` with the cgroupfs driver and in
//!   `/system.slice/docker-<64-hex id>.scope` with the systemd one (moby
//!   `daemon/oci_linux.go`, `createSpec`/`WithCgroups`, the same at v1.13.1, v18.06.3-ce,
//!   v18.09.0, v20.10.0: parent `/docker`, or `system.slice` and `docker:<id>`). On cgroup v1
//!   the `devices` hierarchy is read: runc puts every container in it with either driver and
//!   refuses to run one without it, for the device whitelist, and lists a container's
//!   processes from it (opencontainers/runc v1.0.0-rc2, `libcontainer/cgroups/fs/
//!   apply_raw.go` `Apply` and `GetPids`, `systemd/apply_systemd.go` `joinCgroups`); the
//!   others are optional (memory, pids: not every kernel has them; `name=systemd`: runc's
//!   cgroupfs driver joins it, but only as a name). On cgroup v2 (only a `0::` line) that
//!   one hierarchy; the `0::` line of a hybrid system is systemd's alone and is not read.
//!   Paths count only below this node's own root: our own cgroup
//!   (`/proc/self/cgroup`) without its trailing systemd units (`…/system.slice/x.service`,
//!   `…/user.slice/…/session-1.scope`), which stops at a container's (a node that is
//!   itself a container, `/docker/<node id>/…`): the host's containers, and the node's own,
//!   are never found; a path outside our cgroup namespace (`/../…`) never counts.
//! - **By shim**, so that a shim that still runs is ended with its container:
//!   `containerd-shim`, `containerd-shim-runc-v1`/`-v2`, `docker-containerd-shim` and RHEL's
//!   `docker-containerd-shim-current`, either of namespace `moby` and of one of the
//!   `containerd_sockets` (containerd v1.0.0 `linux/shim/client/client.go`: `-namespace moby
//!   -workdir …/<id> -address <socket>` under docker 17.12–18.06, whose containerd listens on
//!   `/var/run/docker/containerd/docker-containerd.sock` (moby v17.12.0-ce and v18.06.3-ce
//!   `libcontainerd/remote_daemon_linux.go`); containerd v1.4.0
//!   `runtime/v2/runc/v2/service.go`: `-namespace moby -id <id> -address <socket>`), or in
//!   docker 1.13's form, which has neither: `<shim> <id> <bundle> docker-runc` (moby v1.13.1
//!   `libcontainerd/remote_unix.go` gives containerd `--shim docker-containerd-shim --runtime
//!   docker-runc`; containerd v0.2.6 `runtime/container.go` `Start` runs `shim id bundle
//!   runtime`; RHEL's 1.13.1 package runs `/usr/bin/docker-containerd-shim-current <id>
//!   /var/run/docker/libcontainerd/<id> /usr/libexec/docker/docker-runc-current`). Everything
//!   below a shim is its container's.
//!
//! Only while no docker engine is alive in this node (our pid namespace): a process named
//! `dockerd` (RHEL's 1.13.1: `dockerd-current`) means the containers are still an engine's,
//! maybe one that a wrong `DOCKER_HOST` hides, and nothing is ended ([`Scan::engines`]).
//! containerd does not count: docker-ce's outlives `systemctl stop docker`, and its shims
//! are what this is for. A `dockerd` inside one of the leftover containers is one of them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sys::process::is_running;

/// The names of docker's engine: docker-ce's, and RHEL 1.13.1's (`/usr/bin/dockerd-current`).
const ENGINES: [&str; 2] = ["dockerd", "dockerd-current"];
/// The names of the shims that run docker's containers (see the module's documentation).
const SHIMS: [&str; 5] = [
    "containerd-shim",
    "containerd-shim-runc-v1",
    "containerd-shim-runc-v2",
    "docker-containerd-shim",
    "docker-containerd-shim-current",
];
/// The runtimes docker 1.13 gives its shims (docker-ce's, RHEL's).
const RUNTIMES_1_13: [&str; 2] = ["docker-runc", "docker-runc-current"];

/// A process of a container whose engine is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    pub pid: i32,
    /// The process's name: its argv[0]'s basename, else `comm`.
    pub name: String,
    /// The container's id, from its shim or its cgroup.
    pub container: String,
    /// Whether it is the shim itself.
    pub shim: bool,
}

/// A docker engine that runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    pub pid: i32,
    pub name: String,
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} {}", self.pid, self.name)
    }
}

/// What one look at /proc found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The processes of docker's containers, and their shims.
    pub leftovers: Vec<Leftover>,
    /// The docker engines that run (not counting those inside the containers found).
    pub engines: Vec<Engine>,
}

/// One process as /proc describes it.
struct Proc {
    ppid: i32,
    /// argv[0]'s basename, else `comm`.
    name: String,
    comm: String,
    argv: Vec<String>,
    /// `/proc/<pid>/cgroup`, as it is.
    cgroup: String,
}

/// Every process under `proc_root` (`/proc`) but zombies: pid, parent, names, argv, cgroups.
fn processes(proc_root: &Path) -> BTreeMap<i32, Proc> {
    let mut all = BTreeMap::new();
    let Ok(entries) = fs::read_dir(proc_root) else { return all };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), Some(ppid)) = (rest.next(), rest.next().and_then(|p| p.parse().ok())) else { continue };
        if state == "Z" {
            continue;
        }
        let argv: Vec<String> = fs::read(entry.path().join("cmdline"))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // As it was started (argv[0]), which a script's `comm` (its interpreter) hides.
        let name = argv.first().map(|a| basename(a)).filter(|a| !a.is_empty()).unwrap_or(&comm).to_owned();
        let cgroup = fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default();
        all.insert(pid, Proc { ppid, name, comm, argv, cgroup });
    }
    all
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The value of option `name` in `argv`: `-name VALUE`, `--name VALUE`, `-name=VALUE`.
fn flag<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    argv.iter().enumerate().find_map(|(i, a)| {
        let bare = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))?;
        if bare == name { argv.get(i + 1).map(String::as_str) } else { bare.strip_prefix(name)?.strip_prefix('=') }
    })
}

/// A docker container's id: 64 lowercase hex digits.
fn is_container_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The container id when `p` is a shim of a docker container: of namespace `moby` and one
/// of `sockets`, or in docker 1.13's form (see the module's documentation).
fn shim_of(p: &Proc, sockets: &[String]) -> Option<String> {
    if !SHIMS.contains(&basename(p.argv.first()?)) {
        return None;
    }
    if let Some(namespace) = flag(&p.argv, "namespace") {
        let address = flag(&p.argv, "address")?;
        if namespace != "moby" || !sockets.iter().any(|s| s == address) {
            return None;
        }
        // runc v2's shim names its container; containerd 1.0–1.x's v1 shim works in
        // `…/moby/<id>`.
        let id = flag(&p.argv, "id").or_else(|| flag(&p.argv, "workdir").map(basename)).unwrap_or("?");
        return Some(id.to_owned());
    }
    // docker 1.13: `<shim> <id> <bundle> <runtime>`, nothing else.
    match &p.argv[1..] {
        [id, _bundle, runtime] if is_container_id(id) && RUNTIMES_1_13.contains(&basename(runtime)) => Some(id.clone()),
        _ => None,
    }
}

/// Which of a `/proc/<pid>/cgroup`'s lines tells a process's docker container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hierarchy {
    /// cgroup v1 (or hybrid): the `devices` controller's line.
    V1Devices,
    /// cgroup v2 alone: the `0::` line.
    V2,
}

impl Hierarchy {
    /// The hierarchy to read, from our own `/proc/self/cgroup`: `devices` where there are
    /// v1 controllers, else the unified one; none when neither is there.
    fn of(own: &str) -> Option<Hierarchy> {
        let lines: Vec<(&str, &str)> =
            own.lines().filter_map(|l| l.split_once(':')).filter_map(|(_, rest)| rest.split_once(':')).collect();
        if lines.iter().any(|(controllers, _)| controllers.split(',').any(|c| c == "devices")) {
            Some(Hierarchy::V1Devices)
        } else if !lines.is_empty() && lines.iter().all(|(controllers, _)| controllers.is_empty()) {
            Some(Hierarchy::V2)
        } else {
            None
        }
    }

    /// The path of this hierarchy's line in a `/proc/<pid>/cgroup`.
    fn path(self, file: &str) -> Option<&str> {
        file.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let ours = match self {
                Hierarchy::V1Devices => controllers.split(',').any(|c| c == "devices"),
                Hierarchy::V2 => id == "0" && controllers.is_empty(),
            };
            ours.then_some(path.trim_end())
        })
    }
}

/// A cgroup path's components.
fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// The container of a cgroup path's component at `i`: `docker-<id>.scope` (systemd driver)
/// or `<id>` after `docker` (cgroupfs driver).
fn docker_container(parts: &[&str], i: usize) -> Option<String> {
    let part = parts[i];
    if let Some(id) = part.strip_prefix("docker-").and_then(|p| p.strip_suffix(".scope")) {
        return is_container_id(id).then(|| id.to_owned());
    }
    (i > 0 && parts[i - 1] == "docker" && is_container_id(part)).then(|| part.to_owned())
}

/// Whether a cgroup path's component is some container's own (docker's, podman's
/// `libpod-<id>.scope`, a CRI's `cri-containerd-<id>.scope` or bare `<id>`): a node that is
/// itself a container has its root there.
fn is_a_container(part: &str) -> bool {
    let id = part.strip_suffix(".scope").and_then(|p| p.rsplit_once('-')).map_or(part, |(_, id)| id);
    is_container_id(id)
}

/// This node's root in the hierarchy: our own cgroup without its trailing systemd units
/// (slices, services, scopes), stopping at a container's (the node itself).
fn node_root(own: &str) -> Vec<&str> {
    let mut parts = components(own);
    while let Some(last) = parts.last() {
        let unit = [".slice", ".service", ".scope"].iter().any(|s| last.ends_with(s));
        if !unit || is_a_container(last) {
            break;
        }
        parts.pop();
    }
    parts
}

/// The docker container a process's cgroup `path` is in, when it is below `root`: the
/// outermost one below it.
fn container_below(path: &str, root: &[&str]) -> Option<String> {
    let parts = components(path);
    if parts.contains(&"..") || parts.len() <= root.len() || parts[..root.len()] != *root {
        return None;
    }
    (root.len()..parts.len()).find_map(|i| docker_container(&parts, i))
}

/// The docker containers' processes under `proc_root` (`/proc`), found by cgroup and by
/// shim (of `sockets` or docker 1.13's), and the docker engines that run.
pub fn scan(proc_root: &Path, sockets: &[String]) -> Scan {
    let all = processes(proc_root);
    let own = fs::read_to_string(proc_root.join("self/cgroup")).unwrap_or_default();
    let by_cgroup = Hierarchy::of(&own).and_then(|h| Some((h, node_root(h.path(&own)?))));
    let mut leftovers = Vec::new();
    for (&pid, p) in &all {
        // The shim, or a process of the nearest shim above.
        let mut at = pid;
        let mut first = true;
        let mut found = None;
        while let Some(q) = all.get(&at) {
            if let Some(container) = shim_of(q, sockets) {
                found = Some((container, first));
                break;
            }
            if q.ppid <= 1 || q.ppid == at {
                break;
            }
            at = q.ppid;
            first = false;
        }
        let found = found.or_else(|| {
            let (hierarchy, root) = by_cgroup.as_ref()?;
            Some((container_below(hierarchy.path(&p.cgroup)?, root)?, false))
        });
        if let Some((container, shim)) = found {
            leftovers.push(Leftover { pid, name: p.name.clone(), container, shim });
        }
    }
    let engines = all
        .iter()
        .filter(|(_, p)| ENGINES.contains(&p.name.as_str()) || ENGINES.contains(&p.comm.as_str()))
        .filter(|(pid, _)| !leftovers.iter().any(|l| l.pid == **pid))
        .map(|(&pid, p)| Engine { pid, name: p.name.clone() })
        .collect();
    Scan { leftovers, engines }
}

/// Ends `leftovers`: SIGKILL to the containers' processes, then to their shims, and waits
/// (at most 5 s) until they are gone. Returns those that would not go.
pub fn end(leftovers: &[Leftover]) -> Vec<Leftover> {
    let (shims, processes): (Vec<&Leftover>, Vec<&Leftover>) = leftovers.iter().partition(|l| l.shim);
    for l in processes.iter().chain(&shims) {
        let _ = kill(Pid::from_raw(l.pid), Signal::SIGKILL);
    }
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: Vec<Leftover> = leftovers.iter().filter(|l| is_running(l.pid)).cloned().collect();
        if alive.is_empty() || Instant::now() >= until {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `pid 4242 sleep (container 3f2b1c9e7d4a)`
pub fn describe(l: &Leftover) -> String {
    let what = if l.shim { "shim of container" } else { "container" };
    format!("pid {} {} ({what} {})", l.pid, l.name, &l.container[..l.container.len().min(12)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One process of a fake /proc: pid, ppid, comm, argv, `/proc/<pid>/cgroup`.
    type P<'a> = (i32, i32, &'a str, &'a [&'a str], &'a str);

    /// A /proc with the given processes, and `own` as our own `self/cgroup`.
    fn proc_tree(own: &str, procs: &[P]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("self")).unwrap();
        fs::write(dir.path().join("self/cgroup"), own).unwrap();
        for (pid, ppid, comm, argv, cgroup) in procs {
            let p = dir.path().join(pid.to_string());
            fs::create_dir_all(&p).unwrap();
            fs::write(p.join("stat"), format!("{pid} ({comm}) S {ppid} 1 1 0 -1")).unwrap();
            let cmdline: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
            fs::write(p.join("cmdline"), cmdline).unwrap();
            fs::write(p.join("cgroup"), cgroup).unwrap();
        }
        dir
    }

    /// (pid, shim, container) of each leftover, by pid.
    fn found(scan: &Scan) -> Vec<(i32, bool, String)> {
        let mut found: Vec<_> = scan.leftovers.iter().map(|l| (l.pid, l.shim, l.container.clone())).collect();
        found.sort();
        found
    }

    fn engines(scan: &Scan) -> Vec<String> {
        scan.engines.iter().map(ToString::to_string).collect()
    }

    fn sockets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The default `containerd_sockets`.
    fn defaults() -> Vec<String> {
        sockets(&[
            "/run/containerd/containerd.sock",
            "/var/run/docker/containerd/containerd.sock",
            "/var/run/docker/containerd/docker-containerd.sock",
        ])
    }

    const ID: &str = "3f2b1c9e7d4a5b6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
    const HOST_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const NODE_ID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// cgroup v1 as RHEL 7.5's kernel (3.10.0-862) lists it, every hierarchy at `path`
    /// except `name=systemd` at `systemd_path`.
    fn v1(path: &str, systemd_path: &str) -> String {
        let mut lines: Vec<String> = [
            "hugetlb",
            "perf_event",
            "net_prio,net_cls",
            "pids",
            "freezer",
            "cpuacct,cpu",
            "memory",
            "devices",
            "blkio",
            "cpuset",
        ]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}:{c}:{path}", 11 - i))
        .collect();
        lines.push(format!("1:name=systemd:{systemd_path}"));
        lines.join("\n") + "\n"
    }

    /// RHEL 7.5's `docker` 1.13.1 (systemd cgroup driver, its default): dockerd-current
    /// runs docker-containerd-current with `--shim docker-containerd-shim --runtime
    /// docker-runc` (moby v1.13.1 `libcontainerd/remote_unix.go`, `runContainerdDaemon`;
    /// RHEL's package names them `-current`), which runs each shim as `shim <id> <bundle>
    /// <runtime>` (containerd v0.2.6, the commit moby v1.13.1's
    /// `hack/dockerfile/binaries-commits` pins, `runtime/container.go` `Start`), in
    /// docker.service's cgroup; the container is in `system.slice/docker-<id>.scope` (moby
    /// v1.13.1 `daemon/oci_linux.go`: parent `system.slice`, `docker:<id>`).
    fn rhel_1_13_1(with_engine: bool, with_shim: bool) -> tempfile::TempDir {
        let service = v1("/system.slice/docker.service", "/system.slice/docker.service");
        let scope = format!("/system.slice/docker-{ID}.scope");
        let container = v1(&scope, &scope);
        let bundle = format!("/var/run/docker/libcontainerd/{ID}");
        let shim: &[&str] = &["/usr/bin/docker-containerd-shim-current", ID, &bundle, "/usr/libexec/docker/docker-runc-current"];
        let dockerd: &[&str] = &[
            "/usr/bin/dockerd-current",
            "--add-runtime",
            "docker-runc=/usr/libexec/docker/docker-runc-current",
            "--default-runtime=docker-runc",
            "--exec-opt",
            "native.cgroupdriver=systemd",
        ];
        let containerd: &[&str] = &[
            "/usr/bin/docker-containerd-current",
            "-l",
            "unix:///var/run/docker/libcontainerd/docker-containerd.sock",
            "--shim",
            "docker-containerd-shim",
            "--runtime",
            "docker-runc",
            "--runtime-args",
            "--systemd-cgroup=true",
        ];
        let mut procs: Vec<P> = vec![(1, 0, "systemd", &["/usr/lib/systemd/systemd", "--system"], "")];
        if with_engine {
            procs.push((900, 1, "dockerd-current", dockerd, &service));
            procs.push((910, 900, "docker-containe", containerd, &service));
        }
        // Without its shim, the container's process is init's.
        let parent = if with_shim {
            procs.push((920, if with_engine { 910 } else { 1 }, "docker-containe", shim, &service));
            920
        } else {
            1
        };
        procs.push((921, parent, "java", &["java", "-jar", "/app/master.jar"], &container));
        procs.push((922, 921, "sh", &["sh", "-c", "sleep 5"], &container));
        let own = v1("/system.slice/clusterpro.service", "/system.slice/clusterpro.service");
        proc_tree(&own, &procs)
    }

    #[test]
    fn docker_1_13_1_of_rhel_with_the_systemd_driver() {
        let dir = rhel_1_13_1(true, true);
        let scan = super::scan(dir.path(), &defaults());
        assert_eq!(found(&scan), [(920, true, ID.into()), (921, false, ID.into()), (922, false, ID.into())]);
        assert_eq!(engines(&scan), ["pid 900 dockerd-current"], "docker-containerd-current is no engine");
        assert_eq!(describe(&scan.leftovers[0]), "pid 920 docker-containerd-shim-current (shim of container 3f2b1c9e7d4a)");
        // The 1.13 form has no socket: found with none configured.
        assert_eq!(found(&super::scan(dir.path(), &[])).len(), 3);

        // The unit killed its whole cgroup, shim included: the container's processes are
        // found by their cgroup alone.
        let dir = rhel_1_13_1(false, false);
        let scan = super::scan(dir.path(), &defaults());
        assert_eq!(found(&scan), [(921, false, ID.into()), (922, false, ID.into())]);
        assert_eq!(engines(&scan), Vec::<String>::new());
        // The shim outlived the engine.
        let scan = super::scan(rhel_1_13_1(false, true).path(), &defaults());
        assert_eq!(found(&scan), [(920, true, ID.into()), (921, false, ID.into()), (922, false, ID.into())]);
    }

    #[test]
    fn the_1_13_form_needs_dockers_runtime_and_an_id() {
        let service = v1("/system.slice/x.service", "/system.slice/x.service");
        let dir = proc_tree(
            &service,
            &[
                (10, 1, "docker-containe", &["docker-containerd-shim", ID, "/b", "/usr/bin/runc"], &service),
                (11, 10, "sleep", &["sleep", "1"], &service),
                (20, 1, "docker-containe", &["docker-containerd-shim", "short", "/b", "docker-runc"], &service),
                (21, 20, "sleep", &["sleep", "1"], &service),
                (30, 1, "docker-containe", &["docker-containerd-shim", ID, "/b", "docker-runc"], &service),
                (31, 30, "sleep", &["sleep", "1"], &service),
            ],
        );
        assert_eq!(found(&scan(dir.path(), &[])), [(30, true, ID.into()), (31, false, ID.into())]);
    }

    /// docker-ce 17.12–18.06 (cgroupfs driver, its default): dockerd runs
    /// docker-containerd, listening on `/var/run/docker/containerd/docker-containerd.sock`
    /// (moby v17.12.0-ce and v18.06.3-ce `libcontainerd/remote_daemon_linux.go`: `sockFile`
    /// in the state dir `/var/run/docker/containerd`; namespace `moby`, `daemon/daemon.go`
    /// `ContainersNamespace`), whose shims are `docker-containerd-shim -namespace moby
    /// -workdir …/moby/<id> -address <socket> -containerd-binary …` (containerd v1.0.0
    /// `linux/shim/client/client.go` `newCommand`); the container is in `/docker/<id>` (moby
    /// v18.06.3-ce `daemon/oci_linux.go`: parent `/docker`).
    #[test]
    fn docker_17_12_to_18_06_with_the_cgroupfs_driver() {
        let service = v1("/system.slice/docker.service", "/system.slice/docker.service");
        let container = v1(&format!("/docker/{ID}"), &format!("/docker/{ID}"));
        let workdir = format!("/var/lib/docker/containerd/daemon/io.containerd.runtime.v1.linux/moby/{ID}");
        let shim: &[&str] = &[
            "docker-containerd-shim",
            "-namespace",
            "moby",
            "-workdir",
            &workdir,
            "-address",
            "/var/run/docker/containerd/docker-containerd.sock",
            "-containerd-binary",
            "/usr/bin/docker-containerd",
            "-runtime-root",
            "/var/run/docker/runtime-runc",
        ];
        let dir = proc_tree(
            &v1("/", "/user.slice/user-0.slice/session-4.scope"),
            &[
                (800, 1, "dockerd", &["/usr/bin/dockerd", "-H", "fd://"], &service),
                (
                    810,
                    800,
                    "docker-containe",
                    &["docker-containerd", "--config", "/var/run/docker/containerd/containerd.toml"],
                    &service,
                ),
                (820, 810, "docker-containe", shim, &service),
                (821, 820, "nginx", &["nginx", "-g", "daemon off;"], &container),
            ],
        );
        let scan = super::scan(dir.path(), &defaults());
        assert_eq!(found(&scan), [(820, true, ID.into()), (821, false, ID.into())]);
        assert_eq!(engines(&scan), ["pid 800 dockerd"]);
        // Without that socket, the shim is not docker's; its container still is, by cgroup.
        let scan = super::scan(dir.path(), &sockets(&["/run/containerd/containerd.sock"]));
        assert_eq!(found(&scan), [(821, false, ID.into())]);
    }

    /// docker-ce 18.09+ and 20.10 on cgroup v2 (RHEL 9, Debian 12; systemd driver):
    /// containerd is its own unit, which outlives `systemctl stop docker`; its shims are
    /// `containerd-shim-runc-v2 -namespace moby -id <id> -address
    /// /run/containerd/containerd.sock` (containerd v1.4.0 `runtime/v2/runc/v2/service.go`
    /// `newCommand`; moby v20.10.0 `daemon/runtime_unix.go`: `io.containerd.runc.v2`), in
    /// containerd.service's cgroup; the container in `system.slice/docker-<id>.scope` (moby
    /// v20.10.0 `daemon/oci_linux.go`).
    #[test]
    fn docker_20_10_on_cgroup_v2_after_systemctl_stop_docker() {
        let containerd_unit = "0::/system.slice/containerd.service\n";
        let container = format!("0::/system.slice/docker-{ID}.scope\n");
        let other = format!("0::/system.slice/docker-{HOST_ID}.scope\n");
        let shim = |id: &'static str, ns: &'static str| -> Vec<&'static str> {
            vec!["/usr/bin/containerd-shim-runc-v2", "-namespace", ns, "-id", id, "-address", "/run/containerd/containerd.sock"]
        };
        let (ours, k8s) = (shim(ID, "moby"), shim("cccc", "k8s.io"));
        let dir = proc_tree(
            "0::/system.slice/pacemaker.service\n",
            &[
                (1, 0, "systemd", &["/sbin/init"], "0::/init.scope\n"),
                (50, 1, "containerd", &["/usr/bin/containerd"], containerd_unit),
                (100, 1, "containerd-shim", &ours, containerd_unit),
                (101, 100, "sh", &["sh", "-c", "sleep 1000"], &container),
                (102, 101, "sleep", &["sleep", "1000"], &container),
                (200, 1, "containerd-shim", &k8s, containerd_unit),
                (201, 200, "pause", &["/pause"], "0::/kubepods/pod1/cccc\n"),
                // A container process whose shim is gone.
                (300, 1, "sleep", &["sleep", "3"], &other),
                (400, 1, "sleep", &["sleep", "1000"], "0::/user.slice/user-0.slice/session-1.scope\n"),
            ],
        );
        let scan = super::scan(dir.path(), &defaults());
        assert_eq!(
            found(&scan),
            [(100, true, ID.into()), (101, false, ID.into()), (102, false, ID.into()), (300, false, HOST_ID.into())]
        );
        assert_eq!(engines(&scan), Vec::<String>::new(), "containerd is no engine");
    }

    /// A node that is itself a docker container, on a host with the cgroupfs driver and no
    /// cgroup namespace (v1): its own processes are in `/docker/<node id>/…`, its docker's
    /// containers in `/docker/<node id>/docker/<id>`, the host's other containers in
    /// `/docker/<other id>`.
    #[test]
    fn a_node_that_is_a_container_finds_its_containers_never_the_hosts() {
        let node = format!("/docker/{NODE_ID}");
        let inner = v1(&format!("{node}/docker/{ID}"), &format!("{node}/docker/{ID}"));
        let nested = v1(&format!("{node}/docker/{ID}/docker/{HOST_ID}"), &format!("{node}/docker/{ID}"));
        let host = v1(&format!("/docker/{HOST_ID}"), &format!("/docker/{HOST_ID}"));
        let own = v1(&node, &format!("{node}/system.slice/pacemaker.service"));
        let dir = proc_tree(
            &own,
            &[
                (1, 0, "systemd", &["/sbin/init"], &v1(&node, &format!("{node}/init.scope"))),
                (10, 1, "sleep", &["sleep", "9"], &inner),
                (11, 10, "dockerd", &["dockerd"], &nested),
                (20, 1, "sleep", &["sleep", "9"], &host),
                (30, 1, "sleep", &["sleep", "9"], &v1(&node, &format!("{node}/system.slice/mongod.service"))),
            ],
        );
        let scan = super::scan(dir.path(), &defaults());
        assert_eq!(found(&scan), [(10, false, ID.into()), (11, false, ID.into())]);
        assert_eq!(engines(&scan), Vec::<String>::new(), "a dockerd inside a leftover container is one of them");

        // The same node, seen through a cgroup namespace of its own (v2): the host's
        // containers are outside it.
        let dir = proc_tree(
            "0::/system.slice/pacemaker.service\n",
            &[
                (10, 1, "sleep", &["sleep", "9"], &format!("0::/docker/{ID}\n")),
                (20, 1, "sleep", &["sleep", "9"], &format!("0::/../../docker/{HOST_ID}\n")),
            ],
        );
        assert_eq!(found(&scan_of(&dir)), [(10, false, ID.into())]);
        // With systemd's driver on the host: the node is a scope.
        let node = format!("/system.slice/docker-{NODE_ID}.scope");
        let dir = proc_tree(
            &format!("0::{node}/system.slice/pacemaker.service\n"),
            &[
                (10, 1, "sleep", &["sleep", "9"], &format!("0::{node}/system.slice/docker-{ID}.scope\n")),
                (20, 1, "sleep", &["sleep", "9"], &format!("0::/system.slice/docker-{HOST_ID}.scope\n")),
                (30, 1, "sleep", &["sleep", "9"], &format!("0::{node}\n")),
            ],
        );
        assert_eq!(found(&scan_of(&dir)), [(10, false, ID.into())]);
    }

    fn scan_of(dir: &tempfile::TempDir) -> Scan {
        scan(dir.path(), &defaults())
    }

    #[test]
    fn a_hybrid_system_reads_devices_not_systemds_unified_line() {
        // Debian 10's hybrid layout: the `0::` line is systemd's, which the cgroupfs driver
        // does not join.
        let own = "12:devices:/\n1:name=systemd:/system.slice/pacemaker.service\n0::/system.slice/pacemaker.service\n";
        let container = format!("12:devices:/docker/{ID}\n1:name=systemd:/docker/{ID}\n0::/system.slice/containerd.service\n");
        let fooled = format!("12:devices:/\n1:name=systemd:/\n0::/system.slice/docker-{HOST_ID}.scope\n");
        let dir = proc_tree(own, &[(10, 1, "sleep", &["sleep", "9"], &container), (20, 1, "sleep", &["sleep", "9"], &fooled)]);
        assert_eq!(found(&scan_of(&dir)), [(10, false, ID.into())]);
        // No cgroup file of our own (no /proc/self): shims only.
        let dir = proc_tree("", &[(10, 1, "sleep", &["sleep", "9"], &container)]);
        assert!(found(&scan_of(&dir)).is_empty());
    }

    #[test]
    fn the_nodes_root_is_our_cgroup_without_its_units() {
        let root = |own: &str| node_root(own).join("/");
        assert_eq!(root("/system.slice/pacemaker.service"), "");
        assert_eq!(root("/user.slice/user-0.slice/session-3.scope"), "");
        assert_eq!(root("/"), "");
        assert_eq!(root(&format!("/docker/{NODE_ID}/system.slice/clusterpro.service")), format!("docker/{NODE_ID}"));
        assert_eq!(root(&format!("/docker/{NODE_ID}")), format!("docker/{NODE_ID}"));
        assert_eq!(
            root(&format!("/system.slice/docker-{NODE_ID}.scope/init.scope")),
            format!("system.slice/docker-{NODE_ID}.scope")
        );
        assert_eq!(
            root(&format!("/machine.slice/libpod-{NODE_ID}.scope/system.slice/x.service")),
            format!("machine.slice/libpod-{NODE_ID}.scope")
        );
        assert_eq!(root("/lxc.payload.node1/system.slice/x.service"), "lxc.payload.node1");
    }

    #[test]
    fn only_docker_cgroups_below_the_root_hold_containers() {
        let none: [&str; 0] = [];
        assert_eq!(container_below(&format!("/docker/{ID}"), &none), Some(ID.into()));
        assert_eq!(container_below(&format!("/docker/{ID}/sub"), &none), Some(ID.into()));
        assert_eq!(container_below(&format!("/system.slice/docker-{ID}.scope"), &none), Some(ID.into()));
        assert_eq!(container_below(&format!("/machine.slice/libpod-{ID}.scope"), &none), None, "podman's");
        assert_eq!(container_below(&format!("/other/{ID}"), &none), None);
        assert_eq!(container_below("/docker/3f2b1c9e", &none), None, "a short id is no docker cgroup");
        assert_eq!(container_below("/docker", &none), None);
        assert_eq!(container_below(&format!("/../docker/{ID}"), &none), None);
        let node = ["docker", NODE_ID];
        assert_eq!(container_below(&format!("/docker/{NODE_ID}"), &node), None, "the node itself");
        assert_eq!(container_below(&format!("/docker/{HOST_ID}"), &node), None);
        assert_eq!(container_below(&format!("/docker/{NODE_ID}/docker/{ID}"), &node), Some(ID.into()));
    }

    #[test]
    fn the_shims_of_other_namespaces_and_sockets_are_not_dockers() {
        let shim = |id: &'static str, ns: &'static str, sock: &'static str| -> Vec<&'static str> {
            vec!["/usr/bin/containerd-shim-runc-v2", "-namespace", ns, "-id", id, "-address", sock]
        };
        let sock = "/run/containerd/containerd.sock";
        let (a, other_ns, other_sock) =
            (shim("aaaa", "moby", sock), shim("cccc", "k8s.io", sock), shim("dddd", "moby", "/tmp/c.sock"));
        let dir = proc_tree(
            "0::/\n",
            &[
                (100, 1, "containerd-shim", &a, "0::/\n"),
                (101, 100, "sleep", &["sleep", "1000"], "0::/\n"),
                (200, 1, "containerd-shim", &other_ns, "0::/\n"),
                (201, 200, "pause", &["/pause"], "0::/\n"),
                (300, 1, "containerd-shim", &other_sock, "0::/\n"),
                (301, 300, "sleep", &["sleep", "1"], "0::/\n"),
                (400, 1, "not-a-shim", &["/usr/bin/not-a-shim", "-namespace", "moby", "-address", sock], "0::/\n"),
                (401, 400, "sleep", &["sleep", "1"], "0::/\n"),
            ],
        );
        let scan = super::scan(dir.path(), &sockets(&[sock]));
        assert_eq!(found(&scan), [(100, true, "aaaa".into()), (101, false, "aaaa".into())]);
        assert!(super::scan(dir.path(), &[]).leftovers.is_empty(), "no socket, none of these");
    }

    #[test]
    fn an_engine_is_named_by_argv0_or_comm() {
        let dir = proc_tree(
            "0::/\n",
            &[
                (10, 1, "sleep", &["dockerd"], "0::/\n"),
                (20, 1, "dockerd", &[], "0::/\n"),
                (30, 1, "dockerd-current", &["/usr/bin/dockerd-current", "--selinux-enabled"], "0::/\n"),
                (40, 1, "containerd", &["/usr/bin/containerd"], "0::/\n"),
                (50, 1, "docker-containe", &["/usr/bin/docker-containerd-current"], "0::/\n"),
                (60, 1, "vi", &["vi", "dockerd"], "0::/\n"),
            ],
        );
        assert_eq!(engines(&scan_of(&dir)), ["pid 10 dockerd", "pid 20 dockerd", "pid 30 dockerd-current"]);
    }

    #[test]
    fn flags_in_both_spellings() {
        let argv: Vec<String> = ["shim", "-namespace", "moby", "--id=x", "-address", "/s"].map(String::from).to_vec();
        assert_eq!(flag(&argv, "namespace"), Some("moby"));
        assert_eq!(flag(&argv, "id"), Some("x"));
        assert_eq!(flag(&argv, "address"), Some("/s"));
        assert_eq!(flag(&argv, "nothing"), None);
    }
}

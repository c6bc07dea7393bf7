//! The container processes that a dead engine leaves running.
//!
//! dockerd runs its containers through containerd: each container is a
//! `containerd-shim-runc-v2 -namespace moby -id <id> -address <containerd socket>` process
//! with the container's processes below it. When dockerd dies (killed, or stopped with
//! live-restore on), the shims and the containers go on, invisible to `docker ps`, and a
//! failover then starts the same containers on the other node: two masters. So once the
//! units are stopped and the engine no longer answers, whatever still runs under a shim of
//! the node's containerd (`containerd_sockets`) is ended, and named in the log.
//!
//! Only shims of namespace `moby` (docker's) and of the configured sockets count, so that
//! another engine's containers on the same host (a test host's, a second containerd's) are
//! never touched.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sys::process::is_running;

/// A process of a container whose engine is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    pub pid: i32,
    /// The process's name: its argv[0]'s basename, else `comm`.
    pub name: String,
    /// The container's id, from its shim.
    pub container: String,
    /// Whether it is the shim itself.
    pub shim: bool,
}

/// One process as /proc describes it.
struct Proc {
    ppid: i32,
    name: String,
    argv: Vec<String>,
}

/// Every process under `proc_root` (`/proc`): pid, parent, name, argv.
fn processes(proc_root: &Path) -> BTreeMap<i32, Proc> {
    let mut all = BTreeMap::new();
    let Ok(entries) = fs::read_dir(proc_root) else { return all };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let name = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), Some(ppid)) = (rest.next(), rest.next().and_then(|p| p.parse().ok())) else { continue };
        if state == "Z" {
            continue;
        }
        let argv = fs::read(entry.path().join("cmdline"))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // As it was started (argv[0]), which a script's `comm` (its interpreter) hides.
        let argv: Vec<String> = argv;
        let name = argv.first().and_then(|a| a.rsplit('/').next()).filter(|a| !a.is_empty()).map_or(name, str::to_owned);
        all.insert(pid, Proc { ppid, name, argv });
    }
    all
}

/// The value of option `name` in `argv`: `-name VALUE`, `--name VALUE`, `-name=VALUE`.
fn flag<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    argv.iter().enumerate().find_map(|(i, a)| {
        let bare = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))?;
        if bare == name { argv.get(i + 1).map(String::as_str) } else { bare.strip_prefix(name)?.strip_prefix('=') }
    })
}

/// The container id when `p` is a docker shim of one of `sockets`.
fn shim_of(p: &Proc, sockets: &[String]) -> Option<String> {
    let program = p.argv.first()?.rsplit('/').next()?;
    if !program.starts_with("containerd-shim") || flag(&p.argv, "namespace") != Some("moby") {
        return None;
    }
    let address = flag(&p.argv, "address")?;
    sockets.iter().any(|s| s == address).then(|| flag(&p.argv, "id").unwrap_or("?").to_owned())
}

/// The shims of `sockets` under `proc_root`, and every process below them.
pub fn find(proc_root: &Path, sockets: &[String]) -> Vec<Leftover> {
    let all = processes(proc_root);
    let mut found = Vec::new();
    for (&pid, p) in &all {
        // The shim, or the container of the nearest shim above.
        let mut at = pid;
        let mut first = true;
        while let Some(q) = all.get(&at) {
            if let Some(container) = shim_of(q, sockets) {
                found.push(Leftover { pid, name: p.name.clone(), container, shim: first });
                break;
            }
            if q.ppid <= 1 || q.ppid == at {
                break;
            }
            at = q.ppid;
            first = false;
        }
    }
    found
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

    /// A /proc with the given processes: (pid, ppid, comm, argv).
    fn proc_tree(procs: &[(i32, i32, &str, &[&str])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (pid, ppid, comm, argv) in procs {
            let p = dir.path().join(pid.to_string());
            fs::create_dir_all(&p).unwrap();
            fs::write(p.join("stat"), format!("{pid} ({comm}) S {ppid} 1 1 0 -1")).unwrap();
            let cmdline: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
            fs::write(p.join("cmdline"), cmdline).unwrap();
        }
        dir
    }

    const SOCK: &str = "/run/containerd/containerd.sock";

    #[test]
    fn the_shims_of_the_nodes_containerd_and_what_runs_below_them() {
        let shim = |id: &'static str, ns: &'static str, sock: &'static str| -> Vec<&'static str> {
            vec!["/usr/bin/containerd-shim-runc-v2", "-namespace", ns, "-id", id, "-address", sock]
        };
        let a = shim("aaaa1111bbbb2222", "moby", SOCK);
        let other_ns = shim("cccc", "k8s.io", SOCK);
        let other_sock = shim("dddd", "moby", "/tmp/other/containerd.sock");
        let dir = proc_tree(&[
            (1, 0, "systemd", &["/sbin/init"]),
            (100, 1, "containerd-shim", &a),
            (101, 100, "sh", &["sh", "-c", "sleep 1000"]),
            (102, 101, "sleep", &["sleep", "1000"]),
            (200, 1, "containerd-shim", &other_ns),
            (201, 200, "pause", &["/pause"]),
            (300, 1, "containerd-shim", &other_sock),
            (301, 300, "sleep", &["sleep", "1"]),
            (400, 1, "sleep", &["sleep", "1000"]),
        ]);
        let mut found = find(dir.path(), &[SOCK.to_owned()]);
        found.sort_by_key(|l| l.pid);
        let pids: Vec<(i32, bool)> = found.iter().map(|l| (l.pid, l.shim)).collect();
        assert_eq!(pids, [(100, true), (101, false), (102, false)]);
        assert!(found.iter().all(|l| l.container == "aaaa1111bbbb2222"));
        assert_eq!(describe(&found[2]), "pid 102 sleep (container aaaa1111bbbb)");
        assert!(find(dir.path(), &[]).is_empty(), "no socket, nothing");
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

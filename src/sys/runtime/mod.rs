//! The container runtime, through its own command-line client: `docker` or `podman`.
//!
//! eva-genw needs three things of it: a long-lived subscription to container deaths, the
//! state of a container (`inspect`), and the containers that finished while we were not
//! subscribed (`ps -a`). The CLI is used rather than the engine's socket so that the same
//! code serves docker and podman, and the commands in our log are the ones an
//! administrator would type. The one exception is the probe of a quiet engine
//! ([`Runtime::probe`]): asked every few seconds, it talks to docker's socket directly
//! (`GET /_ping`), which costs microseconds where a `docker version` costs milliseconds
//! of CPU, and tells an engine that accepts connections but never answers (a frozen
//! dockerd) from one that is gone.

pub mod event;
pub mod inspect;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::error::not_installed;
use crate::sys::process::{Cmd, ProcessError, Running, find_program, not_found};
use event::DeathEvent;
use inspect::ContainerState;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Docker,
    Podman,
}

impl Kind {
    pub fn program(self) -> &'static str {
        match self {
            Kind::Docker => "docker",
            Kind::Podman => "podman",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.program())
    }
}

/// Deadline for the short calls (version, inspect, ps).
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// A scope filter, as docker and podman take it: `label=KEY`, `label=KEY=VALUE`,
/// `container=NAME_OR_ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Label(String),
    Container(String),
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        match text.split_once('=') {
            Some(("label", v)) if !v.is_empty() => Ok(Filter::Label(v.to_owned())),
            Some(("container", v)) if !v.is_empty() => Ok(Filter::Container(v.to_owned())),
            _ => Err(format!("{text:?} is not label=KEY[=VALUE] or container=NAME")),
        }
    }

    fn arg(&self) -> String {
        match self {
            Filter::Label(v) => format!("label={v}"),
            Filter::Container(v) => format!("container={v}"),
        }
    }

    /// Whether a container is in this filter's scope by its own state: `container=` by its
    /// name or an id prefix; `label=KEY` by having the label, `label=KEY=VALUE` by its
    /// value (docker's semantics: moby v1.13.1 `api/types/filters/parse.go`, `MatchKVList`).
    /// Docker's label filters are left to docker (`events`, `ps`), which applies them to
    /// `die` events too; podman's are ours (see [`Runtime::events`]).
    fn admits(&self, kind: Kind, state: &ContainerState) -> bool {
        match (self, kind) {
            (Filter::Label(_), Kind::Docker) => true,
            (Filter::Label(v), Kind::Podman) => match v.split_once('=') {
                Some((key, value)) => state.labels.get(key).is_some_and(|l| l == value),
                None => state.labels.contains_key(v.as_str()),
            },
            (Filter::Container(v), _) => state.name == *v || state.id.starts_with(v.as_str()),
        }
    }

    /// Whether a death event's container is in this filter's scope, when the event alone
    /// tells: `container=` by the event's name or an id prefix (podman's own test:
    /// containers/podman v1.6.4 … v5.7.0 `libpod/events/filters.go`, case `CONTAINER`);
    /// `None` for a label filter (a podman `died` event carries no labels before 4.3).
    fn admits_event(&self, event: &DeathEvent) -> Option<bool> {
        match self {
            Filter::Label(_) => None,
            Filter::Container(v) => Some(event.name == *v || event.id.starts_with(v.as_str())),
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arg())
    }
}

/// A death event's container, as far as the scope goes ([`Runtime::look_up`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// In scope, and it still exists: its state.
    InScope(ContainerState),
    /// Outside the scope: which filter it fails.
    OutOfScope(String),
    /// Gone (removed): judged by its event, and in scope, with why when the scope could not
    /// be told.
    Gone(Option<String>),
}

pub struct Runtime {
    pub kind: Kind,
    program: PathBuf,
    filters: Vec<Filter>,
    /// The systemd unit that runs the engine, to ask when it does not answer.
    pub unit: Option<String>,
    /// Deadline for the short calls (version, inspect, ps).
    pub call_timeout: Duration,
}

impl Runtime {
    /// Finds the runtime's client on PATH or in the standard directories.
    pub fn locate(kind: Kind, filters: Vec<Filter>) -> anyhow::Result<Runtime> {
        let program = find_program(kind.program()).ok_or_else(|| not_installed(not_found(kind.program())))?;
        Ok(Runtime { kind, program, filters, unit: None, call_timeout: CALL_TIMEOUT })
    }

    fn cmd(&self) -> Cmd {
        Cmd::new(&self.program).timeout(self.call_timeout)
    }

    /// Whether the engine answers within `timeout`: its server version.
    pub fn ping(&self, timeout: Duration) -> Result<String, ProcessError> {
        let cmd = self.cmd().timeout(timeout);
        let out = match self.kind {
            Kind::Docker => cmd.args(["version", "--format", "{{.Server.Version}}"]),
            Kind::Podman => cmd.args(["version", "--format", "{{.Version}}"]),
        }
        .checked_output()?;
        Ok(out.stdout.trim().to_owned())
    }

    /// Whether the engine answers within `timeout`: docker's `GET /_ping` on its unix socket
    /// (`$DOCKER_HOST` when it is `unix://…`, else `/var/run/docker.sock`); where there is no
    /// such socket to ask (podman, another kind of `DOCKER_HOST`, nothing listening), the
    /// client's `version`.
    pub fn probe(&self, timeout: Duration) -> Result<(), String> {
        match (self.kind, docker_socket(std::env::var("DOCKER_HOST").ok().as_deref())) {
            (Kind::Docker, Some(socket)) => match ping_socket(&socket, timeout) {
                Probe::Answered => Ok(()),
                Probe::Silent(why) => Err(why),
                Probe::NoSocket(_) => self.ping(timeout).map(drop).map_err(|e| e.to_string()),
            },
            _ => self.ping(timeout).map(drop).map_err(|e| e.to_string()),
        }
    }

    /// Subscribes to container deaths from `since_ns` (nanoseconds since the epoch) on:
    /// the engine replays what it still has from then, then streams.
    pub fn subscribe(&self, since_ns: i64) -> Result<Running, ProcessError> {
        self.events(since_ns, None).spawn()
    }

    /// The container deaths the engine still has from `since_ns` to `until_ns`: a
    /// subscription that ends by itself once it has replayed them.
    pub fn replay(&self, since_ns: i64, until_ns: i64) -> Result<Running, ProcessError> {
        self.events(since_ns, Some(until_ns)).spawn()
    }

    /// `events` for container deaths. Docker gets our scope filters: it applies them to
    /// `die` events (moby v1.13.1 `daemon/events/filter.go`, `Include`/`matchLabels` on the
    /// event's attributes, to which `daemon/events.go` `LogContainerEventWithAttributes`
    /// copies every label). Podman gets none: a `died` event carries no labels before 4.3
    /// (containers/podman d759576ab3), so a label filter would pass no death; before 2.2 a
    /// label filter is an invalid filter, whose error is lost (the command prints nothing
    /// and exits 0); `label=KEY` alone matches nothing before 5.7. Podman's deaths are
    /// scoped by [`Runtime::look_up`] instead.
    fn events(&self, since_ns: i64, until_ns: Option<i64>) -> Cmd {
        let (death, format) = match self.kind {
            Kind::Docker => ("event=die", "{{json .}}"),
            Kind::Podman => ("event=died", "json"),
        };
        let mut cmd = self.cmd().args(["events", "--filter", "type=container", "--filter", death]);
        if self.kind == Kind::Docker {
            for f in &self.filters {
                cmd = cmd.arg("--filter").arg(f.arg());
            }
        }
        cmd = cmd.args(["--since", &since_arg(self.kind, since_ns)]);
        if let Some(until) = until_ns {
            cmd = cmd.args(["--until", &since_arg(self.kind, until)]);
        }
        cmd.args(["--format", format])
    }

    /// What a death event's container is to the watch: in scope (with its state when it
    /// still exists), or not. Docker's events are scoped by docker: its state when
    /// [`Runtime::inspect`] has it, else the event decides (as ever). Podman's are scoped
    /// here: by the event's name and id for `container=`, by the container's own
    /// labels for `label=`; a container already gone (`--rm`) has no labels to read, so
    /// its death counts, judged by its event.
    pub fn look_up(&self, event: &DeathEvent) -> anyhow::Result<Lookup> {
        let id = std::slice::from_ref(&event.id);
        if self.kind == Kind::Docker {
            return Ok(self.inspect(id)?.into_iter().next().map_or(Lookup::Gone(None), Lookup::InScope));
        }
        if let Some(f) = self.filters.iter().find(|f| f.admits_event(event) == Some(false)) {
            return Ok(Lookup::OutOfScope(format!("not {f}")));
        }
        let Some(state) = self.inspect_unscoped(id)?.into_iter().next() else {
            let labels = self.filters.iter().any(|f| matches!(f, Filter::Label(_)));
            return Ok(Lookup::Gone(labels.then(|| "labels unreadable: container gone; counted".to_owned())));
        };
        Ok(match self.filters.iter().find(|f| !f.admits(self.kind, &state)) {
            Some(f) => Lookup::OutOfScope(format!("not {f}")),
            None => Lookup::InScope(state),
        })
    }

    /// The state of each container that still exists, in scope.
    pub fn inspect(&self, ids: &[String]) -> anyhow::Result<Vec<ContainerState>> {
        let states = self.inspect_unscoped(ids)?;
        Ok(states.into_iter().filter(|s| self.filters.iter().all(|f| f.admits(self.kind, s))).collect())
    }

    /// The state of each container that still exists, in scope or not.
    fn inspect_unscoped(&self, ids: &[String]) -> anyhow::Result<Vec<ContainerState>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let cmd = self.cmd().args(["inspect", "--type", "container"]).args(ids);
        let out = cmd.output()?;
        // A container that is gone makes inspect fail, but the others are still printed
        // (`[]` when none is left).
        if !out.status.success() && out.stdout.trim().is_empty() && !is_no_such(&out.stderr) {
            return Err(cmd.failure(out.status, &out.stderr).into());
        }
        inspect::parse(&out.stdout).map_err(|e| anyhow::anyhow!("`{}`: {e}", cmd.display()))
    }

    /// The ids of every container, running or not, in scope as far as docker can filter
    /// (its label filters; [`Runtime::inspect`] applies the rest).
    pub fn all(&self) -> anyhow::Result<Vec<String>> {
        self.ps_ids(true, &[])
    }

    /// The ids of the containers that are running, in scope as far as docker can filter
    /// (its label filters; [`Runtime::inspect`] applies the rest).
    pub fn running(&self) -> anyhow::Result<Vec<String>> {
        self.ps_ids(false, &["status=running"])
    }

    /// The ids of the containers that are exited or dead, in scope as far as docker can
    /// filter (its label filters; [`Runtime::inspect`] applies the rest).
    pub fn finished(&self) -> anyhow::Result<Vec<String>> {
        match self.kind {
            Kind::Docker => self.ps_ids(true, &["status=exited", "status=dead"]),
            Kind::Podman => self.ps_ids(true, &["status=exited"]),
        }
    }

    /// `ps [--all] --no-trunc --quiet` with a `--filter` for each of `filters`, then for
    /// docker each label filter of ours (podman's are applied to `inspect`, as to events):
    /// the ids it lists.
    fn ps_ids(&self, all: bool, filters: &[&str]) -> anyhow::Result<Vec<String>> {
        let mut cmd = self.cmd().arg("ps");
        if all {
            cmd = cmd.arg("--all");
        }
        cmd = cmd.args(["--no-trunc", "--quiet"]);
        for f in filters {
            cmd = cmd.arg("--filter").arg(f);
        }
        for f in self.filters.iter().filter(|f| self.kind == Kind::Docker && matches!(f, Filter::Label(_))) {
            cmd = cmd.arg("--filter").arg(f.arg());
        }
        let out = cmd.checked_output()?;
        Ok(out.stdout.split_whitespace().map(str::to_owned).collect())
    }
}

/// Why docker's engine is frozen, when it is: its socket (`$DOCKER_HOST` or the default)
/// takes the connection but gives no answer to `GET /_ping` within `timeout`. `None` when
/// it answers, and when nothing listens (a dead engine: its clients fail at once, they do
/// not hang) or there is no unix socket to ask.
pub fn docker_frozen(timeout: Duration) -> Option<String> {
    match ping_socket(&docker_socket(std::env::var("DOCKER_HOST").ok().as_deref())?, timeout) {
        Probe::Silent(why) => Some(why),
        Probe::Answered | Probe::NoSocket(_) => None,
    }
}

/// What the engine's socket said to a ping.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    /// HTTP 200.
    Answered,
    /// It took the connection but gave no (good) answer in time: why.
    Silent(String),
    /// Nothing to connect to: why.
    NoSocket(String),
}

/// The socket docker's client would use: `DOCKER_HOST` when it is `unix://PATH`; none for
/// another scheme; `/var/run/docker.sock` without it.
fn docker_socket(docker_host: Option<&str>) -> Option<PathBuf> {
    match docker_host.filter(|h| !h.is_empty()) {
        None => Some(PathBuf::from("/var/run/docker.sock")),
        Some(host) => host.strip_prefix("unix://").map(PathBuf::from),
    }
}

/// `GET /_ping` on docker's socket, everything within `timeout`.
fn ping_socket(socket: &std::path::Path, timeout: Duration) -> Probe {
    let at = socket.display();
    let mut stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(e) => return Probe::NoSocket(format!("cannot connect to {at}: {e}")),
    };
    let deadline = std::time::Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(std::time::Instant::now()).max(Duration::from_millis(1));
    let silent = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            Probe::Silent(format!("no answer from {at} within {}", crate::sys::logging::Secs(timeout)))
        }
        _ => Probe::Silent(format!("{at}: {e}")),
    };
    if let Err(e) =
        stream.set_write_timeout(Some(left())).and_then(|()| stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"))
    {
        return silent(e);
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 256];
    // The status line is all we need.
    while !answer.contains(&b'\n') {
        match stream.set_read_timeout(Some(left())).and_then(|()| stream.read(&mut chunk)) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return silent(e),
        }
    }
    let status = String::from_utf8_lossy(&answer);
    let status = status.lines().next().unwrap_or("").trim();
    if status.starts_with("HTTP/1.") && status.split_whitespace().nth(1) == Some("200") {
        Probe::Answered
    } else {
        Probe::Silent(format!("{at} answered {status:?} to GET /_ping"))
    }
}

/// `--since` as each runtime reads it without losing nanoseconds: docker takes Unix
/// seconds with a 9-digit fraction (and replays an event at exactly that time); podman
/// parses Unix time as a float, so it gets RFC 3339 (and replays only later events).
fn since_arg(kind: Kind, since_ns: i64) -> String {
    let (secs, nanos) = (since_ns.div_euclid(1_000_000_000), since_ns.rem_euclid(1_000_000_000));
    match kind {
        Kind::Docker => format!("{secs}.{nanos:09}"),
        Kind::Podman => chrono::DateTime::from_timestamp(secs, nanos as u32)
            .map_or_else(|| format!("{secs}.{nanos:09}"), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
    }
}

fn is_no_such(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("no such") || s.contains("no container with name or id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_keeps_nanoseconds() {
        assert_eq!(since_arg(Kind::Docker, 1_795_630_936_017_693_069), "1795630936.017693069");
        assert_eq!(since_arg(Kind::Podman, 1_795_630_936_017_693_069), "2026-11-25T18:22:16.017693069Z");
    }

    #[test]
    fn the_socket_docker_would_use() {
        assert_eq!(docker_socket(None), Some(PathBuf::from("/var/run/docker.sock")));
        assert_eq!(docker_socket(Some("")), Some(PathBuf::from("/var/run/docker.sock")));
        assert_eq!(docker_socket(Some("unix:///tmp/x/docker.sock")), Some(PathBuf::from("/tmp/x/docker.sock")));
        assert_eq!(docker_socket(Some("tcp://10.0.0.1:2375")), None);
    }

    #[test]
    fn a_socket_that_answers_that_stays_silent_and_none() {
        use std::os::unix::net::UnixListener;
        let dir = tempfile::tempdir().unwrap();
        // Answers 200, as dockerd does.
        let good = dir.path().join("good.sock");
        let listener = UnixListener::bind(&good).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = conn.read(&mut buf);
            conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK").unwrap();
        });
        assert_eq!(ping_socket(&good, Duration::from_secs(5)), Probe::Answered);
        server.join().unwrap();
        // Takes the connection (the kernel's backlog) and never answers: a frozen dockerd.
        let frozen = dir.path().join("frozen.sock");
        let _listener = UnixListener::bind(&frozen).unwrap();
        let started = std::time::Instant::now();
        match ping_socket(&frozen, Duration::from_millis(300)) {
            Probe::Silent(why) => assert!(why.contains("no answer"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(ping_socket(&dir.path().join("none.sock"), Duration::from_secs(1)), Probe::NoSocket(_)));
    }

    fn container(name: &str, labels: &[(&str, &str)]) -> ContainerState {
        ContainerState {
            id: "6c1a0e4b9f2d".into(),
            name: name.into(),
            image: "eva/crowd".into(),
            running: false,
            oom_killed: false,
            exit_code: 3,
            started_ns: None,
            finished_ns: None,
            has_exit_code_label: false,
            status: "exited".into(),
            restart_count: 0,
            health: None,
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn podman_label_filters_are_judged_by_the_containers_labels() {
        let f = |t: &str| Filter::parse(t).unwrap();
        let eva = container("crowd", &[("com.nec.eva", "usecase"), ("app", "crowd")]);
        let other = container("web", &[("app", "web")]);
        for (filter, admits_eva, admits_other) in [
            ("label=com.nec.eva", true, false),
            ("label=app=crowd", true, false),
            ("label=app", true, true),
            ("label=app=", false, false),
            ("container=crowd", true, false),
            ("container=6c1a", true, true),
        ] {
            assert_eq!(f(filter).admits(Kind::Podman, &eva), admits_eva, "{filter}");
            assert_eq!(f(filter).admits(Kind::Podman, &other), admits_other, "{filter}");
        }
        // Docker applies its label filters itself.
        assert!(f("label=com.nec.eva").admits(Kind::Docker, &other));
    }

    #[test]
    fn the_event_tells_a_container_filter_not_a_label_filter() {
        let ev =
            DeathEvent { id: "6c1a0e4b9f2d".into(), name: "crowd".into(), image: String::new(), exit_code: Some(3), time_ns: 1 };
        assert_eq!(Filter::parse("container=crowd").unwrap().admits_event(&ev), Some(true));
        assert_eq!(Filter::parse("container=6c1a").unwrap().admits_event(&ev), Some(true));
        assert_eq!(Filter::parse("container=web").unwrap().admits_event(&ev), Some(false));
        assert_eq!(Filter::parse("label=com.nec.eva").unwrap().admits_event(&ev), None);
    }

    #[test]
    fn podman_gets_no_scope_filter_on_events_or_ps_and_docker_does() {
        let filters = vec![Filter::parse("label=com.nec.eva").unwrap(), Filter::parse("container=crowd").unwrap()];
        let runtime = |kind| Runtime {
            kind,
            program: PathBuf::from(kind.program()),
            filters: filters.clone(),
            unit: None,
            call_timeout: CALL_TIMEOUT,
        };
        let podman = runtime(Kind::Podman).events(0, Some(1)).display();
        assert_eq!(
            podman,
            "podman events --filter type=container --filter event=died --since 1970-01-01T00:00:00.000000000Z --until 1970-01-01T00:00:00.000000001Z --format json"
        );
        let docker = runtime(Kind::Docker).events(0, None).display();
        assert!(docker.contains("--filter label=com.nec.eva --filter container=crowd --since"), "{docker}");
    }

    #[test]
    fn filters() {
        assert_eq!(Filter::parse("label=com.nec.eva"), Ok(Filter::Label("com.nec.eva".into())));
        assert_eq!(Filter::parse("label=app=crowd"), Ok(Filter::Label("app=crowd".into())));
        assert_eq!(Filter::parse("container=usecase-crowd"), Ok(Filter::Container("usecase-crowd".into())));
        for bad in ["name=x", "label=", "container", "image=x", ""] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}

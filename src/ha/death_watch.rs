//! Never miss a container death: the watch behind eva-genw.
//!
//! The guide's genw.sh polled `docker events --since 5s` every five seconds. That reacted
//! seconds late, lost deaths between windows and whenever the engine's 256-event replay
//! buffer rolled over, and passed silently when the engine was down. Here one subscription
//! stays open and every death is judged as it arrives. When the subscription ends (engine
//! restart), we reconnect with backoff, resume from the last event's time (the boundary
//! event comes again and is recognised), and also look at every container that finished
//! since: the engine emits no event for containers it finds dead when it comes back. An
//! engine unreachable for longer than the grace is itself a failure, and so is a container
//! that ran before the engine went away and does not run again within the grace after it
//! came back: an engine restarted without live-restore stops the containers it finds (exit
//! 0 on their SIGTERM, which does not count) and starts again only those whose restart
//! policy says so; the others would stay down, unnoticed, with the master on.
//!
//! A death is judged by the container's own state (`inspect`) when it still exists, since a
//! label named `exitCode` overrides the event's attribute; by the event when it is gone.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::failed;
use crate::ha::support;
use crate::sys::logging::Secs;
use crate::sys::process::{self, Next, ProcessError, Stream};
use crate::sys::runtime::event::{self, DeathEvent, Event};
use crate::sys::runtime::inspect::ContainerState;
use crate::sys::runtime::{Lookup, Runtime};
use crate::sys::signals;
use crate::sys::systemd::{Systemd, UnitState};

/// A container that died this shortly before the engine went away was stopped by the engine
/// stopping (docker gives each container 10 s, in parallel): it is expected back, as one
/// the engine stops when it comes back after dying.
const ENGINE_STOPPING: Duration = Duration::from_secs(15);
/// Two accounts of one death (its event, `inspect`'s FinishedAt) lie at most this far apart.
pub const SAME_DEATH: i64 = 2_000_000_000;
/// Reconnection delays, the last repeated.
const BACKOFF: &[Duration] = &[
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];
/// A subscription that lasted this long works: it ends an outage and resets the backoff.
const STABLE: Duration = Duration::from_secs(2);
/// The longest wait for the next event line: signals are noticed and a held death reported
/// at most this late. Idle, the monitor wakes only this often (a few CPU milliseconds an
/// hour).
const TICK: Duration = Duration::from_millis(500);
/// A stream quiet this long gets the engine probed: a frozen engine's stream neither sends
/// nor ends. (A probe is one request on docker's socket, microseconds of CPU.)
const QUIET_PROBE: Duration = Duration::from_secs(5);
/// The longest a probe or a ping waits for the answer; less with a short grace.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// An engine whose unit says it is down for good (stopped or failed, no job queued, no
/// restart pending), seen twice this far apart, is not coming back. A restart's stop and
/// start are one job, which `classify` sees; the second look is for what a single
/// `systemctl show` might catch between two jobs.
const DOWN_FOR_GOOD: Duration = Duration::from_millis(250);

/// What to watch for.
pub struct Watch {
    pub ignore_exit_codes: Vec<i64>,
    pub initial_delay: Duration,
    /// `None`: wait for an unreachable engine forever.
    pub daemon_grace: Option<Duration>,
    /// Judge the deaths since this time (ns) too, not only those from now on: events the
    /// engine still has are replayed, and every container that finished since is
    /// inspected. For a watch that takes over from an earlier one.
    pub since_ns: Option<i64>,
}

/// What the engine's service manager says of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// No service manager to ask, or it does not know the engine.
    Unknown,
    /// It says the engine runs (a frozen engine looks like this).
    Running,
    /// It is (re)starting or stopping it: it may come back.
    Changing(String),
    /// Failed or stopped, and nothing will restart it: why.
    DownForGood(String),
}

/// How a container ended, as we judged it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Death {
    pub id: String,
    pub name: String,
    pub image: String,
    /// `None` when it cannot be known (see [`judge`]).
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub time_ns: i64,
    /// Where the exit code came from: `inspect` or `event`.
    pub source: &'static str,
}

impl Death {
    /// Whether this death is a failure: an OOM kill, an unknown exit code, or one that is
    /// not ignored.
    pub fn counts(&self, ignore: &[i64]) -> bool {
        self.oom_killed || self.exit_code.is_none_or(|c| !ignore.contains(&c))
    }

    /// `container usecase-crowd (3f2b1c9e7d4a, image eva/crowd:3.2) died with exit code 3, not OOM-killed`
    pub fn describe(&self) -> String {
        let name = if self.name.is_empty() { "?" } else { &self.name };
        let code = self.exit_code.map_or_else(|| "an unknown exit code".to_owned(), |c| format!("exit code {c}"));
        let oom = if self.oom_killed { "OOM-killed" } else { "not OOM-killed" };
        format!("container {name} ({}, image {}) died with {code}, {oom}", short(&self.id), self.image)
    }
}

pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

pub fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Judges a death event: by the container's own state when it still exists and that
/// state is this death's; otherwise by the event. When the container has meanwhile been
/// restarted and carries a label named `exitCode` (which overrides the event's), the exit
/// code cannot be known.
pub fn judge(event: &DeathEvent, state: Option<&ContainerState>) -> Death {
    let from_event = Death {
        id: event.id.clone(),
        name: event.name.clone(),
        image: event.image.clone(),
        exit_code: event.exit_code,
        oom_killed: false,
        time_ns: event.time_ns,
        source: "event",
    };
    match state {
        Some(s) if !s.running && s.finished_ns.is_some_and(|f| (f - event.time_ns).abs() < SAME_DEATH) => {
            from_state(s, event.time_ns)
        }
        Some(s) if s.has_exit_code_label => Death { exit_code: None, ..from_event },
        _ => from_event,
    }
}

pub(crate) fn from_state(s: &ContainerState, time_ns: i64) -> Death {
    Death {
        id: s.id.clone(),
        name: s.name.clone(),
        image: s.image.clone(),
        exit_code: Some(s.exit_code),
        oom_killed: s.oom_killed,
        time_ns,
        source: "inspect",
    }
}

/// The deaths already judged, to recognise one seen twice: an event replayed after a
/// reconnection (same time to the nanosecond), or a death found by reconciliation that its
/// event already reported (times within [`SAME_DEATH`]).
#[derive(Default)]
struct Judged(Vec<(String, i64)>);

impl Judged {
    fn event_seen(&self, id: &str, time_ns: i64) -> bool {
        self.0.iter().any(|(i, t)| i == id && *t == time_ns)
    }

    fn death_seen(&self, id: &str, time_ns: i64) -> bool {
        self.0.iter().any(|(i, t)| i == id && (t - time_ns).abs() < SAME_DEATH)
    }

    fn add(&mut self, id: &str, time_ns: i64) {
        // Only recent deaths can come again; keep the list short.
        let horizon = time_ns - 3600 * 1_000_000_000;
        self.0.retain(|(_, t)| *t > horizon);
        self.0.push((id.to_owned(), time_ns));
    }
}

/// What the watch needs of the container engine; [`Runtime`] is the real one.
pub trait Engine {
    type Subscription: Subscription;
    /// `docker`, `podman`: for messages.
    fn name(&self) -> String;
    /// The engine's version, or why it does not answer within `timeout`.
    fn ping(&self, timeout: Duration) -> Result<String, String>;
    /// Whether it answers within `timeout`, as cheaply as can be asked.
    fn probe(&self, timeout: Duration) -> Result<(), String>;
    /// What its service manager says of it.
    fn service(&self) -> Service;
    /// A subscription to container deaths from `since_ns` on.
    fn subscribe(&self, since_ns: i64) -> anyhow::Result<Self::Subscription>;
    fn inspect(&self, ids: &[String]) -> anyhow::Result<Vec<ContainerState>>;
    /// A death event's container: in scope or not, its state when it still exists. By
    /// default what [`Engine::inspect`] has of it, else gone (judged by the event).
    fn look_up(&self, event: &DeathEvent) -> anyhow::Result<Lookup> {
        let state = self.inspect(std::slice::from_ref(&event.id))?.into_iter().next();
        Ok(state.map_or(Lookup::Gone(None), Lookup::InScope))
    }
    /// The containers that have finished, by id.
    fn finished(&self) -> anyhow::Result<Vec<String>>;
    /// The containers running now, in scope.
    fn running(&self) -> anyhow::Result<Vec<ContainerState>>;
}

/// What a subscription yields at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feed {
    /// An event line.
    Event(String),
    /// A line on the client's stderr.
    Complaint(String),
    /// Nothing within the wait.
    Quiet,
    /// The subscription ended: how.
    Ended(String),
}

pub trait Subscription {
    /// The command line, for the log.
    fn command(&self) -> String;
    /// The next thing it has, waiting at most `wait`.
    fn next(&mut self, wait: Duration) -> anyhow::Result<Feed>;
}

/// Time and signals; [`RealHost`] is the clock and `sys::signals`.
pub trait Host {
    fn now(&self) -> Instant;
    /// Sleeps; an error when a signal asks us to stop meanwhile.
    fn sleep(&self, d: Duration) -> anyhow::Result<()>;
    /// An error when a signal asks us to stop.
    fn check(&self) -> anyhow::Result<()>;
    /// A planned stop of the node in progress (eva-stop, the agent's stop): who, since when.
    fn planned_stop(&self) -> Option<String>;
}

/// The real clock and signals; `marker` is the planned-stop file (`node::planned_stop_marker`).
pub struct RealHost {
    pub marker: Option<std::path::PathBuf>,
}

impl Host for RealHost {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> anyhow::Result<()> {
        Ok(signals::sleep(d)?)
    }

    fn check(&self) -> anyhow::Result<()> {
        Ok(signals::check()?)
    }

    fn planned_stop(&self) -> Option<String> {
        std::fs::read_to_string(self.marker.as_ref()?).ok().map(|t| t.trim().to_owned())
    }
}

impl Engine for Runtime {
    type Subscription = process::Running;

    fn name(&self) -> String {
        self.kind.to_string()
    }

    fn ping(&self, timeout: Duration) -> Result<String, String> {
        Runtime::ping(self, timeout).map_err(|e: ProcessError| e.to_string())
    }

    fn probe(&self, timeout: Duration) -> Result<(), String> {
        Runtime::probe(self, timeout)
    }

    fn service(&self) -> Service {
        let Some(unit) = &self.unit else { return Service::Unknown };
        let Ok(systemd) = Systemd::locate(None) else { return Service::Unknown };
        match systemd.show(std::slice::from_ref(unit)).ok().and_then(|states| states.into_iter().next()) {
            Some(state) => classify(&state),
            None => Service::Unknown,
        }
    }

    fn subscribe(&self, since_ns: i64) -> anyhow::Result<process::Running> {
        Ok(Runtime::subscribe(self, since_ns)?)
    }

    fn inspect(&self, ids: &[String]) -> anyhow::Result<Vec<ContainerState>> {
        Runtime::inspect(self, ids)
    }

    fn look_up(&self, event: &DeathEvent) -> anyhow::Result<Lookup> {
        Runtime::look_up(self, event)
    }

    fn finished(&self) -> anyhow::Result<Vec<String>> {
        Runtime::finished(self)
    }

    fn running(&self) -> anyhow::Result<Vec<ContainerState>> {
        let ids = Runtime::running(self)?;
        Ok(Runtime::inspect(self, &ids)?.into_iter().filter(|s| s.running).collect())
    }
}

/// What a unit's state says of the engine it runs.
pub fn classify(state: &UnitState) -> Service {
    if !state.is_loaded() {
        return Service::Unknown;
    }
    match state.active_state.as_str() {
        "active" => Service::Running,
        // A start (or a restart's second half) is queued: it is coming back.
        "failed" | "inactive" if state.job => Service::Changing(format!("its unit {} is {}", state.id, state.describe())),
        "failed" | "inactive" => {
            Service::DownForGood(format!("its unit {} is {} and systemd is not restarting it", state.id, state.describe()))
        }
        _ => Service::Changing(format!("its unit {} is {}", state.id, state.describe())),
    }
}

impl Subscription for process::Running {
    fn command(&self) -> String {
        process::Running::command(self).to_owned()
    }

    fn next(&mut self, wait: Duration) -> anyhow::Result<Feed> {
        Ok(match process::Running::next(self, wait)? {
            Next::Line(Stream::Stdout, line) => Feed::Event(line),
            Next::Line(Stream::Stderr, line) => Feed::Complaint(line),
            Next::Idle => Feed::Quiet,
            Next::Ended(status) => Feed::Ended(process::describe_status(status)),
        })
    }
}

/// The verdict on an engine that did not answer for the grace (frozen, or gone with its
/// unit still up): the front end leaves word of it for the stop that follows
/// (`node::mark_engine_unanswered`), which then need not ping it again.
#[derive(Debug)]
pub struct Unanswered(pub String);

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unanswered {}

impl Unanswered {
    /// The verdict in `err`'s chain, if it is this one.
    pub fn in_chain(err: &anyhow::Error) -> Option<&Unanswered> {
        err.chain().find_map(|cause| cause.downcast_ref::<Unanswered>())
    }
}

/// Why there is no working subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Cause {
    /// The engine does not answer: why.
    Unreachable(String),
    /// It answers, but subscriptions fail or end: the last thing said.
    Subscription(String),
}

/// A time without a working subscription: since when, and why.
#[derive(Clone, Debug)]
struct Outage {
    since: Instant,
    cause: Cause,
}

/// Delays between attempts: 0.1 s, 0.25 s, 0.5 s, 1 s, then 2 s each.
#[derive(Debug, Default)]
struct Backoff {
    attempt: usize,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let delay = BACKOFF[self.attempt.min(BACKOFF.len() - 1)];
        self.attempt += 1;
        delay
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Where the watch is.
enum Phase<S> {
    /// Asking the engine, then subscribing.
    Connecting,
    /// Reading a subscription that started at `since`.
    Listening { sub: S, since: Instant },
}

/// A watch in progress: all of its state.
pub struct Watcher<'a, E: Engine, H: Host> {
    engine: &'a E,
    host: &'a H,
    watch: &'a Watch,
    phase: Phase<E::Subscription>,
    verdict_at: Instant,
    /// Deaths at or after this time (ns) are ours; the last event's time.
    watermark: i64,
    judged: Judged,
    /// A death that counted before the first verdict was due.
    held: Option<Death>,
    outage: Option<Outage>,
    /// Where to catch up from (ns) once a subscription works: after an outage, and at the
    /// start of a watch that takes over from another.
    catch_up_from: Option<i64>,
    backoff: Backoff,
    /// The last line the current subscription's client said on stderr.
    complaint: Option<String>,
    /// The last sign that the engine is alive: an event, a line, an answered probe.
    alive_at: Instant,
    /// When to probe a quiet stream next.
    probe_at: Instant,
    /// The last probe went unanswered: the outage it began goes on until a sign of life.
    probe_failed: bool,
    /// Since when the engine's unit says it is down for good.
    down_for_good_since: Option<Instant>,
    /// The containers that ran when the last subscription started (or the last check of
    /// them ended): what an engine that goes away and comes back has to run again, but
    /// those that died well before it went away ([`ENGINE_STOPPING`]).
    residents: Vec<String>,
    /// The deaths seen since the residents were taken, and when.
    died: Vec<(String, Instant)>,
    /// After an outage: when those must run again (the grace after the engine came back).
    expect_back: Option<(Instant, Vec<String>)>,
    said_watching: bool,
    said_unreachable: bool,
}

impl<'a, E: Engine, H: Host> Watcher<'a, E, H> {
    pub fn new(engine: &'a E, host: &'a H, watch: &'a Watch) -> Self {
        Watcher {
            engine,
            host,
            watch,
            phase: Phase::Connecting,
            verdict_at: host.now() + watch.initial_delay,
            watermark: watch.since_ns.unwrap_or_else(now_ns),
            judged: Judged::default(),
            held: None,
            outage: None,
            catch_up_from: watch.since_ns,
            backoff: Backoff::default(),
            complaint: None,
            alive_at: host.now(),
            probe_at: host.now() + QUIET_PROBE,
            probe_failed: false,
            down_for_good_since: None,
            residents: Vec::new(),
            died: Vec::new(),
            expect_back: None,
            said_watching: false,
            said_unreachable: false,
        }
    }

    /// Runs until a death counts and returns it. Fails when the engine stays unreachable
    /// beyond the grace, or on a signal.
    pub fn run(mut self) -> anyhow::Result<Death> {
        loop {
            self.host.check()?;
            let verdict = match self.phase {
                Phase::Connecting => self.connect()?,
                Phase::Listening { .. } => {
                    self.check_back()?;
                    self.listen()?
                }
            };
            if let Some(death) = verdict.or_else(|| self.held_due()) {
                return Ok(death);
            }
        }
    }

    /// The held death, once the initial delay is over.
    fn held_due(&mut self) -> Option<Death> {
        if self.host.now() >= self.verdict_at && self.planned_stop().is_none() { self.held.take() } else { None }
    }

    /// Starts an outage, or goes on with one under a new cause.
    fn lost(&mut self, cause: Cause) {
        let now = self.host.now();
        self.lost_since(now, cause);
    }

    /// Like [`Watcher::lost`], for an outage that began at `since` if none is going on.
    fn lost_since(&mut self, since: Instant, cause: Cause) {
        match &mut self.outage {
            Some(outage) => outage.cause = cause,
            None => self.outage = Some(Outage { since, cause }),
        }
        self.catch_up_from.get_or_insert(self.watermark);
    }

    /// The one grace check: an error once the outage has lasted the grace. During a planned
    /// stop the engine is meant to go away: no failure then.
    fn check_grace(&self) -> anyhow::Result<()> {
        let (Some(outage), Some(grace)) = (&self.outage, self.watch.daemon_grace) else { return Ok(()) };
        if self.host.now().saturating_duration_since(outage.since) < grace || self.planned_stop().is_some() {
            return Ok(());
        }
        let engine = self.engine.name();
        Err(match &outage.cause {
            Cause::Unreachable(why) => {
                Unanswered(format!("the {engine} engine has been unreachable for {}: {why}", Secs(grace))).into()
            }
            Cause::Subscription(why) => failed(format!("no working {engine} event subscription for {}: {why}", Secs(grace))),
        })
    }

    /// A planned stop in progress, said once.
    fn planned_stop(&self) -> Option<String> {
        self.host.planned_stop()
    }

    /// How long a ping or a probe may wait: [`PROBE_TIMEOUT`], at most half the grace (at
    /// least a second).
    fn probe_timeout(&self) -> Duration {
        self.watch.daemon_grace.map_or(PROBE_TIMEOUT, |g| (g / 2).clamp(Duration::from_secs(1), PROBE_TIMEOUT))
    }

    /// The engine does not answer: unless its unit says it will not come back (twice,
    /// [`DOWN_FOR_GOOD`] apart), the outage goes on until the grace.
    fn check_service(&mut self) -> anyhow::Result<()> {
        match self.engine.service() {
            Service::DownForGood(why) if self.planned_stop().is_none() => {
                let now = self.host.now();
                let since = *self.down_for_good_since.get_or_insert(now);
                if now.saturating_duration_since(since) >= DOWN_FOR_GOOD {
                    return Err(failed(format!("the {} engine is down and will not come back: {why}", self.engine.name())));
                }
            }
            _ => self.down_for_good_since = None,
        }
        Ok(())
    }

    /// A sign that the engine is alive.
    fn alive(&mut self) {
        let now = self.host.now();
        self.alive_at = now;
        self.probe_at = now + QUIET_PROBE;
        if self.probe_failed {
            self.probe_failed = false;
            tracing::info!("the {} engine answers again", self.engine.name());
        }
    }

    /// Waits before the next attempt.
    fn back_off(&mut self) -> anyhow::Result<()> {
        let mut delay = self.backoff.next();
        // An engine whose unit looked down for good: looked at again as soon as it may be
        // confirmed, not a backoff step later.
        if let Some(since) = self.down_for_good_since {
            delay = delay.min((since + DOWN_FOR_GOOD).saturating_duration_since(self.host.now()));
        }
        self.host.sleep(delay)
    }

    /// Connecting: the engine's version, then a subscription, then catching up.
    fn connect(&mut self) -> anyhow::Result<Option<Death>> {
        let version = match self.engine.ping(self.probe_timeout()) {
            Ok(version) => version,
            Err(why) => {
                if !self.said_unreachable {
                    let grace = self.watch.daemon_grace.map_or("forever".to_owned(), |g| format!("up to {}", Secs(g)));
                    tracing::warn!("the {} engine does not answer ({why}); retrying {grace}", self.engine.name());
                    self.said_unreachable = true;
                }
                self.lost(Cause::Unreachable(why));
                self.check_service()?;
                self.check_grace()?;
                self.back_off()?;
                return Ok(None);
            }
        };
        self.said_unreachable = false;
        self.down_for_good_since = None;
        // It answers, but a subscription may still not work: the outage goes on until one
        // holds.
        self.check_grace()?;
        let sub = self.engine.subscribe(self.watermark)?;
        let after_outage = self.catch_up_from.is_some() && (self.outage.is_some() || self.expect_back.is_some());
        let went_away = self.outage.as_ref().map_or_else(|| self.host.now(), |o| o.since);
        if let Some(mark) = self.catch_up_from.take() {
            let after = self
                .outage
                .as_ref()
                .map_or_else(String::new, |o| format!(" after {}", Secs(self.host.now().saturating_duration_since(o.since))));
            tracing::info!("the {} engine answers again (version {version}){after}", self.engine.name());
            if let Some(death) = self.reconcile(mark)? {
                return Ok(Some(death));
            }
        }
        match (after_outage, self.watch.daemon_grace) {
            // The engine came back: those that ran before must run again within the grace
            // (from now, also when it went away again before the last check).
            (true, Some(grace)) => {
                let due = self.host.now() + grace;
                // Those that died well before it went away were stopped on purpose.
                let stopped_before = went_away.checked_sub(ENGINE_STOPPING).unwrap_or(went_away);
                let died = std::mem::take(&mut self.died);
                self.residents.retain(|id| !died.iter().any(|(d, at)| d == id && *at < stopped_before));
                match &mut self.expect_back {
                    Some((at, _)) => *at = due,
                    None if !self.residents.is_empty() => {
                        tracing::info!(
                            "{} container(s) ran before the engine went away: each must run again within {}",
                            self.residents.len(),
                            Secs(grace)
                        );
                        self.expect_back = Some((due, std::mem::take(&mut self.residents)));
                    }
                    None => self.take_residents(),
                }
            }
            _ if self.expect_back.is_none() => self.take_residents(),
            _ => {}
        }
        if !self.said_watching {
            tracing::info!(
                "watching {} {version} for container deaths: `{}`; ignoring exit codes {:?}; {} container(s) running",
                self.engine.name(),
                sub.command(),
                self.watch.ignore_exit_codes,
                self.residents.len()
            );
            self.said_watching = true;
            // An engine older than eva-ha supports: said once, and watched all the same.
            support::warn_if_below_minimum(&self.engine.name(), &version);
        }
        self.complaint = None;
        self.probe_failed = false;
        self.alive();
        self.phase = Phase::Listening { sub, since: self.host.now() };
        Ok(None)
    }

    /// Notes the containers running now, as the residents.
    fn take_residents(&mut self) {
        match self.engine.running() {
            Ok(states) => {
                self.residents = states.into_iter().map(|s| s.id).collect();
                self.died.clear();
            }
            Err(e) => {
                tracing::warn!("cannot list the running containers: {e:#}; an engine that restarts will not be checked for them");
                self.residents.clear();
            }
        }
    }

    /// Once the grace after an outage is over: a failure when a container that ran before
    /// it exists and does not run (one that is gone was removed: not ours to judge).
    fn check_back(&mut self) -> anyhow::Result<()> {
        let now = self.host.now();
        let Some((_, expected)) = self.expect_back.take_if(|(due, _)| now >= *due) else { return Ok(()) };
        let engine = self.engine.name();
        if let Some(stop) = self.planned_stop() {
            tracing::info!(
                "not checking the containers that ran before the {engine} engine went away: the node is being stopped ({stop})"
            );
            return Ok(());
        }
        let states = match self.engine.inspect(&expected) {
            Ok(states) => states,
            Err(e) => {
                tracing::warn!("cannot inspect the containers that ran before the {engine} engine went away: {e:#}");
                return Ok(());
            }
        };
        let away: Vec<String> = states
            .iter()
            .filter(|s| !s.running)
            .map(|s| format!("{} ({}, {}, exit code {})", s.name, short(&s.id), s.status, s.exit_code))
            .collect();
        if !away.is_empty() {
            let grace = self.watch.daemon_grace.map_or_else(String::new, |g| format!(" {}", Secs(g)));
            return Err(failed(format!(
                "{} container(s) that ran before the {engine} engine went away do not run again{grace} after it came back: {}",
                away.len(),
                away.join(", ")
            )));
        }
        let gone = expected.len() - states.len();
        let removed = if gone > 0 { format!(" ({gone} removed meanwhile)") } else { String::new() };
        tracing::info!("the {} container(s) that ran before the {engine} engine went away run again{removed}", states.len());
        self.take_residents();
        Ok(())
    }

    /// Listening: one read from the subscription; a probe when it has been quiet.
    fn listen(&mut self) -> anyhow::Result<Option<Death>> {
        let wait = match &self.held {
            Some(_) => self.verdict_at.saturating_duration_since(self.host.now()).min(TICK),
            None => TICK,
        };
        let Phase::Listening { sub, since } = &mut self.phase else { return Ok(None) };
        let since = *since;
        let feed = sub.next(wait)?;
        // A subscription that holds is a working one, unless the engine behind it stopped
        // answering.
        if self.host.now().saturating_duration_since(since) >= STABLE && !self.probe_failed {
            self.outage = None;
            self.backoff.reset();
        }
        match feed {
            Feed::Event(line) => {
                self.alive();
                return Ok(self.on_event(&line));
            }
            Feed::Complaint(line) => {
                tracing::warn!("{} events: {line}", self.engine.name());
                self.complaint = Some(line);
            }
            Feed::Quiet if self.host.now() >= self.probe_at => self.probe()?,
            Feed::Quiet => {}
            Feed::Ended(how) => {
                tracing::warn!("the event subscription ended ({how}); reconnecting");
                let cause = self.complaint.take().unwrap_or_else(|| format!("the subscription ended ({how})"));
                self.phase = Phase::Connecting;
                self.lost(Cause::Subscription(cause));
                // Not at once: a subscription that fails as soon as it starts must not spin.
                self.back_off()?;
            }
        }
        Ok(None)
    }

    /// Probes a quiet engine. One that does not answer is unreachable since its last sign
    /// of life; the subscription stays, in case it thaws.
    fn probe(&mut self) -> anyhow::Result<()> {
        match self.engine.probe(self.probe_timeout()) {
            Ok(()) => self.alive(),
            Err(why) => {
                let now = self.host.now();
                if !self.probe_failed {
                    tracing::warn!(
                        "the {} engine does not answer while its event stream is quiet ({why}); probing again every {}",
                        self.engine.name(),
                        Secs(QUIET_PROBE)
                    );
                    self.probe_failed = true;
                }
                self.probe_at = now + QUIET_PROBE;
                let since = self.alive_at;
                self.lost_since(since, Cause::Unreachable(why));
                self.check_service()?;
                self.check_grace()?;
            }
        }
        Ok(())
    }

    /// Logs a death; returns it when it is the verdict.
    fn consider(&mut self, death: Death) -> Option<Death> {
        self.judged.add(&death.id, death.time_ns);
        if !death.counts(&self.watch.ignore_exit_codes) {
            tracing::info!("{} (from {}): ignored", death.describe(), death.source);
            return None;
        }
        if let Some(stop) = self.planned_stop() {
            tracing::info!("{} (from {}): not a failure, the node is being stopped ({stop})", death.describe(), death.source);
            return None;
        }
        if self.host.now() < self.verdict_at {
            tracing::warn!("{} (from {}): counts, reported when the initial delay ends", death.describe(), death.source);
            self.held.get_or_insert(death);
            return None;
        }
        Some(death)
    }

    fn on_event(&mut self, line: &str) -> Option<Death> {
        match event::parse(line) {
            Ok(Event::Death(ev)) => {
                self.watermark = self.watermark.max(ev.time_ns);
                if self.judged.event_seen(&ev.id, ev.time_ns) {
                    tracing::debug!("event for {} at {} seen before", short(&ev.id), ev.time_ns);
                    return None;
                }
                let state = match self.engine.look_up(&ev) {
                    Ok(Lookup::InScope(state)) => Some(state),
                    Ok(Lookup::OutOfScope(why)) => {
                        tracing::debug!("container {} ({}) died: out of scope ({why})", ev.name, short(&ev.id));
                        return None;
                    }
                    Ok(Lookup::Gone(why)) => {
                        if let Some(why) = why {
                            tracing::info!("container {} ({}) died: {why}", ev.name, short(&ev.id));
                        }
                        None
                    }
                    Err(e) => {
                        tracing::warn!("cannot inspect container {}: {e:#}; judging by the event", short(&ev.id));
                        None
                    }
                };
                if self.expect_back.is_none() {
                    self.died.push((ev.id.clone(), self.host.now()));
                }
                self.consider(judge(&ev, state.as_ref()))
            }
            Ok(Event::Other(what)) => {
                tracing::debug!("not a death: {what}");
                None
            }
            Err(problem) => {
                tracing::warn!("skipping an event line that cannot be read ({problem}): {line}");
                None
            }
        }
    }

    /// The containers that finished since `since_ns` without an event we judged.
    fn reconcile(&mut self, since_ns: i64) -> anyhow::Result<Option<Death>> {
        let ids = self.engine.finished()?;
        let states = self.engine.inspect(&ids)?;
        let mut found = 0;
        let mut verdict = None;
        for s in &states {
            let Some(finished) = s.finished_ns.filter(|f| *f >= since_ns - SAME_DEATH) else { continue };
            if self.judged.death_seen(&s.id, finished) {
                continue;
            }
            found += 1;
            verdict = verdict.or(self.consider(from_state(s, finished)));
        }
        tracing::info!(
            "caught up: {found} container(s) finished while the subscription was down, of {} finished in all",
            states.len()
        );
        Ok(verdict)
    }
}

/// Watches `runtime` until a death counts and returns it. Fails when the engine stays
/// unreachable beyond the grace, or on a signal.
pub fn watch(runtime: &Runtime, watch: &Watch, planned_stop_marker: Option<std::path::PathBuf>) -> anyhow::Result<Death> {
    Watcher::new(runtime, &RealHost { marker: planned_stop_marker }, watch).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: Option<i64>) -> DeathEvent {
        DeathEvent {
            id: "0123456789abcdef".into(),
            name: "crowd".into(),
            image: "eva/crowd".into(),
            exit_code: code,
            time_ns: 10_000_000_000,
        }
    }

    fn state(running: bool, code: i64, finished_ns: Option<i64>, label: bool) -> ContainerState {
        ContainerState {
            id: "0123456789abcdef".into(),
            name: "crowd".into(),
            image: "eva/crowd".into(),
            running,
            oom_killed: false,
            exit_code: code,
            started_ns: Some(1),
            finished_ns,
            has_exit_code_label: label,
            labels: Default::default(),
            status: if running { "running".into() } else { "exited".into() },
            restart_count: 0,
            health: None,
        }
    }

    #[test]
    fn the_containers_own_state_decides() {
        // A label named exitCode made the event say 0; the container says 3.
        let d = judge(&ev(Some(0)), Some(&state(false, 3, Some(10_000_100_000), true)));
        assert_eq!((d.exit_code, d.source), (Some(3), "inspect"));
        assert!(d.counts(&[0, 137]));
    }

    #[test]
    fn a_container_gone_is_judged_by_its_event() {
        let d = judge(&ev(Some(3)), None);
        assert_eq!((d.exit_code, d.source), (Some(3), "event"));
        assert!(!judge(&ev(Some(0)), None).counts(&[0, 137]));
    }

    #[test]
    fn a_restarted_container_is_judged_by_its_event_unless_a_label_hides_the_code() {
        let restarted = state(true, 0, Some(10_000_100_000), false);
        assert_eq!(judge(&ev(Some(3)), Some(&restarted)).exit_code, Some(3));
        let restarted_with_label = state(true, 0, Some(10_000_100_000), true);
        let d = judge(&ev(Some(0)), Some(&restarted_with_label));
        assert_eq!(d.exit_code, None);
        assert!(d.counts(&[0, 137]), "an unknown exit code counts");
        // Died again later: this event's death is not the state's.
        let later = state(false, 0, Some(50_000_000_000), false);
        assert_eq!(judge(&ev(Some(3)), Some(&later)).exit_code, Some(3));
    }

    #[test]
    fn oom_kill_counts_even_with_an_ignored_code() {
        let mut s = state(false, 137, Some(10_000_000_000), false);
        s.oom_killed = true;
        let d = judge(&ev(Some(137)), Some(&s));
        assert!(d.counts(&[0, 137]));
        assert_eq!(d.describe(), "container crowd (0123456789ab, image eva/crowd) died with exit code 137, OOM-killed");
    }

    #[test]
    fn ignored_codes() {
        let d = judge(&ev(Some(143)), None);
        assert!(d.counts(&[0, 137]));
        assert!(!d.counts(&[0, 137, 143]));
    }

    #[test]
    fn judged_recognises_replays_and_reconciled_duplicates() {
        let mut j = Judged::default();
        j.add("a", 10_000_000_000);
        assert!(j.event_seen("a", 10_000_000_000));
        assert!(!j.event_seen("a", 10_000_000_001));
        assert!(j.death_seen("a", 10_500_000_000));
        assert!(!j.death_seen("a", 13_000_000_000));
        assert!(!j.death_seen("b", 10_000_000_000));
    }

    // --- the state machine, with a scripted engine and a fake clock ---------------------

    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// A clock that moves only when the watch sleeps or waits, a signal due at a time, and
    /// a planned stop from a time on.
    struct FakeHost {
        now: Rc<Cell<Instant>>,
        signal_at: Option<Instant>,
        planned_stop_at: Option<Instant>,
    }

    impl Host for FakeHost {
        fn now(&self) -> Instant {
            self.now.get()
        }

        fn sleep(&self, d: Duration) -> anyhow::Result<()> {
            self.now.set(self.now.get() + d);
            self.check()
        }

        fn check(&self) -> anyhow::Result<()> {
            match self.signal_at {
                Some(at) if self.now.get() >= at => Err(signals::Interrupted(15).into()),
                _ => Ok(()),
            }
        }

        fn planned_stop(&self) -> Option<String> {
            self.planned_stop_at.filter(|at| self.now.get() >= *at).map(|_| "pid 1 since now".into())
        }
    }

    /// One subscription's script: what it yields, in order; then quiet, forever.
    struct Scripted {
        feeds: VecDeque<Feed>,
        now: Rc<Cell<Instant>>,
    }

    impl Subscription for Scripted {
        fn command(&self) -> String {
            "docker events (scripted)".into()
        }

        fn next(&mut self, wait: Duration) -> anyhow::Result<Feed> {
            let feed = self.feeds.pop_front().unwrap_or(Feed::Quiet);
            // Quiet takes the whole wait; anything else comes after a millisecond.
            self.now.set(self.now.get() + if feed == Feed::Quiet { wait } else { Duration::from_millis(1) });
            Ok(feed)
        }
    }

    #[derive(Default)]
    struct Script {
        /// Answers to `version`, in order; then it answers, unless `then_down`.
        pings: VecDeque<Result<String, String>>,
        then_down: bool,
        /// Whether a probe of a quiet stream is answered (a frozen engine: not).
        frozen: bool,
        probes: usize,
        service: Option<Service>,
        subscriptions: VecDeque<Vec<Feed>>,
        states: Vec<ContainerState>,
        /// Finished containers, each listed once that many subscriptions were made.
        finished: Vec<(usize, String)>,
        /// Containers that run until that many subscriptions were made (their state's
        /// `running` follows).
        residents: Vec<(usize, String)>,
        /// The `since` of each subscription.
        subscribed_since: Vec<i64>,
    }

    struct FakeEngine {
        script: RefCell<Script>,
        now: Rc<Cell<Instant>>,
    }

    impl Engine for FakeEngine {
        type Subscription = Scripted;

        fn name(&self) -> String {
            "docker".into()
        }

        fn probe(&self, timeout: Duration) -> Result<(), String> {
            let mut script = self.script.borrow_mut();
            script.probes += 1;
            if script.frozen {
                // It takes the whole timeout to find out.
                self.now.set(self.now.get() + timeout);
                Err(format!("no answer within {}", Secs(timeout)))
            } else {
                Ok(())
            }
        }

        fn service(&self) -> Service {
            self.script.borrow().service.clone().unwrap_or(Service::Unknown)
        }

        fn ping(&self, timeout: Duration) -> Result<String, String> {
            let mut script = self.script.borrow_mut();
            if script.frozen {
                self.now.set(self.now.get() + timeout);
                return Err(format!("no answer within {}", Secs(timeout)));
            }
            match script.pings.pop_front() {
                Some(answer) => answer,
                None if script.then_down => Err(DOWN.to_owned()),
                None => Ok("27.5.1".into()),
            }
        }

        fn subscribe(&self, since_ns: i64) -> anyhow::Result<Scripted> {
            let mut script = self.script.borrow_mut();
            script.subscribed_since.push(since_ns);
            let feeds = script.subscriptions.pop_front().unwrap_or_default().into();
            Ok(Scripted { feeds, now: Rc::clone(&self.now) })
        }

        fn inspect(&self, ids: &[String]) -> anyhow::Result<Vec<ContainerState>> {
            let script = self.script.borrow();
            let made = script.subscribed_since.len();
            let mut states: Vec<ContainerState> = script.states.iter().filter(|s| ids.contains(&s.id)).cloned().collect();
            for state in &mut states {
                if let Some((until, _)) = script.residents.iter().find(|(_, id)| *id == state.id) {
                    state.running = made < *until;
                    state.status = if state.running { "running".into() } else { "exited".into() };
                }
            }
            Ok(states)
        }

        fn running(&self) -> anyhow::Result<Vec<ContainerState>> {
            let ids: Vec<String> = self.script.borrow().states.iter().map(|s| s.id.clone()).collect();
            Ok(self.inspect(&ids)?.into_iter().filter(|s| s.running).collect())
        }

        fn finished(&self) -> anyhow::Result<Vec<String>> {
            let script = self.script.borrow();
            let made = script.subscribed_since.len();
            Ok(script.finished.iter().filter(|(after, _)| made >= *after).map(|(_, id)| id.clone()).collect())
        }
    }

    /// A scripted watch: the engine's script, the watch's settings, a signal's time, a
    /// planned stop's.
    #[must_use]
    struct Drill {
        script: Script,
        watch: Watch,
        signal_after: Option<Duration>,
        planned_stop_after: Option<Duration>,
    }

    /// What a drill ended with, and what the engine saw.
    struct Outcome {
        result: anyhow::Result<Death>,
        took: Duration,
        subscribed_since: Vec<i64>,
        probes: usize,
    }

    impl Drill {
        fn new() -> Drill {
            let watch = Watch {
                ignore_exit_codes: vec![0, 137],
                initial_delay: Duration::ZERO,
                daemon_grace: Some(Duration::from_secs(60)),
                since_ns: Some(T0),
            };
            Drill { script: Script::default(), watch, signal_after: Some(Duration::from_secs(3600)), planned_stop_after: None }
        }

        fn subscription(mut self, feeds: Vec<Feed>) -> Drill {
            self.script.subscriptions.push_back(feeds);
            self
        }

        fn pings_fail(mut self, n: usize) -> Drill {
            self.script.pings.extend((0..n).map(|_| Err(DOWN.to_owned())));
            self
        }

        fn pings_ok(mut self, n: usize) -> Drill {
            self.script.pings.extend((0..n).map(|_| Ok("27.5.1".to_owned())));
            self
        }

        /// Once the scripted answers are used up, the engine never answers again.
        fn then_down(mut self) -> Drill {
            self.script.then_down = true;
            self
        }

        /// From the start: the engine takes connections but answers nothing.
        fn frozen(mut self) -> Drill {
            self.script.frozen = true;
            self
        }

        fn service(mut self, service: Service) -> Drill {
            self.script.service = Some(service);
            self
        }

        fn planned_stop_after(mut self, d: Duration) -> Drill {
            self.planned_stop_after = Some(d);
            self
        }

        /// A container that `ps` lists as finished from the start.
        fn finished(self, state: ContainerState) -> Drill {
            self.finished_after(0, state)
        }

        /// A container that `ps` lists once `n` subscriptions were made.
        fn finished_after(mut self, n: usize, state: ContainerState) -> Drill {
            self.script.finished.push((n, state.id.clone()));
            self.script.states.push(state);
            self
        }

        /// A container running from the start until `n` subscriptions were made
        /// (`usize::MAX`: for good).
        fn resident_until(mut self, n: usize, id: &str) -> Drill {
            self.script.residents.push((n, id.to_owned()));
            self.script.states.push(ContainerState { id: id.into(), ..state(true, 0, None, false) });
            self
        }

        fn run(self) -> Outcome {
            let now = Rc::new(Cell::new(Instant::now()));
            let start = now.get();
            let host = FakeHost {
                now: Rc::clone(&now),
                signal_at: self.signal_after.map(|d| start + d),
                planned_stop_at: self.planned_stop_after.map(|d| start + d),
            };
            let engine = FakeEngine { script: RefCell::new(self.script), now: Rc::clone(&now) };
            let result = Watcher::new(&engine, &host, &self.watch).run();
            let script = engine.script.into_inner();
            Outcome { result, took: now.get() - start, subscribed_since: script.subscribed_since, probes: script.probes }
        }
    }

    impl Outcome {
        #[track_caller]
        fn death(&self) -> &Death {
            match &self.result {
                Ok(death) => death,
                Err(e) => panic!("no verdict but an error: {e:#}"),
            }
        }

        #[track_caller]
        fn error(&self) -> String {
            match &self.result {
                Ok(death) => panic!("a verdict, not an error: {}", death.describe()),
                Err(e) => format!("{e:#}"),
            }
        }
    }

    const DOWN: &str = "Cannot connect to the Docker daemon";

    /// The watch's start (ns), and a time some seconds after it.
    const T0: i64 = 1_700_000_000_000_000_000;
    fn at(secs: i64) -> i64 {
        T0 + secs * 1_000_000_000
    }

    fn die(id: &str, code: i64, time_ns: i64) -> Feed {
        Feed::Event(
            serde_json::json!({"Type": "container", "Action": "die",
                "Actor": {"ID": id, "Attributes": {"exitCode": code.to_string(), "image": "eva/crowd", "name": "crowd"}},
                "time": time_ns / 1_000_000_000, "timeNano": time_ns})
            .to_string(),
        )
    }

    fn finished_state(id: &str, code: i64, finished_ns: i64) -> ContainerState {
        ContainerState { id: id.into(), finished_ns: Some(finished_ns), ..state(false, code, None, false) }
    }

    #[test]
    fn an_event_that_counts_is_the_verdict_and_one_that_does_not_is_ignored() {
        let out = Drill::new().subscription(vec![die("aaaa", 0, at(1)), die("bbbb", 137, at(2)), die("cccc", 3, at(3))]).run();
        let death = out.death();
        assert_eq!((death.id.as_str(), death.exit_code, death.source), ("cccc", Some(3), "event"));
        assert_eq!(out.subscribed_since, [T0]);
    }

    #[test]
    fn the_end_of_the_stream_reconnects_from_the_last_event_and_catches_up() {
        // The first subscription ends after one ignored death; meanwhile a container finished
        // with 3 without an event: the catch-up finds it.
        let out = Drill::new()
            .subscription(vec![die("aaaa", 0, at(1)), Feed::Ended("exit status 1".into())])
            .finished_after(2, finished_state("dddd", 3, at(2)))
            .run();
        assert_eq!(out.death().id, "dddd");
        assert_eq!(out.death().source, "inspect");
        assert_eq!(out.subscribed_since, [T0, at(1)], "the second subscription resumes at the last event");
    }

    #[test]
    fn a_replayed_boundary_event_is_judged_once() {
        let out = Drill::new().subscription(vec![die("aaaa", 3, at(1))]).run();
        assert_eq!(out.death().id, "aaaa");
        // Replayed after a reconnection: the same event is recognised, the next one decides.
        let out = Drill::new()
            .subscription(vec![die("aaaa", 0, at(1)), Feed::Ended("exit status 1".into())])
            .subscription(vec![die("aaaa", 0, at(1)), die("eeee", 3, at(5))])
            .run();
        assert_eq!(out.death().id, "eeee");
    }

    #[test]
    fn a_takeover_catches_up_from_its_start() {
        let out = Drill::new().finished(finished_state("ffff", 3, at(1))).run();
        assert_eq!(out.death().id, "ffff");
        let old = Drill::new().finished(finished_state("gggg", 3, T0 - 10 * SAME_DEATH)).run_for(Duration::from_secs(30));
        assert!(old.error().contains("interrupted"), "a death before the takeover's time is not ours");
    }

    #[test]
    fn an_engine_unreachable_for_the_grace_fails_naming_why() {
        let out = Drill::new().then_down().run();
        let error = out.error();
        assert!(error.starts_with("the docker engine has been unreachable for 60s: Cannot connect"), "{error}");
        assert!(out.took >= Duration::from_secs(60) && out.took < Duration::from_secs(63), "{:?}", out.took);
    }

    #[test]
    fn an_engine_back_within_the_grace_is_no_failure() {
        let out = Drill::new().pings_fail(20).subscription(vec![die("aaaa", 3, at(40))]).run();
        assert_eq!(out.death().id, "aaaa");
        assert!(out.took < Duration::from_secs(60), "{:?}", out.took);
    }

    #[test]
    fn subscriptions_that_keep_failing_are_an_outage_with_their_complaint() {
        let fail =
            || vec![Feed::Complaint("Error response from daemon: invalid filter".into()), Feed::Ended("exit status 1".into())];
        let mut drill = Drill::new();
        for _ in 0..100 {
            drill = drill.subscription(fail());
        }
        let out = drill.run();
        let error = out.error();
        assert_eq!(error, "no working docker event subscription for 60s: Error response from daemon: invalid filter");
    }

    #[test]
    fn a_subscription_that_holds_ends_the_outage_and_resets_the_backoff() {
        // Down for 44 s (25 pings with the backoff), then a subscription that works for a
        // minute, ends, and the engine is down again: the grace counts from the second loss,
        // not the first (which would fail at once, 104 s after it).
        let out = Drill::new()
            .pings_fail(25)
            .pings_ok(1)
            .subscription(vec![Feed::Quiet; 120].into_iter().chain([Feed::Ended("exit status 1".into())]).collect())
            .then_down()
            .run();
        let _ = out.error();
        assert!(out.took >= Duration::from_secs(43 + 60 + 60), "{:?}", out.took);
    }

    #[test]
    fn a_death_during_the_initial_delay_is_held_until_it_ends() {
        let mut drill = Drill::new().subscription(vec![die("aaaa", 3, at(1))]);
        drill.watch.initial_delay = Duration::from_secs(5);
        let out = drill.run();
        assert_eq!(out.death().id, "aaaa");
        assert!(out.took >= Duration::from_secs(5) && out.took < Duration::from_millis(5600), "{:?}", out.took);
    }

    #[test]
    fn a_signal_ends_the_watch() {
        let out = Drill::new().run_for(Duration::from_secs(10));
        assert!(out.error().contains("interrupted by SIGTERM"), "{}", out.error());
        assert!(out.took >= Duration::from_secs(10) && out.took < Duration::from_secs(11), "{:?}", out.took);
        // Also while the engine is away, and with no grace at all.
        let mut drill = Drill::new().then_down();
        drill.watch.daemon_grace = None;
        let out = drill.run_for(Duration::from_secs(600));
        assert!(out.error().contains("interrupted"), "{}", out.error());
    }

    impl Drill {
        fn run_for(mut self, d: Duration) -> Outcome {
            self.signal_after = Some(d);
            self.run()
        }
    }

    #[test]
    fn a_frozen_engine_behind_a_quiet_stream_is_unreachable_after_the_grace() {
        // The subscription neither sends nor ends; probes go unanswered.
        let out = Drill::new().subscription(vec![]).frozen().run();
        let error = out.error();
        assert!(error.starts_with("the docker engine has been unreachable for 60s: no answer within 10s"), "{error}");
        // Since the last sign of life (the subscription's start), within a probe's time.
        assert!(out.took >= Duration::from_secs(60) && out.took < Duration::from_secs(60 + 5 + 10 + 1), "{:?}", out.took);
    }

    #[test]
    fn a_quiet_engine_that_answers_its_probes_is_watched_on() {
        let out = Drill::new().subscription(vec![]).run_for(Duration::from_secs(600));
        assert!(out.error().contains("interrupted"), "{}", out.error());
        assert!(out.probes >= 100 && out.probes <= 121, "one probe per 5 s of quiet: {}", out.probes);
    }

    #[test]
    fn a_busy_engine_is_not_probed() {
        let events: Vec<Feed> = (0..200).map(|i| die(&format!("c{i}"), 0, at(i))).collect();
        let out = Drill::new().subscription(events).run_for(Duration::from_millis(150));
        assert!(out.error().contains("interrupted"), "{}", out.error());
        assert_eq!(out.probes, 0);
    }

    #[test]
    fn an_engine_whose_unit_is_down_for_good_fails_at_once() {
        let down = Service::DownForGood("its unit docker.service is failed, result exit-code".into());
        let out = Drill::new().then_down().service(down).run();
        let error = out.error();
        assert_eq!(
            error,
            "the docker engine is down and will not come back: its unit docker.service is failed, result exit-code"
        );
        // Seen twice, DOWN_FOR_GOOD apart, the second look as soon as it may confirm: not
        // the minute's grace, nor a backoff step later.
        assert!(out.took >= DOWN_FOR_GOOD && out.took < DOWN_FOR_GOOD + Duration::from_millis(200), "{:?}", out.took);
    }

    #[test]
    fn a_stopped_unit_with_a_job_queued_is_coming_back() {
        let unit = |active: &str, sub: &str, job: bool| UnitState {
            name: "docker".into(),
            id: "docker.service".into(),
            load_state: "loaded".into(),
            active_state: active.into(),
            sub_state: sub.into(),
            job,
            ..UnitState::default()
        };
        assert!(matches!(classify(&unit("inactive", "dead", false)), Service::DownForGood(_)));
        assert!(matches!(classify(&unit("failed", "failed", false)), Service::DownForGood(_)));
        // `systemctl restart docker` between its stop and its start; a start queued.
        assert!(matches!(classify(&unit("inactive", "dead", true)), Service::Changing(_)));
        assert!(matches!(classify(&unit("activating", "auto-restart", false)), Service::Changing(_)));
        assert!(matches!(classify(&unit("active", "running", false)), Service::Running));
    }

    #[test]
    fn an_engine_being_restarted_is_waited_for() {
        let restarting = Service::Changing("its unit docker.service is activating/auto-restart".into());
        let out = Drill::new().pings_fail(8).service(restarting).subscription(vec![die("aaaa", 3, at(1))]).run();
        assert_eq!(out.death().id, "aaaa");
        let out = Drill::new().then_down().service(Service::Running).run();
        assert!(out.error().contains("unreachable for 60s"), "{}", out.error());
    }

    #[test]
    fn during_a_planned_stop_neither_deaths_nor_the_engine_going_away_count() {
        // The stop script removes the containers (exit 143 counts, normally), then the engine
        // stops: the watch waits for the cluster's SIGTERM. (eva-stop marks the planned stop
        // before it stops anything: just after the watch subscribed.)
        let out = Drill::new()
            .planned_stop_after(Duration::from_millis(1))
            .subscription(vec![
                Feed::Quiet,
                Feed::Quiet,
                Feed::Quiet,
                die("aaaa", 143, at(2)),
                Feed::Ended("exit status 1".into()),
            ])
            .then_down()
            .service(Service::DownForGood("its unit docker.service is inactive/dead".into()))
            .run_for(Duration::from_secs(300));
        assert!(out.error().contains("interrupted"), "{}", out.error());
        // Before the planned stop, the same death counts.
        let out = Drill::new().subscription(vec![die("aaaa", 143, at(2))]).run();
        assert_eq!(out.death().id, "aaaa");
    }

    /// An engine restart: the first subscription ends, the engine is away for a few
    /// seconds, then answers again and the second subscription holds.
    fn engine_restart() -> Drill {
        Drill::new().subscription(vec![Feed::Ended("exit status 1".into())]).pings_fail(4)
    }

    #[test]
    fn a_container_that_does_not_run_again_after_the_engine_came_back_fails() {
        let out = engine_restart().resident_until(2, "aaaa").resident_until(usize::MAX, "bbbb").run();
        assert_eq!(
            out.error(),
            "1 container(s) that ran before the docker engine went away do not run again 60s after it came back: crowd (aaaa, exited, exit code 0)"
        );
        // The grace counts from the engine's return, a few seconds after it went away.
        assert!(out.took >= Duration::from_secs(60) && out.took < Duration::from_secs(66), "{:?}", out.took);
    }

    #[test]
    fn containers_that_run_again_after_the_engine_came_back_are_watched_on() {
        let out = engine_restart().resident_until(usize::MAX, "aaaa").run_for(Duration::from_secs(300));
        assert!(out.error().contains("interrupted"), "{}", out.error());
        // Without an outage, a container that stops is judged by its death alone.
        let out = Drill::new().resident_until(1, "aaaa").subscription(vec![]).run_for(Duration::from_secs(300));
        assert!(out.error().contains("interrupted"), "{}", out.error());
    }

    #[test]
    fn a_container_stopped_well_before_the_outage_is_not_expected_back() {
        // Stopped, then 20 s later the engine goes away: the stop was someone's.
        let quiet_20s = vec![Feed::Quiet; 40];
        let feeds = [vec![die("aaaa", 0, at(1))], quiet_20s, vec![Feed::Ended("exit status 1".into())]].concat();
        let out = Drill::new().resident_until(2, "aaaa").subscription(feeds).pings_fail(4).run_for(Duration::from_secs(300));
        assert!(out.error().contains("interrupted"), "{}", out.error());
        // Stopped as the engine went away (it stops its containers as it stops): expected back.
        let out = Drill::new()
            .resident_until(2, "aaaa")
            .subscription(vec![die("aaaa", 0, at(1)), Feed::Ended("exit status 1".into())])
            .pings_fail(4)
            .run_for(Duration::from_secs(300));
        assert!(out.error().contains("do not run again 60s after it came back: crowd (aaaa, exited"), "{}", out.error());
    }

    #[test]
    fn during_a_planned_stop_the_containers_are_not_expected_back() {
        let out = engine_restart()
            .resident_until(2, "aaaa")
            .planned_stop_after(Duration::from_secs(30))
            .run_for(Duration::from_secs(300));
        assert!(out.error().contains("interrupted"), "{}", out.error());
    }
}

//! Never miss a container death: the watch behind eva-genw.
//!
//! The guide's genw.sh polled `docker events --since 5s` every five seconds. That reacted
//! seconds late, lost deaths between windows and whenever the engine's 256-event replay
//! buffer rolled over, and passed silently when the engine was down. Here one subscription
//! stays open and every death is judged as it arrives. When the subscription ends (engine
//! restart), we reconnect with backoff, resume from the last event's time (the boundary
//! event comes again and is recognised), and also look at every container that finished
//! since: the engine emits no event for containers it finds dead when it comes back. An
//! engine unreachable for longer than the grace is itself a failure.
//!
//! A death is judged by the container's own state (`inspect`) when it still exists, since a
//! label named `exitCode` overrides the event's attribute; by the event when it is gone.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::failed;
use crate::sys::logging::Secs;
use crate::sys::process::{Next, Stream};
use crate::sys::runtime::Runtime;
use crate::sys::runtime::event::{self, DeathEvent, Event};
use crate::sys::runtime::inspect::ContainerState;
use crate::sys::signals;

/// Two accounts of one death (its event, `inspect`'s FinishedAt) lie at most this far apart.
const SAME_DEATH: i64 = 2_000_000_000;
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

fn from_state(s: &ContainerState, time_ns: i64) -> Death {
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

/// The state of a watch in progress.
struct Watcher<'a> {
    runtime: &'a Runtime,
    watch: &'a Watch,
    verdict_at: Instant,
    /// Deaths at or after this time (ns) are ours; the last event's time.
    watermark: i64,
    judged: Judged,
    /// A death that counted before the first verdict was due.
    held: Option<Death>,
}

impl Watcher<'_> {
    /// Logs a death; returns it when it is the verdict.
    fn consider(&mut self, death: Death) -> Option<Death> {
        self.judged.add(&death.id, death.time_ns);
        if !death.counts(&self.watch.ignore_exit_codes) {
            tracing::info!("{} (from {}): ignored", death.describe(), death.source);
            return None;
        }
        if Instant::now() < self.verdict_at {
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
                let state = match self.runtime.inspect(std::slice::from_ref(&ev.id)) {
                    Ok(states) => states.into_iter().next(),
                    Err(e) => {
                        tracing::warn!("cannot inspect container {}: {e:#}; judging by the event", short(&ev.id));
                        None
                    }
                };
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
        let ids = self.runtime.finished()?;
        let states = self.runtime.inspect(&ids)?;
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

    /// Waits for the engine to answer, within the grace counted from `lost_at`: its
    /// version, and whether it had to wait.
    fn await_engine(&self, lost_at: Instant, attempt: &mut usize) -> anyhow::Result<(String, bool)> {
        let mut said = false;
        loop {
            signals::check()?;
            match self.runtime.ping() {
                Ok(version) => return Ok((version, said)),
                Err(e) => {
                    if let Some(grace) = self.watch.daemon_grace.filter(|g| lost_at.elapsed() >= *g) {
                        return Err(failed(format!(
                            "the {} engine has been unreachable for {}: {e}",
                            self.runtime.kind,
                            Secs(grace)
                        )));
                    }
                    if !said {
                        let grace = self.watch.daemon_grace.map_or("forever".to_owned(), |g| format!("up to {}", Secs(g)));
                        tracing::warn!("the {} engine does not answer ({e}); retrying {grace}", self.runtime.kind);
                        said = true;
                    }
                }
            }
            signals::sleep(BACKOFF[(*attempt).min(BACKOFF.len() - 1)])?;
            *attempt += 1;
        }
    }
}

/// Watches until a death counts and returns it. Fails when the engine stays unreachable
/// beyond the grace, or on a signal.
pub fn watch(runtime: &Runtime, watch: &Watch) -> anyhow::Result<Death> {
    let mut w = Watcher {
        runtime,
        watch,
        verdict_at: Instant::now() + watch.initial_delay,
        watermark: watch.since_ns.unwrap_or_else(now_ns),
        judged: Judged::default(),
        held: None,
    };
    // Since when no subscription has worked (the engine down, or `events` failing at once),
    // and the watermark from which to catch up once one works again. At the start we have
    // seen nothing, so the same catching up applies when the engine was not there, or when
    // we take over from an earlier watch.
    let mut outage: Option<Instant> = None;
    let mut catch_up_from: Option<i64> = watch.since_ns;
    let mut last_problem = String::from("the subscription ended");
    let mut attempt = 0;
    let mut first = true;
    loop {
        let since = outage.unwrap_or_else(Instant::now);
        let (version, waited) = w.await_engine(since, &mut attempt)?;
        if waited {
            outage.get_or_insert(since);
            catch_up_from.get_or_insert(w.watermark);
        }
        if let (Some(at), Some(grace)) = (outage, watch.daemon_grace)
            && at.elapsed() >= grace
        {
            return Err(failed(format!("no working {} event subscription for {}: {last_problem}", runtime.kind, Secs(grace))));
        }
        let mut sub = runtime.subscribe(w.watermark)?;
        let connected = Instant::now();
        if let Some(mark) = catch_up_from.take() {
            let after = outage.map_or_else(String::new, |at| format!(" after {}", Secs(at.elapsed())));
            tracing::info!("the {} engine answers again (version {version}){after}", runtime.kind);
            if let Some(death) = w.reconcile(mark)? {
                return Ok(death);
            }
        }
        if first {
            tracing::info!(
                "watching {} {version} for container deaths: `{}`; ignoring exit codes {:?}",
                runtime.kind,
                sub.command(),
                watch.ignore_exit_codes
            );
            first = false;
        }
        loop {
            let wait = match &w.held {
                Some(_) => w.verdict_at.saturating_duration_since(Instant::now()).min(TICK),
                None => TICK,
            };
            match sub.next(wait)? {
                Next::Line(Stream::Stdout, line) => {
                    if let Some(death) = w.on_event(&line) {
                        return Ok(death);
                    }
                }
                Next::Line(Stream::Stderr, line) => {
                    tracing::warn!("{} events: {line}", runtime.kind);
                    last_problem = line;
                }
                Next::Idle => {}
                Next::Ended(status) => {
                    tracing::warn!(
                        "the event subscription ended ({}); reconnecting",
                        crate::sys::process::describe_status(status)
                    );
                    break;
                }
            }
            // A subscription that holds is a working one.
            if connected.elapsed() >= STABLE {
                outage = None;
                attempt = 0;
            }
            if Instant::now() >= w.verdict_at
                && let Some(death) = w.held.take()
            {
                return Ok(death);
            }
            signals::check()?;
        }
        outage.get_or_insert_with(Instant::now);
        catch_up_from.get_or_insert(w.watermark);
        // Not at once: a subscription that fails as soon as it starts must not spin.
        signals::sleep(BACKOFF[attempt.min(BACKOFF.len() - 1)])?;
        attempt += 1;
    }
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
}

//! `eva-genw --once`: the custom monitor run synchronously.
//!
//! CLUSTERPRO can start a custom monitor's script every interval and take its exit status
//! (0 normal, else error) instead of waiting for it to end. Each call then judges every
//! container death since the previous call: a cursor in `<state_dir>/genw-once.json` says
//! where the last call stopped, and a lock beside it keeps two overlapping calls from
//! judging the same interval twice. Between two calls the engine's 256-event replay buffer
//! may roll over, or the engine may restart and forget its events: so besides the events it
//! still has, every container whose own state says it finished since the cursor is judged
//! too (one restarted by its policy since, with no event left to tell its exit code, counts
//! as an unknown exit code, which is a failure). A death is reported once: the cursor
//! remembers the deaths it judged near its boundary.
//!
//! The first call of a node looks back to the last successful eva-start recorded on it
//! (`ha::history`), else to when the engine started. An engine that does not answer is a
//! failure once it has not answered for `daemon_grace` across calls, or at once when its
//! unit says it will not come back; during a planned stop nothing counts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::failed;
use crate::ha::death_watch::{Death, Engine, SAME_DEATH, Service, Unanswered, from_state, judge, now_ns, short};
use crate::ha::node;
use crate::ha::support;
use crate::sys::logging::Secs;
use crate::sys::process::{Next, Stream};
use crate::sys::runtime::event::{self, Event};
use crate::sys::runtime::{Lookup, Runtime};
use crate::sys::{files, lock};

/// Each call to the engine gets this long; the replay this long in all. With the lock wait
/// and the inspects, a call ends within about 25 s (docs/admin-guide.md: the monitor timeout, 30 s).
const CALL: Duration = Duration::from_secs(5);
const REPLAY: Duration = Duration::from_secs(5);
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// The judged deaths kept in the cursor: those this close to its boundary can come again.
const KEEP_JUDGED_NS: i64 = 600 * 1_000_000_000;

/// Where the last call stopped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Deaths from this time (ns) on are the next call's.
    pub since_ns: i64,
    /// Deaths judged near the boundary: (container id, time ns).
    pub judged: Vec<(String, i64)>,
    /// Since when (ns) the engine has not answered, across calls.
    pub unreachable_since_ns: Option<i64>,
    /// The engine's version last seen below eva-ha's minimum: warned about once, not at
    /// every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_version: Option<String>,
    /// When the last alert for a stop made by hand was raised (RFC 3339): repeated each
    /// grace, not at every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_stop_alerted: Option<String>,
}

/// What a call needs besides the engine.
pub struct Once<'a> {
    pub runtime: &'a Runtime,
    pub ignore_exit_codes: &'a [i64],
    pub daemon_grace: Option<Duration>,
    /// `<state_dir>`: the cursor and its lock.
    pub state_dir: &'a Path,
    /// The planned-stop marker (`node::planned_stop_marker`).
    pub planned_stop: PathBuf,
    /// How long a stop made by hand may last before it is alerted.
    pub manual_stop_grace: Duration,
    /// Where the first call looks back to (ns).
    pub first_since_ns: i64,
}

impl Once<'_> {
    fn cursor_file(&self) -> PathBuf {
        self.state_dir.join("genw-once.json")
    }

    fn load(&self) -> Cursor {
        std::fs::read(self.cursor_file())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Cursor { since_ns: self.first_since_ns, ..Cursor::default() })
    }

    fn save(&self, cursor: &Cursor) -> anyhow::Result<()> {
        std::fs::create_dir_all(self.state_dir)?;
        let path = self.cursor_file();
        files::write_atomically(&path, &serde_json::to_vec(cursor)?)
            .map_err(|e| anyhow::anyhow!("cannot keep the cursor in {}: {}", path.display(), files::plain(&e)))
    }

    /// One call: `Ok(summary)` when nothing counts, an error naming what does.
    pub fn check(&self) -> anyhow::Result<String> {
        let _lock = lock::acquire(&self.state_dir.join("genw-once.lock"), LOCK_WAIT, "eva-genw --once")?;
        let mut cursor = self.load();
        let now = now_ns();
        if let Ok(stop) = std::fs::read_to_string(&self.planned_stop) {
            let stop = node::PlannedStop::parse(&stop);
            let last = cursor.manual_stop_alerted.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            let at = chrono::Local::now().fixed_offset();
            let mut alerted = cursor.manual_stop_alerted.clone();
            if let Some(alert) = node::manual_stop_alert(&stop, at, self.manual_stop_grace, last) {
                tracing::warn!("{alert}");
                crate::sys::clp::alert(&alert);
                alerted = Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
            }
            cursor = Cursor {
                since_ns: now,
                warned_version: cursor.warned_version,
                manual_stop_alerted: alerted,
                ..Cursor::default()
            };
            self.save(&cursor)?;
            return Ok(format!("the node is being stopped ({}): nothing counts", stop.text));
        }
        let version = Engine::ping(self.runtime, CALL);
        if let Ok(version) = &version
            && cursor.warned_version.as_ref() != Some(version)
            && support::warn_if_below_minimum(&Engine::name(self.runtime), version)
        {
            cursor.warned_version = Some(version.clone());
        }
        if let Err(why) = version {
            let since = *cursor.unreachable_since_ns.get_or_insert(now);
            self.save(&cursor)?;
            let down = Duration::from_nanos((now - since).max(0) as u64);
            let engine = self.runtime.kind;
            if let Service::DownForGood(unit) = Engine::service(self.runtime) {
                return Err(failed(format!("the {engine} engine is down and will not come back: {unit}")));
            }
            return match self.daemon_grace {
                Some(grace) if down >= grace => {
                    Err(Unanswered(format!("the {engine} engine has been unreachable for {}: {why}", Secs(down))).into())
                }
                _ => Ok(format!("the {engine} engine does not answer ({why}), for {}: within the grace", Secs(down))),
            };
        }
        let deaths = self.judge(&cursor, now)?;
        let judged = deaths.iter().map(|d| (d.id.clone(), d.time_ns));
        let horizon = now - KEEP_JUDGED_NS;
        let mut kept: Vec<(String, i64)> = cursor.judged.into_iter().chain(judged).filter(|(_, t)| *t > horizon).collect();
        kept.sort();
        kept.dedup();
        let seen = deaths.len();
        let counted: Vec<&Death> = deaths.iter().filter(|d| d.counts(self.ignore_exit_codes)).collect();
        for d in &deaths {
            let verdict = if d.counts(self.ignore_exit_codes) { "counts" } else { "ignored" };
            tracing::info!("{} (from {}): {verdict}", d.describe(), d.source);
        }
        let failure = (!counted.is_empty()).then(|| failed(counted.iter().map(|d| d.describe()).collect::<Vec<_>>().join("; ")));
        self.save(&Cursor {
            since_ns: now,
            judged: kept,
            unreachable_since_ns: None,
            warned_version: cursor.warned_version,
            manual_stop_alerted: None,
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(format!("{seen} container death(s) since the last check, none that counts")),
        }
    }

    /// The deaths since the cursor: the events the engine still has, and the containers
    /// whose own state says so.
    fn judge(&self, cursor: &Cursor, until_ns: i64) -> anyhow::Result<Vec<Death>> {
        let seen = |id: &str, t: i64, exact: bool| {
            cursor.judged.iter().any(|(i, j)| i == id && if exact { *j == t } else { (j - t).abs() < SAME_DEATH })
        };
        let mut deaths: Vec<Death> = Vec::new();
        let mut replay = self.runtime.replay(cursor.since_ns, until_ns)?;
        let deadline = Instant::now() + REPLAY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!("the replay of events did not end within {}; the containers' states decide", Secs(REPLAY));
                break;
            }
            match replay.next(left)? {
                Next::Line(Stream::Stdout, line) => match event::parse(&line) {
                    Ok(Event::Death(ev)) if !seen(&ev.id, ev.time_ns, true) && ev.time_ns >= cursor.since_ns => {
                        let state = match self.runtime.look_up(&ev) {
                            Ok(Lookup::InScope(state)) => Some(state),
                            Ok(Lookup::OutOfScope(why)) => {
                                tracing::debug!("container {} ({}) died: out of scope ({why})", ev.name, short(&ev.id));
                                continue;
                            }
                            Ok(Lookup::Gone(why)) => {
                                if let Some(why) = why {
                                    tracing::info!("container {} ({}) died: {why}", ev.name, short(&ev.id));
                                }
                                None
                            }
                            Err(_) => None,
                        };
                        deaths.push(judge(&ev, state.as_ref()));
                    }
                    Ok(_) => {}
                    Err(problem) => tracing::warn!("skipping an event line that cannot be read ({problem}): {line}"),
                },
                Next::Line(Stream::Stderr, line) => tracing::warn!("{} events: {line}", self.runtime.kind),
                Next::Idle => {}
                Next::Ended(_) => break,
            }
        }
        // The containers' own states: what the replay no longer had.
        let ids = self.runtime.all()?;
        for s in self.runtime.inspect(&ids)? {
            let Some(finished) = s.finished_ns.filter(|f| *f >= cursor.since_ns && *f < until_ns + SAME_DEATH) else { continue };
            let known = deaths.iter().any(|d| d.id == s.id && (d.time_ns - finished).abs() < SAME_DEATH);
            if known || seen(&s.id, finished, false) {
                continue;
            }
            tracing::debug!("{} finished at {finished} with no event left", short(&s.id));
            deaths.push(if s.running {
                Death { exit_code: None, source: "state: restarted since, its exit code unknown", ..from_state(&s, finished) }
            } else {
                Death { source: "state", ..from_state(&s, finished) }
            });
        }
        Ok(deaths)
    }
}

/// Where a node's first `--once` looks back to: the last successful eva-start recorded on
/// it, else when the engine started (dockerd's pid file), else now.
pub fn first_since(history_dir: &Path) -> i64 {
    let runs = crate::ha::history::load(history_dir).unwrap_or_default();
    let started = runs
        .iter()
        .rev()
        .find(|r| (r.command == "eva-start" || r.command == "eva-master start") && r.result == "ok")
        .and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.started).ok())
        .and_then(|t| t.timestamp_nanos_opt());
    started.or_else(engine_started_ns).unwrap_or_else(now_ns)
}

/// When dockerd started: its pid file, its /proc entry, the boot time.
fn engine_started_ns() -> Option<i64> {
    let pid = std::fs::read_to_string("/var/run/docker.pid").ok()?.trim().parse::<u32>().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks: i64 = stat.rsplit(')').next()?.split_whitespace().nth(19)?.parse().ok()?;
    let btime: i64 =
        std::fs::read_to_string("/proc/stat").ok()?.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
    Some(btime * 1_000_000_000 + ticks * 1_000_000_000 / hz)
}

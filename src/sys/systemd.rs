//! What eva-ha asks of systemd: start and stop a set of units in one call, then read back
//! each unit's state, and the journal of one that failed.
//!
//! `systemctl start a b c` queues all jobs at once, so units without ordering between them
//! start in parallel and the call takes as long as the slowest, where the guide's script
//! took the sum. systemctl's own exit status is not trusted to say which unit failed: after
//! every call we read `systemctl show` for each unit and decide from `LoadState`,
//! `ActiveState`, `SubState` and `Result`.
//!
//! We name only properties that every supported systemd has, for every unit we start (all
//! services): RHEL 7's systemd 219 fails a whole `systemctl show` (exit 1, nothing on
//! stderr, the later units left out) when one named property does not exist
//! (redhat-plumbers/systemd-rhel7, tag v219-57, `src/systemctl/systemctl.c`, `show_one()`
//! and `show()`; systemd 233 and later, RHEL 8's 239 and RHEL 9's 252 only log it at debug
//! level). So a unit's "since" comes from `ActiveEnterTimestamp` or
//! `InactiveEnterTimestamp`, which 219 has, and not from `StateChangeTimestamp` (v229).
//!
//! The deadline of a start or stop call follows the units' own (`TimeoutStartUSec`,
//! `TimeoutStopUSec`) unless the administrator set one: PostgreSQL replaying its WAL after
//! a power loss may take all of the 300 s its unit allows, and a shorter deadline of ours
//! would turn a slow recovery into a failed start and a rollback that kills the recovery.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::not_installed;
use crate::sys::process::{Cmd, ProcessError, find_program, not_found};

/// One unit as `systemctl show` describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitState {
    /// The name as configured (`docker`), which `id` may complete (`docker.service`).
    pub name: String,
    pub id: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub result: String,
    /// `TimeoutStartUSec`, `TimeoutStopUSec`: `None` when infinite or not said.
    pub start_timeout: Option<Duration>,
    pub stop_timeout: Option<Duration>,
    /// Whether a job (start, stop, restart) is queued or running for it (`Job`).
    pub job: bool,
    /// When it entered its present state, as systemd prints it: `ActiveEnterTimestamp`
    /// when active, else `InactiveEnterTimestamp` (empty when it never did).
    pub changed: String,
}

impl UnitState {
    pub fn is_loaded(&self) -> bool {
        self.load_state != "not-found"
    }

    pub fn is_active(&self) -> bool {
        self.active_state == "active"
    }

    /// Whether this is the unit `name` names: `docker` and `docker.service` are one.
    pub fn is_named(&self, name: &str) -> bool {
        !name.is_empty() && (unit_id(name) == self.id || unit_id(name) == unit_id(&self.name))
    }

    pub fn is_failed(&self) -> bool {
        self.active_state == "failed"
    }

    /// Nothing of it runs: inactive, or failed (which is also stopped).
    pub fn is_down(&self) -> bool {
        matches!(self.active_state.as_str(), "inactive" | "failed")
    }

    /// `active/running`, `failed, result exit-code`, `activating/start-pre`.
    pub fn describe(&self) -> String {
        if !self.is_loaded() {
            return "not installed (LoadState=not-found)".into();
        }
        let mut s = self.active_state.clone();
        if !self.sub_state.is_empty() && self.sub_state != self.active_state {
            s.push_str(&format!("/{}", self.sub_state));
        }
        if !self.result.is_empty() && self.result != "success" {
            s.push_str(&format!(", result {}", self.result));
        }
        // Down, yet coming back: said; an activating unit's job goes without saying.
        if self.job && self.is_down() {
            s.push_str(", a job queued");
        }
        s
    }
}

/// The unit types systemctl knows by their suffix; a name without one of them is a service
/// (systemctl appends `.service`: `postgresql-9.5` is `postgresql-9.5.service`).
const UNIT_TYPES: [&str; 12] =
    ["service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope", "snapshot"];

/// The type a unit name names: its suffix when systemctl knows it, else `service`.
pub fn unit_type(name: &str) -> &str {
    name.rsplit_once('.').map(|(_, suffix)| suffix).filter(|s| UNIT_TYPES.contains(s)).unwrap_or("service")
}

/// The id systemctl gives a unit name: `docker` is `docker.service`, and so is
/// `docker.service`; `postgresql-9.5` is `postgresql-9.5.service`.
pub fn unit_id(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, suffix)) if UNIT_TYPES.contains(&suffix) => name.to_owned(),
        _ => format!("{name}.service"),
    }
}

/// The systemctl and journalctl we run, and the deadline for start and stop calls: the
/// administrator's, else the units' own.
pub struct Systemd {
    systemctl: PathBuf,
    journalctl: Option<PathBuf>,
    timeout: Option<Duration>,
}

/// Our margin over the units' own timeouts: systemd gives up on the unit first, and we
/// read its verdict.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);
/// A unit whose timeout is infinite or unknown counts as this (Docker's own unit says
/// `TimeoutStartSec=0`, infinite).
pub const UNSAID_TIMEOUT: Duration = Duration::from_secs(240);

/// Start or stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Start,
    Stop,
}

/// The deadline of one call that starts or stops `states`: the longest of their own
/// timeouts (an infinite or unknown one as [`UNSAID_TIMEOUT`]), plus [`DEADLINE_MARGIN`].
pub fn units_deadline(states: &[UnitState], job: Job) -> Duration {
    let own = |s: &UnitState| match job {
        Job::Start => s.start_timeout,
        Job::Stop => s.stop_timeout,
    };
    states.iter().map(|s| own(s).unwrap_or(UNSAID_TIMEOUT)).max().unwrap_or(UNSAID_TIMEOUT) + DEADLINE_MARGIN
}

/// A time span as systemd prints it: `5min`, `1min 30s`, `300ms`, `1h 2min`; `None` for
/// `infinity`, `0` (which systemd takes as no timeout) or anything else.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() || text == "infinity" {
        return None;
    }
    let mut total = Duration::ZERO;
    for part in text.split_whitespace() {
        let split = part.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(part.len());
        let (number, unit) = part.split_at(split);
        let number: f64 = number.parse().ok()?;
        let secs = match unit {
            "us" | "usec" => 1e-6,
            "ms" | "msec" => 1e-3,
            "" | "s" | "sec" => 1.0,
            "min" | "m" => 60.0,
            "h" | "hr" => 3600.0,
            "d" => 86400.0,
            "w" => 7.0 * 86400.0,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(number * secs).ok()?;
    }
    (!total.is_zero()).then_some(total)
}

/// The properties `show` asks for: each exists on a service in every supported systemd,
/// from 219 on (v219-57: `src/core/dbus-unit.c` has the first six, `src/core/dbus-service.c`
/// the rest). A property that one version lacks would fail the whole call on 219. `Job` is
/// the unit's pending job's number, empty when none (219's and 239's `print_property()`
/// print the `(uo)` pair's number, or nothing with `--property`).
pub const SHOW_PROPERTIES: [&str; 10] = [
    "Id",
    "LoadState",
    "ActiveState",
    "SubState",
    "Job",
    "ActiveEnterTimestamp",
    "InactiveEnterTimestamp",
    "Result",
    "TimeoutStartUSec",
    "TimeoutStopUSec",
];

/// Deadline for the quick calls (show, reset-failed, journalctl).
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

impl Systemd {
    /// Finds systemctl (required) and journalctl (optional) on PATH or in the standard
    /// directories.
    pub fn locate(timeout: Option<Duration>) -> anyhow::Result<Systemd> {
        let systemctl = find_program("systemctl").ok_or_else(|| not_installed(not_found("systemctl")))?;
        Ok(Systemd { systemctl, journalctl: find_program("journalctl"), timeout })
    }

    fn systemctl(&self, verb: &str, units: &[String]) -> Cmd {
        Cmd::new(&self.systemctl).arg(verb).arg("--").args(units)
    }

    /// systemd's version (`systemctl --version`).
    pub fn version(&self) -> crate::sys::platform::Found {
        crate::sys::platform::systemd(&self.systemctl)
    }

    /// The deadline the administrator set (`unit_timeout`), if any.
    pub fn explicit_deadline(&self) -> Option<Duration> {
        self.timeout
    }

    /// The deadline of a `job` call on the units in `states`: the administrator's, else
    /// the units' own ([`units_deadline`]).
    pub fn deadline(&self, states: &[UnitState], job: Job) -> Duration {
        self.timeout.unwrap_or_else(|| units_deadline(states, job))
    }

    /// `systemctl start -- units…`, one call, under `deadline`.
    pub fn start(&self, units: &[String], deadline: Duration) -> Result<(), ProcessError> {
        self.systemctl("start", units).timeout(deadline).checked_output().map(drop)
    }

    /// `systemctl stop -- units…`, one call, under `deadline`.
    pub fn stop(&self, units: &[String], deadline: Duration) -> Result<(), ProcessError> {
        self.systemctl("stop", units).timeout(deadline).checked_output().map(drop)
    }

    /// `systemctl reset-failed -- units…`.
    pub fn reset_failed(&self, units: &[String]) -> Result<(), ProcessError> {
        self.systemctl("reset-failed", units).timeout(QUERY_TIMEOUT).checked_output().map(drop)
    }

    /// The state of each unit, in the order given.
    pub fn show(&self, units: &[String]) -> anyhow::Result<Vec<UnitState>> {
        let cmd = Cmd::new(&self.systemctl)
            .arg("show")
            .arg(format!("--property={}", SHOW_PROPERTIES.join(",")))
            .arg("--")
            .args(units)
            .timeout(QUERY_TIMEOUT);
        let out = cmd.checked_output()?;
        parse_show(units, &out.stdout)
            .map_err(|problem| anyhow::anyhow!("cannot read the output of `{}`: {problem}", cmd.display()))
    }

    /// `systemctl is-enabled` for each unit: its word (`enabled`, `disabled`, `static`, …),
    /// `not-found` when it prints nothing, `unknown` when it cannot be run.
    pub fn is_enabled(&self, units: &[String]) -> Vec<String> {
        units
            .iter()
            .map(|u| match Cmd::new(&self.systemctl).arg("is-enabled").arg("--").arg(u).timeout(QUERY_TIMEOUT).output() {
                Ok(out) => match out.stdout.trim() {
                    "" => "not-found".to_owned(),
                    word => word.to_owned(),
                },
                Err(_) => "unknown".to_owned(),
            })
            .collect()
    }

    /// The unit's last `lines` journal lines (empty when journalctl is missing or fails).
    pub fn journal_tail(&self, unit: &str, lines: usize) -> Vec<String> {
        let Some(journalctl) = &self.journalctl else {
            return Vec::new();
        };
        let cmd = Cmd::new(journalctl)
            .args(["--no-pager", "--quiet", "--output=short-iso", "-n"])
            .arg(lines.to_string())
            .arg("--unit")
            .arg(unit)
            .timeout(QUERY_TIMEOUT);
        match cmd.checked_output() {
            Ok(out) => out.stdout.lines().map(str::to_owned).collect(),
            Err(e) => {
                tracing::debug!("no journal for {unit}: {e}");
                Vec::new()
            }
        }
    }
}

/// Parses `systemctl show` output for `units`: one block of `Key=Value` lines per unit,
/// blocks separated by an empty line, in the order asked.
pub fn parse_show(units: &[String], text: &str) -> Result<Vec<UnitState>, String> {
    let blocks: Vec<&str> = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()).collect();
    if blocks.len() != units.len() {
        return Err(format!("{} blocks for {} units", blocks.len(), units.len()));
    }
    units
        .iter()
        .zip(blocks)
        .map(|(name, block)| {
            let mut state = UnitState { name: name.clone(), ..UnitState::default() };
            let (mut active_since, mut inactive_since) = (String::new(), String::new());
            for line in block.lines() {
                let Some((key, value)) = line.split_once('=') else { continue };
                let value = value.to_owned();
                match key {
                    "Id" => state.id = value,
                    "LoadState" => state.load_state = value,
                    "ActiveState" => state.active_state = value,
                    "SubState" => state.sub_state = value,
                    "Job" => state.job = !value.is_empty() && value != "0",
                    "Result" => state.result = value,
                    "TimeoutStartUSec" => state.start_timeout = parse_timespan(&value),
                    "TimeoutStopUSec" => state.stop_timeout = parse_timespan(&value),
                    "ActiveEnterTimestamp" => active_since = value,
                    "InactiveEnterTimestamp" => inactive_since = value,
                    _ => {}
                }
            }
            if state.active_state.is_empty() || state.load_state.is_empty() {
                return Err(format!("no ActiveState or LoadState for {name}"));
            }
            state.changed = if state.is_active() { active_since } else { inactive_since };
            Ok(state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_blocks_in_order() {
        let text = "Id=docker.service\nLoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n\n\
                    Id=mongod.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\n\n\
                    Id=nosuch.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\n";
        let s = parse_show(&units(&["docker", "mongod.service", "nosuch.service"]), text).unwrap();
        assert_eq!(s[0].name, "docker");
        assert_eq!(s[0].id, "docker.service");
        assert!(s[0].is_active());
        assert!(s[1].is_failed() && s[1].is_down());
        assert_eq!(s[1].describe(), "failed, result exit-code");
        assert_eq!(s[0].describe(), "active/running");
        assert!(!s[2].is_loaded());
        assert_eq!(s[2].describe(), "not installed (LoadState=not-found)");
    }

    #[test]
    fn since_is_when_the_unit_entered_its_state() {
        // As systemd 219 prints a show of SHOW_PROPERTIES (v219-57: an unset timestamp
        // printed empty, since --property sets arg_all; an infinite timeout as 0).
        let text = "Id=docker.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\
                    ActiveEnterTimestamp=Sat 2026-12-05 07:16:09 UTC\nInactiveEnterTimestamp=\n\
                    TimeoutStartUSec=0\nTimeoutStopUSec=1min 30s\nResult=success\n\n\
                    Id=mongod.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\
                    ActiveEnterTimestamp=Sat 2026-12-05 07:16:09 UTC\n\
                    InactiveEnterTimestamp=Sat 2026-12-05 07:18:01 UTC\nTimeoutStartUSec=1min 30s\nTimeoutStopUSec=1min 30s\nResult=exit-code\n\n\
                    Id=postgresql-9.5.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n\
                    ActiveEnterTimestamp=\nInactiveEnterTimestamp=\nTimeoutStartUSec=5min\nTimeoutStopUSec=5min\nResult=success\n";
        let s = parse_show(&units(&["docker", "mongod.service", "postgresql-9.5.service"]), text).unwrap();
        assert_eq!(s[0].changed, "Sat 2026-12-05 07:16:09 UTC");
        assert_eq!((s[0].start_timeout, s[0].stop_timeout), (None, Some(Duration::from_secs(90))));
        assert_eq!(s[1].changed, "Sat 2026-12-05 07:18:01 UTC");
        assert_eq!(s[2].changed, "", "never started since boot");
        assert!(s.iter().all(|u| !u.job));
        let queued = parse_show(
            &units(&["docker"]),
            "Id=docker.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nJob=3412\n",
        )
        .unwrap();
        assert!(queued[0].job);
        assert_eq!(queued[0].describe(), "inactive/dead, a job queued");
    }

    #[test]
    fn a_unit_is_named_with_or_without_its_suffix() {
        let docker = UnitState { name: "docker".into(), id: "docker.service".into(), ..UnitState::default() };
        let unresolved = UnitState { name: "docker".into(), ..UnitState::default() };
        for unit in [&docker, &unresolved] {
            assert!(unit.is_named("docker.service") && unit.is_named("docker"), "{unit:?}");
            assert!(!unit.is_named("docker.socket") && !unit.is_named("containerd.service") && !unit.is_named(""), "{unit:?}");
        }
        assert_eq!(unit_id("postgresql-9.5"), "postgresql-9.5.service");
        assert_eq!((unit_type("postgresql-9.5"), unit_type("docker.socket")), ("service", "socket"));
    }

    #[test]
    fn timespans_as_systemd_prints_them() {
        assert_eq!(parse_timespan("5min"), Some(Duration::from_secs(300)));
        assert_eq!(parse_timespan("1min 30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_timespan("1h 2min 3.5s"), Some(Duration::from_millis(3_723_500)));
        assert_eq!(parse_timespan("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_timespan("infinity"), None);
        assert_eq!(parse_timespan("0"), None);
        assert_eq!(parse_timespan("soon"), None);
    }

    #[test]
    fn the_deadline_follows_the_slowest_unit() {
        let text = "Id=docker.service\nLoadState=loaded\nActiveState=inactive\nTimeoutStartUSec=infinity\nTimeoutStopUSec=1min 30s\n\n\
                    Id=postgresql-9.5.service\nLoadState=loaded\nActiveState=inactive\nTimeoutStartUSec=5min\nTimeoutStopUSec=5min\n";
        let s = parse_show(&units(&["docker", "postgresql-9.5.service"]), text).unwrap();
        assert_eq!(units_deadline(&s, Job::Start), Duration::from_secs(310));
        assert_eq!(units_deadline(&s, Job::Stop), Duration::from_secs(310));
        assert_eq!(units_deadline(&s[..1], Job::Start), UNSAID_TIMEOUT + DEADLINE_MARGIN);
        assert_eq!(units_deadline(&s[..1], Job::Stop), Duration::from_secs(100));
    }

    #[test]
    fn refuses_mismatched_output() {
        assert!(parse_show(&units(&["a", "b"]), "Id=a\nLoadState=loaded\nActiveState=active\n").is_err());
        assert!(parse_show(&units(&["a"]), "Id=a\n").is_err());
    }
}

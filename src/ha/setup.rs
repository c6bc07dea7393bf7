//! Is this node set up as the guide prescribes? The checks behind eva-check.
//!
//! Most HA incidents come from a node that drifted from the setup the guide has
//! administrators make by hand: a directory that is no longer a link into the shared disk,
//! a link owned by root, a unit re-enabled at boot by a package update, a `mongod` uid that
//! differs between the nodes (the databases cannot be written after a failover), a
//! component older than eva-ha supports (judged against `ha::support`). Each check
//! here gives OK, WARN or FAIL, the path or unit, and the fix. Nothing is changed, except
//! that whenever the shared disk is mounted this node records its facts there
//! (`<shared>/pulse/.eva-ha/nodes/<host>.json`), so that each node compares itself with
//! the others' records.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::ha::support::{self, Component as Part, Judgement, Verdict};
use crate::ha::token::Token;
use crate::sys::logging::Secs;
use crate::sys::platform::{self, Found, OsRelease};
use crate::sys::process::{find_program, not_found};
use crate::sys::runtime::Kind;
use crate::sys::systemd::{Job, Systemd, UnitState, units_deadline};

/// The users the databases run as, per the guide.
pub const MONGO_USER: &str = "mongod";
pub const POSTGRES_USER: &str = "postgres";
/// Where node records live, under `<shared>/pulse`.
const RECORDS: &str = ".eva-ha/nodes";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub status: Status,
    /// What was checked: `link`, `unit`, `users`, …
    pub check: &'static str,
    /// The path, unit or user concerned.
    pub subject: String,
    pub message: String,
    /// How to put it right (not for OK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    fn add(
        &mut self,
        status: Status,
        check: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check { status, check, subject: subject.into(), message: message.into(), fix });
    }
    fn ok(&mut self, check: &'static str, subject: impl Into<String>, message: impl Into<String>) {
        self.add(Status::Ok, check, subject, message, None);
    }
    fn warn(&mut self, check: &'static str, subject: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) {
        self.add(Status::Warn, check, subject, message, Some(fix.into()));
    }
    fn fail(&mut self, check: &'static str, subject: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) {
        self.add(Status::Fail, check, subject, message, Some(fix.into()));
    }
    /// A version judged against the support table.
    fn judged(&mut self, check: &'static str, subject: impl Into<String>, j: Judgement) {
        let status = match j.verdict {
            Verdict::Ok => Status::Ok,
            Verdict::Warn => Status::Warn,
            Verdict::Fail => Status::Fail,
        };
        self.add(status, check, subject, j.message, j.fix);
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// A user's and its group's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

/// What a node records on the shared disk about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub host: String,
    pub users: BTreeMap<String, Ids>,
    /// sha256 of `<install_dir>/configuration.json`, when there is one.
    pub config_sha256: Option<String>,
    pub eva_ha_version: String,
    /// RFC 3339.
    pub recorded_at: String,
    /// RFC 3339: when `eva-ha restart --master-config` installed the configuration.json whose
    /// hash this is (the other node's copy is then expected to differ until it is copied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_installed_at: Option<String>,
}

/// Runs every check.
pub fn check(cfg: &Config) -> Report {
    let mut r = Report::default();
    os(&mut r);
    let host = this_host();
    let mount = shared_disk(cfg, &mut r);
    let users = users(&mut r);
    links(cfg, mount.as_deref(), &users, &mut r);
    let config_sha256 = scripts(cfg, &mut r);
    worker_token(cfg, mount.is_some(), &mut r);
    units(cfg, &mut r);
    runtime(cfg, &mut r);
    pacemaker(&mut r);
    suspended(cfg, &mut r);
    if let Some(mount) = &mount {
        let dir = records_dir(mount);
        // When eva-ha restart installed this very file, say so again.
        let installed_at = read_record(&dir.join(format!("{host}.json")))
            .ok()
            .filter(|old| old.config_sha256.is_some() && old.config_sha256 == config_sha256)
            .and_then(|old| old.config_installed_at);
        let record = NodeRecord {
            host,
            users: users.iter().filter_map(|(name, ids)| ids.map(|i| (name.to_string(), i))).collect(),
            config_sha256,
            eva_ha_version: env!("CARGO_PKG_VERSION").to_owned(),
            recorded_at: now_text(),
            config_installed_at: installed_at,
        };
        peers(&dir, &record, &mut r);
    }
    r
}

/// The monitoring that `eva-ha restart` suspended and has not resumed (killed, or the node
/// lost its power, mid-restart): nothing else would ever say so.
fn suspended(cfg: &Config, r: &mut Report) {
    let record = crate::ha::restart::suspended_record(cfg);
    if let Some(text) = std::fs::read_to_string(&record).ok().map(|t| t.trim().to_owned()) {
        r.warn(
            "monitoring",
            record.display().to_string(),
            format!("{text}, and not resumed since"),
            "unless an eva-ha restart is running now (eva-ha status: lock), resume it: clpmonctrl -r -h SERVER -m MONITOR for each server and monitor, or crm_resource --resource ID --meta --set-parameter is-managed --parameter-value true; then delete this file",
        );
    }
}

fn now_text() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// This node's name, as its record on the shared disk is named.
pub fn this_host() -> String {
    nix::unistd::gethostname().map(OsString::into_string).ok().and_then(Result::ok).unwrap_or_else(|| "unknown".into())
}

/// Where the node records are on the shared disk mounted at `mount`.
pub fn records_dir(mount: &Path) -> PathBuf {
    mount.join("pulse").join(RECORDS)
}

/// sha256 of a configuration.json, as the node records hold it.
pub fn config_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn read_record(path: &Path) -> Result<NodeRecord, String> {
    std::fs::read(path).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
}

/// The other nodes' records in `dir` (unreadable ones skipped).
pub fn other_records(dir: &Path, me: &str) -> Vec<NodeRecord> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut records: Vec<NodeRecord> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| read_record(&p).ok())
        .filter(|r| r.host != me)
        .collect();
    records.sort_by(|a, b| a.host.cmp(&b.host));
    records
}

/// Records on the shared disk that `eva-ha restart` installed a configuration.json with
/// hash `hash` on this node now; returns the other nodes' records, to compare.
pub fn record_installed_config(mount: &Path, hash: &str) -> std::io::Result<Vec<NodeRecord>> {
    let dir = records_dir(mount);
    let host = this_host();
    let now = now_text();
    let record = match read_record(&dir.join(format!("{host}.json"))) {
        Ok(old) => {
            NodeRecord { config_sha256: Some(hash.to_owned()), recorded_at: now.clone(), config_installed_at: Some(now), ..old }
        }
        Err(_) => NodeRecord {
            host: host.clone(),
            users: users(&mut Report::default())
                .into_iter()
                .filter_map(|(name, ids)| ids.map(|i| (name.to_string(), i)))
                .collect(),
            config_sha256: Some(hash.to_owned()),
            eva_ha_version: env!("CARGO_PKG_VERSION").to_owned(),
            recorded_at: now.clone(),
            config_installed_at: Some(now),
        },
    };
    write_record(&dir, &record)?;
    Ok(other_records(&dir, &host))
}

/// The command that copies this node's configuration.json to `host`'s.
pub fn copy_command(install_dir: &Path, host: &str) -> String {
    let file = install_dir.join("configuration.json");
    format!("scp -p {} {host}:{}", file.display(), file.display())
}

/// When this node takes over: whether its `<install_dir>/configuration.json` differs from the
/// one the last active node used (the other node's most recent record on the shared disk).
/// `None` when they agree, or when there is nothing to compare (no shared_mount, the disk
/// not mounted, no record, no file).
pub fn differs_from_last_active(cfg: &Config) -> Option<String> {
    let mount = cfg.shared_mount.value.as_deref()?;
    if !is_mount_point(mount).unwrap_or(false) {
        return None;
    }
    let file = cfg.install_dir().ok()?.join("configuration.json");
    let mine = config_hash(&std::fs::read(&file).ok()?);
    let last = other_records(&records_dir(mount), &this_host())
        .into_iter()
        .filter(|r| r.config_sha256.is_some())
        .max_by_key(|r| chrono::DateTime::parse_from_rfc3339(&r.recorded_at).ok())?;
    let theirs = last.config_sha256.as_deref()?;
    (theirs != mine).then(|| {
        format!(
            "{} differs from the configuration.json that {} used (as recorded at {}): the master runs with this node's copy; copy the right one to both nodes (the guide's update procedure)",
            file.display(),
            last.host,
            last.recorded_at
        )
    })
}

/// The shared disk: configured, and mounted here (active) or not (standby). Its path when
/// mounted.
fn shared_disk(cfg: &Config, r: &mut Report) -> Option<PathBuf> {
    let Some(mount) = &cfg.shared_mount.value else {
        r.fail(
            "shared disk",
            "shared_mount",
            "not configured: the links cannot be checked",
            "set shared_mount (the shared disk's mount point) in /etc/eva-ha/eva-ha.toml, or --shared-mount DIR",
        );
        return None;
    };
    let shown = mount.display().to_string();
    match is_mount_point(mount) {
        Ok(true) => {
            r.ok("shared disk", &shown, "mounted here: this is the active node");
            Some(mount.clone())
        }
        Ok(false) => {
            r.warn(
                "shared disk",
                &shown,
                "not mounted here (a standby node?): the link targets, the worker token and the other nodes' records are not checked",
                "run eva-check again on the active node",
            );
            None
        }
        Err(e) => {
            r.fail("shared disk", &shown, format!("cannot read /proc/self/mountinfo: {e}"), "check /proc is mounted");
            None
        }
    }
}

/// Whether `path` is a mount point, from /proc/self/mountinfo (field 5, octal escapes).
pub fn is_mount_point(path: &Path) -> std::io::Result<bool> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    let want = normalize(path);
    Ok(info.lines().filter_map(|l| l.split(' ').nth(4)).any(|m| Path::new(&unescape_mountinfo(m)) == want))
}

fn unescape_mountinfo(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let code: String = chars.by_ref().take(3).collect();
            match u8::from_str_radix(&code, 8) {
                Ok(b) => out.push(b as char),
                Err(_) => {
                    out.push('\\');
                    out.push_str(&code);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `path` without `.`/`..`/double slashes, lexically (a link target may not exist).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The database users and their groups; None for one that is missing.
fn users(r: &mut Report) -> Vec<(&'static str, Option<Ids>)> {
    [MONGO_USER, POSTGRES_USER]
        .into_iter()
        .map(|name| {
            let user = nix::unistd::User::from_name(name).ok().flatten();
            let group = nix::unistd::Group::from_name(name).ok().flatten();
            match (user, group) {
                (Some(u), Some(g)) => {
                    r.ok("users", name, format!("user {name} uid {}, group {name} gid {}", u.uid, g.gid));
                    (name, Some(Ids { uid: u.uid.as_raw(), gid: g.gid.as_raw() }))
                }
                (u, g) => {
                    let missing = match (u.is_none(), g.is_none()) {
                        (true, true) => "the user and the group are missing",
                        (true, false) => "the user is missing",
                        _ => "the group is missing",
                    };
                    r.fail(
                        "users",
                        name,
                        missing,
                        format!("create {name} with the same uid and gid as on the other node (useradd -u UID, groupadd -g GID)"),
                    );
                    (name, None)
                }
            }
        })
        .collect()
}

/// The three links into the shared disk, their targets and the database links' owners.
fn links(cfg: &Config, mounted: Option<&Path>, users: &[(&'static str, Option<Ids>)], r: &mut Report) {
    let Some(shared) = &cfg.shared_mount.value else { return };
    let owner_of = |name: &str| users.iter().find(|(n, _)| *n == name).and_then(|(_, ids)| *ids);
    let links = [
        (&cfg.pulse_dir, shared.join("pulse"), None),
        (&cfg.mongo_dir, shared.join("pulse/mongo"), Some(MONGO_USER)),
        (&cfg.pgdata_dir, shared.join("pulse/pg_data"), Some(POSTGRES_USER)),
    ];
    for (link, target, owner) in links {
        let shown = link.display().to_string();
        let relink = format!("ln -sfn {} {}", target.display(), link.display());
        let meta = match link.symlink_metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                r.fail("link", &shown, format!("missing: it must be a link to {}", target.display()), relink);
                continue;
            }
            Err(e) => {
                r.fail("link", &shown, format!("cannot be read: {e}"), "check the path");
                continue;
            }
        };
        if !meta.file_type().is_symlink() {
            let kind = if meta.is_dir() { "a plain directory" } else { "a plain file" };
            r.fail(
                "link",
                &shown,
                format!("{kind}, not a link into the shared disk: its data would stay on this node"),
                format!("with EVA stopped, move it to {} (on the active node), then {relink}", target.display()),
            );
            continue;
        }
        let points_to = match std::fs::read_link(link) {
            Ok(t) if t.is_absolute() => normalize(&t),
            Ok(t) => normalize(&link.parent().unwrap_or(Path::new("/")).join(t)),
            Err(e) => {
                r.fail("link", &shown, format!("cannot be read: {e}"), relink);
                continue;
            }
        };
        if points_to != normalize(&target) {
            let off = if points_to.starts_with(normalize(shared)) {
                "to the wrong place on the shared disk"
            } else {
                "off the shared disk"
            };
            r.fail("link", &shown, format!("points {off}: {}, expected {}", points_to.display(), target.display()), relink);
            continue;
        }
        let mut message = format!("-> {}", target.display());
        if mounted.is_some() {
            if target.is_dir() {
                message.push_str(" (present on the shared disk)");
            } else {
                r.fail(
                    "link",
                    &shown,
                    format!("points to {}, which is missing on the mounted shared disk", target.display()),
                    format!("restore {} on the shared disk", target.display()),
                );
                continue;
            }
        }
        if let Some(user) = owner {
            let Some(ids) = owner_of(user) else {
                r.fail(
                    "link",
                    &shown,
                    format!("{message}; its owner cannot be checked: user {user} is missing"),
                    format!("create user {user}, then chown -h {user}:{user} {shown}"),
                );
                continue;
            };
            if (meta.uid(), meta.gid()) != (ids.uid, ids.gid) {
                r.fail(
                    "link",
                    &shown,
                    format!(
                        "{message}, but the link is owned by {}:{}, not {user}:{user} ({}:{})",
                        meta.uid(),
                        meta.gid(),
                        ids.uid,
                        ids.gid
                    ),
                    format!("chown -h {user}:{user} {shown}"),
                );
                continue;
            }
            message.push_str(&format!(", owned by {user}:{user}"));
        }
        r.ok("link", &shown, message);
    }
}

/// The master scripts (root runs them: owned by root, not writable by others); the hash of
/// `<install_dir>/configuration.json` when present.
fn scripts(cfg: &Config, r: &mut Report) -> Option<String> {
    let dir = match cfg.install_dir() {
        Ok(dir) => dir,
        Err(e) => {
            r.fail("scripts", "install_dir", e.to_string(), "set install_dir in /etc/eva-ha/eva-ha.toml");
            return None;
        }
    };
    for script in [&cfg.start_script, &cfg.stop_script] {
        let path = dir.join(script);
        let shown = path.display().to_string();
        let meta = match path.metadata() {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                r.fail("scripts", &shown, "not a regular file", "install EVA's master scripts");
                continue;
            }
            Err(e) => {
                r.fail(
                    "scripts",
                    &shown,
                    format!("{e}"),
                    "install EVA's master scripts or correct install_dir / start_script / stop_script",
                );
                continue;
            }
        };
        let mode = meta.permissions().mode();
        let mut problems = Vec::new();
        let mut fixes = Vec::new();
        if mode & 0o111 == 0 {
            problems.push("not executable".to_owned());
            fixes.push(format!("chmod 755 {shown}"));
        }
        if meta.uid() != 0 {
            problems.push(format!("owned by uid {}, not root (root runs it)", meta.uid()));
            fixes.push(format!("chown root: {shown}"));
        }
        if mode & 0o022 != 0 {
            problems.push(format!(
                "writable by {} (mode {:o}): whoever can write it runs code as root",
                if mode & 0o002 != 0 { "everyone" } else { "its group" },
                mode & 0o7777
            ));
            fixes.push(format!("chmod go-w {shown}"));
        }
        if problems.is_empty() {
            r.ok("scripts", &shown, format!("executable, owned by root, mode {:o}", mode & 0o7777));
        } else {
            r.fail("scripts", &shown, problems.join("; "), fixes.join(" && "));
        }
    }
    let config = dir.join("configuration.json");
    match std::fs::read(&config) {
        Ok(bytes) => {
            let hash = config_hash(&bytes);
            r.ok("master config", config.display().to_string(), format!("sha256 {}", &hash[..16]));
            Some(hash)
        }
        Err(e) => {
            r.warn(
                "master config",
                config.display().to_string(),
                format!("{e}: cannot compare it with the other node's"),
                "the guide keeps EVA's configuration.json in the install directory, identical on both nodes",
            );
            None
        }
    }
}

fn worker_token(cfg: &Config, mounted: bool, r: &mut Report) {
    let shown = cfg.worker_config.display().to_string();
    match Token::read(&cfg.worker_config) {
        Ok(_) => r.ok("worker token", &shown, "has a workerToken"),
        Err(_) if !mounted && !cfg.worker_config.exists() => r.warn(
            "worker token",
            &shown,
            "not readable: the shared disk is not mounted here",
            "run eva-check on the active node",
        ),
        Err(e) => r.fail(
            "worker token",
            &shown,
            format!("{e:#}"),
            "restore EVA's worker configuration (it must hold a string workerToken)",
        ),
    }
}

/// systemctl, the units installed and disabled at boot, docker.socket.
fn units(cfg: &Config, r: &mut Report) {
    let systemd = match Systemd::locate(*cfg.unit_timeout) {
        Ok(s) => s,
        Err(e) => {
            r.fail("systemd", "systemctl", format!("{e:#}"), "eva-ha needs systemd's systemctl");
            return;
        }
    };
    version(r, "systemd", "systemctl", support::row(Part::Systemd), systemd.version());
    let states = match systemd.show(&cfg.units) {
        Ok(s) => s,
        Err(e) => {
            r.fail("unit", cfg.units.join(", "), format!("{e:#}"), "check systemd");
            return;
        }
    };
    deadlines(cfg, &states, r);
    // Its presence is the `unit` lines' below; a configuration without it is worth a word.
    if !cfg.units.iter().any(|u| u.starts_with("postgresql")) {
        r.warn(
            "unit",
            "units",
            format!("no PostgreSQL unit among {}: the guide's master needs postgresql-9.5.service", cfg.units.join(", ")),
            "add PostgreSQL's unit to units in /etc/eva-ha/eva-ha.toml, unless this master runs its database elsewhere",
        );
    }
    let mut names: Vec<String> = Vec::new();
    for state in &states {
        if !state.is_loaded() {
            r.fail("unit", &state.name, "not installed", format!("install the package that provides {}", state.name));
        } else {
            names.push(state.name.clone());
        }
    }
    let docker = states.iter().any(|s| s.is_loaded() && s.is_named("docker.service"));
    if docker {
        names.push("docker.socket".into());
    }
    for (name, state) in names.iter().zip(systemd.is_enabled(&names)) {
        let socket = name == "docker.socket";
        match state.as_str() {
            "disabled" | "masked" | "masked-runtime" => r.ok("unit", name, format!("{state} at boot")),
            "" | "not-found" if socket => {}
            "enabled" | "enabled-runtime" if socket => r.warn(
                "unit",
                name,
                "enabled: socket activation starts docker behind the cluster's back (any docker command, on either node)",
                "systemctl disable --now docker.socket",
            ),
            "enabled" | "enabled-runtime" | "alias" => r.fail(
                "unit",
                name,
                format!("{state} at boot: only the cluster may start it, or both nodes run it after a reboot"),
                format!("systemctl disable {name}"),
            ),
            other => r.warn(
                "unit",
                name,
                format!("is-enabled says {other}: it may still be started at boot"),
                format!("systemctl disable {name}, and check what pulls it in"),
            ),
        }
    }
}

/// CLUSTERPRO's default timeout of an Exec resource's start and stop scripts.
const EXEC_RESOURCE_TIMEOUT: Duration = Duration::from_secs(1800);

/// The deadlines agree: a unit_timeout shorter than a unit's own start timeout cuts a
/// slow start short (PostgreSQL's crash recovery may take the 300 s its unit allows), and
/// eva-start's worst case must stay inside the Exec resource's timeout.
fn deadlines(cfg: &Config, states: &[UnitState], r: &mut Report) {
    let start = units_deadline(states, Job::Start);
    match *cfg.unit_timeout {
        Some(ours) => {
            let shorter: Vec<String> = states
                .iter()
                .filter_map(|s| s.start_timeout.filter(|own| *own > ours).map(|own| format!("{} {}", s.name, Secs(own))))
                .collect();
            if shorter.is_empty() {
                r.ok(
                    "deadline",
                    "unit_timeout",
                    format!("{} ({}), not shorter than a unit's own start timeout", Secs(ours), cfg.unit_timeout.origin),
                );
            } else {
                r.warn(
                    "deadline",
                    "unit_timeout",
                    format!(
                        "{} ({}) is shorter than the units' own start timeout ({}): a slow start, such as PostgreSQL's crash recovery, would fail and be rolled back",
                        Secs(ours),
                        cfg.unit_timeout.origin,
                        shorter.join(", ")
                    ),
                    "remove unit_timeout (the units' own timeouts then apply) or raise it",
                );
            }
        }
        None => r.ok("deadline", "unit_timeout", format!("the units' own: {} for a start", Secs(start))),
    }
    let worst = cfg.unit_timeout.unwrap_or(start) + *cfg.script_timeout;
    if worst >= EXEC_RESOURCE_TIMEOUT {
        r.warn(
            "deadline",
            "script_timeout",
            format!(
                "unit deadline + script_timeout = {} reaches CLUSTERPRO's default Exec resource timeout ({}): the cluster, not eva-start, would report a hang",
                Secs(worst),
                Secs(EXEC_RESOURCE_TIMEOUT)
            ),
            "lower script_timeout, or raise the Exec resource's timeout above it",
        );
    }
}

/// The runtime's client, and its versions (client and engine) against the support table.
fn runtime(cfg: &Config, r: &mut Report) {
    let kind = *cfg.runtime;
    let program = kind.program();
    let Some(path) = find_program(program) else {
        r.fail("runtime", program, not_found(program), format!("install {program}"));
        return;
    };
    let found = platform::runtime(kind, &path);
    match kind {
        Kind::Docker => {
            version(r, "runtime", format!("{program} client"), support::row(Part::DockerClient), found.client);
            match found.engine {
                // Stopped until the cluster starts it (the standby node, or before eva-start).
                Found::Silent(why) => r.ok(
                    "runtime",
                    "docker engine",
                    format!("does not answer ({why}): its version is read when it runs (eva-genw warns then when it is too old)"),
                ),
                other => version(r, "runtime", "docker engine", support::row(Part::DockerEngine), other),
            }
        }
        Kind::Podman => {
            version(r, "runtime", program, support::row(Part::Podman), found.client.clone());
        }
    }
}

/// The OS release against the support table.
fn os(r: &mut Report) {
    match OsRelease::read() {
        Ok(os) => r.judged("os", os.name(), support::judge_os(&os)),
        Err(e) => r.warn("os", platform::OS_RELEASE, e, "check the OS's release file (os-release(5))"),
    }
}

/// Pacemaker's version when it is installed (under CLUSTERPRO it is not, and need not be).
fn pacemaker(r: &mut Report) {
    match platform::pacemaker() {
        Found::Absent => {}
        found => version(r, "pacemaker", "pacemakerd", support::row(Part::Pacemaker), found),
    }
}

/// A component's version judged against its row; one that could not be read is a WARN.
fn version(r: &mut Report, check: &'static str, subject: impl Into<String>, row: &support::Support, found: Found) {
    match found {
        Found::Version(v, shown) => r.judged(check, subject, row.judge(v, &shown)),
        Found::Absent => r.warn(check, subject, format!("{} is not installed", row.name), row.upgrade),
        Found::Unreadable(why) | Found::Silent(why) => r.warn(
            check,
            subject,
            format!("cannot read {}'s version: {why}", row.name),
            format!("check it by hand with {}; eva-ha needs {} or later", row.read_with, row.minimum),
        ),
    }
}

/// Records this node on the shared disk, and compares it with the other nodes' records.
fn peers(dir: &Path, me: &NodeRecord, r: &mut Report) {
    let subject = dir.display().to_string();
    if let Err(e) = write_record(dir, me) {
        r.warn("nodes", &subject, format!("cannot record this node: {e}"), "check the shared disk is writable");
    }
    let mut others = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            r.warn("nodes", &subject, format!("cannot read the node records: {e}"), "check the shared disk");
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let other: NodeRecord = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(o) => o,
            Err(e) => {
                r.warn(
                    "nodes",
                    path.display().to_string(),
                    format!("unreadable record: {e}"),
                    "delete it; that node rewrites it at its next eva-check",
                );
                continue;
            }
        };
        if other.host == me.host {
            continue;
        }
        others += 1;
        compare(me, &other, r);
    }
    if others == 0 {
        r.warn(
            "nodes",
            &subject,
            "no other node has recorded itself yet: uids and configuration.json not compared",
            "run eva-check on the other node while it holds the shared disk",
        );
    }
}

fn write_record(dir: &Path, me: &NodeRecord) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec_pretty(me).map_err(std::io::Error::other)?;
    crate::sys::files::write_atomically(&dir.join(format!("{}.json", me.host)), &json)
}

/// Whether `me`'s configuration.json was installed by eva-ha restart after `other` recorded
/// itself.
fn installed_after(me: &NodeRecord, other: &NodeRecord) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (me.config_installed_at.as_deref().and_then(parse), parse(&other.recorded_at)) {
        (Some(installed), Some(recorded)) => installed >= recorded,
        _ => false,
    }
}

/// The same uids and gids, and the same configuration.json, as `other`.
pub fn compare(me: &NodeRecord, other: &NodeRecord, r: &mut Report) {
    let when = format!("(recorded {})", other.recorded_at);
    for (user, mine) in &me.users {
        match other.users.get(user) {
            Some(theirs) if theirs == mine => r.ok("nodes", &other.host, format!("{user} uid {} gid {} on both nodes", mine.uid, mine.gid)),
            Some(theirs) => r.fail(
                "nodes",
                &other.host,
                format!(
                    "{user} is uid {} gid {} here but uid {} gid {} on {} {when}: after a failover the database files cannot be written",
                    mine.uid, mine.gid, theirs.uid, theirs.gid, other.host
                ),
                format!("give {user} the same uid and gid on every node (usermod -u, groupmod -g, then chown its files)"),
            ),
            None => r.warn("nodes", &other.host, format!("{} recorded no user {user} {when}", other.host), format!("create {user} on {}", other.host)),
        }
    }
    match (&me.config_sha256, &other.config_sha256) {
        (Some(a), Some(b)) if a == b => r.ok("nodes", &other.host, "configuration.json identical on both nodes"),
        // eva-ha restart installed ours after the other node last recorded itself: expected
        // until its copy is updated, so a warning with the command that does it.
        (Some(_), Some(_)) if installed_after(me, other) => r.warn(
            "nodes",
            &other.host,
            format!(
                "configuration.json here was replaced by eva-ha restart at {}; {}'s copy {when} differs",
                me.config_installed_at.as_deref().unwrap_or(""),
                other.host
            ),
            format!(
                "copy it: {} (then run eva-check on {} while it holds the shared disk, or wait for its next record)",
                copy_command(Path::new("<install dir>"), &other.host),
                other.host
            ),
        ),
        (Some(_), Some(_)) => r.fail(
            "nodes",
            &other.host,
            format!("configuration.json differs from {}'s {when}", other.host),
            "update <install dir>/configuration.json identically on both nodes (the guide's update procedure)",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, start: Option<u64>) -> UnitState {
        UnitState {
            name: name.into(),
            id: name.into(),
            load_state: "loaded".into(),
            active_state: "inactive".into(),
            start_timeout: start.map(Duration::from_secs),
            ..UnitState::default()
        }
    }

    fn config(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eva-ha.toml");
        std::fs::write(&path, text).unwrap();
        let overrides = crate::config::Overrides { file: Some(path), given: Vec::new() };
        Config::load_with(&overrides, &|_| None).unwrap()
    }

    #[test]
    fn a_unit_timeout_shorter_than_a_units_own_is_flagged() {
        let states = [unit("docker", None), unit("postgresql-9.5.service", Some(300))];
        let mut r = Report::default();
        deadlines(&config(""), &states, &mut r);
        assert_eq!((r.count(Status::Ok), r.count(Status::Warn)), (1, 0), "{:?}", r.checks);
        assert!(r.checks[0].message.contains("the units' own: 310s"), "{:?}", r.checks);

        let mut r = Report::default();
        deadlines(&config("unit_timeout = 240\n"), &states, &mut r);
        assert_eq!(r.count(Status::Warn), 1, "{:?}", r.checks);
        assert!(
            r.checks[0].message.contains("shorter than the units' own start timeout (postgresql-9.5.service 300s)"),
            "{:?}",
            r.checks
        );

        let mut r = Report::default();
        deadlines(&config("script_timeout = 1500\n"), &states, &mut r);
        assert_eq!(r.count(Status::Warn), 1, "{:?}", r.checks);
        assert!(r.checks[1].message.contains("1810s reaches CLUSTERPRO's default Exec resource timeout"), "{:?}", r.checks);
    }

    fn record(host: &str, mongod_uid: u32, hash: &str) -> NodeRecord {
        NodeRecord {
            host: host.into(),
            users: [
                ("mongod".to_owned(), Ids { uid: mongod_uid, gid: 990 }),
                ("postgres".to_owned(), Ids { uid: 101, gid: 103 }),
            ]
            .into(),
            config_sha256: Some(hash.into()),
            eva_ha_version: "0.1.0".into(),
            recorded_at: "2026-11-25T10:00:00+00:00".into(),
            config_installed_at: None,
        }
    }

    #[test]
    fn a_config_installed_by_restart_after_the_other_records_warns_with_the_copy() {
        let mut me = record("a", 990, "new");
        me.config_installed_at = Some("2026-11-26T09:00:00+00:00".into());
        let mut r = Report::default();
        compare(&me, &record("b", 990, "old"), &mut r);
        let warn = r.checks.iter().find(|c| c.status == Status::Warn).expect("a warning");
        assert!(warn.message.contains("(recorded 2026-11-25T10:00:00+00:00)"), "{}", warn.message);
        assert!(warn.fix.as_deref().unwrap().contains("scp -p"), "{warn:?}");
        assert_eq!(r.count(Status::Fail), 0);
        // Once the other node has recorded itself since, a difference is a failure again.
        let mut later = record("b", 990, "old");
        later.recorded_at = "2026-11-27T10:00:00+00:00".into();
        let mut r = Report::default();
        compare(&me, &later, &mut r);
        assert_eq!(r.count(Status::Fail), 1);
    }

    #[test]
    fn same_ids_and_config_pass() {
        let mut r = Report::default();
        compare(&record("a", 990, "h"), &record("b", 990, "h"), &mut r);
        assert_eq!((r.count(Status::Ok), r.count(Status::Fail)), (3, 0));
    }

    #[test]
    fn another_uid_or_config_fails_naming_the_other_node() {
        let mut r = Report::default();
        compare(&record("a", 990, "h"), &record("b", 991, "other"), &mut r);
        let fails: Vec<&Check> = r.checks.iter().filter(|c| c.status == Status::Fail).collect();
        assert_eq!(fails.len(), 2);
        assert!(fails.iter().all(|c| c.subject == "b"));
        assert!(fails[0].message.contains("mongod is uid 990 gid 990 here but uid 991 gid 990 on b"), "{}", fails[0].message);
        assert!(fails[1].message.contains("configuration.json differs from b's"));
    }

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(normalize(Path::new("/mnt/shared/./pulse/../pulse//mongo")), Path::new("/mnt/shared/pulse/mongo"));
        assert_eq!(unescape_mountinfo("/mnt/with\\040space"), "/mnt/with space");
    }

    #[test]
    fn root_is_a_mount_point_and_a_plain_directory_is_not() {
        assert!(is_mount_point(Path::new("/")).unwrap());
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_mount_point(dir.path()).unwrap_or(true));
    }
}

//! Every setting, declared once. From each declaration come its file key, its
//! `EVA_HA_<KEY>` variable, its flag (on the commands that read it, and on `eva-ha config`),
//! its OCF parameter and meta-data, its line in `eva-ha config`, in `eva-ha.toml.example`
//! and in the table of docs/admin-guide.md. Adding a setting is one entry here, plus the code
//! that uses it (docs/development.md, "Adding a setting").
//!
//! An entry: `key: Type = default, check FN, Meta { … }`. The check (`any`: none) is what the
//! setting allows beyond its type; `Meta` says who reads it and how it is documented.

use std::path::PathBuf;
use std::time::Duration;

use super::check::{absolute, absolute_if_set, any, not_empty, not_empty_string, positive, positive_if_set, systemd_units};
use super::{CHECK, Flag, GENW, Meta, RESTART, START, STATUS, STOP};
use crate::ha::token::TokenFormat;
use crate::sys::runtime::{Filter, Kind};

super::declare_settings! {
    install_dir: Option<PathBuf> = None, check absolute_if_set, Meta {
        doc: "EVA's install directory, where start-master-rhel.sh and stop-master.sh are; the master scripts run in it",
        flag: Flag::Value("DIR"),
        read_by: START | STOP | CHECK | RESTART,
        ocf: Some("EVA install directory"),
        unset: "the commands that need it exit 6",
        example: "\"/home/eva/eva-master\"",
        ..Meta::NONE
    };
    worker_config: PathBuf = "/opt/pulse/worker/config/configuration.json".into(), check absolute, Meta {
        doc: "EVA's worker configuration, which holds workerToken (never logged)",
        flag: Flag::Value("FILE"),
        read_by: START | CHECK | RESTART,
        ocf: Some("worker configuration"),
        ..Meta::NONE
    };
    token_format: TokenFormat = TokenFormat::Json, check any, Meta {
        doc: "How the token is passed: json is exactly what `jq .workerToken` prints, quotes included (as the guide's start.sh passed it); raw is the bare string",
        flag: Flag::Value("json|raw"),
        read_by: START | RESTART,
        ocf: Some("token format: json or raw"),
        ..Meta::NONE
    };
    units: Vec<String> = ["docker", "mongod.service", "postgresql-9.5.service"].map(String::from).to_vec(),
    check systemd_units, Meta {
        doc: "The systemd services the master needs: started in one systemctl call, stopped in one",
        flag: Flag::Value("A,B"),
        read_by: START | STOP | CHECK | STATUS | RESTART,
        ocf: Some("systemd units"),
        ..Meta::NONE
    };
    start_script: PathBuf = "start-master-rhel.sh".into(), check not_empty, Meta {
        doc: "The master's start script, relative to install_dir (or absolute)",
        flag: Flag::Value("FILE"),
        read_by: START | CHECK | RESTART,
        ocf: Some("master start script"),
        ..Meta::NONE
    };
    stop_script: PathBuf = "stop-master.sh".into(), check not_empty, Meta {
        doc: "The master's stop script, relative to install_dir (or absolute)",
        flag: Flag::Value("FILE"),
        read_by: START | STOP | CHECK | RESTART,
        ocf: Some("master stop script"),
        ..Meta::NONE
    };
    script_timeout: Duration = Duration::from_secs(1440), check positive, Meta {
        doc: "Deadline in seconds for each master script; its whole process group is killed after it",
        note: "Keep script_timeout + unit_timeout below the Exec resource's timeout in CLUSTERPRO (1800 s by default: 1440 + 310 leaves 50 s), so that eva-ha reports a hang itself.",
        flag: Flag::Value("SECS"),
        read_by: START | STOP | RESTART,
        ..Meta::NONE
    };
    unit_timeout: Option<Duration> = None, check positive_if_set, Meta {
        doc: "Deadline in seconds for a systemctl start or stop",
        unset: "the units' own: their longest TimeoutStartSec (for a start) or TimeoutStopSec (a stop) plus 10 s, an infinite one counting as 240 s (310 s for the guide's units, PostgreSQL's being 300 s)",
        example: "310",
        flag: Flag::Value("SECS"),
        read_by: START | STOP | CHECK,
        ..Meta::NONE
    };
    lock_file: PathBuf = "/run/eva-ha.lock".into(), check absolute, Meta {
        doc: "The lock that serialises eva-start and eva-stop (a manual run against the cluster's)",
        flag: Flag::Value("FILE"),
        read_by: START | STOP | STATUS | RESTART,
        ..Meta::NONE
    };
    lock_timeout: Duration = Duration::from_secs(60), check positive, Meta {
        doc: "How long to wait for a running eva-start or eva-stop, in seconds",
        flag: Flag::Value("SECS"),
        read_by: START | STOP | RESTART,
        ..Meta::NONE
    };
    rollback: bool = true, check any, Meta {
        doc: "When a start fails half-way, stop again what it started (the stop script, then the units), so that the shared disk can be released",
        flag: Flag::Negate,
        read_by: START,
        ..Meta::NONE
    };
    runtime: Kind = Kind::Docker, check any, Meta {
        doc: "The container runtime eva-genw watches: docker or podman",
        heading: "eva-genw, the custom monitor",
        flag: Flag::Value("docker|podman"),
        read_by: GENW | CHECK | STATUS | RESTART,
        ocf: Some("container runtime: docker or podman"),
        ..Meta::NONE
    };
    ignore_exit_codes: Vec<i64> = vec![0, 137], check any, Meta {
        doc: "Exit codes of a dying container that are not failures (an OOM kill always is one)",
        note: "0 is a clean exit and 137 SIGKILL (docker kill, docker stop after its grace), as in the guide's genw.sh. Add 143 to also accept SIGTERM.",
        flag: Flag::Value("0,137"),
        read_by: GENW,
        ocf: Some("ignored container exit codes"),
        ..Meta::NONE
    };
    filters: Vec<Filter> = Vec::new(), check any, Meta {
        doc: "Watch only the containers matching all of these: label=KEY, label=KEY=VALUE, container=NAME (empty: every container)",
        flag: Flag::Repeat { long: "filter", value_name: "label=K[=V]|container=NAME" },
        read_by: GENW | STATUS | RESTART,
        ocf: Some("containers watched"),
        ..Meta::NONE
    };
    initial_delay: Duration = Duration::from_secs(5), check any, Meta {
        doc: "Seconds before eva-genw's first verdict, as genw.sh waits; deaths during it still count, reported when it ends (0: at once)",
        flag: Flag::Value("SECS"),
        read_by: GENW,
        ..Meta::NONE
    };
    daemon_grace: Duration = Duration::from_secs(60), check any, Meta {
        doc: "Seconds the container engine may stay unreachable before eva-genw fails, and that the containers which ran before it went away may take to run again once it is back (0: forever, and no such check); eva-ha restart gives the master's containers as long to run again (0: 60 s)",
        flag: Flag::Value("SECS"),
        read_by: GENW | RESTART,
        ..Meta::NONE
    };
    engine_unit: String = "docker.service".into(), check any, Meta {
        doc: "The systemd unit of the container engine: when the engine does not answer and this unit is failed or stopped, so that nothing will restart it, eva-genw fails at once instead of waiting daemon_grace; when the engine is frozen (its socket takes the connection but does not answer GET /_ping in 1 s: a healthy engine answers it from memory; or eva-genw has just given up on it for not answering), eva-stop stops this unit before the stop script, whose docker commands would hang (empty: neither)",
        flag: Flag::Value("UNIT"),
        read_by: START | STOP | GENW,
        ..Meta::NONE
    };
    state_dir: PathBuf = "/run/eva-ha".into(), check absolute, Meta {
        doc: "Where eva-ha keeps its state on the node: eva-stop marks a planned stop there, so that eva-genw does not report the containers it removes as deaths; eva-genw leaves word there of an engine that did not answer, for the eva-stop that follows",
        flag: Flag::Value("DIR"),
        read_by: START | STOP | GENW | STATUS | RESTART | CHECK,
        ..Meta::NONE
    };
    end_leftovers: bool = true, check any, Meta {
        doc: "Once the units are stopped, docker's among them (engine_unit), end what still runs of the node's docker containers (found by their cgroup, /docker/<id> or docker-<id>.scope below the node's own, and by their shims), so that they cannot run on both nodes; only when no dockerd runs in the node: while one does, nothing is ended and the stop fails naming it",
        flag: Flag::Negate,
        read_by: START | STOP,
        ..Meta::NONE
    };
    containerd_sockets: Vec<String> = ["/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock", "/var/run/docker/containerd/docker-containerd.sock"].map(String::from).to_vec(), check any, Meta {
        doc: "The containerd sockets of the node's docker (system containerd from 18.09, dockerd's own, docker-containerd 17.12-18.06): a shim of namespace moby with one of these -address (or docker 1.13's, which has none) is ended with its container by end_leftovers (empty: only docker 1.13's shims, and the cgroups)",
        flag: Flag::Value("SOCKETS"),
        read_by: START | STOP,
        ..Meta::NONE
    };
    history_dir: PathBuf = "/var/lib/eva-ha".into(), check absolute, Meta {
        doc: "Where eva-start and eva-stop record their runs (runs.json: the last 20 of each, when, how long, the cluster event, the error line), for eva-ha status and the first eva-genw --once",
        flag: Flag::Value("DIR"),
        read_by: START | STOP | GENW | STATUS | RESTART,
        ..Meta::NONE
    };
    shared_mount: Option<PathBuf> = None, check absolute_if_set, Meta {
        doc: "Where the shared disk is mounted on the active node (the guide's <shared mount>)",
        heading: "eva-check: the setup the guide prescribes",
        flag: Flag::Value("DIR"),
        read_by: CHECK | STATUS | START | RESTART,
        unset: "eva-check fails the link checks",
        example: "\"/mnt/sdb2\"",
        ..Meta::NONE
    };
    pulse_dir: PathBuf = "/opt/pulse".into(), check absolute, Meta {
        doc: "EVA's data directory: must be a link to <shared_mount>/pulse",
        flag: Flag::Value("DIR"),
        read_by: CHECK,
        ..Meta::NONE
    };
    mongo_dir: PathBuf = "/var/lib/mongo".into(), check absolute, Meta {
        doc: "MongoDB's data directory: must be a link to <shared_mount>/pulse/mongo, owned by mongod",
        flag: Flag::Value("DIR"),
        read_by: CHECK,
        ..Meta::NONE
    };
    pgdata_dir: PathBuf = "/var/lib/pgsql/9.5/data".into(), check absolute, Meta {
        doc: "PostgreSQL's data directory: must be a link to <shared_mount>/pulse/pg_data, owned by postgres",
        flag: Flag::Value("DIR"),
        read_by: CHECK,
        ..Meta::NONE
    };
    clp_monitors: Vec<String> = Vec::new(), check any, Meta {
        doc: "The CLUSTERPRO monitor resources of the EVA group (its custom monitor, its process-name monitors) that eva-ha restart suspends on every server (clpmonctrl -s) and resumes after (empty: none is suspended under CLUSTERPRO, and eva-ha restart says so)",
        heading: "eva-ha restart: restarting the master in place",
        note: "Only these monitors are suspended, not the cluster's others. eva-ha restart lists the servers with clpstat --local; where it cannot, it suspends them on this server only and says so.",
        flag: Flag::Value("A,B"),
        read_by: RESTART,
        ..Meta::NONE
    };
    pcmk_resource: String = "eva-master".into(), check not_empty_string, Meta {
        doc: "Under Pacemaker, the id of the eva-master primitive that eva-ha restart unmanages (is-managed=false, not the cluster's maintenance mode), cleans up and manages again",
        flag: Flag::Value("ID"),
        read_by: RESTART,
        ..Meta::NONE
    };
    manual_stop_grace: Duration = Duration::from_secs(600), check positive, Meta {
        doc: "How long a stop made by hand (eva-stop run by an administrator, not by the cluster) may last before eva-genw and eva-genw --once raise an alert (a WARN line and clplogcmd), repeated each time this much more has passed; they never fail over for it",
        flag: Flag::Value("SECS"),
        read_by: GENW | STATUS,
        ..Meta::NONE
    };
}

//! A container's own account of how it ended: `docker inspect` / `podman inspect`.
//!
//! The event's `exitCode` attribute can be overridden by a container label of the same
//! name; the container's `State.ExitCode` and `State.OOMKilled` cannot, so they decide
//! whenever the container still exists.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::event::rfc3339_ns;

/// The parts of `inspect` that decide a death.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    pub name: String,
    pub image: String,
    pub running: bool,
    pub oom_killed: bool,
    pub exit_code: i64,
    /// Nanoseconds since the epoch; `None` when never.
    pub started_ns: Option<i64>,
    pub finished_ns: Option<i64>,
    /// The container has a label named `exitCode`, which docker copies over the event's
    /// own `exitCode` attribute.
    pub has_exit_code_label: bool,
    /// Its labels (`Config.Labels`): what a `label=` scope filter is judged by where the
    /// runtime cannot be left to judge it (podman).
    pub labels: BTreeMap<String, String>,
    /// `running`, `exited`, `restarting`, … (empty when not said).
    pub status: String,
    /// How often the engine restarted it (its restart policy).
    pub restart_count: u64,
    /// The health check's verdict, when it has one: `healthy`, `unhealthy`, `starting`.
    pub health: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Raw {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    image_name: Option<String>,
    #[serde(default)]
    config: Option<RawConfig>,
    state: RawState,
    #[serde(default)]
    restart_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawState {
    #[serde(default)]
    running: bool,
    #[serde(default, rename = "OOMKilled")]
    oom_killed: bool,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    finished_at: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    health: Option<RawHealth>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealth {
    #[serde(default)]
    status: String,
}

/// Parses the JSON array `inspect` prints (for the containers that exist).
pub fn parse(text: &str) -> Result<Vec<ContainerState>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<Raw> = serde_json::from_str(text).map_err(|e| format!("unexpected inspect output: {e}"))?;
    Ok(raw
        .into_iter()
        .map(|r| {
            let config = r.config.unwrap_or(RawConfig { image: None, labels: None });
            let labels = config.labels.unwrap_or_default();
            ContainerState {
                id: r.id,
                name: r.name.trim_start_matches('/').to_owned(),
                image: r.image_name.or(config.image).unwrap_or_default(),
                running: r.state.running,
                oom_killed: r.state.oom_killed,
                exit_code: r.state.exit_code,
                started_ns: rfc3339_ns(&r.state.started_at),
                finished_ns: rfc3339_ns(&r.state.finished_at),
                has_exit_code_label: labels.contains_key("exitCode"),
                labels,
                status: r.state.status,
                restart_count: r.restart_count,
                health: r.state.health.map(|h| h.status).filter(|s| !s.is_empty()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_inspect() {
        let text = r#"[{"Id":"a91827f8a0d5cf07","Name":"/keep1","Config":{"Image":"eva-bb","Labels":{"exitCode":"0","x":"y"}},
            "State":{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":true,"Dead":false,"Pid":0,"ExitCode":137,"Error":"",
            "StartedAt":"2026-11-25T18:20:33.247145291Z","FinishedAt":"2026-11-25T18:20:33.249937565Z"}}]"#;
        let s = &parse(text).unwrap()[0];
        assert_eq!(
            (s.name.as_str(), s.image.as_str(), s.exit_code, s.oom_killed, s.running),
            ("keep1", "eva-bb", 137, true, false)
        );
        assert!(s.has_exit_code_label);
        assert_eq!(s.finished_ns, rfc3339_ns("2026-11-25T18:20:33.249937565Z"));
    }

    #[test]
    fn never_finished_and_no_labels() {
        let text = r#"[{"Id":"b","Name":"/r","Config":{"Image":"i","Labels":null},"State":{"Running":true,"ExitCode":0,"StartedAt":"2026-11-25T18:20:33Z","FinishedAt":"0001-01-01T00:00:00Z"}}]"#;
        let s = &parse(text).unwrap()[0];
        assert_eq!((s.running, s.finished_ns, s.has_exit_code_label), (true, None, false));
    }

    #[test]
    fn podman_inspect_uses_image_name() {
        let text = r#"[{"Id":"c","Name":"p1","ImageName":"localhost/eva-bb:latest","Config":{"Image":"localhost/eva-bb:latest","Labels":{}},"State":{"Running":false,"OOMKilled":false,"ExitCode":3,"StartedAt":"2026-11-25T18:20:33.1+00:00","FinishedAt":"2026-11-25T18:20:34.1+00:00"}}]"#;
        let s = &parse(text).unwrap()[0];
        assert_eq!((s.name.as_str(), s.image.as_str(), s.exit_code), ("p1", "localhost/eva-bb:latest", 3));
    }

    #[test]
    fn recorded_inspect_output() {
        let exited = &parse(include_str!("../../../tests/data/docker-inspect-exited.json")).unwrap()[0];
        assert_eq!((exited.exit_code, exited.running, exited.has_exit_code_label), (3, false, true));
        assert!(exited.finished_ns.is_some());
        let oom = &parse(include_str!("../../../tests/data/docker-inspect-oom.json")).unwrap()[0];
        assert_eq!((oom.exit_code, oom.oom_killed), (137, true));
        let created = &parse(include_str!("../../../tests/data/docker-inspect-created.json")).unwrap()[0];
        assert_eq!((created.started_ns, created.finished_ns), (None, None));
        let running = &parse(include_str!("../../../tests/data/docker-inspect-running.json")).unwrap()[0];
        assert!(running.running);
        let podman = &parse(include_str!("../../../tests/data/podman-inspect-exited.json")).unwrap()[0];
        assert_eq!((podman.exit_code, podman.running), (3, false));
        assert!(!podman.image.is_empty() && podman.finished_ns.is_some());
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(parse("").unwrap(), Vec::new());
        assert_eq!(parse("[]").unwrap(), Vec::new());
        assert!(parse("Error: No such object").is_err());
    }
}

//! Which versions of the platform eva-ha works with: one table, declared once.
//!
//! eva-ha runs on RHEL 7.5 (the guide's), RHEL 8 and RHEL 9, whose components differ by
//! years: systemd 219 to 252, docker 1.13.1 to podman 5, Pacemaker 1.1.18 to 2.1. What
//! eva-ha uses of each exists only from some version on, and only some versions were run or
//! modelled. Each component's row says the minimum (and why: what eva-ha uses that older
//! versions lack), the versions tested and how, what to do when the found one falls short.
//! eva-check judges this node's versions against it, eva-genw and the agent's watcher warn
//! when the engine is below the minimum (and go on: a refusing monitor would fail over
//! between two equally old nodes), and README's "Supported platforms" matrix is generated
//! from it (`eva-ha generate support-matrix`), so the three never disagree.

use crate::sys::platform::{OsRelease, Version};

/// A component with a version that eva-ha depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// The OS release of a family: `rhel` (RHEL and its rebuilds, by `ID_LIKE`), `debian`.
    Os(&'static str),
    Systemd,
    DockerClient,
    DockerEngine,
    Podman,
    Pacemaker,
}

/// How a tested version was tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Run for real on the development machine and its node images (the tests): what ran.
    Ran(&'static str),
    /// Its behaviour modelled from the source at a tag (the fakes and the parsers follow it).
    Modelled(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Tested {
    pub version: Version,
    /// Where it comes from: `RHEL 7.5`, `docker-ce`.
    pub on: &'static str,
    pub how: How,
}

/// One component's row.
#[derive(Clone, Copy, Debug)]
pub struct Support {
    pub component: Component,
    /// `systemd`, `docker client`, `RHEL (and rebuilds)`.
    pub name: &'static str,
    /// How eva-check reads the version.
    pub read_with: &'static str,
    pub minimum: Version,
    /// Why the minimum is what it is.
    pub why: &'static str,
    /// Lowest first.
    pub tested: &'static [Tested],
    /// What to do when the version found is below the minimum or untested.
    pub upgrade: &'static str,
}

const fn v(major: u32, minor: u32, patch: u32) -> Version {
    Version::new(major, minor, patch)
}

const fn one(major: u32) -> Version {
    Version::short(major, None)
}

const fn two(major: u32, minor: u32) -> Version {
    Version::short(major, Some(minor))
}

const fn ran(version: Version, on: &'static str, what: &'static str) -> Tested {
    Tested { version, on, how: How::Ran(what) }
}

const fn modelled(version: Version, on: &'static str, source: &'static str) -> Tested {
    Tested { version, on, how: How::Modelled(source) }
}

/// The table.
pub const SUPPORT: &[Support] = &[
    Support {
        component: Component::Os("rhel"),
        name: "RHEL",
        read_with: "`/etc/os-release` (`VERSION_ID`; `ID` rhel, or a rebuild whose `ID_LIKE` says rhel: CentOS, Rocky, AlmaLinux)",
        minimum: one(7),
        why: "the release binary needs glibc 2.17, RHEL 7's; it does not start on RHEL 6",
        tested: &[
            modelled(two(7, 5), "the guide's platform", "its components' sources, below"),
            modelled(one(8), "RHEL 8", "its components' sources, below"),
            modelled(one(9), "RHEL 9", "its components' sources, below"),
        ],
        upgrade: "run the cluster on RHEL 7.5 or later (the guide's platform is RHEL 7.5)",
    },
    Support {
        component: Component::Os("debian"),
        name: "Debian",
        read_with: "`/etc/os-release` (`ID`, `VERSION_ID`)",
        minimum: one(9),
        why: "the first Debian whose systemd (232) meets eva-ha's minimum",
        tested: &[ran(one(12), "the development machine", "Debian 12 (the tests and the node images)")],
        upgrade: "use Debian 12, where eva-ha's tests run",
    },
    Support {
        component: Component::Systemd,
        name: "systemd",
        read_with: "`systemctl --version`",
        minimum: one(219),
        why: "the one RHEL 7.5 has, the oldest platform eva-ha is for; what eva-ha asks of \
              `systemctl` (`show` with named properties, `is-enabled`, `start`/`stop` of several units \
              in one call) is modelled at that version",
        tested: &[
            modelled(one(219), "RHEL 7.5", "redhat-plumbers/systemd-rhel7 at v219-57"),
            modelled(one(239), "RHEL 8", "redhat-plumbers/systemd-rhel8 at v239-82"),
            ran(one(252), "Debian 12", "Debian 12's systemd 252"),
        ],
        upgrade: "update systemd from the OS's own repositories (RHEL 7.5 ships 219)",
    },
    Support {
        component: Component::DockerClient,
        name: "docker client",
        read_with: "`docker version --format '{{.Client.Version}}'`",
        minimum: v(1, 13, 0),
        why: "eva-genw subscribes with `docker events --format '{{json .}}'`, and `--format` \
              exists on `events` from 1.13.0",
        tested: &[
            modelled(v(1, 13, 1), "RHEL 7 extras", "moby at v1.13.1"),
            modelled(Version::calendar(18, 9, 1), "docker-ce", "moby at v18.09.1"),
            ran(v(20, 10, 24), "Debian 12", "Debian 12's docker.io 20.10.24"),
        ],
        upgrade: "install RHEL 7 extras' docker (1.13.1) or docker-ce 18.09 or later",
    },
    Support {
        component: Component::DockerEngine,
        name: "docker engine",
        read_with: "`docker version --format '{{.Server.Version}}'` (while it runs)",
        minimum: v(1, 13, 0),
        why: "its `die` events carry `exitCode`, `--since` takes nanoseconds and `GET /_ping` \
              answers on its socket (read at v1.13.1; the client needs 1.13.0 anyway)",
        tested: &[
            modelled(v(1, 13, 1), "RHEL 7 extras", "moby at v1.13.1"),
            modelled(Version::calendar(18, 9, 1), "docker-ce", "moby at v18.09.1"),
            ran(v(20, 10, 24), "Debian 12", "Debian 12's docker.io 20.10.24"),
        ],
        upgrade: "install RHEL 7 extras' docker (1.13.1) or docker-ce 18.09 or later",
    },
    Support {
        component: Component::Podman,
        name: "podman",
        read_with: "`podman version --format '{{.Version}}'`",
        minimum: v(1, 5, 0),
        why: "`podman events` exists from 1.2 and takes `--format json` (eva-genw's subscription) \
              from 1.5.0; `version --format '{{.Version}}'` works from 1.0 to 5.x",
        tested: &[
            modelled(v(1, 6, 4), "RHEL 8.2", "containers/podman at v1.6.4"),
            modelled(v(2, 0, 5), "RHEL 8.3", "containers/podman at v2.0.5"),
            modelled(v(4, 2, 0), "RHEL 8.7, 9.1", "containers/podman at v4.2.0"),
            ran(v(4, 3, 1), "Debian 12", "Debian 12's podman 4.3.1"),
        ],
        upgrade: "update podman from the OS's repositories (RHEL 8.2 ships 1.6.4; RHEL 8.0's 1.0 and 8.1's 1.4 are too old)",
    },
    Support {
        component: Component::Pacemaker,
        name: "Pacemaker",
        read_with: "`pacemakerd --version` (else `crm_mon --version`)",
        minimum: v(1, 0, 0),
        why: "the agent reads `OCF_RESOURCE_INSTANCE` (OCF's own) and the action's \
              `CRM_meta_timeout` parameter (`OCF_RESKEY_CRM_meta_timeout`), which Pacemaker passes \
              from 1.0 (read at Pacemaker-1.0.0), as it has `crm_resource --fail`",
        tested: &[
            modelled(v(1, 1, 18), "RHEL 7.5", "ClusterLabs/pacemaker at Pacemaker-1.1.18"),
            modelled(v(2, 0, 0), "RHEL 8.0-8.4", "ClusterLabs/pacemaker at Pacemaker-2.0.0"),
            ran(v(2, 1, 5), "Debian 12", "Debian 12's Pacemaker 2.1.5 (the agent's end-to-end tests)"),
        ],
        upgrade: "update Pacemaker from the OS's High Availability repositories (RHEL 7.5 ships 1.1.18)",
    },
];

/// PostgreSQL has no version of its own in eva-ha's eyes: only its unit, which eva-start
/// starts and stops like the others.
pub const POSTGRES_UNIT: (&str, &str, &str) = (
    "the configured unit (`units`, the guide's `postgresql-9.5.service`) installed; eva-check's `unit` lines",
    "a unit systemd starts and stops; eva-ha reads its `TimeoutStartUSec` for its deadline",
    "`postgresql-9.5.service` shaped like PGDG's RHEL 7 unit, running Debian 12's PostgreSQL 15 \
     (run for real: the drill nodes)",
);

/// The row of `component`.
pub fn row(component: Component) -> &'static Support {
    SUPPORT.iter().find(|s| s.component == component).expect("every component has a row in SUPPORT")
}

/// The row for this OS release, by `ID`; RHEL's rebuilds also by `ID_LIKE` (they number
/// their releases as RHEL does, where Debian's derivatives do not); `None` for another.
pub fn os_row(os: &OsRelease) -> Option<&'static Support> {
    SUPPORT.iter().find(|s| match s.component {
        Component::Os("rhel") => os.is_like("rhel"),
        Component::Os(id) => os.id == id,
        _ => false,
    })
}

/// The row of a runtime's engine by the runtime's name (`docker`, `podman`).
pub fn engine_row(runtime: &str) -> Option<&'static Support> {
    match runtime {
        "docker" => Some(row(Component::DockerEngine)),
        "podman" => Some(row(Component::Podman)),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At or above the lowest version tested.
    Ok,
    /// At or above the minimum, below every version tested.
    Warn,
    /// Below the minimum.
    Fail,
}

/// A verdict, one line saying why, and what to do (not for OK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub message: String,
    pub fix: Option<String>,
}

impl Support {
    pub fn lowest_tested(&self) -> Version {
        self.tested.iter().map(|t| t.version).min().unwrap_or(self.minimum)
    }

    /// `219 (RHEL 7.5, modelled), 252 (Debian 12, run)`.
    fn tested_short(&self) -> String {
        let how = |h: How| match h {
            How::Ran(_) => "run",
            How::Modelled(_) => "modelled",
        };
        self.tested.iter().map(|t| format!("{} ({}, {})", t.version, t.on, how(t.how))).collect::<Vec<_>>().join(", ")
    }

    /// The verdict on `found`, which the program printed as `shown`.
    pub fn judge(&self, found: Version, shown: &str) -> Judgement {
        self.judge_against(found, shown, self.lowest_tested())
    }

    fn judge_against(&self, found: Version, shown: &str, lowest: Version) -> Judgement {
        let name = self.name;
        if found < self.minimum {
            Judgement {
                verdict: Verdict::Fail,
                message: format!("{name} {shown} is older than eva-ha's minimum {}: {}", self.minimum, self.why),
                fix: Some(self.upgrade.to_owned()),
            }
        } else if found < lowest {
            Judgement {
                verdict: Verdict::Warn,
                message: format!(
                    "{name} {shown} is at or above the minimum {} but older than every version tested: {}",
                    self.minimum,
                    self.tested_short()
                ),
                fix: Some(self.upgrade.to_owned()),
            }
        } else {
            Judgement {
                verdict: Verdict::Ok,
                message: format!("{name} {shown}: supported (minimum {}, lowest tested {})", self.minimum, lowest),
                fix: None,
            }
        }
    }
}

/// The verdict on this OS release: its family's row, else WARN (a family eva-ha was
/// neither run nor modelled on: the components' own lines decide).
pub fn judge_os(os: &OsRelease) -> Judgement {
    let name = os.name();
    let Some(row) = os_row(os) else {
        return Judgement {
            verdict: Verdict::Warn,
            message: format!(
                "{name} (ID {}) is not in eva-ha's support table (RHEL 7.5 or later and its rebuilds, Debian 12): \
                 the lines for systemd, the runtime and Pacemaker below decide",
                os.id
            ),
            fix: Some("run the cluster on RHEL 7.5 or later, the guide's platform".to_owned()),
        };
    };
    let Some(found) = Version::parse(&os.version_id) else {
        return Judgement {
            verdict: Verdict::Warn,
            message: format!("{name}: no VERSION_ID to judge ({:?})", os.version_id),
            fix: Some(format!("check {} is the OS's own", crate::sys::platform::OS_RELEASE)),
        };
    };
    // CentOS 7 says `VERSION_ID="7"`: its minor release is not said, so only the major counts.
    let lowest = match os.version_id.contains('.') {
        true => row.lowest_tested(),
        false => Version::new(row.lowest_tested().major, 0, 0),
    };
    row.judge_against(found, &os.version_id, lowest)
}

/// For the commands (eva-genw, the agent's watcher): one WARN when the engine's version,
/// as it printed it, is below the minimum. They go on: a monitor that refused would fail
/// over between two equally old nodes. Returns whether it warned.
pub fn warn_if_below_minimum(runtime: &str, shown: &str) -> bool {
    let (Some(row), Some(found)) = (engine_row(runtime), Version::parse(shown)) else { return false };
    if found >= row.minimum {
        return false;
    }
    tracing::warn!(
        "{} {shown} is older than eva-ha's minimum {} ({}): going on, but untested; {} (eva-check says more)",
        row.name,
        row.minimum,
        row.why,
        row.upgrade
    );
    true
}

/// A platform as README's matrix shows it: its components' versions, as shipped.
pub struct Platform {
    pub name: &'static str,
    pub systemd: &'static [(Version, &'static str)],
    /// `(component, version, note)`.
    pub runtime: &'static [(Component, Version, &'static str)],
    pub pacemaker: &'static [(Version, &'static str)],
    pub verified: &'static str,
}

/// The platforms eva-ha is meant for, and the one its tests run on.
pub const PLATFORMS: &[Platform] = &[
    Platform {
        name: "RHEL 7.5 (the guide's)",
        systemd: &[(one(219), "")],
        runtime: &[
            (Component::DockerEngine, v(1, 13, 1), "RHEL extras"),
            (Component::DockerEngine, Version::calendar(18, 9, 1), "docker-ce, or later"),
        ],
        pacemaker: &[(v(1, 1, 18), "")],
        verified: "modelled from the sources at the tags the platform ships (systemd 219 with kernel 3.10's system calls, docker 1.13.1 and 18.09, Pacemaker 1.1.18)",
    },
    Platform {
        name: "RHEL 8.0-8.10",
        systemd: &[(one(239), "")],
        runtime: &[
            (Component::Podman, two(1, 0), "8.0"),
            (Component::Podman, two(1, 4), "8.1"),
            (Component::Podman, v(1, 6, 4), "8.2"),
            (Component::Podman, two(4, 0), "8.6 and later: 4.x"),
        ],
        pacemaker: &[(two(2, 0), "8.0-8.4: 2.0.x"), (two(2, 1), "later: 2.1.x")],
        verified: "modelled from the sources at the tags the platform ships (systemd 239, podman, Pacemaker 2.0)",
    },
    Platform {
        name: "RHEL 9.x",
        systemd: &[(one(252), "")],
        runtime: &[(Component::Podman, two(4, 0), "9.0-9.4: 4.x"), (Component::Podman, two(5, 0), "9.5 and later: 5.x")],
        pacemaker: &[(two(2, 1), "2.1.x")],
        verified: "systemd and Pacemaker as Debian 12's, run here; podman 4.x between the versions tested; podman 5's events as its source prints them",
    },
    Platform {
        name: "Debian 12 (the tests)",
        systemd: &[(one(252), "")],
        runtime: &[(Component::DockerEngine, v(20, 10, 24), "docker.io"), (Component::Podman, v(4, 3, 1), "podman")],
        pacemaker: &[(v(2, 1, 5), "")],
        verified: "run for real: the unit, integration and end-to-end tests, the drill nodes",
    },
];

/// A version in the matrix, with its note and, when it falls short, the verdict.
fn cell_entry(row: &Support, version: Version, note: &str) -> String {
    let mut text = version.to_string();
    if !note.is_empty() {
        text.push_str(&format!(" ({note})"));
    }
    match row.judge(version, &version.to_string()).verdict {
        Verdict::Ok => text,
        Verdict::Warn => format!("{text}: untested"),
        Verdict::Fail => format!("{text}: **below the minimum**"),
    }
}

/// README's "Supported platforms" matrix: the platforms, then each component's minimum,
/// why, and the versions tested and how.
pub fn matrix() -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::from("| platform | systemd | container runtime | Pacemaker | verified |\n|---|---|---|---|---|\n");
    for p in PLATFORMS {
        let systemd: Vec<String> = p.systemd.iter().map(|(ver, n)| cell_entry(row(Component::Systemd), *ver, n)).collect();
        let runtime: Vec<String> = p
            .runtime
            .iter()
            .map(|(c, ver, n)| {
                let program = if *c == Component::Podman { "podman" } else { "docker" };
                format!("{program} {}", cell_entry(row(*c), *ver, n))
            })
            .collect();
        let pacemaker: Vec<String> = p.pacemaker.iter().map(|(ver, n)| cell_entry(row(Component::Pacemaker), *ver, n)).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            p.name,
            cell(&systemd.join(", ")),
            cell(&runtime.join(", ")),
            cell(&pacemaker.join(", ")),
            p.verified
        ));
    }
    out.push_str(
        "\n| component | minimum | why that minimum | tested (how) | eva-check reads it with |\n|---|---|---|---|---|\n",
    );
    for s in SUPPORT {
        let tested: Vec<String> = s
            .tested
            .iter()
            .map(|t| match t.how {
                How::Ran(what) => format!("{} ({}): run for real here, {what}", t.version, t.on),
                How::Modelled(source) => format!("{} ({}): modelled from {source}", t.version, t.on),
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            s.name,
            s.minimum,
            cell(s.why),
            cell(&tested.join("; ")),
            cell(s.read_with)
        ));
    }
    let (minimum, why, tested) = POSTGRES_UNIT;
    out.push_str(&format!("| PostgreSQL's unit | {} | {} | {} | `systemctl show` |\n", cell(minimum), cell(why), cell(tested)));
    out.push_str(
        "\nVerdicts (eva-check): OK at or above the lowest version tested; WARN between the minimum and it; \
         FAIL below the minimum. eva-genw and the agent's watcher log one WARN when the engine is below the \
         minimum, and go on. Podman's `died` events carry no labels before 4.3: eva-ha applies `label=` \
         filters itself, from the containers' own labels, on every podman.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(component: Component, text: &str) -> Verdict {
        row(component).judge(Version::parse(text).unwrap(), text).verdict
    }

    #[test]
    fn every_row_has_its_minimum_at_or_below_what_was_tested() {
        for s in SUPPORT {
            assert!(!s.tested.is_empty(), "{}", s.name);
            assert!(s.minimum <= s.lowest_tested(), "{}", s.name);
            assert!(s.tested.windows(2).all(|w| w[0].version <= w[1].version), "lowest first: {}", s.name);
        }
        for c in [Component::Systemd, Component::DockerClient, Component::DockerEngine, Component::Podman, Component::Pacemaker] {
            row(c);
        }
    }

    #[test]
    fn rhel_7_5s_components() {
        assert_eq!(judge(Component::Systemd, "219"), Verdict::Ok);
        assert_eq!(judge(Component::Systemd, "208"), Verdict::Fail);
        assert_eq!(judge(Component::DockerClient, "1.13.1"), Verdict::Ok);
        assert_eq!(judge(Component::DockerEngine, "1.13.1"), Verdict::Ok);
        assert_eq!(judge(Component::DockerClient, "1.13.0"), Verdict::Warn);
        assert_eq!(judge(Component::DockerClient, "1.12.6"), Verdict::Fail);
        assert_eq!(judge(Component::DockerEngine, "18.09.1"), Verdict::Ok);
        assert_eq!(judge(Component::Pacemaker, "1.1.18"), Verdict::Ok);
        assert_eq!(judge(Component::Pacemaker, "1.1.16"), Verdict::Warn);
    }

    #[test]
    fn rhel_8s_and_9s_components() {
        assert_eq!(judge(Component::Systemd, "239"), Verdict::Ok);
        assert_eq!(judge(Component::Podman, "1.0.0"), Verdict::Fail);
        assert_eq!(judge(Component::Podman, "1.4.2"), Verdict::Fail);
        assert_eq!(judge(Component::Podman, "1.5.1"), Verdict::Warn);
        assert_eq!(judge(Component::Podman, "1.6.4"), Verdict::Ok);
        assert_eq!(judge(Component::Podman, "4.9.4-rhel"), Verdict::Ok);
        assert_eq!(judge(Component::Podman, "5.2.2"), Verdict::Ok);
        assert_eq!(judge(Component::Pacemaker, "2.0.5"), Verdict::Ok);
        assert_eq!(judge(Component::Systemd, "252"), Verdict::Ok);
    }

    #[test]
    fn debian_12s_components() {
        assert_eq!(judge(Component::DockerEngine, "20.10.24+dfsg1"), Verdict::Ok);
        assert_eq!(judge(Component::DockerClient, "24.0.7"), Verdict::Ok);
        assert_eq!(judge(Component::Podman, "4.3.1"), Verdict::Ok);
        assert_eq!(judge(Component::Pacemaker, "2.1.5"), Verdict::Ok);
    }

    #[test]
    fn a_fail_names_the_minimum_and_what_to_do() {
        let j = row(Component::Podman).judge(Version::new(1, 4, 2), "1.4.2");
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.message.starts_with("podman 1.4.2 is older than eva-ha's minimum 1.5.0: "), "{}", j.message);
        assert!(j.message.contains("--format json"), "{}", j.message);
        assert!(j.fix.unwrap().contains("update podman"));
        let j = row(Component::DockerClient).judge(Version::new(1, 13, 0), "1.13.0");
        assert!(j.message.contains("older than every version tested: 1.13.1 (RHEL 7 extras, modelled)"), "{}", j.message);
        let j = row(Component::Systemd).judge(Version::new(252, 0, 0), "252");
        assert_eq!(j.fix, None);
        assert_eq!(j.message, "systemd 252: supported (minimum 219, lowest tested 219)");
    }

    fn os(text: &str) -> Verdict {
        judge_os(&OsRelease::parse(text)).verdict
    }

    #[test]
    fn os_releases() {
        assert_eq!(os("ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"7.5\"\n"), Verdict::Ok);
        assert_eq!(os("ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"7.4\"\n"), Verdict::Warn);
        assert_eq!(os("ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"6.10\"\n"), Verdict::Fail);
        assert_eq!(os("ID=\"rhel\"\nVERSION_ID=\"8.10\"\n"), Verdict::Ok);
        assert_eq!(os("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n"), Verdict::Ok);
        // CentOS 7 says no minor release.
        assert_eq!(os("ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n"), Verdict::Ok);
        assert_eq!(os("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n"), Verdict::Ok);
        assert_eq!(os("ID=debian\nVERSION_ID=\"12\"\n"), Verdict::Ok);
        assert_eq!(os("ID=debian\nVERSION_ID=\"11\"\n"), Verdict::Warn);
        assert_eq!(os("ID=debian\nVERSION_ID=\"8\"\n"), Verdict::Fail);
        // Ubuntu is like debian, but its releases are numbered otherwise: not in the table.
        assert_eq!(os("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n"), Verdict::Warn);
        assert_eq!(os("ID=opensuse-leap\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.5\"\n"), Verdict::Warn);
        assert_eq!(os("ID=rhel\n"), Verdict::Warn);
    }

    #[test]
    fn the_commands_warn_only_below_the_minimum() {
        assert!(warn_if_below_minimum("docker", "1.12.6"));
        assert!(!warn_if_below_minimum("docker", "1.13.0"));
        assert!(!warn_if_below_minimum("docker", "20.10.24+dfsg1"));
        assert!(warn_if_below_minimum("podman", "1.4.2"));
        assert!(!warn_if_below_minimum("podman", "4.3.1"));
        assert!(!warn_if_below_minimum("docker", "stand-in"));
        assert!(!warn_if_below_minimum("rkt", "0.1"));
    }

    #[test]
    fn the_matrix_marks_what_falls_short() {
        let m = matrix();
        assert!(m.contains("podman 1.0 (8.0): **below the minimum**"), "{m}");
        assert!(m.contains("podman 1.6.4 (8.2)"), "{m}");
        assert!(!m.contains("1.6.4 (8.2): "), "{m}");
        assert!(m.contains("modelled from redhat-plumbers/systemd-rhel7 at v219-57"), "{m}");
        assert!(m.contains("run for real here"), "{m}");
        assert!(m.lines().filter(|l| l.starts_with('|')).all(|l| l.ends_with(" |") || l.ends_with('|')), "{m}");
    }

    #[test]
    fn readme_has_the_generated_matrix() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&matrix()),
            "README's supported-platforms matrix differs from the table: replace it with `cargo run -- generate support-matrix`"
        );
    }
}

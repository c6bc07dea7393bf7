//! What this node runs: the OS release, systemd, the container runtime's client and engine,
//! Pacemaker, each read as it prints itself.
//!
//! eva-ha leans on behaviour that only some versions have (`docker events --format`,
//! `podman events --format json`, …), and the administrator of an old node needs to hear
//! which component is too old before a failover finds out. The support table
//! (`ha::support`) judges the versions; this module only reads them: `/etc/os-release`, and
//! each program's own version command, through [`Cmd`] with a short deadline. Each parser
//! takes the program's text as it is printed on the platforms eva-ha runs on, distribution
//! suffixes included (`1.13.1`, `20.10.24+dfsg1`, `4.9.4-rhel`, `systemd 252 (252.30-1~deb12u2)`).

use std::path::Path;
use std::time::Duration;

use crate::sys::process::{Cmd, find_program};
use crate::sys::runtime::Kind;

/// A version as `major.minor.patch`; missing parts are 0 (`systemd 219` is 219.0.0). It is
/// shown with as many parts as it was written with, docker's zero-padded month included
/// (`18.09.1`); the form plays no part in comparisons.
#[derive(Clone, Copy, Debug)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// How many parts it is shown with (1 to 3).
    parts: u8,
    /// The minor part is zero-padded to two digits (docker's `YY.MM`).
    padded: bool,
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> std::cmp::Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl Version {
    /// `major.minor.patch`, shown in full.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version { major, minor, patch, parts: 3, padded: false }
    }

    /// A version shown as one number (`219`) or two (`7.5`).
    pub const fn short(major: u32, minor: Option<u32>) -> Version {
        match minor {
            Some(minor) => Version { major, minor, patch: 0, parts: 2, padded: false },
            None => Version { major, minor: 0, patch: 0, parts: 1, padded: false },
        }
    }

    /// Docker's `YY.MM.patch` (`18.09.1`).
    pub const fn calendar(year: u32, month: u32, patch: u32) -> Version {
        Version { major: year, minor: month, patch, parts: 3, padded: true }
    }

    /// The leading `N[.N[.N]]` of `text`, whatever follows it (`20.10.24+dfsg1`,
    /// `1.13.1-ce`, `4.9.4-rhel`, `7.5`); `None` when it does not start with a digit.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let mut numbers = [0u32; 3];
        let mut parts = 0;
        let mut padded = false;
        let mut rest = text;
        for (i, number) in numbers.iter_mut().enumerate() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if digits == 0 {
                break;
            }
            *number = rest[..digits].parse().ok()?;
            padded |= i == 1 && digits == 2 && rest.starts_with('0');
            parts += 1;
            rest = &rest[digits..];
            match rest.strip_prefix('.') {
                Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
                _ => break,
            }
        }
        (parts > 0).then_some(Version { major: numbers[0], minor: numbers[1], patch: numbers[2], parts, padded })
    }
}

impl std::fmt::Display for Version {
    /// As written: `219`, `7.5`, `1.13.1`, `18.09.1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.major)?;
        if self.parts >= 2 {
            if self.padded { write!(f, ".{:02}", self.minor)? } else { write!(f, ".{}", self.minor)? }
        }
        if self.parts >= 3 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// What a version command said: the version and the text it was read from, or why none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The parsed version and the program's own text for it (`20.10.24+dfsg1`).
    Version(Version, String),
    /// The program is not installed (not on PATH nor in the standard directories).
    Absent,
    /// It is there, but printed no version: why (one line).
    Unreadable(String),
    /// It failed or did not answer in time: why (one line). The runtime's engine while it
    /// does not run.
    Silent(String),
}

impl Found {
    fn from_text(text: &str, command: &str) -> Found {
        match Version::parse(text) {
            Some(v) => Found::Version(v, text.trim().to_owned()),
            None => Found::Unreadable(format!("`{command}` printed {:?}, not a version", text.trim())),
        }
    }
}

/// The fields of `/etc/os-release` that say which system this is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `rhel`, `centos`, `debian`.
    pub id: String,
    /// `fedora`, `rhel centos fedora`: the families it belongs to.
    pub id_like: Vec<String>,
    /// `7.5`, `8.10`, `12`.
    pub version_id: String,
    /// `Red Hat Enterprise Linux Server 7.5 (Maipo)`.
    pub pretty_name: String,
}

pub const OS_RELEASE: &str = "/etc/os-release";
/// Where os-release(5) says to look when `/etc/os-release` is missing.
const OS_RELEASE_FALLBACK: &str = "/usr/lib/os-release";

/// Each version command's deadline: they answer in milliseconds, but a frozen engine makes
/// the runtime's client wait.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

impl OsRelease {
    /// `/etc/os-release` (else `/usr/lib/os-release`); an error naming the file.
    pub fn read() -> Result<OsRelease, String> {
        Self::read_from(Path::new(OS_RELEASE)).or_else(|e| Self::read_from(Path::new(OS_RELEASE_FALLBACK)).map_err(|_| e))
    }

    pub fn read_from(path: &Path) -> Result<OsRelease, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {}", path.display(), crate::sys::files::plain(&e)))?;
        Ok(OsRelease::parse(&text))
    }

    /// os-release(5): `KEY=value` lines, the value optionally quoted.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else { continue };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value)
                .replace("\\\"", "\"");
            match key.trim() {
                "ID" => os.id = value.to_ascii_lowercase(),
                "ID_LIKE" => os.id_like = value.split_whitespace().map(str::to_ascii_lowercase).collect(),
                "VERSION_ID" => os.version_id = value,
                "PRETTY_NAME" => os.pretty_name = value,
                _ => {}
            }
        }
        os
    }

    /// Whether it is `id` or of its family (`ID_LIKE`).
    pub fn is_like(&self, id: &str) -> bool {
        self.id == id || self.id_like.iter().any(|l| l == id)
    }

    /// `PRETTY_NAME`, else `ID VERSION_ID`.
    pub fn name(&self) -> String {
        if self.pretty_name.is_empty() {
            format!("{} {}", self.id, self.version_id).trim().to_owned()
        } else {
            self.pretty_name.clone()
        }
    }
}

/// `systemctl --version`'s first line: `systemd 219`, `systemd 252 (252.30-1~deb12u2)`.
pub fn parse_systemctl_version(text: &str) -> Option<Version> {
    let first = text.lines().next()?.trim();
    Version::parse(first.strip_prefix("systemd ")?)
}

/// `pacemakerd --version` or `crm_mon --version`: `Pacemaker 1.1.18` on the first line
/// (then `Written by Andrew Beekhof`).
pub fn parse_pacemaker_version(text: &str) -> Option<(Version, String)> {
    let line = text.lines().find_map(|l| l.trim().strip_prefix("Pacemaker "))?;
    let word = line.split_whitespace().next()?;
    Version::parse(word).map(|v| (v, word.to_owned()))
}

/// `podman version` without `--format`: the `Version:` line (`Version:            1.6.4`);
/// the client's, when it prints a `Client:` and a `Server:` section.
pub fn parse_podman_version_table(text: &str) -> Option<(Version, String)> {
    let value = text.lines().find_map(|l| l.trim().strip_prefix("Version:"))?.trim();
    Version::parse(value).map(|v| (v, value.to_owned()))
}

/// systemd's version: `systemctl --version`.
pub fn systemd(systemctl: &Path) -> Found {
    let cmd = Cmd::new(systemctl).arg("--version").timeout(VERSION_TIMEOUT);
    match cmd.checked_output() {
        Ok(out) => match parse_systemctl_version(&out.stdout) {
            Some(v) => Found::Version(v, v.to_string()),
            None => Found::Unreadable(format!("`{}` printed {:?}, not `systemd N`", cmd.display(), first_line(&out.stdout))),
        },
        Err(e) => Found::Unreadable(e.to_string()),
    }
}

/// Pacemaker's version: `pacemakerd --version`, else `crm_mon --version`; [`Found::Absent`]
/// when neither is installed (a CLUSTERPRO node).
pub fn pacemaker() -> Found {
    let Some(program) = find_program("pacemakerd").or_else(|| find_program("crm_mon")) else { return Found::Absent };
    let cmd = Cmd::new(&program).arg("--version").timeout(VERSION_TIMEOUT);
    match cmd.output() {
        // Some builds print it on stderr, or exit non-zero after printing it.
        Ok(out) => match parse_pacemaker_version(&format!("{}\n{}", out.stdout, out.stderr)) {
            Some((v, text)) => Found::Version(v, text),
            None if out.status.success() => {
                Found::Unreadable(format!("`{}` printed {:?}, not `Pacemaker N`", cmd.display(), first_line(&out.stdout)))
            }
            None => Found::Unreadable(cmd.failure(out.status, &out.stderr).to_string()),
        },
        Err(e) => Found::Unreadable(e.to_string()),
    }
}

/// The runtime's client and engine versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeVersions {
    pub client: Found,
    /// The engine's: docker's daemon (unreadable while it does not run); for podman, which
    /// has no daemon, the same as the client's.
    pub engine: Found,
}

/// `docker version --format '{{.Client.Version}}'` and `'{{.Server.Version}}'`, or
/// `podman version --format '{{.Version}}'` (the one template that podman 1.0 to 5.x all
/// take: 1.x formats the client's version itself, 2.0 and later retry a template that does
/// not fit their client-and-server report on the client's).
pub fn runtime(kind: Kind, program: &Path) -> RuntimeVersions {
    let version = |template: &str| -> Found {
        let cmd = Cmd::new(program).args(["version", "--format", template]).timeout(VERSION_TIMEOUT);
        match cmd.output() {
            // docker prints the client's version even when the daemon does not answer, then
            // exits 1: the text counts only when it is a version.
            Ok(out) if !out.status.success() && Version::parse(&out.stdout).is_none() => {
                Found::Silent(cmd.failure(out.status, &out.stderr).to_string())
            }
            Ok(out) => Found::from_text(first_line(&out.stdout), &cmd.display()),
            Err(e) => Found::Silent(e.to_string()),
        }
    };
    match kind {
        Kind::Docker => RuntimeVersions { client: version("{{.Client.Version}}"), engine: version("{{.Server.Version}}") },
        Kind::Podman => {
            let found = match version("{{.Version}}") {
                found @ Found::Version(..) => found,
                // A build whose template fails: the table it prints without one.
                other => {
                    let cmd = Cmd::new(program).arg("version").timeout(VERSION_TIMEOUT);
                    match cmd.output().ok().and_then(|out| parse_podman_version_table(&out.stdout)) {
                        Some((v, text)) => Found::Version(v, text),
                        None => other,
                    }
                }
            };
            RuntimeVersions { client: found.clone(), engine: found }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_each_program_prints_them() {
        for (text, want) in [
            ("1.13.1", Version::new(1, 13, 1)),
            ("18.09.1", Version::new(18, 9, 1)),
            ("17.03.2-ce", Version::new(17, 3, 2)),
            ("20.10.24+dfsg1", Version::new(20, 10, 24)),
            ("24.0.7-0ubuntu2~22.04.1", Version::new(24, 0, 7)),
            ("4.9.4-rhel", Version::new(4, 9, 4)),
            ("5.2.2\n", Version::new(5, 2, 2)),
            ("7.5", Version::new(7, 5, 0)),
            ("12", Version::new(12, 0, 0)),
            ("v1.6.4", Version::new(1, 6, 4)),
            ("219-57", Version::new(219, 0, 0)),
        ] {
            assert_eq!(Version::parse(text), Some(want), "{text:?}");
        }
        for text in ["", "stand-in", "dev", "-1"] {
            assert_eq!(Version::parse(text), None, "{text:?}");
        }
        assert!(Version::parse("1.13.0") < Version::parse("1.13.1"));
        assert!(Version::parse("18.09.1") > Version::parse("1.13.1"));
        assert!(Version::parse("2.0") > Version::parse("1.1.18"));
        for text in ["219", "7.5", "1.13.1", "1.0.0", "18.09.1", "18.09", "2.0"] {
            assert_eq!(Version::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Version::parse("20.10.24+dfsg1").unwrap().to_string(), "20.10.24");
        assert_eq!(Version::short(219, None).to_string(), "219");
        assert_eq!(Version::short(7, Some(5)).to_string(), "7.5");
        assert_eq!(Version::calendar(18, 9, 1).to_string(), "18.09.1");
        assert_eq!(Version::calendar(18, 9, 1), Version::new(18, 9, 1));
    }

    #[test]
    fn systemctl_version_on_rhel_7_8_9_and_debian_12() {
        let rhel7 = "systemd 219\n+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT +UTMP +LIBCRYPTSETUP +GCRYPT +GNUTLS +ACL +XZ +LZ4 -SECCOMP +BLKID +ELFUTILS +KMOD +IDN\n";
        assert_eq!(parse_systemctl_version(rhel7), Some(Version::new(219, 0, 0)));
        let rhel8 = "systemd 239 (239-78.el8)\n+PAM +AUDIT +SELINUX +IMA -APPARMOR +SMACK +SYSVINIT +UTMP +LIBCRYPTSETUP +GCRYPT +GNUTLS +ACL +XZ +LZ4 +SECCOMP +BLKID +ELFUTILS +KMOD +IDN2 -IDN +PCRE2 default-hierarchy=legacy\n";
        assert_eq!(parse_systemctl_version(rhel8), Some(Version::new(239, 0, 0)));
        let rhel9 = "systemd 252 (252-32.el9_4)\n+PAM +AUDIT +SELINUX -APPARMOR +IMA +SMACK +SECCOMP +GCRYPT +GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN -IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT -QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK +XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified\n";
        assert_eq!(parse_systemctl_version(rhel9), Some(Version::new(252, 0, 0)));
        let debian12 = "systemd 252 (252.30-1~deb12u2)\n+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP\n";
        assert_eq!(parse_systemctl_version(debian12), Some(Version::new(252, 0, 0)));
        assert_eq!(parse_systemctl_version("systemctl: command not found"), None);
        assert_eq!(parse_systemctl_version(""), None);
    }

    #[test]
    fn pacemaker_version_1_1_and_2_x() {
        let rhel7 = "Pacemaker 1.1.18\nWritten by Andrew Beekhof\n";
        assert_eq!(parse_pacemaker_version(rhel7), Some((Version::new(1, 1, 18), "1.1.18".into())));
        let debian12 = "Pacemaker 2.1.5\nWritten by Andrew Beekhof and the Pacemaker project contributors\n";
        assert_eq!(parse_pacemaker_version(debian12), Some((Version::new(2, 1, 5), "2.1.5".into())));
        // `--version --verbose` (2.x's extended form).
        let extended = "Pacemaker 2.0.3 (Build: 4b1f869f0f): agents cibsecrets corosync\n";
        assert_eq!(parse_pacemaker_version(extended), Some((Version::new(2, 0, 3), "2.0.3".into())));
        assert_eq!(parse_pacemaker_version("crm_mon: unrecognized option\n"), None);
    }

    #[test]
    fn podman_version_table_of_1_x_and_4_x() {
        let v1 =
            "Version:            1.6.4\nRemoteAPI Version:  1\nGo Version:         go1.13.4\nOS/Arch:            linux/amd64\n";
        assert_eq!(parse_podman_version_table(v1), Some((Version::new(1, 6, 4), "1.6.4".into())));
        let v4 = "Client:       Podman Engine\nVersion:      4.3.1\nAPI Version:  4.3.1\nGo Version:   go1.19.8\nBuilt:        Thu Jan  1 00:00:00 1970\nOS/Arch:      linux/amd64\n";
        assert_eq!(parse_podman_version_table(v4), Some((Version::new(4, 3, 1), "4.3.1".into())));
    }

    #[test]
    fn os_release_of_rhel_7_5_centos_7_rocky_9_and_debian_12() {
        let rhel = OsRelease::parse(
            "NAME=\"Red Hat Enterprise Linux Server\"\nVERSION=\"7.5 (Maipo)\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVARIANT=\"Server\"\nVERSION_ID=\"7.5\"\nPRETTY_NAME=\"Red Hat Enterprise Linux Server 7.5 (Maipo)\"\n",
        );
        assert_eq!((rhel.id.as_str(), rhel.version_id.as_str()), ("rhel", "7.5"));
        assert_eq!(rhel.name(), "Red Hat Enterprise Linux Server 7.5 (Maipo)");
        assert!(rhel.is_like("rhel") && rhel.is_like("fedora") && !rhel.is_like("debian"));
        let centos = OsRelease::parse("NAME=\"CentOS Linux\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n");
        assert!(centos.is_like("rhel"));
        assert_eq!(centos.name(), "centos 7");
        let rocky = OsRelease::parse(
            "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n",
        );
        assert!(rocky.is_like("rhel"));
        let debian = OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!((debian.id.as_str(), debian.version_id.as_str()), ("debian", "12"));
        assert_eq!(debian.name(), "Debian GNU/Linux 12 (bookworm)");
    }

    #[test]
    fn this_machines_os_release_reads() {
        // Every system eva-ha runs on has one; the tests run on Debian 12.
        let os = OsRelease::read().unwrap();
        assert!(!os.id.is_empty(), "{os:?}");
    }

    #[test]
    fn docker_client_version_while_the_engine_is_down_and_an_absent_program() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        // As docker 1.13.1 does: the client's version, then the daemon's error, exit 1.
        std::fs::write(
            &docker,
            "#!/bin/sh\ncase \"$3\" in\n*Client*) echo 1.13.1; exit 1 ;;\n*) echo; echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1 ;;\nesac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = runtime(Kind::Docker, &docker);
        assert_eq!(found.client, Found::Version(Version::new(1, 13, 1), "1.13.1".into()));
        match &found.engine {
            Found::Silent(why) => assert!(why.contains("Cannot connect to the Docker daemon"), "{why}"),
            other => panic!("{other:?}"),
        }
        let gone = runtime(Kind::Podman, &dir.path().join("podman"));
        assert!(matches!(gone.client, Found::Silent(_)), "{gone:?}");
    }
}

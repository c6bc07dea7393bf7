//! The guide's post-failover check, `curl -u USER:PASSWORD https://<master>:3000/versions`,
//! with a native HTTPS client.
//!
//! After a failover an administrator wants one answer: does the master answer its REST API
//! on the floating address? TLS is verified (against the system's CA bundle, or a private
//! CA given with `--cacert`); the password comes from the environment or a file, never from
//! the command line, and appears in no message. A failure says which of the usual reasons
//! it is: nothing listening, a certificate problem, wrong credentials, another status.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::{failed, not_configured};

/// EVA's REST port and the path the guide checks.
pub const PORT: u16 = 3000;
pub const PATH: &str = "/versions";

/// System CA bundles: RHEL, then Debian.
const CA_BUNDLES: &[&str] = &["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"];

/// The password; its Debug shows `***` and it has no Display.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn new(text: String) -> Password {
        Password(text)
    }

    /// Reads a password file; one trailing newline (LF or CRLF) is not part of it.
    pub fn from_file(path: &Path) -> anyhow::Result<Password> {
        let text = std::fs::read_to_string(path).map_err(|e| not_configured(format!("password file {}: {e}", path.display())))?;
        let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
        if text.is_empty() {
            return Err(not_configured(format!("password file {} is empty", path.display())));
        }
        Ok(Password(text.to_owned()))
    }
}

/// What to check and how.
#[derive(Debug)]
pub struct Target {
    pub url: String,
    pub credentials: Option<(String, Password)>,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
    pub timeout: Duration,
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub latency: Duration,
    pub body: String,
}

/// `https://HOST:3000/versions` for a host name or address (IPv6 in brackets).
pub fn master_url(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("https://[{host}]:{PORT}{PATH}")
    } else {
        format!("https://{host}:{PORT}{PATH}")
    }
}

/// The agent for `target`: TLS roots, no status-as-error (we classify statuses ourselves).
fn agent(target: &Target) -> anyhow::Result<ureq::Agent> {
    let roots = match &target.cacert {
        Some(path) => RootCerts::Specific(load_pem(path)?.into()),
        None => CA_BUNDLES
            .iter()
            .map(Path::new)
            .find(|p| p.exists())
            .and_then(|p| load_pem(p).ok().filter(|c| !c.is_empty()))
            .map_or(RootCerts::WebPki, |certs| RootCerts::Specific(certs.into())),
    };
    let tls = TlsConfig::builder().root_certs(roots).disable_verification(target.insecure).build();
    let config =
        ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).timeout_global(Some(target.timeout)).build();
    Ok(config.new_agent())
}

fn load_pem(path: &Path) -> anyhow::Result<Vec<Certificate<'static>>> {
    let bytes = std::fs::read(path).map_err(|e| not_configured(format!("CA certificate file {}: {e}", path.display())))?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&bytes)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(not_configured(format!("CA certificate file {} holds no PEM certificate", path.display())));
    }
    Ok(certs)
}

/// Why a check failed, and whether trying again later may help (a master still coming up)
/// or not (wrong credentials, an untrusted certificate).
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub retry: bool,
}

fn permanent(error: anyhow::Error) -> Failure {
    Failure { error, retry: false }
}

/// One GET; the error names the reason in an administrator's words.
pub fn check(target: &Target) -> Result<Answer, Failure> {
    let agent = agent(target).map_err(permanent)?;
    let mut request = agent.get(&target.url).header("Accept", "application/json");
    if let Some((user, Password(password))) = &target.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request = request.header("Authorization", &format!("Basic {token}"));
    }
    let started = Instant::now();
    let mut response = request.call().map_err(|e| Failure {
        retry: tls_error(&e).is_none() && !matches!(e, ureq::Error::Tls(_) | ureq::Error::BadUri(_)),
        error: failed(format!("{}: {}", target.url, describe(&e, target))),
    })?;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let body = response.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
    match status {
        200 => Ok(Answer { status, latency, body }),
        401 => Err(permanent(failed(format!(
            "{}: HTTP 401 Unauthorized: the user or password is wrong{}",
            target.url,
            if target.credentials.is_none() { " (none given: --user, and EVA_HA_PASSWORD or --password-file)" } else { "" }
        )))),
        _ => Err(Failure {
            error: failed(format!("{}: HTTP {status} {}", target.url, response.status().canonical_reason().unwrap_or(""))),
            retry: true,
        }),
    }
}

/// The TLS error inside `e`: ureq reports rustls's handshake errors as I/O errors.
fn tls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(tls) => Some(tls),
        ureq::Error::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }
}

fn describe(e: &ureq::Error, target: &Target) -> String {
    use std::io::ErrorKind;
    let tls_hint = if target.cacert.is_some() {
        "the certificate does not chain to --cacert"
    } else {
        "trust its CA with --cacert PEM, or skip verification with --insecure"
    };
    if let Some(tls) = tls_error(e) {
        return format!("TLS: {tls}; {tls_hint}");
    }
    match e {
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there (is the master started, the floating IP up?)".to_owned()
        }
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::Timeout(t) => format!("no answer within {}s ({t})", target.timeout.as_secs_f64()),
        ureq::Error::Tls(tls) => format!("TLS: {tls}; {tls_hint}"),
        ureq::Error::BadUri(uri) => format!("not a usable URL: {uri}"),
        other => other.to_string(),
    }
}

/// The versions in the body, on one line: `key=value` pairs of a JSON object, else the
/// text itself (shortened).
pub fn summarize(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => {
            let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.chars().count() > 300 { format!("{}…", text.chars().take(300).collect::<String>()) } else { text }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(master_url("10.0.0.100"), "https://10.0.0.100:3000/versions");
        assert_eq!(master_url("eva-master"), "https://eva-master:3000/versions");
        assert_eq!(master_url("fd00::10"), "https://[fd00::10]:3000/versions");
    }

    #[test]
    fn password_file_drops_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        for (content, want) in [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), ("two\n\n", "two\n")] {
            let path = dir.path().join("pw");
            std::fs::write(&path, content).unwrap();
            assert_eq!(Password::from_file(&path).unwrap().0, want);
        }
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        assert!(Password::from_file(&dir.path().join("empty")).is_err());
        assert_eq!(format!("{:?}", Password::new("x".into())), "Password(***)");
    }

    #[test]
    fn summaries() {
        assert_eq!(summarize(r#"{"master":"3.2.0","api":2}"#), "api=2, master=3.2.0");
        assert_eq!(summarize("  plain\n text "), "plain text");
        assert_eq!(summarize(&"x".repeat(400)).chars().count(), 301);
    }
}

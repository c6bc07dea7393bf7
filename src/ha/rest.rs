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
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, TcpConnector};

use crate::error::{failed, not_configured};
use crate::sys::tls;

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

/// The agent for `target`, and where its verifier keeps the certificate the server
/// presented. TLS: the `--cacert` certificates, else the system's CA bundle, trusted as
/// `curl --cacert` trusts them (`sys::tls`); `--insecure` verifies nothing.
fn agent(target: &Target) -> anyhow::Result<(ureq::Agent, Option<Presented>)> {
    let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(target.timeout));
    if target.insecure {
        let tls = TlsConfig::builder().disable_verification(true).build();
        return Ok((config.tls_config(tls).build().new_agent(), None));
    }
    let (roots, pinned) = match &target.cacert {
        Some(path) => {
            let certs = der(load_pem(path)?);
            (certs.clone(), certs)
        }
        None => (der(system_roots()), Vec::new()),
    };
    let verifier = tls::Verifier::new(&roots, pinned).map_err(|e| not_configured(format!("{}: {e}", ca_bundle(target))))?;
    let presented = std::sync::Arc::clone(&verifier.presented);
    let connector = TcpConnector::default().chain(tls::TlsConnector { config: tls::client_config(verifier) });
    Ok((ureq::Agent::with_parts(config.build(), connector, DefaultResolver::default()), Some(presented)))
}

/// Where the verifier keeps the certificate the server presented.
type Presented = std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>;

fn der(certs: Vec<Certificate<'static>>) -> Vec<CertificateDer<'static>> {
    certs.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect()
}

/// The system's CA bundle (the first of [`CA_BUNDLES`] that holds certificates).
fn system_roots() -> Vec<Certificate<'static>> {
    CA_BUNDLES
        .iter()
        .map(Path::new)
        .filter(|p| p.exists())
        .find_map(|p| load_pem(p).ok().filter(|c| !c.is_empty()))
        .unwrap_or_default()
}

/// The CA certificates used, for messages: `--cacert FILE` or the system bundle's path.
fn ca_bundle(target: &Target) -> String {
    match &target.cacert {
        Some(path) => format!("--cacert {}", path.display()),
        None => match CA_BUNDLES.iter().find(|p| Path::new(p).exists()) {
            Some(bundle) => format!("the system CA bundle {bundle}"),
            None => format!("no system CA bundle ({} are missing)", CA_BUNDLES.join(", ")),
        },
    }
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
    let (agent, presented) = agent(target).map_err(permanent)?;
    let mut request = agent.get(&target.url).header("Accept", "application/json");
    if let Some((user, Password(password))) = &target.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request = request.header("Authorization", &format!("Basic {token}"));
    }
    let started = Instant::now();
    let mut response = request.call().map_err(|e| Failure {
        retry: tls_error(&e).is_none() && !matches!(e, ureq::Error::Tls(_) | ureq::Error::BadUri(_)),
        error: failed(format!("{}: {}", target.url, describe(&e, target, presented.as_ref()))),
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

fn describe(e: &ureq::Error, target: &Target, presented: Option<&Presented>) -> String {
    use std::io::ErrorKind;
    if let Some(tls) = tls_error(e) {
        return tls_failure(tls, target, presented);
    }
    match e {
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there (is the master started, the floating IP up?)".to_owned()
        }
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::Timeout(t) => format!("no answer within {}s ({t})", target.timeout.as_secs_f64()),
        ureq::Error::Tls(tls) => format!("TLS: {tls}"),
        ureq::Error::BadUri(uri) => format!("not a usable URL: {uri}"),
        other => other.to_string(),
    }
}

/// A refused certificate in words: what was wrong, what the server presented, against which
/// CA certificates, and what to pass instead.
fn tls_failure(tls: &rustls::Error, target: &Target, presented: Option<&Presented>) -> String {
    use rustls::CertificateError as C;
    let host = target.url.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("the host");
    let (what, fix) = match tls {
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => (
            format!("the certificate is not valid for {host}"),
            "connect with a name it is valid for (--url https://NAME:3000/versions), or make the master's certificate name this one".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            ("the certificate has expired".to_owned(), "renew the master's certificate (or --insecure, for now)".to_owned())
        }
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => (
            "the certificate is not valid yet".to_owned(),
            "check the clocks of this node and the master, or the certificate's dates".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => (
            format!("the certificate does not chain to {}", ca_bundle(target)),
            "pass the master's CA certificate (or its self-signed certificate itself) with --cacert PEM".to_owned(),
        ),
        other => (format!("{other}"), format!("check the certificate against {}", ca_bundle(target))),
    };
    let shown = presented.and_then(|p| p.lock().ok().and_then(|p| p.clone())).map(|der| tls::describe(&der));
    match shown {
        Some(cert) => format!("TLS: {what}; the server presented {cert}; CA certificates: {}; {fix}", ca_bundle(target)),
        None => format!("TLS: {what}; CA certificates: {}; {fix}", ca_bundle(target)),
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

//! A local HTTPS server standing in for EVA's REST API: a private CA made for the test,
//! a server certificate for 127.0.0.1 and localhost signed by it, and `/versions` behind
//! basic auth. Every request's Authorization header is recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const USER: &str = "eva";
pub const PASSWORD: &str = "pw-SECRET-91c7";
pub const VERSIONS: &str = r#"{"master":"3.2.0","api":"1.4"}"#;

/// What the server answers to an authorised GET /versions.
#[derive(Clone, Copy)]
pub enum Mode {
    Ok,
    Status(u16),
}

pub struct Pki {
    pub ca_pem: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    /// A CA and a server certificate for `names`, the CA's PEM written into `dir`.
    pub fn new(dir: &Path, names: &[&str]) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
        Pki { ca_pem, chain: vec![cert.der().clone()], key: PrivatePkcs8KeyDer::from(key.serialize_der()) }
    }
}

pub struct Server {
    pub port: u16,
    pub authorizations: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serves on 127.0.0.1 (port 0: any free one) with the PKI's server certificate.
    pub fn start(pki: &Pki, mode: Mode, port: u16) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key()))
                .unwrap(),
        );
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&authorizations);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let config = Arc::clone(&config);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, config, mode, &seen));
            }
        });
        Server { port, authorizations }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/versions", self.port)
    }
}

fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, mode: Mode, seen: &Mutex<Vec<String>>) {
    let conn = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let mut reader = BufReader::new(&mut tls);
    let mut authorization = String::new();
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return; // the client refused our certificate
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = value.trim().to_owned();
        }
    }
    seen.lock().unwrap().push(authorization.clone());
    let expected =
        format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{USER}:{PASSWORD}")));
    let (status, body) = match (authorization == expected, mode) {
        (false, _) => (401, r#"{"error":"unauthorized"}"#),
        (true, Mode::Ok) if request_line.starts_with("GET /versions ") => (200, VERSIONS),
        (true, Mode::Ok) => (404, "{}"),
        (true, Mode::Status(s)) => (s, "{}"),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(response.as_bytes());
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

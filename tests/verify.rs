//! eva-verify against a local HTTPS server with basic auth and a certificate made by a CA
//! generated in the test (tests/common/https.rs).

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::https::{Mode, PASSWORD, Pki, Server, USER};
use common::support::{eva_ha, text};

fn verify(args: &[&str], password: Option<&str>) -> (Output, Duration) {
    let mut cmd = eva_ha("verify");
    cmd.args(args).env_remove("EVA_HA_PASSWORD");
    if let Some(p) = password {
        cmd.env("EVA_HA_PASSWORD", p);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    (out, started.elapsed())
}

/// The run's exit status and output, the password nowhere in it.
#[track_caller]
fn check(out: &Output, code: i32, needles: &[&str]) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(code), "{all}");
    for n in needles {
        assert!(all.contains(n), "no {n:?} in:\n{all}");
    }
    assert!(!all.contains(PASSWORD), "password leaked:\n{all}");
}

#[test]
fn answers_200_with_the_private_ca_and_prints_the_versions() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["127.0.0.1", "localhost"]);
    let server = Server::start(&pki, Mode::Ok, 0);
    let ca = pki.ca_pem.to_str().unwrap();
    let (out, _) = verify(&["--url", &server.url(), "--user", USER, "--cacert", ca], Some(PASSWORD));
    check(&out, 0, &["OK https://127.0.0.1:", "HTTP 200 in ", "versions: api=1.4, master=3.2.0"]);

    // The password from a file, its trailing newline ignored.
    let file = dir.path().join("password");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let (out, _) =
        verify(&["--url", &server.url(), "--user", USER, "--cacert", ca, "--password-file", file.to_str().unwrap()], None);
    check(&out, 0, &["HTTP 200"]);
    let expected =
        format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{USER}:{PASSWORD}")));
    assert_eq!(*server.authorizations.lock().unwrap(), vec![expected.clone(), expected]);
}

#[test]
fn an_untrusted_certificate_is_a_tls_failure_unless_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["127.0.0.1"]);
    let server = Server::start(&pki, Mode::Ok, 0);
    let (out, _) = verify(&["--url", &server.url(), "--user", USER], Some(PASSWORD));
    check(&out, 1, &["TLS", "--cacert"]);
    assert!(server.authorizations.lock().unwrap().is_empty(), "credentials sent over an unverified connection");

    let (out, _) = verify(&["--url", &server.url(), "--user", USER, "--insecure"], Some(PASSWORD));
    check(&out, 0, &["--insecure: the server's certificate is not verified", "HTTP 200"]);
}

#[test]
fn a_certificate_for_another_name_is_a_tls_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["eva-master.example"]);
    let server = Server::start(&pki, Mode::Ok, 0);
    let (out, _) = verify(&["--url", &server.url(), "--user", USER, "--cacert", pki.ca_pem.to_str().unwrap()], Some(PASSWORD));
    check(&out, 1, &["TLS: the certificate is not valid for 127.0.0.1", "valid for eva-master.example", "--cacert"]);
}

#[test]
fn wrong_credentials_are_401_at_once_even_when_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["127.0.0.1"]);
    let server = Server::start(&pki, Mode::Ok, 0);
    let ca = pki.ca_pem.to_str().unwrap();
    let (out, took) = verify(&["--url", &server.url(), "--user", USER, "--cacert", ca, "--wait", "30"], Some("wrong"));
    check(&out, 1, &["HTTP 401 Unauthorized: the user or password is wrong"]);
    assert!(took < Duration::from_secs(10), "retried a 401: {took:?}");
    let (out, _) = verify(&["--url", &server.url(), "--cacert", ca], None);
    check(&out, 1, &["HTTP 401", "none given"]);
}

#[test]
fn another_status_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["127.0.0.1"]);
    let server = Server::start(&pki, Mode::Status(503), 0);
    let (out, _) = verify(&["--url", &server.url(), "--user", USER, "--cacert", pki.ca_pem.to_str().unwrap()], Some(PASSWORD));
    check(&out, 1, &["HTTP 503 Service Unavailable"]);
}

#[test]
fn connection_refused_and_waiting_for_a_master_that_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), &["127.0.0.1"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("https://127.0.0.1:{port}/versions");
    let ca = pki.ca_pem.to_str().unwrap().to_owned();
    let (out, _) = verify(&["--url", &url, "--user", USER, "--cacert", &ca], Some(PASSWORD));
    check(&out, 1, &["connection refused"]);

    // The master comes up 3 s into a 20 s wait.
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        Server::start(&pki, Mode::Ok, port)
    });
    let (out, took) = verify(&["--url", &url, "--user", USER, "--cacert", &ca, "--wait", "20"], Some(PASSWORD));
    let _server = starter.join().unwrap();
    check(&out, 0, &["not yet, after", "connection refused", "HTTP 200"]);
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn the_password_never_comes_from_argv_and_is_required_with_a_user() {
    let (out, _) = verify(&["--master", "127.0.0.1", "--user", USER], None);
    check(&out, 6, &["no password for user eva: set EVA_HA_PASSWORD or give --password-file"]);
    let (out, _) = verify(&["--master", "127.0.0.1", "--user", USER, "--password", "x"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let (out, _) = verify(&["--master", "127.0.0.1", "--password-file", "/nonexistent/pw", "--user", USER], None);
    check(&out, 6, &["password file /nonexistent/pw"]);
}

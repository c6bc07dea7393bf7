//! eva-verify trusts what `curl --cacert` trusts: certificates made with the openssl
//! command line (self-signed as `openssl req -x509` makes them, with CA:TRUE; self-signed
//! with CA:FALSE; a leaf under an intermediate under a root; expired; valid for another
//! host), served by `openssl s_server`, each checked by curl and by eva-verify with the same
//! files: they must agree on every one.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, require};

#[track_caller]
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A certificate case: the CA file to trust, the chain the server sends and its key.
struct Case {
    name: &'static str,
    cacert: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

const SAN_HERE: &str = "subjectAltName=IP:127.0.0.1,DNS:localhost";

fn self_signed(dir: &Path, name: &'static str, extra: &[&str]) -> Case {
    let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
    let mut args = vec!["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert, "-days", "30"];
    args.extend(["-subj", "/CN=eva-master"]);
    args.extend_from_slice(extra);
    openssl(dir, &args);
    Case { name, cacert: dir.join(&cert), chain: dir.join(&cert), key: dir.join(&key) }
}

fn chained(dir: &Path) -> Case {
    std::fs::write(dir.join("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n").unwrap();
    std::fs::write(
        dir.join("leaf.ext"),
        format!("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n{SAN_HERE}\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-subj",
            "/CN=EVA root",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "inter.key",
            "-out",
            "inter.csr",
            "-subj",
            "/CN=EVA intermediate",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "inter.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "inter.pem",
            "-days",
            "30",
            "-extfile",
            "ca.ext",
        ],
    );
    openssl(
        dir,
        &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=eva-master"],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "inter.pem",
            "-CAkey",
            "inter.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "30",
            "-extfile",
            "leaf.ext",
        ],
    );
    let chain = [std::fs::read_to_string(dir.join("leaf.pem")).unwrap(), std::fs::read_to_string(dir.join("inter.pem")).unwrap()]
        .concat();
    std::fs::write(dir.join("leaf-chain.pem"), chain).unwrap();
    Case {
        name: "leaf under an intermediate under a root",
        cacert: dir.join("root.pem"),
        chain: dir.join("leaf-chain.pem"),
        key: dir.join("leaf.key"),
    }
}

/// Self-signed, valid from 2020-01-01 to 2020-01-02 (`openssl ca -selfsign` sets the dates).
fn expired(dir: &Path) -> Case {
    let d = dir.display();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca=d\n[d]\ndatabase={d}/index.txt\nnew_certs_dir={d}\nserial={d}/serial\ndefault_md=sha256\npolicy=p\n\
             [p]\ncommonName=supplied\n[e]\nbasicConstraints=critical,CA:TRUE\n{SAN_HERE}\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "old.key", "-out", "old.csr", "-subj", "/CN=eva-master"],
    );
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            "old.key",
            "-in",
            "old.csr",
            "-out",
            "old.pem",
            "-startdate",
            "200101000000Z",
            "-enddate",
            "200102000000Z",
            "-extensions",
            "e",
            "-extfile",
            "ca.cnf",
        ],
    );
    Case { name: "expired", cacert: dir.join("old.pem"), chain: dir.join("old.pem"), key: dir.join("old.key") }
}

/// `openssl s_server -www` with the case's chain, on a free port; killed on drop.
struct SServer(Child, u16);

impl SServer {
    fn start(case: &Case) -> SServer {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&case.chain)
            .arg("-key")
            .arg(&case.key)
            .arg("-cert_chain")
            .arg(&case.chain)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "openssl s_server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SServer(child, port)
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn eva_verify_agrees_with_curl_on_every_certificate() {
    let have = |p: &str| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success());
    if !require("openssl (apt-get install openssl)", Command::new("openssl").arg("version").output().is_ok())
        || !require("curl (apt-get install curl)", have("curl"))
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (self_signed(d, "selfsigned-ca", &["-addext", SAN_HERE]), true),
        (
            self_signed(
                d,
                "selfsigned-leaf",
                &["-addext", SAN_HERE, "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"],
            ),
            true,
        ),
        (chained(d), true),
        (expired(d), false),
        (self_signed(d, "another-host", &["-addext", "subjectAltName=DNS:other.example"]), false),
    ];
    let mut report = Vec::new();
    for (case, expected) in &cases {
        let server = SServer::start(case);
        let url = format!("https://127.0.0.1:{}/", server.1);
        let curl =
            Command::new("curl").args(["-sS", "-o", "/dev/null", "--cacert"]).arg(&case.cacert).arg(&url).output().unwrap();
        let eva = Command::new(BIN)
            .args(["verify", "--url", &url, "--cacert"])
            .arg(&case.cacert)
            .env("EVA_HA_CONFIG", "/dev/null")
            .output()
            .unwrap();
        let (curl_ok, eva_ok) = (curl.status.success(), eva.status.success());
        let eva_said = String::from_utf8_lossy(&eva.stdout).into_owned();
        report.push(format!(
            "{}: curl {curl_ok} ({}), eva-verify {eva_ok}: {}",
            case.name,
            String::from_utf8_lossy(&curl.stderr).trim(),
            eva_said.trim()
        ));
        assert_eq!(curl_ok, eva_ok, "eva-verify and curl disagree on {}:\n{}", case.name, report.join("\n"));
        assert_eq!(eva_ok, *expected, "{}:\n{}", case.name, report.join("\n"));
        eprintln!("{}", report.last().unwrap());
        if !eva_ok {
            // The refusal says what is wrong and what was presented.
            assert!(eva_said.contains("the server presented subject CN=eva-master"), "{eva_said}");
        }
    }
    let said = report.join("\n");
    assert!(said.contains("expired: ") && said.contains("the certificate has expired"), "{said}");
    assert!(
        said.contains("another-host: ")
            && said.contains("is not valid for 127.0.0.1")
            && said.contains("valid for other.example"),
        "{said}"
    );
}

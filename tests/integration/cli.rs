//! The `mailsetup` binary run as a process: serve, check, render.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::serve_process::ServeProcess;
use crate::common::{self, TestCa, TestServer, write_config, write_file};

fn mailsetup() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

fn run(args: &[&str]) -> Output {
    mailsetup().args(args).output().unwrap()
}

async fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn serve_prints_urls_fingerprint_and_ready_then_stops_on_sigterm() {
    let ca = TestCa::new();
    let config = write_config(&ca, "");
    let mut serve = ServeProcess::start(&config);
    assert!(serve.http.ip().is_loopback() && serve.http.port() != 0);
    assert!(serve.https.ip().is_loopback() && serve.https.port() != 0);
    let fingerprint = serve
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("certificate SHA-256 fingerprint: "))
        .expect("fingerprint line");
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert!(
        serve
            .printed
            .iter()
            .any(|l| l.starts_with("try: curl 'https://"))
    );

    let answer = http_get(serve.http, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(serve.terminate().success());
}

#[tokio::test]
async fn in_flight_request_finishes_during_graceful_shutdown() {
    let ca = TestCa::new();
    let config = write_config(&ca, "");
    let mut serve = ServeProcess::start(&config);
    let mut stream = tokio::net::TcpStream::connect(serve.http).await.unwrap();
    stream
        .write_all(b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = serve.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Still running: it waits for the request in flight.
    assert!(serve.child.try_wait().unwrap().is_none());
    stream.write_all(b"defghij").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(serve.terminate().success());
}

#[test]
fn serve_refuses_a_broken_config_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "bad.toml",
        "[server]\nhttp = [\"not an address\"]\n",
    );
    let output = run(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("bad.toml:2:9: invalid socket address syntax"),
        "{stderr}"
    );
}

/// The whole message, exactly once: "file: reason", not "file: reason: reason".
fn assert_said_once(stderr: &str, expected: &str) {
    assert_eq!(
        stderr.trim_end(),
        format!("mailsetup: {expected}"),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_file_is_named_with_its_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    for command in ["serve", "check"] {
        let output = run(&[command, "--config", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        assert_said_once(
            &String::from_utf8(output.stderr).unwrap(),
            &format!("{}: No such file or directory (os error 2)", path.display()),
        );
    }
}

#[test]
fn an_address_in_use_is_named_with_its_reason_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "m.toml",
        &format!("[server]\nhttp = [\"{addr}\"]\nhttps = []\n"),
    );
    let output = run(&["serve", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_said_once(
        &String::from_utf8(output.stderr).unwrap(),
        &format!("cannot listen on {addr}: Address already in use (os error 98)"),
    );
}

#[test]
fn check_prints_the_domain_table() {
    let ca = TestCa::new();
    let config = write_config(&ca, "");
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("configuration OK: "), "{stdout}");
    let row = |domain: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(domain))
            .unwrap_or_else(|| panic!("{domain} missing:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("contoso.test"),
        ["contoso.test", "microsoft365", "domain", "table"]
    );
    assert_eq!(
        row("xn--bcher-kva.test"),
        ["xn--bcher-kva.test", "microsoft365", "domain", "table"]
    );
    assert_eq!(row("hotmail.fr"), ["hotmail.fr", "outlook", "profile"]);
}

#[test]
fn check_without_config_validates_the_embedded_default() {
    let output = run(&["check"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("contoso.example"), "{stdout}");
}

/// (file contents, file:line:column: reason the error must contain)
const BROKEN_CONFIGS: &[(&str, &str)] = &[
    (
        "[[domain]]\nname = \"a.test\"\nprofile = \"gmail\"\n",
        "m.toml:3:11: unknown profile \"gmail\"",
    ),
    (
        "[[domain]]\nname = \"a..test\"\nprofile = \"outlook\"\n",
        "m.toml:2:8: \"a..test\" is not a host name",
    ),
    (
        "[[domain]]\nname = \"a.test\"\n",
        "m.toml:1:1: missing field `profile`",
    ),
    ("colour = \"blue\"\n", "m.toml:1:1: unknown field `colour`"),
    (
        "[limits]\nmax_body_bytes = -1\n",
        "m.toml:2:18: invalid value: integer `-1`",
    ),
    (
        "[server]\nhttp = []\nhttps = []\n",
        "m.toml: [server] has no http or https listener",
    ),
    ("[[domain]\n", "m.toml:1:10: "),
];

#[test]
fn check_rejects_each_broken_config_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in BROKEN_CONFIGS {
        let config = write_file(dir.path(), "m.toml", text);
        let output = run(&["check", "--config", config.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{text}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let expected = format!("{}/{expected}", dir.path().display());
        assert!(
            stderr.contains(&expected),
            "{text:?}\nexpected {expected}\ngot {stderr}"
        );
    }
}

#[test]
fn check_rejects_a_broken_profile_in_profiles_dir() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let outlook = include_str!("../../profiles/outlook.toml").replace("port = 587", "port = 0");
    write_file(&profiles, "outlook.toml", &outlook);
    let config = write_file(dir.path(), "m.toml", "profiles_dir = \"profiles\"\n");
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("profiles/outlook.toml:"), "{stderr}");
    assert!(
        stderr.contains("port 0 is out of range (1-65535)"),
        "{stderr}"
    );
}

#[test]
fn check_rejects_a_domain_claimed_by_two_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    // A copy of outlook.toml under another name keeps its domain list.
    write_file(
        &profiles,
        "personal.toml",
        include_str!("../../profiles/outlook.toml"),
    );
    let config = write_file(dir.path(), "m.toml", "profiles_dir = \"profiles\"\n");
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is already listed by profile"), "{stderr}");
    assert!(
        stderr.contains("a domain can belong to one profile only"),
        "{stderr}"
    );
}

#[test]
fn check_rejects_missing_or_mismatched_certificate_files() {
    let ca = TestCa::new();
    let other = TestCa::new();
    let config = write_config(&ca, "");
    let text = std::fs::read_to_string(&config).unwrap();

    let missing = text.replace(ca.cert_path.to_str().unwrap(), "/nonexistent/cert.pem");
    std::fs::write(&config, missing).unwrap();
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/cert.pem: cannot read certificate chain"),
        "{stderr}"
    );

    let mismatched = text.replace(
        ca.key_path.to_str().unwrap(),
        other.key_path.to_str().unwrap(),
    );
    std::fs::write(&config, mismatched).unwrap();
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("do not go together"), "{stderr}");
}

#[tokio::test]
async fn render_is_byte_identical_to_what_serve_answers() {
    let server = TestServer::start().await;
    let config = server.config_path.to_str().unwrap();
    for address in [
        "alice@contoso.test",
        "Bob@hotmail.fr",
        "anna@bücher.test",
        "carol@fabrikam.test",
    ] {
        let output = run(&["render", "thunderbird", address, "--config", config]);
        assert!(output.status.success(), "{output:?}");
        let path = format!(
            "/mail/config-v1.1.xml?emailaddress={}",
            common::encode(address)
        );
        let served = server.get_tls("autoconfig.contoso.test", &path).await;
        assert_eq!(served.status, http::StatusCode::OK);
        assert_eq!(output.stdout, served.body.to_vec(), "{address}");
    }
    server.shutdown().await;
}

#[test]
fn render_explains_a_bad_address_or_unknown_domain() {
    let output = run(&["render", "thunderbird", "alice"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("\"alice\": the email address has no @")
    );
    let output = run(&["render", "thunderbird", "alice@nobody.test"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("the domain nobody.test is not served here")
    );
}

#[test]
fn the_example_configurations_pass_check() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = run(&[
        "check",
        "--config",
        &format!("{root}/mailsetup.example.toml"),
    ]);
    assert!(output.status.success(), "{output:?}");
    // The production example, with its /etc paths pointed at test files.
    let ca = TestCa::new();
    let live = ca.dir.path().join("certs");
    ca.issue_into(
        &live.join("autoconfig.contoso.com"),
        &["autoconfig.contoso.com", "autodiscover.contoso.com"],
        false,
    );
    let text = std::fs::read_to_string(format!("{root}/examples/mailsetup.production.toml"))
        .unwrap()
        .replace(
            "/run/credentials/mailsetup.service/tls-fullchain.pem",
            ca.cert_path.to_str().unwrap(),
        )
        .replace(
            "/run/credentials/mailsetup.service/tls-privkey.pem",
            ca.key_path.to_str().unwrap(),
        )
        .replace("/etc/mailsetup/certs", live.to_str().unwrap());
    let config = write_file(ca.dir.path(), "production.toml", &text);
    let output = run(&["check", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout
            .contains("certificate (directory): autoconfig.contoso.com, autodiscover.contoso.com"),
        "{stdout}"
    );
}

/// `[page]` mistakes are refused by `check` with the file, line and column
/// of the value and what it must be; a real origin passes.
#[test]
fn check_refuses_page_mistakes_with_their_position() {
    let ca = TestCa::new();
    for (value, accepted) in [
        ("public_url = \"https://setup.contoso.test\"", true),
        ("public_url = \"https://setup.contoso.test:8443/\"", true),
        ("public_url = \"http://[2001:db8::1]:8080\"", true),
        ("public_url = \"https://a:b:c\"", false),
        ("public_url = \"https://setup.contoso.test:0\"", false),
        ("public_url = \"https://setup.contoso.test:99999\"", false),
        ("public_url = \"https://setup.contoso.test:443x\"", false),
        ("public_url = \"https://user@setup.contoso.test\"", false),
        ("public_url = \"https://setup.contoso.test/?x=1\"", false),
        ("public_url = \"ftp://setup.contoso.test\"", false),
        ("public_url = \"https://setup_contoso.test\"", false),
        ("help = \"call Bob\"", false),
        ("organization = \"\"", false),
    ] {
        let config = write_config(&ca, &format!("[page]\n{value}\n"));
        let output = run(&["check", "--config", config.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if accepted {
            assert!(output.status.success(), "{value}: {stderr}");
            continue;
        }
        assert_eq!(output.status.code(), Some(1), "{value}: {stderr}");
        let key = value.split(' ').next().unwrap();
        let text = std::fs::read_to_string(&config).unwrap();
        let line = text.lines().position(|l| l == value).unwrap() + 1;
        let column = value.find('"').unwrap() + 1;
        assert!(
            stderr.contains(&format!("{}:{line}:{column}", config.display())),
            "{value}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("[page] {key}")),
            "{value}: {stderr}"
        );
    }
}

//! `/healthz` as a load balancer sees it, through the real binary: no
//! listener answers before the configuration and certificates are loaded;
//! after SIGTERM it answers 503 for `shutdown_delay_secs` while every other
//! route is still served, then the listeners close, requests in flight
//! finish within `shutdown_grace_secs` and the process exits.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::serve_process::{http_get, write_fifo};
use crate::common::{TEST_DOMAINS, TestCa, assert_refused_at, write_file};

/// A configuration on loopback (`http` is the plain listener's address)
/// with the test CA's certificate (or `private_key`) and `limits` in
/// `[limits]`.
fn config(ca: &TestCa, http: &str, private_key: Option<&Path>, limits: &str) -> std::path::PathBuf {
    let text = format!(
        "[server]\nhttp = [\"{http}\"]\nhttps = [\"127.0.0.1:0\"]\nhttp_policy = \"serve\"\n\n\
         [tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n[apple]\nsign = false\n\n\
         [limits]\n{limits}\n\n{TEST_DOMAINS}",
        ca.cert_path.display(),
        private_key.unwrap_or(&ca.key_path).display(),
    );
    write_file(ca.dir.path(), "mailsetup.toml", &text)
}

/// The exit status once the process exits, within `limit`.
fn exit_within(server: &mut ServeProcess, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const AUTOCONFIG: &str = "/mail/config-v1.1.xml?emailaddress=a%40contoso.test";

#[tokio::test]
async fn after_sigterm_healthz_answers_503_during_the_delay_then_the_drain_ends_it() {
    let ca = TestCa::new();
    let config = config(
        &ca,
        "127.0.0.1:0",
        None,
        "shutdown_delay_secs = 3\nshutdown_grace_secs = 5",
    );
    let mut server = ServeProcess::start(&config);
    let ready = http_get(server.http, "/healthz").await.unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    // A request in flight across the whole stop: its body is not all
    // there yet.
    let mut in_flight = tokio::net::TcpStream::connect(server.http).await.unwrap();
    in_flight
        .write_all(b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();

    server.signal("TERM");
    let signalled = Instant::now();
    let deadline = signalled + Duration::from_secs(20);
    // Within the delay: /healthz says not ready, every other route is
    // answered as before, on new connections.
    let healthz = loop {
        let answer = http_get(server.http, "/healthz").await.unwrap();
        if answer.starts_with("HTTP/1.1 503") {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never said 503: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(healthz.contains("not ready: shutting down"), "{healthz}");
    assert!(
        healthz
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{healthz}"
    );
    let autoconfig = http_get(server.http, AUTOCONFIG).await.unwrap();
    assert!(autoconfig.starts_with("HTTP/1.1 200"), "{autoconfig}");
    assert!(autoconfig.contains("<clientConfig"), "{autoconfig}");

    // Then the listeners close, while the request in flight is waited for.
    loop {
        match http_get(server.http, "/healthz").await {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {}
        }
        assert!(Instant::now() < deadline, "the listeners never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        signalled.elapsed() >= Duration::from_millis(2900),
        "the listeners closed {:?} after SIGTERM, before shutdown_delay_secs = 3",
        signalled.elapsed()
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    in_flight.write_all(b"defghij").await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(exit_within(&mut server, Duration::from_secs(10)).success());
}

#[tokio::test]
async fn sigint_stops_without_the_delay() {
    let ca = TestCa::new();
    let config = config(&ca, "127.0.0.1:0", None, "shutdown_delay_secs = 60");
    let mut server = ServeProcess::start(&config);
    server.signal("INT");
    assert!(exit_within(&mut server, Duration::from_secs(10)).success());
}

#[tokio::test]
async fn a_second_sigterm_ends_the_delay() {
    let ca = TestCa::new();
    let config = config(&ca, "127.0.0.1:0", None, "shutdown_delay_secs = 60");
    let mut server = ServeProcess::start(&config);
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http_get(server.http, "/healthz")
        .await
        .unwrap()
        .starts_with("HTTP/1.1 503")
    {
        assert!(Instant::now() < deadline, "/healthz never said 503");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.signal("TERM");
    assert!(exit_within(&mut server, Duration::from_secs(10)).success());
}

/// The private key is a FIFO, so loading blocks until the test writes it:
/// meanwhile the configured port refuses connections (nothing is bound
/// before everything is loaded), and the first answer is a 200.
#[tokio::test]
async fn nothing_answers_until_the_certificates_are_loaded() {
    let ca = TestCa::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http: SocketAddr = ([127, 0, 0, 1], port).into();
    let fifo = ca.dir.path().join("key.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // No look at the files during the test: reading the FIFO again would
    // wait for a writer forever.
    let config = config(
        &ca,
        &http.to_string(),
        Some(&fifo),
        "watch_interval_secs = 3600",
    );
    let mut child = serve_command(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let loading_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < loading_until {
        match http_get(http, "/healthz").await {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {}
            other => panic!("answered while loading: {other:?}"),
        }
        assert!(child.try_wait().unwrap().is_none(), "serve exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    write_fifo(&fifo, &std::fs::read(&ca.key_path).unwrap());
    let server = ServeProcess::ready(child);
    assert_eq!(server.http, http);
    let answer = http_get(server.http, "/healthz").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");
}

#[test]
fn shutdown_delay_out_of_range_is_refused_with_its_line() {
    let ca = TestCa::new();
    let config = config(&ca, "127.0.0.1:0", None, "shutdown_delay_secs = 301");
    assert_refused_at(
        &config,
        "shutdown_delay_secs",
        23,
        "limits.shutdown_delay_secs = 301 is out of range: it must be between 0 and 300",
    );
}

//! Production serving over real sockets: certificates chosen by SNI,
//! reload without dropping anything, /metrics, and the plain-HTTP policy.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::{self, KeepAlive, Scheme, TestCa, TestServer, write_config_with, write_file};

/// A configuration with a certificates directory and, optionally, the
/// test CA's leaf as default certificate.
fn sni_config(ca: &TestCa, with_default: bool, extra: &str) -> std::path::PathBuf {
    let default = if with_default {
        format!(
            "certificate = \"{}\"\nprivate_key = \"{}\"\n",
            ca.cert_path.display(),
            ca.key_path.display()
        )
    } else {
        String::new()
    };
    let text = format!(
        "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\n[tls]\n{default}certificates_dir = \"{}\"\n\n{extra}\n\
         [[domain]]\nname = \"contoso.test\"\nprofile = \"microsoft365\"\n\n\
         [[domain]]\nname = \"fabrikam.test\"\nprofile = \"microsoft365\"\n",
        ca.dir.path().join("live").display()
    );
    write_file(ca.dir.path(), "sni.toml", &text)
}

/// The leaf certificate the server presents for `sni`, or the handshake error.
async fn presented_leaf(server: &TestServer, sni: &str) -> Result<Vec<u8>, String> {
    let connector = tokio_rustls::TlsConnector::from(server.ca.client_config());
    let stream = tokio::net::TcpStream::connect(server.https).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from(sni.to_owned()).unwrap(), stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tls.get_ref().1.peer_certificates().unwrap()[0].to_vec())
}

#[tokio::test]
async fn each_name_gets_its_own_certificate_and_unknown_names_the_default() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    let contoso = ca.issue_into(
        &live.join("autoconfig.contoso.test"),
        &["autoconfig.contoso.test", "autodiscover.contoso.test"],
        false,
    );
    let fabrikam = ca.issue_into(
        &live.join("autoconfig.fabrikam.test"),
        &["autoconfig.fabrikam.test", "*.fabrikam.test"],
        false,
    );
    let config = sni_config(&ca, true, "");
    let default_leaf = rustls_pki_types::CertificateDer::pem_file_iter(&ca.cert_path)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec();
    let server = TestServer::start_from_file(ca, config).await;

    assert_eq!(
        presented_leaf(&server, "autoconfig.contoso.test")
            .await
            .unwrap(),
        contoso
    );
    assert_eq!(
        presented_leaf(&server, "autodiscover.contoso.test")
            .await
            .unwrap(),
        contoso
    );
    assert_eq!(
        presented_leaf(&server, "autoconfig.fabrikam.test")
            .await
            .unwrap(),
        fabrikam
    );
    // The wildcard covers one more label.
    assert_eq!(
        presented_leaf(&server, "autodiscover.fabrikam.test")
            .await
            .unwrap(),
        fabrikam
    );
    // A name no file covers gets the default certificate.
    assert_eq!(
        presented_leaf(&server, "localhost").await.unwrap(),
        default_leaf
    );
    // And the certificate serves real requests.
    let reply = server
        .get_tls(
            "autoconfig.fabrikam.test",
            "/mail/config-v1.1.xml?emailaddress=a%40fabrikam.test",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn without_a_default_an_unknown_name_fails_the_handshake_cleanly() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    let contoso = ca.issue_into(&live.join("contoso"), &["autoconfig.contoso.test"], false);
    let config = sni_config(&ca, false, "");
    let server = TestServer::start_from_file(ca, config).await;
    let error = presented_leaf(&server, "localhost").await.unwrap_err();
    assert!(error.contains("alert"), "{error}");
    // The server is unharmed.
    assert_eq!(
        presented_leaf(&server, "autoconfig.contoso.test")
            .await
            .unwrap(),
        contoso
    );
    server.shutdown().await;
}

/// A bad certificates_dir entry is named and skipped (issue: one lapsed
/// tenant must not take every other down); only the default is fatal.
#[test]
fn expired_or_mismatched_certificate_files_are_named_with_their_path() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    ca.issue_into(&live.join("old"), &["autoconfig.contoso.test"], true);
    let config = sni_config(&ca, true, "");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("live/old/fullchain.pem: the certificate expired"),
        "{stdout}"
    );

    std::fs::remove_dir_all(live.join("old")).unwrap();
    ca.issue_into(&live.join("a"), &["autoconfig.contoso.test"], false);
    ca.issue_into(&live.join("b"), &["autoconfig.fabrikam.test"], false);
    std::fs::copy(live.join("a/privkey.pem"), live.join("b/privkey.pem")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("live/b/fullchain.pem and "), "{stdout}");
    assert!(stdout.contains("do not go together"), "{stdout}");
}

/// The domain table of generation `n`: always contoso.test, plus `gen<n>.test`.
fn generation(ca: &TestCa, n: usize) -> String {
    format!(
        "[[domain]]\nname = \"gen{n}.test\"\nprofile = \"outlook\"\ndisplay_name = \"Generation {n}\"\n"
    ) + &std::fs::read_to_string(ca.dir.path().join("base.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_reloads_under_load_drop_no_request_and_take_effect() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    std::fs::copy(&config, ca.dir.path().join("base.toml")).unwrap();
    std::fs::write(&config, generation(&ca, 0)).unwrap();
    let server = Arc::new(TestServer::start_from_file(ca, config.clone()).await);

    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut connection =
            KeepAlive::open(&server.ca, server.https, "autoconfig.contoso.test").await;
        let (stop, served) = (stop.clone(), served.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match connection
                    .get("/mail/config-v1.1.xml?emailaddress=a%40contoso.test")
                    .await
                {
                    Ok((StatusCode::OK, _)) => {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    other => failures.push(format!("{other:?}")),
                }
            }
            failures
        }));
    }

    let mut good = 0;
    for n in 1..=20 {
        if n % 2 == 0 {
            std::fs::write(&config, generation(&server.ca, n)).unwrap();
            server.reload().expect("a good file reloads");
            good = n;
        } else {
            // Broken in a different way each time: syntax, unknown profile.
            let broken = if n % 4 == 1 {
                "[[domain]\n".to_owned()
            } else {
                generation(&server.ca, n).replace("\"outlook\"", "\"nope\"")
            };
            std::fs::write(&config, broken).unwrap();
            let error = server
                .reload()
                .expect_err("a bad file is refused")
                .to_string();
            assert!(error.contains("mailsetup.toml:"), "{error}");
        }
        // The last good generation answers; the refused one does not.
        let reply = server
            .get_tls(
                "autoconfig.contoso.test",
                &format!("/mail/config-v1.1.xml?emailaddress=a%40gen{good}.test"),
            )
            .await;
        if good > 0 {
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "generation {good} after reload {n}"
            );
            assert!(reply.text().contains(&format!("Generation {good}")));
        }
        if n % 2 == 1 {
            let refused = server
                .get_tls(
                    "autoconfig.contoso.test",
                    &format!("/mail/config-v1.1.xml?emailaddress=a%40gen{n}.test"),
                )
                .await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND);
        }
        if good >= 2 {
            let old = server
                .get_tls(
                    "autoconfig.contoso.test",
                    &format!(
                        "/mail/config-v1.1.xml?emailaddress=a%40gen{}.test",
                        good - 2
                    ),
                )
                .await;
            assert_eq!(
                old.status,
                StatusCode::NOT_FOUND,
                "generation {} is gone",
                good - 2
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let failures = client.await.unwrap();
        assert!(failures.is_empty(), "{failures:?}");
    }
    assert!(
        served.load(Ordering::Relaxed) > 100,
        "load kept flowing: {}",
        served.load(Ordering::Relaxed)
    );

    let metrics = parse_prometheus(&server.get("localhost", "/metrics").await.text());
    assert_eq!(
        metrics["mailsetup_config_reloads_total{outcome=\"success\"}"],
        10.0
    );
    assert_eq!(
        metrics["mailsetup_config_reloads_total{outcome=\"failure\"}"],
        10.0
    );
    Arc::try_unwrap(server).ok().unwrap().shutdown().await;
}

/// Parses the Prometheus text format independently of our renderer:
/// `name{labels} value` lines, `# HELP`/`# TYPE` comments. Panics on
/// anything else.
fn parse_prometheus(text: &str) -> std::collections::HashMap<String, f64> {
    let mut samples = std::collections::HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.split_whitespace();
            let kind = words.next().unwrap();
            assert!(kind == "HELP" || kind == "TYPE", "{line}");
            let name = words.next().unwrap();
            if kind == "TYPE" {
                let metric_type = words.next().unwrap();
                assert!(
                    ["counter", "gauge", "histogram"].contains(&metric_type),
                    "{line}"
                );
                typed.insert(name.to_owned());
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "sample before its TYPE: {line}");
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
        }
        samples.insert(
            series.to_owned(),
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value {line:?}")),
        );
    }
    samples
}

#[tokio::test]
async fn metrics_parse_and_move_with_requests() {
    let server = TestServer::start().await;
    let key = "mailsetup_requests_total{endpoint=\"thunderbird\",status=\"200\",profile=\"microsoft365\"}";
    let before = parse_prometheus(&server.get("localhost", "/metrics").await.text());
    assert_eq!(before.get(key), None);
    for _ in 0..3 {
        server
            .get(
                "localhost",
                "/mail/config-v1.1.xml?emailaddress=a%40contoso.test",
            )
            .await;
    }
    server
        .get(
            "localhost",
            "/mail/config-v1.1.xml?emailaddress=a%40nobody.test",
        )
        .await;
    let reply = server.get("localhost", "/metrics").await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let after = parse_prometheus(&reply.text());
    assert_eq!(after[key], 3.0);
    assert_eq!(
        after["mailsetup_requests_total{endpoint=\"thunderbird\",status=\"404\",profile=\"\"}"],
        1.0
    );
    assert_eq!(
        after["mailsetup_request_duration_seconds_count{endpoint=\"thunderbird\"}"],
        4.0
    );
    assert_eq!(
        after["mailsetup_request_duration_seconds_bucket{endpoint=\"thunderbird\",le=\"+Inf\"}"],
        4.0
    );
    let expiry = after
        .iter()
        .find(|(k, _)| k.starts_with("mailsetup_certificate_expiry_days{source=\"default\""))
        .expect("the default certificate's expiry");
    assert!(*expiry.1 > 300.0, "{expiry:?}");
    assert_eq!(after["mailsetup_acme_failures_total"], 0.0);
    server.shutdown().await;
}

#[tokio::test]
async fn with_an_admin_listener_metrics_leave_the_public_listeners() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[server]\n", "[server]\nadmin = [\"127.0.0.1:0\"]\n");
    std::fs::write(&config, text).unwrap();
    let server = TestServer::start_from_file(ca, config).await;
    assert_eq!(
        server.get("localhost", "/metrics").await.status,
        StatusCode::NOT_FOUND
    );
    let admin = server.running().admin_addrs[0];
    let answer = raw_get(admin, "/metrics").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("mailsetup_config_reloads_total"));
    let answer = raw_get(admin, "/mail/config-v1.1.xml?emailaddress=a%40contoso.test").await;
    assert!(
        answer.starts_with("HTTP/1.1 404"),
        "the admin listener serves no documents: {answer}"
    );
    server.shutdown().await;
}

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn plain_http_answers_autoconfig_and_redirects_the_rest() {
    let server = TestServer::start_with_config("http_policy = \"redirect\"", "").await;
    let port = server.https.port();
    // Thunderbird's http:// fallback is answered.
    let reply = server
        .get(
            "autoconfig.contoso.test",
            "/mail/config-v1.1.xml?emailaddress=a%40contoso.test",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        server
            .get("contoso.test", "/v1.1/contoso.test")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server.get("localhost", "/healthz").await.status,
        StatusCode::OK
    );
    // An unknown ACME token is a plain 404, not a redirect.
    assert_eq!(
        server
            .get("contoso.test", "/.well-known/acme-challenge/abc")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Outlook's "HTTP redirect method": GET → 302 to the same path on HTTPS.
    let reply = server
        .get(
            "autodiscover.contoso.test",
            "/autodiscover/autodiscover.xml",
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        Some(
            format!("https://autodiscover.contoso.test:{port}/autodiscover/autodiscover.xml")
                .as_str()
        )
    );
    // POST keeps its method: 308.
    let reply = server
        .send(
            Scheme::Http,
            Method::POST,
            "autodiscover.contoso.test",
            "/Autodiscover/Autodiscover.xml",
            Bytes::from_static(b"<x/>"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT);
    assert!(
        reply
            .header("location")
            .unwrap()
            .starts_with("https://autodiscover.contoso.test:")
    );
    // The landing page moves too, with its query.
    let reply = server
        .get("autoconfig.contoso.test", "/?email=a%40contoso.test")
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with("/?email=a%40contoso.test")
    );
    // A redirect is never built from a Host that is not a domain name.
    let reply = server
        .get("127.0.0.1", "/autodiscover/autodiscover.xml")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.header("location").is_none());
    // HTTPS answers everything.
    let reply = server
        .send(
            Scheme::Https,
            Method::POST,
            "autodiscover.contoso.test",
            "/autodiscover/autodiscover.xml",
            Bytes::from_static(b"<x/>"),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "the POX parser answered: {}",
        reply.text()
    );
    server.shutdown().await;
}

/// The pid file names a live `serve` process and `reload` signals it.
#[test]
fn reload_command_validates_then_signals_the_running_server() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let pid_file = ca.dir.path().join("mailsetup.pid");
    let mut serve = ServeProcess::spawn(
        serve_command(&config)
            .arg("--pid-file")
            .arg(&pid_file)
            .stderr(std::process::Stdio::null()),
    );
    let http = serve.http;
    let status_of = |path: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(raw_get(http, path));
        answer[9..12].to_owned()
    };
    let path = "/mail/config-v1.1.xml?emailaddress=a%40new.test";
    assert_eq!(status_of(path), "404");

    let reload = |config: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
            .args(["reload", "--config"])
            .arg(config)
            .arg("--pid-file")
            .arg(&pid_file)
            .output()
            .unwrap()
    };
    // A broken file is refused by the command itself; nothing is signalled.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[domain]]\nname = \"new.test\"\nprofile = \"missing\"\n"),
    )
    .unwrap();
    let output = reload(&config);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown profile \"missing\""));
    // A good one is validated, signalled, and served.
    std::fs::write(
        &config,
        format!("{text}\n[[domain]]\nname = \"new.test\"\nprofile = \"outlook\"\n"),
    )
    .unwrap();
    let output = reload(&config);
    assert!(output.status.success(), "{output:?}");
    let mut status = String::new();
    for _ in 0..50 {
        status = status_of(path);
        if status == "200" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, "200");
    assert!(serve.terminate().success());
    assert!(!pid_file.exists(), "the pid file is removed at exit");
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_on_http1_and_http2() {
    let server =
        TestServer::start_with("idle_timeout_secs = 1\nheader_read_timeout_secs = 5").await;
    // HTTP/2 has no idle timer of its own in hyper: ours closes it.
    let stream = server.connect_tls("autoconfig.contoso.test").await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    let closed = tokio::spawn(connection);
    let request = http::Request::builder()
        .uri("https://autoconfig.contoso.test/healthz")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        sender.send_request(request).await.unwrap().status(),
        StatusCode::OK
    );
    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(5), closed)
        .await
        .expect("the server closes an idle HTTP/2 connection")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );

    // HTTP/1.1 keep-alive: closed too.
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(server.http).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let answer = common::read_until_closed(&mut stream, std::time::Duration::from_secs(8)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown().await;
}

#[test]
fn json_logs_are_one_object_per_request_without_addresses() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let log_path = ca.dir.path().join("log.json");
    let mut serve = ServeProcess::spawn(
        serve_command(&config)
            .args(["--log-format", "json"])
            .stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(raw_get(
        serve.http,
        "/mail/config-v1.1.xml?emailaddress=secret.person%40contoso.test",
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(serve.terminate().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .filter(|entry: &serde_json::Value| entry["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 1, "{log}");
    let fields = &requests[0]["fields"];
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["path"], "/mail/config-v1.1.xml");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["endpoint"], "thunderbird");
    assert_eq!(fields["domain"], "contoso.test");
    assert_eq!(fields["profile"], "microsoft365");
    assert!(fields["latency_us"].as_u64().is_some());
    // Addresses are personal data: logged only when the admin asks.
    assert!(!log.contains("secret.person"), "{log}");
}

#[test]
fn a_certificate_not_valid_yet_is_named_with_its_path() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    ca.issue_into_with_dates(
        &live.join("future"),
        &["autoconfig.contoso.test"],
        (2090, 1, 1),
        (2091, 1, 1),
    );
    let config = sni_config(&ca, true, "");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("live/future/fullchain.pem: the certificate is not valid yet"),
        "{stdout}"
    );
}

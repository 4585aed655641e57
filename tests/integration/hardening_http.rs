//! Hardening of the HTTP surface, second pass: HTTP/2 connections that
//! only exchange PINGs are closed, plain HTTP cannot take every slot,
//! addresses stay out of the log however the path encodes them, redirects
//! go only to names this server answers for, one Host, `/metrics` behind a
//! proxy, personal answers are not publicly cacheable, and early errors
//! reach the client.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::{self, Scheme, TestCa, TestServer, write_config_with};

/// Reads until the server closes the connection or `limit` passes; the
/// time it took, or `None` if the connection stayed open.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame.
const H2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// A client that sends HTTP/2's preface and never a request is cut by the
/// header timeout (it once held its slot forever).
#[tokio::test]
async fn http2_preface_without_a_request_is_closed_by_the_header_timeout() {
    let server =
        TestServer::start_with("header_read_timeout_secs = 2\nidle_timeout_secs = 60").await;
    let mut stream = TcpStream::connect(server.http).await.unwrap();
    stream.write_all(H2_PREFACE).await.unwrap();
    stream.write_all(H2_SETTINGS).await.unwrap();
    let took = closed_within(&mut stream, Duration::from_secs(10))
        .await
        .expect("the server closes a connection that never sends a request");
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    server.shutdown().await;
}

/// Sends a GET on a kept-alive HTTP/1.1 connection and reads its answer
/// (the health check's, whose length is known).
async fn keep_alive_get(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.ends_with(b"\r\n\r\nok\n") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer")
            .unwrap();
        assert_ne!(read, 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A plain HTTP connection on which one request was answered and kept
/// alive.
async fn after_one_request(server: &TestServer) -> TcpStream {
    let mut stream = TcpStream::connect(server.http).await.unwrap();
    let first = keep_alive_get(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    stream
}

/// Between HTTP/1.1 requests a connection waits `idle_timeout_secs` for
/// the next one, not the header timeout (which hyper's own header timer
/// used to apply to that wait), and is closed when that runs out.
#[tokio::test]
async fn http1_keep_alive_waits_the_idle_timeout_not_the_header_timeout() {
    let server =
        TestServer::start_with("header_read_timeout_secs = 1\nidle_timeout_secs = 3").await;
    let mut stream = after_one_request(&server).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let second = keep_alive_get(&mut stream).await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    let took = closed_within(&mut stream, Duration::from_secs(8))
        .await
        .expect("the server closes the connection once it is idle for idle_timeout_secs");
    assert!(took >= Duration::from_millis(2500), "{took:?}");
    server.shutdown().await;
}

/// A request head that begins after an earlier request still has to
/// arrive whole within the header timeout, however long the idle timeout.
#[tokio::test]
async fn http1_head_after_a_request_is_cut_by_the_header_timeout() {
    let server =
        TestServer::start_with("header_read_timeout_secs = 1\nidle_timeout_secs = 60").await;
    let mut stream = after_one_request(&server).await;
    // Inside the first look's interval, so the cut must come from the
    // head's own deadline.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        .await
        .unwrap();
    let took = closed_within(&mut stream, Duration::from_secs(10))
        .await
        .expect("the server closes a connection whose head stalls");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took <= Duration::from_millis(1900), "{took:?}");
    server.shutdown().await;
}

/// A head that begins before the idle timeout runs out has the whole
/// header timeout to arrive, even past the idle deadline.
#[tokio::test]
async fn http1_head_begun_in_time_gets_the_whole_header_timeout() {
    let server =
        TestServer::start_with("header_read_timeout_secs = 3\nidle_timeout_secs = 1").await;
    let mut stream = after_one_request(&server).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    // Past the idle deadline (1 s after the first answer), inside the
    // head's 3 s.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    stream.write_all(b"Host: a\r\n\r\n").await.unwrap();
    let answer = common::read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown().await;
}

/// A real HTTP/2 client (hyper's, which answers the server's keep-alive
/// PINGs) makes one request and then nothing: the connection is closed
/// once the idle timeout passes, although PINGs flow every 30 s. The idle
/// timeout is longer than the PING interval, so PINGs happen meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn idle_http2_connection_is_closed_whatever_pings_flow() {
    let server =
        TestServer::start_with("idle_timeout_secs = 32\nheader_read_timeout_secs = 5").await;
    let stream = TcpStream::connect(server.http).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        // The client pings too: more traffic that is not a request.
        .keep_alive_interval(Duration::from_secs(10))
        .keep_alive_while_idle(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let closed = tokio::spawn(connection);
    let request = Request::builder()
        .uri("http://localhost/healthz")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(45), closed)
        .await
        .expect("the server closes an HTTP/2 connection idle past idle_timeout_secs")
        .unwrap()
        .ok();
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(31), "{took:?}");
    server.shutdown().await;
}

/// Plain HTTP (where an h2c client needs no TLS) cannot take every slot:
/// a quarter stays for HTTPS.
#[tokio::test]
async fn plain_http_cannot_take_the_slots_https_needs() {
    let server = TestServer::start_with("max_connections = 4\nheader_read_timeout_secs = 20").await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(server.http).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        server.get_tls("autoconfig.contoso.test", "/healthz"),
    )
    .await
    .expect("HTTPS is served while plain HTTP holds its whole share");
    assert_eq!(reply.status, StatusCode::OK);
    drop(held);
    server.shutdown().await;
}

/// With `[log] addresses = false` no address reaches the log, however the
/// path spells the `@`.
#[test]
fn addresses_in_paths_are_redacted_whatever_their_encoding() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "[log]\naddresses = false\n");
    let log_path = ca.dir.path().join("log.json");
    let mut serve = ServeProcess::spawn(
        serve_command(&config)
            .args(["--log-format", "json"])
            .stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let paths = [
        "/apple/secret.one@contoso.test.mobileconfig",
        "/apple/secret.two%40contoso.test.mobileconfig",
        "/apple/secret.three%2540contoso.test.mobileconfig",
        "/autodiscover/autodiscover.json/v1.0/secret.four%40contoso.test?Protocol=ActiveSync",
        "/Autodiscover/Autodiscover.json/V1.0/secret.five%2540contoso.test?Protocol=ActiveSync",
        "/v1.1/secret.six%252540contoso.test",
        "/nothing/secret.seven%2540contoso.test",
        "/nothing/secret.eight%25%34%30contoso.test",
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for path in paths {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let answer = runtime.block_on(common::raw_exchange(serve.http, request.as_bytes()));
        assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    }
    assert!(serve.terminate().success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    let requests = log
        .lines()
        .filter(|line| line.contains("\"request\""))
        .count();
    assert_eq!(requests, paths.len(), "{log}");
    for secret in [
        "secret.one",
        "secret.two",
        "secret.three",
        "secret.four",
        "secret.five",
        "secret.six",
        "secret.seven",
        "secret.eight",
    ] {
        assert!(!log.contains(secret), "{secret} logged: {log}");
    }
}

#[tokio::test]
async fn redirects_go_only_to_names_this_server_answers_for() {
    let server = TestServer::start_with_config("http_policy = \"redirect\"", "").await;
    for (host, status) in [
        ("autodiscover.contoso.test", StatusCode::FOUND),
        ("contoso.test", StatusCode::FOUND),
        ("autoconfig.hotmail.fr", StatusCode::FOUND),
        ("evil.example", StatusCode::BAD_REQUEST),
        ("autodiscover.evil.example", StatusCode::BAD_REQUEST),
        ("login.contoso.test.evil.example", StatusCode::BAD_REQUEST),
    ] {
        let reply = server.get(host, "/autodiscover/autodiscover.xml").await;
        assert_eq!(reply.status, status, "{host}: {}", reply.text());
        if status == StatusCode::BAD_REQUEST {
            assert!(reply.header("location").is_none(), "{host}");
        }
    }
    // An absolute-form target names the host too.
    let answer = common::raw_exchange(
        server.http,
        b"GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("location:"),
        "{answer}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn two_host_headers_or_userinfo_get_400() {
    let server = TestServer::start().await;
    let answer = common::raw_exchange(
        server.http,
        b"GET /healthz HTTP/1.1\r\nHost: contoso.test\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("more than one Host"), "{answer}");
    let answer = common::raw_exchange(
        server.http,
        b"GET http://user@contoso.test/healthz HTTP/1.1\r\nHost: contoso.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("userinfo"), "{answer}");
    // HTTP/2's :authority with userinfo.
    let stream = server.connect_tls("autoconfig.contoso.test").await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = Request::builder()
        .uri("https://user@autoconfig.contoso.test/healthz")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.shutdown().await;
}

/// Behind a TLS proxy on the same host (`http_policy = "serve"`), every
/// client is local: `/metrics`, which names every tenant's certificates,
/// is not served unless the operator says so.
#[tokio::test]
async fn metrics_leave_public_listeners_under_the_serve_policy() {
    for (server_keys, expected) in [
        ("http_policy = \"serve\"\n", StatusCode::NOT_FOUND),
        (
            "http_policy = \"serve\"\nmetrics_from_loopback = true\n",
            StatusCode::OK,
        ),
        ("http_policy = \"redirect\"\n", StatusCode::OK),
    ] {
        let ca = TestCa::new();
        let path = ca.dir.path().join("metrics.toml");
        std::fs::write(
            &path,
            format!(
                "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n{server_keys}\n\
                 [tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
                ca.cert_path.display(),
                ca.key_path.display()
            ),
        )
        .unwrap();
        let config = mailsetup::config::Config::load(Some(&path)).unwrap();
        let running = mailsetup::server::start(config).await.unwrap();
        let (http, https) = (running.http_addrs[0], running.https_addrs[0]);
        let server = TestServer::for_process(ca, path, http, https);
        // Over HTTPS: under `redirect`, plain HTTP redirects /metrics.
        let reply = server.get_tls("localhost", "/metrics").await;
        assert_eq!(reply.status, expected, "{server_keys}");
        running.shutdown().await;
    }
}

#[tokio::test]
async fn answers_with_an_address_are_private_to_caches() {
    let server = TestServer::start_with("[apple]\nsign = false\n").await;
    let cases = [
        (
            "/mail/config-v1.1.xml?emailaddress=a%40contoso.test",
            "private",
        ),
        ("/apple/a@contoso.test.mobileconfig", "private"),
        (
            "/autodiscover/autodiscover.json/v1.0/a@contoso.test?Protocol=ActiveSync",
            "private",
        ),
        ("/v1.1/contoso.test", "public"),
        ("/mail/config-v1.1.xml", "public"),
    ];
    for (path, expected) in cases {
        let reply = server.get("autoconfig.contoso.test", path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
        let cache = reply.header("cache-control").unwrap();
        assert!(cache.starts_with(expected), "{path}: {cache}");
    }
    let pox = b"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>a@contoso.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>";
    let reply = server
        .send(
            Scheme::Http,
            Method::POST,
            "autodiscover.contoso.test",
            "/autodiscover/autodiscover.xml",
            Bytes::from_static(pox),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(
        reply
            .header("cache-control")
            .unwrap()
            .starts_with("private")
    );
    server.shutdown().await;
}

/// Reads an answer's head (status line and headers); panics when it does
/// not arrive within `limit` for each read, or the connection fails first
/// (the answer was lost).
async fn read_head(reader: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(limit, reader.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buffer[..n]),
            other => panic!(
                "no answer: {other:?}, got {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A declared body over the cap is refused at once, before the client
/// sends it (not 408 once the body timeout has run out).
#[tokio::test]
async fn oversized_content_length_gets_413_at_once() {
    let server = TestServer::start_with("header_read_timeout_secs = 10").await;
    let mut stream = TcpStream::connect(server.http).await.unwrap();
    stream
        .write_all(
            b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: contoso.test\r\n\
              Content-Length: 10000000\r\n\r\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_head(&mut stream, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.shutdown().await;
}

/// A client still sending when the server answers early (431 for a head
/// over the cap) reads the answer: the server stops reading but lingers
/// instead of closing under it, which would reset the connection and
/// destroy the answer in flight.
#[tokio::test]
async fn early_431_reaches_a_client_that_is_still_sending() {
    let server = TestServer::start().await;
    let stream = TcpStream::connect(server.http).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            .await;
        // 2 MiB of header lines: far over the 32 KiB cap, still being sent
        // when the 431 comes back.
        let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
        for _ in 0..2048 {
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let answer = read_head(&mut reader, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    sender.abort();
    server.shutdown().await;
}

/// An HTTP/2 header block over the cap gets 431, not a refused stream
/// that clients retry.
#[tokio::test]
async fn http2_oversized_headers_get_431() {
    let server = TestServer::start().await;
    let stream = server.connect_tls("autoconfig.contoso.test").await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder().uri("https://autoconfig.contoso.test/healthz");
    for i in 0..40 {
        request = request.header(format!("x-filler-{i}"), "a".repeat(1000));
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::new())).unwrap())
        .await
        .expect("an answer, not a refused stream");
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("header fields are larger"));
    server.shutdown().await;
}

/// `0.0.0.0:P` and `[::]:P` together (what the production example
/// configures) both bind: an IPv6 listener takes IPv6 only, whatever the
/// host's bindv6only default, and each family is answered on its own.
#[tokio::test]
async fn ipv4_and_ipv6_wildcards_share_a_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ca = TestCa::new();
    let path = ca.dir.path().join("dual.toml");
    std::fs::write(
        &path,
        format!("[server]\nhttp = [\"0.0.0.0:{port}\", \"[::]:{port}\"]\nhttps = []\nhttp_policy = \"serve\"\n"),
    )
    .unwrap();
    let config = mailsetup::config::Config::load(Some(&path)).unwrap();
    let running = mailsetup::server::start(config)
        .await
        .expect("both wildcards bind the same port");
    for addr in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let answer = common::raw_exchange(
            addr.parse().unwrap(),
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{addr}: {answer}");
    }
    running.shutdown().await;
}

/// A `[limits]` change on reload cannot take effect (the connection limits
/// are fixed when the listeners start): the log says so, as it does for
/// listeners, instead of ignoring it silently.
#[test]
fn a_limits_change_on_reload_is_reported() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "max_connections = 100");
    let log_path = ca.dir.path().join("log.txt");
    let mut serve = ServeProcess::spawn(
        serve_command(&config).stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("max_connections = 100", "max_connections = 200");
    std::fs::write(&config, text).unwrap();
    serve.hang_up();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = String::new();
    while Instant::now() < deadline && !log.contains("configuration reloaded") {
        std::thread::sleep(Duration::from_millis(50));
        log = std::fs::read_to_string(&log_path).unwrap();
    }
    assert!(serve.terminate().success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("[limits] changes take effect at the next restart"),
        "{log}"
    );
}

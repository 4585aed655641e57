//! What a hostile internet can send, through real sockets: slow clients,
//! too many connections, oversized heads and bodies, HTTP/2 stream abuse,
//! request smuggling shapes, and credentials that must be neither used,
//! asked for, nor logged.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::{self, Scheme, TestServer};

const CONFIG_PATH: &str = "/mail/config-v1.1.xml?emailaddress=alice%40contoso.test";

/// A plain HTTP/1.1 keep-alive client connection.
async fn http1_connection(
    server: &TestServer,
) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(server.http).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

async fn get_on(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>) -> StatusCode {
    sender.ready().await.unwrap();
    let request = Request::builder()
        .uri("/healthz")
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    status
}

#[tokio::test]
async fn slow_header_clients_are_cut_and_cannot_starve_others() {
    // Every connection slot is taken by a client that never finishes its
    // request head. Connections over the limit wait (held by the accept
    // loop, then in the kernel's backlog), so the normal client is served
    // as soon as the header timeout frees the slots.
    let server = TestServer::start_with("max_connections = 8\nheader_read_timeout_secs = 1").await;
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(server.http).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Let the server accept all eight before the normal client arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let normal = tokio::time::timeout(
        Duration::from_secs(5),
        common::raw_exchange(
            server.http,
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
    )
    .await
    .expect("the normal client is served once the slow ones are cut");
    let waited = started.elapsed();
    assert!(normal.starts_with("HTTP/1.1 200"), "{normal}");
    // It did have to wait for the slots: the limit is real.
    assert!(
        waited >= Duration::from_millis(500),
        "served after {waited:?}"
    );

    // Each slow client has been disconnected (EOF, or a 408 then EOF).
    for mut stream in slow {
        let rest = common::read_until_closed(&mut stream, Duration::from_secs(3)).await;
        assert!(
            rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
            "{rest}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_limit_queue_without_affecting_served_ones() {
    // Two slots. A connection over the limit is accepted and held until a
    // slot frees (later ones wait in the kernel's backlog); listeners that
    // are idle hold no slot, so both slots serve HTTP here although the
    // server also listens for HTTPS.
    let server = TestServer::start_with("max_connections = 2").await;
    let mut first = http1_connection(&server).await;
    let mut second = http1_connection(&server).await;
    assert_eq!(get_on(&mut first).await, StatusCode::OK);
    assert_eq!(get_on(&mut second).await, StatusCode::OK);

    // A third connection is over the limit: it waits, unanswered.
    let mut third = http1_connection(&server).await;
    let queued = tokio::spawn(async move {
        let status = get_on(&mut third).await;
        (status, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !queued.is_finished(),
        "the third connection was served over the limit"
    );

    // Meanwhile the served connections go on being served at full speed.
    for _ in 0..50 {
        assert_eq!(get_on(&mut first).await, StatusCode::OK);
        assert_eq!(get_on(&mut second).await, StatusCode::OK);
    }
    assert!(!queued.is_finished());

    // Closing one served connection lets the queued one in.
    drop(first);
    let (status, _) = tokio::time::timeout(Duration::from_secs(5), queued)
        .await
        .expect("the queued connection is served once a slot frees")
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get_on(&mut second).await, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_request_head_gets_431() {
    let server = TestServer::start().await;
    // 40 KiB of headers, over the 32 KiB cap on the request head.
    let mut raw = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for i in 0..40 {
        raw.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "a".repeat(1000)).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    let answer = common::raw_exchange(server.http, &raw).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("www-authenticate"));
    assert_eq!(
        server.get("localhost", "/healthz").await.status,
        StatusCode::OK
    );
    server.shutdown().await;
}

#[tokio::test]
async fn chunked_body_over_the_cap_gets_413() {
    // No Content-Length to refuse up front: the cap applies while reading.
    let server = TestServer::start().await;
    let mut raw = b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: localhost\r\n\
                    Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .to_vec();
    for _ in 0..20 {
        raw.extend_from_slice(b"400\r\n");
        raw.extend_from_slice(&[b'x'; 0x400]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let answer = common::raw_exchange(server.http, &raw).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn request_smuggling_shapes_are_refused() {
    let server = TestServer::start().await;
    for raw in [
        // chunked must be the final transfer coding (RFC 9112 §6.3).
        &b"POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"[..],
        // obs-fold (RFC 9112 §5.2): a server must reject or replace it.
        b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
        // Whitespace between a field name and the colon (RFC 9112 §5.1).
        b"POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        // A sign on Content-Length.
        b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
        // Two lengths in one field.
        b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!",
    ] {
        let answer = common::raw_exchange(server.http, raw).await;
        assert!(
            answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 501"),
            "{:?} → {answer}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    }
    assert_eq!(
        server.get("localhost", "/healthz").await.status,
        StatusCode::OK
    );
    server.shutdown().await;
}

/// Raw HTTP/2 frames over TLS (ALPN h2): what a well-behaved client
/// library will not send. RFC 9113 §4.1 frame layout.
fn h2_frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let length = payload.len() as u32;
    let mut frame = length.to_be_bytes()[1..].to_vec();
    frame.extend_from_slice(&[kind, flags]);
    frame.extend_from_slice(&stream_id.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

const H2_HEADERS: u8 = 0x1;
const H2_RST_STREAM: u8 = 0x3;
const H2_SETTINGS: u8 = 0x4;
const H2_GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// A request head in HPACK without Huffman or dynamic table (RFC 7541):
/// static-table :method (GET 0x82, POST 0x83) and :scheme https (0x87),
/// literal :path and :authority.
fn h2_request_head(method: u8, path: &str) -> Vec<u8> {
    let mut block = vec![method, 0x87, 0x04, path.len() as u8];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 9]);
    block.extend_from_slice(b"localhost");
    block
}

/// Opens TLS with ALPN h2 and sends the connection preface.
async fn h2_raw(server: &TestServer) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut stream = server.connect_tls("localhost").await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend(h2_frame(H2_SETTINGS, 0, 0, &[]));
    stream.write_all(&preface).await.unwrap();
    stream
}

/// The next frame (type, flags, stream, payload), or None at EOF.
async fn h2_read_frame(
    stream: &mut tokio_rustls::client::TlsStream<TcpStream>,
) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.ok()?;
    let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream_id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.ok()?;
    Some((head[3], head[4], stream_id, payload))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[tokio::test]
async fn http2_streams_over_the_limit_are_refused() {
    let server = TestServer::start().await;
    let mut stream = h2_raw(&server).await;
    // The server announces its limit (SETTINGS_MAX_CONCURRENT_STREAMS, 0x3).
    let settings = loop {
        let (kind, flags, _, payload) = h2_read_frame(&mut stream).await.unwrap();
        if kind == H2_SETTINGS && flags == 0 {
            break payload;
        }
    };
    let limit = settings
        .chunks(6)
        .find(|setting| setting[..2] == [0, 3])
        .map(|setting| u32_at(setting, 2));
    assert_eq!(limit, Some(64));

    // 100 streams at once, each left open (a POST whose body never comes).
    let mut flood = Vec::new();
    for i in 0..100u32 {
        let head = h2_request_head(0x83, "/autodiscover/autodiscover.xml");
        flood.extend(h2_frame(H2_HEADERS, END_HEADERS, 2 * i + 1, &head));
    }
    stream.write_all(&flood).await.unwrap();
    let mut refused = std::collections::BTreeSet::new();
    let counting = async {
        while refused.len() < 36 {
            let Some((kind, _, id, payload)) = h2_read_frame(&mut stream).await else {
                break;
            };
            assert_ne!(kind, H2_GOAWAY, "the whole connection was dropped");
            if kind == H2_RST_STREAM && u32_at(&payload, 0) == REFUSED_STREAM {
                refused.insert(id);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), counting)
        .await
        .expect("the streams over the limit are refused promptly");
    // Exactly the 36 streams past the 64th.
    assert_eq!(refused.first(), Some(&(2 * 64 + 1)));
    assert_eq!(refused.len(), 36);

    // Other clients are served meanwhile.
    assert_eq!(
        server.get_tls("localhost", CONFIG_PATH).await.status,
        StatusCode::OK
    );
    server.shutdown().await;
}

#[tokio::test]
async fn http2_rapid_reset_flood_is_cut_with_goaway() {
    // CVE-2023-44487: open a stream and cancel it at once, over and over,
    // so the server starts work it never gets to finish. Streams reset
    // before the server accepted them may not pile up (hyper's
    // max_pending_accept_reset_streams is 20): the server ends the
    // connection with GOAWAY (ENHANCE_YOUR_CALM).
    let server = TestServer::start().await;
    let mut stream = h2_raw(&server).await;
    let mut flood = Vec::new();
    for i in 0..1000u32 {
        let id = 2 * i + 1;
        let head = h2_request_head(0x82, CONFIG_PATH);
        flood.extend(h2_frame(H2_HEADERS, END_STREAM | END_HEADERS, id, &head));
        flood.extend(h2_frame(H2_RST_STREAM, 0, id, &CANCEL.to_be_bytes()));
    }
    // The server may close before it has read everything.
    let _ = stream.write_all(&flood).await;
    let goaway = async {
        loop {
            match h2_read_frame(&mut stream).await {
                Some((H2_GOAWAY, _, _, payload)) => return Some(u32_at(&payload, 4)),
                Some(_) => continue,
                None => return None,
            }
        }
    };
    let code = tokio::time::timeout(Duration::from_secs(10), goaway)
        .await
        .expect("the server answers the flood");
    assert_eq!(code, Some(ENHANCE_YOUR_CALM));

    // Others are still served.
    let started = Instant::now();
    assert_eq!(
        server.get_tls("localhost", CONFIG_PATH).await.status,
        StatusCode::OK
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    server.shutdown().await;
}

#[tokio::test]
async fn no_endpoint_asks_for_credentials_even_when_offered_them() {
    let server = TestServer::start().await;
    let pox = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@contoso.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;
    let cases: &[(Method, &str, &str)] = &[
        (Method::GET, CONFIG_PATH, ""),
        (Method::GET, "/v1.1/contoso.test", ""),
        (Method::POST, "/autodiscover/autodiscover.xml", pox),
        (Method::POST, "/Autodiscover/Autodiscover.xml", "garbage"),
        (Method::GET, "/autodiscover/autodiscover.xml", ""),
        (
            Method::GET,
            "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=ActiveSync",
            "",
        ),
        (Method::GET, "/autodiscover/autodiscover.json?Email=x", ""),
        (Method::GET, "/nothing-here", ""),
        (Method::DELETE, "/", ""),
    ];
    for scheme in [Scheme::Http, Scheme::Https] {
        for (method, path, body) in cases {
            for authorization in [
                "Basic YWxpY2U6aHVudGVyMg==",
                "Bearer eyJhbGciOi",
                "NTLM TlRMTVNT",
            ] {
                let request = Request::builder()
                    .method(method.clone())
                    .uri(*path)
                    .header("host", "autodiscover.contoso.test")
                    .header("authorization", authorization)
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap();
                let reply = server.send_request(scheme, request).await;
                assert!(
                    reply.status.as_u16() < 500,
                    "{method} {path}: {}",
                    reply.status
                );
                assert_ne!(reply.status, StatusCode::UNAUTHORIZED);
                assert!(
                    reply.header("www-authenticate").is_none(),
                    "{method} {path} asked for credentials"
                );
            }
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn authorization_is_never_written_to_the_log() {
    // The real binary, at debug level, with its log captured.
    let ca = common::TestCa::new();
    let config = common::write_config(&ca, "");
    let log_path = ca.dir.path().join("stderr.log");
    let serve = ServeProcess::spawn(
        serve_command(&config)
            .args(["--log-level", "debug"])
            .stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let (http, https) = (serve.http, serve.https);

    const SECRETS: [&str; 3] = [
        "YWxpY2U6aHVudGVyMg==", // alice:hunter2
        "hunter2-bearer-token",
        "TlRMTVNTUAABAAAAl4II4g",
    ];
    let server = TestServer::for_process(ca, config, http, https);
    for secret in SECRETS {
        for scheme in [Scheme::Http, Scheme::Http2Tls] {
            for path in [CONFIG_PATH, "/autodiscover/autodiscover.xml", "/missing"] {
                let request = Request::builder()
                    .uri(path)
                    .header("host", "localhost")
                    .header("authorization", format!("Basic {secret}"))
                    .header("proxy-authorization", format!("Basic {secret}"))
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let reply = server.send_request(scheme, request).await;
                assert!(reply.header("www-authenticate").is_none());
            }
        }
    }
    // tracing writes each event with one write: give the last one a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(serve); // kills it

    let log = std::fs::read_to_string(&log_path).unwrap();
    // The requests were logged (so the capture works) ...
    assert!(
        log.matches("request").count() >= 18,
        "expected one line per request:\n{log}"
    );
    // ... and no secret, nor the header's name with a value, is in it.
    for secret in SECRETS {
        assert!(!log.contains(secret), "the log contains {secret}:\n{log}");
    }
    assert!(!log.contains("hunter2"));
    assert!(!log.to_ascii_lowercase().contains("authorization: basic"));
}

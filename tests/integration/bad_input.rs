//! Bad input gets a clear 4xx with a body that says what was wrong, never a
//! 5xx, and never an echo of raw input.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::common::{self, Scheme, TestServer, encode};

/// (query value for emailaddress, status, words the body must contain)
const BAD_ADDRESSES: &[(&str, u16, &str)] = &[
    ("", 400, "the email address is empty"),
    ("alice", 400, "has no @"),
    ("a@b@contoso.test", 400, "more than one @"),
    ("@contoso.test", 400, "the part before the @ is empty"),
    ("alice@", 400, "the domain is empty"),
    ("al ice@contoso.test", 400, "contains a space"),
    ("al\u{7}ice@contoso.test", 400, "control character"),
    ("\"alice\"@contoso.test", 400, "contains '\"'"),
    ("<alice@contoso.test>", 400, "contains '<'"),
    ("alice.@contoso.test", 400, "two dots in a row"),
    ("alice@contoso", 400, "at least two labels"),
    ("alice@contoso..test", 400, "empty label"),
    ("alice@-contoso.test", 400, "starts or ends with a hyphen"),
    ("alice@conto_so.test", 400, "contains '_'"),
    ("alice@127.0.0.1", 400, "is an IP address"),
    ("alice@[::1]", 400, "contains '['"),
    (
        "alice@xn--zz.test",
        400,
        "not a valid internationalised domain name",
    ),
    (
        "alice@nobody.test",
        404,
        "the domain nobody.test is not served here",
    ),
    (
        "alice@NOBODY.test.",
        404,
        "the domain nobody.test is not served here",
    ),
];

#[tokio::test]
async fn each_malformed_address_gets_400_with_its_reason() {
    let server = TestServer::start().await;
    for (address, status, message) in BAD_ADDRESSES {
        let path = format!("/mail/config-v1.1.xml?emailaddress={}", encode(address));
        let reply = server.get("autoconfig.contoso.test", &path).await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "{address:?}: {}",
            reply.text()
        );
        assert!(
            reply.text().contains(message),
            "{address:?}: {}",
            reply.text()
        );
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn length_limits_give_400_with_the_limit() {
    let server = TestServer::start().await;
    let cases = [
        (format!("{}@contoso.test", "a".repeat(65)), "longer than 64"),
        (
            format!("a@{}.test", vec!["b".repeat(60); 5].join(".")),
            "longer than 254",
        ),
        (format!("a@{}.test", "c".repeat(64)), "longer than 63"),
    ];
    for (address, message) in cases {
        let path = format!("/mail/config-v1.1.xml?emailaddress={}", encode(&address));
        let reply = server.get("localhost", &path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{address}");
        assert!(reply.text().contains(message), "{}", reply.text());
    }
    server.shutdown().await;
}

/// (method, host, path, status, words the body must contain)
const BAD_REQUESTS: &[(&str, &str, &str, u16, &str)] = &[
    (
        "GET",
        "localhost",
        "/mail/config-v1.1.xml?emailaddress=%FF%FE",
        400,
        "the query string is not valid UTF-8",
    ),
    (
        "GET",
        "localhost",
        "/v1.1/contoso%FF.example",
        400,
        "the URL path is not valid UTF-8",
    ),
    (
        "GET",
        "localhost",
        "/mail/config-v1.1.xml?emailaddress=a%40contoso.test&EmailAddress=b%40contoso.test",
        400,
        "given more than once",
    ),
    (
        "GET",
        "127.0.0.1",
        "/mail/config-v1.1.xml",
        400,
        "no email address given",
    ),
    (
        "GET",
        "[::1]:8080",
        "/mail/config-v1.1.xml",
        400,
        "no email address given",
    ),
    (
        "GET",
        "autoconfig.nobody.test",
        "/mail/config-v1.1.xml",
        404,
        "nobody.test is not served here",
    ),
    (
        "GET",
        "localhost",
        "/v1.1/bad_domain.test",
        400,
        "invalid domain in the URL",
    ),
    ("GET", "localhost", "/v1.1/", 400, "the domain is empty"),
    (
        "GET",
        "localhost",
        "/v1.1/unknown.test",
        404,
        "unknown.test is not served here",
    ),
    (
        "POST",
        "localhost",
        "/mail/config-v1.1.xml",
        405,
        "allowed: GET, HEAD",
    ),
    (
        "DELETE",
        "localhost",
        "/v1.1/contoso.test",
        405,
        "allowed: GET, HEAD",
    ),
    ("PUT", "localhost", "/healthz", 405, "allowed: GET, HEAD"),
    ("GET", "localhost", "/nope", 404, "no such resource"),
    (
        "GET",
        "localhost",
        "/mail/config-v1.1.xml/",
        404,
        "no such resource",
    ),
    (
        "GET",
        "localhost",
        "/MAIL/CONFIG-V1.1.XML",
        404,
        "no such resource",
    ),
];

#[tokio::test]
async fn each_malformed_request_gets_its_status_and_reason() {
    let server = TestServer::start().await;
    for (method, host, path, status, message) in BAD_REQUESTS {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = server
            .send(Scheme::Http, method.clone(), host, path, Bytes::new())
            .await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "{method} {path}: {}",
            reply.text()
        );
        assert!(
            reply.text().contains(message),
            "{method} {path}: {}",
            reply.text()
        );
        if *status == 405 {
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn body_over_the_cap_gets_413() {
    let server = TestServer::start().await;
    let body = Bytes::from(vec![b'x'; 16 * 1024 + 1]);
    let reply = server
        .send(
            Scheme::Http,
            Method::POST,
            "localhost",
            "/mail/config-v1.1.xml",
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        reply.text().contains("larger than 16384 bytes"),
        "{}",
        reply.text()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn no_response_echoes_hostile_input_or_asks_for_credentials() {
    let server = TestServer::start().await;
    let hostile = [
        "<script>alert(1)</script>@contoso.test",
        "alice@<script>alert(1)</script>.test",
        "\"><img src=x onerror=alert(1)>@contoso.test",
        "alice@contoso.test\r\nSet-Cookie: owned=1",
        "alice@contoso.test%0d%0aX-Injected: 1",
        "alice@contoso.test]]><evil/>",
    ];
    for input in hostile {
        let encoded = encode(input);
        for path in [
            format!("/mail/config-v1.1.xml?emailaddress={encoded}"),
            format!("/v1.1/{encoded}"),
            format!("/{encoded}"),
        ] {
            for scheme in [Scheme::Http, Scheme::Https] {
                let reply = server
                    .send(scheme, Method::GET, "localhost", &path, Bytes::new())
                    .await;
                let text = reply.text();
                assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
                for needle in [
                    "<script",
                    "<img",
                    "<evil",
                    "Set-Cookie",
                    "X-Injected",
                    input,
                ] {
                    assert!(!text.contains(needle), "{path} echoed {needle:?}: {text}");
                }
                assert!(reply.header("set-cookie").is_none());
                assert!(reply.header("x-injected").is_none());
                assert!(reply.header("www-authenticate").is_none());
                assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
            }
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn authorization_header_is_ignored() {
    let server = TestServer::start().await;
    let request = http::Request::builder()
        .uri("/mail/config-v1.1.xml?emailaddress=alice%40contoso.test")
        .header("host", "localhost")
        .header("authorization", "Basic YWxpY2U6aHVudGVyMg==")
        .body(http_body_util::Full::new(Bytes::new()))
        .unwrap();
    let reply = server.send_request(Scheme::Http, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("www-authenticate").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_on_the_socket_gets_400_not_a_crash() {
    let server = TestServer::start().await;
    for raw in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ] {
        let answer = common::raw_exchange(server.http, raw).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{raw:?} → {answer}");
    }
    // The server still serves afterwards.
    assert_eq!(
        server.get("localhost", "/healthz").await.status,
        StatusCode::OK
    );
    server.shutdown().await;
}

#[tokio::test]
async fn conflicting_framing_cannot_smuggle_a_second_request() {
    let server = TestServer::start().await;
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3) and the
    // connection is closed after the answer: the second request hidden in
    // the body is never answered.
    let raw = b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n\
                0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    let answer = common::raw_exchange(server.http, raw).await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn body_that_never_arrives_gets_408_after_the_header_timeout() {
    let server = TestServer::start_with("header_read_timeout_secs = 1").await;
    let raw = b"POST /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
    let answer = common::raw_exchange(server.http, raw).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("not received in time"), "{answer}");
    server.shutdown().await;
}

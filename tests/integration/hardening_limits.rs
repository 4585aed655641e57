//! Bounds that keep the server from being used against others or against
//! itself: MX lookups for names not in the cache are limited per client,
//! overall and in flight (503 with Retry-After, no query, a metric); the
//! configuration refuses listeners that share a port and limits out of any
//! sane range, at `mailsetup check`, with file:line:column; an address
//! with an invisible or bidi character is refused with its code point.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hickory_proto::rr::RecordType;
use http::StatusCode;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use crate::common::{Reply, TestServer};
use crate::dns_standin::{DnsStandIn, zone};

/// A stand-in serving `tenant.test` (Microsoft 365) and `flood.test`, under
/// which every name is NXDOMAIN: a fresh name per request, as in a
/// random-subdomain flood.
fn standin() -> DnsStandIn {
    let standin = DnsStandIn::start();
    standin.load_zone(
        "tenant.test",
        &zone(
            "tenant.test",
            300,
            "@ 300 IN MX 0 tenant-test.mail.protection.outlook.com.\n",
        ),
    );
    standin.load_zone("flood.test", &zone("flood.test", 300, ""));
    standin
}

async fn server_with_resolver(resolver: SocketAddr, dns: &str) -> TestServer {
    TestServer::start_with(&format!(
        "[dns]\ndetect_microsoft365_by_mx = true\nresolver = \"{resolver}\"\n\
         mx_timeout_ms = 2000\n{dns}\n"
    ))
    .await
}

fn autoconfig_path(address: &str) -> String {
    format!("/mail/config-v1.1.xml?emailaddress={address}")
}

/// GET over plain HTTP from the loopback address `source` (127.0.0.x), so
/// that one test can be several clients.
async fn get_from(server: &TestServer, source: &str, path: &str) -> Reply {
    let source: IpAddr = source.parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(server.http).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        version: parts.version,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// How many names the stand-in was asked the MX of: lookups, not
/// datagrams (hickory resends a UDP query the stand-in is slow to answer).
fn mx_queries(standin: &DnsStandIn) -> usize {
    standin
        .queries()
        .into_iter()
        .filter(|(_, kind)| *kind == RecordType::MX)
        .map(|(name, _)| name)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// A 503 that names the limit, says when to come back, and asks nothing.
fn assert_busy(reply: &Reply, limit_words: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    let text = reply.text();
    assert!(
        text.contains("its MX record was not looked up: ") && text.contains(limit_words),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("; try again in {retry_after} s\n")),
        "{text}"
    );
}

async fn metric(server: &TestServer, series: &str) -> Option<u64> {
    let metrics = server.get("localhost", "/metrics").await.text();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn new_domains_past_the_per_client_rate_get_503_without_a_query() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "mx_lookups_per_client_per_sec = 2").await;
    for i in 0..2 {
        let reply = server
            .get("localhost", &autoconfig_path(&format!("a@n{i}.flood.test")))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    }
    for i in 2..6 {
        let reply = server
            .get("localhost", &autoconfig_path(&format!("a@n{i}.flood.test")))
            .await;
        assert_busy(
            &reply,
            "the 2 per second this server looks up for one client",
        );
    }
    assert_eq!(mx_queries(&standin), 2, "{:?}", standin.queries());
    // Another client is not held back by the first.
    let reply = get_from(&server, "127.0.0.2", &autoconfig_path("a@n9.flood.test")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    assert_eq!(mx_queries(&standin), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn past_the_server_wide_rate_every_client_gets_503() {
    let standin = standin();
    let server = server_with_resolver(
        standin.addr,
        "mx_lookups_per_client_per_sec = 10\nmx_lookups_per_sec = 3",
    )
    .await;
    for (i, client) in ["127.0.0.1", "127.0.0.2", "127.0.0.3"].iter().enumerate() {
        let reply = get_from(
            &server,
            client,
            &autoconfig_path(&format!("a@n{i}.flood.test")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
    }
    let reply = get_from(&server, "127.0.0.4", &autoconfig_path("a@n3.flood.test")).await;
    assert_busy(&reply, "its most MX lookups (3 per second)");
    assert_eq!(mx_queries(&standin), 3);
    assert_eq!(
        metric(
            &server,
            "mailsetup_mx_lookups_refused_total{limit=\"overall\"}"
        )
        .await,
        Some(1)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn refused_lookups_are_counted_in_metrics_by_limit() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "mx_lookups_per_client_per_sec = 1").await;
    for i in 0..4 {
        server
            .get("localhost", &autoconfig_path(&format!("a@n{i}.flood.test")))
            .await;
    }
    assert_eq!(
        metric(
            &server,
            "mailsetup_mx_lookups_refused_total{limit=\"client\"}"
        )
        .await,
        Some(3)
    );
    assert_eq!(
        metric(
            &server,
            "mailsetup_mx_lookups_refused_total{limit=\"in_flight\"}"
        )
        .await,
        Some(0)
    );
    assert_eq!(
        metric(
            &server,
            "mailsetup_requests_total{endpoint=\"thunderbird\",status=\"503\",profile=\"\"}"
        )
        .await,
        Some(3)
    );
    server.shutdown().await;
}

/// With a resolver that takes a second, only `mx_lookups_in_flight`
/// requests wait for it; the others are answered at once, and the
/// stand-in sees only the admitted queries.
#[tokio::test]
async fn lookups_in_flight_are_capped_when_the_resolver_is_slow() {
    let standin = standin();
    standin.set_delay(Duration::from_millis(1000));
    let server = std::sync::Arc::new(
        server_with_resolver(
            standin.addr,
            "mx_lookups_in_flight = 2\nmx_lookups_per_client_per_sec = 100",
        )
        .await,
    );
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let server = server.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let reply = server
                .get("localhost", &autoconfig_path(&format!("a@n{i}.flood.test")))
                .await;
            (reply, started.elapsed())
        });
    }
    let mut waited = 0;
    for (reply, elapsed) in tasks.join_all().await {
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_busy(&reply, "its most MX lookups at once (2)");
            assert!(elapsed < Duration::from_millis(900), "took {elapsed:?}");
        } else {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
            waited += 1;
        }
    }
    assert_eq!(waited, 2);
    assert_eq!(mx_queries(&standin), 2, "{:?}", standin.queries());
    assert_eq!(
        metric(
            &server,
            "mailsetup_mx_lookups_refused_total{limit=\"in_flight\"}"
        )
        .await,
        Some(6)
    );
}

#[tokio::test]
async fn cached_and_table_domains_are_answered_while_a_client_is_limited() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "mx_lookups_per_client_per_sec = 1").await;
    let tenant = autoconfig_path("alice@tenant.test");
    assert_eq!(
        server.get("localhost", &tenant).await.status,
        StatusCode::OK
    );
    assert_busy(
        &server
            .get("localhost", &autoconfig_path("a@n0.flood.test"))
            .await,
        "for one client",
    );
    for _ in 0..5 {
        assert_eq!(
            server.get("localhost", &tenant).await.status,
            StatusCode::OK
        );
        let table = server
            .get("localhost", &autoconfig_path("a@contoso.test"))
            .await;
        assert_eq!(table.status, StatusCode::OK);
    }
    assert_eq!(mx_queries(&standin), 1, "{:?}", standin.queries());
    server.shutdown().await;
}

/// The measurement, scaled down: a burst of random names from one
/// client with the default limits makes at most 20 queries a second, not
/// one per request.
#[tokio::test]
async fn a_random_subdomain_burst_is_bounded_by_the_defaults() {
    let standin = standin();
    let server = std::sync::Arc::new(server_with_resolver(standin.addr, "").await);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let server = server.clone();
        tasks.spawn(async move {
            server
                .get("localhost", &autoconfig_path(&format!("a@r{i}.flood.test")))
                .await
                .status
        });
    }
    let statuses = tasks.join_all().await;
    let elapsed = started.elapsed();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let queries = mx_queries(&standin);
    eprintln!("200 random names in {elapsed:?}: {queries} MX queries, {refused} refused");
    // One second's burst, plus what the elapsed time refilled.
    let most = 20 + (elapsed.as_secs_f64() * 20.0).ceil() as usize;
    assert!(queries <= most, "{queries} queries in {elapsed:?}");
    assert_eq!(queries + refused, 200);
}

/// `mailsetup check --config <text>`: exit code and stderr.
fn check(dir: &Path, text: &str) -> (Option<i32>, String) {
    let path = dir.join("m.toml");
    std::fs::write(&path, text).unwrap();
    crate::common::check_config(&path)
}

fn assert_refused(text: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = check(dir.path(), text);
    assert_eq!(code, Some(1), "{text}\n{stderr}");
    let expected = format!("{}/m.toml:{expected}", dir.path().display());
    assert!(
        stderr.contains(&expected),
        "{text:?}\nexpected {expected}\ngot {stderr}"
    );
}

#[test]
fn check_refuses_http_and_https_on_one_port() {
    assert_refused(
        "[server]\nhttp = [\"127.0.0.1:8443\"]\nhttps = [\"127.0.0.1:8443\"]\n",
        "3:10: https listener 127.0.0.1:8443 takes the port of http listener 127.0.0.1:8443: \
         serve could not bind both; give each listener its own port",
    );
    // A wildcard takes the port on every address of its family.
    assert_refused(
        "[server]\nhttp = [\"0.0.0.0:80\"]\nhttps = [\"127.0.0.1:443\"]\nadmin = [\"127.0.0.1:80\"]\n",
        "4:10: admin listener 127.0.0.1:80 takes the port of http listener 0.0.0.0:80",
    );
    assert_refused(
        "[server]\nhttp = [\"[::]:8080\"]\nhttps = [\"[::1]:8080\"]\n",
        "3:10: https listener [::1]:8080 takes the port of http listener [::]:8080",
    );
    assert_refused(
        "[server]\nhttp = [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n",
        "2:25: http listener 127.0.0.1:80 takes the port of http listener 127.0.0.1:80",
    );
}

#[test]
fn check_accepts_listeners_that_can_all_be_bound() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n",
        "[server]\nhttp = [\"127.0.0.1:80\"]\nhttps = [\"127.0.0.2:80\"]\n",
        "[server]\nhttp = [\"0.0.0.0:80\", \"[::]:80\"]\nhttps = [\"0.0.0.0:443\"]\n",
    ] {
        let (code, stderr) = check(dir.path(), text);
        assert_eq!(code, Some(0), "{text}\n{stderr}");
    }
}

#[test]
fn check_refuses_absurd_limits_with_the_allowed_range() {
    for (text, expected) in [
        (
            "[limits]\nmax_body_bytes = 99999999999\n",
            "2:18: limits.max_body_bytes = 99999999999 is out of range: it must be between \
             4096 and 1048576",
        ),
        (
            "[limits]\nidle_timeout_secs = 31536000\n",
            "2:21: limits.idle_timeout_secs = 31536000 is out of range: it must be between 1 \
             and 3600",
        ),
        (
            "[limits]\nheader_read_timeout_secs = 0\n",
            "2:28: limits.header_read_timeout_secs = 0 is out of range: it must be between 1 \
             and 300",
        ),
        (
            "[limits]\nshutdown_grace_secs = 864000\n",
            "2:23: limits.shutdown_grace_secs = 864000 is out of range: it must be between 0 \
             and 300",
        ),
        (
            "[limits]\nmax_connections = 10000000\n",
            "2:19: limits.max_connections = 10000000 is out of range: it must be between 1 \
             and 100000",
        ),
        (
            "[limits]\nmax_connections = 0\n",
            "2:19: limits.max_connections = 0 is out of range",
        ),
    ] {
        assert_refused(text, expected);
    }
}

#[test]
fn check_refuses_mx_lookup_limits_out_of_range() {
    for (text, expected) in [
        (
            "[dns]\nmx_lookups_per_client_per_sec = 0\n",
            "2:33: dns.mx_lookups_per_client_per_sec = 0 is out of range: it must be between 1 \
             and 10000",
        ),
        (
            "[dns]\nmx_lookups_per_sec = 1000000\n",
            "2:22: dns.mx_lookups_per_sec = 1000000 is out of range: it must be between 1 and \
             100000",
        ),
        (
            "[dns]\nmx_lookups_in_flight = 0\n",
            "2:24: dns.mx_lookups_in_flight = 0 is out of range: it must be between 1 and 10000",
        ),
    ] {
        assert_refused(text, expected);
    }
}

#[tokio::test]
async fn an_address_with_a_bidi_override_gets_400_naming_the_code_point() {
    let server = TestServer::start().await;
    // "alice" + RIGHT-TO-LEFT OVERRIDE + "gpj.exe": shown as "aliceexe.jpg".
    let reply = server
        .get(
            "localhost",
            &autoconfig_path("alice%E2%80%AEgpj.exe%40contoso.test"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        "invalid email address: the email address contains U+202E (an invisible or \
         text-direction formatting character, Unicode category Cf), which is not allowed in an \
         address\n"
    );
    server.shutdown().await;
}

/// The landing page refuses the same address, names the character by its
/// code point in both languages, and puts back what was typed without it,
/// so neither the message nor the field reads differently from what it
/// holds.
#[tokio::test]
async fn the_landing_page_shows_a_bidi_override_as_its_code_point() {
    let server = TestServer::start().await;
    for lang in ["en", "fr"] {
        let reply = server
            .get(
                "localhost",
                &format!("/?email=alice%E2%80%AEgpj.exe%40contoso.test&lang={lang}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{lang}");
        let page = reply.text();
        assert!(
            !page.contains('\u{202E}'),
            "{lang}: the raw character is on the page"
        );
        assert!(page.contains("U+202E"), "{lang}: {page}");
        assert!(page.contains("alicegpj.exe@contoso.test"), "{lang}: {page}");
    }
    server.shutdown().await;
}

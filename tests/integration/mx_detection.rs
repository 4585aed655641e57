//! Microsoft 365 detection by MX, through the real HTTP server with a DNS
//! stand-in as its resolver: the profile it chooses, the 404s that say why,
//! the cache (one query for many requests, negative caching, TTL expiry),
//! and bounded 503s when the resolver is slow or down.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use http::StatusCode;

use crate::common::{self, Reply, TestServer};
use crate::dns_standin::{DnsStandIn, zone};

const MX_TIMEOUT_MS: u64 = 400;

async fn server_with_resolver(resolver: SocketAddr, extra: &str) -> TestServer {
    TestServer::start_with(&format!(
        "[dns]\ndetect_microsoft365_by_mx = true\nresolver = \"{resolver}\"\n\
         mx_timeout_ms = {MX_TIMEOUT_MS}\n{extra}\n"
    ))
    .await
}

/// A stand-in serving three domains: one on Microsoft 365, one elsewhere,
/// and one with no MX.
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
    standin.load_zone(
        "elsewhere.test",
        &zone(
            "elsewhere.test",
            300,
            "@ 300 IN MX 10 mx1.mailhost.example.\n@ 300 IN MX 20 tenant-test.mail.protection.outlook.com.\n",
        ),
    );
    standin.load_zone("nomx.test", &zone("nomx.test", 300, "@ IN A 192.0.2.1\n"));
    standin
}

async fn autoconfig(server: &TestServer, address: &str) -> Reply {
    server
        .get(
            "localhost",
            &format!("/mail/config-v1.1.xml?emailaddress={address}"),
        )
        .await
}

#[tokio::test]
async fn mx_under_mail_protection_outlook_com_gets_microsoft365() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    let reply = autoconfig(&server, "alice@tenant.test").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let provider = reply.xml().one("emailProvider").clone();
    assert_eq!(provider.attr("id"), Some("tenant.test"));
    assert_eq!(provider.text_at("displayName"), "Microsoft 365");
    assert_eq!(
        reply.xml().text_at("oAuth2/issuer"),
        "login.microsoftonline.com"
    );
    // Only the domain itself: nothing about other tenants.
    assert_eq!(provider.texts("domain"), ["tenant.test"]);
    let imap = provider.all("incomingServer").next().unwrap();
    assert_eq!(imap.attr("type"), Some("imap"));
    assert_eq!(imap.text_at("hostname"), "outlook.office365.com");
    assert_eq!(imap.texts("authentication"), ["OAuth2"]);
    assert_eq!(
        provider.text_at("outgoingServer/hostname"),
        "smtp.office365.com"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn other_mx_gets_404_naming_it() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    let reply = autoconfig(&server, "bob@elsewhere.test").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.text(),
        "the domain elsewhere.test is not served here: it is not in this server's domain \
         table and its mail exchanger (mx1.mailhost.example) is not Microsoft 365 \
         (*.mail.protection.outlook.com)\n"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn domain_without_mx_gets_404_saying_so() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    for address in ["carol@nomx.test", "dave@nxdomain.nomx.test"] {
        let reply = autoconfig(&server, address).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(
            reply
                .text()
                .ends_with("is not in this server's domain table and has no MX record\n"),
            "{}",
            reply.text()
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn table_domains_do_not_query_dns() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    assert_eq!(
        autoconfig(&server, "a@contoso.test").await.status,
        StatusCode::OK
    );
    assert_eq!(
        autoconfig(&server, "a@hotmail.fr").await.status,
        StatusCode::OK
    );
    assert_eq!(standin.queries(), []);
    server.shutdown().await;
}

#[tokio::test]
async fn detection_is_off_unless_enabled() {
    let standin = standin();
    let server = TestServer::start_with(&format!("[dns]\nresolver = \"{}\"\n", standin.addr)).await;
    let reply = autoconfig(&server, "alice@tenant.test").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.text().contains("not in this server's domain table"));
    assert_eq!(standin.queries(), []);
    server.shutdown().await;
}

#[tokio::test]
async fn verdicts_are_cached_one_query_for_many_requests() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    for _ in 0..10 {
        assert_eq!(
            autoconfig(&server, "a@tenant.test").await.status,
            StatusCode::OK
        );
        assert_eq!(
            autoconfig(&server, "b@elsewhere.test").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            autoconfig(&server, "c@nomx.test").await.status,
            StatusCode::NOT_FOUND
        );
        // The Host-header and ISPDB forms resolve the same domain.
        assert_eq!(
            server.get("tenant.test", "/v1.1/tenant.test").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(standin.count("tenant.test", RecordType::MX), 1);
    assert_eq!(standin.count("elsewhere.test", RecordType::MX), 1);
    assert_eq!(standin.count("nomx.test", RecordType::MX), 1);
    assert_eq!(standin.queries().len(), 3, "{:?}", standin.queries());
    server.shutdown().await;
}

/// A burst of first requests for one domain is one query, not twenty.
#[tokio::test]
async fn concurrent_requests_share_one_lookup() {
    let standin = standin();
    standin.set_delay(Duration::from_millis(150));
    let server = std::sync::Arc::new(server_with_resolver(standin.addr, "").await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let server = server.clone();
        tasks.spawn(async move {
            autoconfig(&server, &format!("user{i}@tenant.test"))
                .await
                .status
        });
    }
    for status in tasks.join_all().await {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(standin.count("tenant.test", RecordType::MX), 1);
}

#[tokio::test]
async fn no_mx_is_cached_for_at_most_negative_ttl_secs() {
    let standin = standin();
    // The SOA allows 300 s of negative caching; the configuration caps it at 1 s.
    let server = server_with_resolver(standin.addr, "negative_ttl_secs = 1").await;
    for _ in 0..5 {
        assert_eq!(
            autoconfig(&server, "c@nomx.test").await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(standin.count("nomx.test", RecordType::MX), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        autoconfig(&server, "c@nomx.test").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(standin.count("nomx.test", RecordType::MX), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn no_mx_is_cached_for_the_soa_negative_ttl_when_shorter() {
    let standin = DnsStandIn::start();
    standin.load_zone("short.test", &zone("short.test", 1, "@ IN A 192.0.2.1\n"));
    let server = server_with_resolver(standin.addr, "negative_ttl_secs = 600").await;
    assert_eq!(
        autoconfig(&server, "c@short.test").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        autoconfig(&server, "c@short.test").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(standin.count("short.test", RecordType::MX), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        autoconfig(&server, "c@short.test").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(standin.count("short.test", RecordType::MX), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn microsoft365_verdict_expires_with_the_record_ttl() {
    let standin = DnsStandIn::start();
    standin.load_zone(
        "moving.test",
        &zone(
            "moving.test",
            300,
            "@ 1 IN MX 0 moving-test.mail.protection.outlook.com.\n",
        ),
    );
    let server = server_with_resolver(standin.addr, "").await;
    assert_eq!(
        autoconfig(&server, "a@moving.test").await.status,
        StatusCode::OK
    );
    assert_eq!(
        autoconfig(&server, "a@moving.test").await.status,
        StatusCode::OK
    );
    assert_eq!(standin.count("moving.test", RecordType::MX), 1);
    // The domain moves its mail away; after the TTL the server follows.
    standin.load_zone(
        "moving.test",
        &zone("moving.test", 300, "@ 1 IN MX 0 mx.newhost.example.\n"),
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reply = autoconfig(&server, "a@moving.test").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply
            .text()
            .contains("(mx.newhost.example) is not Microsoft 365")
    );
    assert_eq!(standin.count("moving.test", RecordType::MX), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn cache_keeps_at_most_cache_size_domains() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "cache_size = 2").await;
    for domain in ["tenant.test", "elsewhere.test", "nomx.test", "tenant.test"] {
        autoconfig(&server, &format!("a@{domain}")).await;
    }
    // tenant.test was evicted to make room for nomx.test, so it was asked twice.
    assert_eq!(standin.count("tenant.test", RecordType::MX), 2);
    server.shutdown().await;
}

/// A 503 that says the lookup failed and when to retry.
fn assert_resolver_failure(reply: &Reply, elapsed: Duration) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("retry-after"), Some("30"));
    let text = reply.text();
    assert!(
        text.starts_with("the domain tenant.test is not in this server's domain table and its MX record could not be looked up ("),
        "{text}"
    );
    assert!(text.ends_with("); try again later\n"), "{text}");
    // The bound: the MX timeout plus the server's own work.
    assert!(
        elapsed < Duration::from_millis(MX_TIMEOUT_MS + 600),
        "took {elapsed:?}"
    );
}

#[tokio::test]
async fn slow_resolver_gets_503_within_the_timeout_and_is_not_cached() {
    let standin = standin();
    standin.set_delay(Duration::from_secs(3));
    let server = server_with_resolver(standin.addr, "").await;
    let started = Instant::now();
    let reply = autoconfig(&server, "alice@tenant.test").await;
    assert_resolver_failure(&reply, started.elapsed());
    eprintln!("503 for a slow resolver after {:?}", started.elapsed());
    // Failures are not remembered: once DNS answers, so does the server.
    standin.set_delay(Duration::ZERO);
    let reply = autoconfig(&server, "alice@tenant.test").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    server.shutdown().await;
}

#[tokio::test]
async fn down_resolver_gets_503_within_the_timeout() {
    let server = server_with_resolver(DnsStandIn::down_address(), "").await;
    for _ in 0..3 {
        let started = Instant::now();
        let reply = autoconfig(&server, "alice@tenant.test").await;
        assert_resolver_failure(&reply, started.elapsed());
    }
    // Table domains are unaffected.
    assert_eq!(
        autoconfig(&server, "a@contoso.test").await.status,
        StatusCode::OK
    );
    server.shutdown().await;
}

#[tokio::test]
async fn resolver_refusing_the_query_gets_503_not_a_profile() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    // outside every zone the stand-in serves: it answers REFUSED.
    let reply = autoconfig(&server, "eve@unserved.example").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("retry-after"), Some("30"));
    assert!(
        reply
            .text()
            .contains("could not be looked up (the DNS server answered"),
        "{}",
        reply.text()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn autodiscover_answers_503_in_its_own_format_when_the_resolver_is_down() {
    let server = server_with_resolver(DnsStandIn::down_address(), "").await;
    let body = "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
        <Request><EMailAddress>alice@tenant.test</EMailAddress><AcceptableResponseSchema>\
        http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\
        </AcceptableResponseSchema></Request></Autodiscover>";
    let reply = server
        .send(
            common::Scheme::Http,
            http::Method::POST,
            "localhost",
            "/autodiscover/autodiscover.xml",
            bytes::Bytes::from_static(body.as_bytes()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // Its own format, and when to come back, like the plain 503.
    assert_eq!(reply.header("retry-after"), Some("30"));
    let error = reply.xml();
    let error = error.one("Response").one("Error");
    assert_eq!(error.text_at("ErrorCode"), "601");
    assert!(
        error
            .text_at("DebugData")
            .contains("could not be looked up")
    );

    let reply = server
        .get(
            "localhost",
            "/autodiscover/autodiscover.json/v1.0/alice@tenant.test?Protocol=ActiveSync",
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after"), Some("30"));
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(json["ErrorCode"], "ServiceUnavailable");
    server.shutdown().await;
}

/// The metrics label a request with the profile the router resolved: an
/// MX-detected domain is counted under `microsoft365`, not under no
/// profile at all (it once was, when metrics looked the domain up again in
/// the table only).
#[tokio::test]
async fn mx_detected_requests_are_counted_under_microsoft365() {
    let standin = standin();
    let server = server_with_resolver(standin.addr, "").await;
    for _ in 0..3 {
        let reply = autoconfig(&server, "alice@tenant.test").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
    assert_eq!(
        autoconfig(&server, "bob@elsewhere.test").await.status,
        StatusCode::NOT_FOUND
    );
    let metrics = server.get("localhost", "/metrics").await.text();
    let count = |series: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse::<u64>().ok())
    };
    assert_eq!(
        count(
            "mailsetup_requests_total{endpoint=\"thunderbird\",status=\"200\",profile=\"microsoft365\"}"
        ),
        Some(3),
        "{metrics}"
    );
    assert_eq!(
        count("mailsetup_requests_total{endpoint=\"thunderbird\",status=\"404\",profile=\"\"}"),
        Some(1),
        "{metrics}"
    );
    assert_eq!(
        count("mailsetup_requests_total{endpoint=\"thunderbird\",status=\"200\",profile=\"\"}"),
        None,
        "{metrics}"
    );
}

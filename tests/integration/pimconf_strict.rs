//! A strict third-party reader of our config-v1.1 documents: pimconf, the
//! discovery library of the pimalaya clients (himalaya and others). Its
//! serde types know only the incoming types `pop3`, `imap` and `smtp` and
//! reject a whole document with any other one (serde-xml-rs, as pimconf
//! itself parses). So every document a client other than Thunderbird 153+
//! gets must parse with it, and the one Thunderbird 153 gets for Microsoft
//! 365 (with `graph`, and `ews` before 2026-10-01) must not: that is why
//! the native Exchange types go only to the clients the table names, and
//! why the answer says `Vary: User-Agent`.
//!
//! Every document comes from the real server on loopback.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use pimconf::autoconfig::types::{AuthenticationType, Autoconfig, SecurityType, ServerType};

use crate::common::{self, Reply, Scheme, TestServer};

const THUNDERBIRD_153: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Thunderbird/153.8.0";

/// The User-Agents of clients other than Thunderbird 153+: none, curl's,
/// Firefox's (same engine and platform tokens as Thunderbird), and one
/// nobody knows.
const OTHER_CLIENTS: &[Option<&str>] = &[
    None,
    Some("curl/8.5.0"),
    Some("Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"),
    Some("himalaya/1.1.0 pimconf/0.1.0"),
];

/// A day the table still offers Thunderbird EWS (besides Graph), so the
/// Thunderbird document carries both and the others must carry neither.
const EWS_OFFERED: &str = "2026-09-30";

/// Where a client asks, and for which domain.
struct Ask {
    what: &'static str,
    scheme: Scheme,
    host: &'static str,
    path: &'static str,
    /// A Microsoft 365 domain (the table's `contoso.test`), whose
    /// Thunderbird 153 document has native Exchange types.
    microsoft365: bool,
}

const ASKS: &[Ask] = &[
    Ask {
        what: "Microsoft 365 table domain, autoconfig.<d> with the address",
        scheme: Scheme::Https,
        host: "autoconfig.contoso.test",
        path: "/mail/config-v1.1.xml?emailaddress=alice%40contoso.test",
        microsoft365: true,
    },
    Ask {
        what: "Microsoft 365 table domain, <d>/.well-known",
        scheme: Scheme::Https,
        host: "contoso.test",
        path: "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40contoso.test",
        microsoft365: true,
    },
    Ask {
        what: "Outlook.com consumer domain",
        scheme: Scheme::Https,
        host: "autoconfig.hotmail.fr",
        path: "/mail/config-v1.1.xml?emailaddress=bob%40hotmail.fr",
        microsoft365: false,
    },
    Ask {
        what: "ISPDB style /v1.1/<domain>",
        scheme: Scheme::Http,
        host: "localhost",
        path: "/v1.1/contoso.test",
        microsoft365: true,
    },
    Ask {
        what: "ISPDB style /v1.1/<domain>, Outlook.com",
        scheme: Scheme::Http,
        host: "localhost",
        path: "/v1.1/hotmail.fr",
        microsoft365: false,
    },
    Ask {
        what: "Host-only autoconfig.<d>, no address",
        scheme: Scheme::Http,
        host: "autoconfig.contoso.test",
        path: "/mail/config-v1.1.xml",
        microsoft365: true,
    },
];

/// A server with the test domains whose answers are dated `day`.
async fn server_on(day: &str) -> (TestServer, mailsetup::server::Running) {
    let ca = common::TestCa::new();
    let config_path = common::write_config(&ca, "");
    let config = mailsetup::config::Config::load(Some(&config_path)).unwrap();
    let clock = mailsetup::date::Clock::Fixed(day.parse().unwrap());
    let running = mailsetup::server::start_with_clock(config, clock)
        .await
        .unwrap();
    let server = TestServer::for_process(
        ca,
        config_path,
        running.http_addrs[0],
        running.https_addrs[0],
    );
    (server, running)
}

async fn fetch(server: &TestServer, ask: &Ask, user_agent: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(ask.path)
        .header(http::header::HOST, ask.host);
    if let Some(user_agent) = user_agent {
        request = request.header(http::header::USER_AGENT, user_agent);
    }
    let reply = server
        .send_request(ask.scheme, request.body(Full::new(Bytes::new())).unwrap())
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}: {}",
        ask.what,
        reply.text()
    );
    assert_eq!(
        reply.header("vary"),
        Some("User-Agent, Accept-Encoding"),
        "{} ({user_agent:?}): the answer depends on the User-Agent",
        ask.what
    );
    reply
}

/// The document as pimconf reads it (its types, through serde-xml-rs as
/// pimconf's own fetcher parses).
fn pimconf_parse(reply: &Reply) -> Result<Autoconfig, serde_xml_rs::Error> {
    serde_xml_rs::from_str::<Autoconfig>(&reply.text())
}

#[tokio::test]
async fn every_document_a_non_thunderbird_client_gets_parses_with_pimconf() {
    let (server, running) = server_on(EWS_OFFERED).await;
    for ask in ASKS {
        for &user_agent in OTHER_CLIENTS {
            let reply = fetch(&server, ask, user_agent).await;
            let config = pimconf_parse(&reply).unwrap_or_else(|e| {
                panic!(
                    "{} ({user_agent:?}): pimconf rejects our document: {e}\n{}",
                    ask.what,
                    reply.text()
                )
            });
            let provider = &config.email_provider;
            let incoming: Vec<_> = provider
                .incoming_server
                .iter()
                .map(|s| format!("{:?}", s.r#type))
                .collect();
            assert_eq!(incoming, ["Imap", "Pop3"], "{} ({user_agent:?})", ask.what);
            assert!(
                matches!(
                    provider.outgoing_server.as_slice(),
                    [smtp] if matches!(smtp.r#type, ServerType::Smtp)
                ),
                "{}: {:?}",
                ask.what,
                provider.outgoing_server
            );
            // What a pimconf client would set up: OAuth2 over TLS or
            // STARTTLS, never a password.
            for server in provider
                .incoming_server
                .iter()
                .chain(&provider.outgoing_server)
            {
                assert!(
                    matches!(
                        server.socket_type,
                        Some(SecurityType::Tls | SecurityType::Starttls)
                    ),
                    "{}: {server:?}",
                    ask.what
                );
                assert!(
                    matches!(
                        server.authentication.as_slice(),
                        [AuthenticationType::OAuth2]
                    ),
                    "{}: {server:?}",
                    ask.what
                );
            }
            let oauth2 = config.oauth2.as_ref().expect("an <oAuth2> section");
            assert_eq!(oauth2.issuer, "login.microsoftonline.com", "{}", ask.what);
        }
    }
    drop(server);
    running.shutdown().await;
}

/// The control: pimconf really is strict. The document Thunderbird 153
/// gets for Microsoft 365 carries `ews` (before 2026-10-01) and `graph`,
/// and pimconf rejects all of it with serde's unknown-variant error, the
/// failure a himalaya user would see were that document sent to everyone.
#[tokio::test]
async fn the_thunderbird_153_document_for_microsoft365_is_rejected_by_pimconf() {
    for (day, first_unknown) in [(EWS_OFFERED, "ews"), ("2026-10-01", "graph")] {
        let (server, running) = server_on(day).await;
        for ask in ASKS.iter().filter(|ask| ask.microsoft365) {
            let reply = fetch(&server, ask, Some(THUNDERBIRD_153)).await;
            let text = reply.text();
            assert!(
                text.contains(r#"<incomingServer type="graph">"#),
                "{day} {}: {text}",
                ask.what
            );
            let error = pimconf_parse(&reply)
                .err()
                .unwrap_or_else(|| panic!("{day} {}: pimconf accepted\n{text}", ask.what))
                .to_string();
            assert!(
                error.contains(&format!("unknown variant `{first_unknown}`"))
                    && error.contains("expected one of `pop3`, `imap`, `smtp`"),
                "{day} {}: {error}",
                ask.what
            );
        }
        // Outlook.com has no native Exchange type for Thunderbird either:
        // its document parses whoever asks.
        let outlook = ASKS
            .iter()
            .find(|ask| ask.host == "autoconfig.hotmail.fr")
            .unwrap();
        let reply = fetch(&server, outlook, Some(THUNDERBIRD_153)).await;
        assert!(pimconf_parse(&reply).is_ok(), "{day}: {}", reply.text());
        drop(server);
        running.shutdown().await;
    }
}

//! Our config-v1.1 documents against Thunderbird's real ISPDB entries (the
//! facts in tests/data/ispdb.toml, taken from ISPDB's files). Every
//! difference is deliberate and listed in README.md; this test pins them so
//! a new one cannot slip in.

use serde::Deserialize;

use crate::common::{Element, TestServer};

/// The ISPDB entries we compare with.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ispdb {
    /// ispdb/office365.com.xml: Microsoft 365.
    office365: Entry,
    /// ispdb/hotmail.com.xml: Outlook.com.
    hotmail: Entry,
}

/// One ISPDB file's IMAP, POP3 and SMTP servers, its domains and its
/// top-level `<oAuth2>` element.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    servers: Vec<MailServer>,
    #[serde(default)]
    domains: Vec<String>,
    oauth2: Option<OAuth2>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailServer {
    #[serde(rename = "type")]
    protocol: String,
    hostname: String,
    port: u16,
    socket_type: String,
    authentication: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuth2 {
    issuer: String,
    scope: String,
    auth_url: String,
    token_url: String,
}

impl Ispdb {
    fn load() -> Ispdb {
        toml::from_str(include_str!("../data/ispdb.toml"))
            .unwrap_or_else(|e| panic!("tests/data/ispdb.toml: {e}"))
    }
}

/// (type, hostname, port, socketType, authentications) of each server.
type ServerTuple = (String, String, String, String, Vec<String>);

impl Entry {
    fn servers(&self) -> Vec<ServerTuple> {
        self.servers
            .iter()
            .map(|s| {
                (
                    s.protocol.clone(),
                    s.hostname.clone(),
                    s.port.to_string(),
                    s.socket_type.clone(),
                    s.authentication.clone(),
                )
            })
            .collect()
    }
}

/// The IMAP, POP3 and SMTP servers of one of our documents.
fn servers(root: &Element) -> Vec<ServerTuple> {
    let provider = root.one("emailProvider");
    provider
        .all("incomingServer")
        .chain(provider.all("outgoingServer"))
        .filter(|s| matches!(s.attr("type"), Some("imap" | "pop3" | "smtp")))
        .map(|s| {
            (
                s.attr("type").unwrap().to_owned(),
                s.text_at("hostname").to_owned(),
                s.text_at("port").to_owned(),
                s.text_at("socketType").to_owned(),
                s.texts("authentication")
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            )
        })
        .collect()
}

fn tuple(kind: &str, host: &str, port: &str, socket: &str, auth: &[&str]) -> ServerTuple {
    (
        kind.into(),
        host.into(),
        port.into(),
        socket.into(),
        auth.iter().map(|a| a.to_string()).collect(),
    )
}

#[tokio::test]
async fn microsoft365_servers_equal_ispdb_office365_entry() {
    let ispdb = Ispdb::load().office365;
    let server = TestServer::start().await;
    let ours = server.get("localhost", "/v1.1/contoso.test").await.xml();
    // ISPDB also lists ews/owa/graph/exchange servers; we list IMAP, POP3 and
    // SMTP only (the profile has no EWS data, and Thunderbird's wizard
    // picks IMAP first either way).
    assert_eq!(servers(&ours), ispdb.servers());
    // The top-level oAuth2 element: same issuer and endpoints; the scope
    // host differs (ours is the one Thunderbird itself requests).
    let oauth2 = ispdb.oauth2.expect("ISPDB's office365 entry has <oAuth2>");
    let ours_oauth2 = ours.one("oAuth2");
    assert_eq!(ours_oauth2.text_at("issuer"), oauth2.issuer);
    assert_eq!(ours_oauth2.text_at("authURL"), oauth2.auth_url);
    assert_eq!(ours_oauth2.text_at("tokenURL"), oauth2.token_url);
    assert_eq!(
        ours_oauth2
            .text_at("scope")
            .replace("outlook.office.com", "outlook.office365.com"),
        oauth2.scope
    );
    server.shutdown().await;
}

#[tokio::test]
async fn outlook_servers_differ_from_ispdb_hotmail_entry_only_where_documented() {
    let ispdb = Ispdb::load().hotmail;
    let server = TestServer::start().await;
    let ours = server.get("localhost", "/v1.1/hotmail.com").await.xml();
    // The one difference: the IMAP host follows the product's reference
    // guide. Authentication is OAuth2 only, as in ISPDB since July 2025
    // (Outlook.com refuses passwords and app passwords since 2024-09-16).
    let documented: Vec<ServerTuple> = ispdb
        .servers()
        .into_iter()
        .map(|(kind, host, port, socket, auth)| {
            let host = if kind == "imap" {
                "imap-mail.outlook.com".to_owned()
            } else {
                host
            };
            (kind, host, port, socket, auth)
        })
        .collect();
    assert_eq!(servers(&ours), documented);
    let oauth2 = &["OAuth2"];
    assert_eq!(
        servers(&ours),
        [
            tuple("imap", "imap-mail.outlook.com", "993", "SSL", oauth2),
            tuple("pop3", "outlook.office365.com", "995", "SSL", oauth2),
            tuple("smtp", "smtp-mail.outlook.com", "587", "STARTTLS", oauth2),
        ]
    );
    // Every consumer domain we claim is one ISPDB claims too.
    for domain in ours.one("emailProvider").texts("domain") {
        assert!(
            ispdb.domains.iter().any(|d| d == domain) || domain == "passport.com",
            "{domain}"
        );
    }
    server.shutdown().await;
}

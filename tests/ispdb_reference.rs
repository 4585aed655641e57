//! Our config-v1.1 documents against Thunderbird's real ISPDB entries
//! (../shared/reference/ispdb/). Every difference is deliberate and listed
//! in README.md; this test pins them so a new one cannot slip in.

mod common;

use std::path::PathBuf;

use common::{Element, TestServer};

fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/ispdb");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        dir.display()
    );
    eprintln!(
        "skipped: {} not found (the reference data lives beside the repository)",
        dir.display()
    );
    None
}

/// (type, hostname, port, socketType, authentications) of each server.
fn servers(root: &Element) -> Vec<(String, String, String, String, Vec<String>)> {
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

fn tuple(
    kind: &str,
    host: &str,
    port: &str,
    socket: &str,
    auth: &[&str],
) -> (String, String, String, String, Vec<String>) {
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
    let Some(dir) = reference_dir() else { return };
    let ispdb = Element::parse(&std::fs::read(dir.join("office365.com.xml")).unwrap());
    let server = TestServer::start().await;
    let ours = server.get("localhost", "/v1.1/contoso.test").await.xml();
    // ISPDB also lists ews/owa/graph/exchange servers; we list IMAP, POP3 and
    // SMTP only (the profile has no EWS data, and Thunderbird's wizard
    // picks IMAP first either way).
    assert_eq!(servers(&ours), servers(&ispdb));
    // The top-level oAuth2 element: same issuer and endpoints; the scope
    // host differs (ours is the one Thunderbird itself requests).
    for field in ["issuer", "authURL", "tokenURL"] {
        assert_eq!(
            ours.one("oAuth2").text_at(field),
            ispdb.one("oAuth2").text_at(field)
        );
    }
    assert_eq!(
        ours.one("oAuth2")
            .text_at("scope")
            .replace("outlook.office.com", "outlook.office365.com"),
        ispdb.one("oAuth2").text_at("scope")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn outlook_servers_differ_from_ispdb_hotmail_entry_only_where_documented() {
    let Some(dir) = reference_dir() else { return };
    let ispdb = Element::parse(&std::fs::read(dir.join("hotmail.com.xml")).unwrap());
    let server = TestServer::start().await;
    let ours = server.get("localhost", "/v1.1/hotmail.com").await.xml();
    assert_eq!(
        servers(&ispdb),
        [
            tuple("imap", "outlook.office365.com", "993", "SSL", &["OAuth2"]),
            tuple("pop3", "outlook.office365.com", "995", "SSL", &["OAuth2"]),
            tuple(
                "smtp",
                "smtp-mail.outlook.com",
                "587",
                "STARTTLS",
                &["OAuth2"]
            ),
        ]
    );
    // Differences: the IMAP host follows the product's reference guide, and
    // the password alternative (app password) stays, after OAuth2.
    let both = &["OAuth2", "password-cleartext"];
    assert_eq!(
        servers(&ours),
        [
            tuple("imap", "imap-mail.outlook.com", "993", "SSL", both),
            tuple("pop3", "outlook.office365.com", "995", "SSL", both),
            tuple("smtp", "smtp-mail.outlook.com", "587", "STARTTLS", both),
        ]
    );
    // Every consumer domain we claim is one ISPDB claims too.
    let ispdb_domains = ispdb.one("emailProvider").texts("domain");
    for domain in ours.one("emailProvider").texts("domain") {
        assert!(
            ispdb_domains.contains(&domain) || domain == "passport.com",
            "{domain}"
        );
    }
    server.shutdown().await;
}

//! The dated client table through the real surface: `mailsetup clients`,
//! `--today` on the CLI, and a server whose day is fixed on both sides of
//! 2026-10-01 (EWS blocked per tenant) and 2027-04-01 (EWS switched off):
//! what Thunderbird and other clients get, the Mac's profile, iPhone's
//! unchanged one, autodiscover v2 `Protocol=EWS`, and no password for
//! Outlook.com on any endpoint.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde_json::Value;

use crate::apple_support::{IPHONE_UA, MAC_UA, UNSIGNED, get_with_agent, parse_both};
use crate::common::{Element, Reply, Scheme, TestServer, write_file};

const THUNDERBIRD_153: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Thunderbird/153.8.0";
const THUNDERBIRD_152: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:152.0) Gecko/20100101 Thunderbird/152.0";

fn mailsetup() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

async fn server_on(day: &str) -> TestServer {
    TestServer::start_on(Some(day), "", UNSIGNED).await
}

/// config-v1.1.xml for `address` as the client with `user_agent` gets it.
async fn autoconfig(server: &TestServer, address: &str, user_agent: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(format!("/mail/config-v1.1.xml?emailaddress={address}"))
        .header(http::header::HOST, "localhost");
    if let Some(user_agent) = user_agent {
        request = request.header(http::header::USER_AGENT, user_agent);
    }
    let reply = server
        .send_request(Scheme::Http, request.body(Full::new(Bytes::new())).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // The document is large enough to be gzipped for clients that ask.
    assert_eq!(reply.header("vary"), Some("User-Agent, Accept-Encoding"));
    reply
}

/// The incoming servers' types, in order.
fn incoming_types(reply: &Reply) -> Vec<String> {
    reply
        .xml()
        .one("emailProvider")
        .all("incomingServer")
        .map(|server| server.attr("type").unwrap().to_owned())
        .collect()
}

fn incoming_of<'a>(provider: &'a Element, kind: &str) -> &'a Element {
    provider
        .all("incomingServer")
        .find(|server| server.attr("type") == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} server"))
}

#[tokio::test]
async fn thunderbird_153_gets_graph_after_imap_for_microsoft365() {
    let server = server_on("2026-12-01").await;
    let reply = autoconfig(&server, "alice@contoso.test", Some(THUNDERBIRD_153)).await;
    assert_eq!(incoming_types(&reply), ["imap", "pop3", "graph"]);
    let provider = reply.xml().one("emailProvider").clone();
    let graph = incoming_of(&provider, "graph");
    assert_eq!(graph.text_at("url"), "https://graph.microsoft.com/");
    assert_eq!(graph.texts("authentication"), ["OAuth2"]);
    assert_eq!(graph.text_at("username"), "alice@contoso.test");
    server.shutdown().await;
}

#[tokio::test]
async fn ews_goes_to_thunderbird_only_before_2026_10_01() {
    let before = server_on("2026-09-30").await;
    let reply = autoconfig(&before, "alice@contoso.test", Some(THUNDERBIRD_153)).await;
    assert_eq!(incoming_types(&reply), ["imap", "pop3", "ews", "graph"]);
    let provider = reply.xml().one("emailProvider").clone();
    assert_eq!(
        incoming_of(&provider, "ews").text_at("url"),
        "https://outlook.office365.com/EWS/Exchange.asmx"
    );
    before.shutdown().await;
    let after = server_on("2026-10-01").await;
    let reply = autoconfig(&after, "alice@contoso.test", Some(THUNDERBIRD_153)).await;
    assert_eq!(incoming_types(&reply), ["imap", "pop3", "graph"]);
    after.shutdown().await;
}

/// An operator whose tenant allow-lists Thunderbird for EWS moves the end
/// date in their profile, up to EWS's own end and not a day later.
#[tokio::test]
async fn a_profile_moves_thunderbirds_ews_until_2027_04_01_at_most() {
    let dir = tempfile::tempdir().unwrap().keep();
    let profile = format!(
        "{}\n[[offer]]\nid = \"thunderbird-ews\"\nvalid_until = \"2027-04-01\"\n",
        include_str!("../../profiles/microsoft365.toml")
    );
    write_file(&dir, "microsoft365.toml", &profile);
    let top = format!("profiles_dir = \"{}\"", dir.display());
    for (day, expected) in [
        ("2027-03-31", &["imap", "pop3", "ews", "graph"][..]),
        ("2027-04-01", &["imap", "pop3", "graph"][..]),
    ] {
        let server = TestServer::start_on(Some(day), &top, UNSIGNED).await;
        let reply = autoconfig(&server, "alice@contoso.test", Some(THUNDERBIRD_153)).await;
        assert_eq!(incoming_types(&reply), expected, "{day}");
        server.shutdown().await;
    }
    // A date past EWS's end is refused by `check`, at its line and column.
    let late = profile.replace("2027-04-01", "2027-06-01");
    write_file(&dir, "microsoft365.toml", &late);
    let config_dir = tempfile::tempdir().unwrap().keep();
    let config = write_file(
        &config_dir,
        "mailsetup.toml",
        &format!("{top}\n[server]\nhttp = [\"127.0.0.1:0\"]\n"),
    );
    let output = mailsetup()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = late.lines().count();
    assert!(
        stderr.contains(&format!(
            "microsoft365.toml:{line}:15: [[offer]]: thunderbird-ews cannot run past 2027-04-01"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn other_clients_get_imap_and_smtp_only() {
    let server = server_on("2026-09-30").await;
    for user_agent in [
        None,
        Some("curl/8.5.0"),
        Some("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"),
        Some(THUNDERBIRD_152),
    ] {
        let reply = autoconfig(&server, "alice@contoso.test", user_agent).await;
        assert_eq!(incoming_types(&reply), ["imap", "pop3"], "{user_agent:?}");
    }
    // Outlook.com: no Exchange type for anyone, Thunderbird 153 included.
    let reply = autoconfig(&server, "bob@hotmail.fr", Some(THUNDERBIRD_153)).await;
    assert_eq!(incoming_types(&reply), ["imap", "pop3"]);
    server.shutdown().await;
}

/// The Mac's Exchange profile is EWS: served with its end date and, for
/// Microsoft 365, the admin's allow-list named; from 2027-04-01 410 Gone.
#[tokio::test]
async fn mac_profile_until_the_ews_end_then_410_gone_with_the_reason() {
    let path = "/apple/alice@contoso.test.mobileconfig";
    let server = server_on("2027-03-31").await;
    let reply = get_with_agent(&server, path, Some(MAC_UA)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let flat = parse_both(&reply.body);
    assert_eq!(
        flat["PayloadContent/0/PayloadType"].1,
        "com.apple.ews.account"
    );
    let description = &flat["PayloadDescription"].1;
    assert!(description.contains("2027-04-01"), "{description}");
    assert!(
        description.contains("f8d98a96-0999-43f5-8af3-69971c7bb423"),
        "{description}"
    );
    server.shutdown().await;

    let server = server_on("2027-04-01").await;
    for path in [
        path.to_owned(),
        "/apple/profile?email=alice%40contoso.test&kind=exchange&platform=macos".to_owned(),
        "/apple/bob@hotmail.fr.mobileconfig?platform=macos".to_owned(),
    ] {
        let reply = get_with_agent(&server, &path, Some(MAC_UA)).await;
        assert_eq!(reply.status, StatusCode::GONE, "{path}");
        let text = reply.text();
        assert!(text.contains("Exchange Web Services"), "{text}");
        assert!(text.contains("Outlook for Mac"), "{text}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
    server.shutdown().await;

    // The CLI refuses the same day with the same reason.
    let output = mailsetup()
        .args([
            "render",
            "mobileconfig",
            "alice@contoso.example",
            "--platform",
            "macos",
            "--today",
            "2027-04-01",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no Mac Exchange profile from 2027-04-01"),
        "{stderr}"
    );
    let output = mailsetup()
        .args([
            "render",
            "mobileconfig",
            "alice@contoso.example",
            "--platform",
            "macos",
            "--today",
            "2027-03-31",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// iPhone and iPad use ActiveSync, which the EWS retirement does not
/// touch: the same bytes on both sides of both dates.
#[tokio::test]
async fn iphone_profile_is_unchanged_across_the_ews_dates() {
    let mut bodies = Vec::new();
    for day in ["2026-09-30", "2026-10-01", "2027-03-31", "2027-04-01"] {
        let server = server_on(day).await;
        let reply = get_with_agent(
            &server,
            "/apple/alice@contoso.test.mobileconfig",
            Some(IPHONE_UA),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{day}: {}", reply.text());
        let flat = parse_both(&reply.body);
        assert_eq!(
            flat["PayloadContent/0/PayloadType"].1, "com.apple.eas.account",
            "{day}"
        );
        bodies.push(reply.body);
        server.shutdown().await;
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
}

async fn v2_json(server: &TestServer, protocol: &str) -> (StatusCode, Value) {
    let reply = server
        .get_tls(
            "autodiscover.contoso.test",
            &format!("/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol={protocol}"),
        )
        .await;
    (reply.status, serde_json::from_slice(&reply.body).unwrap())
}

#[tokio::test]
async fn autodiscover_v2_answers_ews_while_it_lives() {
    let server = server_on("2027-03-31").await;
    let (status, json) = v2_json(&server, "EWS").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(
        json,
        serde_json::json!({
            "Protocol": "EWS",
            "Url": "https://outlook.office365.com/EWS/Exchange.asmx"
        })
    );
    server.shutdown().await;
    let server = server_on("2027-04-01").await;
    let (status, json) = v2_json(&server, "ews").await;
    assert_eq!(status, StatusCode::GONE, "{json}");
    assert_eq!(json["ErrorCode"], "ProtocolRetired");
    assert!(
        json["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("2027-04-01"),
        "{json}"
    );
    // ActiveSync is unaffected.
    let (status, json) = v2_json(&server, "ActiveSync").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    server.shutdown().await;
}

/// No answer on any endpoint offers Outlook.com a password, whatever the
/// client and the day.
#[tokio::test]
async fn no_endpoint_offers_outlook_com_a_password() {
    for day in ["2024-09-15", "2026-12-01", "2027-04-01"] {
        let server = server_on(day).await;
        let oauth2_only = |reply: &Reply, what: &str| {
            let provider = reply.xml().one("emailProvider").clone();
            let servers = provider
                .all("incomingServer")
                .chain(provider.all("outgoingServer"));
            for server in servers {
                assert_eq!(server.texts("authentication"), ["OAuth2"], "{day} {what}");
            }
        };
        for user_agent in [None, Some(THUNDERBIRD_153), Some("curl/8.5.0")] {
            let reply = autoconfig(&server, "bob@hotmail.fr", user_agent).await;
            oauth2_only(&reply, &format!("{user_agent:?}"));
        }
        oauth2_only(&server.get("localhost", "/v1.1/outlook.com").await, "ispdb");
        for platform in ["ios", "macos"] {
            let path = format!("/apple/bob@hotmail.fr.mobileconfig?platform={platform}");
            let reply = get_with_agent(&server, &path, None).await;
            if reply.status == StatusCode::OK {
                let text = String::from_utf8_lossy(&reply.body).to_string();
                assert!(!text.contains("EmailAuthPassword"), "{day} {platform}");
                assert!(!text.contains("<key>Password</key>"), "{day} {platform}");
            }
        }
        server.shutdown().await;
    }
}

fn clients_json(day: &str) -> Value {
    let output = mailsetup()
        .args(["clients", "--today", day, "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// How a row applies on `day`: `yes`, `not yet` or `ended`.
fn applies(table: &Value, account: &str, id: &str) -> String {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["account"] == account && row["id"] == id)
        .unwrap_or_else(|| panic!("no row {account} {id}"))["applies"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn clients_prints_the_table_as_it_applies_on_any_day() {
    let m365 = "Microsoft 365";
    for (day, tb_ews, mac_ews, mac_after, smtp_password) in [
        ("2026-09-30", "yes", "yes", "not yet", "yes"),
        ("2026-10-01", "ended", "yes", "not yet", "yes"),
        ("2027-01-01", "ended", "yes", "not yet", "ended"),
        ("2027-04-01", "ended", "ended", "yes", "ended"),
    ] {
        let table = clients_json(day);
        assert_eq!(table["today"], day);
        assert_eq!(applies(&table, m365, "thunderbird-ews"), tb_ews, "{day}");
        assert_eq!(applies(&table, m365, "mac-ews"), mac_ews, "{day}");
        assert_eq!(applies(&table, m365, "mac-after-ews"), mac_after, "{day}");
        assert_eq!(
            applies(&table, m365, "legacy-smtp-password"),
            smtp_password,
            "{day}"
        );
        assert_eq!(applies(&table, m365, "thunderbird-graph"), "yes", "{day}");
        assert_eq!(applies(&table, m365, "ios-activesync"), "yes", "{day}");
        // Nothing for Outlook.com ever says password.
        for row in table["rows"].as_array().unwrap() {
            if row["account"] == "Outlook.com" {
                assert!(!row["auth"].as_str().unwrap().contains("password"), "{row}");
            }
        }
    }
}

#[test]
fn an_impossible_day_is_refused_with_the_reason() {
    for args in [
        &["clients", "--today", "2026-13-40"][..],
        &[
            "render",
            "thunderbird",
            "a@contoso.example",
            "--today",
            "2026-02-30",
        ],
        &["serve", "--today", "yesterday"],
    ] {
        let output = mailsetup().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("is not a date"), "{args:?}: {stderr}");
    }
}

/// The README's client and administrator tables are the command's output.
#[test]
fn readme_tables_match_the_code() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- clients table: begin -->\n")
        .expect("README has the clients table");
    let end = readme.find("<!-- clients table: end -->").unwrap();
    let in_readme = &readme[start + "<!-- clients table: begin -->\n".len()..end];
    let day = in_readme
        .split("--today ")
        .nth(1)
        .and_then(|rest| rest.get(..10))
        .expect("the README names its day");
    let output = mailsetup()
        .args(["clients", "--today", day, "--format", "markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        in_readme,
        String::from_utf8_lossy(&output.stdout),
        "README.md's client table differs from `mailsetup clients --today {day} --format markdown`"
    );
    for app_id in [
        "9e5f94bc-e8a4-4e73-b8be-63364c29d753",
        "f8d98a96-0999-43f5-8af3-69971c7bb423",
    ] {
        assert!(in_readme.contains(app_id), "{app_id}");
    }
}

//! Thunderbird autoconfig over real sockets: every URL form, both profiles,
//! an IDN domain, Host-header forms, HTTP and HTTPS (HTTP/1.1 and HTTP/2).

use http::{Method, StatusCode};

use crate::common::{Element, Reply, Scheme, TestServer, encode};

/// What a test expects of one server entry.
struct Expected<'a> {
    kind: &'a str,
    host: &'a str,
    port: &'a str,
    socket: &'a str,
    auth: &'a [&'a str],
}

fn assert_server(server: &Element, expected: &Expected<'_>, username: &str) {
    assert_eq!(server.attr("type"), Some(expected.kind));
    assert_eq!(server.text_at("hostname"), expected.host);
    assert_eq!(server.text_at("port"), expected.port);
    assert_eq!(server.text_at("socketType"), expected.socket);
    assert_eq!(server.texts("authentication"), expected.auth);
    assert_eq!(server.text_at("username"), username);
}

const M365_IMAP: Expected = Expected {
    kind: "imap",
    host: "outlook.office365.com",
    port: "993",
    socket: "SSL",
    auth: &["OAuth2"],
};
const M365_POP3: Expected = Expected {
    kind: "pop3",
    host: "outlook.office365.com",
    port: "995",
    socket: "SSL",
    auth: &["OAuth2"],
};
const M365_SMTP: Expected = Expected {
    kind: "smtp",
    host: "smtp.office365.com",
    port: "587",
    socket: "STARTTLS",
    auth: &["OAuth2"],
};
const OUTLOOK_IMAP: Expected = Expected {
    kind: "imap",
    host: "imap-mail.outlook.com",
    port: "993",
    socket: "SSL",
    // Outlook.com refuses passwords and app passwords since 2024-09-16.
    auth: &["OAuth2"],
};
const OUTLOOK_SMTP: Expected = Expected {
    kind: "smtp",
    host: "smtp-mail.outlook.com",
    port: "587",
    socket: "STARTTLS",
    auth: &["OAuth2"],
};

fn assert_is_config(reply: &Reply) -> Element {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    assert!(reply.header("cache-control").unwrap().contains("max-age="));
    // Thunderbird for Android rejects a byte-order mark.
    assert!(
        reply.body.starts_with(b"<?xml"),
        "document starts with the XML declaration"
    );
    let root = reply.xml();
    assert_eq!(root.name, "clientConfig");
    assert_eq!(root.attr("version"), Some("1.1"));
    root
}

fn assert_microsoft365(root: &Element, domain: &str, username: &str) {
    let provider = root.one("emailProvider");
    assert_eq!(provider.attr("id"), Some(domain));
    assert_eq!(provider.texts("domain"), [domain]);
    let incoming: Vec<_> = provider.all("incomingServer").collect();
    assert_eq!(incoming.len(), 2);
    assert_server(incoming[0], &M365_IMAP, username);
    assert_server(incoming[1], &M365_POP3, username);
    assert_server(provider.one("outgoingServer"), &M365_SMTP, username);
    assert_oauth2(root);
    let documentation = provider.one("documentation");
    assert!(
        documentation
            .attr("url")
            .unwrap()
            .starts_with("https://support.microsoft.com/")
    );
    assert!(!documentation.text_at("descr").is_empty());
}

fn assert_oauth2(root: &Element) {
    let oauth2 = root.one("oAuth2");
    assert_eq!(oauth2.text_at("issuer"), "login.microsoftonline.com");
    assert_eq!(
        oauth2.text_at("scope"),
        "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All \
         https://outlook.office.com/SMTP.Send offline_access"
    );
    assert_eq!(
        oauth2.text_at("authURL"),
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    );
    assert_eq!(
        oauth2.text_at("tokenURL"),
        "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    );
}

#[tokio::test]
async fn microsoft365_domain_gets_oauth2_config_on_autoconfig_host_over_https() {
    let server = TestServer::start().await;
    let path = format!(
        "/mail/config-v1.1.xml?emailaddress={}",
        encode("alice@contoso.test")
    );
    let reply = server.get_tls("autoconfig.contoso.test", &path).await;
    let root = assert_is_config(&reply);
    assert_microsoft365(&root, "contoso.test", "alice@contoso.test");
    assert_eq!(root.text_at("emailProvider/displayName"), "Contoso");
    assert_eq!(
        root.text_at("emailProvider/displayShortName"),
        "Microsoft 365"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn well_known_form_on_the_bare_domain_gives_the_same_document() {
    let server = TestServer::start().await;
    let query = format!("?emailaddress={}", encode("alice@contoso.test"));
    let autoconfig = server
        .get_tls(
            "autoconfig.contoso.test",
            &format!("/mail/config-v1.1.xml{query}"),
        )
        .await;
    let well_known = server
        .get_tls(
            "contoso.test",
            &format!("/.well-known/autoconfig/mail/config-v1.1.xml{query}"),
        )
        .await;
    assert_is_config(&well_known);
    assert_eq!(autoconfig.body, well_known.body);
    server.shutdown().await;
}

#[tokio::test]
async fn personal_hotmail_address_gets_outlook_profile_over_http() {
    let server = TestServer::start().await;
    let path = format!(
        "/mail/config-v1.1.xml?emailaddress={}",
        encode("Bob.Smith@Hotmail.FR")
    );
    let reply = server.get("autoconfig.hotmail.fr", &path).await;
    let root = assert_is_config(&reply);
    let provider = root.one("emailProvider");
    assert_eq!(provider.attr("id"), Some("hotmail.fr"));
    // A consumer domain lists all of Microsoft's consumer domains, like ISPDB.
    let domains = provider.texts("domain");
    for domain in [
        "hotmail.fr",
        "outlook.com",
        "live.fr",
        "hotmail.co.uk",
        "msn.com",
    ] {
        assert!(
            domains.contains(&domain),
            "{domain} missing from {domains:?}"
        );
    }
    assert_eq!(provider.text_at("displayName"), "Outlook.com");
    let username = "Bob.Smith@hotmail.fr";
    let incoming: Vec<_> = provider.all("incomingServer").collect();
    assert_server(incoming[0], &OUTLOOK_IMAP, username);
    assert_eq!(incoming[1].attr("type"), Some("pop3"));
    assert_server(provider.one("outgoingServer"), &OUTLOOK_SMTP, username);
    assert_oauth2(&root);
    assert!(
        provider
            .one("documentation")
            .text_at("descr")
            .contains("POP is turned off by default")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn table_domain_with_personal_profile_lists_only_itself() {
    let server = TestServer::start().await;
    let reply = server
        .get(
            "localhost",
            "/mail/config-v1.1.xml?emailaddress=carol@fabrikam.test",
        )
        .await;
    let root = assert_is_config(&reply);
    assert_eq!(root.one("emailProvider").texts("domain"), ["fabrikam.test"]);
    assert_server(
        root.one("emailProvider").one("outgoingServer"),
        &OUTLOOK_SMTP,
        "carol@fabrikam.test",
    );
    server.shutdown().await;
}

#[tokio::test]
async fn idn_domain_is_matched_in_unicode_and_punycode() {
    let server = TestServer::start().await;
    for address in [
        "anna@bücher.test",
        "anna@xn--bcher-kva.test",
        "anna@BÜCHER.test",
    ] {
        let path = format!("/mail/config-v1.1.xml?emailaddress={}", encode(address));
        let reply = server.get_tls("autoconfig.xn--bcher-kva.test", &path).await;
        let root = assert_is_config(&reply);
        assert_microsoft365(&root, "xn--bcher-kva.test", "anna@xn--bcher-kva.test");
        // The display name is escaped by the template and read back intact.
        assert_eq!(root.text_at("emailProvider/displayName"), "Bücher & Co");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn host_header_alone_names_the_domain_with_placeholder_username() {
    let server = TestServer::start().await;
    // K-9/Thunderbird for Android and KMail may send no address at all.
    for (host, path) in [
        ("autoconfig.contoso.test", "/mail/config-v1.1.xml"),
        ("autoconfig.contoso.test:8443", "/mail/config-v1.1.xml"),
        (
            "contoso.test",
            "/.well-known/autoconfig/mail/config-v1.1.xml",
        ),
    ] {
        let root = assert_is_config(&server.get_tls(host, path).await);
        assert_microsoft365(&root, "contoso.test", "%EMAILADDRESS%");
        let root = assert_is_config(&server.get(host, path).await);
        assert_microsoft365(&root, "contoso.test", "%EMAILADDRESS%");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn address_domain_wins_over_host_header() {
    let server = TestServer::start().await;
    let reply = server
        .get(
            "autoconfig.contoso.test",
            "/mail/config-v1.1.xml?emailaddress=dan%40hotmail.com",
        )
        .await;
    let root = assert_is_config(&reply);
    assert_eq!(root.one("emailProvider").attr("id"), Some("hotmail.com"));
    server.shutdown().await;
}

#[tokio::test]
async fn ispdb_style_lookup_by_domain() {
    let server = TestServer::start().await;
    let root = assert_is_config(&server.get_tls("localhost", "/v1.1/contoso.test").await);
    assert_microsoft365(&root, "contoso.test", "%EMAILADDRESS%");
    let root = assert_is_config(&server.get("localhost", "/v1.1/b%C3%BCcher.test").await);
    assert_eq!(
        root.one("emailProvider").attr("id"),
        Some("xn--bcher-kva.test")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn http2_over_tls_serves_the_same_document() {
    let server = TestServer::start().await;
    let path = "/mail/config-v1.1.xml?emailaddress=alice%40contoso.test";
    let h1 = server.get("autoconfig.contoso.test", path).await;
    let h2 = server
        .send(
            Scheme::Http2Tls,
            Method::GET,
            "autoconfig.contoso.test",
            path,
            Default::default(),
        )
        .await;
    assert_eq!(h2.version, http::Version::HTTP_2);
    assert_eq!(h2.status, StatusCode::OK);
    assert_eq!(h1.body, h2.body);
    server.shutdown().await;
}

#[tokio::test]
async fn head_gets_headers_without_body() {
    let server = TestServer::start().await;
    let path = "/mail/config-v1.1.xml?emailaddress=alice%40contoso.test";
    let get = server.get("localhost", path).await;
    let head = server
        .send(
            Scheme::Http,
            Method::HEAD,
            "localhost",
            path,
            Default::default(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start().await;
    let reply = server.get("localhost", "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "ok\n");
    server.shutdown().await;
}

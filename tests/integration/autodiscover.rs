//! Outlook POX autodiscover, ActiveSync mobilesync and Autodiscover v2 JSON
//! over real sockets: both profiles, every schema and path spelling, request
//! bodies written the ways real clients write them, and hostile ones.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::common::{self, Element, Reply, Scheme, TestServer, write_file};

const OUTLOOK_REQUEST: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const OUTLOOK_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const MOBILESYNC_REQUEST: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
const MOBILESYNC_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
const ACTIVESYNC_URL: &str = "https://outlook.office365.com/Microsoft-Server-ActiveSync";
const MICROSOFT_AUTODISCOVER: &str =
    "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml";

/// A server whose table also has `settings.test` on a profile with the
/// `settings` autodiscover policy (both built-ins redirect).
async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let profiles = dir.join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let profile = common::settings_profile();
    write_file(&profiles, "imapsettings.toml", &profile);
    TestServer::start_with_config(
        &format!("profiles_dir = \"{}\"", profiles.display()),
        "[[domain]]\nname = \"settings.test\"\nprofile = \"imapsettings\"\ndisplay_name = \"Settings & Co\"\n",
    )
    .await
}

fn outlook_request(address: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"{OUTLOOK_REQUEST}\">\r\n  <Request>\r\n    \
         <EMailAddress>{address}</EMailAddress>\r\n    <AcceptableResponseSchema>{OUTLOOK_RESPONSE}</AcceptableResponseSchema>\r\n  \
         </Request>\r\n</Autodiscover>\r\n"
    )
}

fn mobilesync_request(address: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{MOBILESYNC_REQUEST}\">\n<Request>\n\
         <EMailAddress>{address}</EMailAddress>\n<AcceptableResponseSchema>{MOBILESYNC_RESPONSE}</AcceptableResponseSchema>\n\
         </Request>\n</Autodiscover>"
    )
}

async fn post(
    server: &TestServer,
    scheme: Scheme,
    host: &str,
    path: &str,
    body: impl Into<Bytes>,
) -> Reply {
    server
        .send(scheme, Method::POST, host, path, body.into())
        .await
}

async fn post_pox(server: &TestServer, body: impl Into<Bytes>) -> Reply {
    post(
        server,
        Scheme::Https,
        "autodiscover.contoso.test",
        "/autodiscover/autodiscover.xml",
        body,
    )
    .await
}

/// The `Response` element of a 200 POX answer, checking the envelope.
fn response_of(reply: &Reply, response_namespace: &str) -> Element {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    assert!(reply.header("www-authenticate").is_none());
    let root = reply.xml();
    assert_eq!(root.name, "Autodiscover");
    assert_eq!(
        root.attr("xmlns"),
        Some("http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006")
    );
    let response = root.one("Response").clone();
    assert_eq!(response.attr("xmlns"), Some(response_namespace));
    response
}

fn assert_redirect_to_microsoft(reply: &Reply) {
    let response = response_of(reply, OUTLOOK_RESPONSE);
    let account = response.one("Account");
    assert_eq!(account.text_at("Action"), "redirectUrl");
    assert_eq!(account.text_at("RedirectUrl"), MICROSOFT_AUTODISCOVER);
    assert_eq!(
        account.children.len(),
        2,
        "nothing but Action and RedirectUrl"
    );
}

fn assert_mobilesync(reply: &Reply, address: &str, display_name: &str) {
    let response = response_of(reply, MOBILESYNC_RESPONSE);
    assert_eq!(response.text_at("Culture"), "en:us");
    assert_eq!(response.text_at("User/EMailAddress"), address);
    assert_eq!(response.text_at("User/DisplayName"), display_name);
    let server = response.one("Action").one("Settings").one("Server");
    assert_eq!(server.text_at("Type"), "MobileSync");
    assert_eq!(server.text_at("Url"), ACTIVESYNC_URL);
    assert_eq!(server.text_at("Name"), ACTIVESYNC_URL);
}

/// The POX error code and HTTP status of an error answer.
fn pox_error(reply: &Reply) -> (u16, String, String) {
    assert_eq!(
        reply.header("content-type"),
        Some("text/xml; charset=utf-8"),
        "{}",
        reply.text()
    );
    assert!(reply.header("www-authenticate").is_none());
    let root = reply.xml();
    let error = root.one("Response").one("Error");
    let time = error.attr("Time").expect("Time attribute");
    assert_eq!(time.len(), "16:56:32.6164027".len(), "{time}");
    assert!(error.attr("Id").unwrap().parse::<u32>().is_ok());
    let message = error.text_at("Message").to_owned();
    assert_eq!(
        message,
        match error.text_at("ErrorCode") {
            "600" => "Invalid Request",
            "601" => "Provider is not available",
            other => panic!("unexpected ErrorCode {other}"),
        }
    );
    (
        reply.status.as_u16(),
        error.text_at("ErrorCode").to_owned(),
        error.text_at("DebugData").to_owned(),
    )
}

#[tokio::test]
async fn microsoft365_outlook_request_is_redirected_to_exchange_online() {
    let server = server().await;
    let reply = post_pox(&server, outlook_request("alice@contoso.test")).await;
    assert_redirect_to_microsoft(&reply);
    server.shutdown().await;
}

#[tokio::test]
async fn personal_outlook_request_is_redirected_to_exchange_online() {
    let server = server().await;
    let reply = post(
        &server,
        Scheme::Https,
        "autodiscover.contoso.test",
        "/autodiscover/autodiscover.xml",
        outlook_request("bob@hotmail.fr"),
    )
    .await;
    assert_redirect_to_microsoft(&reply);
    server.shutdown().await;
}

#[tokio::test]
async fn settings_policy_answers_imap_pop_smtp_with_exact_encryption() {
    let server = server().await;
    let reply = post(
        &server,
        Scheme::Http,
        "autodiscover.settings.test",
        "/autodiscover/autodiscover.xml",
        outlook_request("carol@settings.test"),
    )
    .await;
    let response = response_of(&reply, OUTLOOK_RESPONSE);
    assert_eq!(
        response.text_at("User/AutoDiscoverSMTPAddress"),
        "carol@settings.test"
    );
    assert_eq!(response.text_at("User/DisplayName"), "Settings & Co");
    let account = response.one("Account");
    assert_eq!(account.text_at("AccountType"), "email");
    assert_eq!(account.text_at("Action"), "settings");
    let protocols: Vec<_> = account.all("Protocol").collect();
    let expected = [
        ("IMAP", "imap-mail.outlook.com", "993", "SSL"),
        ("POP3", "outlook.office365.com", "995", "SSL"),
        ("SMTP", "smtp-mail.outlook.com", "587", "TLS"),
    ];
    assert_eq!(protocols.len(), expected.len());
    for (protocol, (kind, host, port, encryption)) in protocols.iter().zip(expected) {
        assert_eq!(protocol.text_at("Type"), kind);
        assert_eq!(protocol.text_at("Server"), host);
        assert_eq!(protocol.text_at("Port"), port);
        assert_eq!(protocol.text_at("SSL"), "on");
        assert_eq!(protocol.text_at("Encryption"), encryption, "{kind}");
        assert_eq!(protocol.text_at("SPA"), "off");
        assert_eq!(protocol.text_at("AuthRequired"), "on");
        assert_eq!(protocol.text_at("LoginName"), "carol@settings.test");
        assert_eq!(protocol.text_at("DomainRequired"), "off");
        assert_eq!(protocol.text_at("TTL"), "1");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn mobilesync_request_gets_the_activesync_url_for_both_profiles() {
    let server = server().await;
    for (address, display_name) in [
        ("alice@contoso.test", "Contoso"),
        ("bob@hotmail.fr", "Outlook.com"),
        ("carol@settings.test", "Settings & Co"),
    ] {
        let reply = post_pox(&server, mobilesync_request(address)).await;
        assert_mobilesync(&reply, address, display_name);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn every_path_spelling_host_and_scheme_is_answered() {
    let server = server().await;
    for path in [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
        "/AutoDiscover/AutoDiscover.xml",
        "/AUTODISCOVER/AUTODISCOVER.XML",
    ] {
        for host in ["autodiscover.contoso.test", "contoso.test", "localhost"] {
            for scheme in [Scheme::Http, Scheme::Https, Scheme::Http2Tls] {
                let reply = post(
                    &server,
                    scheme,
                    host,
                    path,
                    outlook_request("alice@contoso.test"),
                )
                .await;
                assert_redirect_to_microsoft(&reply);
            }
        }
    }
    server.shutdown().await;
}

/// Request bodies as real clients write them.
fn client_corpus() -> Vec<(&'static str, String, bool)> {
    let outlook_windows = outlook_request("alice@contoso.test");
    let outlook_mac = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Autodiscover xmlns:a=\"{OUTLOOK_REQUEST}\"><a:Request>\
         <a:EMailAddress>alice@contoso.test</a:EMailAddress><a:AcceptableResponseSchema>{OUTLOOK_RESPONSE}\
         </a:AcceptableResponseSchema></a:Request></a:Autodiscover>"
    );
    let thunderbird = format!(
        "<Autodiscover xmlns=\"{OUTLOOK_REQUEST}\"><Request><EMailAddress>alice@contoso.test</EMailAddress>\
         <AcceptableResponseSchema>{OUTLOOK_RESPONSE}</AcceptableResponseSchema></Request></Autodiscover>"
    );
    let https_namespaces =
        outlook_request("alice@contoso.test").replace("http://schemas", "https://schemas");
    let bom = format!("\u{FEFF}{}", outlook_request("alice@contoso.test"));
    let odd_case = format!(
        "<autodiscover xmlns=\"{OUTLOOK_REQUEST}\"><REQUEST><emailaddress> ALICE@Contoso.Test </emailaddress>\
         <acceptableResponseSchema>\n  {OUTLOOK_RESPONSE}\n</acceptableResponseSchema></REQUEST></autodiscover>"
    );
    let with_comment_and_pi = format!(
        "<?xml version=\"1.0\"?><!-- client --><?client hint?><Autodiscover xmlns=\"{OUTLOOK_REQUEST}\"><Request>\
         <EMailAddress><![CDATA[alice@contoso.test]]></EMailAddress><AcceptableResponseSchema>{OUTLOOK_RESPONSE}\
         </AcceptableResponseSchema><LegacyDN/></Request></Autodiscover>"
    );
    let entity_in_text = outlook_request("alice&#64;contoso.test");
    let ios = mobilesync_request("alice@contoso.test");
    let android = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Autodiscover xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns=\"{MOBILESYNC_REQUEST}\">\r\n<Request>\r\n\
         <EMailAddress>alice@contoso.test</EMailAddress>\r\n<AcceptableResponseSchema>{MOBILESYNC_RESPONSE}\
         </AcceptableResponseSchema>\r\n</Request>\r\n</Autodiscover>\r\n"
    );
    let mobilesync_prefixed = format!(
        "<m:Autodiscover xmlns:m=\"{MOBILESYNC_REQUEST}\"><m:Request><m:EMailAddress>alice@contoso.test</m:EMailAddress>\
         <m:AcceptableResponseSchema>{MOBILESYNC_RESPONSE}</m:AcceptableResponseSchema></m:Request></m:Autodiscover>"
    );
    vec![
        (
            "Outlook for Windows (CRLF, declaration)",
            outlook_windows,
            false,
        ),
        ("Outlook for Mac (prefixed)", outlook_mac, false),
        ("Thunderbird (no declaration)", thunderbird, false),
        ("https:// namespaces", https_namespaces, false),
        ("UTF-8 BOM", bom, false),
        ("odd element case and white space", odd_case, false),
        (
            "comment, PI, CDATA, extra element",
            with_comment_and_pi,
            false,
        ),
        ("character reference", entity_in_text, false),
        ("iOS Mail mobilesync", ios, true),
        ("Android mobilesync (xsi/xsd)", android, true),
        ("mobilesync with prefixes", mobilesync_prefixed, true),
    ]
}

#[tokio::test]
async fn request_bodies_written_the_ways_real_clients_write_them_are_understood() {
    let server = server().await;
    for (client, body, mobilesync) in client_corpus() {
        let reply = post_pox(&server, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{client}: {}", reply.text());
        if mobilesync {
            assert_mobilesync(&reply, "alice@contoso.test", "Contoso");
        } else {
            assert_redirect_to_microsoft(&reply);
        }
    }
    server.shutdown().await;
}

/// (what, body, HTTP status, ErrorCode, words DebugData must contain)
fn hostile_corpus() -> Vec<(&'static str, String, u16, &'static str, &'static str)> {
    let request = outlook_request("alice@contoso.test");
    let deep = format!(
        "{}{}{}",
        "<Autodiscover>".to_owned() + &"<a>".repeat(40),
        "x",
        "</a>".repeat(40) + "</Autodiscover>"
    );
    let billion_laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>{}",
        request
            .replace("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "")
            .replace("alice@contoso.test", "&lol2;")
    );
    let external = format!(
        "<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        request
            .replace("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "")
            .replace("alice@contoso.test", "&xxe;")
    );
    let undeclared_entity = request.replace("alice@contoso.test", "&xxe;");
    let two_addresses = request.replace(
        "<EMailAddress>alice@contoso.test</EMailAddress>",
        "<EMailAddress>alice@contoso.test</EMailAddress><EMailAddress>eve@contoso.test</EMailAddress>",
    );
    vec![
        ("empty body", String::new(), 400, "600", "empty"),
        ("white space only", "  \r\n ".into(), 400, "600", "empty"),
        (
            "not XML",
            "hello, autodiscover".into(),
            400,
            "600",
            "no root element",
        ),
        (
            "JSON",
            "{\"EMailAddress\":\"alice@contoso.test\"}".into(),
            400,
            "600",
            "no root element",
        ),
        (
            "truncated",
            request[..request.len() / 2].into(),
            400,
            "600",
            "not well-formed",
        ),
        (
            "mismatched end tag",
            request.replace("</Request>", "</Requests>"),
            400,
            "600",
            "not well-formed",
        ),
        (
            "wrong root",
            "<Discover><Request/></Discover>".into(),
            400,
            "600",
            "root element is <Discover>",
        ),
        (
            "two roots",
            format!("{request}<Autodiscover/>"),
            400,
            "600",
            "root element",
        ),
        ("deep nesting", deep, 400, "600", "nested more than 16 deep"),
        (
            "DOCTYPE with internal entities",
            billion_laughs,
            400,
            "600",
            "DOCTYPE is not allowed",
        ),
        (
            "DOCTYPE with external entity",
            external,
            400,
            "600",
            "DOCTYPE is not allowed",
        ),
        (
            "undeclared entity",
            undeclared_entity,
            400,
            "600",
            "entity references",
        ),
        (
            "missing address",
            request.replace("<EMailAddress>alice@contoso.test</EMailAddress>", ""),
            400,
            "600",
            "EMailAddress is missing",
        ),
        (
            "empty address",
            request.replace("alice@contoso.test", "  "),
            400,
            "600",
            "EMailAddress is missing",
        ),
        ("two addresses", two_addresses, 400, "600", "more than once"),
        (
            "missing schema",
            request.replace(
                &format!("<AcceptableResponseSchema>{OUTLOOK_RESPONSE}</AcceptableResponseSchema>"),
                "",
            ),
            400,
            "600",
            "AcceptableResponseSchema is missing",
        ),
        (
            "unsupported schema",
            request.replace(
                OUTLOOK_RESPONSE,
                "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006",
            ),
            200,
            "601",
            "not one this server provides",
        ),
        (
            "invalid address",
            request.replace("alice@contoso.test", "alice@@contoso.test"),
            400,
            "600",
            "more than one @",
        ),
        (
            "address with markup",
            request.replace("alice@contoso.test", "&lt;script&gt;@contoso.test"),
            400,
            "600",
            "invalid email address",
        ),
        (
            "unknown domain",
            request.replace("alice@contoso.test", "alice@nobody.test"),
            404,
            "601",
            "nobody.test is not served here",
        ),
    ]
}

#[tokio::test]
async fn malformed_and_hostile_bodies_get_the_protocol_error() {
    let server = server().await;
    for (what, body, status, code, debug) in hostile_corpus() {
        let reply = post_pox(&server, body).await;
        let (got_status, got_code, debug_data) = pox_error(&reply);
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{what}: {debug_data}"
        );
        assert!(debug_data.contains(debug), "{what}: {debug_data}");
        // No entity was expanded: nothing from /etc/passwd, no "lol".
        assert!(
            !reply.text().contains("root:") && !reply.text().contains("lollol"),
            "{what}"
        );
        assert!(!reply.text().contains("<script"), "{what}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn utf16_body_is_refused_as_not_utf8() {
    let server = server().await;
    let utf16: Vec<u8> = outlook_request("alice@contoso.test")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let (status, code, debug) = pox_error(&post_pox(&server, utf16).await);
    assert_eq!((status, code.as_str()), (400, "600"));
    assert_eq!(debug, "the request body is not UTF-8");
    server.shutdown().await;
}

#[tokio::test]
async fn body_over_the_cap_gets_413() {
    let server = server().await;
    let padding = "<Padding>".to_owned() + &"x".repeat(20_000) + "</Padding>";
    let body =
        outlook_request("alice@contoso.test").replace("<Request>", &format!("<Request>{padding}"));
    let reply = post_pox(&server, body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    server.shutdown().await;
}

#[tokio::test]
async fn get_on_the_pox_endpoint_is_405_without_a_credential_challenge() {
    let server = server().await;
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::OPTIONS] {
        let request = http::Request::builder()
            .method(method.clone())
            .uri("/Autodiscover/Autodiscover.xml")
            .header("host", "autodiscover.contoso.test")
            .header("authorization", "Basic YWxpY2U6aHVudGVyMg==")
            .body(http_body_util::Full::new(Bytes::new()))
            .unwrap();
        let reply = server.send_request(Scheme::Https, request).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(reply.header("allow"), Some("POST"));
        assert!(reply.header("www-authenticate").is_none());
        if method != Method::HEAD {
            assert!(reply.text().contains("allowed: POST"));
        }
    }
    // A POST with credentials is answered like one without: they are ignored.
    let request = http::Request::builder()
        .method(Method::POST)
        .uri("/autodiscover/autodiscover.xml")
        .header("host", "autodiscover.contoso.test")
        .header("authorization", "Basic YWxpY2U6aHVudGVyMg==")
        .body(http_body_util::Full::new(Bytes::from(outlook_request(
            "alice@contoso.test",
        ))))
        .unwrap();
    assert_redirect_to_microsoft(&server.send_request(Scheme::Https, request).await);
    server.shutdown().await;
}

async fn get_json(server: &TestServer, path: &str) -> (StatusCode, serde_json::Value) {
    let reply = server.get_tls("autodiscover.contoso.test", path).await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{path}"
    );
    assert!(reply.header("www-authenticate").is_none());
    (
        reply.status,
        serde_json::from_slice(&reply.body).expect("JSON body"),
    )
}

#[tokio::test]
async fn v2_json_answers_autodiscoverv1_and_activesync_in_both_url_forms() {
    let server = server().await;
    let cases = [
        (
            "alice@contoso.test",
            "AutodiscoverV1",
            MICROSOFT_AUTODISCOVER.to_owned(),
        ),
        (
            "bob@hotmail.fr",
            "autodiscoverv1",
            MICROSOFT_AUTODISCOVER.to_owned(),
        ),
        (
            "carol@settings.test",
            "AutodiscoverV1",
            "https://autodiscover.settings.test/autodiscover/autodiscover.xml".to_owned(),
        ),
        (
            "alice@contoso.test",
            "ActiveSync",
            ACTIVESYNC_URL.to_owned(),
        ),
        (
            "carol@settings.test",
            "ACTIVESYNC",
            ACTIVESYNC_URL.to_owned(),
        ),
    ];
    for (address, protocol, url) in cases {
        for path in [
            format!("/autodiscover/autodiscover.json/v1.0/{address}?Protocol={protocol}"),
            format!("/Autodiscover/Autodiscover.json/v1.0/{address}?protocol={protocol}"),
            format!("/autodiscover/autodiscover.json?Email={address}&Protocol={protocol}"),
            format!(
                "/autodiscover/autodiscover.json?email={}&PROTOCOL={protocol}",
                address.replace('@', "%40")
            ),
        ] {
            let (status, json) = get_json(&server, &path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {json}");
            assert_eq!(
                json,
                serde_json::json!({"Protocol": protocol, "Url": url}),
                "{path}"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn v2_json_errors_use_microsofts_shape() {
    let server = server().await;
    let cases = [
        (
            "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=Mapi",
            400,
            "InvalidProtocol",
            "Supported values are 'AutodiscoverV1,ActiveSync,EWS'",
        ),
        (
            "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=%3Cscript%3E",
            400,
            "InvalidProtocol",
            "is invalid",
        ),
        (
            "/autodiscover/autodiscover.json/v1.0/alice@contoso.test",
            400,
            "MissingProtocol",
            "'Protocol'",
        ),
        (
            "/autodiscover/autodiscover.json?Protocol=ActiveSync",
            400,
            "MandatoryParameterMissing",
            "'Email'",
        ),
        (
            "/autodiscover/autodiscover.json?Email=&Protocol=ActiveSync",
            400,
            "MandatoryParameterMissing",
            "'Email'",
        ),
        (
            "/autodiscover/autodiscover.json?Email=alice&Protocol=ActiveSync",
            400,
            "InvalidEmailAddress",
            "has no @",
        ),
        (
            "/autodiscover/autodiscover.json/v1.0/%3Cscript%3E@contoso.test?Protocol=ActiveSync",
            400,
            "InvalidEmailAddress",
            "contains '<'",
        ),
        (
            "/autodiscover/autodiscover.json?Email=a%40contoso.test&Email=b%40contoso.test&Protocol=ActiveSync",
            400,
            "InvalidRequest",
            "more than once",
        ),
        (
            "/autodiscover/autodiscover.json?Email=%FF&Protocol=ActiveSync",
            400,
            "InvalidRequest",
            "the query string is not valid UTF-8",
        ),
        (
            "/autodiscover/autodiscover.json/v1.0/al%FFice@contoso.test?Protocol=ActiveSync",
            400,
            "InvalidRequest",
            "the URL path is not valid UTF-8",
        ),
        (
            "/autodiscover/autodiscover.json/v1.0/alice@nobody.test?Protocol=ActiveSync",
            404,
            "DomainNotFound",
            "nobody.test is not served here",
        ),
    ];
    for (path, status, code, message) in cases {
        let (got, json) = get_json(&server, path).await;
        assert_eq!(got.as_u16(), status, "{path}: {json}");
        assert_eq!(json["ErrorCode"], code, "{path}: {json}");
        let text = json["ErrorMessage"].as_str().unwrap();
        assert!(text.contains(message), "{path}: {text}");
        assert!(!text.contains("<script"), "{path}: {text}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn render_autodiscover_is_byte_identical_to_the_server() {
    let server = server().await;
    let config = server.config_path.to_str().unwrap();
    let binary = env!("CARGO_BIN_EXE_mailsetup");
    for address in [
        "alice@contoso.test",
        "bob@hotmail.fr",
        "carol@settings.test",
    ] {
        for (schema, body) in [
            ("outlook", outlook_request(address)),
            ("mobilesync", mobilesync_request(address)),
        ] {
            let output = std::process::Command::new(binary)
                .args([
                    "render",
                    "autodiscover",
                    address,
                    "--schema",
                    schema,
                    "--config",
                    config,
                ])
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let served = post_pox(&server, body).await;
            assert_eq!(output.stdout, served.body.to_vec(), "{address} {schema}");
        }
        for protocol in ["AutodiscoverV1", "ActiveSync", "EWS"] {
            let output = std::process::Command::new(binary)
                .args([
                    "render",
                    "autodiscover",
                    address,
                    "--json",
                    protocol,
                    "--config",
                    config,
                ])
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let path =
                format!("/autodiscover/autodiscover.json/v1.0/{address}?Protocol={protocol}");
            let served = server.get_tls("autodiscover.contoso.test", &path).await;
            assert_eq!(output.stdout, served.body.to_vec(), "{address} {protocol}");
        }
    }
    let output = std::process::Command::new(binary)
        .args([
            "render",
            "autodiscover",
            "alice@contoso.test",
            "--json",
            "Mapi",
            "--config",
            config,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown protocol \"Mapi\""));
    server.shutdown().await;
}

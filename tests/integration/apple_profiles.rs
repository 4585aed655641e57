//! Apple configuration profiles over real HTTPS: contents (read with the
//! plist crate and with Python's plistlib), platform choice, stable
//! identifiers, the CLI giving the same bytes, and bad input.

use http::{Method, StatusCode};

use crate::apple_support::{
    IPHONE_UA, MAC_UA, UNSIGNED, assert_field, get_with_agent, parse_both,
    start_with_password_profile,
};
use crate::common::{Scheme, TestServer, encode, tools};

const APPLE_CONFIG: &str = "application/x-apple-aspen-config";

fn mailsetup() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

#[tokio::test]
async fn iphone_gets_exchange_activesync_with_oauth_and_no_password() {
    let server = TestServer::start_with(UNSIGNED).await;
    let reply = get_with_agent(
        &server,
        "/apple/alice@contoso.test.mobileconfig",
        Some(IPHONE_UA),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(APPLE_CONFIG));
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"alice@contoso.test.mobileconfig\"")
    );
    // The platform came from the User-Agent and the profile's language
    // from Accept-Language (no `lang` in the link): both say so to caches.
    // (Members in any order: RFC 9110 §12.5.5 gives it no meaning.)
    let mut vary: Vec<&str> = reply.header("vary").unwrap().split(", ").collect();
    vary.sort_unstable();
    assert_eq!(vary, ["Accept-Language", "User-Agent"]);
    let flat = parse_both(&reply.body);
    assert_field(&flat, "PayloadType", "str", "Configuration");
    assert_field(&flat, "PayloadVersion", "int", "1");
    assert_field(
        &flat,
        "PayloadIdentifier",
        "str",
        "test.contoso.mailsetup.alice",
    );
    assert_field(&flat, "PayloadOrganization", "str", "Contoso Ltd.");
    assert_field(&flat, "PayloadRemovalDisallowed", "bool", "false");
    assert_field(&flat, "TargetDeviceType", "int", "1");
    assert_field(
        &flat,
        "PayloadDisplayName",
        "str",
        "Contoso mail: alice@contoso.test",
    );
    assert!(flat.contains_key("PayloadDescription"));
    assert_field(
        &flat,
        "PayloadContent/0/PayloadType",
        "str",
        "com.apple.eas.account",
    );
    assert_field(&flat, "PayloadContent/0/PayloadVersion", "int", "1");
    assert_field(
        &flat,
        "PayloadContent/0/PayloadIdentifier",
        "str",
        "test.contoso.mailsetup.alice.exchange",
    );
    assert_field(
        &flat,
        "PayloadContent/0/EmailAddress",
        "str",
        "alice@contoso.test",
    );
    assert_field(
        &flat,
        "PayloadContent/0/UserName",
        "str",
        "alice@contoso.test",
    );
    assert_field(
        &flat,
        "PayloadContent/0/Host",
        "str",
        "outlook.office365.com",
    );
    assert_field(&flat, "PayloadContent/0/SSL", "bool", "true");
    assert_field(&flat, "PayloadContent/0/OAuth", "bool", "true");
    assert_field(
        &flat,
        "PayloadContent/0/MailNumberOfPastDaysToSync",
        "int",
        "31",
    );
    assert!(
        !flat.contains_key("PayloadContent/1/PayloadType"),
        "one payload only"
    );
    // Auto-discovery finds Microsoft's sign-in; these URLs would turn it off.
    assert!(!flat.contains_key("PayloadContent/0/OAuthSignInURL"));
    assert!(!flat.contains_key("PayloadContent/0/OAuthTokenRequestURL"));
    assert!(
        !flat.keys().any(|k| k.contains("Password")),
        "no password key: {flat:#?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mac_user_agent_gets_exchange_web_services_with_oauth() {
    let server = TestServer::start_with(UNSIGNED).await;
    let reply = get_with_agent(
        &server,
        "/apple/alice@contoso.test.mobileconfig",
        Some(MAC_UA),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let flat = parse_both(&reply.body);
    assert_field(&flat, "TargetDeviceType", "int", "5");
    assert_field(
        &flat,
        "PayloadContent/0/PayloadType",
        "str",
        "com.apple.ews.account",
    );
    assert_field(
        &flat,
        "PayloadContent/0/EmailAddress",
        "str",
        "alice@contoso.test",
    );
    assert_field(
        &flat,
        "PayloadContent/0/UserName",
        "str",
        "alice@contoso.test",
    );
    assert_field(&flat, "PayloadContent/0/OAuth", "bool", "true");
    assert!(!flat.keys().any(|k| k.contains("Password")), "{flat:#?}");
    server.shutdown().await;
}

#[tokio::test]
async fn explicit_platform_wins_over_a_mac_user_agent() {
    // iPadOS Safari in desktop mode sends MAC_UA; the page's link says ios.
    let server = TestServer::start_with(UNSIGNED).await;
    let path = format!(
        "/apple/profile?email={}&platform=ios",
        encode("alice@contoso.test")
    );
    let reply = get_with_agent(&server, &path, Some(MAC_UA)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // The User-Agent played no part; the language still came from
    // Accept-Language.
    assert_eq!(reply.header("vary"), Some("Accept-Language"));
    let flat = parse_both(&reply.body);
    assert_field(
        &flat,
        "PayloadContent/0/PayloadType",
        "str",
        "com.apple.eas.account",
    );
    assert_field(&flat, "TargetDeviceType", "int", "1");
    server.shutdown().await;
}

#[tokio::test]
async fn imap_profile_of_a_password_profile_has_both_servers_password_auth_and_no_password() {
    let server = start_with_password_profile(UNSIGNED).await;
    let path = format!(
        "/apple/profile?email={}&kind=imap&platform=ios",
        encode("bob@oldisp.test")
    );
    let reply = get_with_agent(&server, &path, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"bob@oldisp.test-imap.mobileconfig\"")
    );
    let flat = parse_both(&reply.body);
    let p = |key: &str| format!("PayloadContent/0/{key}");
    assert_field(&flat, &p("PayloadType"), "str", "com.apple.mail.managed");
    assert_field(&flat, &p("EmailAccountType"), "str", "EmailTypeIMAP");
    assert_field(&flat, &p("EmailAddress"), "str", "bob@oldisp.test");
    assert_field(
        &flat,
        &p("IncomingMailServerHostName"),
        "str",
        "imap.oldisp.test",
    );
    assert_field(&flat, &p("IncomingMailServerPortNumber"), "int", "993");
    assert_field(&flat, &p("IncomingMailServerUseSSL"), "bool", "true");
    assert_field(
        &flat,
        &p("IncomingMailServerAuthentication"),
        "str",
        "EmailAuthPassword",
    );
    assert_field(
        &flat,
        &p("IncomingMailServerUsername"),
        "str",
        "bob@oldisp.test",
    );
    assert_field(
        &flat,
        &p("OutgoingMailServerHostName"),
        "str",
        "smtp.oldisp.test",
    );
    assert_field(&flat, &p("OutgoingMailServerPortNumber"), "int", "587");
    assert_field(&flat, &p("OutgoingMailServerUseSSL"), "bool", "true");
    assert_field(
        &flat,
        &p("OutgoingMailServerAuthentication"),
        "str",
        "EmailAuthPassword",
    );
    assert_field(
        &flat,
        &p("OutgoingMailServerUsername"),
        "str",
        "bob@oldisp.test",
    );
    assert_field(
        &flat,
        &p("OutgoingPasswordSameAsIncomingPassword"),
        "bool",
        "true",
    );
    assert!(!flat.contains_key(&p("IncomingPassword")));
    assert!(!flat.contains_key(&p("OutgoingPassword")));
    // No organization in the table for oldisp.test: the key is left out.
    assert!(!flat.contains_key("PayloadOrganization"));
    server.shutdown().await;
}

/// Outlook.com has refused passwords and app passwords since 2024-09-16:
/// no IMAP-with-password profile for it, on any platform or URL form.
#[tokio::test]
async fn outlook_com_gets_no_imap_password_profile() {
    let server = TestServer::start_with(UNSIGNED).await;
    for address in ["bob@fabrikam.test", "eve@hotmail.fr"] {
        for platform in ["ios", "macos"] {
            let path = format!(
                "/apple/profile?email={}&kind=imap&platform={platform}",
                encode(address)
            );
            let reply = get_with_agent(&server, &path, None).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
            assert!(
                reply
                    .text()
                    .contains("kind=imap needs password sign-in, which the outlook profile"),
                "{path}: {}",
                reply.text()
            );
        }
        let path = format!("/apple/{address}.mobileconfig?kind=imap");
        let reply = get_with_agent(&server, &path, Some(IPHONE_UA)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn imap_for_a_profile_without_passwords_is_refused_with_the_reason() {
    let server = TestServer::start_with(UNSIGNED).await;
    let path = format!(
        "/apple/profile?email={}&kind=imap",
        encode("alice@contoso.test")
    );
    let reply = get_with_agent(&server, &path, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .text()
            .contains("kind=imap needs password sign-in, which the microsoft365 profile"),
        "{}",
        reply.text()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn same_address_gets_the_same_identifier_and_uuid_whatever_the_request() {
    let server = TestServer::start_with(UNSIGNED).await;
    let a = parse_both(
        &get_with_agent(
            &server,
            "/apple/alice@contoso.test.mobileconfig",
            Some(IPHONE_UA),
        )
        .await
        .body,
    );
    // Another host, another form, the domain in upper case: same address.
    let path = format!(
        "/apple/profile?email={}&platform=ios",
        encode("alice@CONTOSO.test")
    );
    let reply = server.get("autoconfig.contoso.test", &path).await;
    let b = parse_both(&reply.body);
    for key in [
        "PayloadIdentifier",
        "PayloadUUID",
        "PayloadContent/0/PayloadUUID",
    ] {
        assert_eq!(a.get(key), b.get(key), "{key}");
    }
    let c = parse_both(
        &get_with_agent(&server, "/apple/carol@contoso.test.mobileconfig", None)
            .await
            .body,
    );
    assert_ne!(a.get("PayloadUUID"), c.get("PayloadUUID"));
    assert_ne!(a.get("PayloadIdentifier"), c.get("PayloadIdentifier"));

    // The UUID is version 5 of the identifier, as Python computes it.
    if tools::require_python_module("uuid") {
        let identifier = &a["PayloadIdentifier"].1;
        let output = mailsetup_python_uuid5(identifier);
        assert_eq!(a["PayloadUUID"].1, output);
        let payload_identifier = &a["PayloadContent/0/PayloadIdentifier"].1;
        assert_eq!(
            a["PayloadContent/0/PayloadUUID"].1,
            mailsetup_python_uuid5(payload_identifier)
        );
    }
    server.shutdown().await;
}

fn mailsetup_python_uuid5(name: &str) -> String {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, uuid; print(str(uuid.uuid5(uuid.NAMESPACE_DNS, sys.argv[1])).upper())",
            name,
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn cli_render_gives_the_servers_bytes() {
    let server = start_with_password_profile(UNSIGNED).await;
    for (address, kind, platform) in [
        ("alice@contoso.test", "exchange", "ios"),
        ("alice@contoso.test", "exchange", "macos"),
        ("bob@fabrikam.test", "exchange", "ios"),
        ("bob@oldisp.test", "imap", "ios"),
        ("bob@oldisp.test", "imap", "macos"),
    ] {
        let path = format!(
            "/apple/profile?email={}&kind={kind}&platform={platform}",
            encode(address)
        );
        let reply = get_with_agent(&server, &path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let output = mailsetup()
            .args([
                "render",
                "mobileconfig",
                address,
                "--kind",
                kind,
                "--platform",
                platform,
            ])
            .arg("--config")
            .arg(&server.config_path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            output.stdout,
            reply.body.to_vec(),
            "{address} {kind} {platform}"
        );
    }
    server.shutdown().await;
}

#[test]
fn cli_render_refuses_an_unknown_kind_with_the_allowed_values() {
    let output = mailsetup()
        .args([
            "render",
            "mobileconfig",
            "alice@contoso.example",
            "--kind",
            "pop",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("allowed values: exchange, imap"),
        "{stderr}"
    );
}

#[test]
fn cli_sign_without_a_certificate_says_what_to_configure() {
    // The embedded default has a self-signed certificate: no signing.
    let output = mailsetup()
        .args(["render", "mobileconfig", "alice@contoso.example", "--sign"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("profile signing is off"), "{stderr}");
}

/// (path, status, words the body must contain)
const BAD_REQUESTS: &[(&str, u16, &str)] = &[
    ("/apple/alice.mobileconfig", 400, "has no @"),
    ("/apple/.mobileconfig", 400, "the email address is empty"),
    (
        "/apple/alice@nobody.test.mobileconfig",
        404,
        "the domain nobody.test is not served here",
    ),
    (
        "/apple/profile?email=alice%40contoso.test&kind=pop",
        400,
        "unknown kind; allowed values: exchange, imap",
    ),
    (
        "/apple/profile?email=alice%40contoso.test&kind=",
        400,
        "unknown kind; allowed values: exchange, imap",
    ),
    (
        "/apple/profile?email=alice%40contoso.test&platform=android",
        400,
        "unknown platform; allowed values: ios, macos",
    ),
    (
        "/apple/profile?email=alice%40contoso.test&kind=imap&kind=exchange",
        400,
        "the query parameter kind is given more than once",
    ),
    ("/apple/profile", 400, "no email address given"),
    ("/apple/profile?email=alice", 400, "has no @"),
    // Header injection through the file name: CR/LF, quotes, semicolons.
    (
        "/apple/alice%0D%0AX-Injected:%20yes@contoso.test.mobileconfig",
        400,
        "control character",
    ),
    (
        "/apple/a%22%3Bfilename%3D%22evil.sh@contoso.test.mobileconfig",
        400,
        "contains '\"'",
    ),
    (
        "/apple/profile?email=alice%0Aevil%40contoso.test",
        400,
        "control character",
    ),
    // Path traversal in the name.
    (
        "/apple/..%2F..%2Fetc%2Fpasswd@contoso.test.mobileconfig",
        400,
        "starts or ends with a dot",
    ),
    (
        "/apple/al%FFice@contoso.test.mobileconfig",
        400,
        "the URL path is not valid UTF-8",
    ),
    ("/apple/alice@contoso.test", 404, "no such resource"),
];

#[tokio::test]
async fn each_bad_profile_request_gets_a_4xx_with_its_reason() {
    let server = TestServer::start_with(UNSIGNED).await;
    for (path, status, message) in BAD_REQUESTS {
        let reply = get_with_agent(&server, path, Some(IPHONE_UA)).await;
        assert_eq!(reply.status.as_u16(), *status, "{path}: {}", reply.text());
        assert!(reply.text().contains(message), "{path}: {}", reply.text());
        assert_eq!(reply.header("content-disposition"), None, "{path}");
        assert_eq!(reply.header("x-injected"), None, "{path}");
        assert!(!reply.text().contains("evil"), "{path}: echoed input");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn file_name_never_carries_quotes_newlines_or_path_separators() {
    let server = TestServer::start_with(UNSIGNED).await;
    // Valid addresses whose local part has characters a file name or a
    // quoted header parameter must not carry.
    for (address, expected) in [
        (
            "o'neil/x{y}@contoso.test",
            "o_neil_x_y_@contoso.test.mobileconfig",
        ),
        ("a|b\\c@contoso.test", ""),
        ("j\u{f6}rg@contoso.test", "j_rg@contoso.test.mobileconfig"),
        (
            "a#b%c&d=e@contoso.test",
            "a_b_c_d_e@contoso.test.mobileconfig",
        ),
    ] {
        let path = format!("/apple/{}.mobileconfig", encode(address));
        let reply = get_with_agent(&server, &path, None).await;
        if expected.is_empty() {
            // Backslash is not an address character at all.
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{address}");
            continue;
        }
        assert_eq!(reply.status, StatusCode::OK, "{address}: {}", reply.text());
        let disposition = reply.header("content-disposition").unwrap();
        assert_eq!(disposition, format!("attachment; filename=\"{expected}\""));
        let name = expected;
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@.-+_".contains(c)),
            "{name}"
        );
        // The profile itself keeps the real address.
        let flat = parse_both(&reply.body);
        assert_eq!(flat["PayloadContent/0/EmailAddress"].1, address);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn head_gets_the_headers_without_a_body_and_post_is_refused() {
    let server = TestServer::start_with(UNSIGNED).await;
    let path = "/apple/alice@contoso.test.mobileconfig";
    let reply = server
        .send(
            Scheme::Http,
            Method::HEAD,
            "contoso.test",
            path,
            Default::default(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some(APPLE_CONFIG));
    assert!(reply.body.is_empty());
    let reply = server
        .send(
            Scheme::Http,
            Method::POST,
            "contoso.test",
            path,
            Default::default(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    server.shutdown().await;
}

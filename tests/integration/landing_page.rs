//! The landing page over real sockets: status, security headers, language
//! choice, escaping, every app's section, the settings table compared with
//! the profile files, and the dated advice (Outlook.com's passwords, SMTP
//! AUTH, the Mac's EWS account) on days fixed by the server's clock; parsed
//! with an independent HTML tokenizer (html5gum) and TOML reader.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use crate::common::html::Node;
use crate::common::{self, Reply, Scheme, TestServer, encode};

/// The policy every HTML page carries; `{script}` is the copy script's
/// `'sha256-…'` source, checked against the script in landing_delivery.rs.
const CSP: &str = "default-src 'none'; script-src {script}; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `policy` is `CSP` with one SHA-256 script source and no other.
fn is_page_policy(policy: Option<&str>) -> bool {
    let Some(policy) = policy else { return false };
    let Some(start) = policy.find("'sha256-") else {
        return false;
    };
    let source = &policy[start..];
    let Some(end) = source[1..].find('\'') else {
        return false;
    };
    let digest = &source["'sha256-".len()..end + 1];
    digest.len() == 44
        && digest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        && policy.replace(&source[..end + 2], "{script}") == CSP
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

const APP_IDS: [&str; 8] = [
    "outlook-mobile",
    "gmail-android",
    "ios-mail",
    "macos-mail",
    "thunderbird",
    "outlook-new",
    "outlook-classic",
    "legacy",
];

/// The Apple app ID a Microsoft 365 admin allows for the Mac's EWS account
/// (written out here, not taken from the crate, so a typo there fails).
const APPLE_APP_ID: &str = "f8d98a96-0999-43f5-8af3-69971c7bb423";

/// A server whose every dated answer is for `today`, as `serve --today`
/// gives: the page must not change with the calendar.
async fn start_on(today: &str) -> TestServer {
    TestServer::start_on(Some(today), "", "").await
}

/// The parsed page for `path`, which must answer 200.
async fn get_page(server: &TestServer, path: &str) -> Node {
    let reply = page(server, path, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    parse(&reply)
}

/// The text of an app's section (selected or folded).
fn section_text(document: &Node, app: &str) -> String {
    document.by_id(&format!("app-{app}")).unwrap().text()
}

/// The notes (dated caveats) of an app's section.
fn notes(document: &Node, app: &str) -> Vec<String> {
    document
        .by_id(&format!("app-{app}"))
        .unwrap()
        .find_all(&|n| n.has_class("note"))
        .iter()
        .map(|n| n.text())
        .collect()
}

/// Every link in the page to an Apple profile for `platform`.
fn profile_links(document: &Node, platform: &str) -> Vec<String> {
    let needle = format!("platform={platform}");
    document
        .find_all(&|n| n.name == "a" && n.attr("href").is_some_and(|h| h.contains(&needle)))
        .iter()
        .map(|a| a.attr("href").unwrap().to_owned())
        .collect()
}

/// GET `path` over HTTPS with extra request headers.
async fn page(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(http::header::HOST, "autoconfig.contoso.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::new())).unwrap();
    server.send_request(Scheme::Https, request).await
}

fn parse(reply: &Reply) -> Node {
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    Node::parse(&reply.text())
}

fn html_lang(document: &Node) -> String {
    document.first("html").attr("lang").unwrap().to_owned()
}

#[tokio::test]
async fn page_without_address_is_the_form() {
    let server = TestServer::start().await;
    let reply = page(&server, "/", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = parse(&reply);
    let form = document.first("form");
    assert_eq!(form.attr("action"), Some("/"));
    assert_eq!(form.attr("method"), Some("get"));
    let input = document.by_id("email").unwrap();
    assert_eq!(input.attr("name"), Some("email"));
    assert_eq!(input.attr("value"), Some(""));
    let label = document.first("label");
    assert_eq!(label.attr("for"), Some("email"));
    assert!(document.by_id("account").is_none());
    assert!(document.by_id("email-error").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn every_html_response_has_the_security_headers() {
    let server = TestServer::start().await;
    for (path, status) in [
        ("/", StatusCode::OK),
        ("/?email=alice@contoso.test", StatusCode::OK),
        ("/?email=not-an-address", StatusCode::BAD_REQUEST),
        ("/?email=alice@unknown.test", StatusCode::NOT_FOUND),
    ] {
        let reply = page(&server, path, &[]).await;
        assert_eq!(reply.status, status, "{path}");
        assert!(
            is_page_policy(reply.header("content-security-policy")),
            "{path}: {:?}",
            reply.header("content-security-policy")
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        // The page itself obeys the policy: no inline style; the one
        // script (result pages' copy buttons) is checked against its hash
        // in landing_delivery.rs.
        let document = parse(&reply);
        assert!(document.tags("script").len() <= 1, "{path}");
        assert!(document.tags("style").is_empty(), "{path}");
        assert!(document.find_all(&|n| n.attr("style").is_some()).is_empty());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn language_follows_accept_language() {
    let server = TestServer::start().await;
    let cases = [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Configurer votre boîte"),
        ("en-GB,en;q=0.9", "en", "Set up your"),
        ("de-DE,de;q=0.9,fr;q=0.4", "fr", "Configurer votre boîte"),
        ("de-DE", "en", "Set up your"),
    ];
    for (accept, lang, heading) in cases {
        let reply = page(
            &server,
            "/?email=alice@contoso.test",
            &[("accept-language", accept)],
        )
        .await;
        let document = parse(&reply);
        assert_eq!(html_lang(&document), lang, "{accept}");
        assert_eq!(reply.header("content-language"), Some(lang));
        assert!(
            document.first("h1").text().starts_with(heading),
            "{accept}: {}",
            document.first("h1").text()
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn language_switch_overrides_accept_language_and_keeps_the_address() {
    let server = TestServer::start().await;
    let reply = page(
        &server,
        "/?email=alice@contoso.test&lang=en",
        &[("accept-language", "fr")],
    )
    .await;
    let document = parse(&reply);
    assert_eq!(html_lang(&document), "en");
    let switch = document.find_all(&|n| n.has_class("languages"));
    let links = switch[0].tags("a");
    let french = links.iter().find(|a| a.attr("lang") == Some("fr")).unwrap();
    assert_eq!(french.text(), "Français");
    assert_eq!(
        french.attr("href"),
        Some("/?email=alice@contoso.test&lang=fr")
    );
    let english = links.iter().find(|a| a.attr("lang") == Some("en")).unwrap();
    assert_eq!(english.attr("aria-current"), Some("page"));
    // Following the switch gives the French page for the same address.
    let reply = page(&server, french.attr("href").unwrap(), &[]).await;
    let document = parse(&reply);
    assert_eq!(html_lang(&document), "fr");
    assert_eq!(
        document.by_id("email").unwrap().attr("value"),
        Some("alice@contoso.test")
    );
    // The form keeps the chosen language for the next address.
    let hidden = document.find_all(&|n| n.name == "input" && n.attr("name") == Some("lang"));
    assert_eq!(hidden[0].attr("value"), Some("fr"));
    server.shutdown().await;
}

#[tokio::test]
async fn hostile_address_is_only_rendered_escaped() {
    let server = TestServer::start().await;
    let hostile = "\"><script>alert(1)</script><img/src=x/onerror=alert(2)>@contoso.test";
    let reply = page(&server, &format!("/?email={}", encode(hostile)), &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.text();
    assert!(!body.contains("<script"), "{body}");
    assert!(!body.contains("<img/src"), "{body}");
    let document = parse(&reply);
    assert!(document.tags("script").is_empty());
    // What was typed goes back into the form, as text, for correction.
    let input = document.by_id("email").unwrap();
    assert_eq!(input.attr("value"), Some(hostile));
    assert_eq!(input.attr("aria-invalid"), Some("true"));
    assert_eq!(input.attr("aria-describedby"), Some("email-error"));
    let error = document.by_id("email-error").unwrap();
    assert_eq!(error.attr("role"), Some("alert"));
    assert_eq!(
        error.text(),
        "This is not a valid email address: it contains \", which an address cannot contain."
    );
    server.shutdown().await;
}

#[tokio::test]
async fn valid_address_with_markup_characters_round_trips_as_text() {
    let server = TestServer::start().await;
    // ' & { } are valid in a local part (RFC 5322 atext).
    let address = "o'neil&{co}@contoso.test";
    let reply = page(&server, &format!("/?email={}", encode(address)), &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.text().contains("o'neil&{co}"));
    let document = parse(&reply);
    let account = document.by_id("account").unwrap();
    let shown = account.find_all(&|n| n.has_class("address"));
    assert_eq!(shown[0].text(), address);
    // Links carry it percent-encoded.
    let ios = document
        .find_all(&|n| n.name == "a" && n.attr("href").is_some_and(|h| h.contains("platform=ios")));
    assert_eq!(
        ios[0].attr("href"),
        Some(
            "/apple/profile?email=o%27neil%26%7Bco%7D@contoso.test&kind=exchange&platform=ios&lang=en"
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_address_message_is_in_the_page_language() {
    let server = TestServer::start().await;
    let reply = page(&server, "/?email=alice&lang=fr", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let document = parse(&reply);
    assert_eq!(
        document.by_id("email-error").unwrap().text(),
        "Cette adresse e-mail n’est pas valide : il manque le @."
    );
    assert_eq!(
        document.by_id("email").unwrap().attr("value"),
        Some("alice")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_domain_is_the_page_with_a_message_and_404() {
    let server = TestServer::start().await;
    let reply = page(&server, "/?email=alice@unknown.test", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let document = parse(&reply);
    let error = document.by_id("email-error").unwrap();
    assert!(
        error
            .text()
            .starts_with("This server has no settings for unknown.test."),
        "{}",
        error.text()
    );
    assert!(document.by_id("account").is_none());
    assert!(document.by_id("settings").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn account_type_comes_from_the_domain_table() {
    let server = TestServer::start().await;
    let cases = [
        (
            "alice@contoso.test",
            "Microsoft 365 work or school account · Contoso",
        ),
        ("bob@fabrikam.test", "Outlook.com personal account"),
        ("bob@hotmail.fr", "Outlook.com personal account"),
        (
            "chris@bücher.test",
            "Microsoft 365 work or school account · Bücher & Co",
        ),
    ];
    for (address, kind) in cases {
        let reply = page(&server, &format!("/?email={}", encode(address)), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{address}");
        let document = parse(&reply);
        let account = document.by_id("account").unwrap();
        let text = account.find_all(&|n| n.has_class("kind"))[0].text();
        assert!(text.starts_with(kind), "{address}: {text}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn every_app_has_its_section_with_steps() {
    let server = TestServer::start().await;
    for address in ["alice@contoso.test", "bob@fabrikam.test"] {
        let reply = page(&server, &format!("/?email={address}"), &[]).await;
        let document = parse(&reply);
        for id in APP_IDS {
            let section = document
                .by_id(&format!("app-{id}"))
                .unwrap_or_else(|| panic!("{address}: no section for {id}"));
            let steps = section.find_all(&|n| n.has_class("step-list"));
            assert!(steps[0].tags("li").len() >= 3, "{address}: {id}");
            // One app list: each other app's fold offers to select it.
            if id == "outlook-mobile" {
                continue;
            }
            let choose = section.find_all(&|n| n.name == "a" && n.attr("data-app") == Some(id));
            assert_eq!(
                choose[0].attr("href"),
                Some(format!("/?email={address}&app={id}#steps").as_str())
            );
        }
        // The old pill switch is gone: one list of apps.
        assert!(document.find_all(&|n| n.has_class("apps")).is_empty());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn user_agent_preselects_the_app_and_the_switch_overrides_it() {
    let server = TestServer::start().await;
    let selected = |document: &Node| {
        let steps = document.by_id("steps").unwrap();
        steps.find_all(&|n| n.attr("data-app").is_some())[0]
            .attr("data-app")
            .unwrap()
            .to_owned()
    };
    let reply = page(
        &server,
        "/?email=alice@contoso.test",
        &[("user-agent", IPHONE)],
    )
    .await;
    let document = parse(&reply);
    assert_eq!(selected(&document), "ios-mail");
    // The selected app is not repeated in the other apps' list.
    let others = document.by_id("other-apps").unwrap();
    assert!(
        others
            .find_all(&|n| n.attr("data-app") == Some("ios-mail"))
            .is_empty()
    );

    let reply = page(
        &server,
        "/?email=alice@contoso.test&app=thunderbird",
        &[("user-agent", IPHONE)],
    )
    .await;
    let document = parse(&reply);
    assert_eq!(selected(&document), "thunderbird");
    assert_eq!(
        document.by_id("recommended-action").unwrap().text(),
        "Add the account in Thunderbird and sign in with Microsoft."
    );
    server.shutdown().await;
}

#[tokio::test]
async fn legacy_clients_get_the_honest_answer_per_account_type() {
    let server = start_on("2026-12-01").await;
    // Outlook.com: update the app, or Outlook's own app or the web.
    let document = get_page(&server, "/?email=bob@fabrikam.test&app=legacy").await;
    assert_eq!(
        document.by_id("recommended-action").unwrap().text(),
        "Update the app, or use Outlook's own app or outlook.com."
    );
    let verdict = document.find_all(&|n| n.has_class("verdict"))[0].text();
    assert!(verdict.contains("since 16 September 2024"), "{verdict}");
    let steps = document.by_id("steps").unwrap().text();
    assert!(steps.contains("Update the app"), "{steps}");
    assert!(steps.contains("outlook.com in any browser"), "{steps}");
    assert!(!steps.contains("account.microsoft.com"), "{steps}");
    let decision = document.by_id("decision").unwrap().text();
    assert!(
        decision.contains("Yes → Then nothing else works: since 16 September 2024"),
        "{decision}"
    );
    assert!(decision.contains("outlook.com on the web"), "{decision}");

    let document = get_page(&server, "/?email=alice@contoso.test&app=legacy").await;
    assert_eq!(
        document.by_id("recommended-action").unwrap().text(),
        "Update or replace the client."
    );
    let steps = document.by_id("steps").unwrap().text();
    assert!(!steps.contains("account.microsoft.com"), "{steps}");
    assert!(steps.contains("SMTP relay"), "{steps}");
    let decision = document.by_id("decision").unwrap().text();
    assert!(decision.contains("No → Ask your IT department for an SMTP relay"));
    server.shutdown().await;
}

#[tokio::test]
async fn outlook_com_is_never_told_to_make_an_app_password() {
    // Outlook.com has refused passwords and app passwords since
    // 2024-09-16: no app's steps, answer, decision or settings row may
    // send anyone to make one, in any language, on either side of the
    // EWS dates.
    let forbidden = ["app password", "passe d’application", "passe d'application"];
    for today in ["2026-12-01", "2027-04-01"] {
        let server = start_on(today).await;
        for address in ["bob@fabrikam.test", "bob@hotmail.fr"] {
            for lang in ["en", "fr"] {
                for app in APP_IDS {
                    let path = format!("/?email={address}&app={app}&lang={lang}");
                    let reply = page(&server, &path, &[]).await;
                    assert_eq!(reply.status, StatusCode::OK, "{path}");
                    let text = parse(&reply).text().to_lowercase();
                    let body = reply.text().to_lowercase();
                    for phrase in forbidden {
                        assert!(
                            !text.contains(phrase),
                            "{today} {path}: {phrase:?} in {text}"
                        );
                        assert!(!body.contains(phrase), "{today} {path}: {phrase:?}");
                    }
                    assert!(!body.contains("kind=imap"), "{today} {path}");
                }
            }
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn outlook_com_legacy_advice_is_the_same_in_french() {
    let server = start_on("2026-12-01").await;
    let document = get_page(&server, "/?email=bob@fabrikam.test&app=legacy&lang=fr").await;
    assert_eq!(
        document.by_id("recommended-action").unwrap().text(),
        "Mettez l’application à jour, ou utilisez l’application d’Outlook ou outlook.com."
    );
    let decision = document.by_id("decision").unwrap().text();
    assert!(
        decision.contains("Oui → Alors rien d’autre ne marche : depuis le 16 septembre 2024"),
        "{decision}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn microsoft_365_password_sending_is_dated_by_the_client_table() {
    // SMTP AUTH with a password: possible where the admin allows it until
    // the end of 2026, a per-tenant exception from 2027-01-01 (MC786329);
    // the connector is the lasting route on both days.
    let path = "/?email=alice@contoso.test&app=legacy";
    let server = start_on("2026-12-31").await;
    let document = get_page(&server, path).await;
    let steps = document.by_id("steps").unwrap().text();
    assert!(
        steps.contains("still possible where your admin allows it, until the end of 2026"),
        "{steps}"
    );
    assert!(steps.contains("Microsoft 365 connector"), "{steps}");
    let decision = document.by_id("decision").unwrap().text();
    assert!(
        decision.contains("still possible where your admin allows it, until the end of 2026"),
        "{decision}"
    );
    let french = get_page(&server, &format!("{path}&lang=fr")).await;
    let steps = french.by_id("steps").unwrap().text();
    assert!(
        steps.contains("reste possible là où votre administrateur l’autorise, jusqu’à fin 2026"),
        "{steps}"
    );
    server.shutdown().await;

    let server = start_on("2027-01-01").await;
    let document = get_page(&server, path).await;
    let steps = document.by_id("steps").unwrap().text();
    assert!(!steps.contains("still possible"), "{steps}");
    assert!(
        steps.contains("works only where your tenant keeps an exception"),
        "{steps}"
    );
    assert!(steps.contains("Microsoft 365 connector"), "{steps}");
    let decision = document.by_id("decision").unwrap().text();
    assert!(
        decision.contains("works only where your tenant keeps an exception"),
        "{decision}"
    );
    assert!(!decision.contains("still possible"), "{decision}");
    let french = get_page(&server, &format!("{path}&lang=fr")).await;
    let steps = french.by_id("steps").unwrap().text();
    assert!(steps.contains("garde une exception"), "{steps}");
    server.shutdown().await;
}

#[tokio::test]
async fn mac_section_before_ews_is_blocked_by_default() {
    let server = start_on("2026-09-30").await;
    let document = get_page(&server, "/?email=alice@contoso.test&app=macos-mail").await;
    assert_eq!(
        profile_links(&document, "macos"),
        ["/apple/profile?email=alice@contoso.test&kind=exchange&platform=macos&lang=en"]
    );
    let notes = notes(&document, "macos-mail");
    assert!(
        notes[0].starts_with("From 1 October 2026") && notes[0].contains(APPLE_APP_ID),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("stops working on 1 April 2027"),
        "{notes:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mac_section_names_the_admin_and_apples_app_id_once_ews_is_blocked() {
    let server = start_on("2026-12-01").await;
    let document = get_page(&server, "/?email=alice@contoso.test&app=macos-mail").await;
    assert_eq!(
        profile_links(&document, "macos"),
        ["/apple/profile?email=alice@contoso.test&kind=exchange&platform=macos&lang=en"]
    );
    let notes_work = notes(&document, "macos-mail");
    assert!(
        notes_work[0].starts_with("Since 1 October 2026")
            && notes_work[0].contains("IT department allows Apple's app")
            && notes_work[0].contains(APPLE_APP_ID),
        "{notes_work:?}"
    );
    assert!(
        notes_work[1].contains("stops working on 1 April 2027"),
        "{notes_work:?}"
    );
    // The Mac's profile still signs in with Microsoft: question 1 applies.
    let verdict = document.find_all(&|n| n.has_class("verdict"))[0].text();
    assert!(verdict.starts_with("With Microsoft"), "{verdict}");
    let french = get_page(&server, "/?email=alice@contoso.test&app=macos-mail&lang=fr").await;
    let notes_fr = notes(&french, "macos-mail");
    assert!(
        notes_fr[0].starts_with("Depuis le 1er octobre 2026") && notes_fr[0].contains(APPLE_APP_ID),
        "{notes_fr:?}"
    );
    // Outlook.com has no tenant admin: only the end date.
    let personal = get_page(&server, "/?email=bob@fabrikam.test&app=macos-mail").await;
    assert_eq!(
        profile_links(&personal, "macos"),
        ["/apple/profile?email=bob@fabrikam.test&kind=exchange&platform=macos&lang=en"]
    );
    let notes_personal = notes(&personal, "macos-mail");
    assert_eq!(notes_personal.len(), 1, "{notes_personal:?}");
    assert!(
        notes_personal[0].contains("1 April 2027"),
        "{notes_personal:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mac_gets_no_profile_and_the_apps_that_work_once_ews_has_ended() {
    let server = start_on("2027-04-01").await;
    for address in ["alice@contoso.test", "bob@fabrikam.test"] {
        // Selected, and folded among the other apps.
        for path in [
            format!("/?email={address}&app=macos-mail"),
            format!("/?email={address}&app=thunderbird"),
        ] {
            let document = get_page(&server, &path).await;
            assert!(profile_links(&document, "macos").is_empty(), "{path}");
            let text = section_text(&document, "macos-mail");
            assert!(text.contains("Outlook for Mac"), "{path}: {text}");
            assert!(text.contains("Thunderbird"), "{path}: {text}");
            assert!(text.contains("IMAP with OAuth2"), "{path}: {text}");
            assert!(
                text.contains("Apple has announced nothing else"),
                "{path}: {text}"
            );
            assert!(!text.contains(APPLE_APP_ID), "{path}: {text}");
            let notes = notes(&document, "macos-mail");
            assert!(notes[0].starts_with("Since 1 April 2027"), "{notes:?}");
        }
        let document = get_page(&server, &format!("/?email={address}&app=macos-mail")).await;
        let verdict = document.find_all(&|n| n.has_class("verdict"))[0].text();
        assert!(
            verdict.contains("switched off on 1 April 2027"),
            "{verdict}"
        );
        assert_eq!(
            document.by_id("recommended-action").unwrap().text(),
            "Use Outlook for Mac, or Thunderbird."
        );
        // Question 1 (the app signs in with Microsoft) is no longer the way.
        let taken = document.find_all(&|n| n.name == "li" && n.has_class("taken"));
        assert_eq!(taken.len(), 1);
        assert!(taken[0].text().contains("replaced"), "{}", taken[0].text());
    }
    let french = get_page(&server, "/?email=alice@contoso.test&app=macos-mail&lang=fr").await;
    let text = section_text(&french, "macos-mail");
    assert!(text.contains("Outlook pour Mac"), "{text}");
    assert!(text.contains("Apple n’a rien annoncé d’autre"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn iphone_steps_and_links_do_not_change_with_the_ews_dates() {
    // ActiveSync is not affected by the EWS retirement.
    let mut seen: Vec<(String, Vec<String>, String)> = Vec::new();
    for today in ["2026-12-01", "2027-04-01"] {
        let server = start_on(today).await;
        for address in ["alice@contoso.test", "bob@fabrikam.test"] {
            let document = get_page(&server, &format!("/?email={address}&app=ios-mail")).await;
            let links = profile_links(&document, "ios");
            assert_eq!(
                links,
                [format!(
                    "/apple/profile?email={address}&kind=exchange&platform=ios&lang=en"
                )],
                "{today}"
            );
            assert!(notes(&document, "ios-mail").is_empty(), "{today}");
            let text = section_text(&document, "ios-mail");
            seen.push((address.to_owned(), links, text));
        }
        server.shutdown().await;
    }
    let (before, after) = seen.split_at(2);
    assert_eq!(before, after);
}

#[tokio::test]
async fn thunderbird_steps_for_microsoft_365_mention_graph_and_keep_imap() {
    let server = start_on("2026-12-01").await;
    let document = get_page(&server, "/?email=alice@contoso.test&app=thunderbird").await;
    let notes_work = notes(&document, "thunderbird");
    assert_eq!(notes_work.len(), 1, "{notes_work:?}");
    assert!(
        notes_work[0]
            .contains("Thunderbird 153 and later may also offer Exchange (Microsoft Graph)")
            && notes_work[0].contains("IMAP"),
        "{notes_work:?}"
    );
    let steps = section_text(&document, "thunderbird");
    assert!(steps.contains("IMAP with OAuth2"), "{steps}");
    // Outlook.com has no Exchange type in Thunderbird: no note.
    let personal = get_page(&server, "/?email=bob@fabrikam.test&app=thunderbird").await;
    assert!(notes(&personal, "thunderbird").is_empty());
    server.shutdown().await;
    // Before Thunderbird could read `graph` at all, no note either.
    let server = start_on("2026-01-15").await;
    let document = get_page(&server, "/?email=alice@contoso.test&app=thunderbird").await;
    assert!(notes(&document, "thunderbird").is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn apple_sections_link_to_the_profile_endpoint() {
    // Before 2027-04-01 the Mac's EWS profile is still offered.
    let server = start_on("2026-12-01").await;
    let links = |document: &Node, id: &str| -> Vec<String> {
        document
            .by_id(&format!("app-{id}"))
            .unwrap()
            .tags("a")
            .iter()
            .map(|a| a.attr("href").unwrap().to_owned())
            .filter(|href| href.starts_with("/apple/"))
            .collect()
    };
    let reply = page(&server, "/?email=bob%2Btag@fabrikam.test", &[]).await;
    let document = parse(&reply);
    assert_eq!(
        links(&document, "ios-mail"),
        ["/apple/profile?email=bob%2Btag@fabrikam.test&kind=exchange&platform=ios&lang=en"]
    );
    assert_eq!(
        links(&document, "macos-mail"),
        ["/apple/profile?email=bob%2Btag@fabrikam.test&kind=exchange&platform=macos&lang=en"]
    );
    // Neither Outlook.com (since 2024-09-16) nor work accounts accept a
    // password: no IMAP profile is offered.
    let reply = page(&server, "/?email=alice@contoso.test", &[]).await;
    let document = parse(&reply);
    assert_eq!(
        links(&document, "ios-mail"),
        ["/apple/profile?email=alice@contoso.test&kind=exchange&platform=ios&lang=en"]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn form_encoding_plus_is_a_space_and_percent_2b_is_a_plus() {
    let server = TestServer::start().await;
    let shown = |reply: &Reply| {
        let document = parse(reply);
        document
            .by_id("account")
            .unwrap()
            .find_all(&|n| n.has_class("address"))[0]
            .text()
    };
    let reply = page(&server, "/?email=alice%2Btag@contoso.test", &[]).await;
    assert_eq!(shown(&reply), "alice+tag@contoso.test");
    // A browser sends typed spaces as '+'; around the address they are trimmed.
    let reply = page(&server, "/?email=+alice@contoso.test+", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(shown(&reply), "alice@contoso.test");
    server.shutdown().await;
}

/// Expected rows from the profile file, read with the toml crate:
/// (protocol, host, port, encryption, authentication) for every enabled
/// incoming server, then the outgoing one.
fn expected_rows(profile_file: &str) -> Vec<[String; 5]> {
    let path = format!("{}/profiles/{profile_file}", env!("CARGO_MANIFEST_DIR"));
    let table: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let mut servers: Vec<&toml::Table> = table["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_table().unwrap())
        .filter(|s| s.get("enabled").and_then(|e| e.as_bool()) != Some(false))
        .collect();
    servers.push(table["outgoing"].as_table().unwrap());
    servers
        .into_iter()
        .map(|server| {
            let auth: Vec<&str> = server["auth"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| match m.as_str().unwrap() {
                    "oauth2" => "OAuth2 (Microsoft sign-in)",
                    // Never "app password": Outlook.com refuses them.
                    "password" => "Password",
                    other => panic!("unknown method {other}"),
                })
                .collect();
            [
                match server["protocol"].as_str().unwrap() {
                    "imap" => "IMAP",
                    "pop3" => "POP3",
                    "smtp" => "SMTP",
                    other => panic!("unknown protocol {other}"),
                }
                .to_owned(),
                server["host"].as_str().unwrap().to_owned(),
                server["port"].as_integer().unwrap().to_string(),
                match server["security"].as_str().unwrap() {
                    "tls" => "SSL/TLS",
                    "starttls" => "STARTTLS",
                    other => panic!("unknown security {other}"),
                }
                .to_owned(),
                auth.join(", "),
            ]
        })
        .collect()
}

fn settings_rows(document: &Node) -> Vec<[String; 5]> {
    let settings = document.by_id("settings").unwrap();
    let tbody = settings.first("tbody");
    tbody
        .tags("tr")
        .iter()
        .map(|row| {
            // The host cell's copy button is not part of the host name.
            let cells: Vec<String> = row
                .elements()
                .map(|cell| match cell.tags("code").first() {
                    Some(code) => code.text(),
                    None => cell.text(),
                })
                .collect();
            cells.try_into().expect("five cells per row")
        })
        .collect()
}

#[tokio::test]
async fn settings_table_equals_the_profile() {
    let server = TestServer::start().await;
    for (address, profile_file) in [
        ("alice@contoso.test", "microsoft365.toml"),
        ("bob@fabrikam.test", "outlook.toml"),
        ("bob@hotmail.fr", "outlook.toml"),
    ] {
        let reply = page(&server, &format!("/?email={address}"), &[]).await;
        let document = parse(&reply);
        let rows = settings_rows(&document);
        let expected = expected_rows(profile_file);
        assert!(expected.len() >= 2);
        assert_eq!(rows, expected, "{address}");
        let username = document.find_all(&|n| n.has_class("username"));
        assert_eq!(username[0].text(), address);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn settings_table_follows_an_overriding_profile() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A profile in profiles_dir replaces the built-in one: the table must
    // show the new values, so nothing can be hard-coded in the template.
    let ca = common::TestCa::new();
    let built_in = std::fs::read_to_string(format!(
        "{}/profiles/microsoft365.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let changed = built_in
        .replace("smtp.office365.com", "smtp.relay.contoso.test")
        .replacen("port = 995", "port = 1995", 1);
    let profiles = ca.dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    std::fs::write(profiles.join("microsoft365.toml"), &changed).unwrap();
    // profiles_dir is a top-level key: it goes before the first table.
    let config_path = common::write_config(&ca, "");
    let text = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(&config_path, format!("profiles_dir = \"profiles\"\n{text}")).unwrap();
    let config = mailsetup::config::Config::load(Some(&config_path)).unwrap();
    let running = mailsetup::server::start(config).await.unwrap();

    let mut stream = tokio::net::TcpStream::connect(running.http_addrs[0])
        .await
        .unwrap();
    stream
        .write_all(
            b"GET /?email=alice@contoso.test HTTP/1.1\r\nHost: contoso.test\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let rows = settings_rows(&Node::parse(body));
    assert!(
        rows.iter()
            .any(|r| r[0] == "SMTP" && r[1] == "smtp.relay.contoso.test"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r[0] == "POP3" && r[2] == "1995"),
        "{rows:?}"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn qr_code_is_an_svg_image_for_a_valid_host_only() {
    let server = TestServer::start().await;
    let reply = page(&server, "/?email=alice@contoso.test", &[]).await;
    let document = parse(&reply);
    let qr = document.find_all(&|n| n.name == "img" && n.has_class("qr"));
    let src = qr[0].attr("src").unwrap();
    assert!(src.starts_with("data:image/svg+xml,"), "{src}");
    let svg = percent_encoding::percent_decode_str(&src["data:image/svg+xml,".len()..])
        .decode_utf8()
        .unwrap();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    assert!(!qr[0].attr("alt").unwrap().is_empty());

    for host in ["evil.test/x", "a\"b.test", "contoso.test:99999"] {
        let reply = server
            .send(
                Scheme::Http,
                Method::GET,
                host,
                "/?email=alice@contoso.test",
                Bytes::new(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{host}");
        let document = parse(&reply);
        assert!(document.by_id("phone").is_none(), "{host}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn landing_page_refuses_other_methods() {
    let server = TestServer::start().await;
    let reply = server
        .send(
            Scheme::Http,
            Method::POST,
            "contoso.test",
            "/",
            Bytes::from_static(b"email=a@b.c"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    server.shutdown().await;
}

#[tokio::test]
async fn stylesheet_is_served_from_the_binary() {
    let server = TestServer::start().await;
    let reply = page(&server, "/", &[]).await;
    let document = parse(&reply);
    let link = document.find_all(&|n| n.name == "link" && n.attr("rel") == Some("stylesheet"));
    let href = link[0].attr("href").unwrap();
    let reply = page(&server, href, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.text().contains(".answer"));
    server.shutdown().await;
}

#[tokio::test]
async fn head_gets_the_headers_without_a_body() {
    let server = TestServer::start().await;
    let reply = server
        .send(
            Scheme::Http,
            Method::HEAD,
            "contoso.test",
            "/?email=alice@contoso.test",
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert!(is_page_policy(reply.header("content-security-policy")));
    server.shutdown().await;
}

#[tokio::test]
async fn repeated_address_and_unknown_preferences_are_handled_in_the_page() {
    let server = TestServer::start().await;
    let reply = page(&server, "/?email=a@contoso.test&email=b@contoso.test", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let document = parse(&reply);
    assert_eq!(
        document.by_id("email-error").unwrap().text(),
        "The link gives the address more than once; type it again."
    );
    // An unknown language or app is only a preference: ignored.
    let reply = page(
        &server,
        "/?email=alice@contoso.test&lang=de&app=pine",
        &[("accept-language", "fr"), ("user-agent", IPHONE)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = parse(&reply);
    assert_eq!(html_lang(&document), "fr");
    let steps = document.by_id("steps").unwrap();
    assert_eq!(
        steps.find_all(&|n| n.attr("data-app").is_some())[0].attr("data-app"),
        Some("ios-mail")
    );
    server.shutdown().await;
}

// ---- Issue 16: the landing page, second version ----

/// The decision box's question `n` (1 or 2): its Yes and No branches.
fn branches(document: &Node, n: u8) -> (String, String) {
    let question = document.by_id(&format!("question-{n}")).unwrap();
    let yes = question.find_all(&|n| n.has_class("branch") && n.has_class("yes"));
    let no = question.find_all(&|n| n.has_class("branch") && n.has_class("no"));
    (yes[0].text(), no[0].text())
}

#[tokio::test]
async fn decision_gives_both_answers_and_folds_the_rare_ones_under_older_apps() {
    let server = TestServer::start().await;
    let document = get_page(&server, "/?email=alice@contoso.test&app=thunderbird").await;
    let (yes, no) = branches(&document, 1);
    assert!(yes.starts_with("Yes → Sign in in that window"), "{yes}");
    assert_eq!(no, "No → Go to question 2.");
    let (yes, no) = branches(&document, 2);
    assert!(yes.starts_with("Yes → Update or replace it"), "{yes}");
    assert!(no.contains("Older apps that cannot be updated"), "{no}");
    // Question 3 is in the fold, answered for this address, and the fold
    // is closed for an app that signs in with Microsoft.
    let older = document.by_id("older-apps").unwrap();
    assert_eq!(older.name, "details");
    assert_eq!(older.attr("open"), None);
    let third = older.find_all(&|n| n.attr("id") == Some("question-3"));
    assert!(third[0].text().contains("For alice@contoso.test: No →"));
    // An older app opens it.
    let document = get_page(&server, "/?email=bob@fabrikam.test&app=legacy").await;
    let older = document.by_id("older-apps").unwrap();
    assert_eq!(older.attr("open"), Some(""));
    assert!(older.text().contains("For bob@fabrikam.test: Yes →"));
    server.shutdown().await;
}

#[tokio::test]
async fn mac_steps_say_they_are_for_a_mac_and_an_ipad_can_switch() {
    // iPadOS Safari sends this Mac User-Agent.
    const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                       (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
    let server = start_on("2026-12-01").await;
    let reply = page(
        &server,
        "/?email=alice@contoso.test",
        &[("user-agent", MAC)],
    )
    .await;
    let document = parse(&reply);
    let steps = document.by_id("steps").unwrap();
    let device = steps.find_all(&|n| n.has_class("device"));
    assert!(device[0].text().starts_with("These steps are for a Mac."));
    let link = device[0].first("a").attr("href").unwrap().to_owned();
    assert_eq!(link, "/?email=alice@contoso.test&app=ios-mail#steps");
    assert!(
        steps
            .text()
            .contains("On the Mac, click Download the profile for Mac")
    );
    // Following it: the iPad steps, and the choice stays in the form.
    let path = link.trim_end_matches("#steps");
    let reply = page(&server, path, &[("user-agent", MAC)]).await;
    let document = parse(&reply);
    let steps = document.by_id("steps").unwrap();
    assert!(steps.by_id("app-ios-mail").is_some());
    let kept = document.find_all(&|n| n.name == "input" && n.attr("name") == Some("app"));
    assert_eq!(kept[0].attr("value"), Some("ios-mail"));
    server.shutdown().await;
}

#[tokio::test]
async fn no_password_route_sits_next_to_the_main_action() {
    let server = start_on("2026-12-01").await;
    for address in ["alice@contoso.test", "bob@fabrikam.test"] {
        for app in APP_IDS {
            let document = get_page(&server, &format!("/?email={address}&app={app}")).await;
            let imap = document.find_all(&|n| {
                n.name == "a" && n.attr("href").is_some_and(|h| h.contains("kind=imap"))
            });
            assert!(imap.is_empty(), "{address} {app}");
            let answer = document.by_id("answer").unwrap().text();
            assert!(!answer.contains("SMTP AUTH"), "{address} {app}: {answer}");
            let action = document.by_id("recommended-action").unwrap().text();
            assert!(!action.to_lowercase().contains("password"), "{action}");
        }
    }
    server.shutdown().await;
}

fn trouble_text(document: &Node, app: &str) -> String {
    let section = document.by_id(&format!("app-{app}")).unwrap();
    let trouble = section.find_all(&|n| n.has_class("trouble"));
    assert_eq!(trouble.len(), 1, "{app}: one didn't-work part");
    trouble[0].text()
}

#[tokio::test]
async fn every_app_says_what_failure_looks_like_and_what_to_do() {
    let server = TestServer::start_on(Some("2026-12-01"), "", "[apple]\nsign = false\n").await;
    let work = get_page(&server, "/?email=alice@contoso.test").await;
    let personal = get_page(&server, "/?email=bob@fabrikam.test").await;
    for app in APP_IDS {
        assert!(
            trouble_text(&work, app).starts_with("Didn't work?"),
            "{app}"
        );
        assert!(
            trouble_text(&personal, app).starts_with("Didn't work?"),
            "{app}"
        );
    }
    let thunderbird = trouble_text(&work, "thunderbird");
    for seen in [
        "“Need admin approval”",
        "9e5f94bc-e8a4-4e73-b8be-63364c29d753",
        "“AUTHENTICATE failed”",
        "“You cannot access this right now”",
        "older than 78",
    ] {
        assert!(thunderbird.contains(seen), "{seen}: {thunderbird}");
    }
    assert!(trouble_text(&work, "gmail-android").contains("“Need admin approval”"));
    assert!(trouble_text(&work, "legacy").contains("5.7.139"));
    let mac = trouble_text(&work, "macos-mail");
    assert!(
        mac.contains("“Not Verified”") && mac.contains(APPLE_APP_ID),
        "{mac}"
    );
    assert!(trouble_text(&work, "ios-mail").contains("“Not Verified”"));
    assert!(trouble_text(&personal, "thunderbird").contains("Let devices and apps use POP"));
    // UI names are labels, not prose.
    let labels = work.by_id("app-thunderbird").unwrap().tags("b");
    assert!(labels.iter().any(|b| b.text() == "Continue"));
    server.shutdown().await;
}

#[tokio::test]
async fn not_verified_is_only_explained_where_profiles_are_unsigned() {
    let signed = start_on("2026-12-01").await;
    let document = get_page(&signed, "/?email=alice@contoso.test&app=ios-mail").await;
    assert!(document.find_all(&|n| n.has_class("unsigned")).is_empty());
    assert!(!trouble_text(&document, "ios-mail").contains("Not Verified"));
    signed.shutdown().await;
    let unsigned = TestServer::start_on(Some("2026-12-01"), "", "[apple]\nsign = false\n").await;
    let document = get_page(&unsigned, "/?email=alice@contoso.test&app=ios-mail").await;
    let warning = document.find_all(&|n| n.has_class("unsigned"));
    assert!(warning[0].text().contains("“Not Verified”"));
    unsigned.shutdown().await;
}

/// The URL the QR code opens, as the page writes it out.
fn qr_url(document: &Node) -> Option<String> {
    let phone = document.by_id("phone")?;
    Some(phone.find_all(&|n| n.has_class("qr-url"))[0].text())
}

#[tokio::test]
async fn qr_code_opens_the_public_url_without_the_desktop_app_choice() {
    let server =
        TestServer::start_with("[page]\npublic_url = \"https://setup.contoso.test/\"\n").await;
    let document = get_page(
        &server,
        "/?email=alice@contoso.test&app=thunderbird&lang=fr",
    )
    .await;
    assert_eq!(
        qr_url(&document).unwrap(),
        "https://setup.contoso.test/?email=alice@contoso.test&lang=fr"
    );
    // A phone hides the code: it is not sent at all.
    let reply = page(
        &server,
        "/?email=alice@contoso.test",
        &[("user-agent", IPHONE)],
    )
    .await;
    assert!(parse(&reply).by_id("phone").is_none());
    assert!(!reply.text().contains("data:image/svg+xml"));
    server.shutdown().await;
}

/// GET over plain HTTP from loopback with extra headers.
async fn plain_page(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Node {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(http::header::HOST, "autoconfig.contoso.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::new())).unwrap();
    parse(&server.send_request(Scheme::Http, request).await)
}

#[tokio::test]
async fn forwarded_scheme_is_believed_only_from_a_configured_proxy() {
    let path = "/?email=alice@contoso.test";
    let forwarded = [("x-forwarded-proto", "https")];
    let untrusting = TestServer::start().await;
    let document = plain_page(&untrusting, path, &forwarded).await;
    assert!(
        qr_url(&document)
            .unwrap()
            .starts_with("http://autoconfig.contoso.test/")
    );
    untrusting.shutdown().await;
    let trusting =
        TestServer::start_with("[page]\ntrust_forwarded_proto_from = [\"127.0.0.1\"]\n").await;
    let document = plain_page(&trusting, path, &forwarded).await;
    assert!(
        qr_url(&document)
            .unwrap()
            .starts_with("https://autoconfig.contoso.test/")
    );
    let document = plain_page(&trusting, path, &[("forwarded", "for=1.2.3.4;proto=https")]).await;
    assert!(
        qr_url(&document)
            .unwrap()
            .starts_with("https://autoconfig.contoso.test/")
    );
    trusting.shutdown().await;
}

#[tokio::test]
async fn apple_profile_speaks_the_page_language() {
    let server = TestServer::start_with("[apple]\nsign = false\n").await;
    let document = get_page(&server, "/?email=alice@contoso.test&lang=fr&app=ios-mail").await;
    let link = profile_links(&document, "ios")[0].clone();
    assert!(link.ends_with("&lang=fr"), "{link}");
    let body = page(&server, &link, &[]).await.text();
    assert!(body.contains("Ajoute alice@contoso.test"), "{body}");
    assert!(body.contains("Messagerie "), "{body}");
    // Without `lang`, the browser's language; `lang` wins over it.
    let base = "/apple/profile?email=alice@contoso.test&kind=exchange&platform=ios";
    let reply = page(&server, base, &[("accept-language", "fr-FR,fr;q=0.9")]).await;
    assert!(reply.text().contains("Ajoute alice@contoso.test"));
    assert!(reply.header("vary").unwrap().contains("Accept-Language"));
    let reply = page(
        &server,
        &format!("{base}&lang=en"),
        &[("accept-language", "fr")],
    )
    .await;
    assert!(reply.text().contains("Adds alice@contoso.test"));
    server.shutdown().await;
}

#[tokio::test]
async fn operator_name_logo_and_help_contact_are_on_the_page() {
    let server = TestServer::start_with(
        "[page]\norganization = \"Contoso IT\"\nhelp = \"it@contoso.test\"\n\
         logo = '<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"><rect width=\"8\" height=\"8\"/></svg>'\n",
    )
    .await;
    let document = get_page(&server, "/").await;
    let brand = document.find_all(&|n| n.has_class("brand"))[0];
    assert_eq!(brand.text(), "Contoso IT");
    let logo = brand.first("img");
    assert!(logo.attr("src").unwrap().starts_with("data:image/svg+xml,"));
    let run_by = document.find_all(&|n| n.has_class("run-by"))[0].text();
    assert_eq!(run_by, "This page is run by Contoso IT.");
    let help = document.find_all(&|n| n.has_class("help"))[0].first("a");
    assert_eq!(help.attr("href"), Some("mailto:it@contoso.test"));
    server.shutdown().await;
    // Without an organisation, the host people reached names it.
    let server = TestServer::start().await;
    let document = get_page(&server, "/").await;
    let run_by = document.find_all(&|n| n.has_class("run-by"))[0].text();
    assert_eq!(
        run_by,
        "This page is run by whoever runs autoconfig.contoso.test."
    );
    server.shutdown().await;
}

#[test]
fn page_section_is_validated_at_load() {
    let ca = common::TestCa::new();
    for (section, problem) in [
        ("public_url = \"setup.contoso.test\"", "public_url"),
        (
            "public_url = \"https://setup.contoso.test/path\"",
            "public_url",
        ),
        ("help = \"call Bob\"", "help"),
        ("logo = \"<p>not svg</p>\"", "logo"),
        ("logo = \"missing-logo.svg\"", "cannot read"),
        ("organization = \"\"", "organization"),
    ] {
        let path = common::write_config(&ca, &format!("[page]\n{section}\n"));
        let error = mailsetup::config::Config::load(Some(&path)).unwrap_err();
        assert!(error.to_string().contains(problem), "{section}: {error}");
    }
}

#[tokio::test]
async fn dead_ends_get_a_way_out() {
    let server = TestServer::start().await;
    for (typed, meant) in [
        ("alice@hotmial.com", "alice@hotmail.com"),
        ("alice@outlok.fr", "alice@outlook.fr"),
    ] {
        let reply = page(&server, &format!("/?email={typed}"), &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let document = parse(&reply);
        let suggestion = document.by_id("suggestion").unwrap();
        assert_eq!(suggestion.text(), format!("Did you mean {meant}?"));
        assert_eq!(
            suggestion.first("a").attr("href"),
            Some(format!("/?email={meant}").as_str())
        );
    }
    let reply = page(&server, "/?email=alice@gmail.com", &[]).await;
    let error = parse(&reply).by_id("email-error").unwrap().text();
    assert!(
        error.starts_with("gmail.com is not a Microsoft mailbox."),
        "{error}"
    );
    let reply = page(&server, "/?email=", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let error = parse(&reply).by_id("email-error").unwrap().text();
    assert_eq!(error, "Type your email address.");
    server.shutdown().await;
}

/// The ids of `main`'s sections, in document order.
fn section_order(document: &Node) -> Vec<String> {
    document
        .first("main")
        .find_all(&|n| n.name == "form" || n.name == "section" && n.attr("id").is_some())
        .iter()
        .map(|n| n.attr("id").unwrap_or("form").to_owned())
        .collect()
}

#[tokio::test]
async fn result_reads_answer_first_and_settings_after_other_apps() {
    let server = TestServer::start().await;
    let document = get_page(&server, "/?email=alice@contoso.test").await;
    let order = section_order(&document);
    let at = |id: &str| order.iter().position(|s| s == id).unwrap();
    assert!(at("answer") < at("steps"), "{order:?}");
    assert!(at("other-apps") < at("settings"), "{order:?}");
    assert!(at("answer") < at("form"), "{order:?}");
    let text = document.first("main").text().to_lowercase();
    assert!(!text.contains("above") && !text.contains("below"));
    server.shutdown().await;
}

#[tokio::test]
async fn french_wording_is_the_agreed_one() {
    let server = TestServer::start().await;
    let reply = page(
        &server,
        "/?email=alice@contoso.test&app=thunderbird",
        &[("accept-language", "fr")],
    )
    .await;
    let text = parse(&reply).first("html").text();
    for phrase in [
        "dans cette fenêtre",
        "Scannez ce code",
        "la validation en deux étapes",
        "boîte mail",
        "uniquement pour cet appareil",
    ] {
        assert!(text.contains(phrase), "{phrase}");
    }
    assert!(!text.contains("ci-dessus") && !text.contains("ci-dessous"));
    // A space before every colon, question and exclamation mark.
    for (i, c) in text.char_indices() {
        // URLs (the QR code's) are not prose.
        let word = text[..i]
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or_default();
        if matches!(c, ':' | '?' | '!')
            && !word.contains('/')
            && !text[i..].starts_with("://")
            && i > 0
        {
            let before = text[..i].chars().last().unwrap();
            assert!(
                before.is_whitespace(),
                "no space before {c:?} in …{}…",
                text[..=i]
                    .chars()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn page_has_a_description_and_a_dark_mode() {
    let server = TestServer::start().await;
    let document = get_page(&server, "/").await;
    let description =
        document.find_all(&|n| n.name == "meta" && n.attr("name") == Some("description"));
    assert!(
        description[0]
            .attr("content")
            .unwrap()
            .contains("Microsoft 365")
    );
    let css = page(&server, "/static/mailsetup.css", &[]).await.text();
    assert!(css.contains("@media (prefers-color-scheme: dark)"));
    assert!(css.contains("outline: 3px solid var(--focus)"));
    server.shutdown().await;
}

#[tokio::test]
async fn ui_label_markers_never_show_as_text() {
    // `**…**` in the strings marks a button or menu name; the page must
    // show it as a label, in the steps, the notes and the "didn't work?"
    // messages alike.
    let server = start_on("2026-12-01").await;
    for lang in ["en", "fr"] {
        for address in ["alice@contoso.test", "bob@fabrikam.test"] {
            let document = get_page(&server, &format!("/?email={address}&lang={lang}")).await;
            let text = document.first("body").text();
            assert!(!text.contains("**"), "{lang} {address}: {text}");
            let labels = document.find_all(&|n| n.name == "b" && n.has_class("ui"));
            assert!(
                labels.iter().any(|b| b.text() == "OAuth2"),
                "{lang} {address}: the Thunderbird trouble names OAuth2 as a label"
            );
        }
    }
    server.shutdown().await;
}

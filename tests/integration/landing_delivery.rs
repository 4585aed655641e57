//! How the landing page and its companions travel: gzip by
//! `Accept-Encoding` (decoded with GNU gzip, not our encoder's library),
//! `Vary`, HEAD lengths, the size budget of a result page, `/robots.txt`
//! read with an RFC 9309 matcher written here, the search-engine links,
//! and the Content Security Policy's script hash checked against the
//! page's script with Python's hashlib.

use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use crate::common::html::Node;
use crate::common::{Reply, Scheme, TestServer, tools};

const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// GET (or HEAD) `path` on `scheme` with extra request headers.
async fn fetch(
    server: &TestServer,
    scheme: Scheme,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, "autoconfig.contoso.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    server
        .send_request(scheme, request.body(Full::new(Bytes::new())).unwrap())
        .await
}

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    fetch(server, Scheme::Https, Method::GET, path, headers).await
}

/// The `Vary` field's members, lower-cased.
fn vary(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("vary")
        .iter()
        .flat_map(|value| value.to_str().unwrap().split(','))
        .map(|member| member.trim().to_ascii_lowercase())
        .filter(|member| !member.is_empty())
        .collect()
}

fn content_length(reply: &Reply) -> usize {
    reply.header("content-length").unwrap().parse().unwrap()
}

#[tokio::test]
async fn result_page_is_gzipped_on_request_and_decodes_to_the_same_page() {
    let server = TestServer::start_on(Some("2026-12-01"), "", "").await;
    let path = "/?email=someone@contoso.test";
    let plain = get(&server, path, &[("user-agent", DESKTOP)]).await;
    let gzipped = get(
        &server,
        path,
        &[
            ("user-agent", DESKTOP),
            ("accept-encoding", "gzip, deflate, br"),
        ],
    )
    .await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(content_length(&gzipped), gzipped.body.len());
    // Both answers say what they vary on, the page's own reasons kept.
    for reply in [&plain, &gzipped] {
        let vary = vary(reply);
        for member in ["accept-language", "user-agent", "accept-encoding"] {
            assert!(vary.contains(&member.to_owned()), "{vary:?}");
        }
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    // Pages are made per request and compressed at the fast level: this
    // one shrinks about 3x there (3.7x at the default level).
    assert!(
        gzipped.body.len() * 5 < plain.body.len() * 2,
        "gzip saves little: {} of {} bytes",
        gzipped.body.len(),
        plain.body.len()
    );
    // Without GNU gzip (skipped locally, a failure under CI) the checks
    // above still count.
    if let Some(decoded) = tools::gunzip(&gzipped.body) {
        assert_eq!(decoded, plain.body.to_vec());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn accept_encoding_weights_and_identity_are_honoured() {
    let server = TestServer::start().await;
    let cases = [
        ("gzip", true),
        ("GZip;q=0.8", true),
        ("x-gzip", true),
        ("*", true),
        ("deflate, gzip;q=0.5", true),
        ("gzip;q=0", false),
        ("*;q=0", false),
        ("*, gzip;q=0", false),
        ("gzip;q=0.5, identity", false),
        ("identity", false),
        ("br, zstd", false),
        ("gzip;q=2", false),
        ("", false),
    ];
    for (accept, compressed) in cases {
        let reply = get(&server, "/", &[("accept-encoding", accept)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(
            reply.header("content-encoding"),
            compressed.then_some("gzip"),
            "{accept}"
        );
        assert!(vary(&reply).contains(&"accept-encoding".to_owned()));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn stylesheet_and_autoconfig_are_compressed_and_decode_to_the_same_bytes() {
    let server = TestServer::start().await;
    for path in [
        "/static/mailsetup.css",
        "/mail/config-v1.1.xml?emailaddress=alice@contoso.test",
        "/?email=alice@unknown.test",
    ] {
        let plain = get(&server, path, &[]).await;
        let first = get(&server, path, &[("accept-encoding", "gzip")]).await;
        let second = get(&server, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(first.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(first.body, second.body, "{path}");
        assert_eq!(
            first.header("content-type"),
            plain.header("content-type"),
            "{path}"
        );
        assert!(vary(&first).contains(&"accept-encoding".to_owned()));
        // Without GNU gzip only the decoding is skipped, not the rest.
        if let Some(decoded) = tools::gunzip(&first.body) {
            assert_eq!(decoded, plain.body.to_vec(), "{path}");
        }
    }
    // Thunderbird's document still varies on the client too.
    let autoconfig = get(
        &server,
        "/mail/config-v1.1.xml?emailaddress=alice@contoso.test",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(
        vary(&autoconfig),
        ["user-agent".to_owned(), "accept-encoding".to_owned()]
    );
    let stylesheet = get(
        &server,
        "/static/mailsetup.css",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(
        stylesheet.header("cache-control"),
        Some("public, max-age=3600")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn small_replies_and_apple_profiles_are_never_compressed() {
    let server = TestServer::start().await;
    for path in [
        "/robots.txt",
        "/no/such/page",
        "/healthz",
        "/apple/profile?email=alice@contoso.test&kind=exchange&platform=ios",
    ] {
        let reply = get(&server, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(reply.header("content-encoding"), None, "{path}");
        assert!(
            !vary(&reply).contains(&"accept-encoding".to_owned()),
            "{path}: {:?}",
            vary(&reply)
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn head_announces_the_length_get_sends_in_each_coding() {
    let server = TestServer::start().await;
    let path = "/?email=alice@contoso.test";
    for scheme in [Scheme::Http, Scheme::Https] {
        for accept in ["gzip", "identity"] {
            let headers = [("accept-encoding", accept), ("user-agent", DESKTOP)];
            let get = fetch(&server, scheme, Method::GET, path, &headers).await;
            let head = fetch(&server, scheme, Method::HEAD, path, &headers).await;
            assert_eq!(head.status, StatusCode::OK);
            assert!(head.body.is_empty(), "{scheme:?} {accept}");
            assert_eq!(
                head.header("content-encoding"),
                get.header("content-encoding"),
                "{scheme:?} {accept}"
            );
            assert_eq!(content_length(&head), get.body.len(), "{scheme:?} {accept}");
        }
    }
    server.shutdown().await;
}

/// The largest result page: a work account (every app, the settings, the
/// decision), French (the longer language), a desktop (the QR code is
/// sent), an organisation with a logo and help contact.
#[tokio::test]
async fn result_page_stays_under_30_kb_compressed() {
    let logo = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\">{}</svg>",
        "<circle cx=\"32\" cy=\"32\" r=\"30\" fill=\"#0b5cad\"/>".repeat(4)
    );
    let dir = tempfile::tempdir().unwrap();
    let logo_path = dir.path().join("logo.svg");
    std::fs::write(&logo_path, logo).unwrap();
    let server = TestServer::start_on(
        Some("2026-12-01"),
        "",
        &format!(
            "[apple]\nsign = false\n[page]\norganization = \"Contoso IT\"\n\
             help = \"https://help.contoso.test/mail\"\nlogo = \"{}\"\n",
            logo_path.display()
        ),
    )
    .await;
    let mut largest = 0;
    for (path, language) in [
        ("/?email=someone@contoso.test", "fr-FR,fr"),
        ("/?email=someone@contoso.test", "en"),
        ("/?email=someone@fabrikam.test&app=legacy", "fr"),
        ("/?email=someone@contoso.test&app=macos-mail", "fr"),
    ] {
        let reply = get(
            &server,
            path,
            &[
                ("accept-encoding", "gzip"),
                ("accept-language", language),
                ("user-agent", DESKTOP),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-encoding"), Some("gzip"));
        // The page measured is the full one (decoded when gzip is there;
        // the size budget is checked either way).
        if let Some(decoded) = tools::gunzip(&reply.body) {
            let document = Node::parse(&String::from_utf8(decoded).unwrap());
            assert!(document.by_id("settings").is_some(), "{path}");
            assert!(document.by_id("phone").is_some(), "{path}: no QR code");
        }
        assert!(
            reply.body.len() < 30 * 1024,
            "{path} {language}: {} bytes gzipped",
            reply.body.len()
        );
        largest = largest.max(reply.body.len());
    }
    eprintln!("largest result page: {largest} bytes gzipped");
    server.shutdown().await;
}

/// An RFC 9309 robots.txt group for `*`: `(allow, pattern)` rules.
fn robots_rules(text: &str) -> Vec<(bool, String)> {
    let mut rules = Vec::new();
    let mut in_star_group = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        match key.as_str() {
            "user-agent" => in_star_group = value == "*",
            "allow" | "disallow" if in_star_group && !value.is_empty() => {
                rules.push((key == "allow", value.to_owned()));
            }
            _ => {}
        }
    }
    rules
}

/// Whether `pattern` (`*` any run, `$` the end) matches the start of `path`.
fn robots_match(pattern: &str, path: &str) -> bool {
    fn go(pattern: &[u8], path: &[u8]) -> bool {
        match pattern.split_first() {
            None => true,
            Some((b'$', [])) => path.is_empty(),
            Some((b'*', rest)) => (0..=path.len()).any(|skip| go(rest, &path[skip..])),
            Some((c, rest)) => path.first() == Some(c) && go(rest, &path[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// RFC 9309 §2.2.2: the longest matching rule wins; allow wins a tie; no
/// match allows.
fn robots_allowed(rules: &[(bool, String)], path: &str) -> bool {
    rules
        .iter()
        .filter(|(_, pattern)| robots_match(pattern, path))
        .max_by_key(|(allow, pattern)| (pattern.len(), *allow))
        .is_none_or(|(allow, _)| *allow)
}

#[tokio::test]
async fn robots_txt_lets_the_form_be_indexed_and_nothing_with_an_address() {
    let server = TestServer::start().await;
    let reply = get(&server, "/robots.txt", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("public, max-age=3600"));
    let rules = robots_rules(&reply.text());
    for path in [
        "/",
        "/?lang=fr",
        "/?lang=en",
        "/static/mailsetup.css",
        "/robots.txt",
    ] {
        assert!(robots_allowed(&rules, path), "{path} is disallowed");
    }
    for path in [
        "/?email=alice@contoso.test",
        "/?lang=fr&email=alice@contoso.test",
        // The router reads query keys case-insensitively and
        // percent-decoded, and `app` leads to a result page too: only the
        // exact language URLs are allowed.
        "/?lang=fr&EMAIL=alice@contoso.test",
        "/?lang=fr&%65mail=alice@contoso.test",
        "/?lang=fr&app=ios-mail",
        "/?lang=en&email=alice@contoso.test",
        "/?lang=de",
        "/?app=ios-mail",
        "/apple/alice@contoso.test.mobileconfig",
        "/apple/profile?email=alice@contoso.test",
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
        "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=ActiveSync",
        "/mail/config-v1.1.xml?emailaddress=alice@contoso.test",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        "/v1.1/contoso.test",
        "/healthz",
        "/metrics",
    ] {
        assert!(!robots_allowed(&rules, path), "{path} is allowed");
    }
    // Every link of the form page may be followed but the address-bearing
    // ones of a result page may not.
    let form = Node::parse(&get(&server, "/", &[]).await.text());
    for a in form.tags("a") {
        let href = a.attr("href").unwrap();
        if href.starts_with('/') {
            assert!(robots_allowed(&rules, href), "{href}");
        }
    }
    let result = Node::parse(&get(&server, "/?email=alice@contoso.test", &[]).await.text());
    for a in result.tags("a") {
        let href = a.attr("href").unwrap();
        if href.starts_with('/') {
            assert!(!robots_allowed(&rules, href), "{href}");
        }
    }
    // Plain HTTP serves it as it serves the page itself.
    let page = fetch(&server, Scheme::Http, Method::GET, "/", &[]).await;
    let robots = fetch(&server, Scheme::Http, Method::GET, "/robots.txt", &[]).await;
    assert_eq!(robots.status, page.status);
    assert_eq!(robots.body, reply.body);
    server.shutdown().await;
}

#[test]
fn robots_matcher_follows_rfc_9309_examples() {
    let rules = robots_rules("User-agent: *\nAllow: /p\nDisallow: /\n");
    assert!(robots_allowed(&rules, "/page"));
    assert!(!robots_allowed(&rules, "/other"));
    let rules = robots_rules("User-agent: *\nAllow: /folder\nDisallow: /folder\n");
    assert!(robots_allowed(&rules, "/folder/page"));
    let rules = robots_rules("User-agent: *\nAllow: /$\nDisallow: /\n");
    assert!(robots_allowed(&rules, "/"));
    assert!(!robots_allowed(&rules, "/page.htm"));
    let rules = robots_rules("User-agent: *\nDisallow: /*.php$\n");
    assert!(!robots_allowed(&rules, "/index.php"));
    assert!(robots_allowed(&rules, "/index.php5"));
    // `$` anchors only at the end of the pattern.
    let rules = robots_rules("User-agent: *\nAllow: /?lang=fr$\nDisallow: /?\n");
    assert!(robots_allowed(&rules, "/?lang=fr"));
    assert!(!robots_allowed(&rules, "/?lang=fr&email=a@b.test"));
    assert!(!robots_allowed(&rules, "/?lang=f"));
    let rules = robots_rules("User-agent: other\nDisallow: /\n");
    assert!(robots_allowed(&rules, "/"));
}

#[tokio::test]
async fn form_names_its_languages_for_search_engines_and_result_pages_say_noindex() {
    let server = TestServer::start().await;
    let origin = format!("http://{}", server.http);
    let host = server.http.to_string();
    let page = |path: &'static str| {
        let host = host.clone();
        let server = &server;
        async move {
            let reply = server
                .send(Scheme::Http, Method::GET, &host, path, Bytes::new())
                .await;
            Node::parse(&reply.text())
        }
    };
    let links = |document: &Node, rel: &str| -> Vec<(Option<String>, String)> {
        document
            .find_all(&|n| n.name == "link" && n.attr("rel") == Some(rel))
            .iter()
            .map(|n| {
                (
                    n.attr("hreflang").map(str::to_owned),
                    n.attr("href").unwrap().to_owned(),
                )
            })
            .collect()
    };
    for (path, canonical) in [("/", "/"), ("/?lang=fr", "/?lang=fr")] {
        let document = page(path).await;
        assert_eq!(
            links(&document, "canonical"),
            [(None, format!("{origin}{canonical}"))]
        );
        assert_eq!(
            links(&document, "alternate"),
            [
                (Some("en".to_owned()), format!("{origin}/?lang=en")),
                (Some("fr".to_owned()), format!("{origin}/?lang=fr")),
                (Some("x-default".to_owned()), format!("{origin}/")),
            ]
        );
        let robots = document.find_all(&|n| n.attr("name") == Some("robots"));
        assert!(robots.is_empty(), "{path}");
    }
    for path in [
        "/?email=alice@contoso.test",
        "/?email=nobody",
        "/?app=legacy",
    ] {
        let document = page(path).await;
        assert!(links(&document, "canonical").is_empty(), "{path}");
        let robots = document.find_all(&|n| n.attr("name") == Some("robots"));
        assert_eq!(robots.len(), 1, "{path}");
        assert_eq!(robots[0].attr("content"), Some("noindex"));
    }
    server.shutdown().await;
}

/// `'sha256-…'` of `script` by Python's hashlib and base64 modules.
fn python_sha256_source(script: &str) -> Option<String> {
    if !tools::require_python_module("hashlib") {
        return None;
    }
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, hashlib, base64; \
             print(\"'sha256-\" + base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode() + \"'\")",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    Some(String::from_utf8(output.stdout).unwrap().trim().to_owned())
}

#[tokio::test]
async fn the_only_script_is_the_one_the_policy_names_by_hash() {
    let server = TestServer::start().await;
    let form = get(&server, "/", &[]).await;
    let policy = form.header("content-security-policy").unwrap().to_owned();
    let script_src = policy
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("script-src "))
        .unwrap_or_else(|| panic!("no script-src: {policy}"));
    assert!(!script_src.contains("unsafe"), "{policy}");
    assert!(Node::parse(&form.text()).tags("script").is_empty());
    for path in [
        "/?email=alice@contoso.test",
        "/?email=bob@fabrikam.test&lang=fr",
    ] {
        let reply = get(&server, path, &[]).await;
        assert_eq!(reply.header("content-security-policy"), Some(&*policy));
        let document = Node::parse(&reply.text());
        let scripts = document.tags("script");
        assert_eq!(scripts.len(), 1, "{path}");
        assert!(scripts[0].attributes.is_empty(), "{path}: inline only");
        let text = scripts[0].text_raw();
        // A checkout that turned copy.js's line ends into CRLF would
        // change the bytes, and with them the hash (see .gitattributes).
        assert!(!text.contains('\r'), "{path}: CR in the script");
        // Without Python (skipped locally, a failure under CI) the checks
        // above still count.
        if let Some(expected) = python_sha256_source(&text) {
            assert_eq!(script_src, expected, "{path}");
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn copy_buttons_name_what_they_copy_and_start_hidden() {
    let server = TestServer::start().await;
    for (language, label, said) in [
        ("en", "Copy ", "Copied {host} to the clipboard."),
        ("fr", "Copier ", "{host} copié dans le presse-papiers."),
    ] {
        let reply = get(
            &server,
            &format!("/?email=alice@contoso.test&lang={language}"),
            &[],
        )
        .await;
        let document = Node::parse(&reply.text());
        let hosts: Vec<String> = document
            .find_all(&|n| n.name == "td" && n.has_class("host"))
            .iter()
            .map(|td| td.first("code").text())
            .collect();
        assert!(hosts.len() >= 2, "{hosts:?}");
        let buttons = document.find_all(&|n| n.name == "button" && n.has_class("copy"));
        assert_eq!(buttons.len(), hosts.len());
        for (button, host) in buttons.iter().zip(&hosts) {
            assert_eq!(button.attr("type"), Some("button"));
            assert!(button.attr("hidden").is_some(), "shown without the script");
            assert_eq!(button.attr("data-copy"), Some(host.as_str()));
            assert_eq!(button.attr("aria-label").unwrap(), format!("{label}{host}"));
            assert!(
                button
                    .attr("aria-label")
                    .unwrap()
                    .starts_with(&button.text()),
                "the name starts with the visible text"
            );
            assert_eq!(
                button.attr("data-copied").unwrap(),
                said.replace("{host}", host)
            );
        }
        let status = document.by_id("copy-status").unwrap();
        assert_eq!(status.attr("role"), Some("status"));
        assert_eq!(status.attr("aria-live"), Some("polite"));
    }
    server.shutdown().await;
}

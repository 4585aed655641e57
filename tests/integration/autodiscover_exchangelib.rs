//! A real autodiscover client beyond our own code: Python's exchangelib
//! (4.x, whose discovery speaks POX) posts its own request to our server
//! over TLS and reads our answers with its own parser.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::tools::python_venv;
use crate::common::{self, TestServer, output_within, write_file};

/// Runs exchangelib's discovery step 1 for each address; its reading of
/// our answers by address.
async fn exchangelib_reads(server: &TestServer, addresses: &[&str]) -> Option<Value> {
    let python = python_venv("py-exchangelib", &["exchangelib==4.9.0"])?;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/exchangelib_autodiscover.py"
    );
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .arg(server.https.port().to_string())
        .args(addresses)
        .env("REQUESTS_CA_BUNDLE", server.ca.ca_path());
    let output =
        tokio::task::spawn_blocking(move || output_within(&mut command, Duration::from_secs(60)))
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_str(&stdout).expect("one JSON object"))
}

async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let profile = common::settings_profile();
    write_file(&dir, "imapsettings.toml", &profile);
    TestServer::start_with_config(
        &format!("profiles_dir = \"{}\"", dir.display()),
        "[[domain]]\nname = \"settings.test\"\nprofile = \"imapsettings\"\n",
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn exchangelib_accepts_our_settings_answer() {
    let server = server().await;
    let Some(results) = exchangelib_reads(&server, &["carol@settings.test"]).await else {
        return;
    };
    let result = &results["carol@settings.test"];
    assert_eq!(result["valid"], true, "{result:#}");
    assert_eq!(result["action"], "settings");
    assert_eq!(result["smtp_address"], "carol@settings.test");
    let protocols = result["protocols"].as_array().unwrap();
    let expected = [
        ("IMAP", "imap-mail.outlook.com", 993, "SSL"),
        ("POP3", "outlook.office365.com", 995, "SSL"),
        ("SMTP", "smtp-mail.outlook.com", 587, "TLS"),
    ];
    assert_eq!(protocols.len(), expected.len(), "{result:#}");
    for (protocol, (kind, server_name, port, _encryption)) in protocols.iter().zip(expected) {
        assert_eq!(protocol["type"], kind);
        assert_eq!(protocol["server"], server_name);
        assert_eq!(protocol["port"], port);
        assert_eq!(protocol["ssl"], true);
        assert_eq!(
            protocol["spa"], false,
            "SPA must be off (it defaults to on)"
        );
        assert_eq!(protocol["auth_required"], true);
        assert_eq!(protocol["login_name"], "carol@settings.test");
        assert_eq!(protocol["domain_required"], false);
        assert_eq!(protocol["ttl"], 1);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exchangelib_fails_on_the_redirect_it_cannot_read() {
    let server = server().await;
    let Some(results) =
        exchangelib_reads(&server, &["alice@contoso.test", "dan@unsupported.test"]).await
    else {
        return;
    };
    let redirect = &results["alice@contoso.test"];
    assert_eq!(redirect["valid"], true, "{redirect:#}");
    // Our Action value is one exchangelib accepts. But exchangelib 4.9
    // reads the target from an element spelled `RedirectURL`, where
    // [MS-OXDSCLI] §2.2.4.1.1.2.9 and Exchange write `RedirectUrl`, so it
    // finds no URL, takes the redirect for a final answer, and its
    // discovery crashes building a configuration from an answer without a
    // user or protocols: what README.md says happens.
    assert_eq!(redirect["action"], "redirectUrl");
    assert_eq!(redirect["redirect_url"], Value::Null, "{redirect:#}");
    assert_eq!(
        redirect["discovery"],
        "AttributeError: 'NoneType' object has no attribute 'autodiscover_smtp_address'",
        "{redirect:#}"
    );
    // An address whose domain is not served: 404 with the 601 error, which
    // exchangelib treats as "not this endpoint" and moves on.
    assert_eq!(
        results["dan@unsupported.test"],
        json!({
            "url": "https://unsupported.test/Autodiscover/Autodiscover.xml",
            "valid": false
        })
    );
    server.shutdown().await;
}

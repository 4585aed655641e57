//! Signed Apple profiles checked with OpenSSL's `cms -verify` (an
//! independent CMS implementation), and the signing identity refused at
//! start-up when it cannot produce a profile devices call "Verified".

use std::path::{Path, PathBuf};

use http::StatusCode;

use crate::apple_support::{get_with_agent, run, start_with_password_profile};
use crate::common::{TestCa, TestServer, tools, write_config, write_file};

fn mailsetup() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

fn openssl_available() -> bool {
    tools::require_programs(&["openssl"], "apt-get install openssl")
}

/// `openssl cms -verify`: Ok(content) when the signature and chain verify.
/// `-purpose any`: OpenSSL otherwise refuses TLS server certificates as
/// signers, which devices accept.
fn openssl_verify(signed: &[u8], ca_file: &Path) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("profile.mobileconfig");
    let output = dir.path().join("content.plist");
    std::fs::write(&input, signed).unwrap();
    let (ok, _, stderr) = run(
        "openssl",
        &[
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            input.to_str().unwrap(),
            "-CAfile",
            ca_file.to_str().unwrap(),
            "-purpose",
            "any",
            "-out",
            output.to_str().unwrap(),
        ],
    );
    if ok {
        Ok(std::fs::read(&output).unwrap())
    } else {
        Err(stderr)
    }
}

/// The unsigned profile as `mailsetup render` writes it.
fn render_unsigned(config: &Path, address: &str, platform: &str) -> Vec<u8> {
    let output = mailsetup()
        .args(["render", "mobileconfig", address, "--platform", platform])
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test]
async fn signed_profile_verifies_and_holds_the_unsigned_profile_byte_for_byte() {
    if !openssl_available() {
        return;
    }
    // No [apple] section: the [tls] certificate (signed by the test CA) signs.
    let server = TestServer::start().await;
    let reply = get_with_agent(
        &server,
        "/apple/profile?email=alice%40contoso.test&platform=ios",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-apple-aspen-config")
    );
    // DER SEQUENCE, not XML.
    assert_eq!(reply.body[0], 0x30);
    let content = openssl_verify(&reply.body, &server.ca.ca_path()).expect("signature verifies");
    let unsigned = render_unsigned(&server.config_path, "alice@contoso.test", "ios");
    assert_eq!(content, unsigned);
    server.shutdown().await;
}

#[tokio::test]
async fn tampered_signed_profile_fails_verification() {
    if !openssl_available() {
        return;
    }
    let server = TestServer::start().await;
    let reply = get_with_agent(&server, "/apple/alice@contoso.test.mobileconfig", None).await;
    assert!(openssl_verify(&reply.body, &server.ca.ca_path()).is_ok());
    let mut tampered = reply.body.to_vec();
    let at = tampered
        .windows(21)
        .position(|w| w == b"outlook.office365.com")
        .expect("the host is in the signed content");
    tampered[at] = b'O';
    let error = openssl_verify(&tampered, &server.ca.ca_path()).unwrap_err();
    assert!(error.contains("verification failure"), "{error}");
    server.shutdown().await;
}

#[tokio::test]
async fn signature_from_another_ca_does_not_verify() {
    if !openssl_available() {
        return;
    }
    let server = TestServer::start().await;
    let reply = get_with_agent(&server, "/apple/alice@contoso.test.mobileconfig", None).await;
    let other = TestCa::new();
    assert!(openssl_verify(&reply.body, &other.ca_path()).is_err());
    server.shutdown().await;
}

/// A root, an intermediate and a leaf; the files hold leaf + intermediate.
struct ThreeLevelChain {
    dir: tempfile::TempDir,
    root: PathBuf,
    chain: PathBuf,
    key: PathBuf,
}

fn three_level_chain() -> ThreeLevelChain {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params
    };
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca("test root");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let intermediate_key = KeyPair::generate().unwrap();
    let intermediate_params = ca("test intermediate");
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root_issuer)
        .unwrap();
    let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["autoconfig.contoso.test".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &intermediate_issuer)
        .unwrap();
    let root_path = write_file(dir.path(), "root.pem", &root.pem());
    let chain = write_file(dir.path(), "chain.pem", &(leaf.pem() + &intermediate.pem()));
    let key = write_file(dir.path(), "leaf.key", &leaf_key.serialize_pem());
    ThreeLevelChain {
        dir,
        root: root_path,
        chain,
        key,
    }
}

#[tokio::test]
async fn intermediate_certificates_travel_in_the_signature() {
    if !openssl_available() {
        return;
    }
    let chain = three_level_chain();
    let apple = format!(
        "[apple]\nsigning_certificate = \"{}\"\nsigning_key = \"{}\"\n",
        chain.chain.display(),
        chain.key.display()
    );
    let server = TestServer::start_with(&apple).await;
    let reply = get_with_agent(&server, "/apple/alice@contoso.test.mobileconfig", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Only the root is trusted: verification needs the intermediate from
    // the SignedData itself.
    let content = openssl_verify(&reply.body, &chain.root).expect("verifies with the root only");
    assert!(content.starts_with(b"<?xml"));

    // Control: signed without the intermediate, the same check fails.
    let pem = std::fs::read_to_string(&chain.chain).unwrap();
    let end = "-----END CERTIFICATE-----";
    let leaf_only = &pem[..pem.find(end).unwrap() + end.len()];
    let leaf_path = write_file(chain.dir.path(), "leaf.pem", leaf_only);
    let signer = mailsetup::signing::ProfileSigner::from_files(&leaf_path, &chain.key).unwrap();
    let signed = signer.sign(&content).unwrap();
    assert!(openssl_verify(&signed, &chain.root).is_err());
    drop(chain.dir);
    server.shutdown().await;
}

#[tokio::test]
async fn rsa_2048_signer_verifies() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("rsa.pem");
    let key = dir.path().join("rsa.key");
    let (ok, _, stderr) = run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=autoconfig.contoso.test",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    );
    assert!(ok, "{stderr}");
    let apple = format!(
        "[apple]\nsigning_certificate = \"{}\"\nsigning_key = \"{}\"\n",
        cert.display(),
        key.display()
    );
    let server = TestServer::start_with(&apple).await;
    let reply = get_with_agent(&server, "/apple/alice@contoso.test.mobileconfig", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let content = openssl_verify(&reply.body, &cert).expect("verifies");
    assert_eq!(
        content,
        render_unsigned(&server.config_path, "alice@contoso.test", "ios")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn cli_signed_profile_has_the_same_content_as_the_servers() {
    if !openssl_available() {
        return;
    }
    let server = start_with_password_profile("").await;
    let reply = get_with_agent(
        &server,
        "/apple/profile?email=bob%40oldisp.test&kind=imap&platform=macos",
        None,
    )
    .await;
    let output = mailsetup()
        .args([
            "render",
            "mobileconfig",
            "bob@oldisp.test",
            "--kind",
            "imap",
            "--platform",
            "macos",
            "--sign",
            "--config",
        ])
        .arg(&server.config_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let from_cli = openssl_verify(&output.stdout, &server.ca.ca_path()).expect("CLI's verifies");
    let from_server = openssl_verify(&reply.body, &server.ca.ca_path()).expect("server's verifies");
    assert_eq!(from_cli, from_server);
    server.shutdown().await;
}

/// `mailsetup check` on a configuration whose [apple] files are given.
fn check_with_apple_files(ca: &TestCa, cert: &Path, key: &Path) -> (bool, String) {
    let apple = format!(
        "[apple]\nsigning_certificate = \"{}\"\nsigning_key = \"{}\"\n",
        cert.display(),
        key.display()
    );
    let config = write_config(ca, &apple);
    let output = mailsetup()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn signing_key_of_another_certificate_is_refused_at_start_up_naming_both_files() {
    let ca = TestCa::new();
    let other_key = rcgen::KeyPair::generate().unwrap();
    let other_key_path = write_file(ca.dir.path(), "other.key", &other_key.serialize_pem());
    let (ok, stderr) = check_with_apple_files(&ca, &ca.cert_path, &other_key_path);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "{} and {} do not go together",
            ca.cert_path.display(),
            other_key_path.display()
        )),
        "{stderr}"
    );
    // The server refuses to start with it too.
    let apple = format!(
        "[apple]\nsigning_certificate = \"{}\"\nsigning_key = \"{}\"\n",
        ca.cert_path.display(),
        other_key_path.display()
    );
    let config = mailsetup::config::Config::load(Some(&write_config(&ca, &apple))).unwrap();
    let error = mailsetup::server::start(config)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("do not go together"), "{error}");
}

#[test]
fn expired_signing_certificate_is_refused_at_start_up_naming_the_file() {
    let ca = TestCa::new();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["autoconfig.contoso.test".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let cert_path = write_file(ca.dir.path(), "expired.pem", &cert.pem());
    let key_path = write_file(ca.dir.path(), "expired.key", &key.serialize_pem());
    let (ok, stderr) = check_with_apple_files(&ca, &cert_path, &key_path);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("{}: certificate", cert_path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("expired on 2021-01-01"), "{stderr}");
}

#[test]
fn check_reports_who_signs_profiles() {
    let ca = TestCa::new();
    let config = write_config(&ca, "");
    let output = mailsetup()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("apple profiles: signed by") && stdout.contains("ECDSA P-256 with SHA-256"),
        "{stdout}"
    );
    let config = write_config(&ca, "[apple]\nsign = false\n");
    let output = mailsetup()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("apple profiles: unsigned"));
}

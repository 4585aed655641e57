//! Built-in ACME with two `mailsetup serve` processes sharing one state
//! directory, against Pebble (see `acme_pebble.rs`). Pebble validates
//! http-01 on replica A's plain HTTP port only, as a load balancer that
//! always picks A would: a certificate replica B orders can only be issued
//! if A answers B's tokens from the shared directory. Orders are counted in
//! Pebble's own log; challenge answers in each replica's `/metrics`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use crate::acme_pebble::{
    DOMAIN, Pebble, SNI, client_trusting, free_port, leaf_of, pebble_binary, pebble_root,
    san_names, start_dns_stand_in, start_pebble, wait_for_new_leaf,
};
use crate::common::TestCa;
use crate::common::serve_process::{ServeProcess, serve_command};

/// One `mailsetup serve` process of the pair.
struct Replica {
    process: ServeProcess,
    /// Its admin listener (plain HTTP `/metrics`).
    admin: SocketAddr,
    config: PathBuf,
    /// Its stderr (the log), shown when an assertion fails.
    log: PathBuf,
}

/// `mailsetup.toml` for a replica: plain HTTP on `http`, ACME against
/// `directory_url` (trusting the test CA) with `state` as its state directory, `domains` in its table.
fn replica_config(
    ca: &TestCa,
    directory_url: &str,
    state: &Path,
    http: SocketAddr,
    domains: &[&str],
    extra_acme: &str,
) -> String {
    let mut text = format!(
        r#"
[server]
http = ["{http}"]
https = ["127.0.0.1:0"]
admin = ["127.0.0.1:0"]

[tls]
certificate = "{cert}"
private_key = "{key}"

[acme]
enabled = true
directory_url = "{directory}"
directory_ca = "{ca_path}"
contact = "hostmaster@contoso.test"
state_dir = "{state}"
{extra_acme}
"#,
        cert = ca.cert_path.display(),
        key = ca.key_path.display(),
        directory = directory_url,
        ca_path = ca.ca_path().display(),
        state = state.display(),
    );
    for domain in domains {
        text += &format!("\n[[domain]]\nname = \"{domain}\"\nprofile = \"microsoft365\"\n");
    }
    text
}

fn start_replica(name: &str, ca: &TestCa, config_text: &str) -> Replica {
    let config = ca.dir.path().join(format!("{name}.toml"));
    std::fs::write(&config, config_text).unwrap();
    let log = ca.dir.path().join(format!("{name}.log"));
    let stderr = std::fs::File::create(&log).unwrap();
    let process = ServeProcess::spawn(serve_command(&config).stderr(stderr));
    let admin = process
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("admin (metrics) on http://"))
        .unwrap_or_else(|| panic!("no admin line in {:?}", process.printed))
        .parse()
        .unwrap();
    Replica {
        process,
        admin,
        config,
        log,
    }
}

impl Replica {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// `mailsetup_requests_total` for the ACME challenge endpoint with
    /// `status`, summed over its profile label.
    async fn challenge_answers(&self, status: u16) -> u64 {
        let (code, body) = http_get(self.admin, "localhost", "/metrics").await;
        assert_eq!(code, http::StatusCode::OK);
        let wanted = format!("endpoint=\"acme-challenge\",status=\"{status}\"");
        body.lines()
            .filter(|l| l.starts_with("mailsetup_requests_total{") && l.contains(&wanted))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    }

    /// Sends SIGHUP: reread the configuration file.
    fn reload(&self) {
        self.process.hang_up();
    }
}

/// A plain HTTP/1.1 GET with `Host: host`; the path is sent as given.
async fn http_get(addr: SocketAddr, host: &str, path: &str) -> (http::StatusCode, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, host)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Waits until `https` presents, for `sni`, a certificate that Pebble's
/// root verifies and `accept` takes; returns its leaf.
async fn wait_for_pebble_leaf(
    connector: &tokio_rustls::TlsConnector,
    https: SocketAddr,
    sni: &str,
    replica: &Replica,
    accept: impl Fn(&CertificateDer<'static>) -> bool,
) -> CertificateDer<'static> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stream = TcpStream::connect(https).await.unwrap();
        let name = ServerName::try_from(sni.to_owned()).unwrap();
        if let Ok(stream) = connector.connect(name, stream).await
            && accept(&leaf_of(&stream))
        {
            return leaf_of(&stream);
        }
        assert!(
            Instant::now() < deadline,
            "{https} never served the expected certificate for {sni}; its log:\n{}",
            replica.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until `https` presents `leaf` for `autoconfig.contoso.test`.
async fn wait_for_leaf(
    connector: &tokio_rustls::TlsConnector,
    https: SocketAddr,
    leaf: &CertificateDer<'static>,
    replica: &Replica,
) {
    wait_for_pebble_leaf(connector, https, SNI, replica, |l| l == leaf).await;
}

/// Files in `state/challenges` (tokens and temporary files alike).
fn challenge_files(state: &Path) -> Vec<String> {
    match std::fs::read_dir(state.join("challenges")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `account-*.json` files in `state`.
fn account_files(state: &Path) -> Vec<String> {
    std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("account-"))
        .collect()
}

/// What every replica test starts with: Pebble, whose http-01
/// validation reaches only replica A's plain HTTP port (`http_a`); a
/// client trusting Pebble's root; one state directory for both replicas.
struct Rig {
    ca: TestCa,
    pebble: Pebble,
    connector: tokio_rustls::TlsConnector,
    state: tempfile::TempDir,
    http_a: SocketAddr,
    /// Replica B's plain HTTP listener, on a port Pebble never asks.
    http_b: SocketAddr,
}

impl Rig {
    /// `None` (the test skips, or fails under CI) without Pebble.
    async fn start() -> Option<Rig> {
        let binary = pebble_binary()?;
        let ca = TestCa::new();
        let port_a = free_port();
        let pebble = start_pebble(binary, &ca, port_a, start_dns_stand_in()).await;
        let root = pebble_root(&pebble, &ca).await;
        Some(Rig {
            connector: client_trusting(&root),
            state: tempfile::tempdir().unwrap(),
            http_a: ([127, 0, 0, 1], port_a).into(),
            http_b: ([127, 0, 0, 1], 0).into(),
            ca,
            pebble,
        })
    }
}

#[tokio::test]
async fn a_replica_answers_the_http01_challenges_of_the_replica_that_orders() {
    let Some(Rig {
        ca,
        pebble,
        connector,
        state,
        http_a,
        http_b,
    }) = Rig::start().await
    else {
        return;
    };

    // A has ACME on but no domain yet, so B is the one that orders; Pebble
    // reaches only A.
    let a = start_replica(
        "a",
        &ca,
        &replica_config(&ca, &pebble.directory_url, state.path(), http_a, &[], ""),
    );
    let b = start_replica(
        "b",
        &ca,
        &replica_config(
            &ca,
            &pebble.directory_url,
            state.path(),
            http_b,
            &[DOMAIN],
            "",
        ),
    );
    let issued = leaf_of(&wait_for_new_leaf(&connector, b.process.https, None).await);
    assert!(san_names(&issued).contains(&format!("autodiscover.{DOMAIN}")));

    // Pebble fetched both names' tokens, and only A was asked: A answered
    // tokens it never created, from the shared directory.
    assert_eq!(pebble.orders(), 1);
    assert!(a.challenge_answers(200).await >= 2, "{}", a.log());
    assert_eq!(a.challenge_answers(404).await, 0, "{}", a.log());
    assert_eq!(b.challenge_answers(200).await, 0);
    // Withdrawn from the shared directory once the order ended.
    assert_eq!(challenge_files(state.path()), Vec::<String>::new());

    // A learns the domain: it installs B's certificate, orders nothing.
    let text = std::fs::read_to_string(&a.config).unwrap()
        + &format!("\n[[domain]]\nname = \"{DOMAIN}\"\nprofile = \"microsoft365\"\n");
    std::fs::write(&a.config, text).unwrap();
    a.reload();
    wait_for_leaf(&connector, a.process.https, &issued, &a).await;
    assert_eq!(pebble.orders(), 1);
}

#[tokio::test]
async fn two_replicas_starting_together_order_one_certificate_each_and_serve_both() {
    let Some(Rig {
        ca,
        pebble,
        connector,
        state,
        http_a,
        http_b,
    }) = Rig::start().await
    else {
        return;
    };

    // Both have two domains and nothing stored: for each domain, whichever
    // takes its lock first orders, the other installs what it stored. Both
    // need the account at once.
    let domains = [DOMAIN, "fabrikam.test"];
    let a_text = replica_config(
        &ca,
        &pebble.directory_url,
        state.path(),
        http_a,
        &domains,
        "",
    );
    let b_text = replica_config(
        &ca,
        &pebble.directory_url,
        state.path(),
        http_b,
        &domains,
        "",
    );
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start_replica("a", &ca, &a_text));
        let b = scope.spawn(|| start_replica("b", &ca, &b_text));
        (a.join().unwrap(), b.join().unwrap())
    });
    for domain in domains {
        let sni = format!("autoconfig.{domain}");
        let from_a = wait_for_pebble_leaf(&connector, a.process.https, &sni, &a, |_| true).await;
        assert!(san_names(&from_a).contains(&sni));
        wait_for_pebble_leaf(&connector, b.process.https, &sni, &b, |l| l == &from_a).await;
    }

    assert_eq!(pebble.orders(), 2, "A:\n{}\nB:\n{}", a.log(), b.log());
    // One account: both replicas use the one file the first created.
    assert_eq!(account_files(state.path()).len(), 1);
    let created = [&a, &b]
        .iter()
        .filter(|r| r.log().contains("ACME account created"))
        .count();
    assert_eq!(created, 1);
    assert_eq!(challenge_files(state.path()), Vec::<String>::new());
}

#[tokio::test]
async fn replicas_ordering_different_domains_at_once_register_one_account() {
    let Some(Rig {
        ca,
        pebble,
        connector,
        state,
        http_a,
        http_b,
    }) = Rig::start().await
    else {
        return;
    };

    // No domain lock in common: both replicas order at once, and both need
    // the account the moment they start.
    let fabrikam = "fabrikam.test";
    let a_text = replica_config(
        &ca,
        &pebble.directory_url,
        state.path(),
        http_a,
        &[DOMAIN],
        "",
    );
    let b_text = replica_config(
        &ca,
        &pebble.directory_url,
        state.path(),
        http_b,
        &[fabrikam],
        "",
    );
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start_replica("a", &ca, &a_text));
        let b = scope.spawn(|| start_replica("b", &ca, &b_text));
        (a.join().unwrap(), b.join().unwrap())
    });
    wait_for_pebble_leaf(&connector, a.process.https, SNI, &a, |_| true).await;
    let sni = format!("autoconfig.{fabrikam}");
    wait_for_pebble_leaf(&connector, b.process.https, &sni, &b, |_| true).await;

    assert_eq!(pebble.orders(), 2);
    assert_eq!(account_files(state.path()).len(), 1);
    let created = [&a, &b]
        .iter()
        .filter(|r| r.log().contains("ACME account created"))
        .count();
    assert_eq!(created, 1, "A:\n{}\nB:\n{}", a.log(), b.log());
}

#[tokio::test]
async fn a_renewal_by_one_replica_is_served_by_both_after_one_order() {
    let Some(Rig {
        ca,
        pebble,
        connector,
        state,
        http_a,
        http_b,
    }) = Rig::start().await
    else {
        return;
    };
    // Both replicas reach the renewal time of the one certificate at once
    // (Pebble's certificates last years; renew ten seconds in).
    let renew = "renew_after_secs = 10";
    let a = start_replica(
        "a",
        &ca,
        &replica_config(
            &ca,
            &pebble.directory_url,
            state.path(),
            http_a,
            &[DOMAIN],
            renew,
        ),
    );
    let first = leaf_of(&wait_for_new_leaf(&connector, a.process.https, None).await);
    let b = start_replica(
        "b",
        &ca,
        &replica_config(
            &ca,
            &pebble.directory_url,
            state.path(),
            http_b,
            &[DOMAIN],
            renew,
        ),
    );
    wait_for_leaf(&connector, b.process.https, &first, &b).await;
    assert_eq!(pebble.orders(), 1);

    let renewed = leaf_of(&wait_for_new_leaf(&connector, b.process.https, Some(&first)).await);
    wait_for_leaf(&connector, a.process.https, &renewed, &a).await;
    assert_eq!(pebble.orders(), 2, "A:\n{}\nB:\n{}", a.log(), b.log());
}

#[tokio::test]
async fn a_token_outside_base64url_is_404_and_never_a_path() {
    let ca = TestCa::new();
    let state = tempfile::tempdir().unwrap();
    // Files a traversal would reach, each shaped like a key authorization
    // for the name used to reach it.
    let challenges = state.path().join("challenges");
    std::fs::create_dir_all(&challenges).unwrap();
    let thumbprint = "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    std::fs::write(
        state.path().join("secret"),
        format!("../secret.{thumbprint}"),
    )
    .unwrap();
    std::fs::write(challenges.join(".hidden"), format!(".hidden.{thumbprint}")).unwrap();
    let token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    std::fs::write(challenges.join(token), format!("{token}.{thumbprint}")).unwrap();

    let replica = start_replica(
        "a",
        &ca,
        // No domain: nothing is ever ordered from this directory.
        &replica_config(
            &ca,
            "https://127.0.0.1:1/dir",
            state.path(),
            ([127, 0, 0, 1], 0).into(),
            &[],
            "",
        ),
    );
    let http = replica.process.http;
    for path in [
        "/.well-known/acme-challenge/../secret",
        "/.well-known/acme-challenge/..%2fsecret",
        "/.well-known/acme-challenge/.hidden",
        "/.well-known/acme-challenge/a/../../secret",
        "/.well-known/acme-challenge/",
    ] {
        let (status, body) = http_get(http, SNI, path).await;
        assert_eq!(status, http::StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.contains(thumbprint), "{path}: {body}");
    }
    // A well-formed token another replica published is answered.
    let (status, body) = http_get(http, SNI, &format!("/.well-known/acme-challenge/{token}")).await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(body, format!("{token}.{thumbprint}"));
}

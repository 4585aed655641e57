//! ACME end to end against Pebble (Debian package `pebble`), a real RFC 8555
//! server: it really fetches the http-01 key authorization from our plain
//! HTTP listener (its `-dnsserver` points at a DNS stand-in here that
//! answers 127.0.0.1 for every name; `PEBBLE_VA_ALWAYS_VALID` is not set).
//! Skipped with a reason when pebble is missing, failed when `CI=true`.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{TestCa, tools};

pub(crate) const DOMAIN: &str = "contoso.test";
pub(crate) const SNI: &str = "autoconfig.contoso.test";

/// Pebble's binary; `None` when it is not installed (see `skip_or_fail`).
pub(crate) fn pebble_binary() -> Option<&'static str> {
    const PEBBLE: &str = "/usr/bin/pebble";
    tools::require_programs(&[PEBBLE], "apt-get install pebble").then_some(PEBBLE)
}

/// A loopback port that is free now and that a listener is to bind later
/// (Pebble must be told it before the server starts). Taken below the
/// kernel's ephemeral range, where `bind(":0")` and outgoing connections
/// of the other tests running meanwhile never land: a port the kernel
/// handed out for ":0" and released could be handed to one of them before
/// the server binds it, which made a replica fail to start now and then.
pub(crate) fn free_port() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low.max(10_001));
    // Spread over the range by process, time and call, so that tests
    // calling at the same moment start at different ports.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos()
        ^ CALLS
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_mul(7919);
    let span = u32::from(high - low);
    (0..span)
        .map(|step| low + ((seed.wrapping_add(step.wrapping_mul(4099))) % span) as u16)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free loopback port below the ephemeral range")
}

/// Answers every DNS query with NOERROR; A queries get 127.0.0.1, others
/// no records. Just enough for Pebble's validation authority.
pub(crate) fn start_dns_stand_in() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((len, peer)) = socket.recv_from(&mut buf) {
            if let Some(reply) = dns_reply(&buf[..len]) {
                let _ = socket.send_to(&reply, peer);
            }
        }
    });
    addr
}

fn dns_reply(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    // The question: labels up to the root label, then type and class.
    let mut end = 12;
    while *query.get(end)? != 0 {
        end += 1 + usize::from(query[end]);
    }
    let question_end = end + 5;
    let qtype = u16::from_be_bytes([*query.get(end + 1)?, *query.get(end + 2)?]);
    let is_a = qtype == 1;
    let mut reply = Vec::with_capacity(question_end + 16);
    reply.extend_from_slice(&query[0..2]); // id
    // QR, opcode 0, AA, RD copied; RA; NOERROR.
    reply.push(0x84 | (query[2] & 0x01));
    reply.push(0x80);
    reply.extend_from_slice(&[0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
    reply.extend_from_slice(query.get(12..question_end)?);
    if is_a {
        reply.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    }
    Some(reply)
}

/// A Pebble process, killed on drop.
pub(crate) struct Pebble {
    child: Child,
    pub(crate) directory_url: String,
    management: SocketAddr,
    /// Pebble's stdout and stderr.
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Pebble {
    /// Orders Pebble has accepted so far, counted in its own log ("Added
    /// order ... to the db", one per newOrder request).
    pub(crate) fn orders(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("Added order"))
            .count()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Pebble with `ca`'s leaf as its HTTPS certificate, validating
/// http-01 on `http_port` of whatever `dns` says (127.0.0.1).
pub(crate) async fn start_pebble(
    binary: &str,
    ca: &TestCa,
    http_port: u16,
    dns: SocketAddr,
) -> Pebble {
    let dir = tempfile::tempdir().unwrap();
    let listen: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let management: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let config = serde_json::json!({
        "pebble": {
            "listenAddress": listen.to_string(),
            "managementListenAddress": management.to_string(),
            "certificate": ca.cert_path,
            "privateKey": ca.key_path,
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }
    });
    let config_path = dir.path().join("pebble-config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let log_path = dir.path().join("pebble.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(binary)
        .arg("-config")
        .arg(&config_path)
        .arg("-dnsserver")
        .arg(dns.to_string())
        // No artificial validation delay; no nonce rejections (our client
        // retries badNonce, but it would only slow the test); every order
        // validated afresh, so a renewal is a real second validation.
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let pebble = Pebble {
        child,
        directory_url: format!("https://{listen}/dir"),
        management,
        log: log_path,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(listen).await.is_err() || TcpStream::connect(management).await.is_err()
    {
        assert!(Instant::now() < deadline, "pebble did not start listening");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pebble
}

/// Pebble's issuing root, from its management interface.
pub(crate) async fn pebble_root(pebble: &Pebble, ca: &TestCa) -> CertificateDer<'static> {
    let connector = client_trusting(&ca.ca_der);
    let stream = TcpStream::connect(pebble.management).await.unwrap();
    let name = ServerName::IpAddress(pebble.management.ip().into());
    let mut stream = connector.connect(name, stream).await.unwrap();
    let request = format!(
        "GET /roots/0 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        pebble.management
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(body.as_bytes()).unwrap()
}

/// mailsetup with `[acme]` against `pebble`, plain HTTP on `http_port`.
async fn start_mailsetup(
    ca: &TestCa,
    pebble: &Pebble,
    http_port: u16,
    state_dir: &Path,
    extra_acme: &str,
) -> mailsetup::server::Running {
    let text = format!(
        r#"
[server]
http = ["127.0.0.1:{http_port}"]
https = ["127.0.0.1:0"]

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

[[domain]]
name = "{DOMAIN}"
profile = "microsoft365"
"#,
        cert = ca.cert_path.display(),
        key = ca.key_path.display(),
        directory = pebble.directory_url,
        ca_path = ca.ca_path().display(),
        state = state_dir.display(),
    );
    let path = ca.dir.path().join("mailsetup-acme.toml");
    std::fs::write(&path, text).unwrap();
    let config = mailsetup::config::Config::load(Some(&path)).unwrap();
    mailsetup::server::start(config).await.unwrap()
}

/// A client that trusts only Pebble's root, HTTP/1.1 only.
pub(crate) fn client_trusting(root: &CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Connects with SNI `autoconfig.<d>`; `Err` while the server still serves
/// a certificate Pebble's root does not verify.
pub(crate) async fn connect(
    connector: &tokio_rustls::TlsConnector,
    https: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let stream = TcpStream::connect(https).await?;
    connector
        .connect(ServerName::try_from(SNI).unwrap(), stream)
        .await
}

pub(crate) fn leaf_of(
    stream: &tokio_rustls::client::TlsStream<TcpStream>,
) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// Waits until a handshake verified by Pebble's root presents a leaf other
/// than `previous`.
pub(crate) async fn wait_for_new_leaf(
    connector: &tokio_rustls::TlsConnector,
    https: SocketAddr,
    previous: Option<&CertificateDer<'static>>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let last = connect(connector, https).await;
        if let Ok(stream) = &last
            && Some(&leaf_of(stream)) != previous
        {
            return last.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no new Pebble-issued certificate for {SNI}; last attempt: {:?}",
            last.err()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) fn san_names(leaf: &CertificateDer<'_>) -> Vec<String> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let certificate = x509_cert::Certificate::from_der(leaf.as_ref()).unwrap();
    let (_, san) = certificate
        .tbs_certificate
        .get::<SubjectAltName>()
        .unwrap()
        .unwrap();
    san.0
        .into_iter()
        .filter_map(|n| match n {
            GeneralName::DnsName(d) => Some(d.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
) -> (http::StatusCode, Bytes) {
    let request = http::Request::get(path)
        .header(http::header::HOST, SNI)
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test]
async fn pebble_issued_certificate_is_served_for_autoconfig_name() {
    let Some(binary) = pebble_binary() else {
        return;
    };
    let ca = TestCa::new();
    let http_port = free_port();
    let pebble = start_pebble(binary, &ca, http_port, start_dns_stand_in()).await;
    let root = pebble_root(&pebble, &ca).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_mailsetup(&ca, &pebble, http_port, state.path(), "").await;
    let https = running.https_addrs[0];

    // rustls verified the chain up to Pebble's root and the name.
    let stream = wait_for_new_leaf(&client_trusting(&root), https, None).await;
    let names = san_names(&leaf_of(&stream));
    assert!(names.contains(&SNI.to_owned()), "{names:?}");
    assert!(
        names.contains(&format!("autodiscover.{DOMAIN}")),
        "{names:?}"
    );

    // Stored for the next start: key 0600, chain beside it.
    use std::os::unix::fs::PermissionsExt;
    let dir = state.path().join("certificates").join(DOMAIN);
    let mode = std::fs::metadata(dir.join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(dir.join("fullchain.pem").exists());

    // /metrics (loopback peer) shows the ACME certificate's expiry.
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let (status, body) = get(&mut sender, "/metrics").await;
    assert_eq!(status, http::StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.lines().any(
            |l| l.starts_with("mailsetup_certificate_expiry_days{source=\"acme\"")
                && l.contains(SNI)
        ),
        "{text}"
    );
    assert_eq!(running.acme.as_ref().unwrap().failures(), 0);
    running.shutdown().await;
}

#[tokio::test]
async fn stored_certificate_is_served_at_start_without_ordering() {
    let Some(binary) = pebble_binary() else {
        return;
    };
    let ca = TestCa::new();
    let http_port = free_port();
    let pebble = start_pebble(binary, &ca, http_port, start_dns_stand_in()).await;
    let root = pebble_root(&pebble, &ca).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_mailsetup(&ca, &pebble, http_port, state.path(), "").await;
    let connector = client_trusting(&root);
    let first = leaf_of(&wait_for_new_leaf(&connector, running.https_addrs[0], None).await);
    running.shutdown().await;

    // Pebble stopped: the restarted server can only serve what it stored.
    drop(pebble);
    let pebble = start_pebble(binary, &ca, http_port, start_dns_stand_in()).await;
    let restarted = start_mailsetup(&ca, &pebble, http_port, state.path(), "").await;
    let stream = connect(&connector, restarted.https_addrs[0]).await.unwrap();
    assert_eq!(leaf_of(&stream), first);
    assert_eq!(restarted.acme.as_ref().unwrap().issued(), 0);
    restarted.shutdown().await;
}

#[tokio::test]
async fn renewal_replaces_certificate_without_dropping_open_connection() {
    let Some(binary) = pebble_binary() else {
        return;
    };
    let ca = TestCa::new();
    let http_port = free_port();
    let pebble = start_pebble(binary, &ca, http_port, start_dns_stand_in()).await;
    let root = pebble_root(&pebble, &ca).await;
    let state = tempfile::tempdir().unwrap();
    // Pebble issues five-year certificates; renew a few seconds after
    // issuance instead of at 2/3 of that.
    let running = start_mailsetup(
        &ca,
        &pebble,
        http_port,
        state.path(),
        "renew_after_secs = 3",
    )
    .await;
    let https = running.https_addrs[0];
    let connector = client_trusting(&root);

    let open = wait_for_new_leaf(&connector, https, None).await;
    let first = leaf_of(&open);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(open))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    assert_eq!(get(&mut sender, "/healthz").await.0, http::StatusCode::OK);

    let renewed = wait_for_new_leaf(&connector, https, Some(&first)).await;
    assert!(san_names(&leaf_of(&renewed)).contains(&SNI.to_owned()));
    assert!(running.acme.as_ref().unwrap().issued() >= 2);

    // The keep-alive connection opened before the swap still answers.
    let (status, body) = get(&mut sender, "/healthz").await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(&body[..], b"ok\n");
    assert!(!connection.is_finished());
    running.shutdown().await;
}

#[tokio::test]
async fn failed_validation_is_counted_and_default_certificate_stays() {
    let Some(binary) = pebble_binary() else {
        return;
    };
    let ca = TestCa::new();
    let http_port = free_port();
    // Pebble validates on a port where nothing listens: every order fails.
    let pebble = start_pebble(binary, &ca, free_port(), start_dns_stand_in()).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_mailsetup(&ca, &pebble, http_port, state.path(), "").await;
    let status = running.acme.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while status.failures() == 0 {
        assert!(Instant::now() < deadline, "no ACME failure was counted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status.issued(), 0);

    // The configured default certificate still answers for the name.
    let connector = client_trusting(&ca.ca_der);
    let stream = connect(&connector, running.https_addrs[0]).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let (_, body) = get(&mut sender, "/metrics").await;
    let text = String::from_utf8(body.to_vec()).unwrap();
    let failures = text
        .lines()
        .find_map(|l| l.strip_prefix("mailsetup_acme_failures_total "))
        .unwrap();
    assert!(failures.parse::<u64>().unwrap() >= 1, "{text}");
    assert!(
        !state
            .path()
            .join("certificates")
            .join(DOMAIN)
            .join("key.pem")
            .exists()
    );
    running.shutdown().await;
}

#[tokio::test]
async fn a_domain_added_by_reload_gets_its_certificate() {
    let Some(binary) = pebble_binary() else {
        return;
    };
    let ca = TestCa::new();
    let http_port = free_port();
    let pebble = start_pebble(binary, &ca, http_port, start_dns_stand_in()).await;
    let root = pebble_root(&pebble, &ca).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_mailsetup(&ca, &pebble, http_port, state.path(), "").await;
    let https = running.https_addrs[0];
    let connector = client_trusting(&root);
    wait_for_new_leaf(&connector, https, None).await;

    // Add fabrikam.test to the table and reload.
    let path = ca.dir.path().join("mailsetup-acme.toml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n[[domain]]\nname = \"fabrikam.test\"\nprofile = \"microsoft365\"\n";
    std::fs::write(&path, text).unwrap();
    running.reload(Some(&path)).unwrap();

    let added = "autoconfig.fabrikam.test";
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let stream = TcpStream::connect(https).await.unwrap();
        let attempt = connector
            .connect(ServerName::try_from(added).unwrap(), stream)
            .await;
        if let Ok(stream) = attempt {
            assert!(san_names(&leaf_of(&stream)).contains(&added.to_owned()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no certificate for {added} after the reload"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(running.acme.as_ref().unwrap().failures(), 0);
    running.shutdown().await;
}

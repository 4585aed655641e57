//! Files the platform changes under a running `mailsetup serve`, picked up
//! without SIGHUP: a Kubernetes TLS Secret swapped by the kubelet (as the
//! default certificate and as a `certificates_dir` entry), a certbot
//! renewal of `live/` links, files rewritten in place, a renewal caught
//! half-written, and, with `[server] watch = true`, the configuration file
//! (also as a ConfigMap). Connections opened before a change keep working.
//! Bounds are generous correctness limits, not timings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use http::StatusCode;
use rustls_pki_types::ServerName;

use crate::common::serve_process::{ServeProcess, http_get, serve_command, write_fifo};
use crate::common::{KeepAlive, TEST_DOMAINS, TestCa, assert_refused_at, write_file};

/// How long a change may take to be served: many looks at the one-second
/// interval the tests configure.
const WITHIN: Duration = Duration::from_secs(20);

/// Long enough for several looks to have happened (the tests look every
/// second).
const SEVERAL_LOOKS: Duration = Duration::from_millis(3500);

/// A leaf certificate and its key, as PEM, and the leaf's DER.
struct Leaf {
    chain_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

/// A new leaf for `names`, signed by the test CA.
fn issue(ca: &TestCa, names: &[&str]) -> Leaf {
    let scratch = tempfile::tempdir().unwrap();
    let der = ca.issue_into(scratch.path(), names, false);
    Leaf {
        chain_pem: std::fs::read_to_string(scratch.path().join("fullchain.pem")).unwrap(),
        key_pem: std::fs::read_to_string(scratch.path().join("privkey.pem")).unwrap(),
        der,
    }
}

/// A directory as the kubelet's AtomicWriter keeps a mounted Secret or
/// ConfigMap: the files live in a `..<timestamp>` directory, `..data`
/// links to it, and each visible name links through `..data`. An update
/// writes a new timestamped directory, points a `..data_tmp` link at it,
/// renames that over `..data` (the one atomic step) and removes the old
/// directory.
struct AtomicVolume {
    dir: PathBuf,
    generation: u32,
}

impl AtomicVolume {
    fn new(dir: &Path) -> AtomicVolume {
        std::fs::create_dir_all(dir).unwrap();
        AtomicVolume {
            dir: dir.to_owned(),
            generation: 0,
        }
    }

    fn publish(&mut self, files: &[(&str, &str)]) {
        use std::os::unix::fs::symlink;
        self.generation += 1;
        // Named as the kubelet names them; the date itself does not matter.
        let name = format!("..2026_12_02_01_00_00.{:09}", self.generation);
        let data = self.dir.join(&name);
        std::fs::create_dir(&data).unwrap();
        for (file, contents) in files {
            std::fs::write(data.join(file), contents).unwrap();
        }
        let previous = std::fs::read_link(self.dir.join("..data")).ok();
        let temporary = self.dir.join("..data_tmp");
        symlink(&name, &temporary).unwrap();
        std::fs::rename(&temporary, self.dir.join("..data")).unwrap();
        for (file, _) in files {
            let visible = self.dir.join(file);
            if std::fs::symlink_metadata(&visible).is_err() {
                symlink(Path::new("..data").join(file), &visible).unwrap();
            }
        }
        if let Some(previous) = previous {
            std::fs::remove_dir_all(self.dir.join(previous)).unwrap();
        }
    }
}

/// A configuration on ephemeral loopback ports that looks at its files
/// every second; `tls` is the `[tls]` section's body, `server` more
/// `[server]` keys.
fn config_text(tls: &str, server: &str, domains: &str) -> String {
    format!(
        "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\nhttp_policy = \"serve\"\n\
         {server}\n\n[tls]\n{tls}\n\n[apple]\nsign = false\n\n\
         [limits]\nshutdown_grace_secs = 2\nwatch_interval_secs = 1\n\n{TEST_DOMAINS}\n{domains}"
    )
}

/// The `[tls]` lines naming a certificate and key file.
fn tls_pair(certificate: &Path, private_key: &Path) -> String {
    format!(
        "certificate = \"{}\"\nprivate_key = \"{}\"",
        certificate.display(),
        private_key.display()
    )
}

/// `mailsetup serve --config <config>`, its log in `<dir>/serve.log`.
fn serve(config: &Path, dir: &Path) -> (ServeProcess, PathBuf) {
    let log = dir.join("serve.log");
    let process =
        ServeProcess::spawn(serve_command(config).stderr(std::fs::File::create(&log).unwrap()));
    (process, log)
}

fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap()
}

/// The leaf the server presents for `sni`, or the handshake error.
async fn presented_leaf(ca: &TestCa, https: SocketAddr, sni: &str) -> Result<Vec<u8>, String> {
    let connector = tokio_rustls::TlsConnector::from(ca.client_config());
    let stream = tokio::net::TcpStream::connect(https)
        .await
        .map_err(|e| e.to_string())?;
    let tls = connector
        .connect(ServerName::try_from(sni.to_owned()).unwrap(), stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tls.get_ref().1.peer_certificates().unwrap()[0].to_vec())
}

/// Waits until the server presents `expected` for `sni`; panics with what
/// it presented after `WITHIN`.
async fn wait_for_leaf(ca: &TestCa, https: SocketAddr, sni: &str, expected: &[u8], what: &str) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let presented = presented_leaf(ca, https, sni).await;
        if presented.as_deref() == Ok(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not presented for {sni} within {WITHIN:?}; last: {presented:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The status of a GET over plain HTTP on a new connection.
async fn status_of(http: SocketAddr, path: &str) -> u16 {
    get(http, path).await.0
}

/// GET `path` over plain HTTP: the status and the body.
async fn get(http: SocketAddr, path: &str) -> (u16, String) {
    let answer = http_get(http, path).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// The `[server]` line that serves /metrics to loopback clients under
/// the `serve` policy.
const METRICS: &str = "metrics_from_loopback = true";

/// `certificate_reloads` once at least `successes` are counted (a
/// certificate is served a moment before its reload is counted), or
/// after `WITHIN`.
async fn certificate_reloads_after(http: SocketAddr, successes: u64) -> [u64; 3] {
    let deadline = Instant::now() + WITHIN;
    loop {
        let counts = certificate_reloads(http).await;
        if counts[0] >= successes || Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `mailsetup_certificate_reloads_total` by outcome, from /metrics (served
/// to loopback clients).
async fn certificate_reloads(http: SocketAddr) -> [u64; 3] {
    let (status, body) = get(http, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    ["success", "partial", "failure"].map(|outcome| {
        let series = format!("mailsetup_certificate_reloads_total{{outcome=\"{outcome}\"}} ");
        body.lines()
            .find_map(|line| line.strip_prefix(series.as_str()))
            .unwrap_or_else(|| panic!("no {series} in /metrics:\n{body}"))
            .parse()
            .unwrap()
    })
}

/// Waits until GET `path` answers `expected`.
async fn wait_for_status(http: SocketAddr, path: &str, expected: u16, what: &str) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let status = status_of(http, path).await;
        if status == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {path} still answers {status} after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the log holds `text`.
fn wait_for_log(log: &Path, text: &str) -> String {
    let deadline = Instant::now() + WITHIN;
    loop {
        let said = read_log(log);
        if said.contains(text) {
            return said;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} not logged within {WITHIN:?}:\n{said}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Thunderbird's autoconfig for contoso.test.
const AUTOCONFIG: &str = "/mail/config-v1.1.xml?emailaddress=a%40contoso.test";
const NORTHWIND: &str = "/mail/config-v1.1.xml?emailaddress=a%40northwind.test";
const NORTHWIND_DOMAIN: &str =
    "[[domain]]\nname = \"northwind.test\"\nprofile = \"microsoft365\"\n";

// ---- certificates ----

#[tokio::test]
async fn a_kubelet_secret_swap_serves_the_new_certificate_and_open_connections_go_on() {
    let ca = TestCa::new();
    let secret = ca.dir.path().join("mailsetup-tls");
    let mut volume = AtomicVolume::new(&secret);
    let names = ["localhost", "autoconfig.contoso.test"];
    let first = issue(&ca, &names);
    volume.publish(&[("tls.crt", &first.chain_pem), ("tls.key", &first.key_pem)]);
    let tls = tls_pair(&secret.join("tls.crt"), &secret.join("tls.key"));
    let config = write_file(
        ca.dir.path(),
        "mailsetup.toml",
        &config_text(&tls, METRICS, ""),
    );
    let (mut server, _log) = serve(&config, ca.dir.path());
    let sni = "autoconfig.contoso.test";
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(first.der.clone())
    );
    let mut open = KeepAlive::open(&ca, server.https, sni).await;
    assert_eq!(open.leaf, first.der);
    assert_eq!(
        open.get(AUTOCONFIG).await.map(|(status, _)| status),
        Ok(StatusCode::OK)
    );

    let second = issue(&ca, &names);
    volume.publish(&[("tls.crt", &second.chain_pem), ("tls.key", &second.key_pem)]);
    wait_for_leaf(&ca, server.https, sni, &second.der, "the swapped Secret").await;
    let [success, partial, failure] = certificate_reloads_after(server.http, 1).await;
    assert!(success >= 1, "the swap is counted: {success}");
    assert_eq!((partial, failure), (0, 0));
    // The connection opened before the swap is still served, on its
    // original handshake.
    assert_eq!(
        open.get(AUTOCONFIG).await.map(|(status, _)| status),
        Ok(StatusCode::OK)
    );
    assert!(server.terminate().success());
}

/// A configuration reload that takes long (a million domains loading at
/// low priority on a busy machine) must not hold up a renewed
/// certificate, with the watcher looking at the configuration file or
/// not. The long reload is made deterministic: SIGHUP with the
/// configuration file replaced by a FIFO, whose open blocks until the
/// test writes it.
#[tokio::test]
async fn a_certificate_is_picked_up_while_a_configuration_reload_waits() {
    certificate_pickup_during_a_waiting_reload("").await;
}

#[tokio::test]
async fn with_watch_a_certificate_is_picked_up_while_a_configuration_reload_waits() {
    certificate_pickup_during_a_waiting_reload("watch = true").await;
}

async fn certificate_pickup_during_a_waiting_reload(server_lines: &str) {
    let ca = TestCa::new();
    let secret = ca.dir.path().join("mailsetup-tls");
    let mut volume = AtomicVolume::new(&secret);
    let names = ["localhost", "autoconfig.contoso.test"];
    let first = issue(&ca, &names);
    volume.publish(&[("tls.crt", &first.chain_pem), ("tls.key", &first.key_pem)]);
    let tls = tls_pair(&secret.join("tls.crt"), &secret.join("tls.key"));
    let text = config_text(&tls, server_lines, "");
    let config = write_file(ca.dir.path(), "mailsetup.toml", &text);
    let (mut server, log) = serve(&config, ca.dir.path());
    let sni = "autoconfig.contoso.test";

    // The FIFO keeps a second name, so that the configuration file can be
    // a plain file again while the reload still waits on the FIFO.
    let fifo = ca.dir.path().join("mailsetup.toml.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    std::fs::hard_link(&fifo, ca.dir.path().join("fifo-in-place")).unwrap();
    std::fs::rename(ca.dir.path().join("fifo-in-place"), &config).unwrap();
    server.hang_up();
    wait_for_reload_thread(&server);
    write_file(ca.dir.path(), "mailsetup.toml.new", &text);
    std::fs::rename(ca.dir.path().join("mailsetup.toml.new"), &config).unwrap();

    let second = issue(&ca, &names);
    volume.publish(&[("tls.crt", &second.chain_pem), ("tls.key", &second.key_pem)]);
    wait_for_leaf(
        &ca,
        server.https,
        sni,
        &second.der,
        "the renewal during a reload",
    )
    .await;
    let said = read_log(&log);
    assert!(
        !said.contains("reloaded") && !said.contains("reload refused"),
        "the configuration reload was still waiting:\n{said}"
    );

    // The reload goes on once the file can be read, and keeps the
    // certificate picked up meanwhile.
    write_fifo(&fifo, text.as_bytes());
    wait_for_log(&log, "configuration reloaded");
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(second.der.clone())
    );
    assert!(server.terminate().success());
}

/// Waits until the server has a thread loading a configuration.
fn wait_for_reload_thread(server: &ServeProcess) {
    let tasks = PathBuf::from(format!("/proc/{}/task", server.child.id()));
    let deadline = Instant::now() + WITHIN;
    loop {
        let loading = std::fs::read_dir(&tasks).unwrap().any(|task| {
            std::fs::read_to_string(task.unwrap().path().join("comm"))
                .is_ok_and(|name| name.trim() == "config-reload")
        });
        if loading {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no reload thread within {WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn secrets_under_certificates_dir_are_entries_and_new_ones_are_picked_up() {
    let ca = TestCa::new();
    let certificates = ca.dir.path().join("certificates");
    let mut contoso = AtomicVolume::new(&certificates.join("contoso-tls"));
    let first = issue(&ca, &["autoconfig.contoso.test"]);
    contoso.publish(&[("tls.crt", &first.chain_pem), ("tls.key", &first.key_pem)]);
    // The default (the test CA's leaf) covers every test name: an entry
    // must win over it to be seen.
    let tls = format!(
        "{}\ncertificates_dir = \"{}\"",
        tls_pair(&ca.cert_path, &ca.key_path),
        certificates.display()
    );
    let config = write_file(
        ca.dir.path(),
        "mailsetup.toml",
        &config_text(&tls, METRICS, ""),
    );
    let (mut server, log) = serve(&config, ca.dir.path());
    let sni = "autoconfig.contoso.test";
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(first.der.clone())
    );

    let second = issue(&ca, &["autoconfig.contoso.test"]);
    contoso.publish(&[("tls.crt", &second.chain_pem), ("tls.key", &second.key_pem)]);
    wait_for_leaf(&ca, server.https, sni, &second.der, "the swapped entry").await;

    // A Secret mounted later is a new entry.
    let mut fabrikam = AtomicVolume::new(&certificates.join("fabrikam-tls"));
    let added = issue(&ca, &["autoconfig.fabrikam.test"]);
    fabrikam.publish(&[("tls.crt", &added.chain_pem), ("tls.key", &added.key_pem)]);
    wait_for_leaf(
        &ca,
        server.https,
        "autoconfig.fabrikam.test",
        &added.der,
        "a new Secret",
    )
    .await;
    let [success, partial, failure] = certificate_reloads_after(server.http, 2).await;
    assert!(success >= 2, "the swap and the new entry: {success}");
    assert_eq!((partial, failure), (0, 0));

    // A new entry whose key is another certificate's does not load; the
    // rest is served, and /metrics says partial, once however many looks
    // see the same files.
    let mut broken = AtomicVolume::new(&certificates.join("northwind-tls"));
    let lone = issue(&ca, &["autoconfig.northwind.test"]);
    broken.publish(&[("tls.crt", &lone.chain_pem), ("tls.key", &added.key_pem)]);
    wait_for_log(&log, "certificate files changed but do not all load");
    std::thread::sleep(SEVERAL_LOOKS);
    let [after, partial, failure] = certificate_reloads(server.http).await;
    assert_eq!((after, partial, failure), (success, 1, 0));
    assert!(server.terminate().success());
}

/// certbot keeps every issue in `archive/<name>/fullchainN.pem` and
/// points `live/<name>/` links at the newest; it replaces the links one at
/// a time, so a look can see the new certificate with the old key.
#[tokio::test]
async fn a_certbot_renewal_is_served_once_both_links_moved_and_not_before() {
    use std::os::unix::fs::symlink;
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    let archive = ca.dir.path().join("archive/contoso");
    std::fs::create_dir_all(live.join("contoso")).unwrap();
    std::fs::create_dir_all(&archive).unwrap();
    let names = ["autoconfig.contoso.test"];
    let first = issue(&ca, &names);
    std::fs::write(archive.join("fullchain1.pem"), &first.chain_pem).unwrap();
    std::fs::write(archive.join("privkey1.pem"), &first.key_pem).unwrap();
    symlink(
        "../../archive/contoso/fullchain1.pem",
        live.join("contoso/fullchain.pem"),
    )
    .unwrap();
    symlink(
        "../../archive/contoso/privkey1.pem",
        live.join("contoso/privkey.pem"),
    )
    .unwrap();
    let tls = format!(
        "{}\ncertificates_dir = \"{}\"",
        tls_pair(&ca.cert_path, &ca.key_path),
        live.display()
    );
    let config = write_file(ca.dir.path(), "mailsetup.toml", &config_text(&tls, "", ""));
    let (mut server, log) = serve(&config, ca.dir.path());
    let sni = "autoconfig.contoso.test";
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(first.der.clone())
    );
    let mut open = KeepAlive::open(&ca, server.https, sni).await;

    let second = issue(&ca, &names);
    std::fs::write(archive.join("fullchain2.pem"), &second.chain_pem).unwrap();
    std::fs::write(archive.join("privkey2.pem"), &second.key_pem).unwrap();
    let replace_link = |target: &str, link: &str| {
        let temporary = live.join("contoso/.link.tmp");
        symlink(target, &temporary).unwrap();
        std::fs::rename(&temporary, live.join("contoso").join(link)).unwrap();
    };
    replace_link("../../archive/contoso/fullchain2.pem", "fullchain.pem");
    // Half-way: the entry keeps its certificate (not the default's), and
    // the log says why once, not at every look.
    wait_for_log(&log, "do not go together");
    std::thread::sleep(SEVERAL_LOOKS);
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(first.der.clone())
    );
    let said = read_log(&log);
    assert_eq!(said.matches("do not go together").count(), 1, "{said}");

    replace_link("../../archive/contoso/privkey2.pem", "privkey.pem");
    wait_for_leaf(&ca, server.https, sni, &second.der, "the renewed lineage").await;
    assert_eq!(
        open.get(AUTOCONFIG).await.map(|(status, _)| status),
        Ok(StatusCode::OK)
    );
    assert!(server.terminate().success());
}

#[tokio::test]
async fn default_certificate_files_replaced_or_rewritten_are_served_once_the_pair_matches() {
    let ca = TestCa::new();
    let names = ["localhost", "autoconfig.contoso.test"];
    let first = issue(&ca, &names);
    let certificate = write_file(ca.dir.path(), "server.crt", &first.chain_pem);
    let private_key = write_file(ca.dir.path(), "server.key", &first.key_pem);
    let tls = tls_pair(&certificate, &private_key);
    let config = write_file(
        ca.dir.path(),
        "mailsetup.toml",
        &config_text(&tls, METRICS, ""),
    );
    let (mut server, log) = serve(&config, ca.dir.path());
    let sni = "localhost";
    let mut open = KeepAlive::open(&ca, server.https, sni).await;

    // The new certificate lands first (renamed into place, as most tools
    // write); its key is not there yet.
    let second = issue(&ca, &names);
    let temporary = write_file(ca.dir.path(), "server.crt.tmp", &second.chain_pem);
    std::fs::rename(&temporary, &certificate).unwrap();
    let said = wait_for_log(&log, "changed certificate files refused");
    assert!(said.contains("do not go together"), "{said}");
    std::thread::sleep(SEVERAL_LOOKS);
    assert_eq!(
        certificate_reloads(server.http).await,
        [0, 0, 1],
        "one refusal, counted once like it is logged once"
    );
    assert_eq!(
        presented_leaf(&ca, server.https, sni).await,
        Ok(first.der.clone())
    );
    assert_eq!(
        open.get(AUTOCONFIG).await.map(|(status, _)| status),
        Ok(StatusCode::OK)
    );
    let said = read_log(&log);
    assert_eq!(
        said.matches("changed certificate files refused").count(),
        1,
        "said once, not at every look:\n{said}"
    );

    // The key is rewritten in place (truncated, then written).
    std::fs::write(&private_key, &second.key_pem).unwrap();
    wait_for_leaf(&ca, server.https, sni, &second.der, "the rewritten pair").await;
    assert_eq!(certificate_reloads_after(server.http, 1).await, [1, 0, 1]);
    assert_eq!(
        open.get(AUTOCONFIG).await.map(|(status, _)| status),
        Ok(StatusCode::OK)
    );
    let said = wait_for_log(&log, "new connections get this certificate");
    assert!(
        said.contains(&sha256_colon_hex(&second.der)),
        "the log names the new certificate:\n{said}"
    );
    assert!(server.terminate().success());
}

/// The certificate that signed an Apple profile, by `openssl cms`
/// (`-purpose any`: OpenSSL otherwise refuses TLS server certificates as
/// signers, which devices accept).
fn profile_signer(signed: &[u8], ca: &TestCa) -> Vec<u8> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "profile.mobileconfig", "");
    std::fs::write(&input, signed).unwrap();
    let signer = dir.path().join("signer.pem");
    let output = Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ])
        .arg("-in")
        .arg(&input)
        .arg("-CAfile")
        .arg(ca.ca_path())
        .arg("-signer")
        .arg(&signer)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    CertificateDer::pem_file_iter(&signer)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec()
}

/// Profiles are signed with the `[tls]` certificate by default: when it is
/// renewed, the next profile is signed with the new one, not the one
/// replaced.
#[tokio::test]
async fn a_renewed_certificate_signs_the_next_apple_profile() {
    if !crate::common::tools::require_programs(&["openssl"], "apt-get install openssl") {
        return;
    }
    let ca = TestCa::new();
    let names = ["localhost", "autoconfig.contoso.test"];
    let first = issue(&ca, &names);
    let certificate = write_file(ca.dir.path(), "server.crt", &first.chain_pem);
    let private_key = write_file(ca.dir.path(), "server.key", &first.key_pem);
    let tls = tls_pair(&certificate, &private_key);
    let text = config_text(&tls, "", "").replace("[apple]\nsign = false\n", "");
    let config = write_file(ca.dir.path(), "mailsetup.toml", &text);
    let (mut process, _log) = serve(&config, ca.dir.path());
    let (http, https) = (process.http, process.https);
    let server = crate::common::TestServer::for_process(ca, config, http, https);
    let profile = "/apple/profile?email=alice%40contoso.test&platform=ios";
    let reply = server.get("localhost", profile).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(profile_signer(&reply.body, &server.ca), first.der);

    let second = issue(&server.ca, &names);
    for (path, contents) in [
        (&private_key, &second.key_pem),
        (&certificate, &second.chain_pem),
    ] {
        let temporary = write_file(server.ca.dir.path(), "renewed.tmp", contents);
        std::fs::rename(&temporary, path).unwrap();
    }
    let deadline = Instant::now() + WITHIN;
    loop {
        let reply = server.get("localhost", profile).await;
        assert_eq!(reply.status, StatusCode::OK);
        if profile_signer(&reply.body, &server.ca) == second.der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still signed by the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(process.terminate().success());
}

/// SHA-256 of `der`, upper-case colon-separated hex (as `serve` prints).
fn sha256_colon_hex(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

// ---- the configuration file ----

#[tokio::test]
async fn with_watch_a_configmap_swap_is_served_and_a_bad_one_refused_with_its_line() {
    let ca = TestCa::new();
    let tls = tls_pair(&ca.cert_path, &ca.key_path);
    let configmap = ca.dir.path().join("mailsetup-config");
    let mut volume = AtomicVolume::new(&configmap);
    volume.publish(&[("mailsetup.toml", &config_text(&tls, "watch = true", ""))]);
    let (mut server, log) = serve(&configmap.join("mailsetup.toml"), ca.dir.path());
    assert_eq!(status_of(server.http, NORTHWIND).await, 404);

    volume.publish(&[(
        "mailsetup.toml",
        &config_text(&tls, "watch = true", NORTHWIND_DOMAIN),
    )]);
    wait_for_status(server.http, NORTHWIND, 200, "the new domain").await;

    // A bad edit: an unknown profile, on a line we know.
    let bad = config_text(
        &tls,
        "watch = true",
        &NORTHWIND_DOMAIN.replace("\"microsoft365\"", "\"nope\""),
    );
    let line = bad
        .lines()
        .position(|l| l.contains("\"nope\""))
        .expect("the bad line")
        + 1;
    volume.publish(&[("mailsetup.toml", &bad)]);
    let said = wait_for_log(&log, "changed configuration refused");
    assert!(
        said.contains(&format!("mailsetup.toml:{line}:")),
        "file:line of the mistake:\n{said}"
    );
    assert!(
        said.contains("unknown profile \\\"nope\\\"") || said.contains("unknown profile \"nope\""),
        "{said}"
    );
    std::thread::sleep(SEVERAL_LOOKS);
    assert_eq!(
        status_of(server.http, NORTHWIND).await,
        200,
        "the old configuration stays"
    );
    let said = read_log(&log);
    assert_eq!(
        said.matches("changed configuration refused").count(),
        1,
        "{said}"
    );

    // Fixed: served again, without a signal.
    volume.publish(&[("mailsetup.toml", &config_text(&tls, "watch = true", ""))]);
    wait_for_status(server.http, NORTHWIND, 404, "the domain removed").await;
    assert!(server.terminate().success());
}

#[tokio::test]
async fn with_watch_a_file_edited_in_place_is_reloaded() {
    let ca = TestCa::new();
    let tls = tls_pair(&ca.cert_path, &ca.key_path);
    let config = write_file(
        ca.dir.path(),
        "mailsetup.toml",
        &config_text(&tls, "watch = true", ""),
    );
    let (mut server, log) = serve(&config, ca.dir.path());
    std::fs::write(&config, config_text(&tls, "watch = true", NORTHWIND_DOMAIN)).unwrap();
    wait_for_status(server.http, NORTHWIND, 200, "the new domain").await;
    wait_for_log(&log, "configuration file changed; reloaded");
    assert!(server.terminate().success());
}

/// A new configuration that names a certificate whose key has not
/// arrived yet is refused; once the key arrives it goes in, although the
/// configuration file itself did not change again.
#[tokio::test]
async fn with_watch_a_configuration_refused_for_its_half_written_certificate_goes_in_once_the_key_arrives()
 {
    let ca = TestCa::new();
    let tls = tls_pair;
    let config = write_file(
        ca.dir.path(),
        "mailsetup.toml",
        &config_text(&tls(&ca.cert_path, &ca.key_path), "watch = true", ""),
    );
    let (mut server, log) = serve(&config, ca.dir.path());

    let renewed = issue(&ca, &["localhost", "autoconfig.contoso.test"]);
    let certificate = write_file(ca.dir.path(), "renewed.crt", &renewed.chain_pem);
    let private_key = ca.dir.path().join("renewed.key");
    std::fs::copy(&ca.key_path, &private_key).unwrap();
    let edited = config_text(
        &tls(&certificate, &private_key),
        "watch = true",
        NORTHWIND_DOMAIN,
    );
    let temporary = write_file(ca.dir.path(), "mailsetup.toml.tmp", &edited);
    std::fs::rename(&temporary, &config).unwrap();
    let said = wait_for_log(&log, "changed configuration refused");
    assert!(said.contains("do not go together"), "{said}");
    assert_eq!(status_of(server.http, NORTHWIND).await, 404);

    let temporary = write_file(ca.dir.path(), "renewed.key.tmp", &renewed.key_pem);
    std::fs::rename(&temporary, &private_key).unwrap();
    wait_for_status(
        server.http,
        NORTHWIND,
        200,
        "the configuration, once its key came",
    )
    .await;
    assert_eq!(
        presented_leaf(&ca, server.https, "localhost").await,
        Ok(renewed.der.clone())
    );
    assert!(server.terminate().success());
}

/// A SIGHUP reload puts the file in service as it is; the watcher then
/// sees nothing new and does not load the same file a second time (with
/// a million domains, a second load and a second table in memory).
#[tokio::test]
async fn with_watch_a_file_reloaded_by_sighup_is_not_reloaded_again() {
    let ca = TestCa::new();
    let tls = tls_pair(&ca.cert_path, &ca.key_path);
    // Looks every 5 s, from the start: the edit and the SIGHUP below
    // both happen long before the first look.
    let text = |domains: &str| {
        config_text(&tls, "watch = true", domains)
            .replace("watch_interval_secs = 1", "watch_interval_secs = 5")
    };
    let config = write_file(ca.dir.path(), "mailsetup.toml", &text(""));
    let (mut server, log) = serve(&config, ca.dir.path());
    std::fs::write(&config, text(NORTHWIND_DOMAIN)).unwrap();
    server.hang_up();
    wait_for_status(server.http, NORTHWIND, 200, "after SIGHUP").await;
    // Past the first look and some.
    std::thread::sleep(Duration::from_secs(7));
    let said = read_log(&log);
    assert_eq!(said.matches("configuration reloaded").count(), 1, "{said}");
    assert_eq!(
        said.matches("configuration file changed; reloaded").count(),
        0,
        "{said}"
    );
    assert!(server.terminate().success());
}

#[tokio::test]
async fn without_watch_an_edited_file_waits_for_sighup() {
    let ca = TestCa::new();
    let tls = tls_pair(&ca.cert_path, &ca.key_path);
    let config = write_file(ca.dir.path(), "mailsetup.toml", &config_text(&tls, "", ""));
    let (mut server, _log) = serve(&config, ca.dir.path());
    std::fs::write(&config, config_text(&tls, "", NORTHWIND_DOMAIN)).unwrap();
    std::thread::sleep(SEVERAL_LOOKS);
    assert_eq!(status_of(server.http, NORTHWIND).await, 404, "not watched");

    server.hang_up();
    wait_for_status(server.http, NORTHWIND, 200, "after SIGHUP").await;
    assert!(server.terminate().success());
}

#[test]
fn watch_interval_out_of_range_is_refused_with_its_line() {
    let ca = TestCa::new();
    let text =
        config_text("", "", "").replace("watch_interval_secs = 1", "watch_interval_secs = 0");
    let config = write_file(ca.dir.path(), "mailsetup.toml", &text);
    assert_refused_at(
        &config,
        "watch_interval_secs",
        23,
        "limits.watch_interval_secs = 0 is out of range: it must be between 1 and 3600",
    );
}

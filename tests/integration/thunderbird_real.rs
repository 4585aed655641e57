//! Real Thunderbird turns our answers into OAuth2 accounts. Its own
//! account-setup modules (inside omni.ja: the config fetcher, the XML
//! reader, the Exchange autodiscover fetcher, the OAuth2 provider list) are
//! driven through Marionette by `tests/thunderbird/tb_autoconfig.py` against
//! the real server on loopback; the tests assert on what Thunderbird
//! concluded, not on our own reading of our documents.
//!
//! Needs `thunderbird` and `certutil` (Debian: thunderbird, libnss3-tools)
//! and `python3 -m venv`; marionette-driver is pip-installed into
//! `target/thunderbird-venv` on first use. A missing tool skips these tests
//! with a reason, except when `CI=true`, where it fails them.
//!
//! Thunderbird takes seconds to start, so one session runs every case (the
//! first test to need it starts it) and each test asserts on its own case.
//!
//! The native Exchange cases (`EXCHANGE_CASES`) run against servers whose
//! day is fixed on either side of 2026-10-01, each through a recording TLS
//! relay: what reached our HTTPS listener (Thunderbird's own User-Agent)
//! and what we answered are asserted on alongside what Thunderbird made of
//! it, with `mail.graph.enabled` off (153's default) and on. Wizard cases
//! also drive the Account Hub itself (type the address, press Continue)
//! and read the protocol choices its result step shows.

use std::collections::HashMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{self, TestCa, TestServer, tools};

/// The marionette-driver release the driver is written against.
const MARIONETTE_DRIVER: &str = "marionette-driver==3.7.1";

/// Bound for the whole Thunderbird session; the driver kills Thunderbird
/// after it and reports failure with Thunderbird's log. A normal run takes
/// a few seconds.
const THUNDERBIRD_TIMEOUT_SECS: u64 = 60;
/// Bound for one discovery inside the session (Thunderbird aborts it).
const CASE_TIMEOUT_SECS: u64 = 20;
/// Backstop when the driver itself hangs: this test kills the driver and
/// Thunderbird's process group after this long.
const DRIVER_TIMEOUT_SECS: u64 = THUNDERBIRD_TIMEOUT_SECS + 30;

const M365_ADDRESS: &str = "alice@contoso.test";
const PERSONAL_ADDRESS: &str = "bob@hotmail.fr";
/// A Microsoft 365 domain and a domain on Outlook.com's profile whose
/// profiles answer autodiscover with the `settings` policy (IMAP/POP/SMTP);
/// both built-in profiles redirect.
const SETTINGS_ADDRESS: &str = "carol@northwind.test";
const PERSONAL_SETTINGS_ADDRESS: &str = "dave@adatum.test";

/// `(name, driver mode, address)`, run in this order in one session. The
/// HTTPS-unavailable cases come first so that no pooled HTTPS connection
/// from an earlier case exists when port 443 is pointed at a closed port.
const CASES: &[(&str, &str, &str)] = &[
    ("m365-http-only", "isp-http-only", M365_ADDRESS),
    ("personal-http-only", "isp-http-only", PERSONAL_ADDRESS),
    ("m365-https", "isp-https", M365_ADDRESS),
    ("personal-https", "isp-https", PERSONAL_ADDRESS),
    ("m365-wizard", "wizard", M365_ADDRESS),
    ("m365-exchange-redirect", "exchange", M365_ADDRESS),
    ("personal-exchange-redirect", "exchange", PERSONAL_ADDRESS),
    ("settings-exchange", "exchange", SETTINGS_ADDRESS),
    (
        "personal-settings-exchange",
        "exchange",
        PERSONAL_SETTINGS_ADDRESS,
    ),
    ("settings-wizard", "wizard", SETTINGS_ADDRESS),
];

/// The day a native-Exchange case's server answers as: the client table
/// offers Thunderbird 153+ EWS up to 2026-10-01 (tenants block EWS from
/// then on) and Graph from 153 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Day {
    /// 2026-09-30: EWS and Graph.
    EwsOffered,
    /// 2026-10-01: Graph only.
    EwsBlocked,
}

impl Day {
    const ALL: [Day; 2] = [Day::EwsOffered, Day::EwsBlocked];

    fn date(self) -> &'static str {
        match self {
            Day::EwsOffered => "2026-09-30",
            Day::EwsBlocked => "2026-10-01",
        }
    }
}

/// A Microsoft 365 discovery by Thunderbird 153 with `mail.graph.enabled`
/// set in its profile, against a server fixed on `day`.
struct ExchangeCase {
    name: &'static str,
    mode: &'static str,
    graph_enabled: bool,
    day: Day,
}

/// Run after `CASES`, each with its own relay. `isp-https` is the
/// config-v1.1 fetch and reader alone; `wizard` is the Account Hub's whole
/// discovery (and its EWS clean-up), then the hub's own UI.
const EXCHANGE_CASES: &[ExchangeCase] = &[
    ExchangeCase {
        name: "graph-off-isp",
        mode: "isp-https",
        graph_enabled: false,
        day: Day::EwsBlocked,
    },
    ExchangeCase {
        name: "graph-off-wizard",
        mode: "wizard",
        graph_enabled: false,
        day: Day::EwsBlocked,
    },
    ExchangeCase {
        name: "graph-on-isp",
        mode: "isp-https",
        graph_enabled: true,
        day: Day::EwsBlocked,
    },
    ExchangeCase {
        name: "graph-on-wizard",
        mode: "wizard",
        graph_enabled: true,
        day: Day::EwsBlocked,
    },
    ExchangeCase {
        name: "ews-offered-graph-off-isp",
        mode: "isp-https",
        graph_enabled: false,
        day: Day::EwsOffered,
    },
    ExchangeCase {
        name: "ews-offered-graph-on-wizard",
        mode: "wizard",
        graph_enabled: true,
        day: Day::EwsOffered,
    },
];

/// Microsoft's OAuth2 issuer, as Thunderbird's provider list names it.
const MICROSOFT_ISSUER: &str = "login.microsoftonline.com";
/// `Ci.nsMsgAuthMethod.OAuth2` and `.passwordCleartext`.
const AUTH_OAUTH2: i64 = 10;
const AUTH_PASSWORD_CLEARTEXT: i64 = 3;
/// `Ci.nsMsgSocketType.SSL` and `.alwaysSTARTTLS`.
const SOCKET_SSL: i64 = 3;
const SOCKET_STARTTLS: i64 = 2;

/// What one Thunderbird session concluded.
struct Session {
    /// One JSON object per case, as the driver printed it.
    cases: Vec<Value>,
    /// The server's loopback listeners the answers must have come from.
    https_port: u16,
    http_port: u16,
    /// The driver's stderr (Thunderbird's log when a case found nothing),
    /// for the message of a failing assertion.
    driver_stderr: String,
    /// For each of `EXCHANGE_CASES`: the HTTPS requests that reached our
    /// server through the case's relay, with our answers.
    relayed: HashMap<&'static str, Vec<Served>>,
}

enum Outcome {
    Ran(Session),
    /// A tool is missing: the reason, for `skip_or_fail` in each test.
    Skipped(String),
}

static SESSION: OnceLock<Result<Outcome, String>> = OnceLock::new();

/// The shared session, started by the first caller; `None` means skipped
/// (the reason is printed; under `CI=true` a missing tool fails every
/// test). A failed session fails every test with its reason and
/// Thunderbird's log.
fn session() -> Option<&'static Session> {
    let outcome = SESSION.get_or_init(|| {
        std::panic::catch_unwind(run_session).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("the Thunderbird session panicked: {message}"))
        })
    });
    match outcome {
        Ok(Outcome::Ran(session)) => Some(session),
        Ok(Outcome::Skipped(reason)) => {
            tools::skip_or_fail(reason);
            None
        }
        Err(error) => panic!("{error}"),
    }
}

/// Debian's real binary rather than the /usr/bin wrapper script (which
/// adds its own start-up logic); `THUNDERBIRD` overrides both.
fn find_thunderbird() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("THUNDERBIRD") {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let debian = Path::new("/usr/lib/thunderbird/thunderbird");
    if debian.is_file() {
        return Some(debian.to_owned());
    }
    tools::find_program("thunderbird")
}

/// `target/thunderbird-venv` with marionette-driver, made on first use.
fn marionette_venv() -> Result<PathBuf, String> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory");
    let venv = target.join("thunderbird-venv");
    let python = venv.join("bin/python");
    let wanted = MARIONETTE_DRIVER.split_once("==").unwrap().1;
    let installed = || {
        Command::new(&python)
            .args(["-c", "import sys, importlib.metadata as m, marionette_driver; print(m.version('marionette-driver'))"])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == wanted)
    };
    if installed() {
        return Ok(python);
    }
    eprintln!("creating {} with {MARIONETTE_DRIVER}", venv.display());
    let run = |command: &mut Command, what: &str| -> Result<(), String> {
        let out = command
            .output()
            .map_err(|e| format!("{what} could not run: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "`python3 -m venv` (Debian: apt-get install python3-venv)",
    )?;
    run(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MARIONETTE_DRIVER,
        ]),
        &format!("pip install {MARIONETTE_DRIVER}"),
    )?;
    if installed() {
        Ok(python)
    } else {
        Err(format!(
            "{MARIONETTE_DRIVER} is not importable after pip install"
        ))
    }
}

/// A missing tool: the session is skipped (or failed, under `CI=true`).
fn skipped(reason: String) -> Result<Outcome, String> {
    Ok(Outcome::Skipped(reason))
}

fn run_session() -> Result<Outcome, String> {
    let Some(thunderbird) = find_thunderbird() else {
        return skipped("thunderbird not found (Debian: apt-get install thunderbird)".into());
    };
    if tools::find_program("certutil").is_none() {
        return skipped("certutil not found (Debian: apt-get install libnss3-tools)".into());
    }
    if tools::find_program("python3").is_none() {
        return skipped("python3 not found (Debian: apt-get install python3-venv)".into());
    }
    // Thunderbird asks for its document gzipped; GNU gzip decodes it.
    if tools::find_program("gzip").is_none() {
        return skipped("gzip not found (Debian: apt-get install gzip)".into());
    }
    let python = match marionette_venv() {
        Ok(python) => python,
        Err(reason) => return skipped(reason),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        // northwind.test and adatum.test: the built-in profiles' hosts, but
        // autodiscover answers with the settings instead of redirecting.
        let profiles = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (id, built_in) in [
            (
                "microsoft365-settings",
                include_str!("../../profiles/microsoft365.toml"),
            ),
            (
                "outlook-settings",
                include_str!("../../profiles/outlook.toml"),
            ),
        ] {
            let profile = built_in.replace("policy = \"redirect\"", "policy = \"settings\"");
            assert!(profile.contains("policy = \"settings\""));
            // The copy must not claim Outlook.com's consumer domains too
            // (hotmail.fr stays on the built-in, redirecting profile).
            let start = profile.find("\ndomains = [").expect("a domains list") + 1;
            let end = start + profile[start..].find(']').expect("end of the domains list") + 1;
            let profile = format!("{}domains = []{}", &profile[..start], &profile[end..]);
            common::write_file(profiles.path(), &format!("{id}.toml"), &profile);
        }
        let server = TestServer::start_with_config(
            &format!("profiles_dir = \"{}\"", profiles.path().display()),
            "[[domain]]\nname = \"northwind.test\"\nprofile = \"microsoft365-settings\"\n\n\
             [[domain]]\nname = \"adatum.test\"\nprofile = \"outlook-settings\"\n",
        )
        .await;
        let mut day_servers = HashMap::new();
        for day in Day::ALL {
            day_servers.insert(day, start_on_day(&server, day).await?);
        }
        let mut driver_cases: Vec<DriverCase> = CASES
            .iter()
            .map(|&(name, mode, address)| DriverCase {
                name,
                mode,
                address,
                ports: None,
                graph_enabled: None,
            })
            .collect();
        let mut relays = Vec::new();
        for case in EXCHANGE_CASES {
            let day_server = &day_servers[&case.day];
            let relay = Relay::start(&server.ca, day_server.https_addrs[0]).await?;
            driver_cases.push(DriverCase {
                name: case.name,
                mode: case.mode,
                address: M365_ADDRESS,
                ports: Some((relay.port, day_server.http_addrs[0].port())),
                graph_enabled: Some(case.graph_enabled),
            });
            relays.push((case.name, relay));
        }
        let ca = server.ca.ca_path();
        let (https_port, http_port) = (server.https.port(), server.http.port());
        let driver = tokio::task::spawn_blocking(move || {
            run_driver(
                &python,
                &thunderbird,
                &ca,
                https_port,
                http_port,
                &driver_cases,
            )
        })
        .await
        .map_err(|e| format!("driver thread: {e}"));
        server.shutdown().await;
        for (_, running) in day_servers {
            running.shutdown().await;
        }
        let relayed = relays
            .into_iter()
            .map(|(name, relay)| (name, relay.finish()))
            .collect();
        let (cases, driver_stderr) = driver??;
        Ok(Outcome::Ran(Session {
            cases,
            https_port,
            http_port,
            driver_stderr,
            relayed,
        }))
    })
}

/// A server with the test domains (contoso.test is Microsoft 365) whose
/// answers are dated `day`, with the same CA as `server` (the one
/// Thunderbird trusts).
async fn start_on_day(server: &TestServer, day: Day) -> Result<mailsetup::server::Running, String> {
    // write_config uses the CA's directory; keep `server`'s file as it was.
    let original = std::fs::read(&server.config_path).map_err(|e| e.to_string())?;
    let path = common::write_config(&server.ca, "");
    let config = mailsetup::config::Config::load(Some(&path)).map_err(|e| e.to_string());
    std::fs::write(&server.config_path, original).map_err(|e| e.to_string())?;
    let date = day.date().parse().map_err(|e| format!("{e}"))?;
    mailsetup::server::start_with_clock(config?, mailsetup::date::Clock::Fixed(date))
        .await
        .map_err(|e| format!("server on {}: {e}", day.date()))
}

/// One request that reached our HTTPS listener through a relay, and our
/// answer, as the bytes on the wire read (HTTP/1.1).
#[derive(Debug)]
struct Served {
    method: String,
    target: String,
    host: Option<String>,
    user_agent: Option<String>,
    status: u16,
    vary: Option<String>,
    /// `Content-Encoding`: Thunderbird asks for gzip, and the server
    /// sends the document gzipped.
    content_encoding: Option<String>,
    /// The body as Thunderbird read it (decoded by GNU gzip when it came
    /// gzipped).
    body: String,
}

/// The bytes of one relayed TLS connection, each way.
#[derive(Default)]
struct Wire {
    requests: Vec<u8>,
    responses: Vec<u8>,
}

/// A TLS endpoint on loopback that Thunderbird's port 443 is pointed at:
/// it terminates TLS with the test certificate (HTTP/1.1 only, so the
/// traffic reads as text), opens a TLS connection to our server with the
/// same SNI, and records both directions.
struct Relay {
    port: u16,
    wires: Arc<Mutex<Vec<Arc<Mutex<Wire>>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(ca: &TestCa, upstream: SocketAddr) -> Result<Relay, String> {
        let certs = CertificateDer::pem_file_iter(&ca.cert_path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("test certificate: {e}"))?;
        let key =
            PrivateKeyDer::from_pem_file(&ca.key_path).map_err(|e| format!("test key: {e}"))?;
        let mut server_config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("relay TLS: {e}"))?;
        server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        let mut client_config = (*ca.client_config()).clone();
        client_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("relay: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let wires: Arc<Mutex<Vec<Arc<Mutex<Wire>>>>> = Arc::default();
        let recorded = wires.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, connector, recorded) =
                    (acceptor.clone(), connector.clone(), recorded.clone());
                tokio::spawn(async move {
                    let Ok(inbound) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let sni = inbound
                        .get_ref()
                        .1
                        .server_name()
                        .unwrap_or("localhost")
                        .to_owned();
                    let Ok(name) = ServerName::try_from(sni) else {
                        return;
                    };
                    let Ok(tcp) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let Ok(outbound) = connector.connect(name, tcp).await else {
                        return;
                    };
                    let wire = Arc::new(Mutex::new(Wire::default()));
                    recorded.lock().unwrap().push(wire.clone());
                    let (inbound_read, inbound_write) = tokio::io::split(inbound);
                    let (outbound_read, outbound_write) = tokio::io::split(outbound);
                    tokio::join!(
                        pump(inbound_read, outbound_write, wire.clone(), true),
                        pump(outbound_read, inbound_write, wire, false),
                    );
                });
            }
        });
        Ok(Relay { port, wires, task })
    }

    /// Stops accepting and reads what was relayed.
    fn finish(self) -> Vec<Served> {
        self.task.abort();
        let wires = self.wires.lock().unwrap();
        wires
            .iter()
            .flat_map(|wire| {
                let wire = wire.lock().unwrap();
                let requests = http_messages(&wire.requests);
                let responses = http_messages(&wire.responses);
                requests
                    .into_iter()
                    .zip(responses)
                    .map(|(request, response)| served(request, response))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Copies `from` to `to`, recording the bytes on the wire's side.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    wire: Arc<Mutex<Wire>>,
    requests: bool,
) {
    let mut buffer = vec![0; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buffer).await {
        {
            let mut wire = wire.lock().unwrap();
            let side = if requests {
                &mut wire.requests
            } else {
                &mut wire.responses
            };
            side.extend_from_slice(&buffer[..n]);
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// HTTP/1.1 messages one after the other: the head's lines and the body
/// (by Content-Length; our answers and Thunderbird's requests carry one or
/// no body).
fn http_messages(bytes: &[u8]) -> Vec<(Vec<String>, Vec<u8>)> {
    let mut messages = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head: Vec<String> = String::from_utf8_lossy(&rest[..end])
            .split("\r\n")
            .map(str::to_owned)
            .collect();
        let length = header_of(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0usize);
        let body_end = (end + 4 + length).min(rest.len());
        messages.push((head, rest[end + 4..body_end].to_vec()));
        rest = &rest[body_end..];
    }
    messages
}

fn header_of(head: &[String], name: &str) -> Option<String> {
    head.iter().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

fn served(request: (Vec<String>, Vec<u8>), response: (Vec<String>, Vec<u8>)) -> Served {
    let (head, _) = request;
    let mut line = head[0].split(' ');
    let method = line.next().unwrap_or_default().to_owned();
    let target = line.next().unwrap_or_default().to_owned();
    let (response_head, body) = response;
    let content_encoding = header_of(&response_head, "content-encoding");
    let body = match content_encoding.as_deref() {
        Some("gzip") => tools::gunzip(&body).expect("run_session checked for gzip"),
        _ => body,
    };
    Served {
        method,
        target,
        host: header_of(&head, "host"),
        user_agent: header_of(&head, "user-agent"),
        status: response_head[0]
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        vary: header_of(&response_head, "vary"),
        content_encoding,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// One `--case` for the driver, with its ports (443, 80) and
/// `mail.graph.enabled` when they are not the session's.
struct DriverCase {
    name: &'static str,
    mode: &'static str,
    address: &'static str,
    ports: Option<(u16, u16)>,
    graph_enabled: Option<bool>,
}

/// Runs the driver with every case; returns the per-case JSON and the
/// driver's stderr. Its stdout
/// and stderr go to files so neither pipe can fill up and stall it.
fn run_driver(
    python: &Path,
    thunderbird: &Path,
    ca: &Path,
    https_port: u16,
    http_port: u16,
    cases: &[DriverCase],
) -> Result<(Vec<Value>, String), String> {
    let workdir = tempfile::Builder::new()
        .prefix("thunderbird-real-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let stdout_path = workdir.path().join("driver.stdout");
    let stderr_path = workdir.path().join("driver.stderr");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/thunderbird/tb_autoconfig.py");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .arg("--thunderbird")
        .arg(thunderbird)
        .arg("--ca")
        .arg(ca)
        .args(["--https-port", &https_port.to_string()])
        .args(["--http-port", &http_port.to_string()])
        .args(["--timeout", &THUNDERBIRD_TIMEOUT_SECS.to_string()])
        .args(["--case-timeout", &CASE_TIMEOUT_SECS.to_string()])
        .arg("--workdir")
        .arg(workdir.path());
    for case in cases {
        command.args(["--case", case.name, case.mode, case.address]);
        if let Some((https, http)) = case.ports {
            command.args([
                "--case-ports",
                case.name,
                &https.to_string(),
                &http.to_string(),
            ]);
        }
        if let Some(enabled) = case.graph_enabled {
            command.args([
                "--case-pref",
                case.name,
                "mail.graph.enabled",
                if enabled { "true" } else { "false" },
            ]);
        }
    }
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).map_err(|e| e.to_string())?)
        .stderr(File::create(&stderr_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", script.display()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < Duration::from_secs(DRIVER_TIMEOUT_SECS) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = kill_thunderbird_and_read_log(workdir.path());
                return Err(format!(
                    "the driver did not finish within {DRIVER_TIMEOUT_SECS} s; killed it and \
                     Thunderbird\n---- thunderbird log ----\n{log}"
                ));
            }
        }
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    // 0: every case found a config from its channel; 1: some did not (the
    // assertions say which and why); anything else: the harness failed.
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(format!(
            "the Thunderbird driver failed ({status}):\n{stdout}\n{stderr}"
        ));
    }
    let report: Value = serde_json::from_str(&stdout)
        .map_err(|e| format!("driver output is not JSON ({e}):\n{stdout}\n{stderr}"))?;
    eprintln!(
        "Thunderbird {} ran {} cases in {:.1} s wall (driver timings {}, memory {})",
        report["cases"][0]["thunderbird"],
        cases.len(),
        started.elapsed().as_secs_f64(),
        report["timings"],
        report["memory"],
    );
    let cases = report["cases"].as_array().cloned().unwrap_or_default();
    Ok((cases, stderr))
}

/// After the driver was killed: kill the Thunderbird it started (its own
/// process group) and return the end of its log.
fn kill_thunderbird_and_read_log(workdir: &Path) -> String {
    let mut log = String::new();
    for entry in std::fs::read_dir(workdir).into_iter().flatten().flatten() {
        let run = entry.path();
        if let Ok(pid) = std::fs::read_to_string(run.join("thunderbird.pid")) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
                .status();
        }
        if let Ok(text) = std::fs::read_to_string(run.join("thunderbird.log")) {
            let lines: Vec<&str> = text.lines().collect();
            log = lines[lines.len().saturating_sub(300)..].join("\n");
        }
    }
    log
}

/// The case's JSON, printed in short (what Thunderbird concluded).
fn concluded<'a>(session: &'a Session, name: &str) -> &'a Value {
    let case = session
        .cases
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("the driver reported no case {name}"));
    let server = |s: &Value| {
        json!({
            "type": s["type"], "hostname": s["hostname"], "port": s["port"],
            "socketType": s["socketType"], "auth": s["auth"], "username": s["username"],
        })
    };
    let summary = json!({
        "case": name,
        "email": case["email"],
        "ok": case["ok"],
        "source": case["source"],
        "subSource": case["subSource"],
        "sourceURL": case["sourceURL"],
        "incoming": server(&case["incoming"]),
        "outgoing": server(&case["outgoing"]),
        "oauth2Issuer": {
            "incoming": case["oauth2"]["incoming"]["issuer"],
            "outgoing": case["oauth2"]["outgoing"]["issuer"],
        },
        "incomingAlternatives": case["incomingAlternatives"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| json!({
                "type": s["type"], "hostname": s["hostname"], "auth": s["auth"],
                "exchangeURL": s["exchangeURL"], "oauth2Issuer": s["oauth2"]["issuer"],
            }))
            .collect::<Vec<_>>(),
        "mail.graph.enabled": case["graphEnabled"]["value"],
        "accountHub": case["hub"],
        "error": case["error"]["message"],
        "fetchMs": case["fetchMs"],
    });
    println!("Thunderbird concluded: {summary}");
    case
}

/// Thunderbird found a config with these IMAP and SMTP servers, `auth`
/// (an `nsMsgAuthMethod` name and value) on both, the address as username,
/// and Microsoft's OAuth2 issuer paired with both hosts.
fn assert_account(
    session: &Session,
    case: &Value,
    address: &str,
    imap: (&str, i64, i64),
    smtp: (&str, i64, i64),
    auth: (&str, i64),
) {
    let name = &case["name"];
    assert_eq!(
        case["ok"], true,
        "{name}: Thunderbird found no config: {:#}\n{}",
        case["error"], session.driver_stderr
    );
    for (server, kind, (hostname, port, socket_type)) in [
        (&case["incoming"], "imap", imap),
        (&case["outgoing"], "smtp", smtp),
    ] {
        assert_eq!(server["type"], kind, "{name}: {server}");
        assert_eq!(server["hostname"], hostname, "{name}: {server}");
        assert_eq!(server["port"], port, "{name}: {server}");
        assert_eq!(server["socketTypeValue"], socket_type, "{name}: {server}");
        assert_eq!(server["auth"], auth.0, "{name}: {server}");
        assert_eq!(server["authValue"], auth.1, "{name}: {server}");
        assert_eq!(server["username"], address, "{name}: {server}");
    }
    for side in ["incoming", "outgoing"] {
        assert_eq!(
            case["oauth2"][side]["issuer"], MICROSOFT_ISSUER,
            "{name}: OAuth2 provider Thunderbird pairs with the {side} host"
        );
    }
}

/// An OAuth2 account: what the config-v1.1 answer must give.
fn assert_oauth2_account(
    session: &Session,
    case: &Value,
    address: &str,
    imap: (&str, i64, i64),
    smtp: (&str, i64, i64),
) {
    assert_account(session, case, address, imap, smtp, ("OAuth2", AUTH_OAUTH2));
}

/// The winning document came from our server on the given listener (the
/// request log of Thunderbird's own network stack), over `scheme`.
fn assert_served_by(case: &Value, scheme: &str, port: u16) {
    let name = &case["name"];
    let url = case["sourceURL"].as_str().unwrap_or_default();
    assert!(
        url.starts_with(&format!("{scheme}://")),
        "{name}: won by {url:?}"
    );
    let request = case["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["url"] == url)
        .unwrap_or_else(|| panic!("{name}: {url} is not in Thunderbird's request log"));
    assert_eq!(request["status"], 200, "{name}: {request}");
    assert_eq!(
        request["remote"],
        format!("127.0.0.1:{port}"),
        "{name}: {request}"
    );
}

/// No https:// request got any answer: HTTPS really was unavailable.
fn assert_no_https_answer(case: &Value) {
    for request in case["requests"].as_array().into_iter().flatten() {
        if request["url"]
            .as_str()
            .unwrap_or_default()
            .starts_with("https:")
        {
            assert!(request["status"].is_null(), "{}: {request}", case["name"]);
        }
    }
}

const M365_IMAP: (&str, i64, i64) = ("outlook.office365.com", 993, SOCKET_SSL);
const M365_SMTP: (&str, i64, i64) = ("smtp.office365.com", 587, SOCKET_STARTTLS);
const OUTLOOK_IMAP: (&str, i64, i64) = ("imap-mail.outlook.com", 993, SOCKET_SSL);
const OUTLOOK_SMTP: (&str, i64, i64) = ("smtp-mail.outlook.com", 587, SOCKET_STARTTLS);

#[test]
fn microsoft365_domain_over_https_becomes_an_oauth2_account() {
    let Some(session) = session() else { return };
    let case = concluded(session, "m365-https");
    assert_oauth2_account(session, case, M365_ADDRESS, M365_IMAP, M365_SMTP);
    assert_eq!(case["subSource"], "xml-from-isp-https");
    assert_eq!(
        case["sourceURL"],
        "https://autoconfig.contoso.test/mail/config-v1.1.xml?emailaddress=alice%40contoso.test"
    );
    assert_served_by(case, "https", session.https_port);
}

#[test]
fn personal_hotmail_fr_over_https_becomes_an_oauth2_account() {
    let Some(session) = session() else { return };
    let case = concluded(session, "personal-https");
    assert_oauth2_account(session, case, PERSONAL_ADDRESS, OUTLOOK_IMAP, OUTLOOK_SMTP);
    assert_eq!(case["subSource"], "xml-from-isp-https");
    assert_eq!(
        case["sourceURL"],
        "https://autoconfig.hotmail.fr/mail/config-v1.1.xml?emailaddress=bob%40hotmail.fr"
    );
    assert_served_by(case, "https", session.https_port);
}

#[test]
fn microsoft365_domain_over_http_when_https_is_unavailable_becomes_an_oauth2_account() {
    let Some(session) = session() else { return };
    let case = concluded(session, "m365-http-only");
    assert_oauth2_account(session, case, M365_ADDRESS, M365_IMAP, M365_SMTP);
    assert_eq!(case["subSource"], "xml-from-isp-http");
    assert_no_https_answer(case);
    assert_served_by(case, "http", session.http_port);
}

#[test]
fn personal_hotmail_fr_over_http_when_https_is_unavailable_becomes_an_oauth2_account() {
    let Some(session) = session() else { return };
    let case = concluded(session, "personal-http-only");
    assert_oauth2_account(session, case, PERSONAL_ADDRESS, OUTLOOK_IMAP, OUTLOOK_SMTP);
    assert_eq!(case["subSource"], "xml-from-isp-http");
    assert_no_https_answer(case);
    assert_served_by(case, "http", session.http_port);
}

/// The Account Hub runs every discovery at once (ISP, ISPDB, MX, Exchange
/// autodiscover) and ranks them; our config-v1.1 answer must be its pick.
#[test]
fn account_wizard_picks_our_oauth2_config_for_a_microsoft365_domain() {
    let Some(session) = session() else { return };
    let case = concluded(session, "m365-wizard");
    assert_oauth2_account(session, case, M365_ADDRESS, M365_IMAP, M365_SMTP);
    assert_hub_recommends_imap_oauth2(case);
    assert_eq!(case["subSource"], "xml-from-isp-https");
    assert_served_by(case, "https", session.https_port);
}

/// Both built-in profiles answer Outlook's POX request with a redirectUrl to
/// Microsoft. Thunderbird reads the answer (from our server, over HTTPS)
/// but does not follow a RedirectUrl: its Exchange step finds no config and
/// the wizard relies on the config-v1.1 answer (tests above).
fn assert_exchange_redirect_not_followed(session: &Session, name: &str, address: &str) {
    let case = concluded(session, name);
    let domain = address.split_once('@').unwrap().1;
    assert_eq!(case["ok"], false, "{name}: {case:#}");
    assert_eq!(
        case["error"]["message"], "No valid configs found in AutoDiscover XML",
        "{name}"
    );
    let requests = case["requests"].as_array().expect("request log");
    let pox = format!("https://autodiscover.{domain}/autodiscover/autodiscover.xml");
    let answered = requests
        .iter()
        .find(|r| r["url"] == pox.as_str())
        .unwrap_or_else(|| panic!("{name}: no POST to {pox}: {requests:#?}"));
    assert_eq!(answered["method"], "POST", "{name}: {answered}");
    assert_eq!(answered["status"], 200, "{name}: {answered}");
    assert_eq!(
        answered["remote"],
        format!("127.0.0.1:{}", session.https_port),
        "{name}: {answered}"
    );
    assert!(
        answered["contentType"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/xml")),
        "{name}: {answered}"
    );
    // Every host resolves to loopback here, so a followed redirect would
    // show up in the log as a request to Microsoft's autodiscover host.
    assert!(
        !requests.iter().any(|r| r["url"]
            .as_str()
            .unwrap_or_default()
            .contains("outlook.com")),
        "{name}: Thunderbird followed the redirect: {requests:#?}"
    );
}

#[test]
fn exchange_autodiscover_redirect_for_microsoft365_is_read_but_not_followed_by_thunderbird() {
    let Some(session) = session() else { return };
    assert_exchange_redirect_not_followed(session, "m365-exchange-redirect", M365_ADDRESS);
}

#[test]
fn exchange_autodiscover_redirect_for_hotmail_fr_is_read_but_not_followed_by_thunderbird() {
    let Some(session) = session() else { return };
    assert_exchange_redirect_not_followed(session, "personal-exchange-redirect", PERSONAL_ADDRESS);
}

/// With the `settings` policy, Thunderbird's Exchange step turns our POX
/// answer into IMAP and SMTP on Microsoft's hosts. Its POX reader always
/// picks a password there (it has no OAuth2 notion for POX protocols), even
/// though its provider list pairs those hosts with Microsoft's issuer: this
/// is why the config-v1.1 answer is what gives Thunderbird OAuth2.
#[test]
fn exchange_autodiscover_settings_give_thunderbird_microsoft_imap_and_smtp_with_a_password() {
    let Some(session) = session() else { return };
    let case = concluded(session, "settings-exchange");
    assert_account(
        session,
        case,
        SETTINGS_ADDRESS,
        M365_IMAP,
        M365_SMTP,
        ("passwordCleartext", AUTH_PASSWORD_CLEARTEXT),
    );
    assert_eq!(case["source"], "exchange");
    assert_eq!(case["subSource"], "exchange-from-url1");
    assert_eq!(
        case["sourceURL"],
        "https://autodiscover.northwind.test/autodiscover/autodiscover.xml"
    );
}

#[test]
fn exchange_autodiscover_settings_give_thunderbird_outlook_com_imap_and_smtp_with_a_password() {
    let Some(session) = session() else { return };
    let case = concluded(session, "personal-settings-exchange");
    assert_account(
        session,
        case,
        PERSONAL_SETTINGS_ADDRESS,
        OUTLOOK_IMAP,
        OUTLOOK_SMTP,
        ("passwordCleartext", AUTH_PASSWORD_CLEARTEXT),
    );
    assert_eq!(case["source"], "exchange");
    assert_eq!(case["subSource"], "exchange-from-url1");
}

/// Even where autodiscover would give a password account, the wizard ranks
/// our config-v1.1 answer first and ends with OAuth2.
#[test]
fn account_wizard_picks_our_oauth2_config_over_autodiscover_settings() {
    let Some(session) = session() else { return };
    let case = concluded(session, "settings-wizard");
    assert_oauth2_account(session, case, SETTINGS_ADDRESS, M365_IMAP, M365_SMTP);
    assert_eq!(case["subSource"], "xml-from-isp-https");
    assert_served_by(case, "https", session.https_port);
    let autodiscover_answered = case["requests"].as_array().into_iter().flatten().any(|r| {
        r["url"] == "https://autodiscover.northwind.test/autodiscover/autodiscover.xml"
            && r["status"] == 200
    });
    assert!(autodiscover_answered, "{case:#}");
}

/// The config-v1.1 request Thunderbird made for a native-Exchange case, as
/// it reached our HTTPS listener through the case's relay, and our answer:
/// Thunderbird's own User-Agent (`Thunderbird/153`, the one its HTTP stack
/// reports) came through, and the answer says it depends on it.
fn served_autoconfig<'a>(session: &'a Session, case: &Value) -> &'a Served {
    let name = case["name"].as_str().unwrap();
    let relayed = &session.relayed[name];
    let served = relayed
        .iter()
        .find(|s| {
            s.method == "GET"
                && s.target.starts_with("/mail/config-v1.1.xml?")
                && s.host.as_deref() == Some("autoconfig.contoso.test")
        })
        .unwrap_or_else(|| panic!("{name}: no config-v1.1 request reached us: {relayed:#?}"));
    let user_agent = served.user_agent.as_deref().unwrap_or_default();
    assert!(
        user_agent.contains("Thunderbird/153."),
        "{name}: User-Agent {user_agent:?}"
    );
    assert_eq!(
        case["userAgent"], user_agent,
        "{name}: the User-Agent Thunderbird's HTTP stack reports"
    );
    assert_eq!(served.status, 200, "{name}: {served:?}");
    // (Accept-Encoding: the document is gzipped for clients that ask.)
    assert_eq!(
        served.vary.as_deref(),
        Some("User-Agent, Accept-Encoding"),
        "{name}"
    );
    // Thunderbird took the document gzipped and read it.
    assert_eq!(served.content_encoding.as_deref(), Some("gzip"), "{name}");
    // The answer came from our server and was Thunderbird's pick.
    assert_eq!(case["subSource"], "xml-from-isp-https", "{name}");
    assert!(
        case["sourceURL"]
            .as_str()
            .is_some_and(|url| url.ends_with(&served.target)),
        "{name}: won by {} but we served {}",
        case["sourceURL"],
        served.target
    );
    served
}

/// The incoming types of our answer, in document order.
fn served_types(served: &Served) -> Vec<String> {
    common::Element::parse(served.body.as_bytes())
        .one("emailProvider")
        .all("incomingServer")
        .map(|server| server.attr("type").unwrap_or_default().to_owned())
        .collect()
}

/// What the Account Hub showed when the driver typed the address into it
/// and pressed Continue (wizard cases): the protocol choices on its result
/// step in order, the recommended one (which is also the one preselected)
/// first, and the incoming details it displayed for it.
fn hub_choices(case: &Value) -> Vec<String> {
    let name = &case["name"];
    let hub = &case["hub"];
    assert!(hub["error"].is_null(), "{name}: the Account Hub: {hub:#}");
    let choices = hub["choices"].as_array().expect("the hub's choices");
    let recommended: Vec<_> = choices
        .iter()
        .filter(|c| c["recommended"] == true)
        .collect();
    assert_eq!(recommended.len(), 1, "{name}: {hub:#}");
    assert_eq!(
        recommended[0]["checked"], true,
        "{name}: preselected: {hub:#}"
    );
    let mut ids: Vec<String> = vec![recommended[0]["id"].as_str().unwrap().to_owned()];
    ids.extend(
        choices
            .iter()
            .filter(|c| c["recommended"] != true)
            .map(|c| c["id"].as_str().unwrap().to_owned()),
    );
    ids
}

/// The hub recommends IMAP with OAuth2 on Microsoft's host, for the address.
fn assert_hub_recommends_imap_oauth2(case: &Value) {
    let name = &case["name"];
    assert_eq!(hub_choices(case)[0], "imap", "{name}");
    let shown = &case["hub"]["incoming"];
    assert_eq!(shown["type"], "imap", "{name}: {shown}");
    assert_eq!(shown["hostname"], M365_IMAP.0, "{name}: {shown}");
    assert_eq!(shown["port"], "993", "{name}: {shown}");
    assert_eq!(shown["username"], M365_ADDRESS, "{name}: {shown}");
    assert_eq!(
        shown["authentication"], "account-hub-result-authentication-oauth2",
        "{name}: {shown}"
    );
}

fn alternative_types(case: &Value) -> Vec<&str> {
    case["incomingAlternatives"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["type"].as_str().unwrap_or_default())
        .collect()
}

fn alternative<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["incomingAlternatives"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["type"] == kind)
        .unwrap_or_else(|| panic!("{}: no {kind} alternative: {case:#}", case["name"]))
}

/// A native Exchange alternative as Thunderbird resolved it: host and TLS
/// from our URL, OAuth2, the address as username, Microsoft's issuer with
/// the type's own scope.
fn assert_exchange_alternative(case: &Value, kind: &str, url: &str, host: &str, scope: &str) {
    let name = &case["name"];
    let server = alternative(case, kind);
    assert_eq!(server["exchangeURL"], url, "{name}: {server:#}");
    assert_eq!(server["hostname"], host, "{name}: {server:#}");
    assert_eq!(server["socketTypeValue"], SOCKET_SSL, "{name}: {server:#}");
    assert_eq!(server["auth"], "OAuth2", "{name}: {server:#}");
    assert_eq!(server["authValue"], AUTH_OAUTH2, "{name}: {server:#}");
    assert_eq!(server["username"], M365_ADDRESS, "{name}: {server:#}");
    assert_eq!(
        server["oauth2"]["issuer"], MICROSOFT_ISSUER,
        "{name}: the OAuth2 provider Thunderbird pairs with {host} for {kind}: {server:#}"
    );
    let scopes = server["oauth2"]["requiredScopes"]
        .as_str()
        .unwrap_or_default();
    assert!(scopes.contains(scope), "{name}: {kind} scopes {scopes:?}");
}

const GRAPH_URL: &str = "https://graph.microsoft.com/";
const EWS_URL: &str = "https://outlook.office365.com/EWS/Exchange.asmx";

/// IMAP with OAuth2 is what Thunderbird recommends: first in our answer,
/// so its incoming server, and (wizard cases) the one the hub recommends.
fn assert_imap_recommended(session: &Session, case: &Value) {
    assert_oauth2_account(session, case, M365_ADDRESS, M365_IMAP, M365_SMTP);
    if case["mode"] == "wizard" {
        assert_hub_recommends_imap_oauth2(case);
    }
}

/// The Account Hub's choices, for a wizard case.
fn assert_hub_shows(case: &Value, expected: &[&str]) {
    if case["mode"] == "wizard" {
        let shown = hub_choices(case);
        println!("{}: the Account Hub shows {shown:?}", case["name"]);
        assert_eq!(shown, expected, "{}", case["name"]);
    }
}

/// Thunderbird 153 as shipped (`mail.graph.enabled` false) reads our answer
/// for Microsoft 365, which carries a `graph` server (we offer it to 153),
/// skips that one server instead of rejecting the document, and recommends
/// IMAP with OAuth2; no Graph choice reaches the wizard.
#[test]
fn thunderbird_153_with_graph_off_skips_our_graph_server_and_recommends_imap_oauth2() {
    let Some(session) = session() else { return };
    for name in ["graph-off-isp", "graph-off-wizard"] {
        let case = concluded(session, name);
        assert_eq!(case["graphEnabled"]["value"], false, "{name}");
        assert_eq!(
            case["graphEnabled"]["default"], false,
            "{name}: 153's own default"
        );
        let served = served_autoconfig(session, case);
        assert_eq!(served_types(served), ["imap", "pop3", "graph"], "{name}");
        assert_imap_recommended(session, case);
        assert_eq!(alternative_types(case), ["pop3"], "{name}: {case:#}");
        assert_hub_shows(case, &["imap", "pop3"]);
    }
}

/// With `mail.graph.enabled` on, the same answer gives Thunderbird a Graph
/// alternative with OAuth2 against Microsoft's issuer (Graph scopes), and
/// IMAP with OAuth2 stays the recommended, first one.
#[test]
fn thunderbird_153_with_graph_on_offers_graph_oauth2_after_recommended_imap() {
    let Some(session) = session() else { return };
    for name in ["graph-on-isp", "graph-on-wizard"] {
        let case = concluded(session, name);
        assert_eq!(case["graphEnabled"]["value"], true, "{name}");
        let served = served_autoconfig(session, case);
        assert_eq!(served_types(served), ["imap", "pop3", "graph"], "{name}");
        assert_imap_recommended(session, case);
        assert_eq!(
            alternative_types(case),
            ["pop3", "graph"],
            "{name}: {case:#}"
        );
        assert_exchange_alternative(
            case,
            "graph",
            GRAPH_URL,
            "graph.microsoft.com",
            "https://graph.microsoft.com/Mail.ReadWrite",
        );
        assert_hub_shows(case, &["imap", "pop3", "graph"]);
    }
}

/// Before 2026-10-01 the table also offers Thunderbird EWS: it sees an EWS
/// alternative with OAuth2 (Microsoft's issuer, the EWS scope), graph pref
/// or not; IMAP stays recommended.
#[test]
fn thunderbird_153_sees_ews_oauth2_before_2026_10_01() {
    let Some(session) = session() else { return };
    for (name, graph) in [
        ("ews-offered-graph-off-isp", false),
        ("ews-offered-graph-on-wizard", true),
    ] {
        let case = concluded(session, name);
        let served = served_autoconfig(session, case);
        assert_eq!(
            served_types(served),
            ["imap", "pop3", "ews", "graph"],
            "{name}"
        );
        assert_imap_recommended(session, case);
        let (types, choices): (&[&str], &[&str]) = if graph {
            (&["pop3", "ews", "graph"], &["imap", "pop3", "ews", "graph"])
        } else {
            (&["pop3", "ews"], &["imap", "pop3", "ews"])
        };
        assert_eq!(alternative_types(case), types, "{name}: {case:#}");
        assert_exchange_alternative(
            case,
            "ews",
            EWS_URL,
            "outlook.office365.com",
            "https://outlook.office.com/EWS.AccessAsUser.All",
        );
        assert_hub_shows(case, choices);
    }
}

/// From 2026-10-01 (tenants block EWS unless they allow Thunderbird) our
/// answer has no EWS server, and Thunderbird offers none.
#[test]
fn thunderbird_153_sees_no_ews_from_2026_10_01() {
    let Some(session) = session() else { return };
    for name in [
        "graph-off-isp",
        "graph-off-wizard",
        "graph-on-isp",
        "graph-on-wizard",
    ] {
        let case = concluded(session, name);
        assert!(
            !served_types(served_autoconfig(session, case)).contains(&"ews".to_owned()),
            "{name}"
        );
        assert!(
            !alternative_types(case).contains(&"ews"),
            "{name}: {case:#}"
        );
        if case["mode"] == "wizard" {
            assert!(!hub_choices(case).contains(&"ews".to_owned()), "{name}");
        }
    }
}

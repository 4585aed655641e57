//! Shared test harness: a test CA, a real server on ephemeral loopback
//! ports, an HTTP/HTTPS client that can set any Host/SNI, and a small XML
//! tree parsed with quick-xml (independent of the askama templates);
//! `serve_process` runs the binary instead, and `tools` finds (or skips
//! without) the external programs some tests drive.

pub mod html;
pub mod serve_process;
pub mod tools;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

/// Names every test certificate is valid for.
pub const TEST_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "autoconfig.contoso.test",
    "autodiscover.contoso.test",
    "contoso.test",
    "autoconfig.xn--bcher-kva.test",
    "settings.test",
    // A personal Outlook.com domain (the `outlook` profile lists it), for
    // clients that fetch from autoconfig.<d>, <d> and autodiscover.<d>.
    "autoconfig.hotmail.fr",
    "hotmail.fr",
    "autodiscover.hotmail.fr",
    // Domains whose profiles (Microsoft 365's and Outlook.com's) answer
    // autodiscover with the `settings` policy (thunderbird_real.rs).
    "autoconfig.northwind.test",
    "autodiscover.northwind.test",
    "northwind.test",
    "autoconfig.adatum.test",
    "autodiscover.adatum.test",
    "adatum.test",
];

/// A calendar date: year, month, day.
pub type Ymd = (i32, u8, u8);

/// A certificate authority made for one test, and a leaf it signed.
pub struct TestCa {
    pub dir: tempfile::TempDir,
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    /// Issues a leaf for `names` into `dir/fullchain.pem` and
    /// `dir/privkey.pem` (certbot's layout); `expired` back-dates it.
    /// Returns the leaf's DER.
    pub fn issue_into(&self, dir: &Path, names: &[&str], expired: bool) -> Vec<u8> {
        if expired {
            self.issue_into_with_dates(dir, names, (2020, 1, 1), (2021, 1, 1))
        } else {
            self.issue_leaf(dir, names, None)
        }
    }

    /// Like `issue_into`, valid from `not_before` to `not_after` (y, m, d).
    pub fn issue_into_with_dates(
        &self,
        dir: &Path,
        names: &[&str],
        not_before: Ymd,
        not_after: Ymd,
    ) -> Vec<u8> {
        self.issue_leaf(dir, names, Some((not_before, not_after)))
    }

    fn issue_leaf(&self, dir: &Path, names: &[&str], dates: Option<(Ymd, Ymd)>) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if let Some(((y1, m1, d1), (y2, m2, d2))) = dates {
            params.not_before = rcgen::date_time_ymd(y1, m1, d1);
            params.not_after = rcgen::date_time_ymd(y2, m2, d2);
        }
        let leaf = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("fullchain.pem"), leaf.pem() + &self.ca_pem).unwrap();
        std::fs::write(dir.join("privkey.pem"), key.serialize_pem()).unwrap();
        leaf.der().to_vec()
    }

    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mailsetup test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let names: Vec<String> = TEST_NAMES.iter().map(|s| s.to_string()).collect();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();

        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, leaf.pem() + &ca_cert.pem()).unwrap();
        std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        TestCa {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            dir,
            cert_path,
            key_path,
            issuer,
        }
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// The domain table every test server has, plus whatever a test appends.
pub const TEST_DOMAINS: &str = r#"
[[domain]]
name = "contoso.test"
profile = "microsoft365"
display_name = "Contoso"
organization = "Contoso Ltd."

[[domain]]
name = "bücher.test"
profile = "microsoft365"
display_name = "Bücher & Co"

[[domain]]
name = "fabrikam.test"
profile = "outlook"
"#;

/// Writes a configuration for ephemeral loopback ports and the CA's leaf.
pub fn write_config(ca: &TestCa, extra: &str) -> PathBuf {
    write_config_with(ca, "", extra)
}

/// Like `write_config`, with `top` placed before every section (for
/// top-level keys such as `profiles_dir`) and `extra` inside `[limits]`
/// (or starting sections of its own).
pub fn write_config_with(ca: &TestCa, top: &str, extra: &str) -> PathBuf {
    // `http_policy = "redirect"` at the top of `top` asks for the default.
    let http_policy = if top.contains("http_policy = \"redirect\"") {
        "redirect"
    } else {
        "serve"
    };
    let top = top.replace("http_policy = \"redirect\"", "");
    // Under `serve` the public listeners answer /metrics only when the
    // operator says so; the tests read metrics over plain HTTP, so they
    // say so (hardening_http.rs checks the default).
    let metrics = if top.contains("metrics_from_loopback") || http_policy == "redirect" {
        String::new()
    } else {
        "metrics_from_loopback = true".to_owned()
    };
    let text = format!(
        r#"
{top}

[server]
http = ["127.0.0.1:0"]
https = ["127.0.0.1:0"]
# Most tests talk plain HTTP to every endpoint; production.rs checks the
# default redirect policy.
http_policy = "{http_policy}"
{metrics}

[tls]
certificate = "{}"
private_key = "{}"

[limits]
shutdown_grace_secs = 2
{extra}
{TEST_DOMAINS}
"#,
        ca.cert_path.display(),
        ca.key_path.display()
    );
    let path = ca.dir.path().join("mailsetup.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A server running in this test process on ephemeral ports.
pub struct TestServer {
    pub ca: TestCa,
    pub config_path: PathBuf,
    pub http: SocketAddr,
    pub https: SocketAddr,
    running: Option<mailsetup::server::Running>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with("").await
    }

    /// `extra` is TOML placed before the domain table (e.g. `[limits]` keys
    /// are not allowed there; use top-level keys or whole sections).
    pub async fn start_with(extra: &str) -> TestServer {
        TestServer::start_with_config("", extra).await
    }

    /// `top` goes before every section (top-level keys); see `write_config_with`.
    pub async fn start_with_config(top: &str, extra: &str) -> TestServer {
        TestServer::start_on(None, top, extra).await
    }

    /// Like `start_with_config`, answering as on `today` (`YYYY-MM-DD`, as
    /// `serve --today` does); `None`: the real date.
    pub async fn start_on(today: Option<&str>, top: &str, extra: &str) -> TestServer {
        let ca = TestCa::new();
        let config_path = write_config_with(&ca, top, extra);
        let config = mailsetup::config::Config::load(Some(&config_path)).unwrap();
        let clock = match today {
            Some(day) => mailsetup::date::Clock::Fixed(day.parse().unwrap()),
            None => mailsetup::date::Clock::System,
        };
        let running = mailsetup::server::start_with_clock(config, clock)
            .await
            .unwrap();
        TestServer {
            http: running.http_addrs[0],
            https: running.https_addrs[0],
            ca,
            config_path,
            running: Some(running),
        }
    }

    /// Starts from a configuration file the test wrote itself.
    pub async fn start_from_file(ca: TestCa, config_path: PathBuf) -> TestServer {
        let config = mailsetup::config::Config::load(Some(&config_path)).unwrap();
        let running = mailsetup::server::start(config).await.unwrap();
        TestServer {
            http: running
                .http_addrs
                .first()
                .copied()
                .unwrap_or(([127, 0, 0, 1], 0).into()),
            https: running
                .https_addrs
                .first()
                .copied()
                .unwrap_or(([127, 0, 0, 1], 0).into()),
            ca,
            config_path,
            running: Some(running),
        }
    }

    /// Reloads the configuration file, as SIGHUP does.
    pub fn reload(&self) -> Result<(), mailsetup::server::ReloadError> {
        self.running
            .as_ref()
            .unwrap()
            .reload(Some(&self.config_path))
    }

    /// The running server (admin addresses and the like).
    pub fn running(&self) -> &mailsetup::server::Running {
        self.running.as_ref().unwrap()
    }

    /// A handle on a server running as a separate process (the binary),
    /// for the same client methods; `shutdown` is then a no-op.
    pub fn for_process(
        ca: TestCa,
        config_path: PathBuf,
        http: SocketAddr,
        https: SocketAddr,
    ) -> TestServer {
        TestServer {
            ca,
            config_path,
            http,
            https,
            running: None,
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// GET over plain HTTP with the given Host header.
    pub async fn get(&self, host: &str, path: &str) -> Reply {
        self.send(Scheme::Http, Method::GET, host, path, Bytes::new())
            .await
    }

    /// GET over HTTPS; the SNI name is the Host (without port) when it is a
    /// name the test certificate covers, else `localhost`.
    pub async fn get_tls(&self, host: &str, path: &str) -> Reply {
        self.send(Scheme::Https, Method::GET, host, path, Bytes::new())
            .await
    }

    pub async fn send(
        &self,
        scheme: Scheme,
        method: Method,
        host: &str,
        path: &str,
        body: Bytes,
    ) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, host)
            .body(Full::new(body))
            .unwrap();
        self.send_request(scheme, request).await
    }

    pub async fn send_request(&self, scheme: Scheme, request: Request<Full<Bytes>>) -> Reply {
        match scheme {
            Scheme::Http => {
                let stream = TcpStream::connect(self.http).await.unwrap();
                send_http1(TokioIo::new(stream), request).await
            }
            Scheme::Https | Scheme::Http2Tls => {
                let host = request
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("localhost");
                let name = host.split(':').next().unwrap_or(host);
                let sni = if TEST_NAMES.contains(&name) {
                    name
                } else {
                    "localhost"
                };
                let stream = self.connect_tls(sni).await;
                let negotiated_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                if matches!(scheme, Scheme::Http2Tls) {
                    assert!(negotiated_h2, "server did not offer h2 over ALPN");
                    send_http2(TokioIo::new(stream), request).await
                } else if negotiated_h2 {
                    send_http2(TokioIo::new(stream), request).await
                } else {
                    send_http1(TokioIo::new(stream), request).await
                }
            }
        }
    }

    pub async fn connect_tls(&self, sni: &str) -> tokio_rustls::client::TlsStream<TcpStream> {
        let connector = tokio_rustls::TlsConnector::from(self.ca.client_config());
        let stream = TcpStream::connect(self.https).await.unwrap();
        connector
            .connect(ServerName::try_from(sni.to_owned()).unwrap(), stream)
            .await
            .unwrap()
    }
}

/// An HTTP/1.1 keep-alive connection over TLS to `autoconfig.contoso.test`
/// (or the given name), opened once and reused for every request.
pub struct KeepAlive {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The leaf certificate presented when it was opened.
    pub leaf: Vec<u8>,
}

impl KeepAlive {
    /// Opens the connection with SNI `sni`, HTTP/1.1 by ALPN, trusting `ca`.
    pub async fn open(ca: &TestCa, https: SocketAddr, sni: &str) -> KeepAlive {
        let mut config = rustls::ClientConfig::clone(&ca.client_config());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = TcpStream::connect(https).await.unwrap();
        let tls = connector
            .connect(ServerName::try_from(sni.to_owned()).unwrap(), stream)
            .await
            .unwrap();
        let leaf = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(connection);
        KeepAlive { sender, leaf }
    }

    /// GET `path` on this connection: the status and the body, or why the
    /// connection could not carry the request.
    pub async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes), String> {
        let request = http::Request::builder()
            .uri(path)
            .header("host", "autoconfig.contoso.test")
            .body(Full::new(Bytes::new()))
            .unwrap();
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Scheme {
    Http,
    /// HTTPS, HTTP/2 when ALPN picks it.
    Https,
    /// HTTPS, asserting that ALPN picked HTTP/2.
    Http2Tls,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub version: http::Version,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("body is UTF-8")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn xml(&self) -> Element {
        Element::parse(&self.body)
    }
}

async fn send_http1<I>(io: I, request: Request<Full<Bytes>>) -> Reply
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(connection);
    read_reply(sender.send_request(request).await.unwrap()).await
}

async fn send_http2<I>(io: I, mut request: Request<Full<Bytes>>) -> Reply
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // HTTP/2 carries the host in :authority, which comes from an absolute URI.
    if let Some(host) = request.headers_mut().remove(http::header::HOST) {
        let uri = format!("https://{}{}", host.to_str().unwrap(), request.uri());
        *request.uri_mut() = uri.parse().unwrap();
    }
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(connection);
    read_reply(sender.send_request(request).await.unwrap()).await
}

async fn read_reply(response: http::Response<hyper::body::Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        version: parts.version,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// Percent-encodes a query value the way Thunderbird's encodeURIComponent does.
pub fn encode(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// A parsed XML element: name without namespace prefix, attributes, text,
/// and children. Built with quick-xml, independent of our templates.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn parse(xml: &[u8]) -> Element {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut stack: Vec<Element> = vec![Element::default()];
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf).expect("well-formed XML") {
                Event::Start(start) => stack.push(Element::from_start(&start)),
                Event::Empty(start) => {
                    let element = Element::from_start(&start);
                    stack.last_mut().unwrap().children.push(element);
                }
                Event::End(_) => {
                    let mut element = stack.pop().unwrap();
                    element.text = element.text.trim().to_owned();
                    stack.last_mut().unwrap().children.push(element);
                }
                Event::Text(text) => {
                    let text = text.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    stack.last_mut().unwrap().text.push_str(&text);
                }
                Event::GeneralRef(reference) => {
                    let name = reference.into_inner();
                    let text = quick_xml::escape::unescape(&format!("&{name};"))
                        .unwrap()
                        .into_owned();
                    stack.last_mut().unwrap().text.push_str(&text);
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        assert_eq!(stack.len(), 1, "unclosed elements");
        let mut root = stack.pop().unwrap();
        assert_eq!(root.children.len(), 1, "exactly one root element");
        root.children.pop().unwrap()
    }

    fn from_start(start: &quick_xml::events::BytesStart<'_>) -> Element {
        let name = start.local_name().as_ref().to_owned();
        let attributes = start
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let key = a.key.local_name().as_ref().to_owned();
                (
                    key,
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        Element {
            name,
            attributes,
            ..Element::default()
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Children with this name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The only child with this name; panics when absent or repeated.
    pub fn one<'a>(&'a self, name: &'a str) -> &'a Element {
        let mut found = self.all(name);
        let first = found
            .next()
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name));
        assert!(
            found.next().is_none(),
            "<{}> has several <{name}>",
            self.name
        );
        first
    }

    /// Text of the element at a `/`-separated path of single children.
    pub fn text_at<'a>(&'a self, path: &'a str) -> &'a str {
        path.split('/')
            .fold(self, |e, name| e.one(name))
            .text
            .as_str()
    }

    pub fn texts<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        self.all(name).map(|e| e.text.as_str()).collect()
    }
}

/// Writes `contents` to `dir/name` and returns the path.
/// Reads `stream` until the server closes it, and what it sent; a reset
/// ends the read like a close. Panics when it is still open after `limit`.
pub async fn read_until_closed(stream: &mut TcpStream, limit: std::time::Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("the server did not close the connection within {limit:?}"));
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends raw bytes on a new connection to `addr` and reads until the
/// server closes it (10 s at most).
pub async fn raw_exchange(addr: SocketAddr, raw: &[u8]) -> String {
    use tokio::io::AsyncWriteExt;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    read_until_closed(&mut stream, std::time::Duration::from_secs(10)).await
}

pub fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs a command with a time bound; on timeout kills it and panics.
pub fn output_within(
    command: &mut std::process::Command,
    limit: std::time::Duration,
) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{command:?} did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The built-in `outlook` profile with the `settings` autodiscover policy
/// and without its consumer domains (a domain belongs to one profile only).
pub fn settings_profile() -> String {
    let text = include_str!("../../../profiles/outlook.toml")
        .replace("policy = \"redirect\"", "policy = \"settings\"");
    let start = text
        .find("domains = [")
        .expect("outlook.toml lists domains");
    let end = start + text[start..].find(']').unwrap() + 1;
    format!("{}domains = []{}", &text[..start], &text[end..])
}

/// `mailsetup check --config <config>`: exit code and stderr.
pub fn check_config(config: &Path) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(["check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// `check` refuses `config` (exit 1) and says `<file>:<line>:<column>:
/// <reason>`, the line being the one that starts with `key`.
pub fn assert_refused_at(config: &Path, key: &str, column: usize, reason: &str) {
    let line = std::fs::read_to_string(config)
        .unwrap()
        .lines()
        .position(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no line starts with {key}"))
        + 1;
    let (code, stderr) = check_config(config);
    assert_eq!(code, Some(1), "{stderr}");
    let name = config.file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(&format!("{name}:{line}:{column}: {reason}")),
        "{stderr}"
    );
}

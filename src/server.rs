//! Listeners and connections: accepts TCP (and TLS) connections, serves
//! HTTP/1.1 and HTTP/2 on them with hyper, applies the limits, logs one line
//! per request, and shuts down gracefully. Does not decide what a request
//! means (see `router`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, Limits};
use crate::date::Clock;
use crate::load::{LoadError, Loaded, load, load_files_of};
use crate::router::{App, RequestLog, plain_error, route};
use crate::router::{ConnectionInfo, Listener};
use crate::services::Services;
use crate::tls::{self, CertResolver, CertificateSource};
use arc_swap::ArcSwap;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        /// In the message, not chained: `{error:#}` must not say it twice.
        cause: std::io::Error,
    },
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// A server that is accepting connections.
pub struct Running {
    /// The bound plain-HTTP addresses (real ports when 0 was configured).
    pub http_addrs: Vec<SocketAddr>,
    pub https_addrs: Vec<SocketAddr>,
    pub admin_addrs: Vec<SocketAddr>,
    /// Present when an HTTPS listener exists.
    pub tls: Option<TlsSummary>,
    /// Present when `[acme]` is enabled (and an HTTPS listener exists).
    pub acme: Option<Arc<crate::acme::Acme>>,
    /// Everything connections share; also what `reload` swaps.
    shared: Arc<Shared>,
    /// Set to `true` to stop accepting and close connections gracefully.
    shutdown: watch::Sender<bool>,
    listeners: JoinSet<()>,
    /// One permit per open connection; all permits back means all
    /// connections are closed.
    connections: Arc<Semaphore>,
    max_connections: usize,
    grace: Duration,
}

/// What the operator is told about the default HTTPS certificate.
pub struct TlsSummary {
    pub fingerprint_sha256: String,
    pub self_signed: bool,
    /// Certificates read from the certificates directory.
    pub directory_certificates: usize,
}

/// Everything a connection task needs, shared by all of them.
struct Shared {
    /// The current configuration generation; swapped whole by `reload`,
    /// read once per request, so a request sees one consistent generation.
    app: ArcSwap<App>,
    builder: auto::Builder<TokioExecutor>,
    /// Fixed at start-up: listeners and limits change only with a restart.
    limits: Limits,
}

/// Why a reload was refused; the running configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// The mail domains ACME issues certificates for: the domain table's.
fn acme_domains(config: &Config) -> Vec<String> {
    config
        .domains
        .iter()
        .map(|d| d.name.as_str().to_owned())
        .collect()
}

/// Binds every configured listener and starts serving, dated by the
/// system clock.
pub async fn start(config: Config) -> Result<Running, ServeError> {
    start_with_clock(config, Clock::System).await
}

/// Like `start`, with answers dated by `clock` (`serve --today`).
pub async fn start_with_clock(config: Config, clock: Clock) -> Result<Running, ServeError> {
    let Loaded {
        config,
        certificates,
        signer: profile_signer,
    } = load_files_of(config)?;
    let certificates = certificates.map(|set| Arc::new(CertResolver::new(set)));
    let limits = config.limits.clone();
    let mut bound = Vec::new();
    for (addrs, listener) in [
        (&config.http_listeners, Listener::Http),
        (&config.https_listeners, Listener::Https),
        (&config.admin_listeners, Listener::Admin),
    ] {
        for addr in addrs {
            let socket = TcpListener::bind(addr)
                .await
                .map_err(|cause| ServeError::Bind { addr: *addr, cause })?;
            let local = socket
                .local_addr()
                .map_err(|cause| ServeError::Bind { addr: *addr, cause })?;
            bound.push((socket, local, listener));
        }
    }
    let https_port = bound
        .iter()
        .find(|(_, _, l)| *l == Listener::Https)
        .map(|(_, local, _)| local.port());
    let services = Arc::new(Services {
        certificates: certificates.clone(),
        https_port,
        clock,
        ..Services::default()
    });
    let tls = certificates.as_ref().map(|resolver| {
        let files = resolver.certificates();
        let default = files.iter().find(|c| {
            matches!(
                c.source,
                CertificateSource::Default | CertificateSource::SelfSigned
            )
        });
        TlsSummary {
            fingerprint_sha256: default
                .map(|c| c.fingerprint_sha256.clone())
                .unwrap_or_default(),
            self_signed: default.is_some_and(|c| c.source == CertificateSource::SelfSigned),
            directory_certificates: files
                .iter()
                .filter(|c| c.source == CertificateSource::Directory)
                .count(),
        }
    });
    let acme_config = config.acme.clone();
    let acme_domains = acme_domains(&config);
    let acceptor = certificates
        .clone()
        .map(|resolver| TlsAcceptor::from(tls::server_config(resolver)));
    let shared = Arc::new(Shared {
        builder: connection_builder(&limits),
        app: ArcSwap::from_pointee(
            App::with_services(config, services.clone()).with_profile_signer(profile_signer),
        ),
        limits: limits.clone(),
    });
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let (shutdown, shutdown_rx) = watch::channel(false);
    // ACME certificates go to the HTTPS listeners' resolver; the domain
    // table is the one at start-up (a reload does not add orders).
    let acme = match (acme_config, certificates) {
        (Some(acme_config), Some(resolver)) => Some(crate::acme::start(
            acme_config,
            acme_domains,
            services.clone(),
            resolver,
            shutdown_rx.clone(),
        )),
        (Some(_), None) => {
            tracing::warn!(
                "[acme] is enabled but there is no HTTPS listener to serve its certificates"
            );
            None
        }
        (None, _) => None,
    };
    let mut running = Running {
        acme,
        http_addrs: Vec::new(),
        https_addrs: Vec::new(),
        admin_addrs: Vec::new(),
        tls,
        shared: shared.clone(),
        shutdown,
        listeners: JoinSet::new(),
        connections: connections.clone(),
        max_connections: limits.max_connections,
        grace: limits.shutdown_grace(),
    };
    for (socket, local, listener) in bound {
        let tls = match listener {
            Listener::Http => {
                running.http_addrs.push(local);
                None
            }
            Listener::Https => {
                running.https_addrs.push(local);
                acceptor.clone()
            }
            Listener::Admin => {
                running.admin_addrs.push(local);
                None
            }
        };
        running.listeners.spawn(accept_loop(
            socket,
            listener,
            tls,
            shared.clone(),
            connections.clone(),
            shutdown_rx.clone(),
        ));
    }
    Ok(running)
}

impl Running {
    /// Re-reads the configuration (`None`: the embedded default), profiles
    /// and certificate files; swaps them in only if all are valid. Open
    /// connections and requests in flight are not touched.
    pub fn reload(&self, path: Option<&std::path::Path>) -> Result<(), ReloadError> {
        let current = self.shared.app.load();
        let services = current.services.clone();
        let Loaded {
            config,
            certificates,
            signer,
        } = match load(path) {
            Ok(loaded) => loaded,
            Err(error) => {
                services.metrics.record_reload(false);
                return Err(error.into());
            }
        };
        if config.http_listeners != current.config.http_listeners
            || config.https_listeners != current.config.https_listeners
            || config.admin_listeners != current.config.admin_listeners
        {
            tracing::warn!("listener changes take effect at the next restart");
        }
        if let (Some(resolver), Some(certificates)) = (&services.certificates, certificates) {
            resolver.replace_files(certificates);
        }
        // New domains get certificates; [acme] settings themselves change
        // only with a restart.
        if let Some(acme) = &self.acme {
            acme.add_domains(acme_domains(&config));
        }
        self.shared.app.store(Arc::new(
            App::with_services(config, services.clone()).with_profile_signer(signer),
        ));
        services.metrics.record_reload(true);
        Ok(())
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace
    /// period), then returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.listeners.join_next().await.is_some() {}
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(self.grace, self.connections.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!(
                grace_secs = self.grace.as_secs(),
                "connections still open after the grace period; closing them"
            );
        }
    }
}

/// HTTP/1.1 and HTTP/2 with the limits from the configuration.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper starts this timer when a connection waits for a request
        // head, including between keep-alive requests (hyper ≥ 1.6).
        .header_read_timeout(limits.header_read_timeout())
        // Bounds the request head; larger heads get 431.
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .max_pending_accept_reset_streams(Some(20))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}

/// Largest request head accepted (request line and headers).
const MAX_HEAD_BYTES: usize = 32 * 1024;

async fn accept_loop(
    listener: TcpListener,
    kind: Listener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        // Over the limit, this listener holds the connection just accepted
        // until a slot frees, and the next ones wait in the kernel's
        // backlog. (Taking the slot before accepting would make every idle
        // listener hold one slot: with L listeners, L-1 slots unusable.)
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = ConnectionInfo {
                listener: kind,
                peer,
            };
            serve_connection(stream, connection, tls, shared, shutdown).await;
            drop(permit);
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    connection: ConnectionInfo,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let activity = Activity::new();
    let stream = ActivityIo {
        inner: stream,
        activity: activity.clone(),
    };
    match tls {
        None => drive(stream, connection, activity, shared, shutdown).await,
        Some(acceptor) => {
            // The handshake counts against the header timeout: a client
            // that stalls in the handshake is cut like a slow header.
            let handshake =
                tokio::time::timeout(shared.limits.header_read_timeout(), acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(stream)) => drive(stream, connection, activity, shared, shutdown).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}

/// Serves HTTP on one connection until the client closes it, it stays idle
/// past the idle timeout, or the server shuts down.
async fn drive<S>(
    stream: S,
    connection: ConnectionInfo,
    activity: Activity,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_shared = shared.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = service_shared.clone();
        async move { Ok::<_, Infallible>(handle(&shared, request, connection).await) }
    });
    let connection = shared
        .builder
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let idle = shared.limits.idle_timeout();
    let mut closing = false;
    loop {
        let idle_deadline = activity.last() + idle;
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(idle_deadline.into()), if !closing => {
                if activity.last() + idle <= Instant::now() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = shutdown.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Reads the body (capped), routes, and logs one line.
async fn handle(
    shared: &Shared,
    request: Request<Incoming>,
    connection: ConnectionInfo,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    // One configuration generation for the whole request, even if a
    // reload happens meanwhile.
    let app = shared.app.load_full();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(connection);
    let max = shared.limits.max_body_bytes;
    // A body that trickles in is cut like a slow header. (When a request
    // has both Content-Length and Transfer-Encoding, hyper drops the length,
    // reads it chunked and closes the connection afterwards, RFC 9112 §6.3,
    // so no second request can be smuggled behind it.)
    let body = Limited::new(body, max).collect();
    let response = match tokio::time::timeout(shared.limits.header_read_timeout(), body).await {
        Ok(Ok(collected)) => {
            let request = Request::from_parts(parts.clone(), collected.to_bytes());
            route(&app, &request).await
        }
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => plain_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {max} bytes"),
        ),
        Ok(Err(_)) => plain_error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        ),
        Err(_) => {
            let mut response = plain_error(
                StatusCode::REQUEST_TIMEOUT,
                "the request body was not received in time",
            );
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            response
        }
    };
    log_request(&app, &parts, &response, connection, started);
    if parts.method == http::Method::HEAD {
        without_body(response)
    } else {
        response
    }
}

/// The answer to HEAD: the GET answer's headers, its length, no body.
/// (hyper drops the body of HEAD answers on HTTP/1.1 but not on HTTP/2,
/// where sending one is a protocol error.)
fn without_body(response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    use hyper::body::Body;
    let (mut parts, body) = response.into_parts();
    if let Some(length) = body.size_hint().exact() {
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(length),
        );
    }
    Response::from_parts(parts, Full::new(Bytes::new()))
}

/// One log line and the metrics of one request. `Authorization` and other
/// headers are never logged; addresses only when the admin asks.
fn log_request(
    app: &App,
    parts: &http::request::Parts,
    response: &Response<Full<Bytes>>,
    connection: ConnectionInfo,
    started: Instant,
) {
    let latency = started.elapsed();
    let log = response.extensions().get::<RequestLog>();
    let endpoint = log.map_or("none", |l| l.endpoint.as_str());
    let domain = log.and_then(|l| l.domain.as_ref());
    // The site the router resolved, MX-detected ones included.
    let profile = log.map_or("", RequestLog::profile_id);
    app.services
        .metrics
        .record_request(endpoint, response.status().as_u16(), profile, latency);
    let log_addresses = app.config.log_addresses;
    let address = log
        .and_then(|l| l.address.as_ref())
        .filter(|_| log_addresses)
        .map(|a| a.as_str());
    // Paths may carry an address (/apple/<address>.mobileconfig, the v2
    // JSON form): only logged when the admin asked for addresses.
    let path = parts.uri.path();
    let path = if log_addresses || !path.contains('@') {
        path
    } else {
        "(path with address, not logged)"
    };
    tracing::info!(
        method = %parts.method,
        path,
        listener = match connection.listener {
            Listener::Http => "http",
            Listener::Https => "https",
            Listener::Admin => "admin",
        },
        status = response.status().as_u16(),
        latency_us = latency.as_micros() as u64,
        endpoint,
        domain = domain.map(|d| d.as_str()),
        profile,
        address,
        "request"
    );
}

/// When a connection last moved a byte, shared between its I/O wrapper and
/// its driver. Milliseconds since `epoch`, so it fits an atomic.
#[derive(Clone)]
struct Activity {
    epoch: Instant,
    last_millis: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            last_millis: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let millis = self.epoch.elapsed().as_millis() as u64;
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// A stream that records activity on every successful read or write, for
/// the idle timeout (HTTP/2 has no idle timer of its own in hyper).
struct ActivityIo<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

//! Listeners and connections: accepts TCP (and TLS) connections, serves
//! HTTP/1.1 and HTTP/2 on them with hyper, applies the limits, logs one line
//! per request, and shuts down gracefully; `reload` swaps configurations
//! and certificates in while it serves. Does not decide what a request
//! means (see `router`) or what a file change is (see `watch`).

mod reload;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Incoming};
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
use crate::load::{LoadError, Loaded, load_files_of};
use crate::router::{App, RequestLog, plain_error, route};
use crate::router::{ConnectionInfo, Endpoint, Listener};
use crate::services::{ReadinessState, Services};
use crate::tls::{self, CertResolver, CertificateSource};
use arc_swap::ArcSwap;
use reload::{FileWatcher, Reloader, watch_files};

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
    /// Swaps configurations and certificates in, for SIGHUP and the
    /// watcher alike.
    reloader: Arc<Reloader>,
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
        .map(|entry| entry.name.to_owned())
        .collect()
}

/// Binds every configured listener and starts serving, dated by the
/// system clock.
pub async fn start(config: Config) -> Result<Running, ServeError> {
    start_with_clock(config, Clock::System).await
}

/// Like `start`, with answers dated by `clock` (`serve --today`).
pub async fn start_with_clock(config: Config, clock: Clock) -> Result<Running, ServeError> {
    // Looked at before the files are read: a change while they are being
    // read is then a change at the first look, never one that is missed.
    let watcher = FileWatcher::new(&config);
    let Loaded {
        config,
        certificates,
        signer: profile_signer,
    } = load_files_of(config)?;
    let certificates = certificates.map(|set| Arc::new(CertResolver::new(set)));
    let limits = config.limits.clone();
    let config_has_https = !config.https_listeners.is_empty();
    let mut bound = Vec::new();
    for (addrs, listener) in [
        (&config.http_listeners, Listener::Http),
        (&config.https_listeners, Listener::Https),
        (&config.admin_listeners, Listener::Admin),
    ] {
        for addr in addrs {
            let socket = bind(*addr).map_err(|cause| ServeError::Bind { addr: *addr, cause })?;
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
    // Only with ACME on: a copy of every name of a million-domain table
    // is not free.
    let acme_domains = if acme_config.is_some() {
        acme_domains(&config)
    } else {
        Vec::new()
    };
    let acceptor = certificates
        .clone()
        .map(|resolver| TlsAcceptor::from(tls::server_config(resolver)));
    let shared = Arc::new(Shared {
        builder: connection_builder(),
        app: ArcSwap::from_pointee(
            App::with_services(config, services.clone()).with_profile_signer(profile_signer),
        ),
        limits: limits.clone(),
    });
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    // Plain HTTP needs no TLS handshake, so it is the cheapest way to hold
    // slots (an h2c client can open connections and never send a request).
    // With HTTPS listeners, a quarter of the slots are out of plain HTTP's
    // reach, so a flood on port 80 cannot starve HTTPS.
    let plain_http_share = if config_has_https {
        limits.max_connections - limits.max_connections / 4
    } else {
        limits.max_connections
    };
    let plain_http_slots = Arc::new(Semaphore::new(plain_http_share.max(1)));
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
    let reloader = Arc::new(Reloader::new(shared.clone(), acme.clone()));
    tokio::spawn(watch_files(
        watcher,
        reloader.clone(),
        limits.watch_interval(),
        shutdown_rx.clone(),
    ));
    let mut running = Running {
        acme,
        http_addrs: Vec::new(),
        https_addrs: Vec::new(),
        admin_addrs: Vec::new(),
        tls,
        shared: shared.clone(),
        reloader,
        shutdown,
        listeners: JoinSet::new(),
        connections: connections.clone(),
        max_connections: limits.max_connections,
        grace: limits.shutdown_grace(),
    };
    // Everything is loaded and nothing has been accepted yet: the sockets
    // were bound after loading, and the connections the kernel queued
    // meanwhile are accepted below, so no listener ever answers with a
    // half-loaded server, and `/healthz` says 200 from the first answer.
    services.readiness.set(ReadinessState::Ready);
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
        let share = (listener == Listener::Http).then(|| plain_http_slots.clone());
        running.listeners.spawn(accept_loop(
            socket,
            listener,
            tls,
            shared.clone(),
            Slots {
                all: connections.clone(),
                share,
            },
            shutdown_rx.clone(),
        ));
    }
    Ok(running)
}

impl Running {
    /// Re-reads the configuration (`None`: the embedded default), profiles
    /// and certificate files; swaps them in only if all are valid. Open
    /// connections and requests in flight are not touched.
    pub fn reload(&self, path: Option<&Path>) -> Result<(), ReloadError> {
        self.reloader.reload(path, |_| {})
    }

    /// `reload` on a blocking thread, its outcome logged: for SIGHUP, so
    /// that the signal loop stays free to act on SIGTERM while a large
    /// table loads (or while it waits for a reload the watcher started).
    pub fn reload_in_background(&self, path: Option<PathBuf>) {
        let reloader = self.reloader.clone();
        tokio::task::spawn_blocking(move || {
            // What the new configuration's table is, read when it loads.
            let (mut origin, mut domains) = ("", 0);
            let loaded = |config: &Config| {
                (origin, domains) = (config.table_origin.as_str(), config.domains.len());
            };
            match reloader.reload(path.as_deref(), loaded) {
                Ok(()) => tracing::info!(domain_table = origin, domains, "configuration reloaded"),
                Err(error) => {
                    tracing::error!(%error, "reload refused; the running configuration stays")
                }
            }
        });
    }

    /// What `[limits] shutdown_delay_secs` says: how long `/healthz`
    /// answers 503 after SIGTERM before the listeners close.
    pub fn shutdown_delay(&self) -> Duration {
        self.shared.limits.shutdown_delay()
    }

    /// From now on `/healthz` answers 503, so that load balancers send new
    /// clients elsewhere; every other request is answered as before.
    pub fn stop_being_ready(&self) {
        let app = self.shared.app.load();
        app.services.readiness.set(ReadinessState::ShuttingDown);
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace
    /// period), then returns.
    pub async fn shutdown(mut self) {
        self.stop_being_ready();
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

/// A listening socket for `addr`. An IPv6 socket takes IPv6 only, so
/// `0.0.0.0:80` and `[::]:80` can both be configured whatever the host's
/// `net.ipv6.bindv6only` says (by default Linux would let `[::]` take the
/// IPv4 port too, and the second bind would fail).
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // As tokio's own bind: a restarted server can bind at once.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// HTTP/1.1 and HTTP/2 with this server's fixed limits (the configured
/// timeouts are applied per connection by `drive`).
fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // Not hyper's header timer: it arms (allocates, inserts and removes)
        // a timer for every request, and counts the wait between keep-alive
        // requests as header time, so `idle_timeout_secs` never applied to
        // HTTP/1.1. `drive` times heads from their first byte instead.
        .header_read_timeout(None::<Duration>)
        // Bounds the request head; larger heads get 431.
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        // Up to 4x our cap, so that a larger block is answered 431 by
        // `early_refusal` instead of refused-for-retry by h2.
        .max_header_list_size(4 * MAX_HEAD_BYTES as u32)
        .max_pending_accept_reset_streams(Some(20))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}

/// Largest request head accepted (request line and headers).
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// The connection slots a listener takes from: every listener's, and for
/// plain HTTP its share of them.
struct Slots {
    all: Arc<Semaphore>,
    share: Option<Arc<Semaphore>>,
}

async fn accept_loop(
    listener: TcpListener,
    kind: Listener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    slots: Slots,
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
        let share = match &slots.share {
            Some(share) => tokio::select! {
                permit = share.clone().acquire_owned() => match permit {
                    Ok(permit) => Some(permit),
                    Err(_) => return,
                },
                _ = shutdown.changed() => return,
            },
            None => None,
        };
        let permit = tokio::select! {
            permit = slots.all.clone().acquire_owned() => match permit {
                Ok(permit) => (permit, share),
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
    let stream = LingeringIo {
        inner: Some(stream),
    };
    match tls {
        None => drive(stream, connection, shared, shutdown).await,
        Some(acceptor) => {
            // The handshake counts against the header timeout: a client
            // that stalls in the handshake is cut like a slow header.
            let handshake =
                tokio::time::timeout(shared.limits.header_read_timeout(), acceptor.accept(stream));
            match handshake.await {
                Ok(Ok(stream)) => drive(stream, connection, shared, shutdown).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}

/// Serves HTTP on one connection until the client closes it, it has no
/// request in flight past the idle timeout (or no first request within the
/// header timeout), or the server shuts down.
async fn drive<S>(
    stream: S,
    connection: ConnectionInfo,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Made once the connection is ready for HTTP (after TLS): the first
    // request's deadline counts from here.
    let activity = Activity::new();
    let service_shared = shared.clone();
    let service_activity = activity.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = service_shared.clone();
        service_activity.begin();
        let in_flight = InFlight(service_activity.clone());
        async move {
            let response = handle(&shared, request, connection).await;
            drop(in_flight);
            Ok::<_, Infallible>(response)
        }
    });
    let connection = shared.builder.serve_connection(
        TokioIo::new(HeadWatch {
            inner: stream,
            activity: activity.clone(),
            started: false,
        }),
        service,
    );
    tokio::pin!(connection);
    let idle = shared.limits.idle_timeout();
    let header_timeout = shared.limits.header_read_timeout();
    let look_every = idle.min(header_timeout);
    let mut closing = false;
    // HTTP/2's graceful close waits for the client to acknowledge a PING;
    // a client that never does (or never reads) is dropped after this.
    let mut drop_at: Option<Instant> = None;
    loop {
        let deadline = activity.deadline(header_timeout, idle);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = sleep_until_or_never(drop_at) => {
                tracing::debug!("connection did not close gracefully in time; dropped");
                return;
            }
            // No wake-up per request: the driver sleeps until the deadline
            // it computed (or, with a request in flight, for `look_every`)
            // and then looks again; a request meanwhile moved the deadline.
            _ = tokio::time::sleep_until({
                // Never longer than `idle` between looks (a request's end
                // may bring the deadline before the header one), nor than
                // the header timeout: a head that starts after one look is
                // seen by the next, before its deadline.
                let recheck = Instant::now() + look_every;
                deadline.map_or(recheck, |deadline| deadline.min(recheck)).into()
            }), if !closing => {
                if activity
                    .deadline(header_timeout, idle)
                    .is_some_and(|deadline| deadline <= Instant::now())
                {
                    if activity.waiting_for_head() {
                        tracing::debug!("request head not received in time; closed");
                        return;
                    }
                    closing = true;
                    drop_at = Some(Instant::now() + CLOSE_GRACE);
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

/// How long an idle connection may take to close gracefully.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

async fn sleep_until_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
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
    let (parts, body) = request.into_parts();
    let max = shared.limits.max_body_bytes;
    if let Some(early) = early_refusal(&parts, max) {
        let log = RequestLog::unrouted();
        log_request(
            &app,
            &parts.method,
            &parts.uri,
            &early,
            &log,
            connection,
            started,
        );
        return early;
    }
    let is_head = parts.method == http::Method::HEAD;
    let response = if body.is_end_stream() {
        // Most requests (GET, HEAD) have no body: nothing to wait for, so
        // no timer to arm per request; the log reads the request itself.
        let request = Request::from_parts(parts, Bytes::new());
        let (response, log) = route(&app, &request, Some(connection)).await;
        let (method, uri) = (request.method(), request.uri());
        log_request(&app, method, uri, &response, &log, connection, started);
        response
    } else {
        // What the log line needs once the request has moved into the
        // body's reader (cheap: standard methods are inline, a URI shares
        // its bytes).
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        // Boxed: its future (body, timer, request) would otherwise make
        // every request's future that much larger.
        let (response, log) =
            Box::pin(read_body_and_route(&app, shared, parts, body, connection)).await;
        log_request(&app, &method, &uri, &response, &log, connection, started);
        response
    };
    if is_head {
        without_body(response)
    } else {
        response
    }
}

/// Reads a request's body, bounded in size and time, then routes it.
async fn read_body_and_route(
    app: &App,
    shared: &Shared,
    parts: http::request::Parts,
    body: Incoming,
    connection: ConnectionInfo,
) -> (Response<Full<Bytes>>, RequestLog) {
    let max = shared.limits.max_body_bytes;
    // A body that trickles in is cut like a slow header. (When a request
    // has both Content-Length and Transfer-Encoding, hyper drops the length,
    // reads it chunked and closes the connection afterwards, RFC 9112 §6.3,
    // so no second request can be smuggled behind it.)
    let body = Limited::new(body, max).collect();
    let refusal = match tokio::time::timeout(shared.limits.header_read_timeout(), body).await {
        Ok(Ok(collected)) => {
            let request = Request::from_parts(parts, collected.to_bytes());
            return route(app, &request, Some(connection)).await;
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
    (refusal, RequestLog::unrouted())
}

/// Answers that need no body: a declared `Content-Length` over the cap is
/// refused at once (413), not after the client has sent it all or the
/// body timeout ran out; an HTTP/2 header block over the cap gets 431 (h2
/// itself would refuse the stream, which clients retry, up to 4x the cap).
/// HTTP/1.1 heads over the cap are answered 431 by hyper.
fn early_refusal(parts: &http::request::Parts, max_body: usize) -> Option<Response<Full<Bytes>>> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body as u64) {
        let mut response = plain_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {max_body} bytes"),
        );
        if parts.version < http::Version::HTTP_2 {
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        return Some(response);
    }
    if parts.version != http::Version::HTTP_2 {
        return None;
    }
    // RFC 9113 §6.5.2: each field counts its name, value and 32 bytes.
    let head_bytes: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum::<usize>()
        + parts.uri.path_and_query().map_or(0, |p| p.as_str().len())
        + parts.uri.authority().map_or(0, |a| a.as_str().len());
    if head_bytes > MAX_HEAD_BYTES {
        return Some(plain_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("the request's header fields are larger than {MAX_HEAD_BYTES} bytes"),
        ));
    }
    None
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
    method: &http::Method,
    uri: &http::Uri,
    response: &Response<Full<Bytes>>,
    log: &RequestLog,
    connection: ConnectionInfo,
    started: Instant,
) {
    let latency = started.elapsed();
    let endpoint_id = log.endpoint;
    let endpoint = endpoint_id.as_str();
    let domain = log.domain();
    // The site the router resolved, MX-detected ones included.
    let profile = log.profile_id();
    app.services
        .metrics
        .record_request(endpoint, response.status().as_u16(), profile, latency);
    let log_addresses = app.config.log_addresses;
    let address = log
        .address
        .as_ref()
        .filter(|_| log_addresses)
        .map(|a| a.as_str());
    // Paths may carry an address (/apple/<address>.mobileconfig, the v2
    // JSON form): only logged when the admin asked for addresses.
    let path = uri.path();
    let path = if log_addresses || !may_hold_address(path, endpoint_id) {
        path
    } else {
        "(path with address, not logged)"
    };
    crate::request_log::write(&crate::request_log::RequestLine {
        method: method.as_str(),
        path,
        listener: connection.listener.as_str(),
        status: response.status().as_u16(),
        latency_us: latency.as_micros() as u64,
        endpoint,
        domain: domain.map(|d| d.as_str()),
        profile,
        address,
    });
}

/// Whether a logged path could reveal an address: the routes whose path
/// carries one, and any path with `@` however it is percent-encoded
/// (`%40`, `%2540`, `%252540`, ... in any case), decoded until it stops
/// changing.
fn may_hold_address(path: &str, endpoint: Endpoint) -> bool {
    if matches!(endpoint, Endpoint::Apple | Endpoint::AutodiscoverJson) {
        return true;
    }
    // Nearly every path has neither: one look at each byte says so.
    if !path.bytes().any(|b| b == b'@' || b == b'%') {
        return false;
    }
    let mut decoded = std::borrow::Cow::Borrowed(path);
    for _ in 0..8 {
        if decoded.contains('@') {
            return true;
        }
        if !decoded.contains('%') {
            return false;
        }
        let next: String = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            return false;
        }
        decoded = std::borrow::Cow::Owned(next);
    }
    // Encoded deeper than anyone needs: treat it as an address.
    true
}

/// What a connection is doing, for its timeouts: the requests in flight,
/// when the last one ended, and when the head of the next one began.
/// Requests, not bytes: HTTP/2's keep-alive PINGs and their answers move
/// bytes on a connection nobody uses, and must not keep it open.
#[derive(Clone)]
struct Activity(Arc<ActivityState>);

struct ActivityState {
    /// When the connection became ready for HTTP (after TLS).
    ready: Instant,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    /// Milliseconds after `ready` that the last request ended.
    last_end_millis: AtomicU64,
    /// One more than the milliseconds after `ready` that the first byte
    /// of the next HTTP/1 request head arrived; 0 while none has.
    head_started_millis: AtomicU64,
    /// The connection speaks HTTP/2 (it began with the preface), where
    /// bytes between requests are not a request head.
    http2: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity(Arc::new(ActivityState {
            ready: Instant::now(),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            last_end_millis: AtomicU64::new(0),
            head_started_millis: AtomicU64::new(0),
            http2: AtomicBool::new(false),
        }))
    }

    fn millis(&self) -> u64 {
        self.0.ready.elapsed().as_millis() as u64
    }

    fn begin(&self) {
        let state = &self.0;
        state.head_started_millis.store(0, Ordering::Relaxed);
        state.requests.fetch_add(1, Ordering::Relaxed);
        state.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        self.0
            .last_end_millis
            .store(self.millis(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn set_http2(&self) {
        self.0.http2.store(true, Ordering::Relaxed);
    }

    /// Whether the connection waits for an HTTP/1 request head (none came
    /// yet, or one began): then nothing is in flight or owed to the
    /// client, and a missed deadline closes it at once.
    fn waiting_for_head(&self) -> bool {
        let state = &self.0;
        !state.http2.load(Ordering::Relaxed)
            && state.in_flight.load(Ordering::Acquire) == 0
            && (state.requests.load(Ordering::Relaxed) == 0
                || state.head_started_millis.load(Ordering::Relaxed) != 0)
    }

    /// Bytes arrived. Between HTTP/1 requests, the first ones start the
    /// next request's head, which then has `header_timeout` to complete.
    /// (Before the first request the whole wait counts, see `deadline`.)
    fn bytes_arrived(&self) {
        let state = &self.0;
        if state.head_started_millis.load(Ordering::Relaxed) == 0
            && state.requests.load(Ordering::Relaxed) > 0
            && state.in_flight.load(Ordering::Acquire) == 0
            && !state.http2.load(Ordering::Relaxed)
        {
            state
                .head_started_millis
                .store(self.millis() + 1, Ordering::Relaxed);
        }
    }

    /// When the connection is to be closed if nothing starts meanwhile:
    /// `header_timeout` after it became ready while no request ever came
    /// (HTTP/2's preface alone is not a request), `idle` after the last
    /// request ended, or, once the next HTTP/1 head began, `header_timeout`
    /// after its first byte (as nginx's `keepalive_timeout` and
    /// `client_header_timeout`); `None` while a request is in flight.
    fn deadline(&self, header_timeout: Duration, idle: Duration) -> Option<Instant> {
        let state = &self.0;
        if state.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        if state.requests.load(Ordering::Relaxed) == 0 {
            return Some(state.ready + header_timeout);
        }
        Some(match state.head_started_millis.load(Ordering::Relaxed) {
            0 => {
                state.ready
                    + Duration::from_millis(state.last_end_millis.load(Ordering::Relaxed))
                    + idle
            }
            started => state.ready + Duration::from_millis(started - 1) + header_timeout,
        })
    }
}

/// Ends a request's activity however its future ends (dropped when the
/// client resets the stream, too).
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A connection's stream (TCP or TLS) that tells its `Activity` when
/// bytes arrive.
struct HeadWatch<S> {
    inner: S,
    activity: Activity,
    /// Whether any byte arrived yet (the first ones say if it is HTTP/2).
    started: bool,
}

/// How an HTTP/2 connection begins (RFC 9113 §3.4), as far as needed to
/// tell it from an HTTP/1 request line.
const HTTP2_PREFACE_START: &[u8] = b"PRI * HTTP/2";

impl<S: AsyncRead + Unpin> AsyncRead for HeadWatch<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            if !this.started {
                this.started = true;
                if buf.filled()[before..].starts_with(HTTP2_PREFACE_START) {
                    this.activity.set_http2();
                }
            }
            this.activity.bytes_arrived();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadWatch<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
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

/// A TCP stream that lingers when it is closed: it stops sending, then
/// reads and discards what the client still sends, for a short while,
/// before closing. Closing a socket with unread input makes the kernel
/// send a reset, which destroys the answer still in flight to the client
/// (a 413 or 431 sent while it was still uploading): RFC 9112 §9.6.
struct LingeringIo {
    inner: Option<TcpStream>,
}

/// How long a closed connection keeps draining, and how much it reads.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_MAX_BYTES: usize = 1 << 20;

impl Drop for LingeringIo {
    fn drop(&mut self) {
        let Some(mut stream) = self.inner.take() else {
            return;
        };
        // Nothing unread and the client gone: close at once.
        let mut probe = [0u8; 1];
        match stream.try_read(&mut probe) {
            Ok(0) => return,
            Err(error) if error.kind() != std::io::ErrorKind::WouldBlock => return,
            _ => {}
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = stream.shutdown().await;
            let mut buffer = vec![0u8; 16 * 1024];
            let mut drained = 0;
            let _ = tokio::time::timeout(LINGER, async {
                while drained < LINGER_MAX_BYTES {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => drained += n,
                    }
                }
            })
            .await;
        });
    }
}

impl AsyncRead for LingeringIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut().inner.as_mut() {
            Some(stream) => Pin::new(stream).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for LingeringIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().inner.as_mut() {
            Some(stream) => Pin::new(stream).poll_write(cx, data),
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().inner.as_mut() {
            Some(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Ok(0)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().inner.as_mut() {
            Some(stream) => Pin::new(stream).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    /// hyper shuts the write side when it closes a connection; the read
    /// side stays open for lingering (see `Drop`).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().inner.as_mut() {
            Some(stream) => Pin::new(stream).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
